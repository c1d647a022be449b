//! streamfront's edge: the tokio side. Listeners accept viewers, the RTMP protocol core
//! (`sf-rtmp`) talks to them, the media readers (`sf-media`) turn cached objects
//! (`sf-cache`) into tags, and players pace those tags to each viewer.
//!
//! ```text
//! listener ─▶ [tls] ─▶ rtmp_tcp | rtmpt ─▶ driver loop ─▶ endpoint (handshake, RC4) ─▶ connection
//!                                                         ├─▶ names (stream name → keys)
//!                                                         ├─▶ library (object + shared index)
//!                                                         └─▶ player (cursor, pacing) ─▶ output
//! admin: /healthz (health: listeners, disk tier), /metrics (metrics: stats, cache counters)
//! ```
//!
//! Each [`Edge`] owns its metrics registry ([`metrics::Metrics`]), so several edges can run in
//! one process. Connections update [`Stats`]; one that knows its distribution asks once for
//! its [`ViewerMetrics`] handles ([`Stats::viewer_metrics`]) and updates them without lookups.

pub mod access_log;
pub mod admin;
pub mod connection;
pub mod control;
mod driver;
pub mod endpoint;
pub mod health;
pub mod hls;
pub mod http;
pub mod library;
pub mod listener;
pub mod metrics;
pub mod names;
pub mod player;
mod rewind;
pub mod routing;
pub mod rtmp_tcp;
pub mod rtmpt;
mod signed;
mod stats;
pub mod tls;
pub mod web;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sf_cache::{EdgeCache, OriginCache};
use sf_rtmp::session::SessionConfig;
use tokio::sync::watch;

pub use stats::{DEFAULT_DISTRIBUTION, Stats, ViewerLabels, ViewerMetrics};

/// Connection timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// Longest a handshake may take.
    pub handshake: Duration,
    /// A connection with nothing playing and nothing received for this long is closed.
    pub idle: Duration,
    /// A connection whose client reads nothing for this long while data waits is closed.
    pub stalled: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(10),
            idle: Duration::from_secs(120),
            stalled: Duration::from_secs(60),
        }
    }
}

/// Everything the edge needs to know.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Listeners that speak RTMP/RTMPE.
    pub rtmp_listen: Vec<SocketAddr>,
    /// Listeners that speak HTTP (RTMPT, RTMPTE, crossdomain.xml) and RTMP/RTMPE, told
    /// apart by the first byte.
    pub http_listen: Vec<SocketAddr>,
    pub admin_listen: Vec<SocketAddr>,
    /// Listeners that speak TLS: RTMPS and HTTPS, told apart after the handshake.
    pub https_listen: Vec<SocketAddr>,
    /// The certificates of `https_listen`; needed when it has an address.
    pub tls: Option<Arc<tls::Tls>>,
    /// The port viewers reach this edge's HTTPS on: named in redirects to HTTPS (443 is left
    /// out of URLs).
    pub https_public_port: u16,
    pub max_connections: usize,
    pub timeouts: Timeouts,
    pub tunnels: rtmpt::TunnelLimits,
    pub session: SessionConfig,
    /// The key pairs that sign the stream names of distributions with trusted signers.
    pub key_pairs: sf_sign::KeyPairs,
    /// The length HLS segments aim at (they start on key frames), in seconds.
    pub hls_segment_seconds: u32,
}

/// State shared by every connection.
#[derive(Debug)]
pub struct Edge {
    pub config: EdgeConfig,
    /// The distributions served now; a control plane may swap in a new snapshot.
    distributions: RwLock<Arc<routing::Distributions>>,
    pub stats: Arc<Stats>,
    /// What `/metrics` encodes: `stats` and the cache's counters.
    pub metrics: metrics::Metrics,
    pub health: health::Health,
    pub tunnels: rtmpt::Tunnels,
    /// The control store this edge follows, if any.
    pub control: Arc<control::ControlStatus>,
    /// Access log records of distributions whose `Logging` is enabled go here.
    pub access_logs: Arc<sf_logs::AccessLogs>,
    /// Checks signed stream names, URLs and cookies, remembering the signatures it verified.
    pub signatures: sf_sign::Verifier,
    /// The API's public keys and key groups (cache behaviors' `TrustedKeyGroups`); the control
    /// plane swaps in a new set when they change.
    key_groups: RwLock<Arc<sf_sign::KeyGroups>>,
    /// The wall clock at one monotonic instant: connections get only `Instant`s from their
    /// drivers, and signed URLs need epoch seconds.
    clock_anchor: (Instant, SystemTime),
    client_ids: AtomicU32,
}

impl Edge {
    /// The edge serving `origin` (through the cache it belongs to) to every host.
    pub fn new(config: EdgeConfig, origin: Arc<OriginCache>) -> Arc<Self> {
        let cache = Arc::clone(origin.store());
        Edge::with_distributions(config, &cache, routing::Distributions::default_only(origin))
    }

    /// The edge serving `distributions`, whose origins share `cache`.
    pub fn with_distributions(
        config: EdgeConfig,
        cache: &Arc<EdgeCache>,
        distributions: routing::Distributions,
    ) -> Arc<Self> {
        let tunnels = rtmpt::Tunnels::new(config.tunnels);
        let stats = Arc::new(Stats::default());
        let control = Arc::new(control::ControlStatus::default());
        let access_logs = sf_logs::AccessLogs::new();
        let metrics = metrics::Metrics::new(
            Arc::clone(&stats),
            Arc::clone(cache),
            Arc::clone(&control),
            Arc::clone(&access_logs),
        );
        let health = health::Health::new(&config, cache);
        let signatures = sf_sign::Verifier::new(config.key_pairs.clone());
        let edge = Arc::new(Edge {
            config,
            distributions: RwLock::new(Arc::new(distributions)),
            stats,
            metrics,
            health,
            tunnels,
            control,
            access_logs,
            signatures,
            key_groups: RwLock::default(),
            clock_anchor: (Instant::now(), SystemTime::now()),
            client_ids: AtomicU32::new(1),
        });
        edge.check_certificates(None, &edge.distributions());
        edge
    }

    /// The distributions served now.
    pub fn distributions(&self) -> Arc<routing::Distributions> {
        Arc::clone(&self.distributions.read().expect("distributions lock"))
    }

    /// Serves `distributions` from now on; connections already routed keep theirs.
    pub fn replace_distributions(&self, distributions: routing::Distributions) {
        self.check_certificates(Some(&self.distributions()), &distributions);
        *self.distributions.write().expect("distributions lock") = Arc::new(distributions);
    }

    /// With HTTPS listeners, warns of the aliases of `now` no configured certificate covers
    /// (new since `before`) and counts them (see [`tls::coverage`]).
    fn check_certificates(&self, before: Option<&routing::Distributions>, now: &routing::Distributions) {
        let Some(tls) = self.config.tls.as_ref().filter(|_| !self.config.https_listen.is_empty()) else { return };
        let uncovered = tls::coverage::report(&tls.certificates, before, now);
        self.stats.tls_uncovered_aliases.store(uncovered as u64, Ordering::Relaxed);
    }

    /// The public keys and key groups trusted now.
    pub fn key_groups(&self) -> Arc<sf_sign::KeyGroups> {
        Arc::clone(&self.key_groups.read().expect("key groups lock"))
    }

    /// Trusts `key_groups` from now on: a key left out stops verifying at the next request.
    pub fn replace_key_groups(&self, key_groups: sf_sign::KeyGroups) {
        *self.key_groups.write().expect("key groups lock") = Arc::new(key_groups);
    }

    /// Seconds since the epoch at `now`.
    pub fn epoch_seconds(&self, now: Instant) -> u64 {
        let (instant, wall) = self.clock_anchor;
        let at = if now >= instant { wall + (now - instant) } else { wall - (instant - now) };
        at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    }

    /// A number identifying a connection in status messages and logs.
    pub fn next_client_id(&self) -> u32 {
        self.client_ids.fetch_add(1, Ordering::Relaxed)
    }
}

/// Why the edge could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{flag} {addr}: {reason}")]
    Bind { flag: &'static str, addr: SocketAddr, reason: String },
    #[error("--https-listen needs a certificate (--tls-cert or [[certificates]])")]
    NoCertificate,
}

/// Binds every listener (failing fast with the flag that named a bad address), then serves
/// until `shutdown` turns true, then closes connections and returns.
pub async fn run(edge: Arc<Edge>, shutdown: watch::Receiver<bool>) -> Result<(), StartError> {
    let bound = listener::bind_all(&edge.config).await?;
    listener::serve_all(edge, bound, shutdown).await;
    Ok(())
}
