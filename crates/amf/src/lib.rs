//! AMF0 and AMF3 (Action Message Format) values and codec, as used in RTMP commands and
//! `onMetaData`. Pure: no I/O, no allocation larger than the input justifies.
//!
//! One value type, [`Value`], serves both encodings. AMF0 is encoded and decoded in full;
//! AMF3 is decoded (clients that connect with `objectEncoding = 3` send AMF3 inside type 17
//! messages and behind the AMF0 `avmplus` marker 0x11), and encoded for the subset of values
//! a server ever sends.

#![forbid(unsafe_code)]

pub mod amf0;
pub mod amf3;
mod read;
mod value;

pub use value::Value;

/// Why bytes could not be decoded as AMF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Also what a declared length or count beyond the end of the input gives: a cut-off
    /// message and a lying length look the same, and every strict prefix of a valid
    /// encoding fails this way.
    #[error("AMF data ends in the middle of a value")]
    Truncated,
    #[error("unknown AMF{version} type marker 0x{marker:02x}")]
    UnknownMarker { version: u8, marker: u8 },
    #[error("AMF values nest deeper than {0} levels")]
    TooDeep(usize),
    #[error("AMF string is not valid UTF-8")]
    InvalidUtf8,
    /// Also a reference to a value that contains it: a cycle cannot be a [`Value`] tree.
    #[error("AMF reference {0} points to nothing")]
    BadReference(u32),
    /// Not returned by the decoders in this crate (see [`DecodeError::Truncated`]); kept for
    /// callers that check lengths themselves.
    #[error("AMF length {0} is larger than the data")]
    LengthTooLarge(u64),
    #[error("unsupported AMF feature: {0}")]
    Unsupported(&'static str),
    /// References would copy far more data than the input holds (a "billion laughs" input).
    #[error("AMF references copy more data than the input justifies")]
    ExpansionTooLarge,
}
