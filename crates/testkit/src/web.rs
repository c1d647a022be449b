//! A plain web server on loopback, to play a CloudFront custom origin: it serves the files
//! of a directory with `ETag`, `Last-Modified`, `Content-Type` and single `Range`s, logs
//! every request with its headers, and can misbehave on demand: ignore `Range`, refuse
//! `HEAD`, answer chosen paths with an error status, hold requests until released (an origin
//! that hangs), require a header (a secret custom header), or stop and start again. It can
//! speak HTTPS instead ([`WebServer::start_tls`]), with a certificate from PEM files.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::task::AbortHandle;

/// One request the web server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebRequest {
    pub method: String,
    /// The path and query, as sent: `/media/a.mp4?x=1`.
    pub target: String,
    /// Every header, names in lower case, in order.
    pub headers: Vec<(String, String)>,
}

impl WebRequest {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

/// How the server behaves; changed while it runs.
#[derive(Debug, Default)]
struct Behaviour {
    ignore_range: AtomicBool,
    refuse_head: AtomicBool,
    /// Answer 400 to requests without this header and value.
    required_header: Mutex<Option<(String, String)>>,
    /// URL paths answered with this status instead of the file.
    failing: Mutex<HashMap<String, u16>>,
    /// Extra response headers by URL path (`Cache-Control`, `Expires`, ...).
    extra_headers: Mutex<HashMap<String, Vec<(String, String)>>>,
    /// ETags by URL path, instead of the one made from size and mtime.
    etags: Mutex<HashMap<String, String>>,
    /// Send neither `ETag` nor `Last-Modified`.
    no_validators: AtomicBool,
}

/// The web server. Stopped (listener and connections closed) on drop.
pub struct WebServer {
    addr: SocketAddr,
    root: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
    log: Arc<Mutex<Vec<WebRequest>>>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
    listening: Option<mpsc::Receiver<()>>,
    stalled: Arc<tokio::sync::watch::Sender<HashSet<String>>>,
    behaviour: Arc<Behaviour>,
    /// HTTPS: every connection starts with a TLS handshake.
    tls: Option<tokio_rustls::TlsAcceptor>,
}

impl WebServer {
    /// Serves the files under `root` on a free loopback port.
    pub fn start(root: &Path) -> WebServer {
        WebServer::start_with(root, None)
    }

    /// [`WebServer::start`] over HTTPS, with the certificate chain `cert` and key `key` (PEM
    /// files).
    pub fn start_tls(root: &Path, cert: &Path, key: &Path) -> WebServer {
        use rustls_pki_types::pem::PemObject;
        use rustls_pki_types::{CertificateDer, PrivateKeyDer};
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(cert).expect("certificate file").map(|c| c.expect("certificate")).collect();
        let key = PrivateKeyDer::from_pem_file(key).expect("key file");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("certificate and key");
        WebServer::start_with(root, Some(tokio_rustls::TlsAcceptor::from(Arc::new(config))))
    }

    fn start_with(root: &Path, tls: Option<tokio_rustls::TlsAcceptor>) -> WebServer {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("web-test-server")
            .enable_all()
            .build()
            .expect("web test server runtime");
        let listener = crate::bind(SocketAddr::from(([127, 0, 0, 1], 0)), Duration::ZERO);
        let mut server = WebServer {
            addr: listener.local_addr().expect("local address"),
            root: root.to_owned(),
            runtime: Some(runtime),
            log: Arc::default(),
            tasks: Arc::default(),
            listening: None,
            stalled: Arc::new(tokio::sync::watch::Sender::new(HashSet::new())),
            behaviour: Arc::default(),
            tls,
        };
        server.serve(listener);
        server
    }

    fn serve(&mut self, listener: std::net::TcpListener) {
        let (alive, listening) = mpsc::channel::<()>();
        self.listening = Some(listening);
        let runtime = self.runtime.as_ref().expect("runtime");
        let _guard = runtime.enter();
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let (root, log, tasks, stalled, behaviour, tls) = (
            self.root.clone(),
            Arc::clone(&self.log),
            Arc::clone(&self.tasks),
            Arc::clone(&self.stalled),
            Arc::clone(&self.behaviour),
            self.tls.clone(),
        );
        let accept = runtime.spawn(async move {
            let _alive = alive;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let (root, log, stalled, behaviour, tls) =
                    (root.clone(), Arc::clone(&log), Arc::clone(&stalled), Arc::clone(&behaviour), tls.clone());
                let conn = tokio::spawn(async move {
                    let handler = service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        log.lock().unwrap().push(describe(&request));
                        let (root, behaviour) = (root.clone(), Arc::clone(&behaviour));
                        let mut stalled = stalled.subscribe();
                        async move {
                            let path = request.uri().path().to_owned();
                            let _ = stalled.wait_for(|paths| !paths.contains(&path)).await;
                            Ok::<_, std::convert::Infallible>(answer(&root, &behaviour, &request))
                        }
                    });
                    let http = hyper::server::conn::http1::Builder::new();
                    let _ = match tls {
                        None => http.serve_connection(TokioIo::new(stream), handler).await,
                        Some(tls) => match tls.accept(stream).await {
                            Ok(stream) => http.serve_connection(TokioIo::new(stream), handler).await,
                            Err(_) => return,
                        },
                    };
                });
                let mut tasks = tasks.lock().unwrap();
                tasks.retain(|t| !t.is_finished());
                tasks.push(conn.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT` (`https://` over TLS)
    pub fn endpoint(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The directory served.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes file `path` (relative, `/`-separated) under the root.
    pub fn write_file(&self, path: &str, data: &[u8]) {
        let file = self.root.join(path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("creating directories");
        std::fs::write(&file, data).unwrap_or_else(|e| panic!("writing {}: {e}", file.display()));
    }

    /// Answers a ranged GET with the whole file (200), as servers without range support do.
    pub fn ignore_range(&self, ignore: bool) {
        self.behaviour.ignore_range.store(ignore, Ordering::SeqCst);
    }

    /// Answers HEAD with 405.
    pub fn refuse_head(&self, refuse: bool) {
        self.behaviour.refuse_head.store(refuse, Ordering::SeqCst);
    }

    /// Answers 400 to any request without header `name: value`.
    pub fn require_header(&self, name: &str, value: &str) {
        *self.behaviour.required_header.lock().unwrap() = Some((name.to_ascii_lowercase(), value.to_owned()));
    }

    /// Answers requests for `path` (`/a.mp4`) with `status` and a short body; 0 stops that.
    pub fn fail(&self, path: &str, status: u16) {
        let mut failing = self.behaviour.failing.lock().unwrap();
        if status == 0 {
            failing.remove(path);
        } else {
            failing.insert(path.to_owned(), status);
        }
    }

    /// Adds header `name: value` to the answers for `path` (`/a.mp4`).
    pub fn add_header(&self, path: &str, name: &str, value: &str) {
        self.behaviour
            .extra_headers
            .lock()
            .unwrap()
            .entry(path.to_owned())
            .or_default()
            .push((name.into(), value.into()));
    }

    /// Sends `etag` (quoted as given) for `path` instead of the one made of size and mtime.
    pub fn set_etag(&self, path: &str, etag: &str) {
        self.behaviour.etags.lock().unwrap().insert(path.to_owned(), etag.to_owned());
    }

    /// Sends neither `ETag` nor `Last-Modified`.
    pub fn no_validators(&self, none: bool) {
        self.behaviour.no_validators.store(none, Ordering::SeqCst);
    }

    /// Holds every request for `path` (`/a.mp4`) until [`WebServer::release`].
    pub fn stall(&self, path: &str) {
        self.stalled.send_modify(|paths| {
            paths.insert(path.to_owned());
        });
    }

    pub fn release(&self, path: &str) {
        self.stalled.send_modify(|paths| {
            paths.remove(path);
        });
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<WebRequest> {
        self.log.lock().unwrap().clone()
    }

    /// Requests so far with `method` (`"GET"`, `"HEAD"`).
    pub fn count(&self, method: &str) -> usize {
        self.log.lock().unwrap().iter().filter(|r| r.method == method).count()
    }

    /// Stops listening and drops every connection.
    pub fn stop(&mut self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
        if let Some(listening) = self.listening.take() {
            let _ = listening.recv_timeout(Duration::from_secs(5));
        }
    }

    /// Starts again on the same address, after [`WebServer::stop`].
    pub fn restart(&mut self) {
        assert!(self.listening.is_none(), "restart: the web server is running");
        let listener = crate::bind(self.addr, Duration::from_secs(5));
        self.serve(listener);
    }
}

impl Drop for WebServer {
    fn drop(&mut self) {
        self.stop();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn describe(request: &hyper::Request<hyper::body::Incoming>) -> WebRequest {
    WebRequest {
        method: request.method().as_str().to_owned(),
        target: request.uri().path_and_query().map_or_else(|| "/".to_owned(), |pq| pq.as_str().to_owned()),
        headers: request
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect(),
    }
}

fn status(code: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = code;
    response
}

fn answer(
    root: &Path,
    behaviour: &Behaviour,
    request: &hyper::Request<hyper::body::Incoming>,
) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    if let Some((name, value)) = &*behaviour.required_header.lock().unwrap()
        && request.headers().get(name.as_str()).and_then(|v| v.to_str().ok()) != Some(value.as_str())
    {
        return status(StatusCode::BAD_REQUEST, "missing the required header");
    }
    if let Some(code) = behaviour.failing.lock().unwrap().get(path) {
        return status(StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "failing on purpose");
    }
    let head = request.method() == Method::HEAD;
    if head && behaviour.refuse_head.load(Ordering::SeqCst) {
        return status(StatusCode::METHOD_NOT_ALLOWED, "no HEAD here");
    }
    if request.method() != Method::GET && !head {
        return status(StatusCode::METHOD_NOT_ALLOWED, "GET or HEAD");
    }
    let decoded = percent_decode(path.trim_start_matches('/'));
    if decoded.split('/').any(|part| part == ".." || part.is_empty()) {
        return status(StatusCode::NOT_FOUND, "no such file");
    }
    let file = root.join(&decoded);
    let (Ok(data), Ok(meta)) = (std::fs::read(&file), std::fs::metadata(&file)) else {
        return status(StatusCode::NOT_FOUND, "no such file");
    };
    let size = data.len() as u64;
    let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
    let etag = behaviour.etags.lock().unwrap().get(path).cloned().unwrap_or_else(|| {
        let nanos = mtime.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        format!("\"{size:x}-{nanos:x}\"")
    });
    let if_match = request.headers().get(header::IF_MATCH).and_then(|v| v.to_str().ok());
    if if_match.is_some_and(|tag| tag != etag && tag != "*") {
        return status(StatusCode::PRECONDITION_FAILED, "not that version");
    }
    let range = request.headers().get(header::RANGE).and_then(|v| v.to_str().ok()).map(|r| single_range(r, size));
    let (code, body, content_range) = match range {
        Some(_) if behaviour.ignore_range.load(Ordering::SeqCst) => (StatusCode::OK, Bytes::from(data), None),
        None => (StatusCode::OK, Bytes::from(data), None),
        Some(None) => {
            let mut response = status(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            response.headers_mut().insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
            return response;
        }
        Some(Some((first, last))) => (
            StatusCode::PARTIAL_CONTENT,
            Bytes::from(data).slice(first as usize..=last as usize),
            Some(format!("bytes {first}-{last}/{size}")),
        ),
    };
    let length = body.len();
    let mut response = Response::new(Full::new(if head { Bytes::new() } else { body }));
    *response.status_mut() = code;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, value(&length.to_string()));
    headers.insert(header::CONTENT_TYPE, value(content_type(&decoded)));
    if !behaviour.no_validators.load(Ordering::SeqCst) {
        headers.insert(header::ETAG, value(&etag));
        headers.insert(header::LAST_MODIFIED, value(&httpdate::fmt_http_date(mtime)));
    }
    if !behaviour.ignore_range.load(Ordering::SeqCst) {
        headers.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    }
    if let Some(content_range) = content_range {
        headers.insert(header::CONTENT_RANGE, value(&content_range));
    }
    for (name, v) in behaviour.extra_headers.lock().unwrap().get(path).into_iter().flatten() {
        if let Ok(name) = header::HeaderName::try_from(name.as_str()) {
            headers.append(name, value(v));
        }
    }
    response
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::try_from(text).expect("header value")
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` against `size`: the inclusive range, or `None` if
/// it cannot be satisfied.
fn single_range(header: &str, size: u64) -> Option<(u64, u64)> {
    let (a, b) = header.trim().strip_prefix("bytes=")?.split_once('-')?;
    let (first, last) = match (a.trim(), b.trim()) {
        ("", n) => {
            let n: u64 = n.parse().ok()?;
            (size.checked_sub(n.min(size))?, size.checked_sub(1)?)
        }
        (a, "") => (a.parse().ok()?, size.checked_sub(1)?),
        (a, b) => (a.parse().ok()?, b.parse::<u64>().ok()?.min(size.checked_sub(1)?)),
    };
    (first <= last && first < size).then_some((first, last))
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("mp4") => "video/mp4",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes.get(at + 1..at + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[at], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                at += 3;
            }
            (byte, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
