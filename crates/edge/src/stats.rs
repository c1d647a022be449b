//! Counters for `/metrics` and logs.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::connection::Protocol;

#[derive(Debug, Default)]
pub struct Stats {
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    pub viewers_rtmp: AtomicU64,
    pub viewers_rtmpe: AtomicU64,
}

impl Stats {
    fn gauge(&self, protocol: Protocol) -> &AtomicU64 {
        match protocol {
            Protocol::Rtmp => &self.viewers_rtmp,
            Protocol::Rtmpe => &self.viewers_rtmpe,
        }
    }

    /// Counts an active viewer until the guard drops.
    pub fn viewer_guard(&self, protocol: Protocol) -> ViewerGuard<'_> {
        self.gauge(protocol).fetch_add(1, Ordering::Relaxed);
        ViewerGuard { stats: self, protocol }
    }
}

pub struct ViewerGuard<'a> {
    stats: &'a Stats,
    protocol: Protocol,
}

impl Drop for ViewerGuard<'_> {
    fn drop(&mut self) {
        self.stats.gauge(self.protocol).fetch_sub(1, Ordering::Relaxed);
    }
}
