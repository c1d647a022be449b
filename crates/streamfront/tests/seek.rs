//! Seeking: ffmpeg's `-ss` (a `seek` command after play started), rtmpdump's `--start`/`--stop`
//! (the start and length arguments of `play`). The client must receive the source packets
//! from the key frame at or before the target (audio from about that key frame's time) —
//! exactly, with the source's timestamps — and, without a stop, through the end of the file.
//!
//! The short clips have key frames at 0, 1.2, 2.4, 3.6, 4.8 s, so no target below lies near one.

mod common;

use std::time::Duration;

use common::*;

/// `ffmpeg -ss SECS -i URL -c copy -copypriorss 1 ...`: `-copypriorss 1` keeps the
/// packets before the target that the server sent (ffmpeg would drop the leading ones).
fn ffmpeg_seek(path: &str, file: &str, secs: f64) {
    let server = Server::start(&media().origin);
    let ss = secs.to_string();
    let expect = Expect::From { target_ms: secs * 1000.0, stop: None, truncated: false };
    let summary = check_ffmpeg(&server.url(path), file, &expect, &["-ss", &ss], &["-copypriorss", "1"]);
    eprintln!("{summary}");
}

#[test]
fn ffmpeg_seek_mp4() {
    ffmpeg_seek("clip.mp4", "clip.mp4", 3.0);
}

#[test]
fn ffmpeg_seek_mp4_moov_at_end() {
    ffmpeg_seek("clip_moovend.mp4", "clip_moovend.mp4", 2.0);
}

#[test]
fn ffmpeg_seek_mp4_bframes() {
    ffmpeg_seek("clip_bframes.mp4", "clip_bframes.mp4", 3.0);
}

#[test]
fn ffmpeg_seek_flv_without_index() {
    ffmpeg_seek("clip.flv", "clip.flv", 3.0);
}

#[test]
fn ffmpeg_seek_flv_with_keyframe_index() {
    ffmpeg_seek("clip_index.flv", "clip_index.flv", 3.0);
}

#[test]
fn ffmpeg_seek_classic_flv() {
    ffmpeg_seek("classic.flv", "classic.flv", 2.0);
}

#[test]
fn ffmpeg_seek_mp3_cbr() {
    ffmpeg_seek("mp3:cbr", "cbr.mp3", 2.5);
}

#[test]
fn ffmpeg_seek_mp3_vbr() {
    ffmpeg_seek("mp3:vbr", "vbr.mp3", 2.5);
}

#[test]
fn ffmpeg_seek_m4a() {
    ffmpeg_seek("mp4:audio.m4a", "audio.m4a", 2.5);
}

/// rtmpdump `-A start -B stop` (seconds): play(name, start ms, stop - start ms). The server
/// restarts at the key frame at or before `start` and stops after the requested length:
/// counted from `start` or from that key frame (both accepted). rtmpdump itself exits 2
/// ("incomplete") when it stopped before 99.9 % of onMetaData.duration, so 0 and 2 are fine.
fn rtmpdump_start_stop(path: &str, file: &str, start: f64, stop: f64, key_before_start: f64) {
    let server = Server::start(&media().origin);
    let len_ms = (stop - start) * 1000.0;
    let lo = key_before_start * 1000.0 + len_ms - 250.0;
    let hi = stop * 1000.0 + 250.0;
    let expect = Expect::From { target_ms: start * 1000.0, stop: Some((lo, hi)), truncated: false };
    let (a, b) = (start.to_string(), stop.to_string());
    let summary = check_rtmpdump(&server.url(path), file, &expect, &["-A", &a, "-B", &b], &[0, 2]);
    eprintln!("{summary}");
}

#[test]
fn rtmpdump_start_and_stop_mp4() {
    rtmpdump_start_stop("clip.mp4", "clip.mp4", 2.0, 4.0, 1.2);
}

#[test]
fn rtmpdump_start_and_stop_flv() {
    rtmpdump_start_stop("clip_index.flv", "clip_index.flv", 2.0, 4.0, 1.2);
}

#[test]
fn rtmpdump_start_and_stop_mp3() {
    rtmpdump_start_stop("mp3:cbr", "cbr.mp3", 2.0, 4.0, 2.0);
}

/// `rtmpdump --start SECS`: from the key frame at or before SECS to the end; exit 0.
fn rtmpdump_start(path: &str, file: &str, secs: f64) {
    let server = Server::start(&media().origin);
    let expect = Expect::From { target_ms: secs * 1000.0, stop: None, truncated: false };
    let s = secs.to_string();
    eprintln!("{}", check_rtmpdump(&server.url(path), file, &expect, &["--start", &s], &[0]));
}

#[test]
fn rtmpdump_start_mp4_bframes() {
    rtmpdump_start("clip_bframes.mp4", "clip_bframes.mp4", 3.0);
}

#[test]
fn rtmpdump_start_flv_without_index() {
    rtmpdump_start("clip.flv", "clip.flv", 2.0);
}

#[test]
fn rtmpdump_start_mp3_vbr() {
    rtmpdump_start("mp3:vbr", "vbr.mp3", 2.5);
}

/// Seeking 5 minutes into a 10-minute MP4: the first packet must arrive about as quickly as
/// when playing from the start (the server jumps with the index; it does not read or send
/// the 5 minutes before). ffmpeg probes only 0.2 s of media (`-analyzeduration 200000`) so its
/// own probing (5 s of media by default, paced) does not dominate the measurement. Generous
/// bounds; the numbers are printed.
#[test]
fn seek_far_into_a_long_file_is_fast() {
    let server = Server::start(&media().origin);
    let url = server.url("long.mp4");
    let limit = Duration::from_secs(60);
    let probe = ["-analyzeduration", "200000"];
    let (base, r) = ffmpeg_time_to_first_packet(&url, &probe, &["-t", "1"], limit);
    assert!(r.success(), "ffmpeg from the start: {}", r.describe());
    let base = base.expect("no packet from the start of long.mp4");
    let (seek, r) = ffmpeg_time_to_first_packet(
        &url,
        &[probe[0], probe[1], "-ss", "300"],
        &["-t", "1", "-copypriorss", "1"],
        limit,
    );
    assert!(r.success(), "ffmpeg -ss 300: {}", r.describe());
    let seek = seek.expect("no packet after -ss 300");
    eprintln!(
        "long.mp4: first packet after {:.3}s from the start, {:.3}s with -ss 300",
        base.as_secs_f64(),
        seek.as_secs_f64()
    );
    // The delivered packets are the source's from the key frame at 294 s.
    let fm = FrameMd5::parse(&r.stdout_text()).unwrap();
    let expect = Expect::From { target_ms: 300_000.0, stop: None, truncated: true };
    compare(&fm, &source("long.mp4"), &expect).unwrap_or_else(|e| panic!("ffmpeg -ss 300 long.mp4: {e}"));
    assert!(
        seek < Duration::from_secs(3) && seek < base + Duration::from_secs(1),
        "first packet {:.3}s after starting ffmpeg -ss 300 (from the start: {:.3}s)",
        seek.as_secs_f64(),
        base.as_secs_f64()
    );
}
