//! `serve --api-listen`: binds the CloudFront API's listeners and serves them beside the edge,
//! on the same control store and follower; over TLS when certificates are configured.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sf_api::server::{Api, ApiConfig, Declared};
use sf_api::state::ControlState;
use sf_control::{Follower, Store};
use sf_edge::Edge;
use sf_edge::tls::Tls;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;
use tracing::{info, warn};

use crate::settings::Settings;

/// The account number in ARNs (`arn:aws:cloudfront::000000000000:distribution/E…`): one
/// streamfront is one account.
pub const ACCOUNT_ID: &str = "000000000000";

/// The API, bound and ready (or nothing to serve when `--api-listen` is not given).
pub struct Started {
    api: Option<(Arc<Api>, Vec<TcpListener>)>,
    /// With certificates, the listeners speak HTTPS.
    tls: Option<(TlsAcceptor, Arc<Edge>)>,
}

impl Started {
    /// Serves every listener until `shutdown` turns true.
    pub fn serve(self, shutdown: watch::Receiver<bool>) {
        let Some((api, listeners)) = self.api else { return };
        for listener in listeners {
            match &self.tls {
                None => tokio::spawn(sf_api::server::serve(Arc::clone(&api), listener, shutdown.clone())),
                Some((acceptor, edge)) => tokio::spawn(serve_tls(
                    Arc::clone(&api),
                    listener,
                    acceptor.clone(),
                    Arc::clone(edge),
                    shutdown.clone(),
                )),
            };
        }
    }
}

/// [`sf_api::server::serve`] behind TLS: each connection's handshake runs in its own task,
/// bounded by the edge's handshake timeout, and its failures count in the edge's metrics.
async fn serve_tls(
    api: Arc<Api>,
    listener: TcpListener,
    acceptor: TlsAcceptor,
    edge: Arc<Edge>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    warn!("api accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let (api, acceptor, edge) = (Arc::clone(&api), acceptor.clone(), Arc::clone(&edge));
        tokio::spawn(async move {
            let deadline = Instant::now() + edge.config.timeouts.handshake;
            if let Some(stream) = sf_edge::tls::handshake(&edge, &acceptor, stream, peer, deadline).await {
                sf_api::server::serve_connection(api, stream, peer).await;
            }
        });
    }
}

/// Binds `--api-listen`; the error is one line naming the flag.
pub async fn start(
    settings: &Settings,
    store: Arc<Store>,
    follower: Arc<Follower<ControlState>>,
    edge: &Arc<Edge>,
    declared: Vec<Declared>,
    tls: Option<Arc<Tls>>,
) -> Result<Started, String> {
    if settings.api_listen.is_empty() {
        return Ok(Started { api: None, tls: None });
    }
    let tls = match tls {
        // The API server speaks HTTP/1.1 only.
        Some(tls) => Some((tls.acceptor_for(&[sf_edge::tls::ALPN_HTTP1])?, Arc::clone(edge))),
        None => None,
    };
    let mut listeners = Vec::new();
    for addr in &settings.api_listen {
        let listener = TcpListener::bind(addr).await.map_err(|e| format!("--api-listen {addr}: {e}"))?;
        info!(%addr, tls = tls.is_some(), "CloudFront API listening");
        listeners.push(listener);
    }
    let config = ApiConfig {
        credentials: settings.api_credentials()?,
        max_clock_skew: Duration::from_secs(settings.api_clock_skew),
        distribution_domain: settings.distribution_domain.clone(),
        account_id: ACCOUNT_ID.to_owned(),
        quotas: settings.api.quotas.clone(),
        declared,
        certificate_domains: settings.certificates.iter().flat_map(|c| c.domains.iter().cloned()).collect(),
    };
    let control = Arc::clone(edge);
    let status_of = Arc::new(move |seq| control.control.status_of(seq));
    Ok(Started { api: Some((Arc::new(Api::new(config, store, follower, status_of)), listeners)), tls })
}
