//! The media library: opening objects through the edge cache and keeping their parsed
//! indexes, and their HLS layouts, built once per object version and shared by every viewer.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use sf_cache::{EdgeCache, ObjectHandle, OriginCache, OriginError};
use sf_hls::{HlsError, Package};
use sf_media::{Format, MediaError, MediaIndex, SourceError};
use tokio::sync::OnceCell;

/// How many parsed indexes to keep (a two-hour movie's index is a few MB).
const MAX_INDEXES: usize = 256;
/// How many HLS layouts to keep: each holds its object's frame table (about 32 bytes a frame,
/// some 16 MB for a two-hour movie), so fewer than indexes.
const MAX_PACKAGES: usize = 32;

/// An object ready to play.
#[derive(Debug, Clone)]
pub struct OpenMedia {
    pub key: String,
    pub object: ObjectHandle,
    pub index: Arc<MediaIndex>,
}

/// Why an object could not be opened; mapped to the status a player understands.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("not found")]
    NotFound,
    /// The origin's message names the origin already ("origin s3://bucket: timed out …").
    #[error("{0}")]
    Origin(OriginError),
    #[error("{0}")]
    Media(MediaError),
}

impl OpenError {
    /// The NetStream status code for this failure.
    pub fn status_code(&self) -> &'static str {
        match self {
            OpenError::NotFound => "NetStream.Play.StreamNotFound",
            _ => "NetStream.Play.Failed",
        }
    }
}

/// An object version: its key and its version.
type VersionKey = (String, String);
type Cell<T> = Arc<OnceCell<Arc<T>>>;

/// Values built once per object version (parsed indexes, HLS layouts), at most `capacity` of
/// them, least recently used first out.
#[derive(Debug)]
struct Cells<T> {
    cells: HashMap<VersionKey, (Cell<T>, u64)>,
    /// The same entries by last use, for O(log n) eviction.
    by_use: BTreeMap<u64, VersionKey>,
    tick: u64,
    capacity: usize,
}

impl<T> Cells<T> {
    fn new(capacity: usize) -> Self {
        Cells { cells: HashMap::new(), by_use: BTreeMap::new(), tick: 0, capacity }
    }

    /// The cell for `key` (a new one if none), marked as just used.
    fn cell(&mut self, key: VersionKey) -> Cell<T> {
        self.tick += 1;
        let tick = self.tick;
        if let Some((cell, used)) = self.cells.get_mut(&key) {
            self.by_use.remove(used);
            *used = tick;
            let cell = Arc::clone(cell);
            self.by_use.insert(tick, key);
            return cell;
        }
        if self.cells.len() >= self.capacity
            && let Some((_, oldest)) = self.by_use.pop_first()
        {
            self.cells.remove(&oldest);
        }
        let cell = Cell::<T>::default();
        self.cells.insert(key.clone(), (Arc::clone(&cell), tick));
        self.by_use.insert(tick, key);
        cell
    }
}

/// Objects of one origin and their indexes.
#[derive(Debug)]
pub struct Library {
    origin: Arc<OriginCache>,
    indexes: Mutex<Cells<MediaIndex>>,
    packages: Mutex<Cells<Package>>,
}

impl Library {
    pub fn new(origin: Arc<OriginCache>) -> Self {
        Library { origin, indexes: Mutex::new(Cells::new(MAX_INDEXES)), packages: Mutex::new(Cells::new(MAX_PACKAGES)) }
    }

    /// The shared cache (tiers and counters).
    pub fn cache(&self) -> &Arc<EdgeCache> {
        self.origin.store()
    }

    /// The origin this library reads.
    pub fn origin_cache(&self) -> &Arc<OriginCache> {
        &self.origin
    }

    /// Opens the first candidate key that exists. Unknown candidates are resolved together
    /// (one origin request for all of them where the origin can list), and names the origin
    /// recently did not have are answered from the cache.
    pub async fn open_first(&self, candidates: &[(String, Format)]) -> Result<OpenMedia, OpenError> {
        let keys: Vec<&str> = candidates.iter().map(|(key, _)| key.as_str()).collect();
        let (at, object) = self.origin.open_first(&keys).await.map_err(origin_error)?;
        self.with_index(object, candidates[at].1).await
    }

    /// The object's current version with its (shared) index.
    async fn with_index(&self, object: ObjectHandle, format: Format) -> Result<OpenMedia, OpenError> {
        let key = object.key().to_owned();
        let cell = self.indexes.lock().expect("library lock").cell((key.clone(), object.meta().version.clone()));
        // Only one viewer parses; the others wait for its result. Failures are not kept, so
        // a later play tries again.
        let index = cell
            .get_or_try_init(|| async { MediaIndex::open(&object, format).await.map(Arc::new) })
            .await
            .map_err(|e| match e {
                MediaError::Source(SourceError::NotFound) => OpenError::NotFound,
                other => OpenError::Media(other),
            })?
            .clone();
        Ok(OpenMedia { key, object, index })
    }

    /// The HLS layout of `media` in segments of about `segment_ms`, built by the first request
    /// for this object version and shared by the others (`segment_ms` is one setting of the
    /// whole server, so it is not part of the key). Failures are not kept.
    pub async fn package(&self, media: &OpenMedia, segment_ms: u32) -> Result<Arc<Package>, HlsError> {
        let version = (media.key.clone(), media.object.meta().version.clone());
        let cell = self.packages.lock().expect("library lock").cell(version);
        let package = cell
            .get_or_try_init(|| async { Package::open(&media.index, &media.object, segment_ms).await.map(Arc::new) })
            .await?;
        Ok(Arc::clone(package))
    }
}

fn origin_error(error: OriginError) -> OpenError {
    match error {
        OriginError::NotFound => OpenError::NotFound,
        other => OpenError::Origin(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_evict_the_least_recently_used() {
        let mut indexes = Cells::<MediaIndex>::new(MAX_INDEXES);
        let key = |i: usize| (format!("{i}.flv"), "v".to_owned());
        let first = indexes.cell(key(0));
        for i in 1..MAX_INDEXES {
            indexes.cell(key(i));
        }
        // Using 0 again makes 1 the least recently used.
        assert!(Arc::ptr_eq(&first, &indexes.cell(key(0))));
        indexes.cell(key(MAX_INDEXES));
        assert_eq!(indexes.cells.len(), MAX_INDEXES);
        assert_eq!(indexes.by_use.len(), MAX_INDEXES);
        assert!(indexes.cells.contains_key(&key(0)) && !indexes.cells.contains_key(&key(1)));
    }
}
