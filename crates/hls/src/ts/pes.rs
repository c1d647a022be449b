//! PES packet headers (ISO/IEC 13818-1 §2.4.3.6) with 90 kHz timestamps.

/// Header bytes before the elementary stream data: start code, stream id, length, flags,
/// header length, then 5 bytes per timestamp.
pub const fn header_len(with_dts: bool) -> usize {
    9 + if with_dts { 10 } else { 5 }
}

pub const STREAM_ID_VIDEO: u8 = 0xe0;
pub const STREAM_ID_AUDIO: u8 = 0xc0;

/// Largest data after the length field that a PES packet with a length can hold.
pub const MAX_BOUNDED_LEN: usize = u16::MAX as usize;

/// Appends a PES header for `es_len` bytes of data. `dts` is written only when given;
/// `bounded` writes the packet length (required for audio), else 0 ("unbounded", allowed
/// for video only). A bounded `es_len` must fit [`MAX_BOUNDED_LEN`].
pub fn write_header(out: &mut Vec<u8>, stream_id: u8, pts: u64, dts: Option<u64>, es_len: usize, bounded: bool) {
    let optional = header_len(dts.is_some()) - 6;
    let length = if bounded { optional + es_len } else { 0 };
    debug_assert!(length <= MAX_BOUNDED_LEN);
    out.extend_from_slice(&[0, 0, 1, stream_id]);
    out.extend_from_slice(&(length as u16).to_be_bytes());
    // '10', no scrambling, not prioritised, no alignment flag, no copyright, original.
    out.push(0x80);
    out.push(if dts.is_some() { 0xc0 } else { 0x80 });
    out.push((optional - 3) as u8);
    match dts {
        Some(dts) => {
            write_timestamp(out, 0x3, pts);
            write_timestamp(out, 0x1, dts);
        }
        None => write_timestamp(out, 0x2, pts),
    }
}

/// A 33-bit timestamp in 5 bytes with marker bits, after a 4-bit prefix.
fn write_timestamp(out: &mut Vec<u8>, prefix: u8, ts: u64) {
    let ts = ts & ((1 << 33) - 1);
    out.extend_from_slice(&[
        prefix << 4 | ((ts >> 29) as u8 & 0x0e) | 1,
        (ts >> 22) as u8,
        (ts >> 14) as u8 & 0xfe | 1,
        (ts >> 7) as u8,
        (ts << 1) as u8 | 1,
    ]);
}

/// Reads a timestamp written by `write_timestamp` (for tests and checks).
pub fn read_timestamp(b: &[u8]) -> u64 {
    (u64::from(b[0] >> 1) & 0x07) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_with_markers() {
        let mut out = Vec::new();
        write_header(&mut out, STREAM_ID_VIDEO, 133_200, Some(126_000), 1000, false);
        assert_eq!(out.len(), header_len(true));
        assert_eq!(&out[..9], &[0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10]);
        // FFmpeg's bytes for PTS 133200 / DTS 126000.
        assert_eq!(&out[9..19], &[0x31, 0x00, 0x09, 0x10, 0xa1, 0x11, 0x00, 0x07, 0xd8, 0x61]);
        assert_eq!(read_timestamp(&out[9..]), 133_200);
        assert_eq!(read_timestamp(&out[14..]), 126_000);
        for ts in [0, 1, (1 << 32) + 12345, (1 << 33) - 1] {
            let mut out = Vec::new();
            write_header(&mut out, STREAM_ID_AUDIO, ts, None, 10, true);
            assert_eq!(read_timestamp(&out[9..]), ts);
            assert_eq!(out[9] >> 4, 0x2);
            assert_eq!(out[9] & 1 & out[11] & out[13], 1, "marker bits");
            assert_eq!(u16::from_be_bytes([out[4], out[5]]), 3 + 5 + 10);
        }
    }
}
