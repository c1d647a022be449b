//! Media readers: FLV, the MP4 family (MP4, F4V, M4V, M4A, MOV, 3GP) with H.264 and AAC, and
//! MP3. Each turns a media object into what an RTMP server sends: `onMetaData`, codec sequence
//! headers, and audio/video tags with millisecond timestamps, plus a seek index.
//!
//! Readers never open files. They ask a [`ByteSource`] for byte ranges, so the same code reads
//! a local file, a cached S3 object or a test vector in memory. The index a reader builds
//! ([`MediaIndex`]) is immutable and shared by every viewer of that object version; each viewer
//! has its own [`Cursor`].
//!
//! Timestamps: every track is shifted by **one** offset (so the earliest decode timestamp of
//! the file is 0 when the file would start below 0), keeping audio/video sync exactly as in
//! the file.

#![forbid(unsafe_code)]

use std::future::Future;

use bytes::Bytes;

pub mod flv;
pub mod mp3;
pub mod mp4;
mod source;

pub use source::MemorySource;

/// Which reader handles an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Flv,
    /// ISO base media: mp4, f4v, m4v, m4a, mov, 3gp.
    Mp4,
    Mp3,
}

/// RTMP message type of a tag (same numbers as FLV tag types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TagKind {
    Audio = 8,
    Video = 9,
    /// AMF0 data message (onMetaData, onCuePoint, …).
    Script = 18,
}

/// Up to five bytes that go in front of the sample data to form an FLV/RTMP tag body
/// (video: frame type/codec byte, AVC packet type, composition time; AAC: `AF 01`;
/// MP3: the sound-format byte). Empty for FLV, whose tag bodies are sent verbatim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prefix {
    bytes: [u8; 5],
    len: u8,
}

impl Prefix {
    pub const EMPTY: Prefix = Prefix { bytes: [0; 5], len: 0 };

    /// Panics if `bytes` is longer than 5 (a programming error, never input-driven).
    pub fn new(bytes: &[u8]) -> Prefix {
        let mut p = Prefix::EMPTY;
        p.bytes[..bytes.len()].copy_from_slice(bytes);
        p.len = bytes.len() as u8;
        p
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

/// The FLV audio tag byte for MP3 (from an .mp3 file or an MP4 track): sound format 2,
/// the rate class, 16-bit, stereo flag. FLV names only 5.5/11/22/44 kHz; MP3 decoders read
/// the real rate from each frame header, so the nearest class does (48 and 32 kHz as 44,
/// what encoders write). 8 kHz MP3 has an FLV format of its own (14) that FFmpeg cannot
/// play, while it decodes the same frames as format 2: so format 2 for every rate.
pub(crate) fn mp3_sound_byte(sample_rate: u32, stereo: bool) -> u8 {
    const SOUND_FORMAT_MP3: u8 = 2;
    let rate_class = match sample_rate {
        0 | 32000.. => 3,
        16000.. => 2,
        11025.. => 1,
        _ => 0,
    };
    SOUND_FORMAT_MP3 << 4 | rate_class << 2 | 1 << 1 | u8::from(stereo)
}

/// One RTMP audio, video or data message: `prefix ‖ data` is the message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub kind: TagKind,
    /// Decode timestamp in milliseconds.
    pub timestamp: u32,
    /// True for video key frames (and for every audio/data tag).
    pub keyframe: bool,
    pub prefix: Prefix,
    pub data: Bytes,
}

impl Tag {
    pub fn body_len(&self) -> usize {
        self.prefix.as_slice().len() + self.data.len()
    }

    /// The body as one buffer (copies; the server writes prefix and data separately).
    pub fn body(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.body_len());
        b.extend_from_slice(self.prefix.as_slice());
        b.extend_from_slice(&self.data);
        b
    }
}

/// What a player is told before the first frame.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    pub format: Format,
    /// Duration in milliseconds (as `onMetaData.duration` says, in seconds).
    pub duration_ms: u64,
    pub has_audio: bool,
    pub has_video: bool,
    /// Body of the type-18 `onMetaData` message: AMF0 `"onMetaData"` then an ECMA array
    /// (for FLV: the file's own script tag, verbatim, when it has one).
    pub metadata: Bytes,
    /// Codec configuration tags (AVC sequence header, AAC AudioSpecificConfig), sent before
    /// the first frame of every play and after every seek. Their timestamps are 0; the
    /// server restamps them to the first frame's timestamp.
    pub sequence_headers: Vec<Tag>,
}

/// One sample of an indexed file (MP4, MP3): where it is and how to send it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub offset: u64,
    pub size: u32,
    pub timestamp: u32,
    pub kind: TagKind,
    pub keyframe: bool,
    pub prefix: Prefix,
}

/// One audio or video frame, for packagers that rewrap frames into another container (HLS):
/// where the codec's own bytes are (past any FLV tag prefix) and when the frame plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame {
    pub kind: TagKind,
    /// The first byte of the frame's FLV/RTMP tag body: the video frame type and codec id,
    /// or the audio sound format, rate, size and channels.
    pub codec_byte: u8,
    pub offset: u64,
    pub size: u32,
    /// Decode timestamp in milliseconds.
    pub dts_ms: u32,
    /// Composition time offset in milliseconds (presentation minus decode time).
    pub cts_ms: i32,
    /// True for video key frames and every audio frame.
    pub keyframe: bool,
}

impl Frame {
    fn from_sample(sample: &Sample) -> Frame {
        let prefix = sample.prefix.as_slice();
        // Video prefixes end with the signed 24-bit composition time.
        let cts_ms = match (sample.kind, prefix) {
            (TagKind::Video, [_, _, a, b, c]) => i32::from_be_bytes([*a, *b, *c, 0]) >> 8,
            _ => 0,
        };
        Frame {
            kind: sample.kind,
            codec_byte: prefix.first().copied().unwrap_or(0),
            offset: sample.offset,
            size: sample.size,
            dts_ms: sample.timestamp,
            cts_ms,
            keyframe: sample.keyframe,
        }
    }
}

/// Where a viewer is in an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// Timestamp (ms) of the first tag this cursor yields: the key frame at or before the
    /// requested position.
    pub start_ms: u32,
    position: Position,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Position {
    /// Index into `Table::Samples`.
    Sample(usize),
    /// Byte offset of the next FLV tag header.
    FlvOffset(u64),
}

/// The parsed, shareable index of one object version.
#[derive(Debug)]
pub struct MediaIndex {
    info: MediaInfo,
    table: Table,
}

#[derive(Debug)]
enum Table {
    /// Every sample, sorted by decode timestamp (tracks interleaved).
    Samples(Vec<Sample>),
    Flv(flv::FlvTable),
}

/// Why an object could not be read as media.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("not a valid {format:?} file: {reason}")]
    Malformed { format: Format, reason: String },
    #[error("unsupported {format:?} content: {reason}")]
    Unsupported { format: Format, reason: String },
    #[error("{what} is {size} bytes, over the limit of {limit}")]
    TooLarge { what: &'static str, size: u64, limit: u64 },
}

impl MediaError {
    pub(crate) fn malformed(format: Format, reason: impl Into<String>) -> Self {
        MediaError::Malformed { format, reason: reason.into() }
    }

    pub(crate) fn unsupported(format: Format, reason: impl Into<String>) -> Self {
        MediaError::Unsupported { format, reason: reason.into() }
    }
}

/// A failure to get bytes from wherever the object lives.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("object not found")]
    NotFound,
    #[error("origin failed: {0}")]
    Failed(String),
}

/// Random access to the bytes of one object version.
pub trait ByteSource: Send + Sync {
    /// Size of the object in bytes.
    fn size(&self) -> u64;

    /// Bytes `[offset, offset + len)`, clipped to the end of the object (so the result is
    /// shorter than `len` only at the end, and empty at or past it).
    fn read(&self, offset: u64, len: u64) -> impl Future<Output = Result<Bytes, SourceError>> + Send;

    /// What [`ByteSource::read`] would return, when the bytes are at hand without waiting
    /// (already in memory); `None` when answering would wait. A caller on a hot path tries
    /// this first and falls back to `read`. The default never answers.
    fn read_now(&self, offset: u64, len: u64) -> Option<Result<Bytes, SourceError>> {
        let _ = (offset, len);
        None
    }
}

impl MediaIndex {
    /// Reads the headers/index of `source` as `format`.
    pub async fn open<S: ByteSource>(source: &S, format: Format) -> Result<MediaIndex, MediaError> {
        let (info, table) = match format {
            Format::Flv => {
                let (info, table) = flv::open(source).await?;
                (info, Table::Flv(table))
            }
            Format::Mp4 => {
                let (info, samples) = mp4::open(source).await?;
                (info, Table::Samples(samples))
            }
            Format::Mp3 => {
                let (info, samples) = mp3::open(source).await?;
                (info, Table::Samples(samples))
            }
        };
        Ok(MediaIndex { info, table })
    }

    pub fn info(&self) -> &MediaInfo {
        &self.info
    }

    /// Every audio and video frame, in decode order, without reading any frame's data. MP4
    /// and MP3 answer from the index alone; FLV walks the tag headers once (reading a few
    /// bytes per tag), so callers keep the result next to the index.
    pub async fn frames<S: ByteSource>(&self, source: &S) -> Result<Vec<Frame>, MediaError> {
        match &self.table {
            Table::Samples(samples) => Ok(samples.iter().map(Frame::from_sample).collect()),
            Table::Flv(table) => table.frames(source).await,
        }
    }

    /// A cursor at the key frame at or before `ms` (for audio-only media: the frame at or
    /// before `ms`). Past the end, the cursor yields nothing.
    pub fn seek(&self, ms: u32) -> Cursor {
        match &self.table {
            Table::Samples(samples) => {
                let index = seek_samples(samples, ms);
                let start_ms = samples.get(index).map_or(ms, |s| s.timestamp);
                Cursor { start_ms, position: Position::Sample(index) }
            }
            Table::Flv(table) => {
                let (offset, start_ms) = table.seek(ms);
                Cursor { start_ms, position: Position::FlvOffset(offset) }
            }
        }
    }

    /// The next tag at the cursor, or `None` at the end of the media.
    pub async fn next_tag<S: ByteSource>(&self, cursor: &mut Cursor, source: &S) -> Result<Option<Tag>, MediaError> {
        match (&self.table, &mut cursor.position) {
            (Table::Samples(samples), Position::Sample(index)) => {
                let Some(sample) = samples.get(*index) else { return Ok(None) };
                let data = source.read(sample.offset, sample.size.into()).await?;
                let tag = self.sample_tag(sample, data)?;
                *index += 1;
                Ok(Some(tag))
            }
            (Table::Flv(table), Position::FlvOffset(offset)) => table.next_tag(offset, source).await,
            _ => unreachable!("a cursor always comes from the index it is used with"),
        }
    }

    /// [`MediaIndex::next_tag`] from bytes at hand only ([`ByteSource::read_now`]): `None`
    /// when some byte it needs is not, and then the cursor is left as it was (the caller
    /// reads with `next_tag` instead). An FLV tag needs its header and its body at hand.
    pub fn next_tag_now<S: ByteSource>(
        &self,
        cursor: &mut Cursor,
        source: &S,
    ) -> Option<Result<Option<Tag>, MediaError>> {
        match (&self.table, &mut cursor.position) {
            (Table::Samples(samples), Position::Sample(index)) => {
                let Some(sample) = samples.get(*index) else { return Some(Ok(None)) };
                let tag = source.read_now(sample.offset, sample.size.into())?.map_err(MediaError::from);
                Some(tag.and_then(|data| self.sample_tag(sample, data)).map(|tag| {
                    *index += 1;
                    Some(tag)
                }))
            }
            (Table::Flv(table), Position::FlvOffset(offset)) => table.next_tag_now(offset, source),
            _ => unreachable!("a cursor always comes from the index it is used with"),
        }
    }

    /// The tag of `sample`, whose bytes are `data`.
    fn sample_tag(&self, sample: &Sample, data: Bytes) -> Result<Tag, MediaError> {
        if data.len() != sample.size as usize {
            return Err(MediaError::malformed(self.info.format, "sample lies past the end of the file"));
        }
        Ok(Tag {
            kind: sample.kind,
            timestamp: sample.timestamp,
            keyframe: sample.keyframe,
            prefix: sample.prefix,
            data,
        })
    }
}

/// Index of the sample to start from for a seek to `ms`: the last video key frame at or
/// before `ms` (or the first key frame), or for audio-only media the last sample at or before
/// `ms`. Samples before it in file order but with the same timestamp are included. A seek
/// that lands on the first key frame starts at the very first sample, so a play from the
/// start loses nothing that precedes that key frame (AAC priming frames, whose timestamps
/// come first once an edit list is applied).
fn seek_samples(samples: &[Sample], ms: u32) -> usize {
    let has_video = samples.iter().any(|s| s.kind == TagKind::Video);
    let is_seek_point = |s: &Sample| if has_video { s.kind == TagKind::Video && s.keyframe } else { true };
    let Some(first_point) = samples.iter().position(is_seek_point) else { return samples.len() };
    // Samples are sorted by timestamp: binary search for the first one after `ms`.
    let after = samples.partition_point(|s| s.timestamp <= ms);
    let point = samples[..after].iter().rposition(is_seek_point).unwrap_or(first_point);
    if point == first_point {
        return 0;
    }
    let ts = samples[point].timestamp;
    samples.partition_point(|s| s.timestamp < ts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How much body comes with an FLV tag header in one read.
    const SPECULATIVE_BODY_FOR_TESTS: usize = flv::SPECULATIVE_BODY as usize;

    fn sample(kind: TagKind, timestamp: u32, keyframe: bool) -> Sample {
        Sample { offset: 0, size: 1, timestamp, kind, keyframe, prefix: Prefix::EMPTY }
    }

    #[test]
    fn seeks_land_on_key_frames_and_the_start_keeps_everything() {
        use TagKind::{Audio, Video};
        let samples = [
            sample(Audio, 0, true),
            sample(Video, 23, true),
            sample(Audio, 23, true),
            sample(Video, 63, false),
            sample(Audio, 1000, true),
            sample(Video, 1023, true),
            sample(Audio, 1046, true),
        ];
        assert_eq!(seek_samples(&samples, 0), 0, "the priming audio before the first key frame plays");
        assert_eq!(seek_samples(&samples, 500), 0);
        assert_eq!(seek_samples(&samples, 1023), 5);
        assert_eq!(seek_samples(&samples, 5000), 5);
        let audio_only = [sample(Audio, 0, true), sample(Audio, 26, true), sample(Audio, 52, true)];
        assert_eq!(seek_samples(&audio_only, 30), 1);
        assert_eq!(seek_samples(&[], 30), 0);
    }

    /// An object in memory whose `read_now` answers only inside the ranges given (as a
    /// cache answers only from blocks it holds); `read` always answers.
    struct Patchy {
        memory: MemorySource,
        /// `(start, end)` byte ranges.
        at_hand: Vec<(u64, u64)>,
    }

    impl ByteSource for Patchy {
        fn size(&self) -> u64 {
            self.memory.size()
        }

        async fn read(&self, offset: u64, len: u64) -> Result<Bytes, SourceError> {
            self.memory.read(offset, len).await
        }

        fn read_now(&self, offset: u64, len: u64) -> Option<Result<Bytes, SourceError>> {
            let end = offset.saturating_add(len).min(self.size());
            let held = self.at_hand.iter().any(|&(start, stop)| start <= offset && end <= stop);
            if held { self.memory.read_now(offset, len) } else { None }
        }
    }

    fn all_tags(index: &MediaIndex, source: &impl ByteSource) -> Vec<Tag> {
        let mut cursor = index.seek(0);
        std::iter::from_fn(|| MemorySource::run(index.next_tag(&mut cursor, source)).unwrap()).collect()
    }

    #[test]
    fn sample_tables_read_now_only_what_is_at_hand() {
        use TagKind::{Audio, Video};
        let bytes: Bytes = (0..=255u8).cycle().take(300).collect::<Vec<u8>>().into();
        let at = |offset, size, timestamp, kind, keyframe| Sample {
            offset,
            size,
            timestamp,
            kind,
            keyframe,
            prefix: Prefix::new(&[0xaf, 0x01]),
        };
        let samples = vec![
            at(0, 100, 0, Video, true),
            at(100, 20, 10, Audio, true),
            at(120, 150, 40, Video, false),
            at(270, 30, 50, Audio, true),
        ];
        let info = MediaInfo {
            format: Format::Mp4,
            duration_ms: 50,
            has_audio: true,
            has_video: true,
            metadata: Bytes::new(),
            sequence_headers: Vec::new(),
        };
        let index = MediaIndex { info, table: Table::Samples(samples) };
        let expected = all_tags(&index, &MemorySource(bytes.clone()));
        assert_eq!(expected.len(), 4);

        // The first two samples are at hand, the third only in part.
        let source = Patchy { memory: MemorySource(bytes.clone()), at_hand: vec![(0, 200)] };
        let mut cursor = index.seek(0);
        for want in &expected[..2] {
            assert_eq!(index.next_tag_now(&mut cursor, &source).unwrap().unwrap().as_ref(), Some(want));
        }
        let before = cursor.clone();
        assert!(index.next_tag_now(&mut cursor, &source).is_none(), "sample 3 is not all at hand");
        assert_eq!(cursor, before, "a miss leaves the cursor where it was");
        // The caller reads it the slow way, and the fast path goes on from there.
        assert_eq!(MemorySource::run(index.next_tag(&mut cursor, &source)).unwrap().as_ref(), Some(&expected[2]));
        assert!(index.next_tag_now(&mut cursor, &source).is_none());
        let source = Patchy { memory: MemorySource(bytes), at_hand: vec![(0, 300)] };
        assert_eq!(index.next_tag_now(&mut cursor, &source).unwrap().unwrap().as_ref(), Some(&expected[3]));
        assert_eq!(index.next_tag_now(&mut cursor, &source).unwrap().unwrap(), None, "the end is known at once");
    }

    /// An FLV tag with its back-pointer.
    fn flv_tag(kind: u8, timestamp: u32, body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flv::write_tag(&mut out, kind, timestamp, body);
        out
    }

    #[test]
    fn flv_reads_now_only_when_header_and_body_are_at_hand() {
        let mut file = b"FLV\x01\x05\0\0\0\x09\0\0\0\0".to_vec();
        // An AVC sequence header (served from MediaInfo, so skipped), a key frame, an AAC
        // frame, and an inter frame bigger than the speculative read.
        let mut big = vec![0x27, 0x01, 0, 0, 0];
        big.resize(3 * SPECULATIVE_BODY_FOR_TESTS, 0x55);
        let tags = [
            flv_tag(9, 0, &[0x17, 0x00, 0, 0, 0, 1, 2, 3]),
            flv_tag(9, 0, &[0x17, 0x01, 0, 0, 0, 9, 9]),
            flv_tag(8, 5, &[0xaf, 0x01, 7, 7]),
            flv_tag(9, 40, &big),
        ];
        let mut offsets = Vec::new();
        for tag in &tags {
            offsets.push(file.len() as u64);
            file.extend_from_slice(tag);
        }
        let bytes = Bytes::from(file);
        let memory = MemorySource(bytes.clone());
        let index = MemorySource::run(MediaIndex::open(&memory, Format::Flv)).unwrap();
        let expected = all_tags(&index, &memory);
        assert_eq!(expected.iter().map(|t| t.timestamp).collect::<Vec<_>>(), [0, 5, 40]);

        // Everything up to the big tag's header and speculative body, not the rest of it.
        let big_at = offsets[3];
        let source =
            Patchy { memory: memory.clone(), at_hand: vec![(0, big_at + 11 + SPECULATIVE_BODY_FOR_TESTS as u64)] };
        let mut cursor = index.seek(0);
        for want in &expected[..2] {
            assert_eq!(index.next_tag_now(&mut cursor, &source).unwrap().unwrap().as_ref(), Some(want));
        }
        let before = cursor.clone();
        assert!(index.next_tag_now(&mut cursor, &source).is_none(), "the big tag's body is not all at hand");
        assert_eq!(cursor, before);
        // Its body at hand but not its header: still nothing.
        let source = Patchy { memory: memory.clone(), at_hand: vec![(big_at + 11, bytes.len() as u64)] };
        assert!(index.next_tag_now(&mut cursor, &source).is_none(), "the big tag's header is not at hand");
        assert_eq!(cursor, before);
        // Both: the tag, then the end.
        let source = Patchy { memory, at_hand: vec![(0, big_at + 11 + 16), (big_at, bytes.len() as u64)] };
        assert_eq!(index.next_tag_now(&mut cursor, &source).unwrap().unwrap().as_ref(), Some(&expected[2]));
        assert_eq!(index.next_tag_now(&mut cursor, &source).unwrap().unwrap(), None);
        // From the start with nothing at hand, nothing moves (the skipped header included).
        let mut cursor = index.seek(0);
        let nothing = Patchy { memory: MemorySource(bytes), at_hand: vec![] };
        assert!(index.next_tag_now(&mut cursor, &nothing).is_none());
        assert_eq!(cursor, index.seek(0));
    }
}
