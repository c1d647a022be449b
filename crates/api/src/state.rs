//! Everything the API manages, as the control store folds it: [`ControlState`] is the
//! [`State`] every `serve` follows, and [`Change`] is one entry of the log (committed by the
//! API and by `streamfront distributions put/delete`).
//!
//! Each resource is kept with the number of the change that last put it (`version`): a
//! distribution is `Deployed` once every live edge has applied that number, which the server
//! works out from the edges' heartbeats. Records keep the `Status` they were put with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sf_control::{Seq, State};
use sf_dist::{
    Distribution, Invalidation, InvalidationStatus, KeyGroupConfig, OriginAccessControlConfig,
    OriginAccessIdentityConfig, PublicKeyConfig, StreamingDistribution, Tag, Versioned,
};

/// A streaming distribution and the origin it reads (`s3://<bucket>` or a directory, as
/// `--origin` takes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredStreaming {
    pub record: StreamingDistribution,
    pub origin: String,
    /// The change that last put it.
    pub version: Seq,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredWeb {
    pub record: Distribution,
    /// The change that last put it.
    pub version: Seq,
}

/// A public key, key group, OAI or OAC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stored<C> {
    pub record: Versioned<C>,
    /// The change that last put it.
    pub version: Seq,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredInvalidation {
    pub record: Invalidation,
    /// The change that last put it (created it, or completed it).
    pub version: Seq,
}

/// Every map is by id. Members added after the first release default to empty, so snapshots
/// written before them still load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ControlState {
    pub streaming: BTreeMap<String, StoredStreaming>,
    #[serde(default)]
    pub web: BTreeMap<String, StoredWeb>,
    #[serde(default)]
    pub public_keys: BTreeMap<String, Stored<PublicKeyConfig>>,
    #[serde(default)]
    pub key_groups: BTreeMap<String, Stored<KeyGroupConfig>>,
    #[serde(default)]
    pub origin_access_identities: BTreeMap<String, Stored<OriginAccessIdentityConfig>>,
    #[serde(default)]
    pub origin_access_controls: BTreeMap<String, Stored<OriginAccessControlConfig>>,
    /// By web distribution id, then invalidation id.
    #[serde(default)]
    pub invalidations: BTreeMap<String, BTreeMap<String, StoredInvalidation>>,
}

/// One entry of the log. The names of the first two variants and their members are what
/// stores written before the API hold; they must not change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Change {
    /// Creates or replaces the streaming distribution with this record's id.
    PutStreaming {
        record: Box<StreamingDistribution>,
        origin: String,
    },
    DeleteStreaming {
        id: String,
    },
    /// Replaces the tags of a streaming distribution; not a new config version.
    PutStreamingTags {
        id: String,
        tags: Vec<Tag>,
    },
    /// Creates or replaces the web distribution with this record's id.
    PutWeb {
        record: Box<Distribution>,
    },
    /// Deletes the web distribution and its invalidations.
    DeleteWeb {
        id: String,
    },
    /// Replaces the tags of a web distribution; not a new config version.
    PutWebTags {
        id: String,
        tags: Vec<Tag>,
    },
    PutPublicKey {
        record: Versioned<PublicKeyConfig>,
    },
    DeletePublicKey {
        id: String,
    },
    PutKeyGroup {
        record: Versioned<KeyGroupConfig>,
    },
    DeleteKeyGroup {
        id: String,
    },
    PutOriginAccessIdentity {
        record: Versioned<OriginAccessIdentityConfig>,
    },
    DeleteOriginAccessIdentity {
        id: String,
    },
    PutOriginAccessControl {
        record: Versioned<OriginAccessControlConfig>,
    },
    DeleteOriginAccessControl {
        id: String,
    },
    /// Creates an invalidation or replaces it (to complete it).
    PutInvalidation {
        record: Invalidation,
    },
}

impl ControlState {
    /// Invalidations of web distribution `id` still in progress.
    pub fn invalidations_in_progress(&self, distribution_id: &str) -> impl Iterator<Item = &Invalidation> {
        self.invalidations
            .get(distribution_id)
            .into_iter()
            .flat_map(|by_id| by_id.values())
            .map(|stored| &stored.record)
            .filter(|invalidation| invalidation.status == InvalidationStatus::InProgress)
    }

    /// Keeps `InProgressInvalidationBatches` of web distribution `id` true to the invalidations.
    fn recount_invalidations(&mut self, distribution_id: &str) {
        let count = self.invalidations_in_progress(distribution_id).count();
        if let Some(web) = self.web.get_mut(distribution_id) {
            web.record.in_progress_invalidation_batches = i32::try_from(count).unwrap_or(i32::MAX);
        }
    }
}

fn put<C: Clone>(map: &mut BTreeMap<String, Stored<C>>, record: &Versioned<C>, version: Seq) {
    map.insert(record.id.clone(), Stored { record: record.clone(), version });
}

impl State for ControlState {
    type Change = Change;

    fn apply(&mut self, seq: Seq, change: &Change) {
        match change {
            Change::PutStreaming { record, origin } => {
                let stored = StoredStreaming { record: (**record).clone(), origin: origin.clone(), version: seq };
                self.streaming.insert(record.id.clone(), stored);
            }
            Change::DeleteStreaming { id } => {
                self.streaming.remove(id);
            }
            Change::PutStreamingTags { id, tags } => {
                if let Some(stored) = self.streaming.get_mut(id) {
                    stored.record.tags.clone_from(tags);
                }
            }
            Change::PutWeb { record } => {
                self.web.insert(record.id.clone(), StoredWeb { record: (**record).clone(), version: seq });
                self.recount_invalidations(&record.id);
            }
            Change::DeleteWeb { id } => {
                self.web.remove(id);
                self.invalidations.remove(id);
            }
            Change::PutWebTags { id, tags } => {
                if let Some(stored) = self.web.get_mut(id) {
                    stored.record.tags.clone_from(tags);
                }
            }
            Change::PutPublicKey { record } => put(&mut self.public_keys, record, seq),
            Change::DeletePublicKey { id } => {
                self.public_keys.remove(id);
            }
            Change::PutKeyGroup { record } => put(&mut self.key_groups, record, seq),
            Change::DeleteKeyGroup { id } => {
                self.key_groups.remove(id);
            }
            Change::PutOriginAccessIdentity { record } => put(&mut self.origin_access_identities, record, seq),
            Change::DeleteOriginAccessIdentity { id } => {
                self.origin_access_identities.remove(id);
            }
            Change::PutOriginAccessControl { record } => put(&mut self.origin_access_controls, record, seq),
            Change::DeleteOriginAccessControl { id } => {
                self.origin_access_controls.remove(id);
            }
            Change::PutInvalidation { record } => {
                // An invalidation outlives nothing: one of a deleted distribution is dropped.
                if !self.web.contains_key(&record.distribution_id) {
                    return;
                }
                let stored = StoredInvalidation { record: record.clone(), version: seq };
                self.invalidations.entry(record.distribution_id.clone()).or_default().insert(record.id.clone(), stored);
                self.recount_invalidations(&record.distribution_id);
            }
        }
    }
}
