//! CloudFront-shaped distributions for streamfront, as pure data and rules.
//!
//! What it does:
//! - [`model`]: typed `StreamingDistributionConfig` (RTMP, `s…`) and `DistributionConfig` (web,
//!   `d…`) with every member of CloudFront's 2020-05-31 API shapes, and the records the control
//!   plane keeps ([`StreamingDistribution`], [`Distribution`]). They serialise with serde under
//!   CloudFront's member names; that JSON is what the store persists and it round-trips exactly.
//! - [`identity`]: distribution IDs, domain names under the edge's distribution domain, ARNs and
//!   ETags, drawn from a caller-supplied RNG.
//! - [`validate`]: refuses bad configs with CloudFront's error codes, naming the field.
//! - [`parse_s3_origin_domain`]: the bucket and region an S3 origin domain name names.
//! - [`Router`]: host name → distribution, streaming and web kept apart, with a default
//!   streaming distribution; [`host_from_tc_url`] takes the host out of an RTMP `tcUrl`.
//!
//! What it does not do: no I/O, no async, no clock (callers pass timestamps), no XML. The
//! REST-XML codec of the CloudFront API comes with the API issue; it decodes into these types,
//! checking `Quantity` against `Items` with [`check_quantity`] and enum values with
//! [`WireEnum::parse`]. Uniqueness across stored distributions (IDs, domain names,
//! `CallerReference`) is the store's job.

pub mod error;
mod host;
pub mod identity;
pub mod model;
pub mod names;
mod router;
mod s3_origin;
pub mod validate;
mod wire_enum;

pub use error::{ValidationError, check_quantity, codes};
pub use host::{domain_covers, host_from_tc_url, normalize_host};
pub use identity::{DistributionIdentity, DistributionKind};
pub use model::*;
pub use router::{Matched, Route, Router};
pub use s3_origin::{S3Bucket, parse_s3_origin_domain};
pub use validate::{
    validate_streaming_config, validate_streaming_update, validate_tags, validate_web_config, validate_web_update,
};
pub use wire_enum::WireEnum;
