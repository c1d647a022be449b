//! Test support for streamfront: a real S3 server on loopback.
//!
//! [`S3Server`] serves a directory with s3s-fs (bucket [`BUCKET`] is the subdirectory of
//! that name) behind s3s with SigV4 signatures checked against one access key. It runs on a
//! tokio runtime of its own, so synchronous tests (which drive the `streamfront` binary and
//! real players) and `#[tokio::test]`s use it the same way. It logs every request it
//! answers (method, path, `Range`), so tests can count what an origin was asked from the
//! server's side. It can be stopped and started again on the same port, to play an origin
//! outage, and requests for chosen objects can be held until released, to play an origin
//! that hangs ([`S3Server::stall`]).
//!
//! [`WebServer`] is a plain web server over a directory, to play a custom HTTP origin.

#![forbid(unsafe_code)]

mod web;

pub use web::{WebRequest, WebServer};

/// `len` bytes that look random (xorshift32 from `seed`) and differ for every seed: object
/// contents whose every block is distinct, so a block served from the wrong place shows.
pub fn pseudo_random_bytes(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

use std::collections::HashSet;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use object_store::{ObjectStore, PutOptions, PutPayload};
use tokio::task::AbortHandle;

/// The access key the server accepts.
pub const ACCESS_KEY: &str = "streamfront-test";
/// The secret of [`ACCESS_KEY`].
pub const SECRET_KEY: &str = "streamfront-test-secret-0123456789";
/// The region clients sign for.
pub const REGION: &str = "us-east-1";
/// The bucket the server serves (a subdirectory of its root).
pub const BUCKET: &str = "media";

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, `PUT`, ...
    pub method: String,
    /// The URL path, percent-encoded as sent: `/media/some/key.mp4` (path style).
    pub path: String,
    /// The bytes a `Range: bytes=a-b` header asked for, as `a..b+1`; an open range
    /// (`bytes=a-`) ends at `u64::MAX`; a suffix range (`bytes=-n`) or an unparsable one
    /// is `None`, as is a request without `Range`.
    pub range: Option<Range<u64>>,
    /// Whether the request had a `Range` header at all.
    pub ranged: bool,
}

impl Request {
    /// Bytes the request asked for, if its range was bounded.
    pub fn range_len(&self) -> Option<u64> {
        self.range.as_ref().filter(|r| r.end != u64::MAX).map(|r| r.end - r.start)
    }

    /// Whether this request was for object `key` of [`BUCKET`] (`key` as stored, with any
    /// prefix: `vod/clip.mp4`).
    pub fn is_for(&self, key: &str) -> bool {
        self.path == object_path(key)
    }
}

/// The path-style URL path of `key` in [`BUCKET`] (unreserved characters and `/` kept,
/// everything else percent-encoded, as AWS SigV4 clients send it).
pub fn object_path(key: &str) -> String {
    let mut out = format!("/{BUCKET}/");
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The S3 server. Stopped (listener and connections closed) on drop.
pub struct S3Server {
    addr: SocketAddr,
    root: PathBuf,
    runtime: Option<tokio::runtime::Runtime>,
    log: Arc<Mutex<Vec<Request>>>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
    /// Disconnects when the accept task (and with it the listener) is gone.
    listening: Option<mpsc::Receiver<()>>,
    /// URL paths whose requests are held (logged, then not answered) until released.
    stalled: Arc<tokio::sync::watch::Sender<HashSet<String>>>,
    quirks: Quirks,
}

/// Ways the test server departs from an honest, authenticating S3.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quirks {
    /// Drops `If-None-Match` from every request, so a create-if-absent PUT overwrites, as some
    /// S3-compatible servers do. Authentication is off with it (the header is signed), so
    /// clients must send unsigned requests (`[s3] anonymous = true`).
    pub ignore_if_none_match: bool,
}

impl S3Server {
    /// Serves `root` (creating `root/`[`BUCKET`]) on a free loopback port.
    pub fn start(root: &Path) -> S3Server {
        Self::start_on(root, SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// Serves `root` on a free loopback port with `quirks`.
    pub fn start_with(root: &Path, quirks: Quirks) -> S3Server {
        Self::start_quirky(root, SocketAddr::from(([127, 0, 0, 1], 0)), quirks)
    }

    /// Serves `root` on `addr` (port 0: a free one).
    pub fn start_on(root: &Path, addr: SocketAddr) -> S3Server {
        Self::start_quirky(root, addr, Quirks::default())
    }

    fn start_quirky(root: &Path, addr: SocketAddr, quirks: Quirks) -> S3Server {
        std::fs::create_dir_all(root.join(BUCKET))
            .unwrap_or_else(|e| panic!("creating {}: {e}", root.join(BUCKET).display()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3-test-server")
            .enable_all()
            .build()
            .expect("S3 test server runtime");
        let listener = bind(addr, Duration::ZERO);
        let mut server = S3Server {
            addr: listener.local_addr().expect("local address"),
            root: root.to_owned(),
            runtime: Some(runtime),
            log: Arc::default(),
            tasks: Arc::default(),
            listening: None,
            stalled: Arc::new(tokio::sync::watch::Sender::new(HashSet::new())),
            quirks,
        };
        server.serve(listener);
        server
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("runtime")
    }

    fn serve(&mut self, listener: std::net::TcpListener) {
        let fs = s3s_fs::FileSystem::new(&self.root).expect("s3s-fs over the server root");
        let mut builder = s3s::service::S3ServiceBuilder::new(fs);
        let ignore_if_none_match = self.quirks.ignore_if_none_match;
        if !ignore_if_none_match {
            builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        }
        let service = builder.build();
        let log = Arc::clone(&self.log);
        let tasks = Arc::clone(&self.tasks);
        let stalled = Arc::clone(&self.stalled);
        let (alive, listening) = mpsc::channel::<()>();
        self.listening = Some(listening);
        let _guard = self.runtime().enter();
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let accept = self.runtime().spawn(async move {
            let _alive = alive;
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let service = service.clone();
                let log = Arc::clone(&log);
                let stalled = Arc::clone(&stalled);
                let conn = tokio::spawn(async move {
                    let handler = service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
                        log.lock().unwrap().push(describe(&request));
                        if ignore_if_none_match {
                            request.headers_mut().remove(hyper::header::IF_NONE_MATCH);
                        }
                        let service = service.clone();
                        let mut stalled = stalled.subscribe();
                        async move {
                            let path = request.uri().path().to_owned();
                            // Closed only with the server itself, which ends this request too.
                            let _ = stalled.wait_for(|paths| !paths.contains(&path)).await;
                            hyper::service::Service::call(&service, request).await
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), handler)
                        .await;
                });
                let mut tasks = tasks.lock().unwrap();
                tasks.retain(|t| !t.is_finished());
                tasks.push(conn.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// The address it listens on (also while stopped: the one it will listen on again).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The directory served: bucket [`BUCKET`] is `root/media`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding the objects of [`BUCKET`].
    pub fn bucket_dir(&self) -> PathBuf {
        self.root.join(BUCKET)
    }

    /// The AWS environment variables a client needs to reach this server (path style is
    /// what clients use for a custom endpoint).
    pub fn aws_env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_DEFAULT_REGION", REGION.to_owned()),
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ENDPOINT_URL_S3", self.endpoint()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// Stops listening and drops every connection; returns once the port is closed.
    pub fn stop(&mut self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
        if let Some(listening) = self.listening.take() {
            // Disconnected (the accept task and its listener dropped), or a hung runtime.
            let _ = listening.recv_timeout(Duration::from_secs(5));
        }
    }

    /// Whether it is listening.
    pub fn is_running(&self) -> bool {
        self.listening.is_some()
    }

    /// Starts again on the same address, after [`S3Server::stop`].
    pub fn restart(&mut self) {
        assert!(!self.is_running(), "restart: the S3 server is running");
        let listener = bind(self.addr, Duration::from_secs(5));
        self.serve(listener);
    }

    /// Holds every request for object `key` of [`BUCKET`] (logged, then left unanswered)
    /// until [`S3Server::release`]: an origin that hangs on one object.
    pub fn stall(&self, key: &str) {
        self.stalled.send_modify(|paths| {
            paths.insert(object_path(key));
        });
    }

    /// Answers the held requests for `key`, and the later ones at once.
    pub fn release(&self, key: &str) {
        self.stalled.send_modify(|paths| {
            paths.remove(&object_path(key));
        });
    }

    /// Every request received so far, in order of arrival.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }

    /// Requests received so far with `method` (`"GET"`, `"HEAD"`).
    pub fn count(&self, method: &str) -> usize {
        self.log.lock().unwrap().iter().filter(|r| r.method == method).count()
    }

    /// GET requests so far.
    pub fn gets(&self) -> usize {
        self.count("GET")
    }

    /// HEAD requests so far.
    pub fn heads(&self) -> usize {
        self.count("HEAD")
    }

    /// Bytes asked for by bounded ranged GETs so far.
    pub fn get_bytes_asked(&self) -> u64 {
        self.log.lock().unwrap().iter().filter(|r| r.method == "GET").filter_map(Request::range_len).sum()
    }

    /// Uploads `data` as `key` with a signed PUT (so the server records its ETag).
    pub fn put(&self, key: &str, data: &[u8]) {
        self.put_with(key, data, None);
    }

    /// [`S3Server::put`] with a `Cache-Control` header stored on the object.
    pub fn put_with(&self, key: &str, data: &[u8], cache_control: Option<&str>) {
        let store = self.client();
        let path = object_store::path::Path::from(key);
        let payload = PutPayload::from(data.to_vec());
        let mut options = PutOptions::default();
        if let Some(cc) = cache_control {
            options.attributes.insert(object_store::Attribute::CacheControl, cc.to_owned().into());
        }
        let (done, result) = mpsc::channel();
        // On the server's runtime, so this works from async and sync tests alike.
        self.runtime().spawn(async move {
            let _ = done.send(store.put_opts(&path, payload, options).await.map(|_| ()));
        });
        result
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|e| panic!("PUT {key}: no answer ({e})"))
            .unwrap_or_else(|e| panic!("PUT {key}: {e}"));
    }

    /// An object_store client for the bucket, signing with the server's key.
    pub fn client(&self) -> object_store::aws::AmazonS3 {
        object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(BUCKET)
            .with_region(REGION)
            .with_endpoint(self.endpoint())
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(SECRET_KEY)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .build()
            .expect("S3 client")
    }

    /// Puts `data` as `key` straight into the server's directory (no request; atomically,
    /// so a reader sees the old or the new file). The server then computes the ETag from
    /// the content (an MD5 over the whole file on each request: fine for small files; see
    /// [`S3Server::set_etag`] for large ones). Any ETag or attributes stored for an earlier
    /// version of `key` are dropped.
    pub fn write_file(&self, key: &str, data: &[u8]) {
        let path = self.bucket_dir().join(key);
        std::fs::create_dir_all(path.parent().expect("a parent")).unwrap();
        let tmp =
            path.with_file_name(format!(".{}.tmp-{}", path.file_name().unwrap().to_string_lossy(), std::process::id()));
        std::fs::write(&tmp, data).unwrap_or_else(|e| panic!("{}: {e}", tmp.display()));
        self.forget_attributes(key);
        std::fs::rename(&tmp, &path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }

    /// Places the file at `from` as `key` (hard link when possible, else a copy), like
    /// [`S3Server::write_file`].
    pub fn link_file(&self, key: &str, from: &Path) {
        let path = self.bucket_dir().join(key);
        std::fs::create_dir_all(path.parent().expect("a parent")).unwrap();
        let _ = std::fs::remove_file(&path);
        self.forget_attributes(key);
        if std::fs::hard_link(from, &path).is_err() {
            std::fs::copy(from, &path).unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), path.display()));
        }
    }

    /// Makes the server report `etag` for `key` instead of hashing the file on every
    /// request (for large objects). Replace the file later with [`S3Server::write_file`]
    /// (which drops this) or call this again.
    pub fn set_etag(&self, key: &str, etag: &str) {
        write_etag_sidecar(&self.root, key, etag).unwrap();
    }

    /// Sets the `Cache-Control` and `Expires` headers of `key` (s3s-fs keeps both in one
    /// attributes sidecar, so this replaces whatever a PUT set).
    pub fn set_cache_headers(&self, key: &str, cache_control: Option<&str>, expires: Option<std::time::SystemTime>) {
        let mut fields = Vec::new();
        if let Some(cc) = cache_control {
            fields.push(format!("\"cache_control\":\"{cc}\""));
        }
        if let Some(at) = expires {
            let seconds = at.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            fields.push(format!("\"expires\":\"{}\"", rfc3339(seconds)));
        }
        std::fs::write(self.sidecar(key, "metadata"), format!("{{{}}}", fields.join(","))).unwrap();
    }

    fn forget_attributes(&self, key: &str) {
        for kind in ["internal", "metadata"] {
            let _ = std::fs::remove_file(self.sidecar(key, kind));
        }
    }

    fn sidecar(&self, key: &str, kind: &str) -> PathBuf {
        sidecar_path(&self.root, key, kind)
    }
}

/// s3s-fs keeps an object's ETag and attributes next to the bucket, in
/// `.bucket-<b64url(bucket)>.object-<b64url(key)>.<kind>.json`.
fn sidecar_path(root: &Path, key: &str, kind: &str) -> PathBuf {
    root.join(format!(".bucket-{}.object-{}.{kind}.json", base64url(BUCKET.as_bytes()), base64url(key.as_bytes())))
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch (days to civil date: the usual
/// era-based conversion for the proleptic Gregorian calendar).
fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rest / 3600, rest / 60 % 60, rest % 60)
}

/// Where s3s-fs (serving `root`) keeps the ETag of `key` in the test bucket.
pub fn etag_sidecar_path(root: &Path, key: &str) -> PathBuf {
    sidecar_path(root, key, "internal")
}

/// Makes s3s-fs (serving `root`) report `etag` for `key` instead of hashing the file on
/// every request, as it does after a PUT.
pub fn write_etag_sidecar(root: &Path, key: &str, etag: &str) -> std::io::Result<()> {
    let escaped: String = etag.chars().filter(|c| !c.is_control() && *c != '"' && *c != '\\').collect();
    std::fs::write(etag_sidecar_path(root, key), format!("{{\"e_tag\":\"{escaped}\"}}"))
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.stop();
        if let Some(runtime) = self.runtime.take() {
            // Not `drop`: that would panic when the owner is itself an async test.
            runtime.shutdown_background();
        }
    }
}

fn describe(request: &hyper::Request<hyper::body::Incoming>) -> Request {
    let header = request.headers().get(hyper::header::RANGE).and_then(|v| v.to_str().ok());
    let range = header.and_then(|r| {
        let (a, b) = r.trim().strip_prefix("bytes=")?.split_once('-')?;
        let start = a.trim().parse::<u64>().ok()?;
        let end = match b.trim() {
            "" => u64::MAX,
            b => b.parse::<u64>().ok()?.checked_add(1)?,
        };
        (start < end).then_some(start..end)
    });
    Request {
        method: request.method().as_str().to_owned(),
        path: request.uri().path().to_owned(),
        range,
        ranged: request.headers().contains_key(hyper::header::RANGE),
    }
}

/// Binds `addr`, retrying for up to `patience` while it is still in use.
fn bind(addr: SocketAddr, patience: Duration) -> std::net::TcpListener {
    let deadline = Instant::now() + patience;
    loop {
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => {
                listener.set_nonblocking(true).expect("non-blocking listener");
                return listener;
            }
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => panic!("S3 test server: bind {addr}: {e}"),
        }
    }
}

/// Base64, URL-safe alphabet, no padding.
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_526_096), "2026-11-24T13:14:56Z");
    }

    #[test]
    fn base64url_matches_the_sidecar_names() {
        assert_eq!(base64url(b"media"), "bWVkaWE");
        assert_eq!(base64url(b"big.flv"), "YmlnLmZsdg");
        assert_eq!(base64url(b"ab"), "YWI");
        assert_eq!(base64url(b"abc"), "YWJj");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn object_paths_are_encoded_like_sigv4_clients_do() {
        assert_eq!(object_path("vod/a b.mp4"), "/media/vod/a%20b.mp4");
    }
}
