//! The other resources of the 2020-05-31 API that distributions refer to: public keys, key
//! groups, origin access identities (legacy) and origin access controls, and invalidation
//! batches. Configs carry every member of their model shape, in model order; the records add
//! what the service assigns (id, ETag, times).

use serde::{Deserialize, Serialize};

use super::Timestamp;
use crate::wire_enum::wire_enum;

/// `PublicKeyConfig`. `EncodedKey` is PEM text (`-----BEGIN PUBLIC KEY-----` …) with its
/// newlines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PublicKeyConfig {
    pub caller_reference: String,
    pub name: String,
    pub encoded_key: String,
    pub comment: Option<String>,
}

/// `KeyGroupConfig`. Unlike most lists of the model, `Items` is a bare list of `PublicKey`
/// elements (public key ids) with no `Quantity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyGroupConfig {
    pub name: String,
    pub items: Vec<String>,
    pub comment: Option<String>,
}

/// `CloudFrontOriginAccessIdentityConfig`: both members required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessIdentityConfig {
    pub caller_reference: String,
    pub comment: String,
}

wire_enum! {
    OriginAccessControlSigningProtocol { Sigv4 = "sigv4" }
}

wire_enum! {
    /// `always`: sign every origin request; `never`: never sign; `no-override`: pass the
    /// viewer's `Authorization` through when present, otherwise sign.
    OriginAccessControlSigningBehavior { Always = "always", Never = "never", NoOverride = "no-override" }
}

wire_enum! {
    OriginAccessControlOriginType {
        S3 = "s3",
        Mediastore = "mediastore",
        Mediapackagev2 = "mediapackagev2",
        Lambda = "lambda",
    }
}

/// `OriginAccessControlConfig`: all but `Description` required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OriginAccessControlConfig {
    pub name: String,
    pub description: Option<String>,
    pub signing_protocol: OriginAccessControlSigningProtocol,
    pub signing_behavior: OriginAccessControlSigningBehavior,
    pub origin_access_control_origin_type: OriginAccessControlOriginType,
}

/// `InvalidationBatch`: `Paths` is a `{Quantity, Items<Path>}` wrapper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InvalidationBatch {
    pub paths: Vec<String>,
    pub caller_reference: String,
}

wire_enum! {
    InvalidationStatus { InProgress = "InProgress", Completed = "Completed" }
}

/// One of the resources above as the control plane keeps it: the service-assigned id, the ETag
/// of the current config version, when it was created and last changed, and the config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Versioned<C> {
    pub id: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub created_time: Timestamp,
    pub last_modified_time: Timestamp,
    pub config: C,
}

/// An invalidation of one web distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Invalidation {
    pub id: String,
    pub distribution_id: String,
    pub status: InvalidationStatus,
    pub create_time: Timestamp,
    pub invalidation_batch: InvalidationBatch,
}
