//! FLV reader: tags are sent verbatim; seek points come from `onMetaData.keyframes`
//! (`times`/`filepositions`), or from one scan of the tag headers when the file has none.

use bytes::Bytes;

use crate::{ByteSource, MediaError, MediaInfo, Tag};

/// Seek points and layout of one FLV object.
#[derive(Debug)]
pub struct FlvTable {
    _private: (),
}

impl FlvTable {
    /// Byte offset of the tag to start from for `ms` (the key frame at or before it), and that
    /// tag's timestamp.
    pub fn seek(&self, ms: u32) -> (u64, u32) {
        let _ = ms;
        todo!("flv/mp3 helper")
    }

    /// Reads the tag at `*offset` and advances `*offset` past it. Skips what the server sends
    /// from `MediaInfo` instead (the first `onMetaData` script tag, the codec sequence headers
    /// at the head of the file) and tags of unknown types; later script tags (cue points) and
    /// later sequence headers (a codec change mid-file) are forwarded.
    pub async fn next_tag<S: ByteSource>(&self, offset: &mut u64, source: &S) -> Result<Option<Tag>, MediaError> {
        let _ = (offset, source);
        let _: Option<Bytes> = None;
        todo!("flv/mp3 helper")
    }
}

/// Reads the FLV header, the first script tag and the codec sequence headers, and the seek
/// points (from the keyframes index, or a scan).
pub async fn open<S: ByteSource>(source: &S) -> Result<(MediaInfo, FlvTable), MediaError> {
    let _ = source;
    todo!("flv/mp3 helper")
}
