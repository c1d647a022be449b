//! Turns a track's samples into what the server sends — millisecond timestamps on the
//! file-wide timeline, FLV tag prefixes — and interleaves the tracks by timestamp.

use super::boxes::malformed;
use super::codec::{Codec, mp3_sound_byte};
use super::sample_table::{RawSample, SampleIter};
use super::timeline::{Edit, Timeline, composition_ms};
use super::track::Track;
use crate::{MediaError, Prefix, Sample, TagKind};

/// Which samples of a track are sent and how its decode times are adjusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    /// Index of the first sample sent.
    first: u32,
    /// Its decode time (media units).
    first_dts: u64,
    /// Subtracted from every decode time so composition offsets are never negative.
    dts_shift: u64,
    /// The edit to map media time with.
    pub(super) edit: Edit,
}

impl Plan {
    /// Samples before the edit list's start that nothing presented needs are dropped: video
    /// starts at the key frame the first presented frame depends on; audio keeps one second
    /// before the edit point for decoder priming. An edit that starts inside a video frame
    /// starts at the next frame (audio is cut to the sample). Both rules are FFmpeg's, so
    /// we deliver the packets and timestamps FFmpeg-based players and tools expect.
    pub(super) fn new(track: &Track<'_>) -> Plan {
        let media_time = track.edit.media_time.max(0).unsigned_abs();
        let is_video = matches!(track.codec, Codec::Avc(_));
        let target = if is_video { media_time } else { media_time.saturating_sub(track.timescale.into()) };
        let (first, first_dts) = track.tables.first_needed(target);
        let mut edit = track.edit;
        if is_video
            && edit.explicit
            && let Some(start) = track.tables.first_presentation_at_or_after(media_time)
        {
            edit.media_time = i64::try_from(start).unwrap_or(i64::MAX);
        }
        Plan { first, first_dts, dts_shift: track.tables.composition_shift(), edit }
    }

    /// The track's earliest delivered time, in ms before the file-wide shift.
    pub(super) fn earliest_ms(&self, timeline: &Timeline) -> i128 {
        timeline.ms(i128::from(self.first_dts) - i128::from(self.dts_shift))
    }
}

/// A track's samples as RTMP samples on the file-wide timeline, in decode order (so with
/// non-decreasing timestamps).
pub(super) struct TrackStream<'t, 'a> {
    track: &'t Track<'a>,
    raw: SampleIter<'t, 'a>,
    timeline: Timeline,
    dts_shift: i128,
    /// The one offset (ms) applied to every track.
    shift: i128,
    /// Sample bytes yielded so far, for data rates.
    pub(super) bytes: u64,
}

impl<'t, 'a> TrackStream<'t, 'a> {
    pub(super) fn new(track: &'t Track<'a>, plan: &Plan, timeline: Timeline, shift: i128, file_size: u64) -> Self {
        TrackStream {
            track,
            raw: track.tables.samples(file_size, plan.first),
            timeline,
            dts_shift: plan.dts_shift.into(),
            shift,
            bytes: 0,
        }
    }

    /// How many samples this stream yields.
    pub(super) fn len(&self) -> usize {
        self.track.tables.sample_count().saturating_sub(self.raw.first()) as usize
    }

    /// Track duration in media units (sum of the `stts` deltas); valid once exhausted.
    pub(super) fn media_duration(&self) -> u64 {
        self.raw.end_dts()
    }

    /// Milliseconds (file-wide timeline) at the end of the last sample; valid once exhausted.
    pub(super) fn end_ms(&self) -> Result<u64, MediaError> {
        self.to_u32(self.timeline.ms(self.raw.end_dts().into())).map(u64::from)
    }

    fn to_u32(&self, ms: i128) -> Result<u32, MediaError> {
        u32::try_from(ms + self.shift).map_err(|_| {
            malformed(format!(
                "track {} has a timestamp of {} ms, outside the 32-bit RTMP range",
                self.track.id,
                ms + self.shift
            ))
        })
    }

    fn convert(&self, raw: RawSample) -> Result<Sample, MediaError> {
        let dts = i128::from(raw.dts) - self.dts_shift;
        let timestamp = self.to_u32(self.timeline.ms(dts))?;
        let (kind, keyframe, prefix) = match &self.track.codec {
            Codec::Avc(_) => {
                let pts = i128::from(raw.dts) + i128::from(raw.composition);
                let cts = composition_ms(&self.timeline, dts, pts).to_be_bytes();
                let frame = if raw.sync { 0x17 } else { 0x27 };
                (TagKind::Video, raw.sync, Prefix::new(&[frame, 0x01, cts[1], cts[2], cts[3]]))
            }
            Codec::Aac(_) => (TagKind::Audio, true, Prefix::new(&[0xaf, 0x01])),
            Codec::Mp3(format) => (TagKind::Audio, true, Prefix::new(&[mp3_sound_byte(*format)])),
            // Never chosen as a track to stream.
            Codec::Other(_) => {
                return Err(malformed("internal: unsupported codec in a streamed track"));
            }
        };
        Ok(Sample { offset: raw.offset, size: raw.size, timestamp, kind, keyframe, prefix })
    }
}

impl Iterator for TrackStream<'_, '_> {
    type Item = Result<Sample, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        let raw = match self.raw.next()? {
            Ok(raw) => raw,
            Err(e) => return Some(Err(e)),
        };
        self.bytes += u64::from(raw.size);
        Some(self.convert(raw))
    }
}

/// Merges two streams sorted by timestamp into one list sorted by timestamp, keeping each
/// stream's order; on equal timestamps the first stream (video) goes first. Built in one
/// pass into one allocation: for long files this list is the bulk of the index.
pub(super) fn interleave<A, B>(mut first: A, mut second: B, capacity: usize) -> Result<Vec<Sample>, MediaError>
where
    A: Iterator<Item = Result<Sample, MediaError>>,
    B: Iterator<Item = Result<Sample, MediaError>>,
{
    let mut out = Vec::with_capacity(capacity);
    let mut a = first.next().transpose()?;
    let mut b = second.next().transpose()?;
    loop {
        match (a, b) {
            (Some(x), Some(y)) if x.timestamp <= y.timestamp => {
                out.push(x);
                a = first.next().transpose()?;
            }
            (_, Some(y)) => {
                out.push(y);
                b = second.next().transpose()?;
            }
            (Some(x), None) => {
                out.push(x);
                a = first.next().transpose()?;
            }
            (None, None) => return Ok(out),
        }
    }
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
        let merge =
            |x: &[Sample], y: &[Sample]| interleave(x.iter().copied().map(Ok), y.iter().copied().map(Ok), 0).unwrap();
        let merged = merge(&v, &a);
        let got: Vec<_> = merged.iter().map(|s| (s.kind, s.timestamp)).collect();
        use TagKind::*;
        assert_eq!(
            got,
            vec![(Video, 0), (Audio, 0), (Audio, 23), (Video, 40), (Video, 40), (Audio, 46), (Video, 80), (Audio, 100)]
        );
        assert_eq!(merge(&v, &[]), v);
        assert_eq!(merge(&[], &a), a);
    }
}
