//! Answering one request of a web distribution: the method and path pick a cache behavior
//! (and through it an origin), the object is opened through the cache, and the response is
//! built from its metadata and the viewer's conditional and `Range` headers, its body streamed.

use std::sync::OnceLock;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use sf_cache::{Lookup, ObjectHandle};
use sf_dist::{DistributionConfig, Method as DistMethod};

use super::WebDistribution;
use super::body::{Part, WebBody};
use super::errors::Failure;
use super::interim::{self, Range};
use super::key::{KeyError, object_key};
use super::report::{CacheResult, Report};
use crate::Edge;

/// The request id header: CloudFront's name, which players and tools already log.
const REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-cf-id");
const X_CACHE: HeaderName = HeaderName::from_static("x-cache");

/// Answers `request` from `distribution`. The request's body is never read.
pub async fn respond<B>(edge: &Edge, distribution: &WebDistribution, request: Request<B>) -> Response<WebBody> {
    let (parts, _body) = request.into_parts();
    let request_id = request_id();
    let mut report =
        Report::new(edge.metrics.web.clone(), distribution.id(), parts.method.as_str(), parts.uri.path(), &request_id);
    let (mut response, cache) = answer(distribution, &parts).await;
    report.answered(response.status(), cache);
    let headers = response.headers_mut();
    headers.insert(X_CACHE, HeaderValue::from_static(cache.header()));
    headers.insert(header::VIA, via().clone());
    headers.insert(REQUEST_ID, HeaderValue::from_str(&request_id).expect("request ids are hex"));
    response.map(|body| body.with_report(report))
}

async fn answer(distribution: &WebDistribution, request: &Parts) -> (Response<WebBody>, CacheResult) {
    let config = &distribution.record.distribution_config;
    let head = request.method == Method::HEAD;
    if !config.enabled {
        return failed(&Failure::new(StatusCode::FORBIDDEN, "this distribution is disabled"), head);
    }
    let path = effective_path(config, request.uri.path());
    let behavior = interim::select_behavior(config, path);
    let method = dist_method(&request.method);
    if !method.is_some_and(|method| interim::allows(behavior, method)) {
        let detail = format!("{} is not allowed here", request.method);
        return failed(&Failure::new(StatusCode::FORBIDDEN, detail), head);
    }
    if !matches!(method, Some(DistMethod::Get | DistMethod::Head)) {
        let detail = format!("{}: streamfront serves GET and HEAD only", request.method);
        return failed(&Failure::new(StatusCode::NOT_IMPLEMENTED, detail), head);
    }
    // CloudFront refuses a GET with a body ("Request and response behavior for S3 origins").
    if has_body(&request.headers) {
        return failed(&Failure::new(StatusCode::FORBIDDEN, "a GET or HEAD request with a body"), head);
    }
    match open(distribution, path).await {
        Ok((handle, lookup)) => object_response(request, handle, lookup),
        Err(failure) => error_response(distribution, &failure, head).await,
    }
}

/// The path the behaviors and the origin see: `DefaultRootObject` stands for `/` and only for
/// `/` (Developer Guide, DefaultRootObject.html).
fn effective_path<'a>(config: &'a DistributionConfig, path: &'a str) -> &'a str {
    match &config.default_root_object {
        Some(root) if path == "/" && !root.is_empty() => root,
        _ => path,
    }
}

fn dist_method(method: &Method) -> Option<DistMethod> {
    Some(match *method {
        Method::GET => DistMethod::Get,
        Method::HEAD => DistMethod::Head,
        Method::POST => DistMethod::Post,
        Method::PUT => DistMethod::Put,
        Method::PATCH => DistMethod::Patch,
        Method::OPTIONS => DistMethod::Options,
        Method::DELETE => DistMethod::Delete,
        _ => return None,
    })
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    length.is_some_and(|len| len > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// Opens the object `path` names through the behavior matching it.
async fn open(distribution: &WebDistribution, path: &str) -> Result<(ObjectHandle, Lookup), Failure> {
    let config = &distribution.record.distribution_config;
    let behavior = interim::select_behavior(config, path);
    let Some(origin) = distribution.origins.get(&behavior.target_origin_id) else {
        let detail = format!("no origin {:?} is open for this distribution", behavior.target_origin_id);
        return Err(Failure::new(StatusCode::BAD_GATEWAY, detail));
    };
    let key = match object_key(path) {
        Ok(key) => key,
        Err(KeyError::TooLong) => return Err(Failure::new(StatusCode::URI_TOO_LONG, "the path is too long")),
        Err(KeyError::NotText) => return Err(Failure::new(StatusCode::BAD_REQUEST, "the path is not valid UTF-8")),
    };
    // S3 has no object with an empty key; a bucket listing is never served.
    if key.is_empty() {
        return Err(Failure::new(StatusCode::FORBIDDEN, "no object at /: the distribution has no default root object"));
    }
    origin.open_traced(&key).await.map_err(|error| Failure::from_origin(&error))
}

fn object_response(request: &Parts, handle: ObjectHandle, lookup: Lookup) -> (Response<WebBody>, CacheResult) {
    let meta = handle.meta().clone();
    let block_size = handle.block_size();
    let (cache, age) = match lookup {
        Lookup::Hit { age } | Lookup::Stale { age } => (CacheResult::Hit, Some(age)),
        Lookup::RefreshHit => (CacheResult::RefreshHit, None),
        Lookup::Miss => (CacheResult::Miss, None),
    };
    let etag = interim::etag(&meta);
    let mut headers = HeaderMap::new();
    insert(&mut headers, header::CONTENT_TYPE, &interim::content_type(&meta, handle.key()));
    if let Some(etag) = &etag {
        insert(&mut headers, header::ETAG, etag);
    }
    if let Some(modified) = interim::last_modified(&meta) {
        insert(&mut headers, header::LAST_MODIFIED, &httpdate::fmt_http_date(modified));
    }
    if let Some(cache_control) = &meta.cache_control {
        insert(&mut headers, header::CACHE_CONTROL, cache_control);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(age) = age {
        headers.insert(header::AGE, HeaderValue::from(age.as_secs()));
    }
    let header_text = |name: HeaderName| request.headers.get(name).and_then(|v| v.to_str().ok());
    if interim::none_match(header_text(header::IF_NONE_MATCH), etag.as_deref()) {
        return (build(StatusCode::NOT_MODIFIED, headers, WebBody::empty()), cache);
    }
    let size = meta.size;
    let (status, parts, len) = match interim::parse_range(header_text(header::RANGE), size) {
        Range::Full => (StatusCode::OK, vec![Part::Object { start: 0, len: size }], size),
        Range::Single(start, end) => {
            insert(&mut headers, header::CONTENT_RANGE, &format!("bytes {start}-{end}/{size}"));
            let len = end - start + 1;
            (StatusCode::PARTIAL_CONTENT, vec![Part::Object { start, len }], len)
        }
        Range::Unsatisfiable => {
            insert(&mut headers, header::CONTENT_RANGE, &format!("bytes */{size}"));
            headers.remove(header::CONTENT_TYPE);
            (StatusCode::RANGE_NOT_SATISFIABLE, Vec::new(), 0)
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = if request.method == Method::HEAD || parts.is_empty() {
        WebBody::empty()
    } else {
        WebBody::object(handle, parts, block_size)
    };
    (build(status, headers, body), cache)
}

/// An error, or the distribution's custom error page for its status: the page is fetched
/// through the behavior matching its path and sent with the configured `ResponseCode` (or the
/// original status); if it cannot be fetched, the viewer gets that failure's status
/// ("Generating custom error responses", CloudFront Developer Guide).
async fn error_response(
    distribution: &WebDistribution,
    failure: &Failure,
    head: bool,
) -> (Response<WebBody>, CacheResult) {
    let config = &distribution.record.distribution_config;
    let custom =
        config.custom_error_responses.iter().find(|c| i64::from(c.error_code) == i64::from(failure.status.as_u16()));
    let Some((custom, page)) = custom.and_then(|c| Some((c, c.response_page_path.as_deref()?))) else {
        return failed(failure, head);
    };
    let status = custom
        .response_code
        .as_deref()
        .and_then(|code| code.parse::<u16>().ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .unwrap_or(failure.status);
    match open(distribution, page).await {
        Ok((handle, _)) => {
            let meta = handle.meta();
            let block_size = handle.block_size();
            let mut headers = HeaderMap::new();
            insert(&mut headers, header::CONTENT_TYPE, &interim::content_type(meta, handle.key()));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(meta.size));
            let size = meta.size;
            let body = if head {
                WebBody::empty()
            } else {
                WebBody::object(handle, vec![Part::Object { start: 0, len: size }], block_size)
            };
            (build(status, headers, body), CacheResult::Error)
        }
        Err(page_failure) => failed(&page_failure, head),
    }
}

/// A short text response for `failure`.
fn failed(failure: &Failure, head: bool) -> (Response<WebBody>, CacheResult) {
    let text = Bytes::from(failure.text());
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    let body = if head { WebBody::empty() } else { WebBody::bytes(text) };
    (build(failure.status, headers, body), CacheResult::Error)
}

fn build(status: StatusCode, headers: HeaderMap, body: WebBody) -> Response<WebBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Sets a header from text that came from an origin or the configuration; a value that cannot
/// be a header value is left out rather than failing the response.
fn insert(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

// W1: sf_web::headers request id.
/// A new request id: 128 random bits in hex.
fn request_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// W1: sf_web::headers Via value.
/// `Via: 1.1 <this host> (streamfront)`, as CloudFront's `1.1 <id>.cloudfront.net (CloudFront)`
/// (RFC 9110 §7.6.3).
fn via() -> &'static HeaderValue {
    static VIA: OnceLock<HeaderValue> = OnceLock::new();
    VIA.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let host = host.trim();
        let host = if !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b)) {
            host
        } else {
            "streamfront"
        };
        HeaderValue::from_str(&format!("1.1 {host} (streamfront)")).expect("checked characters")
    })
}
