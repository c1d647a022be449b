//! Turns a track's samples into what the server sends — millisecond timestamps on the
//! file-wide timeline, FLV tag prefixes — and interleaves the tracks by timestamp.

use super::boxes::malformed;
use super::codec::{Codec, mp3_sound_byte};
use super::timeline::{Timeline, composition_ms};
use super::track::Track;
use crate::{MediaError, Prefix, Sample, TagKind};

/// One track's samples on the file-wide timeline.
#[derive(Debug)]
pub(super) struct TrackSamples {
    /// In decode order; timestamps never decrease.
    pub(super) samples: Vec<Sample>,
    /// Milliseconds (file-wide timeline) at the end of the last sample.
    pub(super) end_ms: u64,
    /// Media duration of the track in its own timescale units (sum of the `stts` deltas).
    pub(super) media_duration: u64,
    /// Total sample bytes, for data rates.
    pub(super) bytes: u64,
}

/// Expands `track`, converting media time to milliseconds with `timeline` and adding
/// `shift` (the one offset applied to every track).
pub(super) fn expand(track: &Track<'_>, timeline: &Timeline, shift: i128, file_size: u64) -> Result<TrackSamples, MediaError> {
    let to_u32 = |ms: i128| {
        u32::try_from(ms + shift).map_err(|_| {
            malformed(format!("track {} has a timestamp of {} ms, outside the 32-bit RTMP range", track.id, ms + shift))
        })
    };
    let mut samples = Vec::with_capacity(track.tables.sample_count() as usize);
    let mut bytes = 0u64;
    let media_duration = track.tables.for_each(file_size, |raw| {
        let timestamp = to_u32(timeline.ms(raw.dts.into()))?;
        let (kind, keyframe, prefix) = match &track.codec {
            Codec::Avc(_) => {
                let cts = composition_ms(timeline, raw.dts, raw.composition).to_be_bytes();
                let frame = if raw.sync { 0x17 } else { 0x27 };
                (TagKind::Video, raw.sync, Prefix::new(&[frame, 0x01, cts[1], cts[2], cts[3]]))
            }
            Codec::Aac(_) => (TagKind::Audio, true, Prefix::new(&[0xaf, 0x01])),
            Codec::Mp3(format) => (TagKind::Audio, true, Prefix::new(&[mp3_sound_byte(*format)])),
            // Never chosen as a track to stream.
            Codec::Other(_) => return Err(malformed("internal: unsupported codec in a streamed track")),
        };
        bytes += u64::from(raw.size);
        samples.push(Sample { offset: raw.offset, size: raw.size, timestamp, kind, keyframe, prefix });
        Ok(())
    })?;
    let end_ms = to_u32(timeline.ms(media_duration.into()))?.into();
    Ok(TrackSamples { samples, end_ms, media_duration, bytes })
}

/// Merges tracks sorted by timestamp into one list sorted by timestamp, keeping each track's
/// order; on equal timestamps the earlier track (video) goes first.
pub(super) fn interleave(first: Vec<Sample>, second: Vec<Sample>) -> Vec<Sample> {
    if second.is_empty() {
        return first;
    }
    if first.is_empty() {
        return second;
    }
    let mut out = Vec::with_capacity(first.len() + second.len());
    let mut b = second.into_iter().peekable();
    for s in first {
        while let Some(next) = b.next_if(|n| n.timestamp < s.timestamp) {
            out.push(next);
        }
        out.push(s);
    }
    out.extend(b);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(kind: TagKind, timestamp: u32) -> Sample {
        Sample { offset: 0, size: 0, timestamp, kind, keyframe: true, prefix: Prefix::EMPTY }
    }

    #[test]
    fn interleave_is_stable() {
        let v = vec![s(TagKind::Video, 0), s(TagKind::Video, 40), s(TagKind::Video, 40), s(TagKind::Video, 80)];
        let a = vec![s(TagKind::Audio, 0), s(TagKind::Audio, 23), s(TagKind::Audio, 46), s(TagKind::Audio, 100)];
        let merged = interleave(v.clone(), a.clone());
        let got: Vec<_> = merged.iter().map(|s| (s.kind, s.timestamp)).collect();
        use TagKind::*;
        assert_eq!(
            got,
            vec![(Video, 0), (Audio, 0), (Audio, 23), (Video, 40), (Video, 40), (Audio, 46), (Video, 80), (Audio, 100)]
        );
        assert_eq!(interleave(v.clone(), vec![]), v);
        assert_eq!(interleave(vec![], a.clone()), a);
    }
}
