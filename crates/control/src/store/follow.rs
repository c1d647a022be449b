//! Following the log: poll for the next number, fold, publish through `tokio::sync::watch`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::deploy::Heartbeat;
use super::keys;
use super::{Seq, State, Store, StoreError, millis};

/// The state as of a number of the log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Applied<S> {
    /// The last change folded in (0: none).
    pub seq: Seq,
    pub state: S,
}

/// Whether a follower can read the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreHealth {
    Reachable,
    /// The store did not answer, answered with errors, or holds a damaged log, since `since`;
    /// the follower keeps publishing the last state it had and keeps trying.
    Unreachable {
        since: SystemTime,
        error: String,
    },
}

/// Who this follower is, for its heartbeats (`edges/<edge_id>.json`).
#[derive(Debug, Clone)]
pub struct HeartbeatIdentity {
    pub edge_id: String,
    /// The software version the edge runs.
    pub version: String,
}

#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// How often to look for the next number.
    pub poll_every: Duration,
    /// After this many polls in a row found nothing, one LIST looks past a missing number.
    pub list_after_misses: u32,
    /// Write a snapshot each time the applied number crosses a multiple of this.
    pub snapshot_every: Option<u64>,
    /// Send heartbeats as this edge (none: a follower that only reads).
    pub heartbeat: Option<HeartbeatIdentity>,
    /// Heartbeat period; one also goes out right after each change applied.
    pub heartbeat_every: Duration,
    /// Heartbeats report the number the follower's user acknowledged with
    /// [`Follower::acknowledge`] (once it has acted on the change: an edge that has dropped
    /// an invalidation's paths from its cache), not merely the number folded in.
    pub heartbeat_acknowledged: bool,
    /// Bound on one poll (its reads, snapshot and heartbeat writes together).
    pub step_timeout: Duration,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            poll_every: Duration::from_secs(1),
            list_after_misses: 4,
            snapshot_every: Some(100),
            heartbeat: None,
            heartbeat_every: Duration::from_secs(5),
            heartbeat_acknowledged: false,
            step_timeout: Duration::from_secs(10),
        }
    }
}

/// A task following the store; stops when dropped.
pub struct Follower<S> {
    state: watch::Receiver<Arc<Applied<S>>>,
    health: watch::Receiver<StoreHealth>,
    /// Wakes the task before its next tick (a writer that just committed wants its change
    /// applied now, not up to `poll_every` later).
    poke: Arc<Notify>,
    /// The number the user acknowledged (see [`FollowOptions::heartbeat_acknowledged`]).
    acknowledged: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl<S> Drop for Follower<S> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl<S: State> Follower<S> {
    /// The state as it changes (starts as the empty state until the first load).
    pub fn state(&self) -> watch::Receiver<Arc<Applied<S>>> {
        self.state.clone()
    }

    pub fn current(&self) -> Arc<Applied<S>> {
        Arc::clone(&self.state.borrow())
    }

    pub fn health(&self) -> watch::Receiver<StoreHealth> {
        self.health.clone()
    }

    /// Says that the user has acted on every change up to `seq`: with
    /// [`FollowOptions::heartbeat_acknowledged`], the heartbeat reports it, at once.
    pub fn acknowledge(&self, seq: Seq) {
        if self.acknowledged.fetch_max(seq, Ordering::SeqCst) < seq {
            self.poke.notify_one();
        }
    }

    /// The state once it has applied `seq`, or `None` after `patience`. Polls the store at
    /// once rather than at the next tick.
    pub async fn wait_for(&self, seq: Seq, patience: Duration) -> Option<Arc<Applied<S>>> {
        let mut state = self.state.clone();
        if state.borrow().seq < seq {
            self.poke.notify_one();
        }
        let found = tokio::time::timeout(patience, state.wait_for(|applied| applied.seq >= seq)).await;
        found.ok()?.ok().map(|applied| Arc::clone(&applied))
    }
}

impl Store {
    /// Starts following the log on the current tokio runtime.
    pub fn follow<S: State>(self: &Arc<Self>, options: FollowOptions) -> Result<Follower<S>, StoreError> {
        if let Some(identity) = &options.heartbeat
            && !keys::valid_edge_id(&identity.edge_id)
        {
            return Err(StoreError::InvalidEdgeId(identity.edge_id.clone()));
        }
        let (state_tx, state) = watch::channel(Arc::new(Applied::<S>::default()));
        let (health_tx, health) = watch::channel(StoreHealth::Reachable);
        let poke = Arc::new(Notify::new());
        let acknowledged = Arc::new(AtomicU64::new(0));
        let run = Run {
            poke: Arc::clone(&poke),
            acknowledged: Arc::clone(&acknowledged),
            store: Arc::clone(self),
            options,
            applied: None,
            misses: 0,
            last_heartbeat: None,
            heartbeat_sent_for: None,
            state_tx,
            health_tx,
        };
        Ok(Follower { state, health, poke, acknowledged, task: tokio::spawn(run.run()) })
    }
}

struct Run<S> {
    store: Arc<Store>,
    options: FollowOptions,
    /// `None` until the first load (snapshot + tail) succeeded.
    applied: Option<Applied<S>>,
    /// Polls in a row that found nothing new.
    misses: u32,
    last_heartbeat: Option<Instant>,
    /// The number the last heartbeat reported.
    heartbeat_sent_for: Option<Seq>,
    state_tx: watch::Sender<Arc<Applied<S>>>,
    health_tx: watch::Sender<StoreHealth>,
    poke: Arc<Notify>,
    acknowledged: Arc<AtomicU64>,
}

impl<S: State> Run<S> {
    async fn run(mut self) {
        let mut ticker = tokio::time::interval(self.options.poll_every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = self.poke.notified() => {}
            }
            let result = match tokio::time::timeout(self.options.step_timeout, self.step()).await {
                Ok(result) => result,
                Err(_) => Err(StoreError::TimedOut(self.options.step_timeout)),
            };
            // Changes applied before an error or a timeout are still good.
            self.publish();
            self.report(result);
        }
    }

    async fn step(&mut self) -> Result<(), StoreError> {
        let before = self.state_tx.borrow().seq;
        match self.applied.as_mut() {
            None => self.applied = Some(self.store.load().await?),
            Some(applied) => {
                let found = self.store.catch_up(applied).await?;
                self.misses = if found > 0 { 0 } else { self.misses + 1 };
                if self.misses >= self.options.list_after_misses {
                    self.misses = 0;
                    self.look_past_a_gap().await?;
                }
            }
        }
        self.publish();
        let Some(applied) = &self.applied else { return Ok(()) };
        if let Some(every) = self.options.snapshot_every.filter(|&k| k > 0)
            && applied.seq / every > before / every
        {
            self.store.write_snapshot(applied).await?;
        }
        self.heartbeat().await
    }

    /// A GET of the next number cannot see past a missing one; a LIST can. Every number is
    /// created in order, so a later one without the next means a damaged log (or the next
    /// landed between the two requests): go on from a newer snapshot if there is one.
    async fn look_past_a_gap(&mut self) -> Result<(), StoreError> {
        let Some(applied) = self.applied.as_mut() else { return Ok(()) };
        let highest = self.store.highest_numbered(keys::LOG, applied.seq).await?;
        let Some(highest) = highest else { return Ok(()) };
        if self.store.catch_up(applied).await? > 0 {
            return Ok(());
        }
        if let Some(snapshot) = self.store.newest_snapshot_after::<S>(applied.seq).await? {
            tracing::warn!(store = %self.store.describe(), from = applied.seq, to = snapshot.seq, "log number missing: continuing from a snapshot");
            *applied = snapshot;
            self.store.catch_up(applied).await?;
            return Ok(());
        }
        Err(StoreError::Corrupt {
            key: keys::numbered(&self.store.prefix, keys::LOG, applied.seq + 1).to_string(),
            reason: format!("missing, while the log goes on to {highest}"),
        })
    }

    /// Publishes the applied state if it moved.
    fn publish(&self) {
        let Some(applied) = &self.applied else { return };
        self.state_tx.send_if_modified(|published| {
            let moved = published.seq != applied.seq;
            if moved {
                *published = Arc::new(applied.clone());
            }
            moved
        });
    }

    /// A heartbeat right after a change was applied (so a single node reports Deployed
    /// promptly), else every `heartbeat_every`.
    async fn heartbeat(&mut self) -> Result<(), StoreError> {
        let (Some(identity), Some(applied)) = (&self.options.heartbeat, &self.applied) else { return Ok(()) };
        let reported = if self.options.heartbeat_acknowledged {
            self.acknowledged.load(Ordering::SeqCst).min(applied.seq)
        } else {
            applied.seq
        };
        let due = self.last_heartbeat.is_none_or(|at| at.elapsed() >= self.options.heartbeat_every);
        if !due && self.heartbeat_sent_for == Some(reported) {
            return Ok(());
        }
        let heartbeat = Heartbeat {
            edge: identity.edge_id.clone(),
            applied: reported,
            version: identity.version.clone(),
            time_ms: millis(self.store.now()),
        };
        self.store.write_heartbeat(&heartbeat).await?;
        self.last_heartbeat = Some(Instant::now());
        self.heartbeat_sent_for = Some(heartbeat.applied);
        Ok(())
    }

    /// Publishes health transitions and logs each once.
    fn report(&self, result: Result<(), StoreError>) {
        let store = self.store.describe();
        match result {
            Ok(()) => {
                self.health_tx.send_if_modified(|health| {
                    let was_down = matches!(health, StoreHealth::Unreachable { .. });
                    if was_down {
                        tracing::info!(%store, "control store reachable again");
                        *health = StoreHealth::Reachable;
                    }
                    was_down
                });
            }
            Err(e) => {
                self.health_tx.send_if_modified(|health| {
                    let was_up = *health == StoreHealth::Reachable;
                    if was_up {
                        tracing::warn!(%store, error = %e, "control store unreachable: serving the last state");
                        *health = StoreHealth::Unreachable { since: self.store.now(), error: e.to_string() };
                    }
                    was_up
                });
            }
        }
    }
}
