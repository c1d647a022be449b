//! FLV files written by FFmpeg at test time, read back with `sf_media` and compared packet by
//! packet with what `ffprobe` demuxes from the same file. FFmpeg must be installed: these
//! tests fail (never skip) without it.

use std::path::{Path, PathBuf};

mod common;

use bytes::Bytes;
use common::{ProbedPacket as Packet, md5_hex, play, probe_packets as probe, run};
use sf_media::{ByteSource, Format, MediaIndex, MemorySource, SourceError, Tag, TagKind};

/// Writes `name` in `dir` with FFmpeg from lavfi test sources: `inputs` then `codec_args`.
fn make(dir: &Path, name: &str, inputs: &[&str], codec_args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut args = vec!["-hide_banner", "-loglevel", "error", "-y"];
    args.extend_from_slice(inputs);
    args.extend_from_slice(codec_args);
    args.push(path.to_str().unwrap());
    run("ffmpeg", &args);
    path
}

const VIDEO: [&str; 4] = ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=25"];
const AUDIO_44K: [&str; 4] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"];
const AUDIO_22K: [&str; 4] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050"];

fn inputs<'a>(parts: &[&[&'a str]], seconds: &'a str) -> Vec<&'a str> {
    let mut v: Vec<&str> = parts.iter().flat_map(|p| p.iter().copied()).collect();
    v.extend(["-t", seconds]);
    v
}

/// MD5s of the codec configuration FFmpeg extracted, by stream type (from framemd5).
fn extradata_md5s(path: &Path) -> Vec<String> {
    let out = run("ffmpeg", &["-v", "error", "-i", path.to_str().unwrap(), "-c", "copy", "-f", "framemd5", "-"]);
    String::from_utf8(out)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("#extradata "))
        .map(|l| l.rsplit(',').next().unwrap().trim().to_owned())
        .collect()
}

/// Bytes of an FLV tag body that are FLV framing rather than codec data, i.e. what FFmpeg's
/// demuxer strips: the audio/video header byte, plus for AVC/HEVC the packet type and
/// composition time (4 more), for AAC the packet type (1 more), for VP6 the adjustment byte.
fn framing_len(tag: &Tag) -> usize {
    let b0 = tag.data[0];
    match tag.kind {
        TagKind::Video => match b0 & 0x0f {
            7 | 12 => 5,
            4 => 2,
            5 => 5,
            _ => 1,
        },
        TagKind::Audio if b0 >> 4 == 10 => 2,
        _ => 1,
    }
}

/// The AVC end-of-sequence tag FFmpeg writes last: forwarded like any tag (Flash players
/// use it), but FFmpeg's demuxer makes no packet of it.
fn is_end_of_sequence(tag: &Tag) -> bool {
    tag.kind == TagKind::Video && tag.data[0] & 0x0f == 7 && tag.data.get(1) == Some(&2)
}

/// Our tags against ffprobe's packets: per stream the same count, same data, and timestamps
/// one constant offset apart (within 1 ms).
fn assert_same_packets(tags: &[Tag], packets: &[Packet]) {
    for video in [false, true] {
        let kind = if video { TagKind::Video } else { TagKind::Audio };
        let ours: Vec<&Tag> = tags.iter().filter(|t| t.kind == kind && !is_end_of_sequence(t)).collect();
        let theirs: Vec<&Packet> = packets.iter().filter(|p| p.video == video).collect();
        assert_eq!(ours.len(), theirs.len(), "{kind:?} packet count");
        let offset = theirs.first().map_or(0, |p| p.dts_ms - i64::from(ours[0].timestamp));
        for (i, (tag, packet)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!(md5_hex(&tag.data[framing_len(tag)..]), packet.md5, "{kind:?} packet {i} data");
            let drift = packet.dts_ms - i64::from(tag.timestamp) - offset;
            assert!(drift.abs() <= 1, "{kind:?} packet {i}: ts {} vs dts {} ms", tag.timestamp, packet.dts_ms);
            if video {
                assert_eq!(tag.keyframe, packet.key, "video packet {i} key flag");
            }
        }
    }
}

/// The file's first script tag body.
fn first_script_body(file: &[u8]) -> &[u8] {
    let first = u32::from_be_bytes(file[5..9].try_into().unwrap()) as usize + 4;
    assert_eq!(file[first], 18, "FFmpeg writes onMetaData first");
    let size = u32::from_be_bytes([0, file[first + 1], file[first + 2], file[first + 3]]) as usize;
    &file[first + 11..first + 11 + size]
}

/// Seeks to many targets and checks the contract: playback starts at a key frame at or
/// before the target (the first one for targets before it), the next key frame is after
/// the target, and `start_ms` is the first tag's timestamp.
async fn assert_seeks(index: &MediaIndex, source: &impl ByteSource, duration_ms: u32) {
    let (_, all) = play(index, source, 0).await;
    let video = index.info().has_video;
    let is_point = |t: &Tag| {
        if video { t.kind == TagKind::Video && t.keyframe } else { t.kind == TagKind::Audio }
    };
    let first_point = all.iter().find(|t| is_point(t)).expect("a seek point").timestamp;
    let mut targets: Vec<u32> = (0..=duration_ms + 500).step_by(97).collect();
    targets.extend([0, 1, 999, 1000, 1001, 2000, u32::MAX]);
    for ms in targets {
        let (start_ms, tags) = play(index, source, ms).await;
        assert_eq!(Some(start_ms), tags.first().map(|t| t.timestamp), "start_ms for seek({ms})");
        let mut points = tags.iter().filter(|t| is_point(t));
        let first = points.next().expect("playback reaches a seek point");
        if ms >= first_point {
            assert!(first.timestamp <= ms, "seek({ms}) starts at key frame {} after it", first.timestamp);
        } else {
            assert_eq!(first.timestamp, first_point);
        }
        if let Some(next) = points.find(|t| t.timestamp != first.timestamp) {
            assert!(
                next.timestamp > ms,
                "seek({ms}) started at {} but key frame {} is also <= target",
                first.timestamp,
                next.timestamp
            );
        }
        if video {
            let first_video = tags.iter().find(|t| t.kind == TagKind::Video).unwrap();
            assert!(first_video.keyframe, "seek({ms}) must start video at a key frame");
        }
    }
}

/// Counts the bytes open() asks for, to tell an index-driven open from a full scan.
struct Counting {
    inner: MemorySource,
    bytes: std::sync::atomic::AtomicU64,
}

impl ByteSource for Counting {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Bytes, SourceError> {
        let b = self.inner.read(offset, len).await?;
        self.bytes.fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(b)
    }
}

async fn check_file(path: &Path, expect_audio: bool, expect_video: bool, expect_headers: usize) -> MediaIndex {
    let bytes = std::fs::read(path).unwrap();
    let source = MemorySource(Bytes::from(bytes.clone()));
    let index = MediaIndex::open(&source, Format::Flv).await.expect("open");
    let info = index.info();
    assert_eq!(info.format, Format::Flv);
    assert_eq!((info.has_audio, info.has_video), (expect_audio, expect_video));
    // onMetaData is the file's, with one change: the duration is the last tag's timestamp
    // (FFmpeg writes the end of the last frame, which fails rtmpdump's 99.9 % check).
    let decode = |body: &[u8]| sf_amf::amf0::decode_all(body).expect("onMetaData decodes");
    let (sent, file) = (decode(&info.metadata), decode(first_script_body(&bytes)));
    let without_duration = |values: &[sf_amf::Value]| -> Vec<(String, sf_amf::Value)> {
        let props = values[1].properties().expect("an ECMA array");
        props.iter().filter(|(k, _)| k != "duration").cloned().collect()
    };
    assert_eq!(sent[0], file[0]);
    assert_eq!(without_duration(&sent), without_duration(&file), "onMetaData is forwarded but for duration");
    let sent_duration = sent[1].get("duration").and_then(sf_amf::Value::as_f64).unwrap();
    assert_eq!((sent_duration * 1000.0).round() as u64, info.duration_ms);
    assert_eq!(info.sequence_headers.len(), expect_headers);
    // The sequence headers are what FFmpeg turned into extradata.
    let config: Vec<String> = info.sequence_headers.iter().map(|t| md5_hex(&t.data[framing_len(t)..])).collect();
    let extradata = extradata_md5s(path);
    for md5 in &config {
        assert!(extradata.contains(md5), "sequence header {md5} not among FFmpeg's extradata {extradata:?}");
    }
    for h in &info.sequence_headers {
        assert_eq!((h.timestamp, h.prefix.as_slice()), (0, &[][..]));
    }
    let (_, tags) = play(&index, &source, 0).await;
    assert_same_packets(&tags, &probe(path));
    let duration = u32::try_from(info.duration_ms).unwrap();
    let last = tags.iter().map(|t| t.timestamp).max().unwrap();
    assert!(duration.abs_diff(last) < 100, "duration {duration}, last tag {last}");
    assert_seeks(&index, &source, duration).await;
    index
}

#[tokio::test]
async fn h264_aac() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(
        dir.path(),
        "a.flv",
        &inputs(&[&VIDEO, &AUDIO_44K], "3"),
        &["-c:v", "libx264", "-g", "25", "-c:a", "aac", "-f", "flv"],
    );
    check_file(&path, true, true, 2).await;
}

#[tokio::test]
async fn h264_aac_with_keyframe_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(
        dir.path(),
        "a.flv",
        &inputs(&[&VIDEO, &AUDIO_44K], "4"),
        &["-c:v", "libx264", "-g", "13", "-c:a", "aac", "-flvflags", "add_keyframe_index", "-f", "flv"],
    );
    check_file(&path, true, true, 2).await;
}

#[tokio::test]
async fn sorenson_and_mp3() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(
        dir.path(),
        "a.flv",
        &inputs(&[&VIDEO, &AUDIO_22K], "3"),
        &["-c:v", "flv1", "-g", "20", "-c:a", "libmp3lame", "-f", "flv"],
    );
    check_file(&path, true, true, 0).await;
}

#[tokio::test]
async fn audio_only_aac() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(dir.path(), "a.flv", &inputs(&[&AUDIO_44K], "3"), &["-c:a", "aac", "-f", "flv"]);
    check_file(&path, true, false, 1).await;
}

#[tokio::test]
async fn audio_only_mp3() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(dir.path(), "a.flv", &inputs(&[&AUDIO_22K], "3"), &["-c:a", "libmp3lame", "-f", "flv"]);
    check_file(&path, true, false, 0).await;
}

/// A file large enough that a scan would read it all: with a sane keyframes index, open reads
/// little more than the head; without one, it scans, and both seek alike.
#[tokio::test]
async fn keyframe_index_spares_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let noisy = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"];
    let args = ["-c:v", "libx264", "-preset", "ultrafast", "-b:v", "3M", "-g", "25", "-c:a", "aac", "-f", "flv"];
    let plain = make(dir.path(), "plain.flv", &inputs(&[&noisy, &AUDIO_44K], "12"), &args);
    let mut indexed_args = args.to_vec();
    indexed_args.splice(indexed_args.len() - 2.., ["-flvflags", "add_keyframe_index", "-f", "flv"]);
    let indexed = make(dir.path(), "indexed.flv", &inputs(&[&noisy, &AUDIO_44K], "12"), &indexed_args);

    let mut starts = Vec::new();
    for (path, scans) in [(&plain, true), (&indexed, false)] {
        let bytes = Bytes::from(std::fs::read(path).unwrap());
        let size = bytes.len() as u64;
        assert!(size > 4 << 20, "test file too small to tell a scan: {size}");
        let source = Counting { inner: MemorySource(bytes), bytes: 0.into() };
        let index = MediaIndex::open(&source, Format::Flv).await.unwrap();
        let read = source.bytes.load(std::sync::atomic::Ordering::Relaxed);
        if scans {
            assert!(read >= size - 64 * 1024, "no index: open scans the file ({read} of {size} bytes)");
        } else {
            // The head window, the spot checks, and the tail after the last index entry.
            assert!(read < (2 << 20) + 64 * 1024, "index: open reads head and tail only ({read} of {size} bytes)");
        }
        assert_seeks(&index, &source.inner, 12_000).await;
        starts.push((0..12_000).step_by(250).map(|ms| index.seek(ms).start_ms).collect::<Vec<_>>());
    }
    assert_eq!(starts[0], starts[1], "index and scan give the same seek points");
}

/// A file cut in the middle of a tag plays every complete tag and then ends, without error.
#[tokio::test]
async fn truncated_file_plays_up_to_the_cut() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(
        dir.path(),
        "a.flv",
        &inputs(&[&VIDEO, &AUDIO_44K], "3"),
        &["-c:v", "libx264", "-c:a", "aac", "-f", "flv"],
    );
    let bytes = std::fs::read(&path).unwrap();
    let packets = probe(&path);
    for cut in [bytes.len() * 2 / 3, bytes.len() / 2 + 7, bytes.len() - 1, bytes.len() - 4] {
        let source = MemorySource(Bytes::copy_from_slice(&bytes[..cut]));
        let index = MediaIndex::open(&source, Format::Flv).await.expect("open a truncated file");
        let (_, tags) = play(&index, &source, 0).await;
        // Tag bodies end 4 bytes before the next tag; FFmpeg's pos is the tag start.
        let complete = packets.iter().filter(|p| p.pos + 11 + framing_guess(p) + p.size <= cut as u64).count();
        let tags = tags.iter().filter(|t| !is_end_of_sequence(t)).count();
        assert_eq!(tags, complete, "cut at {cut} of {}", bytes.len());
    }
}

/// ffprobe's size excludes the framing bytes; for H.264 video that is 5, for AAC 2.
fn framing_guess(p: &Packet) -> u64 {
    if p.video { 5 } else { 2 }
}
