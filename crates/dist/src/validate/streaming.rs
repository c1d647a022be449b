//! `StreamingDistributionConfig` checks.

use crate::error::{ValidationError, codes};
use crate::model::{PriceClass, StreamingDistributionConfig};
use crate::names::check_origin_access_identity;
use crate::s3_origin::parse_s3_origin_domain;

use super::{check_aliases, check_caller_reference, check_comment, check_trusted_signers};

/// Alternate domain names per RTMP distribution: "By default, you can add a maximum of 10
/// alternate domain names per distribution" (Developer Guide API 2012-07-01, CNAMEs.html); the
/// later raise to 100 was announced for web distributions.
pub const MAX_STREAMING_ALIASES: usize = 10;

pub fn validate_streaming_config(config: &StreamingDistributionConfig) -> Result<(), ValidationError> {
    check_caller_reference(&config.caller_reference)?;
    parse_s3_origin_domain(&config.s3_origin.domain_name)
        .map_err(|why| ValidationError::new(codes::INVALID_ORIGIN, "S3Origin.DomainName", why))?;
    check_origin_access_identity(&config.s3_origin.origin_access_identity).map_err(|why| {
        ValidationError::new(codes::INVALID_ORIGIN_ACCESS_IDENTITY, "S3Origin.OriginAccessIdentity", why)
    })?;
    check_aliases(&config.aliases, false, MAX_STREAMING_ALIASES, codes::TOO_MANY_STREAMING_DISTRIBUTION_CNAMES)?;
    check_comment(&config.comment)?;
    if let Some(logging) = &config.logging
        && logging.enabled
    {
        parse_s3_origin_domain(&logging.bucket)
            .map_err(|why| ValidationError::invalid_argument("Logging.Bucket", why))?;
    }
    check_trusted_signers("TrustedSigners", &config.trusted_signers)?;
    // `None` entered the shared enum later, for web features; RTMP never had it.
    if config.price_class == Some(PriceClass::None) {
        return Err(ValidationError::invalid_argument(
            "PriceClass",
            "None is not a price class of streaming distributions; use PriceClass_100, PriceClass_200 or PriceClass_All",
        ));
    }
    Ok(())
}

/// An update is a whole new config: valid on its own, with the same `CallerReference` and the
/// same origin bucket ("you can't change its origin server", former StreamingDistributionS3Origin
/// page of the Developer Guide; `IllegalUpdate` in the PutStreamingDistributionConfig reference).
pub fn validate_streaming_update(
    current: &StreamingDistributionConfig,
    new: &StreamingDistributionConfig,
) -> Result<(), ValidationError> {
    if new.caller_reference != current.caller_reference {
        return Err(ValidationError::new(
            codes::ILLEGAL_UPDATE,
            "CallerReference",
            format!("cannot change (it is {:?})", current.caller_reference),
        ));
    }
    if !new.s3_origin.domain_name.eq_ignore_ascii_case(&current.s3_origin.domain_name) {
        return Err(ValidationError::new(
            codes::ILLEGAL_UPDATE,
            "S3Origin.DomainName",
            format!("the origin of a streaming distribution cannot change (it is {:?})", current.s3_origin.domain_name),
        ));
    }
    validate_streaming_config(new)
}
