//! The RTMP chunk stream: splitting messages into chunks (writer) and reassembling them
//! (reader), with all four header formats, extended timestamps as FFmpeg and librtmp expect
//! them, and chunk size changes.
//!
//! - [`header`]: the wire encoding of basic and message headers (RTMP spec
//!   §5.3.1.1–§5.3.1.2).
//! - [`reader`]: [`ChunkReader`], bounded by [`ReaderLimits`].
//! - [`writer`]: the [`ChunkWriter`].

mod header;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use self::reader::ChunkReader;
pub use self::writer::ChunkWriter;
use crate::message::ControlError;

/// The chunk size both directions start with (RTMP spec §5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;
/// The largest chunk size Set Chunk Size may announce: bit 31 must be 0 (RTMP spec §5.4.1).
pub const MAX_CHUNK_SIZE: u32 = 0x7FFF_FFFF;
/// The largest message the 24-bit length field can describe.
pub const MAX_MESSAGE_LEN: u32 = 0xFF_FFFF;

/// Bounds on what a peer may make the reader hold.
#[derive(Debug, Clone, Copy)]
pub struct ReaderLimits {
    /// Largest message accepted (clients send commands of a few hundred bytes).
    pub max_message_len: u32,
    /// Most chunk streams with state at once.
    pub max_chunk_streams: usize,
    /// Most bytes held in partly received messages, over all chunk streams. A message
    /// counts with its full announced length from its first chunk on, since that is what
    /// gets reserved.
    pub max_buffered: usize,
}

impl Default for ReaderLimits {
    fn default() -> Self {
        ReaderLimits { max_message_len: 1 << 20, max_chunk_streams: 64, max_buffered: 4 << 20 }
    }
}

/// Why the incoming chunk stream is unusable (the connection should be closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChunkError {
    #[error("message of {len} bytes is over the limit of {limit}")]
    MessageTooLarge { len: u32, limit: u32 },
    #[error("too many chunk streams (limit {0})")]
    TooManyChunkStreams(usize),
    #[error("more than {0} bytes of partial messages buffered")]
    TooMuchBuffered(usize),
    #[error("chunk on stream {csid} continues a message that was never started")]
    NoPreviousHeader { csid: u32 },
    #[error("invalid chunk size {0}")]
    InvalidChunkSize(u32),
    /// A Set Chunk Size or Abort too short to carry its value.
    #[error("malformed protocol control message: {0}")]
    Control(#[from] ControlError),
}
