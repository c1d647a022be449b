//! An HTTP connection with no request open is closed after `--idle-timeout`, over HTTP/1.1
//! (keep-alive, waiting for the next request) and over HTTP/2 (GOAWAY, then the close), and
//! not while a request is open or before the timeout.

mod common;
mod tls_support;

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use common::raw::wait_closed;
use common::*;
use tls_support::*;

const IDLE: Duration = Duration::from_secs(2);
/// How long past the timeout a close may take on a loaded machine.
const SLACK: Duration = Duration::from_secs(4);
/// Far above any wait in these tests.
const NEVER: &str = "600";

/// A request body that arrives later than the idle timeout: the request is open meanwhile.
const LATE_BODY: Duration = Duration::from_millis(3000);

fn start(cert: &Cert) -> (Server, u16) {
    let idle = IDLE.as_secs().to_string();
    let extra = ["--idle-timeout", idle.as_str(), "--handshake-timeout", NEVER, "--stalled-timeout", NEVER];
    start_tls(&media().origin, &[("localhost", cert)], &extra)
}

fn assert_closed_after_idle(took: Duration, what: &str) {
    assert!(took + Duration::from_millis(300) >= IDLE, "{what}: closed {took:?} after its last request");
    assert!(took <= IDLE + SLACK, "{what}: closed only {took:?} after its last request");
}

#[test]
fn http1_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let dir = TempDir::new("tls-idle");
    // webpki takes no self-signed certificate for a server's own: a leaf signed by a CA.
    let ca = Cert::make(dir.path(), "ca", "test CA", &["ca.test"]);
    let cert = Cert::make_leaf(dir.path(), "localhost", &["localhost"], &ca);
    let (_server, _) = start(&cert);
    let server = &_server;
    let mut stream = TcpStream::connect(("127.0.0.1", server.http_port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let get = b"GET /crossdomain.xml HTTP/1.1\r\nHost: localhost\r\n\r\n";
    // Requests less than the idle timeout apart keep the connection.
    for _ in 0..3 {
        stream.write_all(get).unwrap();
        assert_eq!(read_response(&mut stream).0, 200, "GET on the kept-alive connection");
        std::thread::sleep(IDLE.mul_f64(0.6));
    }
    // A request open longer than the idle timeout (its body comes late) keeps it too.
    stream.write_all(b"POST /open/1 HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1\r\n\r\n").unwrap();
    std::thread::sleep(LATE_BODY);
    stream.write_all(b"\0").unwrap();
    assert_eq!(read_response(&mut stream).0, 200, "POST /open/1 whose body came after {LATE_BODY:?}");
    let took = wait_closed(&mut stream, IDLE + SLACK + SLACK).expect("the idle connection is never closed");
    assert_closed_after_idle(took, "an idle HTTP/1.1 connection");
}

#[test]
fn http2_connection_is_closed_after_the_idle_timeout() {
    let dir = TempDir::new("tls-idle");
    // webpki takes no self-signed certificate for a server's own: a leaf signed by a CA.
    let ca = Cert::make(dir.path(), "ca", "test CA", &["ca.test"]);
    let cert = Cert::make_leaf(dir.path(), "localhost", &["localhost"], &ca);
    let (server, port) = start(&cert);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (took, goaway) = runtime.block_on(h2_until_closed(port, &ca.cert));
    assert_closed_after_idle(took, "an idle HTTP/2 connection");
    assert!(goaway, "the HTTP/2 connection was closed without a GOAWAY\n{}", tail(&server.log(), 20));
}

/// Speaks HTTP/2 to the HTTPS listener on `port`: requests less than the idle timeout apart,
/// one open longer than it, then nothing. Returns how long after its last response the server
/// closed the connection, and whether it sent GOAWAY first.
async fn h2_until_closed(port: u16, ca: &Path) -> (Duration, bool) {
    let tls = tls_connect(port, ca).await;
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]), "ALPN h2 negotiated");
    let goaway = Arc::new(AtomicBool::new(false));
    let watched = WatchGoaway { inner: tls, header: Vec::new(), skip: 0, seen: Arc::clone(&goaway) };
    let (client, connection) = h2::client::handshake(watched).await.expect("HTTP/2 handshake");
    let connection = tokio::spawn(async move {
        // Ok after the server's GOAWAY, or a write error if the client answered the server's
        // last frames after it closed: either way the server ended it.
        let _ = connection.await;
        Instant::now()
    });
    let mut client = client.ready().await.expect("a stream may open");
    // Requests less than the idle timeout apart keep the connection.
    for _ in 0..3 {
        let get = http::Request::get("https://localhost/crossdomain.xml").body(()).unwrap();
        let (response, _) = client.send_request(get, true).expect("GET sent");
        assert_eq!(read_h2(response).await, 200, "GET on the HTTP/2 connection");
        tokio::time::sleep(IDLE.mul_f64(0.6)).await;
    }
    // A request open longer than the idle timeout (its body comes late) keeps it too.
    client = client.ready().await.expect("a stream may open");
    let post = http::Request::post("https://localhost/open/1").body(()).unwrap();
    let (response, mut body) = client.send_request(post, false).expect("POST sent");
    tokio::time::sleep(LATE_BODY).await;
    body.send_data(bytes::Bytes::from_static(b"\0"), true).expect("the late body sent");
    assert_eq!(read_h2(response).await, 200, "POST /open/1 whose body came after {LATE_BODY:?}");
    let idle_from = Instant::now();
    let limit = IDLE + SLACK + SLACK;
    let closed = tokio::time::timeout(limit, connection)
        .await
        .unwrap_or_else(|_| panic!("the HTTP/2 connection is still open {limit:?} after its last request"))
        .unwrap();
    // `client` lives until here: the connection must not end because the client let go.
    drop(client);
    (closed - idle_from, goaway.load(Ordering::Relaxed))
}

/// The server's side of an HTTP/2 connection, watched for a GOAWAY frame: its frames follow
/// each other, each a 9-byte header (24-bit payload length, type, flags, stream id) and the
/// payload (RFC 9113 §4.1); GOAWAY is type 7 (§6.8).
struct WatchGoaway<T> {
    inner: T,
    /// The header read so far of the next frame.
    header: Vec<u8>,
    /// Payload bytes of the current frame still to come.
    skip: usize,
    seen: Arc<AtomicBool>,
}

impl<T> WatchGoaway<T> {
    fn scan(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                (self.skip, bytes) = (self.skip - n, &bytes[n..]);
                continue;
            }
            self.header.push(bytes[0]);
            bytes = &bytes[1..];
            if self.header.len() == 9 {
                self.skip =
                    usize::from(self.header[0]) << 16 | usize::from(self.header[1]) << 8 | usize::from(self.header[2]);
                if self.header[3] == 7 {
                    self.seen.store(true, Ordering::Relaxed);
                }
                self.header.clear();
            }
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for WatchGoaway<T> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            let new = buf.filled()[before..].to_vec();
            self.scan(&new);
        }
        polled
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for WatchGoaway<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The status of `response`, after reading its whole body.
async fn read_h2(response: h2::client::ResponseFuture) -> u16 {
    let response = response.await.expect("a response");
    let status = response.status().as_u16();
    let mut body = response.into_body();
    while let Some(data) = body.data().await {
        let data = data.expect("body data");
        body.flow_control().release_capacity(data.len()).unwrap();
    }
    status
}

/// A TLS connection to `port` offering ALPN `h2`, trusting `ca`, for the name `localhost`.
async fn tls_connect(port: u16, ca: &Path) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut config = client_config(ca);
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect to the HTTPS listener");
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await.expect("TLS handshake")
}
