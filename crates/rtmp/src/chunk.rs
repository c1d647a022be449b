//! The RTMP chunk stream: splitting messages into chunks (writer) and reassembling them
//! (reader), with all four header formats, extended timestamps as FFmpeg and librtmp expect
//! them, and chunk size changes.

use bytes::BytesMut;

use crate::message::{Message, MessageHeader};

/// Bounds on what a peer may make the reader hold.
#[derive(Debug, Clone, Copy)]
pub struct ReaderLimits {
    /// Largest message accepted (clients send commands of a few hundred bytes).
    pub max_message_len: u32,
    /// Most chunk streams with state at once.
    pub max_chunk_streams: usize,
    /// Most bytes held in partly received messages, over all chunk streams.
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
}

/// Reassembles messages from chunks. Feed it bytes in any split; it applies Set Chunk Size
/// (type 1) and Abort (type 2) itself, and still returns them.
#[derive(Debug)]
pub struct ChunkReader {
    _private: (),
}

impl ChunkReader {
    pub fn new(limits: ReaderLimits) -> Self {
        let _ = limits;
        todo!("rtmp wire helper")
    }

    /// Appends bytes received from the peer.
    pub fn push(&mut self, data: &[u8]) {
        let _ = data;
        todo!("rtmp wire helper")
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, ChunkError> {
        todo!("rtmp wire helper")
    }

    /// Total bytes pushed so far (for acknowledgements).
    pub fn bytes_received(&self) -> u64 {
        todo!("rtmp wire helper")
    }
}

/// Splits messages into chunks. Starts each chunk stream with a type-0 header, uses type 1/2
/// for later messages when the timestamp does not go backwards, type 3 only for
/// continuations, repeats an extended timestamp on every continuation chunk.
#[derive(Debug)]
pub struct ChunkWriter {
    _private: (),
}

impl ChunkWriter {
    /// A writer with the default chunk size of 128.
    pub fn new() -> Self {
        todo!("rtmp wire helper")
    }

    /// Changes the outgoing chunk size. Call right after writing the Set Chunk Size message
    /// that announces it.
    pub fn set_chunk_size(&mut self, size: u32) {
        let _ = size;
        todo!("rtmp wire helper")
    }

    pub fn chunk_size(&self) -> u32 {
        todo!("rtmp wire helper")
    }

    /// Appends the chunks of one message whose body is the concatenation of `parts`.
    pub fn write(&mut self, header: &MessageHeader, parts: &[&[u8]], out: &mut BytesMut) {
        let _ = (header, parts, out);
        todo!("rtmp wire helper")
    }
}

impl Default for ChunkWriter {
    fn default() -> Self {
        Self::new()
    }
}
