//! HLS from the real server: FFmpeg reads `/hls/<object>/index.m3u8` over HTTP for an MP4
//! (B-frames, AAC), an FLV and an MP3 and decodes what the source decodes to; the playlists
//! pass a checker (RFC 8216 rules, EXTINF sum within a frame of the duration, segments of the
//! planned size opening on an IDR, continuity counters across segments); the Wowza alias
//! plays too; bad paths, unknown streams and segments out of range get 404, codecs HLS cannot
//! carry 415; and headless Chromium plays a stream with hls.js and seeks into its middle.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::web::{Reply, request};
use common::*;

/// Segment length for the decode tests: the 5 s clips (key frames every 1.2 s) make three
/// segments (2.4 s, 2.4 s, 0.2 s).
const SEGMENT_SECONDS: &str = "2";

fn server_with_segments(seconds: &str) -> Server {
    let args = vec!["--hls-segment-seconds".to_owned(), seconds.to_owned()];
    Server::start_with(&media().origin, ServerOptions { args, ..Default::default() })
}

fn http_url(server: &Server, path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", server.http_port)
}

fn get(server: &Server, path: &str) -> Reply {
    request(server.http_port, "GET", "127.0.0.1", path, &[])
}

/// Runs a tool and returns its stdout; a failure or any complaint at `-v error` fails the test.
fn tool(program: &str, args: &[&str]) -> Vec<u8> {
    let mut cmd = Command::new(program);
    cmd.args(args);
    let r = run(cmd, Duration::from_secs(120));
    assert!(r.success(), "{}", r.describe());
    assert!(r.stderr.trim().is_empty(), "`{program}` complained: {}", r.describe());
    r.stdout
}

/// Decoded frames of one stream: (pts in ms, md5), from `ffmpeg -f framemd5`.
fn decoded_frames(input: &str, stream: &str) -> Vec<(f64, String)> {
    let text = String::from_utf8(tool("ffmpeg", &["-v", "error", "-i", input, "-map", stream, "-f", "framemd5", "-"]))
        .unwrap();
    let frames = common::framemd5::FrameMd5::parse(&text).unwrap_or_else(|e| panic!("framemd5 of {input}: {e}"));
    let ms = |packet: &common::framemd5::Packet| {
        let (num, den) = frames.streams[packet.stream].tb;
        packet.pts as f64 * num as f64 / den as f64 * 1000.0
    };
    frames.packets.iter().map(|packet| (ms(packet), packet.md5.clone())).collect()
}

/// The same pictures in the same order at the same times (plus one offset).
fn assert_same_video(source: &Path, url: &str) {
    let want = decoded_frames(source.to_str().unwrap(), "0:v");
    let got = decoded_frames(url, "0:v");
    assert!(!want.is_empty());
    let hashes = |f: &[(f64, String)]| f.iter().map(|(_, h)| h.clone()).collect::<Vec<_>>();
    assert_eq!(hashes(&got), hashes(&want), "decoded pictures of {url}");
    let offset = got[0].0 - want[0].0;
    for ((g, _), (w, _)) in got.iter().zip(&want) {
        assert!((g - w - offset).abs() <= 1.0, "pts {g} vs {w} (+{offset}) in {url}");
    }
}

/// The source's decoded audio is the stream's, which may start with up to `priming` more
/// samples (the encoder delay an MP4 edit list or a LAME tag tells decoders to drop, which TS
/// cannot say) and stop a frame earlier.
fn assert_same_audio(source: &Path, url: &str, priming: usize) {
    let pcm =
        |input: &str| tool("ffmpeg", &["-v", "error", "-i", input, "-map", "0:a", "-f", "s16le", "-ac", "1", "-"]);
    let want = pcm(source.to_str().unwrap());
    let got = pcm(url);
    assert!(want.len() > 10_000);
    let found = (0..=priming).find(|skip| {
        let from = skip * 2;
        let common = want.len().min(got.len().saturating_sub(from));
        common + 2 * 2048 >= want.len() && got[from..from + common] == want[..common]
    });
    assert!(found.is_some(), "decoded audio of {url} differs ({} vs {} bytes)", got.len(), want.len());
}

/// How long the source plays as HLS presents it, in ms: from its first picture (its start when
/// it has no video; a remuxed FLV's video can start after its audio) to its end.
fn duration_ms(source: &Path) -> f64 {
    let probe = |entries: &str, streams: &str| {
        let args = ["-v", "error", "-select_streams", streams, "-show_entries", entries, "-of", "csv=p=0"];
        let out = tool("ffprobe", &args.into_iter().chain([source.to_str().unwrap()]).collect::<Vec<_>>());
        let text = String::from_utf8(out).unwrap();
        text.split([',', '\n'])
            .filter(|v| !v.trim().is_empty())
            .map(|v| v.trim().parse::<f64>().unwrap())
            .collect::<Vec<_>>()
    };
    let (&[start, duration], video_start) =
        (&probe("format=start_time,duration", "a")[..], probe("stream=start_time", "v"))
    else {
        panic!("no start and duration for {}", source.display());
    };
    (start + duration - video_start.first().copied().unwrap_or(start)) * 1000.0
}

/// The segment URIs of a media playlist: `seg-<n>.ts?v=<tag>` in order, one tag for all.
fn segment_uris(text: &str) -> Vec<String> {
    let uris: Vec<String> = text.lines().filter(|l| !l.starts_with('#')).map(str::to_owned).collect();
    let tag = uris.first().and_then(|u| u.split_once("?v=")).map(|(_, tag)| tag.to_owned()).expect("a pinned URI");
    assert!(tag.len() == 16 && tag.bytes().all(|b| b.is_ascii_hexdigit()), "the version tag in\n{text}");
    for (n, uri) in uris.iter().enumerate() {
        assert_eq!(uri, &format!("seg-{n}.ts?v={tag}"), "segment {n} in\n{text}");
    }
    uris
}

/// RFC 8216 rules for a VOD media playlist: every rounded EXTINF at most the target duration,
/// the EXTINF sum the source's duration within one frame. Returns the segment URIs.
fn check_playlist(text: &str, source: &Path, frame_ms: f64) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "#EXTM3U", "{text}");
    for tag in ["#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-PLAYLIST-TYPE:VOD"] {
        assert!(lines.contains(&tag), "{tag} in\n{text}");
    }
    assert_eq!(lines.last(), Some(&"#EXT-X-ENDLIST"), "{text}");
    let target: u64 =
        lines.iter().find_map(|l| l.strip_prefix("#EXT-X-TARGETDURATION:")).expect("a target").parse().unwrap();
    let extinf: Vec<f64> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|v| v.trim_end_matches(',').parse::<f64>().unwrap())
        .collect();
    for d in &extinf {
        assert!(*d > 0.0 && d.round() as u64 <= target, "EXTINF {d} and target {target} in\n{text}");
    }
    let uris = segment_uris(text);
    assert_eq!(uris.len(), extinf.len(), "one URI per EXTINF in\n{text}");
    let sum = extinf.iter().sum::<f64>() * 1000.0;
    let duration = duration_ms(source);
    assert!((sum - duration).abs() <= frame_ms, "EXTINF sum {sum} ms vs duration {duration} ms");
    uris
}

/// Each segment fetched whole (its `Content-Length` exact, its type TS): PAT and PMT first,
/// continuity counters of every PID continuing across segments, a video segment opening with
/// an access unit that holds an IDR.
fn check_segments(server: &Server, base: &str, uris: &[String], video: bool) {
    let mut last_cc: HashMap<u16, u8> = HashMap::new();
    for (n, uri) in uris.iter().enumerate() {
        let reply = get(server, &format!("{base}/{uri}"));
        assert_eq!(reply.status, 200, "segment {n}: {}", reply.text());
        assert_eq!(reply.header("content-type"), Some("video/mp2t"));
        assert_eq!(reply.header("content-length"), Some(reply.body.len().to_string().as_str()), "segment {n}");
        let bytes = &reply.body;
        assert!(!bytes.is_empty() && bytes.len().is_multiple_of(188), "segment {n} is whole TS packets");
        let mut first_video_pes: Option<(Vec<u8>, bool)> = None;
        for (i, packet) in bytes.chunks(188).enumerate() {
            assert_eq!(packet[0], 0x47, "sync byte");
            let pid = u16::from_be_bytes([packet[1] & 0x1f, packet[2]]);
            if i < 2 {
                assert_eq!(pid, [0, 0x1000][i], "segment {n} starts with PAT, PMT");
            }
            let cc = packet[3] & 0x0f;
            if let Some(prev) = last_cc.insert(pid, cc) {
                assert_eq!(cc, (prev + 1) & 0x0f, "continuity of PID {pid:#x} into segment {n}");
            }
            // The first video PES: from the first video packet up to the next one that starts a PES.
            if pid == 0x100 {
                let start = packet[1] & 0x40 != 0;
                let at = if packet[3] & 0x20 != 0 { 5 + usize::from(packet[4]) } else { 4 };
                match (&mut first_video_pes, start) {
                    (None, _) => first_video_pes = Some((packet[at..].to_vec(), true)),
                    (Some((pes, true)), false) => pes.extend_from_slice(&packet[at..]),
                    (Some((_, open)), true) => *open = false,
                    _ => {}
                }
            }
        }
        if video {
            let (pes, _) = first_video_pes.expect("video in every segment");
            assert_eq!(&pes[..4], &[0, 0, 1, 0xe0]);
            let es = &pes[9 + usize::from(pes[8])..];
            let nal_types: Vec<u8> = es.windows(4).filter(|w| w[..3] == [0, 0, 1]).map(|w| w[3] & 0x1f).collect();
            assert_eq!(&nal_types[..3], &[9, 7, 8], "AUD, SPS, PPS open segment {n}");
            assert!(nal_types.contains(&5), "an IDR slice opens segment {n}: {nal_types:?}");
        }
    }
    // One past the end is not a segment.
    assert_eq!(get(server, &format!("{base}/seg-{}.ts", uris.len())).status, 404);
}

/// Everything about one source in the server's origin: playlist, segments, decoded video and
/// audio.
fn check_source(server: &Server, name: &str, frame_ms: f64, priming: usize, video: bool) {
    let source = server.origin.join(name);
    let base = format!("/hls/{name}");
    let reply = get(server, &format!("{base}/index.m3u8"));
    assert_eq!(reply.status, 200, "{name}: {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("application/vnd.apple.mpegurl"));
    assert!(reply.header("etag").is_some() && reply.header("cache-control").is_some(), "{:?}", reply.headers);
    let uris = check_playlist(&reply.text(), &source, frame_ms);
    assert!(uris.len() >= 2, "{name} makes several segments");
    check_segments(server, &base, &uris, video);
    let url = http_url(server, &format!("{base}/index.m3u8"));
    if video {
        assert_same_video(&source, &url);
        assert_same_video(&source, &http_url(server, &format!("{base}/master.m3u8")));
    }
    assert_same_audio(&source, &url, priming);
}

#[test]
fn ffmpeg_plays_mp4_flv_and_mp3_as_hls() {
    let server = server_with_segments(SEGMENT_SECONDS);
    check_source(&server, "clip_bframes.mp4", 40.0, 1024, true);
    check_source(&server, "clip_moovend.mp4", 40.0, 1024, true);
    check_source(&server, "clip.flv", 40.0, 0, true);
    // TS keeps the AAC priming frame an MP4 edit list drops: one more frame of audio.
    check_source(&server, "audio.m4a", 2.0 * 23.3, 1024, false);
    // LAME's delay and padding: decoders drop them reading the Info tag, TS keeps them.
    check_source(&server, "cbr.mp3", 27.0, 2 * 1152, false);
    check_source(&server, "vbr.mp3", 27.0, 2 * 1152, false);

    let master = get(&server, "/hls/clip_bframes.mp4/master.m3u8");
    assert_eq!(master.status, 200);
    let text = master.text();
    assert!(text.contains("RESOLUTION=160x120,FRAME-RATE=25.000,CODECS=\"avc1.64"), "{text}");
    assert!(text.contains(",mp4a.40.2\"\nindex.m3u8?v="), "{text}");
}

/// Runs ffmpeg with `args` (an output path last); a failure fails the test.
fn ffmpeg(args: &[&str]) {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-y"]).args(args);
    let r = run(cmd, Duration::from_secs(120));
    assert!(r.success(), "{}", r.describe());
}

/// An origin with `clip.flv` remade with other audio codecs: `clip_mp3.flv` (H.264 + MP3,
/// which HLS carries) and `clip_nellymoser.flv`, `clip_adpcm.flv` (which it cannot).
fn flv_audio_origin() -> TempDir {
    let dir = TempDir::new("hls-flv-audio");
    let clip = media().origin.join("clip.flv");
    for (name, codec) in [
        ("clip_mp3.flv", &["libmp3lame", "-b:a", "64k"][..]),
        ("clip_nellymoser.flv", &["nellymoser"]),
        ("clip_adpcm.flv", &["adpcm_swf"]),
    ] {
        let out = dir.path().join(name);
        let mut args = vec!["-i", clip.to_str().unwrap(), "-c:v", "copy", "-ar", "22050", "-c:a"];
        args.extend_from_slice(codec);
        args.extend(["-fflags", "+bitexact", "-f", "flv", out.to_str().unwrap()]);
        ffmpeg(&args);
    }
    dir
}

#[test]
fn ffmpeg_plays_flv_with_mp3_audio_and_other_audio_codecs_get_415() {
    let origin = flv_audio_origin();
    let args = vec!["--hls-segment-seconds".to_owned(), SEGMENT_SECONDS.to_owned()];
    let mut server = Server::start_with(origin.path(), ServerOptions { args, ..Default::default() });
    check_source(&server, "clip_mp3.flv", 40.0, 0, true);
    let master = get(&server, "/hls/clip_mp3.flv/master.m3u8").text();
    assert!(master.contains(",CODECS=\"avc1.64") && master.contains(",mp4a.40.34\"\n"), "{master}");
    for (name, codec) in [("clip_nellymoser.flv", "Nellymoser"), ("clip_adpcm.flv", "ADPCM")] {
        for resource in ["index.m3u8", "master.m3u8", "seg-0.ts"] {
            let reply = get(&server, &format!("/hls/{name}/{resource}"));
            assert_eq!(reply.status, 415, "{name}/{resource}: {}", reply.text());
            assert!(reply.text().contains(codec), "{name}/{resource}: {}", reply.text());
        }
    }
    server.assert_healthy();
}

/// A sample of the server's `/metrics` (name and labels as the encoder writes them).
fn metric(server: &Server, series: &str) -> u64 {
    let (status, text) = http_get(server.admin_addr(), "/metrics", Duration::from_secs(5)).unwrap();
    assert_eq!(status, 200);
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no {series} in /metrics:\n{text}")) as u64
}

/// Block reads so far, wherever they were served from: either cache tier or the origin.
fn block_reads(server: &Server) -> u64 {
    [
        "streamfront_cache_hits_total{tier=\"memory\"}",
        "streamfront_cache_hits_total{tier=\"disk\"}",
        "streamfront_cache_misses_total",
    ]
    .into_iter()
    .map(|series| metric(server, series))
    .sum()
}

/// Where an MP4's top-level `moov` box lies: [start, end) (ISO/IEC 14496-12 §4.2).
fn moov_range(file: &Path) -> (u64, u64) {
    let bytes = std::fs::read(file).unwrap();
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let mut size = u64::from(u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()));
        if size == 1 {
            size = u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap());
        }
        if &bytes[at + 4..at + 8] == b"moov" {
            return (at as u64, at as u64 + size);
        }
        assert!(size >= 8, "a box of size {size} in {}", file.display());
        at += size as usize;
    }
    panic!("no moov in {}", file.display())
}

const BLOCK: u64 = 64 * 1024;

#[test]
fn playlists_read_no_media_bytes() {
    let origin = TempDir::new("hls-reads");
    let long = media().origin.join("long.mp4");
    std::fs::copy(&long, origin.path().join("front.mp4")).unwrap();
    // The same 600 s with its `moov` after the media (no faststart).
    let back = origin.path().join("back.mp4");
    ffmpeg(&["-i", long.to_str().unwrap(), "-c", "copy", "-fflags", "+bitexact", back.to_str().unwrap()]);
    std::fs::copy(media().origin.join("clip.flv"), origin.path().join("clip.flv")).unwrap();
    let args = ["--cache-block-kb", "64"].map(str::to_owned).to_vec();
    let mut server = Server::start_with(origin.path(), ServerOptions { args, ..Default::default() });

    // Cold: an MP4's layout comes from its `moov`. The reads allowed: the head the format is
    // told from, the blocks the `moov` spans, and the cache's read-ahead of a block or two.
    for name in ["front.mp4", "back.mp4"] {
        let file = origin.path().join(name);
        let (start, end) = moov_range(&file);
        let size = std::fs::metadata(&file).unwrap().len();
        let allowed = (1 + end.div_ceil(BLOCK) - start / BLOCK + 2) * BLOCK;
        assert!(size > 4 * allowed, "{name}: {size} bytes is too small to tell (moov {start}..{end})");
        let before = metric(&server, "streamfront_origin_bytes_total");
        let reply = get(&server, &format!("/hls/{name}/index.m3u8"));
        assert_eq!(reply.status, 200, "{name}: {}", reply.text());
        assert!(segment_uris(&reply.text()).len() >= 80, "{name}: 600 s in segments of about 7 s");
        let read = metric(&server, "streamfront_origin_bytes_total") - before;
        assert!(read <= allowed, "{name}: the first playlist read {read} bytes of {size} (moov {start}..{end})");
    }
    // Once the layout is made, playlists read no block at all (not even from the cache).
    for name in ["front.mp4", "back.mp4", "clip.flv"] {
        let base = format!("/hls/{name}");
        let playlist = get(&server, &format!("{base}/index.m3u8"));
        assert_eq!(playlist.status, 200, "{name}: {}", playlist.text());
        let pin = pin_of(&playlist.text());
        let reads = block_reads(&server);
        for path in ["index.m3u8".to_owned(), "master.m3u8".to_owned(), format!("index.m3u8?v={pin}")] {
            for method in ["GET", "HEAD"] {
                let reply = request(server.http_port, method, "127.0.0.1", &format!("{base}/{path}"), &[]);
                assert_eq!(reply.status, 200, "{method} {name}/{path}: {}", reply.text());
            }
        }
        assert_eq!(block_reads(&server), reads, "{name}: playlists read blocks");
        // The counters do see frames being read: a segment reads its own.
        let segment = get(&server, &format!("{base}/seg-0.ts?v={pin}"));
        assert_eq!(segment.status, 200, "{name}: {}", segment.text());
        assert!(block_reads(&server) > reads, "{name}: a segment read no block?");
    }
    server.assert_healthy();
}

#[test]
fn the_wowza_alias_plays_the_same_stream() {
    let server = server_with_segments(SEGMENT_SECONDS);
    let ours = get(&server, "/hls/clip.mp4/index.m3u8");
    let wowza = get(&server, "/cfx/st/mp4:clip.mp4/playlist.m3u8");
    assert_eq!((ours.status, wowza.status), (200, 200), "{}", wowza.text());
    assert_eq!(wowza.body, ours.body);
    assert_eq!(get(&server, "/cfx/st/mp4:clip.mp4/seg-1.ts").body, get(&server, "/hls/clip.mp4/seg-1.ts").body);
    // The relative segment URIs resolve under the alias.
    let source = media().origin.join("clip.mp4");
    assert_same_video(&source, &http_url(&server, "/cfx/st/mp4:clip.mp4/playlist.m3u8"));
}

/// The `v=<tag>` every URI of `playlist` carries.
fn pin_of(playlist: &str) -> String {
    let uri = playlist.lines().find(|l| !l.starts_with('#')).expect("a URI");
    uri.split_once("?v=").expect("a pinned URI").1.to_owned()
}

#[test]
fn playlists_pin_segments_to_the_object_version() {
    let origin = TempDir::new("hls-versions");
    let file = origin.path().join("swap.mp4");
    std::fs::copy(media().origin.join("clip.mp4"), &file).unwrap();
    // Every open asks the origin whether the object changed.
    let args = ["--cache-ttl", "0", "--hls-segment-seconds", SEGMENT_SECONDS].map(str::to_owned).to_vec();
    let mut server = Server::start_with(origin.path(), ServerOptions { args, ..Default::default() });

    let playlist = get(&server, "/hls/swap.mp4/index.m3u8");
    assert_eq!(playlist.status, 200, "{}", playlist.text());
    assert_eq!(playlist.header("cache-control"), Some("public, max-age=60"), "the entry point follows the object");
    let first = segment_uris(&playlist.text());
    let old = pin_of(&playlist.text());
    let master = get(&server, "/hls/swap.mp4/master.m3u8").text();
    assert!(master.ends_with(&format!("\nindex.m3u8?v={old}\n")), "{master}");
    let pinned_playlist = get(&server, &format!("/hls/swap.mp4/index.m3u8?v={old}"));
    assert_eq!((pinned_playlist.status, &pinned_playlist.body), (200, &playlist.body));
    assert_eq!(pinned_playlist.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let segment = get(&server, &format!("/hls/swap.mp4/{}", first[1]));
    assert_eq!(segment.status, 200, "{}", segment.text());
    assert_eq!(segment.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let etag = segment.header("etag").expect("an ETag").to_owned();
    assert_eq!(playlist.header("etag"), Some(etag.as_str()), "one ETag per version");
    let again = request(
        server.http_port,
        "GET",
        "127.0.0.1",
        &format!("/hls/swap.mp4/{}", first[1]),
        &[("If-None-Match", &etag)],
    );
    assert_eq!(again.status, 304);
    // Other query parameters (a signature's) leave the pin alone.
    let signed = get(&server, &format!("/hls/swap.mp4/{}&Expires=1&Signature=x", first[1]));
    assert_eq!((signed.status, &signed.body), (200, &segment.body));

    // The object is replaced (another encoding, another size): the old pins are gone.
    std::fs::copy(media().origin.join("clip_bframes.mp4"), &file).unwrap();
    for stale in [first[1].clone(), format!("index.m3u8?v={old}")] {
        let reply = get(&server, &format!("/hls/swap.mp4/{stale}"));
        assert_eq!(reply.status, 410, "{stale}: {} bytes", reply.body.len());
        assert!(reply.text().contains("load its playlist again"), "{}", reply.text());
        let head = request(server.http_port, "HEAD", "127.0.0.1", &format!("/hls/swap.mp4/{stale}"), &[]);
        assert_eq!((head.status, head.body.len()), (410, 0));
    }
    let playlist = get(&server, "/hls/swap.mp4/index.m3u8").text();
    let new = pin_of(&playlist);
    assert_ne!(new, old, "{playlist}");
    let segment = get(&server, &format!("/hls/swap.mp4/{}", segment_uris(&playlist)[1]));
    assert_eq!(segment.status, 200, "{}", segment.text());
    assert_ne!(segment.header("etag"), Some(etag.as_str()));
    // The 304 of an old ETag is a 200 now.
    let unpinned = request(server.http_port, "GET", "127.0.0.1", "/hls/swap.mp4/seg-1.ts", &[("If-None-Match", &etag)]);
    assert_eq!((unpinned.status, &unpinned.body), (200, &segment.body));
    server.assert_healthy();
}

#[test]
fn bad_requests_get_clear_answers_and_rtmpt_still_works() {
    let mut server = Server::start(&media().origin);
    // The default, 6 s: the 5 s clip is one segment.
    let playlist = get(&server, "/hls/clip.mp4/index.m3u8").text();
    assert!(playlist.contains("#EXT-X-TARGETDURATION:5\n") && playlist.contains("seg-0.ts"), "{playlist}");
    assert!(!playlist.contains("seg-1.ts"), "{playlist}");

    for path in [
        "/hls/nosuch.mp4/index.m3u8",
        "/hls/clip.mp4/seg-1.ts",
        "/hls/clip.mp4/seg-99999.ts",
        "/hls/clip.mp4/seg-00.ts",
        "/hls/clip.mp4/other.m3u8",
        "/hls/clip.mp4",
        "/hls/../outside.mp4/index.m3u8",
        "/hls/%2E%2E/outside.mp4/index.m3u8",
        "/hls/dir/../../outside.flv/index.m3u8",
        "/hls/%FF.mp4/index.m3u8",
        "/cfx/st/mp4:nosuch.mp4/playlist.m3u8",
    ] {
        let reply = get(&server, path);
        assert_eq!(reply.status, 404, "{path}: {}", reply.text());
        assert!(!reply.body.is_empty() && reply.body.len() < 200, "{path}: a short reason: {}", reply.text());
    }
    // Sorenson video and MP3 audio: no H.264 to carry.
    let refused = get(&server, "/hls/classic.flv/index.m3u8");
    assert_eq!(refused.status, 415, "{}", refused.text());
    assert!(refused.text().contains("Sorenson"), "{}", refused.text());
    assert_eq!(get(&server, "/hls/classic.flv/seg-0.ts").status, 415);
    let post = request(server.http_port, "POST", "127.0.0.1", "/hls/clip.mp4/index.m3u8", &[("Content-Length", "0")]);
    assert_eq!(post.status, 405);

    // HEAD: the headers of GET, no body; a revalidation with the ETag: 304.
    let full = get(&server, "/hls/clip.mp4/seg-0.ts");
    let head = request(server.http_port, "HEAD", "127.0.0.1", "/hls/clip.mp4/seg-0.ts", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-length"), Some(full.body.len().to_string().as_str()));
    let etag = full.header("etag").expect("an ETag").to_owned();
    assert_eq!(head.header("etag"), Some(etag.as_str()));
    // Unpinned: the current version, cacheable for a minute.
    assert_eq!(full.header("cache-control"), Some("public, max-age=60"));
    assert_eq!(full.header("access-control-allow-origin"), Some("*"));
    let again = request(server.http_port, "GET", "127.0.0.1", "/hls/clip.mp4/seg-0.ts", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    // The listener's other paths are as before.
    let policy = get(&server, "/crossdomain.xml");
    assert_eq!(policy.status, 200);
    assert!(policy.text().contains("cross-domain-policy"));
    let ident = request(server.http_port, "POST", "127.0.0.1", "/fcs/ident2", &[("Content-Length", "0")]);
    assert_eq!(ident.status, 404);
    server.assert_healthy();
}

/// The versions pinned in scripts/browser-deps.sh, installed once (the script fails when
/// /usr/bin/chromium or npm is missing: this test never skips).
fn browser_deps() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/browser-deps.sh");
    let r = run(Command::new(&script), Duration::from_secs(600));
    assert!(r.success(), "scripts/browser-deps.sh could not install the browser test's tools: {}", r.describe());
    PathBuf::from(r.stdout_text().lines().last().unwrap_or_default().trim())
}

/// Where the browser seeks in `long.mp4` (600 s, key frames every 7 s).
const SEEK: f64 = 300.0;

#[test]
fn chromium_plays_and_seeks_hls_with_hls_js() {
    let deps = browser_deps();
    let server = Server::start(&media().origin);
    let scratch = TempDir::new("hls-browser");
    let mut cmd = Command::new("node");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/hls_play_and_seek.js"))
        .arg(http_url(&server, "/hls/long.mp4/index.m3u8"))
        .arg(SEEK.to_string())
        .arg(scratch.path().join("chromium-profile"))
        .arg(deps.join("node_modules/hls.js/dist/hls.min.js"))
        .env("NODE_PATH", deps.join("node_modules"));
    let r = run(cmd, Duration::from_secs(120));
    assert!(r.success(), "the browser did not play and seek: {}", r.describe());
    let reported: serde_json::Value = serde_json::from_str(r.stdout_text().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {}", r.describe()));
    assert!(reported["before"].as_f64().unwrap() < SEEK, "{reported}");
    let after = reported["after"]["currentTime"].as_f64().unwrap();
    assert!(after > SEEK + 1.0 && after < SEEK + 60.0, "playback goes on from the seek point: {reported}");
    println!("the browser reported {reported}");
    let segments = reported["segments"].as_array().unwrap();
    assert!(segments.iter().any(|s| s.as_str().unwrap().contains("/seg-0.ts?v=")), "{reported}");
    // The segment holding the seek point: 7 s segments, so seg-42 (294 s to 301 s).
    assert!(segments.iter().any(|s| s.as_str().unwrap().contains("/seg-42.ts?v=")), "{reported}");
}
