//! Fixtures of the XML tests: fully populated configs (every optional member set, every list
//! with at least two items) and one record of every resource, built on sf-dist's own fixtures.
#![allow(dead_code)]

#[path = "../../../dist/tests/common/mod.rs"]
mod dist_fixtures;

pub use dist_fixtures::{full_streaming_config, minimal_web_config, s};
use sf_dist::*;

fn with_second_items(mut b: DefaultCacheBehavior) -> DefaultCacheBehavior {
    b.trusted_signers.as_mut().unwrap().items.push(s("123456789012"));
    b.trusted_key_groups.as_mut().unwrap().items.push(s("kg-2"));
    b.lambda_function_associations.push(LambdaFunctionAssociation {
        lambda_function_arn: s("arn:aws:lambda:us-east-1:123456789012:function:g:2"),
        event_type: EventType::ViewerResponse,
        include_body: Some(true),
    });
    b.function_associations.push(FunctionAssociation {
        function_arn: s("arn:aws:cloudfront::123456789012:function/f2"),
        event_type: EventType::ViewerResponse,
    });
    let forwarded = b.forwarded_values.as_mut().unwrap();
    forwarded.cookies.whitelisted_names.push(s("lang"));
    forwarded.headers.push(s("Accept-Language"));
    forwarded.query_string_cache_keys.push(s("w"));
    b
}

/// Every member of `DistributionConfig` present and every list holding two items or more.
pub fn full_web_config() -> DistributionConfig {
    let mut c = dist_fixtures::full_web_config();
    let origin = &mut c.origins[0];
    origin.custom_headers.push(OriginCustomHeader { header_name: s("X-B"), header_value: s("w & <x>") });
    origin.custom_origin_config.as_mut().unwrap().origin_ssl_protocols.push(SslProtocol::TlsV1_1);
    let mut second = origin.clone();
    second.id = s("web");
    second.domain_name = s("www.example.org");
    c.origins.push(second);
    let mut group = c.origin_groups[0].clone();
    group.id = s("group-2");
    group.failover_criteria.status_codes.push(503);
    c.origin_groups.push(group);
    c.default_cache_behavior = with_second_items(c.default_cache_behavior);
    let behavior = with_second_items(c.cache_behaviors[0].behavior.clone());
    c.cache_behaviors[0].behavior = behavior.clone();
    c.cache_behaviors.push(CacheBehavior { path_pattern: s("video/*"), behavior });
    c.custom_error_responses.push(CustomErrorResponse {
        error_code: 503,
        response_page_path: Some(s("/errors/503.html")),
        response_code: Some(s("200")),
        error_caching_min_ttl: Some(0),
    });
    let tenant = c.tenant_config.as_mut().unwrap();
    let mut parameter = tenant.parameter_definitions[0].clone();
    parameter.name = s("region");
    tenant.parameter_definitions.push(parameter);
    c
}

pub fn streaming_record() -> StreamingDistribution {
    StreamingDistribution {
        id: s("EGTXBD79H29TRA8"),
        arn: s("arn:aws:cloudfront::123456789012:streaming-distribution/EGTXBD79H29TRA8"),
        status: Status::InProgress,
        last_modified_time: Timestamp(1_574_384_115_705),
        domain_name: s("s5c39gqb8ow64r.cloudfront.net"),
        etag: s("E2QWRUHAPOMQZL"),
        streaming_distribution_config: full_streaming_config(),
        tags: vec![Tag { key: s("team"), value: Some(s("video")) }, Tag { key: s("bare"), value: None }],
    }
}

pub fn web_record() -> Distribution {
    Distribution {
        id: s("EDFDVBD6EXAMPLE"),
        arn: s("arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"),
        status: Status::Deployed,
        last_modified_time: Timestamp(1_574_384_115_705),
        in_progress_invalidation_batches: 2,
        domain_name: s("d111111abcdef8.cloudfront.net"),
        etag: s("E9LHASXEXAMPLE"),
        distribution_config: full_web_config(),
        tags: vec![],
    }
}

/// The minimal config as a record: the list summaries fill in CloudFront's defaults for it.
pub fn minimal_web_record() -> Distribution {
    Distribution { id: s("E1HVIAU7U12ABC"), distribution_config: minimal_web_config(), ..web_record() }
}

fn versioned<C>(id: &str, config: C) -> Versioned<C> {
    Versioned {
        id: s(id),
        etag: s("E2QWRUHAPOMQZL"),
        created_time: Timestamp(1_600_000_000_000),
        last_modified_time: Timestamp(1_600_000_001_500),
        config,
    }
}

pub const PEM: &str =
    "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----\n";

pub fn public_key_record(id: &str) -> Versioned<PublicKeyConfig> {
    versioned(
        id,
        PublicKeyConfig {
            caller_reference: s("pk-ref"),
            name: format!("key-{id}"),
            encoded_key: s(PEM),
            comment: Some(s("signing key")),
        },
    )
}

pub fn key_group_record(id: &str) -> Versioned<KeyGroupConfig> {
    versioned(
        id,
        KeyGroupConfig { name: s("kg1"), items: vec![s("K2JCJMDEHXQW5F"), s("KDFB19YGCR002")], comment: Some(s("c")) },
    )
}

pub fn oai_record(id: &str) -> Versioned<OriginAccessIdentityConfig> {
    versioned(id, OriginAccessIdentityConfig { caller_reference: s("oai-ref"), comment: s("for the bucket") })
}

pub fn oac_record(id: &str) -> Versioned<OriginAccessControlConfig> {
    versioned(
        id,
        OriginAccessControlConfig {
            name: s("oac1"),
            description: None,
            signing_protocol: OriginAccessControlSigningProtocol::Sigv4,
            signing_behavior: OriginAccessControlSigningBehavior::NoOverride,
            origin_access_control_origin_type: OriginAccessControlOriginType::S3,
        },
    )
}

pub fn invalidation_record(id: &str) -> Invalidation {
    Invalidation {
        id: s(id),
        distribution_id: s("EDFDVBD6EXAMPLE"),
        status: InvalidationStatus::Completed,
        create_time: Timestamp(1_600_000_002_000),
        invalidation_batch: InvalidationBatch {
            paths: vec![s("/index.html"), s("/images/*")],
            caller_reference: s("cli-1796673647-304615"),
        },
    }
}

/// One response document of every output shape the API writes: (the operation whose output it
/// is, the XML, the same view as JSON with the model's member names).
pub fn response_documents() -> Vec<(&'static str, Vec<u8>, serde_json::Value)> {
    use sf_api::shapes::{self, Paging};
    use sf_api::xml::try_to_xml;

    fn doc<T: serde::Serialize>(
        operation: &'static str,
        root: &str,
        view: &T,
    ) -> (&'static str, Vec<u8>, serde_json::Value) {
        let xml = try_to_xml(root, view).unwrap_or_else(|e| panic!("{operation}: {e}"));
        (operation, xml, serde_json::to_value(view).unwrap())
    }
    let paging = || Paging { marker: s(""), max_items: 2, next_marker: Some(s("NEXT")), is_truncated: true };
    let key_ids = |group: &str| vec![format!("{group}-K1"), format!("{group}-K2")];

    let streaming = streaming_record();
    let web = web_record();
    let minimal = minimal_web_record();
    let keys = [public_key_record("K2JCJMDEHXQW5F"), public_key_record("KDFB19YGCR002")];
    let groups = [key_group_record("kg-id"), key_group_record("kg-2")];
    let oais = [oai_record("E74FTE3AEXAMPLE"), oai_record("E2QWRUHAPOMQZL")];
    let oacs = [oac_record("EIAP8PEXAMPLE"), oac_record("E1OAC2EXAMPLE")];
    let invalidations = [invalidation_record("I2J0I21PCUYOIK"), invalidation_record("I3XXXEXAMPLE")];
    vec![
        doc(
            "GetStreamingDistribution",
            "StreamingDistribution",
            &shapes::streaming_distribution(&streaming, Status::Deployed),
        ),
        doc("GetStreamingDistributionConfig", "StreamingDistributionConfig", &streaming.streaming_distribution_config),
        doc(
            "ListStreamingDistributions",
            "StreamingDistributionList",
            &shapes::streaming_distribution_list(
                paging(),
                [(&streaming, Status::InProgress), (&streaming, Status::Deployed)],
            ),
        ),
        doc("GetDistribution", "Distribution", &shapes::distribution(&web, Status::InProgress, &key_ids)),
        doc("GetDistributionConfig", "DistributionConfig", &web.distribution_config),
        doc(
            "ListDistributions",
            "DistributionList",
            &shapes::distribution_list(paging(), [(&web, Status::Deployed), (&minimal, Status::InProgress)]),
        ),
        doc("GetPublicKey", "PublicKey", &shapes::public_key(&keys[0])),
        doc("GetPublicKeyConfig", "PublicKeyConfig", &keys[0].config),
        doc("ListPublicKeys", "PublicKeyList", &shapes::public_key_list(paging(), &keys)),
        doc("GetKeyGroup", "KeyGroup", &shapes::key_group(&groups[0])),
        doc("GetKeyGroupConfig", "KeyGroupConfig", &groups[0].config),
        doc("ListKeyGroups", "KeyGroupList", &shapes::key_group_list(paging(), &groups)),
        doc(
            "GetCloudFrontOriginAccessIdentity",
            "CloudFrontOriginAccessIdentity",
            &shapes::origin_access_identity(&oais[0]),
        ),
        doc("GetCloudFrontOriginAccessIdentityConfig", "CloudFrontOriginAccessIdentityConfig", &oais[0].config),
        doc(
            "ListCloudFrontOriginAccessIdentities",
            "CloudFrontOriginAccessIdentityList",
            &shapes::origin_access_identity_list(paging(), &oais),
        ),
        doc("GetOriginAccessControl", "OriginAccessControl", &shapes::origin_access_control(&oacs[0])),
        doc("GetOriginAccessControlConfig", "OriginAccessControlConfig", &oacs[0].config),
        doc(
            "ListOriginAccessControls",
            "OriginAccessControlList",
            &shapes::origin_access_control_list(paging(), &oacs),
        ),
        doc("GetInvalidation", "Invalidation", &shapes::invalidation(&invalidations[0])),
        doc("ListInvalidations", "InvalidationList", &shapes::invalidation_list(paging(), &invalidations)),
        doc("ListTagsForResource", "Tags", &shapes::Tags::of(&streaming.tags)),
    ]
}
