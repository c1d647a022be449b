//! HLS packaging of the media streamfront serves over RTMP, sans-IO: from an sf-media index
//! and its frame table, the segment boundaries, the media and master playlists, and MPEG-TS
//! segments built frame by frame as the caller reads the frames' bytes. No transcoding:
//! H.264 becomes Annex B, AAC gets ADTS headers, MP3 goes as is.
//!
//! Everything but the segment bytes comes from the index: playlists, each segment's exact
//! size, and each PID's continuity counter at each segment's start (so independently built
//! segments continue one another, as RFC 8216 §3 asks).

#![forbid(unsafe_code)]

pub mod codec;
pub mod playlist;
pub mod segment;
pub mod ts;

use sf_media::{ByteSource, Frame, MediaIndex, MediaInfo, TagKind};

use crate::codec::Tracks;
use crate::segment::Span;
use crate::ts::{Counters, SegmentWriter};

/// Segment length when none is configured (`--hls-segment-seconds`).
pub const DEFAULT_SEGMENT_SECONDS: u32 = 6;

/// Why media cannot be packaged, or a segment built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HlsError {
    /// A codec HLS in TS cannot carry without transcoding: HTTP 415.
    #[error("cannot package as HLS: {0}")]
    Unsupported(String),
    #[error("media cannot be packaged: {0}")]
    Malformed(String),
    #[error("no segment {0}")]
    NoSuchSegment(usize),
    /// The frame bytes did not come as the index said (the object changed, or the origin failed).
    #[error("reading a frame: {0}")]
    Source(String),
    #[error(transparent)]
    Media(#[from] sf_media::MediaError),
    #[error("internal: {0}")]
    Internal(String),
}

/// One segment as the playlist lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    pub span: Span,
    /// Exact size of the segment in bytes (the `Content-Length`).
    pub bytes: u64,
    /// Continuity counters at the segment's first packets.
    pub counters: Counters,
}

/// One media object laid out as HLS: built once per object version (it holds the frame
/// table), then shared by every request for its playlists and segments.
#[derive(Debug)]
pub struct Package {
    tracks: Tracks,
    frames: Vec<Frame>,
    segments: Vec<SegmentInfo>,
    resolution: Option<(u32, u32)>,
}

impl Package {
    /// Lays out `info`'s media, whose frames (as [`MediaIndex::frames`] gives them) are
    /// `frames`, in segments of about `segment_ms`.
    pub fn new(info: &MediaInfo, frames: Vec<Frame>, segment_ms: u32) -> Result<Package, HlsError> {
        let first_of = |kind| frames.iter().find(|f: &&Frame| f.kind == kind).map(|f| f.codec_byte);
        let tracks = Tracks::new(info, first_of(TagKind::Video), first_of(TagKind::Audio))?;
        if frames.is_empty() {
            return Err(HlsError::Malformed("no audio or video frames".into()));
        }
        if let Some(f) = frames
            .iter()
            .find(|f| Some(f.codec_byte & codec_mask(f.kind)) != first_of(f.kind).map(|b| b & codec_mask(f.kind)))
        {
            return Err(HlsError::Unsupported(format!("a codec change at {} ms", f.dts_ms)));
        }
        let spans = segment::split(&frames, u64::from(segment_ms.max(1)));
        let mut segments = Vec::with_capacity(spans.len());
        let mut counters = Counters::default();
        for span in spans {
            let (mut bytes, mut video, mut audio) = (ts::PSI_LEN, 0, 0);
            for frame in &frames[span.first..span.end] {
                let plan = tracks.plan(frame)?;
                bytes += (plan.packets * ts::packet::PACKET_LEN) as u64;
                if plan.pid == ts::packet::VIDEO_PID { video += plan.packets } else { audio += plan.packets }
            }
            segments.push(SegmentInfo { span, bytes, counters });
            counters = counters.after(video, audio);
        }
        Ok(Package { tracks, frames, segments, resolution: resolution(&info.metadata) })
    }

    /// Opens the index's frame table and lays it out (see [`Package::new`]). For FLV this
    /// walks the tag headers once.
    pub async fn open<S: ByteSource>(index: &MediaIndex, source: &S, segment_ms: u32) -> Result<Package, HlsError> {
        let frames = index.frames(source).await?;
        Package::new(index.info(), frames, segment_ms)
    }

    pub fn tracks(&self) -> &Tracks {
        &self.tracks
    }

    pub fn segments(&self) -> &[SegmentInfo] {
        &self.segments
    }

    /// The media playlist (`index.m3u8`), whose segment URIs carry `query` (none when empty):
    /// a version pin such as `v=<tag>`, so a player never mixes two versions' segments.
    pub fn media_playlist(&self, query: &str) -> String {
        let spans: Vec<Span> = self.segments.iter().map(|s| s.span).collect();
        playlist::media(&spans, query)
    }

    /// The master playlist, pointing at `media_playlist` (a URI relative to it, with its query).
    pub fn master_playlist(&self, media_playlist: &str) -> String {
        playlist::master(&self.variant(), media_playlist)
    }

    pub fn variant(&self) -> playlist::Variant {
        let bandwidth = self.segments.iter().map(|s| s.bytes * 8 * 1000 / s.span.duration_ms.max(1)).max().unwrap_or(0);
        playlist::Variant {
            bandwidth,
            resolution: self.tracks.video.as_ref().and(self.resolution),
            frame_rate: self.frame_rate(),
            codecs: self.tracks.codecs(),
        }
    }

    /// Video frames per second over the whole file.
    fn frame_rate(&self) -> Option<f64> {
        let mut video = self.frames.iter().filter(|f| f.kind == TagKind::Video);
        let first = video.next()?.dts_ms;
        let (count, last) = video.fold((0u64, first), |(n, _), f| (n + 1, f.dts_ms));
        (last > first).then(|| count as f64 * 1000.0 / f64::from(last - first))
    }

    /// A writer for segment `n`: its frames, its size, its first counters.
    pub fn segment(&self, n: usize) -> Result<(SegmentWriter<'_>, u64), HlsError> {
        let info = self.segments.get(n).ok_or(HlsError::NoSuchSegment(n))?;
        let frames = &self.frames[info.span.first..info.span.end];
        Ok((SegmentWriter::new(&self.tracks, frames, info.counters), info.bytes))
    }

    /// Segment `n` whole, reading its frames from `source` (for tools and tests; a server
    /// streams with [`Package::segment`] instead).
    pub async fn segment_bytes<S: ByteSource>(&self, n: usize, source: &S) -> Result<Vec<u8>, HlsError> {
        let (mut writer, len) = self.segment(n)?;
        let mut out = Vec::with_capacity(len as usize);
        writer.begin(&mut out);
        while let Some(frame) = writer.frames().first() {
            let data =
                source.read(frame.offset, frame.size.into()).await.map_err(|e| HlsError::Source(e.to_string()))?;
            writer.push_frame(&data, &mut out)?;
        }
        debug_assert_eq!(out.len() as u64, len);
        Ok(out)
    }
}

/// The bits of the first body byte that name the codec (FLV): the video codec id (with the
/// Enhanced RTMP flag), or the sound format.
fn codec_mask(kind: TagKind) -> u8 {
    if kind == TagKind::Video { 0x8f } else { 0xf0 }
}

/// Width and height from `onMetaData`.
fn resolution(metadata: &[u8]) -> Option<(u32, u32)> {
    let values = sf_amf::amf0::decode_all(metadata).ok()?;
    let props = values.get(1)?;
    let get = |key| props.get(key).and_then(|v| v.as_f64()).filter(|v| *v >= 1.0 && *v < 65536.0).map(|v| v as u32);
    Some((get("width")?, get("height")?))
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use sf_media::{Format, MemorySource, Prefix, Tag};

    use super::*;

    const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x0c, 0xac];
    const PPS: &[u8] = &[0x68, 0xee, 0x3c];

    fn info() -> MediaInfo {
        let mut avcc = vec![1, 0x64, 0x00, 0x0c, 0xff, 0xe1, 0, SPS.len() as u8];
        avcc.extend_from_slice(SPS);
        avcc.extend_from_slice(&[1, 0, PPS.len() as u8]);
        avcc.extend_from_slice(PPS);
        let tag = |kind, prefix: &[u8], data: Vec<u8>| Tag {
            kind,
            timestamp: 0,
            keyframe: true,
            prefix: Prefix::new(prefix),
            data: data.into(),
        };
        MediaInfo {
            format: Format::Mp4,
            duration_ms: 0,
            has_audio: true,
            has_video: true,
            metadata: Bytes::new(),
            sequence_headers: vec![
                tag(TagKind::Video, &[0x17, 0, 0, 0, 0], avcc),
                tag(TagKind::Audio, &[0xaf, 0], vec![0x12, 0x08]),
            ],
        }
    }

    /// Frames of many sizes, some video frames holding their own delimiters, which the muxer
    /// drops: those come out shorter than planned, some by enough to need one packet fewer
    /// (sizes 141 to 150 put the planned PES 0 to 9 bytes into a second packet).
    fn media() -> (Vec<Frame>, MemorySource) {
        let mut bytes = Vec::new();
        let mut frames = Vec::new();
        for n in 0..200u32 {
            let video = n % 3 != 2;
            let size = if n % 4 == 0 { 141 + (n / 4) % 10 } else { 1 + (n * 37) % 700 };
            let mut data = Vec::new();
            if video {
                if n % 4 == 0 {
                    data.extend_from_slice(&[0, 0, 0, 2, 0x09, 0x10]);
                }
                data.extend_from_slice(&size.to_be_bytes());
                data.push(if n % 30 == 0 { 0x65 } else { 0x41 });
                data.resize(data.len() + size as usize - 1, n as u8);
            } else {
                data.resize(size as usize, n as u8);
            }
            frames.push(Frame {
                kind: if video { TagKind::Video } else { TagKind::Audio },
                codec_byte: if video { 0x17 } else { 0xaf },
                offset: bytes.len() as u64,
                size: data.len() as u32,
                dts_ms: n * 20,
                cts_ms: if video { 40 } else { 0 },
                keyframe: !video || n % 30 == 0,
            });
            bytes.extend_from_slice(&data);
        }
        (frames, MemorySource(bytes.into()))
    }

    #[test]
    fn segments_are_their_planned_size_and_continue_each_other() {
        let (frames, source) = media();
        let package = Package::new(&info(), frames, 1000).unwrap();
        assert!(package.segments().len() >= 3);
        let mut last: std::collections::HashMap<u16, u8> = Default::default();
        for (n, info) in package.segments().iter().enumerate() {
            let bytes = MemorySource::run(package.segment_bytes(n, &source)).unwrap();
            assert_eq!(bytes.len() as u64, info.bytes, "segment {n}");
            for packet in bytes.chunks(188) {
                assert_eq!(packet[0], 0x47);
                // Payload flag set and at least one byte of it (the adaptation field leaves room).
                let payload = packet[3] & 0x10 != 0 && (packet[3] & 0x20 == 0 || packet[4] < 183);
                assert!(payload, "every packet carries payload: the counters count those");
                let pid = u16::from_be_bytes([packet[1] & 0x1f, packet[2]]);
                let cc = packet[3] & 0x0f;
                if let Some(prev) = last.insert(pid, cc) {
                    assert_eq!(cc, (prev + 1) & 0x0f, "PID {pid:#x} in segment {n}");
                }
            }
        }
        assert_eq!(last.len(), 4, "PAT, PMT, video, audio");
        assert!(matches!(package.segment(package.segments().len()), Err(HlsError::NoSuchSegment(_))));
    }

    #[test]
    fn bad_frames_and_codecs_get_clear_errors() {
        let (mut frames, _) = media();
        let package = Package::new(&info(), frames.clone(), 1000).unwrap();
        let (mut writer, _) = package.segment(0).unwrap();
        let err = writer.push_frame(&[1, 2, 3], &mut Vec::new()).unwrap_err();
        assert!(matches!(err, HlsError::Source(_)), "{err}");
        // Speex audio (sound format 11) halfway: no codec changes mid-stream.
        assert_eq!(frames[101].kind, TagKind::Audio);
        frames[101].codec_byte = 0xb2;
        assert!(matches!(Package::new(&info(), frames.clone(), 1000), Err(HlsError::Unsupported(_))));
        // An AAC frame too large for ADTS.
        let (mut frames, _) = media();
        frames[2].size = 9000;
        assert!(matches!(Package::new(&info(), frames, 1000), Err(HlsError::Malformed(_))));
    }
}
