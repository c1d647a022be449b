//! The wire shapes of the API: views that borrow the sf-dist records and serialise (through
//! [`crate::xml`]) as the 2020-05-31 model's output shapes, and the request wrappers that only
//! exist on the wire (`…WithTags`, `Tags`, `TagKeys`).
//!
//! Members are in model order and every member the model requires is present, filled with what
//! CloudFront echoes when the config left it out (API reference, "Data Types":
//! https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Types_Amazon_CloudFront.html,
//! and `botocore/data/cloudfront/2020-05-31/service-2.json`). A `Vec` named `Items` in a struct
//! is written with its `Quantity` before it, so the list shapes have no `Quantity` field.
//! The `…List` shapes repeat their paging members instead of sharing a generic struct: the
//! XML writer finds a list's item element by struct and member name (`xml/lists.rs`), which a
//! generic struct would not tell apart.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use sf_dist::{
    CacheBehavior, CertificateSource, ConnectionFunctionAssociation, ConnectionMode, CustomErrorResponse,
    DefaultCacheBehavior, DistributionConfig, GeoRestriction, GeoRestrictionType, HttpVersion, InvalidationBatch,
    InvalidationStatus, KeyGroupConfig, MinimumProtocolVersion, Origin, OriginAccessControlConfig,
    OriginAccessControlOriginType, OriginAccessControlSigningBehavior, OriginAccessControlSigningProtocol,
    OriginAccessIdentityConfig, OriginGroup, PriceClass, PublicKeyConfig, Restrictions, S3Origin, Status,
    StreamingDistributionConfig, Tag, Timestamp, TrustedSigners, Versioned, ViewerCertificate, ViewerMtlsConfig,
};
use sha2::{Digest, Sha256};

/// What a list operation tells about its page. `Marker` is the request's (empty for the first
/// page); `NextMarker` is present only when the list is truncated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paging {
    pub marker: String,
    pub max_items: i32,
    pub next_marker: Option<String>,
    pub is_truncated: bool,
}

// ---- Trusted signers and key groups in use ----

/// `ActiveTrustedSigners`: the accounts whose key pairs may sign, each with its active key pair
/// ids (streamfront has no account key pairs, so none yet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActiveTrustedSigners {
    pub enabled: bool,
    pub items: Vec<Signer>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Signer {
    pub aws_account_number: String,
    pub key_pair_ids: Vec<String>,
}

/// `ActiveTrustedKeyGroups`: the key groups that may sign, each with its public key ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ActiveTrustedKeyGroups {
    pub enabled: bool,
    pub items: Vec<KgKeyPairIds>,
}

/// `KGKeyPairIds` in the model, written as `<KeyGroup>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KgKeyPairIds {
    pub key_group_id: String,
    pub key_pair_ids: Vec<String>,
}

/// Enabled when any of `signers` is; one `Signer` per distinct account, in order.
fn active_trusted_signers<'a>(signers: impl IntoIterator<Item = &'a TrustedSigners>) -> ActiveTrustedSigners {
    let mut active = ActiveTrustedSigners { enabled: false, items: Vec::new() };
    for signers in signers {
        active.enabled |= signers.enabled;
        for account in &signers.items {
            if !active.items.iter().any(|s| &s.aws_account_number == account) {
                active.items.push(Signer { aws_account_number: account.clone(), key_pair_ids: Vec::new() });
            }
        }
    }
    active
}

fn behaviors(config: &DistributionConfig) -> impl Iterator<Item = &DefaultCacheBehavior> {
    std::iter::once(&config.default_cache_behavior).chain(config.cache_behaviors.iter().map(|b| &b.behavior))
}

/// Enabled when any behavior trusts key groups; one entry per distinct key group, in order,
/// with the public key ids `key_pair_ids` gives for it.
fn active_trusted_key_groups(
    config: &DistributionConfig,
    key_pair_ids: &dyn Fn(&str) -> Vec<String>,
) -> ActiveTrustedKeyGroups {
    let mut active = ActiveTrustedKeyGroups { enabled: false, items: Vec::new() };
    for groups in behaviors(config).filter_map(|b| b.trusted_key_groups.as_ref()) {
        active.enabled |= groups.enabled;
        for id in &groups.items {
            if !active.items.iter().any(|g| &g.key_group_id == id) {
                active.items.push(KgKeyPairIds { key_group_id: id.clone(), key_pair_ids: key_pair_ids(id) });
            }
        }
    }
    active
}

// ---- Streaming distributions ----

/// `StreamingDistribution` (CreateStreamingDistribution, Get…, Update… output).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamingDistribution<'a> {
    pub id: &'a str,
    #[serde(rename = "ARN")]
    pub arn: &'a str,
    pub status: Status,
    pub last_modified_time: Timestamp,
    pub domain_name: &'a str,
    pub active_trusted_signers: ActiveTrustedSigners,
    pub streaming_distribution_config: &'a StreamingDistributionConfig,
}

/// The view of `record` with `status` (the fleet's, which the caller knows).
pub fn streaming_distribution(record: &sf_dist::StreamingDistribution, status: Status) -> StreamingDistribution<'_> {
    let config = &record.streaming_distribution_config;
    StreamingDistribution {
        id: &record.id,
        arn: &record.arn,
        status,
        last_modified_time: record.last_modified_time,
        domain_name: &record.domain_name,
        active_trusted_signers: active_trusted_signers([&config.trusted_signers]),
        streaming_distribution_config: config,
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamingDistributionSummary<'a> {
    pub id: &'a str,
    #[serde(rename = "ARN")]
    pub arn: &'a str,
    pub status: Status,
    pub last_modified_time: Timestamp,
    pub domain_name: &'a str,
    pub s3_origin: &'a S3Origin,
    pub aliases: &'a [String],
    pub trusted_signers: &'a TrustedSigners,
    pub comment: &'a str,
    /// Required here though optional in the config: `PriceClass_All` when it has none.
    pub price_class: PriceClass,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamingDistributionList<'a> {
    pub marker: String,
    pub next_marker: Option<String>,
    pub max_items: i32,
    pub is_truncated: bool,
    pub items: Vec<StreamingDistributionSummary<'a>>,
}

pub fn streaming_distribution_list<'a>(
    paging: Paging,
    page: impl IntoIterator<Item = (&'a sf_dist::StreamingDistribution, Status)>,
) -> StreamingDistributionList<'a> {
    let items = page
        .into_iter()
        .map(|(record, status)| {
            let config = &record.streaming_distribution_config;
            StreamingDistributionSummary {
                id: &record.id,
                arn: &record.arn,
                status,
                last_modified_time: record.last_modified_time,
                domain_name: &record.domain_name,
                s3_origin: &config.s3_origin,
                aliases: &config.aliases,
                trusted_signers: &config.trusted_signers,
                comment: &config.comment,
                price_class: config.price_class.unwrap_or(PriceClass::PriceClassAll),
                enabled: config.enabled,
            }
        })
        .collect();
    StreamingDistributionList {
        marker: paging.marker,
        next_marker: paging.next_marker,
        max_items: paging.max_items,
        is_truncated: paging.is_truncated,
        items,
    }
}

// ---- Web distributions ----

/// `Distribution` (CreateDistribution, Get…, Update… output). `AliasICPRecordals` (China
/// regions only) is left out.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Distribution<'a> {
    pub id: &'a str,
    #[serde(rename = "ARN")]
    pub arn: &'a str,
    pub status: Status,
    pub last_modified_time: Timestamp,
    pub in_progress_invalidation_batches: i32,
    pub domain_name: &'a str,
    pub active_trusted_signers: ActiveTrustedSigners,
    pub active_trusted_key_groups: ActiveTrustedKeyGroups,
    pub distribution_config: &'a DistributionConfig,
}

/// The view of `record` with `status`. The trusted signers and key groups are those of all its
/// cache behaviors; `key_pair_ids` maps a key group id to the ids of its public keys.
pub fn distribution<'a>(
    record: &'a sf_dist::Distribution,
    status: Status,
    key_pair_ids: &dyn Fn(&str) -> Vec<String>,
) -> Distribution<'a> {
    let config = &record.distribution_config;
    Distribution {
        id: &record.id,
        arn: &record.arn,
        status,
        last_modified_time: record.last_modified_time,
        in_progress_invalidation_batches: record.in_progress_invalidation_batches,
        domain_name: &record.domain_name,
        active_trusted_signers: active_trusted_signers(behaviors(config).filter_map(|b| b.trusted_signers.as_ref())),
        active_trusted_key_groups: active_trusted_key_groups(config, key_pair_ids),
        distribution_config: config,
    }
}

/// `DistributionSummary`: every member the model requires, with CloudFront's defaults where the
/// config has none.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionSummary<'a> {
    pub id: &'a str,
    #[serde(rename = "ARN")]
    pub arn: &'a str,
    #[serde(rename = "ETag")]
    pub etag: Option<&'a str>,
    pub status: Status,
    pub last_modified_time: Timestamp,
    pub domain_name: &'a str,
    pub aliases: &'a [String],
    pub origins: &'a [Origin],
    pub origin_groups: &'a [OriginGroup],
    pub default_cache_behavior: &'a DefaultCacheBehavior,
    pub cache_behaviors: &'a [CacheBehavior],
    pub custom_error_responses: &'a [CustomErrorResponse],
    pub comment: &'a str,
    pub price_class: PriceClass,
    pub enabled: bool,
    pub viewer_certificate: Cow<'a, ViewerCertificate>,
    pub restrictions: Cow<'a, Restrictions>,
    #[serde(rename = "WebACLId")]
    pub web_acl_id: &'a str,
    pub http_version: HttpVersion,
    #[serde(rename = "IsIPV6Enabled")]
    pub is_ipv6_enabled: bool,
    pub staging: bool,
    pub connection_mode: Option<ConnectionMode>,
    pub anycast_ip_list_id: Option<&'a str>,
    pub viewer_mtls_config: Option<&'a ViewerMtlsConfig>,
    pub connection_function_association: Option<&'a ConnectionFunctionAssociation>,
}

/// What CloudFront echoes for a distribution created without a `ViewerCertificate`.
pub fn default_viewer_certificate() -> ViewerCertificate {
    ViewerCertificate {
        cloud_front_default_certificate: Some(true),
        iam_certificate_id: None,
        acm_certificate_arn: None,
        ssl_support_method: None,
        minimum_protocol_version: Some(MinimumProtocolVersion::TlsV1),
        certificate: None,
        certificate_source: Some(CertificateSource::Cloudfront),
    }
}

/// What CloudFront echoes for a distribution created without `Restrictions`.
pub fn default_restrictions() -> Restrictions {
    Restrictions { geo_restriction: GeoRestriction { restriction_type: GeoRestrictionType::None, items: Vec::new() } }
}

fn distribution_summary(record: &sf_dist::Distribution, status: Status) -> DistributionSummary<'_> {
    let config = &record.distribution_config;
    DistributionSummary {
        id: &record.id,
        arn: &record.arn,
        etag: Some(&record.etag),
        status,
        last_modified_time: record.last_modified_time,
        domain_name: &record.domain_name,
        aliases: &config.aliases,
        origins: &config.origins,
        origin_groups: &config.origin_groups,
        default_cache_behavior: &config.default_cache_behavior,
        cache_behaviors: &config.cache_behaviors,
        custom_error_responses: &config.custom_error_responses,
        comment: &config.comment,
        price_class: config.price_class.unwrap_or(PriceClass::PriceClassAll),
        enabled: config.enabled,
        viewer_certificate: config
            .viewer_certificate
            .as_ref()
            .map_or_else(|| Cow::Owned(default_viewer_certificate()), Cow::Borrowed),
        restrictions: config.restrictions.as_ref().map_or_else(|| Cow::Owned(default_restrictions()), Cow::Borrowed),
        web_acl_id: config.web_acl_id.as_deref().unwrap_or(""),
        http_version: config.http_version.unwrap_or(HttpVersion::Http2),
        is_ipv6_enabled: config.is_ipv6_enabled.unwrap_or(true),
        staging: config.staging.unwrap_or(false),
        connection_mode: config.connection_mode,
        anycast_ip_list_id: config.anycast_ip_list_id.as_deref(),
        viewer_mtls_config: config.viewer_mtls_config.as_ref(),
        connection_function_association: config.connection_function_association.as_ref(),
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionList<'a> {
    pub marker: String,
    pub next_marker: Option<String>,
    pub max_items: i32,
    pub is_truncated: bool,
    pub items: Vec<DistributionSummary<'a>>,
}

pub fn distribution_list<'a>(
    paging: Paging,
    page: impl IntoIterator<Item = (&'a sf_dist::Distribution, Status)>,
) -> DistributionList<'a> {
    DistributionList {
        marker: paging.marker,
        next_marker: paging.next_marker,
        max_items: paging.max_items,
        is_truncated: paging.is_truncated,
        items: page.into_iter().map(|(record, status)| distribution_summary(record, status)).collect(),
    }
}

// ---- Request wrappers and tags ----

/// CreateStreamingDistributionWithTags input; both members required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamingDistributionConfigWithTags {
    pub streaming_distribution_config: StreamingDistributionConfig,
    pub tags: Tags,
}

/// CreateDistributionWithTags input; both members required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DistributionConfigWithTags {
    pub distribution_config: DistributionConfig,
    pub tags: Tags,
}

/// `Tags`: TagResource input and ListTagsForResource output (root `Tags`). `Items` is a list
/// of `<Tag>` with no `Quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tags {
    pub items: Vec<Tag>,
}

impl Tags {
    pub fn of(tags: &[Tag]) -> Tags {
        Tags { items: tags.to_vec() }
    }
}

/// `TagKeys`: UntagResource input. `Items` is a list of `<Key>` with no `Quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagKeys {
    pub items: Vec<String>,
}

// ---- Public keys and key groups ----

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKey<'a> {
    pub id: &'a str,
    pub created_time: Timestamp,
    pub public_key_config: &'a PublicKeyConfig,
}

pub fn public_key(record: &Versioned<PublicKeyConfig>) -> PublicKey<'_> {
    PublicKey { id: &record.id, created_time: record.created_time, public_key_config: &record.config }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeySummary<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub created_time: Timestamp,
    pub encoded_key: &'a str,
    pub comment: Option<&'a str>,
}

/// `PublicKeyList` has no `Marker` and no `IsTruncated` in the model; a client pages on until
/// `NextMarker` is absent.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyList<'a> {
    pub next_marker: Option<String>,
    pub max_items: i32,
    pub items: Vec<PublicKeySummary<'a>>,
}

pub fn public_key_list<'a>(
    paging: Paging,
    page: impl IntoIterator<Item = &'a Versioned<PublicKeyConfig>>,
) -> PublicKeyList<'a> {
    let items = page
        .into_iter()
        .map(|record| PublicKeySummary {
            id: &record.id,
            name: &record.config.name,
            created_time: record.created_time,
            encoded_key: &record.config.encoded_key,
            comment: record.config.comment.as_deref(),
        })
        .collect();
    PublicKeyList { next_marker: paging.next_marker, max_items: paging.max_items, items }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroup<'a> {
    pub id: &'a str,
    pub last_modified_time: Timestamp,
    pub key_group_config: &'a KeyGroupConfig,
}

pub fn key_group(record: &Versioned<KeyGroupConfig>) -> KeyGroup<'_> {
    KeyGroup { id: &record.id, last_modified_time: record.last_modified_time, key_group_config: &record.config }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroupSummary<'a> {
    pub key_group: KeyGroup<'a>,
}

/// Like `PublicKeyList`, no `Marker` and no `IsTruncated`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroupList<'a> {
    pub next_marker: Option<String>,
    pub max_items: i32,
    pub items: Vec<KeyGroupSummary<'a>>,
}

pub fn key_group_list<'a>(
    paging: Paging,
    page: impl IntoIterator<Item = &'a Versioned<KeyGroupConfig>>,
) -> KeyGroupList<'a> {
    let items = page.into_iter().map(|record| KeyGroupSummary { key_group: key_group(record) }).collect();
    KeyGroupList { next_marker: paging.next_marker, max_items: paging.max_items, items }
}

// ---- Origin access identities (legacy) and origin access controls ----

/// The `S3CanonicalUserId` of an origin access identity: 64 lower-case hex digits, as S3's
/// canonical user ids are. streamfront has no AWS account behind an identity, so it is derived
/// from the id alone: SHA-256 of `streamfront-oai:` followed by the id. The same id always
/// gives the same value, so every edge of a fleet answers alike.
pub fn s3_canonical_user_id(oai_id: &str) -> String {
    let digest = Sha256::new().chain_update(b"streamfront-oai:").chain_update(oai_id.as_bytes()).finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudFrontOriginAccessIdentity<'a> {
    pub id: &'a str,
    pub s3_canonical_user_id: String,
    pub cloud_front_origin_access_identity_config: &'a OriginAccessIdentityConfig,
}

pub fn origin_access_identity(record: &Versioned<OriginAccessIdentityConfig>) -> CloudFrontOriginAccessIdentity<'_> {
    CloudFrontOriginAccessIdentity {
        id: &record.id,
        s3_canonical_user_id: s3_canonical_user_id(&record.id),
        cloud_front_origin_access_identity_config: &record.config,
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudFrontOriginAccessIdentitySummary<'a> {
    pub id: &'a str,
    pub s3_canonical_user_id: String,
    pub comment: &'a str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CloudFrontOriginAccessIdentityList<'a> {
    pub marker: String,
    pub next_marker: Option<String>,
    pub max_items: i32,
    pub is_truncated: bool,
    pub items: Vec<CloudFrontOriginAccessIdentitySummary<'a>>,
}

pub fn origin_access_identity_list<'a>(
    paging: Paging,
    page: impl IntoIterator<Item = &'a Versioned<OriginAccessIdentityConfig>>,
) -> CloudFrontOriginAccessIdentityList<'a> {
    let items = page
        .into_iter()
        .map(|record| CloudFrontOriginAccessIdentitySummary {
            id: &record.id,
            s3_canonical_user_id: s3_canonical_user_id(&record.id),
            comment: &record.config.comment,
        })
        .collect();
    CloudFrontOriginAccessIdentityList {
        marker: paging.marker,
        next_marker: paging.next_marker,
        max_items: paging.max_items,
        is_truncated: paging.is_truncated,
        items,
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControl<'a> {
    pub id: &'a str,
    pub origin_access_control_config: &'a OriginAccessControlConfig,
}

pub fn origin_access_control(record: &Versioned<OriginAccessControlConfig>) -> OriginAccessControl<'_> {
    OriginAccessControl { id: &record.id, origin_access_control_config: &record.config }
}

/// `Description` is required here though optional in the config: empty when it has none.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControlSummary<'a> {
    pub id: &'a str,
    pub description: &'a str,
    pub name: &'a str,
    pub signing_protocol: OriginAccessControlSigningProtocol,
    pub signing_behavior: OriginAccessControlSigningBehavior,
    pub origin_access_control_origin_type: OriginAccessControlOriginType,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControlList<'a> {
    pub marker: String,
    pub next_marker: Option<String>,
    pub max_items: i32,
    pub is_truncated: bool,
    pub items: Vec<OriginAccessControlSummary<'a>>,
}

pub fn origin_access_control_list<'a>(
    paging: Paging,
    page: impl IntoIterator<Item = &'a Versioned<OriginAccessControlConfig>>,
) -> OriginAccessControlList<'a> {
    let items = page
        .into_iter()
        .map(|record| OriginAccessControlSummary {
            id: &record.id,
            description: record.config.description.as_deref().unwrap_or(""),
            name: &record.config.name,
            signing_protocol: record.config.signing_protocol,
            signing_behavior: record.config.signing_behavior,
            origin_access_control_origin_type: record.config.origin_access_control_origin_type,
        })
        .collect();
    OriginAccessControlList {
        marker: paging.marker,
        next_marker: paging.next_marker,
        max_items: paging.max_items,
        is_truncated: paging.is_truncated,
        items,
    }
}

// ---- Invalidations ----

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Invalidation<'a> {
    pub id: &'a str,
    pub status: InvalidationStatus,
    pub create_time: Timestamp,
    pub invalidation_batch: &'a InvalidationBatch,
}

pub fn invalidation(record: &sf_dist::Invalidation) -> Invalidation<'_> {
    Invalidation {
        id: &record.id,
        status: record.status,
        create_time: record.create_time,
        invalidation_batch: &record.invalidation_batch,
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvalidationSummary<'a> {
    pub id: &'a str,
    pub create_time: Timestamp,
    pub status: InvalidationStatus,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvalidationList<'a> {
    pub marker: String,
    pub next_marker: Option<String>,
    pub max_items: i32,
    pub is_truncated: bool,
    pub items: Vec<InvalidationSummary<'a>>,
}

pub fn invalidation_list<'a>(
    paging: Paging,
    page: impl IntoIterator<Item = &'a sf_dist::Invalidation>,
) -> InvalidationList<'a> {
    let items = page
        .into_iter()
        .map(|record| InvalidationSummary { id: &record.id, create_time: record.create_time, status: record.status })
        .collect();
    InvalidationList {
        marker: paging.marker,
        next_marker: paging.next_marker,
        max_items: paging.max_items,
        is_truncated: paging.is_truncated,
        items,
    }
}
