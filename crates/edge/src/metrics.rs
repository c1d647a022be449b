//! `/metrics`: one `prometheus-client` [`Registry`] per edge (several edges can live in one
//! process), encoded in the Prometheus text format.
//!
//! Two collectors feed it at scrape time: the edge's own [`Stats`], and the cache's atomic
//! [`sf_cache::CacheStats`] counters, which the cache keeps itself and which are read here,
//! so the cache crate needs no metrics library. Origin latencies reach a [`Histogram`]
//! through the cache's latency observer.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use sf_cache::{EdgeCache, OriginLatencyObserver};
use tracing::warn;

use crate::Stats;
use crate::control::ControlStatus;

/// The `Content-Type` of what [`Metrics::encode`] writes (text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Upper bounds of the origin latency buckets, in seconds: a local file answers in about a
/// millisecond, a slow S3 request takes seconds, and the cache gives up after its origin
/// timeout (15 s by default).
const ORIGIN_LATENCY_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Web distributions' requests and bytes, updated as requests end.
    pub web: WebMetrics,
}

/// Labels of `streamfront_web_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct WebRequestLabels {
    pub distribution: String,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    pub status_class: &'static str,
    /// `Hit`, `RefreshHit`, `Miss` or `Error` (what `X-Cache` said).
    pub cache: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct WebDistributionLabel {
    pub distribution: String,
}

/// The web distributions' counters (shared handles: clones count into the same families).
/// Label sets are bounded by the distributions configured times a few classes.
#[derive(Debug, Clone, Default)]
pub struct WebMetrics {
    requests: Family<WebRequestLabels, Counter>,
    sent_bytes: Family<WebDistributionLabel, Counter>,
}

impl WebMetrics {
    /// One finished request of `distribution`.
    pub fn record(&self, distribution: &str, status: hyper::StatusCode, cache: &'static str, sent: u64) {
        let status_class = match status.as_u16() {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let labels = WebRequestLabels { distribution: distribution.to_owned(), status_class, cache };
        self.requests.get_or_create(&labels).inc();
        self.sent_bytes.get_or_create(&WebDistributionLabel { distribution: distribution.to_owned() }).inc_by(sent);
    }
}

impl Metrics {
    pub fn new(
        stats: Arc<Stats>,
        cache: Arc<EdgeCache>,
        control: Arc<ControlStatus>,
        access_logs: Arc<sf_logs::AccessLogs>,
    ) -> Self {
        let origin_latency = Histogram::new(ORIGIN_LATENCY_BUCKETS);
        let observed = origin_latency.clone();
        let observer = OriginLatencyObserver::new(move |latency| observed.observe(latency.as_secs_f64()));
        if !cache.stats().observe_origin_latency(observer) {
            warn!("the cache already reports origin latencies to another edge; this edge's histogram stays empty");
        }
        let mut registry = Registry::default();
        registry.register_collector(Box::new(EdgeCollector(stats)));
        registry.register_collector(Box::new(CacheCollector { cache, origin_latency }));
        registry.register_collector(Box::new(ControlCollector(control)));
        registry.register_collector(Box::new(AccessLogCollector(access_logs)));
        let web = WebMetrics::default();
        registry.register(
            "streamfront_web_requests",
            "Web distribution requests by distribution, status class and cache result.",
            web.requests.clone(),
        );
        registry.register(
            "streamfront_web_sent_bytes",
            "Web distribution body bytes sent to viewers by distribution.",
            web.sent_bytes.clone(),
        );
        Metrics { registry, web }
    }

    /// Every metric, in the Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}

/// One metric family with one sample per label set. Counter names get `_total` from the
/// encoder.
fn family<S: EncodeLabelSet, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    samples: &[(S, M)],
) -> fmt::Result {
    let Some((_, first)) = samples.first() else { return Ok(()) };
    let mut metric = encoder.encode_descriptor(name, help, None, first.metric_type())?;
    for (labels, value) in samples {
        value.encode(metric.encode_family(labels)?)?;
    }
    Ok(())
}

/// A family of one unlabelled sample.
fn single(encoder: &mut DescriptorEncoder, name: &str, help: &str, metric: &impl EncodeMetric) -> fmt::Result {
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn counter(value: &AtomicU64) -> ConstCounter<u64> {
    ConstCounter::new(value.load(Ordering::Relaxed))
}

fn gauge(value: u64) -> ConstGauge<u64> {
    ConstGauge::new(value)
}

/// The edge's connections, viewers and bytes sent.
#[derive(Debug)]
struct EdgeCollector(Arc<Stats>);

impl Collector for EdgeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let s = &self.0;
        let e = &mut encoder;
        single(e, "streamfront_connections", "TCP connections accepted.", &counter(&s.connections_total))?;
        single(
            e,
            "streamfront_connections_refused",
            "Connections refused over --max-connections.",
            &counter(&s.connections_refused),
        )?;
        single(e, "streamfront_viewers", "Established RTMP connections by distribution and protocol.", &s.viewers)?;
        single(
            e,
            "streamfront_sent_bytes",
            "Media bytes sent to viewers by distribution and protocol.",
            &s.sent_bytes,
        )?;
        let sessions = gauge(s.rtmpt_sessions.load(Ordering::Relaxed));
        single(e, "streamfront_rtmpt_sessions", "Open RTMPT tunnel sessions.", &sessions)?;
        single(e, "streamfront_rtmpt_refused", "RTMPT sessions refused over the limits.", &counter(&s.rtmpt_refused))?;
        single(
            e,
            "streamfront_tls_handshake_failures",
            "TLS handshakes that failed, by reason.",
            &s.tls_handshake_failures,
        )?;
        let uncovered = gauge(s.tls_uncovered_aliases.load(Ordering::Relaxed));
        let help = "Aliases of the distributions served that no configured certificate covers (they get the default).";
        single(e, "streamfront_tls_uncovered_aliases", help, &uncovered)
    }
}

/// The control store, when the edge follows one.
#[derive(Debug)]
struct ControlCollector(Arc<ControlStatus>);

impl Collector for ControlCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let control = &self.0;
        if !control.following() {
            return Ok(());
        }
        let e = &mut encoder;
        let reachable = gauge(u64::from(control.reachable()));
        single(e, "streamfront_store_reachable", "1 when the last poll of the control store succeeded.", &reachable)?;
        let applied = gauge(control.applied_seq());
        single(e, "streamfront_store_applied_seq", "The last control store change applied.", &applied)
    }
}

/// The access logs: records written and dropped, files delivered and failed deliveries.
#[derive(Debug)]
struct AccessLogCollector(Arc<sf_logs::AccessLogs>);

impl Collector for AccessLogCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let s = self.0.stats();
        let e = &mut encoder;
        single(
            e,
            "streamfront_access_log_records",
            "Access log records written to the spool.",
            &counter(&s.records_written),
        )?;
        single(
            e,
            "streamfront_access_log_records_dropped",
            "Access log records lost: the queue or the spool was full or unwritable.",
            &counter(&s.records_dropped),
        )?;
        single(
            e,
            "streamfront_access_log_files_delivered",
            "Access log files put into logging buckets.",
            &counter(&s.files_delivered),
        )?;
        single(
            e,
            "streamfront_access_log_delivery_failures",
            "Failed puts of access log files (retried).",
            &counter(&s.delivery_failures),
        )?;
        let spooled = gauge(s.spool_bytes.load(Ordering::Relaxed));
        single(e, "streamfront_access_log_spool_bytes", "Access log bytes waiting on disk for delivery.", &spooled)
    }
}

/// The cache's tiers and origin requests. The cache is one budget shared by every
/// distribution, so these have no distribution label.
#[derive(Debug)]
struct CacheCollector {
    cache: Arc<EdgeCache>,
    origin_latency: Histogram,
}

const MEMORY: [(&str, &str); 1] = [("tier", "memory")];
const DISK: [(&str, &str); 1] = [("tier", "disk")];

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let cache = &self.cache;
        let c = cache.stats();
        let e = &mut encoder;
        let by_tier = |memory: &AtomicU64, disk: &AtomicU64| [(MEMORY, counter(memory)), (DISK, counter(disk))];
        family(e, "streamfront_cache_hits", "Block reads served from a cache tier.", &by_tier(&c.hits, &c.disk_hits))?;
        family(
            e,
            "streamfront_cache_hit_bytes",
            "Bytes served from a cache tier.",
            &by_tier(&c.memory_hit_bytes, &c.disk_hit_bytes),
        )?;
        single(e, "streamfront_cache_misses", "Block reads that went to the origin.", &counter(&c.misses))?;
        single(
            e,
            "streamfront_cache_disk_misses",
            "Block reads looked for in the disk tier and not found there (or found damaged).",
            &counter(&c.disk_misses),
        )?;
        family(
            e,
            "streamfront_cache_evictions",
            "Blocks evicted from a tier.",
            &by_tier(&c.memory_evictions, &c.disk_evictions),
        )?;
        family(
            e,
            "streamfront_cache_bytes",
            "Bytes held in a cache tier.",
            &[(MEMORY, gauge(cache.memory_used())), (DISK, gauge(cache.disk_used()))],
        )?;
        single(
            e,
            "streamfront_cache_disk_corrupt",
            "Disk blocks found torn or corrupted (re-fetched, never served).",
            &counter(&c.disk_corrupt),
        )?;
        single(
            e,
            "streamfront_cache_disk_write_bytes",
            "Bytes of blocks written to disk.",
            &counter(&c.disk_write_bytes),
        )?;
        single(e, "streamfront_cache_disk_write_errors", "Failed disk block writes.", &counter(&c.disk_write_errors))?;
        single(
            e,
            "streamfront_cache_single_flight_joins",
            "Reads that joined a fill already under way.",
            &counter(&c.single_flight_joins),
        )?;
        single(e, "streamfront_cache_read_ahead", "Blocks fetched ahead of a reader.", &counter(&c.read_ahead))?;
        single(
            e,
            "streamfront_cache_revalidations",
            "Expired objects checked with the origin.",
            &counter(&c.revalidations),
        )?;
        single(
            e,
            "streamfront_cache_revalidations_changed",
            "Revalidations that found a new version at the origin.",
            &counter(&c.revalidations_changed),
        )?;
        single(
            e,
            "streamfront_cache_stale_serves",
            "Expired objects served while the origin failed.",
            &counter(&c.stale_serves),
        )?;
        family(
            e,
            "streamfront_origin_requests",
            "Origin operations: kind=range, a block read; kind=head, a look at one object (a first look is a GET of its first block on S3, sent with a presigned HEAD that reads Expires; a revalidation is a HEAD; on a local directory, a stat); kind=list, one S3 LIST telling which of a name's candidate keys exist.",
            &[
                ([("kind", "range")], counter(&c.origin_fetches)),
                ([("kind", "head")], counter(&c.origin_heads)),
                ([("kind", "list")], counter(&c.origin_lists)),
            ],
        )?;
        single(
            e,
            "streamfront_cache_not_found_hits",
            "Opens answered \"not found\" from the cache (--negative-ttl) without asking the origin.",
            &counter(&c.not_found_hits),
        )?;
        single(
            e,
            "streamfront_cache_error_hits",
            "Opens answered with an origin error the cache keeps (a web distribution's ErrorCachingMinTTL) without asking the origin.",
            &counter(&c.error_hits),
        )?;
        single(e, "streamfront_origin_bytes", "Bytes read from the origin.", &counter(&c.origin_bytes))?;
        single(e, "streamfront_origin_errors", "Failed origin requests.", &counter(&c.origin_errors))?;
        single(
            e,
            "streamfront_origin_latency_seconds",
            "Origin request latency (HEADs, and range reads to the last byte).",
            &self.origin_latency,
        )?;
        let max_seconds = c.origin_latency_max_micros.load(Ordering::Relaxed) as f64 / 1e6;
        single(e, "streamfront_origin_latency_max_seconds", "Slowest origin request.", &ConstGauge::new(max_seconds))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use sf_cache::{CacheConfig, LocalOrigin, Origin, OriginCache};

    use super::*;
    use crate::DEFAULT_DISTRIBUTION;
    use crate::connection::Protocol;

    fn edge_metrics(origin_dir: &std::path::Path) -> (Arc<Stats>, Arc<OriginCache>, Metrics) {
        let stats = Arc::new(Stats::default());
        let origin = EdgeCache::new(CacheConfig::default()).origin_cache(Origin::Local(LocalOrigin::new(origin_dir)));
        let metrics =
            Metrics::new(Arc::clone(&stats), Arc::clone(origin.store()), Default::default(), Default::default());
        (stats, origin, metrics)
    }

    /// The value of the sample line `series` (name and labels exactly as written).
    fn sample(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("no sample {series} in:\n{text}"))
            .parse()
            .expect("a number")
    }

    /// Checks the text format's shape: every sample belongs to a family announced by HELP
    /// and TYPE before it (histograms add _bucket, _sum, _count). Returns the family names.
    fn families(text: &str) -> Vec<String> {
        let (mut helped, mut typed) = (HashSet::new(), Vec::<(String, String)>::new());
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                helped.insert(rest.split(' ').next().unwrap().to_owned());
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
                assert!(helped.contains(name), "TYPE before HELP: {line}");
                typed.push((name.to_owned(), kind.to_owned()));
            } else {
                let name = line.split(['{', ' ']).next().unwrap();
                let (family, kind) = typed.last().unwrap_or_else(|| panic!("sample before any TYPE: {line}"));
                let belongs = match kind.as_str() {
                    "histogram" => [family.clone() + "_bucket", family.clone() + "_sum", family.clone() + "_count"]
                        .contains(&name.to_owned()),
                    _ => name == family,
                };
                assert!(belongs, "sample {line} is not in family {family} ({kind})");
                let value = line.rsplit(' ').next().unwrap();
                assert!(value.parse::<f64>().is_ok() || value == "+Inf", "bad value in {line}");
            }
        }
        typed.into_iter().map(|(name, _)| name).collect()
    }

    #[test]
    fn names_and_labels_are_the_ones_dashboards_use() {
        let dir = tempfile::tempdir().unwrap();
        let (stats, _cache, metrics) = edge_metrics(dir.path());
        stats.viewer_metrics(DEFAULT_DISTRIBUTION, Protocol::Rtmpe).started();
        stats.viewer_metrics(DEFAULT_DISTRIBUTION, Protocol::Rtmp).add_bytes_sent(1234);
        stats.connections_total.fetch_add(3, Ordering::Relaxed);
        let text = metrics.encode();
        let names = families(&text);
        for name in [
            "streamfront_connections_total",
            "streamfront_connections_refused_total",
            "streamfront_viewers",
            "streamfront_sent_bytes_total",
            "streamfront_rtmpt_sessions",
            "streamfront_rtmpt_refused_total",
            "streamfront_cache_hits_total",
            "streamfront_cache_hit_bytes_total",
            "streamfront_cache_misses_total",
            "streamfront_cache_disk_misses_total",
            "streamfront_cache_evictions_total",
            "streamfront_cache_bytes",
            "streamfront_cache_disk_corrupt_total",
            "streamfront_cache_disk_write_bytes_total",
            "streamfront_cache_disk_write_errors_total",
            "streamfront_cache_single_flight_joins_total",
            "streamfront_cache_read_ahead_total",
            "streamfront_cache_revalidations_total",
            "streamfront_cache_revalidations_changed_total",
            "streamfront_cache_stale_serves_total",
            "streamfront_cache_not_found_hits_total",
            "streamfront_cache_error_hits_total",
            "streamfront_origin_requests_total",
            "streamfront_origin_bytes_total",
            "streamfront_origin_errors_total",
            "streamfront_origin_latency_seconds",
            "streamfront_origin_latency_max_seconds",
        ] {
            assert!(names.iter().any(|n| n == name), "no family {name} in:\n{text}");
        }
        assert_eq!(sample(&text, "streamfront_connections_total"), 3.0);
        assert_eq!(sample(&text, "streamfront_sent_bytes_total{distribution=\"default\",protocol=\"rtmp\"}"), 1234.0);
        assert_eq!(sample(&text, "streamfront_viewers{distribution=\"default\",protocol=\"rtmpe\"}"), 1.0);
        // Every protocol shows from the start, so rates work before the first viewer.
        for protocol in Protocol::ALL {
            let series = format!("streamfront_viewers{{distribution=\"default\",protocol=\"{}\"}}", protocol.as_str());
            sample(&text, &series);
        }
        assert_eq!(sample(&text, "streamfront_cache_bytes{tier=\"memory\"}"), 0.0);
        assert_eq!(sample(&text, "streamfront_origin_requests_total{kind=\"head\"}"), 0.0);
    }

    #[test]
    fn a_connection_handle_counts_under_its_distribution() {
        let dir = tempfile::tempdir().unwrap();
        let (stats, _cache, metrics) = edge_metrics(dir.path());
        let handle = stats.viewer_metrics("news", Protocol::Rtmpt);
        handle.started();
        handle.add_bytes_sent(10);
        handle.add_bytes_sent(5);
        let text = metrics.encode();
        assert_eq!(sample(&text, "streamfront_sent_bytes_total{distribution=\"news\",protocol=\"rtmpt\"}"), 15.0);
        assert_eq!(sample(&text, "streamfront_viewers{distribution=\"news\",protocol=\"rtmpt\"}"), 1.0);
        assert_eq!(sample(&text, "streamfront_sent_bytes_total{distribution=\"default\",protocol=\"rtmpt\"}"), 0.0);
        handle.ended();
        assert_eq!(sample(&metrics.encode(), "streamfront_viewers{distribution=\"news\",protocol=\"rtmpt\"}"), 0.0);
        // The default distribution's handles are the ones the protocol-only calls update.
        stats.viewer_metrics(DEFAULT_DISTRIBUTION, Protocol::Rtmp).add_bytes_sent(7);
        stats.viewer_metrics(DEFAULT_DISTRIBUTION, Protocol::Rtmp).add_bytes_sent(1);
        assert_eq!(
            sample(&metrics.encode(), "streamfront_sent_bytes_total{distribution=\"default\",protocol=\"rtmp\"}"),
            8.0
        );
    }

    #[tokio::test]
    async fn origin_latencies_fill_a_histogram() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("clip.flv"), vec![7u8; 3000]).unwrap();
        let (_stats, cache, metrics) = edge_metrics(dir.path());
        let object = cache.open("clip.flv").await.expect("the file opens");
        object.read_range(0, 3000).await.expect("the file reads");
        let text = metrics.encode();
        assert!(text.contains("# TYPE streamfront_origin_latency_seconds histogram\n"), "{text}");
        let requests = sample(&text, "streamfront_origin_requests_total{kind=\"head\"}")
            + sample(&text, "streamfront_origin_requests_total{kind=\"range\"}");
        assert!(requests >= 2.0, "{text}");
        let count = sample(&text, "streamfront_origin_latency_seconds_count");
        assert_eq!(count, requests, "one observation per origin request:\n{text}");
        assert_eq!(sample(&text, "streamfront_origin_latency_seconds_bucket{le=\"+Inf\"}"), count);
        // Buckets from 1 ms to 30 s, cumulative.
        let first = sample(&text, "streamfront_origin_latency_seconds_bucket{le=\"0.001\"}");
        let last = sample(&text, "streamfront_origin_latency_seconds_bucket{le=\"30\"}");
        assert!(first <= last && last <= count, "{text}");
        assert!(sample(&text, "streamfront_origin_latency_seconds_sum") > 0.0, "{text}");
    }
}
