//! Object handles: one version of one object, readable through the cache, as a
//! [`ByteSource`] for the media readers.
//!
//! A player reads tag after tag from the same block, so a handle keeps the block it read
//! last (a reference to the memory tier's copy, not a copy): a read within that block costs
//! no lock on the shared tier, no hashing and no popularity update. The tier is told of the
//! use once per block per handle, and read-ahead is considered once per block.

use std::fmt;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use sf_media::{ByteSource, SourceError};

use crate::block_cache::{BlockKey, Version};
use crate::fill::clip;
use crate::origin::{ObjectMeta, OriginError};
use crate::origin_cache::OriginCache;
use crate::stats::CacheStats;

/// The block a handle read last. It keeps that block alive even if the memory tier evicts
/// it, so memory can exceed the tier's budget by at most one block per open handle.
#[derive(Debug, Default)]
struct Memo {
    block: Option<(u64, Bytes)>,
    /// Whether this handle already considered reading ahead of the memo's block.
    read_ahead_done: bool,
}

/// One version of one object, readable through the cache. Each [`OriginCache::open`] gives
/// a handle with its own reader identity (popularity counts distinct readers); clones share
/// it.
pub struct ObjectHandle {
    origin: Arc<OriginCache>,
    version: Arc<Version>,
    reader: u64,
    memo: Mutex<Memo>,
}

impl Clone for ObjectHandle {
    fn clone(&self) -> Self {
        ObjectHandle::new(Arc::clone(&self.origin), Arc::clone(&self.version), self.reader)
    }
}

impl fmt::Debug for ObjectHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectHandle")
            .field("key", &self.key())
            .field("meta", self.meta())
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl ObjectHandle {
    pub(crate) fn new(origin: Arc<OriginCache>, version: Arc<Version>, reader: u64) -> Self {
        ObjectHandle { origin, version, reader, memo: Mutex::default() }
    }

    pub fn key(&self) -> &str {
        &self.version.id.key
    }

    pub fn meta(&self) -> &ObjectMeta {
        &self.version.meta
    }

    /// The cache's block size: reads within one block are served from one cached block.
    pub fn block_size(&self) -> u64 {
        self.origin.store().config().block_size
    }

    /// `[offset, offset + len)` clipped to the object.
    fn clip(&self, offset: u64, len: u64) -> (u64, u64) {
        let size = self.version.meta.size;
        (offset.min(size), offset.saturating_add(len).min(size))
    }

    /// Bytes `[offset, offset + len)` clipped to the object.
    pub async fn read_range(&self, offset: u64, len: u64) -> Result<Bytes, OriginError> {
        let (start, end) = self.clip(offset, len);
        if start >= end {
            return Ok(Bytes::new());
        }
        if let Some(bytes) = self.read_in_memory(start, end) {
            return Ok(bytes);
        }
        self.read_through(start, end).await
    }

    /// Bytes `[start, end)` if they lie in one block held in memory (the memo, else the
    /// memory tier, which then becomes the memo).
    fn read_in_memory(&self, start: u64, end: u64) -> Option<Bytes> {
        let block_size = self.block_size();
        let index = start / block_size;
        if (end - 1) / block_size != index {
            return None;
        }
        let base = index * block_size;
        let mut memo = self.memo.lock().expect("memo lock");
        let out = match &memo.block {
            Some((at, block)) if *at == index => clip(block, start - base, end - base),
            _ => {
                let key = BlockKey { object: Arc::clone(&self.version.id), index };
                let block = self.origin.store().ready_block(&key, self.reader)?;
                let out = clip(&block, start - base, end - base);
                *memo = Memo { block: Some((index, block)), read_ahead_done: false };
                out
            }
        };
        if out.len() as u64 != end - start {
            // A short block: let the full path report it.
            return None;
        }
        let read_ahead = !memo.read_ahead_done && self.past_middle(index, end);
        if read_ahead {
            memo.read_ahead_done = true;
        }
        drop(memo);
        if read_ahead {
            self.read_ahead(index);
        }
        CacheStats::add(&self.origin.store().stats().memory_hit_bytes, out.len() as u64);
        Some(out)
    }

    /// Bytes `[start, end)` block by block, waiting for fills.
    async fn read_through(&self, start: u64, end: u64) -> Result<Bytes, OriginError> {
        let store = self.origin.store();
        let block_size = self.block_size();
        let first = start / block_size;
        let last = (end - 1) / block_size;
        let read = |index: u64, from: u64, to: u64| {
            store.read_block(&self.origin, &self.version, index, (from, to), self.reader)
        };
        let result = if first == last {
            let base = first * block_size;
            read(first, start - base, end - base).await?
        } else {
            let mut out = BytesMut::with_capacity((end - start) as usize);
            for index in first..=last {
                let base = index * block_size;
                let from = start.saturating_sub(base);
                let to = (end - base).min(block_size);
                out.extend_from_slice(&read(index, from, to).await?);
            }
            out.freeze()
        };
        if result.len() as u64 != end - start {
            return Err(OriginError::Changed);
        }
        if self.past_middle(last, end) {
            self.read_ahead(last);
        }
        Ok(result)
    }

    /// Whether a read ending at `end` is past the middle of block `index`: time to fetch
    /// the next blocks.
    fn past_middle(&self, index: u64, end: u64) -> bool {
        let block_size = self.block_size();
        let base = index * block_size;
        (end - base) * 2 >= block_size.min(self.version.meta.size - base)
    }

    fn read_ahead(&self, index: u64) {
        let store = self.origin.store();
        let ahead = store.config().read_ahead_blocks.min(2);
        for next in index + 1..=index + ahead {
            store.prefetch(&self.origin, &self.version, next, self.reader);
        }
    }
}

fn source_error(error: OriginError) -> SourceError {
    match error {
        OriginError::NotFound => SourceError::NotFound,
        other => SourceError::Failed(other.to_string()),
    }
}

impl ByteSource for ObjectHandle {
    fn size(&self) -> u64 {
        self.version.meta.size
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Bytes, SourceError> {
        self.read_range(offset, len).await.map_err(source_error)
    }

    /// The bytes if they are in memory (within one block), without waiting.
    fn read_now(&self, offset: u64, len: u64) -> Option<Result<Bytes, SourceError>> {
        let (start, end) = self.clip(offset, len);
        if start >= end {
            return Some(Ok(Bytes::new()));
        }
        self.read_in_memory(start, end).map(Ok)
    }
}
