//! Packages real media (the repository's sample and clips FFmpeg makes with lavfi), writes the
//! playlists and segments to a directory, and has FFmpeg read the playlist back: decoded video
//! frames identical to the source's (same pictures, same order, same times), decoded audio
//! identical apart from the encoder priming TS keeps, plus checks of the TS itself (sizes as
//! planned, PAT/PMT first, AUD/SPS/PPS/IDR at each segment start, continuity counters across
//! segments) and of the playlist (target duration, EXTINF sum equal to the duration).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use bytes::Bytes;
use sf_hls::{HlsError, Package};
use sf_media::{Format, MediaIndex, MemorySource};

/// Runs a tool and returns its stdout; panics (never skips) if it is missing or fails.
fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{program}` ({e}): these tests need FFmpeg installed (apt-get install ffmpeg)")
    });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "`{program} {}` failed: {stderr}", args.join(" "));
    // Every run is at `-v error`: a decoder or demuxer complaint is a failure too.
    assert!(stderr.trim().is_empty(), "`{program} {}` complained: {stderr}", args.join(" "));
    out.stdout
}

const SECONDS: &str = "13";

/// Test media, made once per test process.
fn media_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("sf-hls-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let video = format!("testsrc2=size=160x120:rate=25:duration={SECONDS}");
        let audio = |rate: u32| format!("aevalsrc=sin(2*PI*(300+200*t)*t):s={rate}:d={SECONDS}");
        let h264 = |bframes: &str| {
            ["-c:v", "libx264", "-preset", "veryfast", "-threads", "1", "-g", "30", "-keyint_min", "30"]
                .into_iter()
                .chain(["-sc_threshold", "0", "-bf", bframes, "-pix_fmt", "yuv420p"])
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let av = |audio_codec: &[&str], bframes: &str, rate: u32| {
            let mut a: Vec<String> =
                ["-f", "lavfi", "-i", &video, "-f", "lavfi", "-i", &audio(rate)].map(String::from).to_vec();
            a.extend(h264(bframes));
            a.extend(audio_codec.iter().map(|s| s.to_string()));
            a
        };
        let aac: &[&str] = &["-c:a", "aac", "-b:a", "48k", "-ac", "1"];
        let mp3: &[&str] = &["-c:a", "libmp3lame", "-b:a", "64k", "-ac", "1"];
        let recipes: Vec<(&str, Vec<String>)> = vec![
            ("bframes.mp4", [av(aac, "2", 44100), vec!["-movflags".into(), "+faststart".into()]].concat()),
            ("clip.flv", [av(aac, "0", 44100), vec!["-f".into(), "flv".into()]].concat()),
            ("mp3audio.flv", [av(mp3, "0", 44100), vec!["-f".into(), "flv".into()]].concat()),
            (
                "tone.mp3",
                ["-f", "lavfi", "-i", &audio(44100)].into_iter().chain(mp3.iter().copied()).map(String::from).collect(),
            ),
            (
                "lsf.mp3",
                ["-f", "lavfi", "-i", &audio(22050)].into_iter().chain(mp3.iter().copied()).map(String::from).collect(),
            ),
            ("sorenson.flv", ["-f", "lavfi", "-i", &video, "-c:v", "flv1", "-f", "flv"].map(String::from).to_vec()),
        ];
        for (name, args) in recipes {
            let mut all: Vec<String> = ["-v", "error", "-y"].map(String::from).to_vec();
            all.extend(args);
            all.extend(["-fflags", "+bitexact", "-map_metadata", "-1"].map(String::from));
            all.push(dir.join(name).to_str().unwrap().into());
            run("ffmpeg", &all.iter().map(String::as_str).collect::<Vec<_>>());
        }
        dir
    })
}

fn sample_mp4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../media/sample.mp4")
}

fn format_of(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("flv") => Format::Flv,
        Some("mp3") => Format::Mp3,
        _ => Format::Mp4,
    }
}

fn package(path: &Path, segment_ms: u32) -> Result<(Package, MemorySource), HlsError> {
    let source = MemorySource(Bytes::from(std::fs::read(path).unwrap()));
    let index = MemorySource::run(MediaIndex::open(&source, format_of(path)))?;
    let package = MemorySource::run(Package::open(&index, &source, segment_ms))?;
    Ok((package, source))
}

/// Writes `index.m3u8`, `master.m3u8` and every segment of `path` into a new directory.
fn write_hls(path: &Path, segment_ms: u32) -> (PathBuf, Package) {
    let (package, source) = package(path, segment_ms).expect("packaged");
    let name = path.file_name().unwrap().to_str().unwrap();
    let dir = std::env::temp_dir().join(format!("sf-hls-out-{}-{name}-{segment_ms}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.m3u8"), package.media_playlist("")).unwrap();
    std::fs::write(dir.join("master.m3u8"), package.master_playlist("index.m3u8")).unwrap();
    for (n, info) in package.segments().iter().enumerate() {
        let bytes = MemorySource::run(package.segment_bytes(n, &source)).unwrap();
        assert_eq!(bytes.len() as u64, info.bytes, "segment {n} of {name} is the size planned");
        std::fs::write(dir.join(format!("seg-{n}.ts")), bytes).unwrap();
    }
    (dir, package)
}

/// Decoded frames of one stream type: (pts in ms, md5), from `ffmpeg -f framemd5`.
fn decoded_frames(input: &Path, stream: &str) -> Vec<(f64, String)> {
    let out = run("ffmpeg", &["-v", "error", "-i", input.to_str().unwrap(), "-map", stream, "-f", "framemd5", "-"]);
    let text = String::from_utf8(out).unwrap();
    let mut time_base = 1.0;
    let mut frames = Vec::new();
    for line in text.lines() {
        if let Some(tb) = line.strip_prefix("#tb 0: ") {
            let (num, den) = tb.split_once('/').unwrap();
            time_base = num.parse::<f64>().unwrap() / den.parse::<f64>().unwrap();
        } else if !line.starts_with('#') {
            let cols: Vec<&str> = line.split(',').map(str::trim).collect();
            frames.push((cols[2].parse::<f64>().unwrap() * time_base * 1000.0, cols[5].to_owned()));
        }
    }
    frames
}

/// Decoded audio as 16-bit PCM.
fn pcm(input: &Path) -> Vec<u8> {
    run("ffmpeg", &["-v", "error", "-i", input.to_str().unwrap(), "-map", "0:a", "-f", "s16le", "-ac", "1", "-"])
}

fn assert_same_video(source: &Path, hls: &Path) {
    let want = decoded_frames(source, "0:v");
    let got = decoded_frames(hls, "0:v");
    assert!(!want.is_empty());
    let hashes = |f: &[(f64, String)]| f.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>();
    assert_eq!(hashes(&got), hashes(&want), "decoded pictures of {}", source.display());
    // Presentation times: the source's plus one offset, within the millisecond of rounding.
    let offset = got[0].0 - want[0].0;
    for ((g, _), (w, _)) in got.iter().zip(&want) {
        assert!((g - w - offset).abs() <= 1.0, "pts {g} vs {w} (+{offset}) in {}", source.display());
    }
}

/// The source's decoded audio is the HLS's, which may start with up to `priming` more
/// samples: the encoder delay MP4 edit lists and MP3 LAME tags tell decoders to drop, and TS
/// cannot. The source may also stop a little earlier (the padding of the last frame).
fn assert_same_audio(source: &Path, hls: &Path, priming: usize) {
    let describe = |path: &Path| {
        let fields = "stream=codec_name,profile,sample_rate,channels";
        let path = path.to_str().unwrap();
        let out =
            run("ffprobe", &["-v", "error", "-select_streams", "a", "-show_entries", fields, "-of", "csv=p=0", path]);
        // The HLS demuxer lists the stream under its program too: the first line says it.
        String::from_utf8(out).unwrap().lines().next().unwrap_or_default().to_owned()
    };
    assert_eq!(describe(hls), describe(source), "audio format of {}", source.display());
    let want = pcm(source);
    let got = pcm(hls);
    assert!(want.len() > 10_000);
    let found = (0..=priming).find(|skip| {
        let from = skip * 2;
        let common = want.len().min(got.len().saturating_sub(from));
        common + 2 * 2048 >= want.len() && got[from..from + common] == want[..common]
    });
    assert!(found.is_some(), "decoded audio of {} differs ({} vs {} bytes)", source.display(), got.len(), want.len());
}

fn ffprobe_duration_ms(path: &Path) -> f64 {
    let out =
        run("ffprobe", &["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path.to_str().unwrap()]);
    String::from_utf8(out).unwrap().trim().parse::<f64>().unwrap() * 1000.0
}

/// RFC 8216 rules: the tags a VOD playlist needs, every rounded EXTINF at most the target,
/// the EXTINF sum equal to the media's duration within one video frame.
fn check_playlist(text: &str, source: &Path, frame_ms: f64) -> Vec<f64> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(&lines[..2], ["#EXTM3U", "#EXT-X-VERSION:3"]);
    for tag in ["#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"] {
        assert!(lines.contains(&tag), "{tag} in\n{text}");
    }
    assert_eq!(lines.last(), Some(&"#EXT-X-ENDLIST"));
    let target: u64 =
        lines.iter().find_map(|l| l.strip_prefix("#EXT-X-TARGETDURATION:")).expect("target").parse().unwrap();
    let extinf: Vec<f64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|v| {
            let v = v.trim_end_matches(',');
            assert_eq!(v.split_once('.').map(|(_, d)| d.len()), Some(3), "3 decimals: {v}");
            v.parse::<f64>().unwrap()
        })
        .collect();
    for (n, d) in extinf.iter().enumerate() {
        assert!(d.round() as u64 <= target, "EXTINF {d} over target {target}");
        assert!(*d > 0.0);
        assert_eq!(lines.iter().filter(|l| **l == format!("seg-{n}.ts")).count(), 1);
    }
    let sum: f64 = extinf.iter().sum::<f64>() * 1000.0;
    let duration = ffprobe_duration_ms(source);
    assert!((sum - duration).abs() <= frame_ms, "EXTINF sum {sum} ms vs duration {duration} ms");
    extinf
}

/// One TS packet's fields that the checks need.
struct TsPacket<'a> {
    pid: u16,
    start: bool,
    cc: u8,
    has_payload: bool,
    pcr: bool,
    payload: &'a [u8],
}

fn parse_ts(bytes: &[u8]) -> Vec<TsPacket<'_>> {
    assert_eq!(bytes.len() % 188, 0);
    bytes
        .chunks(188)
        .map(|p| {
            assert_eq!(p[0], 0x47, "sync byte");
            let control = p[3] >> 4 & 3;
            let mut at = 4;
            let mut pcr = false;
            if control & 2 != 0 {
                let len = usize::from(p[4]);
                pcr = len > 0 && p[5] & 0x10 != 0;
                at += 1 + len;
                assert!(at <= 188);
            }
            TsPacket {
                pid: u16::from_be_bytes([p[1] & 0x1f, p[2]]),
                start: p[1] & 0x40 != 0,
                cc: p[3] & 0x0f,
                has_payload: control & 1 != 0,
                pcr,
                payload: &p[at..],
            }
        })
        .collect()
}

/// PAT then PMT first in every segment; continuity counters of every PID continue from one
/// segment into the next; a video segment opens with a PCR and an access unit made of AUD,
/// SPS, PPS and an IDR slice.
fn check_segments(dir: &Path, package: &Package) {
    let mut last_cc: HashMap<u16, u8> = HashMap::new();
    let has_video = package.tracks().video.is_some();
    for n in 0..package.segments().len() {
        let bytes = std::fs::read(dir.join(format!("seg-{n}.ts"))).unwrap();
        let packets = parse_ts(&bytes);
        assert_eq!((packets[0].pid, packets[1].pid), (0, 0x1000), "segment {n} starts with PAT, PMT");
        for p in &packets {
            assert!(p.has_payload);
            if let Some(prev) = last_cc.insert(p.pid, p.cc) {
                assert_eq!(p.cc, (prev + 1) & 0x0f, "continuity of PID {:#x} in segment {n}", p.pid);
            }
        }
        if has_video {
            let first = packets.iter().position(|p| p.pid == 0x100).expect("video in every segment");
            assert!(packets[first].start && packets[first].pcr);
            // The first video PES: its packets up to the next one's start.
            let mut pes = packets[first].payload.to_vec();
            for p in packets[first + 1..].iter().filter(|p| p.pid == 0x100).take_while(|p| !p.start) {
                pes.extend_from_slice(p.payload);
            }
            assert_eq!(&pes[..4], &[0, 0, 1, 0xe0]);
            let es = &pes[9 + usize::from(pes[8])..];
            assert_eq!(&es[..6], &[0, 0, 0, 1, 0x09, 0xf0], "AUD first");
            let nal_types: Vec<u8> = es.windows(4).filter(|w| w[..3] == [0, 0, 1]).map(|w| w[3] & 0x1f).collect();
            assert_eq!(&nal_types[..3], &[9, 7, 8], "segment {n}: {nal_types:?}");
            assert!(nal_types.contains(&5), "an IDR slice opens segment {n}: {nal_types:?}");
        }
    }
}

fn check_source(name: &Path, segment_ms: u32, frame_ms: f64, priming: usize) -> Package {
    let (dir, package) = write_hls(name, segment_ms);
    let playlist = dir.join("index.m3u8");
    let extinf = check_playlist(&std::fs::read_to_string(&playlist).unwrap(), name, frame_ms);
    assert!(extinf.len() >= 2, "{} makes several segments: {extinf:?}", name.display());
    check_segments(&dir, &package);
    if package.tracks().video.is_some() {
        assert_same_video(name, &playlist);
        assert_same_video(name, &dir.join("master.m3u8"));
    }
    if package.tracks().audio.is_some() {
        assert_same_audio(name, &playlist, priming);
    }
    std::fs::remove_dir_all(dir).unwrap();
    package
}

#[test]
fn mp4_with_b_frames_and_aac() {
    let package = check_source(&media_dir().join("bframes.mp4"), 6000, 40.0, 1024);
    // Key frames every 1.2 s: 6 s segments exactly, then the 1 s tail.
    let durations: Vec<u64> = package.segments().iter().map(|s| s.span.duration_ms).collect();
    assert_eq!(&durations[..2], &[6000, 6000]);
    // High profile (100), no constraint flags, the level ffprobe reads from the SPS.
    let path = media_dir().join("bframes.mp4");
    let level = run(
        "ffprobe",
        &["-v", "error", "-select_streams", "v", "-show_entries", "stream=level", "-of", "csv=p=0"]
            .into_iter()
            .chain([path.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let level: u8 = String::from_utf8(level).unwrap().trim().parse().unwrap();
    let codecs = format!(",RESOLUTION=160x120,FRAME-RATE=25.000,CODECS=\"avc1.6400{level:02x},mp4a.40.2\"\n");
    let master = package.master_playlist("index.m3u8");
    assert!(master.contains(&codecs), "{master} has {codecs}");
}

#[test]
fn the_repository_sample() {
    check_source(&sample_mp4(), 4000, 40.0, 1024);
}

#[test]
fn flv_with_aac_and_with_mp3() {
    check_source(&media_dir().join("clip.flv"), 3000, 40.0, 0);
    let package = check_source(&media_dir().join("mp3audio.flv"), 6000, 40.0, 0);
    assert!(package.master_playlist("index.m3u8").contains(",mp4a.40.34\""));
}

#[test]
fn mp3_files_mpeg1_and_lsf() {
    // LAME's delay and padding are dropped by decoders reading the Xing/LAME tag, kept in TS.
    let one = check_source(&media_dir().join("tone.mp3"), 6000, 27.0, 2 * 1152);
    let lsf = check_source(&media_dir().join("lsf.mp3"), 6000, 53.0, 2 * 576);
    let stream_type = |p: &Package| {
        let (mut writer, _) = p.segment(0).unwrap();
        let mut out = Vec::new();
        writer.begin(&mut out);
        out[188 + 17] // the first stream type of the PMT
    };
    assert_eq!((stream_type(&one), stream_type(&lsf)), (0x03, 0x04));
}

#[test]
fn codecs_hls_cannot_carry_are_refused() {
    let err = package(&media_dir().join("sorenson.flv"), 6000).unwrap_err();
    assert!(matches!(err, HlsError::Unsupported(_)), "{err}");
    assert!(err.to_string().contains("Sorenson"), "{err}");
}
