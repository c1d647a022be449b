//! The cache as one origin sees it: its object directory (versions and their freshness,
//! names known to be missing), its lookups (one at a time per name, none holding a lock
//! while the origin answers) and its handles, over the tiers every origin shares.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::block_cache::{BlockKey, EdgeCache, ObjectId, Version};
use crate::directory::ExpiryMap;
use crate::disk::ObjectRecord;
use crate::handle::ObjectHandle;
use crate::origin::{ObjectMeta, Origin, OriginError};
use crate::single_flight::SingleFlight;
use crate::stats::CacheStats;

/// Names known to be missing that one origin remembers at most (with keys of up to a few
/// KiB, a few tens of MiB at worst): anyone can ask for names that do not exist.
const MAX_MISSING_NAMES: usize = 10_000;

/// How [`OriginCache::open_traced`] came by the version it opened: what an HTTP cache reports
/// in `X-Cache` and `Age`. Only the version's metadata is meant; its blocks may still have to
/// come from the origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh version the cache already knew, last checked with the origin `age` ago.
    Hit { age: Duration },
    /// The origin was asked and gave a version the cache did not have.
    Miss,
    /// An expired version the origin confirmed unchanged.
    RefreshHit,
    /// An expired version served because the origin failed, last checked `age` ago.
    Stale { age: Duration },
}

/// How long an open trusts what the origin says.
pub enum Trust<'a> {
    /// The cache's configured freshness and negative TTL.
    Configured,
    /// The caller's: `ttl` of each version the origin gives (a web distribution's cache
    /// behavior with the origin's `Cache-Control` and `Expires`), and how long a key the
    /// origin does not have is remembered as missing (its `ErrorCachingMinTTL`).
    Decided { ttl: &'a (dyn Fn(&ObjectMeta) -> Duration + Send + Sync), missing_for: Duration },
}

/// How long ago the origin last vouched for `version`.
fn age(version: &Version, now: SystemTime) -> Duration {
    now.duration_since(version.checked).unwrap_or_default()
}

/// What the directory says of a key, before asking the origin.
enum Known {
    /// A version that is still fresh, and how long ago it was checked.
    Fresh(Arc<Version>, Duration),
    /// Known not to exist, for a while yet.
    Missing,
    /// Known but expired, or not known at all: the origin must be asked.
    Ask,
}

/// One origin's view of an [`EdgeCache`]. Made by [`EdgeCache::origin_cache`].
#[derive(Debug)]
pub struct OriginCache {
    store: Arc<EdgeCache>,
    origin: Origin,
    /// The origin's identity, part of every block key and disk record.
    namespace: Arc<str>,
    /// Versions known, until they must be revalidated.
    versions: Mutex<ExpiryMap<SystemTime, Arc<Version>>>,
    /// Keys the origin said it does not have, until `negative_ttl` has passed.
    missing: Mutex<ExpiryMap<Instant, ()>>,
    /// Lookups in progress, by key: viewers starting one cold, expired or missing object at
    /// once cause one lookup.
    lookups: SingleFlight<Result<(Arc<Version>, Lookup), OriginError>>,
    /// LISTs in progress, by candidate set.
    lists: SingleFlight<()>,
    /// Set when the origin refuses LIST (an S3 policy without `s3:ListBucket`): names are
    /// then looked up key by key.
    list_refused: AtomicBool,
    /// Invalidations so far. A lookup that overlapped one does not trust what it learnt
    /// (it may predate the invalidation): it answers its callers, but records nothing fresh.
    invalidations: AtomicU64,
}

/// What an invalidation drops: one key, or every key with a prefix (a path ending in `*`).
enum Selection {
    Key(String),
    Prefix(String),
}

impl Selection {
    fn of(path: &str) -> Self {
        match path.strip_suffix('*') {
            Some(prefix) => Selection::Prefix(prefix.to_owned()),
            None => Selection::Key(path.to_owned()),
        }
    }

    fn picks(&self, key: &str) -> bool {
        match self {
            Selection::Key(exact) => key == exact,
            Selection::Prefix(prefix) => key.starts_with(prefix.as_str()),
        }
    }
}

impl OriginCache {
    pub(crate) fn new(store: Arc<EdgeCache>, origin: Origin) -> Arc<Self> {
        let max_objects = store.config().max_objects;
        Arc::new(OriginCache {
            namespace: origin.namespace().into(),
            store,
            origin,
            versions: Mutex::new(ExpiryMap::new(max_objects)),
            missing: Mutex::new(ExpiryMap::new(max_objects.min(MAX_MISSING_NAMES))),
            lookups: SingleFlight::default(),
            lists: SingleFlight::default(),
            list_refused: AtomicBool::new(false),
            invalidations: AtomicU64::new(0),
        })
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The shared tiers and counters.
    pub fn store(&self) -> &Arc<EdgeCache> {
        &self.store
    }

    /// The origin's identity in cache keys (`s3:ENDPOINT/BUCKET/PREFIX`, `local:/dir`).
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    fn stats(&self) -> &CacheStats {
        self.store.stats()
    }

    /// The current version of `key` and a handle to read it. A version still fresh (by
    /// the freshness rules) is used without asking the origin; an expired one is
    /// revalidated; if the origin then fails, the expired version is served for up to
    /// `stale_if_error`. A key the origin recently did not have is "not found" at once.
    pub async fn open(self: &Arc<Self>, key: &str) -> Result<ObjectHandle, OriginError> {
        self.open_traced(key).await.map(|(handle, _)| handle)
    }

    /// [`OriginCache::open`], saying how the version was found.
    pub async fn open_traced(self: &Arc<Self>, key: &str) -> Result<(ObjectHandle, Lookup), OriginError> {
        self.open_trusting(key, &Trust::Configured).await
    }

    /// [`OriginCache::open_traced`], with what the origin says trusted for as long as `trust`
    /// decides rather than the cache's configured freshness. A version already known stays
    /// fresh for as long as was decided when it was looked up.
    pub async fn open_trusting(
        self: &Arc<Self>,
        key: &str,
        trust: &Trust<'_>,
    ) -> Result<(ObjectHandle, Lookup), OriginError> {
        let (version, lookup) = match self.known(key) {
            Known::Fresh(version, age) => (version, Lookup::Hit { age }),
            Known::Missing => {
                CacheStats::add(&self.stats().not_found_hits, 1);
                return Err(OriginError::NotFound);
            }
            Known::Ask => self.lookups.run(key, self.look_up(key, trust)).await?,
        };
        Ok((ObjectHandle::new(Arc::clone(self), version, self.store.next_reader()), lookup))
    }

    /// Opens the first of `keys` that exists, and says which it was. When the first keys
    /// are unknown, one LIST (where the origin has it) tells which of them exist, so a name
    /// with many candidate keys costs one request, not one per key.
    pub async fn open_first(self: &Arc<Self>, keys: &[&str]) -> Result<(usize, ObjectHandle), OriginError> {
        let first_possible = keys.iter().position(|key| !matches!(self.known(key), Known::Missing));
        if let Some(at) = first_possible
            && keys.len() - at > 1
            && self.recall(keys[at]).await.is_none()
        {
            self.list(&keys[at..]).await;
        }
        for (at, key) in keys.iter().enumerate() {
            match self.open(key).await {
                Err(OriginError::NotFound) => continue,
                other => return other.map(|handle| (at, handle)),
            }
        }
        Err(OriginError::NotFound)
    }

    fn known(&self, key: &str) -> Known {
        if let Some((version, fresh_until)) = self.versions.lock().expect("directory lock").get(key) {
            let now = SystemTime::now();
            return if now < fresh_until { Known::Fresh(Arc::clone(&version), age(&version, now)) } else { Known::Ask };
        }
        match self.missing.lock().expect("directory lock").get(key) {
            Some((_, until)) if Instant::now() < until => Known::Missing,
            _ => Known::Ask,
        }
    }

    /// Asks the origin about `key` (once for all concurrent callers) and records the answer.
    async fn look_up(self: &Arc<Self>, key: &str, trust: &Trust<'_>) -> Result<(Arc<Version>, Lookup), OriginError> {
        // A lookup that finished while this one was being started already answered.
        match self.known(key) {
            Known::Fresh(version, age) => return Ok((version, Lookup::Hit { age })),
            Known::Missing => return Err(OriginError::NotFound),
            Known::Ask => {}
        }
        let always = self.origin.revalidates_always();
        let invalidations = self.invalidations.load(Ordering::SeqCst);
        let now = SystemTime::now();
        let known = self.recall(key).await;
        if let Some((version, fresh_until)) = &known
            && now < *fresh_until
        {
            return Ok((Arc::clone(version), Lookup::Hit { age: age(version, now) }));
        }
        CacheStats::add(&self.stats().origin_heads, 1);
        let started = Instant::now();
        let result = match &known {
            Some(_) => self.timed(self.origin.head(key)).await.map(|meta| (meta, None)),
            // A cold object: its first block comes with the answer, so the first frame waits
            // for one origin round trip, not two.
            None => self.timed(self.origin.first_look(key, self.store.config().block_size)).await,
        };
        self.stats().latency(started);
        match result {
            Ok((meta, first_block)) => {
                let previous = known.map(|(version, _)| version);
                let unchanged = previous.as_ref().is_some_and(|previous| previous.meta.version == meta.version);
                let lookup = if unchanged && !always { Lookup::RefreshHit } else { Lookup::Miss };
                if let Some(previous) = &previous
                    && !always
                {
                    CacheStats::add(&self.stats().revalidations, 1);
                    if previous.meta.version != meta.version {
                        CacheStats::add(&self.stats().revalidations_changed, 1);
                        tracing::info!(key, origin = %self.origin.describe(), "object changed at the origin; serving the new version");
                    }
                }
                let overlapped = self.invalidations.load(Ordering::SeqCst) != invalidations;
                let ttl = if always || overlapped { Duration::ZERO } else { self.ttl(trust, &meta) };
                let fresh_until = now + ttl;
                let version = self.version(key, meta, previous.as_deref(), now);
                self.versions.lock().expect("directory lock").insert(key, Arc::clone(&version), fresh_until);
                if let Some(block) = first_block
                    && !overlapped
                {
                    self.keep_first_block(&version, block).await;
                }
                if let Some(disk) = self.store.disk()
                    && !always
                    && !overlapped
                {
                    let record = ObjectRecord { meta: version.meta.clone(), fresh_until };
                    disk.store_object(&self.namespace, key, &record).await;
                }
                Ok((version, lookup))
            }
            Err(OriginError::NotFound) => {
                if known.is_some() {
                    self.versions.lock().expect("directory lock").remove(key);
                    if let Some(disk) = self.store.disk() {
                        disk.forget_object(&self.namespace, key).await;
                    }
                }
                if self.invalidations.load(Ordering::SeqCst) == invalidations {
                    self.remember_missing(key, trust);
                }
                Err(OriginError::NotFound)
            }
            Err(error) => {
                CacheStats::add(&self.stats().origin_errors, 1);
                if let Some((version, fresh_until)) = known
                    && now < fresh_until + self.store.config().freshness.stale_if_error
                {
                    CacheStats::add(&self.stats().stale_serves, 1);
                    tracing::warn!(key, %error, "origin failing; serving the cached version");
                    return Ok((Arc::clone(&version), Lookup::Stale { age: age(&version, now) }));
                }
                Err(error)
            }
        }
    }

    /// The version of `key` this cache knows (from memory, else from the disk tier's record,
    /// which is then remembered) and until when it is fresh.
    async fn recall(&self, key: &str) -> Option<(Arc<Version>, SystemTime)> {
        if let Some(known) = self.versions.lock().expect("directory lock").get(key) {
            return Some(known);
        }
        if self.origin.revalidates_always() {
            return None;
        }
        let invalidations = self.invalidations.load(Ordering::SeqCst);
        let record = self.store.disk()?.load_object(&self.namespace, key).await?;
        // The record keeps when the version stops being fresh; when it was checked is
        // reckoned from the configured freshness.
        let checked =
            record.fresh_until.checked_sub(self.store.config().freshness.ttl(&record.meta)).unwrap_or(UNIX_EPOCH);
        let version = self.version(key, record.meta, None, checked);
        let mut versions = self.versions.lock().expect("directory lock");
        // A record read while an invalidation was deleting it is gone.
        if self.invalidations.load(Ordering::SeqCst) != invalidations {
            return None;
        }
        versions.insert(key, Arc::clone(&version), record.fresh_until);
        Some((version, record.fresh_until))
    }

    /// Asks the origin which of `keys` exist (one LIST, once for all concurrent callers)
    /// and remembers the missing ones. Where the answer is incomplete or the origin cannot
    /// list, nothing is remembered and the keys are looked up one by one.
    async fn list(self: &Arc<Self>, keys: &[&str]) {
        if !self.origin.can_list() || self.list_refused.load(Ordering::Relaxed) {
            return;
        }
        // Keys never contain NUL (see `safe_key`), so the joined set names the call.
        let call = keys.join("\0");
        self.lists
            .run(&call, async {
                CacheStats::add(&self.stats().origin_lists, 1);
                let started = Instant::now();
                let result = self.timed(self.origin.list_existing(keys)).await;
                self.stats().latency(started);
                match result {
                    Ok(Some(exists)) => {
                        for (key, _) in keys.iter().zip(exists).filter(|(_, exists)| !exists) {
                            self.remember_missing(key, &Trust::Configured);
                        }
                    }
                    Ok(None) => {}
                    Err(OriginError::AccessDenied) => {
                        self.list_refused.store(true, Ordering::Relaxed);
                        tracing::warn!(origin = %self.origin.describe(), "the origin refuses to list objects; looking names up key by key");
                    }
                    Err(error) => {
                        CacheStats::add(&self.stats().origin_errors, 1);
                        tracing::debug!(origin = %self.origin.describe(), %error, "listing candidate keys failed");
                    }
                }
            })
            .await;
    }

    /// Remembers that the origin does not have `key` (not for origins looked at on every
    /// open).
    fn remember_missing(&self, key: &str, trust: &Trust<'_>) {
        let ttl = match trust {
            Trust::Configured => self.store.config().negative_ttl,
            Trust::Decided { missing_for, .. } => *missing_for,
        };
        if self.origin.revalidates_always() || ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut missing = self.missing.lock().expect("directory lock");
        missing.purge_expired(now);
        missing.insert(key, (), now + ttl);
    }

    /// The version `meta` describes, reusing `previous`'s identity when it is the same one
    /// (so its blocks are found without comparing strings).
    fn version(&self, key: &str, meta: ObjectMeta, previous: Option<&Version>, checked: SystemTime) -> Arc<Version> {
        let id = match previous {
            Some(previous) if previous.meta.version == meta.version => Arc::clone(&previous.id),
            _ => Arc::new(ObjectId::new(Arc::clone(&self.namespace), key, &meta.version)),
        };
        Arc::new(Version { id, meta, checked })
    }

    /// Keeps a first block that came with a cold open's answer (it is of that version).
    async fn keep_first_block(&self, version: &Version, block: Bytes) {
        let stats = self.stats();
        CacheStats::add(&stats.origin_fetches, 1);
        CacheStats::add(&stats.misses, 1);
        CacheStats::add(&stats.origin_bytes, block.len() as u64);
        if block.len() as u64 != self.store.config().block_size.min(version.meta.size) {
            return;
        }
        let key = BlockKey { object: Arc::clone(&version.id), index: 0 };
        self.store.keep_fetched(&key, block).await;
    }

    /// How long `meta` is fresh when looked up with `trust`.
    fn ttl(&self, trust: &Trust<'_>, meta: &ObjectMeta) -> Duration {
        match trust {
            Trust::Configured => self.store.config().freshness.ttl(meta),
            Trust::Decided { ttl, .. } => ttl(meta),
        }
    }

    /// Forgets what this cache holds of the objects `path` names (an object key, or a prefix
    /// ending in `*`; `*` alone is every object): their versions and freshness, that they
    /// were missing, their records and their blocks, in memory and on disk. The next open
    /// asks the origin. Returns how many objects were dropped.
    ///
    /// A reader already holding a handle may finish reading the version it opened (its
    /// blocks are fetched again if needed, and fail as changed if the origin no longer has
    /// that version). Nothing is remembered across a restart: the edge applies the
    /// invalidations of its control store again when it starts.
    pub async fn invalidate(&self, path: &str) -> usize {
        let selection = Arc::new(Selection::of(path));
        let mut dropped: HashSet<String> = HashSet::new();
        // Versions to delete from disk, as (key, version, size).
        let mut versions_dropped: Vec<(String, String, u64)> = Vec::new();
        {
            let mut versions = self.versions.lock().expect("directory lock");
            self.invalidations.fetch_add(1, Ordering::SeqCst);
            for (key, version) in versions.remove_matching(|key| selection.picks(key)) {
                versions_dropped.push((key.to_string(), version.meta.version.clone(), version.meta.size));
                dropped.insert(key.to_string());
            }
        }
        for (key, ()) in self.missing.lock().expect("directory lock").remove_matching(|key| selection.picks(key)) {
            dropped.insert(key.to_string());
        }
        let namespace = Arc::clone(&self.namespace);
        let in_memory = self.store.drop_blocks(|object| object.namespace == namespace && selection.picks(&object.key));
        let mut on_disk = 0;
        if let Some(disk) = self.store.disk() {
            let records = match &*selection {
                Selection::Key(key) => {
                    let record = disk.load_object(&self.namespace, key).await;
                    disk.forget_object(&self.namespace, key).await;
                    record.map(|record| (key.clone(), record)).into_iter().collect()
                }
                Selection::Prefix(_) => {
                    let selection = Arc::clone(&selection);
                    disk.take_objects(&self.namespace, move |key| selection.picks(key)).await
                }
            };
            for (key, record) in records {
                versions_dropped.push((key.clone(), record.meta.version, record.meta.size));
                dropped.insert(key);
            }
            versions_dropped.sort();
            versions_dropped.dedup();
            let block_size = self.store.config().block_size;
            for (key, version, size) in versions_dropped {
                let object = Arc::new(ObjectId::new(Arc::clone(&self.namespace), &key, &version));
                on_disk += disk.forget_blocks(object, size.div_ceil(block_size)).await;
            }
        }
        tracing::info!(origin = %self.origin.describe(), path, objects = dropped.len(), blocks_in_memory = in_memory, blocks_on_disk = on_disk, "invalidated");
        dropped.len()
    }

    /// Marks `key` as needing revalidation (its blocks no longer match the origin).
    pub(crate) fn expire(&self, key: &str) {
        self.versions.lock().expect("directory lock").set_expiry(key, UNIX_EPOCH);
    }

    /// `request`, bounded by the configured origin timeout.
    pub(crate) async fn timed<T>(
        &self,
        request: impl Future<Output = Result<T, OriginError>>,
    ) -> Result<T, OriginError> {
        let timeout = self.store.config().origin_timeout;
        match tokio::time::timeout(timeout, request).await {
            Ok(result) => result,
            Err(_) => Err(OriginError::Failed(format!(
                "origin {}: no answer within {} s",
                self.origin.describe(),
                timeout.as_secs_f32()
            ))),
        }
    }
}
