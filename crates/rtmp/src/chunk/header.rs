//! Wire encoding of chunk headers (RTMP spec §5.3.1.1–§5.3.1.2).

/// The 2-bit header format of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// 11 bytes: absolute timestamp, length, type, stream id.
    Full = 0,
    /// 7 bytes: timestamp delta, length, type.
    SameStream = 1,
    /// 3 bytes: timestamp delta.
    TimestampOnly = 2,
    /// Nothing: everything as before.
    Continuation = 3,
}

impl Format {
    pub(crate) fn from_bits(bits: u8) -> Format {
        match bits & 3 {
            0 => Format::Full,
            1 => Format::SameStream,
            2 => Format::TimestampOnly,
            _ => Format::Continuation,
        }
    }

    /// Length of the message header that follows the basic header.
    pub(crate) fn message_header_len(self) -> usize {
        match self {
            Format::Full => 11,
            Format::SameStream => 7,
            Format::TimestampOnly => 3,
            Format::Continuation => 0,
        }
    }
}

/// The 3-byte timestamp field value that announces a 4-byte extended timestamp.
pub(crate) const EXTENDED_TIMESTAMP: u32 = 0xFF_FFFF;

/// Smallest chunk stream id (0 and 1 only mark the longer basic header forms).
pub(crate) const MIN_CSID: u32 = 2;
/// Largest chunk stream id: 64 + 0xFFFF with the 3-byte basic header.
pub(crate) const MAX_CSID: u32 = 65599;

/// Length of the basic header for `csid` (1 byte up to 63, 2 up to 319, else 3).
pub(crate) fn basic_header_len(csid: u32) -> usize {
    match csid {
        ..=63 => 1,
        64..=319 => 2,
        _ => 3,
    }
}

/// Encodes a basic header into `out`, returning its length. `csid` must be in
/// [`MIN_CSID`]..=[`MAX_CSID`].
pub(crate) fn encode_basic_header(format: Format, csid: u32, out: &mut [u8; 3]) -> usize {
    let fmt = (format as u8) << 6;
    match csid {
        ..=63 => {
            out[0] = fmt | csid as u8;
            1
        }
        64..=319 => {
            out[0] = fmt;
            out[1] = (csid - 64) as u8;
            2
        }
        _ => {
            // The 16-bit form is little-endian (RTMP spec §5.3.1.1; FFmpeg `AV_RL16`).
            let [lo, hi] = ((csid - 64) as u16).to_le_bytes();
            out[0] = fmt | 1;
            out[1] = lo;
            out[2] = hi;
            3
        }
    }
}

/// Decodes a basic header from the front of `input`: `(format, csid, length)`, or `None`
/// if more bytes are needed.
pub(crate) fn decode_basic_header(input: &[u8]) -> Option<(Format, u32, usize)> {
    let first = *input.first()?;
    let format = Format::from_bits(first >> 6);
    match first & 0x3f {
        0 => Some((format, 64 + u32::from(*input.get(1)?), 2)),
        1 => {
            let bytes = input.get(1..3)?;
            Some((format, 64 + u32::from(u16::from_le_bytes([bytes[0], bytes[1]])), 3))
        }
        csid => Some((format, u32::from(csid), 1)),
    }
}

/// Big-endian u24 at the front of `bytes` (at least 3 long).
pub(crate) fn read_u24(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([0, bytes[0], bytes[1], bytes[2]])
}

/// Big-endian u32 at the front of `bytes` (at least 4 long).
pub(crate) fn read_u32(bytes: &[u8]) -> u32 {
    u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])
}

/// The low 3 bytes of `value`, big-endian.
pub(crate) fn u24_bytes(value: u32) -> [u8; 3] {
    let [_, a, b, c] = value.to_be_bytes();
    [a, b, c]
}
