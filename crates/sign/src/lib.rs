//! CloudFront signed URLs, as the retired RTMP distributions checked them and as existing
//! signing code makes them (the AWS CLI's `aws cloudfront sign`, botocore's
//! `CloudFrontSigner`, the Amazon CloudFront Developer Guide's examples). No I/O, no clock:
//! callers pass the time and the viewer's address.
//!
//! ```text
//! stream name ─▶ params (split, unescape, parse) ─▶ keys (Key-Pair-Id, trusted account)
//!             ─▶ verify (canned rebuilt per resource | custom policy bytes; RSA-SHA1, cached)
//!             ─▶ policy (resource wildcards, DateLessThan, DateGreaterThan, IpAddress)
//! ```

pub mod base64url;
mod cache;
mod keys;
pub mod params;
mod policy;
mod verify;

use std::net::IpAddr;

pub use cache::{MAX_ENTRIES, Verified, VerifiedCache};
pub use keys::{KEY_GROUP_ACCOUNT, KeyGroups, KeyPair, KeyPairs, SELF_ACCOUNT};
pub use params::{
    PolicySource, SigningParams, has_signing_params, parse_cookies, parse_query, split_stream_name,
    without_signing_params,
};
pub use policy::{Cidr, Policy, canned_policy, wildcard_match};
pub use verify::{Verifier, Viewer};

/// Why a signed name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("the name is not signed (it needs Expires or Policy, Signature and Key-Pair-Id)")]
    Unsigned,
    #[error("malformed signed URL: {0}")]
    Malformed(String),
    /// No `Key-Pair-Id` (or an empty one) where the other signing parameters are.
    #[error("the signed URL has no Key-Pair-Id")]
    MissingKeyPairId,
    #[error("malformed signature: {0}")]
    MalformedSignature(String),
    #[error("malformed policy: {0}")]
    MalformedPolicy(String),
    #[error("unknown key pair {0}")]
    UnknownKey(String),
    #[error("key pair {id} belongs to {account}, which is not a trusted signer of this distribution")]
    UntrustedKey { id: String, account: String },
    #[error("the signature does not match the policy")]
    BadSignature,
    #[error("the policy is for {resource:?}, not {requested:?}")]
    ResourceMismatch { resource: String, requested: String },
    #[error("the signed URL expired at {at} (epoch seconds)")]
    Expired { at: u64 },
    #[error("the signed URL is valid from {from} (epoch seconds) on")]
    NotYetValid { from: u64 },
    #[error("the signed URL is not for address {ip} (it allows {allowed})")]
    WrongIp { ip: IpAddr, allowed: String },
}

impl SignError {
    /// Whether the signing parameters could not be read (as opposed to read and refused).
    pub fn is_malformed(&self) -> bool {
        self.reason() == "malformed"
    }

    /// A short word for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            SignError::Unsigned => "unsigned",
            SignError::Malformed(_)
            | SignError::MissingKeyPairId
            | SignError::MalformedSignature(_)
            | SignError::MalformedPolicy(_) => "malformed",
            SignError::UnknownKey(_) | SignError::UntrustedKey { .. } => "unknown key",
            SignError::BadSignature => "bad signature",
            SignError::ResourceMismatch { .. } => "resource mismatch",
            SignError::Expired { .. } => "expired",
            SignError::NotYetValid { .. } => "not yet valid",
            SignError::WrongIp { .. } => "wrong ip",
        }
    }
}

/// The resources an RTMP play of `stream_path` may be signed for: the stream name without its
/// `mp4:`-style prefix and query (the Developer Guide: "include only the stream name"), with
/// and without its extension ("depending on the player … you might have to omit the file
/// extension"), and the object keys it resolves to (`keys`: librtmp and JW Player strip an
/// extension that the signer kept).
pub fn rtmp_resources(stream_path: &str, keys: &[String]) -> Vec<String> {
    let mut resources = vec![stream_path.to_owned()];
    let mut push = |r: &str| {
        if !r.is_empty() && !resources.iter().any(|have| have == r) {
            resources.push(r.to_owned());
        }
    };
    push(without_extension(stream_path));
    for key in keys {
        push(key);
        push(without_extension(key));
    }
    resources
}

/// `a/b.mp4` → `a/b`; a dot in a folder name is not an extension.
fn without_extension(path: &str) -> &str {
    match path.rfind('.') {
        Some(dot) if !path[dot..].contains('/') => &path[..dot],
        _ => path,
    }
}

#[cfg(test)]
mod tests;
