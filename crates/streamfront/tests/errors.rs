//! What players see when something is wrong, and what misbehaving peers get: missing files,
//! wrong applications and escaping names get their status codes quickly; garbage, a half
//! handshake and an oversized chunk get the connection closed — and the server keeps serving.

mod common;

use std::io::Write;
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use common::raw::{self, RawClient, wait_closed};
use common::*;

const NOT_FOUND: &str = "NetStream.Play.StreamNotFound";
const REJECTED: &str = "NetConnection.Connect.Rejected";

/// After an abuse test: the server still plays a normal stream exactly and is healthy.
fn still_serves(server: &mut Server) {
    server.assert_healthy();
    eprintln!("{}", check_ffmpeg(&server.url("clip.flv"), "clip.flv", &Expect::Whole, &[], &[]));
    server.assert_healthy();
}

fn contains_ci(text: &str, needle: &str) -> bool {
    text.to_lowercase().contains(&needle.to_lowercase())
}

#[test]
fn missing_file_ffmpeg_fails_fast_with_stream_not_found() {
    let server = Server::start(&media().origin);
    check_each(&["no-such-file.mp4", "no-such-file", "mp3:no-such-file", "dir/missing.mp4"], |path| {
        let r = ffmpeg_framemd5(&server.url(path), &[], &[], Duration::from_secs(20));
        if r.success() || r.timed_out {
            return Err(format!("ffmpeg should fail: {}", r.describe()));
        }
        if r.elapsed >= Duration::from_secs(2) {
            return Err(format!("ffmpeg took {:.2}s to fail", r.elapsed.as_secs_f64()));
        }
        if !contains_ci(&r.stderr, "StreamNotFound") {
            return Err(format!("no \"StreamNotFound\" in ffmpeg's stderr: {:?}", r.stderr.trim()));
        }
        Ok(())
    });
}

#[test]
fn missing_file_rtmpdump_fails_fast() {
    let server = Server::start(&media().origin);
    check_each(&["no-such-file.mp4", "no-such-file.flv", "mp3:no-such-file"], |path| {
        let (r, _dir) = rtmpdump(&server.url(path), &[], Duration::from_secs(20));
        if r.success() || r.timed_out {
            return Err(format!("rtmpdump should fail: {}", r.describe()));
        }
        if r.elapsed >= Duration::from_secs(3) {
            return Err(format!("rtmpdump took {:.2}s to fail", r.elapsed.as_secs_f64()));
        }
        if !contains_ci(&r.stderr, NOT_FOUND) {
            return Err(format!("no {NOT_FOUND} in rtmpdump's stderr: {}", tail(&r.stderr, 5)));
        }
        Ok(())
    });
}

/// Plays `name` with the raw client and expects the last onStatus code to be `want` within
/// 1.5 s.
fn raw_play_gets(server: &Server, name: &str, want: &str) -> Result<(), String> {
    let (codes, took) = RawClient::play_until(
        server.rtmp_addr(),
        name,
        &[NOT_FOUND, "NetStream.Play.Start", "NetStream.Play.Failed", "NetStream.Failed"],
        Duration::from_secs(5),
    )?;
    if codes.last().map(String::as_str) != Some(want) {
        return Err(format!("expected {want}, got onStatus codes {codes:?}"));
    }
    if took >= Duration::from_millis(1500) {
        return Err(format!("{want} only after {:.3}s", took.as_secs_f64()));
    }
    Ok(())
}

#[test]
fn missing_file_gets_stream_not_found_within_a_second() {
    let server = Server::start(&media().origin);
    check_each(
        &["nothing-here", "mp4:nothing-here.mp4", "mp3:nothing-here", "mp4:nothing-here", "dir/nothing"],
        |name| raw_play_gets(&server, name, NOT_FOUND),
    );
}

#[test]
fn raw_client_can_play_a_real_file() {
    // Control for the raw-client tests: the same client gets Play.Start for files that exist.
    let server = Server::start(&media().origin);
    check_each(
        &["clip", "mp4:clip.mp4", "clip.mp4", "mp3:cbr", "dir/clip", "mp4:dir/sub/movie.mp4", "movie.mp4", "mp4:movie"],
        |name| raw_play_gets(&server, name, "NetStream.Play.Start"),
    );
}

#[test]
fn names_escaping_the_origin_are_not_found() {
    let server = Server::start(&media().origin);
    // outside.mp4 and outside.flv exist right next to the origin directory.
    let outside = media().outside_dir.join("outside");
    let abs = outside.to_str().unwrap().to_string();
    let names = [
        "../outside".to_string(),
        "flv:../outside".to_string(),
        "../outside.flv".to_string(),
        "mp4:../outside.mp4".to_string(),
        "../outside.mp4".to_string(),
        "dir/../../outside".to_string(),
        "mp4:dir/../../outside.mp4".to_string(),
        "dir/../clip".to_string(),
        "./../outside".to_string(),
        "mp4:../origin/clip.mp4".to_string(),
        "..".to_string(),
        "mp4:..".to_string(),
        abs.clone(),
        format!("mp4:{abs}.mp4"),
        format!("flv:{abs}"),
        "/clip".to_string(),
        "mp4:/clip.mp4".to_string(),
        "..\\outside".to_string(),
        "mp4:..\\outside.mp4".to_string(),
        "dir\\clip".to_string(),
        "%2e%2e/outside".to_string(),
        "mp4:%2E%2E%2Foutside.mp4".to_string(),
        "..%2foutside".to_string(),
        "dir%2fclip".to_string(),
        "mp4:clip%2emp4".to_string(),
        "cl%69p".to_string(),
    ];
    check_each(&names, |name| raw_play_gets(&server, name, NOT_FOUND));
    // ffmpeg with a `../` URL path (it sends mp4:../outside.mp4).
    let r = ffmpeg_framemd5(&server.url("../outside.mp4"), &[], &[], Duration::from_secs(20));
    assert!(!r.success(), "ffmpeg must not play ../outside.mp4: {}", r.describe());
}

#[test]
fn wrong_application_is_rejected() {
    let server = Server::start(&media().origin);
    let connect = |app: &str| -> Result<raw::Message, String> {
        let mut c = RawClient::connect(server.rtmp_addr()).map_err(|e| e.to_string())?;
        c.handshake().map_err(|e| format!("handshake: {e}"))?;
        c.connect_app(app, server.rtmp_port()).map_err(|e| format!("connect: {e}"))
    };
    check_each(&["vod", "cfx/x", "cfx/stx", "cfxst", "live/st", "cfx/st2", "", "st/cfx"], |app| {
        let reply = connect(app)?;
        if reply.name().as_deref() != Some("_error") || reply.code().as_deref() != Some(REJECTED) {
            return Err(format!("expected _error {REJECTED}, got {:?} {:?}", reply.name(), reply.code()));
        }
        Ok(())
    });
    // The right app, also with extra folders, is accepted; `cfx` alone is librtmp's app for
    // `rtmp://host/cfx/st` with the play path apart (`-y`).
    check_each(&["cfx/st", "cfx/st/dir", "cfx/st/dir/sub", "cfx"], |app| {
        let reply = connect(app)?;
        if reply.name().as_deref() != Some("_result") {
            return Err(format!("expected _result, got {:?} {:?}", reply.name(), reply.code()));
        }
        Ok(())
    });
}

#[test]
fn wrong_application_real_clients_fail_fast() {
    let server = Server::start(&media().origin);
    let url = format!("rtmp://127.0.0.1:{}/vod/clip.mp4", server.rtmp_port());
    let r = ffmpeg_framemd5(&url, &[], &[], Duration::from_secs(20));
    assert!(!r.success() && !r.timed_out, "ffmpeg should fail for app vod: {}", r.describe());
    assert!(r.elapsed < Duration::from_secs(3), "ffmpeg took {:.2}s to fail", r.elapsed.as_secs_f64());
    let (r, _dir) = rtmpdump(&url, &[], Duration::from_secs(20));
    assert!(!r.success() && !r.timed_out, "rtmpdump should fail for app vod: {}", r.describe());
    assert!(r.elapsed < Duration::from_secs(5), "rtmpdump took {:.2}s to fail", r.elapsed.as_secs_f64());
}

fn pseudo_random(n: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn garbage_bytes_get_the_connection_closed() {
    let mut server = Server::start(&media().origin);
    for first in [0xFFu8, 0x00, 0x80, 0x05] {
        let mut s = TcpStream::connect(server.rtmp_addr()).unwrap();
        let mut bytes = pseudo_random(4096, 0xBAD5EED);
        bytes[0] = first;
        let _ = s.write_all(&bytes);
        let closed = wait_closed(&mut s, Duration::from_secs(10));
        assert!(
            closed.is_some(),
            "connection still open 10s after {} garbage bytes starting with {first:#04x}",
            bytes.len()
        );
    }
    still_serves(&mut server);
}

#[test]
fn garbage_after_the_handshake_gets_the_connection_closed() {
    let mut server = Server::start(&media().origin);
    let mut c = RawClient::connect(server.rtmp_addr()).unwrap();
    c.handshake().unwrap();
    // A well-formed type-20 command whose body is not AMF, then random chunk bytes.
    c.send(3, 20, 0, &pseudo_random(300, 7)).unwrap();
    let _ = c.stream.write_all(&pseudo_random(8192, 99));
    let closed = wait_closed(&mut c.stream, Duration::from_secs(10));
    assert!(closed.is_some(), "connection still open 10s after garbage chunks");
    still_serves(&mut server);
}

#[test]
fn half_handshake_then_eof_gets_the_connection_closed() {
    let mut server = Server::start(&media().origin);
    let mut s = TcpStream::connect(server.rtmp_addr()).unwrap();
    let mut c0c1 = vec![3u8];
    c0c1.extend(pseudo_random(700, 3));
    s.write_all(&c0c1).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    let closed = wait_closed(&mut s, Duration::from_secs(10));
    assert!(closed.is_some(), "connection still open 10s after C0 + half a C1 and EOF");
    still_serves(&mut server);
}

#[test]
fn stalled_half_handshake_is_dropped_and_does_not_block_others() {
    let mut server = Server::start_with(
        &media().origin,
        // The handshake timeout is what must close them: the idle timeout is out of reach.
        ServerOptions {
            args: ["--handshake-timeout", "3", "--idle-timeout", "600"].map(String::from).to_vec(),
            ..Default::default()
        },
    );
    let opened = Instant::now();
    let mut stalled = Vec::new();
    for n in [0usize, 1, 700, 1536] {
        let mut s = TcpStream::connect(server.rtmp_addr()).unwrap();
        let mut bytes = vec![3u8];
        bytes.extend(pseudo_random(n, 11));
        s.write_all(&bytes[..(n + 1).min(bytes.len())]).unwrap();
        if n == 0 {
            // Connect and send nothing at all.
            s = TcpStream::connect(server.rtmp_addr()).unwrap();
        }
        stalled.push((n, s));
    }
    // Others are served while those connections hang.
    still_serves(&mut server);
    // Closed 3 s after they opened, so well before 8 s (the default 10 s would be too late).
    for (n, s) in &mut stalled {
        let left = Duration::from_secs(8).saturating_sub(opened.elapsed());
        let closed = wait_closed(s, left.max(Duration::from_millis(1)));
        assert!(
            closed.is_some(),
            "a connection that sent {} handshake bytes and stalled was still open after {:.1}s \
             (server started with --handshake-timeout 3)",
            if *n == 0 { 0 } else { *n + 1 },
            opened.elapsed().as_secs_f64()
        );
    }
    server.assert_healthy();
}

#[test]
fn oversized_chunk_gets_the_connection_closed() {
    let mut server = Server::start(&media().origin);
    let mut c = RawClient::connect(server.rtmp_addr()).unwrap();
    c.handshake().unwrap();
    // Set Chunk Size to the largest legal value, then announce a 16 MiB command message and
    // start sending it: the server must not buffer it all, it closes the connection.
    c.send(2, 1, 0, &0x7FFF_FFFFu32.to_be_bytes()).unwrap();
    let mut header = vec![0x03u8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 20];
    header.extend_from_slice(&0u32.to_le_bytes());
    c.stream.write_all(&header).unwrap();
    let mut writer = c.stream.try_clone().unwrap();
    let feeder = std::thread::spawn(move || {
        let block = vec![0u8; 65536];
        let mut sent = 0usize;
        while sent < 0xFF_FFFF {
            if writer.write_all(&block).is_err() {
                break;
            }
            sent += block.len();
        }
        sent
    });
    let closed = wait_closed(&mut c.stream, Duration::from_secs(15));
    let _ = c.stream.shutdown(Shutdown::Both);
    let sent = feeder.join().unwrap();
    assert!(closed.is_some(), "connection still open 15s into a 16 MiB command message ({sent} bytes sent)");
    eprintln!("closed after {:.3}s, {sent} bytes of the 16 MiB message written", closed.unwrap().as_secs_f64());

    // And a message announced larger than any sane command in default 128-byte chunks.
    let mut c = RawClient::connect(server.rtmp_addr()).unwrap();
    c.handshake().unwrap();
    let mut header = vec![0x03u8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 20];
    header.extend_from_slice(&0u32.to_le_bytes());
    c.stream.write_all(&header).unwrap();
    let mut writer = c.stream.try_clone().unwrap();
    let feeder = std::thread::spawn(move || {
        let mut chunk = vec![0xC3u8];
        chunk.extend(vec![0u8; 128]);
        let many: Vec<u8> = chunk.iter().cycle().take(chunk.len() * 512).cloned().collect();
        let mut sent = 0usize;
        while sent < 0xFF_FFFF + 0xFF_FFFF / 128 {
            if writer.write_all(&many).is_err() {
                break;
            }
            sent += many.len();
        }
    });
    let closed = wait_closed(&mut c.stream, Duration::from_secs(15));
    let _ = c.stream.shutdown(Shutdown::Both);
    feeder.join().unwrap();
    assert!(closed.is_some(), "connection still open 15s into a 16 MiB command message in 128-byte chunks");
    still_serves(&mut server);
}
