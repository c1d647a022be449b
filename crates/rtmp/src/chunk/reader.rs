//! Reassembling messages from chunks (RTMP spec §5.3), as FFmpeg (`rtmp_packet_read_one_chunk`
//! in `libavformat/rtmppkt.c`) and librtmp (`RTMP_ReadPacket` in `rtmp.c`) read them.

use std::collections::HashMap;

use bytes::{Buf, BytesMut};

use super::header::{EXTENDED_TIMESTAMP, Format, decode_basic_header, read_u24, read_u32};
use super::{ChunkError, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, ReaderLimits};
use crate::message::{Message, parse_u32, type_id};

/// What the reader remembers about one chunk stream: the last header's fields, which
/// later headers may omit, and the message being reassembled.
#[derive(Debug, Default)]
struct StreamState {
    csid: u32,
    /// Timestamp of the current (or last) message.
    timestamp: u32,
    /// The last timestamp field, after extended-timestamp substitution: absolute after
    /// fmt 0, a delta after fmt 1/2. A fmt-3 chunk starting a new message adds it again —
    /// so after fmt 0 the next timestamp is twice the first, as in the 2012 spec, FFmpeg
    /// and librtmp (RTMP spec §5.3.1.2.4).
    delta: u32,
    /// Whether the last fmt 0/1/2 header carried an extended timestamp, so fmt-3 chunks
    /// may carry one too (RTMP spec §5.3.1.3).
    extended: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// The message being reassembled (capacity = its length), if one is under way.
    partial: Option<BytesMut>,
}

/// A parsed chunk header, not yet applied.
#[derive(Debug)]
struct ChunkHeader {
    format: Format,
    csid: u32,
    /// Index of the stream's state in `ChunkReader::streams`, if it has one yet.
    slot: Option<usize>,
    /// Bytes taken by the whole header, extended timestamp included.
    len: usize,
    /// Timestamp field (fmt 0/1/2), extended value substituted.
    timestamp: u32,
    /// Whether the timestamp field was 0xFFFFFF (fmt 0/1/2).
    extended: bool,
    /// Length and type (fmt 0/1).
    length: u32,
    type_id: u8,
    /// Message stream id (fmt 0).
    stream_id: u32,
}

/// The chunk whose payload is being read.
#[derive(Debug, Clone, Copy)]
struct PendingPayload {
    /// Index in `ChunkReader::streams`.
    slot: usize,
    remaining: usize,
}

/// Reassembles messages from chunks. Feed it bytes in any split; it applies Set Chunk Size
/// (type 1) and Abort (type 2) itself, and still returns them.
///
/// Input is consumed as it is parsed: what stays buffered is at most one incomplete chunk
/// header (18 bytes) plus whatever was pushed and not yet asked for with
/// [`ChunkReader::next_message`]; payload bytes move straight into the message they belong
/// to. Any split of the input gives the same messages and errors.
#[derive(Debug)]
pub struct ChunkReader {
    limits: ReaderLimits,
    input: BytesMut,
    chunk_size: u32,
    /// Per chunk stream state; entries are never removed (their number is bounded by
    /// `max_chunk_streams`), so indices into it stay valid.
    streams: Vec<StreamState>,
    /// csid → index in `streams`: one lookup per chunk header, none per payload byte run.
    slots: HashMap<u32, usize>,
    payload: Option<PendingPayload>,
    /// Sum of the lengths of the messages under way (what `partial` buffers reserve).
    buffered: usize,
    bytes_received: u64,
    /// A stream that failed once stays failed.
    failed: Option<ChunkError>,
}

impl ChunkReader {
    pub fn new(limits: ReaderLimits) -> Self {
        ChunkReader {
            limits,
            input: BytesMut::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: Vec::new(),
            slots: HashMap::new(),
            payload: None,
            buffered: 0,
            bytes_received: 0,
            failed: None,
        }
    }

    /// Appends bytes received from the peer.
    pub fn push(&mut self, data: &[u8]) {
        self.bytes_received += data.len() as u64;
        if self.failed.is_none() {
            self.input.extend_from_slice(data);
        }
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, ChunkError> {
        if let Some(error) = &self.failed {
            return Err(error.clone());
        }
        let result = self.read_message().and_then(|message| match message {
            Some(message) => self.apply_control(&message).map(|()| Some(message)),
            None => Ok(None),
        });
        if let Err(error) = &result {
            self.failed = Some(error.clone());
            self.input = BytesMut::new();
        }
        result
    }

    /// Total bytes pushed so far (for acknowledgements).
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }

    /// The chunk size the peer currently uses.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Input bytes pushed and not yet parsed.
    #[cfg(test)]
    pub(super) fn unparsed_len(&self) -> usize {
        self.input.len()
    }

    /// Set Chunk Size and Abort take effect here, before the caller sees them.
    fn apply_control(&mut self, message: &Message) -> Result<(), ChunkError> {
        match message.type_id {
            type_id::SET_CHUNK_SIZE => {
                let size = parse_u32(message.type_id, &message.payload)?;
                // FFmpeg rejects ≤ 0 as a signed int, i.e. 0 and anything with bit 31
                // (`handle_chunk_size` in `libavformat/rtmpproto.c`).
                if size == 0 || size > MAX_CHUNK_SIZE {
                    return Err(ChunkError::InvalidChunkSize(size));
                }
                self.chunk_size = size;
            }
            type_id::ABORT => {
                let csid = parse_u32(message.type_id, &message.payload)?;
                if let Some(state) = self.slots.get(&csid).map(|&slot| &mut self.streams[slot])
                    && state.partial.take().is_some()
                {
                    self.buffered -= state.length as usize;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn read_message(&mut self) -> Result<Option<Message>, ChunkError> {
        loop {
            if let Some(pending) = self.payload {
                match self.read_payload(pending)? {
                    Progress::Message(message) => return Ok(Some(message)),
                    Progress::NeedInput => return Ok(None),
                    Progress::Continue => continue,
                }
            }
            let Some(header) = self.parse_header()? else {
                return Ok(None);
            };
            self.input.advance(header.len);
            if let Some(message) = self.start_chunk(&header)? {
                return Ok(Some(message));
            }
        }
    }

    /// Moves available payload bytes of the current chunk into its message.
    fn read_payload(&mut self, pending: PendingPayload) -> Result<Progress, ChunkError> {
        let take = pending.remaining.min(self.input.len());
        if take == 0 {
            return Ok(Progress::NeedInput);
        }
        let slot = pending.slot;
        let state = &mut self.streams[slot];
        // A pending payload always has its message buffer; the error only avoids a panic
        // path.
        let Some(partial) = state.partial.as_mut() else {
            return Err(ChunkError::NoPreviousHeader { csid: state.csid });
        };
        partial.extend_from_slice(&self.input[..take]);
        self.input.advance(take);
        let remaining = pending.remaining - take;
        if remaining > 0 {
            self.payload = Some(PendingPayload { slot, remaining });
            return Ok(Progress::NeedInput);
        }
        self.payload = None;
        if partial.len() < state.length as usize {
            return Ok(Progress::Continue);
        }
        let payload = state.partial.take().unwrap_or_default().freeze();
        self.buffered -= state.length as usize;
        Ok(Progress::Message(message(state, payload)))
    }

    /// Parses the chunk header at the front of the input without consuming it; `None` if
    /// it is not all there yet.
    fn parse_header(&self) -> Result<Option<ChunkHeader>, ChunkError> {
        let input = &self.input[..];
        let Some((format, csid, basic_len)) = decode_basic_header(input) else {
            return Ok(None);
        };
        let slot = self.slots.get(&csid).copied();
        let state = slot.map(|slot| &self.streams[slot]);
        if format != Format::Full && state.is_none() {
            return Err(ChunkError::NoPreviousHeader { csid });
        }
        let fields_len = format.message_header_len();
        let Some(fields) = input.get(basic_len..basic_len + fields_len) else {
            return Ok(None);
        };
        let mut header = ChunkHeader {
            format,
            csid,
            slot,
            len: basic_len + fields_len,
            timestamp: 0,
            extended: false,
            length: 0,
            type_id: 0,
            stream_id: 0,
        };
        if let (Format::Continuation, Some(state)) = (format, state) {
            if state.extended {
                match extended_timestamp_follows(state, &input[header.len..]) {
                    Some(true) => header.len += 4,
                    Some(false) => {}
                    None => return Ok(None),
                }
            }
            return Ok(Some(header));
        }
        header.timestamp = read_u24(fields);
        if header.timestamp == EXTENDED_TIMESTAMP {
            let Some(extended) = input.get(header.len..header.len + 4) else {
                return Ok(None);
            };
            header.timestamp = read_u32(extended);
            header.extended = true;
            header.len += 4;
        }
        if fields_len >= 7 {
            header.length = read_u24(&fields[3..]);
            header.type_id = fields[6];
            if header.length > self.limits.max_message_len {
                return Err(ChunkError::MessageTooLarge { len: header.length, limit: self.limits.max_message_len });
            }
        }
        if fields_len == 11 {
            // The only little-endian field of the protocol (FFmpeg reads it with `AV_RL32`).
            header.stream_id = u32::from_le_bytes([fields[7], fields[8], fields[9], fields[10]]);
        }
        Ok(Some(header))
    }

    /// Applies a parsed header: updates the stream's state, starts a message if this
    /// chunk begins one, and sets up reading its payload. Returns a message that is
    /// complete already (empty, or whole in the input).
    fn start_chunk(&mut self, header: &ChunkHeader) -> Result<Option<Message>, ChunkError> {
        let slot = match header.slot {
            Some(slot) => slot,
            None if self.streams.len() >= self.limits.max_chunk_streams => {
                return Err(ChunkError::TooManyChunkStreams(self.limits.max_chunk_streams));
            }
            None => {
                self.streams.push(StreamState { csid: header.csid, ..StreamState::default() });
                self.slots.insert(header.csid, self.streams.len() - 1);
                self.streams.len() - 1
            }
        };
        let state = &mut self.streams[slot];

        if header.format == Format::Continuation {
            if let Some(partial) = &state.partial {
                let remaining = state.length as usize - partial.len();
                let size = remaining.min(self.chunk_size as usize);
                self.payload = Some(PendingPayload { slot, remaining: size });
                return Ok(None);
            }
            state.timestamp = state.timestamp.wrapping_add(state.delta);
        } else {
            // A new header in the middle of a message abandons it (nobody sends this; an
            // implicit Abort is the least surprising reading).
            if state.partial.take().is_some() {
                self.buffered -= state.length as usize;
            }
            state.extended = header.extended;
            state.delta = header.timestamp;
            match header.format {
                Format::Full => {
                    state.timestamp = header.timestamp;
                    state.stream_id = header.stream_id;
                }
                _ => state.timestamp = state.timestamp.wrapping_add(header.timestamp),
            }
            if header.format != Format::TimestampOnly {
                state.length = header.length;
                state.type_id = header.type_id;
            }
        }

        // A new message starts with this chunk.
        let length = state.length as usize;
        if self.buffered + length > self.limits.max_buffered {
            return Err(ChunkError::TooMuchBuffered(self.limits.max_buffered));
        }
        let size = length.min(self.chunk_size as usize);
        if size == length && self.input.len() >= length {
            // Whole message in one chunk, all here: hand out the bytes without copying.
            let payload = self.input.split_to(length).freeze();
            return Ok(Some(message(state, payload)));
        }
        self.buffered += length;
        state.partial = Some(BytesMut::with_capacity(length));
        self.payload = Some(PendingPayload { slot, remaining: size });
        Ok(None)
    }
}

enum Progress {
    Message(Message),
    NeedInput,
    Continue,
}

fn message(state: &StreamState, payload: bytes::Bytes) -> Message {
    Message {
        csid: state.csid,
        timestamp: state.timestamp,
        type_id: state.type_id,
        stream_id: state.stream_id,
        payload,
    }
}

/// Whether a fmt-3 chunk on a stream whose last header had an extended timestamp repeats
/// it. FFmpeg and librtmp since 2015 send it on every fmt-3 chunk (FFmpeg commit 024e5a2d5f,
/// librtmp a107cef, following RTMP spec §5.3.1.3), older peers never do; like SRS and
/// rml_rtmp, take the next 4 bytes as the extended timestamp only if they hold a value it
/// could be: the last timestamp field, or the message's absolute timestamp (for peers that
/// repeat that instead). `None` while the available bytes cannot tell: a prefix of a
/// candidate and fewer than 4 bytes.
fn extended_timestamp_follows(state: &StreamState, after: &[u8]) -> Option<bool> {
    let timestamp = if state.partial.is_some() { state.timestamp } else { state.timestamp.wrapping_add(state.delta) };
    let available = after.len().min(4);
    let matches =
        [state.delta, timestamp].iter().any(|candidate| candidate.to_be_bytes()[..available] == after[..available]);
    match (matches, available) {
        (false, _) => Some(false),
        (true, 4) => Some(true),
        (true, _) => None,
    }
}
