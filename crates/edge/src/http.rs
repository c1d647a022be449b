//! The HTTP side of the HTTP listener (hyper). A request whose `Host` names a web distribution
//! is that distribution's, whatever its path (`/crossdomain.xml` and `/open/1` are object paths
//! there); every other host gets what it always got: RTMPT/RTMPTE tunnel requests and the
//! Flash cross-domain policy, HLS playlists and segments of the streaming distribution the
//! host resolves to (`/hls/…`, `/cfx/st/…`: see [`crate::hls`]), and a 404 saying no
//! distribution serves it for anything else.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::buf::Chain;
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tracing::debug;

mod idle;

use self::idle::{Counted, OpenRequests};
use crate::Edge;
use crate::access_log::{Logged, RequestLog};
use crate::hls::HlsBody;
use crate::rewind::Rewind;
use crate::rtmpt::Reply;
use crate::web::WebBody;

/// Largest request body accepted (RTMPT `/send` bodies are a few KB).
const MAX_BODY: usize = 1 << 20;

/// CloudFront served an allow-all policy for RTMP distributions and ignored the bucket's own.
const CROSSDOMAIN_XML: &str = "<?xml version=\"1.0\"?>\n\
<!DOCTYPE cross-domain-policy SYSTEM \"http://www.adobe.com/xml/dtds/cross-domain-policy.dtd\">\n\
<cross-domain-policy>\n\
  <site-control permitted-cross-domain-policies=\"all\"/>\n\
  <allow-access-from domain=\"*\"/>\n\
</cross-domain-policy>\n";

/// The connection a request came on, as its access log record tells it.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub peer: SocketAddr,
    /// The TLS session of an HTTPS connection; `None` for plain HTTP.
    pub tls: Option<crate::tls::Session>,
}

impl Viewer {
    /// A viewer on a plain (not TLS) connection.
    pub fn plain(peer: SocketAddr) -> Viewer {
        Viewer { peer, tls: None }
    }

    /// Whether the request came over TLS: the scheme of the URL the viewer asked for.
    pub fn is_https(&self) -> bool {
        self.tls.is_some()
    }
}

/// Plain HTTP or HTTP inside TLS: what a `match-viewer` origin is fetched over for viewers who
/// came in on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// Serves HTTP/1.x on a connection whose first bytes were already read. Generic over the
/// transport so tests and the fuzzer can drive it through an in-memory pipe.
pub async fn serve<T>(edge: Arc<Edge>, stream: T, viewer: Viewer, initial: BytesMut)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let peer = viewer.peer;
    // hyper's one timer counts from when it waits for a request's head: the whole wait
    // between requests of a keep-alive connection, then the head's own bytes. So it is the
    // idle timeout, as for an HTTP/2 connection without requests, but never longer than a
    // slow head may take.
    let wait_for_head = edge.config.timeouts.idle.min(MAX_HEAD_WAIT);
    let io = TokioIo::new(Rewind::new(initial, stream));
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let edge = Arc::clone(&edge);
        async move { Ok::<_, Infallible>(respond(edge, viewer, request).await) }
    });
    let result = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(wait_for_head)
        .keep_alive(true)
        // librtmp finds `Content-Length` with a case-sensitive search for "Content-".
        .title_case_headers(true)
        // No `pipeline_flush`: it would make hyper copy every body into its own buffer. The
        // default, for a transport with vectored writes, sends headers, polling byte and
        // tunnel data in one writev; pipelined requests (librtmp) get a write each.
        .max_buf_size(64 * 1024)
        .serve_connection(io, service)
        .await;
    if let Err(error) = result {
        debug!(client = %peer, "HTTP connection ended: {error}");
    }
}

/// Serves HTTP/2 (a TLS client that negotiated ALPN `h2`) with the same responses as [`serve`].
/// A connection with no request open for the idle timeout is closed: GOAWAY, then the close.
pub async fn serve_h2<T>(edge: Arc<Edge>, stream: T, viewer: Viewer)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let idle = edge.config.timeouts.idle;
    let requests = OpenRequests::new();
    let service = {
        let requests = requests.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let edge = Arc::clone(&edge);
            let open = requests.open();
            async move { Ok::<_, Infallible>(respond(edge, viewer, request).await.map(|body| Counted::new(body, open))) }
        })
    };
    let connection = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .timer(TokioTimer::new())
        // Bounds on what one client can make the server hold (RFC 9113 §6.5.2).
        .max_concurrent_streams(MAX_H2_STREAMS)
        .max_header_list_size(MAX_H2_HEADERS)
        .serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = requests.idle_for(idle) => {
            debug!(client = %viewer.peer, "HTTP/2 connection idle for {idle:?}; closing");
            // GOAWAY (RFC 9113 §6.8), a PING, and a final GOAWAY once the client answers it;
            // the connection ends when the requests that raced the first one are done.
            connection.as_mut().graceful_shutdown();
            tokio::select! {
                result = connection.as_mut() => result,
                // A client that answers neither and sends nothing is not waited for.
                _ = requests.idle_for(GOAWAY_GRACE) => Ok(()),
            }
        }
    };
    if let Err(error) = result {
        debug!(client = %viewer.peer, "HTTP/2 connection ended: {error}");
    }
}

/// Longest an HTTP/1.1 connection waits for a request's head: a client sending one a byte at a
/// time (slowloris) holds its connection no longer.
const MAX_HEAD_WAIT: Duration = Duration::from_secs(30);

/// How long an idle HTTP/2 connection told GOAWAY may take to close, without requests.
const GOAWAY_GRACE: Duration = Duration::from_secs(2);

/// Requests in flight on one HTTP/2 connection.
const MAX_H2_STREAMS: u32 = 100;
/// Largest header block of one HTTP/2 request.
const MAX_H2_HEADERS: u32 = 16 * 1024;

/// A response body in two parts (see [`Reply::Data`]); other responses leave the second empty.
type Plain = Full<Chain<Bytes, Bytes>>;

/// A response of this listener: a tunnel's or the listener's own, a web distribution's, or
/// HLS.
pub enum Body {
    Plain(Plain),
    Web(WebBody),
    Hls(HlsBody),
}

impl hyper::body::Body for Body {
    type Data = Chain<Bytes, Bytes>;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        match self.get_mut() {
            Body::Plain(body) => Pin::new(body).poll_frame(cx).map_err(|never| match never {}),
            // The second part of a web chunk is empty: one body type serves both.
            Body::Web(body) => Pin::new(body)
                .poll_frame(cx)
                .map_ok(|frame| frame.map_data(|bytes| bytes.chain(Bytes::new())))
                .map_err(Into::into),
            Body::Hls(body) => Pin::new(body)
                .poll_frame(cx)
                .map_ok(|frame| frame.map_data(|bytes| bytes.chain(Bytes::new())))
                .map_err(Into::into),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Plain(body) => body.is_end_stream(),
            Body::Web(body) => body.is_end_stream(),
            Body::Hls(body) => body.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Plain(body) => body.size_hint(),
            Body::Web(body) => body.size_hint(),
            Body::Hls(body) => body.size_hint(),
        }
    }
}

/// Answers a request; those of distributions that log are followed for their access log
/// record.
async fn respond(edge: Arc<Edge>, viewer: Viewer, request: Request<Incoming>) -> Response<Logged<Body>> {
    let host = request_host(&request);
    if let Some(host) = &host
        && let Some(web) = edge.distributions().resolve_web(host)
    {
        let log = RequestLog::start(&edge.access_logs, web.logging.as_ref(), web.domain_name(), &viewer, &request);
        return logged(log, crate::web::respond(&edge, &web, &viewer, request).await.map(Body::Web));
    }
    if crate::hls::path::is_hls(request.uri().path()) {
        let distribution = edge.distributions().resolve(host.as_deref());
        let log = distribution.as_ref().and_then(|d| {
            RequestLog::start(&edge.access_logs, d.hls_logging.as_ref(), d.domain_name.as_deref()?, &viewer, &request)
        });
        return logged(log, crate::hls::respond(&edge, host.as_deref(), &viewer, request).await.map(Body::Hls));
    }
    route(edge, viewer, host, request).await.map(Logged::unlogged)
}

fn logged(log: Option<RequestLog>, response: Response<Body>) -> Response<Logged<Body>> {
    match log {
        Some(log) => log.attach(response),
        None => response.map(Logged::unlogged),
    }
}

/// The listener's own answers: RTMPT tunnels, the cross-domain policy, and 404 for the rest.
async fn route(edge: Arc<Edge>, viewer: Viewer, host: Option<String>, request: Request<Incoming>) -> Response<Body> {
    let peer = viewer.peer;
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (&method, parts.as_slice()) {
        (&Method::GET | &Method::HEAD, ["crossdomain.xml"]) => {
            response(StatusCode::OK, "text/x-cross-domain-policy", Bytes::from_static(CROSSDOMAIN_XML.as_bytes()))
        }
        // Flash's identification probe: FMS answers 404 and clients expect it.
        (&Method::POST, ["fcs", "ident2"]) => not_found(),
        (&Method::POST, ["open", "1"]) => {
            let host = tunnel_host(&request);
            let over_tls = viewer.is_https();
            if read_body(request).await.is_err() {
                return bad_request();
            }
            tunnel_response(edge.tunnels.open(&edge, peer, host, over_tls))
        }
        (&Method::POST, [command @ ("send" | "idle" | "close"), id, seq]) if valid_id(id) => {
            let Ok(seq) = seq.parse::<u64>() else { return not_found() };
            let Ok(body) = read_body(request).await else { return bad_request() };
            let reply = match *command {
                "send" => edge.tunnels.exchange(id, seq, Some(body)).await,
                // The 1-byte body of /idle and /close is not RTMP data.
                "idle" => edge.tunnels.exchange(id, seq, None).await,
                _ => edge.tunnels.close(id, seq).await,
            };
            tunnel_response(reply)
        }
        _ => no_distribution(host.as_deref()),
    }
}

/// The host a request is for: the authority of an absolute-form target, else the `Host`
/// header (RFC 9112 §3.2.2). A value too long to be a host name is ignored.
fn request_host<B>(request: &Request<B>) -> Option<String> {
    let host = match request.uri().authority() {
        Some(authority) => authority.as_str(),
        None => request.headers().get(hyper::header::HOST)?.to_str().ok()?,
    };
    (host.len() <= MAX_HOST_HEADER).then(|| host.to_owned())
}

/// A request no web distribution claims that is not an RTMPT request either.
fn no_distribution(host: Option<&str>) -> Response<Body> {
    let text = match host.and_then(sf_dist::normalize_host) {
        Some(host) => format!("no distribution serves the host {host}\n"),
        None => "no distribution serves this request: it names no host\n".to_owned(),
    };
    response(StatusCode::NOT_FOUND, "text/plain", Bytes::from(text))
}

/// The `Host` header of a tunnel's `/open` request (RFC 9110 §7.2): the host the player
/// connected to, which picks the distribution when the `tcUrl` names none. A value too long
/// to be a host name is ignored.
fn tunnel_host(request: &Request<Incoming>) -> Option<String> {
    let host = request.headers().get(hyper::header::HOST)?.to_str().ok()?;
    (host.len() <= MAX_HOST_HEADER).then(|| host.to_owned())
}

/// Longest `Host` value kept: a 255-byte name (RFC 1035 §2.3.4) and a port.
const MAX_HOST_HEADER: usize = 255 + 6;

/// Session ids are 32 hex digits; anything else cannot name a session.
fn valid_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn read_body(request: Request<Incoming>) -> Result<Bytes, ()> {
    Limited::new(request.into_body(), MAX_BODY).collect().await.map(|b| b.to_bytes()).map_err(|_| ())
}

fn tunnel_response(reply: Reply) -> Response<Body> {
    match reply {
        Reply::Data { head, data } => Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/x-fcs")
            .header("cache-control", "no-cache")
            .body(Body::Plain(Full::new(head.chain(data))))
            .expect("static response parts are valid"),
        Reply::NotFound => not_found(),
        Reply::Busy => {
            response(StatusCode::SERVICE_UNAVAILABLE, "text/plain", Bytes::from_static(b"too many sessions\n"))
        }
    }
}

fn response(status: StatusCode, content_type: &'static str, body: Bytes) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Body::Plain(Full::new(body.chain(Bytes::new()))))
        .expect("static response parts are valid")
}

fn not_found() -> Response<Body> {
    response(StatusCode::NOT_FOUND, "text/plain", Bytes::from_static(b"not found\n"))
}

fn bad_request() -> Response<Body> {
    response(StatusCode::BAD_REQUEST, "text/plain", Bytes::from_static(b"bad request\n"))
}
