//! The store: one prefix of an object store holding `log/`, `snapshot/`, `edges/` (and,
//! briefly, `probe/`).

mod deploy;
mod follow;
mod keys;
mod location;
mod log;
mod probe;
mod record;
mod snapshot;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use object_store::ObjectStore;
use object_store::path::Path;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use deploy::{Deployment, Heartbeat, LIVE_WITHIN, deployed_through, deployment};
pub use follow::{Applied, FollowOptions, Follower, HeartbeatIdentity, StoreHealth};
pub use location::ControlLocation;
pub use log::CommitAt;

/// A position in the log: the number of the last change applied. The first change is 1;
/// 0 is the empty state before any change.
pub type Seq = u64;

/// What the log folds into. The caller decides what state is; the store only needs to
/// serialize it for snapshots and to apply changes in order.
pub trait State: Default + Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// One entry of the log.
    type Change: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Applies the change committed as number `seq` (called once per number, in order).
    fn apply(&mut self, seq: Seq, change: &Self::Change);
}

/// The time, injectable so tests can play stale heartbeats.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The system's wall clock.
pub fn system_clock() -> Clock {
    Arc::new(SystemTime::now)
}

/// Milliseconds since the Unix epoch (0 before it).
pub(crate) fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[derive(Clone)]
pub struct StoreOptions {
    /// Written into every record this store commits; tells its own records from others'.
    /// Default: random.
    pub writer: String,
    pub clock: Clock,
    /// Bound on one serialized change (and on reading one back).
    pub max_change_bytes: usize,
    /// Bound on one serialized snapshot (and on reading one back).
    pub max_snapshot_bytes: usize,
    /// Create attempts per commit (each lost race or store error costs one) before giving up.
    pub commit_attempts: u32,
    /// Bound on the objects one LIST may walk (snapshots, log tail, heartbeats).
    pub max_listed: usize,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            writer: format!("w-{:016x}", rand::random::<u64>()),
            clock: system_clock(),
            max_change_bytes: 1 << 20,
            max_snapshot_bytes: 64 << 20,
            commit_attempts: 64,
            max_listed: 100_000,
        }
    }
}

impl fmt::Debug for StoreOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreOptions")
            .field("writer", &self.writer)
            .field("max_change_bytes", &self.max_change_bytes)
            .field("max_snapshot_bytes", &self.max_snapshot_bytes)
            .field("commit_attempts", &self.commit_attempts)
            .field("max_listed", &self.max_listed)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object store answered with an error or not at all.
    #[error("object store: {0}")]
    Store(#[source] object_store::Error),
    #[error("{what}: {size} bytes is more than the limit of {limit}")]
    TooLarge { what: String, size: u64, limit: u64 },
    #[error("{key}: {reason}")]
    Corrupt { key: String, reason: String },
    #[error("encoding {0}")]
    Encode(String),
    #[error(
        "the store at {store} does not honour create-if-absent PUTs (If-None-Match: *): {detail}; \
         streamfront needs a store with conditional writes: AWS S3, MinIO, Ceph RGW, Cloudflare R2, ..."
    )]
    NoConditionalWrites { store: String, detail: String },
    /// Every attempt lost its race to another writer: the change was not committed.
    #[error("{store}: the change lost {attempts} races to other writers in a row and was not committed")]
    Contended { store: String, attempts: u32 },
    /// The store failed while committing as number `seq`: the change may or may not be there.
    #[error(
        "{store}: the store failed while committing number {seq}; the change may or may not be committed ({error})"
    )]
    Ambiguous { store: String, seq: Seq, error: String },
    #[error("{0}")]
    InvalidLocation(String),
    #[error("no answer from the store within {0:?}")]
    TimedOut(Duration),
    #[error("a LIST of {dir} walked more than {limit} objects")]
    TooManyObjects { dir: String, limit: usize },
    #[error("invalid edge id {0:?}: 1 to 64 of A-Z a-z 0-9 . _ - not starting with a dot")]
    InvalidEdgeId(String),
}

/// A control store: the log, snapshots and heartbeats below one prefix of an object store.
pub struct Store {
    objects: Arc<dyn ObjectStore>,
    prefix: Path,
    describe: String,
    options: StoreOptions,
    /// The next number to try to commit, as far as this store has seen (0: not looked yet).
    next_seq: AtomicU64,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").field("at", &self.describe).field("writer", &self.options.writer).finish()
    }
}

impl Store {
    /// The store below `prefix` of `objects` (`describe` names it in messages, e.g.
    /// `s3://bucket/prefix`). Refuses a store that does not honour create-if-absent PUTs,
    /// which the log's correctness rests on.
    pub async fn open(
        objects: Arc<dyn ObjectStore>,
        prefix: &str,
        describe: impl Into<String>,
        options: StoreOptions,
    ) -> Result<Arc<Store>, StoreError> {
        let prefix = Path::parse(prefix.trim_matches('/'))
            .map_err(|e| StoreError::InvalidLocation(format!("prefix {prefix:?}: {e}")))?;
        let store = Store { objects, prefix, describe: describe.into(), options, next_seq: AtomicU64::new(0) };
        store.check_conditional_writes().await?;
        Ok(Arc::new(store))
    }

    /// `<dir>/control` or `s3://bucket/prefix`, as parsed by [`ControlLocation::parse`].
    pub fn describe(&self) -> &str {
        &self.describe
    }

    pub fn writer(&self) -> &str {
        &self.options.writer
    }

    fn now(&self) -> SystemTime {
        (self.options.clock)()
    }

    /// Remembers that `seq` exists: the next commit tries no lower than `seq + 1`.
    fn saw(&self, seq: Seq) {
        self.next_seq.fetch_max(seq.saturating_add(1), Ordering::AcqRel);
    }

    /// Delay before retrying after a store error: short, growing, bounded.
    fn backoff(attempt: u32) -> Duration {
        Duration::from_millis(50u64 << attempt.min(5))
    }
}
