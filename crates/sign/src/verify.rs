//! Checking a signed name: its key, its signature (remembered once verified), its resource and
//! its conditions.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::SignError;
use crate::cache::{Verified, VerifiedCache};
use crate::keys::{KeyPair, KeyPairs};
use crate::params::{self, PolicySource, SigningParams};
use crate::policy::{Policy, canned_policy};

/// Who asks, when, and for what.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    /// Seconds since the epoch.
    pub now: u64,
    pub ip: IpAddr,
    /// The names the request may be signed for (see [`crate::rtmp_resources`]); a canned
    /// policy is rebuilt for each, a custom policy's `Resource` must match one.
    pub resources: &'a [String],
}

/// Key pairs and the signatures they were found to have made.
#[derive(Debug, Default)]
pub struct Verifier {
    keys: KeyPairs,
    cache: VerifiedCache,
    rsa_verifications: AtomicU64,
}

impl Verifier {
    pub fn new(keys: KeyPairs) -> Self {
        Verifier { keys, ..Verifier::default() }
    }

    /// The same keys with a cache of `capacity` entries (0 stands for 1).
    pub fn with_cache_capacity(keys: KeyPairs, capacity: usize) -> Self {
        Verifier { keys, cache: VerifiedCache::with_capacity(capacity), rsa_verifications: AtomicU64::new(0) }
    }

    pub fn keys(&self) -> &KeyPairs {
        &self.keys
    }

    /// RSA verifications done so far (the cache answered the other checks).
    pub fn rsa_verifications(&self) -> u64 {
        self.rsa_verifications.load(Ordering::Relaxed)
    }

    /// Checks the query of a name on a distribution whose trusted signers are `trusted`
    /// (`self` or account numbers). Returns the policy that allowed it.
    pub fn check_query(
        &self,
        query: Option<&str>,
        trusted: &[String],
        viewer: &Viewer,
    ) -> Result<Arc<Policy>, SignError> {
        let params = params::parse_query(query.unwrap_or_default())?.ok_or(SignError::Unsigned)?;
        let key =
            self.keys.get(&params.key_pair_id).ok_or_else(|| SignError::UnknownKey(params.key_pair_id.clone()))?;
        if !trusted.contains(&key.account) {
            return Err(SignError::UntrustedKey { id: key.id.clone(), account: key.account.clone() });
        }
        self.check(&params, key, viewer)
    }

    /// Checks `params`, signed by `key` (the caller decided the key may sign here).
    pub fn check(&self, params: &SigningParams, key: &KeyPair, viewer: &Viewer) -> Result<Arc<Policy>, SignError> {
        let policy = match &params.policy {
            PolicySource::Canned { expires } => self.canned(params, key, *expires, viewer)?,
            PolicySource::Custom(bytes) => {
                let policy =
                    self.verified(key, bytes.clone(), &params.signature, viewer.now, || Policy::parse(bytes))?;
                if !policy.matches_any(viewer.resources) {
                    return Err(SignError::ResourceMismatch {
                        resource: policy.resource.clone().unwrap_or_default(),
                        requested: viewer.resources.first().cloned().unwrap_or_default(),
                    });
                }
                policy
            }
        };
        policy.check_conditions(viewer.now, viewer.ip)?;
        Ok(policy)
    }

    /// A canned policy is signed for one resource: try each name the request may have been
    /// signed for, those verified before first.
    fn canned(
        &self,
        params: &SigningParams,
        key: &KeyPair,
        expires: u64,
        viewer: &Viewer,
    ) -> Result<Arc<Policy>, SignError> {
        let candidates: Vec<(&String, Verified)> = viewer
            .resources
            .iter()
            .map(|resource| {
                let policy = canned_policy(resource, expires).into_bytes();
                (resource, Verified { key_pair_id: key.id.clone(), policy, signature: params.signature.clone() })
            })
            .collect();
        if let Some(policy) = candidates.iter().find_map(|(_, verified)| self.cache.get(verified)) {
            return Ok(policy);
        }
        for (resource, verified) in candidates {
            if self.rsa_verify(key, &verified) {
                let policy = Arc::new(Policy::canned(resource, expires));
                self.cache.insert(verified, Arc::clone(&policy), viewer.now);
                return Ok(policy);
            }
        }
        Err(SignError::BadSignature)
    }

    /// The policy of `policy_bytes` if `key` signed them (parsed by `parse` once verified).
    fn verified(
        &self,
        key: &KeyPair,
        policy_bytes: Vec<u8>,
        signature: &[u8],
        now: u64,
        parse: impl FnOnce() -> Result<Policy, SignError>,
    ) -> Result<Arc<Policy>, SignError> {
        let verified = Verified { key_pair_id: key.id.clone(), policy: policy_bytes, signature: signature.to_vec() };
        if let Some(policy) = self.cache.get(&verified) {
            return Ok(policy);
        }
        if !self.rsa_verify(key, &verified) {
            return Err(SignError::BadSignature);
        }
        let policy = Arc::new(parse()?);
        self.cache.insert(verified, Arc::clone(&policy), now);
        Ok(policy)
    }

    fn rsa_verify(&self, key: &KeyPair, verified: &Verified) -> bool {
        self.rsa_verifications.fetch_add(1, Ordering::Relaxed);
        key.verifies(&verified.policy, &verified.signature)
    }
}
