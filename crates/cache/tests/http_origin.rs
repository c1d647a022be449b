//! The cache against a custom HTTP origin (sf-testkit's web server on loopback, counting
//! what it is asked), and invalidation, in memory and on disk.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sf_cache::{
    CacheConfig, DiskConfig, EdgeCache, Freshness, HttpOrigin, HttpOriginSpec, HttpScheme, Lifetime, LocalOrigin,
    Lookup, Origin, OriginCache, OriginError, Trust,
};
use sf_testkit::WebServer;

use sf_testkit::pseudo_random_bytes as content;

const BLOCK: u64 = 4096;

fn spec(server: &WebServer) -> HttpOriginSpec {
    HttpOriginSpec {
        read_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(1),
        ..HttpOriginSpec::new(HttpScheme::Http, "127.0.0.1", server.port())
    }
}

fn config() -> CacheConfig {
    CacheConfig { block_size: BLOCK, memory_bytes: 16 << 20, read_ahead_blocks: 0, ..CacheConfig::default() }
}

fn cache_with(spec: HttpOriginSpec, config: CacheConfig) -> Arc<OriginCache> {
    EdgeCache::try_new(config).unwrap().origin_cache(Origin::Http(HttpOrigin::new(spec).unwrap()))
}

fn stat(v: &AtomicU64) -> u64 {
    v.load(Ordering::SeqCst)
}

async fn read_all(origin: &Arc<OriginCache>, key: &str) -> Vec<u8> {
    let handle = origin.open(key).await.unwrap();
    handle.read_range(0, handle.meta().size).await.unwrap().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_come_with_their_metadata_and_the_second_read_costs_no_request() {
    let root = tempfile::tempdir().unwrap();
    let server = WebServer::start(root.path());
    let data = content(3 * BLOCK as usize + 100, 1);
    server.write_file("site/player/page.html", &data);
    server.add_header("/site/player/page.html", "Cache-Control", "max-age=600");
    server.add_header("/site/player/page.html", "Expires", "Thu, 01 Dec 2094 16:00:00 GMT");
    server.require_header("x-origin-secret", "s3cr3t");
    let spec = HttpOriginSpec {
        path_prefix: "/site".into(),
        headers: vec![("X-Origin-Secret".into(), "s3cr3t".into())],
        ..spec(&server)
    };
    let origin = cache_with(spec, config());

    let handle = origin.open("player/page.html").await.unwrap();
    let meta = handle.meta().clone();
    assert_eq!(meta.size, data.len() as u64);
    assert_eq!(meta.content_type.as_deref(), Some("text/html"));
    assert_eq!(meta.cache_control.as_deref(), Some("max-age=600"));
    assert_eq!(meta.expires.as_deref(), Some("Thu, 01 Dec 2094 16:00:00 GMT"));
    let etag = meta.etag.clone().expect("an ETag");
    assert!(etag.starts_with('"'), "{etag}");
    assert_eq!(meta.version, etag);
    let mtime = std::fs::metadata(root.path().join("site/player/page.html")).unwrap().modified().unwrap();
    let last_modified = meta.last_modified.expect("a Last-Modified");
    assert!(mtime.duration_since(last_modified).unwrap() < Duration::from_secs(1));
    assert_eq!(handle.read_range(0, meta.size).await.unwrap(), data);

    let requests = server.requests();
    assert_eq!(requests.len(), 4, "a first look and three blocks: {requests:#?}");
    for request in &requests {
        assert_eq!(request.target.split('/').nth(1), Some("site"), "{request:?}");
        assert_eq!(request.header("user-agent"), Some("Amazon CloudFront"));
        assert_eq!(request.header("x-origin-secret"), Some("s3cr3t"));
        assert!(request.header("range").is_some());
    }
    // Blocks of a known version are asked for that version only.
    assert!(requests[1..].iter().all(|r| r.header("if-match") == Some(etag.as_str())), "{requests:#?}");

    assert_eq!(read_all(&origin, "player/page.html").await, data);
    assert_eq!(server.requests().len(), 4, "the second read is served from the cache");
    let stats = origin.store().stats();
    assert_eq!(stat(&stats.origin_bytes), data.len() as u64);
    assert_eq!(stat(&stats.origin_errors), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_that_ignores_range_is_read_whole_once_and_ranges_come_from_the_cache() {
    let root = tempfile::tempdir().unwrap();
    let server = WebServer::start(root.path());
    server.ignore_range(true);
    let data = content(10 * BLOCK as usize + 7, 2);
    server.write_file("big.mp4", &data);
    let origin = cache_with(spec(&server), config());

    // A read in the middle first: the whole object is fetched once, whatever is asked.
    let handle = origin.open("big.mp4").await.unwrap();
    let middle = handle.read_range(5 * BLOCK + 10, 2 * BLOCK).await.unwrap();
    assert_eq!(&middle[..], &data[5 * BLOCK as usize + 10..7 * BLOCK as usize + 10]);
    assert_eq!(server.count("GET"), 2, "the first look, then one GET of the whole object: {:#?}", server.requests());
    assert_eq!(read_all(&origin, "big.mp4").await, data);
    assert_eq!(server.count("GET"), 2, "every block was cached from that one answer");

    // A small object (one block) costs one GET.
    server.write_file("small.js", b"var x = 1;");
    assert_eq!(read_all(&origin, "small.js").await, b"var x = 1;");
    assert_eq!(server.count("GET"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_answers_map_to_clear_errors_and_a_refused_head_falls_back_to_get() {
    let root = tempfile::tempdir().unwrap();
    let server = WebServer::start(root.path());
    for (path, code) in [("denied.html", 403), ("broken.html", 500), ("gone.html", 404)] {
        server.write_file(path, b"x");
        server.fail(&format!("/{path}"), code);
    }
    // Every open revalidates (a HEAD), so the HEAD fallback is exercised.
    let always = Freshness { default_ttl: Duration::ZERO, min_ttl: Duration::ZERO, ..Freshness::default() };
    let origin = cache_with(spec(&server), CacheConfig { freshness: always, negative_ttl: Duration::ZERO, ..config() });

    assert!(matches!(origin.open("missing.html").await, Err(OriginError::NotFound)));
    assert!(matches!(origin.open("gone.html").await, Err(OriginError::NotFound)));
    assert!(matches!(origin.open("denied.html").await, Err(OriginError::AccessDenied)));
    match origin.open("broken.html").await {
        Err(OriginError::Status { status: 500, text, .. }) => {
            assert!(text.contains(&server.endpoint()) && text.contains("500"), "{text}");
        }
        other => panic!("{other:?}"),
    }

    server.write_file("ok.txt", b"hello");
    server.refuse_head(true);
    assert_eq!(read_all(&origin, "ok.txt").await, b"hello");
    let version = origin.open("ok.txt").await.unwrap().meta().version.clone();
    let requests = server.requests();
    let last = requests.last().unwrap();
    assert_eq!((last.method.as_str(), last.header("range")), ("GET", Some("bytes=0-0")), "{requests:#?}");
    assert!(requests.iter().any(|r| r.method == "HEAD"), "a HEAD was tried first");
    assert_eq!(origin.open("ok.txt").await.unwrap().meta().version, version);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_origin_fails_within_its_timeouts_naming_it() {
    let root = tempfile::tempdir().unwrap();
    let server = WebServer::start(root.path());
    server.write_file("slow.mp4", b"data");
    server.stall("/slow.mp4");
    let spec = HttpOriginSpec { read_timeout: Duration::from_millis(300), attempts: 2, ..spec(&server) };
    let origin = cache_with(spec, config());
    let started = Instant::now();
    let result = origin.open("slow.mp4").await;
    let elapsed = started.elapsed();
    match result {
        Err(OriginError::Failed(text)) => {
            assert!(text.contains(&server.endpoint()) && text.contains("2 attempts"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(server.count("GET"), 2, "two attempts");
    server.release("/slow.mp4");
    assert_eq!(read_all(&origin, "slow.mp4").await, b"data");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_object_is_never_mixed_into_the_blocks_of_the_old_one() {
    let root = tempfile::tempdir().unwrap();
    let server = WebServer::start(root.path());
    server.write_file("clip.mp4", &content(3 * BLOCK as usize, 3));
    let origin = cache_with(spec(&server), config());
    let handle = origin.open("clip.mp4").await.unwrap();
    server.write_file("clip.mp4", &content(3 * BLOCK as usize, 4));
    server.set_etag("/clip.mp4", "\"replaced\"");
    assert!(matches!(handle.read_range(BLOCK, BLOCK).await, Err(OriginError::Changed)));
}

/// Rewrites `path` with `data` under the same ETag: only dropping the cached blocks can make
/// the new bytes visible.
fn replace_keeping_etag(server: &WebServer, path: &str, data: &[u8]) {
    server.set_etag(&format!("/{path}"), "\"same\"");
    server.write_file(path, data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidating_a_key_or_a_prefix_drops_versions_and_blocks_from_memory() {
    let root = tempfile::tempdir().unwrap();
    let server = WebServer::start(root.path());
    let size = 3 * BLOCK as usize;
    for path in ["v/a.mp4", "v/b.mp4", "c.mp4"] {
        replace_keeping_etag(&server, path, &content(size, 5));
    }
    let origin = cache_with(spec(&server), config());
    for path in ["v/a.mp4", "v/b.mp4", "c.mp4"] {
        assert_eq!(read_all(&origin, path).await, content(size, 5));
    }
    assert!(matches!(origin.open("v/new.mp4").await, Err(OriginError::NotFound)));
    for path in ["v/a.mp4", "v/b.mp4", "c.mp4", "v/new.mp4"] {
        replace_keeping_etag(&server, path, &content(size, 6));
    }
    // Fresh for a day: without an invalidation the old bytes are served.
    assert_eq!(read_all(&origin, "v/a.mp4").await, content(size, 5));

    assert_eq!(origin.invalidate("v/a.mp4").await, 1);
    assert_eq!(read_all(&origin, "v/a.mp4").await, content(size, 6));
    assert_eq!(read_all(&origin, "v/b.mp4").await, content(size, 5), "another key is untouched");

    assert_eq!(origin.invalidate("v/*").await, 3, "a, b and the missing name");
    for path in ["v/a.mp4", "v/b.mp4", "v/new.mp4"] {
        assert_eq!(read_all(&origin, path).await, content(size, 6), "{path}");
    }
    assert_eq!(read_all(&origin, "c.mp4").await, content(size, 5), "outside the prefix");
    assert_eq!(origin.invalidate("nothing/*").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalidation_drops_records_and_blocks_on_disk() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = WebServer::start(root.path());
    let size = 3 * BLOCK as usize;
    for path in ["a/x.mp4", "a/y.mp4", "b.mp4"] {
        replace_keeping_etag(&server, path, &content(size, 7));
    }
    let config = CacheConfig { disk: Some(DiskConfig::under_data_dir(data_dir.path(), 16 << 20)), ..config() };
    {
        let origin = cache_with(spec(&server), config.clone());
        for path in ["a/x.mp4", "a/y.mp4", "b.mp4"] {
            assert_eq!(read_all(&origin, path).await, content(size, 7));
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while origin.store().disk_blocks() < 9 {
            assert!(Instant::now() < deadline, "{} blocks on disk", origin.store().disk_blocks());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for path in ["a/x.mp4", "a/y.mp4", "b.mp4"] {
        replace_keeping_etag(&server, path, &content(size, 8));
    }
    // A restart: the records and blocks on disk are served without asking the origin...
    let origin = cache_with(spec(&server), config.clone());
    let before = server.requests().len();
    assert_eq!(read_all(&origin, "b.mp4").await, content(size, 7));
    assert_eq!(server.requests().len(), before);
    // ...until an invalidation, applied again after the restart, drops them.
    assert_eq!(origin.invalidate("a/x.mp4").await, 1);
    assert_eq!(origin.invalidate("a/*").await, 1, "y: x is gone already");
    assert_eq!(origin.store().disk_blocks(), 3, "only b's blocks are left");
    assert_eq!(read_all(&origin, "a/x.mp4").await, content(size, 8));
    assert_eq!(read_all(&origin, "a/y.mp4").await, content(size, 8));
    assert_eq!(origin.invalidate("*").await, 3);
    assert_eq!(read_all(&origin, "b.mp4").await, content(size, 8));
}

/// `Age` is how long ago the origin was asked, also for a version recalled from the disk
/// tier after a restart and kept for a lifetime the caller decided (not the configured one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_recalled_from_disk_keeps_the_time_it_was_checked() {
    let root = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = WebServer::start(root.path());
    replace_keeping_etag(&server, "page.html", &content(100, 1));
    // The configured freshness (a day by default for an object without Cache-Control) is not
    // the one decided here.
    let config = CacheConfig { disk: Some(DiskConfig::under_data_dir(data_dir.path(), 16 << 20)), ..config() };
    let ttl = |_: &sf_cache::ObjectMeta| Lifetime { fresh_for: Duration::from_secs(3600), stale_on_error: true };
    let error_ttl = |_: &OriginError| None;
    let trust = Trust::Decided { ttl: &ttl, error_ttl: &error_ttl };
    {
        let origin = cache_with(spec(&server), config.clone());
        let (_, lookup) = origin.open_trusting("page.html", &trust).await.unwrap();
        assert!(matches!(lookup, Lookup::Miss), "{lookup:?}");
    }
    let origin = cache_with(spec(&server), config);
    let before = server.requests().len();
    let (_, lookup) = origin.open_trusting("page.html", &trust).await.unwrap();
    assert_eq!(server.requests().len(), before, "recalled from disk, not asked again");
    let Lookup::Hit { age } = lookup else { panic!("{lookup:?}") };
    assert!(age < Duration::from_secs(60), "checked {age:?} ago, but it was moments ago");
}

#[tokio::test]
async fn local_files_have_a_content_type_a_weak_etag_and_a_modification_time() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("clip.mp4"), b"1234").unwrap();
    let origin = EdgeCache::new(config()).origin_cache(Origin::Local(LocalOrigin::new(dir.path())));
    let handle = origin.open("clip.mp4").await.unwrap();
    let meta = handle.meta();
    assert_eq!(meta.content_type.as_deref(), Some("video/mp4"));
    assert!(meta.etag.as_deref().is_some_and(|etag| etag.starts_with("W/\"")), "{meta:?}");
    assert!(meta.last_modified.is_some());
}
