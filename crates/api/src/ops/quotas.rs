//! How many of each resource one streamfront keeps, with CloudFront's default quotas
//! (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html)
//! as defaults. The config file may raise or lower any of them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// "RTMP distributions per AWS account": 100 (`TooManyStreamingDistributions`).
    pub streaming_distributions: usize,
    /// "Distributions per AWS account": 200 (`TooManyDistributions`).
    pub web_distributions: usize,
    /// "Public keys per AWS account": 10 (`TooManyPublicKeys`).
    pub public_keys: usize,
    /// "Key groups per AWS account": 10 (`TooManyKeyGroups`).
    pub key_groups: usize,
    /// "Public keys in a single key group": 5 (`TooManyPublicKeysInKeyGroup`).
    pub public_keys_per_key_group: usize,
    /// "Origin access identities per account": 100 (`TooManyCloudFrontOriginAccessIdentities`).
    pub origin_access_identities: usize,
    /// "Origin access controls per AWS account": 100 (`TooManyOriginAccessControls`).
    pub origin_access_controls: usize,
    /// "File invalidation: maximum number of files allowed in active invalidation requests,
    /// excluding wildcard invalidations": 3,000 per distribution
    /// (`TooManyInvalidationsInProgress`); also the most paths one batch may hold
    /// (`BatchTooLarge`).
    pub invalidation_paths_in_progress: usize,
    /// "Wildcard invalidation: maximum number of paths allowed in active wildcard
    /// invalidations": 15 per distribution (`TooManyInvalidationsInProgress`).
    pub invalidation_wildcard_paths_in_progress: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            streaming_distributions: 100,
            web_distributions: 200,
            public_keys: 10,
            key_groups: 10,
            public_keys_per_key_group: 5,
            origin_access_identities: 100,
            origin_access_controls: 100,
            invalidation_paths_in_progress: 3000,
            invalidation_wildcard_paths_in_progress: 15,
        }
    }
}
