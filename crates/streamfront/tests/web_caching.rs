//! What a web distribution keeps in its cache besides objects, and whose it is: origin errors
//! cached for their `ErrorCachingMinTTL`, expired objects served while the origin fails (then
//! the error), a cache of its own when two distributions read one origin, and invalidations
//! `Completed` only once every edge of a fleet has dropped the paths.
//!
//! The distributions are committed into a directory control store as the CloudFront API
//! commits them; the custom origin is sf-testkit's web server, which counts every request.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use common::web::{Reply, request};
use common::*;
use sf_api::state::Change;
use sf_control::{Deployment, Store};
use sf_dist::{
    Distribution, DistributionConfig, DistributionIdentity, Invalidation, InvalidationBatch, InvalidationStatus,
    Timestamp,
};
use sf_testkit::{S3Server, WebServer};

/// A cache behavior reading origin `target`, with the legacy `ForwardedValues`.
fn behavior(target: &str, default_ttl: u64) -> serde_json::Value {
    serde_json::json!({
        "TargetOriginId": target, "ViewerProtocolPolicy": "allow-all",
        "LambdaFunctionAssociations": [], "FunctionAssociations": [],
        "ForwardedValues": { "QueryString": false, "Cookies": { "Forward": "none", "WhitelistedNames": [] },
            "Headers": [], "QueryStringCacheKeys": [] },
        "MinTTL": 0, "DefaultTTL": default_ttl, "MaxTTL": 31536000, "Compress": false,
    })
}

/// A web distribution reading the custom origin on `port` (a 1 s read timeout, one attempt)
/// with objects fresh for `default_ttl` seconds, and `errors` as its `CustomErrorResponses`.
fn custom_origin_config(port: u16, default_ttl: u64, errors: serde_json::Value) -> DistributionConfig {
    let config = serde_json::json!({
        "CallerReference": "web-caching-test", "Aliases": [], "DefaultRootObject": "index.html",
        "Origins": [{ "Id": "app", "DomainName": "127.0.0.1", "OriginPath": "", "CustomHeaders": [],
            "CustomOriginConfig": { "HTTPPort": port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
                "OriginSslProtocols": ["TLSv1.2"], "OriginReadTimeout": 1 },
            "ConnectionAttempts": 1, "ConnectionTimeout": 2 }],
        "OriginGroups": [], "DefaultCacheBehavior": behavior("app", default_ttl), "CacheBehaviors": [],
        "CustomErrorResponses": errors, "Comment": "", "Enabled": true,
    });
    serde_json::from_value(config).unwrap()
}

/// A web distribution reading bucket `media` under `site/`, objects fresh for a day.
fn bucket_config() -> DistributionConfig {
    let config = serde_json::json!({
        "CallerReference": "web-fleet-test", "Aliases": [], "DefaultRootObject": "index.html",
        "Origins": [{ "Id": "s3", "DomainName": "media.s3.amazonaws.com", "OriginPath": "/site",
            "CustomHeaders": [], "S3OriginConfig": { "OriginAccessIdentity": "" } }],
        "OriginGroups": [], "DefaultCacheBehavior": behavior("s3", 86400), "CacheBehaviors": [],
        "CustomErrorResponses": [], "Comment": "", "Enabled": true,
    });
    serde_json::from_value(config).unwrap()
}

fn domain_of(id: &str) -> String {
    format!("{}.cloudfront.net", id.to_ascii_lowercase())
}

/// Opens the directory store at `dir` (from a runtime of the caller's).
async fn open_store(dir: &Path) -> Arc<Store> {
    let location = sf_control::ControlLocation::parse(&dir.display().to_string()).unwrap();
    location.open(&Default::default(), Default::default()).await.unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Commits web distribution `id` (`Change::PutWeb`, what the API's CreateDistribution commits).
fn put_web(store: &Path, id: &str, config: DistributionConfig) {
    let identity = DistributionIdentity {
        id: id.into(),
        arn: format!("arn:aws:cloudfront::123456789012:distribution/{id}"),
        domain_name: domain_of(id),
    };
    let record = Distribution::new(identity, "E1".into(), config, Vec::new(), Timestamp(0));
    runtime().block_on(async {
        open_store(store).await.commit(&Change::PutWeb { record: Box::new(record) }).await.unwrap();
    });
}

/// Commits an invalidation of `paths` of distribution `id` (what CreateInvalidation commits);
/// the change's number.
fn put_invalidation(store: &Path, id: &str, invalidation_id: &str, paths: Vec<String>) -> u64 {
    let record = Invalidation {
        id: invalidation_id.into(),
        distribution_id: id.into(),
        status: InvalidationStatus::InProgress,
        create_time: Timestamp(0),
        invalidation_batch: InvalidationBatch { paths, caller_reference: invalidation_id.into() },
    };
    runtime().block_on(async { open_store(store).await.commit(&Change::PutInvalidation { record }).await.unwrap() })
}

fn get(server: &Server, id: &str, path: &str) -> Reply {
    request(server.http_port, "GET", &domain_of(id), path, &[])
}

/// Waits until `server` serves distribution `id`.
fn wait_served(server: &Server, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = get(server, id, "/served-yet");
        if reply.status != 404 || !reply.text().contains("no distribution") {
            return;
        }
        assert!(Instant::now() < deadline, "{id} is not served: {} {}", reply.status, reply.text());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The custom origin's requests (any method) for `target`.
fn asked(web: &WebServer, target: &str) -> usize {
    web.requests().iter().filter(|r| r.target == target).count()
}

/// A server following a fresh directory store, and the store's path.
fn start_server(dir: &TempDir, env: Vec<(String, String)>) -> (Server, std::path::PathBuf) {
    let store = dir.path().join("control");
    let empty = dir.path().join("default-origin");
    std::fs::create_dir_all(&empty).unwrap();
    let args = vec!["--store".to_owned(), store.display().to_string()];
    (Server::start_with(&empty, ServerOptions { env, args, ..Default::default() }), store)
}

fn status_and_cache(reply: &Reply) -> (u16, Option<&str>) {
    (reply.status, reply.header("x-cache"))
}

#[test]
fn origin_errors_are_cached_for_their_error_caching_min_ttl() {
    let dir = TempDir::new("web-errors");
    let web = WebServer::start(&dir.path().join("app"));
    for name in ["boom.html", "down.html"] {
        web.write_file(name, b"never served");
    }
    web.fail("/boom.html", 500);
    web.fail("/down.html", 503);
    let (server, store) = start_server(&dir, Vec::new());
    let errors = serde_json::json!([{ "ErrorCode": 500, "ErrorCachingMinTTL": 2 }]);
    put_web(&store, "EERRORS000001", custom_origin_config(web.port(), 86400, errors));
    wait_served(&server, "EERRORS000001");

    let first = get(&server, "EERRORS000001", "/boom.html");
    assert_eq!(status_and_cache(&first), (500, Some("Error from streamfront")), "the origin's 500: {first:?}");
    assert_eq!(asked(&web, "/boom.html"), 1);
    // Within the 2 s ErrorCachingMinTTL: answered from the cache.
    let again = get(&server, "EERRORS000001", "/boom.html");
    assert_eq!(status_and_cache(&again), (500, Some("Error from streamfront")), "{again:?}");
    assert_eq!(asked(&web, "/boom.html"), 1, "a cached error does not go to the origin");
    assert_eq!(common::logs::metric(&server, "streamfront_cache_error_hits_total"), 1, "operators see it");
    // After it, the origin is asked again.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(get(&server, "EERRORS000001", "/boom.html").status, 500);
    assert_eq!(asked(&web, "/boom.html"), 2, "the origin is asked again after ErrorCachingMinTTL");

    // A 503 without a CustomErrorResponse: cached for CloudFront's default 10 s.
    assert_eq!(get(&server, "EERRORS000001", "/down.html").status, 503);
    assert_eq!(get(&server, "EERRORS000001", "/down.html").status, 503);
    assert_eq!(asked(&web, "/down.html"), 1, "the default ErrorCachingMinTTL keeps the 503");
    // The origin recovering is seen once the error expires.
    web.fail("/boom.html", 0);
    std::thread::sleep(Duration::from_millis(2500));
    let recovered = get(&server, "EERRORS000001", "/boom.html");
    assert_eq!((recovered.status, recovered.text().as_str()), (200, "never served"), "{recovered:?}");
}

#[test]
fn an_expired_object_is_served_while_the_origin_fails_then_the_error() {
    let dir = TempDir::new("web-stale");
    let web = WebServer::start(&dir.path().join("app"));
    for name in ["bad-gateway.html", "slow.html", "no-stale.html"] {
        web.write_file(name, format!("cached {name}").as_bytes());
    }
    // Fresh for one second; the last one may not be served stale.
    web.add_header("/bad-gateway.html", "Cache-Control", "max-age=1");
    web.add_header("/slow.html", "Cache-Control", "max-age=1");
    web.add_header("/no-stale.html", "Cache-Control", "max-age=1, stale-if-error=0");
    let (server, store) = start_server(&dir, Vec::new());
    let errors = serde_json::json!([
        { "ErrorCode": 502, "ErrorCachingMinTTL": 3 },
        { "ErrorCode": 504, "ErrorCachingMinTTL": 3 },
    ]);
    put_web(&store, "ESTALE0000001", custom_origin_config(web.port(), 86400, errors));
    wait_served(&server, "ESTALE0000001");
    for name in ["bad-gateway.html", "slow.html", "no-stale.html"] {
        assert_eq!(get(&server, "ESTALE0000001", &format!("/{name}")).status, 200, "{name}");
    }
    std::thread::sleep(Duration::from_millis(1500));

    // The origin answers 502: the expired copy is served for ErrorCachingMinTTL (3 s) after
    // the first failure, without asking the origin again, then the 502 is passed on.
    web.fail("/bad-gateway.html", 502);
    let failing_since = Instant::now();
    let before = asked(&web, "/bad-gateway.html");
    let stale = get(&server, "ESTALE0000001", "/bad-gateway.html");
    assert_eq!((stale.status, stale.text().as_str()), (200, "cached bad-gateway.html"), "{stale:?}");
    assert_eq!(asked(&web, "/bad-gateway.html"), before + 1, "the origin was asked once");
    let still = get(&server, "ESTALE0000001", "/bad-gateway.html");
    assert_eq!((still.status, still.text().as_str()), (200, "cached bad-gateway.html"), "{still:?}");
    assert_eq!(asked(&web, "/bad-gateway.html"), before + 1, "not asked again within the window");
    std::thread::sleep(Duration::from_millis(3200).saturating_sub(failing_since.elapsed()));
    let passed_on = get(&server, "ESTALE0000001", "/bad-gateway.html");
    assert_eq!(status_and_cache(&passed_on), (502, Some("Error from streamfront")), "{passed_on:?}");
    // The 502 is then itself cached.
    assert_eq!(get(&server, "ESTALE0000001", "/bad-gateway.html").status, 502);
    assert_eq!(asked(&web, "/bad-gateway.html"), before + 2);

    // The origin does not answer within its 1 s read timeout: the same, with 504.
    web.stall("/slow.html");
    let started = Instant::now();
    let stale = get(&server, "ESTALE0000001", "/slow.html");
    assert_eq!((stale.status, stale.text().as_str()), (200, "cached slow.html"), "{stale:?}");
    let quick = Instant::now();
    assert_eq!(get(&server, "ESTALE0000001", "/slow.html").status, 200);
    assert!(quick.elapsed() < Duration::from_millis(500), "served stale without waiting: {:?}", quick.elapsed());
    std::thread::sleep(Duration::from_millis(3200).saturating_sub(started.elapsed()));
    let timed_out = get(&server, "ESTALE0000001", "/slow.html");
    assert_eq!(status_and_cache(&timed_out), (504, Some("Error from streamfront")), "{timed_out:?}");
    web.release("/slow.html");

    // `stale-if-error=0`: the error at once.
    web.fail("/no-stale.html", 502);
    let refused = get(&server, "ESTALE0000001", "/no-stale.html");
    assert_eq!(refused.status, 502, "stale-if-error=0 forbids the stale copy: {refused:?}");
}

#[test]
fn two_distributions_of_one_origin_keep_their_own_objects() {
    let dir = TempDir::new("web-two");
    let web = WebServer::start(&dir.path().join("app"));
    web.write_file("shared.html", b"first");
    let (server, store) = start_server(&dir, Vec::new());
    // One keeps objects for 1 s, the other for a day.
    put_web(&store, "ESHORT0000001", custom_origin_config(web.port(), 1, serde_json::json!([])));
    put_web(&store, "ELONG00000001", custom_origin_config(web.port(), 86400, serde_json::json!([])));
    wait_served(&server, "ESHORT0000001");
    wait_served(&server, "ELONG00000001");

    let short = get(&server, "ESHORT0000001", "/shared.html");
    assert_eq!(status_and_cache(&short), (200, Some("Miss from streamfront")), "{short:?}");
    let long = get(&server, "ELONG00000001", "/shared.html");
    assert_eq!(status_and_cache(&long), (200, Some("Miss from streamfront")), "not the other's object: {long:?}");
    assert_eq!(get(&server, "ELONG00000001", "/shared.html").header("x-cache"), Some("Hit from streamfront"));

    // Each distribution's TTL: the short one sees the change, the long one keeps its copy.
    web.write_file("shared.html", b"second");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(get(&server, "ESHORT0000001", "/shared.html").text(), "second");
    let kept = get(&server, "ELONG00000001", "/shared.html");
    assert_eq!((kept.text().as_str(), kept.header("x-cache")), ("first", Some("Hit from streamfront")), "{kept:?}");

    // An invalidation of the short one leaves the long one's object.
    let seq = put_invalidation(&store, "ESHORT0000001", "I2DISTRIBUTIONS", vec!["/*".into()]);
    wait_deployed(&store, seq, 1);
    let after = get(&server, "ELONG00000001", "/shared.html");
    assert_eq!((after.text().as_str(), after.header("x-cache")), ("first", Some("Hit from streamfront")), "{after:?}");
    assert_eq!(get(&server, "ESHORT0000001", "/shared.html").header("x-cache"), Some("Miss from streamfront"));
}

/// Whether the heartbeats of all `edges` say they applied change `seq`: what the API reports
/// an invalidation `Completed` from.
async fn deployed(store: &Store, seq: u64, edges: usize) -> bool {
    let heartbeats = store.heartbeats().await.unwrap();
    heartbeats.len() == edges && sf_control::deployment(seq, &heartbeats, SystemTime::now()) == Deployment::Deployed
}

/// Waits (polling every few milliseconds) until change `seq` is deployed on `edges` edges.
fn wait_deployed(store_dir: &Path, seq: u64, edges: usize) {
    let runtime = runtime();
    let store = runtime.block_on(open_store(store_dir));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !runtime.block_on(deployed(&store, seq, edges)) {
        assert!(Instant::now() < deadline, "change {seq} never deployed on {edges} edges");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn an_invalidation_is_completed_only_once_every_edge_has_dropped_its_paths() {
    const ID: &str = "EFLEET0000001";
    let dir = TempDir::new("web-fleet");
    let s3 = S3Server::start(&dir.path().join("s3"));
    s3.put("site/page.html", b"first");
    let (edge_a, store) = start_server(&dir, s3.aws_env());
    let empty = dir.path().join("default-origin");
    let args = vec!["--store".to_owned(), store.display().to_string()];
    let edge_b = Server::start_with(&empty, ServerOptions { env: s3.aws_env(), args, ..Default::default() });
    put_web(&store, ID, bucket_config());
    for edge in [&edge_a, &edge_b] {
        wait_served(edge, ID);
        assert_eq!(get(edge, ID, "/page.html").text(), "first");
    }
    s3.put("site/page.html", b"second");
    assert_eq!(get(&edge_b, ID, "/page.html").text(), "first", "cached for a day");

    // Many paths (CloudFront takes up to 3,000 in one invalidation), the changed one last:
    // dropping them takes each edge a while after it has read the change.
    let mut paths: Vec<String> = (0..2999).map(|i| format!("/other/{i}.html")).collect();
    paths.push("/page.html".into());
    let seq = put_invalidation(&store, ID, "IFLEET", paths);
    wait_deployed(&store, seq, 2);
    // The moment both edges say so, both serve the new object.
    for (name, edge) in [("a", &edge_a), ("b", &edge_b)] {
        let reply = get(edge, ID, "/page.html");
        assert_eq!(reply.text(), "second", "edge {name} reported the invalidation applied before it was: {reply:?}");
    }
}
