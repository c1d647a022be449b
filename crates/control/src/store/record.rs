//! What the objects hold, and bounded reads and writes of them as JSON.

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore, PutMode, PutOptions, PutPayload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{Seq, StoreError};

/// One committed change, `log/<seq>.json`. The number is inside too: an object's name or
/// ETag alone proves nothing about its content (identical bytes give identical ETags).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record<C> {
    pub seq: Seq,
    /// Who committed it ([`super::StoreOptions::writer`]).
    pub writer: String,
    /// Random per commit call: with `writer`, tells a writer whether an object it finds at
    /// its number is its own earlier attempt.
    pub token: String,
    /// When the writer committed it (milliseconds since the Unix epoch, the writer's clock).
    pub time_ms: u64,
    pub change: C,
}

/// The folded state as of `seq`, `snapshot/<seq>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SnapshotRecord<S> {
    pub seq: Seq,
    pub state: S,
}

/// An object that says which number it is.
pub(crate) trait Numbered {
    fn seq(&self) -> Seq;
}

impl<C> Numbered for Record<C> {
    fn seq(&self) -> Seq {
        self.seq
    }
}

impl<S> Numbered for SnapshotRecord<S> {
    fn seq(&self) -> Seq {
        self.seq
    }
}

/// JSON of `value`, refused when longer than `limit` bytes.
pub(crate) fn encode<T: Serialize>(value: &T, limit: usize, what: &str) -> Result<Bytes, StoreError> {
    let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Encode(format!("{what}: {e}")))?;
    if bytes.len() > limit {
        return Err(StoreError::TooLarge { what: what.to_owned(), size: bytes.len() as u64, limit: limit as u64 });
    }
    Ok(Bytes::from(bytes))
}

/// The object at `path` parsed as JSON; `None` when there is none. Objects larger than
/// `limit` are refused before their body is read.
pub(crate) async fn read_json<T: DeserializeOwned>(
    objects: &dyn ObjectStore,
    path: &Path,
    limit: usize,
) -> Result<Option<T>, StoreError> {
    let result = match objects.get_opts(path, GetOptions::default()).await {
        Ok(result) => result,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(StoreError::Store(e)),
    };
    if result.meta.size > limit as u64 {
        return Err(StoreError::TooLarge { what: path.to_string(), size: result.meta.size, limit: limit as u64 });
    }
    let bytes = result.bytes().await.map_err(StoreError::Store)?;
    let value = serde_json::from_slice(&bytes)
        .map_err(|e| StoreError::Corrupt { key: path.to_string(), reason: e.to_string() })?;
    Ok(Some(value))
}

/// A create-if-absent PUT: `Ok(true)` if this call created it, `Ok(false)` if it existed.
pub(crate) async fn create(objects: &dyn ObjectStore, path: &Path, bytes: Bytes) -> Result<bool, StoreError> {
    let options = PutOptions { mode: PutMode::Create, ..PutOptions::default() };
    match objects.put_opts(path, PutPayload::from(bytes), options).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
        Err(e) => Err(StoreError::Store(e)),
    }
}
