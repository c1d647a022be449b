//! One RTMP connection after the handshake, whatever carries its bytes (a TCP socket or an
//! RTMPT tunnel): session events in, players pumped into the output.
//!
//! Like the [`ServerSession`] below it, a connection does no I/O and reads no clock. Client
//! bytes ([`RtmpConnection::handle_input`]), `now`, and the results of earlier requests
//! ([`RtmpConnection::handle_result`]) come in; bytes for the client
//! ([`RtmpConnection::output`]) and requests ([`RtmpConnection::poll_request`]) go out. A
//! request is work that may wait on the origin, with everything it needs owned: "open the
//! first of these candidate keys" (play, getStreamLength) or "read the next tag of stream
//! N". The driver runs requests beside the transport and hands each result back with its
//! [`Token`], so one stream waiting on the origin holds up nothing else. A result whose
//! purpose is gone (its stream was closed, played again or sought since) is dropped, and the
//! driver is asked to cancel such requests.
//!
//! Per stream at most one open and one tag read are in flight, and the session bounds the
//! streams, so a client cannot make a connection hold unbounded work. The hot path needs no
//! request: a player reads the next tag synchronously when its bytes are at hand.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use sf_logs::{ConnectFields, LogTarget, StreamFields, StreamingEvent, StreamingRecord};
use sf_media::{Format, MediaError};
use sf_rtmp::session::{ConnectRequest, Event, ServerSession, SessionError};
use tracing::{info, warn};

use crate::library::{OpenError, OpenMedia};
use crate::names::{self, NameError};
use crate::player::{Fetched, MAX_PLAYLIST, Media, Player, QueuedPlay, TagRead, TagReadResult, Want};
use crate::routing::ServedDistribution;
use crate::signed;
use crate::stats::DEFAULT_DISTRIBUTION;
use crate::{Edge, ViewerMetrics};

/// Stop adding media to the output while this many bytes wait to be sent: the socket's
/// pace sets ours, and a slow client costs at most this much memory (plus one message).
pub const OUTPUT_HIGH_WATER: usize = 32 * 1024;

/// Bytes a media message of `body` bytes takes on the wire, at most: a full chunk header with
/// an extended timestamp (18 bytes) and a one-byte header for every further chunk, at the
/// smallest chunk size, 128 (RTMP spec §5.3.1, §5.4.1).
fn wire_len_at_most(body: usize) -> usize {
    body + 18 + body / 128
}

/// Most getStreamLength queries waiting on the origin at once; more are answered 0 at once
/// (players ask once, before they play).
const MAX_LENGTH_QUERIES: usize = 4;

/// How the viewer reached us, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Rtmp,
    Rtmpe,
    Rtmpt,
    Rtmpte,
}

impl Protocol {
    pub const ALL: [Protocol; 4] = [Protocol::Rtmp, Protocol::Rtmpe, Protocol::Rtmpt, Protocol::Rtmpte];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Rtmp => "rtmp",
            Protocol::Rtmpe => "rtmpe",
            Protocol::Rtmpt => "rtmpt",
            Protocol::Rtmpte => "rtmpte",
        }
    }
}

/// Names one request; its result comes back with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token(u64);

/// Work for the driver: run it and hand the result back to [`RtmpConnection::handle_result`].
#[derive(Debug)]
pub enum Request {
    /// `Library::open_first(candidates)`, answered with [`Outcome::Opened`].
    Open { token: Token, distribution: Arc<ServedDistribution>, candidates: Vec<(String, Format)> },
    /// [`TagRead::run`], answered with [`Outcome::TagRead`].
    ReadTag { token: Token, read: TagRead },
    /// The result of this earlier request is no longer wanted: stop it if it still runs.
    Cancel(Token),
}

/// The result of a [`Request`].
#[derive(Debug)]
pub enum Outcome {
    Opened(Result<OpenMedia, OpenError>),
    TagRead(TagReadResult),
}

/// What a request in flight is for.
#[derive(Debug, Clone, Copy)]
enum Purpose {
    Play { stream_id: u32 },
    StreamLength { transaction_id: f64 },
    ReadTag { stream_id: u32 },
}

/// Requests in flight and requests not yet taken by the driver.
#[derive(Debug, Default)]
struct Requests {
    in_flight: HashMap<Token, Purpose>,
    outgoing: VecDeque<Request>,
    next_token: u64,
}

impl Requests {
    fn start(&mut self, purpose: Purpose, request: impl FnOnce(Token) -> Request) -> Token {
        let token = Token(self.next_token);
        self.next_token += 1;
        self.in_flight.insert(token, purpose);
        self.outgoing.push_back(request(token));
        token
    }

    /// Forgets `token`: its result, if it still comes, is dropped.
    fn cancel(&mut self, token: Token) {
        if self.in_flight.remove(&token).is_none() {
            return;
        }
        let queued = self.outgoing.len();
        self.outgoing.retain(
            |r| !matches!(r, Request::Open { token: t, .. } | Request::ReadTag { token: t, .. } if *t == token),
        );
        if self.outgoing.len() == queued {
            self.outgoing.push_back(Request::Cancel(token));
        }
    }

    /// The purpose of a finished request, if it is still wanted.
    fn finish(&mut self, token: Token) -> Option<Purpose> {
        self.in_flight.remove(&token)
    }
}

/// A `play` waiting for its object to open.
#[derive(Debug)]
struct PendingPlay {
    name: String,
    start_ms: u32,
    duration_ms: f64,
    reset: bool,
    /// Joins the playlist of the stream's running play (`reset = false` while playing).
    appending: bool,
}

/// One NetStream: its player, and the plays and reads waiting on the origin.
#[derive(Debug, Default)]
struct Stream {
    player: Option<Player>,
    /// Plays in the order they came; the first is being opened while `opening` is set.
    plays: VecDeque<PendingPlay>,
    opening: Option<Token>,
    /// The player's next tag is being read.
    reading: Option<Token>,
    /// The player reached the end of its item while the next item (queued with reset =
    /// false) was still opening: it waits for it instead of completing.
    held_at_end: bool,
}

impl Stream {
    fn is_playing(&self) -> bool {
        self.player.as_ref().is_some_and(|p| !p.is_finished())
    }

    /// True while a play to append to this stream's playlist waits for its object.
    fn next_item_opening(&self) -> bool {
        self.plays.front().is_some_and(|p| p.appending)
    }

    /// At the end of the player's item: hold it for the next item if one is opening;
    /// false when the play is complete.
    fn hold_at_end(&mut self) -> bool {
        self.held_at_end = self.next_item_opening();
        self.held_at_end
    }
}

/// The application-level state of one connection.
pub struct RtmpConnection {
    edge: Arc<Edge>,
    pub peer: SocketAddr,
    pub protocol: Protocol,
    session: ServerSession,
    /// Folders from the application (`cfx/st/<folders>`), once connected.
    folders: Option<Vec<String>>,
    /// The distribution the connect's host picked; its library opens every play.
    distribution: Option<Arc<ServedDistribution>>,
    /// The `Host` header of the RTMPT tunnel carrying the connection, if any: the host when
    /// the `tcUrl` names none.
    tunnel_host: Option<String>,
    /// Whether the connection (or the tunnel carrying it) came inside TLS: RTMPS, RTMPTS.
    over_tls: bool,
    /// Viewer and byte counters, under the default distribution until connect routes.
    metrics: ViewerMetrics,
    streams: HashMap<u32, Stream>,
    /// SetBufferLength may arrive before play: remember it per stream.
    buffer_lengths: HashMap<u32, u32>,
    requests: Requests,
    length_queries: usize,
    /// The connection should close once the output is flushed (connect rejected).
    closing: bool,
    /// Media and data bytes sent over the connection's life.
    pub media_bytes_sent: u64,
    /// Where the connection's access log records go and the connect's fields each repeats,
    /// once connected to a distribution whose logging is on.
    access_log: Option<(Arc<LogTarget>, ConnectFields)>,
    /// Session output taken for the wire so far (with what waits: `sc-bytes`).
    output_taken: u64,
}

impl RtmpConnection {
    pub fn new(edge: Arc<Edge>, peer: SocketAddr, protocol: Protocol) -> Self {
        let client_id = edge.next_client_id();
        let session = ServerSession::new(edge.config.session.clone(), client_id);
        let metrics = edge.stats.viewer_metrics(DEFAULT_DISTRIBUTION, protocol);
        metrics.started();
        RtmpConnection {
            distribution: None,
            tunnel_host: None,
            over_tls: false,
            metrics,
            edge,
            peer,
            protocol,
            session,
            folders: None,
            streams: HashMap::new(),
            buffer_lengths: HashMap::new(),
            requests: Requests::default(),
            length_queries: 0,
            closing: false,
            media_bytes_sent: 0,
            access_log: None,
            output_taken: 0,
        }
    }

    /// Bytes to send to the client.
    pub fn output(&mut self) -> &mut BytesMut {
        self.session.output()
    }

    /// Takes the bytes to send to the client, buffer and all.
    pub fn take_output(&mut self) -> BytesMut {
        let output = std::mem::take(self.session.output());
        self.output_taken += output.len() as u64;
        output
    }

    /// Writes an access log record of `event`, if the connection's distribution logs.
    fn log_event(&self, event: StreamingEvent, stream: Option<StreamFields>) {
        let Some((target, connect)) = &self.access_log else { return };
        let record = StreamingRecord {
            client_ip: self.peer.ip(),
            event,
            sc_bytes: self.output_taken + self.session.output_len() as u64,
            connect: connect.clone(),
            stream,
        };
        self.edge.access_logs.log(target, record);
    }

    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// True while some stream plays or waits for its object (the connection is not idle).
    pub fn is_playing(&self) -> bool {
        self.streams.values().any(|s| s.is_playing() || s.opening.is_some())
    }

    /// True while some request's result is awaited.
    pub fn is_waiting_on_origin(&self) -> bool {
        !self.requests.in_flight.is_empty()
    }

    /// The next request for the driver.
    pub fn poll_request(&mut self) -> Option<Request> {
        self.requests.outgoing.pop_front()
    }

    /// Handles bytes from the client and every event they cause.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) -> Result<(), SessionError> {
        self.session.handle_input(data)?;
        while let Some(event) = self.session.poll_event() {
            self.handle_event(event, now);
        }
        Ok(())
    }

    /// Takes the result of a request; dropped when its purpose is gone.
    pub fn handle_result(&mut self, token: Token, outcome: Outcome, now: Instant) {
        let Some(purpose) = self.requests.finish(token) else { return };
        match (purpose, outcome) {
            (Purpose::Play { stream_id }, Outcome::Opened(result)) => {
                let Some(stream) = self.streams.get_mut(&stream_id) else { return };
                stream.opening = None;
                let Some(play) = stream.plays.pop_front() else { return };
                self.play_opened(stream_id, play, result, now);
                self.open_next(stream_id);
                // A player held at its end for this item, which failed, with nothing after it.
                if let Some(stream) = self.streams.get_mut(&stream_id)
                    && stream.held_at_end
                    && !stream.next_item_opening()
                {
                    stream.held_at_end = false;
                    self.complete(stream_id);
                }
            }
            (Purpose::StreamLength { transaction_id }, Outcome::Opened(result)) => {
                self.length_queries -= 1;
                let seconds = result.map_or(0.0, |media| media.index.info().duration_ms as f64 / 1000.0);
                self.session.stream_length(transaction_id, seconds);
            }
            (Purpose::ReadTag { stream_id }, Outcome::TagRead(result)) => {
                let Some(stream) = self.streams.get_mut(&stream_id) else { return };
                stream.reading = None;
                let Some(player) = stream.player.as_mut() else { return };
                let Some(fetched) = player.read_done(result) else { return };
                let ended = after_read(&mut self.session, self.peer, self.protocol, player, fetched);
                if ended && !stream.hold_at_end() {
                    self.complete(stream_id);
                }
            }
            (purpose, outcome) => unreachable!("{purpose:?} answered with {outcome:?}"),
        }
    }

    fn handle_event(&mut self, event: Event, now: Instant) {
        match event {
            Event::Connect(request) => self.connect(request),
            Event::Play { stream_id, name, start, duration, reset } => {
                if self.signature_refused(stream_id, &name, "play", now) {
                    return;
                }
                // Negative start means "live, else recorded from the beginning" for VOD.
                let play =
                    PendingPlay { name, start_ms: clamp_ms(start), duration_ms: duration, reset, appending: false };
                self.play(stream_id, play);
            }
            Event::Seek { stream_id, position_ms } => {
                let position = clamp_ms(position_ms);
                let Some(name) = self.player_mut(stream_id).map(|p| p.name.clone()) else {
                    self.session.seek_failed(stream_id, "Nothing is playing on this stream.");
                    return;
                };
                if self.signature_refused(stream_id, &name, "seek", now) {
                    return self.end_refused(stream_id);
                }
                let stream = self.streams.get_mut(&stream_id).expect("it has a player");
                // A read from before the seek is of no use any more.
                let reading = stream.reading.take();
                stream.held_at_end = false;
                let player = stream.player.as_mut().expect("filtered above");
                player.seek(position, now);
                let landed = player.start_ms();
                self.session.seek_started(stream_id, &player.name, landed);
                info!(client = %self.peer, protocol = self.protocol.as_str(), stream = %player.name, target_ms = position, keyframe_ms = landed, "seek");
                let fields = stream_fields(player);
                if let Some(token) = reading {
                    self.requests.cancel(token);
                }
                self.log_event(StreamingEvent::Seek, Some(fields));
            }
            Event::Pause { stream_id, pause, position_ms } => {
                let name = self.player_mut(stream_id).map(|p| p.name.clone());
                if let Some(name) = name.filter(|_| !pause)
                    && self.signature_refused(stream_id, &name, "unpause", now)
                {
                    return self.end_refused(stream_id);
                }
                if let Some(player) = self.player_mut(stream_id) {
                    if pause {
                        player.pause();
                    } else {
                        player.unpause(now);
                    }
                    let name = player.name.clone();
                    let fields = stream_fields(player);
                    self.session.pause_notify(stream_id, &name, pause);
                    info!(client = %self.peer, protocol = self.protocol.as_str(), stream = %name, position_ms, "{}", if pause { "pause" } else { "unpause" });
                    let event = if pause { StreamingEvent::Pause } else { StreamingEvent::Unpause };
                    self.log_event(event, Some(fields));
                }
            }
            Event::ReceiveAudio { stream_id, enabled } => {
                if let Some(player) = self.player_mut(stream_id) {
                    player.set_receive_audio(enabled);
                }
            }
            Event::ReceiveVideo { stream_id, enabled } => {
                if let Some(player) = self.player_mut(stream_id) {
                    player.set_receive_video(enabled);
                }
            }
            Event::CloseStream { stream_id } => self.close_stream(stream_id),
            Event::GetStreamLength { transaction_id, name } => {
                let (candidates, distribution) = match (resolve(self.folders.as_deref(), &name), &self.distribution) {
                    (Ok(candidates), Some(distribution))
                        if self.length_queries < MAX_LENGTH_QUERIES
                            && self.signature_allows(distribution, &name, now) =>
                    {
                        (candidates, Arc::clone(distribution))
                    }
                    _ => {
                        self.session.stream_length(transaction_id, 0.0);
                        return;
                    }
                };
                self.length_queries += 1;
                self.requests.start(Purpose::StreamLength { transaction_id }, |token| Request::Open {
                    token,
                    distribution,
                    candidates,
                });
            }
            Event::BufferLength { stream_id, millis } => {
                // Bounded: at most one entry per created stream.
                if self.session.has_stream(stream_id) {
                    self.buffer_lengths.insert(stream_id, millis);
                }
                if let Some(player) = self.player_mut(stream_id) {
                    player.set_buffer_length(millis);
                }
            }
        }
    }

    /// True when the distribution needs no signature or `name`'s signature allows this viewer now.
    fn signature_allows(&self, distribution: &ServedDistribution, name: &str, now: Instant) -> bool {
        let folders = self.folders.as_deref().unwrap_or_default();
        signed::check(&self.edge, distribution, folders, name, self.peer, now).is_ok()
    }

    /// Checks the signature of a play, seek or unpause (`action`) of `name` (see [`signed`]);
    /// when it is refused, tells the client `NetStream.Play.Failed` with the reason, logs it,
    /// and returns true.
    fn signature_refused(&mut self, stream_id: u32, name: &str, action: &str, now: Instant) -> bool {
        let Some(distribution) = &self.distribution else { return false };
        let folders = self.folders.as_deref().unwrap_or_default();
        let Err(error) = signed::check(&self.edge, distribution, folders, name, self.peer, now) else { return false };
        let shown = signed::display_name(name);
        let description = format!("NetStream.Play.Failed: {action} of stream {shown} refused: {error}.");
        self.session.play_failed(stream_id, "NetStream.Play.Failed", &description, shown);
        warn!(
            client = %self.peer, protocol = self.protocol.as_str(), distribution = self.distribution_id(),
            stream = %shown, reason = error.reason(), "{action} refused: {error}"
        );
        true
    }

    /// Ends the play of a stream whose seek or unpause was refused: CloudFront's servers
    /// treated those as new plays, which fail once the signed URL has expired.
    fn end_refused(&mut self, stream_id: u32) {
        let Some(stream) = self.streams.get_mut(&stream_id) else { return };
        stream.held_at_end = false;
        let reading = stream.reading.take();
        let running = stream.player.as_mut().filter(|p| !p.is_finished());
        let ended = running.map(Player::finish).is_some();
        if let Some(token) = reading {
            self.requests.cancel(token);
        }
        if ended && let Some(player) = &self.streams[&stream_id].player {
            self.log_stop(player, "signature refused");
        }
    }

    fn player_mut(&mut self, stream_id: u32) -> Option<&mut Player> {
        self.streams.get_mut(&stream_id)?.player.as_mut()
    }

    /// The host the player connected to: the `tcUrl`'s, else the tunnel's `Host` header.
    fn requested_host<'a>(&'a self, request: &'a ConnectRequest) -> Option<&'a str> {
        request.tc_url.as_deref().and_then(sf_dist::host_from_tc_url).or(self.tunnel_host.as_deref())
    }

    /// Records that the connection came through an RTMPT tunnel whose requests name `host`.
    pub fn set_tunnel_host(&mut self, host: Option<String>) {
        self.tunnel_host = host;
    }

    /// Records that the connection, or the tunnel carrying it, came inside TLS.
    pub fn set_over_tls(&mut self, over_tls: bool) {
        self.over_tls = over_tls;
    }

    /// The distribution id for log lines (`-` before connect).
    fn distribution_id(&self) -> &str {
        self.distribution.as_ref().map_or("-", |d| d.id.as_str())
    }

    fn connect(&mut self, request: ConnectRequest) {
        let host = self.requested_host(&request).map(str::to_owned);
        let distribution = match self.edge.distributions().resolve(host.as_deref()) {
            Some(distribution) if distribution.enabled => distribution,
            Some(distribution) => {
                let description = format!("Distribution {} is disabled.", distribution.id);
                return self.reject_connect(&request, &description, &distribution.id);
            }
            None => {
                let description = format!("No distribution serves host {:?}.", host.as_deref().unwrap_or_default());
                return self.reject_connect(&request, &description, "-");
            }
        };
        if !distribution.protocol_policy.admits(self.over_tls, self.protocol) {
            let description = format!(
                "Distribution {} accepts only secure connections: use rtmps://, rtmpe://, rtmpte:// or rtmpts://.",
                distribution.id
            );
            return self.reject_connect(&request, &description, &distribution.id);
        }
        match names::parse_application(&request.app) {
            Ok(folders) => {
                self.folders = Some(folders);
                self.metrics.ended();
                self.metrics = self.edge.stats.viewer_metrics(&distribution.id, self.protocol);
                self.metrics.started();
                self.distribution = Some(distribution);
                self.session.accept_connect();
                info!(
                    client = %self.peer, protocol = self.protocol.as_str(), distribution = self.distribution_id(), app = %request.app,
                    tc_url = request.tc_url.as_deref().unwrap_or("-"),
                    flash_ver = request.flash_ver.as_deref().unwrap_or("-"), "connect"
                );
                let target = self.distribution.as_ref().and_then(|d| d.logging.clone());
                if let Some(target) = target {
                    // Unique per connection, across restarts and edges.
                    let client_id = format!("{:032x}", rand::random::<u128>());
                    let r = &request;
                    let (tc_url, swf_url, page_url) =
                        (r.tc_url.as_deref(), r.swf_url.as_deref(), r.page_url.as_deref());
                    let connect = ConnectFields::new(client_id, tc_url, swf_url, page_url, r.flash_ver.as_deref());
                    self.access_log = Some((target, connect));
                    self.log_event(StreamingEvent::Connect, None);
                }
            }
            Err(error) => {
                let description = match error {
                    NameError::WrongApplication(app) => {
                        format!("Application {app:?} not found: streaming URLs look like rtmp://host/cfx/st/<stream>.")
                    }
                    NameError::InvalidName => "Invalid application path.".to_owned(),
                };
                self.reject_connect(&request, &description, &distribution.id);
            }
        }
    }

    fn reject_connect(&mut self, request: &ConnectRequest, description: &str, distribution: &str) {
        self.session.reject_connect(description);
        self.closing = true;
        warn!(
            client = %self.peer, protocol = self.protocol.as_str(), distribution, app = %request.app,
            tc_url = request.tc_url.as_deref().unwrap_or("-"), "connect rejected: {description}"
        );
    }

    /// `play`: reset = false appends to the playlist of a stream that is playing (or whose
    /// plays wait for their objects); otherwise the play replaces whatever the stream was
    /// doing. Objects open in the order the plays came.
    fn play(&mut self, stream_id: u32, mut play: PendingPlay) {
        let stream = self.streams.entry(stream_id).or_default();
        play.appending = !play.reset && (stream.is_playing() || !stream.plays.is_empty());
        if !play.appending {
            let previous = stream.player.take();
            stream.plays.clear();
            let superseded = [stream.opening.take(), stream.reading.take()];
            for token in superseded.into_iter().flatten() {
                self.requests.cancel(token);
            }
            if let Some(previous) = previous.filter(|p| !p.is_finished()) {
                self.log_stop(&previous, "replaced by a new play");
            }
        } else if stream.plays.len() >= MAX_PLAYLIST {
            let description = format!("NetStream.Play.Failed: the playlist of stream {stream_id} is full.");
            self.session.play_failed(stream_id, "NetStream.Play.Failed", &description, &play.name);
            return;
        }
        self.streams.get_mut(&stream_id).expect("inserted above").plays.push_back(play);
        self.open_next(stream_id);
    }

    /// Starts opening the stream's first waiting play, unless one is being opened.
    fn open_next(&mut self, stream_id: u32) {
        loop {
            let Some(stream) = self.streams.get_mut(&stream_id) else { return };
            if stream.opening.is_some() {
                return;
            }
            let Some(play) = stream.plays.front() else { return };
            match (resolve(self.folders.as_deref(), &play.name), &self.distribution) {
                (Ok(candidates), Some(distribution)) => {
                    let distribution = Arc::clone(distribution);
                    let purpose = Purpose::Play { stream_id };
                    let token = self.requests.start(purpose, |token| Request::Open { token, distribution, candidates });
                    stream.opening = Some(token);
                    return;
                }
                _ => {
                    let play = stream.plays.pop_front().expect("looked at above");
                    self.play_failed(stream_id, &play.name, OpenError::NotFound);
                }
            }
        }
    }

    fn play_failed(&mut self, stream_id: u32, name: &str, error: OpenError) {
        // The code leads the description: FFmpeg shows users only the description.
        let code = error.status_code();
        let description = match error {
            OpenError::NotFound => format!("{code}: stream {name} not found."),
            _ => format!("{code}: stream {name} cannot be played: {error}."),
        };
        self.session.play_failed(stream_id, code, &description, name);
        warn!(client = %self.peer, protocol = self.protocol.as_str(), distribution = self.distribution_id(), stream = %name, "play failed: {error}");
    }

    /// A waiting play's object is open (or not): start it, or queue it behind the running one.
    fn play_opened(&mut self, stream_id: u32, play: PendingPlay, result: Result<OpenMedia, OpenError>, now: Instant) {
        let media = match result {
            Ok(media) => Media::from(media),
            Err(error) => return self.play_failed(stream_id, &play.name, error),
        };
        let PendingPlay { name, start_ms, duration_ms, reset, appending } = play;
        let key = media.key.clone();
        let stream = self.streams.get_mut(&stream_id).expect("a waiting play has its stream");
        if appending
            && stream.is_playing()
            && let Some(player) = stream.player.as_mut()
        {
            // A player held at its end goes on with this item.
            stream.held_at_end = false;
            if player.enqueue(QueuedPlay { name: name.clone(), media, start_ms, duration_ms }) {
                info!(client = %self.peer, protocol = self.protocol.as_str(), stream = %name, key = %key, start_ms, "play queued (reset=false)");
            } else {
                let description = format!("NetStream.Play.Failed: the playlist of stream {stream_id} is full.");
                self.session.play_failed(stream_id, "NetStream.Play.Failed", &description, &name);
            }
            return;
        }
        let buffer = self.buffer_lengths.get(&stream_id).copied();
        let player = Player::new(stream_id, name, media, start_ms, duration_ms, buffer, now);
        self.session.play_started(stream_id, &player.name, reset);
        info!(
            client = %self.peer, protocol = self.protocol.as_str(),
            distribution = self.distribution.as_ref().map_or("-", |d| d.id.as_str()), stream = %player.name, key = %key, start_ms, keyframe_ms = player.start_ms(), duration_ms, "play"
        );
        let fields = stream_fields(&player);
        stream.player = Some(player);
        self.log_event(StreamingEvent::Play, Some(fields));
    }

    /// `closeStream` or `deleteStream`: stops the stream and forgets what it waited for.
    fn close_stream(&mut self, stream_id: u32) {
        self.buffer_lengths.remove(&stream_id);
        let Some(stream) = self.streams.remove(&stream_id) else { return };
        for token in [stream.opening, stream.reading].into_iter().flatten() {
            self.requests.cancel(token);
        }
        match (&stream.player, stream.plays.front()) {
            (Some(player), _) if !player.is_finished() => {
                self.session.play_stopped(stream_id, &player.name);
                self.log_stop(player, "closed by client");
            }
            // The play the client asked for ends before it started: tell it so.
            (_, Some(play)) => {
                self.session.play_stopped(stream_id, &play.name);
                info!(client = %self.peer, protocol = self.protocol.as_str(), stream = %play.name, bytes_sent = 0, reason = "closed by client while opening", "stop");
                self.log_event(StreamingEvent::Stop, Some(StreamFields::from_stream_name(&play.name, stream_id, "-")));
            }
            _ => {}
        }
    }

    /// Adds due media to the output while it and `queued` (bytes already taken from the
    /// output but not yet on the wire) hold fewer than `high_water` bytes. Returns when it
    /// next has something to do if nothing new arrives (reads in flight come back as results).
    pub fn pump(&mut self, queued: usize, high_water: usize, now: Instant) -> Option<Instant> {
        let mut wake: Option<Instant> = None;
        loop {
            // Borrow the parts separately: players write into the session.
            let RtmpConnection { streams, session, metrics, protocol, media_bytes_sent, peer, requests, .. } = self;
            let mut ended: Option<u32> = None;
            'streams: for (&stream_id, stream) in streams.iter_mut() {
                let Some(player) = stream.player.as_mut() else { continue };
                loop {
                    if session.output().len() + queued >= high_water {
                        // The transport wakes us when the client has taken some.
                        return wake;
                    }
                    match player.want(now) {
                        Want::Nothing => break,
                        Want::WaitUntil(at) => {
                            wake = Some(wake.map_or(at, |w| w.min(at)));
                            break;
                        }
                        // Its read is in flight, or its next item opens: a result wakes the stream.
                        Want::Fetch if stream.reading.is_some() || stream.held_at_end => break,
                        Want::Fetch => {
                            let Some(fetched) = player.read_now() else {
                                let read = player.tag_read();
                                let purpose = Purpose::ReadTag { stream_id };
                                stream.reading =
                                    Some(requests.start(purpose, |token| Request::ReadTag { token, read }));
                                break;
                            };
                            if after_read(session, *peer, *protocol, player, fetched) {
                                if stream.hold_at_end() {
                                    break;
                                }
                                ended = Some(stream_id);
                                break 'streams;
                            }
                        }
                        Want::Send => {
                            // One buffer per burst, sized once: growing it tag by tag would
                            // reallocate (and copy) it. A tag that does not fit in what is left
                            // waits for the next burst, which starts once this one is written.
                            let output = session.output();
                            if output.is_empty() {
                                output.reserve(high_water.saturating_sub(queued));
                            } else if output.len() + wire_len_at_most(player.pending_len()) > output.capacity() {
                                return wake;
                            }
                            let before = player.bytes_sent;
                            let more = player.send(session);
                            let sent = player.bytes_sent - before;
                            *media_bytes_sent += sent;
                            metrics.add_bytes_sent(sent);
                            if !more {
                                ended = Some(stream_id);
                                break 'streams;
                            }
                        }
                    }
                }
            }
            match ended {
                // Completing needs the whole connection; then look again for the other players.
                Some(stream_id) => self.complete(stream_id),
                None => return wake,
            }
        }
    }

    fn complete(&mut self, stream_id: u32) {
        let Some(player) = self.player_mut(stream_id) else { return };
        player.finish();
        let duration = player.media.index.info().duration_ms as f64 / 1000.0;
        let (name, timestamp, bytes) = (player.name.clone(), player.last_timestamp(), player.bytes_sent);
        self.session.play_complete(stream_id, &name, timestamp, duration, bytes);
        let player = self.streams[&stream_id].player.as_ref().expect("completed above");
        self.log_stop(player, "end of stream");
    }

    fn log_stop(&self, player: &Player, reason: &str) {
        info!(
            client = %self.peer, protocol = self.protocol.as_str(), distribution = self.distribution_id(),
            stream = %player.name, bytes_sent = player.bytes_sent, last_ms = player.last_timestamp(), reason, "stop"
        );
        self.log_event(StreamingEvent::Stop, Some(stream_fields(player)));
    }

    /// Logs the end of the connection's players that were still running, and of the
    /// connection.
    pub fn close(&mut self, reason: &str) {
        for player in self.streams.values().filter_map(|s| s.player.as_ref()) {
            if !player.is_finished() {
                self.log_stop(player, reason);
            }
        }
        self.streams.clear();
        self.log_event(StreamingEvent::Disconnect, None);
        // Logged once, should close be called again.
        self.access_log = None;
    }
}

impl Drop for RtmpConnection {
    fn drop(&mut self) {
        self.metrics.ended();
    }
}

/// Acts on what reading a player's next tag found; true when the play ended (the caller
/// completes it).
fn after_read(
    session: &mut ServerSession,
    peer: SocketAddr,
    protocol: Protocol,
    player: &mut Player,
    fetched: Result<Fetched, MediaError>,
) -> bool {
    match fetched {
        Ok(Fetched::Tag) => false,
        Ok(Fetched::Switched { from }) => {
            session.play_switched(player.stream_id, player.last_timestamp(), &player.name);
            info!(
                client = %peer, protocol = protocol.as_str(), stream = %player.name,
                previous = %from, key = %player.media.key, "play (next in playlist)"
            );
            false
        }
        Ok(Fetched::End) => true,
        Err(error) => {
            let description = format!("Stream {} failed: {error}.", player.name);
            warn!(client = %peer, protocol = protocol.as_str(), stream = %player.name, "playback failed: {error}");
            session.play_failed(player.stream_id, "NetStream.Play.Failed", &description, &player.name);
            player.finish();
            false
        }
    }
}

/// The access log's fields of the stream `player` plays; the type it plays as is its key's
/// extension when the name says none.
fn stream_fields(player: &Player) -> StreamFields {
    let key_ext = player.media.key.rsplit_once('.').map_or("-", |(_, ext)| ext);
    StreamFields::from_stream_name(&player.name, player.stream_id, key_ext)
}

/// The object keys a stream name may be, given the application's folders.
fn resolve(folders: Option<&[String]>, name: &str) -> Result<Vec<(String, Format)>, NameError> {
    Ok(names::resolve(folders.unwrap_or_default(), name)?.candidates)
}

/// A millisecond position from a command argument: negative and NaN → 0.
fn clamp_ms(ms: f64) -> u32 {
    if ms.is_nan() || ms <= 0.0 { 0 } else { ms.min(u32::MAX as f64) as u32 }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sf_cache::{CacheConfig, EdgeCache, LocalOrigin, Origin};

    use super::*;
    use crate::EdgeConfig;
    use crate::player::tests::clip;

    /// An edge over a directory holding `clip.flv` (10 s), with no memory tier, so that no
    /// tag is at hand and every read is a request.
    fn edge(label: &str) -> (Arc<Edge>, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("sf-edge-connection-{label}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("clip.flv"), clip(10_000)).unwrap();
        let config = EdgeConfig {
            rtmp_listen: vec![],
            http_listen: vec![],
            https_listen: vec![],
            tls: None,
            https_public_port: 443,
            admin_listen: vec![],
            max_connections: 1,
            timeouts: Default::default(),
            tunnels: Default::default(),
            session: Default::default(),
            key_pairs: Default::default(),
            hls_segment_seconds: sf_hls::DEFAULT_SEGMENT_SECONDS,
        };
        let cache = CacheConfig { memory_bytes: 0, read_ahead_blocks: 0, ..CacheConfig::default() };
        (Edge::new(config, EdgeCache::new(cache).origin_cache(Origin::Local(LocalOrigin::new(&dir)))), dir)
    }

    fn connected(edge: &Arc<Edge>, now: Instant) -> RtmpConnection {
        let mut connection = RtmpConnection::new(Arc::clone(edge), "127.0.0.1:1935".parse().unwrap(), Protocol::Rtmp);
        connection.handle_event(Event::Connect(ConnectRequest { app: "cfx/st".into(), ..Default::default() }), now);
        connection
    }

    fn play(stream_id: u32) -> Event {
        Event::Play { stream_id, name: "clip".into(), start: 0.0, duration: -1.0, reset: true }
    }

    /// Runs an open request as the driver would.
    async fn open(request: Request) -> (Token, Outcome) {
        match request {
            Request::Open { token, distribution, candidates } => {
                (token, Outcome::Opened(distribution.library.open_first(&candidates).await))
            }
            other => panic!("expected an open, got {other:?}"),
        }
    }

    fn read_tag(request: Option<Request>) -> (Token, TagRead) {
        match request {
            Some(Request::ReadTag { token, read }) => (token, read),
            other => panic!("expected a tag read, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_stream_waiting_for_its_object_holds_up_no_other_stream() {
        let (edge, dir) = edge("open");
        let now = Instant::now();
        let mut c = connected(&edge, now);
        c.handle_event(play(1), now);
        let first = c.poll_request().expect("an open for stream 1");
        c.handle_event(play(2), now);
        let (token, opened) = open(c.poll_request().expect("an open for stream 2")).await;
        c.handle_result(token, opened, now);
        assert!(c.streams[&2].is_playing() && c.streams[&1].opening.is_some());
        assert!(c.is_playing());

        // Stream 2 plays (its reads answered) and pauses while stream 1 still waits.
        for _ in 0..5 {
            c.pump(0, usize::MAX, now);
            let (token, read) = read_tag(c.poll_request());
            c.handle_result(token, Outcome::TagRead(read.run().await), now);
        }
        c.pump(0, usize::MAX, now);
        assert!(c.streams[&2].player.as_ref().unwrap().bytes_sent > 0, "stream 2 sent media");
        c.handle_event(Event::Pause { stream_id: 2, pause: true, position_ms: 0.0 }, now);
        assert!(c.player_mut(2).unwrap().want(now) == Want::Nothing, "stream 2 paused");

        // Closing stream 1 forgets its open: the late result is dropped.
        c.handle_event(Event::CloseStream { stream_id: 1 }, now);
        let (token, opened) = open(first).await;
        assert!(matches!(c.poll_request(), Some(Request::ReadTag { .. })), "stream 2's read in flight");
        assert!(matches!(c.poll_request(), Some(Request::Cancel(t)) if t == token), "the open is cancelled");
        c.handle_result(token, opened, now);
        assert!(!c.streams.contains_key(&1), "a late open does not revive a closed stream");
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_tag_read_from_before_a_seek_is_dropped() {
        let (edge, dir) = edge("seek");
        let now = Instant::now();
        let mut c = connected(&edge, now);
        c.handle_event(play(1), now);
        let (token, opened) = open(c.poll_request().unwrap()).await;
        c.handle_result(token, opened, now);
        c.pump(0, usize::MAX, now);
        let (stale, stale_read) = read_tag(c.poll_request());

        let later = now + Duration::from_secs(1);
        c.handle_event(Event::Seek { stream_id: 1, position_ms: 5500.0 }, later);
        assert!(matches!(c.poll_request(), Some(Request::Cancel(t)) if t == stale));
        c.pump(0, usize::MAX, later);
        let (current, current_read) = read_tag(c.poll_request());
        assert!(c.poll_request().is_none(), "one read in flight per stream");

        // The read from before the seek (the tag at 0 ms) comes back first: dropped.
        c.handle_result(stale, Outcome::TagRead(stale_read.run().await), later);
        assert_eq!(c.streams[&1].reading, Some(current));
        assert_eq!(c.player_mut(1).unwrap().want(later), Want::Fetch, "the stale tag was not taken");
        c.handle_result(current, Outcome::TagRead(current_read.run().await), later);
        c.pump(0, usize::MAX, later);
        let player = c.streams[&1].player.as_ref().unwrap();
        assert_eq!(player.last_timestamp(), 5000, "the first tag sent after the seek is its key frame");
        let _ = std::fs::remove_dir_all(dir);
    }
}
