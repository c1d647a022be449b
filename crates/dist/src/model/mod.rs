//! The typed model: CloudFront's 2020-05-31 shapes with CloudFront's member names.
//!
//! Conventions, the same everywhere:
//! - Field names serialise as the model's member names (PascalCase, with the model's own
//!   spellings such as `HTTPPort`, `MinTTL`, `WebACLId`, `ARN`).
//! - A member the model marks required is a plain value; an optional one is an `Option`, so
//!   "absent" survives a round trip and the echo can leave it out as the client did.
//! - A `{Quantity, Items}` wrapper is a plain `Vec` of its items. An absent wrapper reads as an
//!   empty list, which is how CloudFront echoes it (`Quantity` 0). `Quantity` is not stored:
//!   the wire codec checks it with [`crate::check_quantity`] while decoding and writes the list
//!   length when encoding.
//! - Numbers keep the model's width (`integer` = `i32`, `long` = `i64`) so every value a client
//!   can send is representable and the validator, not the decoder, explains a bad one.

mod access;
mod common;
mod resource;
mod streaming;
mod web;

pub use access::*;
pub use common::*;
pub use resource::*;
pub use streaming::*;
pub use web::*;
