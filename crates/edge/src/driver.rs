//! The one loop that drives an [`RtmpEndpoint`], whatever carries its bytes: a TCP socket
//! (`rtmp_tcp`) or an RTMPT tunnel session (`rtmpt`). Like quinn's `ConnectionDriver`
//! around quinn-proto's `Connection`, it is the only part that waits on anything: the
//! transport, the origin requests the connection emits, the timers and shutdown, all at
//! once. While one stream waits on the origin the client is still read (pause, seek, close
//! act at once), the other streams are still sent, and every deadline still holds.
//!
//! Requests run here, in a set bounded by what the connection allows in flight (one open
//! and one tag read per stream). A request is polled once when it starts: one that needs no
//! waiting (an object already open, a tag in the cache) is answered at once, without going
//! round the loop. One the connection no longer wants is cancelled.
//!
//! Timeouts every transport shares: the handshake must finish in time, and a connection
//! with nothing playing, nothing waiting to be sent and nothing received is idle. A
//! transport adds its own (a socket whose client reads nothing is stalled; a tunnel nobody
//! polls expires).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use futures_util::StreamExt;
use futures_util::future::{AbortHandle, Abortable};
use futures_util::stream::FuturesUnordered;
use tokio::sync::watch;

use crate::connection::{Outcome, Request, Token};
use crate::endpoint::RtmpEndpoint;
use crate::{Edge, Timeouts};

/// What carries an endpoint's bytes.
pub(crate) trait Transport {
    /// What [`Transport::wait`] saw.
    type Event;

    /// How many bytes the endpoint may queue for the client before its players stop adding
    /// media (0: none now).
    fn high_water(&self) -> usize;

    /// Waits for the client: bytes from it, or room to send `wire` (the bytes waiting for
    /// it). Cancel-safe: the loop drops it when something else happens first.
    fn wait(&mut self, wire: &[u8]) -> impl Future<Output = Self::Event>;

    /// Acts on what `wait` saw; an error ends the connection for the reason given.
    fn handle(&mut self, event: Self::Event, endpoint: &mut RtmpEndpoint, now: Instant) -> Result<(), String>;

    /// After every turn: hands over what waits in the wire if this transport sends on its
    /// own terms (a tunnel answers its waiting request). `wake`: when players next have
    /// media due.
    fn flush(&mut self, endpoint: &mut RtmpEndpoint, wake: Option<Instant>, now: Instant);

    /// When this transport next needs [`Transport::check`].
    fn deadline(&self, endpoint: &RtmpEndpoint) -> Option<Instant>;

    /// Checks this transport's own timeouts.
    fn check(&mut self, endpoint: &RtmpEndpoint, now: Instant) -> Result<(), String>;
}

/// Runs `endpoint` over `transport` until the connection ends; returns why.
pub(crate) async fn drive<T: Transport>(
    edge: &Arc<Edge>,
    endpoint: &mut RtmpEndpoint,
    transport: &mut T,
    mut shutdown: watch::Receiver<bool>,
    started: Instant,
) -> String {
    let timeouts = edge.config.timeouts;
    let mut requests = Requests::default();
    loop {
        if *shutdown.borrow_and_update() {
            return "server shutting down".to_owned();
        }
        let now = Instant::now();
        let wake = turn(endpoint, &mut requests, transport.high_water(), now);
        transport.flush(endpoint, wake, now);
        if endpoint.is_closing() && endpoint.wire().is_empty() {
            return "connect rejected".to_owned();
        }
        let timer = [wake, timeout_deadline(endpoint, &timeouts, started), transport.deadline(endpoint)]
            .into_iter()
            .flatten()
            .min()
            // Nothing to wait for but the client, the origin or shutdown.
            .unwrap_or(now + timeouts.idle);
        tokio::select! {
            event = transport.wait(endpoint.wire()) => {
                if let Err(reason) = transport.handle(event, endpoint, Instant::now()) {
                    return reason;
                }
            }
            Some((token, outcome)) = requests.next() => endpoint.handle_result(token, outcome, Instant::now()),
            _ = tokio::time::sleep_until(timer.into()) => {
                let now = Instant::now();
                if let Err(reason) = check_timeouts(endpoint, &timeouts, started, now) {
                    return reason;
                }
                if let Err(reason) = transport.check(endpoint, now) {
                    return reason;
                }
            }
            _ = shutdown.changed() => return "server shutting down".to_owned(),
        }
    }
}

/// Pumps the players into the wire and starts the requests that causes, until no request
/// answers at once. Returns when players next have media due.
fn turn(endpoint: &mut RtmpEndpoint, requests: &mut Requests, high_water: usize, now: Instant) -> Option<Instant> {
    loop {
        let wake = endpoint.pump(high_water, now);
        let mut answered = false;
        while let Some(request) = endpoint.poll_request() {
            if let Some((token, outcome)) = requests.start(request) {
                endpoint.handle_result(token, outcome, now);
                answered = true;
            }
        }
        if !answered {
            return wake;
        }
    }
}

/// When the shared timeouts next need checking.
fn timeout_deadline(endpoint: &RtmpEndpoint, timeouts: &Timeouts, started: Instant) -> Option<Instant> {
    if !endpoint.is_established() {
        Some(started + timeouts.handshake)
    } else if is_idle(endpoint) {
        Some(endpoint.last_input() + timeouts.idle)
    } else {
        None
    }
}

/// Handshake: bounded in time. Idle: nothing playing, nothing to send, nothing said for a while.
fn check_timeouts(endpoint: &RtmpEndpoint, timeouts: &Timeouts, started: Instant, now: Instant) -> Result<(), String> {
    if !endpoint.is_established() && now >= started + timeouts.handshake {
        return Err(format!("handshake not finished within {:?}", timeouts.handshake));
    }
    if endpoint.is_established() && is_idle(endpoint) && now >= endpoint.last_input() + timeouts.idle {
        return Err(format!("idle for {:?}", timeouts.idle));
    }
    Ok(())
}

fn is_idle(endpoint: &RtmpEndpoint) -> bool {
    !endpoint.is_playing() && endpoint.wire_len() == 0
}

type RequestFuture = Pin<Box<dyn Future<Output = (Token, Outcome)> + Send>>;

/// Requests waiting on the origin.
#[derive(Default)]
struct Requests {
    running: FuturesUnordered<Abortable<RequestFuture>>,
    aborts: HashMap<Token, AbortHandle>,
}

impl Requests {
    /// Starts `request`; its result when it needed no waiting.
    fn start(&mut self, request: Request) -> Option<(Token, Outcome)> {
        let (token, mut future): (Token, RequestFuture) = match request {
            Request::Cancel(token) => {
                if let Some(abort) = self.aborts.remove(&token) {
                    abort.abort();
                }
                return None;
            }
            Request::Open { token, distribution, candidates } => (
                token,
                Box::pin(async move { (token, Outcome::Opened(distribution.library.open_first(&candidates).await)) }),
            ),
            Request::ReadTag { token, read } => {
                (token, Box::pin(async move { (token, Outcome::TagRead(read.run().await)) }))
            }
        };
        // A first poll without a waker: most requests are answered from memory at once. One
        // that waits registers the set's waker when the set polls it.
        if let Poll::Ready(done) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            return Some(done);
        }
        let (abort, registration) = AbortHandle::new_pair();
        self.running.push(Abortable::new(future, registration));
        self.aborts.insert(token, abort);
        None
    }

    /// The next result of a request that was not cancelled. Cancel-safe; pending forever
    /// (a disabled branch in `select!`) when nothing runs.
    async fn next(&mut self) -> Option<(Token, Outcome)> {
        while let Some(finished) = self.running.next().await {
            if let Ok((token, outcome)) = finished {
                self.aborts.remove(&token);
                return Some((token, outcome));
            }
        }
        None
    }
}
