//! RTMP messages: type ids, protocol control (types 1–6) and user control events (type 4).

use bytes::Bytes;

/// A whole RTMP message as reassembled from chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Chunk stream it arrived on (for diagnostics; replies choose their own).
    pub csid: u32,
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
    pub payload: Bytes,
}

/// Header of a message to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// Chunk stream id, 2..=63 (clients mishandle larger ones).
    pub csid: u32,
    pub timestamp: u32,
    pub type_id: u8,
    pub stream_id: u32,
}

pub mod type_id {
    pub const SET_CHUNK_SIZE: u8 = 1;
    pub const ABORT: u8 = 2;
    pub const ACKNOWLEDGEMENT: u8 = 3;
    pub const USER_CONTROL: u8 = 4;
    pub const WINDOW_ACK_SIZE: u8 = 5;
    pub const SET_PEER_BANDWIDTH: u8 = 6;
    pub const AUDIO: u8 = 8;
    pub const VIDEO: u8 = 9;
    pub const DATA_AMF3: u8 = 15;
    pub const SHARED_OBJECT_AMF3: u8 = 16;
    pub const COMMAND_AMF3: u8 = 17;
    pub const DATA_AMF0: u8 = 18;
    pub const SHARED_OBJECT_AMF0: u8 = 19;
    pub const COMMAND_AMF0: u8 = 20;
    pub const AGGREGATE: u8 = 22;
}

/// User control event ids (RTMP spec §7.1.7; 31 and 32 are FMS 3.5's, described in librtmp's
/// `HandleCtrl` in `rtmp.c`).
pub mod event_id {
    pub const STREAM_BEGIN: u16 = 0;
    pub const STREAM_EOF: u16 = 1;
    pub const STREAM_DRY: u16 = 2;
    pub const SET_BUFFER_LENGTH: u16 = 3;
    pub const STREAM_IS_RECORDED: u16 = 4;
    pub const PING_REQUEST: u16 = 6;
    pub const PING_RESPONSE: u16 = 7;
    pub const BUFFER_EMPTY: u16 = 31;
    pub const BUFFER_READY: u16 = 32;
}

/// User control events (message type 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserControl {
    StreamBegin(u32),
    StreamEof(u32),
    StreamDry(u32),
    SetBufferLength {
        stream_id: u32,
        millis: u32,
    },
    StreamIsRecorded(u32),
    PingRequest(u32),
    PingResponse(u32),
    BufferEmpty(u32),
    BufferReady(u32),
    /// Any other event id (e.g. SWF verification, 26/27); its data is not kept.
    Other {
        event: u16,
    },
}

/// Why a control message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// `expected` is the minimum length; longer payloads are accepted with the excess
    /// ignored, as FFmpeg and librtmp do.
    #[error("control message of type {type_id} has {len} bytes, expected {expected}")]
    BadLength { type_id: u8, len: usize, expected: usize },
}

impl UserControl {
    /// Parses a type-4 payload: a big-endian u16 event id, then the event data.
    pub fn parse(payload: &[u8]) -> Result<UserControl, ControlError> {
        let short =
            |expected: usize| ControlError::BadLength { type_id: type_id::USER_CONTROL, len: payload.len(), expected };
        let Some((&[hi, lo], data)) = payload.split_first_chunk::<2>() else {
            return Err(short(2));
        };
        let event = u16::from_be_bytes([hi, lo]);
        let word = |index: usize| {
            let start = index * 4;
            data.get(start..start + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| short(2 + start + 4))
        };
        use event_id::*;
        Ok(match event {
            STREAM_BEGIN => UserControl::StreamBegin(word(0)?),
            STREAM_EOF => UserControl::StreamEof(word(0)?),
            STREAM_DRY => UserControl::StreamDry(word(0)?),
            SET_BUFFER_LENGTH => UserControl::SetBufferLength { stream_id: word(0)?, millis: word(1)? },
            STREAM_IS_RECORDED => UserControl::StreamIsRecorded(word(0)?),
            PING_REQUEST => UserControl::PingRequest(word(0)?),
            PING_RESPONSE => UserControl::PingResponse(word(0)?),
            BUFFER_EMPTY => UserControl::BufferEmpty(word(0)?),
            BUFFER_READY => UserControl::BufferReady(word(0)?),
            event => UserControl::Other { event },
        })
    }

    /// The type-4 payload.
    pub fn encode(&self) -> Vec<u8> {
        use event_id::*;
        let (event, first, second) = match *self {
            UserControl::StreamBegin(v) => (STREAM_BEGIN, Some(v), None),
            UserControl::StreamEof(v) => (STREAM_EOF, Some(v), None),
            UserControl::StreamDry(v) => (STREAM_DRY, Some(v), None),
            UserControl::SetBufferLength { stream_id, millis } => (SET_BUFFER_LENGTH, Some(stream_id), Some(millis)),
            UserControl::StreamIsRecorded(v) => (STREAM_IS_RECORDED, Some(v), None),
            UserControl::PingRequest(v) => (PING_REQUEST, Some(v), None),
            UserControl::PingResponse(v) => (PING_RESPONSE, Some(v), None),
            UserControl::BufferEmpty(v) => (BUFFER_EMPTY, Some(v), None),
            UserControl::BufferReady(v) => (BUFFER_READY, Some(v), None),
            UserControl::Other { event } => (event, None, None),
        };
        let mut out = Vec::with_capacity(10);
        out.extend_from_slice(&event.to_be_bytes());
        for word in [first, second].into_iter().flatten() {
            out.extend_from_slice(&word.to_be_bytes());
        }
        out
    }
}

/// Payload of Set Chunk Size / Acknowledgement / Window Ack Size / Abort: one big-endian u32.
/// Longer payloads are accepted (first 4 bytes used), like FFmpeg and librtmp do.
pub fn parse_u32(type_id: u8, payload: &[u8]) -> Result<u32, ControlError> {
    match payload.first_chunk::<4>() {
        Some(bytes) => Ok(u32::from_be_bytes(*bytes)),
        None => Err(ControlError::BadLength { type_id, len: payload.len(), expected: 4 }),
    }
}

/// Payload of Set Chunk Size / Acknowledgement / Window Ack Size / Abort.
pub fn u32_payload(value: u32) -> [u8; 4] {
    value.to_be_bytes()
}

/// Payload of Set Peer Bandwidth: window size and limit type (0 hard, 1 soft, 2 dynamic).
pub fn set_peer_bandwidth(window: u32, limit_type: u8) -> [u8; 5] {
    let w = window.to_be_bytes();
    [w[0], w[1], w[2], w[3], limit_type]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_control_round_trip() {
        let events = [
            UserControl::StreamBegin(1),
            UserControl::StreamEof(0xdead_beef),
            UserControl::StreamDry(3),
            UserControl::SetBufferLength { stream_id: 1, millis: 3000 },
            UserControl::StreamIsRecorded(1),
            UserControl::PingRequest(123_456),
            UserControl::PingResponse(7),
            UserControl::BufferEmpty(1),
            UserControl::BufferReady(1),
            UserControl::Other { event: 26 },
        ];
        for event in events {
            assert_eq!(UserControl::parse(&event.encode()), Ok(event), "{event:?}");
        }
    }

    #[test]
    fn user_control_known_bytes() {
        assert_eq!(UserControl::StreamBegin(1).encode(), [0, 0, 0, 0, 0, 1]);
        assert_eq!(
            UserControl::SetBufferLength { stream_id: 1, millis: 3000 }.encode(),
            [0, 3, 0, 0, 0, 1, 0, 0, 0x0b, 0xb8]
        );
        assert_eq!(UserControl::BufferReady(2).encode(), [0, 32, 0, 0, 0, 2]);
        // SWF verification request (26) carries no data we keep.
        assert_eq!(UserControl::parse(&[0, 26]), Ok(UserControl::Other { event: 26 }));
        // Trailing bytes are ignored.
        assert_eq!(UserControl::parse(&[0, 6, 0, 0, 0, 9, 0xff]), Ok(UserControl::PingRequest(9)));
    }

    #[test]
    fn user_control_too_short() {
        let err = |len, expected| Err(ControlError::BadLength { type_id: 4, len, expected });
        assert_eq!(UserControl::parse(&[]), err(0, 2));
        assert_eq!(UserControl::parse(&[0]), err(1, 2));
        assert_eq!(UserControl::parse(&[0, 0, 0, 0, 1]), err(5, 6));
        assert_eq!(UserControl::parse(&[0, 3, 0, 0, 0, 1, 0, 0, 1]), err(9, 10));
    }

    #[test]
    fn u32_payloads() {
        assert_eq!(parse_u32(1, &[0, 0, 0x10, 0]), Ok(4096));
        assert_eq!(parse_u32(1, &u32_payload(0x7fff_ffff)), Ok(0x7fff_ffff));
        assert_eq!(parse_u32(5, &[0, 0, 1, 0, 9]), Ok(256));
        assert_eq!(parse_u32(3, &[0, 0, 1]), Err(ControlError::BadLength { type_id: 3, len: 3, expected: 4 }));
        assert_eq!(set_peer_bandwidth(2_500_000, 2), [0x00, 0x26, 0x25, 0xa0, 2]);
    }
}
