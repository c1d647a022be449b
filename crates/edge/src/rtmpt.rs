//! RTMPT: RTMP tunnelled in HTTP POSTs, as librtmp (`HTTP_Post`, `HTTP_read` in rtmp.c) and
//! FFmpeg (libavformat/rtmphttp.c) speak it. RTMPTE is RTMPE inside the tunnel.
//!
//! `POST /open/1` creates a session and answers its id; `/send/<id>/<seq>` carries client
//! bytes and `/idle/<id>/<seq>` polls; both answer one polling-interval byte followed by
//! whatever the server has for the client; `/close/<id>/<seq>` ends the session. A session
//! is found by its id, not by its TCP connection, so it outlives connections.
//!
//! Each session is a task running the driver loop (`driver.rs`) over its [`RtmpEndpoint`],
//! as a socket connection does; its transport is the stream of requests ("exchanges": the
//! client's bytes and a channel for the answer) that the HTTP side hands it over a bounded
//! channel. Its "write" is answering the exchange that waits, with up to
//! [`TUNNEL_HIGH_WATER`] bytes of wire; an exchange with nothing to answer waits up to
//! [`LONG_POLL`] for media due by then. Players add media only while an exchange waits, so
//! between polls a session holds no more than what its last answer left, and a client that
//! stops polling costs nothing but its expiry. Sequence numbers are checked by the session:
//! an old or repeated one is a replay and gets a 404 with no effect.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tracing::info;

use crate::Edge;
use crate::driver::{self, Transport};
use crate::endpoint::RtmpEndpoint;

/// Most media bytes queued for one tunnel (and so the most one response carries).
const TUNNEL_HIGH_WATER: usize = 256 * 1024;
/// A poll that would come back empty while media is due soon waits up to this long for it:
/// fewer empty round trips (FFmpeg polls again 50 ms after an empty reply, so about half its
/// polls would be empty otherwise) at no cost to the player, whose buffer is seconds ahead.
const LONG_POLL: Duration = Duration::from_millis(200);
/// Requests of one session waiting to be taken by it (clients send one at a time, librtmp
/// pipelines a few).
const EXCHANGE_QUEUE: usize = 8;
/// How long shutdown waits for sessions to close.
const CLOSE_ALL_WAIT: Duration = Duration::from_secs(5);

/// Limits of the tunnel registry.
#[derive(Debug, Clone, Copy)]
pub struct TunnelLimits {
    /// Most open sessions in all.
    pub max_sessions: usize,
    /// Most open sessions per client address (so one client cannot take them all).
    pub max_sessions_per_client: usize,
    /// A session with no request for this long is closed.
    pub expiry: Duration,
}

impl Default for TunnelLimits {
    fn default() -> Self {
        TunnelLimits { max_sessions: 10_000, max_sessions_per_client: 64, expiry: Duration::from_secs(30) }
    }
}

/// What the HTTP layer should answer.
#[derive(Debug)]
pub enum Reply {
    /// 200 (`application/x-fcs`) with `head` then `data` as the body: a polling byte and the
    /// tunnel's queued bytes, kept apart so that neither the tunnel nor hyper copies the data
    /// (hyper writes the two with the headers in one vectored write).
    Data { head: Bytes, data: Bytes },
    /// 404: unknown session or command.
    NotFound,
    /// 503: too many sessions.
    Busy,
}

/// One request for a session, and where its answer goes.
struct Exchange {
    seq: u64,
    command: Command,
    reply: oneshot::Sender<Reply>,
}

enum Command {
    /// `/send` with the client's RTMP bytes.
    Send(Bytes),
    /// `/idle`: a poll.
    Idle,
    /// `/close`.
    Close,
}

/// A registry entry: how to reach the session's task.
struct Entry {
    client_ip: IpAddr,
    exchanges: mpsc::Sender<Exchange>,
}

/// Every open tunnel.
pub struct Tunnels {
    sessions: Mutex<HashMap<String, Entry>>,
    limits: TunnelLimits,
    /// The session tasks, for shutdown to wait on.
    tasks: Mutex<JoinSet<()>>,
    /// Turns true at shutdown: every session closes.
    closing: watch::Sender<bool>,
}

impl std::fmt::Debug for Tunnels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.sessions.lock().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("Tunnels").field("open", &open).field("limits", &self.limits).finish()
    }
}

impl Tunnels {
    pub fn new(limits: TunnelLimits) -> Self {
        Tunnels {
            sessions: Mutex::new(HashMap::new()),
            limits,
            tasks: Mutex::new(JoinSet::new()),
            closing: watch::Sender::new(false),
        }
    }

    /// `POST /open/1`: registers a session and starts its task. `host` is the request's
    /// `Host` header.
    pub fn open(&self, edge: &Arc<Edge>, client: SocketAddr, host: Option<String>, over_tls: bool) -> Reply {
        let mut sessions = self.sessions.lock().expect("tunnel lock");
        let from_client = sessions.values().filter(|e| e.client_ip == client.ip()).count();
        if sessions.len() >= self.limits.max_sessions
            || from_client >= self.limits.max_sessions_per_client
            || *self.closing.borrow()
        {
            edge.stats.rtmpt_refused.fetch_add(1, Ordering::Relaxed);
            info!(client = %client, open = sessions.len(), from_client, "RTMPT open refused: too many sessions");
            return Reply::Busy;
        }
        let id = new_session_id();
        let (exchanges, receiver) = mpsc::channel(EXCHANGE_QUEUE);
        sessions.insert(id.clone(), Entry { client_ip: client.ip(), exchanges });
        edge.stats.rtmpt_sessions.store(sessions.len() as u64, Ordering::Relaxed);
        drop(sessions);
        let mut tasks = self.tasks.lock().expect("tunnel tasks lock");
        // Forget the sessions that ended since.
        while tasks.try_join_next().is_some() {}
        tasks.spawn(run_session(
            Arc::clone(edge),
            id.clone(),
            client,
            host,
            over_tls,
            receiver,
            self.closing.subscribe(),
        ));
        let mut head = id.into_bytes();
        head.push(b'\n');
        Reply::Data { head: Bytes::from(head), data: Bytes::new() }
    }

    fn remove(&self, edge: &Edge, id: &str) {
        let mut sessions = self.sessions.lock().expect("tunnel lock");
        sessions.remove(id);
        edge.stats.rtmpt_sessions.store(sessions.len() as u64, Ordering::Relaxed);
    }

    /// `POST /send/<id>/<seq>` (with RTMP bytes) or `/idle/<id>/<seq>` (`data` = None).
    pub async fn exchange(&self, id: &str, seq: u64, data: Option<Bytes>) -> Reply {
        self.request(id, seq, data.map_or(Command::Idle, Command::Send)).await
    }

    /// `POST /close/<id>/<seq>`.
    pub async fn close(&self, id: &str, seq: u64) -> Reply {
        self.request(id, seq, Command::Close).await
    }

    /// Hands a request to its session and waits for the answer.
    async fn request(&self, id: &str, seq: u64, command: Command) -> Reply {
        let sender = match self.sessions.lock().expect("tunnel lock").get(id) {
            Some(entry) => entry.exchanges.clone(),
            None => return Reply::NotFound,
        };
        let (reply, answer) = oneshot::channel();
        if sender.send(Exchange { seq, command, reply }).await.is_err() {
            return Reply::NotFound;
        }
        // A session that ends without answering is gone.
        answer.await.unwrap_or(Reply::NotFound)
    }

    /// Closes every session (shutdown) and waits a little for them to finish.
    pub async fn close_all(&self) {
        self.closing.send_replace(true);
        let mut tasks = std::mem::take(&mut *self.tasks.lock().expect("tunnel tasks lock"));
        let _ = tokio::time::timeout(CLOSE_ALL_WAIT, async { while tasks.join_next().await.is_some() {} }).await;
    }
}

/// One tunnel session, from `/open` until it closes.
async fn run_session(
    edge: Arc<Edge>,
    id: String,
    client: SocketAddr,
    host: Option<String>,
    over_tls: bool,
    exchanges: mpsc::Receiver<Exchange>,
    closing: watch::Receiver<bool>,
) {
    let opened = Instant::now();
    let mut endpoint = RtmpEndpoint::new(Arc::clone(&edge), client, true, opened);
    endpoint.set_tunnel_host(host);
    endpoint.set_over_tls(over_tls);
    let mut tunnel = Tunnel {
        exchanges,
        waiting: None,
        last_seq: None,
        last_request: opened,
        expiry: edge.config.tunnels.expiry,
        empty_replies: 0,
    };
    let reason = driver::drive(&edge, &mut endpoint, &mut tunnel, closing, opened).await;
    edge.tunnels.remove(&edge, &id);
    // Whatever is queued (an error status, say) still goes to the request that waits.
    if let Some((waiting, _)) = tunnel.waiting.take() {
        tunnel.answer(waiting, &mut endpoint);
    }
    endpoint.close(&reason);
    info!(
        client = %client, protocol = endpoint.protocol().as_str(), bytes_sent = endpoint.media_bytes_sent(),
        seconds = opened.elapsed().as_secs_f32(), reason = %reason, "disconnect"
    );
}

/// A tunnel session as a transport: requests come in, answers go out.
struct Tunnel {
    exchanges: mpsc::Receiver<Exchange>,
    /// The request waiting for its answer, and until when it may wait.
    waiting: Option<(oneshot::Sender<Reply>, Instant)>,
    /// Sequence number of the last request. Clients count up by one per request (FFmpeg,
    /// librtmp and Flash alike); an old or repeated number is a replay and gets a 404.
    last_seq: Option<u64>,
    last_request: Instant,
    expiry: Duration,
    /// Consecutive responses without data, to lengthen the polling interval.
    empty_replies: u32,
}

impl Tunnel {
    /// Takes `seq` if it is newer than the last one; a replay changes nothing.
    fn accept_seq(&mut self, seq: u64) -> bool {
        if self.last_seq.is_some_and(|last| seq <= last) {
            return false;
        }
        self.last_seq = Some(seq);
        true
    }

    /// Answers with one polling byte, then everything queued up to the high-water mark; the
    /// queued bytes leave the tunnel without a copy.
    fn answer(&mut self, reply: oneshot::Sender<Reply>, endpoint: &mut RtmpEndpoint) {
        let data = endpoint.take_wire(TUNNEL_HIGH_WATER);
        let polling = if data.is_empty() {
            self.empty_replies = self.empty_replies.saturating_add(1);
            polling_interval(self.empty_replies)
        } else {
            self.empty_replies = 0;
            1
        };
        // A client that went away drops its answer with it.
        let _ = reply.send(Reply::Data { head: Bytes::copy_from_slice(&[polling]), data });
    }
}

impl Transport for Tunnel {
    /// `None`: the registry forgot the session.
    type Event = Option<Exchange>;

    fn high_water(&self) -> usize {
        if self.waiting.is_some() { TUNNEL_HIGH_WATER } else { 0 }
    }

    async fn wait(&mut self, _wire: &[u8]) -> Option<Exchange> {
        self.exchanges.recv().await
    }

    fn handle(&mut self, event: Option<Exchange>, endpoint: &mut RtmpEndpoint, now: Instant) -> Result<(), String> {
        let Some(Exchange { seq, command, reply }) = event else { return Err("tunnel closed".to_owned()) };
        if !self.accept_seq(seq) {
            let _ = reply.send(Reply::NotFound);
            return Ok(());
        }
        self.last_request = now;
        // A newer request while one waits (two connections polling): the older one answers now.
        if let Some((older, _)) = self.waiting.take() {
            self.answer(older, endpoint);
        }
        match command {
            Command::Close => {
                let _ = reply.send(Reply::Data { head: Bytes::from_static(&[0]), data: Bytes::new() });
                return Err("client closed the tunnel".to_owned());
            }
            Command::Send(data) if !data.is_empty() => {
                if let Err(reason) = endpoint.input(&data, now) {
                    // Answer what is queued (e.g. an error status), then end the session.
                    self.answer(reply, endpoint);
                    return Err(reason);
                }
            }
            // The 1-byte body of /idle is not RTMP data.
            Command::Send(_) | Command::Idle => {}
        }
        self.waiting = Some((reply, now + LONG_POLL));
        Ok(())
    }

    fn flush(&mut self, endpoint: &mut RtmpEndpoint, wake: Option<Instant>, now: Instant) {
        let Some((_, until)) = &self.waiting else { return };
        let until = *until;
        // Wait for media due within the long poll, or for the origin; otherwise answer.
        let media_soon = wake.is_some_and(|at| at <= until) || endpoint.is_waiting_on_origin();
        if endpoint.wire_len() > 0 || now >= until || !media_soon {
            let (reply, _) = self.waiting.take().expect("checked above");
            self.answer(reply, endpoint);
        }
    }

    fn deadline(&self, _endpoint: &RtmpEndpoint) -> Option<Instant> {
        let expiry = self.last_request + self.expiry;
        Some(self.waiting.as_ref().map_or(expiry, |(_, until)| expiry.min(*until)))
    }

    fn check(&mut self, _endpoint: &RtmpEndpoint, now: Instant) -> Result<(), String> {
        if self.waiting.is_none() && now >= self.last_request + self.expiry {
            return Err(format!("no request for {:?}", self.expiry));
        }
        Ok(())
    }
}

/// The polling byte after `empty` replies in a row without data: start fast and back off
/// towards half a second, as Flash Media Server does.
fn polling_interval(empty: u32) -> u8 {
    const STEPS: [u8; 6] = [0x01, 0x03, 0x05, 0x09, 0x11, 0x21];
    STEPS[((empty / 10) as usize).min(STEPS.len() - 1)]
}

/// 128 random bits from the thread's CSPRNG, in hex: unguessable, and short enough for
/// FFmpeg's 64-byte id buffer.
fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_128_bit_hex_and_distinct() {
        let a = new_session_id();
        let b = new_session_id();
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn polling_backs_off() {
        assert_eq!(polling_interval(1), 1);
        assert_eq!(polling_interval(15), 3);
        assert_eq!(polling_interval(1000), 0x21);
    }
}
