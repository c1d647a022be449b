//! The control store of streamfront: where a fleet of edges keeps its shared configuration.
//!
//! What it does: an append-only log of immutable, numbered change objects
//! (`log/<20-digit n>.json`) on any `object_store` that honours create-if-absent PUTs (a local
//! directory, or an S3 bucket: AWS S3, MinIO, Ceph RGW, R2, ...). Writing number `n` with
//! `PutMode::Create` *is* the commit, so two writers can never both commit the same number.
//! Snapshots (`snapshot/<n>.json`) spare a new edge the replay of the whole history. A
//! [`Follower`](store::Follower) polls for the next number, folds each change into a caller's
//! [`State`](store::State) and publishes it through `tokio::sync::watch`, together with the
//! store's health. Edges record what they have applied in heartbeats (`edges/<id>.json`), from
//! which [`deployment`](store::deployment) tells whether a change is Deployed everywhere.
//!
//! What it does not do: it knows nothing about distributions (the payload is any serde type),
//! speaks no API, never deletes or compacts the log, and does not elect a leader: any number of
//! writers may commit, and the store orders them.

#![forbid(unsafe_code)]

pub mod store;

pub use store::{
    Applied, Clock, CommitAt, ControlLocation, Deployment, FollowOptions, Follower, Heartbeat, HeartbeatIdentity,
    LIVE_WITHIN, Seq, State, Store, StoreError, StoreHealth, StoreOptions, deployed_through, deployment, system_clock,
};
