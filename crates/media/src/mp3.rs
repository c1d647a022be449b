//! MP3 reader: ID3v2 skipped, CBR and VBR (Xing/Info/VBRI header frames are not audio and are
//! not sent), one tag per MPEG audio frame, exact seek from a scanned frame index.

use crate::{ByteSource, MediaError, MediaInfo, Sample};

/// Scans the frame headers and builds the frame table.
pub async fn open<S: ByteSource>(source: &S) -> Result<(MediaInfo, Vec<Sample>), MediaError> {
    let _ = source;
    todo!("flv/mp3 helper")
}
