//! `StreamingDistributionConfig` (RTMP distributions), every member of the 2020-05-31 shape,
//! in model order.

use serde::{Deserialize, Serialize};

use super::{PriceClass, TrustedSigners};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamingDistributionConfig {
    pub caller_reference: String,
    pub s3_origin: S3Origin,
    /// `CNAME` elements.
    pub aliases: Vec<String>,
    pub comment: String,
    pub logging: Option<StreamingLoggingConfig>,
    pub trusted_signers: TrustedSigners,
    pub price_class: Option<PriceClass>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct S3Origin {
    /// `<bucket>.s3[.-]<region>.amazonaws.com`; see [`crate::parse_s3_origin_domain`].
    pub domain_name: String,
    /// `origin-access-identity/cloudfront/<ID>`, or empty for a public bucket.
    pub origin_access_identity: String,
}

/// Unlike the web `LoggingConfig`, every member is required and there is no `IncludeCookies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamingLoggingConfig {
    pub enabled: bool,
    pub bucket: String,
    pub prefix: String,
}
