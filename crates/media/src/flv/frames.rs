//! Every audio and video frame of an FLV file, from one walk of its tag headers (and the
//! first five body bytes of each tag, for the codec and the composition time): what a
//! packager that cuts the file into segments needs, without reading any frame's data.

use super::codec::is_sequence_header;
use super::tag::{AUDIO, VIDEO};
use super::walk::Walker;
use crate::{ByteSource, Frame, MediaError, TagKind};

/// FLV video codec id of AVC, whose tag bodies carry a packet type and a composition time.
const CODEC_AVC: u8 = 7;
/// FLV sound format of AAC, whose tag bodies carry a packet type.
const SOUND_FORMAT_AAC: u8 = 10;
/// AVC packet type of a frame (0 is the sequence header, 2 the end of sequence).
const AVC_NALU: u8 = 1;

pub(crate) async fn frames<S: ByteSource>(source: &S, first_tag: u64) -> Result<Vec<Frame>, MediaError> {
    let mut frames = Vec::new();
    let mut walker = Walker::new(source, first_tag);
    while let Some(found) = walker.next().await? {
        let header = found.header;
        let peek = found.peek();
        if !header.is_known() || header.size == 0 || is_sequence_header(header.kind, peek) {
            continue;
        }
        let body = found.offset + super::tag::TAG_HEADER_LEN;
        let codec_byte = peek[0];
        // Where the codec's own bytes start inside the body, and the composition time.
        let (kind, skip, cts_ms) = match header.kind {
            VIDEO if codec_byte & 0x80 == 0 && codec_byte & 0x0f == CODEC_AVC => {
                if peek.len() < 5 || peek[1] != AVC_NALU {
                    continue; // end of sequence, or a tag too short to hold a frame
                }
                // Signed 24-bit (Video File Format Specification v10.1, E.4.3.1).
                let cts = i32::from_be_bytes([peek[2], peek[3], peek[4], 0]) >> 8;
                (TagKind::Video, 5, cts)
            }
            VIDEO => (TagKind::Video, 1, 0),
            AUDIO if codec_byte >> 4 == SOUND_FORMAT_AAC => (TagKind::Audio, 2, 0),
            AUDIO => (TagKind::Audio, 1, 0),
            _ => continue,
        };
        let Some(size) = header.size.checked_sub(skip) else { continue };
        frames.push(Frame {
            kind,
            codec_byte,
            offset: body + u64::from(skip),
            size,
            dts_ms: header.timestamp,
            cts_ms,
            keyframe: kind == TagKind::Audio || (codec_byte >> 4) & 0x07 == 1,
        });
    }
    Ok(frames)
}
