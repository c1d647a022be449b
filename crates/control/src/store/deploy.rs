//! Deployed status from heartbeats, in the manner of CloudFront's distribution status
//! (Amazon CloudFront API Reference, `Distribution`: "Status ... InProgress ... Deployed").

use std::time::{Duration, SystemTime};

use futures_util::StreamExt;
use object_store::{PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::keys::{self, EDGES};
use super::record;
use super::{Seq, Store, StoreError, millis};

/// An edge whose last heartbeat is older than this is not live: it no longer holds a change
/// back from Deployed.
pub const LIVE_WITHIN: Duration = Duration::from_secs(30);

/// Bound on one heartbeat object.
const MAX_HEARTBEAT_BYTES: usize = 4096;

/// `edges/<edge>.json`: what one edge had applied when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub edge: String,
    /// The last change it applied.
    pub applied: Seq,
    /// The software version it runs.
    pub version: String,
    /// When it sent this (milliseconds since the Unix epoch, the edge's clock).
    pub time_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Every live edge has applied the change.
    Deployed,
    /// A live edge has not applied it yet, or no edge is live.
    InProgress,
}

/// Whether change `seq` is Deployed, given the edges' heartbeats, at `now`. With no live edge
/// at all the change is served nowhere: InProgress.
pub fn deployment(seq: Seq, heartbeats: &[Heartbeat], now: SystemTime) -> Deployment {
    let through = deployed_through(heartbeats, now);
    if through > 0 && through >= seq { Deployment::Deployed } else { Deployment::InProgress }
}

/// The highest change number that is Deployed: every live edge has applied it or a later one
/// (so every lower number is Deployed too). 0 when no edge is live.
pub fn deployed_through(heartbeats: &[Heartbeat], now: SystemTime) -> Seq {
    let now_ms = millis(now);
    let live_ms = LIVE_WITHIN.as_millis() as u64;
    heartbeats.iter().filter(|h| now_ms.saturating_sub(h.time_ms) <= live_ms).map(|h| h.applied).min().unwrap_or(0)
}

impl Store {
    /// Writes (overwrites) this edge's heartbeat: each edge owns its key.
    pub async fn write_heartbeat(&self, heartbeat: &Heartbeat) -> Result<(), StoreError> {
        if !keys::valid_edge_id(&heartbeat.edge) {
            return Err(StoreError::InvalidEdgeId(heartbeat.edge.clone()));
        }
        let bytes = record::encode(heartbeat, MAX_HEARTBEAT_BYTES, "a heartbeat")?;
        let options = PutOptions { mode: PutMode::Overwrite, ..PutOptions::default() };
        self.objects
            .put_opts(&keys::edge(&self.prefix, &heartbeat.edge), PutPayload::from(bytes), options)
            .await
            .map_err(StoreError::Store)?;
        Ok(())
    }

    /// Every edge's last heartbeat (at most `max_listed`). Objects that are not heartbeats
    /// (wrong name, damaged, too large) are skipped with a warning.
    pub async fn heartbeats(&self) -> Result<Vec<Heartbeat>, StoreError> {
        let dir = self.prefix.clone().join(EDGES);
        let mut listing = self.objects.list(Some(&dir));
        let mut heartbeats = Vec::new();
        let mut walked = 0usize;
        while let Some(meta) = listing.next().await {
            let meta = meta.map_err(StoreError::Store)?;
            walked += 1;
            if walked > self.options.max_listed {
                return Err(StoreError::TooManyObjects { dir: dir.to_string(), limit: self.options.max_listed });
            }
            let Some(edge) = meta.location.filename().and_then(|name| name.strip_suffix(".json")) else { continue };
            let edge = edge.to_owned();
            match record::read_json::<Heartbeat>(self.objects.as_ref(), &meta.location, MAX_HEARTBEAT_BYTES).await {
                Ok(Some(heartbeat)) if heartbeat.edge == edge => heartbeats.push(heartbeat),
                Ok(None) => {} // gone between the LIST and the GET
                Ok(Some(heartbeat)) => {
                    tracing::warn!(key = %meta.location, says = %heartbeat.edge, "heartbeat names another edge: skipped")
                }
                Err(e @ (StoreError::Corrupt { .. } | StoreError::TooLarge { .. })) => {
                    tracing::warn!(key = %meta.location, error = %e, "not a heartbeat: skipped")
                }
                Err(e) => return Err(e),
            }
        }
        Ok(heartbeats)
    }

    /// Whether change `seq` is Deployed on every live edge, now.
    pub async fn deployment_of(&self, seq: Seq) -> Result<Deployment, StoreError> {
        Ok(deployment(seq, &self.heartbeats().await?, self.now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beat(edge: &str, applied: Seq, at: SystemTime) -> Heartbeat {
        Heartbeat { edge: edge.into(), applied, version: "test".into(), time_ms: millis(at) }
    }

    #[test]
    fn deployed_when_every_live_edge_has_applied_it() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let fresh = now - Duration::from_secs(2);
        let stale = now - LIVE_WITHIN - Duration::from_secs(1);
        assert_eq!(deployment(7, &[beat("a", 7, fresh), beat("b", 6, fresh)], now), Deployment::InProgress);
        assert_eq!(deployment(7, &[beat("a", 7, fresh), beat("b", 6, stale)], now), Deployment::Deployed);
        assert_eq!(
            deployment(7, &[beat("a", 8, fresh), beat("b", 7, now + Duration::from_secs(3))], now),
            Deployment::Deployed
        );
        assert_eq!(deployment(7, &[beat("b", 9, stale)], now), Deployment::InProgress);
        assert_eq!(deployment(7, &[], now), Deployment::InProgress);
        assert_eq!(deployed_through(&[beat("a", 8, fresh), beat("b", 6, fresh), beat("c", 2, stale)], now), 6);
        assert_eq!(deployed_through(&[beat("c", 2, stale)], now), 0);
    }
}
