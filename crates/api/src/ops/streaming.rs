//! Streaming (RTMP) distributions: CreateStreamingDistribution(WithTags),
//! UpdateStreamingDistribution, DeleteStreamingDistribution and the Get operations
//! (API reference, https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_CreateStreamingDistribution.html
//! and the pages of its siblings).

use rand::Rng;
use sf_dist::{
    DistributionKind, StreamingDistribution, StreamingDistributionConfig, Tag, parse_s3_origin_domain,
    validate_streaming_config, validate_streaming_update, validate_tags,
};

use super::references::{check_aliases_free, check_streaming_references};
use super::{Context, Planned, check_if_match, check_quota, draw_distribution_identity, new_etag};
use crate::error::ApiError;
use crate::state::{Change, ControlState, StoredStreaming};

pub fn get_streaming_distribution<'a>(state: &'a ControlState, id: &str) -> Result<&'a StoredStreaming, ApiError> {
    state.streaming.get(id).ok_or_else(|| {
        ApiError::new(
            404,
            "NoSuchStreamingDistribution",
            format!("The specified streaming distribution {id} does not exist."),
        )
    })
}

/// The origin the edge reads: `s3://<bucket>` of `S3Origin.DomainName` (resolved with the
/// edge's S3 settings).
fn origin_of(config: &StreamingDistributionConfig) -> Result<String, ApiError> {
    let bucket = parse_s3_origin_domain(&config.s3_origin.domain_name)
        .map_err(|why| ApiError::new(400, "InvalidOrigin", format!("S3Origin.DomainName: {why}")))?;
    Ok(format!("s3://{}", bucket.bucket))
}

/// A new `CallerReference` creates a distribution; a reused one is 409
/// `StreamingDistributionAlreadyExists` naming the distribution that has it.
pub fn create_streaming_distribution<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    config: StreamingDistributionConfig,
    tags: Vec<Tag>,
) -> Result<Planned, ApiError> {
    validate_streaming_config(&config)?;
    validate_tags(&tags)?;
    let reference = &config.caller_reference;
    if let Some(existing) =
        state.streaming.values().find(|s| &s.record.streaming_distribution_config.caller_reference == reference)
    {
        return Err(ApiError::new(
            409,
            "StreamingDistributionAlreadyExists",
            format!(
                "The caller reference {reference:?} is associated with another streaming distribution. Already exists: {}",
                existing.record.id
            ),
        ));
    }
    check_quota(
        state.streaming.len(),
        ctx.quotas.streaming_distributions,
        "TooManyStreamingDistributions",
        "streaming distributions",
    )?;
    check_streaming_references(state, &config)?;
    check_aliases_free(state, &config.aliases, "")?;
    let origin = origin_of(&config)?;
    let identity = draw_distribution_identity(state, ctx, DistributionKind::Streaming)?;
    let etag = new_etag(ctx, None)?;
    let record = StreamingDistribution::new(identity, etag, config, tags, ctx.now);
    let id = record.id.clone();
    Ok(Planned::commit(Change::PutStreaming { record: Box::new(record), origin }, id))
}

/// Replaces the whole config (nothing is merged) as a new version, back to `InProgress`.
/// `CallerReference` and `S3Origin.DomainName` cannot change (`IllegalUpdate`).
pub fn update_streaming_distribution<R: Rng>(
    state: &ControlState,
    ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
    config: StreamingDistributionConfig,
) -> Result<Planned, ApiError> {
    let current = get_streaming_distribution(state, id)?;
    check_if_match(if_match, &current.record.etag)?;
    validate_streaming_update(&current.record.streaming_distribution_config, &config)?;
    check_streaming_references(state, &config)?;
    check_aliases_free(state, &config.aliases, id)?;
    let origin = origin_of(&config)?;
    let mut record = current.record.clone();
    let etag = new_etag(ctx, Some(&record.etag))?;
    record.replace_config(config, etag, ctx.now);
    Ok(Planned::commit(Change::PutStreaming { record: Box::new(record), origin }, id))
}

/// Only a disabled distribution can be deleted (409 `StreamingDistributionNotDisabled`).
pub fn delete_streaming_distribution<R: Rng>(
    state: &ControlState,
    _ctx: &mut Context<'_, R>,
    id: &str,
    if_match: Option<&str>,
) -> Result<Planned, ApiError> {
    let current = get_streaming_distribution(state, id)?;
    check_if_match(if_match, &current.record.etag)?;
    if current.record.streaming_distribution_config.enabled {
        return Err(ApiError::new(
            409,
            "StreamingDistributionNotDisabled",
            format!(
                "The streaming distribution {id} is enabled: disable it (update with Enabled false), wait until it is \
                 Deployed, then delete it."
            ),
        ));
    }
    Ok(Planned::commit(Change::DeleteStreaming { id: id.to_owned() }, id))
}
