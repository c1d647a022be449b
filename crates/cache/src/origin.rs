//! Origins: where objects come from.

use std::io::SeekFrom;
use std::path::{Component, Path, PathBuf};
use std::time::UNIX_EPOCH;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// What the cache knows of an object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// Changes whenever the content may have changed (an ETag, or mtime and size).
    pub version: String,
}

/// Why an origin could not deliver.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    #[error("not found")]
    NotFound,
    #[error("access denied")]
    AccessDenied,
    #[error("object changed while it was being read")]
    Changed,
    #[error("origin failed: {0}")]
    Failed(String),
}

/// An origin. An enum rather than a trait object: there are few kinds and the hot path
/// stays free of boxed futures.
#[derive(Debug)]
pub enum Origin {
    Local(LocalOrigin),
}

impl Origin {
    /// A human-readable name for logs (`/srv/media`, `s3://bucket/prefix`).
    pub fn describe(&self) -> String {
        match self {
            Origin::Local(local) => local.root.display().to_string(),
        }
    }

    pub async fn head(&self, key: &str) -> Result<ObjectMeta, OriginError> {
        match self {
            Origin::Local(local) => local.head(key).await,
        }
    }

    /// Bytes `[start, end)` of version `meta` of `key` (clipped to the object's end).
    pub async fn get_range(&self, key: &str, meta: &ObjectMeta, start: u64, end: u64) -> Result<Bytes, OriginError> {
        match self {
            Origin::Local(local) => local.get_range(key, meta, start, end).await,
        }
    }
}

/// A directory of media files; keys are `/`-separated paths below it.
#[derive(Debug)]
pub struct LocalOrigin {
    root: PathBuf,
}

impl LocalOrigin {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalOrigin { root: root.into() }
    }

    /// The file for `key`, refusing anything that could leave the root. Keys are checked
    /// by the name resolver too; this is the last line of defence.
    fn path(&self, key: &str) -> Result<PathBuf, OriginError> {
        let relative = Path::new(key);
        let safe = !key.is_empty()
            && !key.contains('\\')
            && !key.contains('\0')
            && relative.components().all(|c| matches!(c, Component::Normal(_)));
        if !safe {
            return Err(OriginError::NotFound);
        }
        Ok(self.root.join(relative))
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, OriginError> {
        let path = self.path(key)?;
        let metadata = tokio::fs::metadata(&path).await.map_err(io_error)?;
        if !metadata.is_file() {
            return Err(OriginError::NotFound);
        }
        Ok(local_meta(&metadata))
    }

    async fn get_range(&self, key: &str, meta: &ObjectMeta, start: u64, end: u64) -> Result<Bytes, OriginError> {
        let path = self.path(key)?;
        let mut file = tokio::fs::File::open(&path).await.map_err(io_error)?;
        // A file replaced since the version was taken must not mix into cached blocks.
        if local_meta(&file.metadata().await.map_err(io_error)?) != *meta {
            return Err(OriginError::Changed);
        }
        let end = end.min(meta.size);
        if start >= end {
            return Ok(Bytes::new());
        }
        file.seek(SeekFrom::Start(start)).await.map_err(io_error)?;
        let len = (end - start) as usize;
        let mut buf = BytesMut::zeroed(len);
        file.read_exact(&mut buf).await.map_err(|_| OriginError::Changed)?;
        Ok(buf.freeze())
    }
}

fn local_meta(metadata: &std::fs::Metadata) -> ObjectMeta {
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    ObjectMeta { size: metadata.len(), version: format!("{modified:x}-{:x}", metadata.len()) }
}

fn io_error(error: std::io::Error) -> OriginError {
    match error.kind() {
        std::io::ErrorKind::NotFound => OriginError::NotFound,
        std::io::ErrorKind::PermissionDenied => OriginError::AccessDenied,
        // A path through a regular file ("a.mp4/x") is simply not there.
        std::io::ErrorKind::NotADirectory => OriginError::NotFound,
        _ => OriginError::Failed(error.to_string()),
    }
}
