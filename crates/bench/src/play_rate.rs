//! `--play-rate`: how many connect → play → first media message → close sessions a server
//! completes per second, for two streams measured in alternating rounds of one run (so that
//! a noisy machine slows both alike): e.g. an unsigned name and a signed one, whose check the
//! server makes on every play.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use sf_rtmp::handshake::ClientHandshake;

use crate::viewer::{self, Outcome, ViewerConfig};

/// What one stream's plays came to over every round.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tally {
    pub played: usize,
    pub failed: usize,
    pub seconds: f64,
}

impl Tally {
    /// Plays that reached their first media message, per second.
    pub fn rate(&self) -> f64 {
        if self.seconds > 0.0 { self.played as f64 / self.seconds } else { 0.0 }
    }
}

/// Runs `plays` sessions of each config, `concurrency` at a time, in `rounds` alternating
/// rounds (first `configs[0]`, then `configs[1]`, …). The first failure of each is returned for
/// the report.
pub async fn run(
    configs: [ViewerConfig; 2],
    plays: usize,
    concurrency: usize,
    rounds: usize,
) -> ([Tally; 2], [Option<String>; 2]) {
    let mut tallies = [Tally::default(); 2];
    let mut first_failure: [Option<String>; 2] = [None, None];
    let per_round = plays.div_ceil(rounds.max(1));
    let mut seed = 0u64;
    for _ in 0..rounds.max(1) {
        for (which, cfg) in configs.iter().enumerate() {
            let started = Instant::now();
            let outcomes = round(cfg, per_round, concurrency, seed).await;
            tallies[which].seconds += started.elapsed().as_secs_f64();
            seed += per_round as u64;
            for outcome in outcomes {
                match outcome {
                    Outcome::Failed(reason) => {
                        tallies[which].failed += 1;
                        first_failure[which].get_or_insert(reason);
                    }
                    _ => tallies[which].played += 1,
                }
            }
        }
    }
    (tallies, first_failure)
}

/// `count` sessions with `concurrency` workers, each taking the next session when its last ends.
async fn round(cfg: &ViewerConfig, count: usize, concurrency: usize, seed: u64) -> Vec<Outcome> {
    let next = Arc::new(AtomicUsize::new(0));
    let kind = cfg.target.protocol.handshake();
    let workers: Vec<_> = (0..concurrency.clamp(1, count.max(1)))
        .map(|_| {
            let (next, cfg) = (Arc::clone(&next), cfg.clone());
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return outcomes;
                    }
                    let index = seed + i as u64;
                    let handshake = ClientHandshake::with_rng_seed(kind, index);
                    outcomes.push(viewer::run(cfg.clone(), index, handshake).await.outcome);
                }
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(count);
    for worker in workers {
        match worker.await {
            Ok(done) => outcomes.extend(done),
            Err(e) => outcomes.push(Outcome::Failed(format!("worker task: {e}"))),
        }
    }
    outcomes
}
