//! Snapshots: the folded state as of some number, so a new edge replays only the tail.

use super::follow::Applied;
use super::keys::{self, SNAPSHOTS};
use super::record::{self, SnapshotRecord};
use super::{Seq, State, Store, StoreError};

impl Store {
    /// Writes `applied` as `snapshot/<seq>.json` (create-if-absent). Every follower folds the
    /// same log into the same state, so if one is there already it is this one: `Ok(false)`.
    pub async fn write_snapshot<S: State>(&self, applied: &Applied<S>) -> Result<bool, StoreError> {
        let snapshot = SnapshotRecord { seq: applied.seq, state: &applied.state };
        let bytes = record::encode(&snapshot, self.options.max_snapshot_bytes, "a snapshot")?;
        record::create(self.objects.as_ref(), &keys::numbered(&self.prefix, SNAPSHOTS, applied.seq), bytes).await
    }

    /// The number of the newest snapshot, if any.
    pub(crate) async fn newest_snapshot_seq(&self) -> Result<Option<Seq>, StoreError> {
        self.highest_numbered(SNAPSHOTS, 0).await
    }

    /// The newest snapshot with a number above `after`, if any.
    pub(crate) async fn newest_snapshot_after<S: State>(&self, after: Seq) -> Result<Option<Applied<S>>, StoreError> {
        let Some(seq) = self.highest_numbered(SNAPSHOTS, after).await? else {
            return Ok(None);
        };
        let found: Option<SnapshotRecord<S>> =
            self.read_numbered(SNAPSHOTS, seq, self.options.max_snapshot_bytes).await?;
        Ok(found.map(|record| Applied { seq, state: record.state }))
    }

    /// The current state: the newest snapshot, then every change after it.
    pub async fn load<S: State>(&self) -> Result<Applied<S>, StoreError> {
        let mut applied = self.newest_snapshot_after(0).await?.unwrap_or_default();
        self.catch_up(&mut applied).await?;
        Ok(applied)
    }

    /// Applies the changes after `applied.seq` until the next number is missing; returns how
    /// many it applied.
    pub(crate) async fn catch_up<S: State>(&self, applied: &mut Applied<S>) -> Result<u64, StoreError> {
        let mut count = 0;
        while let Some(change) = self.read_change::<S::Change>(applied.seq + 1).await? {
            applied.seq += 1;
            applied.state.apply(applied.seq, &change);
            count += 1;
        }
        Ok(count)
    }
}
