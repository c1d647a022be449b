//! `DistributionConfig` checks. Limits are CloudFront's default quotas (Developer Guide,
//! cloudfront-limits.html) and the ranges in distribution-web-values-specify.html.

use std::collections::HashSet;

use crate::error::{ValidationError, codes};
use crate::model::{
    CustomErrorResponse, DefaultCacheBehavior, DistributionConfig, EventType, GeoRestrictionType, ItemSelection,
    Method, Origin, OriginGroup, ViewerCertificate,
};
use crate::names::{check_host_name, check_origin_access_identity};
use crate::s3_origin::parse_s3_origin_domain;

use super::{check_aliases, check_caller_reference, check_comment, check_trusted_signers};

pub const MAX_WEB_ALIASES: usize = 100;
pub const MAX_ORIGINS: usize = 100;
pub const MAX_ORIGIN_GROUPS: usize = 10;
pub const MAX_CACHE_BEHAVIORS: usize = 75;
pub const MAX_ORIGIN_CUSTOM_HEADERS: usize = 10;
pub const MAX_KEY_GROUPS_PER_BEHAVIOR: usize = 4;
/// `PathPattern` and `DefaultRootObject`: at most 255 characters.
pub const MAX_PATH_CHARS: usize = 255;
/// Status codes CloudFront lets a custom error response (and an origin-group failover) handle.
const ERROR_CODES: &[i32] = &[400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504];
const FAILOVER_CODES: &[i32] = &[400, 403, 404, 416, 500, 502, 503, 504];
/// Codes a custom error response may answer with instead.
const RESPONSE_CODES: &[&str] = &["200", "400", "403", "404", "405", "414", "416", "500", "501", "502", "503", "504"];

pub fn validate_web_config(config: &DistributionConfig) -> Result<(), ValidationError> {
    check_caller_reference(&config.caller_reference)?;
    check_aliases(&config.aliases, true, MAX_WEB_ALIASES, codes::TOO_MANY_DISTRIBUTION_CNAMES)?;
    if let Some(root) = &config.default_root_object {
        check_default_root_object(root)?;
    }
    let origin_ids = check_origins(config)?;
    let target_ids = check_origin_groups(&config.origin_groups, &origin_ids)?;
    check_behavior("DefaultCacheBehavior", &config.default_cache_behavior, &target_ids)?;
    if config.cache_behaviors.len() > MAX_CACHE_BEHAVIORS {
        return Err(ValidationError::new(
            codes::TOO_MANY_CACHE_BEHAVIORS,
            "CacheBehaviors",
            format!("has {} cache behaviors; the maximum is {MAX_CACHE_BEHAVIORS}", config.cache_behaviors.len()),
        ));
    }
    let mut patterns = HashSet::new();
    for (i, behavior) in config.cache_behaviors.iter().enumerate() {
        let field = format!("CacheBehaviors.Items[{i}]");
        let pattern = &behavior.path_pattern;
        if pattern.is_empty() || pattern.chars().count() > MAX_PATH_CHARS {
            return Err(ValidationError::invalid_argument(
                format!("{field}.PathPattern"),
                format!("must be 1 to {MAX_PATH_CHARS} characters"),
            ));
        }
        // A leading `/` is optional, so `/a/*` and `a/*` are the same pattern.
        if !patterns.insert(pattern.trim_start_matches('/')) {
            return Err(ValidationError::invalid_argument(
                format!("{field}.PathPattern"),
                format!("{pattern:?} is used by another cache behavior"),
            ));
        }
        check_behavior(&field, &behavior.behavior, &target_ids)?;
    }
    check_custom_error_responses(&config.custom_error_responses)?;
    check_comment(&config.comment)?;
    if let Some(logging) = &config.logging
        && logging.enabled == Some(true)
    {
        let bucket = logging.bucket.as_deref().unwrap_or_default();
        parse_s3_origin_domain(bucket).map_err(|why| ValidationError::invalid_argument("Logging.Bucket", why))?;
    }
    if let Some(certificate) = &config.viewer_certificate {
        check_viewer_certificate(certificate)?;
    }
    if let Some(restrictions) = &config.restrictions {
        let geo = &restrictions.geo_restriction;
        let field = "Restrictions.GeoRestriction";
        if geo.restriction_type == GeoRestrictionType::None && !geo.items.is_empty() {
            return Err(ValidationError::invalid_argument(
                format!("{field}.Items"),
                "must be empty when RestrictionType is none",
            ));
        }
        if geo.restriction_type != GeoRestrictionType::None && geo.items.is_empty() {
            return Err(ValidationError::invalid_argument(
                format!("{field}.Items"),
                "must list at least one country for a blacklist or whitelist",
            ));
        }
        for (i, code) in geo.items.iter().enumerate() {
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(ValidationError::new(
                    "InvalidLocationCode",
                    format!("{field}.Items[{i}]"),
                    format!("{code:?} is not an ISO 3166-1 alpha-2 country code"),
                ));
            }
        }
    }
    Ok(())
}

/// Same as streaming: `CallerReference` is fixed for the life of a distribution.
pub fn validate_web_update(current: &DistributionConfig, new: &DistributionConfig) -> Result<(), ValidationError> {
    if new.caller_reference != current.caller_reference {
        return Err(ValidationError::new(
            codes::ILLEGAL_UPDATE,
            "CallerReference",
            format!("cannot change (it is {:?})", current.caller_reference),
        ));
    }
    validate_web_config(new)
}

fn check_default_root_object(root: &str) -> Result<(), ValidationError> {
    let bad = |why: &str| ValidationError::new(codes::INVALID_DEFAULT_ROOT_OBJECT, "DefaultRootObject", why);
    if root.starts_with('/') {
        return Err(bad("must not begin with a forward slash"));
    }
    if root.chars().count() > MAX_PATH_CHARS {
        return Err(bad("is longer than 255 characters"));
    }
    Ok(())
}

/// Returns the origin ids, which cache behaviors and origin groups refer to.
fn check_origins(config: &DistributionConfig) -> Result<HashSet<&str>, ValidationError> {
    let origins = &config.origins;
    if origins.is_empty() {
        return Err(ValidationError::invalid_argument("Origins.Items", "must list at least one origin"));
    }
    if origins.len() > MAX_ORIGINS {
        return Err(ValidationError::new(
            codes::TOO_MANY_ORIGINS,
            "Origins.Items",
            format!("has {} origins; the maximum is {MAX_ORIGINS}", origins.len()),
        ));
    }
    let mut ids = HashSet::new();
    for (i, origin) in origins.iter().enumerate() {
        let field = format!("Origins.Items[{i}]");
        check_origin(&field, origin)?;
        if !ids.insert(origin.id.as_str()) {
            return Err(ValidationError::invalid_argument(
                format!("{field}.Id"),
                format!("{:?} is used twice", origin.id),
            ));
        }
    }
    Ok(ids)
}

fn check_origin(field: &str, origin: &Origin) -> Result<(), ValidationError> {
    if origin.id.is_empty() {
        return Err(ValidationError::invalid_argument(format!("{field}.Id"), "must not be empty"));
    }
    let kinds =
        [origin.s3_origin_config.is_some(), origin.custom_origin_config.is_some(), origin.vpc_origin_config.is_some()];
    if kinds.iter().filter(|&&k| k).count() != 1 {
        return Err(ValidationError::new(
            codes::INVALID_ORIGIN,
            field,
            "needs exactly one of S3OriginConfig, CustomOriginConfig and VpcOriginConfig",
        ));
    }
    let domain_field = format!("{field}.DomainName");
    if let Some(s3) = &origin.s3_origin_config {
        parse_s3_origin_domain(&origin.domain_name)
            .map_err(|why| ValidationError::new(codes::INVALID_ORIGIN, &domain_field, why))?;
        check_origin_access_identity(&s3.origin_access_identity).map_err(|why| {
            ValidationError::new(
                codes::INVALID_ORIGIN_ACCESS_IDENTITY,
                format!("{field}.S3OriginConfig.OriginAccessIdentity"),
                why,
            )
        })?;
        check_range(&format!("{field}.S3OriginConfig.OriginReadTimeout"), s3.origin_read_timeout, 1, 120)?;
    } else {
        check_host_name(&origin.domain_name, true)
            .map_err(|why| ValidationError::new(codes::INVALID_ORIGIN, &domain_field, why))?;
    }
    if let Some(custom) = &origin.custom_origin_config {
        let config = format!("{field}.CustomOriginConfig");
        check_port(&format!("{config}.HTTPPort"), custom.http_port)?;
        check_port(&format!("{config}.HTTPSPort"), custom.https_port)?;
        check_range(&format!("{config}.OriginReadTimeout"), custom.origin_read_timeout, 1, 120)?;
        check_range(&format!("{config}.OriginKeepaliveTimeout"), custom.origin_keepalive_timeout, 1, 120)?;
    }
    if let Some(path) = &origin.origin_path
        && !path.is_empty()
        && (!path.starts_with('/') || path.ends_with('/'))
    {
        return Err(ValidationError::invalid_argument(
            format!("{field}.OriginPath"),
            "must be empty or begin with '/' and not end with '/'",
        ));
    }
    if origin.custom_headers.len() > MAX_ORIGIN_CUSTOM_HEADERS {
        return Err(ValidationError::new(
            "TooManyOriginCustomHeaders",
            format!("{field}.CustomHeaders"),
            format!("has {} headers; the maximum is {MAX_ORIGIN_CUSTOM_HEADERS}", origin.custom_headers.len()),
        ));
    }
    for (i, header) in origin.custom_headers.iter().enumerate() {
        let name = &header.header_name;
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)) {
            return Err(ValidationError::invalid_argument(
                format!("{field}.CustomHeaders.Items[{i}].HeaderName"),
                format!("{name:?} is not an HTTP header name"),
            ));
        }
    }
    check_range(&format!("{field}.ConnectionAttempts"), origin.connection_attempts, 1, 3)?;
    check_range(&format!("{field}.ConnectionTimeout"), origin.connection_timeout, 1, 10)?;
    Ok(())
}

fn check_range(field: &str, value: Option<i32>, min: i32, max: i32) -> Result<(), ValidationError> {
    match value {
        Some(v) if !(min..=max).contains(&v) => {
            Err(ValidationError::invalid_argument(field, format!("is {v}; it must be between {min} and {max}")))
        }
        _ => Ok(()),
    }
}

/// Custom origin ports: 80, 443, or 1024–65535 (distribution-web-values-specify.html).
fn check_port(field: &str, port: i32) -> Result<(), ValidationError> {
    if port == 80 || port == 443 || (1024..=65535).contains(&port) {
        return Ok(());
    }
    Err(ValidationError::invalid_argument(field, format!("is {port}; it must be 80, 443 or 1024 to 65535")))
}

/// Returns every id a cache behavior may target: origins and origin groups.
fn check_origin_groups<'a>(
    groups: &'a [OriginGroup],
    origin_ids: &HashSet<&'a str>,
) -> Result<HashSet<&'a str>, ValidationError> {
    if groups.len() > MAX_ORIGIN_GROUPS {
        return Err(ValidationError::new(
            "TooManyOriginGroupsPerDistribution",
            "OriginGroups",
            format!("has {} origin groups; the maximum is {MAX_ORIGIN_GROUPS}", groups.len()),
        ));
    }
    let mut targets = origin_ids.clone();
    for (i, group) in groups.iter().enumerate() {
        let field = format!("OriginGroups.Items[{i}]");
        if group.id.is_empty() || !targets.insert(group.id.as_str()) {
            return Err(ValidationError::invalid_argument(
                format!("{field}.Id"),
                format!("{:?} is empty or already the id of an origin or origin group", group.id),
            ));
        }
        if group.members.len() != 2 {
            return Err(ValidationError::invalid_argument(
                format!("{field}.Members"),
                format!("has {} members; an origin group has exactly 2", group.members.len()),
            ));
        }
        for (m, member) in group.members.iter().enumerate() {
            if !origin_ids.contains(member.origin_id.as_str()) {
                return Err(ValidationError::new(
                    codes::NO_SUCH_ORIGIN,
                    format!("{field}.Members.Items[{m}].OriginId"),
                    format!("no origin has the id {:?}", member.origin_id),
                ));
            }
        }
        let codes_field = format!("{field}.FailoverCriteria.StatusCodes");
        if group.failover_criteria.status_codes.is_empty() {
            return Err(ValidationError::invalid_argument(codes_field, "must list at least one status code"));
        }
        if let Some(code) = group.failover_criteria.status_codes.iter().find(|c| !FAILOVER_CODES.contains(c)) {
            return Err(ValidationError::invalid_argument(codes_field, format!("{code} cannot trigger a failover")));
        }
    }
    Ok(targets)
}

fn check_behavior(
    field: &str,
    behavior: &DefaultCacheBehavior,
    targets: &HashSet<&str>,
) -> Result<(), ValidationError> {
    if !targets.contains(behavior.target_origin_id.as_str()) {
        return Err(ValidationError::new(
            codes::NO_SUCH_ORIGIN,
            format!("{field}.TargetOriginId"),
            format!("no origin or origin group has the id {:?}", behavior.target_origin_id),
        ));
    }
    if let Some(signers) = &behavior.trusted_signers {
        check_trusted_signers(&format!("{field}.TrustedSigners"), signers)?;
    }
    if let Some(groups) = &behavior.trusted_key_groups
        && groups.items.len() > MAX_KEY_GROUPS_PER_BEHAVIOR
    {
        return Err(ValidationError::new(
            codes::TOO_MANY_TRUSTED_KEY_GROUPS,
            format!("{field}.TrustedKeyGroups.Items"),
            format!("has {} key groups; the maximum is {MAX_KEY_GROUPS_PER_BEHAVIOR}", groups.items.len()),
        ));
    }
    if let Some(methods) = &behavior.allowed_methods {
        check_methods(field, &methods.items, &methods.cached_methods)?;
    }
    let mut events = HashSet::new();
    for (i, lambda) in behavior.lambda_function_associations.iter().enumerate() {
        if !events.insert(lambda.event_type) {
            return Err(ValidationError::new(
                "InvalidLambdaFunctionAssociation",
                format!("{field}.LambdaFunctionAssociations.Items[{i}].EventType"),
                format!("{} has another association already", lambda.event_type),
            ));
        }
    }
    let mut events = HashSet::new();
    for (i, function) in behavior.function_associations.iter().enumerate() {
        let event = format!("{field}.FunctionAssociations.Items[{i}].EventType");
        // CloudFront Functions run on viewer events only.
        if !matches!(function.event_type, EventType::ViewerRequest | EventType::ViewerResponse) {
            return Err(ValidationError::new(
                "InvalidFunctionAssociation",
                event,
                format!("{} is not a viewer event", function.event_type),
            ));
        }
        if !events.insert(function.event_type) {
            return Err(ValidationError::new(
                "InvalidFunctionAssociation",
                event,
                format!("{} has another association already", function.event_type),
            ));
        }
    }
    if behavior.cache_policy_id.is_none() && behavior.forwarded_values.is_none() {
        return Err(ValidationError::invalid_argument(field, "needs either a CachePolicyId or ForwardedValues"));
    }
    if let Some(forwarded) = &behavior.forwarded_values {
        let cookies = &forwarded.cookies;
        if cookies.forward != ItemSelection::Whitelist && !cookies.whitelisted_names.is_empty() {
            return Err(ValidationError::new(
                "InvalidForwardCookies",
                format!("{field}.ForwardedValues.Cookies.WhitelistedNames"),
                "must be empty unless Forward is whitelist",
            ));
        }
        if forwarded.headers.iter().any(|h| h == "*") && behavior.min_ttl.is_some_and(|ttl| ttl != 0) {
            return Err(ValidationError::invalid_argument(
                format!("{field}.MinTTL"),
                "must be 0 when all headers are forwarded (Headers contains *)",
            ));
        }
    }
    check_ttls(field, behavior)
}

/// Allowed: GET+HEAD, GET+HEAD+OPTIONS, or all seven. Cached: GET+HEAD, optionally OPTIONS.
fn check_methods(field: &str, allowed: &[Method], cached: &[Method]) -> Result<(), ValidationError> {
    use Method::*;
    let set = |methods: &[Method]| methods.iter().copied().collect::<HashSet<_>>();
    let is = |methods: &[Method], want: &[Method]| methods.len() == want.len() && set(methods) == set(want);
    let allowed_ok = is(allowed, &[Get, Head])
        || is(allowed, &[Get, Head, Options])
        || is(allowed, &[Get, Head, Post, Put, Patch, Options, Delete]);
    if !allowed_ok {
        return Err(ValidationError::invalid_argument(
            format!("{field}.AllowedMethods.Items"),
            "must be GET,HEAD or GET,HEAD,OPTIONS or all of GET,HEAD,POST,PUT,PATCH,OPTIONS,DELETE",
        ));
    }
    let cached_ok = cached.is_empty() || is(cached, &[Get, Head]) || is(cached, &[Get, Head, Options]);
    if !cached_ok || !set(cached).is_subset(&set(allowed)) {
        return Err(ValidationError::invalid_argument(
            format!("{field}.AllowedMethods.CachedMethods.Items"),
            "must be GET,HEAD or GET,HEAD,OPTIONS, and allowed",
        ));
    }
    Ok(())
}

fn check_ttls(field: &str, behavior: &DefaultCacheBehavior) -> Result<(), ValidationError> {
    for (name, ttl) in
        [("MinTTL", behavior.min_ttl), ("DefaultTTL", behavior.default_ttl), ("MaxTTL", behavior.max_ttl)]
    {
        if ttl.is_some_and(|t| t < 0) {
            return Err(ValidationError::invalid_argument(format!("{field}.{name}"), "must not be negative"));
        }
    }
    let order_bad = |lower: Option<i64>, upper: Option<i64>| matches!((lower, upper), (Some(l), Some(u)) if l > u);
    if order_bad(behavior.min_ttl, behavior.default_ttl)
        || order_bad(behavior.default_ttl, behavior.max_ttl)
        || order_bad(behavior.min_ttl, behavior.max_ttl)
    {
        return Err(ValidationError::new(
            codes::INVALID_TTL_ORDER,
            field,
            "MinTTL <= DefaultTTL <= MaxTTL does not hold",
        ));
    }
    Ok(())
}

fn check_custom_error_responses(responses: &[CustomErrorResponse]) -> Result<(), ValidationError> {
    let mut seen = HashSet::new();
    for (i, response) in responses.iter().enumerate() {
        let field = format!("CustomErrorResponses.Items[{i}]");
        if !ERROR_CODES.contains(&response.error_code) {
            return Err(ValidationError::new(
                codes::INVALID_ERROR_CODE,
                format!("{field}.ErrorCode"),
                format!("{} is not one of {ERROR_CODES:?}", response.error_code),
            ));
        }
        if !seen.insert(response.error_code) {
            return Err(ValidationError::invalid_argument(
                format!("{field}.ErrorCode"),
                format!("{} has another custom error response", response.error_code),
            ));
        }
        let path = response.response_page_path.as_deref().filter(|p| !p.is_empty());
        let code = response.response_code.as_deref().filter(|c| !c.is_empty());
        if path.is_some() != code.is_some() {
            return Err(ValidationError::invalid_argument(field, "ResponsePagePath and ResponseCode go together"));
        }
        if let Some(path) = path
            && !path.starts_with('/')
        {
            return Err(ValidationError::new(
                codes::INVALID_RELATIVE_PATH,
                format!("{field}.ResponsePagePath"),
                "must begin with '/'",
            ));
        }
        if let Some(code) = code
            && !RESPONSE_CODES.contains(&code)
        {
            return Err(ValidationError::new(
                codes::INVALID_RESPONSE_CODE,
                format!("{field}.ResponseCode"),
                format!("{code:?} is not one of {RESPONSE_CODES:?}"),
            ));
        }
        if response.error_caching_min_ttl.is_some_and(|t| t < 0) {
            return Err(ValidationError::invalid_argument(
                format!("{field}.ErrorCachingMinTTL"),
                "must not be negative",
            ));
        }
    }
    Ok(())
}

/// One certificate source at most, and the default certificate excludes the others.
fn check_viewer_certificate(certificate: &ViewerCertificate) -> Result<(), ValidationError> {
    let sources = [
        certificate.cloud_front_default_certificate == Some(true),
        certificate.iam_certificate_id.as_deref().is_some_and(|s| !s.is_empty()),
        certificate.acm_certificate_arn.as_deref().is_some_and(|s| !s.is_empty()),
    ];
    if sources.iter().filter(|&&s| s).count() > 1 {
        return Err(ValidationError::new(
            codes::INVALID_VIEWER_CERTIFICATE,
            "ViewerCertificate",
            "give only one of CloudFrontDefaultCertificate=true, IAMCertificateId and ACMCertificateArn",
        ));
    }
    if (sources[1] || sources[2]) && certificate.ssl_support_method.is_none() {
        return Err(ValidationError::new(
            codes::INVALID_VIEWER_CERTIFICATE,
            "ViewerCertificate.SSLSupportMethod",
            "is required with a custom certificate",
        ));
    }
    Ok(())
}
