//! RTMP and RTMPE over a TCP socket (or a TLS stream: RTMPS): the socket as a transport of the driver loop
//! (`driver.rs`), which moves bytes between it and an [`RtmpEndpoint`]. The socket adds its
//! own timeout to the shared ones: a client that reads nothing while data waits is stalled.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::info;

use crate::Edge;
use crate::connection::OUTPUT_HIGH_WATER;
use crate::driver::{self, Transport};
use crate::endpoint::RtmpEndpoint;

const READ_CHUNK: usize = 4096;

/// Whether a connection's first byte is an RTMP C0 the edge accepts: 3 plain, 6 RTMPE
/// (Diffie-Hellman and RC4), 8 and 9 the RTMPE variants with XTEA and Blowfish.
pub fn is_handshake_start(byte: u8) -> bool {
    matches!(byte, 3 | 6 | 8 | 9)
}

/// Serves one RTMP/RTMPE connection until it ends. `initial` holds bytes already read (by
/// the port sniffer).
pub async fn serve(
    edge: Arc<Edge>,
    mut stream: TcpStream,
    peer: SocketAddr,
    initial: BytesMut,
    shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.split();
    serve_halves(edge, reader, writer, false, peer, initial, shutdown).await
}

/// [`serve`] over another transport (RTMPS: a TLS stream). Its writes are buffered, so the
/// socket loop flushes them once nothing else waits to be written.
pub async fn serve_stream<T>(
    edge: Arc<Edge>,
    stream: T,
    peer: SocketAddr,
    initial: BytesMut,
    shutdown: watch::Receiver<bool>,
) where
    T: AsyncRead + AsyncWrite,
{
    let (reader, writer) = tokio::io::split(stream);
    serve_halves(edge, reader, writer, true, peer, initial, shutdown).await
}

async fn serve_halves<R, W>(
    edge: Arc<Edge>,
    reader: R,
    writer: W,
    buffered_writes: bool,
    peer: SocketAddr,
    initial: BytesMut,
    shutdown: watch::Receiver<bool>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let started = Instant::now();
    let mut endpoint = RtmpEndpoint::new(Arc::clone(&edge), peer, false, started);
    // Only TLS streams come buffered (see `serve_stream`).
    endpoint.set_over_tls(buffered_writes);
    let reason = match endpoint.input(&initial, started) {
        Ok(()) => {
            let mut socket = Socket {
                reader,
                writer,
                input: BytesMut::with_capacity(READ_CHUNK),
                last_progress: started,
                stalled: edge.config.timeouts.stalled,
                buffered_writes,
                unflushed: false,
            };
            driver::drive(&edge, &mut endpoint, &mut socket, shutdown, started).await
        }
        Err(reason) => reason,
    };
    endpoint.close(&reason);
    if endpoint.is_established() {
        info!(
            client = %peer, protocol = endpoint.protocol().as_str(), bytes_sent = endpoint.media_bytes_sent(),
            seconds = started.elapsed().as_secs_f32(), reason = %reason, "disconnect"
        );
    } else {
        info!(client = %peer, reason = %reason, "connection closed during the handshake");
    }
}

/// A socket (or a TLS stream) as a transport.
struct Socket<R, W> {
    reader: R,
    writer: W,
    input: BytesMut,
    /// Since when the client has read nothing of the bytes waiting for it.
    last_progress: Instant,
    stalled: Duration,
    /// The writer keeps what it accepted until flushed (tokio-rustls behaves like a
    /// `BufWriter`): flush when there is nothing more to write.
    buffered_writes: bool,
    /// Bytes were written since the last flush.
    unflushed: bool,
}

enum SocketEvent {
    Read(std::io::Result<usize>),
    Written(std::io::Result<usize>),
    Flushed(std::io::Result<()>),
}

/// Writes `wire`, or with nothing to write, flushes what the writer buffered.
async fn write_or_flush<W: AsyncWrite + Unpin>(writer: &mut W, wire: &[u8]) -> SocketEvent {
    if wire.is_empty() {
        SocketEvent::Flushed(writer.flush().await)
    } else {
        SocketEvent::Written(writer.write(wire).await)
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Transport for Socket<R, W> {
    type Event = SocketEvent;

    fn high_water(&self) -> usize {
        OUTPUT_HIGH_WATER
    }

    async fn wait(&mut self, wire: &[u8]) -> SocketEvent {
        // All are cancel-safe: a read that loses keeps nothing, a write that loses wrote
        // nothing, a flush that loses leaves the rest to the next one.
        tokio::select! {
            read = self.reader.read_buf(&mut self.input) => SocketEvent::Read(read),
            event = write_or_flush(&mut self.writer, wire), if !wire.is_empty() || self.unflushed => event,
        }
    }

    fn handle(&mut self, event: SocketEvent, endpoint: &mut RtmpEndpoint, now: Instant) -> Result<(), String> {
        match event {
            SocketEvent::Read(Ok(0)) | SocketEvent::Written(Ok(0)) => Err("client closed the connection".to_owned()),
            SocketEvent::Read(Ok(_)) => {
                let result = endpoint.input(&self.input, now);
                self.input.clear();
                result
            }
            SocketEvent::Written(Ok(n)) => {
                endpoint.sent(n);
                self.unflushed = self.buffered_writes;
                self.last_progress = now;
                Ok(())
            }
            SocketEvent::Flushed(Ok(())) => {
                self.unflushed = false;
                Ok(())
            }
            SocketEvent::Read(Err(error)) => Err(format!("read error: {error}")),
            SocketEvent::Flushed(Err(error)) => Err(format!("write error: {error}")),
            SocketEvent::Written(Err(error)) => Err(format!("write error: {error}")),
        }
    }

    fn flush(&mut self, endpoint: &mut RtmpEndpoint, _wake: Option<Instant>, now: Instant) {
        // Writes happen in `wait`. With nothing waiting the client cannot be behind: the
        // stall clock starts when bytes are queued, not when it last read (a long pause).
        if endpoint.wire_len() == 0 {
            self.last_progress = now;
        }
    }

    fn deadline(&self, endpoint: &RtmpEndpoint) -> Option<Instant> {
        (endpoint.wire_len() > 0).then(|| self.last_progress + self.stalled)
    }

    fn check(&mut self, endpoint: &RtmpEndpoint, now: Instant) -> Result<(), String> {
        if endpoint.wire_len() > 0 && now >= self.last_progress + self.stalled {
            return Err(format!("client stalled: nothing read for {:?}", self.stalled));
        }
        Ok(())
    }
}
