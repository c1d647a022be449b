//! The edge cache: every byte a viewer receives comes through here, from whichever origin
//! holds the object (a local directory, an S3 bucket or a web server).
//!
//! One [`EdgeCache`] holds the tiers every origin shares, within one budget: a memory tier
//! and, optionally, a disk tier that survives restarts, both bounded in bytes and evicting
//! with a segmented LRU that keeps what many viewers watch. Each origin reads through its
//! own [`OriginCache`] (from [`EdgeCache::origin_cache`]), which knows the origin's objects:
//! their versions, trusted for CloudFront's freshness lifetimes and then revalidated, and
//! the names it does not have, answered "not found" for `negative_ttl` without asking it.
//! Concurrent lookups of one name cost one origin request, and no lock is held while the
//! origin answers. A name with several candidate keys (`mp4:name`) is resolved with one
//! LIST where the origin has it.
//!
//! Objects are read in fixed-size blocks keyed by the origin's namespace, object key,
//! object version (ETag) and block number, so two origins never share bytes and blocks of
//! two versions never mix. Concurrent readers of a block share one origin fetch
//! (single-flight), and get their bytes as they arrive. An [`ObjectHandle`] is a
//! [`sf_media::ByteSource`] so the media readers work on cached objects directly; it keeps
//! the block it read last, so consecutive reads within a block touch no shared state.

#![forbid(unsafe_code)]

mod block_cache;
mod content_type;
mod directory;
mod disk;
mod fill;
mod freshness;
mod handle;
mod http;
mod origin;
mod origin_cache;
mod s3;
mod single_flight;
mod slru;
mod stats;

pub use block_cache::{CacheConfig, CacheOpenError, EdgeCache};
pub use content_type::for_name as content_type_for_name;
pub use disk::DiskConfig;
pub use freshness::Freshness;
pub use handle::ObjectHandle;
pub use http::{HttpOrigin, HttpOriginSpec, HttpScheme, OriginCa};
pub use origin::{LocalOrigin, ObjectMeta, Origin, OriginError, OriginSpecError};
pub use origin_cache::{Lifetime, Lookup, OriginCache, Trust};
pub use s3::{S3Origin, S3Settings};
pub use stats::{CacheStats, OriginLatencyObserver};
