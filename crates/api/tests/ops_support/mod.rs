//! The world the ops tests play in: a state, the change numbers, a seeded RNG, and configs.
#![allow(dead_code)]

use rand::SeedableRng;
use rand::rngs::StdRng;
use sf_api::ApiError;
use sf_api::ops::{Context, Planned, Quotas};
use sf_api::state::{Change, ControlState};
use sf_control::{Seq, State};
use sf_dist::*;

#[path = "../../../dist/tests/common/mod.rs"]
mod dist_fixtures;

pub use dist_fixtures::{minimal_web_config, s};

/// `openssl genrsa 2048 | openssl rsa -pubout`.
pub const RSA_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5j7K2iSng02RK8NXYHCZ
nABTJoDFAdd7CCP735dFXiMeWjOvHhrO9HSkkiaXLDRvwlF2PCBOOSwL6X8sQjRJ
ygFdQ3Z3ToL7Wo2agkAXM3U/gHlNlq6JzufZ0ZGhL+Xq1mtGgirQUCQYVt0XyQqv
c4icV8eP+LUWSAQxMn3VGo1DjBAyDjAZohCDwuXLe/FD2PmEHTYervt1gFI5FP1T
PpEUrEC326NrO+DWidrcYOTHS2gqRntc7oGPtWuWdAhVRPy+6TynNMYE0nu32Sa0
1tBH4uon9ATiz8fdL3ZHb93YcvTlj3ewAsWBX6XPTOTzR4N9K+5JmP7hyhc6Cpfj
SwIDAQAB
-----END PUBLIC KEY-----
";

/// `openssl ecparam -name prime256v1 -genkey | openssl ec -pubout`: a PEM public key, not RSA.
pub const EC_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9hd3yr5mSo09d5i/+JxDL7Cm5jIr
Tpw9fR73jpHCEWCH4IA9ZuGQC7GRAymiTWC1gvxHC90+SbnFetoL06Ds4Q==
-----END PUBLIC KEY-----
";

pub const ACCOUNT: &str = "123456789012";

/// The state as the store would fold it, with the next change number and what ops need.
pub struct World {
    pub state: ControlState,
    pub seq: Seq,
    pub rng: StdRng,
    pub quotas: Quotas,
    pub now: u64,
}

impl World {
    pub fn new() -> World {
        World::with_quotas(Quotas::default())
    }

    pub fn with_quotas(quotas: Quotas) -> World {
        World { state: ControlState::default(), seq: 0, rng: StdRng::seed_from_u64(7), quotas, now: 1_600_000_000_000 }
    }

    /// Only decides (nothing is applied).
    pub fn plan<F>(&mut self, op: F) -> Result<Planned, ApiError>
    where
        F: FnOnce(&ControlState, &mut Context<'_, StdRng>) -> Result<Planned, ApiError>,
    {
        self.now += 1000;
        let mut ctx = Context {
            now: Timestamp(self.now),
            distribution_domain: "cdn.test",
            account_id: ACCOUNT,
            rng: &mut self.rng,
            quotas: &self.quotas,
        };
        op(&self.state, &mut ctx)
    }

    /// Decides, applies the change (if any) as the next number, checks that the state holds
    /// what the op promised, and returns the id to answer with.
    pub fn run<F>(&mut self, op: F) -> Result<String, ApiError>
    where
        F: FnOnce(&ControlState, &mut Context<'_, StdRng>) -> Result<Planned, ApiError>,
    {
        let planned = self.plan(op)?;
        if let Some(change) = &planned.change {
            self.seq += 1;
            self.state.apply(self.seq, change);
            check_applied(&self.state, self.seq, change, &planned.id);
        }
        Ok(planned.id)
    }

    /// The error an op refuses with, as (status, code); panics if it succeeds.
    pub fn refuse<F>(&mut self, op: F) -> (u16, &'static str)
    where
        F: FnOnce(&ControlState, &mut Context<'_, StdRng>) -> Result<Planned, ApiError>,
    {
        let before = self.state.clone();
        match self.run(op) {
            Ok(id) => panic!("expected a refusal, got success for {id}"),
            Err(e) => {
                assert_eq!(self.state, before, "a refused op changes nothing");
                assert!(!e.message.is_empty());
                (e.status, e.code)
            }
        }
    }
}

/// After `change` applied as `seq`: the resource `id` is there with `version == seq` (or gone,
/// for deletes).
pub fn check_applied(state: &ControlState, seq: Seq, change: &Change, id: &str) {
    match change {
        Change::PutStreaming { record, .. } => {
            assert_eq!(record.id, id);
            assert_eq!(state.streaming[id].version, seq);
            assert_eq!(&state.streaming[id].record, &**record);
        }
        Change::DeleteStreaming { id: deleted } => {
            assert_eq!(deleted, id);
            assert!(!state.streaming.contains_key(id));
        }
        Change::PutStreamingTags { id: tagged, tags } => {
            assert_eq!(tagged, id);
            assert_eq!(&state.streaming[id].record.tags, tags);
        }
        Change::PutWeb { record } => {
            assert_eq!(record.id, id);
            assert_eq!(state.web[id].version, seq);
            assert_eq!(state.web[id].record.distribution_config, record.distribution_config);
        }
        Change::DeleteWeb { id: deleted } => {
            assert_eq!(deleted, id);
            assert!(!state.web.contains_key(id) && !state.invalidations.contains_key(id));
        }
        Change::PutWebTags { id: tagged, tags } => {
            assert_eq!(tagged, id);
            assert_eq!(&state.web[id].record.tags, tags);
        }
        Change::PutPublicKey { record } => {
            assert_eq!((&state.public_keys[id].record, state.public_keys[id].version), (record, seq));
        }
        Change::DeletePublicKey { .. } => assert!(!state.public_keys.contains_key(id)),
        Change::PutKeyGroup { record } => {
            assert_eq!((&state.key_groups[id].record, state.key_groups[id].version), (record, seq));
        }
        Change::DeleteKeyGroup { .. } => assert!(!state.key_groups.contains_key(id)),
        Change::PutOriginAccessIdentity { record } => {
            let stored = &state.origin_access_identities[id];
            assert_eq!((&stored.record, stored.version), (record, seq));
        }
        Change::DeleteOriginAccessIdentity { .. } => assert!(!state.origin_access_identities.contains_key(id)),
        Change::PutOriginAccessControl { record } => {
            let stored = &state.origin_access_controls[id];
            assert_eq!((&stored.record, stored.version), (record, seq));
        }
        Change::DeleteOriginAccessControl { .. } => assert!(!state.origin_access_controls.contains_key(id)),
        Change::PutInvalidation { record } => {
            let stored = &state.invalidations[&record.distribution_id][id];
            assert_eq!((&stored.record, stored.version), (record, seq));
        }
    }
}

pub fn streaming_config(reference: &str, aliases: &[&str]) -> StreamingDistributionConfig {
    StreamingDistributionConfig {
        caller_reference: s(reference),
        s3_origin: S3Origin { domain_name: s("mymedia.s3.amazonaws.com"), origin_access_identity: s("") },
        aliases: aliases.iter().map(|a| s(a)).collect(),
        comment: s("RTMP"),
        logging: None,
        trusted_signers: TrustedSigners { enabled: false, items: vec![] },
        price_class: None,
        enabled: true,
    }
}

pub fn web_config(reference: &str, aliases: &[&str]) -> DistributionConfig {
    let mut config = minimal_web_config();
    config.caller_reference = s(reference);
    config.aliases = aliases.iter().map(|a| s(a)).collect();
    config
}

pub fn public_key_config(reference: &str, name: &str) -> PublicKeyConfig {
    PublicKeyConfig { caller_reference: s(reference), name: s(name), encoded_key: s(RSA_PUBLIC_KEY), comment: None }
}

pub fn key_group_config(name: &str, keys: &[&str]) -> KeyGroupConfig {
    KeyGroupConfig { name: s(name), items: keys.iter().map(|k| s(k)).collect(), comment: Some(s("signers")) }
}

pub fn oac_config(name: &str) -> OriginAccessControlConfig {
    OriginAccessControlConfig {
        name: s(name),
        description: None,
        signing_protocol: OriginAccessControlSigningProtocol::Sigv4,
        signing_behavior: OriginAccessControlSigningBehavior::Always,
        origin_access_control_origin_type: OriginAccessControlOriginType::S3,
    }
}

pub fn tag(key: &str, value: &str) -> Tag {
    Tag { key: s(key), value: Some(s(value)) }
}
