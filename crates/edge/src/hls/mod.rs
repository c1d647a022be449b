//! HLS on a streaming distribution's host: the same objects RTMP plays, packaged on the fly by
//! `sf-hls` (no transcoding) into playlists and MPEG-TS segments, over the HTTP and HTTPS
//! listeners.
//!
//! ```text
//! http.rs (streaming host, /hls/… or /cfx/st/…) ─▶ path ─▶ distribution ─▶ library
//!     open (object + shared index) ─▶ package (shared per object version)
//!     ├─▶ playlists: from the package alone, no media bytes read
//!     └─▶ segment n: its frames read through the block cache as the body is sent
//! ```
//!
//! Playlist URIs are pinned to the object version they describe (see [`version`]). On a
//! distribution with trusted signers every request needs a signature ([`signed`]).

mod body;
pub mod path;
mod signed;
mod version;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use sf_hls::HlsError;
use sf_media::{MediaError, SourceError};
use sf_web::{Outcome, Validators};

pub use body::HlsBody;
use path::{HlsPath, Resource};
use version::Pin;

use crate::Edge;
use crate::http::Viewer;
use crate::library::OpenError;

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";
const SEGMENT_TYPE: &str = "video/mp2t";

/// Answers an HLS request (see [`path`] for the URLs) for the streaming distribution `host`
/// resolves to. The request's body is never read.
pub async fn respond<B>(edge: &Edge, host: Option<&str>, viewer: &Viewer, request: Request<B>) -> Response<HlsBody> {
    let (parts, _body) = request.into_parts();
    let head = parts.method == Method::HEAD;
    let signed_query = match signed::check(edge, host, viewer, &parts) {
        Ok(allowed) => allowed.signed_query,
        Err(denied) => {
            let (status, headers, body) = denied.response(&parts.method);
            return build(status, headers, HlsBody::bytes(body));
        }
    };
    let signed_query = signed_query.as_deref();
    match answer(edge, host, &parts.method, parts.uri.path(), parts.uri.query(), &parts.headers, signed_query).await {
        Ok(response) => response,
        Err((status, text)) => failed(status, &text, head),
    }
}

type Failure = (StatusCode, String);

async fn answer(
    edge: &Edge,
    host: Option<&str>,
    method: &Method,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    signed_query: Option<&str>,
) -> Result<Response<HlsBody>, Failure> {
    if !matches!(*method, Method::GET | Method::HEAD) {
        return Err((StatusCode::METHOD_NOT_ALLOWED, format!("{method}: HLS is served to GET and HEAD only")));
    }
    let Some(HlsPath { stream, resource }) = path::parse(path) else {
        return Err((StatusCode::NOT_FOUND, "not an HLS playlist or segment URL".into()));
    };
    let Some(distribution) = edge.distributions().resolve(host) else {
        return Err((StatusCode::NOT_FOUND, "no distribution serves this host".into()));
    };
    if !distribution.enabled {
        return Err((StatusCode::FORBIDDEN, "this distribution is disabled".into()));
    }
    let candidates = crate::names::resolve(&[], &stream)
        .map_err(|_| (StatusCode::NOT_FOUND, "not a stream name".to_owned()))?
        .candidates;
    let media = distribution.library.open_first(&candidates).await.map_err(open_failure)?;
    let segment_ms = edge.config.hls_segment_seconds.saturating_mul(1000);
    let package = distribution.library.package(&media, segment_ms).await.map_err(package_failure)?;

    let meta = media.object.meta();
    let pin = Pin::new(&meta.version, segment_ms);
    // A URL of another version is gone, whether or not that version's segment n exists now.
    let pinned = pin.check(query)?;
    let etag = pin.etag();
    let validators = Validators { etag: Some(&etag), last_modified: meta.last_modified };
    let mut out = HeaderMap::new();
    out.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex digits"));
    if let Some(modified) = meta.last_modified {
        insert_text(&mut out, header::LAST_MODIFIED, &httpdate::fmt_http_date(modified));
    }
    // Players on any site may fetch these, as the Flash policy let any site's players play.
    out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    let content_type = if let Resource::Segment(_) = resource { SEGMENT_TYPE } else { PLAYLIST_TYPE };
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(version::cache_control(pinned)));
    // Out of range is a 404 whatever the request's conditions say.
    let segment = match resource {
        Resource::Segment(n) => {
            let Some(info) = package.segments().get(n) else {
                return Err((
                    StatusCode::NOT_FOUND,
                    format!("no segment {n}: the stream has {}", package.segments().len()),
                ));
            };
            Some((n, info.bytes))
        }
        _ => None,
    };
    match sf_web::evaluate(method, headers, &validators) {
        Outcome::NotModified => return Ok(build(StatusCode::NOT_MODIFIED, out, HlsBody::empty())),
        Outcome::PreconditionFailed => {
            return Err((StatusCode::PRECONDITION_FAILED, "a precondition of the request failed".into()));
        }
        Outcome::Proceed { .. } => {}
    }
    let head = *method == Method::HEAD;
    let (len, body) = match (resource, segment) {
        (_, Some((n, len))) => {
            (len, if head { HlsBody::empty() } else { HlsBody::segment(package, n, len, media.object.clone()) })
        }
        (Resource::MasterPlaylist, None) => {
            let master = package.master_playlist(&sf_hls::playlist::with_query("index.m3u8", &pin.query()));
            text_body(signed::uris(master, signed_query), head)
        }
        _ => text_body(signed::uris(package.media_playlist(&pin.query()), signed_query), head),
    };
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    Ok(build(StatusCode::OK, out, body))
}

fn text_body(text: String, head: bool) -> (u64, HlsBody) {
    let len = text.len() as u64;
    (len, if head { HlsBody::empty() } else { HlsBody::bytes(Bytes::from(text)) })
}

fn open_failure(error: OpenError) -> Failure {
    match error {
        OpenError::NotFound => (StatusCode::NOT_FOUND, "no such stream".into()),
        OpenError::Origin(error) => (StatusCode::BAD_GATEWAY, error.to_string()),
        OpenError::Media(error) => media_failure(error),
    }
}

fn package_failure(error: HlsError) -> Failure {
    match error {
        HlsError::Unsupported(_) | HlsError::Malformed(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, error.to_string()),
        HlsError::NoSuchSegment(_) => (StatusCode::NOT_FOUND, error.to_string()),
        HlsError::Media(error) => media_failure(error),
        HlsError::Source(_) => (StatusCode::BAD_GATEWAY, error.to_string()),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

/// A file that is not media HLS can carry is refused as such; an origin that failed while it
/// was read is the origin's failure.
fn media_failure(error: MediaError) -> Failure {
    match error {
        MediaError::Source(SourceError::NotFound) => (StatusCode::NOT_FOUND, "no such stream".into()),
        MediaError::Source(error) => (StatusCode::BAD_GATEWAY, error.to_string()),
        other => (StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("cannot package as HLS: {other}")),
    }
}

/// A short text response; `head` leaves the body out.
fn failed(status: StatusCode, text: &str, head: bool) -> Response<HlsBody> {
    let text = Bytes::from(format!("{text}\n"));
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(text.len()));
    if status == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
    }
    build(status, headers, if head { HlsBody::empty() } else { HlsBody::bytes(text) })
}

fn build(status: StatusCode, headers: HeaderMap, body: HlsBody) -> Response<HlsBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn insert_text(headers: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}
