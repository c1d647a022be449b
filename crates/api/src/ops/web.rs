//! Web distributions: CreateDistribution(WithTags), UpdateDistribution, DeleteDistribution and
//! the Get operations (API reference,
//! https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateDistribution.html and
//! the pages of its siblings).

use rand::Rng;
use sf_dist::{
    Distribution, DistributionConfig, DistributionKind, Tag, validate_tags, validate_web_config, validate_web_update,
};

use super::references::{check_aliases_free, check_web_references};
use super::{Context, Planned, check_if_match, check_quota, draw_distribution_identity, new_etag};
use crate::error::ApiError;
use crate::state::{Change, ControlState, StoredWeb};

pub fn get_distribution<'a>(state: &'a ControlState, id: &str) -> Result<&'a StoredWeb, ApiError> {
    state.web.get(id).ok_or_else(|| {
        ApiError::new(404, "NoSuchDistribution", format!("The specified distribution {id} does not exist."))
    })
}

/// A new `CallerReference` creates a distribution "regardless of the content"; a reused one is
/// 409 `DistributionAlreadyExists` naming the distribution that has it.
pub fn create_distribution<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    config: DistributionConfig,
    tags: Vec<Tag>,
) -> Result<Planned, ApiError> {
    validate_web_config(&config)?;
    validate_tags(&tags)?;
    let reference = &config.caller_reference;
    if let Some(existing) = state.web.values().find(|w| &w.record.distribution_config.caller_reference == reference) {
        return Err(ApiError::new(
            409,
            "DistributionAlreadyExists",
            format!(
                "The caller reference {reference:?} is associated with another distribution. Already exists: {}",
                existing.record.id
            ),
        ));
    }
    check_quota(state.web.len(), ctx.quotas.web_distributions, "TooManyDistributions", "distributions")?;
    check_web_references(state, &config)?;
    check_aliases_free(state, &config.aliases, "")?;
    let identity = draw_distribution_identity(state, ctx, DistributionKind::Web)?;
    let etag = new_etag(ctx, None)?;
    let record = Distribution::new(identity, etag, config, tags, ctx.now);
    let id = record.id.clone();
    Ok(Planned::commit(Change::PutWeb { record: Box::new(record) }, id))
}

/// Replaces the whole config as a new version, back to `InProgress`; `CallerReference` cannot
/// change (`IllegalUpdate`).
pub fn update_distribution<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
    config: DistributionConfig,
) -> Result<Planned, ApiError> {
    let current = get_distribution(state, id)?;
    check_if_match(if_match, &current.record.etag)?;
    validate_web_update(&current.record.distribution_config, &config)?;
    check_web_references(state, &config)?;
    check_aliases_free(state, &config.aliases, id)?;
    let mut record = current.record.clone();
    let etag = new_etag(ctx, Some(&record.etag))?;
    record.replace_config(config, etag, ctx.now);
    Ok(Planned::commit(Change::PutWeb { record: Box::new(record) }, id))
}

/// Only a disabled distribution can be deleted (409 `DistributionNotDisabled`); its
/// invalidations go with it.
pub fn delete_distribution<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
) -> Result<Planned, ApiError> {
    let current = get_distribution(state, id)?;
    check_if_match(if_match, &current.record.etag)?;
    if current.record.distribution_config.enabled {
        return Err(ApiError::new(
            409,
            "DistributionNotDisabled",
            format!(
                "The distribution {id} is enabled: disable it (update with Enabled false), wait until it is Deployed, \
                 then delete it."
            ),
        ));
    }
    Ok(Planned::commit(Change::DeleteWeb { id: id.to_owned() }, id))
}
