//! RTMP and RTMPE over a TCP socket: a loop that moves bytes between the socket and an
//! [`RtmpEndpoint`], with timeouts for slow handshakes, idle, half-open and stalled clients.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tracing::info;

use crate::Edge;
use crate::connection::OUTPUT_HIGH_WATER;
use crate::endpoint::RtmpEndpoint;

const READ_CHUNK: usize = 4096;

/// Serves one RTMP/RTMPE connection until it ends. `initial` holds bytes already read (by
/// the port sniffer).
pub async fn serve(
    edge: Arc<Edge>,
    stream: TcpStream,
    peer: SocketAddr,
    initial: BytesMut,
    shutdown: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let _ = stream.set_nodelay(true);
    let mut endpoint = RtmpEndpoint::new(Arc::clone(&edge), peer, false);
    let reason = run(&edge, &mut endpoint, stream, initial, shutdown, started).await;
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

async fn run(
    edge: &Edge,
    endpoint: &mut RtmpEndpoint,
    mut stream: TcpStream,
    initial: BytesMut,
    mut shutdown: watch::Receiver<bool>,
    started: Instant,
) -> String {
    let timeouts = edge.config.timeouts;
    if let Err(reason) = endpoint.input(&initial).await {
        return reason;
    }
    let (mut reader, mut writer) = stream.split();
    let mut input = BytesMut::with_capacity(READ_CHUNK);
    let mut last_input = Instant::now();
    let mut last_progress = Instant::now();
    loop {
        let wake = endpoint.pump(OUTPUT_HIGH_WATER).await;
        let pending = !endpoint.wire().is_empty();
        if endpoint.is_closing() && !pending {
            return "connect rejected".to_owned();
        }
        let now = Instant::now();
        // Handshake: bounded in time. Stalled: data waits and the client reads nothing.
        // Idle: nothing playing and nothing said for a while.
        let deadline = if !endpoint.is_established() {
            started + timeouts.handshake
        } else if pending {
            last_progress + timeouts.stalled
        } else if endpoint.is_playing() {
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
                        if let Err(reason) = endpoint.input(&input).await {
                            return reason;
                        }
                        input.clear();
                    }
                    Err(error) => return format!("read error: {error}"),
                }
            }
            written = writer.write(endpoint.wire()), if pending => {
                match written {
                    Ok(0) => return "client closed the connection".to_owned(),
                    Ok(n) => {
                        endpoint.sent(n);
                        last_progress = Instant::now();
                    }
                    Err(error) => return format!("write error: {error}"),
                }
            }
            _ = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                if !endpoint.is_established() && now >= started + timeouts.handshake {
                    return format!("handshake not finished within {:?}", timeouts.handshake);
                }
                if !endpoint.wire().is_empty() && now >= last_progress + timeouts.stalled {
                    return format!("client stalled: nothing read for {:?}", timeouts.stalled);
                }
                if endpoint.wire().is_empty() && !endpoint.is_playing() && now >= last_input + timeouts.idle {
                    return format!("idle for {:?}", timeouts.idle);
                }
            }
            _ = shutdown.changed() => return "server shutting down".to_owned(),
        }
    }
}
