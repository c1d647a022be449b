//! MPEG-2 transport stream packets (ISO/IEC 13818-1 §2.4.3): the 4-byte header, adaptation
//! fields with a PCR or stuffing, and the program tables (PAT, PMT) with their CRC.

pub const PACKET_LEN: usize = 188;
/// Payload room of a packet without an adaptation field.
pub const PAYLOAD_LEN: usize = PACKET_LEN - 4;
/// An adaptation field holding a PCR: length, flags, 6 bytes of PCR.
pub const PCR_FIELD_LEN: usize = 8;

pub const PAT_PID: u16 = 0;
/// PIDs as FFmpeg's muxer numbers them.
pub const PMT_PID: u16 = 0x1000;
pub const VIDEO_PID: u16 = 0x100;
pub const AUDIO_PID: u16 = 0x101;

/// Stream types of the PMT (ISO/IEC 13818-1 Table 2-34).
pub const STREAM_TYPE_H264: u8 = 0x1b;
pub const STREAM_TYPE_AAC_ADTS: u8 = 0x0f;
pub const STREAM_TYPE_MPEG1_AUDIO: u8 = 0x03;
pub const STREAM_TYPE_MPEG2_AUDIO: u8 = 0x04;

/// What goes in a packet's adaptation field besides stuffing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Adaptation {
    /// Program clock reference base (90 kHz), extension 0.
    pub pcr: Option<u64>,
    pub random_access: bool,
}

impl Adaptation {
    /// Bytes the field takes before any stuffing (0 when it is not needed).
    pub fn fixed_len(&self) -> usize {
        match (self.pcr, self.random_access) {
            (Some(_), _) => PCR_FIELD_LEN,
            (None, true) => 2,
            (None, false) => 0,
        }
    }
}

/// Appends one packet: `payload` (at most `PAYLOAD_LEN - adaptation.fixed_len()` bytes) after the
/// adaptation field, which stuffing grows to fill the packet.
pub fn write(out: &mut Vec<u8>, pid: u16, start: bool, cc: u8, adaptation: Adaptation, payload: &[u8]) {
    write_header(out, pid, start, cc, adaptation, payload.len());
    out.extend_from_slice(payload);
}

/// Appends what [`write`] writes before the payload, for a payload of `payload_len` bytes
/// the caller appends next.
pub fn write_header(out: &mut Vec<u8>, pid: u16, start: bool, cc: u8, adaptation: Adaptation, payload_len: usize) {
    let fixed = adaptation.fixed_len();
    assert!(payload_len + fixed <= PAYLOAD_LEN, "payload larger than its packet");
    let field = PAYLOAD_LEN - payload_len; // adaptation field bytes, length byte included
    let control = if field > 0 { 0x30 } else { 0x10 };
    out.extend_from_slice(&[0x47, u8::from(start) << 6 | (pid >> 8) as u8 & 0x1f, pid as u8, control | (cc & 0x0f)]);
    if field > 0 {
        out.push((field - 1) as u8);
        if field > 1 {
            let flags = u8::from(adaptation.random_access) << 6 | u8::from(adaptation.pcr.is_some()) << 4;
            out.push(flags);
            if let Some(base) = adaptation.pcr {
                // 33-bit base, 6 reserved bits, 9-bit extension (0).
                let b = base & ((1 << 33) - 1);
                out.extend_from_slice(&[(b >> 25) as u8, (b >> 17) as u8, (b >> 9) as u8, (b >> 1) as u8]);
                out.extend_from_slice(&[((b & 1) as u8) << 7 | 0x7e, 0]);
            }
            let used = if fixed > 0 { fixed } else { 2 };
            out.resize(out.len() + field - used, 0xff);
        }
    }
}

/// CRC-32/MPEG-2 of a PSI section (ISO/IEC 13818-1 Annex A): polynomial 0x04C11DB7, no
/// reflection, initial value all ones, no final XOR.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 { crc << 1 ^ 0x04c1_1db7 } else { crc << 1 };
        }
    }
    crc
}

/// A packet carrying one PSI section (pointer field 0, then the section and its CRC).
fn write_section(out: &mut Vec<u8>, pid: u16, cc: u8, table_id: u8, id: u16, body: &[u8]) {
    let mut section = vec![table_id];
    // Section syntax, '0', reserved; length counts from after itself to the CRC's end.
    let len = 5 + body.len() + 4;
    section.extend_from_slice(&[0xb0 | (len >> 8) as u8, len as u8]);
    section.extend_from_slice(&id.to_be_bytes());
    section.extend_from_slice(&[0xc1, 0, 0]); // version 0, current; section 0 of 0
    section.extend_from_slice(body);
    section.extend_from_slice(&crc32(&section).to_be_bytes());
    let mut payload = vec![0]; // pointer field
    payload.extend_from_slice(&section);
    payload.resize(PAYLOAD_LEN, 0xff);
    write(out, pid, true, cc, Adaptation::default(), &payload);
}

/// The program association table: program 1 at [`PMT_PID`].
pub fn write_pat(out: &mut Vec<u8>, cc: u8) {
    let pmt = (0xe000 | PMT_PID).to_be_bytes();
    write_section(out, PAT_PID, cc, 0x00, 1, &[0, 1, pmt[0], pmt[1]]);
}

/// The program map table of program 1: `streams` are (stream type, PID).
pub fn write_pmt(out: &mut Vec<u8>, cc: u8, pcr_pid: u16, streams: &[(u8, u16)]) {
    let mut body = (0xe000 | pcr_pid).to_be_bytes().to_vec();
    body.extend_from_slice(&[0xf0, 0]); // no program descriptors
    for &(stream_type, pid) in streams {
        body.push(stream_type);
        body.extend_from_slice(&(0xe000 | pid).to_be_bytes());
        body.extend_from_slice(&[0xf0, 0]);
    }
    write_section(out, PMT_PID, cc, 0x02, 1, &body);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_is_mpeg2() {
        // The check value of CRC-32/MPEG-2.
        assert_eq!(crc32(b"123456789"), 0x0376_e6e7);
        // A section followed by its CRC has a CRC of zero: how demuxers check it.
        let mut out = Vec::new();
        write_pat(&mut out, 0);
        let section_len = usize::from(u16::from_be_bytes([out[6], out[7]]) & 0x0fff);
        assert_eq!(crc32(&out[5..8 + section_len]), 0);
    }

    #[test]
    fn pat_is_what_ffmpeg_writes() {
        // FFmpeg's PAT for program 1 at PID 0x1000 (transport stream id 1).
        let mut out = Vec::new();
        write_pat(&mut out, 3);
        assert_eq!(out.len(), PACKET_LEN);
        assert_eq!(
            &out[..21],
            &[
                0x47, 0x40, 0x00, 0x13, 0x00, 0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xf0, 0x00,
                0x2a, 0xb1, 0x04, 0xb2
            ]
        );
        assert!(out[21..].iter().all(|b| *b == 0xff));
    }

    #[test]
    fn adaptation_fields_fill_the_packet() {
        for len in [0, 1, 2, 100, 175, 176, 183, 184] {
            let mut out = Vec::new();
            let payload = vec![0xaa; len];
            write(&mut out, VIDEO_PID, false, 5, Adaptation::default(), &payload);
            assert_eq!(out.len(), PACKET_LEN, "payload {len}");
            assert!(out.ends_with(&payload));
            if len < PAYLOAD_LEN {
                assert_eq!(out[3] & 0x30, 0x30);
                assert_eq!(usize::from(out[4]), PAYLOAD_LEN - len - 1);
            }
        }
        let mut out = Vec::new();
        let pcr = Adaptation { pcr: Some(0x1_2345_6789), random_access: true };
        write(&mut out, VIDEO_PID, true, 0, pcr, &[1; 176]);
        assert_eq!(&out[4..12], &[7, 0x50, 0x91, 0xa2, 0xb3, 0xc4, 0xfe, 0]);
    }
}
