//! The edge cache: every byte a viewer receives comes through here, from whichever origin
//! holds the object (a local directory or an S3 bucket).
//!
//! Objects are read in fixed-size blocks keyed by object key, object version (ETag) and
//! block number, so blocks of two versions of an object never mix. Concurrent readers of a
//! block share one origin fetch (single-flight), and get their bytes as they arrive. Filled
//! blocks stay in a memory tier and, optionally, a disk tier that survives restarts; both
//! are bounded in bytes and evict with a segmented LRU that keeps what many viewers watch.
//! Object versions are trusted for CloudFront's freshness lifetimes, then revalidated. An
//! [`ObjectHandle`] is a [`sf_media::ByteSource`] so the media readers work on cached
//! objects directly.

#![forbid(unsafe_code)]

mod block_cache;
mod disk;
mod freshness;
mod origin;
mod s3;
mod slru;

pub use block_cache::{CacheConfig, CacheOpenError, CacheStats, EdgeCache, ObjectHandle, OriginLatencyObserver};
pub use disk::DiskConfig;
pub use freshness::Freshness;
pub use origin::{LocalOrigin, ObjectMeta, Origin, OriginError, OriginSpecError};
pub use s3::{S3Origin, S3Settings};
