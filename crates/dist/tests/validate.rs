//! Config validation: each rule refuses with CloudFront's code and names the field.

mod common;

use common::*;
use sf_dist::*;

#[track_caller]
fn refused(result: Result<(), ValidationError>, code: &str, field: &str) -> ValidationError {
    let err = result.expect_err("the config should be refused");
    assert_eq!((err.code, err.field.as_str()), (code, field), "{err}");
    assert!(!err.message.is_empty());
    err
}

fn streaming(edit: impl FnOnce(&mut StreamingDistributionConfig)) -> Result<(), ValidationError> {
    let mut config = full_streaming_config();
    edit(&mut config);
    validate_streaming_config(&config)
}

#[test]
fn a_complete_streaming_config_is_valid() {
    assert_eq!(validate_streaming_config(&full_streaming_config()), Ok(()));
    assert_eq!(streaming(|c| c.comment = "é".repeat(128)), Ok(()), "128 characters, not bytes");
    assert_eq!(streaming(|c| c.s3_origin.origin_access_identity = s("")), Ok(()), "public bucket");
    assert_eq!(
        streaming(|c| c.logging = Some(StreamingLoggingConfig { enabled: false, bucket: s(""), prefix: s("") })),
        Ok(()),
        "disabled logging carries empty Bucket and Prefix"
    );
}

#[test]
fn streaming_refusals() {
    refused(streaming(|c| c.caller_reference = s("")), "InvalidArgument", "CallerReference");
    let err =
        refused(streaming(|c| c.s3_origin.domain_name = s("www.example.com")), "InvalidOrigin", "S3Origin.DomainName");
    assert!(err.message.contains("www.example.com"), "{err}");
    refused(
        streaming(|c| c.s3_origin.origin_access_identity = s("E74FTE3AEXAMPLE")),
        "InvalidOriginAccessIdentity",
        "S3Origin.OriginAccessIdentity",
    );
    refused(
        streaming(|c| c.aliases = (0..11).map(|i| format!("a{i}.example.com")).collect()),
        "TooManyStreamingDistributionCNAMEs",
        "Aliases",
    );
    assert_eq!(streaming(|c| c.aliases = (0..10).map(|i| format!("a{i}.example.com")).collect()), Ok(()));
    let err = refused(streaming(|c| c.aliases = vec![s("*.example.com")]), "InvalidArgument", "Aliases.Items[0]");
    assert!(err.message.contains("web"), "{err}");
    refused(
        streaming(|c| c.aliases = vec![s("ok.example.com"), s("Media.example.com")]),
        "InvalidArgument",
        "Aliases.Items[1]",
    );
    refused(
        streaming(|c| c.aliases = vec![s("a.example.com"), s("a.example.com")]),
        "InvalidArgument",
        "Aliases.Items[1]",
    );
    refused(streaming(|c| c.comment = "x".repeat(129)), "InvalidArgument", "Comment");
    refused(streaming(|c| c.logging.as_mut().unwrap().bucket = s("mylogs")), "InvalidArgument", "Logging.Bucket");
    refused(
        streaming(|c| c.trusted_signers.items = (0..6).map(|i| format!("12345678901{i}")).collect()),
        "TooManyTrustedSigners",
        "TrustedSigners.Items",
    );
    refused(streaming(|c| c.trusted_signers.items = vec![s("Self")]), "InvalidArgument", "TrustedSigners.Items[0]");
    refused(streaming(|c| c.price_class = Some(PriceClass::None)), "InvalidArgument", "PriceClass");
}

#[test]
fn streaming_updates_keep_caller_reference_and_origin() {
    let current = full_streaming_config();
    let mut new = current.clone();
    new.s3_origin.origin_access_identity = s("");
    new.aliases.clear();
    new.enabled = false;
    new.s3_origin.domain_name = s("MyMedia.s3.amazonaws.com");
    assert_eq!(
        validate_streaming_update(&current, &new),
        Ok(()),
        "OAI, aliases, Enabled may change; case is not a change"
    );

    let mut new = current.clone();
    new.caller_reference = s("other");
    refused(validate_streaming_update(&current, &new), "IllegalUpdate", "CallerReference");
    let mut new = current.clone();
    new.s3_origin.domain_name = s("othermedia.s3.amazonaws.com");
    refused(validate_streaming_update(&current, &new), "IllegalUpdate", "S3Origin.DomainName");
    let mut new = current.clone();
    new.comment = "x".repeat(200);
    refused(validate_streaming_update(&current, &new), "InvalidArgument", "Comment");
}

/// A complete config that is also valid: two origins (S3 and custom), an origin group, a
/// second behavior, every optional block set.
fn valid_web_config() -> DistributionConfig {
    let mut config = full_web_config();
    let s3 = &mut config.origins[0];
    s3.custom_origin_config = None;
    s3.vpc_origin_config = None;
    let mut web = full_web_config().origins.remove(0);
    web.id = s("web");
    web.domain_name = s("www.example.net");
    web.s3_origin_config = None;
    web.vpc_origin_config = None;
    config.origins.push(web);
    let certificate = config.viewer_certificate.as_mut().unwrap();
    certificate.certificate = None;
    certificate.certificate_source = None;
    config
}

fn web(edit: impl FnOnce(&mut DistributionConfig)) -> Result<(), ValidationError> {
    let mut config = valid_web_config();
    edit(&mut config);
    validate_web_config(&config)
}

#[test]
fn complete_and_minimal_web_configs_are_valid() {
    assert_eq!(validate_web_config(&valid_web_config()), Ok(()));
    assert_eq!(validate_web_config(&minimal_web_config()), Ok(()));
}

#[test]
fn web_aliases_default_root_object_and_origins() {
    assert_eq!(web(|c| c.aliases = vec![s("*.example.com"), s("example.com")]), Ok(()));
    refused(web(|c| c.aliases = vec![s("www.*.example.com")]), "InvalidArgument", "Aliases.Items[0]");
    refused(
        web(|c| c.aliases = (0..101).map(|i| format!("a{i}.example.com")).collect()),
        "TooManyDistributionCNAMEs",
        "Aliases",
    );
    refused(web(|c| c.default_root_object = Some(s("/index.html"))), "InvalidDefaultRootObject", "DefaultRootObject");
    refused(web(|c| c.origins.clear()), "InvalidArgument", "Origins.Items");
    refused(web(|c| c.origins[1].id = s("s3o")), "InvalidArgument", "Origins.Items[1].Id");
    refused(
        web(|c| c.origins[0].custom_origin_config = c.origins[1].custom_origin_config.clone()),
        "InvalidOrigin",
        "Origins.Items[0]",
    );
    refused(
        web(|c| c.origins[0].domain_name = s("bucket.example.com")),
        "InvalidOrigin",
        "Origins.Items[0].DomainName",
    );
    refused(web(|c| c.origins[1].domain_name = s("not a host")), "InvalidOrigin", "Origins.Items[1].DomainName");
    refused(
        web(|c| c.origins[0].s3_origin_config.as_mut().unwrap().origin_access_identity = s("x")),
        "InvalidOriginAccessIdentity",
        "Origins.Items[0].S3OriginConfig.OriginAccessIdentity",
    );
    refused(
        web(|c| c.origins[1].custom_origin_config.as_mut().unwrap().https_port = 444),
        "InvalidArgument",
        "Origins.Items[1].CustomOriginConfig.HTTPSPort",
    );
    assert_eq!(web(|c| c.origins[1].custom_origin_config.as_mut().unwrap().http_port = 8080), Ok(()));
    refused(
        web(|c| c.origins[1].custom_origin_config.as_mut().unwrap().origin_read_timeout = Some(0)),
        "InvalidArgument",
        "Origins.Items[1].CustomOriginConfig.OriginReadTimeout",
    );
    refused(
        web(|c| c.origins[0].connection_attempts = Some(4)),
        "InvalidArgument",
        "Origins.Items[0].ConnectionAttempts",
    );
    refused(
        web(|c| c.origins[0].connection_timeout = Some(11)),
        "InvalidArgument",
        "Origins.Items[0].ConnectionTimeout",
    );
    refused(web(|c| c.origins[0].origin_path = Some(s("/prod/"))), "InvalidArgument", "Origins.Items[0].OriginPath");
    refused(
        web(|c| c.origins[0].custom_headers[0].header_name = s("X A")),
        "InvalidArgument",
        "Origins.Items[0].CustomHeaders.Items[0].HeaderName",
    );
}

#[test]
fn web_origin_groups_and_behaviors() {
    refused(
        web(|c| c.origin_groups[0].members[1].origin_id = s("nope")),
        "NoSuchOrigin",
        "OriginGroups.Items[0].Members.Items[1].OriginId",
    );
    refused(web(|c| c.origin_groups[0].id = s("web")), "InvalidArgument", "OriginGroups.Items[0].Id");
    refused(
        web(|c| {
            c.origin_groups[0].members.pop();
        }),
        "InvalidArgument",
        "OriginGroups.Items[0].Members",
    );
    refused(
        web(|c| c.origin_groups[0].failover_criteria.status_codes = vec![200]),
        "InvalidArgument",
        "OriginGroups.Items[0].FailoverCriteria.StatusCodes",
    );
    refused(
        web(|c| c.default_cache_behavior.target_origin_id = s("nope")),
        "NoSuchOrigin",
        "DefaultCacheBehavior.TargetOriginId",
    );
    assert_eq!(web(|c| c.default_cache_behavior.target_origin_id = s("group")), Ok(()), "a group is a target");
    refused(
        web(|c| c.default_cache_behavior.allowed_methods.as_mut().unwrap().items = vec![Method::Get]),
        "InvalidArgument",
        "DefaultCacheBehavior.AllowedMethods.Items",
    );
    refused(
        web(|c| {
            c.default_cache_behavior.allowed_methods.as_mut().unwrap().cached_methods = vec![Method::Get, Method::Post]
        }),
        "InvalidArgument",
        "DefaultCacheBehavior.AllowedMethods.CachedMethods.Items",
    );
    refused(web(|c| c.default_cache_behavior.min_ttl = Some(100_000)), "InvalidTTLOrder", "DefaultCacheBehavior");
    refused(web(|c| c.cache_behaviors[0].behavior.max_ttl = Some(100)), "InvalidTTLOrder", "CacheBehaviors.Items[0]");
    refused(
        web(|c| c.cache_behaviors[0].behavior.max_ttl = Some(-1)),
        "InvalidArgument",
        "CacheBehaviors.Items[0].MaxTTL",
    );
    refused(
        web(|c| {
            c.default_cache_behavior.cache_policy_id = None;
            c.default_cache_behavior.forwarded_values = None;
        }),
        "InvalidArgument",
        "DefaultCacheBehavior",
    );
    refused(
        web(|c| c.default_cache_behavior.forwarded_values.as_mut().unwrap().cookies.forward = ItemSelection::All),
        "InvalidForwardCookies",
        "DefaultCacheBehavior.ForwardedValues.Cookies.WhitelistedNames",
    );
    refused(
        web(|c| {
            c.default_cache_behavior.forwarded_values.as_mut().unwrap().headers = vec![s("*")];
            c.default_cache_behavior.min_ttl = Some(1);
        }),
        "InvalidArgument",
        "DefaultCacheBehavior.MinTTL",
    );
    refused(
        web(|c| c.default_cache_behavior.function_associations[0].event_type = EventType::OriginRequest),
        "InvalidFunctionAssociation",
        "DefaultCacheBehavior.FunctionAssociations.Items[0].EventType",
    );
    refused(
        web(|c| {
            let again = c.default_cache_behavior.lambda_function_associations[0].clone();
            c.default_cache_behavior.lambda_function_associations.push(again);
        }),
        "InvalidLambdaFunctionAssociation",
        "DefaultCacheBehavior.LambdaFunctionAssociations.Items[1].EventType",
    );
    refused(
        web(|c| c.default_cache_behavior.trusted_key_groups.as_mut().unwrap().items = vec![s("k"); 5]),
        "TooManyKeyGroupsAssociatedToDistribution",
        "DefaultCacheBehavior.TrustedKeyGroups.Items",
    );
    refused(
        web(|c| {
            let mut second = c.cache_behaviors[0].clone();
            second.path_pattern = s("/images/*.jpg");
            c.cache_behaviors.push(second);
        }),
        "InvalidArgument",
        "CacheBehaviors.Items[1].PathPattern",
    );
    refused(
        web(|c| c.cache_behaviors[0].path_pattern = s("")),
        "InvalidArgument",
        "CacheBehaviors.Items[0].PathPattern",
    );
    refused(
        web(|c| c.cache_behaviors = vec![c.cache_behaviors[0].clone(); 76]),
        "TooManyCacheBehaviors",
        "CacheBehaviors",
    );
}

#[test]
fn web_error_responses_certificate_restrictions_logging() {
    refused(
        web(|c| c.custom_error_responses[0].error_code = 418),
        "InvalidErrorCode",
        "CustomErrorResponses.Items[0].ErrorCode",
    );
    refused(
        web(|c| c.custom_error_responses[0].response_code = Some(s("201"))),
        "InvalidResponseCode",
        "CustomErrorResponses.Items[0].ResponseCode",
    );
    refused(
        web(|c| c.custom_error_responses[0].response_page_path = Some(s("errors/404.html"))),
        "InvalidRelativePath",
        "CustomErrorResponses.Items[0].ResponsePagePath",
    );
    refused(
        web(|c| c.custom_error_responses[0].response_code = None),
        "InvalidArgument",
        "CustomErrorResponses.Items[0]",
    );
    refused(
        web(|c| c.viewer_certificate.as_mut().unwrap().cloud_front_default_certificate = Some(true)),
        "InvalidViewerCertificate",
        "ViewerCertificate",
    );
    refused(
        web(|c| c.viewer_certificate.as_mut().unwrap().ssl_support_method = None),
        "InvalidViewerCertificate",
        "ViewerCertificate.SSLSupportMethod",
    );
    refused(
        web(|c| c.restrictions.as_mut().unwrap().geo_restriction.restriction_type = GeoRestrictionType::None),
        "InvalidArgument",
        "Restrictions.GeoRestriction.Items",
    );
    refused(
        web(|c| c.restrictions.as_mut().unwrap().geo_restriction.items[1] = s("fr")),
        "InvalidLocationCode",
        "Restrictions.GeoRestriction.Items[1]",
    );
    refused(web(|c| c.logging.as_mut().unwrap().bucket = None), "InvalidArgument", "Logging.Bucket");
    refused(web(|c| c.comment = "x".repeat(129)), "InvalidArgument", "Comment");
}

#[test]
fn web_update_keeps_caller_reference() {
    let current = valid_web_config();
    let mut new = current.clone();
    new.enabled = false;
    assert_eq!(validate_web_update(&current, &new), Ok(()));
    new.caller_reference = s("other");
    refused(validate_web_update(&current, &new), "IllegalUpdate", "CallerReference");
}

#[test]
fn tags() {
    let tag = |k: &str, v: Option<&str>| Tag { key: s(k), value: v.map(s) };
    assert_eq!(
        validate_tags(&[tag("team", Some("video")), tag("env", None), tag("a:b/c=d+e-f@g_h.i", Some(""))]),
        Ok(())
    );
    refused(validate_tags(&[tag("", None)]), "InvalidTagging", "Tags.Items[0].Key");
    refused(validate_tags(&[tag("k", Some("a,b"))]), "InvalidTagging", "Tags.Items[0].Value");
    refused(validate_tags(&[tag("k", None), tag("k", None)]), "InvalidTagging", "Tags.Items[1].Key");
    let many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), None)).collect();
    refused(validate_tags(&many), "InvalidTagging", "Tags.Items");
}
