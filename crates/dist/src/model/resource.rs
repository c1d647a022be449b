//! The distribution records the control plane keeps: identity, deployment status, the ETag of
//! the current config version, the config itself and the tags.
//!
//! Not kept here, because they are derived when a response is built: `ActiveTrustedSigners` and
//! `ActiveTrustedKeyGroups` (from the key store), `InProgressInvalidationBatches` beyond the
//! counter below (from the invalidation store) and `AliasICPRecordals` (China regions only).

use serde::{Deserialize, Serialize};

use super::{DistributionConfig, StreamingDistributionConfig, Tag};
use crate::identity::DistributionIdentity;
use crate::wire_enum::wire_enum;

wire_enum! {
    /// `InProgress` until the config has reached every edge, then `Deployed`.
    Status { InProgress = "InProgress", Deployed = "Deployed" }
}

/// Milliseconds since the Unix epoch (UTC). CloudFront prints `LastModifiedTime` in ISO 8601
/// with milliseconds, e.g. `2019-11-22T00:55:15.705Z`; see [`Timestamp::to_iso8601`].
///
/// A serde newtype struct named `Timestamp` (not `transparent`): JSON sees the bare number all
/// the same, and the XML codec of the API can tell a time from a number and write ISO 8601.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub u64);

impl Timestamp {
    pub fn to_iso8601(self) -> String {
        let millis = self.0 % 1000;
        let secs = self.0 / 1000;
        let (days, day_secs) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        let (h, m, s) = (day_secs / 3600, day_secs / 60 % 60, day_secs % 60);
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{millis:03}Z")
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`,
/// http://howardhinnant.github.io/date_algorithms.html).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// An RTMP distribution (`StreamingDistribution` in the model, plus ETag and tags).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StreamingDistribution {
    pub id: String,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub status: Status,
    pub last_modified_time: Timestamp,
    pub domain_name: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub streaming_distribution_config: StreamingDistributionConfig,
    pub tags: Vec<Tag>,
}

impl StreamingDistribution {
    /// A freshly created distribution: `InProgress`, first config version.
    pub fn new(
        identity: DistributionIdentity,
        etag: String,
        config: StreamingDistributionConfig,
        tags: Vec<Tag>,
        now: Timestamp,
    ) -> Self {
        Self {
            id: identity.id,
            arn: identity.arn,
            status: Status::InProgress,
            last_modified_time: now,
            domain_name: identity.domain_name,
            etag,
            streaming_distribution_config: config,
            tags,
        }
    }

    /// Replaces the config (CloudFront never merges) as a new version. Check it first with
    /// [`crate::validate_streaming_update`].
    pub fn replace_config(&mut self, config: StreamingDistributionConfig, etag: String, now: Timestamp) {
        self.streaming_distribution_config = config;
        self.etag = etag;
        self.status = Status::InProgress;
        self.last_modified_time = now;
    }
}

/// A web distribution (`Distribution` in the model, plus ETag and tags).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Distribution {
    pub id: String,
    #[serde(rename = "ARN")]
    pub arn: String,
    pub status: Status,
    pub last_modified_time: Timestamp,
    /// Required by the model; 0 until invalidations exist.
    pub in_progress_invalidation_batches: i32,
    pub domain_name: String,
    #[serde(rename = "ETag")]
    pub etag: String,
    pub distribution_config: DistributionConfig,
    pub tags: Vec<Tag>,
}

impl Distribution {
    pub fn new(
        identity: DistributionIdentity,
        etag: String,
        config: DistributionConfig,
        tags: Vec<Tag>,
        now: Timestamp,
    ) -> Self {
        Self {
            id: identity.id,
            arn: identity.arn,
            status: Status::InProgress,
            last_modified_time: now,
            in_progress_invalidation_batches: 0,
            domain_name: identity.domain_name,
            etag,
            distribution_config: config,
            tags,
        }
    }

    /// Replaces the config as a new version. Check it first with [`crate::validate_web_update`].
    pub fn replace_config(&mut self, config: DistributionConfig, etag: String, now: Timestamp) {
        self.distribution_config = config;
        self.etag = etag;
        self.status = Status::InProgress;
        self.last_modified_time = now;
    }
}
