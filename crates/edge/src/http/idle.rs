//! When an HTTP/2 connection is idle. hyper keeps an HTTP/2 connection open for as long as
//! the client does (its keep-alive pings only find dead peers), so the edge counts the
//! requests open on it and closes it once it has had none for the idle timeout, as an
//! HTTP/1.1 connection waiting for its next request is closed.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::watch;

/// The number of requests open on one connection: from the moment its service is called
/// until its response body is done with (sent, or dropped when the client resets the stream).
#[derive(Clone)]
pub struct OpenRequests(Arc<watch::Sender<usize>>);

impl OpenRequests {
    pub fn new() -> OpenRequests {
        OpenRequests(Arc::new(watch::Sender::new(0)))
    }

    /// Counts one more request until the returned guard is dropped.
    pub fn open(&self) -> OpenRequest {
        self.0.send_modify(|open| *open += 1);
        OpenRequest(Arc::clone(&self.0))
    }

    /// Resolves once no request has been open for `idle` without a break.
    pub async fn idle_for(&self, idle: Duration) {
        let mut open = self.0.subscribe();
        loop {
            // The sender lives in `self`: waiting cannot fail.
            let _ = open.wait_for(|&open| open == 0).await;
            tokio::select! {
                _ = tokio::time::sleep(idle) => return,
                // A request opened (and maybe closed again): wait for none again, then the
                // whole idle time anew.
                _ = open.changed() => {}
            }
        }
    }
}

/// One open request; dropping it closes it.
pub struct OpenRequest(Arc<watch::Sender<usize>>);

impl Drop for OpenRequest {
    fn drop(&mut self) {
        self.0.send_modify(|open| *open -= 1);
    }
}

/// A response body that keeps its request counted as open until the body is dropped.
pub struct Counted<B> {
    body: B,
    _open: OpenRequest,
}

impl<B> Counted<B> {
    pub fn new(body: B, open: OpenRequest) -> Counted<B> {
        Counted { body, _open: open }
    }
}

impl<B: Body + Unpin> Body for Counted<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_only_after_the_last_request_closed_for_the_whole_time() {
        let requests = OpenRequests::new();
        let idle = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let open = requests.open();
        let waiter = {
            let requests = requests.clone();
            tokio::spawn(async move {
                requests.idle_for(idle).await;
                started.elapsed()
            })
        };
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(!waiter.is_finished(), "idle while a request is open");
        drop(open);
        tokio::time::sleep(Duration::from_millis(150)).await;
        drop(requests.open());
        let took = waiter.await.unwrap();
        // 600 ms open, 150 ms closed, then the whole 300 ms again.
        assert!(took >= Duration::from_millis(1050), "idle {took:?} after the start");
        assert!(took < Duration::from_secs(5), "never idle: {took:?}");
    }
}
