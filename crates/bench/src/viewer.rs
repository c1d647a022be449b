//! One simulated viewer: connect, createStream, play, then read media like a player would
//! (acknowledging bytes, answering pings) until the stream ends or the time limit.

use std::time::Duration;

use bytes::BytesMut;
use sf_amf::{Value, amf0};
use sf_rtmp::chunk::{ChunkReader, ChunkWriter, ReaderLimits};
use sf_rtmp::handshake::ClientHandshake;
use sf_rtmp::message::{Message, MessageHeader, UserControl, parse_u32, type_id};
use tokio::time::{Instant, timeout_at};

use crate::playout::Playout;
use crate::transport::{Target, Transport};

/// What every viewer of a run does.
#[derive(Debug, Clone)]
pub struct ViewerConfig {
    /// Server address, protocol and local addresses.
    pub target: Target,
    pub app: String,
    pub stream: String,
    /// Sent with SetBufferLength right after play (ffmpeg sends 3000).
    pub buffer_ms: u32,
    /// Media the simulated player holds before it starts (and restarts after a stall).
    pub startup_ms: u64,
    /// How long a viewer watches at most, from its connect.
    pub duration: Duration,
    /// Time allowed from connect to the first media message.
    pub setup_timeout: Duration,
    /// The host named in `tcUrl` (it picks the distribution); `None`: the server address.
    pub tc_host: Option<String>,
    /// End the session at the first media message (connect-and-play rate).
    pub first_media_only: bool,
    /// Only connect and finish the handshakes (TCP, TLS, RTMP), then close: their cost alone.
    pub connect_only: bool,
}

/// How a viewer's session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server ended the stream (Play.Complete, Play.Stop or StreamEOF).
    Completed,
    /// Watched for the whole duration limit.
    TimeLimit,
    Failed(String),
}

/// What one viewer measured.
#[derive(Debug, Clone)]
pub struct ViewerResult {
    pub outcome: Outcome,
    /// Connect → first video frame (not a sequence header), milliseconds.
    pub ttff_ms: Option<f64>,
    /// Connect → playback start of the simulated player.
    pub playback_start_ms: Option<f64>,
    pub rebuffers: u32,
    pub stalled_ms: f64,
    /// RTMP bytes received (after RC4, without RTMPT framing).
    pub bytes: u64,
    /// Bytes read from the socket (for RTMPT with the HTTP heads and polling bytes).
    pub wire_bytes: u64,
    /// RTMPT: HTTP requests sent, `/idle` requests, responses without data.
    pub http_requests: u64,
    pub http_idles: u64,
    pub http_empty: u64,
    /// Newest media timestamp received on every track.
    pub media_ms: u64,
}

const CSID_CONTROL: u32 = 2;
const CSID_COMMAND: u32 = 3;
const CSID_PLAY: u32 = 8;

struct Session {
    cfg: ViewerConfig,
    started: Instant,
    reader: ChunkReader,
    writer: ChunkWriter,
    out: BytesMut,
    stream_id: Option<u32>,
    window: u64,
    last_ack: u64,
    /// Newest timestamp per track: audio, video.
    newest: [Option<u64>; 2],
    playout: Playout,
    ttff_ms: Option<f64>,
    got_media: bool,
    transport: Option<Transport>,
}

enum Step {
    Continue,
    End,
    Fail(String),
}

/// Runs one viewer with its handshake prepared (C0+C1 ready, RTMPE key pair generated).
pub async fn run(cfg: ViewerConfig, index: u64, handshake: ClientHandshake) -> ViewerResult {
    let started = Instant::now();
    let mut session = Session {
        playout: Playout::new(cfg.startup_ms),
        cfg,
        started,
        reader: ChunkReader::new(ReaderLimits::default()),
        writer: ChunkWriter::new(),
        out: BytesMut::with_capacity(512),
        stream_id: None,
        window: 2_500_000,
        last_ack: 0,
        newest: [None, None],
        ttff_ms: None,
        got_media: false,
        transport: None,
    };
    let outcome = session.drive(index, handshake).await;
    let now = session.now_ms();
    match outcome {
        Outcome::Completed => session.playout.on_end(now),
        _ => session.playout.check(now),
    }
    if let Some(transport) = &mut session.transport {
        transport.close().await;
    }
    let tunnel = session.transport.as_ref().and_then(Transport::tunnel_stats);
    ViewerResult {
        outcome,
        ttff_ms: session.ttff_ms,
        playback_start_ms: session.playout.started_at,
        rebuffers: session.playout.rebuffers,
        stalled_ms: session.playout.stalled_ms,
        bytes: session.reader.bytes_received(),
        wire_bytes: session.transport.as_ref().map_or(0, |t| t.wire_bytes),
        http_requests: tunnel.map_or(0, |t| t.requests),
        http_idles: tunnel.map_or(0, |t| t.idles),
        http_empty: tunnel.map_or(0, |t| t.empty),
        media_ms: session.buffered_to().unwrap_or(0),
    }
}

impl Session {
    fn now_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1000.0
    }

    async fn drive(&mut self, index: u64, handshake: ClientHandshake) -> Outcome {
        let setup_deadline = self.started + self.cfg.setup_timeout;
        let end = self.started + self.cfg.duration;
        let target = self.cfg.target.clone();
        let connect = Transport::connect(&target, index, handshake);
        let (mut transport, rest) = match timeout_at(setup_deadline.min(end), connect).await {
            Ok(Ok(connected)) => connected,
            Ok(Err(e)) => return Outcome::Failed(format!("connect/handshake: {e}")),
            Err(_) => return Outcome::Failed("connect/handshake timed out".into()),
        };
        if self.cfg.connect_only {
            return Outcome::Completed;
        }
        let outcome = self.converse(&mut transport, rest, setup_deadline, end).await;
        self.transport = Some(transport);
        outcome
    }

    /// Everything after the handshake; `rest` holds server bytes that came with S2.
    async fn converse(
        &mut self,
        transport: &mut Transport,
        rest: Vec<u8>,
        setup_deadline: Instant,
        end: Instant,
    ) -> Outcome {
        self.send_connect();
        let mut buf = vec![0u8; 64 * 1024];
        let mut pending = rest;
        loop {
            if !self.out.is_empty() {
                if let Err(e) = transport.write(&mut self.out).await {
                    return Outcome::Failed(format!("write: {e}"));
                }
                self.out.clear();
            }
            if pending.is_empty() {
                let deadline = if self.got_media { end } else { setup_deadline.min(end) };
                let n = match timeout_at(deadline, transport.read(&mut buf)).await {
                    Err(_) if self.got_media => return Outcome::TimeLimit,
                    Err(_) => return Outcome::Failed("no media before the setup timeout".into()),
                    Ok(Err(e)) => return Outcome::Failed(format!("read: {e}")),
                    Ok(Ok(0)) => return Outcome::Failed("server closed the connection".into()),
                    Ok(Ok(n)) => n,
                };
                self.reader.push(&buf[..n]);
            } else {
                self.reader.push(&pending);
                pending.clear();
            }
            loop {
                let message = match self.reader.next_message() {
                    Ok(Some(message)) => message,
                    Ok(None) => break,
                    Err(e) => return Outcome::Failed(format!("chunk stream: {e}")),
                };
                match self.on_message(message) {
                    Step::Continue => {}
                    Step::End => return Outcome::Completed,
                    Step::Fail(reason) => return Outcome::Failed(reason),
                }
            }
            if self.cfg.first_media_only && self.got_media {
                return Outcome::Completed;
            }
            let received = self.reader.bytes_received();
            if received - self.last_ack >= self.window / 2 {
                self.last_ack = received;
                self.send(CSID_CONTROL, type_id::ACKNOWLEDGEMENT, 0, &(received as u32).to_be_bytes());
            }
        }
    }

    fn send(&mut self, csid: u32, type_id: u8, stream_id: u32, payload: &[u8]) {
        let header = MessageHeader { csid, timestamp: 0, type_id, stream_id };
        self.writer.write(&header, &[payload], &mut self.out);
    }

    fn send_command(&mut self, csid: u32, stream_id: u32, values: &[Value]) {
        let payload = amf0::encode_all(values);
        self.send(csid, type_id::COMMAND_AMF0, stream_id, &payload);
    }

    fn send_connect(&mut self) {
        let target = &self.cfg.target;
        let host = self.cfg.tc_host.clone().unwrap_or_else(|| target.addr.to_string());
        let tc_url = format!("{}://{host}/{}", target.protocol.as_str(), self.cfg.app);
        let object = Value::object([
            ("app", Value::from(self.cfg.app.as_str())),
            ("flashVer", Value::from("LNX 9,0,124,2")),
            ("tcUrl", Value::from(tc_url)),
            ("fpad", Value::from(false)),
            ("capabilities", Value::from(15u32)),
            ("audioCodecs", Value::from(4071u32)),
            ("videoCodecs", Value::from(252u32)),
            ("videoFunction", Value::from(1u32)),
        ]);
        self.send_command(CSID_COMMAND, 0, &[Value::from("connect"), Value::from(1u32), object]);
    }

    fn on_message(&mut self, message: Message) -> Step {
        match message.type_id {
            type_id::AUDIO | type_id::VIDEO => {
                self.on_media(message.type_id, u64::from(message.timestamp), &message.payload);
                Step::Continue
            }
            type_id::AGGREGATE => {
                self.on_aggregate(u64::from(message.timestamp), &message.payload);
                Step::Continue
            }
            type_id::WINDOW_ACK_SIZE => {
                if let Ok(window) = parse_u32(message.type_id, &message.payload) {
                    self.window = u64::from(window.max(1));
                }
                Step::Continue
            }
            type_id::SET_PEER_BANDWIDTH => {
                if let Ok(window) = parse_u32(message.type_id, &message.payload) {
                    self.send(CSID_CONTROL, type_id::WINDOW_ACK_SIZE, 0, &window.to_be_bytes());
                }
                Step::Continue
            }
            type_id::USER_CONTROL => match UserControl::parse(&message.payload) {
                Ok(UserControl::PingRequest(t)) => {
                    let reply = UserControl::PingResponse(t).encode();
                    self.send(CSID_CONTROL, type_id::USER_CONTROL, 0, &reply);
                    Step::Continue
                }
                Ok(UserControl::StreamEof(_)) if self.got_media => Step::End,
                _ => Step::Continue,
            },
            type_id::COMMAND_AMF0 => self.on_command(&message.payload),
            type_id::COMMAND_AMF3 => self.on_command(message.payload.get(1..).unwrap_or(&[])),
            type_id::DATA_AMF0 => self.on_data(&message.payload),
            type_id::DATA_AMF3 => self.on_data(message.payload.get(1..).unwrap_or(&[])),
            _ => Step::Continue,
        }
    }

    fn on_command(&mut self, payload: &[u8]) -> Step {
        let Ok(values) = amf0::decode_all(payload) else {
            return Step::Fail("undecodable command".into());
        };
        let name = values.first().and_then(Value::as_str).unwrap_or("");
        let transaction = values.get(1).and_then(Value::as_f64).unwrap_or(0.0);
        match name {
            "_result" if transaction == 1.0 => {
                self.send_command(CSID_COMMAND, 0, &[Value::from("createStream"), Value::from(2u32), Value::Null]);
                Step::Continue
            }
            "_result" if transaction == 2.0 => {
                let Some(id) = values.get(3).and_then(Value::as_f64) else {
                    return Step::Fail("createStream result without a stream id".into());
                };
                let stream_id = id as u32;
                self.stream_id = Some(stream_id);
                let stream = self.cfg.stream.clone();
                // Like ffmpeg: play (start -2000 = live or recorded), then the buffer length.
                self.send_command(
                    CSID_PLAY,
                    stream_id,
                    &[Value::from("play"), Value::from(0u32), Value::Null, Value::from(stream), Value::Number(-2000.0)],
                );
                let set_buffer = UserControl::SetBufferLength { stream_id, millis: self.cfg.buffer_ms }.encode();
                self.send(CSID_CONTROL, type_id::USER_CONTROL, 0, &set_buffer);
                Step::Continue
            }
            "_error" => Step::Fail(format!("_error for transaction {transaction}: {}", code_of(&values))),
            "onStatus" => self.on_status(&code_of(&values)),
            _ => Step::Continue,
        }
    }

    fn on_data(&mut self, payload: &[u8]) -> Step {
        let Ok(values) = amf0::decode_all(payload) else {
            return Step::Continue;
        };
        match values.first().and_then(Value::as_str) {
            Some("onPlayStatus") | Some("onStatus") => {
                let code = values.get(1).and_then(|v| v.get("code")).and_then(Value::as_str).unwrap_or("");
                self.on_status(code)
            }
            _ => Step::Continue,
        }
    }

    fn on_status(&mut self, code: &str) -> Step {
        match code {
            "NetStream.Play.Stop" | "NetStream.Play.Complete" => Step::End,
            "NetStream.Play.StreamNotFound"
            | "NetStream.Play.Failed"
            | "NetConnection.Connect.Rejected"
            | "NetConnection.Connect.Failed" => Step::Fail(code.to_owned()),
            _ => Step::Continue,
        }
    }

    fn on_media(&mut self, kind: u8, timestamp: u64, payload: &[u8]) {
        let now = self.now_ms();
        self.got_media = true;
        if kind == type_id::VIDEO && self.ttff_ms.is_none() && is_video_frame(payload) {
            self.ttff_ms = Some(now);
        }
        let track = usize::from(kind == type_id::VIDEO);
        let newest = self.newest[track].get_or_insert(timestamp);
        *newest = (*newest).max(timestamp);
        if let Some(buffered_to) = self.buffered_to() {
            self.playout.on_media(now, buffered_to);
        }
    }

    /// An aggregate message: FLV tags (11-byte header, body, 4-byte back pointer), with
    /// timestamps relative to the first tag's.
    fn on_aggregate(&mut self, timestamp: u64, payload: &[u8]) {
        let mut rest = payload;
        let mut base = None;
        while rest.len() >= 11 {
            let kind = rest[0];
            let size = (usize::from(rest[1]) << 16) | (usize::from(rest[2]) << 8) | usize::from(rest[3]);
            let ts = (u64::from(rest[7]) << 24)
                | (u64::from(rest[4]) << 16)
                | (u64::from(rest[5]) << 8)
                | u64::from(rest[6]);
            let Some(body) = rest.get(11..11 + size) else { break };
            let base = *base.get_or_insert(ts);
            if kind == type_id::AUDIO || kind == type_id::VIDEO {
                self.on_media(kind, timestamp + ts.saturating_sub(base), body);
            }
            rest = rest.get(11 + size + 4..).unwrap_or(&[]);
        }
    }

    /// Media time every track seen so far has reached.
    fn buffered_to(&self) -> Option<u64> {
        self.newest.iter().flatten().copied().min()
    }
}

/// A video message that carries a picture: anything but an AVC/HEVC sequence header or
/// end-of-sequence, and not an empty or info/command frame.
fn is_video_frame(payload: &[u8]) -> bool {
    let Some(&first) = payload.first() else { return false };
    if first >> 4 == 5 {
        return false; // video info/command frame
    }
    match first & 0x0f {
        7 | 12 => payload.get(1) == Some(&1),
        _ => payload.len() > 1,
    }
}

fn code_of(values: &[Value]) -> String {
    values.iter().skip(2).find_map(|v| v.get("code").and_then(Value::as_str)).unwrap_or("").to_owned()
}
