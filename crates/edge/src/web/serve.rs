//! Answering one request of a web distribution: the method and path pick a cache behavior
//! (and through it an origin), the object is opened through the cache, and the response is
//! built from its metadata and the viewer's conditional and `Range` headers, its body streamed.

use std::sync::OnceLock;
use std::time::SystemTime;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};
use sf_cache::{Lifetime, Lookup, ObjectHandle, ObjectMeta, Origin, OriginError, Trust};
use sf_web::{Encoder, OriginFreshness, Outcome, Part, RangeRequest, ResponseInfo, Validators, ViewerInfo, XCache};

use super::WebDistribution;
use super::body::WebBody;
use super::errors::Failure;
use super::key::{KeyError, object_key};
use super::private::{self, Allowed, Denied, Signers};
use super::report::Report;
use crate::Edge;
use crate::http::Viewer;

/// The request id header: CloudFront's name, which players and tools already log.
const REQUEST_ID: HeaderName = HeaderName::from_static(sf_web::REQUEST_ID_HEADER);
const X_CACHE: HeaderName = HeaderName::from_static("x-cache");
/// The largest request without its body CloudFront takes: 20,480 bytes ("Quotas", CloudFront
/// Developer Guide).
const MAX_REQUEST_HEAD: usize = 20_480;

/// Answers `request` from `distribution`. The request's body is never read.
pub async fn respond<B>(
    edge: &Edge,
    distribution: &WebDistribution,
    viewer: &Viewer,
    request: Request<B>,
) -> Response<WebBody> {
    let (parts, _body) = request.into_parts();
    let request_id = request_id();
    let mut report =
        Report::new(edge.metrics.web.clone(), distribution.id(), parts.method.as_str(), parts.uri.path(), &request_id);
    let (mut response, cache) = match super::protocol::check(edge, distribution, &parts, viewer.is_https()) {
        Some(not_here) => not_here,
        None => match private_check(edge, distribution, viewer, &parts) {
            Ok(allowed) => answer(distribution.for_viewer(viewer.is_https()), &parts, allowed.query.as_deref()).await,
            Err(denied) => {
                let (status, headers, body) = denied.response(&parts.method);
                (build(status, headers, WebBody::bytes(body)), XCache::Error)
            }
        },
    };
    report.answered(response.status(), cache);
    let headers = response.headers_mut();
    headers.insert(X_CACHE, HeaderValue::from_static(cache.header_value()));
    headers.insert(header::VIA, via().clone());
    headers.insert(REQUEST_ID, HeaderValue::from_str(&request_id).expect("request ids are base64"));
    response.map(|body| body.with_report(report))
}

/// The signature check of the behavior the request's path selects (see [`private`]).
fn private_check(
    edge: &Edge,
    distribution: &WebDistribution,
    viewer: &Viewer,
    request: &Parts,
) -> Result<Allowed, Denied> {
    let config = &distribution.record.distribution_config;
    let behavior = sf_web::select_behavior(config, &sf_web::object_path(config, request.uri.path()));
    let host = request.uri.authority().map(|a| a.as_str()).or_else(|| request.headers.get(header::HOST)?.to_str().ok());
    let origin = private::Origin { peer: viewer.peer.ip(), https: viewer.is_https(), host: host.unwrap_or_default() };
    private::check(edge, distribution.id(), Signers::of_behavior(&behavior), request, origin, &[])
}

/// Answers a request; `query` is its query without signing parameters.
async fn answer(distribution: &WebDistribution, request: &Parts, query: Option<&str>) -> (Response<WebBody>, XCache) {
    let config = &distribution.record.distribution_config;
    let head = request.method == Method::HEAD;
    if request_head_size(request) > MAX_REQUEST_HEAD {
        let detail = format!("the request line and headers exceed {MAX_REQUEST_HEAD} bytes");
        return failed(&Failure::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, detail), head);
    }
    if !config.enabled {
        return failed(&Failure::new(StatusCode::FORBIDDEN, "this distribution is disabled"), head);
    }
    let path = sf_web::object_path(config, request.uri.path());
    let behavior = sf_web::select_behavior(config, &path);
    if !behavior.allows(&request.method) {
        let detail = format!("{} is not allowed here", request.method);
        return failed(&Failure::new(StatusCode::FORBIDDEN, detail), head);
    }
    if !matches!(request.method, Method::GET | Method::HEAD) {
        let detail = format!("{}: streamfront serves GET and HEAD only", request.method);
        return failed(&Failure::new(StatusCode::NOT_IMPLEMENTED, detail), head);
    }
    // CloudFront refuses a GET with a body ("Request and response behavior for S3 origins").
    if has_body(&request.headers) {
        return failed(&Failure::new(StatusCode::FORBIDDEN, "a GET or HEAD request with a body"), head);
    }
    match open(distribution, &path, query).await {
        Ok((handle, lookup)) => object_response(request, behavior.compress(), handle, lookup),
        Err(failure) => error_response(distribution, &failure, head).await,
    }
}

/// The size of the request line and headers as sent (`name: value\r\n` each).
fn request_head_size(request: &Parts) -> usize {
    let target = request.uri.path_and_query().map_or(1, |target| target.as_str().len());
    let line = request.method.as_str().len() + 1 + target + " HTTP/1.1\r\n".len();
    line + request.headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum::<usize>()
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    length.is_some_and(|len| len > 0) || headers.contains_key(header::TRANSFER_ENCODING)
}

/// Opens the object `path` names through the behavior matching it: the query string is part
/// of the key of a custom origin when the behavior says so (an S3 key has none), and what the
/// origin says is trusted for the behavior's TTLs.
async fn open(
    distribution: &WebDistribution,
    path: &str,
    query: Option<&str>,
) -> Result<(ObjectHandle, Lookup), Failure> {
    let config = &distribution.record.distribution_config;
    let behavior = sf_web::select_behavior(config, path);
    let Some(origin) = distribution.origins.get(behavior.target_origin_id()) else {
        let detail = format!("no origin {:?} is open for this distribution", behavior.target_origin_id());
        return Err(Failure::new(StatusCode::BAD_GATEWAY, detail));
    };
    let mut key = match object_key(path) {
        Ok(key) => key,
        Err(KeyError::TooLong) => return Err(Failure::new(StatusCode::URI_TOO_LONG, "the path is too long")),
        Err(KeyError::NotText) => return Err(Failure::new(StatusCode::BAD_REQUEST, "the path is not valid UTF-8")),
    };
    // S3 has no object with an empty key; a bucket listing is never served.
    if key.is_empty() {
        return Err(Failure::new(StatusCode::FORBIDDEN, "no object at /: the distribution has no default root object"));
    }
    if matches!(origin.origin(), Origin::Http(_))
        && let Some(query) = sf_web::query_cache_key(behavior.query_string_key(), query)
    {
        key.push('?');
        key.push_str(&query);
    }
    let ttls = behavior.ttls();
    let ttl = move |meta: &ObjectMeta| {
        let headers = OriginFreshness {
            cache_control: meta.cache_control.as_deref(),
            expires: meta.expires.as_deref(),
            date: None,
        };
        let ttl = sf_web::ttl(ttls, &headers, SystemTime::now());
        Lifetime { fresh_for: ttl.fresh_for, stale_on_error: ttl.stale_on_error }
    };
    let error_ttl = |error: &OriginError| error_caching_ttl(config, error);
    let trust = Trust::Decided { ttl: &ttl, error_ttl: &error_ttl };
    origin.open_trusting(&key, &trust).await.map_err(|error| Failure::from_origin(&error))
}

/// How long the answer of an origin that failed with `error` is kept: CloudFront caches error
/// responses for the `ErrorCachingMinTTL` of the status's `CustomErrorResponse` (10 s without
/// one), or the error's own max-age if longer ("Generating custom error responses", CloudFront
/// Developer Guide).
fn error_caching_ttl(config: &sf_dist::DistributionConfig, error: &OriginError) -> Option<std::time::Duration> {
    // An object that changed while it was read is no answer of the origin's to keep.
    if matches!(error, OriginError::Changed) {
        return None;
    }
    let status = Failure::from_origin(error).status.as_u16();
    let min_ttl = sf_web::error_page(config, status).and_then(|page| page.error_caching_min_ttl);
    let cache_control = match error {
        OriginError::Status { cache_control, .. } => cache_control.as_deref(),
        _ => None,
    };
    sf_web::error_ttl(status, min_ttl, cache_control)
}

fn object_response(
    request: &Parts,
    compress: bool,
    handle: ObjectHandle,
    lookup: Lookup,
) -> (Response<WebBody>, XCache) {
    let meta = handle.meta().clone();
    let block_size = handle.block_size();
    let (cache, age) = match lookup {
        Lookup::Hit { age } | Lookup::Stale { age } => (XCache::Hit, Some(age)),
        Lookup::RefreshHit => (XCache::RefreshHit, None),
        Lookup::Miss => (XCache::Miss, None),
    };
    let size = meta.size;
    let content_type = content_type(&meta, handle.key());
    let accept_encoding = request.headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok());
    let encoding = sf_web::choose_encoding(
        compress,
        &ViewerInfo { accept_encoding, version: request.version },
        &ResponseInfo {
            status: 200,
            content_type: Some(&content_type),
            has_content_encoding: false,
            content_length: Some(size),
        },
    );
    // A compressed response is another representation: its ETag is weak
    // (ServingCompressedFiles in the CloudFront Developer Guide).
    let etag = match (meta.etag.clone(), encoding) {
        (Some(etag), Some(_)) => sf_web::weaken_etag(&etag),
        (etag, _) => etag,
    };
    let last_modified = meta.last_modified;
    let mut headers = HeaderMap::new();
    insert(&mut headers, header::CONTENT_TYPE, &content_type);
    if let Some(etag) = &etag {
        insert(&mut headers, header::ETAG, etag);
    }
    if let Some(modified) = last_modified {
        insert(&mut headers, header::LAST_MODIFIED, &httpdate::fmt_http_date(modified));
    }
    if let Some(cache_control) = &meta.cache_control {
        insert(&mut headers, header::CACHE_CONTROL, cache_control);
    }
    if let Some(expires) = &meta.expires {
        insert(&mut headers, header::EXPIRES, expires);
    }
    if let Some(age) = age {
        headers.insert(header::AGE, HeaderValue::from(age.as_secs()));
    }
    if compress {
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    let validators = Validators { etag: etag.as_deref(), last_modified };
    let apply_range = match sf_web::evaluate(&request.method, &request.headers, &validators) {
        Outcome::NotModified => return (build(StatusCode::NOT_MODIFIED, headers, WebBody::empty()), cache),
        Outcome::PreconditionFailed => {
            let failure = Failure::new(StatusCode::PRECONDITION_FAILED, "a precondition of the request failed");
            let (response, _) = failed(&failure, request.method == Method::HEAD);
            return (response, cache);
        }
        Outcome::Proceed { apply_range } => apply_range,
    };
    let head = request.method == Method::HEAD;
    if let Some(encoding) = encoding {
        // The whole representation, compressed as it streams: no ranges, no length.
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding.as_str()));
        let body = if head {
            WebBody::empty()
        } else {
            let mut encoder = Some(Encoder::new(encoding));
            WebBody::object(handle, vec![Part::Range { start: 0, len: size }], block_size)
                .map_chunks(move |chunk| encode(&mut encoder, chunk))
        };
        return (build(StatusCode::OK, headers, body), cache);
    }
    headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    let range = request.headers.get(header::RANGE).filter(|_| apply_range).map(HeaderValue::as_bytes);
    let (status, parts, len) = match sf_web::parse_range(range, size) {
        RangeRequest::Full => (StatusCode::OK, vec![Part::Range { start: 0, len: size }], size),
        RangeRequest::Single(range) => {
            insert(&mut headers, header::CONTENT_RANGE, &range.content_range(size));
            (StatusCode::PARTIAL_CONTENT, vec![Part::Range { start: range.start, len: range.len() }], range.len())
        }
        RangeRequest::Multi(ranges) => {
            let boundary = sf_web::multipart_boundary(rand::random());
            let multipart = sf_web::multipart(&ranges, size, Some(&content_type), &boundary);
            insert(&mut headers, header::CONTENT_TYPE, &multipart.content_type);
            (StatusCode::PARTIAL_CONTENT, multipart.parts, multipart.content_length)
        }
        RangeRequest::Unsatisfiable => {
            insert(&mut headers, header::CONTENT_RANGE, &sf_web::unsatisfied_content_range(size));
            headers.remove(header::CONTENT_TYPE);
            (StatusCode::RANGE_NOT_SATISFIABLE, Vec::new(), 0)
        }
    };
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    let body = if head || parts.is_empty() { WebBody::empty() } else { WebBody::object(handle, parts, block_size) };
    (build(status, headers, body), cache)
}

/// One step of a streaming compression: a chunk in, what the encoder gives out; at the end
/// (`None`), what it still holds.
fn encode(encoder: &mut Option<Encoder>, chunk: Option<Bytes>) -> Result<Bytes, OriginError> {
    let compressed = match (chunk, encoder.as_mut()) {
        (Some(chunk), Some(encoder)) => encoder.push(&chunk),
        (None, Some(_)) => encoder.take().expect("checked").finish(),
        (_, None) => Ok(Bytes::new()),
    };
    compressed.map_err(|error| OriginError::Failed(format!("compression failed: {error}")))
}

/// An error, or the distribution's custom error page for its status: the page is fetched
/// through the behavior matching its path and sent with the configured `ResponseCode` (or the
/// original status); if it cannot be fetched, the viewer gets that failure's status
/// ("Generating custom error responses", CloudFront Developer Guide).
async fn error_response(distribution: &WebDistribution, failure: &Failure, head: bool) -> (Response<WebBody>, XCache) {
    let config = &distribution.record.distribution_config;
    let Some(page) = sf_web::error_page(config, failure.status.as_u16()) else { return failed(failure, head) };
    let Some(page_path) = page.page_path else { return failed(failure, head) };
    let status = StatusCode::from_u16(page.status()).unwrap_or(failure.status);
    match open(distribution, page_path, None).await {
        Ok((handle, _)) => {
            let meta = handle.meta();
            let block_size = handle.block_size();
            let size = meta.size;
            let mut headers = HeaderMap::new();
            insert(&mut headers, header::CONTENT_TYPE, &content_type(meta, handle.key()));
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
            let body = if head {
                WebBody::empty()
            } else {
                WebBody::object(handle, vec![Part::Range { start: 0, len: size }], block_size)
            };
            (build(status, headers, body), XCache::Error)
        }
        Err(page_failure) => failed(&page_failure, head),
    }
}

/// A short text response for `failure`.
pub(super) fn failed(failure: &Failure, head: bool) -> (Response<WebBody>, XCache) {
    let text = Bytes::from(failure.text());
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    let body = if head { WebBody::empty() } else { WebBody::bytes(text) };
    (build(failure.status, headers, body), XCache::Error)
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

/// A new request id, shaped like CloudFront's `X-Amz-Cf-Id`.
fn request_id() -> String {
    let mut random = [0u8; 40];
    rand::fill(&mut random);
    sf_web::request_id(random)
}

/// `Via: 1.1 <this host> (streamfront)`, the host name read once.
fn via() -> &'static HeaderValue {
    static VIA: OnceLock<HeaderValue> = OnceLock::new();
    VIA.get_or_init(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        let host = host.trim();
        let usable = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b));
        let value = sf_web::via(if usable { host } else { "streamfront" });
        HeaderValue::from_str(&value).expect("checked characters")
    })
}

/// The object's `Content-Type` as the origin sent it, else one guessed from its name (an S3
/// object uploaded without one).
fn content_type(meta: &ObjectMeta, key: &str) -> String {
    match &meta.content_type {
        Some(content_type) => content_type.clone(),
        None => sf_cache::content_type_for_name(key.split('?').next().unwrap_or(key)).to_owned(),
    }
}
