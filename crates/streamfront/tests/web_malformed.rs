//! Malformed and hostile requests to a web distribution get clear answers, and the edge keeps
//! serving everyone else: ranges that cannot be served, a request head over CloudFront's
//! 20,480 bytes, and a slowloris client sending its headers a byte at a time.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::web::{Site, request};

const BODY: &[u8] = b"0123456789abcdefghij";

#[test]
fn bad_ranges_and_huge_headers_get_clear_answers() {
    let site = Site::start(&[("index.html", b"home"), ("data.txt", BODY)]);
    let get = |headers: &[(&str, &str)]| site.get("/data.txt", headers);

    // Not a byte range at all, or a reversed one: ignored, the whole object (RFC 9110 §14.2).
    for range in ["bytes=abc", "bytes=5-2", "items=0-1", "bytes=--1"] {
        let reply = get(&[("Range", range)]);
        assert_eq!((reply.status, reply.body.as_slice()), (200, BODY), "Range: {range}");
    }
    // Beyond the end: 416 with the size.
    let reply = get(&[("Range", "bytes=100-200")]);
    assert_eq!(reply.status, 416, "{reply:?}");
    assert_eq!(reply.header("content-range"), Some("bytes */20"));

    // A request head over 20,480 bytes: 431 from the distribution, or refused by the parser.
    let pad = "x".repeat(25_000);
    let reply = get(&[("X-Pad", &pad)]);
    assert_eq!(reply.status, 431, "{}", reply.text());
    let pad = "x".repeat(200_000);
    let reply = get(&[("X-Pad", &pad)]);
    assert!(matches!(reply.status, 400 | 431), "{reply:?}");

    // And the edge still serves.
    let reply = get(&[("Range", "bytes=2-4")]);
    assert_eq!((reply.status, reply.body.as_slice()), (206, &b"234"[..]));
}

#[test]
fn a_slowloris_client_is_cut_off_while_others_are_served() {
    let site = Site::start(&[("index.html", b"home")]);
    let mut slow = TcpStream::connect(("127.0.0.1", site.server.http_port)).unwrap();
    slow.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let head = format!("GET /index.html HTTP/1.1\r\nHost: {}\r\nX-Slow: ", site.domain);
    slow.write_all(head.as_bytes()).unwrap();
    let started = Instant::now();
    let mut cut_off = None;
    while started.elapsed() < Duration::from_secs(60) {
        // One byte of a header that never ends, every half second…
        let wrote = slow.write_all(b"a");
        let mut buf = [0u8; 512];
        // A read that does not time out is the edge answering or closing.
        let read = slow.read(&mut buf);
        if wrote.is_err() || read.is_ok() {
            let said = String::from_utf8_lossy(&buf[..read.unwrap_or(0)]).into_owned();
            cut_off = Some((started.elapsed(), said));
            break;
        }
        // …while another viewer is served at once.
        let reply = request(site.server.http_port, "GET", &site.domain, "/index.html", &[]);
        assert_eq!((reply.status, reply.text().as_str()), (200, "home"));
        std::thread::sleep(Duration::from_millis(300));
    }
    let (after, said) = cut_off.expect("the slow client was never cut off");
    // hyper's header read timeout, 30 s on the HTTP listeners.
    assert!(after >= Duration::from_secs(25), "cut off too early ({after:?}): {said}");
    assert!(said.is_empty() || said.starts_with("HTTP/1.1 408"), "{said}");
}
