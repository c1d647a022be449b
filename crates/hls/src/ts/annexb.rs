//! H.264 access units from the length-prefixed form of MP4/FLV (ISO/IEC 14496-15 §5.3.2) to
//! the byte-stream form TS carries (ITU-T H.264 Annex B): an access unit delimiter first
//! (H.264 §7.4.1.2.3 puts it before everything else), SPS and PPS before key frames (RFC 8216
//! §3 wants segments decodable on their own), each NAL unit behind a start code.
//!
//! The start code is as long as the source's length prefix (3 or 4 bytes), so every NAL
//! unit keeps its size and the output size is known from the frame size alone. The frame's
//! own delimiters are dropped (ours comes first), so the output is never larger than
//! [`planned_len`].

/// An access unit delimiter saying "any slice type" (primary_pic_type 7).
pub const AUD: [u8; 6] = [0, 0, 0, 1, 0x09, 0xf0];
const NAL_TYPE_AUD: u8 = 9;

/// Bytes `write_access_unit` writes at most for a frame of `frame_len` bytes.
pub fn planned_len(frame_len: usize, key: bool, parameter_sets: &[u8]) -> usize {
    AUD.len() + if key { parameter_sets.len() } else { 0 } + frame_len
}

/// Appends the Annex B access unit of `frame`, whose NAL units carry `length_size`-byte
/// (3 or 4) length prefixes. A length running past the end takes what is left (a damaged
/// frame is passed on, not refused: the decoder copes); trailing bytes too short for a
/// length are dropped.
pub fn write_access_unit(out: &mut Vec<u8>, frame: &[u8], length_size: usize, key: bool, parameter_sets: &[u8]) {
    let mut pieces = Vec::new();
    access_unit_pieces(&mut pieces, frame, length_size, key, parameter_sets);
    pieces.iter().for_each(|piece| out.extend_from_slice(piece));
}

/// [`write_access_unit`] as the slices its output is made of, in order, without copying the
/// frame: the muxer copies them once, straight into TS packets.
pub fn access_unit_pieces<'a>(
    pieces: &mut Vec<&'a [u8]>,
    frame: &'a [u8],
    length_size: usize,
    key: bool,
    parameter_sets: &'a [u8],
) {
    debug_assert!(matches!(length_size, 3 | 4));
    pieces.push(&AUD);
    if key {
        pieces.push(parameter_sets);
    }
    let start_code: &'static [u8] = if length_size == 4 { &[0, 0, 0, 1] } else { &[0, 0, 1] };
    let mut rest = frame;
    while rest.len() > length_size {
        let (len_bytes, after) = rest.split_at(length_size);
        let len = len_bytes.iter().fold(0usize, |n, b| n << 8 | usize::from(*b)).min(after.len());
        let (nal, after) = after.split_at(len);
        rest = after;
        if nal.is_empty() || nal[0] & 0x1f == NAL_TYPE_AUD {
            continue;
        }
        pieces.push(start_code);
        pieces.push(nal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixes_become_start_codes() {
        let ps = [0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 1, 0x68, 0xce];
        // SEI (2 bytes), IDR slice (3 bytes).
        let frame = [0, 0, 0, 2, 0x06, 0x05, 0, 0, 0, 3, 0x65, 0x88, 0x84];
        let mut out = Vec::new();
        write_access_unit(&mut out, &frame, 4, true, &ps);
        let mut want = AUD.to_vec();
        want.extend_from_slice(&ps);
        want.extend_from_slice(&[0, 0, 0, 1, 0x06, 0x05, 0, 0, 0, 1, 0x65, 0x88, 0x84]);
        assert_eq!(out, want);
        assert_eq!(out.len(), planned_len(frame.len(), true, &ps));

        // Inter frame, 3-byte lengths: no parameter sets, 3-byte start codes, same size.
        let mut out = Vec::new();
        write_access_unit(&mut out, &[0, 0, 2, 0x41, 0x9a], 3, false, &ps);
        assert_eq!(out, [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 0x9a]);
    }

    #[test]
    fn own_delimiters_are_dropped_and_damage_never_grows_the_output() {
        let frame = [0, 0, 0, 2, 0x09, 0x10, 0, 0, 0, 9, 0x41, 0x9a];
        let mut out = Vec::new();
        write_access_unit(&mut out, &frame, 4, false, &[]);
        // One delimiter (ours), then the cut slice with what there is of it.
        assert_eq!(out, [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x41, 0x9a]);
        assert!(out.len() <= planned_len(frame.len(), false, &[]));
        let mut out = Vec::new();
        write_access_unit(&mut out, &[0, 0, 1], 4, false, &[]);
        assert_eq!(out, AUD);
    }
}
