//! One connection of an HTTPS listener: the TLS handshake within the handshake timeout, then
//! the protocol the client speaks inside it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tracing::info;

use super::{ALPN_H2, ALPN_HTTP1};
use crate::{Edge, http, rtmp_tcp};

/// Why a TLS handshake did not complete: the `reason` label of
/// `streamfront_tls_handshake_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandshakeFailure {
    /// Not finished within the handshake timeout.
    Timeout,
    /// The client closed or reset the connection.
    Closed,
    /// What the client sent is not a TLS handshake (plain HTTP or RTMP to a TLS port,
    /// garbage, messages out of order).
    Invalid,
    /// The client ended the handshake with an alert, e.g. it does not trust the certificate.
    Alert,
    /// No protocol version, cipher suite or ALPN protocol in common.
    Incompatible,
    Other,
}

impl HandshakeFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            HandshakeFailure::Timeout => "timeout",
            HandshakeFailure::Closed => "closed",
            HandshakeFailure::Invalid => "invalid",
            HandshakeFailure::Alert => "alert",
            HandshakeFailure::Incompatible => "incompatible",
            HandshakeFailure::Other => "other",
        }
    }

    /// What an error of tokio-rustls's accept means; rustls's own errors come wrapped.
    fn of(error: &std::io::Error) -> HandshakeFailure {
        use std::io::ErrorKind;
        if let Some(tls) = error.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
            return match tls {
                rustls::Error::InvalidMessage(_)
                | rustls::Error::InappropriateMessage { .. }
                | rustls::Error::InappropriateHandshakeMessage { .. } => HandshakeFailure::Invalid,
                rustls::Error::AlertReceived(_) => HandshakeFailure::Alert,
                rustls::Error::PeerIncompatible(_) | rustls::Error::NoApplicationProtocol => {
                    HandshakeFailure::Incompatible
                }
                _ => HandshakeFailure::Other,
            };
        }
        match error.kind() {
            ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => HandshakeFailure::Closed,
            _ => HandshakeFailure::Other,
        }
    }
}

/// The TLS handshake on `stream`, bounded by `deadline`; a failure is counted in `edge`'s
/// metrics and logged.
pub async fn handshake<T>(
    edge: &Edge,
    acceptor: &TlsAcceptor,
    stream: T,
    peer: SocketAddr,
    deadline: Instant,
) -> Option<TlsStream<T>>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let failure = match tokio::time::timeout_at(deadline.into(), acceptor.accept(stream)).await {
        Ok(Ok(stream)) => return Some(stream),
        Ok(Err(error)) => {
            let failure = HandshakeFailure::of(&error);
            info!(client = %peer, reason = failure.as_str(), "TLS handshake failed: {error}");
            failure
        }
        Err(_) => {
            info!(client = %peer, "TLS handshake not finished within {:?}", edge.config.timeouts.handshake);
            HandshakeFailure::Timeout
        }
    };
    edge.stats.tls_handshake_failed(failure);
    None
}

/// Serves one connection of an HTTPS listener until it ends.
pub async fn serve(edge: Arc<Edge>, stream: TcpStream, peer: SocketAddr, shutdown: watch::Receiver<bool>) {
    let Some(tls) = edge.config.tls.clone() else {
        unreachable!("an HTTPS listener is only bound with certificates");
    };
    let deadline = Instant::now() + edge.config.timeouts.handshake;
    let _ = stream.set_nodelay(true);
    let Some(mut stream) = handshake(&edge, &TlsAcceptor::from(Arc::clone(&tls.media)), stream, peer, deadline).await
    else {
        return;
    };
    let alpn = stream.get_ref().1.alpn_protocol();
    if alpn == Some(ALPN_H2) {
        return http::serve_h2(edge, stream, http::Viewer::tls(peer)).await;
    }
    if alpn == Some(ALPN_HTTP1) {
        return http::serve(edge, stream, http::Viewer::tls(peer), BytesMut::new()).await;
    }
    // No ALPN: an RTMPS client, or an HTTP/1.1 client that offers none.
    let mut first = BytesMut::with_capacity(4096);
    match tokio::time::timeout_at(deadline.into(), stream.read_buf(&mut first)).await {
        Ok(Ok(n)) if n > 0 => {}
        Ok(Ok(_)) => return,
        Ok(Err(error)) => return info!(client = %peer, "read failed after the TLS handshake: {error}"),
        Err(_) => return info!(client = %peer, "no data after the TLS handshake; closing"),
    }
    match first[0] {
        byte if rtmp_tcp::is_handshake_start(byte) => rtmp_tcp::serve_stream(edge, stream, peer, first, shutdown).await,
        byte if byte.is_ascii_uppercase() => http::serve(edge, stream, http::Viewer::tls(peer), first).await,
        byte => {
            info!(client = %peer, "first byte 0x{byte:02x} after the TLS handshake is neither RTMP nor HTTP; closing")
        }
    }
}
