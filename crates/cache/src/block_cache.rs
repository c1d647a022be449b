//! The block cache: memory tier, single-flight fills, LRU eviction, read-ahead.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use sf_media::{ByteSource, SourceError};
use tokio::sync::OnceCell;

use crate::origin::{ObjectMeta, Origin, OriginError};

/// Sizes of the cache.
#[derive(Debug, Clone, Copy)]
pub struct CacheConfig {
    /// Bytes per block (each origin fetch is one block).
    pub block_size: u64,
    /// Bytes of filled blocks the memory tier keeps.
    pub memory_bytes: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig { block_size: 1 << 20, memory_bytes: 512 << 20 }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct BlockKey {
    key: Arc<str>,
    version: Arc<str>,
    index: u64,
}

#[derive(Debug)]
struct Slot {
    cell: Arc<OnceCell<Bytes>>,
    /// Tick of the last access, for LRU eviction.
    last_used: u64,
    /// Bytes counted against the memory budget (0 until filled).
    charged: u64,
}

#[derive(Debug, Default)]
struct Blocks {
    slots: HashMap<BlockKey, Slot>,
    used: u64,
    tick: u64,
}

/// The edge cache in front of one origin.
#[derive(Debug)]
pub struct EdgeCache {
    origin: Origin,
    config: CacheConfig,
    blocks: Mutex<Blocks>,
    stats: CacheStats,
}

/// Counters for metrics and tests.
#[derive(Debug, Default)]
pub struct CacheStats {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub origin_fetches: AtomicU64,
    pub origin_bytes: AtomicU64,
}

impl EdgeCache {
    pub fn new(origin: Origin, config: CacheConfig) -> Arc<Self> {
        assert!(config.block_size > 0, "block size must be positive");
        Arc::new(EdgeCache { origin, config, blocks: Mutex::new(Blocks::default()), stats: CacheStats::default() })
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Bytes held in the memory tier now.
    pub fn memory_used(&self) -> u64 {
        self.blocks.lock().expect("cache lock").used
    }

    /// Looks up the current version of `key` and returns a handle to read it.
    pub async fn open(self: &Arc<Self>, key: &str) -> Result<ObjectHandle, OriginError> {
        let meta = self.origin.head(key).await?;
        Ok(ObjectHandle {
            cache: Arc::clone(self),
            key: key.into(),
            version: meta.version.as_str().into(),
            meta,
        })
    }

    /// The cell of a block, created if absent, marked as just used.
    fn slot(&self, key: &BlockKey) -> (Arc<OnceCell<Bytes>>, bool) {
        let mut blocks = self.blocks.lock().expect("cache lock");
        blocks.tick += 1;
        let tick = blocks.tick;
        let slot = blocks.slots.entry(key.clone()).or_insert_with(|| Slot {
            cell: Arc::new(OnceCell::new()),
            last_used: tick,
            charged: 0,
        });
        slot.last_used = tick;
        (Arc::clone(&slot.cell), slot.cell.initialized())
    }

    /// Charges a freshly filled block and evicts least recently used filled blocks until
    /// the memory tier is within budget.
    fn charge(&self, key: &BlockKey, len: u64) {
        let mut blocks = self.blocks.lock().expect("cache lock");
        let Some(slot) = blocks.slots.get_mut(key) else { return };
        if slot.charged != 0 {
            return;
        }
        slot.charged = len.max(1);
        blocks.used += len.max(1);
        while blocks.used > self.config.memory_bytes {
            let victim = blocks
                .slots
                .iter()
                .filter(|(k, s)| s.charged > 0 && *k != key)
                .min_by_key(|(_, s)| s.last_used)
                .map(|(k, _)| k.clone());
            let Some(victim) = victim else { break };
            if let Some(slot) = blocks.slots.remove(&victim) {
                blocks.used -= slot.charged;
            }
        }
    }

    /// Block `index` of an object version, from memory or the origin.
    async fn block(&self, key: &BlockKey, meta: &ObjectMeta) -> Result<Bytes, OriginError> {
        let (cell, filled) = self.slot(key);
        if filled {
            self.stats.hits.fetch_add(1, Ordering::Relaxed);
        }
        let start = key.index * self.config.block_size;
        let end = start.saturating_add(self.config.block_size);
        let mut fetched = false;
        let bytes = cell
            .get_or_try_init(|| async {
                fetched = true;
                self.stats.misses.fetch_add(1, Ordering::Relaxed);
                self.stats.origin_fetches.fetch_add(1, Ordering::Relaxed);
                let bytes = self.origin.get_range(&key.key, meta, start, end).await?;
                self.stats.origin_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                Ok::<_, OriginError>(bytes)
            })
            .await?
            .clone();
        if fetched {
            self.charge(key, bytes.len() as u64);
        }
        Ok(bytes)
    }
}

/// One version of one object, readable through the cache.
#[derive(Debug, Clone)]
pub struct ObjectHandle {
    cache: Arc<EdgeCache>,
    key: Arc<str>,
    version: Arc<str>,
    meta: ObjectMeta,
}

impl ObjectHandle {
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    fn block_key(&self, index: u64) -> BlockKey {
        BlockKey { key: Arc::clone(&self.key), version: Arc::clone(&self.version), index }
    }

    /// Starts filling block `index` in the background if it is not cached (read-ahead for
    /// sequential playback).
    fn read_ahead(&self, index: u64) {
        if index * self.cache.config.block_size >= self.meta.size {
            return;
        }
        let key = self.block_key(index);
        let (_, filled) = self.cache.slot(&key);
        if filled {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let _ = this.cache.block(&key, &this.meta).await;
        });
    }

    /// Bytes `[offset, offset + len)` clipped to the object.
    pub async fn read_range(&self, offset: u64, len: u64) -> Result<Bytes, OriginError> {
        let size = self.meta.size;
        let start = offset.min(size);
        let end = offset.saturating_add(len).min(size);
        if start >= end {
            return Ok(Bytes::new());
        }
        let block_size = self.cache.config.block_size;
        let first = start / block_size;
        let last = (end - 1) / block_size;
        if first == last {
            let block = self.cache.block(&self.block_key(first), &self.meta).await?;
            self.read_ahead(first + 1);
            let from = (start - first * block_size) as usize;
            let to = (end - first * block_size) as usize;
            return block.get(from..to).map(|b| block.slice_ref(b)).ok_or(OriginError::Changed);
        }
        let mut out = BytesMut::with_capacity((end - start) as usize);
        for index in first..=last {
            let block = self.cache.block(&self.block_key(index), &self.meta).await?;
            let block_start = index * block_size;
            let from = start.saturating_sub(block_start) as usize;
            let to = ((end - block_start) as usize).min(block.len());
            let part = block.get(from..to).ok_or(OriginError::Changed)?;
            out.extend_from_slice(part);
        }
        self.read_ahead(last + 1);
        Ok(out.freeze())
    }
}

impl ByteSource for ObjectHandle {
    fn size(&self) -> u64 {
        self.meta.size
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Bytes, SourceError> {
        self.read_range(offset, len).await.map_err(|e| match e {
            OriginError::NotFound => SourceError::NotFound,
            other => SourceError::Failed(other.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::LocalOrigin;

    fn cache_with_file(content: &[u8], config: CacheConfig) -> (tempfile::TempDir, Arc<EdgeCache>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.bin"), content).unwrap();
        let cache = EdgeCache::new(Origin::Local(LocalOrigin::new(dir.path())), config);
        (dir, cache)
    }

    #[tokio::test]
    async fn reads_any_range_across_blocks() {
        let content: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let (_dir, cache) = cache_with_file(&content, CacheConfig { block_size: 1000, memory_bytes: 1 << 20 });
        let object = cache.open("sub/a.bin").await.unwrap();
        for (offset, len) in [(0, 10), (995, 10), (0, 10_000), (2500, 3000), (9_990, 100), (10_000, 5), (20_000, 1)] {
            let got = object.read_range(offset, len).await.unwrap();
            let start = (offset as usize).min(content.len());
            let end = (offset + len).min(content.len() as u64) as usize;
            assert_eq!(&got[..], &content[start..end], "range {offset}+{len}");
        }
    }

    #[tokio::test]
    async fn one_origin_fetch_per_block_and_memory_bounded() {
        let content = vec![7u8; 64 * 1000];
        let (_dir, cache) = cache_with_file(&content, CacheConfig { block_size: 1000, memory_bytes: 8000 });
        let object = cache.open("sub/a.bin").await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let object = object.clone();
            tasks.push(tokio::spawn(async move { object.read_range(0, 500).await.unwrap() }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // Block 0 once, and at most the read-ahead of block 1.
        assert!(cache.stats().origin_fetches.load(Ordering::Relaxed) <= 2);
        for i in 0..64 {
            object.read_range(i * 1000, 1000).await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(cache.memory_used() <= 8000, "memory used {}", cache.memory_used());
    }

    #[tokio::test]
    async fn refuses_keys_that_leave_the_root() {
        let (_dir, cache) = cache_with_file(b"x", CacheConfig::default());
        for key in ["../etc/passwd", "/etc/passwd", "sub/../sub/a.bin", "sub\\a.bin", "", "sub"] {
            assert!(matches!(cache.open(key).await, Err(OriginError::NotFound)), "{key}");
        }
    }
}
