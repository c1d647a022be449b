//! Origins: where objects come from.

use std::io::SeekFrom;
use std::path::{Component, Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::http::HttpOrigin;
use crate::s3::{S3Origin, S3Settings};

/// What the cache knows of an object version: what identifies it, and what an HTTP response
/// for it carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectMeta {
    pub size: u64,
    /// Changes whenever the content may have changed (an ETag, or mtime and size).
    pub version: String,
    /// The origin's `Cache-Control` header, if it sent one (S3 objects can carry one).
    pub cache_control: Option<String>,
    /// The origin's `Content-Type`, or one guessed from the name (local directories).
    pub content_type: Option<String>,
    /// The origin's `ETag`, quoted as it sent it (`"abc"`, `W/"abc"`); a weak one made of
    /// size and mtime for local files.
    pub etag: Option<String>,
    /// The origin's `Last-Modified` (second precision, as HTTP dates have), or the file's mtime.
    pub last_modified: Option<SystemTime>,
    /// The origin's `Expires` header, as sent (an invalid date means "already expired").
    pub expires: Option<String>,
}

/// The longest header value an origin's metadata keeps (`Cache-Control`, `Content-Type`,
/// `ETag`, `Expires`): longer ones are cut or refused, never stored whole.
pub(crate) const MAX_HEADER_VALUE: usize = 2048;

/// Why an origin could not deliver. The `Display` text reaches players (in
/// `NetStream.Play.Failed`), so it names the origin and says what went wrong.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum OriginError {
    #[error("not found")]
    NotFound,
    #[error("access denied by the origin")]
    AccessDenied,
    #[error("object changed at the origin while it was being read")]
    Changed,
    /// Timeouts, connection failures, 5xx: the text says which, e.g.
    /// `origin s3://media: timed out (3 attempts)`.
    #[error("{0}")]
    Failed(String),
    /// A web server origin answered with an error status other than 403 and 404 (a 500, a
    /// 503, a 400): web viewers get that status, and its `Cache-Control` says how long a web
    /// distribution may cache the error. `text` names the origin and the status.
    #[error("{text}")]
    Status { status: u16, cache_control: Option<String>, text: String },
}

impl OriginError {
    /// Whether the origin failed on its side (a 5xx, a timeout, no connection), rather than
    /// answering about the object: what an expired copy is served through.
    pub fn is_server_failure(&self) -> bool {
        match self {
            OriginError::Failed(_) => true,
            OriginError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

/// An `--origin` value that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct OriginSpecError(pub String);

/// An origin. An enum rather than a trait object: there are few kinds and the hot path
/// stays free of boxed futures.
#[derive(Debug)]
pub enum Origin {
    Local(LocalOrigin),
    S3(S3Origin),
    /// A custom origin: any web server (a distribution's `CustomOriginConfig`).
    Http(HttpOrigin),
}

impl Origin {
    /// Parses an `--origin` value: `s3://bucket[/prefix]` (credentials, region and
    /// endpoint from the standard AWS environment variables, overridden by `settings`
    /// where it sets them) or a local directory (which must exist).
    pub fn from_spec_with(spec: &str, settings: &S3Settings) -> Result<Origin, OriginSpecError> {
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(OriginSpecError(format!("{spec}: no bucket name")));
            }
            return S3Origin::from_env_and(bucket, prefix, settings).map(Origin::S3);
        }
        if spec.contains("://") {
            return Err(OriginSpecError(format!(
                "{spec}: only local directories and s3://bucket[/prefix] are supported"
            )));
        }
        let path = PathBuf::from(spec);
        if !path.is_dir() {
            return Err(OriginSpecError(format!("{spec}: not a directory")));
        }
        Ok(Origin::Local(LocalOrigin::new(path)))
    }

    /// [`Origin::from_spec_with`] with default [`S3Settings`] (everything from the environment).
    pub fn from_spec(spec: &str) -> Result<Origin, OriginSpecError> {
        Self::from_spec_with(spec, &S3Settings::default())
    }

    /// A human-readable name for logs (`/srv/media`, `s3://bucket/prefix`).
    pub fn describe(&self) -> String {
        match self {
            Origin::Local(local) => local.root.display().to_string(),
            Origin::S3(s3) => s3.describe(),
            Origin::Http(http) => http.describe(),
        }
    }

    /// Whether checking the origin is cheap enough to do on every open (a local `stat`):
    /// such origins are revalidated on each open instead of being trusted for a TTL.
    pub(crate) fn revalidates_always(&self) -> bool {
        matches!(self, Origin::Local(_))
    }

    /// The origin's identity in cache keys and disk records: two origins never share
    /// cached bytes, and a cache directory reused with another origin serves none of the
    /// first one's (`s3:ENDPOINT/BUCKET/PREFIX`, `local:/canonical/dir`,
    /// `http:HOST:PORT/PREFIX`).
    pub fn namespace(&self) -> String {
        match self {
            Origin::Local(local) => format!("local:{}", local.canonical.display()),
            Origin::S3(s3) => s3.namespace(),
            Origin::Http(http) => http.namespace(),
        }
    }

    /// Whether one request can tell which of several keys exist (an S3 LIST).
    pub(crate) fn can_list(&self) -> bool {
        matches!(self, Origin::S3(_))
    }

    pub async fn head(&self, key: &str) -> Result<ObjectMeta, OriginError> {
        match self {
            Origin::Local(local) => local.head(key).await,
            Origin::S3(s3) => s3.head(key).await,
            Origin::Http(http) => http.head(key).await,
        }
    }

    /// The first look at an object not known yet: what a HEAD tells, and, from a remote
    /// origin, its first `len` bytes with it (see `S3Origin::first_look`). A missing object
    /// costs a remote origin at most two requests.
    pub(crate) async fn first_look(&self, key: &str, len: u64) -> Result<(ObjectMeta, Option<Bytes>), OriginError> {
        match self {
            Origin::Local(local) => local.head(key).await.map(|meta| (meta, None)),
            Origin::S3(s3) => s3.first_look(key, len).await,
            Origin::Http(http) => http.first_look(key, len).await,
        }
    }

    /// Which of `keys` exist, by one listing; `None` when the origin cannot tell in one
    /// request (it cannot list, or the listing was too long).
    pub(crate) async fn list_existing(&self, keys: &[&str]) -> Result<Option<Vec<bool>>, OriginError> {
        match self {
            Origin::Local(_) | Origin::Http(_) => Ok(None),
            Origin::S3(s3) => s3.list_existing(keys).await,
        }
    }

    /// Streams bytes `[start, end)` of version `meta` of `key` into `sink` as they arrive.
    /// A version mismatch is reported as [`OriginError::Changed`].
    pub(crate) async fn fetch_range<F: FnMut(Bytes) + Send>(
        &self,
        key: &str,
        meta: &ObjectMeta,
        start: u64,
        end: u64,
        sink: F,
    ) -> Result<(), OriginError> {
        match self {
            Origin::Local(local) => local.fetch_range(key, meta, start, end, sink).await,
            Origin::S3(s3) => s3.fetch_range(key, meta, start, end, sink).await,
            Origin::Http(http) => http.fetch_range(key, meta, start, end, sink).await,
        }
    }

    /// Whether the origin answers ranged GETs with whole objects: its objects are then read
    /// whole, once, into every block (see `EdgeCache`).
    pub(crate) fn ignores_range(&self) -> bool {
        matches!(self, Origin::Http(http) if http.ignores_range())
    }

    /// Streams all of version `meta` of `key` into `sink`, for an origin that
    /// [ignores ranges](Origin::ignores_range). Bounded by the origin's own read timeout per
    /// packet, not by one timeout for the whole object.
    pub(crate) async fn fetch_whole<F: FnMut(Bytes) + Send>(
        &self,
        key: &str,
        meta: &ObjectMeta,
        sink: F,
    ) -> Result<(), OriginError> {
        match self {
            Origin::Http(http) => http.fetch_whole(key, meta, sink).await,
            other => other.fetch_range(key, meta, 0, meta.size, sink).await,
        }
    }
}

/// Whether `key` is a plain relative path (no `..`, no absolute path, no backslashes).
/// Keys are checked by the name resolver too; this is the last line of defence.
pub(crate) fn safe_key(key: &str) -> bool {
    !key.is_empty()
        && !key.contains('\\')
        && !key.contains('\0')
        && Path::new(key).components().all(|c| matches!(c, Component::Normal(_)))
        && !key.ends_with('/')
        && !key.contains("//")
}

/// A directory of media files; keys are `/`-separated paths below it.
#[derive(Debug)]
pub struct LocalOrigin {
    root: PathBuf,
    /// The root's canonical path where it has one (so the same directory named two ways is
    /// one origin in the cache).
    canonical: PathBuf,
}

impl LocalOrigin {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let canonical = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
        LocalOrigin { root, canonical }
    }

    /// The file for `key`, refusing anything that could leave the root.
    fn path(&self, key: &str) -> Result<PathBuf, OriginError> {
        if !safe_key(key) {
            return Err(OriginError::NotFound);
        }
        Ok(self.root.join(key))
    }

    async fn head(&self, key: &str) -> Result<ObjectMeta, OriginError> {
        let path = self.path(key)?;
        let metadata = tokio::fs::metadata(&path).await.map_err(io_error)?;
        if !metadata.is_file() {
            return Err(OriginError::NotFound);
        }
        Ok(local_meta(&path, &metadata))
    }

    async fn fetch_range<F: FnMut(Bytes)>(
        &self,
        key: &str,
        meta: &ObjectMeta,
        start: u64,
        end: u64,
        mut sink: F,
    ) -> Result<(), OriginError> {
        const CHUNK: u64 = 64 * 1024;
        let path = self.path(key)?;
        let mut file = tokio::fs::File::open(&path).await.map_err(io_error)?;
        // A file replaced since the version was taken must not mix into cached blocks.
        if local_meta(&path, &file.metadata().await.map_err(io_error)?) != *meta {
            return Err(OriginError::Changed);
        }
        let end = end.min(meta.size);
        if start >= end {
            return Ok(());
        }
        file.seek(SeekFrom::Start(start)).await.map_err(io_error)?;
        let mut at = start;
        while at < end {
            let len = (end - at).min(CHUNK) as usize;
            let mut buf = BytesMut::zeroed(len);
            file.read_exact(&mut buf).await.map_err(|_| OriginError::Changed)?;
            at += len as u64;
            sink(buf.freeze());
        }
        Ok(())
    }
}

fn local_meta(path: &Path, metadata: &std::fs::Metadata) -> ObjectMeta {
    let mtime = metadata.modified().ok();
    let modified = mtime.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
    let version = format!("{modified:x}-{:x}", metadata.len());
    ObjectMeta {
        size: metadata.len(),
        // Weak: a file rewritten within one mtime tick with the same size keeps it.
        etag: Some(format!("W/\"{version}\"")),
        version,
        cache_control: None,
        content_type: Some(crate::content_type::for_name(&path.to_string_lossy()).to_owned()),
        last_modified: mtime.map(whole_seconds),
        expires: None,
    }
}

fn io_error(error: std::io::Error) -> OriginError {
    match error.kind() {
        std::io::ErrorKind::NotFound => OriginError::NotFound,
        std::io::ErrorKind::PermissionDenied => OriginError::AccessDenied,
        // A path through a regular file ("a.mp4/x") is simply not there.
        std::io::ErrorKind::NotADirectory => OriginError::NotFound,
        _ => OriginError::Failed(format!("origin: {error}")),
    }
}

/// `time` without its fraction of a second: what an HTTP date can say, so that a
/// `Last-Modified` sent and an `If-Modified-Since` received back compare equal.
pub(crate) fn whole_seconds(time: SystemTime) -> SystemTime {
    let seconds = time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    UNIX_EPOCH + std::time::Duration::from_secs(seconds)
}
