//! The admin listener: `GET /healthz` (200 when every check passes, 503 naming what failed),
//! `GET /metrics` (Prometheus text format, see [`crate::metrics`]) and `GET /distributions`
//! (JSON: the streaming and web distributions served).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::warn;

use sf_dist::{Status, WireEnum};

use crate::Edge;
use crate::health::ListenerRegistration;
use crate::metrics;

const PLAIN_TEXT: &str = "text/plain; charset=utf-8";

pub async fn serve(
    edge: Arc<Edge>,
    listener: TcpListener,
    health: ListenerRegistration,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        warn!("admin accept failed: {error}");
                        health.accept_failed(&error);
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                health.accepted();
                let edge = Arc::clone(&edge);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let edge = Arc::clone(&edge);
                        async move { Ok::<_, Infallible>(respond(&edge, request).await) }
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

async fn respond(edge: &Edge, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let reply = |status: StatusCode, content_type: &str, body: String| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .expect("static response parts are valid")
    };
    match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => {
            let report = edge.health.check().await;
            let status = if report.healthy() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
            reply(status, PLAIN_TEXT, report.text())
        }
        (&Method::GET, "/metrics") => reply(StatusCode::OK, metrics::CONTENT_TYPE, edge.metrics.encode()),
        (&Method::GET, "/distributions") => reply(StatusCode::OK, "application/json", distributions_json(edge)),
        (&Method::GET, _) => reply(StatusCode::NOT_FOUND, PLAIN_TEXT, "not found\n".to_owned()),
        _ => reply(StatusCode::METHOD_NOT_ALLOWED, PLAIN_TEXT, "method not allowed\n".to_owned()),
    }
}

/// Every distribution the edge serves. Those from the config file are deployed as soon as
/// the edge starts, so their status is always `Deployed`; those from the control store carry
/// the number of their last change and whether every live edge has applied it.
fn distributions_json(edge: &Edge) -> String {
    let mut list: Vec<serde_json::Value> = edge
        .distributions()
        .all()
        .iter()
        .map(|d| {
            let status = d.version.map_or(Status::Deployed, |seq| edge.control.status_of(seq));
            serde_json::json!({
                "id": d.id,
                "kind": "streaming",
                "domain_name": d.domain_name,
                "aliases": d.aliases,
                "enabled": d.enabled,
                "origin": d.origin,
                "default": d.is_default(),
                "version": d.version,
                "status": status.as_str(),
                "viewer_protocol_policy": d.protocol_policy.as_str(),
                "certificates": certificates(edge, d.domain_name.iter().chain(&d.aliases)),
            })
        })
        .collect();
    let distributions = edge.distributions();
    let mut web: Vec<_> = distributions.web().collect();
    web.sort_by(|a, b| a.id().cmp(b.id()));
    for d in web {
        let config = &d.record.distribution_config;
        let status = d.version.map_or(Status::Deployed, |seq| edge.control.status_of(seq));
        let mut origins: Vec<serde_json::Value> = d
            .origins
            .iter()
            .map(|(id, origin)| serde_json::json!({ "id": id, "origin": origin.origin().describe() }))
            .collect();
        origins.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
        list.push(serde_json::json!({
            "id": d.id(),
            "kind": "web",
            "domain_name": d.record.domain_name,
            "aliases": config.aliases,
            "enabled": config.enabled,
            "origins": origins,
            "version": d.version,
            "status": status.as_str(),
            "viewer_certificate": config.viewer_certificate,
            "certificates": certificates(edge, std::iter::once(&d.record.domain_name).chain(&config.aliases)),
        }));
    }
    let mut body = serde_json::to_string_pretty(&list).expect("JSON values serialise");
    body.push('\n');
    body
}

/// Which certificate file serves each of `names` over HTTPS (`default: <file>` for a name no
/// configured certificate covers); `null` without certificates.
fn certificates<'a>(edge: &Edge, names: impl Iterator<Item = &'a String>) -> serde_json::Value {
    let Some(tls) = &edge.config.tls else { return serde_json::Value::Null };
    let by_name: serde_json::Map<String, serde_json::Value> = names
        .map(|name| (name.clone(), serde_json::Value::String(crate::tls::coverage::describe(&tls.certificates, name))))
        .collect();
    serde_json::Value::Object(by_name)
}
