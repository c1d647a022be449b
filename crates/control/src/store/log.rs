//! Committing to the log and reading it back.
//!
//! A commit is a create-if-absent PUT of the next number (Amazon S3 User Guide: "Add
//! preconditions to S3 operations with conditional requests": `If-None-Match: *` fails with
//! 412 when the key exists; object_store maps that to `AlreadyExists`). Losing the race means
//! someone else committed that number: re-read the tail and try the number after it.
//! [`Store::commit_at`] instead reports the lost race, for callers that decided on the state
//! before that number.

use futures_util::StreamExt;
use serde::Serialize;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::keys::{self, LOG};
use super::record::{self, Record};
use super::{Seq, Store, StoreError, millis};

/// Random per commit call; see [`Record::token`].
fn new_token() -> String {
    format!("{:016x}{:016x}", rand::random::<u64>(), rand::random::<u64>())
}

/// What [`Store::commit_at`] found at the number it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitAt {
    /// The change is durable as that number.
    Committed,
    /// Another change holds that number: the caller's view of the log is stale.
    Taken,
}

/// How one create-if-absent PUT of a numbered record turned out.
enum Attempt {
    Ours,
    /// Someone else's record holds the number.
    Taken,
    /// The store failed: the PUT may or may not have landed.
    Failed(String),
}

impl Store {
    /// Appends `change` to the log and returns its number. `Ok` means the object store has
    /// written it: the change is durable and every follower will apply it at that number.
    ///
    /// After a store error the same number is tried again (a PUT that timed out may still
    /// have landed: only a retry, and reading back on `AlreadyExists`, tells), so the outcome
    /// is unknown only if the attempts run out on store errors: [`StoreError::Ambiguous`].
    pub async fn commit<C: Serialize>(&self, change: &C) -> Result<Seq, StoreError> {
        let token = new_token();
        let mut seq = match self.next_seq.load(std::sync::atomic::Ordering::Acquire) {
            0 => self.last_seq().await? + 1,
            next => next,
        };
        let mut store_error = None;
        for attempt in 0..self.options.commit_attempts {
            match self.attempt(seq, &token, change).await? {
                Attempt::Ours => return Ok(seq),
                Attempt::Taken => {
                    // Ours did not land at this number; go past the tail.
                    store_error = None;
                    seq = self.last_seq_from(seq).await? + 1;
                }
                Attempt::Failed(error) => {
                    store_error = Some(error);
                    tokio::time::sleep(Self::backoff(attempt)).await;
                }
            }
        }
        let store = self.describe.clone();
        Err(match store_error {
            Some(error) => StoreError::Ambiguous { store, seq, error },
            None => StoreError::Contended { store, attempts: self.options.commit_attempts },
        })
    }

    /// Commits `change` as exactly number `seq`, or learns that another change holds it.
    /// For optimistic concurrency: a caller that decided on the state as of `seq - 1` commits
    /// at `seq`, and on [`CommitAt::Taken`] decides again on the newer state.
    ///
    /// Store errors are retried at the same number, as [`Store::commit`] does; if the attempts
    /// run out on them, the outcome is unknown: [`StoreError::Ambiguous`].
    pub async fn commit_at<C: Serialize>(&self, seq: Seq, change: &C) -> Result<CommitAt, StoreError> {
        if seq == 0 {
            return Err(StoreError::Encode("a change as number 0: the first number is 1".to_owned()));
        }
        let token = new_token();
        let mut store_error = String::new();
        for attempt in 0..self.options.commit_attempts {
            match self.attempt(seq, &token, change).await? {
                Attempt::Ours => return Ok(CommitAt::Committed),
                Attempt::Taken => return Ok(CommitAt::Taken),
                Attempt::Failed(error) => {
                    store_error = error;
                    tokio::time::sleep(Self::backoff(attempt)).await;
                }
            }
        }
        Err(StoreError::Ambiguous { store: self.describe.clone(), seq, error: store_error })
    }

    /// One create-if-absent PUT of `change` as number `seq`. Errors other than the store's
    /// (encoding, size, a corrupt record in the way) are returned as they are.
    async fn attempt<C: Serialize>(&self, seq: Seq, token: &str, change: &C) -> Result<Attempt, StoreError> {
        let record = Record {
            seq,
            writer: self.options.writer.clone(),
            token: token.to_owned(),
            time_ms: millis(self.now()),
            change,
        };
        let bytes = record::encode(&record, self.options.max_change_bytes, "a change")?;
        let path = keys::numbered(&self.prefix, LOG, seq);
        // A taken number may hold our own earlier attempt that timed out after it landed
        // (or a PUT the client retried by itself): read it back to see whose it is.
        let outcome = match record::create(self.objects.as_ref(), &path, bytes).await {
            Ok(true) => Ok(true),
            Ok(false) => self.is_ours(seq, token).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(ours) => {
                self.saw(seq);
                Ok(if ours { Attempt::Ours } else { Attempt::Taken })
            }
            // The PUT may have landed, and only retrying it (then reading back on
            // AlreadyExists) tells.
            Err(StoreError::Store(e)) => Ok(Attempt::Failed(e.to_string())),
            Err(e) => Err(e),
        }
    }

    /// Whether record `seq` carries this store's writer id and `token`.
    async fn is_ours(&self, seq: Seq, token: &str) -> Result<bool, StoreError> {
        let path = keys::numbered(&self.prefix, LOG, seq);
        let found: Option<Record<IgnoredAny>> =
            record::read_json(self.objects.as_ref(), &path, self.options.max_change_bytes).await?;
        Ok(found.is_some_and(|r| r.writer == self.options.writer && r.token == token))
    }

    /// Record `seq` of the log, `None` if it is not there (yet).
    pub(crate) async fn read_change<C: DeserializeOwned>(&self, seq: Seq) -> Result<Option<C>, StoreError> {
        let found: Option<Record<C>> = self.read_numbered(LOG, seq, self.options.max_change_bytes).await?;
        Ok(found.map(|record| record.change))
    }

    /// Object `seq` of the numbered folder `folder` (the log, snapshots), checked to say it is
    /// that number; `None` if it is not there (yet).
    pub(crate) async fn read_numbered<T: record::Numbered + DeserializeOwned>(
        &self,
        folder: &str,
        seq: Seq,
        limit: usize,
    ) -> Result<Option<T>, StoreError> {
        let path = keys::numbered(&self.prefix, folder, seq);
        let Some(found) = record::read_json::<T>(self.objects.as_ref(), &path, limit).await? else {
            return Ok(None);
        };
        if found.seq() != seq {
            return Err(StoreError::Corrupt {
                key: path.to_string(),
                reason: format!("it says it is number {}", found.seq()),
            });
        }
        self.saw(seq);
        Ok(Some(found))
    }

    /// The number of the newest change in the log (0 if it is empty).
    pub async fn last_seq(&self) -> Result<Seq, StoreError> {
        // The newest snapshot is a lower bound that saves listing the whole history.
        let from = self.newest_snapshot_seq().await?.unwrap_or(0);
        self.last_seq_from(from).await
    }

    /// The highest number in the log above `from`, or `from` if there is none.
    pub(crate) async fn last_seq_from(&self, from: Seq) -> Result<Seq, StoreError> {
        let highest = self.highest_numbered(LOG, from).await?.unwrap_or(from).max(from);
        self.saw(highest);
        Ok(highest)
    }

    /// The highest `<n>.json` in `dir` with n > `after` (one LIST from there; at most
    /// `max_listed` objects walked).
    pub(crate) async fn highest_numbered(&self, dir: &str, after: Seq) -> Result<Option<Seq>, StoreError> {
        let dir_path = self.prefix.clone().join(dir);
        let offset = keys::numbered(&self.prefix, dir, after);
        let mut listing = self.objects.list_with_offset(Some(&dir_path), &offset);
        let mut highest = None;
        let mut walked = 0usize;
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(StoreError::Store)?;
            walked += 1;
            if walked > self.options.max_listed {
                return Err(StoreError::TooManyObjects { dir: dir_path.to_string(), limit: self.options.max_listed });
            }
            // Stores need not return a LIST in order (a local directory does not): keep the max.
            if let Some(seq) = keys::parse_numbered(&meta.location).filter(|&seq| seq > after) {
                highest = highest.max(Some(seq));
            }
        }
        Ok(highest)
    }
}
