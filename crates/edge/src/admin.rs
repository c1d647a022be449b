//! The admin listener: `GET /healthz` and `GET /metrics` (Prometheus text format).

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

use crate::Edge;
use crate::connection::Protocol;

pub async fn serve(edge: Arc<Edge>, listener: TcpListener, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let edge = Arc::clone(&edge);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let edge = Arc::clone(&edge);
                        async move { Ok::<_, Infallible>(respond(&edge, request)) }
                    });
                    if let Err(error) = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await
                    {
                        warn!("admin connection: {error}");
                    }
                });
            }
            _ = shutdown.changed() => return,
        }
    }
}

fn respond(edge: &Edge, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let text = |status: StatusCode, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from(body)))
            .expect("static response parts are valid")
    };
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok\n".to_owned()),
        (&Method::GET, "/metrics") => text(StatusCode::OK, metrics(edge)),
        (&Method::GET, _) => text(StatusCode::NOT_FOUND, "not found\n".to_owned()),
        _ => text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n".to_owned()),
    }
}

fn metrics(edge: &Edge) -> String {
    use std::fmt::Write;
    let s = &edge.stats;
    let cache = edge.library.cache();
    let c = cache.stats();
    let load = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed);
    let mut out = String::new();
    // One metric family: HELP, TYPE, then one sample per label set.
    let mut family = |name: &str, kind: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    family(
        "streamfront_connections_total",
        "counter",
        "TCP connections accepted.",
        &[("", load(&s.connections_total))],
    );
    family(
        "streamfront_connections_refused_total",
        "counter",
        "Connections refused over --max-connections.",
        &[("", load(&s.connections_refused))],
    );
    let viewers: Vec<(String, u64)> =
        Protocol::ALL.iter().map(|p| (format!("{{protocol=\"{}\"}}", p.as_str()), s.viewers(*p))).collect();
    let viewers: Vec<(&str, u64)> = viewers.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    family("streamfront_viewers", "gauge", "Established RTMP connections by protocol.", &viewers);
    let sent: Vec<(String, u64)> =
        Protocol::ALL.iter().map(|p| (format!("{{protocol=\"{}\"}}", p.as_str()), s.bytes_sent(*p))).collect();
    let sent: Vec<(&str, u64)> = sent.iter().map(|(l, v)| (l.as_str(), *v)).collect();
    family("streamfront_sent_bytes_total", "counter", "Media bytes sent to viewers by protocol.", &sent);
    family("streamfront_rtmpt_sessions", "gauge", "Open RTMPT tunnel sessions.", &[("", load(&s.rtmpt_sessions))]);
    family(
        "streamfront_rtmpt_refused_total",
        "counter",
        "RTMPT sessions refused over the limits.",
        &[("", load(&s.rtmpt_refused))],
    );
    family(
        "streamfront_cache_hits_total",
        "counter",
        "Block reads served from a cache tier.",
        &[("{tier=\"memory\"}", load(&c.hits)), ("{tier=\"disk\"}", load(&c.disk_hits))],
    );
    family(
        "streamfront_cache_hit_bytes_total",
        "counter",
        "Bytes served from a cache tier.",
        &[("{tier=\"memory\"}", load(&c.memory_hit_bytes)), ("{tier=\"disk\"}", load(&c.disk_hit_bytes))],
    );
    family(
        "streamfront_cache_misses_total",
        "counter",
        "Block reads that went to the origin.",
        &[("", load(&c.misses))],
    );
    family(
        "streamfront_cache_evictions_total",
        "counter",
        "Blocks evicted from a tier.",
        &[("{tier=\"memory\"}", load(&c.memory_evictions)), ("{tier=\"disk\"}", load(&c.disk_evictions))],
    );
    family(
        "streamfront_cache_bytes",
        "gauge",
        "Bytes held in a cache tier.",
        &[("{tier=\"memory\"}", cache.memory_used()), ("{tier=\"disk\"}", cache.disk_used())],
    );
    family(
        "streamfront_cache_disk_corrupt_total",
        "counter",
        "Disk blocks found torn or corrupted (re-fetched, never served).",
        &[("", load(&c.disk_corrupt))],
    );
    family(
        "streamfront_cache_disk_write_errors_total",
        "counter",
        "Failed disk block writes.",
        &[("", load(&c.disk_write_errors))],
    );
    family(
        "streamfront_cache_single_flight_joins_total",
        "counter",
        "Reads that joined a fill already under way.",
        &[("", load(&c.single_flight_joins))],
    );
    family(
        "streamfront_cache_read_ahead_total",
        "counter",
        "Blocks fetched ahead of a reader.",
        &[("", load(&c.read_ahead))],
    );
    family(
        "streamfront_cache_revalidations_total",
        "counter",
        "Expired objects checked with the origin.",
        &[("", load(&c.revalidations))],
    );
    family(
        "streamfront_cache_stale_serves_total",
        "counter",
        "Expired objects served while the origin failed.",
        &[("", load(&c.stale_serves))],
    );
    family(
        "streamfront_origin_requests_total",
        "counter",
        "Origin operations: range reads, and object lookups (kind=head: one S3 HEAD, which goes out with a second, presigned HEAD that reads Expires; or a stat of a local file).",
        &[("{kind=\"range\"}", load(&c.origin_fetches)), ("{kind=\"head\"}", load(&c.origin_heads))],
    );
    family("streamfront_origin_bytes_total", "counter", "Bytes read from the origin.", &[("", load(&c.origin_bytes))]);
    family("streamfront_origin_errors_total", "counter", "Failed origin requests.", &[("", load(&c.origin_errors))]);
    let count = load(&c.origin_latency_count);
    family("streamfront_origin_latency_seconds", "summary", "Origin request latency.", &[]);
    let _ = writeln!(out, "streamfront_origin_latency_seconds_sum {}", load(&c.origin_latency_micros) as f64 / 1e6);
    let _ = writeln!(out, "streamfront_origin_latency_seconds_count {count}");
    let _ = writeln!(
        out,
        "# HELP streamfront_origin_latency_max_seconds Slowest origin request.\n# TYPE streamfront_origin_latency_max_seconds gauge"
    );
    let _ = writeln!(out, "streamfront_origin_latency_max_seconds {}", load(&c.origin_latency_max_micros) as f64 / 1e6);
    out
}
