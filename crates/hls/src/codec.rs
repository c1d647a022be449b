//! The codec configurations a TS segment needs, read from the sequence headers sf-media
//! hands out: the AVC decoder configuration record (ISO/IEC 14496-15 §5.3.3.1) and the
//! AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), plus the `CODECS` names of RFC 6381.

use sf_media::{MediaInfo, TagKind};

use crate::HlsError;

/// FLV codec ids of the first tag body byte (Video File Format Specification v10.1, E.4.2/E.4.3).
const VIDEO_CODEC_AVC: u8 = 7;
const SOUND_FORMAT_MP3: u8 = 2;
const SOUND_FORMAT_AAC: u8 = 10;

/// H.264 configuration from the `avcC`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avc {
    pub profile: u8,
    pub compatibility: u8,
    pub level: u8,
    /// Bytes of each NAL unit's length prefix in a frame (1 to 4).
    pub nal_length_size: u8,
    /// SPS and PPS NAL units, each behind a 4-byte start code, in that order.
    pub parameter_sets: Vec<u8>,
}

impl Avc {
    pub fn parse(avcc: &[u8]) -> Result<Avc, HlsError> {
        let bad = |why: &str| HlsError::Malformed(format!("AVC decoder configuration: {why}"));
        let [1, profile, compatibility, level, length_byte, rest @ ..] = avcc else {
            return Err(bad("too short or not version 1"));
        };
        let mut parameter_sets = Vec::new();
        let mut rest = rest;
        // SPS count (5 bits), then PPS count (a byte), each set with a 16-bit length.
        for mask in [0x1f, 0xff] {
            let (&count, after) = rest.split_first().ok_or_else(|| bad("parameter set count missing"))?;
            rest = after;
            for _ in 0..(count & mask) {
                let [hi, lo, after @ ..] = rest else { return Err(bad("parameter set length missing")) };
                let len = usize::from(u16::from_be_bytes([*hi, *lo]));
                let set = after.get(..len).ok_or_else(|| bad("parameter set cut short"))?;
                parameter_sets.extend_from_slice(&[0, 0, 0, 1]);
                parameter_sets.extend_from_slice(set);
                rest = &after[len..];
            }
        }
        Ok(Avc {
            profile: *profile,
            compatibility: *compatibility,
            level: *level,
            nal_length_size: (length_byte & 0x03) + 1,
            parameter_sets,
        })
    }

    /// `avc1.PPCCLL` (RFC 6381 §3.3).
    pub fn codecs_name(&self) -> String {
        format!("avc1.{:02x}{:02x}{:02x}", self.profile, self.compatibility, self.level)
    }
}

/// AAC configuration from the AudioSpecificConfig, as an ADTS header can carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aac {
    /// The object type of the core (AAC LC for HE-AAC, whose SBR stays implicit in ADTS).
    pub object_type: u8,
    /// The object type the config names (5 or 29 for HE-AAC), for `CODECS`.
    pub signalled_object_type: u8,
    pub frequency_index: u8,
    pub channel_config: u8,
}

/// Sampling frequencies by index (ISO/IEC 14496-3 Table 1.18).
const FREQUENCIES: [u32; 13] =
    [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

impl Aac {
    pub fn parse(config: &[u8]) -> Result<Aac, HlsError> {
        let mut bits = Bits { bytes: config, at: 0 };
        let too_short = || HlsError::Malformed("AudioSpecificConfig cut short".into());
        let signalled = object_type(&mut bits).ok_or_else(too_short)?;
        let frequency_index = read_frequency_index(&mut bits).ok_or_else(too_short)?;
        let channel_config = bits.read(4).ok_or_else(too_short)? as u8;
        // HE-AAC (SBR, 5) and HE-AACv2 (PS, 29): an extension rate, then the core's type.
        let object_type = if matches!(signalled, 5 | 29) {
            read_frequency_index(&mut bits).ok_or_else(too_short)?;
            object_type(&mut bits).ok_or_else(too_short)?
        } else {
            signalled
        };
        // ADTS has two bits for the profile (object type − 1), and no room for a program
        // config element's channel layout (ISO/IEC 14496-3 §1.A.2.2.1).
        if !(1..=4).contains(&object_type) {
            return Err(HlsError::Unsupported(format!("AAC object type {object_type} cannot be carried in ADTS")));
        }
        if channel_config == 0 || channel_config > 7 {
            return Err(HlsError::Unsupported(format!("AAC channel configuration {channel_config}")));
        }
        Ok(Aac { object_type, signalled_object_type: signalled, frequency_index, channel_config })
    }

    /// `mp4a.40.<object type>` (RFC 6381 §3.3; 0x40 is MPEG-4 audio).
    pub fn codecs_name(&self) -> String {
        format!("mp4a.40.{}", self.signalled_object_type)
    }

    /// The 7-byte ADTS header (no CRC) for a raw frame of `frame_len` bytes
    /// (ISO/IEC 14496-3 §1.A.2.2); `frame_len` must be at most [`MAX_ADTS_PAYLOAD`].
    pub fn adts_header(&self, frame_len: usize) -> [u8; ADTS_HEADER_LEN] {
        debug_assert!(frame_len <= MAX_ADTS_PAYLOAD);
        let len = frame_len + ADTS_HEADER_LEN;
        let profile = self.object_type - 1;
        let ch = self.channel_config;
        [
            0xff,
            0xf1, // sync word, MPEG-4, layer 0, no CRC
            profile << 6 | self.frequency_index << 2 | ch >> 2,
            (ch & 3) << 6 | (len >> 11) as u8,
            (len >> 3) as u8,
            ((len & 7) as u8) << 5 | 0x1f, // buffer fullness 0x7ff: variable rate
            0xfc,
        ]
    }
}

pub const ADTS_HEADER_LEN: usize = 7;
/// The 13-bit ADTS frame length includes the header.
pub const MAX_ADTS_PAYLOAD: usize = 0x1fff - ADTS_HEADER_LEN;

fn object_type(bits: &mut Bits<'_>) -> Option<u8> {
    let t = bits.read(5)? as u8;
    if t == 31 { Some(32 + bits.read(6)? as u8) } else { Some(t) }
}

fn read_frequency_index(bits: &mut Bits<'_>) -> Option<u8> {
    let index = bits.read(4)? as u8;
    if index != 15 {
        return Some(index);
    }
    // An explicit rate: ADTS needs it to be one of the table's.
    let rate = bits.read(24)?;
    FREQUENCIES.iter().position(|f| *f == rate).map(|i| i as u8).or(Some(15))
}

struct Bits<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Bits<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0;
        for _ in 0..n {
            let byte = self.bytes.get(self.at / 8)?;
            v = v << 1 | u32::from(byte >> (7 - self.at % 8) & 1);
            self.at += 1;
        }
        Some(v)
    }
}

/// The audio codec of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audio {
    Aac(Aac),
    /// MPEG audio layer III; `lsf` for the MPEG-2/2.5 low sampling frequencies (< 32 kHz).
    Mp3 {
        lsf: bool,
    },
}

impl Audio {
    pub fn codecs_name(&self) -> String {
        match self {
            Audio::Aac(aac) => aac.codecs_name(),
            // The MP3 object type (ISO/IEC 14496-1 Table 5), as hls.js maps it.
            Audio::Mp3 { .. } => "mp4a.40.34".into(),
        }
    }
}

/// What the packager knows about the tracks of one media object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracks {
    pub video: Option<Avc>,
    pub audio: Option<Audio>,
}

impl Tracks {
    /// The codecs of `info`'s tracks, as the first frame of each track (its `codec_byte`)
    /// names them. Anything but H.264, AAC and MP3 is [`HlsError::Unsupported`].
    pub fn new(info: &MediaInfo, first_video: Option<u8>, first_audio: Option<u8>) -> Result<Tracks, HlsError> {
        let sequence_header = |kind: TagKind| info.sequence_headers.iter().find(|t| t.kind == kind).map(|t| t.body());
        let video = match first_video {
            None => None,
            Some(byte) if byte & 0x80 == 0 && byte & 0x0f == VIDEO_CODEC_AVC => {
                let header = sequence_header(TagKind::Video)
                    .ok_or_else(|| HlsError::Malformed("H.264 video without a sequence header".into()))?;
                // Frame type/codec, packet type, composition time, then the avcC.
                Some(Avc::parse(header.get(5..).unwrap_or_default())?)
            }
            Some(byte) => return Err(HlsError::Unsupported(video_codec_name(byte))),
        };
        let audio = match first_audio.map(|b| (b >> 4, b)) {
            None => None,
            Some((SOUND_FORMAT_AAC, _)) => {
                let header = sequence_header(TagKind::Audio)
                    .ok_or_else(|| HlsError::Malformed("AAC audio without an AudioSpecificConfig".into()))?;
                Some(Audio::Aac(Aac::parse(header.get(2..).unwrap_or_default())?))
            }
            // The rate class (bits 2-3): 3 is 44 kHz, the class FLV gives 32 kHz and up.
            Some((SOUND_FORMAT_MP3, byte)) => Some(Audio::Mp3 { lsf: (byte >> 2) & 3 != 3 }),
            Some((format, _)) => return Err(HlsError::Unsupported(audio_codec_name(format))),
        };
        if let Some(Avc { nal_length_size: n @ (1 | 2), .. }) = &video {
            // A length prefix shorter than a start code makes the Annex B size depend on the
            // number of NAL units, which only reading every frame would tell.
            return Err(HlsError::Unsupported(format!("H.264 with {n}-byte NAL unit lengths")));
        }
        Ok(Tracks { video, audio })
    }

    /// The `CODECS` attribute value.
    pub fn codecs(&self) -> String {
        let names: Vec<String> =
            self.video.iter().map(Avc::codecs_name).chain(self.audio.iter().map(Audio::codecs_name)).collect();
        names.join(",")
    }
}

fn video_codec_name(byte: u8) -> String {
    if byte & 0x80 != 0 {
        return "Enhanced RTMP video (HEVC, AV1, VP9) in TS segments".into();
    }
    let name = match byte & 0x0f {
        2 => "Sorenson H.263",
        3 => "Screen video",
        4 => "On2 VP6",
        5 => "On2 VP6 with alpha",
        6 => "Screen video v2",
        12 => "HEVC in TS segments",
        _ => "unknown",
    };
    format!("video codec {name} (FLV codec id {})", byte & 0x0f)
}

fn audio_codec_name(format: u8) -> String {
    let name = match format {
        0 | 3 => "linear PCM",
        1 => "ADPCM",
        4..=6 => "Nellymoser",
        7 | 8 => "G.711",
        9 => "Enhanced RTMP audio",
        11 => "Speex",
        14 => "MP3 8 kHz",
        _ => "unknown",
    };
    format!("audio codec {name} (FLV sound format {format})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avcc_gives_codecs_and_parameter_sets() {
        let avcc = [1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0, 3, 0x67, 0x64, 0x00, 1, 0, 2, 0x68, 0xee];
        let avc = Avc::parse(&avcc).unwrap();
        assert_eq!(avc.codecs_name(), "avc1.64001f");
        assert_eq!(avc.nal_length_size, 4);
        assert_eq!(avc.parameter_sets, [0, 0, 0, 1, 0x67, 0x64, 0x00, 0, 0, 0, 1, 0x68, 0xee]);
        assert!(Avc::parse(&avcc[..9]).is_err(), "a cut SPS is refused");
    }

    #[test]
    fn adts_header_matches_ffmpeg() {
        // AAC LC, 44.1 kHz, mono: what FFmpeg's ADTS muxer writes for a 100-byte frame.
        let aac = Aac::parse(&[0x12, 0x08]).unwrap();
        assert_eq!((aac.object_type, aac.frequency_index, aac.channel_config), (2, 4, 1));
        assert_eq!(aac.codecs_name(), "mp4a.40.2");
        assert_eq!(aac.adts_header(100), [0xff, 0xf1, 0x50, 0x40, 0x0d, 0x7f, 0xfc]);
        // 48 kHz stereo, the largest frame ADTS can hold.
        let aac = Aac::parse(&[0x11, 0x90]).unwrap();
        let h = aac.adts_header(MAX_ADTS_PAYLOAD);
        let len = (usize::from(h[3] & 3) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
        assert_eq!(len, 0x1fff);
        assert_eq!((h[2] >> 2) & 0x0f, 3);
    }

    #[test]
    fn he_aac_is_carried_as_its_core() {
        // AOT 5, 24 kHz core (index 6), stereo, extension 48 kHz (3), core AOT 2.
        let aac = Aac::parse(&[0x2b, 0x11, 0x88, 0x00]).unwrap();
        assert_eq!((aac.object_type, aac.signalled_object_type, aac.frequency_index), (2, 5, 6));
        assert_eq!(aac.codecs_name(), "mp4a.40.5");
        assert!(matches!(Aac::parse(&[0xf8, 0x00, 0x00]), Err(HlsError::Unsupported(_))), "AOT 31+ refused");
    }
}
