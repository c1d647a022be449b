//! RTMPT: RTMP tunnelled in HTTP POSTs (reference §5). RTMPTE is RTMPE inside the tunnel.
//!
//! `POST /open/1` creates a session and answers its id; `/send/<id>/<seq>` carries client
//! bytes and `/idle/<id>/<seq>` polls; both answer one polling-interval byte followed by
//! whatever the server has for the client; `/close/<id>/<seq>` ends the session. A session
//! is found by its id, not by its TCP connection, so it outlives connections.
//!
//! Between polls nothing runs: each request feeds the client's bytes in, then pumps what the
//! player's pacing says is due, up to a bound, so a tunnel costs no more than the data
//! waiting in it, and a client that stops polling costs nothing but its expiry.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::Mutex as AsyncMutex;
use tracing::info;

use crate::Edge;
use crate::endpoint::RtmpEndpoint;

/// Most media bytes queued for one tunnel (and so the most one response carries).
const TUNNEL_HIGH_WATER: usize = 256 * 1024;
/// Sessions that have not finished their handshake within this long are dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A poll that would come back empty while media is due soon waits up to this long for it:
/// fewer empty round trips (FFmpeg polls again 50 ms after an empty reply, so about half its
/// polls would be empty otherwise) at no cost to the player, whose buffer is seconds ahead.
const LONG_POLL: Duration = Duration::from_millis(200);

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

struct Tunnel {
    endpoint: RtmpEndpoint,
    client: SocketAddr,
    opened: Instant,
    last_request: Instant,
    last_rtmp_input: Instant,
    /// Consecutive responses without data, to lengthen the polling interval.
    empty_replies: u32,
    /// Sequence number of the last request. Clients count up by one per request (FFmpeg,
    /// librtmp and Flash alike); an old or repeated number is a replay and gets a 404.
    last_seq: Option<u64>,
}

type TunnelRef = Arc<AsyncMutex<Tunnel>>;

/// A registry entry: the client address lives outside the session lock so counting
/// sessions per client never waits on a busy session.
struct Entry {
    client_ip: IpAddr,
    tunnel: TunnelRef,
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

/// Every open tunnel.
pub struct Tunnels {
    sessions: Mutex<HashMap<String, Entry>>,
    limits: TunnelLimits,
}

impl std::fmt::Debug for Tunnels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.sessions.lock().map(|s| s.len()).unwrap_or(0);
        f.debug_struct("Tunnels").field("open", &open).field("limits", &self.limits).finish()
    }
}

impl Tunnels {
    pub fn new(limits: TunnelLimits) -> Self {
        Tunnels { sessions: Mutex::new(HashMap::new()), limits }
    }

    /// `POST /open/1`.
    pub fn open(&self, edge: &Arc<Edge>, client: SocketAddr) -> Reply {
        let mut sessions = self.sessions.lock().expect("tunnel lock");
        let from_client = sessions.values().filter(|e| e.client_ip == client.ip()).count();
        if sessions.len() >= self.limits.max_sessions || from_client >= self.limits.max_sessions_per_client {
            edge.stats.rtmpt_refused.fetch_add(1, Ordering::Relaxed);
            info!(client = %client, open = sessions.len(), from_client, "RTMPT open refused: too many sessions");
            return Reply::Busy;
        }
        let id = new_session_id();
        let now = Instant::now();
        let tunnel = Tunnel {
            endpoint: RtmpEndpoint::new(Arc::clone(edge), client, true),
            client,
            opened: now,
            last_request: now,
            last_rtmp_input: now,
            empty_replies: 0,
            last_seq: None,
        };
        sessions.insert(id.clone(), Entry { client_ip: client.ip(), tunnel: Arc::new(AsyncMutex::new(tunnel)) });
        edge.stats.rtmpt_sessions.store(sessions.len() as u64, Ordering::Relaxed);
        let mut head = id.into_bytes();
        head.push(b'\n');
        Reply::Data { head: Bytes::from(head), data: Bytes::new() }
    }

    fn find(&self, id: &str) -> Option<TunnelRef> {
        self.sessions.lock().expect("tunnel lock").get(id).map(|e| Arc::clone(&e.tunnel))
    }

    fn remove(&self, edge: &Edge, id: &str) -> Option<TunnelRef> {
        let mut sessions = self.sessions.lock().expect("tunnel lock");
        let removed = sessions.remove(id);
        edge.stats.rtmpt_sessions.store(sessions.len() as u64, Ordering::Relaxed);
        removed.map(|e| e.tunnel)
    }

    /// `POST /send/<id>/<seq>` (with RTMP bytes) or `/idle/<id>/<seq>` (`data` = None).
    pub async fn exchange(&self, edge: &Edge, id: &str, seq: u64, data: Option<&[u8]>) -> Reply {
        let Some(tunnel) = self.find(id) else { return Reply::NotFound };
        let mut tunnel = tunnel.lock().await;
        if !tunnel.accept_seq(seq) {
            return Reply::NotFound;
        }
        let now = Instant::now();
        tunnel.last_request = now;
        if let Some(data) = data.filter(|d| !d.is_empty()) {
            tunnel.last_rtmp_input = now;
            if let Err(reason) = tunnel.endpoint.input(data).await {
                // Answer what is queued (e.g. an error status), then forget the session.
                let reply = tunnel.reply();
                drop(tunnel);
                if let Some(closed) = self.remove(edge, id) {
                    close(&mut *closed.lock().await, &reason);
                }
                return reply;
            }
        }
        let wake = tunnel.endpoint.pump(TUNNEL_HIGH_WATER).await;
        if tunnel.endpoint.wire().is_empty()
            && let Some(wake) = wake
            && wake <= now + LONG_POLL
        {
            tokio::time::sleep_until(wake.into()).await;
            tunnel.endpoint.pump(TUNNEL_HIGH_WATER).await;
        }
        let reply = tunnel.reply();
        if tunnel.endpoint.is_closing() && tunnel.endpoint.wire().is_empty() {
            drop(tunnel);
            if let Some(closed) = self.remove(edge, id) {
                close(&mut *closed.lock().await, "connect rejected");
            }
        }
        reply
    }

    /// `POST /close/<id>/<seq>`.
    pub async fn close(&self, edge: &Edge, id: &str, seq: u64) -> Reply {
        let Some(tunnel) = self.find(id) else { return Reply::NotFound };
        if !tunnel.lock().await.accept_seq(seq) {
            return Reply::NotFound;
        }
        match self.remove(edge, id) {
            Some(tunnel) => {
                close(&mut *tunnel.lock().await, "client closed the tunnel");
                Reply::Data { head: Bytes::from_static(&[0]), data: Bytes::new() }
            }
            None => Reply::NotFound,
        }
    }

    /// Drops sessions whose client went away: no request within the expiry, no finished
    /// handshake in time, or nothing playing and nothing said for the idle timeout.
    pub async fn expire(&self, edge: &Edge) {
        let now = Instant::now();
        let idle = edge.config.timeouts.idle;
        let candidates: Vec<(String, TunnelRef)> = self
            .sessions
            .lock()
            .expect("tunnel lock")
            .iter()
            .map(|(k, e)| (k.clone(), Arc::clone(&e.tunnel)))
            .collect();
        for (id, tunnel) in candidates {
            // A tunnel busy with a request is alive.
            let Ok(guard) = tunnel.try_lock() else { continue };
            let reason = if now.duration_since(guard.last_request) > self.limits.expiry {
                Some(format!("no request for {:?}", self.limits.expiry))
            } else if !guard.endpoint.is_established() && now.duration_since(guard.opened) > HANDSHAKE_TIMEOUT {
                Some(format!("handshake not finished within {HANDSHAKE_TIMEOUT:?}"))
            } else if !guard.endpoint.is_playing() && now.duration_since(guard.last_rtmp_input) > idle {
                Some(format!("idle for {idle:?}"))
            } else {
                None
            };
            drop(guard);
            if let Some(reason) = reason
                && let Some(removed) = self.remove(edge, &id)
            {
                close(&mut *removed.lock().await, &reason);
            }
        }
    }

    /// Closes every session (shutdown).
    pub async fn close_all(&self, edge: &Edge) {
        let all: Vec<String> = self.sessions.lock().expect("tunnel lock").keys().cloned().collect();
        for id in all {
            if let Some(tunnel) = self.remove(edge, &id) {
                close(&mut *tunnel.lock().await, "server shutting down");
            }
        }
    }
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

    /// One polling byte, then everything queued, up to the high-water mark; the queued bytes
    /// leave the tunnel without a copy.
    fn reply(&mut self) -> Reply {
        let data = self.endpoint.take_wire(TUNNEL_HIGH_WATER);
        let polling = if data.is_empty() {
            self.empty_replies = self.empty_replies.saturating_add(1);
            polling_interval(self.empty_replies)
        } else {
            self.empty_replies = 0;
            1
        };
        Reply::Data { head: Bytes::copy_from_slice(&[polling]), data }
    }
}

/// The polling byte after `empty` replies in a row without data: start fast and back off
/// towards half a second, as Flash Media Server does.
fn polling_interval(empty: u32) -> u8 {
    const STEPS: [u8; 6] = [0x01, 0x03, 0x05, 0x09, 0x11, 0x21];
    STEPS[((empty / 10) as usize).min(STEPS.len() - 1)]
}

fn close(tunnel: &mut Tunnel, reason: &str) {
    tunnel.endpoint.close(reason);
    info!(
        client = %tunnel.client, protocol = tunnel.endpoint.protocol().as_str(),
        bytes_sent = tunnel.endpoint.media_bytes_sent(),
        seconds = tunnel.opened.elapsed().as_secs_f32(), reason, "disconnect"
    );
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
