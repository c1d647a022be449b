//! The block cache: freshness, single-flight streaming fills, memory and disk tiers,
//! read-ahead.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use sf_media::{ByteSource, SourceError};
use tokio::sync::watch;

use crate::disk::{DiskConfig, DiskTier, ObjectRecord};
use crate::freshness::Freshness;
use crate::origin::{ObjectMeta, Origin, OriginError};
use crate::slru::Slru;

/// Sizes and policies of the cache.
#[derive(Debug, Clone)]
pub struct CacheConfig {
    /// Bytes per block (each origin fetch is one ranged read of one block).
    pub block_size: u64,
    /// Bytes of filled blocks the memory tier keeps.
    pub memory_bytes: u64,
    /// The disk tier; `None` keeps blocks in memory only.
    pub disk: Option<DiskConfig>,
    pub freshness: Freshness,
    /// Blocks fetched ahead of a reader (0 to 2).
    pub read_ahead_blocks: u64,
    /// Bound on one origin request as the cache sees it (HEAD, or one block), retries
    /// included. The origin client's own timeouts normally end it sooner.
    pub origin_timeout: Duration,
    /// Object versions remembered in memory (their freshness); more are forgotten.
    pub max_objects: usize,
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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct BlockKey {
    pub(crate) key: Arc<str>,
    pub(crate) version: Arc<str>,
    pub(crate) index: u64,
}

/// Counters for metrics and tests. All are totals since start except where noted.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Block reads served from the memory tier.
    pub hits: AtomicU64,
    /// Blocks that had to come from the origin.
    pub misses: AtomicU64,
    /// Ranged GETs sent to the origin (one per missing block).
    pub origin_fetches: AtomicU64,
    /// Bytes received from the origin.
    pub origin_bytes: AtomicU64,
    /// Bytes handed to readers from memory-tier hits.
    pub memory_hit_bytes: AtomicU64,
    pub memory_evictions: AtomicU64,
    /// Blocks loaded from the disk tier (intact).
    pub disk_hits: AtomicU64,
    pub disk_hit_bytes: AtomicU64,
    /// Blocks looked for on disk and not there (or damaged).
    pub disk_misses: AtomicU64,
    /// Disk blocks that failed their checks (torn or corrupted) and were fetched again.
    pub disk_corrupt: AtomicU64,
    pub disk_write_bytes: AtomicU64,
    pub disk_write_errors: AtomicU64,
    pub disk_evictions: AtomicU64,
    /// HEAD requests (first looks and revalidations).
    pub origin_heads: AtomicU64,
    /// Origin requests (HEAD or GET) that failed, NotFound excluded.
    pub origin_errors: AtomicU64,
    /// Sum and count of origin request latencies (HEADs, and GETs to the last byte).
    pub origin_latency_micros: AtomicU64,
    pub origin_latency_count: AtomicU64,
    pub origin_latency_max_micros: AtomicU64,
    /// Reads that waited on a block another reader (or read-ahead) was already filling.
    pub single_flight_joins: AtomicU64,
    /// Blocks fetched ahead of readers.
    pub read_ahead: AtomicU64,
    /// Expired objects checked against the origin, and how many of those had changed.
    pub revalidations: AtomicU64,
    pub revalidations_changed: AtomicU64,
    /// Opens answered from an expired copy because the origin was failing.
    pub stale_serves: AtomicU64,
    /// Metrics hook (additive): also told each origin latency; see [`OriginLatencyObserver`].
    origin_latency_observer: std::sync::OnceLock<OriginLatencyObserver>,
}

impl CacheStats {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    fn latency(&self, started: Instant) {
        let micros = started.elapsed().as_micros() as u64;
        Self::add(&self.origin_latency_micros, micros);
        Self::add(&self.origin_latency_count, 1);
        self.origin_latency_max_micros.fetch_max(micros, Ordering::Relaxed);
        if let Some(observer) = self.origin_latency_observer.get() {
            (observer.0)(Duration::from_micros(micros));
        }
    }
}

/// A block being filled: the bytes so far, then the outcome. Readers wait on `changed`.
#[derive(Debug)]
struct Fill {
    state: Mutex<FillState>,
    changed: watch::Sender<()>,
}

#[derive(Debug, Default)]
struct FillState {
    chunks: Vec<Bytes>,
    len: u64,
    outcome: Option<Result<Bytes, OriginError>>,
}

impl Fill {
    fn new() -> Self {
        Fill { state: Mutex::new(FillState::default()), changed: watch::Sender::new(()) }
    }

    fn push(&self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        let mut state = self.state.lock().expect("fill lock");
        state.len += chunk.len() as u64;
        state.chunks.push(chunk);
        drop(state);
        self.changed.send_replace(());
    }

    /// All bytes received, as one buffer.
    fn assembled(&self) -> Bytes {
        let state = self.state.lock().expect("fill lock");
        match state.chunks.as_slice() {
            [one] => one.clone(),
            chunks => {
                let mut out = BytesMut::with_capacity(state.len as usize);
                for chunk in chunks {
                    out.extend_from_slice(chunk);
                }
                out.freeze()
            }
        }
    }

    fn finish(&self, outcome: Result<Bytes, OriginError>) {
        let mut state = self.state.lock().expect("fill lock");
        if state.outcome.is_none() {
            state.outcome = Some(outcome);
        }
        state.chunks = Vec::new();
        drop(state);
        self.changed.send_replace(());
    }

    /// Bytes `[from, to)` of the block, as soon as they have arrived.
    async fn wait(&self, from: u64, to: u64) -> Result<Bytes, OriginError> {
        let mut changed = self.changed.subscribe();
        loop {
            {
                let state = self.state.lock().expect("fill lock");
                match &state.outcome {
                    Some(Ok(block)) => return Ok(clip(block, from, to)),
                    Some(Err(e)) => return Err(e.clone()),
                    None if state.len >= to => return Ok(copy_range(&state.chunks, from, to)),
                    None => {}
                }
            }
            // The sender lives in `self`, so this only ends by a change.
            let _ = changed.changed().await;
        }
    }
}

fn clip(block: &Bytes, from: u64, to: u64) -> Bytes {
    let len = block.len() as u64;
    block.slice(from.min(len) as usize..to.min(len) as usize)
}

fn copy_range(chunks: &[Bytes], from: u64, to: u64) -> Bytes {
    let mut out = BytesMut::with_capacity((to - from) as usize);
    let mut at = 0u64;
    for chunk in chunks {
        let end = at + chunk.len() as u64;
        if end > from && at < to {
            let a = from.saturating_sub(at) as usize;
            let b = (to.min(end) - at) as usize;
            out.extend_from_slice(&chunk[a..b]);
        }
        at = end;
        if at >= to {
            break;
        }
    }
    out.freeze()
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

#[derive(Debug, Clone)]
struct ObjectState {
    meta: ObjectMeta,
    fresh_until: SystemTime,
}

/// The edge cache in front of one origin.
#[derive(Debug)]
pub struct EdgeCache {
    origin: Origin,
    config: CacheConfig,
    memory: Mutex<Memory>,
    disk: Option<Arc<DiskTier>>,
    objects: Mutex<HashMap<Arc<str>, ObjectState>>,
    /// Opens of one key take turns (striped by key hash), so viewers starting the same cold
    /// or expired object at once cause one HEAD: the later ones find it fresh.
    open_locks: [tokio::sync::Mutex<()>; OPEN_LOCK_STRIPES],
    stats: Arc<CacheStats>,
    readers: AtomicU64,
}

const OPEN_LOCK_STRIPES: usize = 64;

impl EdgeCache {
    /// A cache with the tiers `config` asks for.
    ///
    /// # Panics
    /// If `config.disk` is set and its directory cannot be opened; use
    /// [`EdgeCache::try_new`] to handle that.
    pub fn new(origin: Origin, config: CacheConfig) -> Arc<Self> {
        Self::try_new(origin, config).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A cache with the tiers `config` asks for. With a disk tier this creates the
    /// directory and indexes the blocks already there (blocking: call it at startup).
    pub fn try_new(origin: Origin, config: CacheConfig) -> Result<Arc<Self>, CacheOpenError> {
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
            origin,
            config,
            memory: Mutex::new(memory),
            disk,
            objects: Mutex::new(HashMap::new()),
            open_locks: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            stats: Arc::default(),
            readers: AtomicU64::new(1),
        }))
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
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

    /// The current version of `key` and a handle to read it. A version still fresh (by
    /// the freshness rules) is used without asking the origin; an expired one is
    /// revalidated; if the origin then fails, the expired version is served for up to
    /// `stale_if_error`.
    pub async fn open(self: &Arc<Self>, key: &str) -> Result<ObjectHandle, OriginError> {
        let stripe = {
            use std::hash::{Hash, Hasher};
            // Fixed keys: the same key must always pick the same stripe.
            let mut hasher = std::hash::DefaultHasher::new();
            key.hash(&mut hasher);
            (hasher.finish() as usize) % OPEN_LOCK_STRIPES
        };
        let _turn = self.open_locks[stripe].lock().await;
        let now = SystemTime::now();
        let mut known = self.objects.lock().expect("objects lock").get(key).cloned();
        if known.is_none()
            && let Some(disk) = &self.disk
            && let Some(record) = disk.load_object(key).await
        {
            let state = ObjectState { meta: record.meta, fresh_until: record.fresh_until };
            self.remember(key, state.clone());
            known = Some(state);
        }
        let always = self.origin.revalidates_always();
        if let Some(state) = &known
            && !always
            && now < state.fresh_until
        {
            return Ok(self.handle(key, state.meta.clone()));
        }
        CacheStats::add(&self.stats.origin_heads, 1);
        let started = Instant::now();
        let head = async {
            match tokio::time::timeout(self.config.origin_timeout, self.origin.head(key)).await {
                Ok(result) => result,
                Err(_) => Err(self.timed_out()),
            }
        };
        // A cold object: fetch its first block beside the HEAD, so the first frame waits for
        // one origin round trip, not two (HEAD, then GET).
        let first_block = async {
            if known.is_some() {
                return None;
            }
            let len = self.config.block_size;
            tokio::time::timeout(self.config.origin_timeout, self.origin.first_block(key, len)).await.ok().flatten()
        };
        let (result, first_block) = tokio::join!(head, first_block);
        self.stats.latency(started);
        if let (Ok(meta), Some((block, etag, size))) = (&result, first_block) {
            self.keep_first_block(key, meta, block, &etag, size).await;
        }
        match result {
            Ok(meta) => {
                if let Some(state) = &known
                    && !always
                {
                    CacheStats::add(&self.stats.revalidations, 1);
                    if state.meta.version != meta.version {
                        CacheStats::add(&self.stats.revalidations_changed, 1);
                        tracing::info!(key, origin = %self.origin.describe(), "object changed at the origin; serving the new version");
                    }
                }
                let ttl = if always { Duration::ZERO } else { self.config.freshness.ttl(&meta) };
                let fresh_until = now + ttl;
                self.remember(key, ObjectState { meta: meta.clone(), fresh_until });
                if let Some(disk) = &self.disk
                    && !always
                {
                    disk.store_object(key, &ObjectRecord { meta: meta.clone(), fresh_until }).await;
                }
                Ok(self.handle(key, meta))
            }
            Err(OriginError::NotFound) => {
                if known.is_some() {
                    self.objects.lock().expect("objects lock").remove(key);
                    if let Some(disk) = &self.disk {
                        disk.forget_object(key).await;
                    }
                }
                Err(OriginError::NotFound)
            }
            Err(error) => {
                CacheStats::add(&self.stats.origin_errors, 1);
                if let Some(state) = known
                    && now < state.fresh_until + self.config.freshness.stale_if_error
                {
                    CacheStats::add(&self.stats.stale_serves, 1);
                    tracing::warn!(key, %error, "origin failing; serving the cached version");
                    return Ok(self.handle(key, state.meta));
                }
                Err(error)
            }
        }
    }

    /// Keeps a first block fetched beside the HEAD, if it is of the version the HEAD saw.
    async fn keep_first_block(&self, key: &str, meta: &ObjectMeta, block: Bytes, etag: &str, size: u64) {
        CacheStats::add(&self.stats.origin_fetches, 1);
        CacheStats::add(&self.stats.misses, 1);
        CacheStats::add(&self.stats.origin_bytes, block.len() as u64);
        if etag != meta.version || size != meta.size || block.len() as u64 != self.config.block_size.min(meta.size) {
            // The object changed between the two requests: the block is of another version.
            return;
        }
        let block_key = BlockKey { key: key.into(), version: meta.version.as_str().into(), index: 0 };
        self.keep(&block_key, block.clone(), self.readers.fetch_add(1, Ordering::Relaxed));
        if let Some(disk) = &self.disk {
            disk.write(&block_key, block, &self.stats).await;
        }
    }

    fn timed_out(&self) -> OriginError {
        OriginError::Failed(format!(
            "origin {}: no answer within {} s",
            self.origin.describe(),
            self.config.origin_timeout.as_secs_f32()
        ))
    }

    fn remember(&self, key: &str, state: ObjectState) {
        let mut objects = self.objects.lock().expect("objects lock");
        if objects.len() >= self.config.max_objects && !objects.contains_key(key) {
            // Forget the version that expires first.
            let victim = objects.iter().min_by_key(|(_, s)| s.fresh_until).map(|(k, _)| Arc::clone(k));
            if let Some(victim) = victim {
                objects.remove(&victim);
            }
        }
        objects.insert(key.into(), state);
    }

    /// Marks `key` as needing revalidation (its blocks no longer match the origin).
    fn expire(&self, key: &str) {
        if let Some(state) = self.objects.lock().expect("objects lock").get_mut(key) {
            state.fresh_until = UNIX_EPOCH;
        }
    }

    fn handle(self: &Arc<Self>, key: &str, meta: ObjectMeta) -> ObjectHandle {
        ObjectHandle {
            cache: Arc::clone(self),
            key: key.into(),
            version: meta.version.as_str().into(),
            meta,
            reader: self.readers.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Bytes `[from, to)` of a block: from memory, or by joining or starting its fill.
    async fn read_block(
        self: &Arc<Self>,
        handle: &ObjectHandle,
        index: u64,
        from: u64,
        to: u64,
    ) -> Result<Bytes, OriginError> {
        let key = handle.block_key(index);
        let fill = {
            let mut memory = self.memory.lock().expect("cache lock");
            match memory.slots.get(&key) {
                Some(Slot::Ready(block)) => {
                    let block = block.clone();
                    memory.lru.touch(&key, handle.reader);
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
                None => self.start_fill(&mut memory, key, handle),
            }
        };
        fill.wait(from, to).await
    }

    /// Starts filling a block (the memory lock held), in a task of its own so that it
    /// completes for the other readers even if the reader that started it goes away.
    fn start_fill(self: &Arc<Self>, memory: &mut Memory, key: BlockKey, handle: &ObjectHandle) -> Arc<Fill> {
        let fill = Arc::new(Fill::new());
        memory.slots.insert(key.clone(), Slot::Filling(Arc::clone(&fill)));
        let this = Arc::clone(self);
        let meta = handle.meta.clone();
        let reader = handle.reader;
        let task_fill = Arc::clone(&fill);
        tokio::spawn(async move { this.run_fill(key, meta, task_fill, reader).await });
        fill
    }

    /// Starts filling block `index` if it is neither cached in memory nor being filled.
    fn prefetch(self: &Arc<Self>, handle: &ObjectHandle, index: u64) {
        if index.saturating_mul(self.config.block_size) >= handle.meta.size {
            return;
        }
        let key = handle.block_key(index);
        let mut memory = self.memory.lock().expect("cache lock");
        if memory.slots.contains_key(&key) {
            return;
        }
        CacheStats::add(&self.stats.read_ahead, 1);
        self.start_fill(&mut memory, key, handle);
    }

    async fn run_fill(self: Arc<Self>, key: BlockKey, meta: ObjectMeta, fill: Arc<Fill>, reader: u64) {
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
        let mut guard = Abandon(&self, &key, &fill, false);
        let start = key.index * self.config.block_size;
        let end = start.saturating_add(self.config.block_size).min(meta.size);
        let (outcome, from_origin) = self.load(&key, &meta, &fill, start, end, reader).await;
        match &outcome {
            Ok(block) => self.keep(&key, block.clone(), reader),
            Err(_) => self.unslot(&key, &fill),
        }
        fill.finish(outcome.clone());
        guard.3 = true;
        drop(guard);
        if from_origin && let (Ok(block), Some(disk)) = (outcome, &self.disk) {
            disk.write(&key, block, &self.stats).await;
        }
    }

    /// The block from disk or the origin, streamed into `fill` as it arrives. The flag says
    /// whether it came from the origin.
    async fn load(
        &self,
        key: &BlockKey,
        meta: &ObjectMeta,
        fill: &Fill,
        start: u64,
        end: u64,
        reader: u64,
    ) -> (Result<Bytes, OriginError>, bool) {
        let expected = end.saturating_sub(start);
        if let Some(disk) = &self.disk {
            match disk.read(key, reader, &self.stats).await {
                Some(block) if block.len() as u64 == expected => {
                    CacheStats::add(&self.stats.disk_hits, 1);
                    CacheStats::add(&self.stats.disk_hit_bytes, block.len() as u64);
                    return (Ok(block), false);
                }
                _ => CacheStats::add(&self.stats.disk_misses, 1),
            }
        }
        CacheStats::add(&self.stats.misses, 1);
        CacheStats::add(&self.stats.origin_fetches, 1);
        let started = Instant::now();
        let stats = &self.stats;
        let fetch = self.origin.fetch_range(&key.key, meta, start, end, |chunk| {
            CacheStats::add(&stats.origin_bytes, chunk.len() as u64);
            fill.push(chunk);
        });
        let result = match tokio::time::timeout(self.config.origin_timeout, fetch).await {
            Ok(result) => result,
            Err(_) => Err(self.timed_out()),
        };
        self.stats.latency(started);
        let result = result.and_then(|()| {
            let block = fill.assembled();
            if block.len() as u64 == expected { Ok(block) } else { Err(OriginError::Changed) }
        });
        if let Err(error) = &result {
            if !matches!(error, OriginError::NotFound) {
                CacheStats::add(&self.stats.origin_errors, 1);
            }
            if matches!(error, OriginError::Changed | OriginError::NotFound) {
                self.expire(&key.key);
            }
            tracing::warn!(key = %key.key, block = key.index, %error, "origin read failed");
        }
        (result, true)
    }

    /// Moves a filled block into the memory tier, evicting beyond the budget.
    fn keep(&self, key: &BlockKey, block: Bytes, reader: u64) {
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

/// One version of one object, readable through the cache. Each [`EdgeCache::open`] gives
/// a handle with its own reader identity (popularity counts distinct readers).
#[derive(Debug, Clone)]
pub struct ObjectHandle {
    cache: Arc<EdgeCache>,
    key: Arc<str>,
    version: Arc<str>,
    meta: ObjectMeta,
    reader: u64,
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

    /// Bytes `[offset, offset + len)` clipped to the object.
    pub async fn read_range(&self, offset: u64, len: u64) -> Result<Bytes, OriginError> {
        let size = self.meta.size;
        let start = offset.min(size);
        let end = offset.saturating_add(len).min(size);
        if start >= end {
            return Ok(Bytes::new());
        }
        let cache = &self.cache;
        let block_size = cache.config.block_size;
        let first = start / block_size;
        let last = (end - 1) / block_size;
        let result = if first == last {
            let base = first * block_size;
            cache.read_block(self, first, start - base, end - base).await?
        } else {
            let mut out = BytesMut::with_capacity((end - start) as usize);
            for index in first..=last {
                let base = index * block_size;
                let from = start.saturating_sub(base);
                let to = (end - base).min(block_size);
                out.extend_from_slice(&cache.read_block(self, index, from, to).await?);
            }
            out.freeze()
        };
        if result.len() as u64 != end - start {
            return Err(OriginError::Changed);
        }
        // Read-ahead once a reader is past the middle of a block.
        let ahead = cache.config.read_ahead_blocks.min(2);
        if ahead > 0 && (end - last * block_size) * 2 >= block_size.min(size - last * block_size) {
            for next in last + 1..=last + ahead {
                cache.prefetch(self, next);
            }
        }
        Ok(result)
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

// ---- Metrics hook (additive): origin latencies for a histogram kept by the caller. ----

/// Told the duration of every origin request (HEADs, and GETs to the last byte), so the
/// caller can keep a latency histogram in its own metrics library.
pub struct OriginLatencyObserver(Box<dyn Fn(Duration) + Send + Sync>);

impl OriginLatencyObserver {
    pub fn new(observe: impl Fn(Duration) + Send + Sync + 'static) -> Self {
        OriginLatencyObserver(Box::new(observe))
    }
}

impl std::fmt::Debug for OriginLatencyObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OriginLatencyObserver")
    }
}

impl EdgeCache {
    /// Sends every origin latency to `observer` from now on. One observer per cache: returns
    /// false (and drops `observer`) if one is already set.
    pub fn observe_origin_latency(&self, observer: OriginLatencyObserver) -> bool {
        self.stats.origin_latency_observer.set(observer).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::LocalOrigin;

    fn config(block_size: u64, memory_bytes: u64) -> CacheConfig {
        CacheConfig { block_size, memory_bytes, ..CacheConfig::default() }
    }

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

    #[test]
    fn copy_range_spans_chunks() {
        let chunks = [Bytes::from_static(b"abc"), Bytes::from_static(b"defg"), Bytes::from_static(b"h")];
        assert_eq!(&copy_range(&chunks, 0, 8)[..], b"abcdefgh");
        assert_eq!(&copy_range(&chunks, 2, 5)[..], b"cde");
        assert_eq!(&copy_range(&chunks, 3, 7)[..], b"defg");
        assert_eq!(&copy_range(&chunks, 7, 8)[..], b"h");
    }

    #[tokio::test]
    async fn readers_get_bytes_while_the_block_is_still_arriving() {
        let fill = Arc::new(Fill::new());
        let waiter = {
            let fill = Arc::clone(&fill);
            tokio::spawn(async move { fill.wait(0, 3).await })
        };
        fill.push(Bytes::from_static(b"ab"));
        tokio::task::yield_now().await;
        fill.push(Bytes::from_static(b"cd"));
        // Answered before the fill finishes.
        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap().unwrap();
        assert_eq!(&got[..], b"abc");
        fill.finish(Err(OriginError::Changed));
        assert!(fill.wait(0, 10).await.is_err());
    }
}
