//! Listeners: bind every address up front, accept, look at the first byte (on HTTPS
//! listeners, the first after the TLS handshake), hand the connection to the right protocol, and on shutdown stop accepting and wait a little for
//! connections (and RTMPT sessions, which outlive connections) to close.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tracing::{info, warn};

use crate::health::ListenerRegistration;
use crate::{Edge, EdgeConfig, StartError, admin, http, rtmp_tcp, tls};

/// What a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    Rtmp,
    Http,
    /// RTMPS and HTTPS.
    Https,
    Admin,
}

pub struct Bound {
    kind: ListenerKind,
    listener: TcpListener,
}

/// Binds all listeners of the configuration; the first failure names its flag.
pub async fn bind_all(config: &EdgeConfig) -> Result<Vec<Bound>, StartError> {
    if !config.https_listen.is_empty() && config.tls.is_none() {
        return Err(StartError::NoCertificate);
    }
    let groups = [
        (ListenerKind::Rtmp, "--rtmp-listen", &config.rtmp_listen),
        (ListenerKind::Http, "--http-listen", &config.http_listen),
        (ListenerKind::Https, "--https-listen", &config.https_listen),
        (ListenerKind::Admin, "--admin-listen", &config.admin_listen),
    ];
    let mut bound = Vec::new();
    for (kind, flag, addrs) in groups {
        for &addr in addrs {
            let listener = TcpListener::bind(addr).await.map_err(|e| StartError::Bind {
                flag,
                addr,
                reason: describe_bind_error(&e, addr),
            })?;
            info!(%addr, kind = ?kind, "listening");
            bound.push(Bound { kind, listener });
        }
    }
    Ok(bound)
}

fn describe_bind_error(error: &std::io::Error, addr: SocketAddr) -> String {
    match error.kind() {
        std::io::ErrorKind::AddrInUse => "address already in use".to_owned(),
        std::io::ErrorKind::PermissionDenied if addr.port() < 1024 => {
            format!("permission denied (port {} needs root or CAP_NET_BIND_SERVICE)", addr.port())
        }
        std::io::ErrorKind::AddrNotAvailable => "address not available on this machine".to_owned(),
        _ => error.to_string(),
    }
}

/// Serves until shutdown, then waits up to five seconds for connections to end.
pub async fn serve_all(edge: Arc<Edge>, bound: Vec<Bound>, shutdown: watch::Receiver<bool>) {
    let limit = Arc::new(Semaphore::new(edge.config.max_connections));
    let mut listeners = JoinSet::new();
    for Bound { kind, listener } in bound {
        let edge = Arc::clone(&edge);
        let shutdown = shutdown.clone();
        let limit = Arc::clone(&limit);
        let addr = listener.local_addr().expect("a bound listener has an address");
        let health = edge.health.register_listener(kind, addr, shutdown.clone());
        match kind {
            ListenerKind::Admin => {
                listeners.spawn(admin::serve(edge, listener, health, shutdown));
            }
            _ => {
                listeners.spawn(accept_loop(edge, listener, kind, limit, health, shutdown));
            }
        }
    }
    if let Some(tls) = &edge.config.tls {
        listeners.spawn(Arc::clone(tls).watch(shutdown.clone()));
    }
    listeners.spawn(close_tunnels_at_shutdown(Arc::clone(&edge), shutdown));
    while listeners.join_next().await.is_some() {}
    edge.tunnels.close_all().await;
}

/// RTMPT sessions are not connections of a listener: they close when shutdown begins.
async fn close_tunnels_at_shutdown(edge: Arc<Edge>, mut shutdown: watch::Receiver<bool>) {
    // An error means the sender is gone: shutting down all the same.
    let _ = shutdown.wait_for(|&down| down).await;
    edge.tunnels.close_all().await;
}

async fn accept_loop(
    edge: Arc<Edge>,
    listener: TcpListener,
    kind: ListenerKind,
    limit: Arc<Semaphore>,
    health: ListenerRegistration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        warn!("accept failed: {error}");
                        health.accept_failed(&error);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                health.accepted();
                edge.stats.connections_total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Ok(permit) = Arc::clone(&limit).try_acquire_owned() else {
                    edge.stats.connections_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    warn!(client = %peer, limit = edge.config.max_connections, "connection refused: too many connections");
                    continue;
                };
                let edge = Arc::clone(&edge);
                let shutdown = shutdown.clone();
                connections.spawn(async move {
                    handle(edge, stream, peer, kind, shutdown).await;
                    drop(permit);
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    let _ =
        tokio::time::timeout(Duration::from_secs(5), async { while connections.join_next().await.is_some() {} }).await;
}

async fn handle(
    edge: Arc<Edge>,
    mut stream: TcpStream,
    peer: SocketAddr,
    kind: ListenerKind,
    shutdown: watch::Receiver<bool>,
) {
    if kind == ListenerKind::Https {
        return tls::serve(edge, stream, peer, shutdown).await;
    }
    let mut first = BytesMut::with_capacity(4096);
    let timeout = edge.config.timeouts.handshake;
    match tokio::time::timeout(timeout, stream.read_buf(&mut first)).await {
        Ok(Ok(n)) if n > 0 => {}
        Ok(Ok(_)) => return,
        Ok(Err(error)) => {
            info!(client = %peer, "read failed before the handshake: {error}");
            return;
        }
        Err(_) => {
            info!(client = %peer, "no data within {timeout:?}; closing");
            return;
        }
    }
    match (kind, first[0]) {
        (_, byte) if rtmp_tcp::is_handshake_start(byte) => rtmp_tcp::serve(edge, stream, peer, first, shutdown).await,
        (ListenerKind::Http, _) => {
            let _ = stream.set_nodelay(true);
            http::serve(edge, stream, http::Viewer::plain(peer), first).await
        }
        (_, byte) => info!(client = %peer, "first byte 0x{byte:02x} is not an RTMP handshake; closing"),
    }
}
