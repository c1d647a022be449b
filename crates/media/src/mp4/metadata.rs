//! What a player is told before the first frame: the `onMetaData` data message and the
//! codec sequence headers.

use bytes::Bytes;
use sf_amf::Value;

use super::codec::{Aac, Avc};
use crate::{Prefix, Tag, TagKind};

/// Facts about the streamed video track.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct VideoFacts {
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) display_width: u32,
    pub(super) display_height: u32,
    pub(super) framerate: Option<f64>,
    pub(super) profile: u8,
    pub(super) level: u8,
    pub(super) bytes: u64,
}

/// Facts about the streamed audio track.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct AudioFacts {
    /// FLV sound format: 10 = AAC, 2 = MP3.
    pub(super) codec_id: u8,
    pub(super) sample_rate: u32,
    pub(super) channels: u16,
    pub(super) bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Facts {
    pub(super) duration_ms: u64,
    pub(super) moov_offset: u64,
    pub(super) video: Option<VideoFacts>,
    pub(super) audio: Option<AudioFacts>,
}

/// The duration to announce, in ms. Normally the end of the last sample (`end_ms`), but
/// rtmpdump exits with "Download may be incomplete" unless the last timestamp it receives
/// is at least 99.9 % of `onMetaData.duration` (its percentage truncated to one decimal).
/// For clips under about 40 s a frame's own duration is more than that 0.1 %, so the
/// announced duration is capped at `last_timestamp / 0.9995`, which also absorbs the
/// floating-point rounding of its check.
pub(super) fn announced_duration_ms(end_ms: u64, last_timestamp_ms: u64) -> u64 {
    end_ms.min(last_timestamp_ms * 10_000 / 9_995).max(last_timestamp_ms)
}

/// Body of the `onMetaData` message: AMF0 `"onMetaData"` and an ECMA array (FFmpeg only
/// ends its header probing on an ECMA array). Codec ids appear only for tracks that exist,
/// since FFmpeg waits for a track that `videocodecid`/`audiocodecid` promise.
pub(super) fn on_metadata(facts: &Facts) -> Bytes {
    let mut props: Vec<(&str, Value)> = vec![("duration", Value::Number(facts.duration_ms as f64 / 1000.0))];
    let seconds = facts.duration_ms as f64 / 1000.0;
    let kbps = |bytes: u64| (seconds > 0.0).then(|| bytes as f64 * 8.0 / seconds / 1000.0);
    if let Some(v) = &facts.video {
        props.push(("width", f64::from(v.width).into()));
        props.push(("height", f64::from(v.height).into()));
        if v.display_width > 0 && v.display_height > 0 {
            props.push(("displayWidth", f64::from(v.display_width).into()));
            props.push(("displayHeight", f64::from(v.display_height).into()));
        }
        if let Some(fps) = v.framerate {
            props.push(("framerate", fps.into()));
            props.push(("videoframerate", fps.into()));
        }
        props.push(("videocodecid", 7.0.into()));
        if let Some(rate) = kbps(v.bytes) {
            props.push(("videodatarate", rate.into()));
        }
        props.push(("avcprofile", f64::from(v.profile).into()));
        props.push(("avclevel", f64::from(v.level).into()));
    }
    if let Some(a) = &facts.audio {
        props.push(("audiocodecid", f64::from(a.codec_id).into()));
        if a.sample_rate > 0 {
            props.push(("audiosamplerate", f64::from(a.sample_rate).into()));
        }
        props.push(("audiosamplesize", 16.0.into()));
        if a.channels > 0 {
            props.push(("audiochannels", f64::from(a.channels).into()));
            props.push(("stereo", (a.channels == 2).into()));
        }
        if let Some(rate) = kbps(a.bytes) {
            props.push(("audiodatarate", rate.into()));
        }
    }
    props.push(("moovposition", (facts.moov_offset as f64).into()));
    let mut out = Vec::with_capacity(64 + 24 * props.len());
    sf_amf::amf0::encode(&Value::from("onMetaData"), &mut out);
    sf_amf::amf0::encode(&Value::ecma_array(props), &mut out);
    out.into()
}

/// AVC sequence header: `17 00 00 00 00` and the avcC payload verbatim.
pub(super) fn avc_sequence_header(avc: &Avc<'_>) -> Tag {
    sequence_header(TagKind::Video, &[0x17, 0x00, 0x00, 0x00, 0x00], avc.config)
}

/// AAC sequence header: `AF 00` and the AudioSpecificConfig verbatim.
pub(super) fn aac_sequence_header(aac: &Aac<'_>) -> Tag {
    sequence_header(TagKind::Audio, &[0xaf, 0x00], aac.config)
}

fn sequence_header(kind: TagKind, head: &[u8], config: &[u8]) -> Tag {
    let mut data = Vec::with_capacity(head.len() + config.len());
    data.extend_from_slice(head);
    data.extend_from_slice(config);
    Tag { kind, timestamp: 0, keyframe: true, prefix: Prefix::EMPTY, data: data.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_satisfies_rtmpdump() {
        // rtmpdump: percent = trunc(ts / (duration_s × 1000) × 1000) / 10, must be ≥ 99.9.
        let rtmpdump_ok = |last_ts: u64, duration_ms: u64| {
            let duration = duration_ms as f64 / 1000.0;
            let percent = (last_ts as f64) / (duration * 1000.0) * 100.0;
            let percent = f64::from((percent * 10.0) as i32) / 10.0;
            percent >= 99.9
        };
        for (end, last) in [(5000, 4960), (12000, 11977), (4000, 3980), (1000, 960), (40, 0)] {
            let d = announced_duration_ms(end, last);
            assert!(d <= end && d >= last, "{end} {last} {d}");
            assert!(d == 0 || rtmpdump_ok(last, d), "{end} {last} {d}");
        }
        // Long files keep their real duration.
        assert_eq!(announced_duration_ms(3_600_040, 3_600_000), 3_600_040);
        // Every last timestamp up to 20 minutes passes rtmpdump's check.
        for last in 1..1_200_000 {
            assert!(rtmpdump_ok(last, announced_duration_ms(last + 40, last)), "{last}");
        }
    }

    #[test]
    fn sequence_headers() {
        let config = [1, 0x64, 0, 0x1f, 0xff, 0xe1];
        let tag = avc_sequence_header(&Avc { config: &config, width: 2, height: 2 });
        assert_eq!(tag.kind, TagKind::Video);
        assert_eq!(tag.prefix, Prefix::EMPTY);
        assert_eq!(&tag.data[..], &[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1]);
        let tag = aac_sequence_header(&Aac { config: &[0x12, 0x10], format: Default::default() });
        assert_eq!((tag.kind, tag.timestamp, tag.keyframe), (TagKind::Audio, 0, true));
        assert_eq!(&tag.data[..], &[0xaf, 0, 0x12, 0x10]);
    }
}
