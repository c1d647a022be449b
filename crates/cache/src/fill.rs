//! A block being filled from the origin: readers get its bytes as they arrive.

use std::sync::Mutex;

use bytes::{Bytes, BytesMut};
use tokio::sync::watch;

use crate::origin::OriginError;

/// A block being filled: the bytes so far, then the outcome. Readers wait on `changed`.
#[derive(Debug)]
pub(crate) struct Fill {
    state: Mutex<FillState>,
    changed: watch::Sender<()>,
}

#[derive(Debug, Default)]
struct FillState {
    chunks: Vec<Bytes>,
    len: u64,
    outcome: Option<Result<Bytes, OriginError>>,
}

impl Fill {
    pub(crate) fn new() -> Self {
        Fill { state: Mutex::new(FillState::default()), changed: watch::Sender::new(()) }
    }

    pub(crate) fn push(&self, chunk: Bytes) {
        if chunk.is_empty() {
            return;
        }
        let mut state = self.state.lock().expect("fill lock");
        state.len += chunk.len() as u64;
        state.chunks.push(chunk);
        drop(state);
        self.changed.send_replace(());
    }

    /// All bytes received, as one buffer.
    pub(crate) fn assembled(&self) -> Bytes {
        let state = self.state.lock().expect("fill lock");
        match state.chunks.as_slice() {
            [one] => one.clone(),
            chunks => {
                let mut out = BytesMut::with_capacity(state.len as usize);
                for chunk in chunks {
                    out.extend_from_slice(chunk);
                }
                out.freeze()
            }
        }
    }

    pub(crate) fn finish(&self, outcome: Result<Bytes, OriginError>) {
        let mut state = self.state.lock().expect("fill lock");
        if state.outcome.is_none() {
            state.outcome = Some(outcome);
        }
        state.chunks = Vec::new();
        drop(state);
        self.changed.send_replace(());
    }

    /// Bytes `[from, to)` of the block, as soon as they have arrived.
    pub(crate) async fn wait(&self, from: u64, to: u64) -> Result<Bytes, OriginError> {
        let mut changed = self.changed.subscribe();
        loop {
            {
                let state = self.state.lock().expect("fill lock");
                match &state.outcome {
                    Some(Ok(block)) => return Ok(clip(block, from, to)),
                    Some(Err(e)) => return Err(e.clone()),
                    None if state.len >= to => return Ok(copy_range(&state.chunks, from, to)),
                    None => {}
                }
            }
            // The sender lives in `self`, so this only ends by a change.
            let _ = changed.changed().await;
        }
    }
}

pub(crate) fn clip(block: &Bytes, from: u64, to: u64) -> Bytes {
    let len = block.len() as u64;
    block.slice(from.min(len) as usize..to.min(len) as usize)
}

fn copy_range(chunks: &[Bytes], from: u64, to: u64) -> Bytes {
    let mut out = BytesMut::with_capacity((to - from) as usize);
    let mut at = 0u64;
    for chunk in chunks {
        let end = at + chunk.len() as u64;
        if end > from && at < to {
            let a = from.saturating_sub(at) as usize;
            let b = (to.min(end) - at) as usize;
            out.extend_from_slice(&chunk[a..b]);
        }
        at = end;
        if at >= to {
            break;
        }
    }
    out.freeze()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn copy_range_spans_chunks() {
        let chunks = [Bytes::from_static(b"abc"), Bytes::from_static(b"defg"), Bytes::from_static(b"h")];
        assert_eq!(&copy_range(&chunks, 0, 8)[..], b"abcdefgh");
        assert_eq!(&copy_range(&chunks, 2, 5)[..], b"cde");
        assert_eq!(&copy_range(&chunks, 3, 7)[..], b"defg");
        assert_eq!(&copy_range(&chunks, 7, 8)[..], b"h");
    }

    #[tokio::test]
    async fn readers_get_bytes_while_the_block_is_still_arriving() {
        let fill = Arc::new(Fill::new());
        let waiter = {
            let fill = Arc::clone(&fill);
            tokio::spawn(async move { fill.wait(0, 3).await })
        };
        fill.push(Bytes::from_static(b"ab"));
        tokio::task::yield_now().await;
        fill.push(Bytes::from_static(b"cd"));
        // Answered before the fill finishes.
        let got = tokio::time::timeout(Duration::from_secs(5), waiter).await.unwrap().unwrap().unwrap();
        assert_eq!(&got[..], b"abc");
        fill.finish(Err(OriginError::Changed));
        assert!(fill.wait(0, 10).await.is_err());
    }
}
