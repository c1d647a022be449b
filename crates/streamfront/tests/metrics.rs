//! `/metrics` of the real binary after a real play: the Prometheus text format, with the
//! bytes sent labelled by distribution and protocol.

mod common;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;

/// The response head and body of `GET /metrics`.
fn get_metrics(server: &Server) -> (String, String) {
    let mut stream = TcpStream::connect(server.admin_addr()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(stream, "GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a complete HTTP response");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    (head.to_owned(), body.to_owned())
}

/// The value of the sample `series` (name and labels exactly as the encoder writes them).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series} in /metrics:\n{text}"))
}

/// Checks that `text` parses as the Prometheus text format: each sample line names a
/// family announced before it by `# HELP` and `# TYPE` (a histogram's samples end in
/// `_bucket`, `_sum` or `_count`), has well-formed labels, and a numeric value.
fn assert_prometheus_text(text: &str) {
    let mut helped = HashSet::new();
    let mut family: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or_else(|| panic!("HELP without text: {line}"));
            assert!(!help.is_empty(), "{line}");
            helped.insert(name.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or_else(|| panic!("TYPE without a type: {line}"));
            assert!(helped.contains(name), "TYPE {name} without a HELP before it");
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            family = Some((name.to_owned(), kind.to_owned()));
        } else {
            let (name, kind) = family.as_ref().unwrap_or_else(|| panic!("sample before any TYPE: {line}"));
            let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("sample without a value: {line}"));
            assert!(value.parse::<f64>().is_ok() || value == "+Inf", "bad value: {line}");
            let (metric, labels) = match series.split_once('{') {
                Some((metric, labels)) => (metric, Some(labels)),
                None => (series, None),
            };
            if let Some(labels) = labels {
                let labels = labels.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                for label in labels.split(',') {
                    let (key, value) = label.split_once('=').unwrap_or_else(|| panic!("bad label: {line}"));
                    assert!(key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'), "bad label name: {line}");
                    assert!(value.len() >= 2 && value.starts_with('"') && value.ends_with('"'), "bad label: {line}");
                }
            }
            let suffixes: &[&str] = if kind == "histogram" { &["_bucket", "_sum", "_count"] } else { &[""] };
            assert!(
                suffixes.iter().any(|suffix| metric == format!("{name}{suffix}")),
                "sample {line} is not in the family {name} ({kind}) announced before it"
            );
        }
    }
    assert!(family.is_some(), "no metric families:\n{text}");
}

#[test]
fn metrics_after_a_play_count_sent_bytes_by_distribution_and_protocol() {
    let server = Server::start(&media().origin);
    let (head, before) = get_metrics(&server);
    assert!(head.to_lowercase().contains("content-type: text/plain; version=0.0.4; charset=utf-8"), "{head}");
    assert_prometheus_text(&before);
    let rtmp_sent = "streamfront_sent_bytes_total{distribution=\"default\",protocol=\"rtmp\"}";
    assert_eq!(sample(&before, rtmp_sent), 0.0);

    let run = ffmpeg_framemd5(&server.url("sample.mp4"), &[], &["-t", "1"], CLIENT_LIMIT);
    assert!(run.success(), "{}", run.describe());

    let (_, after) = get_metrics(&server);
    assert_prometheus_text(&after);
    assert!(sample(&after, rtmp_sent) > 0.0, "{after}");
    assert_eq!(sample(&after, "streamfront_sent_bytes_total{distribution=\"default\",protocol=\"rtmpe\"}"), 0.0);
    assert!(sample(&after, "streamfront_connections_total") >= 1.0);
    // The play read the clip from the origin: the latency histogram saw every request.
    let requests = sample(&after, "streamfront_origin_requests_total{kind=\"head\"}")
        + sample(&after, "streamfront_origin_requests_total{kind=\"range\"}");
    assert!(requests >= 2.0, "{after}");
    assert_eq!(sample(&after, "streamfront_origin_latency_seconds_count"), requests, "{after}");
    assert_eq!(sample(&after, "streamfront_origin_latency_seconds_bucket{le=\"+Inf\"}"), requests);
}
