//! The command line contract: addresses that cannot be bound, SIGTERM, /healthz, and the log
//! lines on stderr.

mod common;

use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use common::*;

/// Starts `streamfront serve` with one listener address taken by someone else; it must exit
/// non-zero at once with a one-line error naming the flag and the address.
fn port_in_use(flag: &str) {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let data = TempDir::new("data");
    let addr = |f: &str| {
        if f == flag { taken_addr.clone() } else { format!("127.0.0.1:{}", free_port()) }
    };
    let mut cmd = Command::new(binary());
    cmd.arg("serve")
        .arg("--origin")
        .arg(&media().origin)
        .arg("--data-dir")
        .arg(data.path())
        .arg("--rtmp-listen")
        .arg(addr("--rtmp-listen"))
        .arg("--http-listen")
        .arg(addr("--http-listen"))
        .arg("--admin-listen")
        .arg(addr("--admin-listen"));
    let r = run(cmd, Duration::from_secs(15));
    assert!(!r.timed_out, "streamfront kept running although {flag} {taken_addr} is taken: {}", r.describe());
    assert!(!r.success(), "streamfront exited 0 although {flag} {taken_addr} is taken: {}", r.describe());
    let line = r.stderr.lines().find(|l| l.contains(flag) && l.contains(&taken_addr));
    let line = line.unwrap_or_else(|| panic!("no stderr line names both {flag} and {taken_addr}:\n{}", r.stderr));
    assert!(line.to_lowercase().contains("in use"), "the error line should say the address is in use: {line:?}");
    drop(taken);
}

#[test]
fn rtmp_listen_address_in_use() {
    port_in_use("--rtmp-listen");
}

#[test]
fn http_listen_address_in_use() {
    port_in_use("--http-listen");
}

#[test]
fn admin_listen_address_in_use() {
    port_in_use("--admin-listen");
}

#[test]
fn healthz_answers_ok_and_lists_its_checks() {
    let data = TempDir::new("data");
    let server = Server::start_with(
        &media().origin,
        ServerOptions { data_dir: Some(data.path().to_path_buf()), ..ServerOptions::default() },
    );
    let (code, body) = server.healthz().unwrap();
    let cache_dir = data.path().join("cache");
    let expected = format!("ok\nlisteners: ok (3 accepting)\ndisk tier: ok ({})\n", cache_dir.display());
    assert_eq!((code, body), (200, expected));
}

/// The disk cache directory replaced by a file while the server runs: /healthz answers 503
/// naming the disk tier, and 200 again once the directory is back.
#[test]
fn healthz_fails_while_the_disk_cache_directory_is_unusable() {
    let data = TempDir::new("data");
    let server = Server::start_with(
        &media().origin,
        ServerOptions { data_dir: Some(data.path().to_path_buf()), ..ServerOptions::default() },
    );
    let cache_dir = data.path().join("cache");
    let moved = data.path().join("cache-moved");
    // The tests run as root, so taking permissions away would not stop writes: put a file
    // where the directory was.
    std::fs::rename(&cache_dir, &moved).unwrap();
    std::fs::write(&cache_dir, b"not a directory").unwrap();
    let (code, body) = server.healthz().unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(body.starts_with("failing: disk tier\n"), "{body}");
    let named = format!("disk tier: FAILED: {}: ", cache_dir.display());
    assert!(body.contains(&named), "{body}");
    assert!(body.contains("listeners: ok (3 accepting)"), "{body}");

    std::fs::remove_file(&cache_dir).unwrap();
    std::fs::rename(&moved, &cache_dir).unwrap();
    let (code, body) = server.healthz().unwrap();
    assert_eq!((code, body.lines().next()), (200, Some("ok")), "{body}");
}

#[test]
fn sigterm_when_idle_exits_zero() {
    let mut server = Server::start(&media().origin);
    let status = server.terminate(Duration::from_secs(10));
    let status = status.unwrap_or_else(|| panic!("still running 10s after SIGTERM\n{}", tail(&server.log(), 30)));
    assert!(status.success(), "exit status after SIGTERM: {status}\n{}", tail(&server.log(), 30));
}

#[test]
fn sigterm_while_playing_exits_zero() {
    let mut server = Server::start(&media().origin);
    // ffmpeg paces the 10 s sample in real time: it is mid-stream when SIGTERM arrives.
    let url = server.url("sample.mp4");
    let player = std::thread::spawn(move || ffmpeg_framemd5(&url, &[], &[], CLIENT_LIMIT));
    std::thread::sleep(Duration::from_millis(2500));
    assert!(server.log().contains("sample.mp4"), "the play has not started after 2.5s:\n{}", server.log());
    let status = server.terminate(Duration::from_secs(15));
    let status = status.unwrap_or_else(|| panic!("still running 15s after SIGTERM\n{}", tail(&server.log(), 30)));
    assert!(status.success(), "exit status after SIGTERM during a play: {status}\n{}", tail(&server.log(), 30));
    let r = player.join().unwrap();
    assert!(!r.timed_out, "the player hung after the server stopped: {}", r.describe());
}

/// Finds `127.0.0.1:PORT` tokens in a line.
fn client_addrs(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("127.0.0.1:") {
        let tail = &rest[i + 10..];
        let digits: String = tail.chars().take_while(|c| c.is_ascii_digit()).collect();
        if !digits.is_empty() {
            out.push(format!("127.0.0.1:{digits}"));
        }
        rest = &rest[i + 10..];
    }
    out
}

/// Whether `line` has `word` as a word of its own (so "connect" does not match
/// "disconnect" or "connection").
fn has_word(line: &str, word: &str) -> bool {
    line.to_lowercase().split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| w == word)
}

fn numbers(line: &str) -> Vec<u64> {
    line.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect()
}

#[test]
fn logs_connect_play_seek_stop_disconnect_with_client_and_bytes() {
    let server = Server::start(&media().origin);
    eprintln!("{}", check_ffmpeg(&server.url("clip_bframes.mp4"), "clip_bframes.mp4", &Expect::Whole, &[], &[]));
    let expect_seek = Expect::From { target_ms: 3000.0, stop: None, truncated: false };
    let _ = std::panic::catch_unwind(|| {
        // The seek log line is what matters here; the seek itself is checked in seek.rs.
        check_ffmpeg(&server.url("clip.flv"), "clip.flv", &expect_seek, &["-ss", "3"], &["-copypriorss", "1"])
    });
    std::thread::sleep(Duration::from_millis(500));
    let log = server.log();

    // The play of clip_bframes.mp4: its line names the client address.
    let play = log
        .lines()
        .find(|l| has_word(l, "play") && l.contains("clip_bframes"))
        .unwrap_or_else(|| panic!("no `play` line naming clip_bframes in the log:\n{log}"));
    let addr = client_addrs(play)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("the play line has no client address: {play:?}"));
    let lines_of = |word: &str| -> Vec<&str> {
        log.lines().filter(|l| has_word(l, word) && client_addrs(l).contains(&addr)).collect()
    };
    for word in ["connect", "play", "stop", "disconnect"] {
        assert!(!lines_of(word).is_empty(), "no `{word}` line for client {addr} in the log:\n{log}");
    }
    // Bytes sent: at least the media payload of the file, in the stop or disconnect line.
    let payload: u64 = source("clip_bframes.mp4").frames.packets.iter().map(|p| p.size).sum();
    for word in ["stop", "disconnect"] {
        let ok = lines_of(word)
            .iter()
            .any(|l| l.to_lowercase().contains("bytes") && numbers(l).iter().any(|&n| n >= payload && n < payload * 3));
        assert!(ok, "no `{word}` line for {addr} reports the bytes sent (>= {payload} payload bytes):\n{log}");
    }

    // The seek on clip.flv.
    let seek = log.lines().find(|l| has_word(l, "seek") && client_addrs(l).len() == 1);
    assert!(seek.is_some(), "no `seek` line with a client address in the log:\n{log}");
}

/// `streamfront serve ARGS` on free loopback ports must exit non-zero at once, with one
/// stderr line (`streamfront: …`) that contains every one of `expect`.
fn refused(args: &[&str], expect: &[&str]) {
    let data = TempDir::new("data");
    let mut cmd = Command::new(binary());
    cmd.arg("serve").arg("--origin").arg(&media().origin).arg("--data-dir").arg(data.path());
    for flag in ["--rtmp-listen", "--http-listen", "--admin-listen"] {
        cmd.arg(flag).arg(format!("127.0.0.1:{}", free_port()));
    }
    cmd.args(args).env_remove("STREAMFRONT_LOG").env_remove("STREAMFRONT_CONFIG");
    let r = run(cmd, Duration::from_secs(10));
    assert!(!r.timed_out && !r.success(), "streamfront accepted {args:?}: {}", r.describe());
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one error line for {args:?}:\n{}", r.stderr);
    let line = lines[0];
    assert!(line.starts_with("streamfront: "), "{line}");
    for want in expect {
        assert!(line.contains(want), "the error for {args:?} does not say {want:?}: {line}");
    }
}

#[test]
fn invalid_log_filter_is_an_error_naming_the_flag() {
    refused(&["--log", "foo=bar=baz"], &["--log foo=bar=baz: "]);
}

#[test]
fn zero_timeouts_and_limits_are_errors_naming_the_flag() {
    for flag in
        ["--handshake-timeout", "--idle-timeout", "--stalled-timeout", "--rtmpt-session-timeout", "--max-connections"]
    {
        refused(&[flag, "0"], &[&format!("{flag} 0: must be 1..=")]);
    }
    refused(&["--cache-block-kb", "1"], &["--cache-block-kb 1: must be 64..=65536"]);
}

#[test]
fn invalid_config_file_values_are_errors_naming_the_key() {
    let dir = TempDir::new("config");
    let file = dir.path().join("streamfront.toml");
    let path = file.to_str().unwrap();
    for (toml, expect) in [
        ("[cache]\nblock_kb = 1\n", "[cache] block_kb = 1: must be 64..=65536"),
        ("[limits]\nrtmpt_session_timeout = 0\n", "[limits] rtmpt_session_timeout = 0: must be 1..="),
        ("log = \"foo=bar=baz\"\n", "log = \"foo=bar=baz\": "),
    ] {
        std::fs::write(&file, toml).unwrap();
        refused(&["--config", path], &[&format!("--config {path}: "), expect]);
    }
}

#[test]
fn help_documents_the_timeouts_and_negative_ttl_with_their_defaults() {
    let mut cmd = Command::new(binary());
    cmd.args(["serve", "--help"]);
    let r = run(cmd, Duration::from_secs(10));
    assert!(r.success(), "{}", r.describe());
    let help = r.stdout_text();
    for (flag, default) in [("--handshake-timeout", "10"), ("--rtmpt-session-timeout", "30"), ("--negative-ttl", "10")]
    {
        let line = help.lines().position(|l| l.trim_start().starts_with(flag));
        let line = line.unwrap_or_else(|| panic!("{flag} missing from `serve --help`:\n{help}"));
        // The help is one line per flag, or the flag's line then its description.
        let text = help.lines().skip(line).take(2).collect::<Vec<_>>().join(" ");
        assert!(text.contains(&format!("[default: {default}]")), "{flag}: no [default: {default}] in {text:?}");
    }
}
