//! A deliberately small RTMP client on a raw TcpStream: plain handshake, AMF0 commands,
//! a chunk reader. For exact status codes and for misbehaving on purpose.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, PartialEq)]
pub enum Amf {
    Num(f64),
    Bool(bool),
    Str(String),
    Obj(Vec<(String, Amf)>),
    Null,
    Undefined,
    Ecma(Vec<(String, Amf)>),
    Array(Vec<Amf>),
}

impl Amf {
    pub fn get(&self, key: &str) -> Option<&Amf> {
        match self {
            Amf::Obj(props) | Amf::Ecma(props) => props.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Amf::Str(s) => Some(s),
            _ => None,
        }
    }
}

pub fn amf_encode(v: &Amf, out: &mut Vec<u8>) {
    fn key(k: &str, out: &mut Vec<u8>) {
        out.extend_from_slice(&(k.len() as u16).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
    }
    match v {
        Amf::Num(n) => {
            out.push(0);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Amf::Bool(b) => out.extend_from_slice(&[1, *b as u8]),
        Amf::Str(s) => {
            out.push(2);
            key(s, out);
        }
        Amf::Obj(props) => {
            out.push(3);
            for (k, v) in props {
                key(k, out);
                amf_encode(v, out);
            }
            out.extend_from_slice(&[0, 0, 9]);
        }
        Amf::Null => out.push(5),
        Amf::Undefined => out.push(6),
        Amf::Ecma(props) => {
            out.push(8);
            out.extend_from_slice(&(props.len() as u32).to_be_bytes());
            for (k, v) in props {
                key(k, out);
                amf_encode(v, out);
            }
            out.extend_from_slice(&[0, 0, 9]);
        }
        Amf::Array(items) => {
            out.push(10);
            out.extend_from_slice(&(items.len() as u32).to_be_bytes());
            for v in items {
                amf_encode(v, out);
            }
        }
    }
}

/// Decodes AMF0 values until the end of `buf` or the first value it does not understand.
pub fn amf_decode_all(buf: &[u8]) -> Vec<Amf> {
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < buf.len() {
        match amf_decode(buf, &mut pos, 0) {
            Some(v) => out.push(v),
            None => break,
        }
    }
    out
}

fn amf_decode(buf: &[u8], pos: &mut usize, depth: usize) -> Option<Amf> {
    if depth > 32 {
        return None;
    }
    fn take<'a>(buf: &'a [u8], pos: &mut usize, n: usize) -> Option<&'a [u8]> {
        let s = buf.get(*pos..*pos + n)?;
        *pos += n;
        Some(s)
    }
    fn short_str(buf: &[u8], pos: &mut usize) -> Option<String> {
        let n = u16::from_be_bytes(take(buf, pos, 2)?.try_into().ok()?) as usize;
        Some(String::from_utf8_lossy(take(buf, pos, n)?).into_owned())
    }
    fn props(buf: &[u8], pos: &mut usize, depth: usize) -> Option<Vec<(String, Amf)>> {
        let mut out = Vec::new();
        loop {
            let k = short_str(buf, pos)?;
            if k.is_empty() && buf.get(*pos) == Some(&9) {
                *pos += 1;
                return Some(out);
            }
            let v = amf_decode(buf, pos, depth + 1)?;
            out.push((k, v));
        }
    }
    let marker = *take(buf, pos, 1)?.first()?;
    Some(match marker {
        0 => Amf::Num(f64::from_be_bytes(take(buf, pos, 8)?.try_into().ok()?)),
        1 => Amf::Bool(take(buf, pos, 1)?[0] != 0),
        2 => Amf::Str(short_str(buf, pos)?),
        3 => Amf::Obj(props(buf, pos, depth)?),
        5 => Amf::Null,
        6 => Amf::Undefined,
        8 => {
            take(buf, pos, 4)?;
            Amf::Ecma(props(buf, pos, depth)?)
        }
        10 => {
            let n = u32::from_be_bytes(take(buf, pos, 4)?.try_into().ok()?) as usize;
            let mut items = Vec::new();
            for _ in 0..n.min(100_000) {
                items.push(amf_decode(buf, pos, depth + 1)?);
            }
            Amf::Array(items)
        }
        11 => {
            take(buf, pos, 10)?;
            Amf::Undefined
        }
        12 => {
            let n = u32::from_be_bytes(take(buf, pos, 4)?.try_into().ok()?) as usize;
            Amf::Str(String::from_utf8_lossy(take(buf, pos, n)?).into_owned())
        }
        _ => return None,
    })
}

#[derive(Clone, Debug)]
pub struct Message {
    pub type_id: u8,
    pub stream_id: u32,
    pub timestamp: u32,
    pub payload: Vec<u8>,
}

impl Message {
    /// For command (20) and data (18) messages: the decoded AMF0 values.
    pub fn values(&self) -> Vec<Amf> {
        if self.type_id == 20 || self.type_id == 18 { amf_decode_all(&self.payload) } else { Vec::new() }
    }

    /// The command or data name (first AMF value), if any.
    pub fn name(&self) -> Option<String> {
        self.values().first().and_then(|v| v.as_str().map(str::to_string))
    }

    /// The `code` of an info object anywhere in the command (onStatus, _result, _error).
    pub fn code(&self) -> Option<String> {
        self.values().iter().find_map(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_string))
    }
}

#[derive(Clone, Default)]
struct Header {
    timestamp: u32,
    delta: u32,
    length: usize,
    type_id: u8,
    stream_id: u32,
    extended: bool,
}

/// What a [`RawClient`] speaks over: TCP, or TLS on TCP (RTMPS) in the TLS tests.
pub trait Wire: Read + Write {
    /// The TCP connection underneath, for timeouts and addresses.
    fn tcp(&self) -> &TcpStream;
}

impl Wire for TcpStream {
    fn tcp(&self) -> &TcpStream {
        self
    }
}

pub struct RawClient<S: Wire = TcpStream> {
    pub stream: S,
    buf: Vec<u8>,
    in_chunk: usize,
    headers: HashMap<u32, Header>,
    partial: HashMap<u32, Vec<u8>>,
    txn: f64,
}

impl RawClient {
    pub fn connect(addr: SocketAddr) -> io::Result<RawClient> {
        RawClient::over(TcpStream::connect_timeout(&addr, Duration::from_secs(5))?)
    }

    /// A client on a stream connected by the caller (e.g. with socket options set before
    /// connecting).
    pub fn over(stream: TcpStream) -> io::Result<RawClient> {
        RawClient::over_wire(stream)
    }

    /// Connects to app `cfx/st`, creates a stream and plays `name`; returns the onStatus codes
    /// received until one of `until` arrives (or an error if the deadline passes first).
    pub fn play_until(
        addr: SocketAddr,
        name: &str,
        until: &[&str],
        limit: Duration,
    ) -> Result<(Vec<String>, Duration), String> {
        let mut c = RawClient::connect(addr).map_err(|e| format!("connect: {e}"))?;
        c.handshake().map_err(|e| format!("handshake: {e}"))?;
        let r = c.connect_app("cfx/st", addr.port()).map_err(|e| format!("connect(cfx/st): {e}"))?;
        if r.name().as_deref() != Some("_result") {
            return Err(format!("connect(cfx/st) answered {:?} {:?}", r.name(), r.code()));
        }
        let sid = c.create_stream().map_err(|e| format!("createStream: {e}"))?;
        let sent = Instant::now();
        c.play(sid, name, None).map_err(|e| format!("play: {e}"))?;
        let mut codes = Vec::new();
        let res = c.read_until(sent + limit, |m| {
            if m.name().as_deref() == Some("onStatus")
                && let Some(code) = m.code()
            {
                let done = until.contains(&code.as_str());
                codes.push(code);
                return done;
            }
            false
        });
        match res {
            Ok(_) => Ok((codes, sent.elapsed())),
            Err(e) => Err(format!("play({name:?}): {e}; onStatus codes so far: {codes:?}")),
        }
    }
}

impl<S: Wire> RawClient<S> {
    /// A client on a connected wire (a TLS session, or TCP with socket options set before
    /// connecting).
    pub fn over_wire(stream: S) -> io::Result<RawClient<S>> {
        stream.tcp().set_nodelay(true)?;
        Ok(RawClient {
            stream,
            buf: Vec::new(),
            in_chunk: 128,
            headers: HashMap::new(),
            partial: HashMap::new(),
            txn: 1.0,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.stream.tcp().local_addr().unwrap()
    }

    /// Plain (non-digest) handshake: C1 has zeros in bytes 4..8.
    pub fn handshake(&mut self) -> io::Result<()> {
        let mut c0c1 = vec![3u8];
        let mut c1 = vec![0u8; 1536];
        let mut x = 0x1234_5678u32;
        for b in c1[8..].iter_mut() {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            *b = x as u8;
        }
        c0c1.extend_from_slice(&c1);
        self.stream.write_all(&c0c1)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        self.fill(1 + 1536 + 1536, deadline)?;
        let s1 = self.buf[1..1537].to_vec();
        self.buf.drain(..1 + 1536 + 1536);
        self.stream.write_all(&s1)?;
        Ok(())
    }

    fn fill(&mut self, n: usize, deadline: Instant) -> io::Result<()> {
        let mut tmp = [0u8; 16384];
        while self.buf.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out reading from server"));
            }
            self.stream.tcp().set_read_timeout(Some(left))?;
            match self.stream.read(&mut tmp) {
                Ok(0) => {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection"));
                }
                Ok(k) => self.buf.extend_from_slice(&tmp[..k]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
                    return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out reading from server"));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Sends one message in 128-byte chunks.
    pub fn send(&mut self, csid: u8, type_id: u8, stream_id: u32, payload: &[u8]) -> io::Result<()> {
        assert!((2..64).contains(&csid));
        let mut out = vec![csid]; // fmt 0
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes()[1..]);
        out.push(type_id);
        out.extend_from_slice(&stream_id.to_le_bytes());
        for (i, chunk) in payload.chunks(128).enumerate() {
            if i > 0 {
                out.push(0xC0 | csid);
            }
            out.extend_from_slice(chunk);
        }
        self.stream.write_all(&out)
    }

    pub fn send_command(&mut self, csid: u8, stream_id: u32, values: &[Amf]) -> io::Result<()> {
        let mut payload = Vec::new();
        for v in values {
            amf_encode(v, &mut payload);
        }
        self.send(csid, 20, stream_id, &payload)
    }

    /// Reads the next complete message; protocol control is applied and also returned.
    pub fn read_message(&mut self, deadline: Instant) -> io::Result<Message> {
        loop {
            self.fill(1, deadline)?;
            let b0 = self.buf[0];
            let fmt = b0 >> 6;
            let (csid, mut pos) = match b0 & 0x3f {
                0 => {
                    self.fill(2, deadline)?;
                    (64 + self.buf[1] as u32, 2)
                }
                1 => {
                    self.fill(3, deadline)?;
                    (64 + self.buf[1] as u32 + 256 * self.buf[2] as u32, 3)
                }
                c => (c as u32, 1),
            };
            let mh = [11, 7, 3, 0][fmt as usize];
            self.fill(pos + mh, deadline)?;
            let mut h = self.headers.get(&csid).cloned().unwrap_or_default();
            let be24 = |b: &[u8]| (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
            let mut ts_field = None;
            if fmt <= 2 {
                ts_field = Some(be24(&self.buf[pos..pos + 3]));
            }
            if fmt <= 1 {
                h.length = be24(&self.buf[pos + 3..pos + 6]) as usize;
                h.type_id = self.buf[pos + 6];
            }
            if fmt == 0 {
                h.stream_id = u32::from_le_bytes(self.buf[pos + 7..pos + 11].try_into().unwrap());
            }
            pos += mh;
            let extended = match ts_field {
                Some(t) => t == 0xFF_FFFF,
                None => h.extended,
            };
            let mut ts = ts_field.unwrap_or(0);
            if extended {
                self.fill(pos + 4, deadline)?;
                ts = u32::from_be_bytes(self.buf[pos..pos + 4].try_into().unwrap());
                pos += 4;
            }
            h.extended = extended;
            let starting = !self.partial.contains_key(&csid);
            if starting {
                match fmt {
                    0 => h.timestamp = ts,
                    1 | 2 => {
                        h.delta = ts;
                        h.timestamp = h.timestamp.wrapping_add(ts);
                    }
                    _ => h.timestamp = h.timestamp.wrapping_add(h.delta),
                }
            }
            let have = self.partial.get(&csid).map_or(0, |p| p.len());
            let n = (h.length - have).min(self.in_chunk);
            self.fill(pos + n, deadline)?;
            let body: Vec<u8> = self.buf[pos..pos + n].to_vec();
            self.buf.drain(..pos + n);
            let part = self.partial.entry(csid).or_default();
            part.extend_from_slice(&body);
            self.headers.insert(csid, h.clone());
            if part.len() >= h.length {
                let payload = self.partial.remove(&csid).unwrap();
                let msg = Message { type_id: h.type_id, stream_id: h.stream_id, timestamp: h.timestamp, payload };
                if msg.type_id == 1 && msg.payload.len() >= 4 {
                    self.in_chunk = (u32::from_be_bytes(msg.payload[..4].try_into().unwrap()) & 0x7fff_ffff) as usize;
                }
                return Ok(msg);
            }
        }
    }

    /// Reads messages until `stop` returns true for one (returned last) or the deadline passes.
    pub fn read_until(
        &mut self,
        deadline: Instant,
        mut stop: impl FnMut(&Message) -> bool,
    ) -> io::Result<Vec<Message>> {
        let mut out = Vec::new();
        loop {
            let m = self.read_message(deadline)?;
            let done = stop(&m);
            out.push(m);
            if done {
                return Ok(out);
            }
        }
    }

    fn next_txn(&mut self) -> f64 {
        let t = self.txn;
        self.txn += 1.0;
        t
    }

    /// Sends `connect` for `app` and reads until `_result` or `_error`; returns that message.
    pub fn connect_app(&mut self, app: &str, port: u16) -> io::Result<Message> {
        self.connect_app_via(app, &format!("rtmp://127.0.0.1:{port}/{app}"))
    }

    /// [`RawClient::connect_app`] with the given `tcUrl`.
    pub fn connect_app_via(&mut self, app: &str, tc_url: &str) -> io::Result<Message> {
        let txn = self.next_txn();
        let cmd = Amf::Obj(vec![
            ("app".into(), Amf::Str(app.into())),
            ("flashVer".into(), Amf::Str("LNX 9,0,124,2".into())),
            ("tcUrl".into(), Amf::Str(tc_url.into())),
            ("fpad".into(), Amf::Bool(false)),
            ("capabilities".into(), Amf::Num(15.0)),
            ("audioCodecs".into(), Amf::Num(4071.0)),
            ("videoCodecs".into(), Amf::Num(252.0)),
            ("videoFunction".into(), Amf::Num(1.0)),
        ]);
        self.send_command(3, 0, &[Amf::Str("connect".into()), Amf::Num(txn), cmd])?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let msgs = self.read_until(deadline, |m| matches!(m.name().as_deref(), Some("_result") | Some("_error")))?;
        Ok(msgs.last().unwrap().clone())
    }

    /// `createStream`; returns the stream id.
    pub fn create_stream(&mut self) -> io::Result<u32> {
        let txn = self.next_txn();
        self.send_command(3, 0, &[Amf::Str("createStream".into()), Amf::Num(txn), Amf::Null])?;
        let deadline = Instant::now() + Duration::from_secs(5);
        let msgs = self.read_until(deadline, |m| {
            m.name().as_deref() == Some("_result") && matches!(m.values().get(1), Some(Amf::Num(t)) if *t == txn)
        })?;
        match msgs.last().unwrap().values().get(3) {
            Some(Amf::Num(id)) => Ok(*id as u32),
            other => Err(io::Error::other(format!("createStream result without a stream id: {other:?}"))),
        }
    }

    /// `play(name[, start])` on stream `sid` (chunk stream 8, as librtmp does).
    pub fn play(&mut self, sid: u32, name: &str, start: Option<f64>) -> io::Result<()> {
        let mut v = vec![Amf::Str("play".into()), Amf::Num(0.0), Amf::Null, Amf::Str(name.into())];
        if let Some(s) = start {
            v.push(Amf::Num(s));
        }
        self.send_command(8, sid, &v)
    }

    pub fn shutdown_write(&self) {
        let _ = self.stream.tcp().shutdown(Shutdown::Write);
    }
}

/// Waits until the peer closes `stream` (EOF or reset), discarding what it sends. Returns the
/// time it took, or None if it was still open at the deadline.
pub fn wait_closed(stream: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let start = Instant::now();
    let mut buf = [0u8; 65536];
    loop {
        let left = (start + limit).saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        stream.set_read_timeout(Some(left)).ok()?;
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
                return None;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
}
