//! One RTMP connection after the handshake, independent of how its bytes travel (a TCP
//! socket, or later an HTTP tunnel): session events in, players pumped into the output.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use sf_rtmp::session::{ConnectRequest, Event, ServerSession, SessionError};
use tracing::{info, warn};

use crate::Edge;
use crate::library::OpenError;
use crate::names::{self, NameError};
use crate::player::{Fetched, Player, QueuedPlay, Want};

/// Stop adding media to the output while this many bytes wait to be sent: the socket's
/// pace sets ours, and a slow client costs at most this much memory (plus one message).
pub const OUTPUT_HIGH_WATER: usize = 32 * 1024;

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

/// The application-level state of one connection.
pub struct RtmpConnection {
    edge: Arc<Edge>,
    pub peer: SocketAddr,
    pub protocol: Protocol,
    session: ServerSession,
    /// Folders from the application (`cfx/st/<folders>`), once connected.
    folders: Option<Vec<String>>,
    players: HashMap<u32, Player>,
    /// SetBufferLength may arrive before play: remember it per stream.
    buffer_lengths: HashMap<u32, u32>,
    /// The connection should close once the output is flushed (connect rejected).
    closing: bool,
    /// Media and data bytes sent over the connection's life.
    pub media_bytes_sent: u64,
}

impl RtmpConnection {
    pub fn new(edge: Arc<Edge>, peer: SocketAddr, protocol: Protocol) -> Self {
        let client_id = edge.next_client_id();
        let session = ServerSession::new(edge.config.session.clone(), client_id);
        edge.stats.viewer_started(protocol);
        RtmpConnection {
            edge,
            peer,
            protocol,
            session,
            folders: None,
            players: HashMap::new(),
            buffer_lengths: HashMap::new(),
            closing: false,
            media_bytes_sent: 0,
        }
    }

    /// Bytes to send to the client.
    pub fn output(&mut self) -> &mut BytesMut {
        self.session.output()
    }

    pub fn is_closing(&self) -> bool {
        self.closing
    }

    /// True while some stream is playing (the connection is not idle).
    pub fn is_playing(&self) -> bool {
        self.players.values().any(|p| !p.is_finished())
    }

    /// Handles bytes from the client and every event they cause.
    pub async fn handle_input(&mut self, data: &[u8]) -> Result<(), SessionError> {
        self.session.handle_input(data)?;
        while let Some(event) = self.session.poll_event() {
            self.handle_event(event).await;
        }
        Ok(())
    }

    async fn handle_event(&mut self, event: Event) {
        let now = Instant::now();
        match event {
            Event::Connect(request) => self.connect(request),
            Event::Play { stream_id, name, start, duration, reset } => {
                self.play(stream_id, name, start, duration, reset, now).await;
            }
            Event::Seek { stream_id, position_ms } => {
                let position = clamp_ms(position_ms);
                match self.players.get_mut(&stream_id) {
                    Some(player) => {
                        player.seek(position, now);
                        let landed = player.start_ms();
                        self.session.seek_started(stream_id, &player.name, landed);
                        info!(client = %self.peer, protocol = self.protocol.as_str(), stream = %player.name, target_ms = position, keyframe_ms = landed, "seek");
                    }
                    None => self.session.seek_failed(stream_id, "Nothing is playing on this stream."),
                }
            }
            Event::Pause { stream_id, pause, position_ms } => {
                if let Some(player) = self.players.get_mut(&stream_id) {
                    if pause {
                        player.pause();
                    } else {
                        player.unpause(now);
                    }
                    self.session.pause_notify(stream_id, &player.name, pause);
                    info!(client = %self.peer, protocol = self.protocol.as_str(), stream = %player.name, position_ms, "{}", if pause { "pause" } else { "unpause" });
                }
            }
            Event::ReceiveAudio { stream_id, enabled } => {
                if let Some(player) = self.players.get_mut(&stream_id) {
                    player.set_receive_audio(enabled);
                }
            }
            Event::ReceiveVideo { stream_id, enabled } => {
                if let Some(player) = self.players.get_mut(&stream_id) {
                    player.set_receive_video(enabled);
                }
            }
            Event::CloseStream { stream_id } => {
                if let Some(player) = self.players.remove(&stream_id)
                    && !player.is_finished()
                {
                    self.session.play_stopped(stream_id, &player.name);
                    self.log_stop(&player, "closed by client");
                }
                self.buffer_lengths.remove(&stream_id);
            }
            Event::GetStreamLength { transaction_id, name } => {
                let seconds = match self.resolve(&name) {
                    Ok(candidates) => match self.edge.library.open_first(&candidates).await {
                        Ok(media) => media.index.info().duration_ms as f64 / 1000.0,
                        Err(_) => 0.0,
                    },
                    Err(_) => 0.0,
                };
                self.session.stream_length(transaction_id, seconds);
            }
            Event::BufferLength { stream_id, millis } => {
                // Bounded: at most one entry per created stream.
                if self.session.has_stream(stream_id) {
                    self.buffer_lengths.insert(stream_id, millis);
                }
                if let Some(player) = self.players.get_mut(&stream_id) {
                    player.set_buffer_length(millis);
                }
            }
        }
    }

    fn connect(&mut self, request: ConnectRequest) {
        match names::parse_application(&request.app) {
            Ok(folders) => {
                self.folders = Some(folders);
                self.session.accept_connect();
                info!(
                    client = %self.peer, protocol = self.protocol.as_str(), app = %request.app,
                    tc_url = request.tc_url.as_deref().unwrap_or("-"),
                    flash_ver = request.flash_ver.as_deref().unwrap_or("-"), "connect"
                );
            }
            Err(error) => {
                let description = match error {
                    NameError::WrongApplication(app) => {
                        format!("Application {app:?} not found: streaming URLs look like rtmp://host/cfx/st/<stream>.")
                    }
                    NameError::InvalidName => "Invalid application path.".to_owned(),
                };
                self.session.reject_connect(&description);
                self.closing = true;
                warn!(client = %self.peer, protocol = self.protocol.as_str(), app = %request.app, "connect rejected: {description}");
            }
        }
    }

    fn resolve(&self, name: &str) -> Result<Vec<(String, sf_media::Format)>, NameError> {
        let folders = self.folders.as_deref().unwrap_or_default();
        Ok(names::resolve(folders, name)?.candidates)
    }

    async fn play(&mut self, stream_id: u32, name: String, start: f64, duration: f64, reset: bool, now: Instant) {
        // reset = false appends to the playlist of a stream that is playing (FMS); otherwise
        // a play replaces whatever the stream was doing.
        let appending = !reset && self.players.get(&stream_id).is_some_and(|p| !p.is_finished());
        if !appending
            && let Some(previous) = self.players.remove(&stream_id)
            && !previous.is_finished()
        {
            self.log_stop(&previous, "replaced by a new play");
        }
        let media = match self.resolve(&name) {
            Ok(candidates) => self.edge.library.open_first(&candidates).await,
            Err(_) => Err(OpenError::NotFound),
        };
        let media = match media {
            Ok(media) => media,
            Err(error) => {
                // The code leads the description: FFmpeg shows users only the description.
                let code = error.status_code();
                let description = match error {
                    OpenError::NotFound => format!("{code}: stream {name} not found."),
                    _ => format!("{code}: stream {name} cannot be played: {error}."),
                };
                self.session.play_failed(stream_id, code, &description, &name);
                warn!(client = %self.peer, protocol = self.protocol.as_str(), stream = %name, "play failed: {error}");
                return;
            }
        };
        // Negative start means "live, else recorded from the beginning" for VOD.
        let start_ms = clamp_ms(start);
        let key = media.key.clone();
        if appending {
            let player = self.players.get_mut(&stream_id).expect("checked above");
            let queued = player.enqueue(QueuedPlay { name: name.clone(), media, start_ms, duration_ms: duration });
            if queued {
                info!(client = %self.peer, protocol = self.protocol.as_str(), stream = %name, key = %key, start_ms, "play queued (reset=false)");
            } else {
                let description = format!("NetStream.Play.Failed: the playlist of stream {stream_id} is full.");
                self.session.play_failed(stream_id, "NetStream.Play.Failed", &description, &name);
            }
            return;
        }
        let buffer = self.buffer_lengths.get(&stream_id).copied();
        let player = Player::new(stream_id, name, media, start_ms, duration, buffer, now);
        self.session.play_started(stream_id, &player.name, reset);
        info!(
            client = %self.peer, protocol = self.protocol.as_str(), stream = %player.name, key = %key,
            start_ms, keyframe_ms = player.start_ms(), duration_ms = duration, "play"
        );
        self.players.insert(stream_id, player);
    }

    /// Adds due media to the output while it and `queued` (bytes already taken from the
    /// output but not yet on the wire) hold fewer than `high_water` bytes. Returns when it
    /// next has something to do if nothing new arrives.
    pub async fn pump(&mut self, queued: usize, high_water: usize) -> Option<Instant> {
        let mut wake: Option<Instant> = None;
        // Borrow the parts separately: players write into the session.
        let RtmpConnection { players, session, edge, protocol, media_bytes_sent, peer, .. } = self;
        let mut ended: Option<u32> = None;
        'players: for (&stream_id, player) in players.iter_mut() {
            loop {
                if session.output().len() + queued >= high_water {
                    // The writer wakes us when the socket drains.
                    return wake;
                }
                match player.want(Instant::now()) {
                    Want::Nothing => break,
                    Want::WaitUntil(at) => {
                        wake = Some(wake.map_or(at, |w| w.min(at)));
                        break;
                    }
                    Want::Fetch => match player.fetch().await {
                        Ok(Fetched::Tag) => {}
                        Ok(Fetched::Switched { from }) => {
                            session.play_switched(stream_id, player.last_timestamp(), &player.name);
                            info!(
                                client = %peer, protocol = protocol.as_str(), stream = %player.name,
                                previous = %from, key = %player.media.key, "play (next in playlist)"
                            );
                        }
                        Ok(Fetched::End) => {
                            ended = Some(stream_id);
                            break 'players;
                        }
                        Err(error) => {
                            let description = format!("Stream {} failed: {error}.", player.name);
                            warn!(client = %peer, protocol = protocol.as_str(), stream = %player.name, "playback failed: {error}");
                            session.play_failed(stream_id, "NetStream.Play.Failed", &description, &player.name);
                            player.finish();
                            break;
                        }
                    },
                    Want::Send => {
                        let before = player.bytes_sent;
                        let more = player.send(session);
                        let sent = player.bytes_sent - before;
                        *media_bytes_sent += sent;
                        edge.stats.add_bytes_sent(*protocol, sent);
                        if !more {
                            ended = Some(stream_id);
                            break 'players;
                        }
                    }
                }
            }
        }
        match ended {
            // Completing needs the whole connection; then look again for the other players.
            Some(stream_id) => {
                self.complete(stream_id);
                Box::pin(self.pump(queued, high_water)).await
            }
            None => wake,
        }
    }

    fn complete(&mut self, stream_id: u32) {
        let Some(player) = self.players.get_mut(&stream_id) else { return };
        player.finish();
        let duration = player.media.index.info().duration_ms as f64 / 1000.0;
        let (name, timestamp, bytes) = (player.name.clone(), player.last_timestamp(), player.bytes_sent);
        self.session.play_complete(stream_id, &name, timestamp, duration, bytes);
        let player = &self.players[&stream_id];
        self.log_stop(player, "end of stream");
    }

    fn log_stop(&self, player: &Player, reason: &str) {
        info!(
            client = %self.peer, protocol = self.protocol.as_str(), stream = %player.name,
            bytes_sent = player.bytes_sent, last_ms = player.last_timestamp(), reason, "stop"
        );
    }

    /// Logs the end of the connection's players that were still running.
    pub fn close(&mut self, reason: &str) {
        for player in self.players.values() {
            if !player.is_finished() {
                self.log_stop(player, reason);
            }
        }
        self.players.clear();
    }
}

impl Drop for RtmpConnection {
    fn drop(&mut self) {
        self.edge.stats.viewer_ended(self.protocol);
    }
}

/// A millisecond position from a command argument: negative and NaN → 0.
fn clamp_ms(ms: f64) -> u32 {
    if ms.is_nan() || ms <= 0.0 { 0 } else { ms.min(u32::MAX as f64) as u32 }
}
