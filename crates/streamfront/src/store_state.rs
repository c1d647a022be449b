//! The distributions kept in the control store: the [`State`] every `serve` folds the log into,
//! and the changes `streamfront distributions put/delete` (and later the API) commit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sf_control::{Seq, State};
use sf_dist::StreamingDistribution;

/// A streaming distribution from the store and the origin it reads (`s3://…` or a
/// directory, as `--origin` takes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredStreaming {
    pub record: StreamingDistribution,
    pub origin: String,
    /// The change that last put it.
    pub version: Seq,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DistributionsState {
    /// By id.
    pub streaming: BTreeMap<String, StoredStreaming>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DistributionChange {
    /// Creates or replaces the streaming distribution with this record's id.
    PutStreaming {
        record: Box<StreamingDistribution>,
        origin: String,
    },
    DeleteStreaming {
        id: String,
    },
}

impl State for DistributionsState {
    type Change = DistributionChange;

    fn apply(&mut self, seq: Seq, change: &DistributionChange) {
        match change {
            DistributionChange::PutStreaming { record, origin } => {
                let stored = StoredStreaming { record: (**record).clone(), origin: origin.clone(), version: seq };
                self.streaming.insert(record.id.clone(), stored);
            }
            DistributionChange::DeleteStreaming { id } => {
                self.streaming.remove(id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distributions::from_entries;
    use crate::settings::StreamingDistributionEntry;

    #[test]
    fn puts_replace_and_deletes_remove() {
        let entry = StreamingDistributionEntry { origin: "/srv/a".into(), enabled: true, ..Default::default() };
        let record = from_entries(&[entry], "cdn.example").unwrap().remove(0).record;
        let id = record.id.clone();
        let mut state = DistributionsState::default();
        let put = DistributionChange::PutStreaming { record: Box::new(record), origin: "/srv/a".into() };
        state.apply(1, &put);
        state.apply(2, &put);
        assert_eq!(state.streaming[&id].version, 2);
        state.apply(3, &DistributionChange::DeleteStreaming { id: id.clone() });
        assert!(state.streaming.is_empty());
    }
}
