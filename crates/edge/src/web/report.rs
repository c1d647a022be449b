//! What operators see of each web request: one log line at info level when the response is
//! done (distribution, method, path, status, bytes sent, cache result, time, request id), and
//! the `streamfront_web_*` metrics.

use std::time::Instant;

use hyper::StatusCode;
use sf_cache::OriginError;
use sf_web::XCache;
use tracing::info;

use crate::metrics::WebMetrics;

/// One request, reported when dropped (with its response body, or without one).
pub struct Report {
    metrics: WebMetrics,
    distribution: String,
    method: String,
    path: String,
    request_id: String,
    started: Instant,
    status: StatusCode,
    cache: XCache,
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
            cache: XCache::Miss,
            sent: 0,
            failure: None,
        }
    }

    /// The response's status and cache result, once decided.
    pub fn answered(&mut self, status: StatusCode, cache: XCache) {
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
        self.metrics.record(&self.distribution, self.status, self.cache.result_type(), sent);
        info!(
            distribution = %self.distribution,
            method = %self.method,
            path = %self.path,
            status = self.status.as_u16(),
            bytes = sent,
            cache = self.cache.result_type(),
            ms = self.started.elapsed().as_millis() as u64,
            request_id = %self.request_id,
            failure = self.failure.as_deref().unwrap_or("-"),
            "web request"
        );
    }
}
