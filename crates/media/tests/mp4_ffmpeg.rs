//! The MP4 reader against FFmpeg. Every test makes its file with `ffmpeg` at test time and
//! compares each sample with what `ffprobe` demuxes from it: the number of packets per
//! stream, their bytes (MD5), file position, key-frame flag, and decode/presentation times,
//! which must match FFmpeg's (which applies edit lists) to 1 ms with one constant offset
//! for all streams. These tests need `ffmpeg` and `ffprobe` and fail if they are missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

mod common;

use bytes::Bytes;
use common::{md5_hex, run};
use sf_media::{ByteSource, Format, MediaError, MediaIndex, MediaInfo, MemorySource, Sample, SourceError, TagKind};

/// Makes `name` in `dir` with `ffmpeg -v error -y <args> <path>`.
fn generate(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut all = vec!["-v", "error", "-y", "-threads", "1"];
    all.extend_from_slice(args);
    let p = path.to_str().expect("utf-8 temp path");
    all.push(p);
    run("ffmpeg", &all);
    path
}

/// The usual test input: 4 s of 320x240 test pattern at `rate` and a 440 Hz tone.
fn lavfi_inputs(rate: &str) -> Vec<String> {
    vec![
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        format!("testsrc=size=320x240:rate={rate}"),
        "-f".into(),
        "lavfi".into(),
        "-i".into(),
        "sine=frequency=440:sample_rate=44100".into(),
        "-t".into(),
        "4".into(),
    ]
}

fn generate_av(dir: &Path, name: &str, rate: &str, extra: &[&str]) -> PathBuf {
    let inputs = lavfi_inputs(rate);
    let mut args: Vec<&str> = inputs.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    generate(dir, name, &args)
}

#[derive(Debug)]
struct Stream {
    codec_type: String,
    codec_name: String,
    /// Time base as (num, den).
    time_base: (i64, i64),
}

#[derive(Debug, Default)]
struct Packet {
    stream: usize,
    pts: i64,
    dts: i64,
    size: u32,
    pos: u64,
    key: bool,
    md5: String,
}

/// What ffprobe demuxes: streams and packets in demuxing order.
fn probe(path: &Path) -> (Vec<Stream>, Vec<Packet>) {
    let out = run(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=index,codec_type,codec_name,time_base",
            "-show_entries",
            "packet=stream_index,pts,dts,size,pos,flags,data_hash",
            "-show_data_hash",
            "MD5",
            "-of",
            "flat",
            path.to_str().unwrap(),
        ],
    );
    let mut streams: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
    let mut packets: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
    for line in String::from_utf8(out).unwrap().lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim_matches('"').to_owned();
        let parts: Vec<&str> = key.split('.').collect();
        match parts.as_slice() {
            ["streams", "stream", i, field] => {
                streams.entry(i.parse().unwrap()).or_default().insert(field.to_string(), value);
            }
            ["packets", "packet", i, field] => {
                packets.entry(i.parse().unwrap()).or_default().insert(field.to_string(), value);
            }
            _ => {}
        }
    }
    let streams = streams
        .values()
        .map(|s| {
            let (num, den) = s["time_base"].split_once('/').unwrap();
            Stream {
                codec_type: s["codec_type"].clone(),
                codec_name: s["codec_name"].clone(),
                time_base: (num.parse().unwrap(), den.parse().unwrap()),
            }
        })
        .collect();
    let packets = packets
        .values()
        .map(|p| Packet {
            stream: p["stream_index"].parse().unwrap(),
            pts: p["pts"].parse().unwrap(),
            dts: p["dts"].parse().unwrap(),
            size: p["size"].parse().unwrap(),
            pos: p["pos"].parse().unwrap(),
            key: p["flags"].starts_with('K'),
            md5: p["data_hash"].trim_start_matches("MD5:").to_owned(),
        })
        .collect();
    (streams, packets)
}

/// Opens `file` with the MP4 reader and checks every sample against ffprobe. Returns the
/// reader's output for further checks.
fn check(path: &Path) -> (MediaInfo, Vec<Sample>) {
    let file = Bytes::from(std::fs::read(path).unwrap());
    let (info, samples) = MemorySource::run(sf_media::mp4::open(&MemorySource(file.clone()))).unwrap();
    check_against(path, &file, &info, &samples);
    (info, samples)
}

fn check_against(path: &Path, file: &[u8], info: &MediaInfo, samples: &[Sample]) {
    let (streams, packets) = probe(path);
    let pick = |kind: &str, codecs: &[&str]| {
        streams.iter().position(|s| s.codec_type == kind && codecs.contains(&s.codec_name.as_str()))
    };
    let video = pick("video", &["h264"]);
    let audio = pick("audio", &["aac", "mp3"]);
    assert_eq!(info.has_video, video.is_some(), "{path:?}");
    assert_eq!(info.has_audio, audio.is_some(), "{path:?}");
    assert!(samples.windows(2).all(|w| w[0].timestamp <= w[1].timestamp), "samples are not sorted");

    // (ours − FFmpeg's) in ms for every timestamp: one constant offset within rounding.
    let mut diffs: Vec<f64> = Vec::new();
    for (kind, stream) in [(TagKind::Video, video), (TagKind::Audio, audio)] {
        let Some(stream) = stream else {
            assert!(samples.iter().all(|s| s.kind != kind));
            continue;
        };
        let (num, den) = streams[stream].time_base;
        let to_ms = |t: i64| (t as f64) * 1000.0 * (num as f64) / (den as f64);
        let theirs: Vec<&Packet> = packets.iter().filter(|p| p.stream == stream).collect();
        let ours: Vec<&Sample> = samples.iter().filter(|s| s.kind == kind).collect();
        assert_eq!(ours.len(), theirs.len(), "{kind:?} packet count of {path:?}");
        for (i, (s, p)) in ours.iter().zip(&theirs).enumerate() {
            assert_eq!((s.offset, s.size), (p.pos, p.size), "{kind:?} packet {i} position");
            let data = &file[s.offset as usize..s.offset as usize + s.size as usize];
            assert_eq!(md5_hex(data), p.md5, "{kind:?} packet {i} data");
            diffs.push(f64::from(s.timestamp) - to_ms(p.dts));
            match kind {
                TagKind::Video => {
                    assert_eq!(s.keyframe, p.key, "video packet {i} key flag");
                    let prefix = s.prefix.as_slice();
                    assert_eq!(prefix[..2], [if p.key { 0x17 } else { 0x27 }, 0x01]);
                    let cts = i32::from_be_bytes([prefix[2], prefix[3], prefix[4], 0]) >> 8;
                    diffs.push(f64::from(s.timestamp) + f64::from(cts) - to_ms(p.pts));
                }
                _ => {
                    assert!(s.keyframe);
                    let expected: &[u8] = if streams[stream].codec_name == "aac" { &[0xaf, 0x01] } else { &[] };
                    if !expected.is_empty() {
                        assert_eq!(s.prefix.as_slice(), expected);
                    } else {
                        // MP3: the FLV sound byte, format 2.
                        assert_eq!(s.prefix.as_slice().len(), 1);
                        assert_eq!(s.prefix.as_slice()[0] >> 4, 2);
                    }
                }
            }
        }
    }
    let (min, max) = diffs.iter().fold((f64::MAX, f64::MIN), |(lo, hi), &d| (lo.min(d), hi.max(d)));
    assert!(max - min <= 1.0 + 1e-6, "{path:?}: timestamps drift from FFmpeg's by {min}..{max} ms");

    // Sequence headers: avcC and AudioSpecificConfig verbatim.
    let kinds: Vec<_> = info.sequence_headers.iter().map(|t| t.kind).collect();
    let mut expected = Vec::new();
    if video.is_some() {
        expected.push(TagKind::Video);
    }
    if audio.is_some() && streams[audio.unwrap()].codec_name == "aac" {
        expected.push(TagKind::Audio);
    }
    assert_eq!(kinds, expected);
    for tag in &info.sequence_headers {
        assert!(tag.prefix.as_slice().is_empty() && tag.timestamp == 0 && tag.keyframe);
        match tag.kind {
            TagKind::Video => assert_eq!(&tag.data[..5], &[0x17, 0, 0, 0, 0]),
            _ => assert_eq!(&tag.data[..2], &[0xaf, 0]),
        }
    }

    // Metadata: codec ids only for present tracks; duration passes rtmpdump's 99.9 % check.
    let meta = sf_amf::amf0::decode_all(&info.metadata).unwrap();
    assert_eq!(meta[0].as_str(), Some("onMetaData"));
    assert!(matches!(meta[1], sf_amf::Value::EcmaArray(_)));
    let num = |k: &str| meta[1].get(k).and_then(|v| v.as_f64());
    assert_eq!(num("videocodecid"), video.map(|_| 7.0));
    assert_eq!(num("audiocodecid").is_some(), audio.is_some());
    assert_eq!(num("duration"), Some(info.duration_ms as f64 / 1000.0));
    let last = f64::from(samples.last().unwrap().timestamp);
    assert!(last / (info.duration_ms as f64) >= 0.9995, "last {last} duration {}", info.duration_ms);
    if video.is_some() {
        assert_eq!((num("width"), num("height")), (Some(320.0), Some(240.0)));
    }
}

#[test]
fn mp4_moov_at_end_with_b_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(dir.path(), "av.mp4", "25", &["-c:v", "libx264", "-g", "25", "-bf", "2", "-c:a", "aac"]);
    let (info, samples) = check(&path);
    // B-frames: some video samples have a non-zero composition offset.
    assert!(samples.iter().any(|s| s.kind == TagKind::Video && s.prefix.as_slice()[2..] != [0, 0, 0]));
    let meta = sf_amf::amf0::decode_all(&info.metadata).unwrap();
    assert_eq!(meta[1].get("framerate").and_then(|v| v.as_f64()), Some(25.0));
    assert_eq!(meta[1].get("audiosamplerate").and_then(|v| v.as_f64()), Some(44100.0));
    assert!((3900..=4100).contains(&info.duration_ms), "{}", info.duration_ms);
}

#[test]
fn mp4_faststart_reads_only_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(
        dir.path(),
        "fast.mp4",
        "25",
        &["-c:v", "libx264", "-g", "25", "-bf", "2", "-c:a", "aac", "-movflags", "+faststart"],
    );
    check(&path);
    let file = Bytes::from(std::fs::read(&path).unwrap());
    let source = Counting::new(MemorySource(file));
    MemorySource::run(sf_media::mp4::open(&source)).unwrap();
    let reads = source.reads();
    assert!(reads.len() <= 3, "{reads:?}");
    let moov_end = reads.iter().map(|(o, l)| o + l).max().unwrap();
    assert!(moov_end < 20_000, "read past the moov: {reads:?}");
}

#[test]
fn mp4_video_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(dir.path(), "v.mp4", "25", &["-an", "-c:v", "libx264", "-g", "50", "-bf", "3"]);
    let (info, _) = check(&path);
    assert_eq!(info.sequence_headers.len(), 1);
}

#[test]
fn mp4_audio_only_m4a() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(dir.path(), "a.m4a", "25", &["-vn", "-c:a", "aac", "-b:a", "96k"]);
    let (info, samples) = check(&path);
    assert!(!info.has_video);
    assert_eq!(samples[0].timestamp, 0);
}

#[test]
fn mp4_quicktime_mov() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(dir.path(), "q.mov", "25", &["-c:v", "libx264", "-g", "25", "-bf", "2", "-c:a", "aac"]);
    check(&path);
}

#[test]
fn mp4_mp3_in_mp4() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(dir.path(), "mp3.mp4", "25", &["-c:v", "libx264", "-c:a", "libmp3lame", "-ac", "2"]);
    let (info, samples) = check(&path);
    let audio = samples.iter().find(|s| s.kind == TagKind::Audio).unwrap();
    assert_eq!(audio.prefix.as_slice(), &[0x2f]); // MP3, 44 kHz, 16-bit, stereo
    let meta = sf_amf::amf0::decode_all(&info.metadata).unwrap();
    assert_eq!(meta[1].get("audiocodecid").and_then(|v| v.as_f64()), Some(2.0));
}

#[test]
fn mp4_ntsc_frame_rate_and_long_gop() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(
        dir.path(),
        "ntsc.mp4",
        "30000/1001",
        &["-c:v", "libx264", "-g", "60", "-bf", "3", "-c:a", "aac", "-ar", "48000"],
    );
    let (info, _) = check(&path);
    let meta = sf_amf::amf0::decode_all(&info.metadata).unwrap();
    let fps = meta[1].get("framerate").and_then(|v| v.as_f64()).unwrap();
    assert!((fps - 29.97).abs() < 0.01, "{fps}");
}

#[test]
fn mp4_delayed_audio_uses_the_empty_edit() {
    let dir = tempfile::tempdir().unwrap();
    let src = generate_av(dir.path(), "src.mp4", "25", &["-c:v", "libx264", "-bf", "2", "-c:a", "aac"]);
    let s = src.to_str().unwrap();
    let path = generate(
        dir.path(),
        "delayed.mp4",
        &["-i", s, "-itsoffset", "1", "-i", s, "-map", "0:v", "-map", "1:a", "-c", "copy"],
    );
    let (_, samples) = check(&path);
    let first_audio = samples.iter().find(|s| s.kind == TagKind::Audio).unwrap().timestamp;
    assert!((1050..=1060).contains(&first_audio), "{first_audio}"); // 1000 − 23.2 + 80 ms
}

#[test]
fn mp4_cut_with_edit_list_into_the_gop() {
    let dir = tempfile::tempdir().unwrap();
    let src = generate_av(dir.path(), "src.mp4", "25", &["-c:v", "libx264", "-g", "50", "-bf", "2", "-c:a", "aac"]);
    let path = generate(dir.path(), "cut.mp4", &["-ss", "1.5", "-i", src.to_str().unwrap(), "-c", "copy"]);
    check(&path);
}

#[test]
fn mp4_negative_composition_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(
        dir.path(),
        "neg.mp4",
        "25",
        &["-c:v", "libx264", "-bf", "2", "-c:a", "aac", "-movflags", "+negative_cts_offsets"],
    );
    let (_, samples) = check(&path);
    // Decode times are moved earlier instead: composition times stay ≥ 0.
    for s in samples.iter().filter(|s| s.kind == TagKind::Video) {
        let p = s.prefix.as_slice();
        assert!(i32::from_be_bytes([p[2], p[3], p[4], 0]) >= 0);
    }
}

#[test]
fn mp4_without_edit_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(
        dir.path(),
        "noedit.mp4",
        "25",
        &["-c:v", "libx264", "-bf", "2", "-c:a", "aac", "-use_editlist", "0"],
    );
    check(&path);
}

#[test]
fn mp4_text_only_file_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let srt = dir.path().join("s.srt");
    std::fs::write(&srt, "1\n00:00:00,000 --> 00:00:01,000\nhello\n").unwrap();
    let path = generate(dir.path(), "t.mp4", &["-i", srt.to_str().unwrap(), "-c:s", "mov_text"]);
    let file = Bytes::from(std::fs::read(&path).unwrap());
    let err = MemorySource::run(sf_media::mp4::open(&MemorySource(file))).unwrap_err();
    assert!(matches!(err, MediaError::Unsupported { .. }), "{err}");
}

#[test]
fn mp4_through_the_media_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(dir.path(), "av.mp4", "25", &["-c:v", "libx264", "-g", "25", "-bf", "2", "-c:a", "aac"]);
    let source = MemorySource(Bytes::from(std::fs::read(&path).unwrap()));
    let index = MemorySource::run(MediaIndex::open(&source, Format::Mp4)).unwrap();
    assert_eq!(index.info().format, Format::Mp4);
    // Seek to 2.1 s: starts at a key frame at or before it (GOPs are 1 s long).
    let mut cursor = index.seek(2100);
    assert!((1000..=2100).contains(&cursor.start_ms), "{}", cursor.start_ms);
    let mut count = 0;
    while let Some(tag) = MemorySource::run(index.next_tag(&mut cursor, &source)).unwrap() {
        if count == 0 {
            assert!(tag.kind == TagKind::Video && tag.keyframe);
            assert_eq!(tag.body()[0], 0x17);
        }
        count += 1;
    }
    assert!(count > 50);
}

/// A 5 GiB file with `moov` after the media data must cost a few small reads and the moov.
#[test]
fn mp4_huge_file_with_moov_at_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate_av(dir.path(), "av.mp4", "25", &["-c:v", "libx264", "-bf", "2", "-c:a", "aac"]);
    let file = std::fs::read(&path).unwrap();
    // FFmpeg writes ftyp, an 8-byte `free` box, mdat, moov. Replacing `free` + the mdat header
    // by a 64-bit mdat header keeps every sample offset; the mdat then grows by PAD bytes.
    let box_at = |at: usize| (u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize, &file[at + 4..at + 8]);
    let (ftyp_len, _) = box_at(0);
    assert_eq!(box_at(ftyp_len), (8, &b"free"[..]));
    let (mdat_len, kind) = box_at(ftyp_len + 8);
    assert_eq!(kind, b"mdat");
    let payload = ftyp_len + 16..ftyp_len + 8 + mdat_len;
    const PAD: u64 = 5 << 30;
    let mut head = file[..ftyp_len].to_vec();
    head.extend([0, 0, 0, 1]);
    head.extend(b"mdat");
    head.extend((16 + payload.len() as u64 + PAD).to_be_bytes());
    head.extend(&file[payload.clone()]);
    let moov = file[payload.end..].to_vec();
    let sparse = Sparse { head: head.into(), zeros: PAD, tail: moov.clone().into() };
    let source = Counting::new(sparse);
    let (info, samples) = MemorySource::run(sf_media::mp4::open(&source)).unwrap();
    let reads = source.reads();
    assert!(reads.len() <= 4, "{reads:?}");
    let total: u64 = reads.iter().map(|(_, l)| l).sum();
    assert!(total <= moov.len() as u64 + 64, "{reads:?}");
    for (offset, len) in &reads {
        let end = offset + len;
        assert!(
            end <= payload.start as u64 || *offset >= (payload.start as u64) + payload.len() as u64 + PAD,
            "{reads:?}"
        );
    }
    // Same samples as the real file (whose moov offset differs).
    let (real_info, real_samples) = MemorySource::run(sf_media::mp4::open(&MemorySource(file.into()))).unwrap();
    assert_eq!(samples, real_samples);
    assert_eq!(info.sequence_headers, real_info.sequence_headers);
    assert_eq!(info.duration_ms, real_info.duration_ms);
}

/// `head`, then `zeros` zero bytes, then `tail`.
struct Sparse {
    head: Bytes,
    zeros: u64,
    tail: Bytes,
}

impl ByteSource for Sparse {
    fn size(&self) -> u64 {
        self.head.len() as u64 + self.zeros + self.tail.len() as u64
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Bytes, SourceError> {
        let end = offset.saturating_add(len).min(self.size());
        let mut out = Vec::new();
        let tail_start = self.head.len() as u64 + self.zeros;
        for at in offset..end {
            out.push(if at < self.head.len() as u64 {
                self.head[at as usize]
            } else if at < tail_start {
                0
            } else {
                self.tail[(at - tail_start) as usize]
            });
        }
        Ok(out.into())
    }
}

/// Records every read.
struct Counting<S> {
    inner: S,
    reads: Mutex<Vec<(u64, u64)>>,
}

impl<S> Counting<S> {
    fn new(inner: S) -> Self {
        Counting { inner, reads: Mutex::new(Vec::new()) }
    }

    fn reads(&self) -> Vec<(u64, u64)> {
        self.reads.lock().unwrap().clone()
    }
}

impl<S: ByteSource> ByteSource for Counting<S> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Bytes, SourceError> {
        self.reads.lock().unwrap().push((offset, len));
        self.inner.read(offset, len).await
    }
}
