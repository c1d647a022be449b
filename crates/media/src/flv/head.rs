//! The head of an FLV file: the tags the server sends from `MediaInfo` instead of from the
//! file (the first `onMetaData`, the codec sequence headers before each track's first frame),
//! and the first tag a play from the start yields.

use bytes::Bytes;

use super::codec::{audio_codec_id, is_keyframe, is_sequence_header, video_codec_id};
use super::meta::{METADATA_NAME_LEN, is_metadata};
use super::tag::{AUDIO, SCRIPT, VIDEO};
use super::walk::{WINDOW, Walker};
use crate::{ByteSource, MediaError, Prefix, Tag, TagKind};

/// Tags looked at before giving up on finding both tracks' first frames.
const MAX_TAGS: usize = 128;
/// Bytes past the first tag looked at (one walk window): the head must not cost a scan.
const MAX_BYTES: u64 = WINDOW;
/// Sequence headers kept (each track rarely has more than one; more is noise or an attack
/// on memory, since every viewer's index holds them).
const MAX_SEQUENCE_HEADERS: usize = 8;
/// Largest sequence header kept; an avcC with every parameter set fits many times over.
const MAX_SEQUENCE_HEADER_SIZE: u32 = 256 * 1024;

#[derive(Debug, Default)]
pub(super) struct Head {
    /// Body of the first `onMetaData` script tag.
    pub metadata: Option<Bytes>,
    pub sequence_headers: Vec<Tag>,
    /// Tags `next_tag` jumps over: (tag offset, next tag offset), in file order.
    pub skips: Vec<(u64, u64)>,
    /// Offset and timestamp of the first tag a play from the start yields.
    pub first_yield: Option<(u64, u32)>,
    /// Where the walk stopped.
    pub end: u64,
    pub saw_audio: bool,
    pub saw_video: bool,
    pub audio_codec: Option<u8>,
    pub video_codec: Option<u8>,
}

/// Walks tags from `first_tag` until both tracks have had a frame (or the bounds are hit).
pub(super) async fn read<S: ByteSource>(source: &S, first_tag: u64) -> Result<Head, MediaError> {
    let mut head = Head::default();
    let mut walker = Walker::new(source, first_tag);
    let (mut audio_frame, mut video_frame) = (false, false);
    for _ in 0..MAX_TAGS {
        if (audio_frame && video_frame) || walker.position() > first_tag.saturating_add(MAX_BYTES) {
            break;
        }
        let Some(found) = walker.next().await? else {
            break;
        };
        let header = found.header;
        if !header.is_known() || header.size == 0 {
            continue; // next_tag skips these on its own
        }
        let skip = (found.offset, header.next_offset(found.offset));
        match header.kind {
            // Only the name is read from other script tags: a cue point may be large.
            SCRIPT if head.metadata.is_none() && is_metadata(&walker.body_prefix(&found, METADATA_NAME_LEN).await?) => {
                head.metadata = Some(walker.body(&found).await?);
                head.skips.push(skip);
                continue;
            }
            AUDIO | VIDEO => {
                let (frame_seen, kind) = if header.kind == AUDIO {
                    head.saw_audio = true;
                    head.audio_codec = head.audio_codec.or(audio_codec_id(found.peek()));
                    (&mut audio_frame, TagKind::Audio)
                } else {
                    head.saw_video = true;
                    head.video_codec = head.video_codec.or(video_codec_id(found.peek()));
                    (&mut video_frame, TagKind::Video)
                };
                let keep = !*frame_seen
                    && is_sequence_header(header.kind, found.peek())
                    && header.size <= MAX_SEQUENCE_HEADER_SIZE
                    && head.sequence_headers.len() < MAX_SEQUENCE_HEADERS;
                if keep {
                    let data = walker.body(&found).await?;
                    head.sequence_headers.push(Tag {
                        kind,
                        timestamp: 0,
                        keyframe: is_keyframe(header.kind, &data),
                        prefix: Prefix::EMPTY,
                        data,
                    });
                    head.skips.push(skip);
                    continue;
                }
                *frame_seen = true;
            }
            _ => {}
        }
        head.first_yield.get_or_insert((found.offset, header.timestamp));
    }
    head.end = walker.position();
    Ok(head)
}
