//! The control store on a local directory (object_store's LocalFileSystem, whose
//! create-if-absent PUT publishes a staged file by hard link, so races are decided by the
//! file system).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use common::{CountingStore, Names, set};
use sf_cache::S3Settings;
use sf_control::{
    Applied, Clock, CommitAt, ControlLocation, Deployment, FollowOptions, HeartbeatIdentity, State, Store, StoreHealth,
    StoreOptions,
};

fn fast() -> FollowOptions {
    FollowOptions { poll_every: Duration::from_millis(50), ..FollowOptions::default() }
}

fn as_edge(edge_id: &str, options: FollowOptions) -> FollowOptions {
    FollowOptions {
        heartbeat: Some(HeartbeatIdentity { edge_id: edge_id.to_owned(), version: "test".to_owned() }),
        ..options
    }
}

fn key(dir: &str, seq: u64) -> String {
    format!("{dir}/{seq:020}.json")
}

async fn open(location: &ControlLocation, options: StoreOptions) -> Arc<Store> {
    location
        .open(&S3Settings::default(), options)
        .await
        .unwrap_or_else(|e| panic!("opening {}: {e}", location.describe()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart_and_a_new_store_replays_only_after_the_newest_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let location = ControlLocation::Directory(dir.path().join("control"));
    let mut expected = Names::default();
    {
        let store = open(&location, StoreOptions::default()).await;
        let follower = store.follow::<Names>(FollowOptions { snapshot_every: Some(10), ..fast() }).unwrap();
        for batch in [1..=20u64, 21..=25] {
            for i in batch.clone() {
                let change = set(&format!("k{}", i % 7), &format!("v{i}"));
                assert_eq!(store.commit(&change).await.unwrap(), i);
                expected.apply(i, &change);
            }
            // The follower crosses 20 exactly (nothing after it is committed yet), so its
            // snapshot is at 20.
            let last = *batch.end();
            let seen =
                follower.wait_for(last, Duration::from_secs(10)).await.expect("the follower applies every commit");
            assert_eq!(seen.seq, last);
        }
        assert_eq!(follower.current().state, expected);
    } // store and follower gone: the restart

    let snapshots = dir.path().join("control/snapshot");
    assert!(snapshots.join(format!("{:020}.json", 20)).is_file(), "the follower wrote a snapshot at 20");
    let newest = std::fs::read_dir(&snapshots).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).max();
    assert_eq!(newest.as_deref(), Some(format!("{:020}.json", 20).as_str()));

    let (objects, prefix) = location.object_store(&S3Settings::default()).unwrap();
    let counting = CountingStore::new(objects);
    let store = Store::open(counting.clone(), &prefix, location.describe(), StoreOptions::default()).await.unwrap();
    let loaded = store.load::<Names>().await.unwrap();
    assert_eq!((loaded.seq, &loaded.state), (25, &expected), "the state after the restart");
    assert_eq!(counting.gets_under("snapshot/"), [key("snapshot", 20)], "one snapshot read");
    let tail: Vec<String> = (21..=26).map(|n| key("log", n)).collect();
    assert_eq!(counting.gets_under("log/"), tail, "only the changes after the snapshot (and the miss at 26)");

    // The restarted store commits after the tail, and a new follower sees it all.
    assert_eq!(store.commit(&set("after", "restart")).await.unwrap(), 26);
    expected.apply(26, &set("after", "restart"));
    let follower = store.follow::<Names>(fast()).unwrap();
    let seen = follower.wait_for(26, Duration::from_secs(10)).await.expect("a new follower catches up");
    assert_eq!(seen.state, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_writers_get_exactly_one_winner_per_number() {
    const TASKS_PER_STORE: usize = 4;
    const COMMITS_PER_TASK: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let location = ControlLocation::Directory(dir.path().join("control"));
    // Two separate stores (as two machines would have), several tasks on each.
    let stores = [
        open(&location, StoreOptions { writer: "writer-a".into(), ..StoreOptions::default() }).await,
        open(&location, StoreOptions { writer: "writer-b".into(), ..StoreOptions::default() }).await,
    ];
    let mut tasks = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for t in 0..TASKS_PER_STORE {
            let store = Arc::clone(store);
            tasks.push(tokio::spawn(async move {
                let name = format!("s{s}t{t}");
                let mut acked = Vec::new();
                for i in 0..COMMITS_PER_TASK {
                    let seq = store.commit(&set(&name, &i.to_string())).await.unwrap();
                    acked.push((seq, name.clone(), i.to_string()));
                }
                acked
            }));
        }
    }
    let mut acked = BTreeMap::new();
    for task in tasks {
        for (seq, name, value) in task.await.unwrap() {
            assert!(acked.insert(seq, (name, value)).is_none(), "number {seq} acknowledged twice");
        }
    }
    let total = (2 * TASKS_PER_STORE * COMMITS_PER_TASK) as u64;
    assert_eq!(acked.keys().copied().collect::<Vec<_>>(), (1..=total).collect::<Vec<_>>(), "no number skipped");

    // Exactly one record per number on disk, and it is the acknowledged one.
    let log = dir.path().join("control/log");
    let on_disk: BTreeSet<String> =
        std::fs::read_dir(&log).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(on_disk, (1..=total).map(|n| format!("{n:020}.json")).collect::<BTreeSet<_>>());
    for (seq, (name, value)) in &acked {
        let record: serde_json::Value = read_json(&log.join(format!("{seq:020}.json")));
        assert_eq!(record["seq"], *seq, "{record}");
        assert_eq!(
            (record["change"]["name"].as_str(), record["change"]["value"].as_str()),
            (Some(name.as_str()), Some(value.as_str())),
            "number {seq}"
        );
    }
    assert_eq!(stores[0].load::<Names>().await.unwrap().state.applied, (1..=total).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_commits_at_one_number_have_exactly_one_winner_and_the_others_learn_it_is_taken() {
    const TASKS_PER_STORE: usize = 4;
    let dir = tempfile::tempdir().unwrap();
    let location = ControlLocation::Directory(dir.path().join("control"));
    let stores = [
        open(&location, StoreOptions { writer: "writer-a".into(), ..StoreOptions::default() }).await,
        open(&location, StoreOptions { writer: "writer-b".into(), ..StoreOptions::default() }).await,
    ];
    assert_eq!(stores[0].commit(&set("base", "0")).await.unwrap(), 1);
    let mut tasks = Vec::new();
    for (s, store) in stores.iter().enumerate() {
        for t in 0..TASKS_PER_STORE {
            let store = Arc::clone(store);
            tasks.push(tokio::spawn(async move {
                let name = format!("s{s}t{t}");
                (store.commit_at(2, &set(&name, "1")).await.unwrap(), name)
            }));
        }
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (outcome, name) = task.await.unwrap();
        match outcome {
            CommitAt::Committed => winners.push(name),
            CommitAt::Taken => {}
        }
    }
    assert_eq!(winners.len(), 1, "exactly one writer commits number 2: {winners:?}");
    let record = read_json(&dir.path().join("control/log").join(format!("{:020}.json", 2)));
    assert_eq!(record["change"]["name"].as_str(), Some(winners[0].as_str()), "number 2 holds the winner's change");

    // A loser that read the newer state commits at the next number; a taken number stays
    // taken, and an ordinary commit goes past it all.
    assert_eq!(stores[1].commit_at(3, &set("after", "race")).await.unwrap(), CommitAt::Committed);
    assert_eq!(stores[0].commit_at(3, &set("late", "x")).await.unwrap(), CommitAt::Taken);
    assert_eq!(stores[0].commit(&set("next", "y")).await.unwrap(), 4);
    let loaded = stores[0].load::<Names>().await.unwrap();
    assert_eq!(loaded.state.applied, [1, 2, 3, 4]);
    assert_eq!(loaded.state.values.get("after").map(String::as_str), Some("race"));
    assert!(!loaded.state.values.contains_key("late"), "the change refused as taken is nowhere");
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// A clock `offset` seconds ahead of the system's.
fn clock_ahead(offset: &Arc<AtomicU64>) -> Clock {
    let offset = Arc::clone(offset);
    Arc::new(move || SystemTime::now() + Duration::from_secs(offset.load(Ordering::Relaxed)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_is_in_progress_while_a_live_edge_lags_and_deployed_once_it_stops_heartbeating() {
    let dir = tempfile::tempdir().unwrap();
    let location = ControlLocation::Directory(dir.path().join("control"));
    let ahead = Arc::new(AtomicU64::new(0));
    let store_a = open(&location, StoreOptions { clock: clock_ahead(&ahead), ..StoreOptions::default() }).await;
    let store_b = open(&location, StoreOptions::default()).await;
    let beat_often = FollowOptions { heartbeat_every: Duration::from_millis(100), ..fast() };

    assert_eq!(store_a.commit(&set("a", "1")).await.unwrap(), 1);
    let edge_a = store_a.follow::<Names>(as_edge("edge-a", beat_often.clone())).unwrap();
    {
        // Edge b applies 1, then stops (lags) with its heartbeat saying 1.
        let edge_b = store_b.follow::<Names>(as_edge("edge-b", beat_often)).unwrap();
        edge_b.wait_for(1, Duration::from_secs(10)).await.expect("edge b applies 1");
        wait_until(Duration::from_secs(5), || async { applied_by(&store_b, "edge-b").await == Some(1) }).await;
    }
    assert_eq!(store_a.commit(&set("a", "2")).await.unwrap(), 2);
    edge_a.wait_for(2, Duration::from_secs(10)).await.expect("edge a applies 2");
    wait_until(Duration::from_secs(5), || async { applied_by(&store_a, "edge-a").await == Some(2) }).await;

    assert_eq!(store_a.deployment_of(1).await.unwrap(), Deployment::Deployed);
    assert_eq!(store_a.deployment_of(2).await.unwrap(), Deployment::InProgress, "edge b is live and has not applied 2");

    // 31 s later (edge a keeps beating on the same clock), edge b's heartbeat is stale.
    ahead.store(31, Ordering::Relaxed);
    wait_until(Duration::from_secs(5), || async { store_a.deployment_of(2).await.unwrap() == Deployment::Deployed })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_one_node_a_change_is_deployed_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let location = ControlLocation::Directory(dir.path().join("control"));
    let store = open(&location, StoreOptions::default()).await;
    // The default timings: a poll a second, a heartbeat every five seconds.
    let _edge = store.follow::<Names>(as_edge("solo", FollowOptions::default())).unwrap();
    wait_until(Duration::from_secs(5), || async { applied_by(&store, "solo").await == Some(0) }).await;

    let seq = store.commit(&set("k", "v")).await.unwrap();
    let committed = Instant::now();
    wait_until(Duration::from_secs(5), || async { store.deployment_of(seq).await.unwrap() == Deployment::Deployed })
        .await;
    let took = committed.elapsed();
    assert!(took < Duration::from_secs(2), "Deployed after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledging_edge_reports_only_what_it_acknowledged_and_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let location = ControlLocation::Directory(dir.path().join("control"));
    let store = open(&location, StoreOptions::default()).await;
    let seq = store.commit(&set("k", "v")).await.unwrap();
    // A heartbeat every minute: only the acknowledgement can make the next one go out soon.
    let options = FollowOptions { heartbeat_acknowledged: true, heartbeat_every: Duration::from_secs(60), ..fast() };
    let edge = store.follow::<Names>(as_edge("acking", options)).unwrap();
    edge.wait_for(seq, Duration::from_secs(10)).await.expect("the edge folds the change in");
    wait_until(Duration::from_secs(5), || async { applied_by(&store, "acking").await.is_some() }).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(applied_by(&store, "acking").await, Some(0), "folded in, not acknowledged");
    assert_eq!(store.deployment_of(seq).await.unwrap(), Deployment::InProgress);

    edge.acknowledge(seq);
    wait_until(Duration::from_secs(2), || async { applied_by(&store, "acking").await == Some(seq) }).await;
    assert_eq!(store.deployment_of(seq).await.unwrap(), Deployment::Deployed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_log_number_is_reported_and_a_newer_snapshot_gets_past_it() {
    let dir = tempfile::tempdir().unwrap();
    let location = ControlLocation::Directory(dir.path().join("control"));
    let store = open(&location, StoreOptions::default()).await;
    let mut expected = Names::default();
    for i in 1..=3 {
        let change = set("k", &format!("v{i}"));
        assert_eq!(store.commit(&change).await.unwrap(), i);
        expected.apply(i, &change);
    }
    // Damage the log: number 2 goes missing (an operator's mistake, a lifecycle rule).
    std::fs::remove_file(dir.path().join("control").join(key("log", 2))).unwrap();

    let options = FollowOptions { list_after_misses: 2, snapshot_every: None, ..fast() };
    let follower = store.follow::<Names>(options).unwrap();
    let mut health = follower.health();
    let broken =
        tokio::time::timeout(Duration::from_secs(5), health.wait_for(|h| matches!(h, StoreHealth::Unreachable { .. })))
            .await
            .expect("a GET of 2 finds nothing, yet a LIST shows 3: reported")
            .unwrap()
            .clone();
    let StoreHealth::Unreachable { error, .. } = broken else { unreachable!() };
    assert!(error.contains(&key("log", 2)) && error.contains("missing"), "{error}");
    assert_eq!(follower.current().seq, 1, "it applied what it could and went no further");

    // A snapshot past the hole (as any follower that saw 2 before it went missing writes).
    assert!(store.write_snapshot(&Applied { seq: 3, state: expected.clone() }).await.unwrap());
    let seen = follower.wait_for(3, Duration::from_secs(5)).await.expect("the follower goes on from the snapshot");
    assert_eq!(seen.state, expected);
    tokio::time::timeout(Duration::from_secs(5), health.wait_for(|h| *h == StoreHealth::Reachable))
        .await
        .expect("healthy again")
        .unwrap();
}

/// What `edge` last reported as applied.
async fn applied_by(store: &Store, edge: &str) -> Option<u64> {
    store.heartbeats().await.unwrap().into_iter().find(|h| h.edge == edge).map(|h| h.applied)
}

async fn wait_until<F, Fut>(patience: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + patience;
    while !check().await {
        assert!(Instant::now() < deadline, "not so within {patience:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
