//! The shared store: one memory tier, one disk tier and one set of counters for every
//! origin, within one budget. Blocks are filled once (single-flight) in a task of their own
//! and streamed to their readers as they arrive; read-ahead starts the next ones early.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;

use crate::disk::{DiskConfig, DiskTier};
use crate::fill::{Fill, clip};
use crate::freshness::Freshness;
use crate::origin::{ObjectMeta, Origin, OriginError};
use crate::origin_cache::OriginCache;
use crate::slru::Slru;
use crate::stats::CacheStats;

/// Sizes and policies of the cache.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Bytes per block (each origin fetch is one ranged read of one block).
    pub block_size: u64,
    /// Bytes of filled blocks the memory tier keeps, for all origins together.
    pub memory_bytes: u64,
    /// The disk tier; `None` keeps blocks in memory only.
    pub disk: Option<DiskConfig>,
    pub freshness: Freshness,
    /// Blocks fetched ahead of a reader (0 to 2).
    pub read_ahead_blocks: u64,
    /// Bound on one origin request as the cache sees it (HEAD, LIST or one block), retries
    /// included. The origin client's own timeouts normally end it sooner.
    pub origin_timeout: Duration,
    /// Object versions each origin remembers in memory (their freshness); more are
    /// forgotten. Names known to be missing are bounded by the same number, and at most
    /// 10 000.
    pub max_objects: usize,
    /// How long a name the origin does not have is answered "not found" without asking it
    /// again (remote origins only: a local directory is looked at on every open).
    pub negative_ttl: Duration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            block_size: 1 << 20,
            memory_bytes: 512 << 20,
            disk: None,
            freshness: Freshness::default(),
            read_ahead_blocks: 1,
            origin_timeout: Duration::from_secs(15),
            max_objects: 100_000,
            negative_ttl: Duration::from_secs(10),
        }
    }
}

/// Why the cache could not start.
#[derive(Debug, thiserror::Error)]
#[error("cache directory {dir}: {source}")]
pub struct CacheOpenError {
    pub dir: String,
    #[source]
    pub source: std::io::Error,
}

/// One version of one object of one origin. Block keys and disk records are named by all
/// three parts, so two origins never share bytes and two versions never mix.
#[derive(Debug)]
pub(crate) struct ObjectId {
    /// The origin's identity (see `Origin::namespace`).
    pub(crate) namespace: Arc<str>,
    pub(crate) key: Arc<str>,
    pub(crate) version: Arc<str>,
    /// The three parts hashed once, so that looking up a block hashes two numbers.
    hash: u64,
}

impl ObjectId {
    pub(crate) fn new(namespace: Arc<str>, key: &str, version: &str) -> Self {
        let mut hasher = std::hash::DefaultHasher::new();
        (&*namespace, key, version).hash(&mut hasher);
        ObjectId { namespace, key: key.into(), version: version.into(), hash: hasher.finish() }
    }
}

impl PartialEq for ObjectId {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
            && self.version == other.version
            && self.key == other.key
            && self.namespace == other.namespace
    }
}

impl Eq for ObjectId {}

/// An object version as an origin's directory knows it.
#[derive(Debug)]
pub(crate) struct Version {
    pub(crate) id: Arc<ObjectId>,
    pub(crate) meta: ObjectMeta,
    /// When the origin last vouched for this version (what `Age` counts from).
    pub(crate) checked: SystemTime,
    /// When it began to be served, expired, because the origin failed (see `Trust::Decided`).
    pub(crate) stale_since: Option<SystemTime>,
}

#[derive(Debug, Clone)]
pub(crate) struct BlockKey {
    pub(crate) object: Arc<ObjectId>,
    pub(crate) index: u64,
}

impl PartialEq for BlockKey {
    fn eq(&self, other: &Self) -> bool {
        self.index == other.index && (Arc::ptr_eq(&self.object, &other.object) || self.object == other.object)
    }
}

impl Eq for BlockKey {}

impl Hash for BlockKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.object.hash);
        state.write_u64(self.index);
    }
}

#[derive(Debug)]
enum Slot {
    Ready(Bytes),
    Filling(Arc<Fill>),
}

#[derive(Debug)]
struct Memory {
    slots: HashMap<BlockKey, Slot>,
    /// Filled blocks only.
    lru: Slru<BlockKey>,
}

/// The edge cache: the tiers and counters every origin shares. Each origin reads through
/// its own [`OriginCache`] (from [`EdgeCache::origin_cache`]).
#[derive(Debug)]
pub struct EdgeCache {
    config: CacheConfig,
    memory: Mutex<Memory>,
    disk: Option<Arc<DiskTier>>,
    stats: Arc<CacheStats>,
    readers: AtomicU64,
}

impl EdgeCache {
    /// A cache with the tiers `config` asks for.
    ///
    /// # Panics
    /// If `config.disk` is set and its directory cannot be opened; use
    /// [`EdgeCache::try_new`] to handle that.
    pub fn new(config: CacheConfig) -> Arc<Self> {
        Self::try_new(config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A cache with the tiers `config` asks for. With a disk tier this creates the
    /// directory and indexes the blocks already there (blocking: call it at startup).
    pub fn try_new(config: CacheConfig) -> Result<Arc<Self>, CacheOpenError> {
        assert!(config.block_size > 0, "block size must be positive");
        let disk = match &config.disk {
            Some(disk) => Some(Arc::new(
                DiskTier::open(disk)
                    .map_err(|source| CacheOpenError { dir: disk.dir.display().to_string(), source })?,
            )),
            None => None,
        };
        let memory = Memory { slots: HashMap::new(), lru: Slru::new(config.memory_bytes) };
        Ok(Arc::new(EdgeCache {
            config,
            memory: Mutex::new(memory),
            disk,
            stats: Arc::default(),
            readers: AtomicU64::new(1),
        }))
    }

    /// The cache as `origin` sees it: its objects, in this cache's tiers and budget. Every
    /// cache of the same origin made here shares its objects.
    pub fn origin_cache(self: &Arc<Self>, origin: Origin) -> Arc<OriginCache> {
        let namespace = origin.namespace();
        OriginCache::new(Arc::clone(self), origin, namespace)
    }

    /// The cache of `origin` for `scope` alone (a web distribution's id): within this cache's
    /// tiers and budget, but sharing no objects, freshness or invalidations with other scopes
    /// or with [`EdgeCache::origin_cache`] of the same origin.
    pub fn origin_cache_in(self: &Arc<Self>, origin: Origin, scope: &str) -> Arc<OriginCache> {
        let namespace = format!("{}#{scope}", origin.namespace());
        OriginCache::new(Arc::clone(self), origin, namespace)
    }

    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    pub fn stats(&self) -> &CacheStats {
        &self.stats
    }

    /// Bytes held in the memory tier now.
    pub fn memory_used(&self) -> u64 {
        self.memory.lock().expect("cache lock").lru.used()
    }

    /// Bytes of block files in the disk tier now (0 without one).
    pub fn disk_used(&self) -> u64 {
        self.disk.as_ref().map_or(0, |d| d.used())
    }

    /// Block files in the disk tier now.
    pub fn disk_blocks(&self) -> usize {
        self.disk.as_ref().map_or(0, |d| d.blocks())
    }

    pub(crate) fn disk(&self) -> Option<&Arc<DiskTier>> {
        self.disk.as_ref()
    }

    /// A new reader identity (popularity counts distinct readers).
    pub(crate) fn next_reader(&self) -> u64 {
        self.readers.fetch_add(1, Ordering::Relaxed)
    }

    /// The block if the memory tier holds it, marked as used by `reader`.
    pub(crate) fn ready_block(&self, key: &BlockKey, reader: u64) -> Option<Bytes> {
        let mut memory = self.memory.lock().expect("cache lock");
        let Some(Slot::Ready(block)) = memory.slots.get(key) else {
            return None;
        };
        let block = block.clone();
        memory.lru.touch(key, reader);
        drop(memory);
        CacheStats::add(&self.stats.hits, 1);
        Some(block)
    }

    /// Bytes `[from, to)` of block `index` of `version`: from memory, or by joining or
    /// starting its fill.
    pub(crate) async fn read_block(
        self: &Arc<Self>,
        origin: &Arc<OriginCache>,
        version: &Arc<Version>,
        index: u64,
        (from, to): (u64, u64),
        reader: u64,
    ) -> Result<Bytes, OriginError> {
        let key = BlockKey { object: Arc::clone(&version.id), index };
        let fill = {
            let mut memory = self.memory.lock().expect("cache lock");
            match memory.slots.get(&key) {
                Some(Slot::Ready(block)) => {
                    let block = block.clone();
                    memory.lru.touch(&key, reader);
                    drop(memory);
                    CacheStats::add(&self.stats.hits, 1);
                    let out = clip(&block, from, to);
                    CacheStats::add(&self.stats.memory_hit_bytes, out.len() as u64);
                    return Ok(out);
                }
                Some(Slot::Filling(fill)) => {
                    CacheStats::add(&self.stats.single_flight_joins, 1);
                    Arc::clone(fill)
                }
                None => self.start_fill(&mut memory, key, origin, version, reader),
            }
        };
        fill.wait(from, to).await
    }

    /// Starts filling block `index` of `version` if it is neither in memory nor being filled.
    pub(crate) fn prefetch(
        self: &Arc<Self>,
        origin: &Arc<OriginCache>,
        version: &Arc<Version>,
        index: u64,
        reader: u64,
    ) {
        if index.saturating_mul(self.config.block_size) >= version.meta.size {
            return;
        }
        let key = BlockKey { object: Arc::clone(&version.id), index };
        let mut memory = self.memory.lock().expect("cache lock");
        if memory.slots.contains_key(&key) {
            return;
        }
        CacheStats::add(&self.stats.read_ahead, 1);
        self.start_fill(&mut memory, key, origin, version, reader);
    }

    /// Starts filling a block (the memory lock held), in a task of its own so that it
    /// completes for the other readers even if the reader that started it goes away.
    fn start_fill(
        self: &Arc<Self>,
        memory: &mut Memory,
        key: BlockKey,
        origin: &Arc<OriginCache>,
        version: &Arc<Version>,
        reader: u64,
    ) -> Arc<Fill> {
        let fill = Arc::new(Fill::new());
        memory.slots.insert(key.clone(), Slot::Filling(Arc::clone(&fill)));
        let this = Arc::clone(self);
        let origin = Arc::clone(origin);
        let meta = version.meta.clone();
        let task_fill = Arc::clone(&fill);
        tokio::spawn(async move { this.run_fill(&origin, key, meta, task_fill, reader).await });
        fill
    }

    async fn run_fill(&self, origin: &OriginCache, key: BlockKey, meta: ObjectMeta, fill: Arc<Fill>, reader: u64) {
        // If this task dies (panic, runtime shutdown), readers are released with an error.
        struct Abandon<'a>(&'a EdgeCache, &'a BlockKey, &'a Arc<Fill>, bool);
        impl Drop for Abandon<'_> {
            fn drop(&mut self) {
                if !self.3 {
                    self.2.finish(Err(OriginError::Failed("cache fill abandoned".into())));
                    self.0.unslot(self.1, self.2);
                }
            }
        }
        let mut guard = Abandon(self, &key, &fill, false);
        let start = key.index * self.config.block_size;
        let end = start.saturating_add(self.config.block_size).min(meta.size);
        if let Some(block) = self.read_disk_block(&key, end.saturating_sub(start), reader).await {
            self.keep(&key, block.clone(), reader);
            fill.finish(Ok(block));
            guard.3 = true;
            return;
        }
        if origin.origin().ignores_range() && meta.size > self.config.block_size {
            self.fill_whole_object(origin, &key, &meta, &fill, reader).await;
            guard.3 = true;
            return;
        }
        let outcome = self.fetch_origin_block(origin, &key, &meta, &fill, (start, end)).await;
        match &outcome {
            Ok(block) => self.keep(&key, block.clone(), reader),
            Err(_) => self.unslot(&key, &fill),
        }
        fill.finish(outcome.clone());
        guard.3 = true;
        drop(guard);
        if let (Ok(block), Some(disk)) = (outcome, &self.disk) {
            disk.write(&key, block, &self.stats).await;
        }
    }

    /// The block from the disk tier, if it holds an intact copy of `len` bytes.
    async fn read_disk_block(&self, key: &BlockKey, len: u64, reader: u64) -> Option<Bytes> {
        let disk = self.disk.as_ref()?;
        match disk.read(key, reader, &self.stats).await {
            Some(block) if block.len() as u64 == len => {
                CacheStats::add(&self.stats.disk_hits, 1);
                CacheStats::add(&self.stats.disk_hit_bytes, block.len() as u64);
                Some(block)
            }
            _ => {
                CacheStats::add(&self.stats.disk_misses, 1);
                None
            }
        }
    }

    /// The block from the origin, streamed into `fill` as it arrives.
    async fn fetch_origin_block(
        &self,
        origin: &OriginCache,
        key: &BlockKey,
        meta: &ObjectMeta,
        fill: &Fill,
        (start, end): (u64, u64),
    ) -> Result<Bytes, OriginError> {
        let expected = end.saturating_sub(start);
        CacheStats::add(&self.stats.misses, 1);
        CacheStats::add(&self.stats.origin_fetches, 1);
        let started = Instant::now();
        let stats = &self.stats;
        let fetch = origin.origin().fetch_range(&key.object.key, meta, start, end, |chunk| {
            CacheStats::add(&stats.origin_bytes, chunk.len() as u64);
            fill.push(chunk);
        });
        let result = origin.timed(fetch).await;
        self.stats.latency(started);
        let result = result.and_then(|()| {
            let block = fill.assembled();
            if block.len() as u64 == expected { Ok(block) } else { Err(OriginError::Changed) }
        });
        if let Err(error) = &result {
            self.origin_failed(origin, key, error);
        }
        result
    }

    fn origin_failed(&self, origin: &OriginCache, key: &BlockKey, error: &OriginError) {
        if !matches!(error, OriginError::NotFound) {
            CacheStats::add(&self.stats.origin_errors, 1);
        }
        if matches!(error, OriginError::Changed | OriginError::NotFound) {
            origin.expire(&key.object.key);
        }
        tracing::warn!(key = %key.object.key, block = key.index, %error, "origin read failed");
    }

    /// Fills block `key` (whose `fill` the caller holds) and every other block of the object
    /// that is neither in memory nor being filled, from one GET of the whole object: for an
    /// origin that ignores `Range`, one answer is the whole object whatever was asked, so it
    /// is read once and cached, not once per block. Readers of any of those blocks join this
    /// fill and get their bytes as they arrive; each block is kept as soon as it is complete.
    async fn fill_whole_object(
        &self,
        origin: &OriginCache,
        key: &BlockKey,
        meta: &ObjectMeta,
        fill: &Arc<Fill>,
        reader: u64,
    ) {
        let block_size = self.config.block_size;
        let mut fills = WholeObjectFills { cache: self, fills: Vec::new() };
        {
            let mut memory = self.memory.lock().expect("cache lock");
            for index in 0..meta.size.div_ceil(block_size) {
                let block = BlockKey { object: Arc::clone(&key.object), index };
                let taken = if index == key.index {
                    Some(Arc::clone(fill))
                } else if memory.slots.contains_key(&block) {
                    None
                } else {
                    let other = Arc::new(Fill::new());
                    memory.slots.insert(block.clone(), Slot::Filling(Arc::clone(&other)));
                    Some(other)
                };
                fills.fills.push(taken.map(|fill| (block, fill)));
            }
        }
        let taken = fills.fills.iter().flatten().count() as u64;
        CacheStats::add(&self.stats.misses, taken);
        CacheStats::add(&self.stats.origin_fetches, 1);
        let started = Instant::now();
        let mut at = 0u64;
        let result = origin
            .origin()
            .fetch_whole(&key.object.key, meta, |mut chunk| {
                CacheStats::add(&self.stats.origin_bytes, chunk.len() as u64);
                while !chunk.is_empty() {
                    let index = at / block_size;
                    let block_end = ((index + 1) * block_size).min(meta.size);
                    let part = chunk.split_to((block_end - at).min(chunk.len() as u64) as usize);
                    at += part.len() as u64;
                    let Some(Some((_, fill))) = fills.fills.get(index as usize) else { continue };
                    fill.push(part);
                    if at == block_end {
                        fills.complete(index as usize, reader);
                    }
                }
            })
            .await;
        self.stats.latency(started);
        if let Err(error) = result {
            self.origin_failed(origin, key, &error);
            fills.fail(error);
        }
    }

    /// Moves a filled block into the memory tier, evicting beyond the budget.
    pub(crate) fn keep(&self, key: &BlockKey, block: Bytes, reader: u64) {
        let mut memory = self.memory.lock().expect("cache lock");
        let len = block.len() as u64;
        memory.slots.insert(key.clone(), Slot::Ready(block));
        let evicted = memory.lru.insert(key.clone(), len.max(1), reader);
        for victim in evicted {
            if matches!(memory.slots.get(&victim), Some(Slot::Ready(_))) {
                memory.slots.remove(&victim);
                CacheStats::add(&self.stats.memory_evictions, 1);
            }
        }
    }

    /// Stores a block fetched outside a fill (the first block of a cold open) in both tiers.
    pub(crate) async fn keep_fetched(&self, key: &BlockKey, block: Bytes) {
        self.keep(key, block.clone(), self.next_reader());
        if let Some(disk) = &self.disk {
            disk.write(key, block, &self.stats).await;
        }
    }

    /// Drops the blocks held in memory of every object `drop` selects; returns how many.
    /// Blocks being filled finish and stay: they are of the version their readers opened.
    pub(crate) fn drop_blocks(&self, drop: impl Fn(&ObjectId) -> bool) -> usize {
        let mut memory = self.memory.lock().expect("cache lock");
        let Memory { slots, lru } = &mut *memory;
        let before = slots.len();
        slots.retain(|key, slot| {
            let keep = matches!(slot, Slot::Filling(_)) || !drop(&key.object);
            if !keep {
                lru.remove(key);
            }
            keep
        });
        before - slots.len()
    }

    /// Removes the slot of a failed fill (only if it is still that fill's).
    fn unslot(&self, key: &BlockKey, fill: &Arc<Fill>) {
        let mut memory = self.memory.lock().expect("cache lock");
        if let Some(Slot::Filling(current)) = memory.slots.get(key)
            && Arc::ptr_eq(current, fill)
        {
            memory.slots.remove(key);
        }
    }
}

/// The blocks one whole-object fill took, by index (`None`: another reader holds it). Each
/// is finished once: kept when complete, failed with the fill's error, or, if the fill task
/// dies, failed as abandoned.
struct WholeObjectFills<'a> {
    cache: &'a EdgeCache,
    fills: Vec<Option<(BlockKey, Arc<Fill>)>>,
}

impl WholeObjectFills<'_> {
    fn complete(&mut self, index: usize, reader: u64) {
        let Some((key, fill)) = self.fills[index].take() else { return };
        let block = fill.assembled();
        self.cache.keep(&key, block.clone(), reader);
        fill.finish(Ok(block.clone()));
        if let Some(disk) = &self.cache.disk {
            let (disk, stats) = (Arc::clone(disk), Arc::clone(&self.cache.stats));
            tokio::spawn(async move { disk.write(&key, block, &stats).await });
        }
    }

    fn fail(&mut self, error: OriginError) {
        for (key, fill) in self.fills.iter_mut().filter_map(Option::take) {
            fill.finish(Err(error.clone()));
            self.cache.unslot(&key, &fill);
        }
    }
}

impl Drop for WholeObjectFills<'_> {
    fn drop(&mut self) {
        self.fail(OriginError::Failed("cache fill abandoned".into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::LocalOrigin;

    fn config(block_size: u64, memory_bytes: u64) -> CacheConfig {
        CacheConfig { block_size, memory_bytes, ..CacheConfig::default() }
    }

    fn cache_with_file(content: &[u8], config: CacheConfig) -> (tempfile::TempDir, Arc<OriginCache>) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/a.bin"), content).unwrap();
        let cache = EdgeCache::new(config).origin_cache(Origin::Local(LocalOrigin::new(dir.path())));
        (dir, cache)
    }

    #[tokio::test]
    async fn reads_any_range_across_blocks() {
        let content: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let (_dir, cache) = cache_with_file(&content, config(1000, 1 << 20));
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
        let (_dir, cache) = cache_with_file(&content, config(1000, 8000));
        let object = cache.open("sub/a.bin").await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..12 {
            let object = object.clone();
            tasks.push(tokio::spawn(async move { object.read_range(0, 500).await.unwrap() }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let store = cache.store();
        // Block 0 once, and at most the read-ahead of block 1.
        assert!(store.stats().origin_fetches.load(Ordering::Relaxed) <= 2);
        for i in 0..64 {
            object.read_range(i * 1000, 1000).await.unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(store.memory_used() <= 8000, "memory used {}", store.memory_used());
    }

    #[tokio::test]
    async fn refuses_keys_that_leave_the_root() {
        let (_dir, cache) = cache_with_file(b"x", CacheConfig::default());
        for key in ["../etc/passwd", "/etc/passwd", "sub/../sub/a.bin", "sub\\a.bin", "", "sub"] {
            assert!(matches!(cache.open(key).await, Err(OriginError::NotFound)), "{key}");
        }
    }

    #[tokio::test]
    async fn read_now_answers_from_memory_only_and_a_reader_touches_a_block_once() {
        use sf_media::ByteSource;
        let content: Vec<u8> = (0..4000u32).map(|i| (i % 253) as u8).collect();
        let (_dir, cache) = cache_with_file(&content, CacheConfig { read_ahead_blocks: 0, ..config(1000, 1 << 20) });
        let object = cache.open("sub/a.bin").await.unwrap();
        assert!(object.read_now(0, 10).is_none(), "block 0 is not in memory yet");
        object.read_range(0, 10).await.unwrap();
        let hits = || cache.store().stats().hits.load(Ordering::Relaxed);
        let before = hits();
        for offset in 0..100 {
            let got = object.read_now(offset * 9, 9).unwrap().unwrap();
            assert_eq!(&got[..], &content[offset as usize * 9..offset as usize * 9 + 9]);
        }
        assert_eq!(hits() - before, 1, "one use of the block for a hundred reads");
        assert!(object.read_now(995, 10).is_none(), "across two blocks");
        assert!(object.read_now(3000, 10).is_none(), "block 3 was never read");
        assert_eq!(object.read_now(5000, 10).unwrap().unwrap().len(), 0, "past the end");
        // Another reader of the same block counts as another use.
        let other = cache.open("sub/a.bin").await.unwrap();
        assert_eq!(&other.read_now(1, 2).unwrap().unwrap()[..], &content[1..3]);
        assert_eq!(hits() - before, 2);
    }
}
