//! The media library: opening objects through the edge cache and keeping their parsed
//! indexes, built once per object version and shared by every viewer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sf_cache::{EdgeCache, ObjectHandle, OriginError};
use sf_media::{Format, MediaError, MediaIndex, SourceError};
use tokio::sync::OnceCell;

/// How many parsed indexes to keep (a two-hour movie's index is a few MB).
const MAX_INDEXES: usize = 256;

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

type IndexKey = (String, String);
type IndexCell = Arc<OnceCell<Arc<MediaIndex>>>;

#[derive(Debug, Default)]
struct Indexes {
    cells: HashMap<IndexKey, (IndexCell, u64)>,
    tick: u64,
}

/// Objects and their indexes.
#[derive(Debug)]
pub struct Library {
    cache: Arc<EdgeCache>,
    indexes: Mutex<Indexes>,
}

impl Library {
    pub fn new(cache: Arc<EdgeCache>) -> Self {
        Library { cache, indexes: Mutex::new(Indexes::default()) }
    }

    pub fn cache(&self) -> &Arc<EdgeCache> {
        &self.cache
    }

    /// Opens the first candidate key that exists.
    pub async fn open_first(&self, candidates: &[(String, Format)]) -> Result<OpenMedia, OpenError> {
        for (key, format) in candidates {
            match self.open(key, *format).await {
                Err(OpenError::NotFound) => continue,
                other => return other,
            }
        }
        Err(OpenError::NotFound)
    }

    /// Opens `key` as `format`: the object's current version and its (shared) index.
    pub async fn open(&self, key: &str, format: Format) -> Result<OpenMedia, OpenError> {
        let object = self.cache.open(key).await.map_err(|e| match e {
            OriginError::NotFound => OpenError::NotFound,
            other => OpenError::Origin(other),
        })?;
        let cell = self.index_cell((key.to_owned(), object.meta().version.clone()));
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
        Ok(OpenMedia { key: key.to_owned(), object, index })
    }

    fn index_cell(&self, key: IndexKey) -> IndexCell {
        let mut indexes = self.indexes.lock().expect("library lock");
        indexes.tick += 1;
        let tick = indexes.tick;
        if indexes.cells.len() >= MAX_INDEXES && !indexes.cells.contains_key(&key) {
            let oldest = indexes.cells.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                indexes.cells.remove(&oldest);
            }
        }
        let entry = indexes.cells.entry(key).or_insert_with(|| (Arc::new(OnceCell::new()), tick));
        entry.1 = tick;
        Arc::clone(&entry.0)
    }
}
