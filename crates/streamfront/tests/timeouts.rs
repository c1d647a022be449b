//! Each connection timeout closes what it is for, and each test uses settings under which no
//! other timeout could be what closed the connection: the idle, stalled and handshake timeouts
//! of RTMP connections, and the expiry of RTMPT tunnel sessions.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use common::raw::{RawClient, wait_closed};
use common::*;

/// Far above any wait in these tests.
const NEVER: &str = "600";

fn server(args: &[&str]) -> Server {
    let args = args.iter().map(|a| a.to_string()).collect();
    Server::start_with(&media().origin, ServerOptions { args, ..Default::default() })
}

/// Waits up to `limit` for a server log line with all of `words`; returns it.
fn log_line(server: &Server, words: &[&str], limit: Duration) -> Option<String> {
    let deadline = Instant::now() + limit;
    loop {
        let found = server.log().lines().find(|l| words.iter().all(|w| l.contains(w))).map(str::to_owned);
        if found.is_some() || Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Closed by the server after about `timeout` (not long before: another reason would be a
/// different bug), within `limit`.
fn assert_closed_after(stream: &mut TcpStream, timeout: Duration, limit: Duration, what: &str, server: &Server) {
    let took = wait_closed(stream, limit);
    let took = took.unwrap_or_else(|| panic!("{what}: still open after {limit:?}\n{}", tail(&server.log(), 20)));
    assert!(
        took + Duration::from_millis(300) >= timeout,
        "{what}: closed after {took:?}, before the {timeout:?} timeout"
    );
}

#[test]
fn idle_connection_is_closed_after_the_idle_timeout() {
    let server = server(&["--idle-timeout", "2", "--handshake-timeout", "30", "--stalled-timeout", NEVER]);
    let mut c = RawClient::connect(server.rtmp_addr()).unwrap();
    c.handshake().unwrap();
    let reply = c.connect_app("cfx/st", server.rtmp_port()).unwrap();
    assert_eq!(reply.name().as_deref(), Some("_result"));
    // Connected, playing nothing, saying nothing.
    let client = c.local_addr().to_string();
    assert_closed_after(&mut c.stream, Duration::from_secs(2), Duration::from_secs(8), "an idle connection", &server);
    let line = log_line(&server, &["disconnect", &client], Duration::from_secs(2));
    let line = line.unwrap_or_else(|| panic!("no disconnect line for {client}:\n{}", server.log()));
    assert!(line.contains("idle"), "the disconnect line does not say idle: {line}");
}

/// An origin with `noise.flv`: 3 s of random pixels, about 11 MB, more than the server's
/// socket buffers take (Linux lets a send buffer grow to 4 MiB).
fn noise_origin() -> TempDir {
    let dir = TempDir::new("noise-origin");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"])
        .args(["-i", "nullsrc=s=320x240:r=25:d=3,geq=random(1)*255:128:128", "-c:v", "flv1", "-q:v", "2"])
        .arg(dir.path().join("noise.flv"));
    let r = run(cmd, Duration::from_secs(60));
    assert!(r.success(), "making noise.flv: {}", r.describe());
    dir
}

#[test]
fn client_that_stops_reading_is_dropped_after_the_stalled_timeout() {
    require_tool("ffmpeg");
    let origin = noise_origin();
    let args = ["--stalled-timeout", "2", "--idle-timeout", NEVER, "--handshake-timeout", NEVER];
    let args = args.iter().map(|a| a.to_string()).collect();
    let server = Server::start_with(origin.path(), ServerOptions { args, ..Default::default() });
    // A small receive window (set before connecting: the window scale is agreed in the SYN).
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&server.rtmp_addr().into()).unwrap();
    let mut c = RawClient::over(socket.into()).unwrap();
    c.handshake().unwrap();
    c.connect_app("cfx/st", server.rtmp_port()).unwrap();
    let sid = c.create_stream().unwrap();
    // A 10-hour buffer: the server sends the whole file as fast as the socket takes it.
    let mut buffer = vec![0, 3];
    buffer.extend_from_slice(&sid.to_be_bytes());
    buffer.extend_from_slice(&36_000_000u32.to_be_bytes());
    c.send(2, 4, 0, &buffer).unwrap();
    c.play(sid, "noise", None).unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    c.read_until(deadline, |m| m.code().as_deref() == Some("NetStream.Play.Start")).unwrap();
    // Stop reading, keep the socket open.
    let stopped = Instant::now();
    let client = c.local_addr().to_string();
    let line = log_line(&server, &["disconnect", &client], Duration::from_secs(8));
    let line =
        line.unwrap_or_else(|| panic!("{client} stopped reading 8s ago and is still connected:\n{}", server.log()));
    assert!(line.contains("stalled"), "the disconnect line does not say stalled: {line}");
    assert!(stopped.elapsed() >= Duration::from_secs(2), "dropped {:?} after it stopped reading", stopped.elapsed());
    // What the kernel holds drains, then the connection ends.
    assert!(wait_closed(&mut c.stream, Duration::from_secs(5)).is_some(), "the socket stays open after the drop");
}

#[test]
fn half_handshake_is_closed_after_the_handshake_timeout() {
    let server = server(&["--handshake-timeout", "2", "--idle-timeout", NEVER, "--stalled-timeout", NEVER]);
    let mut s = TcpStream::connect(server.rtmp_addr()).unwrap();
    // C0 and half of C1, then nothing.
    let mut half = vec![3u8];
    half.extend(std::iter::repeat_n(7u8, 768));
    s.write_all(&half).unwrap();
    let client = s.local_addr().unwrap().to_string();
    assert_closed_after(&mut s, Duration::from_secs(2), Duration::from_secs(8), "a half handshake", &server);
    let line = log_line(&server, &["closed during the handshake", &client], Duration::from_secs(2));
    let line = line.unwrap_or_else(|| panic!("no handshake close line for {client}:\n{}", server.log()));
    assert!(line.contains("handshake not finished"), "the line does not give the handshake timeout: {line}");
}

/// `POST /open/1`, one `/idle`, then silence: the session is forgotten after
/// `--rtmpt-session-timeout`, and a later request for it gets 404.
#[test]
fn rtmpt_session_expires_without_requests() {
    let server = server(&["--rtmpt-session-timeout", "2", "--idle-timeout", NEVER, "--handshake-timeout", NEVER]);
    let (code, body) = http(server.http_port, &post("/open/1", b"\0"));
    assert_eq!(code, 200, "POST /open/1");
    let id = String::from_utf8(body).unwrap().trim().to_owned();
    let (code, _) = http(server.http_port, &post(&format!("/idle/{id}/1"), b"\0"));
    assert_eq!(code, 200, "the first /idle of a fresh session");
    // The expiry sweep runs every second: the session is gone 2 to 3 s after the last request.
    std::thread::sleep(Duration::from_millis(4500));
    let (code, _) = http(server.http_port, &post(&format!("/idle/{id}/2"), b"\0"));
    assert_eq!(code, 404, "/idle 4.5s after the last request, with --rtmpt-session-timeout 2\n{}", server.log());
    let line =
        server.log().lines().find(|l| l.contains("disconnect") && l.contains("no request for 2s")).map(str::to_owned);
    assert!(line.is_some(), "no disconnect line saying `no request for 2s`:\n{}", server.log());
}
