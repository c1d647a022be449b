//! The server side of an RTMP connection for video on demand: NetConnection and NetStream
//! commands in, status replies and media out.
//!
//! The session reassembles messages ([`ChunkReader`]), answers what needs no decision by
//! itself (protocol control, `createStream`, pings, acknowledgements, unknown commands), and
//! turns the rest into [`Event`]s. The caller decides (which file, whether it exists, where a
//! seek lands) and answers through methods such as [`ServerSession::accept_connect`] or
//! [`ServerSession::play_started`]. Bytes to send accumulate in [`ServerSession::output`].
//!
//! Reply shapes follow what FFmpeg (`rtmp_parse_result`, `handle_invoke_status` in
//! libavformat/rtmpproto.c) and librtmp (`HandleInvoke` in rtmp.c) parse: commands always as AMF0
//! type 20 with a Null command object, `onStatus` info as AMF0 objects, `onMetaData` and
//! `|RtmpSampleAccess` as type 18.

use std::collections::VecDeque;

use bytes::BytesMut;
use sf_amf::{Value, amf0};

use crate::chunk::{ChunkError, ChunkReader, ChunkWriter, ReaderLimits};
use crate::message::{self, Message, MessageHeader, UserControl, type_id};

/// Chunk stream ids the server writes on. Media kinds get their own chunk streams so that
/// type-1/2 headers (deltas) stay valid on each.
mod csid {
    pub const CONTROL: u32 = 2;
    pub const CONNECTION: u32 = 3;
    pub const STREAM_STATUS: u32 = 5;
    pub const AUDIO: u32 = 6;
    pub const VIDEO: u32 = 7;
}

/// Settings of a session.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Chunk size announced after `connect` (FMS and nginx use 4096).
    pub chunk_size: u32,
    /// Window acknowledgement size announced to the client.
    pub window_ack_size: u32,
    /// Most NetStreams one connection may create.
    pub max_streams: usize,
    /// Limits on incoming chunks.
    pub reader_limits: ReaderLimits,
    /// `fmsVer` reported in the connect reply.
    pub server_version: &'static str,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            max_streams: 16,
            reader_limits: ReaderLimits::default(),
            server_version: "FMS/3,5,7,7009",
        }
    }
}

/// Parameters of a `connect` command.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ConnectRequest {
    pub app: String,
    pub tc_url: Option<String>,
    pub flash_ver: Option<String>,
    pub swf_url: Option<String>,
    pub page_url: Option<String>,
    /// 0 (AMF0) or 3 (AMF3), echoed in the reply.
    pub object_encoding: f64,
}

/// Something the caller must act on.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// Answer with [`ServerSession::accept_connect`] or [`ServerSession::reject_connect`].
    Connect(ConnectRequest),
    /// `play(name, start, duration, reset)`; start and duration in milliseconds as sent
    /// (negative start means live-or-recorded: treat as 0; negative duration means to the end).
    Play {
        stream_id: u32,
        name: String,
        start: f64,
        duration: f64,
        reset: bool,
    },
    /// `seek(ms)`.
    Seek {
        stream_id: u32,
        position_ms: f64,
    },
    /// `pause(pause, ms)` / `pauseRaw`.
    Pause {
        stream_id: u32,
        pause: bool,
        position_ms: f64,
    },
    ReceiveAudio {
        stream_id: u32,
        enabled: bool,
    },
    ReceiveVideo {
        stream_id: u32,
        enabled: bool,
    },
    /// `closeStream` or `deleteStream`: stop playback on that stream.
    CloseStream {
        stream_id: u32,
    },
    /// Answer with [`ServerSession::stream_length`].
    GetStreamLength {
        transaction_id: f64,
        name: String,
    },
    /// The client's buffer length (User Control SetBufferLength).
    BufferLength {
        stream_id: u32,
        millis: u32,
    },
}

/// Why the session cannot go on (close the connection).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    #[error(transparent)]
    Chunk(#[from] ChunkError),
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("command {0:?} before connect")]
    NotConnected(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConnectState {
    AwaitingConnect,
    /// `connect` received; waiting for the caller's decision.
    Deciding,
    Connected,
    Rejected,
}

/// One RTMP connection, server side. See the module documentation.
#[derive(Debug)]
pub struct ServerSession {
    config: SessionConfig,
    reader: ChunkReader,
    writer: ChunkWriter,
    output: BytesMut,
    events: VecDeque<Event>,
    state: ConnectState,
    object_encoding: f64,
    /// Stream ids handed out by `createStream` and not yet deleted.
    streams: Vec<u32>,
    next_stream_id: u32,
    /// Window the client asked us to acknowledge by (0 = never).
    peer_window: u32,
    last_acknowledged: u64,
    client_id: u32,
}

impl ServerSession {
    /// `client_id` is reported to the client in status objects (and in access logs).
    pub fn new(config: SessionConfig, client_id: u32) -> Self {
        let reader = ChunkReader::new(config.reader_limits);
        ServerSession {
            config,
            reader,
            writer: ChunkWriter::new(),
            output: BytesMut::with_capacity(4096),
            events: VecDeque::new(),
            state: ConnectState::AwaitingConnect,
            object_encoding: 0.0,
            streams: Vec::new(),
            next_stream_id: 1,
            peer_window: 0,
            last_acknowledged: 0,
            client_id,
        }
    }

    /// Feeds bytes received from the client (after the handshake, decrypted).
    pub fn handle_input(&mut self, data: &[u8]) -> Result<(), SessionError> {
        self.reader.push(data);
        while let Some(message) = self.reader.next_message()? {
            self.handle_message(message)?;
        }
        self.acknowledge_if_due();
        Ok(())
    }

    /// The next event to act on.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Bytes waiting to be sent. The caller sends them and removes what was sent
    /// (e.g. with `output().split_to(n)` or `advance`).
    pub fn output(&mut self) -> &mut BytesMut {
        &mut self.output
    }

    /// How many bytes wait in [`ServerSession::output`].
    pub fn output_len(&self) -> usize {
        self.output.len()
    }

    /// Bytes received from the client so far.
    pub fn bytes_received(&self) -> u64 {
        self.reader.bytes_received()
    }

    /// Whether `stream_id` was created on this connection and not deleted.
    pub fn has_stream(&self, stream_id: u32) -> bool {
        self.streams.contains(&stream_id)
    }

    // ----- answers to events -------------------------------------------------------------

    /// Accepts the pending `connect`: window size, peer bandwidth, chunk size, `_result`.
    pub fn accept_connect(&mut self) {
        if self.state != ConnectState::Deciding {
            return;
        }
        self.state = ConnectState::Connected;
        let window = self.config.window_ack_size;
        self.write_control(type_id::WINDOW_ACK_SIZE, &window.to_be_bytes());
        self.write_control(type_id::SET_PEER_BANDWIDTH, &message::set_peer_bandwidth(window, 2));
        let chunk_size = self.config.chunk_size;
        self.write_control(type_id::SET_CHUNK_SIZE, &chunk_size.to_be_bytes());
        self.writer.set_chunk_size(chunk_size);
        let version = self.config.server_version;
        let reply = [
            Value::from("_result"),
            Value::Number(1.0),
            Value::object([
                ("fmsVer", Value::from(version)),
                ("capabilities", Value::Number(31.0)),
                ("mode", Value::Number(1.0)),
            ]),
            Value::object([
                ("level", Value::from("status")),
                ("code", Value::from("NetConnection.Connect.Success")),
                ("description", Value::from("Connection succeeded.")),
                ("objectEncoding", Value::Number(self.object_encoding)),
                ("data", Value::ecma_array([("version", Value::from(version.trim_start_matches("FMS/")))])),
                ("clientid", Value::from(self.client_id)),
            ]),
        ];
        self.write_command(csid::CONNECTION, 0, &reply);
    }

    /// Rejects the pending `connect` with `NetConnection.Connect.Rejected`. The caller
    /// closes the connection once the output is sent.
    pub fn reject_connect(&mut self, description: &str) {
        if self.state != ConnectState::Deciding {
            return;
        }
        self.state = ConnectState::Rejected;
        let reply = [
            Value::from("_error"),
            Value::Number(1.0),
            Value::Null,
            Value::object([
                ("level", Value::from("error")),
                ("code", Value::from("NetConnection.Connect.Rejected")),
                ("description", Value::from(description)),
            ]),
        ];
        self.write_command(csid::CONNECTION, 0, &reply);
    }

    /// Tells the client a play began: StreamIsRecorded, StreamBegin, [Play.Reset,]
    /// Play.Start, `|RtmpSampleAccess`. Media (metadata first) follows.
    pub fn play_started(&mut self, stream_id: u32, name: &str, reset: bool) {
        self.write_user_control(UserControl::StreamIsRecorded(stream_id));
        self.write_user_control(UserControl::StreamBegin(stream_id));
        if reset {
            self.write_status(
                stream_id,
                "status",
                "NetStream.Play.Reset",
                &format!("Playing and resetting {name}."),
                name,
            );
        }
        self.write_status(stream_id, "status", "NetStream.Play.Start", &format!("Started playing {name}."), name);
        self.write_play_preamble(stream_id);
    }

    /// The next item of a playlist (plays made with `reset = false`) starts: onPlayStatus
    /// Play.Switch, then Play.Start for the new item. Its metadata and media follow.
    pub fn play_switched(&mut self, stream_id: u32, timestamp: u32, name: &str) {
        let switch = [
            Value::from("onPlayStatus"),
            Value::object([
                ("level", Value::from("status")),
                ("code", Value::from("NetStream.Play.Switch")),
                ("details", Value::from(name)),
            ]),
        ];
        let body = amf0::encode_all(&switch);
        self.write_message(csid::STREAM_STATUS, timestamp, type_id::DATA_AMF0, stream_id, &[&body]);
        self.write_status(stream_id, "status", "NetStream.Play.Start", &format!("Started playing {name}."), name);
    }

    /// Tells the client a play failed, e.g. with `NetStream.Play.StreamNotFound` or
    /// `NetStream.Play.Failed`.
    pub fn play_failed(&mut self, stream_id: u32, code: &str, description: &str, name: &str) {
        self.write_status(stream_id, "error", code, description, name);
    }

    /// Tells the client a seek happened: StreamEOF, StreamIsRecorded, StreamBegin,
    /// Seek.Notify, Play.Start, `|RtmpSampleAccess`. Media (metadata and
    /// sequence headers first) follows from the key frame the seek landed on.
    pub fn seek_started(&mut self, stream_id: u32, name: &str, position_ms: u32) {
        self.write_user_control(UserControl::StreamEof(stream_id));
        self.write_user_control(UserControl::StreamIsRecorded(stream_id));
        self.write_user_control(UserControl::StreamBegin(stream_id));
        let description = format!("Seeking {position_ms} (stream ID: {stream_id}).");
        self.write_status(stream_id, "status", "NetStream.Seek.Notify", &description, name);
        self.write_status(stream_id, "status", "NetStream.Play.Start", &format!("Started playing {name}."), name);
        self.write_play_preamble(stream_id);
    }

    /// Tells the client a seek was refused (nothing is playing, or a bad time).
    pub fn seek_failed(&mut self, stream_id: u32, description: &str) {
        self.write_status(stream_id, "error", "NetStream.Seek.InvalidTime", description, "");
    }

    /// Answers `pause`: Pause.Notify (and StreamEOF) or Unpause.Notify (and StreamBegin).
    pub fn pause_notify(&mut self, stream_id: u32, name: &str, paused: bool) {
        if paused {
            self.write_user_control(UserControl::StreamEof(stream_id));
            self.write_status(stream_id, "status", "NetStream.Pause.Notify", &format!("Pausing {name}."), name);
        } else {
            self.write_user_control(UserControl::StreamBegin(stream_id));
            self.write_status(stream_id, "status", "NetStream.Unpause.Notify", &format!("Unpausing {name}."), name);
        }
    }

    /// End of the media (or of the requested length): onPlayStatus Play.Complete,
    /// onStatus Play.Stop, StreamEOF. Both FFmpeg and librtmp end their read on Play.Stop.
    pub fn play_complete(&mut self, stream_id: u32, name: &str, timestamp: u32, duration_s: f64, bytes: u64) {
        let complete = [
            Value::from("onPlayStatus"),
            Value::object([
                ("level", Value::from("status")),
                ("code", Value::from("NetStream.Play.Complete")),
                ("duration", Value::Number(duration_s)),
                ("bytes", Value::Number(bytes as f64)),
            ]),
        ];
        let body = amf0::encode_all(&complete);
        self.write_message(csid::STREAM_STATUS, timestamp, type_id::DATA_AMF0, stream_id, &[&body]);
        self.play_stopped(stream_id, name);
    }

    /// Playback on the stream stopped (closeStream, or after completion): Play.Stop and
    /// StreamEOF.
    pub fn play_stopped(&mut self, stream_id: u32, name: &str) {
        self.write_status(stream_id, "status", "NetStream.Play.Stop", &format!("Stopped playing {name}."), name);
        self.write_user_control(UserControl::StreamEof(stream_id));
    }

    /// Answers `getStreamLength` with the duration in seconds.
    pub fn stream_length(&mut self, transaction_id: f64, seconds: f64) {
        let reply = [Value::from("_result"), Value::Number(transaction_id), Value::Null, Value::Number(seconds)];
        self.write_command(csid::CONNECTION, 0, &reply);
    }

    /// Sends a data message (type 18) such as `onMetaData` on a stream.
    pub fn send_data(&mut self, stream_id: u32, timestamp: u32, body: &[u8]) {
        self.write_message(csid::STREAM_STATUS, timestamp, type_id::DATA_AMF0, stream_id, &[body]);
    }

    /// Sends an audio (8) or video (9) message whose body is `parts` concatenated.
    pub fn send_media(&mut self, stream_id: u32, type_id: u8, timestamp: u32, parts: &[&[u8]]) {
        let csid = if type_id == type_id::VIDEO { csid::VIDEO } else { csid::AUDIO };
        self.write_message(csid, timestamp, type_id, stream_id, parts);
    }

    // ----- incoming messages -------------------------------------------------------------

    fn handle_message(&mut self, message: Message) -> Result<(), SessionError> {
        match message.type_id {
            // Applied by the chunk reader itself.
            type_id::SET_CHUNK_SIZE | type_id::ABORT | type_id::ACKNOWLEDGEMENT => {}
            type_id::WINDOW_ACK_SIZE => {
                self.peer_window = message::parse_u32(message.type_id, &message.payload)
                    .map_err(|e| malformed("window acknowledgement size", e))?;
            }
            type_id::SET_PEER_BANDWIDTH => {}
            type_id::USER_CONTROL => {
                let event = UserControl::parse(&message.payload).map_err(|e| malformed("user control", e))?;
                self.handle_user_control(event);
            }
            type_id::COMMAND_AMF0 => self.handle_command(&message.payload, message.stream_id)?,
            type_id::COMMAND_AMF3 => {
                // AMF3 command messages start with a format byte (0), then AMF0 values that
                // may switch to AMF3 one at a time.
                let body = message.payload.get(1..).unwrap_or_default();
                self.handle_command(body, message.stream_id)?;
            }
            // Data, media and shared objects from a client: nothing to do for a VOD server.
            _ => {}
        }
        Ok(())
    }

    fn handle_user_control(&mut self, event: UserControl) {
        match event {
            UserControl::SetBufferLength { stream_id, millis } => {
                self.events.push_back(Event::BufferLength { stream_id, millis });
            }
            UserControl::PingRequest(timestamp) => self.write_user_control(UserControl::PingResponse(timestamp)),
            _ => {}
        }
    }

    fn handle_command(&mut self, body: &[u8], stream_id: u32) -> Result<(), SessionError> {
        let values = amf0::decode_all(body).map_err(|e| malformed("command", e))?;
        let mut args = values.into_iter();
        let name = match args.next() {
            Some(Value::String(name)) => name,
            _ => return Err(malformed("command", "the first value is not a command name")),
        };
        let transaction_id = args.next().and_then(|v| v.as_f64()).unwrap_or(0.0);
        // The command object (Null for everything but connect).
        let command_object = args.next().unwrap_or(Value::Null);
        let args: Vec<Value> = args.collect();

        if name == "connect" {
            return self.handle_connect(transaction_id, &command_object, &args);
        }
        if self.state != ConnectState::Connected {
            return Err(SessionError::NotConnected(name));
        }
        let number = |i: usize| args.get(i).and_then(Value::as_f64);
        let boolean = |i: usize| args.get(i).and_then(Value::as_bool);
        match name.as_str() {
            "createStream" => self.create_stream(transaction_id),
            "deleteStream" => {
                let id = number(0).map_or(stream_id, |n| n as u32);
                self.streams.retain(|&s| s != id);
                self.events.push_back(Event::CloseStream { stream_id: id });
            }
            "closeStream" => self.events.push_back(Event::CloseStream { stream_id }),
            "play" => {
                let Some(stream_name) = args.first().and_then(Value::as_str) else {
                    self.write_status(stream_id, "error", "NetStream.Play.Failed", "play needs a stream name.", "");
                    return Ok(());
                };
                if !self.has_stream(stream_id) {
                    self.write_error(transaction_id, "NetStream.Play.Failed", "play on a stream that was not created.");
                    return Ok(());
                }
                self.events.push_back(Event::Play {
                    stream_id,
                    name: stream_name.to_owned(),
                    start: number(1).unwrap_or(-2000.0),
                    duration: number(2).unwrap_or(-1.0),
                    reset: boolean(3).unwrap_or(true),
                });
            }
            "seek" => {
                let position_ms = number(0).unwrap_or(0.0);
                self.events.push_back(Event::Seek { stream_id, position_ms });
            }
            "pause" | "pauseRaw" => {
                let pause = boolean(0).unwrap_or(true);
                let position_ms = number(1).unwrap_or(0.0);
                self.events.push_back(Event::Pause { stream_id, pause, position_ms });
            }
            "receiveAudio" => {
                let enabled = boolean(0).unwrap_or(true);
                self.events.push_back(Event::ReceiveAudio { stream_id, enabled });
            }
            "receiveVideo" => {
                let enabled = boolean(0).unwrap_or(true);
                self.events.push_back(Event::ReceiveVideo { stream_id, enabled });
            }
            "getStreamLength" => match args.first().and_then(Value::as_str) {
                Some(stream_name) => {
                    self.events.push_back(Event::GetStreamLength { transaction_id, name: stream_name.to_owned() })
                }
                None => self.write_error(
                    transaction_id,
                    "NetConnection.Call.Failed",
                    "getStreamLength needs a stream name.",
                ),
            },
            // Bandwidth check: clients only look for an answer, any answer.
            "_checkbw" => self.write_command(
                csid::CONNECTION,
                0,
                &[Value::from("_result"), Value::Number(transaction_id), Value::Null, Value::Null],
            ),
            // Answers to our own calls (none are made, but clients may send them).
            "_result" | "_error" | "onBWDone" => {}
            "FCSubscribe" | "FCUnsubscribe" => {}
            "releaseStream" | "FCPublish" | "FCUnpublish" | "publish" => {
                self.write_error(
                    transaction_id,
                    "NetStream.Publish.Denied",
                    "This server does not accept published streams.",
                );
            }
            _ => {
                let description = format!("Method not found ({name}).");
                self.write_error(transaction_id, "NetConnection.Call.Failed", &description);
            }
        }
        Ok(())
    }

    fn handle_connect(
        &mut self,
        transaction_id: f64,
        command_object: &Value,
        args: &[Value],
    ) -> Result<(), SessionError> {
        if self.state != ConnectState::AwaitingConnect {
            self.write_error(transaction_id, "NetConnection.Call.Failed", "Already connected.");
            return Ok(());
        }
        let _ = args;
        let text = |key: &str| command_object.get(key).and_then(Value::as_str).map(str::to_owned);
        let request = ConnectRequest {
            app: text("app").unwrap_or_default(),
            tc_url: text("tcUrl"),
            flash_ver: text("flashVer"),
            swf_url: text("swfUrl"),
            page_url: text("pageUrl"),
            object_encoding: command_object.get("objectEncoding").and_then(Value::as_f64).unwrap_or(0.0),
        };
        self.object_encoding = if request.object_encoding == 3.0 { 3.0 } else { 0.0 };
        self.state = ConnectState::Deciding;
        self.events.push_back(Event::Connect(request));
        Ok(())
    }

    fn create_stream(&mut self, transaction_id: f64) {
        if self.streams.len() >= self.config.max_streams {
            let description = format!("At most {} streams per connection.", self.config.max_streams);
            self.write_error(transaction_id, "NetConnection.Call.Failed", &description);
            return;
        }
        let id = self.next_stream_id;
        self.next_stream_id += 1;
        self.streams.push(id);
        let reply = [Value::from("_result"), Value::Number(transaction_id), Value::Null, Value::from(id)];
        self.write_command(csid::CONNECTION, 0, &reply);
    }

    fn acknowledge_if_due(&mut self) {
        let received = self.reader.bytes_received();
        if self.peer_window > 0 && received - self.last_acknowledged >= u64::from(self.peer_window) {
            self.last_acknowledged = received;
            // The field is a 32-bit counter that wraps.
            self.write_control(type_id::ACKNOWLEDGEMENT, &(received as u32).to_be_bytes());
        }
    }

    // ----- writing -------------------------------------------------------------------------

    fn write_message(&mut self, csid: u32, timestamp: u32, type_id: u8, stream_id: u32, parts: &[&[u8]]) {
        let header = MessageHeader { csid, timestamp, type_id, stream_id };
        self.writer.write(&header, parts, &mut self.output);
    }

    fn write_control(&mut self, type_id: u8, payload: &[u8]) {
        self.write_message(csid::CONTROL, 0, type_id, 0, &[payload]);
    }

    fn write_user_control(&mut self, event: UserControl) {
        let payload = event.encode();
        self.write_control(type_id::USER_CONTROL, &payload);
    }

    fn write_command(&mut self, csid: u32, stream_id: u32, values: &[Value]) {
        let body = amf0::encode_all(values);
        self.write_message(csid, 0, type_id::COMMAND_AMF0, stream_id, &[&body]);
    }

    fn write_error(&mut self, transaction_id: f64, code: &str, description: &str) {
        let reply = [
            Value::from("_error"),
            Value::Number(transaction_id),
            Value::Null,
            Value::object([
                ("level", Value::from("error")),
                ("code", Value::from(code)),
                ("description", Value::from(description)),
            ]),
        ];
        self.write_command(csid::CONNECTION, 0, &reply);
    }

    fn write_status(&mut self, stream_id: u32, level: &str, code: &str, description: &str, details: &str) {
        let status = [
            Value::from("onStatus"),
            Value::Number(0.0),
            Value::Null,
            Value::object([
                ("level", Value::from(level)),
                ("code", Value::from(code)),
                ("description", Value::from(description)),
                ("details", Value::from(details)),
                ("clientid", Value::from(self.client_id)),
            ]),
        ];
        self.write_command(csid::STREAM_STATUS, stream_id, &status);
    }

    /// `|RtmpSampleAccess` (Flash: the player may read the media's bytes). FMS also sent an
    /// `onStatus NetStream.Data.Start` data message here, which FFmpeg's FLV demuxer turns
    /// into a phantom data stream; no player needs it, so it is not sent.
    fn write_play_preamble(&mut self, stream_id: u32) {
        let access = amf0::encode_all(&[Value::from("|RtmpSampleAccess"), Value::Boolean(true), Value::Boolean(true)]);
        self.write_message(csid::STREAM_STATUS, 0, type_id::DATA_AMF0, stream_id, &[&access]);
    }
}

fn malformed(what: &'static str, reason: impl ToString) -> SessionError {
    SessionError::Malformed { what, reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    /// A minimal client: writes commands with its own chunk writer and reads the server's
    /// output with its own chunk reader.
    struct Client {
        writer: ChunkWriter,
        reader: ChunkReader,
    }

    impl Client {
        fn new() -> Self {
            Client { writer: ChunkWriter::new(), reader: ChunkReader::new(ReaderLimits::default()) }
        }

        fn command(&mut self, stream_id: u32, values: &[Value]) -> Vec<u8> {
            let body = amf0::encode_all(values);
            let mut out = BytesMut::new();
            let header = MessageHeader { csid: 3, timestamp: 0, type_id: type_id::COMMAND_AMF0, stream_id };
            self.writer.write(&header, &[&body], &mut out);
            out.to_vec()
        }

        fn control(&mut self, type_id: u8, payload: &[u8]) -> Vec<u8> {
            let mut out = BytesMut::new();
            let header = MessageHeader { csid: 2, timestamp: 0, type_id, stream_id: 0 };
            self.writer.write(&header, &[payload], &mut out);
            out.to_vec()
        }

        /// Every message the server has written so far.
        fn receive(&mut self, server: &mut ServerSession) -> Vec<Message> {
            let bytes = server.output().split();
            self.reader.push(&bytes);
            let mut messages = Vec::new();
            while let Some(m) = self.reader.next_message().unwrap() {
                messages.push(m);
            }
            messages
        }
    }

    fn commands(messages: &[Message]) -> Vec<Vec<Value>> {
        messages
            .iter()
            .filter(|m| m.type_id == type_id::COMMAND_AMF0 || m.type_id == type_id::DATA_AMF0)
            .map(|m| amf0::decode_all(&m.payload).unwrap())
            .collect()
    }

    fn status_code(values: &[Value]) -> Option<&str> {
        values.iter().find_map(|v| v.get("code")).and_then(Value::as_str)
    }

    fn connect_values(app: &str) -> Vec<Value> {
        vec![
            Value::from("connect"),
            Value::Number(1.0),
            Value::object([
                ("app", Value::from(app)),
                ("flashVer", Value::from("LNX 9,0,124,2")),
                ("tcUrl", Value::from("rtmp://localhost:1935/cfx/st")),
                ("fpad", Value::Boolean(false)),
                ("capabilities", Value::Number(15.0)),
                ("audioCodecs", Value::Number(4071.0)),
                ("videoCodecs", Value::Number(252.0)),
                ("videoFunction", Value::Number(1.0)),
            ]),
        ]
    }

    /// Connects and creates stream 1; returns the pieces.
    fn connected() -> (ServerSession, Client) {
        let mut server = ServerSession::new(SessionConfig::default(), 7);
        let mut client = Client::new();
        let bytes = client.command(0, &connect_values("cfx/st"));
        server.handle_input(&bytes).unwrap();
        assert!(matches!(server.poll_event(), Some(Event::Connect(c)) if c.app == "cfx/st"));
        server.accept_connect();
        let bytes = client.command(0, &[Value::from("createStream"), Value::Number(2.0), Value::Null]);
        server.handle_input(&bytes).unwrap();
        let replies = client.receive(&mut server);
        let types: Vec<u8> = replies.iter().map(|m| m.type_id).collect();
        assert_eq!(&types[..3], &[type_id::WINDOW_ACK_SIZE, type_id::SET_PEER_BANDWIDTH, type_id::SET_CHUNK_SIZE]);
        let cmds = commands(&replies);
        assert_eq!(cmds[0][0], Value::from("_result"));
        assert_eq!(status_code(&cmds[0]), Some("NetConnection.Connect.Success"));
        assert_eq!(cmds[1], vec![Value::from("_result"), Value::Number(2.0), Value::Null, Value::Number(1.0)]);
        assert!(server.has_stream(1));
        (server, client)
    }

    #[test]
    fn connect_create_stream_and_play_events() {
        let (mut server, mut client) = connected();
        let play = client.command(
            1,
            &[Value::from("play"), Value::Number(4.0), Value::Null, Value::from("mp4:a.mp4"), Value::Number(-2000.0)],
        );
        server.handle_input(&play).unwrap();
        assert_eq!(
            server.poll_event(),
            Some(Event::Play { stream_id: 1, name: "mp4:a.mp4".into(), start: -2000.0, duration: -1.0, reset: true })
        );
        server.play_started(1, "mp4:a.mp4", true);
        let cmds = commands(&client.receive(&mut server));
        let codes: Vec<_> = cmds.iter().filter_map(|c| status_code(c)).collect();
        assert_eq!(codes, ["NetStream.Play.Reset", "NetStream.Play.Start"]);
        // onStatus carries the Null command object that FFmpeg and librtmp require.
        assert_eq!(cmds[0][2], Value::Null);
    }

    #[test]
    fn byte_at_a_time_equals_all_at_once() {
        let mut server = ServerSession::new(SessionConfig::default(), 1);
        let mut client = Client::new();
        let bytes = client.command(0, &connect_values("cfx/st/videos"));
        for b in &bytes {
            server.handle_input(std::slice::from_ref(b)).unwrap();
        }
        assert!(matches!(server.poll_event(), Some(Event::Connect(c)) if c.app == "cfx/st/videos"));
        assert_eq!(server.poll_event(), None);
    }

    #[test]
    fn rejected_connect_and_commands_before_connect() {
        let mut server = ServerSession::new(SessionConfig::default(), 1);
        let mut client = Client::new();
        let early = client.command(0, &[Value::from("createStream"), Value::Number(2.0), Value::Null]);
        assert!(matches!(server.handle_input(&early), Err(SessionError::NotConnected(_))));

        let mut server = ServerSession::new(SessionConfig::default(), 1);
        let mut client = Client::new();
        server.handle_input(&client.command(0, &connect_values("live"))).unwrap();
        assert!(matches!(server.poll_event(), Some(Event::Connect(_))));
        server.reject_connect("no such application");
        let cmds = commands(&client.receive(&mut server));
        assert_eq!(cmds[0][0], Value::from("_error"));
        assert_eq!(status_code(&cmds[0]), Some("NetConnection.Connect.Rejected"));
    }

    #[test]
    fn unknown_commands_get_an_error_and_the_session_goes_on() {
        let (mut server, mut client) = connected();
        server.handle_input(&client.command(0, &[Value::from("fooBar"), Value::Number(5.0), Value::Null])).unwrap();
        let cmds = commands(&client.receive(&mut server));
        assert_eq!(cmds[0][0], Value::from("_error"));
        assert_eq!(cmds[0][1], Value::Number(5.0));
        assert_eq!(status_code(&cmds[0]), Some("NetConnection.Call.Failed"));
        server.handle_input(&client.command(0, &[Value::from("_checkbw"), Value::Number(6.0), Value::Null])).unwrap();
        let cmds = commands(&client.receive(&mut server));
        assert_eq!(cmds[0][0], Value::from("_result"));
    }

    #[test]
    fn stream_commands_become_events() {
        let (mut server, mut client) = connected();
        let send = |server: &mut ServerSession, client: &mut Client, values: &[Value]| {
            server.handle_input(&client.command(1, values)).unwrap();
            server.poll_event()
        };
        assert_eq!(
            send(
                &mut server,
                &mut client,
                &[Value::from("seek"), Value::Number(0.0), Value::Null, Value::Number(3000.0)]
            ),
            Some(Event::Seek { stream_id: 1, position_ms: 3000.0 })
        );
        assert_eq!(
            send(
                &mut server,
                &mut client,
                &[Value::from("pause"), Value::Number(0.0), Value::Null, Value::Boolean(true), Value::Number(10.0)]
            ),
            Some(Event::Pause { stream_id: 1, pause: true, position_ms: 10.0 })
        );
        assert_eq!(
            send(
                &mut server,
                &mut client,
                &[Value::from("receiveVideo"), Value::Number(0.0), Value::Null, Value::Boolean(false)]
            ),
            Some(Event::ReceiveVideo { stream_id: 1, enabled: false })
        );
        assert_eq!(
            send(
                &mut server,
                &mut client,
                &[Value::from("getStreamLength"), Value::Number(3.0), Value::Null, Value::from("a")]
            ),
            Some(Event::GetStreamLength { transaction_id: 3.0, name: "a".into() })
        );
        assert_eq!(
            send(&mut server, &mut client, &[Value::from("closeStream"), Value::Number(0.0), Value::Null]),
            Some(Event::CloseStream { stream_id: 1 })
        );
        assert_eq!(
            send(
                &mut server,
                &mut client,
                &[Value::from("deleteStream"), Value::Number(0.0), Value::Null, Value::Number(1.0)]
            ),
            Some(Event::CloseStream { stream_id: 1 })
        );
        assert!(!server.has_stream(1));
    }

    #[test]
    fn amf3_commands_are_understood() {
        let (mut server, mut client) = connected();
        let mut body = vec![0u8];
        body.extend(amf0::encode_all(&[Value::from("play"), Value::Number(0.0), Value::Null, Value::from("clip")]));
        let mut out = BytesMut::new();
        let header = MessageHeader { csid: 8, timestamp: 0, type_id: type_id::COMMAND_AMF3, stream_id: 1 };
        client.writer.write(&header, &[&body], &mut out);
        server.handle_input(&out).unwrap();
        assert!(matches!(server.poll_event(), Some(Event::Play { name, .. }) if name == "clip"));
    }

    #[test]
    fn user_control_and_acknowledgements() {
        let (mut server, mut client) = connected();
        let ping = client.control(type_id::USER_CONTROL, &UserControl::PingRequest(42).encode());
        server.handle_input(&ping).unwrap();
        let replies = client.receive(&mut server);
        assert_eq!(UserControl::parse(&replies[0].payload).unwrap(), UserControl::PingResponse(42));

        let buffer = client
            .control(type_id::USER_CONTROL, &UserControl::SetBufferLength { stream_id: 1, millis: 3000 }.encode());
        server.handle_input(&buffer).unwrap();
        assert_eq!(server.poll_event(), Some(Event::BufferLength { stream_id: 1, millis: 3000 }));

        let window = client.control(type_id::WINDOW_ACK_SIZE, &100u32.to_be_bytes());
        server.handle_input(&window).unwrap();
        let filler = client
            .command(0, &[Value::from("_checkbw"), Value::Number(9.0), Value::Null, Value::from("x".repeat(120))]);
        server.handle_input(&filler).unwrap();
        let replies = client.receive(&mut server);
        assert!(replies.iter().any(|m| m.type_id == type_id::ACKNOWLEDGEMENT), "no acknowledgement sent");
    }

    #[test]
    fn media_and_completion() {
        let (mut server, mut client) = connected();
        server.send_data(
            1,
            0,
            &amf0::encode_all(&[Value::from("onMetaData"), Value::ecma_array([("duration", Value::Number(1.0))])]),
        );
        server.send_media(1, type_id::VIDEO, 0, &[&[0x17, 0x01, 0, 0, 0], &[1, 2, 3]]);
        server.send_media(1, type_id::AUDIO, 23, &[&[0xAF, 0x01], &vec![9u8; 5000]]);
        server.play_complete(1, "a", 23, 1.0, 5010);
        let messages = client.receive(&mut server);
        let media: Vec<_> =
            messages.iter().filter(|m| m.type_id == type_id::VIDEO || m.type_id == type_id::AUDIO).collect();
        assert_eq!(media[0].payload, Bytes::from_static(&[0x17, 0x01, 0, 0, 0, 1, 2, 3]));
        assert_eq!(media[1].timestamp, 23);
        assert_eq!(media[1].payload.len(), 5002);
        let codes: Vec<String> = commands(&messages).iter().filter_map(|c| status_code(c).map(str::to_owned)).collect();
        assert_eq!(codes, ["NetStream.Play.Complete", "NetStream.Play.Stop"]);
        let last = messages.last().unwrap();
        assert_eq!(UserControl::parse(&last.payload).unwrap(), UserControl::StreamEof(1));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let (mut server, _client) = connected();
        // A well-formed chunk carrying a command body that is not AMF.
        let mut out = BytesMut::new();
        let mut writer = ChunkWriter::new();
        writer.write(
            &MessageHeader { csid: 3, timestamp: 0, type_id: type_id::COMMAND_AMF0, stream_id: 0 },
            &[&[0xFF, 0x00]],
            &mut out,
        );
        assert!(server.handle_input(&out).is_err());
    }
}
