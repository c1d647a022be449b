//! Checks of the test harness itself (no server involved): the generated media, the
//! framemd5 comparison (a remux to FLV — what the server does — must compare equal; damaged
//! copies must not), and the clients failing against a port nobody listens on.

mod common;

use std::process::Command;
use std::time::Duration;

use common::*;

/// `ffmpeg -i SRC -c copy -f flv OUT`: the file-level equivalent of serving SRC over RTMP.
fn remux_to_flv(name: &str) -> FrameMd5 {
    let src = source(name);
    let dir = TempDir::new("remux");
    let out = dir.path().join("out.flv");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-i"]).arg(&src.path).args(["-c", "copy", "-f", "flv"]).arg(&out);
    let r = run(cmd, Duration::from_secs(60));
    assert!(r.success(), "{}", r.describe());
    framemd5_file(&out).unwrap()
}

#[test]
fn media_files_have_the_expected_streams() {
    let expect: &[(&str, &[(&str, &str)])] = &[
        ("clip.mp4", &[("audio", "aac"), ("video", "h264")]),
        ("clip_moovend.mp4", &[("audio", "aac"), ("video", "h264")]),
        ("clip_bframes.mp4", &[("audio", "aac"), ("video", "h264")]),
        ("clip.mov", &[("audio", "aac"), ("video", "h264")]),
        ("clip.f4v", &[("audio", "aac"), ("video", "h264")]),
        ("clip.flv", &[("audio", "aac"), ("video", "h264")]),
        ("clip_index.flv", &[("audio", "aac"), ("video", "h264")]),
        ("classic.flv", &[("audio", "mp3"), ("video", "flv1")]),
        ("audio.m4a", &[("audio", "aac")]),
        ("video_only.mp4", &[("video", "h264")]),
        ("cbr.mp3", &[("audio", "mp3")]),
        ("vbr.mp3", &[("audio", "mp3")]),
        ("sample.mp4", &[("audio", "aac"), ("video", "h264")]),
    ];
    for (name, streams) in expect {
        let tracks = source(name).frames.tracks().unwrap();
        let got: Vec<(String, String)> = tracks.values().map(|t| (t.media_type.clone(), t.codec.clone())).collect();
        let want: Vec<(String, String)> = streams.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(got, want, "{name}");
        for t in tracks.values() {
            let secs = t.pkts.last().unwrap().pts_ms / 1000.0;
            let want = if *name == "sample.mp4" { 10.0 } else { CLIP_SECONDS };
            assert!((secs - want).abs() < 0.5, "{name}: {} track ends at {secs} s", t.media_type);
        }
    }
    let bf = source("clip_bframes.mp4").frames.tracks().unwrap();
    assert!(
        bf["video"].pkts.iter().any(|p| p.pts_ms != p.dts_ms),
        "clip_bframes.mp4 should have B-frames (pts != dts)"
    );
    let keys: Vec<f64> = source("clip.mp4").frames.tracks().unwrap()["video"]
        .pkts
        .iter()
        .filter(|p| p.key)
        .map(|p| (p.pts_ms / 100.0).round() / 10.0)
        .collect();
    assert_eq!(keys, vec![0.0, 1.2, 2.4, 3.6, 4.8], "key frames of clip.mp4");
}

#[test]
fn long_file_is_ten_minutes_with_sparse_key_frames() {
    let t = source("long.mp4").frames.tracks().unwrap();
    let v = &t["video"];
    assert!((v.pkts.last().unwrap().pts_ms / 1000.0 - LONG_SECONDS).abs() < 1.0);
    let keys = v.pkts.iter().filter(|p| p.key).count();
    assert_eq!(keys as f64, (LONG_SECONDS / LONG_GOP_SECONDS).ceil());
}

#[test]
fn a_file_compares_equal_to_itself() {
    for name in ["clip.mp4", "clip_bframes.mp4", "vbr.mp3", "classic.flv"] {
        let src = source(name);
        compare(&src.frames, &src, &Expect::Whole).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn a_remux_to_flv_compares_equal() {
    for name in [
        "clip.mp4",
        "clip_moovend.mp4",
        "clip_bframes.mp4",
        "audio.m4a",
        "video_only.mp4",
        "clip.mov",
        "clip.f4v",
        "clip_index.flv",
        "classic.flv",
        "cbr.mp3",
        "vbr.mp3",
    ] {
        let flv = remux_to_flv(name);
        let summary = compare(&flv, &source(name), &Expect::Whole).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {summary}");
    }
}

#[test]
fn damaged_copies_are_rejected_with_the_first_differing_packet() {
    let src = source("clip_bframes.mp4");
    let good = remux_to_flv("clip_bframes.mp4");
    let video = good.streams.iter().find(|s| s.media_type == "video").unwrap().index;
    let audio = good.streams.iter().find(|s| s.media_type == "audio").unwrap().index;
    let nth = |fm: &FrameMd5, stream: usize, n: usize| {
        fm.packets.iter().enumerate().filter(|(_, p)| p.stream == stream).nth(n).unwrap().0
    };

    let mut dropped = good.clone();
    dropped.packets.remove(nth(&good, video, 40));
    let e = compare(&dropped, &src, &Expect::Whole).unwrap_err();
    assert!(e.contains("video: packet #40 differs"), "{e}");

    let mut swapped = good.clone();
    let (a, b) = (nth(&good, audio, 10), nth(&good, audio, 11));
    let md5 = swapped.packets[a].md5.clone();
    swapped.packets[a].md5 = swapped.packets[b].md5.clone();
    swapped.packets[b].md5 = md5;
    let e = compare(&swapped, &src, &Expect::Whole).unwrap_err();
    assert!(e.contains("audio: packet #10 differs"), "{e}");

    let mut truncated = good.clone();
    let last = nth(&good, audio, 100);
    truncated.packets.retain(|p| p.stream != audio || p.dts < good.packets[last].dts);
    let e = compare(&truncated, &src, &Expect::Whole).unwrap_err();
    assert!(e.contains("audio: only 100 of"), "{e}");

    let mut shifted = good.clone();
    for p in shifted.packets.iter_mut().filter(|p| p.stream == audio) {
        p.dts += 5;
        p.pts += 5;
    }
    let e = compare(&shifted, &src, &Expect::Whole).unwrap_err();
    assert!(e.contains("timestamps are not the source's plus one constant offset"), "{e}");

    let mut one_off = good.clone();
    let i = nth(&good, video, 30);
    one_off.packets[i].pts += 3;
    let e = compare(&one_off, &src, &Expect::Whole).unwrap_err();
    assert!(e.contains("first packet off: video #30"), "{e}");

    let mut shifted_all = good.clone();
    for p in shifted_all.packets.iter_mut() {
        p.dts += 1000;
        p.pts += 1000;
    }
    compare(&shifted_all, &src, &Expect::Whole).expect("a common offset is fine");
}

#[test]
fn seek_expectation_starts_at_the_key_frame_before_the_target() {
    // Build a "delivered" stream by hand: the source from the key frame at 1.2 s (video) and
    // from the audio packet at that time, as a server restarting at 2.0 s would send it.
    let src = source("clip.mp4");
    let tracks = src.frames.tracks().unwrap();
    let mut fm = src.frames.clone();
    let vstream = fm.streams.iter().find(|s| s.media_type == "video").unwrap().index;
    let astream = fm.streams.iter().find(|s| s.media_type == "audio").unwrap().index;
    let kf_ms = tracks["video"].pkts.iter().rfind(|p| p.key && p.pts_ms <= 2000.0).unwrap().pts_ms;
    let tb_ms = |s: usize| 1000.0 * fm.streams[s].tb.0 as f64 / fm.streams[s].tb.1 as f64;
    let (vt, at) = (tb_ms(vstream), tb_ms(astream));
    fm.packets.retain(|p| {
        if p.stream == vstream { p.dts as f64 * vt >= kf_ms - 1.0 } else { p.dts as f64 * at >= kf_ms - 20.0 }
    });
    let expect = Expect::From { target_ms: 2000.0, stop: None, truncated: false };
    compare(&fm, &src, &expect).unwrap();
    // Starting at the next key frame (2.4 s) instead is wrong.
    let mut late = fm.clone();
    late.packets.retain(|p| if p.stream == vstream { p.dts as f64 * vt >= 2399.0 } else { true });
    let e = compare(&late, &src, &expect).unwrap_err();
    assert!(e.contains("video: packet #0 differs"), "{e}");
}

#[test]
fn clients_fail_against_a_closed_port() {
    let port = free_port();
    let url = format!("rtmp://127.0.0.1:{port}/cfx/st/clip.mp4");
    let r = ffmpeg_framemd5(&url, &[], &[], Duration::from_secs(20));
    assert!(!r.success() && !r.timed_out, "ffmpeg should fail at once: {}", r.describe());
    let (r, _dir) = rtmpdump(&url, &["-m", "5"], Duration::from_secs(20));
    assert!(!r.success() && !r.timed_out, "rtmpdump should fail at once: {}", r.describe());
}

#[test]
fn url_encoding_for_rtmpdump() {
    assert_eq!(url_encode("My Videos/Café 日.mp4"), "My%20Videos/Caf%C3%A9%20%E6%97%A5.mp4");
}
