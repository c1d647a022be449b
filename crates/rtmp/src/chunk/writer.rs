//! Splitting messages into chunks (RTMP spec §5.3), in the forms FFmpeg's
//! `rtmp_packet_read_one_chunk` and librtmp's `RTMP_ReadPacket` read correctly.

use bytes::BytesMut;

use super::header::{EXTENDED_TIMESTAMP, Format, MAX_CSID, MIN_CSID, basic_header_len, encode_basic_header, u24_bytes};
use super::{DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_MESSAGE_LEN};
use crate::message::MessageHeader;

/// What the writer last sent on one chunk stream; the next header is relative to it.
#[derive(Debug, Clone, Copy)]
struct StreamState {
    csid: u32,
    timestamp: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
}

/// Splits messages into chunks. Starts each chunk stream with a type-0 header, uses type 1/2
/// for later messages when the timestamp does not go backwards, type 3 only for
/// continuations, repeats an extended timestamp on every continuation chunk.
#[derive(Debug)]
pub struct ChunkWriter {
    chunk_size: u32,
    /// A server uses a handful of chunk streams: a linear scan beats hashing.
    streams: Vec<StreamState>,
}

impl ChunkWriter {
    /// A writer with the default chunk size of 128.
    pub fn new() -> Self {
        ChunkWriter { chunk_size: DEFAULT_CHUNK_SIZE, streams: Vec::new() }
    }

    /// Changes the outgoing chunk size. Call right after writing the Set Chunk Size message
    /// that announces it.
    ///
    /// # Panics
    /// If `size` is 0 or over 0x7FFFFFFF (not expressible in Set Chunk Size).
    pub fn set_chunk_size(&mut self, size: u32) {
        assert!((1..=MAX_CHUNK_SIZE).contains(&size), "invalid chunk size {size}");
        self.chunk_size = size;
    }

    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Appends the chunks of one message whose body is the concatenation of `parts`.
    ///
    /// The header is fmt 0 for the first message on a chunk stream, when the message stream
    /// id changes, or when the timestamp goes backwards; otherwise fmt 2 when length and
    /// type repeat, else fmt 1 — never fmt 3 for a new message, since readers disagree on
    /// what it means after fmt 0 (FFmpeg's `rtmp_packet_read_one_chunk` and librtmp's
    /// `RTMP_ReadPacket` add the last timestamp field again, as RTMP spec §5.3.1.2.4 reads).
    /// A timestamp field of 0xFFFFFF or more is written as 0xFFFFFF plus the 4-byte value,
    /// and that same value follows every fmt-3 basic header of the message, as FFmpeg,
    /// librtmp (≥ 2015) and Flash expect.
    ///
    /// # Panics
    /// If `header.csid` is outside 2..=65599 or the body is longer than 0xFFFFFF bytes.
    pub fn write(&mut self, header: &MessageHeader, parts: &[&[u8]], out: &mut BytesMut) {
        assert!((MIN_CSID..=MAX_CSID).contains(&header.csid), "chunk stream id {} out of range", header.csid);
        let length: usize = parts.iter().map(|part| part.len()).sum();
        assert!(length <= MAX_MESSAGE_LEN as usize, "message of {length} bytes is too long");
        let length = length as u32;

        let previous = self.streams.iter_mut().find(|s| s.csid == header.csid);
        let (format, timestamp_field) = match previous.as_deref() {
            Some(last) if last.stream_id == header.stream_id && header.timestamp >= last.timestamp => {
                let delta = header.timestamp - last.timestamp;
                if last.length == length && last.type_id == header.type_id {
                    (Format::TimestampOnly, delta)
                } else {
                    (Format::SameStream, delta)
                }
            }
            _ => (Format::Full, header.timestamp),
        };
        let state = StreamState {
            csid: header.csid,
            timestamp: header.timestamp,
            length,
            type_id: header.type_id,
            stream_id: header.stream_id,
        };
        match previous {
            Some(last) => *last = state,
            None => self.streams.push(state),
        }

        let extended = timestamp_field >= EXTENDED_TIMESTAMP;
        let extended_len = if extended { 4 } else { 0 };
        let basic_len = basic_header_len(header.csid);
        let chunk_size = self.chunk_size as usize;
        let body_len = length as usize;
        let continuations = body_len.saturating_sub(1) / chunk_size;
        // One reservation per message: no allocation per chunk (this is the media path).
        out.reserve(
            basic_len
                + format.message_header_len()
                + extended_len
                + continuations * (basic_len + extended_len)
                + body_len,
        );

        // The first header is assembled on the stack and appended in one go.
        let mut basic = [0u8; 3];
        let mut head = [0u8; 3 + 11 + 4];
        let mut n = encode_basic_header(format, header.csid, &mut basic);
        head[..n].copy_from_slice(&basic[..n]);
        let field = if extended { EXTENDED_TIMESTAMP } else { timestamp_field };
        head[n..n + 3].copy_from_slice(&u24_bytes(field));
        n += 3;
        if format != Format::TimestampOnly {
            head[n..n + 3].copy_from_slice(&u24_bytes(length));
            head[n + 3] = header.type_id;
            n += 4;
        }
        if format == Format::Full {
            head[n..n + 4].copy_from_slice(&header.stream_id.to_le_bytes());
            n += 4;
        }
        let extended_bytes = timestamp_field.to_be_bytes();
        if extended {
            head[n..n + 4].copy_from_slice(&extended_bytes);
            n += 4;
        }
        out.extend_from_slice(&head[..n]);

        let n = encode_basic_header(Format::Continuation, header.csid, &mut basic);
        let mut continuation = [0u8; 7];
        continuation[..n].copy_from_slice(&basic[..n]);
        continuation[n..n + 4].copy_from_slice(&extended_bytes);
        let continuation = &continuation[..n + extended_len];

        // Copy the body chunk by chunk, walking across the parts.
        let mut room = chunk_size;
        for part in parts {
            let mut part: &[u8] = part;
            while !part.is_empty() {
                if room == 0 {
                    out.extend_from_slice(continuation);
                    room = chunk_size;
                }
                let take = room.min(part.len());
                out.extend_from_slice(&part[..take]);
                part = &part[take..];
                room -= take;
            }
        }
    }
}

impl Default for ChunkWriter {
    fn default() -> Self {
        Self::new()
    }
}
