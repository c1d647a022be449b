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

/// Failed keys (missing names, cached error responses) that one origin remembers at most
/// (with keys of up to a few KiB, a few tens of MiB at worst): anyone can ask for names that
/// do not exist.
const MAX_FAILED_KEYS: usize = 10_000;

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

/// How long a version the origin gave is trusted, as the caller of [`Trust::Decided`]
/// decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime {
    /// Served without asking the origin for this long.
    pub fresh_for: Duration,
    /// Whether, once expired, it may be served while the origin fails (no
    /// `stale-if-error=0`).
    pub stale_on_error: bool,
}

/// How long an open trusts what the origin says.
pub enum Trust<'a> {
    /// The cache's configured freshness and negative TTL.
    Configured,
    /// The caller's, as a web distribution caches (CloudFront's error caching):
    /// - `ttl`: the [`Lifetime`] of each version the origin gives (the cache behavior with the
    ///   origin's `Cache-Control` and `Expires`);
    /// - `error_ttl`: how long an origin error is answered from the cache without asking the
    ///   origin again (`None`: not cached). An expired version is served instead of a server
    ///   failure (a 5xx, a timeout) for that long after the first one, once, if its lifetime
    ///   allows it; after that the error is passed on until the origin answers again.
    Decided {
        ttl: &'a (dyn Fn(&ObjectMeta) -> Lifetime + Send + Sync),
        error_ttl: &'a (dyn Fn(&OriginError) -> Option<Duration> + Send + Sync),
    },
}

/// How long ago the origin last vouched for `version`.
fn age(version: &Version, now: SystemTime) -> Duration {
    now.duration_since(version.checked).unwrap_or_default()
}

/// How a version still trusted is reported: a hit, or a stale copy within the time it is
/// served while the origin fails.
fn trusted(version: &Version, now: SystemTime) -> Lookup {
    let age = age(version, now);
    if version.stale_since.is_some() { Lookup::Stale { age } } else { Lookup::Hit { age } }
}

/// What the directory says of a key, before asking the origin.
enum Known {
    /// A version that is still trusted, and how it is reported.
    Fresh(Arc<Version>, Lookup),
    /// The origin failed for it (did not have it, or answered an error), and that answer is
    /// kept for a while yet.
    Failed(OriginError),
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
    /// Keys the origin failed for, with its answer, until their TTL has passed: keys it does
    /// not have (`negative_ttl`, or the caller's), and error responses a caller caches.
    failed: Mutex<ExpiryMap<Instant, OriginError>>,
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
    pub(crate) fn new(store: Arc<EdgeCache>, origin: Origin, namespace: String) -> Arc<Self> {
        let max_objects = store.config().max_objects;
        Arc::new(OriginCache {
            namespace: namespace.into(),
            store,
            origin,
            versions: Mutex::new(ExpiryMap::new(max_objects)),
            failed: Mutex::new(ExpiryMap::new(max_objects.min(MAX_FAILED_KEYS))),
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

    /// The origin's identity in cache keys (`s3:ENDPOINT/BUCKET/PREFIX`, `local:/dir`), with
    /// `#SCOPE` for a cache of one scope alone.
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
            Known::Fresh(version, lookup) => (version, lookup),
            Known::Failed(error) => {
                let counter = match error {
                    OriginError::NotFound => &self.stats().not_found_hits,
                    _ => &self.stats().error_hits,
                };
                CacheStats::add(counter, 1);
                return Err(error);
            }
            Known::Ask => self.lookups.run(key, self.look_up(key, trust)).await?,
        };
        Ok((ObjectHandle::new(Arc::clone(self), version, self.store.next_reader()), lookup))
    }

    /// Opens the first of `keys` that exists, and says which it was. When the first keys
    /// are unknown, one LIST (where the origin has it) tells which of them exist, so a name
    /// with many candidate keys costs one request, not one per key.
    pub async fn open_first(self: &Arc<Self>, keys: &[&str]) -> Result<(usize, ObjectHandle), OriginError> {
        let first_possible =
            keys.iter().position(|key| !matches!(self.known(key), Known::Failed(OriginError::NotFound)));
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
        // A failure is kept only while no version is trusted, and is looked at first: an
        // expired version does not send every viewer to an origin whose error is cached.
        if let Some((error, until)) = self.failed.lock().expect("directory lock").get(key)
            && Instant::now() < until
        {
            return Known::Failed(error);
        }
        if let Some((version, fresh_until)) = self.versions.lock().expect("directory lock").get(key) {
            let now = SystemTime::now();
            if now < fresh_until {
                let lookup = trusted(&version, now);
                return Known::Fresh(version, lookup);
            }
        }
        Known::Ask
    }

    /// Asks the origin about `key` (once for all concurrent callers) and records the answer.
    async fn look_up(self: &Arc<Self>, key: &str, trust: &Trust<'_>) -> Result<(Arc<Version>, Lookup), OriginError> {
        // A lookup that finished while this one was being started already answered.
        match self.known(key) {
            Known::Fresh(version, lookup) => return Ok((version, lookup)),
            Known::Failed(error) => return Err(error),
            Known::Ask => {}
        }
        let always = self.origin.revalidates_always();
        let invalidations = self.invalidations.load(Ordering::SeqCst);
        let now = SystemTime::now();
        let known = self.recall(key).await;
        if let Some((version, fresh_until)) = &known
            && now < *fresh_until
        {
            return Ok((Arc::clone(version), trusted(version, now)));
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
                let ttl = if always || overlapped { Duration::ZERO } else { self.lifetime(trust, &meta).fresh_for };
                let fresh_until = now + ttl;
                let version = self.version(key, meta, previous.as_deref(), now);
                self.versions.lock().expect("directory lock").insert(key, Arc::clone(&version), fresh_until);
                self.failed.lock().expect("directory lock").remove(key);
                if let Some(block) = first_block
                    && !overlapped
                {
                    self.keep_first_block(&version, block).await;
                }
                if let Some(disk) = self.store.disk()
                    && !always
                    && !overlapped
                {
                    let record = ObjectRecord { meta: version.meta.clone(), checked: version.checked, fresh_until };
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
                    self.remember_failure(key, trust, &OriginError::NotFound);
                }
                Err(OriginError::NotFound)
            }
            Err(error) => {
                CacheStats::add(&self.stats().origin_errors, 1);
                if let Some((version, fresh_until)) = known
                    && let Some(stale) = self.serve_stale(key, trust, &version, fresh_until, &error, now)
                {
                    CacheStats::add(&self.stats().stale_serves, 1);
                    tracing::warn!(key, %error, "origin failing; serving the cached version");
                    return Ok((stale, Lookup::Stale { age: age(&version, now) }));
                }
                if self.invalidations.load(Ordering::SeqCst) == invalidations {
                    self.remember_failure(key, trust, &error);
                }
                Err(error)
            }
        }
    }

    /// The expired `version` to serve while the origin fails with `error`, if it may be.
    /// - The configured trust: within `stale_if_error` past its freshness, asking the origin
    ///   again on every open.
    /// - A caller's: for a server failure, when the version's lifetime allows it and it has
    ///   not been served stale since the origin last vouched for it. It is then trusted, as
    ///   stale, for the error's TTL (CloudFront: `ErrorCachingMinTTL`), without asking the
    ///   origin; after that the origin's error is passed on.
    fn serve_stale(
        &self,
        key: &str,
        trust: &Trust<'_>,
        version: &Arc<Version>,
        fresh_until: SystemTime,
        error: &OriginError,
        now: SystemTime,
    ) -> Option<Arc<Version>> {
        match trust {
            Trust::Configured => {
                (now < fresh_until + self.store.config().freshness.stale_if_error).then(|| Arc::clone(version))
            }
            Trust::Decided { ttl, error_ttl } => {
                if !error.is_server_failure() || version.stale_since.is_some() || !ttl(&version.meta).stale_on_error {
                    return None;
                }
                let window = error_ttl(error)?;
                let stale = Arc::new(Version {
                    id: Arc::clone(&version.id),
                    meta: version.meta.clone(),
                    checked: version.checked,
                    stale_since: Some(now),
                });
                self.versions.lock().expect("directory lock").insert(key, Arc::clone(&stale), now + window);
                Some(stale)
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
        let version = self.version(key, record.meta, None, record.checked);
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
                // A caller that looked before an earlier LIST of these keys finished arrives
                // after it: what that LIST found missing is known now.
                if keys.iter().all(|key| matches!(self.known(key), Known::Failed(OriginError::NotFound))) {
                    return;
                }
                CacheStats::add(&self.stats().origin_lists, 1);
                let started = Instant::now();
                let result = self.timed(self.origin.list_existing(keys)).await;
                self.stats().latency(started);
                match result {
                    Ok(Some(exists)) => {
                        for (key, _) in keys.iter().zip(exists).filter(|(_, exists)| !exists) {
                            self.remember_failure(key, &Trust::Configured, &OriginError::NotFound);
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

    /// Remembers the origin's `error` for `key`, for as long as `trust` keeps it: under the
    /// configured trust only "not found", for `negative_ttl`. Never for origins looked at on
    /// every open.
    fn remember_failure(&self, key: &str, trust: &Trust<'_>, error: &OriginError) {
        let ttl = match (trust, error) {
            (Trust::Configured, OriginError::NotFound) => Some(self.store.config().negative_ttl),
            (Trust::Configured, _) => None,
            (Trust::Decided { error_ttl, .. }, error) => error_ttl(error),
        };
        let Some(ttl) = ttl.filter(|ttl| !ttl.is_zero()) else { return };
        if self.origin.revalidates_always() {
            return;
        }
        let now = Instant::now();
        let mut failed = self.failed.lock().expect("directory lock");
        failed.purge_expired(now);
        failed.insert(key, error.clone(), now + ttl);
    }

    /// The version `meta` describes, reusing `previous`'s identity when it is the same one
    /// (so its blocks are found without comparing strings).
    fn version(&self, key: &str, meta: ObjectMeta, previous: Option<&Version>, checked: SystemTime) -> Arc<Version> {
        let id = match previous {
            Some(previous) if previous.meta.version == meta.version => Arc::clone(&previous.id),
            _ => Arc::new(ObjectId::new(Arc::clone(&self.namespace), key, &meta.version)),
        };
        Arc::new(Version { id, meta, checked, stale_since: None })
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

    /// How long `meta` is trusted when looked up with `trust`.
    fn lifetime(&self, trust: &Trust<'_>, meta: &ObjectMeta) -> Lifetime {
        match trust {
            Trust::Configured => Lifetime { fresh_for: self.store.config().freshness.ttl(meta), stale_on_error: true },
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
        for (key, _) in self.failed.lock().expect("directory lock").remove_matching(|key| selection.picks(key)) {
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
