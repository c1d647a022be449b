//! FLV reader: tags are sent verbatim; seek points come from `onMetaData.keyframes`
//! (`times`/`filepositions`), or from one scan of the tag headers when the file has none.
//!
//! Open reads the file header, walks the head of the file (first `onMetaData`, codec sequence
//! headers), then takes the keyframes index if it checks out against the file, or else scans
//! every tag header once. The table keeps seek points only; tags are read on demand.

mod codec;
mod head;
mod meta;
mod scan;
mod seek;
mod tag;
mod walk;

use self::seek::SeekPoints;
use self::tag::{AUDIO, SCRIPT, TAG_HEADER_LEN, TagHeader, VIDEO};
use crate::{ByteSource, Format, MediaError, MediaInfo, Prefix, Tag, TagKind};

/// Body bytes fetched together with a tag header in `next_tag`: most audio tags and many
/// inter frames fit, so one read serves the whole tag; bigger bodies take a second read.
const SPECULATIVE_BODY: u64 = 4096;

/// Consecutive unusable tags (unknown type, encrypted, empty) `next_tag` steps over before
/// calling the rest of the file garbage, so one call cannot spin through a huge junk region.
const MAX_SKIPPED_TAGS: usize = 4096;

/// Seek points and layout of one FLV object.
#[derive(Debug)]
pub struct FlvTable {
    points: SeekPoints,
    /// Offset and timestamp of the first tag a play from the start yields.
    start: (u64, u32),
    /// Tags served from `MediaInfo` instead: (tag offset, next tag offset), in file order.
    skips: Vec<(u64, u64)>,
}

impl FlvTable {
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
            if let Some(&(_, next)) = self.skips.iter().find(|(at, _)| at == offset) {
                *offset = next;
                continue;
            }
            if offset.saturating_add(TAG_HEADER_LEN) > size {
                return Ok(None);
            }
            let head = source.read(*offset, TAG_HEADER_LEN + SPECULATIVE_BODY).await?;
            let Some(header) = TagHeader::parse(&head) else {
                return Ok(None);
            };
            let body_start = *offset + TAG_HEADER_LEN;
            // A tag cut by the end of the file ends the stream: a truncated upload plays up to
            // the cut. The back-pointer after the body is never trusted nor required.
            if header.body_end(*offset) > size {
                return Ok(None);
            }
            let next = header.next_offset(*offset);
            if !header.is_known() || header.size == 0 {
                *offset = next;
                continue;
            }
            let len = header.size as usize;
            let data = if head.len() >= TAG_HEADER_LEN as usize + len {
                head.slice(TAG_HEADER_LEN as usize..TAG_HEADER_LEN as usize + len)
            } else {
                source.read(body_start, len as u64).await?
            };
            if data.len() != len {
                return Ok(None);
            }
            *offset = next;
            return Ok(Some(Tag {
                kind: tag_kind(header.kind),
                timestamp: header.timestamp,
                keyframe: codec::is_keyframe(header.kind, &data),
                prefix: Prefix::EMPTY,
                data,
            }));
        }
        Err(MediaError::malformed(Format::Flv, "too many consecutive unusable tags"))
    }
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
    Ok((info, FlvTable { points, start, skips: head.skips }))
}

struct Tracks {
    audio: bool,
    video: bool,
    audio_codec: Option<u8>,
    video_codec: Option<u8>,
}
