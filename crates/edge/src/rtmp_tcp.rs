//! RTMP and RTMPE over a TCP socket: the handshake, then a loop that moves bytes between
//! the socket and an [`RtmpConnection`], encrypting for RTMPE, with timeouts for idle,
//! half-open and stalled clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use sf_rtmp::handshake::{HandshakeKind, Rc4Pair, ServerHandshake};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::watch;
use tracing::{debug, info};

use crate::Edge;
use crate::connection::{OUTPUT_HIGH_WATER, Protocol, RtmpConnection};

const READ_CHUNK: usize = 4096;

/// Serves one RTMP/RTMPE connection until it ends. `initial` holds bytes already read (by
/// the port sniffer).
pub async fn serve(edge: Arc<Edge>, stream: TcpStream, peer: SocketAddr, initial: BytesMut, shutdown: watch::Receiver<bool>) {
    let started = Instant::now();
    let _ = stream.set_nodelay(true);
    let (mut reader, mut writer) = stream.into_split();
    let timeouts = edge.config.timeouts;
    let handshake = tokio::time::timeout(timeouts.handshake, handshake(&mut reader, &mut writer, initial)).await;
    let (kind, mut cipher, leftover) = match handshake {
        Ok(Ok(done)) => done,
        Ok(Err(reason)) => {
            info!(client = %peer, "handshake failed: {reason}");
            return;
        }
        Err(_) => {
            info!(client = %peer, "handshake timed out after {:?}", timeouts.handshake);
            return;
        }
    };
    let protocol = if matches!(kind, HandshakeKind::Encrypted { .. }) { Protocol::Rtmpe } else { Protocol::Rtmp };
    debug!(client = %peer, ?kind, "handshake done");
    let mut connection = RtmpConnection::new(Arc::clone(&edge), peer, protocol);
    let _guard = edge.stats.viewer_guard(protocol);
    let reason = run(&mut connection, &mut reader, &mut writer, &mut cipher, leftover, shutdown, timeouts).await;
    connection.close(&reason);
    let _ = writer.shutdown().await;
    info!(
        client = %peer, protocol = protocol.as_str(), bytes_sent = connection.media_bytes_sent,
        seconds = started.elapsed().as_secs_f32(), reason = %reason, "disconnect"
    );
}

type HandshakeResult = (HandshakeKind, Option<Rc4Pair>, BytesMut);

async fn handshake(reader: &mut OwnedReadHalf, writer: &mut OwnedWriteHalf, mut input: BytesMut) -> Result<HandshakeResult, String> {
    let mut handshake = ServerHandshake::new(true);
    loop {
        let used = handshake.handle_input(&input).map_err(|e| e.to_string())?;
        input.advance(used);
        if let Some(reply) = handshake.poll_transmit() {
            writer.write_all(&reply).await.map_err(|e| e.to_string())?;
        }
        if handshake.is_complete() {
            break;
        }
        input.reserve(READ_CHUNK);
        if reader.read_buf(&mut input).await.map_err(|e| e.to_string())? == 0 {
            return Err("client closed the connection during the handshake".to_owned());
        }
    }
    let outcome = handshake.into_outcome();
    Ok((outcome.kind, outcome.encryption, input))
}

async fn run(
    connection: &mut RtmpConnection,
    reader: &mut OwnedReadHalf,
    writer: &mut OwnedWriteHalf,
    cipher: &mut Option<Rc4Pair>,
    mut leftover: BytesMut,
    mut shutdown: watch::Receiver<bool>,
    timeouts: crate::Timeouts,
) -> String {
    if !leftover.is_empty() {
        if let Some(cipher) = cipher.as_mut() {
            cipher.decrypt.apply(&mut leftover);
        }
        if let Err(error) = connection.handle_input(&leftover).await {
            return format!("protocol error: {error}");
        }
    }
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    // Bytes taken from the connection's output (and encrypted) but not yet written.
    let mut wire = BytesMut::new();
    let mut last_input = Instant::now();
    let mut last_progress = Instant::now();
    loop {
        let wake = connection.pump(wire.len()).await;
        let output = connection.output();
        if !output.is_empty() {
            let mut chunk = output.split();
            if let Some(cipher) = cipher.as_mut() {
                cipher.encrypt.apply(&mut chunk);
            }
            if wire.is_empty() {
                wire = chunk;
            } else {
                wire.extend_from_slice(&chunk);
            }
        }
        if connection.is_closing() && wire.is_empty() {
            return "connect rejected".to_owned();
        }
        let now = Instant::now();
        // Idle: nothing playing and nothing said for a while. Stalled: data waiting and the
        // client reads nothing.
        let deadline = if !wire.is_empty() {
            last_progress + timeouts.stalled
        } else if connection.is_playing() {
            now + timeouts.idle
        } else {
            last_input + timeouts.idle
        };
        let wake = wake.map_or(deadline, |w| w.min(deadline));
        tokio::select! {
            read = reader.read_buf(&mut input) => {
                match read {
                    Ok(0) => return "client closed the connection".to_owned(),
                    Ok(_) => {
                        last_input = Instant::now();
                        if let Some(cipher) = cipher.as_mut() {
                            cipher.decrypt.apply(&mut input);
                        }
                        if let Err(error) = connection.handle_input(&input).await {
                            return format!("protocol error: {error}");
                        }
                        input.clear();
                        if input.capacity() < READ_CHUNK {
                            input.reserve(READ_CHUNK);
                        }
                    }
                    Err(error) => return format!("read error: {error}"),
                }
            }
            written = writer.write(&wire), if !wire.is_empty() => {
                match written {
                    Ok(0) => return "client closed the connection".to_owned(),
                    Ok(n) => {
                        wire.advance(n);
                        last_progress = Instant::now();
                        if wire.capacity() > 4 * OUTPUT_HIGH_WATER && wire.is_empty() {
                            // Give back memory a large burst (a key frame) needed.
                            wire = BytesMut::new();
                        }
                    }
                    Err(error) => return format!("write error: {error}"),
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if !wire.is_empty() && now >= last_progress + timeouts.stalled {
                    return format!("client stalled: nothing read for {:?}", timeouts.stalled);
                }
                if wire.is_empty() && !connection.is_playing() && now >= last_input + timeouts.idle {
                    return format!("idle for {:?}", timeouts.idle);
                }
            }
            _ = shutdown.changed() => return "server shutting down".to_owned(),
        }
    }
}

/// Default timeouts; overridable in [`crate::EdgeConfig`].
pub fn default_timeouts() -> crate::Timeouts {
    crate::Timeouts {
        handshake: Duration::from_secs(10),
        idle: Duration::from_secs(120),
        stalled: Duration::from_secs(60),
    }
}
