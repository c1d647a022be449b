//! FLV reader: tags are sent verbatim; seek points come from `onMetaData.keyframes`
//! (`times`/`filepositions`), or from one scan of the tag headers when the file has none.
//!
//! Open reads the file header, walks the head of the file (first `onMetaData`, codec sequence
//! headers), then takes the keyframes index if it checks out against the file, or else scans
//! every tag header once. The table keeps seek points only; tags are read on demand.

mod codec;
mod frames;
mod head;
mod meta;
mod scan;
mod seek;
mod tag;
mod walk;

use bytes::Bytes;

use self::seek::SeekPoints;
use self::tag::{AUDIO, SCRIPT, TAG_HEADER_LEN, TagHeader, VIDEO};
use crate::{ByteSource, Format, MediaError, MediaInfo, Prefix, Tag, TagKind};

/// Body bytes fetched together with a tag header in `next_tag`: most audio tags and many
/// inter frames fit, so one read serves the whole tag; bigger bodies take a second read.
pub(crate) const SPECULATIVE_BODY: u64 = 4096;

/// Consecutive unusable tags (unknown type, encrypted, empty) `next_tag` steps over before
/// calling the rest of the file garbage, so one call cannot spin through a huge junk region.
const MAX_SKIPPED_TAGS: usize = 4096;

/// Appends one FLV tag (header, `body`, back-pointer) to `out` (Video File Format
/// Specification v10.1, E.4.1). For tests, benchmarks and tools that make FLV files.
pub fn write_tag(out: &mut Vec<u8>, kind: u8, timestamp: u32, body: &[u8]) {
    let size = (body.len() as u32).to_be_bytes();
    let ts = timestamp.to_be_bytes();
    out.extend_from_slice(&[kind, size[1], size[2], size[3], ts[1], ts[2], ts[3], ts[0], 0, 0, 0]);
    out.extend_from_slice(body);
    out.extend_from_slice(&(body.len() as u32 + TAG_HEADER_LEN as u32).to_be_bytes());
}

/// Seek points and layout of one FLV object.
#[derive(Debug)]
pub struct FlvTable {
    points: SeekPoints,
    /// Offset and timestamp of the first tag a play from the start yields.
    start: (u64, u32),
    /// Tags served from `MediaInfo` instead: (tag offset, next tag offset), in file order.
    skips: Vec<(u64, u64)>,
    /// Offset of the first tag.
    first_tag: u64,
}

impl FlvTable {
    /// Every audio and video frame (codec configuration tags left out), in file order.
    pub async fn frames<S: ByteSource>(&self, source: &S) -> Result<Vec<crate::Frame>, MediaError> {
        frames::frames(source, self.first_tag).await
    }

    /// Byte offset of the tag to start from for `ms` (the key frame at or before it), and that
    /// tag's timestamp.
    pub fn seek(&self, ms: u32) -> (u64, u32) {
        let index = self.points.find(ms);
        match self.points.get(index) {
            // The first key frame stands for the start of the file: whatever precedes it
            // (audio before the first picture, cue points) belongs to a play from the top.
            Some(point) if index > 0 || point.0 < self.start.0 => point,
            _ => self.start,
        }
    }

    /// Reads the tag at `*offset` and advances `*offset` past it. Skips what the server sends
    /// from `MediaInfo` instead (the first `onMetaData` script tag, the codec sequence headers
    /// at the head of the file) and tags of unknown types; later script tags (cue points) and
    /// later sequence headers (a codec change mid-file) are forwarded.
    pub async fn next_tag<S: ByteSource>(&self, offset: &mut u64, source: &S) -> Result<Option<Tag>, MediaError> {
        let size = source.size();
        for _ in 0..MAX_SKIPPED_TAGS {
            let Some(at) = self.tag_at(*offset, size) else { return Ok(None) };
            *offset = at;
            let head = source.read(at, TAG_HEADER_LEN + SPECULATIVE_BODY).await?;
            match look(at, size, &head) {
                Look::End => return Ok(None),
                Look::Skip(next) => *offset = next,
                Look::Tag(header) => {
                    let data = match body_in(&head, &header) {
                        Some(data) => data,
                        None => source.read(at + TAG_HEADER_LEN, header.size.into()).await?,
                    };
                    let tag = make_tag(&header, data);
                    if tag.is_some() {
                        *offset = header.next_offset(at);
                    }
                    return Ok(tag);
                }
            }
        }
        Err(MediaError::malformed(Format::Flv, "too many consecutive unusable tags"))
    }

    /// [`FlvTable::next_tag`] from bytes at hand only ([`ByteSource::read_now`]): `None`, with
    /// `*offset` untouched, when the header or the body of the next tag is not at hand.
    pub fn next_tag_now<S: ByteSource>(&self, offset: &mut u64, source: &S) -> Option<Result<Option<Tag>, MediaError>> {
        let size = source.size();
        // Work on a copy: the caller's offset moves only once the answer is known.
        let mut at = *offset;
        for _ in 0..MAX_SKIPPED_TAGS {
            let Some(start) = self.tag_at(at, size) else {
                *offset = at;
                return Some(Ok(None));
            };
            at = start;
            let head = match source.read_now(at, TAG_HEADER_LEN + SPECULATIVE_BODY)? {
                Ok(head) => head,
                Err(error) => return Some(Err(error.into())),
            };
            match look(at, size, &head) {
                Look::End => {
                    *offset = at;
                    return Some(Ok(None));
                }
                Look::Skip(next) => at = next,
                Look::Tag(header) => {
                    let data = match body_in(&head, &header) {
                        Some(data) => data,
                        None => match source.read_now(at + TAG_HEADER_LEN, header.size.into())? {
                            Ok(data) => data,
                            Err(error) => return Some(Err(error.into())),
                        },
                    };
                    let tag = make_tag(&header, data);
                    *offset = if tag.is_some() { header.next_offset(at) } else { at };
                    return Some(Ok(tag));
                }
            }
        }
        Some(Err(MediaError::malformed(Format::Flv, "too many consecutive unusable tags")))
    }

    /// Where the next tag to read starts, from `offset`: past the tags served from
    /// `MediaInfo` instead; `None` when no tag header fits before the end of the object.
    fn tag_at(&self, offset: u64, size: u64) -> Option<u64> {
        let mut at = offset;
        // Skips are in file order, each ending where the next may start: one pass suffices.
        for &(skip, next) in &self.skips {
            if skip == at {
                at = next;
            }
        }
        (at.saturating_add(TAG_HEADER_LEN) <= size).then_some(at)
    }
}

/// What the bytes at a tag's offset say.
enum Look {
    /// No tag here: a header cut short, or a tag cut by the end of the object (a truncated
    /// upload plays up to the cut). The back-pointer after a body is never trusted nor required.
    End,
    /// A tag nobody can use (unknown type, encrypted, empty): the next one starts here.
    Skip(u64),
    Tag(TagHeader),
}

/// Reads the tag header at the front of `head` (the bytes from `offset`) of an object of `size` bytes.
fn look(offset: u64, size: u64, head: &[u8]) -> Look {
    let Some(header) = TagHeader::parse(head) else { return Look::End };
    if header.body_end(offset) > size {
        return Look::End;
    }
    if !header.is_known() || header.size == 0 {
        return Look::Skip(header.next_offset(offset));
    }
    Look::Tag(header)
}

/// The tag's body, when the speculative read of its header brought all of it.
fn body_in(head: &Bytes, header: &TagHeader) -> Option<Bytes> {
    let start = TAG_HEADER_LEN as usize;
    let end = start + header.size as usize;
    (head.len() >= end).then(|| head.slice(start..end))
}

/// The tag from its header and body; `None` (the end of the stream) when the body came back
/// short.
fn make_tag(header: &TagHeader, data: Bytes) -> Option<Tag> {
    if data.len() != header.size as usize {
        return None;
    }
    Some(Tag {
        kind: tag_kind(header.kind),
        timestamp: header.timestamp,
        keyframe: codec::is_keyframe(header.kind, &data),
        prefix: Prefix::EMPTY,
        data,
    })
}

fn tag_kind(kind: u8) -> TagKind {
    match kind {
        AUDIO => TagKind::Audio,
        VIDEO => TagKind::Video,
        SCRIPT => TagKind::Script,
        _ => unreachable!("next_tag only builds tags of known types"),
    }
}

/// Reads the FLV header, the first script tag and the codec sequence headers, and the seek
/// points (from the keyframes index, or a scan).
pub async fn open<S: ByteSource>(source: &S) -> Result<(MediaInfo, FlvTable), MediaError> {
    let size = source.size();
    let header = source.read(0, tag::FILE_HEADER_LEN as u64).await?;
    let first_tag = tag::first_tag_offset(&header)
        .ok_or_else(|| MediaError::malformed(Format::Flv, "no FLV signature or header cut short"))?;
    if first_tag > size {
        return Err(MediaError::malformed(Format::Flv, "data offset points past the end of the file"));
    }

    let head = head::read(source, first_tag).await?;
    let file_meta = head.metadata.as_deref().and_then(meta::parse);
    let index = match file_meta.as_ref().and_then(|m| m.keyframes.as_ref()) {
        Some((times, positions)) => seek::from_index(source, times, positions, first_tag, !head.saw_video).await?,
        None => None,
    };

    let (points, tracks, last_timestamp) = match index {
        // A checked index spares the scan of everything before its last entry. Track
        // presence then comes from the head of the file (interleaved files show both tracks
        // within their first tags) and from the tail.
        Some(mut points) => {
            let from = points.last_offset().unwrap_or(first_tag);
            let tail = scan::scan(source, from).await?;
            let tracks = Tracks {
                audio: head.saw_audio || tail.has_audio,
                video: head.saw_video || tail.has_video,
                audio_codec: head.audio_codec.or(tail.audio_codec),
                video_codec: head.video_codec.or(tail.video_codec),
            };
            let last_timestamp = tail.last_timestamp;
            points.extend(if tracks.video { tail.video_points } else { tail.audio_points });
            (points, tracks, last_timestamp)
        }
        None => {
            let scan = scan::scan(source, first_tag).await?;
            let tracks = Tracks {
                audio: scan.has_audio,
                video: scan.has_video,
                audio_codec: scan.audio_codec,
                video_codec: scan.video_codec,
            };
            let last_timestamp = scan.last_timestamp;
            (scan.into_points(), tracks, last_timestamp)
        }
    };
    if !tracks.audio && !tracks.video {
        return Err(MediaError::malformed(Format::Flv, "no audio or video tags"));
    }

    // The duration players are told is the last tag's timestamp. Encoders write the end of
    // the last frame instead (a frame later), and rtmpdump fails a download whose last
    // timestamp is under 99.9 % of the duration: a short clip would never "complete".
    // Without tags with a timestamp, the file's own duration stands.
    let duration_ms = match (last_timestamp.filter(|&t| t > 0), file_meta.as_ref().and_then(|m| m.duration_ms)) {
        (Some(last), _) => u64::from(last),
        (None, Some(from_file)) => from_file,
        (None, None) => 0,
    };

    // The file's own onMetaData goes out verbatim but for that duration; without one (or
    // with one nobody can decode) players still need duration and codec ids.
    let metadata = match (head.metadata, &file_meta) {
        (Some(body), Some(file)) if file.duration_ms == Some(duration_ms) => body,
        (Some(body), Some(_)) => meta::with_duration(&body, duration_ms).unwrap_or(body),
        _ => meta::Synthesized {
            duration_ms,
            video_codec: tracks.video.then_some(tracks.video_codec).flatten(),
            audio_codec: tracks.audio.then_some(tracks.audio_codec).flatten(),
        }
        .encode(),
    };

    let start = head.first_yield.unwrap_or((head.end, points.get(0).map_or(0, |p| p.1)));
    let info = MediaInfo {
        format: Format::Flv,
        duration_ms,
        has_audio: tracks.audio,
        has_video: tracks.video,
        metadata,
        sequence_headers: head.sequence_headers,
    };
    Ok((info, FlvTable { points, start, skips: head.skips, first_tag }))
}

struct Tracks {
    audio: bool,
    video: bool,
    audio_codec: Option<u8>,
    video_codec: Option<u8>,
}
