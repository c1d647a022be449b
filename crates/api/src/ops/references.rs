//! Checks between resources: alternate domain names unique across streaming and web
//! distributions, references to OAIs, OACs, key groups and public keys that must exist, and
//! the uses that keep a resource from being deleted.

use sf_dist::{DistributionConfig, StreamingDistributionConfig, TrustedKeyGroups};

use crate::error::ApiError;
use crate::state::ControlState;

const OAI_PREFIX: &str = "origin-access-identity/cloudfront/";

/// Every alias of every distribution with the distribution's id.
fn all_aliases(state: &ControlState) -> impl Iterator<Item = (&str, &str)> {
    let streaming = state.streaming.values().flat_map(|s| {
        let record = &s.record;
        record.streaming_distribution_config.aliases.iter().map(|a| (record.id.as_str(), a.as_str()))
    });
    let web = state.web.values().flat_map(|w| {
        let record = &w.record;
        record.distribution_config.aliases.iter().map(|a| (record.id.as_str(), a.as_str()))
    });
    streaming.chain(web)
}

/// 409 `CNAMEAlreadyExists` when another distribution (of either kind, enabled or not) has one
/// of `aliases`. Host names compare case-insensitively; a wildcard `*.example.com` is a name of
/// its own, so it does not clash with `a.example.com` (CreateDistribution in the API reference:
/// "CNAMEAlreadyExists: The CNAME specified is already defined for CloudFront").
pub fn check_aliases_free(state: &ControlState, aliases: &[String], except_id: &str) -> Result<(), ApiError> {
    for (i, alias) in aliases.iter().enumerate() {
        if let Some((id, _)) =
            all_aliases(state).find(|(id, taken)| *id != except_id && taken.eq_ignore_ascii_case(alias))
        {
            return Err(ApiError::new(
                409,
                "CNAMEAlreadyExists",
                format!("Aliases.Items[{i}]: {alias} is already an alternate domain name of distribution {id}"),
            ));
        }
    }
    Ok(())
}

/// The OAI id of an `OriginAccessIdentity` value (`None` when empty).
fn oai_id(value: &str) -> Option<&str> {
    value.strip_prefix(OAI_PREFIX)
}

/// 400 `InvalidOriginAccessIdentity` unless `value` is empty or names an existing OAI.
fn check_oai_exists(state: &ControlState, field: &str, value: &str) -> Result<(), ApiError> {
    match oai_id(value) {
        Some(id) if !state.origin_access_identities.contains_key(id) => Err(ApiError::new(
            400,
            "InvalidOriginAccessIdentity",
            format!("{field}: there is no origin access identity {id}"),
        )),
        _ => Ok(()),
    }
}

pub fn check_streaming_references(state: &ControlState, config: &StreamingDistributionConfig) -> Result<(), ApiError> {
    check_oai_exists(state, "S3Origin.OriginAccessIdentity", &config.s3_origin.origin_access_identity)
}

/// Every `TrustedKeyGroups` of a web config with the field it is at.
fn trusted_key_groups(config: &DistributionConfig) -> impl Iterator<Item = (String, &TrustedKeyGroups)> {
    let default = config.default_cache_behavior.trusted_key_groups.iter().map(|k| ("DefaultCacheBehavior".into(), k));
    let others = config.cache_behaviors.iter().enumerate().filter_map(|(i, behavior)| {
        behavior.behavior.trusted_key_groups.as_ref().map(|k| (format!("CacheBehaviors.Items[{i}]"), k))
    });
    default.chain(others)
}

/// The OACs a web config's origins use (non-empty ids only).
fn oac_ids(config: &DistributionConfig) -> impl Iterator<Item = (usize, &str)> {
    config.origins.iter().enumerate().filter_map(|(i, origin)| {
        origin.origin_access_control_id.as_deref().filter(|id| !id.is_empty()).map(|id| (i, id))
    })
}

/// OAIs (400 `InvalidOriginAccessIdentity`), OACs (404 `NoSuchOriginAccessControl`) and key
/// groups (400 `TrustedKeyGroupDoesNotExist`) a web config names must exist (CreateDistribution
/// in the API reference lists these errors).
pub fn check_web_references(state: &ControlState, config: &DistributionConfig) -> Result<(), ApiError> {
    for (i, origin) in config.origins.iter().enumerate() {
        if let Some(s3) = &origin.s3_origin_config {
            let field = format!("Origins.Items[{i}].S3OriginConfig.OriginAccessIdentity");
            check_oai_exists(state, &field, &s3.origin_access_identity)?;
        }
    }
    for (i, id) in oac_ids(config) {
        if !state.origin_access_controls.contains_key(id) {
            return Err(ApiError::new(
                404,
                "NoSuchOriginAccessControl",
                format!("Origins.Items[{i}].OriginAccessControlId: there is no origin access control {id}"),
            ));
        }
    }
    for (field, groups) in trusted_key_groups(config) {
        for (j, id) in groups.items.iter().enumerate() {
            if !state.key_groups.contains_key(id) {
                return Err(ApiError::new(
                    400,
                    "TrustedKeyGroupDoesNotExist",
                    format!("{field}.TrustedKeyGroups.Items[{j}]: there is no key group {id}"),
                ));
            }
        }
    }
    Ok(())
}

/// The first distribution whose origin uses OAI `id`.
pub fn oai_user(state: &ControlState, id: &str) -> Option<String> {
    let uses = |value: &str| oai_id(value) == Some(id);
    let streaming = state
        .streaming
        .values()
        .map(|s| &s.record)
        .find(|record| uses(&record.streaming_distribution_config.s3_origin.origin_access_identity));
    if let Some(record) = streaming {
        return Some(record.id.clone());
    }
    let web = state.web.values().map(|w| &w.record).find(|record| {
        record
            .distribution_config
            .origins
            .iter()
            .any(|o| o.s3_origin_config.as_ref().is_some_and(|s3| uses(&s3.origin_access_identity)))
    });
    web.map(|record| record.id.clone())
}

/// The first web distribution with an origin that uses OAC `id`.
pub fn oac_user(state: &ControlState, id: &str) -> Option<String> {
    let found = state.web.values().find(|w| oac_ids(&w.record.distribution_config).any(|(_, used)| used == id));
    found.map(|w| w.record.id.clone())
}

/// The first web distribution that trusts key group `id`.
pub fn key_group_user(state: &ControlState, id: &str) -> Option<String> {
    let found = state.web.values().find(|w| {
        trusted_key_groups(&w.record.distribution_config).any(|(_, groups)| groups.items.iter().any(|g| g == id))
    });
    found.map(|w| w.record.id.clone())
}

/// The first key group holding public key `id`.
pub fn public_key_user(state: &ControlState, id: &str) -> Option<String> {
    let found = state.key_groups.values().find(|g| g.record.config.items.iter().any(|k| k == id));
    found.map(|g| g.record.id.clone())
}
