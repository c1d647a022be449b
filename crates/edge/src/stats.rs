//! The edge's own counters: connections, viewers and bytes sent, kept in
//! `prometheus-client` types so `/metrics` encodes them without hand-written text.
//!
//! Viewers and bytes sent carry `distribution` and `protocol` labels. Looking a label set up
//! in a [`Family`] costs a hash and a lock, so a connection asks once for its
//! [`ViewerMetrics`] handles and then updates them with one atomic operation each.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

use crate::connection::Protocol;
use crate::tls::HandshakeFailure;

/// The id (and metrics label) of the default distribution, the one `--origin` defines.
pub const DEFAULT_DISTRIBUTION: &str = "default";

/// Labels of the per-viewer metrics. The text encoder writes them in this order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ViewerLabels {
    pub distribution: String,
    /// [`Protocol::as_str`].
    pub protocol: &'static str,
}

/// The label of the TLS handshake failures.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct HandshakeFailureLabels {
    /// [`HandshakeFailure::as_str`].
    pub reason: &'static str,
}

/// One connection's handles into the viewer families: updating them is one atomic
/// operation, no lookup.
#[derive(Debug, Clone)]
pub struct ViewerMetrics {
    viewers: Gauge,
    sent_bytes: Counter,
}

impl ViewerMetrics {
    pub fn started(&self) {
        self.viewers.inc();
    }

    pub fn ended(&self) {
        self.viewers.dec();
    }

    pub fn add_bytes_sent(&self, bytes: u64) {
        self.sent_bytes.inc_by(bytes);
    }
}

#[derive(Debug)]
pub struct Stats {
    /// TCP connections accepted (before the protocol is known, so unlabelled).
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    /// Open RTMPT sessions (set by the tunnel table) and sessions refused over its limits.
    pub rtmpt_sessions: AtomicU64,
    pub rtmpt_refused: AtomicU64,
    /// TLS handshakes that failed, by [`HandshakeFailure`].
    pub(crate) tls_handshake_failures: Family<HandshakeFailureLabels, Counter>,
    /// Aliases of the distributions served that no configured certificate covers.
    pub tls_uncovered_aliases: AtomicU64,
    /// Established RTMP connections.
    pub(crate) viewers: Family<ViewerLabels, Gauge>,
    /// Media bytes sent.
    pub(crate) sent_bytes: Family<ViewerLabels, Counter>,
    /// The default distribution's handles, by position in `Protocol::ALL`: made at start, so
    /// its series are in /metrics (at 0) before the first viewer.
    default_distribution: [ViewerMetrics; 4],
}

impl Default for Stats {
    fn default() -> Self {
        let viewers = Family::default();
        let sent_bytes = Family::default();
        let default_distribution =
            Protocol::ALL.map(|protocol| handles(&viewers, &sent_bytes, DEFAULT_DISTRIBUTION, protocol));
        Stats {
            connections_total: AtomicU64::new(0),
            connections_refused: AtomicU64::new(0),
            rtmpt_sessions: AtomicU64::new(0),
            rtmpt_refused: AtomicU64::new(0),
            tls_handshake_failures: Family::default(),
            tls_uncovered_aliases: AtomicU64::new(0),
            viewers,
            sent_bytes,
            default_distribution,
        }
    }
}

fn handles(
    viewers: &Family<ViewerLabels, Gauge>,
    sent_bytes: &Family<ViewerLabels, Counter>,
    distribution: &str,
    protocol: Protocol,
) -> ViewerMetrics {
    let labels = ViewerLabels { distribution: distribution.to_owned(), protocol: protocol.as_str() };
    ViewerMetrics { viewers: viewers.get_or_create_owned(&labels), sent_bytes: sent_bytes.get_or_create_owned(&labels) }
}

fn slot(protocol: Protocol) -> usize {
    Protocol::ALL.iter().position(|p| *p == protocol).expect("every protocol is in ALL")
}

impl Stats {
    pub fn tls_handshake_failed(&self, failure: HandshakeFailure) {
        self.tls_handshake_failures.get_or_create(&HandshakeFailureLabels { reason: failure.as_str() }).inc();
    }

    /// The handles a connection of `distribution` over `protocol` updates. Distributions
    /// come from the configuration, so the label sets stay few.
    pub fn viewer_metrics(&self, distribution: &str, protocol: Protocol) -> ViewerMetrics {
        if distribution == DEFAULT_DISTRIBUTION {
            return self.default_distribution[slot(protocol)].clone();
        }
        handles(&self.viewers, &self.sent_bytes, distribution, protocol)
    }
}
