//! Counters of the cache, shared by every origin.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counters for metrics and tests. All are totals since start except where noted.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Block reads served from the memory tier (counted once per block per reader).
    pub hits: AtomicU64,
    /// Blocks that had to come from the origin.
    pub misses: AtomicU64,
    /// Ranged GETs sent to the origin (one per missing block).
    pub origin_fetches: AtomicU64,
    /// Bytes received from the origin.
    pub origin_bytes: AtomicU64,
    /// Bytes handed to readers from memory-tier hits.
    pub memory_hit_bytes: AtomicU64,
    pub memory_evictions: AtomicU64,
    /// Blocks loaded from the disk tier (intact).
    pub disk_hits: AtomicU64,
    pub disk_hit_bytes: AtomicU64,
    /// Blocks looked for on disk and not there (or damaged).
    pub disk_misses: AtomicU64,
    /// Disk blocks that failed their checks (torn or corrupted) and were fetched again.
    pub disk_corrupt: AtomicU64,
    pub disk_write_bytes: AtomicU64,
    pub disk_write_errors: AtomicU64,
    pub disk_evictions: AtomicU64,
    /// Looks at the origin for an object: first looks (a GET of the first block, or a
    /// HEAD) and revalidations (a HEAD).
    pub origin_heads: AtomicU64,
    /// LIST requests that told which of a name's candidate keys exist.
    pub origin_lists: AtomicU64,
    /// Opens answered "not found" from the cache, without asking the origin.
    pub not_found_hits: AtomicU64,
    /// Opens answered with an origin error the cache keeps (a web distribution's error
    /// caching), without asking the origin.
    pub error_hits: AtomicU64,
    /// Origin requests (HEAD or GET) that failed, NotFound excluded.
    pub origin_errors: AtomicU64,
    /// The slowest origin request (HEADs, and GETs to the last byte); the distribution goes
    /// to the [`OriginLatencyObserver`], if one is set.
    pub origin_latency_max_micros: AtomicU64,
    /// Reads that waited on a block another reader (or read-ahead) was already filling.
    pub single_flight_joins: AtomicU64,
    /// Blocks fetched ahead of readers.
    pub read_ahead: AtomicU64,
    /// Expired objects checked against the origin, and how many of those had changed.
    pub revalidations: AtomicU64,
    pub revalidations_changed: AtomicU64,
    /// Opens answered from an expired copy because the origin was failing.
    pub stale_serves: AtomicU64,
    /// Told each origin latency, for a histogram kept in the caller's metrics library.
    origin_latency_observer: OnceLock<OriginLatencyObserver>,
}

impl CacheStats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn latency(&self, started: Instant) {
        let elapsed = started.elapsed();
        self.origin_latency_max_micros.fetch_max(elapsed.as_micros() as u64, Ordering::Relaxed);
        if let Some(observer) = self.origin_latency_observer.get() {
            (observer.0)(elapsed);
        }
    }

    /// Sends every origin latency to `observer` from now on. One observer per cache: returns
    /// false (and drops `observer`) if one is already set.
    pub fn observe_origin_latency(&self, observer: OriginLatencyObserver) -> bool {
        self.origin_latency_observer.set(observer).is_ok()
    }
}

/// Told the duration of every origin request (HEADs, and GETs to the last byte), so the
/// caller can keep a latency histogram in its own metrics library.
pub struct OriginLatencyObserver(Box<dyn Fn(Duration) + Send + Sync>);

impl OriginLatencyObserver {
    pub fn new(observe: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        OriginLatencyObserver(Box::new(observe))
    }
}

impl std::fmt::Debug for OriginLatencyObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginLatencyObserver")
    }
}
