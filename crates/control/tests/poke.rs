//! A writer that waits for its own change does not wait for the follower's next tick.

mod common;

use std::time::{Duration, Instant};

use common::{Names, set};
use sf_cache::S3Settings;
use sf_control::{ControlLocation, FollowOptions, StoreOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_polls_the_store_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let location = ControlLocation::in_data_dir(dir.path());
    let store = location.open(&S3Settings::default(), StoreOptions::default()).await.unwrap();
    let slow = FollowOptions { poll_every: Duration::from_secs(60), ..FollowOptions::default() };
    let follower = store.follow::<Names>(slow).unwrap();
    // The first tick of an interval is immediate: let the initial load happen.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for round in 1..=3u64 {
        let seq = store.commit(&set("k", &round.to_string())).await.unwrap();
        let started = Instant::now();
        let applied = follower.wait_for(seq, Duration::from_secs(20)).await.expect("the change is applied");
        assert_eq!(applied.state.values["k"], round.to_string());
        assert!(started.elapsed() < Duration::from_secs(5), "waited {:?} for the next tick", started.elapsed());
    }
}
