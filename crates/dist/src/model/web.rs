//! `DistributionConfig` (web distributions), every member of the 2020-05-31 shape nested all
//! the way down, in model order.

use serde::{Deserialize, Serialize};

use super::{PriceClass, TrustedSigners};
use crate::wire_enum::wire_enum;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfig {
    pub caller_reference: String,
    /// `CNAME` elements; web aliases may start with `*.`.
    pub aliases: Vec<String>,
    pub default_root_object: Option<String>,
    pub origins: Vec<Origin>,
    pub origin_groups: Vec<OriginGroup>,
    pub default_cache_behavior: DefaultCacheBehavior,
    pub cache_behaviors: Vec<CacheBehavior>,
    pub custom_error_responses: Vec<CustomErrorResponse>,
    pub comment: String,
    pub logging: Option<LoggingConfig>,
    pub price_class: Option<PriceClass>,
    pub enabled: bool,
    pub viewer_certificate: Option<ViewerCertificate>,
    pub restrictions: Option<Restrictions>,
    #[serde(rename = "WebACLId")]
    pub web_acl_id: Option<String>,
    pub http_version: Option<HttpVersion>,
    #[serde(rename = "IsIPV6Enabled")]
    pub is_ipv6_enabled: Option<bool>,
    pub continuous_deployment_policy_id: Option<String>,
    pub staging: Option<bool>,
    pub anycast_ip_list_id: Option<String>,
    pub tenant_config: Option<TenantConfig>,
    pub connection_mode: Option<ConnectionMode>,
    pub viewer_mtls_config: Option<ViewerMtlsConfig>,
    pub connection_function_association: Option<ConnectionFunctionAssociation>,
    pub cache_tag_config: Option<CacheTagConfig>,
}

// ---- Origins ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Origin {
    pub id: String,
    pub domain_name: String,
    pub origin_path: Option<String>,
    /// `OriginCustomHeader` elements.
    pub custom_headers: Vec<OriginCustomHeader>,
    pub s3_origin_config: Option<S3OriginConfig>,
    pub custom_origin_config: Option<CustomOriginConfig>,
    pub vpc_origin_config: Option<VpcOriginConfig>,
    pub connection_attempts: Option<i32>,
    pub connection_timeout: Option<i32>,
    pub response_completion_timeout: Option<i32>,
    pub origin_shield: Option<OriginShield>,
    pub origin_access_control_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginCustomHeader {
    pub header_name: String,
    pub header_value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3OriginConfig {
    /// `origin-access-identity/cloudfront/<ID>`, or empty (public bucket or OAC).
    pub origin_access_identity: String,
    pub origin_read_timeout: Option<i32>,
}

wire_enum! {
    OriginProtocolPolicy { HttpOnly = "http-only", MatchViewer = "match-viewer", HttpsOnly = "https-only" }
}

wire_enum! {
    SslProtocol { SslV3 = "SSLv3", TlsV1 = "TLSv1", TlsV1_1 = "TLSv1.1", TlsV1_2 = "TLSv1.2" }
}

wire_enum! {
    IpAddressType { Ipv4 = "ipv4", Ipv6 = "ipv6", Dualstack = "dualstack" }
}

wire_enum! {
    OriginHttpVersion { Http1_1 = "http1.1", Http2 = "http2" }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomOriginConfig {
    #[serde(rename = "HTTPPort")]
    pub http_port: i32,
    #[serde(rename = "HTTPSPort")]
    pub https_port: i32,
    pub origin_protocol_policy: OriginProtocolPolicy,
    /// `SslProtocol` elements.
    pub origin_ssl_protocols: Vec<SslProtocol>,
    pub origin_read_timeout: Option<i32>,
    pub origin_keepalive_timeout: Option<i32>,
    pub ip_address_type: Option<IpAddressType>,
    pub origin_mtls_config: Option<OriginMtlsConfig>,
    pub origin_http_version: Option<OriginHttpVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginMtlsConfig {
    pub client_certificate_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VpcOriginConfig {
    pub vpc_origin_id: String,
    pub owner_account_id: Option<String>,
    pub origin_read_timeout: Option<i32>,
    pub origin_keepalive_timeout: Option<i32>,
    pub origin_http_version: Option<OriginHttpVersion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginShield {
    pub enabled: bool,
    pub origin_shield_region: Option<String>,
}

// ---- Origin groups ----

wire_enum! {
    OriginGroupSelectionCriteria { Default = "default", MediaQualityBased = "media-quality-based" }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginGroup {
    pub id: String,
    pub failover_criteria: OriginGroupFailoverCriteria,
    /// `OriginGroupMember` elements; the model requires exactly two.
    pub members: Vec<OriginGroupMember>,
    pub selection_criteria: Option<OriginGroupSelectionCriteria>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginGroupFailoverCriteria {
    /// `StatusCode` elements (at least one).
    pub status_codes: Vec<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginGroupMember {
    pub origin_id: String,
}

// ---- Cache behaviors ----

wire_enum! {
    ViewerProtocolPolicy { AllowAll = "allow-all", HttpsOnly = "https-only", RedirectToHttps = "redirect-to-https" }
}

wire_enum! {
    Method { Get = "GET", Head = "HEAD", Post = "POST", Put = "PUT", Patch = "PATCH", Options = "OPTIONS", Delete = "DELETE" }
}

wire_enum! {
    EventType {
        ViewerRequest = "viewer-request",
        ViewerResponse = "viewer-response",
        OriginRequest = "origin-request",
        OriginResponse = "origin-response",
    }
}

wire_enum! {
    /// `Cookies.Forward`.
    ItemSelection { None = "none", Whitelist = "whitelist", All = "all" }
}

/// `DefaultCacheBehavior`: every member of `CacheBehavior` except `PathPattern`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DefaultCacheBehavior {
    pub target_origin_id: String,
    pub trusted_signers: Option<TrustedSigners>,
    pub trusted_key_groups: Option<TrustedKeyGroups>,
    pub viewer_protocol_policy: ViewerProtocolPolicy,
    pub allowed_methods: Option<AllowedMethods>,
    pub smooth_streaming: Option<bool>,
    pub compress: Option<bool>,
    pub lambda_function_associations: Vec<LambdaFunctionAssociation>,
    pub function_associations: Vec<FunctionAssociation>,
    pub field_level_encryption_id: Option<String>,
    pub realtime_log_config_arn: Option<String>,
    pub cache_policy_id: Option<String>,
    pub origin_request_policy_id: Option<String>,
    pub response_headers_policy_id: Option<String>,
    pub grpc_config: Option<GrpcConfig>,
    /// Deprecated in the model in favour of cache policies, still accepted.
    pub forwarded_values: Option<ForwardedValues>,
    #[serde(rename = "MinTTL")]
    pub min_ttl: Option<i64>,
    #[serde(rename = "DefaultTTL")]
    pub default_ttl: Option<i64>,
    #[serde(rename = "MaxTTL")]
    pub max_ttl: Option<i64>,
}

/// `CacheBehavior`: `PathPattern` first, then the members it shares with the default behavior.
/// On the wire it is one flat struct in model order ([`CacheBehaviorWire`]); not
/// `#[serde(flatten)]`, whose untyped buffering a typed format such as CloudFront's XML (where
/// `true` and `80` are text until the type asks) cannot feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "CacheBehaviorWire", into = "CacheBehaviorWire")]
pub struct CacheBehavior {
    pub path_pattern: String,
    pub behavior: DefaultCacheBehavior,
}

/// The members of `CacheBehavior` as the model lists them, for serde only.
#[derive(Serialize, Deserialize)]
#[serde(rename = "CacheBehavior", rename_all = "PascalCase")]
struct CacheBehaviorWire {
    path_pattern: String,
    target_origin_id: String,
    trusted_signers: Option<TrustedSigners>,
    trusted_key_groups: Option<TrustedKeyGroups>,
    viewer_protocol_policy: ViewerProtocolPolicy,
    allowed_methods: Option<AllowedMethods>,
    smooth_streaming: Option<bool>,
    compress: Option<bool>,
    lambda_function_associations: Vec<LambdaFunctionAssociation>,
    function_associations: Vec<FunctionAssociation>,
    field_level_encryption_id: Option<String>,
    realtime_log_config_arn: Option<String>,
    cache_policy_id: Option<String>,
    origin_request_policy_id: Option<String>,
    response_headers_policy_id: Option<String>,
    grpc_config: Option<GrpcConfig>,
    forwarded_values: Option<ForwardedValues>,
    #[serde(rename = "MinTTL")]
    min_ttl: Option<i64>,
    #[serde(rename = "DefaultTTL")]
    default_ttl: Option<i64>,
    #[serde(rename = "MaxTTL")]
    max_ttl: Option<i64>,
}

impl From<CacheBehaviorWire> for CacheBehavior {
    fn from(w: CacheBehaviorWire) -> Self {
        CacheBehavior {
            path_pattern: w.path_pattern,
            behavior: DefaultCacheBehavior {
                target_origin_id: w.target_origin_id,
                trusted_signers: w.trusted_signers,
                trusted_key_groups: w.trusted_key_groups,
                viewer_protocol_policy: w.viewer_protocol_policy,
                allowed_methods: w.allowed_methods,
                smooth_streaming: w.smooth_streaming,
                compress: w.compress,
                lambda_function_associations: w.lambda_function_associations,
                function_associations: w.function_associations,
                field_level_encryption_id: w.field_level_encryption_id,
                realtime_log_config_arn: w.realtime_log_config_arn,
                cache_policy_id: w.cache_policy_id,
                origin_request_policy_id: w.origin_request_policy_id,
                response_headers_policy_id: w.response_headers_policy_id,
                grpc_config: w.grpc_config,
                forwarded_values: w.forwarded_values,
                min_ttl: w.min_ttl,
                default_ttl: w.default_ttl,
                max_ttl: w.max_ttl,
            },
        }
    }
}

impl From<CacheBehavior> for CacheBehaviorWire {
    fn from(c: CacheBehavior) -> Self {
        let b = c.behavior;
        CacheBehaviorWire {
            path_pattern: c.path_pattern,
            target_origin_id: b.target_origin_id,
            trusted_signers: b.trusted_signers,
            trusted_key_groups: b.trusted_key_groups,
            viewer_protocol_policy: b.viewer_protocol_policy,
            allowed_methods: b.allowed_methods,
            smooth_streaming: b.smooth_streaming,
            compress: b.compress,
            lambda_function_associations: b.lambda_function_associations,
            function_associations: b.function_associations,
            field_level_encryption_id: b.field_level_encryption_id,
            realtime_log_config_arn: b.realtime_log_config_arn,
            cache_policy_id: b.cache_policy_id,
            origin_request_policy_id: b.origin_request_policy_id,
            response_headers_policy_id: b.response_headers_policy_id,
            grpc_config: b.grpc_config,
            forwarded_values: b.forwarded_values,
            min_ttl: b.min_ttl,
            default_ttl: b.default_ttl,
            max_ttl: b.max_ttl,
        }
    }
}

/// Key groups whose public keys may sign URLs and cookies. `Items` are `KeyGroup` ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrustedKeyGroups {
    pub enabled: bool,
    pub items: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AllowedMethods {
    /// `Method` elements.
    pub items: Vec<Method>,
    /// `CachedMethods.Items`; empty when the wrapper was absent.
    pub cached_methods: Vec<Method>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LambdaFunctionAssociation {
    #[serde(rename = "LambdaFunctionARN")]
    pub lambda_function_arn: String,
    pub event_type: EventType,
    pub include_body: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FunctionAssociation {
    #[serde(rename = "FunctionARN")]
    pub function_arn: String,
    pub event_type: EventType,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GrpcConfig {
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ForwardedValues {
    pub query_string: bool,
    pub cookies: CookiePreference,
    /// `Headers.Items` (`Name` elements).
    pub headers: Vec<String>,
    /// `QueryStringCacheKeys.Items` (`Name` elements).
    pub query_string_cache_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CookiePreference {
    pub forward: ItemSelection,
    /// `WhitelistedNames.Items` (`Name` elements).
    pub whitelisted_names: Vec<String>,
}

// ---- Error responses, logging, certificate, restrictions ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomErrorResponse {
    pub error_code: i32,
    pub response_page_path: Option<String>,
    /// A string in the model (`"200"`), kept as one.
    pub response_code: Option<String>,
    #[serde(rename = "ErrorCachingMinTTL")]
    pub error_caching_min_ttl: Option<i64>,
}

/// Every member is optional in this shape (unlike the streaming one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoggingConfig {
    pub enabled: Option<bool>,
    pub include_cookies: Option<bool>,
    pub bucket: Option<String>,
    pub prefix: Option<String>,
}

wire_enum! {
    SslSupportMethod { SniOnly = "sni-only", Vip = "vip", StaticIp = "static-ip" }
}

wire_enum! {
    MinimumProtocolVersion {
        SslV3 = "SSLv3",
        TlsV1 = "TLSv1",
        TlsV1_2016 = "TLSv1_2016",
        TlsV1_1_2016 = "TLSv1.1_2016",
        TlsV1_2_2018 = "TLSv1.2_2018",
        TlsV1_2_2019 = "TLSv1.2_2019",
        TlsV1_2_2021 = "TLSv1.2_2021",
        TlsV1_3_2025 = "TLSv1.3_2025",
        TlsV1_2_2025 = "TLSv1.2_2025",
    }
}

wire_enum! {
    CertificateSource { Cloudfront = "cloudfront", Iam = "iam", Acm = "acm" }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ViewerCertificate {
    pub cloud_front_default_certificate: Option<bool>,
    #[serde(rename = "IAMCertificateId")]
    pub iam_certificate_id: Option<String>,
    #[serde(rename = "ACMCertificateArn")]
    pub acm_certificate_arn: Option<String>,
    #[serde(rename = "SSLSupportMethod")]
    pub ssl_support_method: Option<SslSupportMethod>,
    pub minimum_protocol_version: Option<MinimumProtocolVersion>,
    /// Deprecated in the model.
    pub certificate: Option<String>,
    /// Deprecated in the model.
    pub certificate_source: Option<CertificateSource>,
}

wire_enum! {
    GeoRestrictionType { Blacklist = "blacklist", Whitelist = "whitelist", None = "none" }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Restrictions {
    pub geo_restriction: GeoRestriction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GeoRestriction {
    pub restriction_type: GeoRestrictionType,
    /// `Location` elements: ISO 3166-1 alpha-2 country codes.
    pub items: Vec<String>,
}

wire_enum! {
    HttpVersion { Http1_1 = "http1.1", Http2 = "http2", Http3 = "http3", Http2And3 = "http2and3" }
}

// ---- Multi-tenant, mTLS and other newer members (stored and echoed, not used for serving) ----

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TenantConfig {
    /// A plain list in the model (no `Quantity`); empty when absent.
    pub parameter_definitions: Vec<ParameterDefinition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterDefinition {
    pub name: String,
    pub definition: ParameterDefinitionSchema,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ParameterDefinitionSchema {
    pub string_schema: Option<StringSchemaConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StringSchemaConfig {
    pub comment: Option<String>,
    pub default_value: Option<String>,
    pub required: bool,
}

wire_enum! {
    ConnectionMode { Direct = "direct", TenantOnly = "tenant-only" }
}

wire_enum! {
    ViewerMtlsMode { Required = "required", Optional = "optional", Passthrough = "passthrough" }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ViewerMtlsConfig {
    pub mode: Option<ViewerMtlsMode>,
    pub trust_store_config: Option<TrustStoreConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TrustStoreConfig {
    pub trust_store_id: String,
    pub advertise_trust_store_ca_names: Option<bool>,
    pub ignore_certificate_expiry: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConnectionFunctionAssociation {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CacheTagConfig {
    pub header_name: String,
}
