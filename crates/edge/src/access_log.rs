//! Access log records of HTTP requests in CloudFront's web format (33 fields): every request to
//! a web distribution whose `Logging` is enabled, and every HLS request to a streaming
//! distribution whose `Logging` is enabled (into files of their own, see
//! [`crate::routing::ServedDistribution::hls_logging`]).
//!
//! A [`RequestLog`] is started when the request arrives, told the response's head when it is
//! ready, and follows the response's body through [`Logged`]; it writes its record when it is
//! dropped: after the body's last byte, when the viewer left, or when the request was dropped
//! before any response (status `000`). Field meanings: Amazon CloudFront Developer Guide,
//! "Standard log file fields", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Buf;
use hyper::body::{Body, Frame, SizeHint};
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Method, Request, Response, StatusCode, Version};
use sf_logs::{AccessLogs, LogTarget, WebRecord};

use crate::http::Viewer;

const REQUEST_ID: HeaderName = HeaderName::from_static(sf_web::REQUEST_ID_HEADER);
const X_CACHE: HeaderName = HeaderName::from_static("x-cache");
/// `Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n`, which hyper adds to every response.
const DATE_HEADER_BYTES: u64 = 37;
/// `Transfer-Encoding: chunked\r\n`, which hyper adds to an HTTP/1.1 body of unknown length.
const CHUNKED_HEADER_BYTES: u64 = 28;

/// One request on its way to its access log record.
pub struct RequestLog {
    logs: Arc<AccessLogs>,
    target: Arc<LogTarget>,
    record: WebRecord,
    version: Version,
    received: Instant,
    answered: Option<Answer>,
    first_byte: Option<Instant>,
    body_bytes: u64,
    data_frames: u64,
    body_failed: bool,
    body_complete: bool,
}

/// What the response's head said.
struct Answer {
    /// `x-edge-response-result-type`.
    result_type: &'static str,
    head_bytes: u64,
    /// Sent with HTTP/1.1 chunked framing (a body of unknown length).
    chunked: bool,
}

impl RequestLog {
    /// The log of `request`, which `viewer` sent to the distribution whose domain name is
    /// `domain` and whose logs go to `target`; `None` when it does not log.
    pub fn start<B>(
        logs: &Arc<AccessLogs>,
        target: Option<&Arc<LogTarget>>,
        domain: &str,
        viewer: &Viewer,
        request: &Request<B>,
    ) -> Option<RequestLog> {
        let target = target?;
        let headers = request.headers();
        let text = |name: HeaderName| joined(headers, name);
        let tls = viewer.tls;
        let host_header = match request.uri().authority() {
            Some(authority) => Some(authority.as_str().to_owned()),
            None => text(header::HOST),
        };
        let record = WebRecord {
            client: Some(viewer.peer),
            method: request.method().as_str().to_owned(),
            host: domain.to_owned(),
            uri_stem: request.uri().path().to_owned(),
            referer: text(header::REFERER),
            user_agent: text(header::USER_AGENT),
            uri_query: request.uri().query().map(str::to_owned),
            cookie: if target.include_cookies { text(header::COOKIE) } else { None },
            host_header,
            protocol: if tls.is_some() { "https" } else { "http" }.to_owned(),
            cs_bytes: request_bytes(request),
            forwarded_for: text(HeaderName::from_static("x-forwarded-for")),
            ssl_protocol: tls.map(|tls| tls.protocol.to_owned()),
            ssl_cipher: tls.map(|tls| tls.cipher.to_owned()),
            protocol_version: version_name(request.version()).to_owned(),
            ..WebRecord::default()
        };
        Some(RequestLog {
            logs: Arc::clone(logs),
            target: Arc::clone(target),
            record,
            version: request.version(),
            received: Instant::now(),
            answered: None,
            first_byte: None,
            body_bytes: 0,
            data_frames: 0,
            body_failed: false,
            body_complete: false,
        })
    }

    /// Notes `response`'s head and hands its body on, followed until it is done.
    pub fn attach<B: Body>(mut self, response: Response<B>) -> Response<Logged<B>> {
        let version = self.version;
        let head_only = self.record.method == Method::HEAD.as_str();
        let headers = response.headers();
        let status = response.status();
        let header_text = |name: HeaderName| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let content_len = header_text(header::CONTENT_LENGTH).and_then(|len| len.parse().ok());
        // hyper frames a body of unknown length in chunks on HTTP/1.1 (RFC 9112 §7.1).
        let chunked = version == Version::HTTP_11
            && content_len.is_none()
            && !head_only
            && body_allowed(status)
            && response.body().size_hint().exact().is_none();
        let mut head_bytes = response_head_bytes(status, headers);
        if chunked {
            head_bytes += CHUNKED_HEADER_BYTES;
        }
        let cache = header_text(X_CACHE);
        let result_type = result_type(status, cache.as_deref());
        let record = &mut self.record;
        record.status = status.as_u16();
        record.content_type = header_text(header::CONTENT_TYPE);
        record.content_len = content_len;
        record.range = header_text(header::CONTENT_RANGE).and_then(|range| content_range(&range));
        record.request_id = header_text(REQUEST_ID).unwrap_or_else(new_request_id);
        self.answered = Some(Answer { result_type, head_bytes, chunked });
        response.map(|body| Logged { body, log: Some(self) })
    }

    fn body_polled(&mut self) {
        self.first_byte.get_or_insert_with(Instant::now);
    }

    /// Writes the record: called once, on drop.
    fn finish(&mut self) {
        let now = Instant::now();
        let record = &mut self.record;
        record.time_taken = now.duration_since(self.received);
        record.time_to_first_byte = self.first_byte.unwrap_or(now).duration_since(self.received);
        let (result, response_result, detailed) = match &self.answered {
            // The viewer left (or the connection failed) before the response started.
            None => ("Error", "Error", "ClientHungUpRequest"),
            Some(answer) => {
                record.sc_bytes = answer.head_bytes + self.body_bytes;
                if answer.chunked {
                    record.sc_bytes += chunk_framing_bytes(self.body_bytes, self.data_frames, self.body_complete);
                }
                if self.body_failed {
                    ("Error", answer.result_type, "OriginReadError")
                } else if !self.body_complete {
                    ("Error", answer.result_type, "ClientCommError")
                } else {
                    (answer.result_type, answer.result_type, detailed_result_type(record.status, answer.result_type))
                }
            }
        };
        record.result_type = result.to_owned();
        record.response_result_type = response_result.to_owned();
        record.detailed_result_type = detailed.to_owned();
        if record.request_id.is_empty() {
            record.request_id = new_request_id();
        }
        self.logs.log(&self.target, std::mem::take(record));
    }
}

impl Drop for RequestLog {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A response body followed for its request's access log record (or not, without one).
pub struct Logged<B: Body> {
    body: B,
    log: Option<RequestLog>,
}

impl<B: Body> Logged<B> {
    pub fn unlogged(body: B) -> Logged<B> {
        Logged { body, log: None }
    }
}

impl<B> Body for Logged<B>
where
    B: Body + Unpin,
    B::Data: Buf,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        if let Some(log) = &mut this.log {
            log.body_polled();
            match &polled {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref().filter(|data| data.has_remaining()) {
                        log.body_bytes += data.remaining() as u64;
                        log.data_frames += 1;
                    }
                }
                Poll::Ready(Some(Err(_))) => log.body_failed = true,
                Poll::Ready(None) => log.body_complete = true,
                Poll::Pending => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl<B: Body> Drop for Logged<B> {
    fn drop(&mut self) {
        // hyper stops polling a body that says it has ended.
        if let Some(log) = &mut self.log
            && self.body.is_end_stream()
        {
            log.body_complete = true;
        }
    }
}

/// A header's values (e.g. several `Cookie` lines) as one text; `None` when absent or not text.
fn joined(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    let values: Vec<&str> = headers.get_all(&name).iter().filter_map(|v| v.to_str().ok()).collect();
    let separator = if name == header::COOKIE { "; " } else { ", " };
    (!values.is_empty()).then(|| values.join(separator))
}

/// `cs-bytes`: the request's line and headers as HTTP/1.1 sends them, and its body's declared
/// length (the edge never reads a body).
fn request_bytes<B>(request: &Request<B>) -> u64 {
    let target = request.uri().path_and_query().map_or(1, |target| target.as_str().len());
    let line = request.method().as_str().len() + 1 + target + " HTTP/1.1\r\n".len();
    let headers: usize = request.headers().iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    let body = request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    (line + headers + 2) as u64 + body.unwrap_or(0)
}

/// The response's status line and headers as hyper writes them on HTTP/1.1: hyper adds `Date`
/// when the response has none. (An HTTP/2 response's compressed headers are counted the same
/// way: the log says what the response held, not what HPACK made of it.)
fn response_head_bytes(status: StatusCode, headers: &HeaderMap) -> u64 {
    let reason = status.canonical_reason().unwrap_or("<unknown status code>");
    let line = "HTTP/1.1 200 ".len() + reason.len() + 2;
    let fields: usize = headers.iter().map(|(name, value)| name.as_str().len() + 2 + value.len() + 2).sum();
    let date = if headers.contains_key(header::DATE) { 0 } else { DATE_HEADER_BYTES };
    (line + fields + 2) as u64 + date
}

/// What chunked framing added to `body` bytes sent in `frames` chunks: each chunk's size in
/// hex and two line ends, and when the body ended the last chunk `0\r\n\r\n`.
fn chunk_framing_bytes(body: u64, frames: u64, complete: bool) -> u64 {
    // The chunks' sizes are not kept: assume equal ones for the digits of their hex sizes.
    let per_frame = body.checked_div(frames).unwrap_or(0);
    let digits = u64::from((64 - per_frame.leading_zeros()).div_ceil(4).max(1));
    frames * (digits + 4) + if complete { 5 } else { 0 }
}

fn body_allowed(status: StatusCode) -> bool {
    !(status.is_informational() || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED)
}

fn version_name(version: Version) -> &'static str {
    match version {
        Version::HTTP_09 => "HTTP/0.9",
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2.0",
        Version::HTTP_3 => "HTTP/3.0",
        _ => "HTTP/1.1",
    }
}

/// `x-edge-response-result-type` from the response's `X-Cache` (`Hit from streamfront`…). A
/// response without one (HLS, answered from the cached media index and blocks) is a `Hit`, or
/// an `Error` for an error status.
fn result_type(status: StatusCode, x_cache: Option<&str>) -> &'static str {
    let word = x_cache.and_then(|value| value.split(' ').next());
    match word {
        Some("Hit") => "Hit",
        Some("RefreshHit") => "RefreshHit",
        Some("Miss") => "Miss",
        Some("Redirect") => "Redirect",
        Some(_) => "Error",
        None if status.is_client_error() || status.is_server_error() => "Error",
        None if status.is_redirection() && status != StatusCode::NOT_MODIFIED => "Redirect",
        None => "Hit",
    }
}

/// `x-edge-detailed-result-type` of a response sent whole: the result type, or for an error
/// what kind of error its status says.
fn detailed_result_type(status: u16, result_type: &'static str) -> &'static str {
    if result_type != "Error" {
        return result_type;
    }
    match status {
        405 | 501 => "InvalidRequestMethod",
        431 => "InvalidRequestHeader",
        400 | 414 => "InvalidRequest",
        502 => "OriginError",
        504 => "OriginCommError",
        _ => "Error",
    }
}

/// `sc-range-start` and `sc-range-end` from `Content-Range: bytes <start>-<end>/<size>`.
fn content_range(value: &str) -> Option<(u64, u64)> {
    let range = value.strip_prefix("bytes ")?.split('/').next()?;
    let (start, end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, end.trim().parse().ok()?))
}

fn new_request_id() -> String {
    let mut random = [0u8; 40];
    rand::fill(&mut random);
    sf_web::request_id(random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_come_from_content_range() {
        assert_eq!(content_range("bytes 100-199/1000"), Some((100, 199)));
        assert_eq!(content_range("bytes */1000"), None);
        assert_eq!(content_range("items 1-2/3"), None);
    }

    #[test]
    fn result_types_come_from_x_cache_or_the_status() {
        assert_eq!(result_type(StatusCode::OK, Some("Miss from streamfront")), "Miss");
        assert_eq!(result_type(StatusCode::NOT_FOUND, Some("Error from streamfront")), "Error");
        assert_eq!(result_type(StatusCode::OK, None), "Hit");
        assert_eq!(result_type(StatusCode::NOT_MODIFIED, None), "Hit");
        assert_eq!(result_type(StatusCode::NOT_FOUND, None), "Error");
        assert_eq!(detailed_result_type(504, "Error"), "OriginCommError");
        assert_eq!(detailed_result_type(200, "Hit"), "Hit");
    }

    #[test]
    fn chunk_framing_counts_sizes_and_the_last_chunk() {
        // Two chunks of 0x100 bytes: "100\r\n" + data + "\r\n" each, then "0\r\n\r\n".
        assert_eq!(chunk_framing_bytes(512, 2, true), 2 * (3 + 4) + 5);
        assert_eq!(chunk_framing_bytes(0, 0, true), 5);
        assert_eq!(chunk_framing_bytes(0, 0, false), 0);
    }

    #[test]
    fn response_heads_are_counted_as_http_1_1_writes_them() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_LENGTH, 10.into());
        // "HTTP/1.1 200 OK\r\n" + "content-length: 10\r\n" + Date + "\r\n"
        assert_eq!(response_head_bytes(StatusCode::OK, &headers), 17 + 20 + DATE_HEADER_BYTES + 2);
    }
}
