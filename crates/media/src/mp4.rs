//! MP4 family reader (ISO base media file format): moov at the start or the end, edit lists,
//! composition offsets, sync samples; H.264 (avc1/avc3) video and AAC/MP3 audio.

use crate::{ByteSource, MediaError, MediaInfo, Sample};

/// Reads the moov box (wherever it is) and builds the sample table.
pub async fn open<S: ByteSource>(source: &S) -> Result<(MediaInfo, Vec<Sample>), MediaError> {
    let _ = source;
    todo!("mp4 helper")
}
