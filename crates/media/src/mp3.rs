//! MP3 reader: ID3v2 skipped, CBR and VBR (Xing/Info/VBRI header frames are not audio and are
//! not sent), one tag per MPEG audio frame, exact seek from a scanned frame index.
//!
//! Timestamps are computed from the frame count, not summed per frame, so they carry no
//! rounding drift: frame `i` starts at `round(i × samples_per_frame × 1000 / sample_rate)` ms.

mod frame;
mod scan;
mod tags;
mod vbr;

use bytes::Bytes;
use sf_amf::{Value, amf0};

use self::frame::StreamParams;
use self::scan::Scanner;
use crate::{ByteSource, Format, MediaError, MediaInfo, Prefix, Sample, TagKind};

/// `audiocodecid` of MP3 in onMetaData (the FLV sound format; see `crate::mp3_sound_byte`).
const SOUND_FORMAT_MP3: u8 = 2;

/// Scans the frame headers and builds the frame table.
pub async fn open<S: ByteSource>(source: &S) -> Result<(MediaInfo, Vec<Sample>), MediaError> {
    let (start, id3) = tags::leading(source).await?;
    let end = tags::trailing_end(source, start).await?;

    let mut scanner = Scanner::new(source, start, end);
    let mut samples = Vec::new();
    let mut stream: Option<StreamParams> = None;
    let mut first = true;
    let mut audio_bytes: u64 = 0;
    let mut stereo = false;
    while let Some(found) = scanner.next().await? {
        if std::mem::take(&mut first) && vbr::is_info_frame(&found.header, scanner.frame_bytes(&found)) {
            continue;
        }
        if stream.is_none() {
            stereo = !found.header.mono;
        }
        let params = *stream.get_or_insert(found.header.params);
        let Some(timestamp) = frame_timestamp(samples.len() as u64, &params) else {
            break;
        };
        samples.push(Sample {
            offset: found.offset,
            size: found.header.len as u32,
            timestamp,
            kind: TagKind::Audio,
            keyframe: true,
            prefix: sound_byte(&params, found.header.mono),
        });
        audio_bytes += found.header.len as u64;
    }
    let (Some(params), Some(last)) = (stream, samples.last()) else {
        return Err(MediaError::malformed(Format::Mp3, "no MPEG audio frames"));
    };

    // Duration is the last frame's timestamp, not the end of its audio. rtmpdump exits
    // with "Download may be incomplete" (status 2) unless the last timestamp it received is
    // at least 99.9 % of onMetaData.duration; one frame (26 ms at 44.1 kHz) is more than
    // 0.1 % of any clip under 26 s. Players lose at most one frame off the displayed length.
    let duration_ms = u64::from(last.timestamp);
    let played_ms = frame_timestamp(samples.len() as u64, &params).map_or(0, u64::from);
    let metadata = Metadata {
        duration_ms,
        // Average over what was found: the nominal rate for CBR, the mean for VBR.
        datarate_kbps: (played_ms > 0).then(|| audio_bytes as f64 * 8.0 / played_ms as f64),
        params,
        stereo,
        id3,
    }
    .encode();
    let info = MediaInfo {
        format: Format::Mp3,
        duration_ms,
        has_audio: true,
        has_video: false,
        metadata,
        sequence_headers: Vec::new(),
    };
    Ok((info, samples))
}

/// Start of frame `index` in whole milliseconds, rounded; `None` past what a u32 holds.
fn frame_timestamp(index: u64, params: &StreamParams) -> Option<u32> {
    let rate = u64::from(params.sample_rate);
    let samples = index.checked_mul(params.samples_per_frame().into())?;
    u32::try_from((samples * 1000 + rate / 2) / rate).ok()
}

/// The FLV audio tag byte for an MP3 frame.
fn sound_byte(params: &StreamParams, mono: bool) -> Prefix {
    Prefix::new(&[crate::mp3_sound_byte(params.sample_rate, !mono)])
}

struct Metadata {
    duration_ms: u64,
    datarate_kbps: Option<f64>,
    params: StreamParams,
    stereo: bool,
    id3: tags::Id3Text,
}

impl Metadata {
    fn encode(self) -> Bytes {
        let codec = SOUND_FORMAT_MP3;
        let mut pairs = vec![("duration", Value::Number(self.duration_ms as f64 / 1000.0))];
        if let Some(rate) = self.datarate_kbps {
            pairs.push(("audiodatarate", Value::Number(rate)));
        }
        pairs.extend([
            ("audiosamplerate", Value::from(self.params.sample_rate)),
            ("audiosamplesize", Value::from(16u32)),
            ("stereo", Value::from(self.stereo)),
            ("audiochannels", Value::from(if self.stereo { 2u32 } else { 1 })),
            ("audiocodecid", Value::from(u32::from(codec))),
        ]);
        if let Some(title) = self.id3.title {
            pairs.push(("title", Value::from(title)));
        }
        if let Some(artist) = self.id3.artist {
            pairs.push(("artist", Value::from(artist)));
        }
        let mut out = Vec::new();
        amf0::encode(&Value::from("onMetaData"), &mut out);
        amf0::encode(&Value::ecma_array(pairs), &mut out);
        out.into()
    }
}

#[cfg(test)]
mod tests {
    use super::frame::Version;
    use super::*;

    #[test]
    fn timestamps_are_exact_for_long_files() {
        let p = StreamParams { version: Version::Mpeg1, layer: 3, sample_rate: 44100 };
        assert_eq!(frame_timestamp(0, &p), Some(0));
        assert_eq!(frame_timestamp(1, &p), Some(26));
        // 1225 frames of 1152 samples at 44.1 kHz are exactly 32 s; no drift after an hour.
        assert_eq!(frame_timestamp(1225 * 112, &p), Some(3_584_000));
        // 137_813 frames = 3600.01306 s.
        assert_eq!(frame_timestamp(137_813, &p), Some(3_600_013));
        let p = StreamParams { version: Version::Mpeg25, layer: 3, sample_rate: 8000 };
        assert_eq!(frame_timestamp(3, &p), Some(216));
        assert_eq!(frame_timestamp(u64::MAX, &p), None);
    }

    #[test]
    fn sound_bytes() {
        let p = |rate| StreamParams { version: Version::Mpeg1, layer: 3, sample_rate: rate };
        assert_eq!(sound_byte(&p(44100), false).as_slice(), [0x2f]);
        assert_eq!(sound_byte(&p(48000), true).as_slice(), [0x2e]);
        assert_eq!(sound_byte(&p(22050), true).as_slice(), [0x2a]);
        assert_eq!(sound_byte(&p(11025), false).as_slice(), [0x27]);
        assert_eq!(sound_byte(&p(8000), true).as_slice(), [0x22]);
    }
}
