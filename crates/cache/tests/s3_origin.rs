//! The cache against a real S3 server on loopback (s3s + s3s-fs, in process, with SigV4
//! signatures checked), plus bound and damage tests on the disk tier.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sf_cache::{
    CacheConfig, DiskConfig, EdgeCache, Freshness, LocalOrigin, Origin, OriginCache, OriginError, S3Origin, S3Settings,
};
use sf_testkit::pseudo_random_bytes as content;
use sf_testkit::{ACCESS_KEY, BUCKET, REGION, S3Server, SECRET_KEY};
use tokio::net::TcpListener;

/// Origin settings for `server`, signing with `secret`.
fn settings(server: &S3Server, secret: &str) -> S3Settings {
    S3Settings {
        region: Some(REGION.into()),
        endpoint: Some(server.endpoint()),
        access_key_id: Some(ACCESS_KEY.into()),
        secret_access_key: Some(secret.into()),
        request_timeout: Duration::from_secs(3),
        connect_timeout: Duration::from_secs(1),
        max_retries: 2,
        retry_timeout: Duration::from_secs(2),
        ..S3Settings::default()
    }
}

fn origin(server: &S3Server) -> Origin {
    Origin::S3(S3Origin::new(BUCKET, "", &settings(server, SECRET_KEY)).unwrap())
}

/// GETs and HEADs the server answered.
fn requests(server: &S3Server) -> usize {
    server.gets() + server.heads()
}

fn config(block_size: u64) -> CacheConfig {
    CacheConfig { block_size, memory_bytes: 64 << 20, ..CacheConfig::default() }
}

/// A cache of its own in front of `origin`.
fn cache_for(origin: Origin, config: CacheConfig) -> Arc<OriginCache> {
    EdgeCache::try_new(config).unwrap().origin_cache(origin)
}

fn stat(v: &AtomicU64) -> u64 {
    v.load(Ordering::SeqCst)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    server.put("a.flv", b"hello");
    let good = cache_for(origin(&server), config(1024));
    let object = good.open("a.flv").await.unwrap();
    assert_eq!(&object.read_range(0, 100).await.unwrap()[..], b"hello");
    let bad = Origin::S3(S3Origin::new(BUCKET, "", &settings(&server, "wrong-secret")).unwrap());
    let bad = cache_for(bad, config(1024));
    let error = bad.open("a.flv").await.unwrap_err();
    assert!(matches!(error, OriginError::AccessDenied), "{error:?}");
    assert!(matches!(good.open("missing.flv").await, Err(OriginError::NotFound)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_bytes_for_arbitrary_ranges_and_prefixes() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let data = content(300_001, 1);
    server.put("videos/clip.mp4", &data);
    let origin = Origin::S3(S3Origin::new(BUCKET, "videos", &settings(&server, SECRET_KEY)).unwrap());
    assert_eq!(origin.describe(), format!("s3://{BUCKET}/videos"));
    let cache = cache_for(origin, config(65_536));
    let object = cache.open("clip.mp4").await.unwrap();
    assert_eq!(object.meta().size, data.len() as u64);
    let mut x = 7u64;
    let mut ranges = vec![(0, 1), (65_535, 2), (0, 300_001), (299_999, 10), (300_001, 5), (131_072, 65_536)];
    for _ in 0..40 {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ranges.push(((x >> 20) % 310_000, (x >> 40) % 150_000));
    }
    for (offset, len) in ranges {
        let got = object.read_range(offset, len).await.unwrap();
        let start = (offset as usize).min(data.len());
        let end = ((offset + len) as usize).min(data.len());
        assert_eq!(&got[..], &data[start..end], "range {offset}+{len}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_concurrent_cold_readers_fetch_each_block_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let data = content(10 * 65_536 - 100, 2);
    server.put("a.mp4", &data);
    let cache = cache_for(origin(&server), config(65_536));
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let cache = Arc::clone(&cache);
        tasks.push(tokio::spawn(async move {
            let object = cache.open("a.mp4").await.unwrap();
            let mut out = Vec::new();
            let mut at = 0;
            while at < object.meta().size {
                let chunk = object.read_range(at, 10_000).await.unwrap();
                at += chunk.len() as u64;
                out.extend_from_slice(&chunk);
            }
            out
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap() == data);
    }
    assert_eq!(server.gets(), 10, "one GET per block");
    assert_eq!(stat(&cache.store().stats().origin_fetches), 10);
    assert_eq!(stat(&cache.store().stats().origin_bytes), data.len() as u64);
    assert!(stat(&cache.store().stats().single_flight_joins) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_in_the_middle_of_a_large_object_fetches_a_small_fraction() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let size: u64 = 200 << 20;
    // Written straight into the server's directory (sparse), rather than uploaded, with an
    // ETag given (s3s-fs would otherwise hash all 200 MB on every request).
    let file = std::fs::File::create(server.bucket_dir().join("big.flv")).unwrap();
    file.set_len(size).unwrap();
    server.set_etag("big.flv", "big-1");
    let cache = cache_for(origin(&server), config(1 << 20));
    let object = cache.open("big.flv").await.unwrap();
    assert_eq!(object.meta().size, size);
    let got = object.read_range(size / 2 + 12_345, 4096).await.unwrap();
    assert_eq!(got.len(), 4096);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let fetched = stat(&cache.store().stats().origin_bytes);
    let asked = server.get_bytes_asked();
    assert!(fetched <= 3 << 20 && asked <= 3 << 20, "fetched {fetched}, asked {asked} of {size}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn origin_down_cached_media_plays_uncached_fails_fast_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = S3Server::start(dir.path());
    let data = content(8 * 4096, 3);
    server.put("a.flv", &data);
    server.put("b.flv", b"other");
    let mut cfg = config(4096);
    cfg.read_ahead_blocks = 0;
    cfg.freshness =
        Freshness { default_ttl: Duration::from_millis(500), min_ttl: Duration::ZERO, ..Freshness::default() };
    let cache = cache_for(origin(&server), cfg);
    let object = cache.open("a.flv").await.unwrap();
    assert_eq!(&object.read_range(0, 8192).await.unwrap()[..], &data[..8192]);

    server.stop();
    // Cached ranges still read.
    assert_eq!(&object.read_range(100, 5000).await.unwrap()[..], &data[100..5100]);
    // Uncached ranges fail quickly and clearly.
    let started = Instant::now();
    let error = object.read_range(20_000, 100).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    let text = error.to_string();
    assert!(text.contains(&format!("origin s3://{BUCKET}")), "{text}");
    assert!(text.contains("cannot connect") || text.contains("timed out"), "{text}");
    // Unknown objects too.
    let started = Instant::now();
    assert!(matches!(cache.open("b.flv").await, Err(OriginError::Failed(_))));
    assert!(started.elapsed() < Duration::from_secs(5));
    // Once expired, the cached version is still served while the origin fails.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let stale = cache.open("a.flv").await.unwrap();
    assert_eq!(&stale.read_range(0, 10).await.unwrap()[..], &data[..10]);
    assert_eq!(stat(&cache.store().stats().stale_serves), 1);
    assert!(stat(&cache.store().stats().origin_errors) >= 3);

    server.restart();
    assert_eq!(&object.read_range(20_000, 100).await.unwrap()[..], &data[20_000..20_100]);
    assert_eq!(&cache.open("b.flv").await.unwrap().read_range(0, 10).await.unwrap()[..], b"other");
}

async fn wait_for_disk(cache: &OriginCache, blocks: usize) {
    let cache = cache.store();
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.disk_blocks() < blocks {
        assert!(Instant::now() < deadline, "disk has {} blocks, want {blocks}", cache.disk_blocks());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn block_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "blk") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disk_tier_survives_restart_and_damaged_blocks_are_fetched_again() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let data = content(6 * 4096 + 17, 4);
    server.put("a.mp4", &data);
    let mut cfg = config(4096);
    cfg.disk = Some(DiskConfig::under_data_dir(data_dir.path(), 1 << 20));
    {
        let cache = cache_for(origin(&server), cfg.clone());
        let object = cache.open("a.mp4").await.unwrap();
        assert_eq!(&object.read_range(0, 1 << 20).await.unwrap()[..], &data[..]);
        wait_for_disk(&cache, 7).await;
    }

    // A new cache over the same directory: no origin request at all.
    let before = requests(&server);
    let cache = cache_for(origin(&server), cfg.clone());
    let object = cache.open("a.mp4").await.unwrap();
    assert_eq!(&object.read_range(0, 1 << 20).await.unwrap()[..], &data[..]);
    assert_eq!(requests(&server), before, "served from disk");
    assert_eq!(stat(&cache.store().stats().disk_hits), 7);
    drop(cache);

    // Damage one block file and tear another: both are detected and fetched again.
    let mut files = block_files(&data_dir.path().join("cache"));
    assert_eq!(files.len(), 7);
    // Two whole blocks (file names are hashes: the 17-byte last block may sort anywhere).
    files.retain(|f| std::fs::metadata(f).unwrap().len() > 4096);
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let middle = bytes.len() - 1000;
    bytes[middle] ^= 0xff;
    std::fs::write(&files[0], &bytes).unwrap();
    let torn = std::fs::read(&files[1]).unwrap();
    std::fs::write(&files[1], &torn[..torn.len() / 2]).unwrap();
    let before = server.gets();
    let cache = cache_for(origin(&server), cfg);
    let object = cache.open("a.mp4").await.unwrap();
    assert_eq!(&object.read_range(0, 1 << 20).await.unwrap()[..], &data[..]);
    assert_eq!(stat(&cache.store().stats().disk_corrupt), 2);
    assert_eq!(server.gets() - before, 2, "only the damaged blocks are fetched again");
    wait_for_disk(&cache, 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_object_is_served_in_its_new_version_and_versions_never_mix() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let old = content(4 * 4096, 5);
    let new = content(4 * 4096, 6);
    server.put("a.flv", &old);
    let mut cfg = config(4096);
    cfg.read_ahead_blocks = 0;
    cfg.disk = Some(DiskConfig::under_data_dir(data_dir.path(), 1 << 20));
    cfg.freshness = Freshness { default_ttl: Duration::from_secs(1), min_ttl: Duration::ZERO, ..Freshness::default() };
    let cache = cache_for(origin(&server), cfg);
    let first = cache.open("a.flv").await.unwrap();
    assert_eq!(&first.read_range(0, 4096).await.unwrap()[..], &old[..4096]);

    server.put("a.flv", &new);
    // Still fresh: the old version, whose uncached blocks can no longer be had.
    let again = cache.open("a.flv").await.unwrap();
    assert_eq!(again.meta().version, first.meta().version);
    let error = again.read_range(8192, 100).await.unwrap_err();
    assert!(matches!(error, OriginError::Changed), "{error:?}");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let second = cache.open("a.flv").await.unwrap();
    assert_ne!(second.meta().version, first.meta().version);
    assert_eq!(&second.read_range(0, 1 << 20).await.unwrap()[..], &new[..]);
    assert!(stat(&cache.store().stats().revalidations_changed) >= 1);
    // The old handle still reads only old bytes (from cache) or fails; never new ones.
    match first.read_range(0, 4096).await {
        Ok(bytes) => assert_eq!(&bytes[..], &old[..4096]),
        Err(e) => assert!(matches!(e, OriginError::Changed)),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_control_max_age_sets_freshness() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    server.put_with("cc.flv", b"x", Some("public, max-age=7200"));
    let origin = origin(&server);
    let meta = origin.head("cc.flv").await.unwrap();
    assert_eq!(meta.cache_control.as_deref(), Some("public, max-age=7200"));
    assert_eq!(Freshness::default().ttl(&meta), Duration::from_secs(7200));
}

#[tokio::test]
async fn expires_sets_freshness_when_cache_control_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let in_three_hours = std::time::SystemTime::now() + Duration::from_secs(3 * 3600);
    server.put("ex.flv", b"x");
    server.set_cache_headers("ex.flv", None, Some(in_three_hours));
    server.put("both.flv", b"x");
    server.set_cache_headers("both.flv", Some("public, max-age=7200"), Some(in_three_hours));
    server.put("none.flv", b"x");
    let origin = origin(&server);

    let ttl = Freshness::default().ttl(&origin.head("ex.flv").await.unwrap());
    assert!(ttl > Duration::from_secs(3 * 3600 - 120) && ttl <= Duration::from_secs(3 * 3600), "{ttl:?}");
    // max-age wins over Expires, as at CloudFront.
    assert_eq!(Freshness::default().ttl(&origin.head("both.flv").await.unwrap()), Duration::from_secs(7200));
    assert_eq!(Freshness::default().ttl(&origin.head("none.flv").await.unwrap()), Freshness::default().default_ttl);

    // An Expires in the past still gets CloudFront's one-hour floor.
    server.set_cache_headers("ex.flv", None, Some(std::time::SystemTime::now() - Duration::from_secs(60)));
    assert_eq!(Freshness::default().ttl(&origin.head("ex.flv").await.unwrap()), Duration::from_secs(3600));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_and_server_errors_are_reported_within_seconds() {
    // A server that accepts and never answers, and one that answers 503.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    let failing = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let failing_addr = failing.local_addr().unwrap();
    let served = Arc::new(AtomicU64::new(0));
    let served2 = Arc::clone(&served);
    tokio::spawn(async move {
        while let Ok((stream, _)) = failing.accept().await {
            let served = Arc::clone(&served2);
            tokio::spawn(async move {
                let handler = service_fn(move |_request: hyper::Request<hyper::body::Incoming>| {
                    served.fetch_add(1, Ordering::SeqCst);
                    async {
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .status(503)
                                .body(http_body_util::Empty::<bytes::Bytes>::new())
                                .unwrap(),
                        )
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), handler).await;
            });
        }
    });
    let settings = |addr: SocketAddr| S3Settings {
        region: Some("us-east-1".into()),
        endpoint: Some(format!("http://{addr}")),
        access_key_id: Some(ACCESS_KEY.into()),
        secret_access_key: Some(SECRET_KEY.into()),
        request_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        max_retries: 2,
        retry_timeout: Duration::from_secs(3),
        ..S3Settings::default()
    };
    let started = Instant::now();
    let silent = cache_for(Origin::S3(S3Origin::new("b", "", &settings(silent_addr)).unwrap()), config(4096));
    let error = silent.open("a.flv").await.unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());
    assert!(error.contains("origin s3://b") && error.contains("timed out"), "{error}");

    let started = Instant::now();
    let failing = cache_for(Origin::S3(S3Origin::new("b", "", &settings(failing_addr)).unwrap()), config(4096));
    let error = failing.open("a.flv").await.unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(error.contains("origin s3://b") && error.contains("503"), "{error}");
    // A cold open sends two requests together: the first block's GET, tried at most 1 + 2
    // times, and one presigned HEAD for `Expires` (never retried).
    assert_eq!(served.load(Ordering::SeqCst), 4, "bounded retries: 1 + 2 GETs + 1 HEAD");
    assert_eq!(stat(&failing.store().stats().origin_errors), 1);
}

#[test]
fn origin_specs() {
    let dir = tempfile::tempdir().unwrap();
    let local = Origin::from_spec(dir.path().to_str().unwrap()).unwrap();
    assert!(matches!(local, Origin::Local(_)));
    assert!(Origin::from_spec("/no/such/dir").is_err());
    assert!(Origin::from_spec("s3://").is_err());
    assert!(Origin::from_spec("http://x/y").is_err());
    let settings = S3Settings {
        region: Some("eu-west-1".into()),
        endpoint: Some("http://127.0.0.1:9".into()),
        ..S3Settings::default()
    };
    let s3 = Origin::from_spec_with("s3://bucket/some/prefix/", &settings).unwrap();
    assert_eq!(s3.describe(), "s3://bucket/some/prefix");
    assert!(Origin::from_spec_with("s3://bucket/../x", &settings).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_and_disk_stay_within_bounds_under_a_stream_of_distinct_objects() {
    let media = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    for i in 0..40 {
        std::fs::write(media.path().join(format!("{i}.flv")), content(100_000, i)).unwrap();
    }
    let memory_bytes = 128 * 1024;
    let disk_bytes = 512 * 1024;
    let cfg = CacheConfig {
        block_size: 16 * 1024,
        memory_bytes,
        disk: Some(DiskConfig::under_data_dir(data_dir.path(), disk_bytes)),
        ..CacheConfig::default()
    };
    let cache = cache_for(Origin::Local(LocalOrigin::new(media.path())), cfg.clone());
    for i in 0..40 {
        let object = cache.open(&format!("{i}.flv")).await.unwrap();
        let got = object.read_range(0, 100_000).await.unwrap();
        assert!(got == content(100_000, i));
        assert!(cache.store().memory_used() <= memory_bytes, "memory {}", cache.store().memory_used());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(cache.store().memory_used() <= memory_bytes);
    assert!(cache.store().disk_used() <= disk_bytes, "disk {}", cache.store().disk_used());
    let on_disk: u64 = block_files(&data_dir.path().join("cache")).iter().map(|p| p.metadata().unwrap().len()).sum();
    assert!(on_disk <= disk_bytes, "files {on_disk}");
    assert!(stat(&cache.store().stats().disk_evictions) > 0 && stat(&cache.store().stats().memory_evictions) > 0);
    drop(cache);
    // Reopening with a smaller bound trims the directory.
    let small = CacheConfig { disk: Some(DiskConfig::under_data_dir(data_dir.path(), 100_000)), ..cfg };
    let cache = cache_for(Origin::Local(LocalOrigin::new(media.path())), small);
    assert!(cache.store().disk_used() <= 100_000);
    let on_disk: u64 = block_files(&data_dir.path().join("cache")).iter().map(|p| p.metadata().unwrap().len()).sum();
    assert!(on_disk <= 100_000, "files {on_disk}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_objects_carry_their_etag_modification_time_and_content_type() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let mut options = object_store::PutOptions::default();
    options.attributes.insert(object_store::Attribute::CacheControl, "max-age=300".into());
    options.attributes.insert(object_store::Attribute::ContentType, "text/html".into());
    let payload = object_store::PutPayload::from_static(b"<html></html>");
    object_store::ObjectStore::put_opts(&server.client(), &"page.html".into(), payload, options).await.unwrap();
    let origin = cache_for(origin(&server), config(4096));
    let handle = origin.open("page.html").await.unwrap();
    let meta = handle.meta();
    assert_eq!(meta.etag.as_deref(), Some(meta.version.as_str()), "{meta:?}");
    assert!(meta.etag.as_deref().is_some_and(|etag| etag.starts_with('"')), "{meta:?}");
    let age = std::time::SystemTime::now().duration_since(meta.last_modified.expect("Last-Modified")).unwrap();
    assert!(age < Duration::from_secs(60), "{meta:?}");
    assert_eq!(meta.cache_control.as_deref(), Some("max-age=300"));
    assert_eq!(meta.content_type.as_deref(), Some("text/html"));
}
