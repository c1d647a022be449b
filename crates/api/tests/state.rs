//! The control state as the store folds it: entries and snapshots written before the API (by
//! `streamfront distributions put`) still load, and the changes do what they say.

mod ops_support;

use ops_support::*;
use sf_api::ops::{create_distribution, create_invalidation, create_streaming_distribution};
use sf_api::state::{Change, ControlState};
use sf_control::State;
use sf_dist::InvalidationBatch;

#[test]
fn log_entries_and_snapshots_from_before_the_api_still_load() {
    let mut w = World::new();
    let id = w.run(|st, c| create_streaming_distribution(st, c, streaming_config("r", &[]), vec![])).unwrap();
    let record = serde_json::to_value(&w.state.streaming[&id].record).unwrap();
    // The exact shapes `DistributionChange` and `DistributionsState` serialised to.
    let put = serde_json::json!({ "PutStreaming": { "record": record, "origin": "/srv/media" } });
    let delete = serde_json::json!({ "DeleteStreaming": { "id": id } });
    let snapshot = serde_json::json!({ "streaming": { (id.clone()): { "record": record, "origin": "/srv/media", "version": 3 } } });

    let put: Change = serde_json::from_value(put).unwrap();
    let mut state = ControlState::default();
    state.apply(1, &put);
    state.apply(2, &put);
    assert_eq!((state.streaming[&id].origin.as_str(), state.streaming[&id].version), ("/srv/media", 2));
    state.apply(3, &serde_json::from_value(delete).unwrap());
    assert!(state.streaming.is_empty());

    let loaded: ControlState = serde_json::from_value(snapshot).unwrap();
    assert_eq!(loaded.streaming[&id].version, 3);
    assert!(loaded.web.is_empty() && loaded.public_keys.is_empty() && loaded.invalidations.is_empty());
    // And the state round-trips through a snapshot.
    let json = serde_json::to_string(&w.state).unwrap();
    assert_eq!(serde_json::from_str::<ControlState>(&json).unwrap(), w.state);
}

#[test]
fn an_invalidation_of_a_deleted_distribution_is_dropped() {
    let mut w = World::new();
    let d = w.run(|st, c| create_distribution(st, c, web_config("w", &[]), vec![])).unwrap();
    let batch = InvalidationBatch { paths: vec![s("/a")], caller_reference: s("c") };
    let planned = w.plan(|st, c| create_invalidation(st, c, &d, batch)).unwrap();
    // Another writer deletes the distribution between the decision and the commit.
    w.state.apply(2, &Change::DeleteWeb { id: d.clone() });
    w.state.apply(3, planned.change.as_ref().unwrap());
    assert!(w.state.invalidations.is_empty());
}
