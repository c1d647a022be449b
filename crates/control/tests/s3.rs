//! The control store on an S3 bucket: sf-testkit's S3 server (s3s + s3s-fs, SigV4 checked)
//! on loopback, reached through object_store's AmazonS3 as in production.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{Names, s3_settings, set};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use sf_cache::S3Settings;
use sf_control::{CommitAt, ControlLocation, FollowOptions, Follower, Store, StoreError, StoreHealth, StoreOptions};
use sf_testkit::{BUCKET, S3Server};

fn location() -> ControlLocation {
    ControlLocation::S3 { bucket: BUCKET.to_owned(), prefix: "fleet/control".to_owned() }
}

async fn open(settings: &S3Settings) -> Arc<Store> {
    location().open(settings, StoreOptions::default()).await.unwrap_or_else(|e| panic!("opening the S3 store: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_followers_on_one_s3_store_see_a_commit_within_five_seconds() {
    let root = tempfile::tempdir().unwrap();
    let server = S3Server::start(root.path());
    let settings = s3_settings(&server);
    let writer = open(&settings).await;
    assert_eq!(writer.commit(&set("before", "followers")).await.unwrap(), 1);

    // Two edges, each with a store of its own, at the default poll period.
    let edges = [open(&settings).await, open(&settings).await];
    let followers: Vec<Follower<Names>> = edges.iter().map(|s| s.follow(FollowOptions::default()).unwrap()).collect();
    for follower in &followers {
        follower.wait_for(1, Duration::from_secs(5)).await.expect("the follower loads what is there");
    }

    let seq = writer.commit(&set("origin", "s3://media/vod")).await.unwrap();
    let committed = Instant::now();
    for (i, follower) in followers.iter().enumerate() {
        let seen = follower.wait_for(seq, Duration::from_secs(5)).await;
        let seen = seen.unwrap_or_else(|| panic!("follower {i} did not see {seq} within 5 s of its commit"));
        assert_eq!(seen.state.values.get("origin").map(String::as_str), Some("s3://media/vod"));
    }
    assert!(committed.elapsed() < Duration::from_secs(5));
    let objects: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    assert!(objects.iter().any(|p| p.ends_with("/fleet/control/log/00000000000000000002.json")), "{objects:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_keep_their_state_while_the_store_is_away_and_recover_when_it_returns() {
    let root = tempfile::tempdir().unwrap();
    let mut server = S3Server::start(root.path());
    let settings = s3_settings(&server);
    let writer = open(&settings).await;
    assert_eq!(writer.commit(&set("k", "v1")).await.unwrap(), 1);
    let options = FollowOptions {
        poll_every: Duration::from_millis(200),
        step_timeout: Duration::from_secs(3),
        ..FollowOptions::default()
    };
    let edges = [open(&settings).await, open(&settings).await];
    let followers: Vec<Follower<Names>> = edges.iter().map(|s| s.follow(options.clone()).unwrap()).collect();
    for follower in &followers {
        follower.wait_for(1, Duration::from_secs(5)).await.expect("the follower loads");
        assert_eq!(*follower.health().borrow(), StoreHealth::Reachable);
    }

    tokio::task::block_in_place(|| server.stop());
    for follower in &followers {
        let mut health = follower.health();
        let down = tokio::time::timeout(
            Duration::from_secs(15),
            health.wait_for(|h| matches!(h, StoreHealth::Unreachable { .. })),
        )
        .await;
        let down = down.expect("the follower reports the store unreachable").unwrap().clone();
        let StoreHealth::Unreachable { error, .. } = down else { unreachable!() };
        assert!(!error.is_empty());
        let state = follower.current();
        assert_eq!(
            (state.seq, state.state.values.get("k").map(String::as_str)),
            (1, Some("v1")),
            "the last state is kept"
        );
    }

    tokio::task::block_in_place(|| server.restart());
    for follower in &followers {
        let mut health = follower.health();
        tokio::time::timeout(Duration::from_secs(15), health.wait_for(|h| *h == StoreHealth::Reachable))
            .await
            .expect("the follower reports the store reachable again")
            .unwrap();
    }
    let seq = writer.commit(&set("k", "v2")).await.unwrap();
    assert_eq!(seq, 2);
    for follower in &followers {
        let seen = follower
            .wait_for(seq, Duration::from_secs(5))
            .await
            .expect("the follower applies a change after the outage");
        assert_eq!(seen.state.values.get("k").map(String::as_str), Some("v2"));
    }
}

/// What the front of [`unsigned_s3_fs`] does to requests.
#[derive(Clone, Copy, PartialEq)]
enum Front {
    /// Passes everything through.
    Honest,
    /// Drops the `If-None-Match` header: a store that ignores create-if-absent, as some
    /// S3-compatible servers do.
    DropIfNoneMatch,
    /// Lets the first PUT of a log record land, then drops the connection instead of
    /// answering: the writer cannot know whether its commit happened.
    LoseFirstLogPutAnswer,
}

/// s3s-fs without authentication (so a request may be changed on the way without breaking a
/// SigV4 signature, which covers `if-none-match`) behind `front`. Returns its address; it
/// stops when the runtime does.
async fn unsigned_s3_fs(root: &Path, front: Front) -> SocketAddr {
    std::fs::create_dir_all(root.join(BUCKET)).unwrap();
    let service = s3s::service::S3ServiceBuilder::new(s3s_fs::FileSystem::new(root).unwrap()).build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer_lost = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            let answer_lost = Arc::clone(&answer_lost);
            tokio::spawn(async move {
                let handler = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                    if front == Front::DropIfNoneMatch {
                        request.headers_mut().remove(hyper::header::IF_NONE_MATCH);
                    }
                    let lose_answer = front == Front::LoseFirstLogPutAnswer
                        && request.method() == hyper::Method::PUT
                        && request.uri().path().contains("/log/")
                        && !answer_lost.swap(true, Ordering::SeqCst);
                    let service = service.clone();
                    async move {
                        let response = hyper::service::Service::call(&service, request).await;
                        if lose_answer {
                            // hyper closes the connection without a response.
                            return Err(std::io::Error::other("answer lost"));
                        }
                        response.map_err(|e| std::io::Error::other(format!("{e:?}")))
                    }
                });
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), handler).await;
            });
        }
    });
    addr
}

fn unsigned_settings(addr: SocketAddr) -> S3Settings {
    S3Settings {
        region: Some(sf_testkit::REGION.to_owned()),
        endpoint: Some(format!("http://{addr}")),
        anonymous: true,
        max_retries: 0,
        ..S3Settings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_ignores_if_none_match_is_refused() {
    // The same server honouring the header is accepted: what follows is the header's doing.
    let honest = tempfile::tempdir().unwrap();
    let addr = unsigned_s3_fs(honest.path(), Front::Honest).await;
    location().open(&unsigned_settings(addr), StoreOptions::default()).await.expect("a store with conditional writes");

    let root = tempfile::tempdir().unwrap();
    let addr = unsigned_s3_fs(root.path(), Front::DropIfNoneMatch).await;
    let refused = location().open(&unsigned_settings(addr), StoreOptions::default()).await;
    let error = refused.expect_err("a store that overwrites on create-if-absent must be refused");
    assert!(matches!(error, StoreError::NoConditionalWrites { .. }), "{error:?}");
    let message = error.to_string();
    for part in ["s3://media/fleet/control", "If-None-Match", "overwrote an existing object"] {
        assert!(message.contains(part), "{part:?} in {message:?}");
    }
    let probes = root.path().join(BUCKET).join("fleet/control/probe");
    let left: Vec<_> =
        std::fs::read_dir(&probes).map(|d| d.map(|e| e.unwrap().file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "the probe is cleaned up: {left:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_answer_was_lost_is_recognised_as_the_writers_own() {
    let root = tempfile::tempdir().unwrap();
    let addr = unsigned_s3_fs(root.path(), Front::LoseFirstLogPutAnswer).await;
    let store = location().open(&unsigned_settings(addr), StoreOptions::default()).await.unwrap();

    // The first PUT lands but its answer is lost; the retry of number 1 finds it taken, and
    // reading it back shows it is this commit, not someone else's.
    assert_eq!(store.commit(&set("k", "v1")).await.unwrap(), 1);
    assert_eq!(store.commit(&set("k", "v2")).await.unwrap(), 2);
    let log = root.path().join(BUCKET).join("fleet/control/log");
    let mut names: Vec<String> =
        std::fs::read_dir(&log).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, [format!("{:020}.json", 1), format!("{:020}.json", 2)], "each change committed once");
    let loaded = store.load::<Names>().await.unwrap();
    assert_eq!((loaded.seq, loaded.state.values.get("k").map(String::as_str)), (2, Some("v2")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_at_a_number_whose_answer_was_lost_is_recognised_as_the_writers_own() {
    let root = tempfile::tempdir().unwrap();
    let addr = unsigned_s3_fs(root.path(), Front::LoseFirstLogPutAnswer).await;
    let store = location().open(&unsigned_settings(addr), StoreOptions::default()).await.unwrap();

    // The PUT of number 1 lands but its answer is lost; the retry finds number 1 taken and
    // reads back that it is this very commit, not another writer's.
    assert_eq!(store.commit_at(1, &set("k", "v1")).await.unwrap(), CommitAt::Committed);
    assert_eq!(store.commit_at(1, &set("k", "other")).await.unwrap(), CommitAt::Taken);
    let loaded = store.load::<Names>().await.unwrap();
    assert_eq!((loaded.seq, loaded.state.values.get("k").map(String::as_str)), (1, Some("v1")));
}
