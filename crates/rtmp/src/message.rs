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

/// User control events (message type 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserControl {
    StreamBegin(u32),
    StreamEof(u32),
    StreamDry(u32),
    SetBufferLength { stream_id: u32, millis: u32 },
    StreamIsRecorded(u32),
    PingRequest(u32),
    PingResponse(u32),
    BufferEmpty(u32),
    BufferReady(u32),
    /// Any other event id, with its raw data.
    Other { event: u16 },
}

/// Why a control message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    #[error("control message of type {type_id} has {len} bytes, expected {expected}")]
    BadLength { type_id: u8, len: usize, expected: usize },
}

impl UserControl {
    /// Parses a type-4 payload.
    pub fn parse(payload: &[u8]) -> Result<UserControl, ControlError> {
        let _ = payload;
        todo!("rtmp wire helper")
    }

    /// The type-4 payload.
    pub fn encode(&self) -> Vec<u8> {
        todo!("rtmp wire helper")
    }
}

/// Payload of Set Chunk Size / Acknowledgement / Window Ack Size / Abort: one u32.
pub fn parse_u32(type_id: u8, payload: &[u8]) -> Result<u32, ControlError> {
    let _ = (type_id, payload);
    todo!("rtmp wire helper")
}

/// Payload of Set Peer Bandwidth: window size and limit type (0 hard, 1 soft, 2 dynamic).
pub fn set_peer_bandwidth(window: u32, limit_type: u8) -> [u8; 5] {
    let w = window.to_be_bytes();
    [w[0], w[1], w[2], w[3], limit_type]
}
