//! MPEG audio frame headers (MPEG-1, -2 and -2.5; layers I, II and III). Pure parsing.

/// Longest possible frame: MPEG-2 layer II at 160 kbit/s and 8 kHz, plus padding.
pub(super) const MAX_FRAME_LEN: usize = 2881;

/// Header length (frames carry no CRC-independent extension before the side info).
pub(super) const HEADER_LEN: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    Mpeg1,
    Mpeg2,
    Mpeg25,
}

/// What must stay the same from frame to frame for two headers to belong to one stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StreamParams {
    pub version: Version,
    /// 1, 2 or 3.
    pub layer: u8,
    pub sample_rate: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct FrameHeader {
    pub params: StreamParams,
    pub bitrate_kbps: u32,
    pub mono: bool,
    /// Whole frame, header included.
    pub len: usize,
}

/// Kilobits per second by bitrate index 1..=14, for MPEG-1 layers I, II, III and for
/// MPEG-2/2.5 layer I and layers II/III.
const BITRATES: [[u16; 14]; 5] = [
    [32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    [32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    [32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
    [32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];

impl StreamParams {
    /// PCM samples each frame decodes to.
    pub fn samples_per_frame(&self) -> u32 {
        match (self.layer, self.version) {
            (1, _) => 384,
            (3, Version::Mpeg2 | Version::Mpeg25) => 576,
            _ => 1152,
        }
    }
}

impl FrameHeader {
    /// Parses a frame header. `None` for anything that is not one this reader can walk:
    /// no sync, reserved version/layer/sample rate, the invalid bitrate index, and
    /// free-format frames (their length is not in the header).
    pub fn parse(b: &[u8]) -> Option<FrameHeader> {
        let b: &[u8; HEADER_LEN] = b.get(..HEADER_LEN)?.try_into().ok()?;
        if b[0] != 0xff || b[1] & 0xe0 != 0xe0 {
            return None;
        }
        let version = match (b[1] >> 3) & 3 {
            0 => Version::Mpeg25,
            2 => Version::Mpeg2,
            3 => Version::Mpeg1,
            _ => return None,
        };
        let layer = match (b[1] >> 1) & 3 {
            1 => 3,
            2 => 2,
            3 => 1,
            _ => return None,
        };
        let bitrate_index = usize::from(b[2] >> 4);
        let rate_index = usize::from((b[2] >> 2) & 3);
        if bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
            return None;
        }
        let table = match (version, layer) {
            (Version::Mpeg1, l) => usize::from(l - 1),
            (_, 1) => 3,
            _ => 4,
        };
        let bitrate_kbps = u32::from(BITRATES[table][bitrate_index - 1]);
        let sample_rate = [44100, 48000, 32000][rate_index]
            >> match version {
                Version::Mpeg1 => 0,
                Version::Mpeg2 => 1,
                Version::Mpeg25 => 2,
            };
        let padding = u32::from((b[2] >> 1) & 1);
        let params = StreamParams { version, layer, sample_rate };
        let bits = bitrate_kbps * 1000;
        let len = match layer {
            1 => (12 * bits / sample_rate + padding) * 4,
            // A frame holds samples_per_frame / 8 bytes per bit/s of rate.
            _ => params.samples_per_frame() / 8 * bits / sample_rate + padding,
        };
        Some(FrameHeader { params, bitrate_kbps, mono: b[3] >> 6 == 3, len: len as usize })
    }

    /// Bytes of layer III side information after the header (where a Xing/Info tag sits).
    pub fn side_info_len(&self) -> usize {
        match (self.params.version, self.mono) {
            (Version::Mpeg1, false) => 32,
            (Version::Mpeg1, true) | (_, false) => 17,
            (_, true) => 9,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpeg1_layer3_128k_44100() {
        let h = FrameHeader::parse(&[0xff, 0xfb, 0x90, 0x64]).unwrap();
        assert_eq!(h.params, StreamParams { version: Version::Mpeg1, layer: 3, sample_rate: 44100 });
        assert_eq!(h.bitrate_kbps, 128);
        assert_eq!(h.len, 417);
        assert!(!h.mono);
        assert_eq!(h.params.samples_per_frame(), 1152);
        // Padding bit adds one byte.
        assert_eq!(FrameHeader::parse(&[0xff, 0xfb, 0x92, 0x64]).unwrap().len, 418);
    }

    #[test]
    fn mpeg2_and_25_layer3() {
        // MPEG-2, 64 kbit/s, 22050 Hz, mono.
        let h = FrameHeader::parse(&[0xff, 0xf3, 0x80, 0xc4]).unwrap();
        assert_eq!(h.params.sample_rate, 22050);
        assert_eq!(h.bitrate_kbps, 64);
        assert_eq!(h.len, 72 * 64000 / 22050);
        assert!(h.mono);
        assert_eq!(h.params.samples_per_frame(), 576);
        assert_eq!(h.side_info_len(), 9);
        // MPEG-2.5, 8 kHz, 8 kbit/s.
        let h = FrameHeader::parse(&[0xff, 0xe3, 0x18, 0xc4]).unwrap();
        assert_eq!(h.params.version, Version::Mpeg25);
        assert_eq!(h.params.sample_rate, 8000);
        assert_eq!(h.len, 72);
    }

    #[test]
    fn longest_frame_fits_the_bound() {
        // MPEG-2 layer II, 160 kbit/s, 8 kHz does not exist (8 kHz is 2.5), so the longest
        // real frame is MPEG-2.5 layer II at 160 kbit/s and 8 kHz with padding.
        let h = FrameHeader::parse(&[0xff, 0xe5, 0xea, 0x00]).unwrap();
        assert_eq!(h.len, MAX_FRAME_LEN);
    }

    #[test]
    fn rejects_reserved_and_free_format() {
        assert_eq!(FrameHeader::parse(&[0xff, 0xeb, 0x90, 0x64]), None); // version 01
        assert_eq!(FrameHeader::parse(&[0xff, 0xf9, 0x90, 0x64]), None); // layer 00
        assert_eq!(FrameHeader::parse(&[0xff, 0xfb, 0xf0, 0x64]), None); // bitrate 15
        assert_eq!(FrameHeader::parse(&[0xff, 0xfb, 0x00, 0x64]), None); // free format
        assert_eq!(FrameHeader::parse(&[0xff, 0xfb, 0x9c, 0x64]), None); // rate 11
        assert_eq!(FrameHeader::parse(&[0xfe, 0xfb, 0x90, 0x64]), None);
        assert_eq!(FrameHeader::parse(&[0xff, 0xfb, 0x90]), None);
    }
}
