//! Signed stream names on distributions with trusted signers (CloudFront private content for
//! RTMP): every play is checked, and so are a seek and an unpause, which CloudFront's servers
//! treated as new plays (Amazon CloudFront Developer Guide, "Using signed URLs": an expired
//! URL can finish a play but cannot seek). Pure CPU: a verified signature is remembered, so
//! after the first play of a name a check is a map lookup.

use std::net::SocketAddr;
use std::time::Instant;

use sf_sign::{SignError, Viewer};

use crate::Edge;
use crate::names;
use crate::routing::ServedDistribution;

/// Checks that `peer` may play `name` on `distribution` at `now`; always fine when the
/// distribution has no trusted signers.
pub fn check(
    edge: &Edge,
    distribution: &ServedDistribution,
    folders: &[String],
    name: &str,
    peer: SocketAddr,
    now: Instant,
) -> Result<(), SignError> {
    let Some(trusted) = &distribution.trusted_signers else { return Ok(()) };
    let resolved = names::resolve(folders, name).map_err(|e| SignError::Malformed(e.to_string()))?;
    let keys: Vec<String> = resolved.candidates.into_iter().map(|(key, _)| key).collect();
    let resources = sf_sign::rtmp_resources(&resolved.path, &keys);
    let viewer = Viewer { now: edge.epoch_seconds(now), ip: peer.ip(), resources: &resources };
    edge.signatures.check_query(resolved.query.as_deref(), trusted, &viewer).map(drop)
}

/// The name for status messages and logs: without its query, which holds the signature.
pub fn display_name(name: &str) -> &str {
    sf_sign::split_stream_name(name).0
}
