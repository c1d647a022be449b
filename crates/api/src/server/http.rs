//! The HTTP side of the API: accepts connections, bounds what it reads, and turns every
//! outcome into CloudFront's response form (XML bodies, `x-amz-request-id`, the error
//! envelope).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use super::Api;
use crate::ApiError;

/// Bound on a request body. The largest body an operation takes is a `DistributionConfig`
/// with every quota filled (hundreds of kilobytes at most); CloudFront's own limit is not
/// documented.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// A client must send its whole request within this.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What an operation answers: status, extra headers, and the XML body if any.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

impl Answer {
    pub fn xml(status: u16, body: Vec<u8>) -> Answer {
        Answer { status, headers: Vec::new(), body: Some(body) }
    }

    pub fn no_content() -> Answer {
        Answer { status: 204, headers: Vec::new(), body: None }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Answer {
        self.headers.push((name, value.into()));
        self
    }
}

/// The parts of a request an operation needs, with its body read.
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

/// Serves the API on `listener` until `shutdown` turns true.
pub async fn serve(api: Arc<Api>, listener: TcpListener, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        warn!("api accept failed: {error}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                tokio::spawn(serve_connection(Arc::clone(&api), stream, peer));
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Serves HTTP/1.1 on one accepted connection (a TCP socket, or a TLS stream) until it ends.
pub async fn serve_connection<T>(api: Arc<Api>, stream: T, peer: std::net::SocketAddr)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |request| {
        let api = Arc::clone(&api);
        async move { Ok::<_, Infallible>(respond(&api, request, peer).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(error) = connection.await {
        info!(%peer, "api connection: {error}");
    }
}

async fn respond(api: &Api, request: Request<Incoming>, peer: std::net::SocketAddr) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let request_id = request_id();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let outcome = match read(request).await {
        Ok(incoming) => api.handle(incoming).await,
        Err(e) => Err(e),
    };
    let (answer, operation, caller) = match outcome {
        Ok(handled) => (handled.answer, handled.operation, handled.caller),
        Err(failed) => {
            let body = crate::xml::error_xml(&failed.error, &request_id);
            let answer = Answer::xml(failed.error.status, body);
            info!(%peer, %method, %path, status = failed.error.status, code = failed.error.code, message = %failed.error.message, operation = failed.operation.as_deref().unwrap_or("-"), caller = failed.caller.as_deref().unwrap_or("-"), %request_id, elapsed_ms = started.elapsed().as_millis() as u64, "api request refused");
            return build(answer, &request_id);
        }
    };
    info!(%peer, %method, %path, status = answer.status, %operation, %caller, %request_id, elapsed_ms = started.elapsed().as_millis() as u64, "api request");
    build(answer, &request_id)
}

/// An operation's success, with who asked for what (for the log).
pub struct Handled {
    pub answer: Answer,
    pub operation: String,
    pub caller: String,
}

/// A refusal, with as much as was known when it happened.
pub struct Failed {
    pub error: ApiError,
    pub operation: Option<String>,
    pub caller: Option<String>,
}

impl From<ApiError> for Failed {
    fn from(error: ApiError) -> Failed {
        Failed { error, operation: None, caller: None }
    }
}

/// Reads the request whole, refusing a body over [`MAX_BODY_BYTES`] before reading it when
/// `Content-Length` says so, and while reading it otherwise.
async fn read(request: Request<Incoming>) -> Result<ApiRequest, Failed> {
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
        return Err(too_large().into());
    }
    let body = match tokio::time::timeout(READ_TIMEOUT, Limited::new(body, MAX_BODY_BYTES).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => return Err(too_large().into()),
        Ok(Err(e)) => return Err(ApiError::new(400, "MalformedInput", format!("reading the request body: {e}")).into()),
        Err(_) => {
            return Err(ApiError::new(
                408,
                "RequestTimeout",
                format!("the request body did not arrive within {READ_TIMEOUT:?}"),
            )
            .into());
        }
    };
    Ok(ApiRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers: parts.headers,
        body,
    })
}

fn too_large() -> ApiError {
    ApiError::new(413, "RequestEntityTooLarge", format!("the request body is larger than {MAX_BODY_BYTES} bytes"))
}

fn build(answer: Answer, request_id: &str) -> Response<Full<Bytes>> {
    let mut response = Response::builder().status(answer.status).header("x-amz-request-id", request_id);
    if answer.body.is_some() {
        response = response.header("content-type", "text/xml");
    }
    for (name, value) in answer.headers {
        response = response.header(name, value);
    }
    let body = answer.body.map(Bytes::from).unwrap_or_default();
    response.body(Full::new(body)).unwrap_or_else(|e| {
        warn!("api response could not be built: {e}");
        let mut fallback = Response::new(Full::new(Bytes::new()));
        *fallback.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
        fallback
    })
}

/// A request id in the form AWS uses (a UUID).
fn request_id() -> String {
    let bits: u128 = rand::random();
    let hex = format!("{bits:032x}");
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}
