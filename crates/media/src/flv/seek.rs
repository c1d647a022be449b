//! Seek points of an FLV file: (timestamp, tag offset) pairs in rising time order, taken from
//! the `onMetaData.keyframes` index when it proves sane, else from a scan of the tag headers.

use super::codec::is_video_keyframe;
use super::tag::{AUDIO, TAG_HEADER_LEN, TagHeader, VIDEO};
use crate::{ByteSource, MediaError};

/// Index entries checked against the file's actual tags (evenly spread, first and last
/// included): enough to catch an index written for another version of the file, cheap
/// enough for every open.
const SPOT_CHECKS: usize = 5;

/// Writers store key-frame times as `timestamp / 1000` seconds, but not always of the
/// timestamp they finally wrote: FFmpeg's index is off by the audio priming delay it shifts
/// the tags by (e.g. index 1.0 s, tag 1023 ms). A constant shift up to this size is taken as
/// such and applied to every entry; spot checks must agree on it within [`TIME_TOLERANCE_MS`].
const MAX_TIME_SHIFT_MS: i64 = 10_000;
const TIME_TOLERANCE_MS: i64 = 1;

/// Two parallel vectors rather than a vector of pairs: no padding, 12 bytes a point.
#[derive(Debug, Default)]
pub(super) struct SeekPoints {
    times: Vec<u32>,
    offsets: Vec<u64>,
}

impl SeekPoints {
    /// Appends a point. One earlier than the last point (timestamps jumping back, as in
    /// concatenated recordings) is dropped so the times stay sorted for binary search, and so
    /// is one not after the last point in the file (the tail scan starts at the last entry).
    pub fn push(&mut self, time: u32, offset: u64) {
        let after = self.offsets.last().is_none_or(|last| *last < offset);
        if after && self.times.last().is_none_or(|last| *last <= time) {
            self.times.push(time);
            self.offsets.push(offset);
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn get(&self, index: usize) -> Option<(u64, u32)> {
        Some((*self.offsets.get(index)?, *self.times.get(index)?))
    }

    /// Index of the last point at or before `ms`, or 0 when `ms` is before the first.
    pub fn find(&self, ms: u32) -> usize {
        self.times.partition_point(|t| *t <= ms).saturating_sub(1)
    }

    /// The last point's offset.
    pub fn last_offset(&self) -> Option<u64> {
        self.offsets.last().copied()
    }

    /// Appends the points of `more` that come after the last one.
    pub fn extend(&mut self, more: SeekPoints) {
        for (time, offset) in more.times.into_iter().zip(more.offsets) {
            self.push(time, offset);
        }
    }
}

/// Builds seek points from a `keyframes` index if it is sane: as many times as positions,
/// positions strictly rising inside `[first_tag, size)`, times rising and in range, and the
/// spot-checked entries pointing at key-frame tags (audio tags for audio-only files) whose
/// timestamps match. `None` means: scan instead.
pub(super) async fn from_index<S: ByteSource>(
    source: &S,
    times: &[f64],
    positions: &[f64],
    first_tag: u64,
    audio_only: bool,
) -> Result<Option<SeekPoints>, MediaError> {
    if times.is_empty() || times.len() != positions.len() {
        return Ok(None);
    }
    let size = source.size();
    let mut points = SeekPoints { times: Vec::with_capacity(times.len()), offsets: Vec::with_capacity(times.len()) };
    for (&time, &position) in times.iter().zip(positions) {
        let (Some(ms), Some(offset)) = (to_ms(time), to_offset(position)) else {
            return Ok(None);
        };
        let rising = points.offsets.last().is_none_or(|last| *last < offset)
            && points.times.last().is_none_or(|last| *last <= ms);
        if !rising || offset < first_tag || offset.saturating_add(TAG_HEADER_LEN) > size {
            return Ok(None);
        }
        points.times.push(ms);
        points.offsets.push(offset);
    }
    let n = points.len();
    let mut checked: Vec<usize> = (0..SPOT_CHECKS).map(|k| k * (n - 1) / (SPOT_CHECKS - 1)).collect();
    checked.dedup();
    let mut shift = None;
    for i in checked {
        let Some(ts) = seekable_tag_timestamp(source, points.offsets[i], audio_only).await? else {
            return Ok(None);
        };
        let this = i64::from(ts) - i64::from(points.times[i]);
        let shift = *shift.get_or_insert(this);
        if shift.abs() > MAX_TIME_SHIFT_MS || (this - shift).abs() > TIME_TOLERANCE_MS {
            return Ok(None);
        }
    }
    if let Some(shift) = shift.filter(|s| *s != 0) {
        for time in &mut points.times {
            *time = (i64::from(*time) + shift).clamp(0, u32::MAX.into()) as u32;
        }
    }
    Ok(Some(points))
}

/// Whole milliseconds from index seconds, if representable.
fn to_ms(seconds: f64) -> Option<u32> {
    let ms = (seconds * 1000.0).round();
    (ms.is_finite() && (0.0..=f64::from(u32::MAX)).contains(&ms)).then_some(ms as u32)
}

/// A byte offset from an index number, if it is a whole, representable one.
fn to_offset(position: f64) -> Option<u64> {
    (position.is_finite() && position >= 0.0 && position < 2f64.powi(53) && position.fract() == 0.0)
        .then_some(position as u64)
}

/// Timestamp of the tag at `offset` if it is one a play may start at: a video key frame, or
/// for audio-only files an audio tag.
async fn seekable_tag_timestamp<S: ByteSource>(
    source: &S,
    offset: u64,
    audio_only: bool,
) -> Result<Option<u32>, MediaError> {
    let bytes = source.read(offset, TAG_HEADER_LEN + 1).await?;
    let Some(header) = TagHeader::parse(&bytes) else {
        return Ok(None);
    };
    let body = &bytes[TAG_HEADER_LEN as usize..];
    let right_kind = match header.kind {
        VIDEO => is_video_keyframe(body),
        AUDIO => audio_only,
        _ => false,
    };
    Ok((right_kind && !header.filtered && header.size > 0).then_some(header.timestamp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_takes_last_point_at_or_before() {
        let mut p = SeekPoints::default();
        for (t, o) in [(0, 100), (1000, 200), (2000, 300), (2000, 350), (3000, 400)] {
            p.push(t, o);
        }
        p.push(2500, 500); // goes back in time: dropped
        p.push(3000, 400); // not after the last point in the file: dropped
        assert_eq!(p.len(), 5);
        assert_eq!(p.find(0), 0);
        assert_eq!(p.find(999), 0);
        assert_eq!(p.find(1000), 1);
        assert_eq!(p.find(2999), 3);
        assert_eq!(p.find(u32::MAX), 4);
        assert_eq!(p.get(4), Some((400, 3000)));
    }

    #[test]
    fn index_numbers_are_checked() {
        assert_eq!(to_ms(1.0009999999), Some(1001));
        assert_eq!(to_ms(-1.0), None);
        assert_eq!(to_ms(f64::NAN), None);
        assert_eq!(to_ms(1e10), None);
        assert_eq!(to_offset(12.5), None);
        assert_eq!(to_offset(f64::INFINITY), None);
        assert_eq!(to_offset(728.0), Some(728));
    }
}
