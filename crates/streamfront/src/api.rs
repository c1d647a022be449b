//! `serve --api-listen`: binds the CloudFront API's listeners and serves them beside the edge,
//! on the same control store and follower.

use std::sync::Arc;
use std::time::Duration;

use sf_api::server::{Api, ApiConfig, Declared};
use sf_api::state::ControlState;
use sf_control::{Follower, Store};
use sf_edge::Edge;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::info;

use crate::settings::Settings;

/// The account number in ARNs (`arn:aws:cloudfront::000000000000:distribution/E…`): one
/// streamfront is one account.
pub const ACCOUNT_ID: &str = "000000000000";

/// The API, bound and ready (or nothing to serve when `--api-listen` is not given).
pub struct Started {
    api: Option<(Arc<Api>, Vec<TcpListener>)>,
}

impl Started {
    /// Serves every listener until `shutdown` turns true.
    pub fn serve(self, shutdown: watch::Receiver<bool>) {
        let Some((api, listeners)) = self.api else { return };
        for listener in listeners {
            tokio::spawn(sf_api::server::serve(Arc::clone(&api), listener, shutdown.clone()));
        }
    }
}

/// Binds `--api-listen`; the error is one line naming the flag.
pub async fn start(
    settings: &Settings,
    store: Arc<Store>,
    follower: Arc<Follower<ControlState>>,
    edge: &Arc<Edge>,
    declared: Vec<Declared>,
) -> Result<Started, String> {
    if settings.api_listen.is_empty() {
        return Ok(Started { api: None });
    }
    let mut listeners = Vec::new();
    for addr in &settings.api_listen {
        let listener = TcpListener::bind(addr).await.map_err(|e| format!("--api-listen {addr}: {e}"))?;
        info!(%addr, "CloudFront API listening");
        listeners.push(listener);
    }
    let config = ApiConfig {
        credentials: settings.api_credentials()?,
        max_clock_skew: Duration::from_secs(settings.api_clock_skew),
        distribution_domain: settings.distribution_domain.clone(),
        account_id: ACCOUNT_ID.to_owned(),
        quotas: settings.api.quotas.clone(),
        declared,
    };
    let control = Arc::clone(edge);
    let status_of = Arc::new(move |seq| control.control.status_of(seq));
    Ok(Started { api: Some((Arc::new(Api::new(config, store, follower, status_of)), listeners)) })
}
