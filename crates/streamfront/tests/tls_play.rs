//! RTMPS, RTMPTS and HTTPS on one `--https-listen` port: real clients play every packet, and
//! curl gets the cross-domain policy over HTTP/1.1 and HTTP/2.

mod common;
mod tls_support;

use std::process::Command;
use std::time::Duration;

use common::*;
use tls_support::*;

/// ffmpeg's own RTMP client over TLS, verifying the certificate by host name.
#[test]
fn ffmpeg_rtmps_verified_plays_every_packet() {
    let dir = TempDir::new("tls");
    let cert = Cert::make(dir.path(), "localhost", "localhost", &["localhost", "127.0.0.1"]);
    let (server, port) = start_tls(&media().origin, &[("localhost", &cert)], &[]);
    let ca = cert.cert.to_str().unwrap();
    let url = format!("rtmps://localhost:{port}/cfx/st/clip.mp4");
    let summary = check_ffmpeg(&url, "clip.mp4", &Expect::Whole, &["-tls_verify", "1", "-ca_file", ca], &[]);
    eprintln!("{summary}");
    assert!(server.log().contains("protocol=\"rtmp\""), "the RTMP connection code served it");
}

/// librtmp (GnuTLS) sends no SNI and fails on TLS 1.3 session tickets after the handshake.
#[test]
fn rtmpdump_rtmps_plays_every_packet() {
    let dir = TempDir::new("tls");
    let cert = Cert::make(dir.path(), "localhost", "localhost", &["localhost"]);
    let (_server, port) = start_tls(&media().origin, &[("localhost", &cert)], &[]);
    let url = format!("rtmps://localhost:{port}/cfx/st/clip.flv");
    let summary = check_rtmpdump(&url, "clip.flv", &Expect::Whole, &[], &[0]);
    eprintln!("{summary}");
}

/// RTMPT over HTTPS. ffmpeg's HTTP tunnel passes no TLS options on, so it cannot verify.
#[test]
fn ffmpeg_rtmpts_plays_every_packet() {
    let dir = TempDir::new("tls");
    let cert = Cert::make(dir.path(), "localhost", "localhost", &["localhost"]);
    let (server, port) = start_tls(&media().origin, &[("localhost", &cert)], &[]);
    let url = format!("rtmpts://localhost:{port}/cfx/st/clip.mp4");
    let summary = check_ffmpeg(&url, "clip.mp4", &Expect::Whole, &[], &[]);
    eprintln!("{summary}");
    assert!(server.log().contains("protocol=\"rtmpt\""), "the tunnel code served it");
}

/// curl verifying the certificate gets the allow-all policy with each HTTP version.
#[test]
fn curl_https_gets_crossdomain_xml_over_http1_and_http2() {
    require_tool("curl");
    let dir = TempDir::new("tls");
    let cert = Cert::make(dir.path(), "localhost", "localhost", &["localhost"]);
    let (_server, port) = start_tls(&media().origin, &[("localhost", &cert)], &[]);
    for (flag, version) in [("--http1.1", "1.1"), ("--http2", "2")] {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--fail", flag, "--cacert"])
            .arg(&cert.cert)
            .args(["-w", "\nhttp_version=%{http_version}"])
            .arg(format!("https://localhost:{port}/crossdomain.xml"));
        let r = run(cmd, Duration::from_secs(20));
        assert!(r.success(), "curl {flag}: {}", r.describe());
        let text = r.stdout_text();
        assert!(text.contains("<allow-access-from domain=\"*\"/>"), "curl {flag} body: {text}");
        assert!(text.ends_with(&format!("http_version={version}")), "curl {flag} used another version: {text}");
    }
}
