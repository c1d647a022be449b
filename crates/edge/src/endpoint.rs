//! An RTMP endpoint independent of its transport: the handshake, then RC4 (for RTMPE) around
//! an [`RtmpConnection`]. Sans-IO like the connection: bytes, `now` and request results in,
//! wire bytes and requests out. The driver (`driver.rs`) runs one of these for a TCP socket
//! or for an RTMPT tunnel session alike.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use sf_rtmp::handshake::{HandshakeKind, Rc4Pair, ServerHandshake};

use crate::Edge;
use crate::connection::{Outcome, Protocol, Request, RtmpConnection, Token};

enum Phase {
    Handshake(Box<ServerHandshake>),
    Established {
        connection: Box<RtmpConnection>,
        cipher: Option<Box<Rc4Pair>>,
    },
    /// After a fatal error, until the transport drops us.
    Failed,
}

/// Handshake, encryption and connection of one viewer.
pub struct RtmpEndpoint {
    edge: Arc<Edge>,
    peer: SocketAddr,
    tunnelled: bool,
    phase: Phase,
    /// Bytes ready for the wire (already encrypted for RTMPE).
    wire: BytesMut,
    protocol: Protocol,
    /// C0 asked for RTMPE (6, 8 or 9): the handshake does Diffie-Hellman.
    encrypted_handshake: bool,
    /// When the client last sent something (or the endpoint was created).
    last_input: Instant,
    /// The RTMPT tunnel's `Host` header, handed to the connection.
    tunnel_host: Option<String>,
    /// Whether it came inside TLS (see [`RtmpConnection::set_over_tls`]).
    over_tls: bool,
}

impl RtmpEndpoint {
    /// `tunnelled`: the bytes travel in RTMPT requests (for logs and metrics).
    pub fn new(edge: Arc<Edge>, peer: SocketAddr, tunnelled: bool, now: Instant) -> Self {
        RtmpEndpoint {
            edge,
            peer,
            tunnelled,
            phase: Phase::Handshake(Box::new(ServerHandshake::new())),
            wire: BytesMut::new(),
            protocol: if tunnelled { Protocol::Rtmpt } else { Protocol::Rtmp },
            encrypted_handshake: false,
            last_input: now,
            tunnel_host: None,
            over_tls: false,
        }
    }

    /// Records that the connection, or the tunnel carrying it, came inside TLS.
    pub fn set_over_tls(&mut self, over_tls: bool) {
        self.over_tls = over_tls;
    }

    /// The `Host` header of the tunnel carrying this endpoint (see [`RtmpConnection::set_tunnel_host`]).
    pub fn set_tunnel_host(&mut self, host: Option<String>) {
        self.tunnel_host = host;
    }

    /// When the client last sent something.
    pub fn last_input(&self) -> Instant {
        self.last_input
    }

    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    pub fn is_established(&self) -> bool {
        matches!(self.phase, Phase::Established { .. })
    }

    /// Feeds bytes from the client. An error means the connection must close.
    pub fn input(&mut self, mut data: &[u8], now: Instant) -> Result<(), String> {
        if !data.is_empty() {
            self.last_input = now;
        }
        if let Phase::Handshake(handshake) = &mut self.phase {
            if let Some(&c0) = data.first()
                && matches!(c0, 6 | 8 | 9)
            {
                self.encrypted_handshake = true;
            }
            // An RTMPE handshake does 1024-bit modular exponentiations (about 2 ms): keep them
            // off the async workers, or a burst of connects stalls every viewer on them.
            let result = if self.encrypted_handshake {
                off_the_runtime(|| handshake.handle_input(data))
            } else {
                handshake.handle_input(data)
            };
            let used = match result {
                Ok(used) => used,
                Err(e) => {
                    self.phase = Phase::Failed;
                    return Err(format!("handshake failed: {e}"));
                }
            };
            data = &data[used..];
            if let Some(reply) = handshake.poll_transmit() {
                self.wire.extend_from_slice(&reply);
            }
            if !handshake.is_complete() {
                return Ok(());
            }
            let Phase::Handshake(handshake) = std::mem::replace(&mut self.phase, Phase::Failed) else { unreachable!() };
            let outcome = handshake.into_outcome();
            self.protocol = match (matches!(outcome.kind, HandshakeKind::Encrypted { .. }), self.tunnelled) {
                (false, false) => Protocol::Rtmp,
                (true, false) => Protocol::Rtmpe,
                (false, true) => Protocol::Rtmpt,
                (true, true) => Protocol::Rtmpte,
            };
            tracing::debug!(client = %self.peer, kind = ?outcome.kind, "handshake done");
            let mut connection = RtmpConnection::new(Arc::clone(&self.edge), self.peer, self.protocol);
            connection.set_tunnel_host(self.tunnel_host.take());
            connection.set_over_tls(self.over_tls);
            self.phase =
                Phase::Established { connection: Box::new(connection), cipher: outcome.encryption.map(Box::new) };
        }
        match &mut self.phase {
            Phase::Established { connection, cipher } => {
                if data.is_empty() {
                    return Ok(());
                }
                let result = match cipher {
                    Some(cipher) => {
                        let mut plain = data.to_vec();
                        cipher.decrypt.apply(&mut plain);
                        connection.handle_input(&plain, now)
                    }
                    None => connection.handle_input(data, now),
                };
                result.map_err(|e| format!("protocol error: {e}"))?;
                self.collect_output();
                Ok(())
            }
            Phase::Failed => Err("connection already failed".to_owned()),
            Phase::Handshake(_) => unreachable!("handled above"),
        }
    }

    /// Adds due media to the wire while fewer than `high_water` bytes wait there. Returns
    /// when there is next something to do without new input.
    pub fn pump(&mut self, high_water: usize, now: Instant) -> Option<Instant> {
        let wire = self.wire.len();
        let Phase::Established { connection, .. } = &mut self.phase else { return None };
        let wake = connection.pump(wire, high_water, now);
        self.collect_output();
        wake
    }

    /// The next request to run (see [`RtmpConnection::poll_request`]).
    pub fn poll_request(&mut self) -> Option<Request> {
        match &mut self.phase {
            Phase::Established { connection, .. } => connection.poll_request(),
            _ => None,
        }
    }

    /// Hands back the result of a request.
    pub fn handle_result(&mut self, token: Token, outcome: Outcome, now: Instant) {
        if let Phase::Established { connection, .. } = &mut self.phase {
            connection.handle_result(token, outcome, now);
            self.collect_output();
        }
    }

    /// True while some request's result is awaited.
    pub fn is_waiting_on_origin(&self) -> bool {
        matches!(&self.phase, Phase::Established { connection, .. } if connection.is_waiting_on_origin())
    }

    /// Moves the connection's output to the wire, encrypting it for RTMPE.
    fn collect_output(&mut self) {
        let Phase::Established { connection, cipher } = &mut self.phase else { return };
        if connection.output().is_empty() {
            return;
        }
        // Take the buffer with its allocation: between bursts a paced viewer then holds no
        // output memory at all.
        let mut chunk = connection.take_output();
        if let Some(cipher) = cipher {
            cipher.encrypt.apply(&mut chunk);
        }
        if self.wire.is_empty() {
            self.wire = chunk;
        } else {
            self.wire.extend_from_slice(&chunk);
        }
    }

    /// How many bytes wait for the client.
    pub fn wire_len(&self) -> usize {
        self.wire.len()
    }

    /// Bytes to send; the transport removes what it sent with [`RtmpEndpoint::sent`].
    pub fn wire(&mut self) -> &mut BytesMut {
        &mut self.wire
    }

    /// Takes up to `n` bytes off the front of the wire, without copying, for a transport
    /// that hands them on whole (an RTMPT reply). Taking everything releases the wire's
    /// allocation to the returned bytes.
    pub fn take_wire(&mut self, n: usize) -> Bytes {
        let taken = if n >= self.wire.len() { std::mem::take(&mut self.wire) } else { self.wire.split_to(n) };
        taken.freeze()
    }

    /// Drops `n` sent bytes from the wire, and its allocation once it is empty.
    pub fn sent(&mut self, n: usize) {
        if n >= self.wire.len() {
            self.wire = BytesMut::new();
        } else {
            bytes::Buf::advance(&mut self.wire, n);
        }
    }

    /// True when the connection asked to be closed once its output is sent.
    pub fn is_closing(&self) -> bool {
        matches!(&self.phase, Phase::Established { connection, .. } if connection.is_closing())
    }

    pub fn is_playing(&self) -> bool {
        matches!(&self.phase, Phase::Established { connection, .. } if connection.is_playing())
    }

    pub fn media_bytes_sent(&self) -> u64 {
        match &self.phase {
            Phase::Established { connection, .. } => connection.media_bytes_sent,
            _ => 0,
        }
    }

    /// Ends the connection's players (logging them) for `reason`.
    pub fn close(&mut self, reason: &str) {
        if let Phase::Established { connection, .. } = &mut self.phase {
            connection.close(reason);
        }
    }
}

/// Runs CPU-heavy `work` so it does not hold up other tasks on this worker thread (on a
/// multi-threaded runtime; elsewhere, e.g. in the fuzzer, it simply runs).
fn off_the_runtime<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}
