//! An RTMPS viewer that plays and then stops reading is dropped after `--stalled-timeout`,
//! while another RTMPS viewer playing at the same time gets every packet, and the server's
//! memory does not grow with what the stalled viewer left unread.

mod common;
mod tls_support;

use std::process::Command;
use std::time::{Duration, Instant};

use common::raw::{RawClient, wait_closed};
use common::*;
use tls_support::*;

const STALLED: Duration = Duration::from_secs(2);
/// Far above any wait in this test.
const NEVER: &str = "600";
/// Seconds of `noise.flv`: random pixels, about 3.6 MB a second, far more than the socket
/// buffers on both sides and rustls's take.
const NOISE_SECONDS: u32 = 10;

/// An origin with `noise.flv` and the `long.mp4` of the shared media.
fn origin() -> TempDir {
    let dir = TempDir::new("tls-stalled-origin");
    std::fs::copy(media().origin.join("long.mp4"), dir.path().join("long.mp4")).unwrap();
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("nullsrc=s=320x240:r=25:d={NOISE_SECONDS},geq=random(1)*255:128:128"))
        .args(["-c:v", "flv1", "-q:v", "2"])
        .arg(dir.path().join("noise.flv"));
    let r = run(cmd, Duration::from_secs(60));
    assert!(r.success(), "making noise.flv: {}", r.describe());
    dir
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn rtmps_viewer_that_stops_reading_is_dropped_and_holds_back_no_one() {
    require_tool("ffmpeg");
    let origin = origin();
    let noise_bytes = std::fs::metadata(origin.path().join("noise.flv")).unwrap().len();
    let dir = TempDir::new("tls-stalled");
    // webpki takes no self-signed certificate for a server's own: a leaf signed by a CA.
    let ca = Cert::make(dir.path(), "ca", "test CA", &["ca.test"]);
    let cert = Cert::make_leaf(dir.path(), "localhost", &["localhost"], &ca);
    let stalled = STALLED.as_secs().to_string();
    let extra = [
        "--stalled-timeout",
        stalled.as_str(),
        "--idle-timeout",
        NEVER,
        "--handshake-timeout",
        NEVER,
        // The cache holds a little of the noise: RSS shows what connections hold.
        "--cache-memory-mb",
        "4",
        "--cache-disk-mb",
        "0",
    ];
    let (mut server, port) = start_tls(origin.path(), &[("localhost", &cert)], &extra);
    let pid = server.pid().unwrap();
    let viewer = rtmps_viewer(port, &ca.cert, 15);
    wait_for_plays(&server, 1);
    let before = rss_kib(pid);

    // A small receive window (set before connecting: the window scale is agreed in the SYN).
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into()).unwrap();
    let mut c = RawClient::over_wire(tls_wire(socket.into(), &ca.cert)).unwrap();
    c.handshake().expect("RTMP handshake inside TLS");
    c.connect_app("cfx/st", port).expect("connect");
    let sid = c.create_stream().expect("createStream");
    // A 10-hour buffer: the server sends the whole file as fast as the socket takes it.
    let mut buffer = vec![0, 3];
    buffer.extend_from_slice(&sid.to_be_bytes());
    buffer.extend_from_slice(&36_000_000u32.to_be_bytes());
    c.send(2, 4, 0, &buffer).unwrap();
    c.play(sid, "noise", None).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    c.read_until(deadline, |m| m.code().as_deref() == Some("NetStream.Play.Start")).expect("NetStream.Play.Start");

    // Stop reading, keep the connection open; watch the server's memory meanwhile.
    let stopped = Instant::now();
    let client = c.local_addr().to_string();
    let mut peak = before;
    let line = loop {
        peak = peak.max(rss_kib(pid));
        let log = server.log();
        if let Some(line) = log.lines().find(|l| l.contains("disconnect") && l.contains(&client)) {
            break line.to_owned();
        }
        let waited = stopped.elapsed();
        assert!(
            waited < STALLED + Duration::from_secs(6),
            "{client} stopped reading {waited:?} ago and is still connected:\n{log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = stopped.elapsed();
    assert!(line.contains("stalled"), "the disconnect line does not say stalled: {line}");
    assert!(took >= STALLED, "dropped {took:?} after it stopped reading");
    // What the kernel holds drains, then the connection ends.
    assert!(wait_closed(&mut c.stream.sock, Duration::from_secs(5)).is_some(), "the socket stays open after the drop");

    // The unread part of the noise stayed with the origin and the cache, not in the server.
    let grown = peak.saturating_sub(before);
    eprintln!(
        "RSS {before} KiB before the stalled viewer, {peak} KiB at most while it stalled; noise.flv {noise_bytes} bytes"
    );
    assert!(grown * 1024 < noise_bytes / 2, "RSS grew by {grown} KiB for a stalled viewer of {noise_bytes} bytes");

    assert!(!viewer.is_finished(), "the other viewer should still be playing when the stalled one is dropped");
    let played = viewer.join().expect("the other RTMPS viewer plays every packet");
    eprintln!("{played}");
    server.assert_healthy();
}
