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
    let cache = edge.library.cache().stats();
    let load = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed);
    let mut out = String::new();
    let mut counter = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
    };
    counter("streamfront_connections_total", "counter", "TCP connections accepted.", load(&s.connections_total));
    counter("streamfront_connections_refused_total", "counter", "Connections refused over --max-connections.", load(&s.connections_refused));
    counter("streamfront_rtmpt_sessions", "gauge", "Open RTMPT tunnel sessions.", load(&s.rtmpt_sessions));
    counter("streamfront_rtmpt_refused_total", "counter", "RTMPT sessions refused over the limit.", load(&s.rtmpt_refused));
    counter("streamfront_cache_hits_total", "counter", "Block reads served from memory.", load(&cache.hits));
    counter("streamfront_cache_misses_total", "counter", "Block reads that went to the origin.", load(&cache.misses));
    counter("streamfront_origin_requests_total", "counter", "Ranged reads sent to the origin.", load(&cache.origin_fetches));
    counter("streamfront_origin_bytes_total", "counter", "Bytes read from the origin.", load(&cache.origin_bytes));
    counter("streamfront_cache_memory_bytes", "gauge", "Bytes of media blocks held in memory.", edge.library.cache().memory_used());
    let _ = writeln!(out, "# HELP streamfront_viewers Established RTMP connections.\n# TYPE streamfront_viewers gauge");
    for p in Protocol::ALL {
        let _ = writeln!(out, "streamfront_viewers{{protocol=\"{}\"}} {}", p.as_str(), s.viewers(p));
    }
    let _ = writeln!(out, "# HELP streamfront_sent_bytes_total Media bytes sent to viewers.\n# TYPE streamfront_sent_bytes_total counter");
    for p in Protocol::ALL {
        let _ = writeln!(out, "streamfront_sent_bytes_total{{protocol=\"{}\"}} {}", p.as_str(), s.bytes_sent(p));
    }
    out
}
