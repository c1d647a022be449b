//! TLS (rustls): RTMPS and HTTPS on one port, and the certificates they serve.
//!
//! ```text
//! HTTPS listener ─▶ handshake (SNI picks the certificate, ALPN h2 | http/1.1 | none)
//!                   ├─ ALPN h2        ─▶ http (HTTP/2)
//!                   ├─ ALPN http/1.1  ─▶ http (HTTP/1.1)
//!                   └─ no ALPN: first decrypted byte ─▶ RTMP C0 ─▶ rtmp_tcp  |  ASCII ─▶ http
//! ```
//!
//! RTMPS clients (ffmpeg's `rtmps://`, librtmp) offer no ALPN, so the byte after the handshake
//! decides, as on the plain HTTP port.

mod accept;
mod certs;
pub mod coverage;
mod session;

use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

pub use accept::{HandshakeFailure, handshake, serve};
pub use certs::{CertificateSpec, Certificates, Reload};
pub use session::Session;

/// ALPN protocol ids (IANA "TLS Application-Layer Protocol Negotiation (ALPN) Protocol IDs").
pub const ALPN_H2: &[u8] = b"h2";
pub const ALPN_HTTP1: &[u8] = b"http/1.1";

/// How often the certificate files are checked for changes.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// The certificates and the TLS settings made from them.
#[derive(Debug)]
pub struct Tls {
    pub certificates: Arc<Certificates>,
    /// For the HTTPS listeners: ALPN `h2` and `http/1.1`, or none (RTMPS).
    pub media: Arc<ServerConfig>,
}

impl Tls {
    /// Loads the certificates; the error names the file or domain at fault.
    pub fn load(specs: Vec<CertificateSpec>) -> Result<Arc<Tls>, String> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let certificates = Arc::new(Certificates::load(specs, Arc::clone(&provider))?);
        let media = server_config(&provider, &certificates, &[ALPN_H2, ALPN_HTTP1])?;
        Ok(Arc::new(Tls { certificates, media }))
    }

    /// An acceptor with the same certificates offering only `alpn` (e.g. an HTTP/1.1 server).
    pub fn acceptor_for(&self, alpn: &[&[u8]]) -> Result<TlsAcceptor, String> {
        let provider = Arc::clone(self.media.crypto_provider());
        server_config(&provider, &self.certificates, alpn).map(TlsAcceptor::from)
    }

    /// Checks the certificate files every [`RELOAD_INTERVAL`] until `shutdown`, reloading
    /// those that changed.
    pub async fn watch(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut ticks = tokio::time::interval(RELOAD_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = shutdown.wait_for(|&down| down) => return,
            }
            let certificates = Arc::clone(&self.certificates);
            // File reads and key parsing block: keep them off the runtime's workers.
            match tokio::task::spawn_blocking(move || certificates.reload_if_changed()).await {
                Ok(Ok(Reload::Unchanged)) => {}
                Ok(Ok(Reload::Reloaded)) => info!("certificates reloaded"),
                Ok(Err(message)) => warn!("certificates not reloaded, the old ones stay: {message}"),
                Err(error) => warn!("certificate reload failed: {error}"),
            }
        }
    }
}

fn server_config(
    provider: &Arc<CryptoProvider>,
    certificates: &Arc<Certificates>,
    alpn: &[&[u8]],
) -> Result<Arc<ServerConfig>, String> {
    let mut config = ServerConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS settings: {e}"))?
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(certificates) as Arc<dyn rustls::server::ResolvesServerCert>);
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    // librtmp 2.4 (gnutls) takes TLS 1.3 session tickets sent after the handshake for RTMP
    // data and fails its handshake; without tickets there is no TLS 1.3 resumption, which
    // media connections, long-lived, hardly miss.
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}
