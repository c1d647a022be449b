//! RTMP and RTMPE over a TCP socket: the socket as a transport of the driver loop
//! (`driver.rs`), which moves bytes between it and an [`RtmpEndpoint`]. The socket adds its
//! own timeout to the shared ones: a client that reads nothing while data waits is stalled.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::watch;
use tracing::info;

use crate::Edge;
use crate::connection::OUTPUT_HIGH_WATER;
use crate::driver::{self, Transport};
use crate::endpoint::RtmpEndpoint;

const READ_CHUNK: usize = 4096;

/// Serves one RTMP/RTMPE connection until it ends. `initial` holds bytes already read (by
/// the port sniffer).
pub async fn serve(
    edge: Arc<Edge>,
    mut stream: TcpStream,
    peer: SocketAddr,
    initial: BytesMut,
    shutdown: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let _ = stream.set_nodelay(true);
    let mut endpoint = RtmpEndpoint::new(Arc::clone(&edge), peer, false, started);
    let reason = match endpoint.input(&initial, started) {
        Ok(()) => {
            let (reader, writer) = stream.split();
            let mut socket = Socket {
                reader,
                writer,
                input: BytesMut::with_capacity(READ_CHUNK),
                last_progress: started,
                stalled: edge.config.timeouts.stalled,
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

/// A TCP socket as a transport.
struct Socket<'a> {
    reader: ReadHalf<'a>,
    writer: WriteHalf<'a>,
    input: BytesMut,
    /// Since when the client has read nothing of the bytes waiting for it.
    last_progress: Instant,
    stalled: Duration,
}

enum SocketEvent {
    Read(std::io::Result<usize>),
    Written(std::io::Result<usize>),
}

impl Transport for Socket<'_> {
    type Event = SocketEvent;

    fn high_water(&self) -> usize {
        OUTPUT_HIGH_WATER
    }

    async fn wait(&mut self, wire: &[u8]) -> SocketEvent {
        // Both are cancel-safe: a read that loses keeps nothing, a write that loses wrote nothing.
        tokio::select! {
            read = self.reader.read_buf(&mut self.input) => SocketEvent::Read(read),
            written = self.writer.write(wire), if !wire.is_empty() => SocketEvent::Written(written),
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
                self.last_progress = now;
                Ok(())
            }
            SocketEvent::Read(Err(error)) => Err(format!("read error: {error}")),
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
