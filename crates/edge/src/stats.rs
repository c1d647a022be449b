//! Counters for `/metrics` and logs.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::connection::Protocol;

#[derive(Debug, Default)]
pub struct Stats {
    pub connections_total: AtomicU64,
    pub connections_refused: AtomicU64,
    /// Established RTMP connections, by [`Protocol`] (index = position in `Protocol::ALL`).
    viewers: [AtomicU64; 4],
    /// Media bytes sent, by protocol.
    bytes_sent: [AtomicU64; 4],
    pub rtmpt_sessions: AtomicU64,
    pub rtmpt_refused: AtomicU64,
}

fn slot(protocol: Protocol) -> usize {
    Protocol::ALL.iter().position(|p| *p == protocol).expect("every protocol is in ALL")
}

impl Stats {
    pub fn viewer_started(&self, protocol: Protocol) {
        self.viewers[slot(protocol)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn viewer_ended(&self, protocol: Protocol) {
        self.viewers[slot(protocol)].fetch_sub(1, Ordering::Relaxed);
    }

    pub fn add_bytes_sent(&self, protocol: Protocol, bytes: u64) {
        self.bytes_sent[slot(protocol)].fetch_add(bytes, Ordering::Relaxed);
    }

    pub fn viewers(&self, protocol: Protocol) -> u64 {
        self.viewers[slot(protocol)].load(Ordering::Relaxed)
    }

    pub fn bytes_sent(&self, protocol: Protocol) -> u64 {
        self.bytes_sent[slot(protocol)].load(Ordering::Relaxed)
    }
}
