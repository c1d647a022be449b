//! Bad clients of an HTTPS listener — a connection that sends nothing, a handshake that
//! stops halfway, bytes that are not TLS, a flood of bogus TLS records, garbage after a good
//! handshake — are each closed within the handshake timeout and counted, while a viewer that
//! connected before them plays every packet.

mod common;
mod tls_support;

use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::raw::wait_closed;
use common::*;
use tls_support::*;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long past the timeout a close may take on a loaded machine.
const SLACK: Duration = Duration::from_secs(3);

/// The handshake failures counted for `reason`, once they reach `at_least` (or after a
/// second): the server counts a failure just after it closes the connection.
fn failures(server: &Server, reason: &str, at_least: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let counted = metric(server, &format!("streamfront_tls_handshake_failures_total{{reason=\"{reason}\"}}"));
        if counted >= at_least || Instant::now() > deadline {
            return counted;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn bad_clients_are_closed_and_counted_while_a_viewer_plays() {
    let dir = TempDir::new("tls");
    let cert = Cert::make(dir.path(), "localhost", "localhost", &["localhost"]);
    let (mut server, port) = start_tls(&media().origin, &[("localhost", &cert)], &["--handshake-timeout", "2"]);
    let viewer = rtmps_viewer(port, &cert.cert, 20);
    wait_for_plays(&server, 1);
    let connect = || TcpStream::connect(("127.0.0.1", port)).expect("connect to the HTTPS listener");

    // Half-open: connected, nothing sent.
    let mut silent = (connect(), Instant::now());
    // A ClientHello record header and the start of its body, then nothing.
    let mut halfway = (connect(), Instant::now());
    halfway.0.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]).unwrap();
    for (what, (stream, connected)) in [("a silent client", &mut silent), ("a handshake stopped halfway", &mut halfway)]
    {
        let limit = HANDSHAKE_TIMEOUT + SLACK;
        assert!(wait_closed(stream, limit).is_some(), "{what} still open {limit:?} after connecting");
        let took = connected.elapsed();
        assert!(took >= HANDSHAKE_TIMEOUT - Duration::from_millis(500), "{what} closed before the timeout: {took:?}");
    }
    assert!(failures(&server, "timeout", 2) >= 2, "timeouts not counted");

    // Plain HTTP to the TLS port.
    let mut plain = connect();
    plain.write_all(b"GET /crossdomain.xml HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    assert!(wait_closed(&mut plain, SLACK).is_some(), "plain HTTP to the TLS port left open");
    // Handshake records of the largest size, full of zeros, as fast as the socket takes them.
    let mut flood = connect();
    let mut record = vec![0x16, 0x03, 0x01, 0x40, 0x00];
    record.resize(5 + 0x4000, 0);
    flood.set_write_timeout(Some(SLACK)).unwrap();
    let refused = (0..1000).find_map(|_| flood.write_all(&record).err());
    match refused {
        Some(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            panic!("a record flood is neither read nor refused")
        }
        Some(_) => {}
        None => assert!(wait_closed(&mut flood, SLACK).is_some(), "16 MB of bogus records read on"),
    }
    assert!(failures(&server, "invalid", 2) >= 2, "bad records not counted");

    // A good handshake, then bytes that are neither RTMP nor HTTP; stdin stays open, so only
    // the server can end it.
    require_tool("openssl");
    let mut client = Command::new("openssl")
        .args(["s_client", "-quiet", "-connect"])
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = client.stdin.take().unwrap();
    stdin.write_all(b"\x00\x01\x02 not a protocol\n").unwrap();
    let (status, killed) = wait_deadline(&mut client, Instant::now() + HANDSHAKE_TIMEOUT + SLACK);
    drop(stdin);
    assert!(!killed && status.is_some(), "garbage after the TLS handshake left the connection open");

    assert!(!viewer.is_finished(), "the viewer should still be playing after the bad clients");
    let played = viewer.join().expect("the viewer plays every packet while the bad clients come and go");
    eprintln!("{played}");
    server.assert_healthy();
}
