//! Origin access identities (legacy) and origin access controls (API reference,
//! https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateCloudFrontOriginAccessIdentity.html,
//! …/API_CreateOriginAccessControl.html and their Update/Delete/Get siblings).

use rand::Rng;
use sf_dist::identity::generate_distribution_id;
use sf_dist::{OriginAccessControlConfig, OriginAccessIdentityConfig};

use super::references::{oac_user, oai_user};
use super::{
    Context, Planned, check_caller_reference_kept, check_if_match, check_length, check_not_empty, check_quota,
    draw_free, new_record, updated_record,
};
use crate::error::ApiError;
use crate::state::{Change, ControlState, Stored};

/// OAI `Comment`: up to 128 characters.
const MAX_OAI_COMMENT_CHARS: usize = 128;
/// OAC `Name`: up to 64 characters; `Description`: up to 256.
const MAX_OAC_NAME_CHARS: usize = 64;
const MAX_OAC_DESCRIPTION_CHARS: usize = 256;

pub fn get_origin_access_identity<'a>(
    state: &'a ControlState,
    id: &str,
) -> Result<&'a Stored<OriginAccessIdentityConfig>, ApiError> {
    state.origin_access_identities.get(id).ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchCloudFrontOriginAccessIdentity",
            format!("The specified origin access identity {id} does not exist."),
        )
    })
}

pub fn get_origin_access_control<'a>(
    state: &'a ControlState,
    id: &str,
) -> Result<&'a Stored<OriginAccessControlConfig>, ApiError> {
    state.origin_access_controls.get(id).ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchOriginAccessControl",
            format!("The specified origin access control {id} does not exist."),
        )
    })
}

fn validate_oai(config: &OriginAccessIdentityConfig) -> Result<(), ApiError> {
    check_not_empty("CallerReference", &config.caller_reference)?;
    check_length("Comment", &config.comment, 0, MAX_OAI_COMMENT_CHARS)
}

/// A reused `CallerReference` is 409 `CloudFrontOriginAccessIdentityAlreadyExists`.
pub fn create_origin_access_identity<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    config: OriginAccessIdentityConfig,
) -> Result<Planned, ApiError> {
    validate_oai(&config)?;
    let mut existing = state.origin_access_identities.values();
    if let Some(existing) = existing.find(|o| o.record.config.caller_reference == config.caller_reference) {
        return Err(ApiError::new(
            409,
            "CloudFrontOriginAccessIdentityAlreadyExists",
            format!(
                "The caller reference {:?} belongs to origin access identity {}.",
                config.caller_reference, existing.record.id
            ),
        ));
    }
    check_quota(
        state.origin_access_identities.len(),
        ctx.quotas.origin_access_identities,
        "TooManyCloudFrontOriginAccessIdentities",
        "origin access identities",
    )?;
    let id = draw_free(
        "origin access identity id",
        || generate_distribution_id(ctx.rng),
        |id| state.origin_access_identities.contains_key(id),
    )?;
    let record = new_record(ctx, &id, config)?;
    Ok(Planned::commit(Change::PutOriginAccessIdentity { record }, id))
}

/// Only `Comment` may change (`CallerReference`: 400 `IllegalUpdate`).
pub fn update_origin_access_identity<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
    config: OriginAccessIdentityConfig,
) -> Result<Planned, ApiError> {
    let current = &get_origin_access_identity(state, id)?.record;
    check_if_match(if_match, &current.etag)?;
    check_caller_reference_kept(&config.caller_reference, &current.config.caller_reference)?;
    validate_oai(&config)?;
    let record = updated_record(ctx, current, config)?;
    Ok(Planned::commit(Change::PutOriginAccessIdentity { record }, id))
}

/// An OAI a distribution's origin uses cannot be deleted (409
/// `CloudFrontOriginAccessIdentityInUse`).
pub fn delete_origin_access_identity<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
) -> Result<Planned, ApiError> {
    check_if_match(if_match, &get_origin_access_identity(state, id)?.record.etag)?;
    if let Some(distribution) = oai_user(state, id) {
        return Err(ApiError::new(
            409,
            "CloudFrontOriginAccessIdentityInUse",
            format!("The origin access identity {id} is used by distribution {distribution}."),
        ));
    }
    Ok(Planned::commit(Change::DeleteOriginAccessIdentity { id: id.to_owned() }, id))
}

/// The OAC's own rules and a `Name` unique among the other OACs (409
/// `OriginAccessControlAlreadyExists`).
fn validate_oac(state: &ControlState, config: &OriginAccessControlConfig, except_id: &str) -> Result<(), ApiError> {
    check_length("Name", &config.name, 1, MAX_OAC_NAME_CHARS)?;
    check_length("Description", config.description.as_deref().unwrap_or_default(), 0, MAX_OAC_DESCRIPTION_CHARS)?;
    let mut others = state.origin_access_controls.values().filter(|o| o.record.id != except_id);
    if let Some(other) = others.find(|o| o.record.config.name == config.name) {
        return Err(ApiError::new(
            409,
            "OriginAccessControlAlreadyExists",
            format!("Name: origin access control {} is already named {:?}", other.record.id, config.name),
        ));
    }
    Ok(())
}

pub fn create_origin_access_control<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    config: OriginAccessControlConfig,
) -> Result<Planned, ApiError> {
    validate_oac(state, &config, "")?;
    check_quota(
        state.origin_access_controls.len(),
        ctx.quotas.origin_access_controls,
        "TooManyOriginAccessControls",
        "origin access controls",
    )?;
    let id = draw_free(
        "origin access control id",
        || generate_distribution_id(ctx.rng),
        |id| state.origin_access_controls.contains_key(id),
    )?;
    let record = new_record(ctx, &id, config)?;
    Ok(Planned::commit(Change::PutOriginAccessControl { record }, id))
}

pub fn update_origin_access_control<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
    config: OriginAccessControlConfig,
) -> Result<Planned, ApiError> {
    let current = &get_origin_access_control(state, id)?.record;
    check_if_match(if_match, &current.etag)?;
    validate_oac(state, &config, id)?;
    let record = updated_record(ctx, current, config)?;
    Ok(Planned::commit(Change::PutOriginAccessControl { record }, id))
}

/// An OAC an origin uses cannot be deleted (409 `OriginAccessControlInUse`).
pub fn delete_origin_access_control<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
) -> Result<Planned, ApiError> {
    check_if_match(if_match, &get_origin_access_control(state, id)?.record.etag)?;
    if let Some(distribution) = oac_user(state, id) {
        return Err(ApiError::new(
            409,
            "OriginAccessControlInUse",
            format!("The origin access control {id} is used by an origin of distribution {distribution}."),
        ));
    }
    Ok(Planned::commit(Change::DeleteOriginAccessControl { id: id.to_owned() }, id))
}
