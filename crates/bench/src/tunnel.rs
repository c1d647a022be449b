//! An RTMPT client that polls like FFmpeg's `rtmphttp`: HTTP/1.1 keep-alive POSTs on one TCP
//! connection, one request in flight. `POST /open/1` gives the session id; then, whenever the
//! viewer wants to read and the last response is used up, `/send/<id>/<seq>` with everything
//! the viewer wrote since (if anything), else `/idle/<id>/<seq>`, after a short sleep if the
//! previous response carried no data (FFmpeg sleeps 50 ms); `/close/<id>/<seq>` at the end.
//! Every `/send` and `/idle` response is one polling byte (ignored, as FFmpeg does) followed
//! by server bytes. Minimal HTTP framing: `Content-Length` bodies only.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest response head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Largest response body accepted (the server sends at most 256 KiB + 1).
const MAX_BODY: usize = 16 << 20;

/// Counters of one tunnel.
#[derive(Debug, Default, Clone, Copy)]
pub struct TunnelStats {
    /// HTTP requests sent (open, send, idle, close).
    pub requests: u64,
    /// `/idle` requests among them.
    pub idles: u64,
    /// Responses to `/send` or `/idle` that carried no server bytes.
    pub empty: u64,
    /// Bytes read from the socket: HTTP heads, polling bytes and server bytes.
    pub wire_bytes: u64,
}

/// One RTMPT session over one keep-alive connection.
pub struct Tunnel {
    stream: TcpStream,
    host: String,
    id: String,
    seq: u64,
    /// What the viewer wrote and the next `/send` carries.
    pending: Vec<u8>,
    /// Server bytes of the last response (after the polling byte), from `pos` on.
    body: Vec<u8>,
    pos: usize,
    last_empty: bool,
    idle_sleep: Duration,
    input: BytesMut,
    pub stats: TunnelStats,
}

impl Tunnel {
    /// Opens a session on `stream` (already connected to `addr`).
    pub async fn open(stream: TcpStream, addr: SocketAddr, idle_sleep: Duration) -> io::Result<Tunnel> {
        let mut tunnel = Tunnel {
            stream,
            host: addr.to_string(),
            id: String::new(),
            seq: 0,
            pending: Vec::with_capacity(4096),
            body: Vec::new(),
            pos: 0,
            last_empty: false,
            idle_sleep,
            input: BytesMut::with_capacity(8 * 1024),
            stats: TunnelStats::default(),
        };
        let body = tunnel.post("/open/1", &[0]).await?;
        let id = std::str::from_utf8(&body).map_err(|_| io::Error::other("session id is not text"))?.trim_end();
        if id.is_empty() || id.len() >= 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(io::Error::other(format!("bad session id {id:?}")));
        }
        tunnel.id = id.to_owned();
        Ok(tunnel)
    }

    /// Queues bytes for the next `/send`.
    pub fn write(&mut self, data: &[u8]) {
        self.pending.extend_from_slice(data);
    }

    /// Server bytes: what is left of the last response, or else the next response with any
    /// data, polling until one comes. Never returns 0.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.pos < self.body.len() {
                let n = buf.len().min(self.body.len() - self.pos);
                buf[..n].copy_from_slice(&self.body[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            let body = if !self.pending.is_empty() {
                let data = std::mem::take(&mut self.pending);
                let path = format!("/send/{}/{}", self.id, self.seq);
                let body = self.post(&path, &data).await;
                // Keep the allocation for the next writes.
                self.pending = data;
                self.pending.clear();
                body?
            } else {
                if self.last_empty {
                    tokio::time::sleep(self.idle_sleep).await;
                }
                let path = format!("/idle/{}/{}", self.id, self.seq);
                self.stats.idles += 1;
                self.post(&path, &[0]).await?
            };
            self.seq += 1;
            if body.is_empty() {
                return Err(io::Error::other("response without the polling byte"));
            }
            self.body = body;
            self.pos = 1;
            self.last_empty = self.body.len() == 1;
            if self.last_empty {
                self.stats.empty += 1;
            }
        }
    }

    /// Ends the session (what was queued is dropped, as FFmpeg does).
    pub async fn close(&mut self) -> io::Result<()> {
        let path = format!("/close/{}/{}", self.id, self.seq);
        self.seq += 1;
        self.post(&path, &[0]).await.map(drop)
    }

    /// One POST; returns the body of a 200 response.
    async fn post(&mut self, path: &str, body: &[u8]) -> io::Result<Vec<u8>> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nAccept: */*\r\nUser-Agent: Shockwave Flash\r\n\
             Connection: Keep-Alive\r\nCache-Control: no-cache\r\nContent-Type: application/x-fcs\r\n\
             Content-Length: {}\r\n\r\n",
            self.host,
            body.len()
        );
        let mut request = Vec::with_capacity(head.len() + body.len());
        request.extend_from_slice(head.as_bytes());
        request.extend_from_slice(body);
        self.stream.write_all(&request).await?;
        self.stats.requests += 1;
        self.read_response().await
    }

    async fn read_response(&mut self) -> io::Result<Vec<u8>> {
        let head_len = loop {
            if let Some(at) = find(&self.input, b"\r\n\r\n") {
                break at + 4;
            }
            if self.input.len() > MAX_HEAD {
                return Err(io::Error::other("response head too long"));
            }
            self.fill().await?;
        };
        let head =
            std::str::from_utf8(&self.input[..head_len]).map_err(|_| io::Error::other("response head is not text"))?;
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap_or("");
        let code = status.split(' ').nth(1).unwrap_or("");
        let mut length = None;
        for line in lines {
            if let Some((name, value)) = line.split_once(':')
                && name.trim().eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        if !status.starts_with("HTTP/1.1 ") {
            return Err(io::Error::other(format!("not an HTTP/1.1 response: {status:?}")));
        }
        let Some(length) = length.filter(|&l| l <= MAX_BODY) else {
            return Err(io::Error::other("response without a usable Content-Length"));
        };
        let code = code.to_owned();
        self.input.advance(head_len);
        while self.input.len() < length {
            self.fill().await?;
        }
        let body = self.input.split_to(length).to_vec();
        if code != "200" {
            return Err(io::Error::other(format!("HTTP {code}: {}", String::from_utf8_lossy(&body).trim_end())));
        }
        Ok(body)
    }

    async fn fill(&mut self) -> io::Result<()> {
        self.input.reserve(16 * 1024);
        let n = self.stream.read_buf(&mut self.input).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection"));
        }
        self.stats.wire_bytes += n as u64;
        Ok(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A scripted server: answers each request with the next canned response, and records the
    /// request lines.
    async fn scripted(responses: Vec<&'static [u8]>) -> (SocketAddr, tokio::task::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut input = BytesMut::new();
            for response in responses {
                let (line, length) = loop {
                    if let Some(at) = find(&input, b"\r\n\r\n") {
                        let head = std::str::from_utf8(&input[..at]).unwrap().to_owned();
                        let length: usize =
                            head.lines().find_map(|l| l.strip_prefix("Content-Length: ")).unwrap().parse().unwrap();
                        if input.len() >= at + 4 + length {
                            input.advance(at + 4 + length);
                            break (head.lines().next().unwrap().to_owned(), length);
                        }
                    }
                    socket.read_buf(&mut input).await.unwrap();
                };
                seen.push(format!("{line} [{length}]"));
                socket.write_all(response).await.unwrap();
            }
            seen
        });
        (addr, handle)
    }

    #[tokio::test]
    async fn polls_like_ffmpeg() {
        let (addr, server) = scripted(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab1\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n\x01xyz",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n\x05",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\x01!",
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n\x00",
        ])
        .await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut tunnel = Tunnel::open(stream, addr, Duration::from_millis(1)).await.unwrap();
        tunnel.write(b"C0C1");
        let mut buf = [0u8; 2];
        assert_eq!(tunnel.read(&mut buf).await.unwrap(), 2);
        assert_eq!(&buf, b"xy");
        assert_eq!(tunnel.read(&mut buf).await.unwrap(), 1);
        assert_eq!(buf[0], b'z');
        // Nothing to send: an idle (empty answer), then another idle after the sleep.
        assert_eq!(tunnel.read(&mut buf).await.unwrap(), 1);
        assert_eq!(buf[0], b'!');
        tunnel.close().await.unwrap();
        assert_eq!(
            server.await.unwrap(),
            [
                "POST /open/1 HTTP/1.1 [1]",
                "POST /send/ab1/0 HTTP/1.1 [4]",
                "POST /idle/ab1/1 HTTP/1.1 [1]",
                "POST /idle/ab1/2 HTTP/1.1 [1]",
                "POST /close/ab1/3 HTTP/1.1 [1]",
            ]
        );
        assert_eq!(tunnel.stats.requests, 5);
        assert_eq!(tunnel.stats.idles, 2);
        assert_eq!(tunnel.stats.empty, 1);
    }

    #[tokio::test]
    async fn not_found_is_an_error() {
        let (addr, _server) = scripted(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nz\n",
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\nnot found\n",
        ])
        .await;
        let stream = TcpStream::connect(addr).await.unwrap();
        let mut tunnel = Tunnel::open(stream, addr, Duration::from_millis(1)).await.unwrap();
        let error = tunnel.read(&mut [0u8; 4]).await.unwrap_err();
        assert!(error.to_string().contains("HTTP 404"), "{error}");
    }
}
