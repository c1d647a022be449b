//! Sample descriptions (`stsd`): which codec a track carries and its configuration record —
//! the avcC payload for H.264, the AudioSpecificConfig from `esds` for AAC — which become the
//! RTMP sequence headers.

use super::boxes::{Reader, children, find_child, fourcc_str, malformed};
use crate::MediaError;

/// The codec of a track, as far as streaming it over RTMP is concerned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Codec<'a> {
    /// H.264 in avc1/avc3: samples are length-prefixed NAL units.
    Avc(Avc<'a>),
    /// AAC: samples are raw access units.
    Aac(Aac<'a>),
    /// MPEG-1/2 audio layer III: samples are whole MP3 frames.
    Mp3(AudioFormat),
    /// Anything we do not stream (the reason says what it is).
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Avc<'a> {
    /// The avcC box payload (AVCDecoderConfigurationRecord), sent verbatim.
    pub(super) config: &'a [u8],
    pub(super) width: u16,
    pub(super) height: u16,
}

impl Avc<'_> {
    pub(super) fn profile(&self) -> u8 {
        self.config[1]
    }

    pub(super) fn level(&self) -> u8 {
        self.config[3]
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Aac<'a> {
    /// AudioSpecificConfig (payload of the DecoderSpecificInfo descriptor), sent verbatim.
    pub(super) config: &'a [u8],
    pub(super) format: AudioFormat,
}

/// Sample rate and channel count as the sample entry states them (0 when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct AudioFormat {
    pub(super) sample_rate: u32,
    pub(super) channels: u16,
}

/// The first entry of an `stsd` box, and how many entries there are (chunks name their entry
/// by index, which the sample table validates).
#[derive(Debug)]
pub(super) struct SampleDescription<'a> {
    pub(super) entry_count: u32,
    pub(super) codec: Codec<'a>,
}

/// Parses `stsd`. Only the first entry is interpreted: a track that switches codec
/// configuration mid-stream is streamed with the first one.
pub(super) fn parse_stsd(stsd: &[u8]) -> Result<SampleDescription<'_>, MediaError> {
    let mut r = Reader::new(stsd, "stsd");
    r.full_box()?;
    let entry_count = r.u32()?;
    if entry_count == 0 {
        return Err(malformed("'stsd' box has no sample entries"));
    }
    let (format, entry) = children(r.rest()).next().ok_or_else(|| malformed("'stsd' box has no sample entries"))??;
    let codec = match &format {
        b"avc1" | b"avc3" => Codec::Avc(parse_avc(entry)?),
        b"mp4a" => parse_mp4a(entry)?,
        b".mp3" => Codec::Mp3(audio_entry(entry)?.0),
        b"hvc1" | b"hev1" => Codec::Other(format!("HEVC video ({})", fourcc_str(format))),
        b"encv" | b"enca" => Codec::Other("encrypted track".to_owned()),
        _ => Codec::Other(format!("'{}' sample entry", fourcc_str(format))),
    };
    Ok(SampleDescription { entry_count, codec })
}

/// Fixed fields of a VisualSampleEntry before its child boxes (SampleEntry's 8 bytes
/// included).
const VISUAL_ENTRY_LEN: usize = 78;

fn parse_avc(entry: &[u8]) -> Result<Avc<'_>, MediaError> {
    let mut r = Reader::new(entry, "avc1");
    r.skip(8 + 16)?;
    let width = r.u16()?;
    let height = r.u16()?;
    r.skip(VISUAL_ENTRY_LEN - 28)?;
    let config = find_child(r.rest(), *b"avcC")?.ok_or_else(|| malformed("'avc1' sample entry has no 'avcC' box"))?;
    // configurationVersion, profile, compatibility, level, lengthSizeMinusOne, numOfSPS: the
    // least a decoder needs to look at; profile and level feed onMetaData.
    if config.len() < 6 || config[0] != 1 {
        return Err(malformed("'avcC' box is not an AVC decoder configuration record (version 1)"));
    }
    Ok(Avc { config, width, height })
}

/// Reads an AudioSampleEntry (ISO, or QuickTime sound description versions 0-2): the format
/// it states, and the child boxes after the fixed fields.
fn audio_entry(entry: &[u8]) -> Result<(AudioFormat, &[u8]), MediaError> {
    let mut r = Reader::new(entry, "audio sample entry");
    r.skip(8)?; // SampleEntry: reserved, data_reference_index
    let version = r.u16()?; // "reserved" in ISO files, the sound description version in QuickTime
    r.skip(6)?; // revision, vendor
    let mut channels = r.u16()?;
    r.skip(6)?; // sample size, compression id, packet size
    let mut sample_rate = r.u32()? >> 16; // 16.16 fixed point
    match version {
        0 => {}
        1 => r.skip(16)?, // samples per packet, bytes per packet/frame/sample
        2 => {
            r.skip(4)?; // size of struct only
            let rate = f64::from_bits(r.u64()?);
            channels = u16::try_from(r.u32()?).unwrap_or(0);
            r.skip(20)?;
            sample_rate = if (1.0..=1e6).contains(&rate) { rate as u32 } else { 0 };
        }
        v => {
            return Err(malformed(format!("audio sample entry has unknown version {v}")));
        }
    }
    Ok((AudioFormat { sample_rate, channels }, r.rest()))
}

fn parse_mp4a(entry: &[u8]) -> Result<Codec<'_>, MediaError> {
    let (format, boxes) = audio_entry(entry)?;
    // QuickTime files put `esds` inside a `wave` box.
    let esds = match find_child(boxes, *b"esds")? {
        Some(esds) => Some(esds),
        None => match find_child(boxes, *b"wave")? {
            Some(wave) => find_child(wave, *b"esds")?,
            None => None,
        },
    };
    let Some(esds) = esds else {
        return Ok(Codec::Other("'mp4a' sample entry without 'esds'".to_owned()));
    };
    let decoder = parse_esds(esds)?;
    Ok(match decoder.object_type {
        // MPEG-4 audio, MPEG-2 AAC Main/LC/SSR.
        0x40 | 0x66..=0x68 => match decoder.specific_info {
            Some(config) if !config.is_empty() => Codec::Aac(Aac { config, format }),
            _ => Codec::Other("AAC without an AudioSpecificConfig".to_owned()),
        },
        // MPEG-2 (0x69) and MPEG-1 (0x6B) audio: in practice layer III.
        0x69 | 0x6b => Codec::Mp3(format),
        oti => Codec::Other(format!("'mp4a' object type 0x{oti:02x}")),
    })
}

/// What we need from an ES descriptor: the object type and the DecoderSpecificInfo bytes.
#[derive(Debug, PartialEq, Eq)]
struct DecoderConfig<'a> {
    object_type: u8,
    specific_info: Option<&'a [u8]>,
}

const ES_DESCRIPTOR: u8 = 0x03;
const DECODER_CONFIG_DESCRIPTOR: u8 = 0x04;
const DECODER_SPECIFIC_INFO: u8 = 0x05;

/// Reads one descriptor header (tag, then a length of 1-4 bytes with 7 bits each and a
/// continuation bit) and returns the tag and its body.
fn descriptor<'a>(r: &mut Reader<'a>) -> Result<(u8, &'a [u8]), MediaError> {
    let tag = r.u8()?;
    let mut len = 0usize;
    for _ in 0..4 {
        let b = r.u8()?;
        len = (len << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    if len > r.remaining() {
        return Err(malformed(format!("'esds' descriptor 0x{tag:02x} of {len} bytes runs past its box")));
    }
    Ok((tag, r.bytes(len)?))
}

fn parse_esds(esds: &[u8]) -> Result<DecoderConfig<'_>, MediaError> {
    let mut r = Reader::new(esds, "esds");
    r.full_box()?;
    let (tag, body) = descriptor(&mut r)?;
    let decoder_config = match tag {
        ES_DESCRIPTOR => {
            let mut es = Reader::new(body, "esds");
            es.skip(2)?; // ES_ID
            let flags = es.u8()?;
            if flags & 0x80 != 0 {
                es.skip(2)?; // dependsOn_ES_ID
            }
            if flags & 0x40 != 0 {
                let url_len = es.u8()?;
                es.skip(url_len.into())?;
            }
            if flags & 0x20 != 0 {
                es.skip(2)?; // OCR_ES_Id
            }
            find_descriptor(es, DECODER_CONFIG_DESCRIPTOR)?
        }
        // Some writers omit the ES_Descriptor wrapper.
        DECODER_CONFIG_DESCRIPTOR => Some(body),
        _ => None,
    };
    let body = decoder_config.ok_or_else(|| malformed("'esds' box has no DecoderConfigDescriptor"))?;
    let mut dc = Reader::new(body, "esds");
    let object_type = dc.u8()?;
    dc.skip(12)?; // stream type, buffer size, max and average bitrate
    let specific_info = find_descriptor(dc, DECODER_SPECIFIC_INFO)?;
    Ok(DecoderConfig { object_type, specific_info })
}

fn find_descriptor(mut r: Reader<'_>, wanted: u8) -> Result<Option<&[u8]>, MediaError> {
    while r.remaining() > 0 {
        let (tag, body) = descriptor(&mut r)?;
        if tag == wanted {
            return Ok(Some(body));
        }
    }
    Ok(None)
}

/// Sample rate and channels from an AudioSpecificConfig (ISO 14496-3 1.6.2.1), for
/// onMetaData. `None` if it is too short to say.
pub(super) fn audio_specific_config_format(asc: &[u8]) -> Option<AudioFormat> {
    let mut bits = BitReader { data: asc, pos: 0 };
    let object_type = bits.read(5)?;
    if object_type == 31 {
        bits.read(6)?;
    }
    const RATES: [u32; 13] = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];
    let sample_rate = match bits.read(4)? {
        15 => bits.read(24)?,
        i => *RATES.get(i as usize)?,
    };
    let channels = match bits.read(4)? {
        7 => 8,
        c => c as u16,
    };
    Some(AudioFormat { sample_rate, channels })
}

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn read(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self.data.get(self.pos / 8)?;
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Some(v)
    }
}

/// The FLV sound byte of an MP3 track.
pub(super) fn mp3_sound_byte(format: AudioFormat) -> u8 {
    crate::mp3_sound_byte(format.sample_rate, format.channels >= 2)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mp4::boxes::build::{boxed, full};

    pub(crate) fn avc1_entry(avcc: &[u8], width: u16, height: u16) -> Vec<u8> {
        let mut e = vec![0; 8 + 16];
        e[7] = 1;
        e.extend(width.to_be_bytes());
        e.extend(height.to_be_bytes());
        e.extend([0; VISUAL_ENTRY_LEN - 28]);
        e.extend(boxed(b"avcC", avcc));
        boxed(b"avc1", &e)
    }

    fn esds(object_type: u8, dsi: &[u8]) -> Vec<u8> {
        let mut dc = vec![DECODER_CONFIG_DESCRIPTOR, 13 + 2 + dsi.len() as u8, object_type, 0x15];
        dc.extend([0; 11]);
        dc.extend([DECODER_SPECIFIC_INFO, dsi.len() as u8]);
        dc.extend(dsi);
        // ES descriptor with a 4-byte length encoding, as many muxers write it.
        let mut es = vec![ES_DESCRIPTOR, 0x80, 0x80, 0x80, 3 + dc.len() as u8, 0, 1, 0];
        es.extend(dc);
        es.extend([0x06, 0x01, 0x02]); // SLConfigDescriptor
        full(b"esds", 0, &es)
    }

    pub(crate) fn mp4a_entry(version: u16, object_type: u8, dsi: &[u8], in_wave: bool) -> Vec<u8> {
        let mut e = vec![0; 8];
        e.extend(version.to_be_bytes());
        e.extend([0; 6]);
        e.extend(2u16.to_be_bytes());
        e.extend([0, 16, 0, 0, 0, 0]);
        e.extend((44100u32 << 16).to_be_bytes());
        if version == 1 {
            e.extend([0; 16]);
        }
        let esds = esds(object_type, dsi);
        if in_wave {
            e.extend(boxed(b"wave", &[boxed(b"frma", b"mp4a"), esds].concat()));
        } else {
            e.extend(esds);
        }
        boxed(b"mp4a", &e)
    }

    pub(crate) fn stsd(entries: &[Vec<u8>]) -> Vec<u8> {
        let mut p = vec![0, 0, 0, 0];
        p.extend((entries.len() as u32).to_be_bytes());
        for e in entries {
            p.extend(e);
        }
        p
    }

    #[test]
    fn avc() {
        let avcc = [1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 0];
        let desc = stsd(&[avc1_entry(&avcc, 320, 240)]);
        let d = parse_stsd(&desc).unwrap();
        assert_eq!(d.entry_count, 1);
        let Codec::Avc(avc) = d.codec else { panic!("{:?}", d.codec) };
        assert_eq!((avc.config, avc.width, avc.height), (&avcc[..], 320, 240));
        assert_eq!((avc.profile(), avc.level()), (0x64, 0x1f));

        assert!(parse_stsd(&stsd(&[avc1_entry(&[0, 1, 2, 3, 4, 5], 1, 1)])).is_err());
        assert!(parse_stsd(&stsd(&[avc1_entry(&[1, 2], 1, 1)])).is_err());
        let mut truncated = avc1_entry(&avcc, 320, 240);
        truncated.truncate(40);
        truncated[3] = 40;
        assert!(parse_stsd(&stsd(&[truncated])).is_err());
    }

    #[test]
    fn aac_and_mp3() {
        for (version, in_wave) in [(0, false), (1, true), (1, false)] {
            let desc = stsd(&[mp4a_entry(version, 0x40, &[0x12, 0x10], in_wave)]);
            let d = parse_stsd(&desc).unwrap();
            let Codec::Aac(aac) = d.codec else { panic!("{:?}", d.codec) };
            assert_eq!(aac.config, &[0x12, 0x10]);
            assert_eq!(aac.format, AudioFormat { sample_rate: 44100, channels: 2 });
        }
        let desc = stsd(&[mp4a_entry(0, 0x6b, &[], false)]);
        let d = parse_stsd(&desc).unwrap();
        assert_eq!(d.codec, Codec::Mp3(AudioFormat { sample_rate: 44100, channels: 2 }));
        let desc = stsd(&[mp4a_entry(0, 0xa5, &[], false)]);
        let d = parse_stsd(&desc).unwrap();
        assert!(matches!(d.codec, Codec::Other(_)));
        let desc = stsd(&[mp4a_entry(0, 0x40, &[], false)]);
        let d = parse_stsd(&desc).unwrap();
        assert!(matches!(d.codec, Codec::Other(_)));
    }

    #[test]
    fn bad_esds() {
        // Descriptor length past the box.
        let bad = full(b"esds", 0, &[ES_DESCRIPTOR, 0x7f, 0, 1, 0]);
        assert!(parse_esds(&bad[8..]).is_err());
        // No decoder config.
        let none = full(b"esds", 0, &[ES_DESCRIPTOR, 3, 0, 1, 0]);
        assert!(parse_esds(&none[8..]).is_err());
        // Without the ES wrapper.
        let mut bare = vec![DECODER_CONFIG_DESCRIPTOR, 13, 0x40];
        bare.extend([0; 12]);
        let bare = full(b"esds", 0, &bare);
        assert_eq!(parse_esds(&bare[8..]).unwrap(), DecoderConfig { object_type: 0x40, specific_info: None });
    }

    #[test]
    fn other_entries() {
        let desc = stsd(&[boxed(b"hvc1", &[0; 80])]);
        let d = parse_stsd(&desc).unwrap();
        assert!(matches!(d.codec, Codec::Other(s) if s.contains("HEVC")));
        assert!(parse_stsd(&stsd(&[])).is_err());
        assert!(parse_stsd(&[0, 0, 0, 0, 0, 0, 0, 1]).is_err());
        assert!(parse_stsd(&[0, 0]).is_err());
    }

    #[test]
    fn asc_and_sound_byte() {
        assert_eq!(audio_specific_config_format(&[0x12, 0x10]), Some(AudioFormat { sample_rate: 44100, channels: 2 }));
        assert_eq!(audio_specific_config_format(&[0x11, 0x88]), Some(AudioFormat { sample_rate: 48000, channels: 1 }));
        assert_eq!(audio_specific_config_format(&[0x12]), None);
        let byte = |sample_rate, channels| mp3_sound_byte(AudioFormat { sample_rate, channels });
        assert_eq!(byte(44100, 2), 0x2f);
        assert_eq!(byte(48000, 1), 0x2e);
        assert_eq!(byte(22050, 1), 0x2a);
        assert_eq!(byte(11025, 2), 0x27);
        assert_eq!(byte(8000, 1), 0x22);
    }
}
