//! Configs shared by the tests: fully populated ones (every optional member set, every list
//! non-empty) for the serde tests, and small valid ones for validation and routing.
#![allow(dead_code)]

use std::sync::Arc;

use sf_dist::identity::DistributionIdentity;
use sf_dist::*;

pub fn s(v: &str) -> String {
    v.to_owned()
}

pub fn full_streaming_config() -> StreamingDistributionConfig {
    StreamingDistributionConfig {
        caller_reference: s("20200101-0001"),
        s3_origin: S3Origin {
            domain_name: s("mymedia.s3.amazonaws.com"),
            origin_access_identity: s("origin-access-identity/cloudfront/E74FTE3AEXAMPLE"),
        },
        aliases: vec![s("media.example.com"), s("video.example.com")],
        comment: s("RTMP for video site"),
        logging: Some(StreamingLoggingConfig {
            enabled: true,
            bucket: s("mylogs.s3.amazonaws.com"),
            prefix: s("rtmp/"),
        }),
        trusted_signers: TrustedSigners { enabled: true, items: vec![s("self"), s("123456789012")] },
        price_class: Some(PriceClass::PriceClassAll),
        enabled: true,
    }
}

fn full_behavior(target: &str) -> DefaultCacheBehavior {
    DefaultCacheBehavior {
        target_origin_id: s(target),
        trusted_signers: Some(TrustedSigners { enabled: true, items: vec![s("self")] }),
        trusted_key_groups: Some(TrustedKeyGroups { enabled: true, items: vec![s("kg-id")] }),
        viewer_protocol_policy: ViewerProtocolPolicy::RedirectToHttps,
        allowed_methods: Some(AllowedMethods {
            items: vec![Method::Head, Method::Get, Method::Options],
            cached_methods: vec![Method::Head, Method::Get],
        }),
        smooth_streaming: Some(false),
        compress: Some(true),
        lambda_function_associations: vec![LambdaFunctionAssociation {
            lambda_function_arn: s("arn:aws:lambda:us-east-1:123456789012:function:f:1"),
            event_type: EventType::OriginRequest,
            include_body: Some(false),
        }],
        function_associations: vec![FunctionAssociation {
            function_arn: s("arn:aws:cloudfront::123456789012:function/f1"),
            event_type: EventType::ViewerRequest,
        }],
        field_level_encryption_id: Some(s("")),
        realtime_log_config_arn: Some(s("arn:aws:cloudfront::123456789012:realtime-log-config/rt")),
        cache_policy_id: Some(s("658327ea-f89d-4fab-a63d-7e88639e58f6")),
        origin_request_policy_id: Some(s("88a5eaf4-2fd4-4709-b370-b4c650ea3fcf")),
        response_headers_policy_id: Some(s("67f7725c-6f97-4210-82d7-5512b31e9d03")),
        grpc_config: Some(GrpcConfig { enabled: false }),
        forwarded_values: Some(ForwardedValues {
            query_string: false,
            cookies: CookiePreference { forward: ItemSelection::Whitelist, whitelisted_names: vec![s("sid")] },
            headers: vec![s("Origin")],
            query_string_cache_keys: vec![s("v")],
        }),
        min_ttl: Some(0),
        default_ttl: Some(86_400),
        max_ttl: Some(31_536_000),
    }
}

/// Every member of the 2020-05-31 `DistributionConfig` present. Not a valid config (the origin
/// has all three origin kinds at once), only a complete one.
pub fn full_web_config() -> DistributionConfig {
    let origin = Origin {
        id: s("s3o"),
        domain_name: s("bucket.s3.amazonaws.com"),
        origin_path: Some(s("/prod")),
        custom_headers: vec![OriginCustomHeader { header_name: s("X-A"), header_value: s("v") }],
        s3_origin_config: Some(S3OriginConfig { origin_access_identity: s(""), origin_read_timeout: Some(30) }),
        custom_origin_config: Some(CustomOriginConfig {
            http_port: 80,
            https_port: 443,
            origin_protocol_policy: OriginProtocolPolicy::MatchViewer,
            origin_ssl_protocols: vec![SslProtocol::TlsV1_2],
            origin_read_timeout: Some(30),
            origin_keepalive_timeout: Some(5),
            ip_address_type: Some(IpAddressType::Dualstack),
            origin_mtls_config: Some(OriginMtlsConfig {
                client_certificate_arn: s("arn:aws:acm:us-east-1:1:certificate/x"),
            }),
            origin_http_version: Some(OriginHttpVersion::Http2),
        }),
        vpc_origin_config: Some(VpcOriginConfig {
            vpc_origin_id: s("vo-1"),
            owner_account_id: Some(s("123456789012")),
            origin_read_timeout: Some(30),
            origin_keepalive_timeout: Some(5),
            origin_http_version: Some(OriginHttpVersion::Http1_1),
        }),
        connection_attempts: Some(3),
        connection_timeout: Some(10),
        response_completion_timeout: Some(60),
        origin_shield: Some(OriginShield { enabled: true, origin_shield_region: Some(s("us-east-1")) }),
        origin_access_control_id: Some(s("EIAP8PEXAMPLE")),
    };
    DistributionConfig {
        caller_reference: s("ref-1"),
        aliases: vec![s("www.example.com"), s("*.example.org")],
        default_root_object: Some(s("index.html")),
        origins: vec![origin],
        origin_groups: vec![OriginGroup {
            id: s("group"),
            failover_criteria: OriginGroupFailoverCriteria { status_codes: vec![500, 502] },
            members: vec![OriginGroupMember { origin_id: s("s3o") }, OriginGroupMember { origin_id: s("web") }],
            selection_criteria: Some(OriginGroupSelectionCriteria::Default),
        }],
        default_cache_behavior: full_behavior("s3o"),
        cache_behaviors: vec![CacheBehavior { path_pattern: s("images/*.jpg"), behavior: full_behavior("group") }],
        custom_error_responses: vec![CustomErrorResponse {
            error_code: 404,
            response_page_path: Some(s("/errors/404.html")),
            response_code: Some(s("404")),
            error_caching_min_ttl: Some(10),
        }],
        comment: s("a comment"),
        logging: Some(LoggingConfig {
            enabled: Some(true),
            include_cookies: Some(false),
            bucket: Some(s("logs.s3.amazonaws.com")),
            prefix: Some(s("cf/")),
        }),
        price_class: Some(PriceClass::PriceClass100),
        enabled: true,
        viewer_certificate: Some(ViewerCertificate {
            cloud_front_default_certificate: Some(false),
            iam_certificate_id: Some(s("")),
            acm_certificate_arn: Some(s("arn:aws:acm:us-east-1:123456789012:certificate/c")),
            ssl_support_method: Some(SslSupportMethod::SniOnly),
            minimum_protocol_version: Some(MinimumProtocolVersion::TlsV1_2_2021),
            certificate: Some(s("arn:aws:acm:us-east-1:123456789012:certificate/c")),
            certificate_source: Some(CertificateSource::Acm),
        }),
        restrictions: Some(Restrictions {
            geo_restriction: GeoRestriction {
                restriction_type: GeoRestrictionType::Whitelist,
                items: vec![s("DE"), s("FR")],
            },
        }),
        web_acl_id: Some(s("")),
        http_version: Some(HttpVersion::Http2And3),
        is_ipv6_enabled: Some(true),
        continuous_deployment_policy_id: Some(s("")),
        staging: Some(false),
        anycast_ip_list_id: Some(s("aip-1")),
        tenant_config: Some(TenantConfig {
            parameter_definitions: vec![ParameterDefinition {
                name: s("tenant"),
                definition: ParameterDefinitionSchema {
                    string_schema: Some(StringSchemaConfig {
                        comment: Some(s("c")),
                        default_value: Some(s("d")),
                        required: false,
                    }),
                },
            }],
        }),
        connection_mode: Some(ConnectionMode::Direct),
        viewer_mtls_config: Some(ViewerMtlsConfig {
            mode: Some(ViewerMtlsMode::Optional),
            trust_store_config: Some(TrustStoreConfig {
                trust_store_id: s("ts-1"),
                advertise_trust_store_ca_names: Some(true),
                ignore_certificate_expiry: Some(false),
            }),
        }),
        connection_function_association: Some(ConnectionFunctionAssociation { id: s("cf-1") }),
        cache_tag_config: Some(CacheTagConfig { header_name: s("Cache-Tag") }),
    }
}

/// What `aws cloudfront create-distribution --origin-domain-name mybucket.s3.amazonaws.com`
/// sends, as a valid starting point.
pub fn minimal_web_config() -> DistributionConfig {
    let behavior = DefaultCacheBehavior {
        target_origin_id: s("s3o"),
        trusted_signers: Some(TrustedSigners { enabled: false, items: vec![] }),
        trusted_key_groups: None,
        viewer_protocol_policy: ViewerProtocolPolicy::AllowAll,
        allowed_methods: None,
        smooth_streaming: None,
        compress: None,
        lambda_function_associations: vec![],
        function_associations: vec![],
        field_level_encryption_id: None,
        realtime_log_config_arn: None,
        cache_policy_id: None,
        origin_request_policy_id: None,
        response_headers_policy_id: None,
        grpc_config: None,
        forwarded_values: Some(ForwardedValues {
            query_string: false,
            cookies: CookiePreference { forward: ItemSelection::None, whitelisted_names: vec![] },
            headers: vec![],
            query_string_cache_keys: vec![],
        }),
        min_ttl: Some(0),
        default_ttl: None,
        max_ttl: None,
    };
    DistributionConfig {
        caller_reference: s("cli-1796673645-643077"),
        aliases: vec![],
        default_root_object: Some(s("index.html")),
        origins: vec![Origin {
            id: s("s3o"),
            domain_name: s("mybucket.s3.amazonaws.com"),
            origin_path: Some(s("")),
            custom_headers: vec![],
            s3_origin_config: Some(S3OriginConfig { origin_access_identity: s(""), origin_read_timeout: None }),
            custom_origin_config: None,
            vpc_origin_config: None,
            connection_attempts: None,
            connection_timeout: None,
            response_completion_timeout: None,
            origin_shield: None,
            origin_access_control_id: None,
        }],
        origin_groups: vec![],
        default_cache_behavior: behavior,
        cache_behaviors: vec![],
        custom_error_responses: vec![],
        comment: s(""),
        logging: None,
        price_class: None,
        enabled: true,
        viewer_certificate: None,
        restrictions: None,
        web_acl_id: None,
        http_version: None,
        is_ipv6_enabled: None,
        continuous_deployment_policy_id: None,
        staging: None,
        anycast_ip_list_id: None,
        tenant_config: None,
        connection_mode: None,
        viewer_mtls_config: None,
        connection_function_association: None,
        cache_tag_config: None,
    }
}

pub fn streaming_with(id: &str, domain: &str, aliases: &[&str]) -> Arc<StreamingDistribution> {
    let mut config = full_streaming_config();
    config.aliases = aliases.iter().map(|a| s(a)).collect();
    let identity = DistributionIdentity {
        id: s(id),
        arn: identity::arn(DistributionKind::Streaming, "123456789012", id),
        domain_name: s(domain),
    };
    Arc::new(StreamingDistribution::new(identity, s("E2QWRUHAPOMQZL"), config, vec![], Timestamp(0)))
}

pub fn web_with(id: &str, domain: &str, aliases: &[&str]) -> Arc<Distribution> {
    let mut config = minimal_web_config();
    config.aliases = aliases.iter().map(|a| s(a)).collect();
    let identity = DistributionIdentity {
        id: s(id),
        arn: identity::arn(DistributionKind::Web, "123456789012", id),
        domain_name: s(domain),
    };
    Arc::new(Distribution::new(identity, s("E9LHASXEXAMPLE"), config, vec![], Timestamp(0)))
}
