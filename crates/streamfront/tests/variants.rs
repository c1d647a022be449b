//! The four protocol variants CloudFront accepted: RTMP, RTMPE (encrypted), RTMPT (tunnelled
//! in HTTP) and RTMPTE, on both kinds of listener. Each must deliver exactly what plain RTMP
//! delivers (every packet, seeks, errors), and misbehaving clients must be refused cleanly.

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

const CLIP: &str = "clip.mp4";

fn url(scheme: &str, port: u16, path: &str) -> String {
    format!("{scheme}://127.0.0.1:{port}/cfx/st/{path}")
}

// ----- full plays, packet by packet --------------------------------------------------------

#[test]
fn rtmpe_on_rtmp_port_rtmpdump() {
    let server = Server::start(&media().origin);
    let summary = check_rtmpdump(&url("rtmpe", server.rtmp_port(), CLIP), CLIP, &Expect::Whole, &[], &[0]);
    eprintln!("{summary}");
    assert!(server.log().contains("protocol=\"rtmpe\""), "the log names the variant");
}

#[test]
fn rtmpe_on_http_port_rtmpdump() {
    let server = Server::start(&media().origin);
    let summary = check_rtmpdump(&url("rtmpe", server.http_port, CLIP), CLIP, &Expect::Whole, &[], &[0]);
    eprintln!("{summary}");
}

#[test]
fn rtmpt_rtmpdump() {
    let server = Server::start(&media().origin);
    let summary = check_rtmpdump(&url("rtmpt", server.http_port, CLIP), CLIP, &Expect::Whole, &[], &[0]);
    eprintln!("{summary}");
    assert!(server.log().contains("protocol=\"rtmpt\""), "the log names the variant");
}

#[test]
fn rtmpte_rtmpdump() {
    let server = Server::start(&media().origin);
    let summary = check_rtmpdump(&url("rtmpte", server.http_port, "clip.flv"), "clip.flv", &Expect::Whole, &[], &[0]);
    eprintln!("{summary}");
    assert!(server.log().contains("protocol=\"rtmpte\""), "the log names the variant");
}

#[test]
fn rtmpt_ffmpeg() {
    let server = Server::start(&media().origin);
    let summary = check_ffmpeg(&url("rtmpt", server.http_port, CLIP), CLIP, &Expect::Whole, &[], &[]);
    eprintln!("{summary}");
}

#[test]
fn rtmp_on_http_port_ffmpeg_and_rtmpdump() {
    let server = Server::start(&media().origin);
    eprintln!("{}", check_ffmpeg(&server.http_port_url(CLIP), CLIP, &Expect::Whole, &[], &[]));
    eprintln!("{}", check_rtmpdump(&server.http_port_url(CLIP), CLIP, &Expect::Whole, &[], &[0]));
}

// ----- seeks and missing streams through every variant -------------------------------------

#[test]
fn seek_through_rtmpe_rtmpt_and_rtmpte() {
    let server = Server::start(&media().origin);
    let expect = Expect::From { target_ms: 2000.0, stop: None, truncated: false };
    for (scheme, port) in [("rtmpe", server.rtmp_port()), ("rtmpt", server.http_port), ("rtmpte", server.http_port)] {
        let summary = check_rtmpdump(&url(scheme, port, CLIP), CLIP, &expect, &["-A", "2"], &[0]);
        eprintln!("{summary}");
    }
    // ffmpeg sends a seek command after starting.
    let summary = check_ffmpeg(
        &url("rtmpt", server.http_port, CLIP),
        CLIP,
        &Expect::From { target_ms: 2000.0, stop: None, truncated: false },
        &["-ss", "2"],
        &[],
    );
    eprintln!("{summary}");
}

#[test]
fn missing_stream_through_every_variant() {
    let server = Server::start(&media().origin);
    for (scheme, port) in [
        ("rtmpe", server.rtmp_port()),
        ("rtmpe", server.http_port),
        ("rtmpt", server.http_port),
        ("rtmpte", server.http_port),
    ] {
        let (run, _dir) = rtmpdump(&url(scheme, port, "mp4:missing.mp4"), &[], Duration::from_secs(20));
        assert!(!run.success(), "rtmpdump {scheme} on a missing stream must fail: {}", run.describe());
        assert!(run.elapsed < Duration::from_secs(5), "{scheme}: took {:?}", run.elapsed);
        assert_contains_ci(&run.describe(), "StreamNotFound", "rtmpdump output");
    }
    let run = ffmpeg_framemd5(&url("rtmpt", server.http_port, "mp4:missing.mp4"), &[], &[], Duration::from_secs(20));
    assert!(!run.success());
    assert_contains_ci(&run.describe(), "not found", "ffmpeg output");
}

// ----- RTMPE hides the conversation --------------------------------------------------------

/// A loopback relay that copies bytes both ways and keeps a copy of everything.
fn capturing_relay(target: u16) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let captured = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&captured);
    std::thread::spawn(move || {
        let Ok((client, _)) = listener.accept() else { return };
        let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
        let pipe = |mut from: TcpStream, mut to: TcpStream, record: Arc<Mutex<Vec<u8>>>| {
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                loop {
                    match from.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            record.lock().unwrap().extend_from_slice(&buf[..n]);
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
                let _ = to.shutdown(Shutdown::Write);
            })
        };
        let a = pipe(client.try_clone().unwrap(), server.try_clone().unwrap(), Arc::clone(&record));
        let b = pipe(server, client, record);
        let _ = a.join();
        let _ = b.join();
    });
    (port, captured)
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn rtmpe_bytes_on_the_wire_show_no_commands_or_stream_names() {
    let server = Server::start(&media().origin);
    let secrets = ["connect", "createStream", "play", "onStatus", "NetStream", "clip", "cfx/st", "onMetaData"];

    // Control: through the same relay, plain RTMP shows all of them, so the check can fail.
    let (port, captured) = capturing_relay(server.rtmp_port());
    let (run, _dir) = rtmpdump(&url("rtmp", port, "mp4:clip.mp4"), &[], Duration::from_secs(30));
    assert!(run.success(), "{}", run.describe());
    let plain = captured.lock().unwrap().clone();
    for word in secrets {
        assert!(contains(&plain, word), "plain RTMP capture should contain {word:?}");
    }

    let (port, captured) = capturing_relay(server.rtmp_port());
    let (run, dir) = rtmpdump(&url("rtmpe", port, "mp4:clip.mp4"), &[], Duration::from_secs(30));
    assert!(run.success(), "{}", run.describe());
    let encrypted = captured.lock().unwrap().clone();
    assert!(encrypted.len() > 100_000, "the whole clip went through the relay ({} bytes)", encrypted.len());
    for word in secrets {
        assert!(!contains(&encrypted, word), "RTMPE capture shows {word:?} in clear");
    }
    // And what arrived decrypted is still the exact clip.
    let fm = framemd5_file(&dir.path().join("out.flv")).unwrap();
    compare(&fm, &source(CLIP), &Expect::Whole).unwrap();
}

// ----- bad input ----------------------------------------------------------------------------

/// Sends `request` on a fresh connection and returns the status code and body.
/// The server still plays a clip to a normal client and answers /healthz.
fn still_serving(server: &mut Server) {
    server.assert_healthy();
    let run = ffmpeg_framemd5(&server.url(CLIP), &[], &["-t", "1"], Duration::from_secs(30));
    assert!(run.success(), "after bad input, a normal play fails: {}", run.describe());
}

#[test]
fn rtmpt_sessions_outlive_connections_and_unknown_ids_get_404() {
    let mut server = Server::start(&media().origin);
    let port = server.http_port;
    let (status, body) = http(port, &post("/open/1", &[0]));
    assert_eq!(status, 200);
    let id = String::from_utf8(body).unwrap();
    assert!(id.ends_with('\n'));
    let id = id.trim_end();
    assert_eq!(id.len(), 32, "128-bit id in hex: {id:?}");

    // A different TCP connection finds the same session; the body starts with the polling byte.
    let (status, body) = http(port, &post(&format!("/idle/{id}/0"), &[0]));
    assert_eq!(status, 200);
    assert!(!body.is_empty() && body[0] >= 1, "polling byte first: {body:?}");
    // A replayed or old sequence number is refused, and the session is untouched.
    for seq in [0, 0] {
        let (status, _) = http(port, &post(&format!("/idle/{id}/{seq}"), &[0]));
        assert_eq!(status, 404, "replayed sequence {seq}");
    }
    let (status, _) = http(port, &post(&format!("/idle/{id}/1"), &[0]));
    assert_eq!(status, 200, "the next sequence number still works");

    for path in [
        "/idle/0123456789abcdef0123456789abcdef/1".to_owned(),
        format!("/send/{}/1", "f".repeat(32)),
        format!("/idle/{id}/notanumber"),
        "/idle/short/1".to_owned(),
        "/open/2".to_owned(),
        "/nothing/here".to_owned(),
    ] {
        let (status, _) = http(port, &post(&path, &[0]));
        assert_eq!(status, 404, "{path}");
    }
    let (status, _) = http(port, &post("/fcs/ident2", &[0]));
    assert_eq!(status, 404, "/fcs/ident2 is answered 404 like FMS");

    let (status, body) = http(port, &post(&format!("/close/{id}/2"), &[0]));
    assert_eq!((status, body), (200, vec![0]));
    let (status, _) = http(port, &post(&format!("/idle/{id}/3"), &[0]));
    assert_eq!(status, 404, "a closed session is gone");

    let (status, body) = http(port, b"GET /crossdomain.xml HTTP/1.0\r\n\r\n");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&body).contains("allow-access-from domain=\"*\""));
    still_serving(&mut server);
}

#[test]
fn pipelined_tunnel_requests_are_answered_in_order() {
    // librtmp writes its next request before the answer to the last one has arrived.
    let mut server = Server::start(&media().origin);
    let port = server.http_port;
    let (status, body) = http(port, &post("/open/1", &[0]));
    assert_eq!(status, 200);
    let id = String::from_utf8(body).unwrap().trim_end().to_owned();

    // C0 + C1 of a simple handshake, then polls and a probe, all in one write.
    let mut c0c1 = vec![3u8];
    c0c1.extend_from_slice(&[0u8; 1536]);
    let mut requests = post(&format!("/send/{id}/1"), &c0c1);
    requests.extend(post("/fcs/ident2", &[0]));
    requests.extend(post(&format!("/idle/{id}/2"), &[0]));
    requests.extend(post(&format!("/idle/{id}/2"), &[0]));
    requests.extend(post(&format!("/close/{id}/3"), &[0]));
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(&requests).unwrap();

    let mut pending = Vec::new();
    let replies: Vec<(u16, Vec<u8>)> = (0..5).map(|_| read_next_response(&mut stream, &mut pending)).collect();
    let statuses: Vec<u16> = replies.iter().map(|(status, _)| *status).collect();
    // The repeated sequence number 2 is a replay: 404, and nothing else happens.
    assert_eq!(statuses, [200, 404, 200, 404, 200]);
    // Behind each polling byte: S0 + S1 + S2, whole and in order, across the tunnel replies.
    let tunnel_data: Vec<u8> = [&replies[0].1, &replies[2].1].iter().flat_map(|body| body[1..].to_vec()).collect();
    assert_eq!(tunnel_data.len(), 1 + 1536 + 1536, "S0+S1+S2");
    assert_eq!(tunnel_data[0], 3, "S0");
    assert_eq!(&tunnel_data[1 + 1536..], &c0c1[1..], "S2 echoes C1");
    assert_eq!(replies[4].1, [0], "close");
    assert!(pending.is_empty(), "nothing after the last response: {pending:?}");
    still_serving(&mut server);
}

#[test]
fn malformed_http_is_refused_and_the_server_goes_on() {
    let mut server = Server::start(&media().origin);
    let port = server.http_port;
    for garbage in [
        &b"GARBAGE GARBAGE GARBAGE\r\n\r\n"[..],
        b"POST /open/1 HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"POST /send/x/1 HTTP/1.1\r\nContent-Length: 5\r\n\r\nab",
        &[b'A'; 100_000][..],
        b"\x00\x01\x02\x04",
    ] {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
        let _ = stream.write_all(garbage);
        let _ = stream.shutdown(Shutdown::Write);
        let mut sink = Vec::new();
        let started = Instant::now();
        let _ = stream.read_to_end(&mut sink);
        assert!(started.elapsed() < Duration::from_secs(35), "the server closes a bad connection");
        let text = String::from_utf8_lossy(&sink);
        assert!(sink.is_empty() || text.starts_with("HTTP/1.1 4"), "refused with a 4xx or closed: {text:?}");
    }
    still_serving(&mut server);
}

#[test]
fn a_flood_of_tunnel_opens_is_refused_cleanly() {
    let mut server = Server::start(&media().origin);
    let port = server.http_port;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let (mut ok, mut busy) = (0, 0);
    for _ in 0..300 {
        stream.write_all(&post("/open/1", &[0])).unwrap();
        match read_response(&mut stream).0 {
            200 => ok += 1,
            503 => busy += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(ok >= 1 && busy >= 1, "some sessions opened ({ok}), the rest refused ({busy})");
    assert!(ok <= 64, "per-client session limit holds: {ok}");
    // The server keeps serving everyone else, tunnelled viewers included once room is made.
    still_serving(&mut server);
    let metrics = http_get(server.admin_addr(), "/metrics", Duration::from_secs(5)).unwrap().1;
    assert!(metrics.contains("streamfront_rtmpt_refused_total"), "{metrics}");
}

/// C0 = 6 and a C1 with a valid digest (scheme 1) but a Diffie-Hellman public key of 1,
/// which a real peer never sends (it would make the shared secret 1).
fn rtmpe_c0c1_with_bad_public_key() -> Vec<u8> {
    use hmac::{Hmac, KeyInit, Mac};
    use sha2::Sha256;
    const FP_KEY: &[u8] = b"Genuine Adobe Flash Player 001";
    let mut c1 = vec![0u8; 1536];
    for (i, b) in c1.iter_mut().enumerate() {
        *b = (i * 7 + 3) as u8;
    }
    c1[4..8].copy_from_slice(&[128, 0, 3, 2]);
    let sum = |at: usize| c1[at..at + 4].iter().map(|&b| b as usize).sum::<usize>();
    let dh_offset = sum(768) % 632 + 8;
    let digest_offset = sum(772) % 728 + 776;
    c1[dh_offset..dh_offset + 128].fill(0);
    c1[dh_offset + 127] = 1;
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(FP_KEY).unwrap();
    mac.update(&c1[..digest_offset]);
    mac.update(&c1[digest_offset + 32..]);
    let digest = mac.finalize().into_bytes();
    c1[digest_offset..digest_offset + 32].copy_from_slice(&digest);
    let mut out = vec![6u8];
    out.extend_from_slice(&c1);
    out
}

#[test]
fn rtmpe_handshake_with_a_bad_public_key_is_closed() {
    let mut server = Server::start(&media().origin);
    for port in [server.rtmp_port(), server.http_port] {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        stream.write_all(&rtmpe_c0c1_with_bad_public_key()).unwrap();
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        assert!(reply.is_empty(), "no S0/S1/S2 for a bad key, got {} bytes", reply.len());
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.log().contains("invalid Diffie-Hellman public key") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(server.log().contains("invalid Diffie-Hellman public key"), "the refusal is logged");
    still_serving(&mut server);
}

#[test]
fn the_per_client_tunnel_limit_is_configurable() {
    let opts = ServerOptions { args: vec!["--rtmpt-sessions-per-client".into(), "5".into()], ..Default::default() };
    let server = Server::start_with(&media().origin, opts);
    let statuses: Vec<u16> = (0..8).map(|_| http(server.http_port, &post("/open/1", &[0])).0).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 503, 503, 503]);
}
