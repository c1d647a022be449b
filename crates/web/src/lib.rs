//! CloudFront's HTTP semantics for web distributions, as pure functions.
//!
//! The edge (sf-edge) does the I/O; this crate decides what the answer is. Modules, each with
//! one job:
//! - [`pattern`]: which cache behavior serves a path ([`select_behavior`], [`path_matches`]),
//!   uniform access to its settings ([`Behavior`]), and the default root object.
//! - [`range`]: `Range` against a known size ([`parse_range`]) and the body of a multipart
//!   206 as literal parts and ranges to stream ([`multipart`]).
//! - [`conditional`]: `If-Match`, `If-None-Match`, `If-Modified-Since`, `If-Unmodified-Since`
//!   and `If-Range` against the cached representation ([`evaluate`]).
//! - [`cache_control`]: a small bounded parser for the directives the TTL rules read.
//! - [`mod@ttl`]: how long an object or an error stays fresh ([`ttl()`], [`error_ttl`]).
//! - [`errors`]: the `CustomErrorResponse` for a status ([`error_page`]).
//! - [`compress`]: whether to compress a response ([`choose_encoding`]), a streaming
//!   [`Encoder`] for gzip and Brotli, and ETag weakening.
//! - [`protocol`]: a behavior's `ViewerProtocolPolicy` for HTTP and HTTPS requests, and the
//!   `Location` of a redirect to HTTPS.
//! - [`headers`]: `X-Cache`, `Via`, `Age`, the request id, and the cache key with its query
//!   string part.
//!
//! What it does not do: no I/O, no async, no clock (callers pass `now`).

#![forbid(unsafe_code)]

pub mod cache_control;
pub mod compress;
pub mod conditional;
pub mod errors;
pub mod headers;
pub mod pattern;
pub mod protocol;
pub mod range;
pub mod ttl;

pub use cache_control::CacheControl;
pub use compress::{Encoder, Encoding, ResponseInfo, ViewerInfo, accepted_encoding, choose_encoding, weaken_etag};
pub use conditional::{Outcome, Validators, evaluate};
pub use errors::{ErrorPage, error_page};
pub use headers::{QueryStringKey, REQUEST_ID_HEADER, XCache, age, cache_key, query_cache_key, request_id, via};
pub use pattern::{Behavior, object_path, path_matches, select_behavior};
pub use protocol::{ProtocolCheck, check_viewer_protocol, https_location};
pub use range::{
    ByteRange, Multipart, Part, RangeRequest, multipart, multipart_boundary, parse_range, unsatisfied_content_range,
};
pub use ttl::{OriginFreshness, Ttl, Ttls, error_ttl, ttl};
