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
    let s = &edge.stats;
    let cache = edge.library.cache().stats();
    let load = |v: &std::sync::atomic::AtomicU64| v.load(Ordering::Relaxed);
    format!(
        "# TYPE streamfront_connections_total counter\nstreamfront_connections_total {}\n\
         # TYPE streamfront_connections_refused_total counter\nstreamfront_connections_refused_total {}\n\
         # TYPE streamfront_viewers gauge\nstreamfront_viewers{{protocol=\"rtmp\"}} {}\nstreamfront_viewers{{protocol=\"rtmpe\"}} {}\n\
         # TYPE streamfront_cache_hits_total counter\nstreamfront_cache_hits_total {}\n\
         # TYPE streamfront_cache_misses_total counter\nstreamfront_cache_misses_total {}\n\
         # TYPE streamfront_origin_requests_total counter\nstreamfront_origin_requests_total {}\n\
         # TYPE streamfront_origin_bytes_total counter\nstreamfront_origin_bytes_total {}\n\
         # TYPE streamfront_cache_memory_bytes gauge\nstreamfront_cache_memory_bytes {}\n",
        load(&s.connections_total),
        load(&s.connections_refused),
        load(&s.viewers_rtmp),
        load(&s.viewers_rtmpe),
        load(&cache.hits),
        load(&cache.misses),
        load(&cache.origin_fetches),
        load(&cache.origin_bytes),
        edge.library.cache().memory_used(),
    )
}
