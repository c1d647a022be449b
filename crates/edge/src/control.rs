//! What the edge knows about the control store it follows, for `/metrics` and
//! `/distributions`. The binary's follower task writes it; the edge only reads it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sf_dist::Status;

#[derive(Debug, Default)]
pub struct ControlStatus {
    /// Whether a store is followed at all (no store: no store metrics).
    following: AtomicBool,
    reachable: AtomicBool,
    applied_seq: AtomicU64,
    /// The highest change number known to be Deployed on every live edge. A change is
    /// Deployed once every live edge has applied it or a later one, so every lower number is
    /// Deployed too.
    deployed_through: AtomicU64,
}

impl ControlStatus {
    pub fn set(&self, reachable: bool, applied_seq: u64) {
        self.reachable.store(reachable, Ordering::Relaxed);
        self.applied_seq.store(applied_seq, Ordering::Relaxed);
        self.following.store(true, Ordering::Relaxed);
    }

    pub fn set_deployed_through(&self, seq: u64) {
        self.deployed_through.store(seq, Ordering::Relaxed);
    }

    pub fn following(&self) -> bool {
        self.following.load(Ordering::Relaxed)
    }

    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::Relaxed)
    }

    pub fn applied_seq(&self) -> u64 {
        self.applied_seq.load(Ordering::Relaxed)
    }

    /// `Deployed` or `InProgress` (CloudFront's words) for change `seq`.
    pub fn status_of(&self, seq: u64) -> Status {
        if seq <= self.deployed_through.load(Ordering::Relaxed) { Status::Deployed } else { Status::InProgress }
    }
}
