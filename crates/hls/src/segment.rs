//! Where segments start: on video key frames (any frame for audio-only media), the one
//! nearest to a target duration after the segment's start, never giving an empty segment.
//! Computed from frame timestamps alone.

use sf_media::{Frame, TagKind};

/// One segment: frames `[first, end)` of the frame table, and its time span in ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: usize,
    pub end: usize,
    pub start_ms: u64,
    pub duration_ms: u64,
}

/// Cuts `frames` (in decode order) into segments of about `target_ms`. Times are what
/// players show: presentation times of video frames (their decode times for audio-only
/// media). The first segment starts where the video's presentation starts, each later one at
/// its key frame's presentation time, and the last one ends where the media ends (the last
/// frame of each track lasts as long as the one before it), so the durations add up to the
/// media's.
pub fn split(frames: &[Frame], target_ms: u64) -> Vec<Span> {
    let Some(first) = frames.first() else { return Vec::new() };
    let has_video = frames.iter().any(|f| f.kind == TagKind::Video);
    // Frames a segment may start at, with their times (rising: the table is in decode order).
    let starts: Vec<(usize, u64)> = frames
        .iter()
        .enumerate()
        .filter(|(_, f)| !has_video || (f.kind == TagKind::Video && f.keyframe))
        .map(|(i, f)| (i, presentation_ms(f)))
        .collect();
    let end = end_ms(frames);
    let start_ms = if has_video {
        frames.iter().filter(|f| f.kind == TagKind::Video).map(presentation_ms).min().unwrap_or(0)
    } else {
        u64::from(first.dts_ms)
    };
    let mut spans = Vec::new();
    let (mut at, mut at_ms) = (0, start_ms);
    loop {
        // Candidates strictly after the current start, in frame order and time.
        let later = &starts[starts.partition_point(|&(i, t)| i <= at || t <= at_ms)..];
        let ideal = at_ms + target_ms;
        let after = later.partition_point(|&(_, t)| t < ideal);
        // The end of the media competes too: a short tail joins the last segment.
        let before = after.checked_sub(1).and_then(|k| later.get(k)).copied();
        let next = later.get(after).copied().unwrap_or((frames.len(), end.max(at_ms)));
        let (next, next_ms) = match before {
            Some(b) if b.1.abs_diff(ideal) <= next.1.abs_diff(ideal) => b,
            _ => next,
        };
        spans.push(Span { first: at, end: next, start_ms: at_ms, duration_ms: next_ms - at_ms });
        if next == frames.len() {
            return spans;
        }
        (at, at_ms) = (next, next_ms);
    }
}

/// When a frame is shown, in ms: its decode time plus its composition offset.
pub fn presentation_ms(frame: &Frame) -> u64 {
    u64::from(frame.dts_ms) + u64::from(frame.cts_ms.max(0).unsigned_abs())
}

/// Where the media ends: the latest end of a track's last frame (in presentation order),
/// each last frame lasting as long as the frame before it in its track.
pub fn end_ms(frames: &[Frame]) -> u64 {
    [TagKind::Video, TagKind::Audio]
        .into_iter()
        .filter_map(|kind| {
            let mut track = frames.iter().rev().filter(|f| f.kind == kind).map(|f| u64::from(f.dts_ms));
            let last = track.next()?;
            let before = track.next().unwrap_or(last);
            let last_shown = frames.iter().filter(|f| f.kind == kind).map(presentation_ms).max()?;
            Some(last_shown + (last - before.min(last)))
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: TagKind, dts_ms: u32, keyframe: bool) -> Frame {
        Frame { kind, codec_byte: 0, offset: 0, size: 1, dts_ms, cts_ms: 0, keyframe }
    }

    /// 25 fps video with a key frame every `gop` frames, and audio every 23 ms.
    fn av(seconds: u32, gop: u32) -> Vec<Frame> {
        let mut frames: Vec<Frame> = (0..seconds * 25).map(|n| frame(TagKind::Video, n * 40, n % gop == 0)).collect();
        frames.extend((0..seconds * 1000 / 23).map(|n| frame(TagKind::Audio, n * 23, true)));
        frames.sort_by_key(|f| (f.dts_ms, f.kind == TagKind::Audio));
        frames
    }

    #[test]
    fn segments_start_on_the_key_frame_nearest_the_target() {
        let frames = av(20, 30); // key frames every 1.2 s
        let spans = split(&frames, 6000);
        let starts: Vec<u64> = spans.iter().map(|s| s.start_ms).collect();
        assert_eq!(starts, [0, 6000, 12000, 18000]);
        for span in &spans {
            let f = &frames[span.first];
            assert!(f.kind == TagKind::Video && f.keyframe, "{span:?}");
            assert!(span.end > span.first, "no empty segment");
        }
        // Contiguous, covering everything, and the durations add up to the end.
        assert!(spans.windows(2).all(|w| w[0].end == w[1].first));
        assert_eq!((spans[0].first, spans.last().unwrap().end), (0, frames.len()));
        assert_eq!(spans.iter().map(|s| s.duration_ms).sum::<u64>(), 20_000);

        // Key frames every 7 s, target 6: the nearest after the start each time.
        let spans = split(&av(30, 175), 6000);
        assert_eq!(spans.iter().map(|s| s.start_ms).collect::<Vec<_>>(), [0, 7000, 14000, 21000, 28000]);
        // Key frames every 4 s, target 6: 4 is nearer than 8 only when it is; ties go early.
        let spans = split(&av(16, 100), 6000);
        assert_eq!(spans.iter().map(|s| s.start_ms).collect::<Vec<_>>(), [0, 4000, 8000, 12000]);
    }

    #[test]
    fn audio_only_and_single_gop_media() {
        let audio: Vec<Frame> = (0..500).map(|n| frame(TagKind::Audio, n * 26, true)).collect();
        let spans = split(&audio, 6000);
        let (last, full) = spans.split_last().unwrap();
        assert!(full.iter().all(|s| s.duration_ms.abs_diff(6000) <= 13), "{spans:?}");
        assert!(last.duration_ms < 6000 && last.duration_ms > 0);
        assert_eq!(spans.iter().map(|s| s.duration_ms).sum::<u64>(), 500 * 26);
        // One key frame only: one segment.
        let spans = split(&av(10, 1000), 2000);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].duration_ms, 10_000);
        assert!(split(&[], 6000).is_empty());
    }
}
