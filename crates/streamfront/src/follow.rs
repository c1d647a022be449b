//! `serve` and the control store: open it at start, then follow it, rebuilding the edge's
//! distributions (config file + store + default) whenever its state changes.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sf_cache::{EdgeCache, HttpOrigin, HttpOriginSpec, HttpScheme, Origin, OriginCa, OriginCache, S3Settings};
use sf_control::{FollowOptions, Follower, HeartbeatIdentity, Store, StoreHealth, StoreOptions, deployed_through};
use sf_dist::{Distribution, OriginProtocolPolicy, SslProtocol, StreamingDistribution, parse_s3_origin_domain};
use sf_edge::Edge;
use sf_edge::http::Scheme;
use sf_edge::routing::{Configured, Distributions};
use sf_edge::web::WebDistribution;
use tracing::{info, warn};

use crate::settings::Settings;
use sf_api::state::{ControlState, StoredStreaming, StoredWeb};

/// How often Deployed/InProgress is looked up from the heartbeats.
const STATUS_EVERY: Duration = Duration::from_secs(2);

/// Opens `--store` (S3 settings from `[s3]` and the environment); the error is one line
/// naming `--store`.
pub async fn open_store(settings: &Settings, options: StoreOptions) -> Result<Arc<Store>, String> {
    let location = settings.store_location()?;
    let s3 = crate::s3_settings(&settings.s3);
    location.open(&s3, options).await.map_err(|e| format!("--store {}: {e}", location.describe()))
}

/// This edge's name in the store's heartbeats, kept in `<data-dir>/edge-id` so a restart is
/// the same edge.
pub fn edge_id(data_dir: &Path) -> Result<String, String> {
    let path = data_dir.join("edge-id");
    match std::fs::read_to_string(&path) {
        Ok(id) => return Ok(id.trim().to_owned()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", path.display())),
    }
    use std::hash::BuildHasher;
    let random = std::collections::hash_map::RandomState::new().hash_one(SystemTime::now());
    let id = format!("edge-{random:016x}");
    std::fs::write(&path, format!("{id}\n")).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(id)
}

/// A distribution whose origin is open.
struct Open {
    record: Arc<StreamingDistribution>,
    origin: Arc<OriginCache>,
    origin_name: String,
}

/// What the edge's distributions are built from.
pub struct Routing {
    cache: Arc<EdgeCache>,
    s3: S3Settings,
    statics: Vec<Open>,
    default: Option<(Arc<OriginCache>, String)>,
    /// Store origins, kept across rebuilds so their cached blocks stay: a streaming
    /// distribution's by spec (shared by every distribution reading it), a web distribution's
    /// by distribution id and origin identity (its cache is its own, as CloudFront caches per
    /// distribution).
    store_origins: HashMap<String, (Arc<OriginCache>, String)>,
    /// Invalidations already applied to the cache, as (distribution id, invalidation id).
    invalidated: HashSet<(String, String)>,
    /// `--origin-ca-file`: trusted for custom origins over HTTPS besides the system's roots.
    origin_ca: Option<Arc<OriginCa>>,
}

impl Routing {
    pub fn new(cache: Arc<EdgeCache>, s3: S3Settings, default: Option<(Arc<OriginCache>, String)>) -> Routing {
        Routing {
            cache,
            s3,
            statics: Vec::new(),
            default,
            store_origins: HashMap::new(),
            invalidated: HashSet::new(),
            origin_ca: None,
        }
    }

    /// Custom origins over HTTPS trust `ca` besides the system's roots (`--origin-ca-file`).
    pub fn set_origin_ca(&mut self, ca: Option<Arc<OriginCa>>) {
        self.origin_ca = ca;
    }

    /// A distribution from the config file.
    pub fn add_static(&mut self, record: StreamingDistribution, origin: Origin) {
        let origin_name = origin.describe();
        let origin = self.cache.origin_cache(origin);
        self.statics.push(Open { record: Arc::new(record), origin, origin_name });
    }

    /// The config file's distributions, then the store's (a static id or host name wins; an
    /// origin that cannot be opened leaves its distribution out), then the default.
    pub fn build(&mut self, stored: &ControlState) -> Result<Distributions, String> {
        let mut configured: Vec<Configured> = self
            .statics
            .iter()
            .map(|d| Configured {
                record: Arc::clone(&d.record),
                origin: Arc::clone(&d.origin),
                origin_name: d.origin_name.clone(),
                version: None,
            })
            .collect();
        for d in stored.streaming.values() {
            if self.statics.iter().any(|s| s.record.id == d.record.id) {
                warn!(distribution = %d.record.id, "the config file has a distribution with this id: the store's is not served");
                continue;
            }
            // Another edge's API cannot know this edge's config file: a clash is settled here,
            // for this distribution alone, rather than refusing the whole change.
            if let Some(name) = names_of(&d.record)
                .find(|n| self.statics.iter().any(|s| names_of(&s.record).any(|m| m.eq_ignore_ascii_case(n))))
            {
                warn!(distribution = %d.record.id, host = %name, "a distribution of the config file has this host name: the store's is not served");
                continue;
            }
            match self.store_origin(d) {
                Ok((origin, origin_name)) => configured.push(Configured {
                    record: Arc::new(d.record.clone()),
                    origin,
                    origin_name,
                    version: Some(d.version),
                }),
                Err(e) => {
                    warn!(distribution = %d.record.id, origin = %d.origin, error = %e, "origin cannot be opened: not served")
                }
            }
        }
        let mut web = Vec::new();
        let mut used: Vec<String> = stored.streaming.values().map(|d| d.origin.clone()).collect();
        for d in stored.web.values() {
            let names = std::iter::once(&d.record.domain_name).chain(&d.record.distribution_config.aliases);
            if let Some(name) = names
                .into_iter()
                .find(|n| self.statics.iter().any(|s| names_of(&s.record).any(|m| m.eq_ignore_ascii_case(n))))
            {
                warn!(distribution = %d.record.id, host = %name, "a distribution of the config file has this host name: the store's is not served");
                continue;
            }
            match self.web_distribution(d, &mut used) {
                Ok(served) => web.push(served),
                Err(e) => warn!(distribution = %d.record.id, error = %e, "an origin cannot be opened: not served"),
            }
        }
        // Origins no store distribution reads any more are let go (their cached blocks age out).
        self.store_origins.retain(|spec, _| used.contains(spec));
        Distributions::build(configured, web, self.default.clone()).map_err(|e| format!("{}: {}", e.field, e.message))
    }

    fn store_origin(&mut self, d: &StoredStreaming) -> Result<(Arc<OriginCache>, String), String> {
        self.origin_by_spec(&d.origin)
    }

    fn origin_by_spec(&mut self, spec: &str) -> Result<(Arc<OriginCache>, String), String> {
        if let Some(open) = self.store_origins.get(spec) {
            return Ok(open.clone());
        }
        let origin = Origin::from_spec_with(spec, &self.s3).map_err(|e| e.to_string())?;
        let name = origin.describe();
        let open = (self.cache.origin_cache(origin), name);
        self.store_origins.insert(spec.to_owned(), open.clone());
        Ok(open)
    }

    /// Web distribution `distribution_id`'s origin `spec`, in a cache namespace of its own:
    /// two distributions reading one origin share the cache's budget but no objects, so each
    /// keeps its own TTLs and an invalidation of one leaves the other's objects. Returns the
    /// origin and its key in `store_origins`.
    fn web_origin(&mut self, distribution_id: &str, spec: &WebOrigin) -> Result<(Arc<OriginCache>, String), String> {
        let key = format!("{distribution_id} {}", spec.identity());
        if let Some((open, _)) = self.store_origins.get(&key) {
            return Ok((Arc::clone(open), key));
        }
        let origin = match spec {
            WebOrigin::S3(spec) => Origin::from_spec_with(spec, &self.s3).map_err(|e| e.to_string())?,
            WebOrigin::Http(spec) => Origin::Http(HttpOrigin::new(spec.clone()).map_err(|e| e.to_string())?),
        };
        let name = origin.describe();
        let open = self.cache.origin_cache_in(origin, distribution_id);
        self.store_origins.insert(key.clone(), (Arc::clone(&open), name));
        Ok((open, key))
    }

    /// Drops from the cache the paths of every invalidation of `stored` not applied yet, on
    /// every origin of its distribution as `distributions` serves it. At start every
    /// invalidation is applied once more: the disk tier may hold what they dropped.
    pub async fn invalidate(&mut self, stored: &ControlState, distributions: &Distributions) {
        for web in distributions.web() {
            let Some(invalidations) = stored.invalidations.get(web.id()) else { continue };
            for (id, invalidation) in invalidations {
                if !self.invalidated.insert((web.id().to_owned(), id.clone())) {
                    continue;
                }
                let mut dropped = 0;
                for path in &invalidation.record.invalidation_batch.paths {
                    // Paths are URL paths (`/images/*`, percent-encoded); the cache's keys
                    // are object keys.
                    let Ok(key) = sf_edge::web::key::object_key(path) else {
                        warn!(distribution = %web.id(), invalidation = %id, path, "an invalidation path names no object: skipped");
                        continue;
                    };
                    let https_origins = web.for_https.iter().flat_map(|https| https.origins.values());
                    for origin in web.origins.values().chain(https_origins) {
                        dropped += origin.invalidate(&key).await;
                    }
                }
                info!(distribution = %web.id(), invalidation = %id, objects = dropped, "invalidation applied");
            }
        }
    }

    /// A web distribution with every origin open (one that cannot be opened leaves the whole
    /// distribution out: its behaviors could not all be served). The specs of its origins are
    /// added to `used`.
    /// When an origin's `OriginProtocolPolicy` is `match-viewer`, HTTPS viewers get the same
    /// distribution with that origin fetched over HTTPS (`for_https`).
    fn web_distribution(&mut self, d: &StoredWeb, used: &mut Vec<String>) -> Result<WebDistribution, String> {
        let record: Arc<Distribution> = Arc::new(d.record.clone());
        let matches_viewer = record.distribution_config.origins.iter().any(|origin| {
            origin
                .custom_origin_config
                .as_ref()
                .is_some_and(|c| c.origin_protocol_policy == OriginProtocolPolicy::MatchViewer)
        });
        let for_https = if matches_viewer {
            let origins = self.web_origins(&record, Scheme::Https, used)?;
            Some(Arc::new(WebDistribution::new(Arc::clone(&record), Some(d.version), origins)))
        } else {
            None
        };
        let origins = self.web_origins(&record, Scheme::Http, used)?;
        Ok(WebDistribution { for_https, ..WebDistribution::new(record, Some(d.version), origins) })
    }

    /// The origins of `record` opened for viewers over `viewer`.
    fn web_origins(
        &mut self,
        record: &Distribution,
        viewer: Scheme,
        used: &mut Vec<String>,
    ) -> Result<HashMap<String, Arc<OriginCache>>, String> {
        let mut origins = HashMap::new();
        for origin in &record.distribution_config.origins {
            let spec = web_origin_spec(origin, viewer, self.origin_ca.as_ref())
                .map_err(|e| format!("origin {:?}: {e}", origin.id))?;
            let (cache, key) =
                self.web_origin(&record.id, &spec).map_err(|e| format!("origin {:?}: {e}", origin.id))?;
            used.push(key);
            origins.insert(origin.id.clone(), cache);
        }
        Ok(origins)
    }
}

/// What a web distribution's origin reads.
enum WebOrigin {
    /// `s3://bucket/prefix`
    S3(String),
    Http(HttpOriginSpec),
}

impl WebOrigin {
    /// What tells two origins apart, to keep each open across rebuilds: a changed custom
    /// header or timeout is another origin.
    fn identity(&self) -> String {
        match self {
            WebOrigin::S3(spec) => spec.clone(),
            WebOrigin::Http(spec) => format!(
                "{:?}://{}:{}/{} {:?} {:?} {:?} {} {:?}",
                spec.scheme,
                spec.host,
                spec.port,
                spec.path_prefix,
                spec.headers,
                spec.read_timeout,
                spec.connect_timeout,
                spec.attempts,
                spec.extra_ca.as_ref().map(|ca| Arc::as_ptr(ca) as usize),
            ),
        }
    }
}

/// What a distribution's `Origin` reads. An S3 origin: the bucket from its domain name as
/// CloudFront names S3 origins, the prefix from `OriginPath` (which starts with `/`,
/// Developer Guide, "Origin path"). A custom origin: `DomainName` on `HTTPPort`, or over TLS
/// on `HTTPSPort` for `https-only` (and `match-viewer` for HTTPS viewers), with its
/// `OriginPath`, `CustomHeaders`, `OriginReadTimeout`, `ConnectionAttempts` and
/// `ConnectionTimeout` (CloudFront's defaults where unset: 30 s, 3, 10 s; Developer Guide,
/// "Origin settings").
fn web_origin_spec(origin: &sf_dist::Origin, viewer: Scheme, ca: Option<&Arc<OriginCa>>) -> Result<WebOrigin, String> {
    let prefix = origin.origin_path.as_deref().unwrap_or("").trim_matches('/');
    let Some(custom) = &origin.custom_origin_config else {
        let bucket = parse_s3_origin_domain(&origin.domain_name)?;
        let spec = if prefix.is_empty() {
            format!("s3://{}", bucket.bucket)
        } else {
            format!("s3://{}/{prefix}", bucket.bucket)
        };
        return Ok(WebOrigin::S3(spec));
    };
    let (scheme, port) = match (custom.origin_protocol_policy, viewer) {
        (OriginProtocolPolicy::HttpsOnly, _) | (OriginProtocolPolicy::MatchViewer, Scheme::Https) => {
            (HttpScheme::Https, custom.https_port)
        }
        _ => (HttpScheme::Http, custom.http_port),
    };
    // rustls speaks TLS 1.2 and 1.3: an origin that allows only older versions gets 1.2 or
    // later all the same (CloudFront itself no longer offers SSLv3).
    if scheme == HttpScheme::Https && !custom.origin_ssl_protocols.contains(&SslProtocol::TlsV1_2) {
        warn!(
            origin = %origin.id,
            protocols = ?custom.origin_ssl_protocols,
            "OriginSslProtocols leaves out TLSv1.2: the origin is asked for TLS 1.2 or later anyway"
        );
    }
    let port = u16::try_from(port).map_err(|_| format!("port {port} is out of range"))?;
    let seconds = |value: Option<i32>, default: u64| {
        Duration::from_secs(value.and_then(|v| u64::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(default))
    };
    let mut spec = HttpOriginSpec::new(scheme, &origin.domain_name, port);
    spec.path_prefix = prefix.to_owned();
    spec.headers = origin.custom_headers.iter().map(|h| (h.header_name.clone(), h.header_value.clone())).collect();
    spec.read_timeout = seconds(custom.origin_read_timeout, 30);
    spec.connect_timeout = seconds(origin.connection_timeout, 10);
    spec.attempts = origin.connection_attempts.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(3);
    if scheme == HttpScheme::Https {
        spec.extra_ca = ca.cloned();
    }
    Ok(WebOrigin::Http(spec))
}

/// A streaming distribution's host names: its domain name and aliases.
fn names_of(record: &StreamingDistribution) -> impl Iterator<Item = &str> {
    std::iter::once(record.domain_name.as_str())
        .chain(record.streaming_distribution_config.aliases.iter().map(String::as_str))
}

/// Follows `store` for as long as the runtime runs: applies each new state to `edge`, and
/// keeps the edge's store status (reachable, applied number, Deployed) current. The follower
/// is shared with the API, which reads the same state and waits on it for its own writes.
pub fn spawn(
    store: Arc<Store>,
    edge: Arc<Edge>,
    mut routing: Routing,
    edge_id: String,
) -> Result<Arc<Follower<ControlState>>, String> {
    let options = FollowOptions {
        heartbeat: Some(HeartbeatIdentity { edge_id, version: env!("CARGO_PKG_VERSION").to_owned() }),
        // A change counts as deployed here once it is served and its invalidations have left
        // the cache: an invalidation is Completed only when every live edge has done that.
        heartbeat_acknowledged: true,
        ..FollowOptions::default()
    };
    let follower = store.follow::<ControlState>(options).map_err(|e| format!("--store {}: {e}", store.describe()))?;
    let follower = Arc::new(follower);
    let shared = Arc::clone(&follower);
    tokio::spawn(async move {
        let mut state = follower.state();
        let health = follower.health();
        let mut applied_seq = None;
        loop {
            let current = Arc::clone(&state.borrow_and_update());
            if applied_seq != Some(current.seq) && current.seq > 0 {
                // Keys first and on their own: a key deleted must stop verifying even when the
                // distributions of this change cannot be applied.
                edge.replace_key_groups(key_groups(&current.state, edge.signatures.keys()));
                match routing.build(&current.state) {
                    Ok(distributions) => {
                        info!(
                            seq = current.seq,
                            distributions = distributions.all().len(),
                            "applied the control store"
                        );
                        routing.invalidate(&current.state, &distributions).await;
                        edge.replace_distributions(distributions);
                    }
                    Err(e) => {
                        warn!(seq = current.seq, error = %e, "control store change not applied: keeping the last configuration")
                    }
                }
                applied_seq = Some(current.seq);
            }
            follower.acknowledge(current.seq);
            let reachable = *health.borrow() == StoreHealth::Reachable;
            edge.control.set(reachable, current.seq);
            if reachable {
                update_deployed(&store, &edge).await;
            }
            tokio::select! {
                _ = state.changed() => {}
                _ = tokio::time::sleep(STATUS_EVERY) => {}
            }
            // Keeps the follower (and so its task) alive as long as this loop.
            let _ = &follower;
        }
    });
    Ok(shared)
}

/// The API's public keys (their `EncodedKey` PEM) and key groups, for `TrustedKeyGroups`. A
/// key that cannot be read is left out, with a warning; so is one whose id is a declared
/// `--key-pair`'s, as verified signatures are remembered by key id.
pub fn key_groups(state: &ControlState, declared: &sf_sign::KeyPairs) -> sf_sign::KeyGroups {
    let mut key_groups = sf_sign::KeyGroups::default();
    for (id, key) in &state.public_keys {
        if declared.get(id).is_some() {
            warn!(public_key = %id, "a declared key pair has this id: the API's public key is not used");
            continue;
        }
        let inserted = sf_sign::KeyPair::from_pem(id, sf_sign::KEY_GROUP_ACCOUNT, &key.record.config.encoded_key)
            .and_then(|key| key_groups.insert_key(key));
        if let Err(e) = inserted {
            warn!(public_key = %id, error = %e, "public key not used");
        }
    }
    for (id, group) in &state.key_groups {
        key_groups.insert_group(id, group.record.config.items.clone());
    }
    key_groups
}

/// The highest change number every live edge has applied: every change up to it is Deployed.
async fn update_deployed(store: &Store, edge: &Edge) {
    let heartbeats = match tokio::time::timeout(STATUS_EVERY, store.heartbeats()).await {
        Ok(Ok(heartbeats)) => heartbeats,
        _ => return, // the follower reports the store's troubles
    };
    edge.control.set_deployed_through(deployed_through(&heartbeats, SystemTime::now()));
}
