//! What operators see of each web request: one log line at info level when the response is
//! done (distribution, method, path, status, bytes sent, cache result, time, request id), and
//! the `streamfront_web_*` metrics.

use std::time::Instant;

use hyper::StatusCode;
use sf_cache::OriginError;
use tracing::info;

use crate::metrics::WebMetrics;

/// Where a response came from, as `X-Cache` says it (and the `cache` metrics label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheResult {
    Hit,
    RefreshHit,
    Miss,
    Error,
}

impl CacheResult {
    // W1: sf_web::headers X-Cache values.
    /// The `X-Cache` value.
    pub fn header(self) -> &'static str {
        match self {
            CacheResult::Hit => "Hit from streamfront",
            CacheResult::RefreshHit => "RefreshHit from streamfront",
            CacheResult::Miss => "Miss from streamfront",
            CacheResult::Error => "Error from streamfront",
        }
    }

    /// The log's and the metrics' name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheResult::Hit => "Hit",
            CacheResult::RefreshHit => "RefreshHit",
            CacheResult::Miss => "Miss",
            CacheResult::Error => "Error",
        }
    }
}

/// One request, reported when dropped (with its response body, or without one).
pub struct Report {
    metrics: WebMetrics,
    distribution: String,
    method: String,
    path: String,
    request_id: String,
    started: Instant,
    status: StatusCode,
    cache: CacheResult,
    sent: u64,
    /// Why the body stopped early, if it did.
    failure: Option<String>,
}

impl Report {
    pub fn new(metrics: WebMetrics, distribution: &str, method: &str, path: &str, request_id: &str) -> Report {
        Report {
            metrics,
            distribution: distribution.to_owned(),
            method: method.to_owned(),
            path: path.to_owned(),
            request_id: request_id.to_owned(),
            started: Instant::now(),
            status: StatusCode::OK,
            cache: CacheResult::Miss,
            sent: 0,
            failure: None,
        }
    }

    /// The response's status and cache result, once decided.
    pub fn answered(&mut self, status: StatusCode, cache: CacheResult) {
        self.status = status;
        self.cache = cache;
    }

    pub fn add_sent(&mut self, bytes: u64) {
        self.sent += bytes;
    }

    pub fn body_failed(&mut self, error: &OriginError) {
        self.failure = Some(error.to_string());
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        let sent = self.sent;
        self.metrics.record(&self.distribution, self.status, self.cache.as_str(), sent);
        info!(
            distribution = %self.distribution,
            method = %self.method,
            path = %self.path,
            status = self.status.as_u16(),
            bytes = sent,
            cache = self.cache.as_str(),
            ms = self.started.elapsed().as_millis() as u64,
            request_id = %self.request_id,
            failure = self.failure.as_deref().unwrap_or("-"),
            "web request"
        );
    }
}
