//! One pass over tag headers from some offset to the end of the file: seek points, which
//! tracks exist, the last timestamp. Bodies are skipped, never read. Runs over the whole file
//! when there is no usable keyframes index, and over the tail past the last index entry
//! when there is one (FFmpeg's index leaves out the last key frames).

use super::codec::{audio_codec_id, is_sequence_header, is_video_keyframe, video_codec_id};
use super::seek::SeekPoints;
use super::tag::{AUDIO, VIDEO};
use super::walk::Walker;
use crate::{ByteSource, MediaError};

#[derive(Debug, Default)]
pub(super) struct Scan {
    /// Video key frames (codec configuration tags excluded).
    pub video_points: SeekPoints,
    /// Every audio frame, as long as no video tag was seen: dropped at the first video tag
    /// so an A/V file never holds one point per audio frame.
    pub audio_points: SeekPoints,
    pub has_audio: bool,
    pub has_video: bool,
    /// Largest timestamp of any audio/video/script tag.
    pub last_timestamp: Option<u32>,
    pub audio_codec: Option<u8>,
    pub video_codec: Option<u8>,
}

impl Scan {
    /// The seek points of a file these are all the tags of.
    pub fn into_points(self) -> SeekPoints {
        if self.has_video { self.video_points } else { self.audio_points }
    }
}

pub(super) async fn scan<S: ByteSource>(source: &S, from: u64) -> Result<Scan, MediaError> {
    let mut scan = Scan::default();
    let mut walker = Walker::new(source, from);
    while let Some(found) = walker.next().await? {
        let header = found.header;
        if !header.is_known() || header.size == 0 {
            continue;
        }
        scan.last_timestamp = Some(scan.last_timestamp.map_or(header.timestamp, |t| t.max(header.timestamp)));
        let config = is_sequence_header(header.kind, found.peek());
        match header.kind {
            VIDEO => {
                if !scan.has_video {
                    scan.has_video = true;
                    scan.audio_points = SeekPoints::default();
                }
                scan.video_codec = scan.video_codec.or(video_codec_id(found.peek()));
                if is_video_keyframe(found.peek()) && !config {
                    scan.video_points.push(header.timestamp, found.offset);
                }
            }
            AUDIO => {
                scan.has_audio = true;
                scan.audio_codec = scan.audio_codec.or(audio_codec_id(found.peek()));
                if !scan.has_video && !config {
                    scan.audio_points.push(header.timestamp, found.offset);
                }
            }
            _ => {}
        }
    }
    Ok(scan)
}
