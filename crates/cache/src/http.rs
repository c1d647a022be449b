//! The custom HTTP origin: any web server, asked with ranged GETs over a pooled keep-alive
//! client, as CloudFront asks a custom origin (`CustomOriginConfig`): the origin path
//! prepended, the distribution's custom headers added, `User-Agent: Amazon CloudFront`, a
//! read timeout per response and per packet, and a number of connection attempts.
//!
//! An origin that ignores `Range` (a 200 with the whole body) still works: the answer is cut
//! to what was asked, the origin is remembered as one that does, and later fills of its
//! objects read each object once, whole, into every block (see `EdgeCache`).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::origin::{MAX_HEADER_VALUE, ObjectMeta, OriginError, OriginSpecError, safe_key, whole_seconds};

/// Sent on every request, as CloudFront does.
const USER_AGENT: &str = "Amazon CloudFront";
/// Custom headers one origin may add.
const MAX_CUSTOM_HEADERS: usize = 64;
/// The largest body kept from an origin that sends no length (chunked): its size is only
/// known once it has all arrived.
const MAX_UNSIZED_BODY: u64 = 64 << 20;

/// Characters of a key's path sent as they are; everything else is percent-encoded.
const PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/')
    .remove(b'!')
    .remove(b'$')
    .remove(b'&')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')')
    .remove(b'*')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=')
    .remove(b':')
    .remove(b'@');
/// Characters a query string cannot carry as they are (it is otherwise sent as given).
const QUERY: &AsciiSet = &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'<').add(b'>');

/// `http` or `https` (CloudFront's `OriginProtocolPolicy`: `http-only`, `https-only`;
/// `match-viewer` is `http` while the edge serves viewers over HTTP only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpScheme {
    Http,
    Https,
}

impl HttpScheme {
    fn as_str(self) -> &'static str {
        match self {
            HttpScheme::Http => "http",
            HttpScheme::Https => "https",
        }
    }
}

/// CA certificates an HTTPS origin's certificate may chain to besides the system's roots
/// (`--origin-ca-file`): for private origins with their own CA.
#[derive(Clone)]
pub struct OriginCa {
    /// The PEM file as read: what tells two apart.
    pem: Vec<u8>,
    certificates: Vec<reqwest::Certificate>,
}

impl OriginCa {
    /// The certificates of a PEM file; the error says what is wrong with it (the caller names
    /// the file).
    pub fn from_pem(pem: Vec<u8>) -> Result<OriginCa, String> {
        let certificates =
            reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("not PEM certificates: {e}"))?;
        if certificates.is_empty() {
            return Err("no certificate (-----BEGIN CERTIFICATE-----) in it".to_owned());
        }
        Ok(OriginCa { pem, certificates })
    }
}

impl PartialEq for OriginCa {
    fn eq(&self, other: &Self) -> bool {
        self.pem == other.pem
    }
}

impl Eq for OriginCa {}

impl fmt::Debug for OriginCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OriginCa({} certificates)", self.certificates.len())
    }
}

/// Everything that makes one custom origin, from a distribution's `Origin` with a
/// `CustomOriginConfig`.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpOriginSpec {
    pub scheme: HttpScheme,
    /// `DomainName`: a host name or IP address (IPv6 in brackets).
    pub host: String,
    /// `HTTPPort` or `HTTPSPort`, per the scheme.
    pub port: u16,
    /// `OriginPath` (`/media`), prepended to every key; empty for none.
    pub path_prefix: String,
    /// `CustomHeaders`, added to every request.
    pub headers: Vec<(String, String)>,
    /// `OriginReadTimeout`: the longest wait for a response, and between two packets of one.
    pub read_timeout: Duration,
    /// `ConnectionTimeout`.
    pub connect_timeout: Duration,
    /// `ConnectionAttempts`: tries of a request that could not connect or got no response.
    pub attempts: u32,
    /// For HTTPS: trusted besides the system's roots.
    pub extra_ca: Option<std::sync::Arc<OriginCa>>,
}

impl HttpOriginSpec {
    /// `scheme://host:port` with CloudFront's defaults: no path, no headers, a 30 s read
    /// timeout, a 10 s connection timeout, 3 attempts.
    pub fn new(scheme: HttpScheme, host: &str, port: u16) -> Self {
        HttpOriginSpec {
            scheme,
            host: host.to_owned(),
            port,
            path_prefix: String::new(),
            headers: Vec::new(),
            read_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            attempts: 3,
            extra_ca: None,
        }
    }
}

impl fmt::Debug for HttpOriginSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Custom headers often carry a shared secret the origin checks: names only.
        let names: Vec<&str> = self.headers.iter().map(|(name, _)| name.as_str()).collect();
        f.debug_struct("HttpOriginSpec")
            .field("scheme", &self.scheme)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("path_prefix", &self.path_prefix)
            .field("headers", &names)
            .field("read_timeout", &self.read_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("attempts", &self.attempts)
            .field("extra_ca", &self.extra_ca)
            .finish()
    }
}

/// A custom HTTP origin. Keys are object paths without the leading `/`, optionally followed
/// by `?` and a query string forwarded as it is.
pub struct HttpOrigin {
    client: reqwest::Client,
    /// `scheme://host:port/prefix`, without a trailing `/`.
    base: String,
    headers: HeaderMap,
    read_timeout: Duration,
    connect_timeout: Duration,
    attempts: u32,
    /// Set once the origin answered a ranged GET with the whole object.
    ignores_range: AtomicBool,
}

impl fmt::Debug for HttpOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpOrigin").field("base", &self.base).finish_non_exhaustive()
    }
}

/// Which part of an object a GET asks for.
enum Want {
    /// The first `len` bytes, with what a HEAD would tell.
    FirstBytes(u64),
    /// Bytes `[start, end)` of a known version.
    Range(u64, u64),
    /// The whole object, of a known version.
    Whole,
}

impl HttpOrigin {
    pub fn new(spec: HttpOriginSpec) -> Result<HttpOrigin, OriginSpecError> {
        let host = spec.host.trim();
        let prefix = spec.path_prefix.trim_matches('/');
        let describe = format!("{}://{host}:{}/{prefix}", spec.scheme.as_str(), spec.port);
        let spec_error = |why: &str| OriginSpecError(format!("origin {describe}: {why}"));
        let refuse = |why: &str| Err(spec_error(why));
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return refuse("the domain name must be a plain host name");
        }
        if spec.port == 0 {
            return refuse("no port");
        }
        if !prefix.is_empty() && !safe_key(prefix) {
            return refuse("the origin path must be a plain path");
        }
        if spec.attempts == 0 || spec.read_timeout.is_zero() || spec.connect_timeout.is_zero() {
            return refuse("attempts and timeouts must be positive");
        }
        if spec.headers.len() > MAX_CUSTOM_HEADERS {
            return refuse(&format!("more than {MAX_CUSTOM_HEADERS} custom headers"));
        }
        let mut headers = HeaderMap::new();
        for (name, value) in &spec.headers {
            let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str()))
            else {
                return refuse(&format!("custom header {name:?} is not a valid header"));
            };
            // Headers the cache itself sets for each request, or that would change framing.
            let reserved = [header::HOST, header::RANGE, header::IF_MATCH, header::CONTENT_LENGTH, header::CONNECTION];
            if reserved.contains(&name) || name == header::TRANSFER_ENCODING {
                return refuse(&format!("custom header {name} cannot be set"));
            }
            headers.append(name, value);
        }
        let base = if prefix.is_empty() {
            format!("{}://{host}:{}", spec.scheme.as_str(), spec.port)
        } else {
            let prefix = utf8_percent_encode(prefix, PATH);
            format!("{}://{host}:{}/{prefix}", spec.scheme.as_str(), spec.port)
        };
        if reqwest::Url::parse(&base).is_err() {
            return refuse("not a valid URL");
        }
        let mut client = reqwest::Client::builder();
        if spec.scheme == HttpScheme::Https {
            // rustls speaks TLS 1.2 and 1.3 only: the oldest `OriginSslProtocols` it can honour.
            client = client.tls_version_min(reqwest::tls::Version::TLS_1_2);
            if let Some(ca) = &spec.extra_ca {
                client = client.tls_certs_merge(ca.certificates.iter().cloned());
            }
        }
        let client = client
            .user_agent(USER_AGENT)
            .connect_timeout(spec.connect_timeout)
            .read_timeout(spec.read_timeout)
            .pool_idle_timeout(Duration::from_secs(5))
            // Origin redirects are passed on by CloudFront, never followed; here they are
            // answered as errors.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| spec_error(&e.to_string()))?;
        Ok(HttpOrigin {
            client,
            base,
            headers,
            read_timeout: spec.read_timeout,
            connect_timeout: spec.connect_timeout,
            attempts: spec.attempts,
            ignores_range: AtomicBool::new(false),
        })
    }

    /// `http://host:port/prefix`
    pub fn describe(&self) -> String {
        self.base.clone()
    }

    /// `http:host:port/prefix` (`https:` likewise): the origin's identity in cache keys.
    pub(crate) fn namespace(&self) -> String {
        self.base.replacen("://", ":", 1)
    }

    /// Whether the origin was seen answering a ranged GET with the whole object.
    pub fn ignores_range(&self) -> bool {
        self.ignores_range.load(Ordering::Relaxed)
    }

    fn url(&self, key: &str) -> Result<String, OriginError> {
        let (path, query) = match key.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (key, None),
        };
        if !safe_key(path) {
            return Err(OriginError::NotFound);
        }
        let mut url = format!("{}/{}", self.base, utf8_percent_encode(path, PATH));
        if let Some(query) = query {
            url.push('?');
            url.extend(utf8_percent_encode(query, QUERY));
        }
        Ok(url)
    }

    fn failed(&self, reason: impl fmt::Display) -> OriginError {
        OriginError::Failed(format!("origin {}: {reason}", self.base))
    }

    /// Sends a request for `key`, trying again (up to the attempts) when it could not connect
    /// or no response came in time.
    async fn send(&self, method: Method, key: &str, extra: HeaderMap) -> Result<reqwest::Response, OriginError> {
        let url = self.url(key)?;
        let mut reason = String::new();
        for _ in 0..self.attempts {
            let request =
                self.client.request(method.clone(), &url).headers(self.headers.clone()).headers(extra.clone());
            match tokio::time::timeout(self.connect_timeout + self.read_timeout, request.send()).await {
                Ok(Ok(response)) => return Ok(response),
                Ok(Err(error)) if error.is_connect() => reason = format!("cannot connect: {}", root_cause(&error)),
                Ok(Err(error)) if error.is_timeout() => reason = "no response in time".to_owned(),
                Ok(Err(error)) => return Err(self.failed(root_cause(&error))),
                Err(_) => reason = "no response in time".to_owned(),
            }
            tracing::debug!(origin = %self.base, key, %reason, "origin request failed; trying again");
        }
        Err(self.failed(format!("{reason} ({} attempts)", self.attempts)))
    }

    /// What an answer with `status` (not 200 or 206) means; `headers` are the answer's.
    fn status_error(&self, status: StatusCode, headers: &HeaderMap) -> OriginError {
        match status {
            StatusCode::NOT_FOUND | StatusCode::GONE => OriginError::NotFound,
            StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => OriginError::AccessDenied,
            StatusCode::PRECONDITION_FAILED => OriginError::Changed,
            // A status outside 400-599 (a redirect, which is never followed) is a failure.
            status if !(status.is_client_error() || status.is_server_error()) => self.failed(format!("HTTP {status}")),
            status => OriginError::Status {
                status: status.as_u16(),
                cache_control: header_text(headers, header::CACHE_CONTROL),
                text: format!("origin {}: HTTP {status}", self.base),
            },
        }
    }

    pub(crate) async fn head(&self, key: &str) -> Result<ObjectMeta, OriginError> {
        let response = self.send(Method::HEAD, key, HeaderMap::new()).await?;
        let status = response.status();
        if status == StatusCode::OK
            && let Some(size) = content_length(response.headers())
        {
            return Ok(object_meta(response.headers(), size));
        }
        // A server that refuses HEAD, or does not say the length: a GET of one byte tells.
        if status == StatusCode::OK || status == StatusCode::METHOD_NOT_ALLOWED || status == StatusCode::NOT_IMPLEMENTED
        {
            drop(response);
            return self.get(key, Want::FirstBytes(1), |_| {}).await;
        }
        Err(self.status_error(status, response.headers()))
    }

    /// What a HEAD tells of `key`, and its first `len` bytes with it, in one GET.
    pub(crate) async fn first_look(&self, key: &str, len: u64) -> Result<(ObjectMeta, Option<Bytes>), OriginError> {
        let mut first = BytesMut::new();
        match self.get(key, Want::FirstBytes(len), |chunk| first.extend_from_slice(&chunk)).await {
            Ok(meta) if first.len() as u64 == len.min(meta.size) && meta.size > 0 => Ok((meta, Some(first.freeze()))),
            Ok(meta) => Ok((meta, None)),
            // Range Not Satisfiable: an empty object.
            Err(OriginError::Status { status: 416, .. }) => self.head(key).await.map(|meta| (meta, None)),
            Err(error) => Err(error),
        }
    }

    /// Streams bytes `[start, end)` of version `meta` of `key` into `sink`.
    pub(crate) async fn fetch_range<F: FnMut(Bytes)>(
        &self,
        key: &str,
        meta: &ObjectMeta,
        start: u64,
        end: u64,
        sink: F,
    ) -> Result<(), OriginError> {
        let end = end.min(meta.size);
        if start >= end {
            return Ok(());
        }
        let got = self.get_version(key, meta, Want::Range(start, end), sink).await?;
        if got != end - start {
            return Err(OriginError::Changed);
        }
        Ok(())
    }

    /// Streams all of version `meta` of `key` into `sink` (for origins that ignore `Range`).
    pub(crate) async fn fetch_whole<F: FnMut(Bytes)>(
        &self,
        key: &str,
        meta: &ObjectMeta,
        sink: F,
    ) -> Result<(), OriginError> {
        let got = self.get_version(key, meta, Want::Whole, sink).await?;
        if got != meta.size {
            return Err(OriginError::Changed);
        }
        Ok(())
    }

    /// A GET of part of version `meta`; how many bytes went to `sink`. Another version
    /// answers [`OriginError::Changed`].
    async fn get_version<F: FnMut(Bytes)>(
        &self,
        key: &str,
        meta: &ObjectMeta,
        want: Want,
        mut sink: F,
    ) -> Result<u64, OriginError> {
        let mut got = 0;
        let now = self
            .get_with(key, want, Some(meta), |chunk| {
                got += chunk.len() as u64;
                sink(chunk);
            })
            .await?;
        if now.version != meta.version || now.size != meta.size {
            return Err(OriginError::Changed);
        }
        Ok(got)
    }

    async fn get<F: FnMut(Bytes)>(&self, key: &str, want: Want, sink: F) -> Result<ObjectMeta, OriginError> {
        self.get_with(key, want, None, sink).await
    }

    /// One GET: sends what `want` asks for, checks the answer, and streams the wanted bytes
    /// into `sink` (cutting a whole-object answer to them). Returns the version answered.
    async fn get_with<F: FnMut(Bytes)>(
        &self,
        key: &str,
        want: Want,
        known: Option<&ObjectMeta>,
        mut sink: F,
    ) -> Result<ObjectMeta, OriginError> {
        let mut extra = HeaderMap::new();
        let asked = match want {
            Want::FirstBytes(len) => Some((0, len.max(1))),
            Want::Range(start, end) => Some((start, end)),
            Want::Whole => None,
        };
        if let Some((start, end)) = asked {
            extra.insert(header::RANGE, header_value(&format!("bytes={start}-{}", end - 1)));
        }
        // A replaced object answers 412 instead of mixing new bytes into old blocks. Weak
        // ETags never match If-Match (RFC 9110 section 13.1.1): the answer's ETag is checked
        // instead.
        if let Some(etag) = known.and_then(|meta| meta.etag.as_deref()).filter(|etag| etag.starts_with('"')) {
            extra.insert(header::IF_MATCH, header_value(etag));
        }
        let mut response = self.send(Method::GET, key, extra).await?;
        let status = response.status();
        let (meta, from) = match status {
            StatusCode::PARTIAL_CONTENT => {
                let Some((first, last, Some(size))) = content_range(response.headers()) else {
                    return Err(self.failed("206 without a usable Content-Range"));
                };
                let (start, end) = asked.ok_or_else(|| self.failed("206 to a GET without Range"))?;
                if first != start || last >= size || (last + 1 != end.min(size)) {
                    return Err(known.map_or_else(|| self.failed("206 for another range"), |_| OriginError::Changed));
                }
                (object_meta(response.headers(), size), first)
            }
            StatusCode::OK => {
                let size = content_length(response.headers());
                // A 200 for a range covering the whole object is allowed (RFC 9110 section
                // 14.2); only a larger object tells that the origin ignores Range.
                let ignored = asked.is_some_and(|(_, end)| size.is_none_or(|size| size > end));
                if ignored && !self.ignores_range.swap(true, Ordering::Relaxed) {
                    tracing::info!(origin = %self.base, "the origin ignores Range; its objects will be read whole");
                }
                let Some(size) = size else {
                    return self.read_unsized(response, asked, known, sink).await;
                };
                (object_meta(response.headers(), size), 0)
            }
            status => return Err(self.status_error(status, response.headers())),
        };
        if known.is_some_and(|known| known.version != meta.version || known.size != meta.size) {
            return Err(OriginError::Changed);
        }
        let (start, end) = asked.map_or((0, meta.size), |(start, end)| (start, end.min(meta.size)));
        // The body, bounded by the length announced: no more is read, and more is an error.
        let body_end = if status == StatusCode::PARTIAL_CONTENT { end } else { meta.size };
        let mut at = from;
        while at < end {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Err(self.failed("the body ended before its length")),
                Err(error) if error.is_timeout() => return Err(self.failed("timed out reading the body")),
                Err(error) => return Err(self.failed(root_cause(&error))),
            };
            let chunk_end = at + chunk.len() as u64;
            if chunk_end > body_end {
                return Err(self.failed("the body is longer than its length"));
            }
            if chunk_end > start {
                let from = start.saturating_sub(at) as usize;
                let to = (end.min(chunk_end) - at) as usize;
                sink(chunk.slice(from..to));
            }
            at = chunk_end;
        }
        // Whatever follows (a whole-object answer past the range) is dropped with the
        // connection.
        Ok(meta)
    }

    /// A 200 without Content-Length (chunked): the size is known only at its end, so the
    /// body is read whole, within a bound.
    async fn read_unsized<F: FnMut(Bytes)>(
        &self,
        mut response: reqwest::Response,
        asked: Option<(u64, u64)>,
        known: Option<&ObjectMeta>,
        mut sink: F,
    ) -> Result<ObjectMeta, OriginError> {
        let mut body = BytesMut::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len() as u64 + chunk.len() as u64 > MAX_UNSIZED_BODY {
                        return Err(self.failed(format!("no Content-Length and more than {MAX_UNSIZED_BODY} bytes")));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(error) if error.is_timeout() => return Err(self.failed("timed out reading the body")),
                Err(error) => return Err(self.failed(root_cause(&error))),
            }
        }
        let meta = object_meta(response.headers(), body.len() as u64);
        if known.is_some_and(|known| known.version != meta.version || known.size != meta.size) {
            return Err(OriginError::Changed);
        }
        let (start, end) = asked.map_or((0, meta.size), |(start, end)| (start.min(meta.size), end.min(meta.size)));
        if start < end {
            sink(body.freeze().slice(start as usize..end as usize));
        }
        Ok(meta)
    }
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::try_from(text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A header's value, if it is text and not absurdly long.
fn header_text(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    let value = headers.get(name)?.to_str().ok()?;
    (value.len() <= MAX_HEADER_VALUE).then(|| value.trim().to_owned())
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// `bytes FIRST-LAST/SIZE` (`SIZE` may be `*`).
fn content_range(headers: &HeaderMap) -> Option<(u64, u64, Option<u64>)> {
    let value = headers.get(header::CONTENT_RANGE)?.to_str().ok()?.trim();
    let (range, size) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let (first, last) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
    let size = if size.trim() == "*" { None } else { Some(size.trim().parse().ok()?) };
    (first <= last).then_some((first, last, size))
}

/// What the cache keeps of an answer's headers. The version is the ETag; without one, the
/// Last-Modified date and the size; without either, the size alone (such an origin cannot
/// tell a replaced object of the same size).
fn object_meta(headers: &HeaderMap, size: u64) -> ObjectMeta {
    let etag = header_text(headers, header::ETAG);
    let last_modified: Option<SystemTime> = header_text(headers, header::LAST_MODIFIED)
        .and_then(|date| httpdate::parse_http_date(&date).ok())
        .map(whole_seconds);
    let version = match (&etag, last_modified) {
        (Some(etag), _) => etag.clone(),
        (None, Some(modified)) => {
            let seconds = modified.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
            format!("lm-{seconds:x}-{size:x}")
        }
        (None, None) => format!("size-{size:x}"),
    };
    ObjectMeta {
        size,
        version,
        cache_control: header_text(headers, header::CACHE_CONTROL),
        content_type: header_text(headers, header::CONTENT_TYPE),
        etag,
        last_modified,
        expires: header_text(headers, header::EXPIRES),
    }
}

/// The innermost cause of a client error: "connection refused", not "error sending request".
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string().chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(prefix: &str) -> HttpOrigin {
        let spec =
            HttpOriginSpec { path_prefix: prefix.into(), ..HttpOriginSpec::new(HttpScheme::Http, "example.org", 8080) };
        HttpOrigin::new(spec).unwrap()
    }

    #[test]
    fn urls_and_namespaces() {
        let plain = origin("");
        assert_eq!(plain.url("a/b c.mp4").unwrap(), "http://example.org:8080/a/b%20c.mp4");
        assert_eq!(plain.url("p.html?v=1&x=a b").unwrap(), "http://example.org:8080/p.html?v=1&x=a%20b");
        assert!(matches!(plain.url("../etc/passwd"), Err(OriginError::NotFound)));
        let prefixed = origin("/media/");
        assert_eq!(prefixed.url("x.mp4").unwrap(), "http://example.org:8080/media/x.mp4");
        assert_eq!(prefixed.namespace(), "http:example.org:8080/media");
        assert_ne!(plain.namespace(), prefixed.namespace());
    }

    #[test]
    fn bad_specs_are_refused() {
        let base = HttpOriginSpec::new(HttpScheme::Http, "example.org", 80);
        let bad = [
            HttpOriginSpec { host: "a/b".into(), ..base.clone() },
            HttpOriginSpec { port: 0, ..base.clone() },
            HttpOriginSpec { path_prefix: "/a/../b".into(), ..base.clone() },
            HttpOriginSpec { headers: vec![("Bad Name".into(), "x".into())], ..base.clone() },
            HttpOriginSpec { headers: vec![("Host".into(), "x".into())], ..base.clone() },
            HttpOriginSpec { attempts: 0, ..base.clone() },
        ];
        for spec in bad {
            assert!(HttpOrigin::new(spec.clone()).is_err(), "{spec:?}");
        }
        assert!(HttpOrigin::new(base).is_ok());
    }

    #[test]
    fn content_ranges() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_static("bytes 0-99/1000"));
        assert_eq!(content_range(&headers), Some((0, 99, Some(1000))));
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_static("bytes 5-9/*"));
        assert_eq!(content_range(&headers), Some((5, 9, None)));
        headers.insert(header::CONTENT_RANGE, HeaderValue::from_static("bytes 9-5/10"));
        assert_eq!(content_range(&headers), None);
    }
}
