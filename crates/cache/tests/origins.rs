//! Many origins in one cache, names the origin does not have, and lookups that must not wait
//! for each other, against real S3 servers on loopback (sf-testkit). Origin requests are
//! counted on the servers' side.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sf_cache::{CacheConfig, DiskConfig, EdgeCache, Origin, OriginCache, OriginError, S3Origin, S3Settings};
use sf_testkit::{ACCESS_KEY, BUCKET, REGION, S3Server, SECRET_KEY};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn settings(endpoint: String) -> S3Settings {
    S3Settings {
        region: Some(REGION.into()),
        endpoint: Some(endpoint),
        access_key_id: Some(ACCESS_KEY.into()),
        secret_access_key: Some(SECRET_KEY.into()),
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(1),
        max_retries: 0,
        ..S3Settings::default()
    }
}

fn bucket(server: &S3Server, bucket: &str) -> Origin {
    Origin::S3(S3Origin::new(bucket, "", &settings(server.endpoint())).unwrap())
}

fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
}

fn config(block_size: u64) -> CacheConfig {
    CacheConfig { block_size, memory_bytes: 16 << 20, ..CacheConfig::default() }
}

/// Requests the server received since `before`.
fn since(server: &S3Server, before: usize) -> usize {
    server.requests().len() - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_origins_with_the_same_key_and_version_read_their_own_bytes() {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (a, b) = (S3Server::start(dir_a.path()), S3Server::start(dir_b.path()));
    let (bytes_a, bytes_b) = (content(10_000, 1), content(10_000, 2));
    a.write_file("a.flv", &bytes_a);
    b.write_file("a.flv", &bytes_b);
    // The same bucket name, key and ETag at two endpoints.
    a.set_etag("a.flv", "same-etag");
    b.set_etag("a.flv", "same-etag");
    let cache = EdgeCache::new(config(4096));
    let (origin_a, origin_b) = (cache.origin_cache(bucket(&a, BUCKET)), cache.origin_cache(bucket(&b, BUCKET)));
    let object_a = origin_a.open("a.flv").await.unwrap();
    assert_eq!(&object_a.read_range(0, 10_000).await.unwrap()[..], &bytes_a[..]);
    let object_b = origin_b.open("a.flv").await.unwrap();
    assert_eq!(object_b.meta().version, object_a.meta().version);
    assert_eq!(&object_b.read_range(0, 10_000).await.unwrap()[..], &bytes_b[..]);
    assert_eq!(&object_a.read_range(0, 10_000).await.unwrap()[..], &bytes_a[..]);
}

async fn read_all(origin: &Arc<OriginCache>, key: &str) -> Vec<u8> {
    origin.open(key).await.unwrap().read_range(0, 1 << 20).await.unwrap().to_vec()
}

async fn wait_for_disk(cache: &EdgeCache, blocks: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while cache.disk_blocks() < blocks {
        assert!(Instant::now() < deadline, "disk has {} blocks, want {blocks}", cache.disk_blocks());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_tier_reopened_with_another_origin_serves_none_of_the_first_ones_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let (bytes_a, bytes_b) = (content(3 * 4096, 3), content(3 * 4096, 4));
    server.write_file("a.flv", &bytes_a);
    // A second bucket (s3s-fs serves each subdirectory of its root as one).
    std::fs::create_dir_all(dir.path().join("other")).unwrap();
    std::fs::write(dir.path().join("other/a.flv"), &bytes_b).unwrap();
    let mut cfg = config(4096);
    cfg.disk = Some(DiskConfig::under_data_dir(data_dir.path(), 1 << 20));
    {
        let cache = EdgeCache::try_new(cfg.clone()).unwrap();
        assert_eq!(read_all(&cache.origin_cache(bucket(&server, BUCKET)), "a.flv").await, bytes_a);
        wait_for_disk(&cache, 3).await;
    }
    {
        let cache = EdgeCache::try_new(cfg.clone()).unwrap();
        assert_eq!(read_all(&cache.origin_cache(bucket(&server, "other")), "a.flv").await, bytes_b);
        wait_for_disk(&cache, 6).await;
    }
    // Back to the first origin: its blocks, all from disk.
    let cache = EdgeCache::try_new(cfg).unwrap();
    let before = server.requests().len();
    assert_eq!(read_all(&cache.origin_cache(bucket(&server, BUCKET)), "a.flv").await, bytes_a);
    assert_eq!(since(&server, before), 0, "{:#?}", &server.requests()[before..]);
    assert_eq!(cache.stats().disk_hits.load(std::sync::atomic::Ordering::SeqCst), 3);
}

const CANDIDATES: [&str; 7] = ["m.mp4", "m.f4v", "m.m4v", "m.mov", "m.m4a", "m.3gp", "m.f4a"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_names_cost_at_most_two_requests_then_none_until_the_ttl_ends() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    server.write_file("dir/m.3gp", b"three-gp");
    server.write_file("m.f4a-not-a-candidate", b"x");
    let cfg = CacheConfig { negative_ttl: Duration::from_millis(700), ..config(4096) };
    let origin = EdgeCache::new(cfg).origin_cache(bucket(&server, BUCKET));

    // One key.
    let before = server.requests().len();
    assert!(matches!(origin.open("missing.flv").await, Err(OriginError::NotFound)));
    let first = since(&server, before);
    assert!((1..=2).contains(&first), "{first} requests");
    let before = server.requests().len();
    assert!(matches!(origin.open("missing.flv").await, Err(OriginError::NotFound)));
    assert_eq!(since(&server, before), 0);

    // Seven candidate keys.
    let before = server.requests().len();
    assert!(matches!(origin.open_first(&CANDIDATES).await, Err(OriginError::NotFound)));
    let first = since(&server, before);
    assert!((1..=2).contains(&first), "{first} requests: {:#?}", &server.requests()[before..]);
    let before = server.requests().len();
    assert!(matches!(origin.open_first(&CANDIDATES).await, Err(OriginError::NotFound)));
    assert!(matches!(origin.open("m.mov").await, Err(OriginError::NotFound)));
    assert_eq!(since(&server, before), 0);

    // After the TTL the origin is asked again.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let before = server.requests().len();
    assert!(matches!(origin.open("missing.flv").await, Err(OriginError::NotFound)));
    assert!(since(&server, before) > 0);

    // A candidate that exists is found after the missing ones before it.
    let dir_candidates: Vec<String> = CANDIDATES.iter().map(|key| format!("dir/{key}")).collect();
    let dir_candidates: Vec<&str> = dir_candidates.iter().map(String::as_str).collect();
    let (at, object) = origin.open_first(&dir_candidates).await.unwrap();
    assert_eq!((at, object.key()), (5, "dir/m.3gp"));
    assert_eq!(&object.read_range(0, 100).await.unwrap()[..], b"three-gp");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_lookups_of_one_missing_name_cost_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    let origin = EdgeCache::new(config(4096)).origin_cache(bucket(&server, BUCKET));
    let before = server.requests().len();
    let mut tasks = Vec::new();
    for i in 0..16 {
        let origin = Arc::clone(&origin);
        tasks.push(tokio::spawn(async move {
            if i % 2 == 0 {
                origin.open_first(&CANDIDATES).await.map(|_| ())
            } else {
                origin.open("gone.flv").await.map(|_| ())
            }
        }));
    }
    for task in tasks {
        assert!(matches!(task.await.unwrap(), Err(OriginError::NotFound)));
    }
    // One LIST for the candidates, and one GET and presigned HEAD for gone.flv.
    let requests = server.requests()[before..].to_vec();
    assert!(requests.len() <= 3, "{requests:#?}");
}

/// A TCP proxy to `upstream` that holds back, for `delay`, every connection whose first
/// request mentions `marker` (the S3 server has no per-key stall of its own).
async fn stalling_proxy(upstream: SocketAddr, marker: &'static str, delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut first = vec![0u8; 8192];
                let Ok(n) = client.read(&mut first).await else { return };
                if String::from_utf8_lossy(&first[..n]).lines().next().is_some_and(|line| line.contains(marker)) {
                    tokio::time::sleep(delay).await;
                }
                let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                if server.write_all(&first[..n]).await.is_ok() {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_lookup_does_not_delay_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let server = S3Server::start(dir.path());
    server.write_file("slow.flv", b"slow");
    server.write_file("fast.flv", b"fast");
    let proxy = stalling_proxy(server.addr(), "slow", Duration::from_millis(2000)).await;
    let origin = Origin::S3(S3Origin::new(BUCKET, "", &settings(format!("http://{proxy}"))).unwrap());
    let origin = EdgeCache::new(config(4096)).origin_cache(origin);
    let slow = {
        let origin = Arc::clone(&origin);
        tokio::spawn(async move { origin.open("slow.flv").await.map(|_| Instant::now()) })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let fast = origin.open("fast.flv").await.unwrap();
    let fast_done = Instant::now();
    assert!(fast_done - started < Duration::from_millis(1000), "fast.flv took {:?}", fast_done - started);
    assert_eq!(&fast.read_range(0, 10).await.unwrap()[..], b"fast");
    let slow_done = slow.await.unwrap().unwrap();
    assert!(slow_done > fast_done, "the slow lookup was not slow: the test proves nothing");
}
