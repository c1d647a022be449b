//! The edge cache: every byte a viewer receives comes through here, from whichever origin
//! holds the object (a local directory today; S3 is the next origin).
//!
//! Objects are read in fixed-size blocks keyed by object key, object version and block number,
//! so blocks of two versions of an object never mix. Concurrent readers of a block share one
//! origin fetch (single-flight). Filled blocks stay in a memory tier bounded in bytes, evicting
//! the least recently used. An [`ObjectHandle`] is a [`sf_media::ByteSource`] so the media
//! readers work on cached objects directly.

#![forbid(unsafe_code)]

mod block_cache;
mod origin;

pub use block_cache::{CacheConfig, EdgeCache, ObjectHandle};
pub use origin::{LocalOrigin, ObjectMeta, Origin, OriginError};
