//! HLS response bodies: a playlist's text, or a segment built as it is sent. A segment is
//! built by a task that reads its frames through the block cache, one at a time, packs them
//! into TS packets and hands the body a chunk at a time through a channel of one: it runs only
//! as fast as the viewer reads, holds a chunk or two, and stops when the viewer leaves.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use sf_cache::ObjectHandle;
use sf_hls::{HlsError, Package};
use tokio::sync::mpsc;

/// Bytes of TS gathered before they are handed to the connection.
const CHUNK: usize = 64 * 1024;

type Chunk = Result<Bytes, HlsError>;

/// An HLS response body.
pub enum HlsBody {
    Bytes(Option<Bytes>),
    Segment { chunks: mpsc::Receiver<Chunk>, remaining: u64 },
}

impl HlsBody {
    pub fn empty() -> HlsBody {
        HlsBody::Bytes(None)
    }

    pub fn bytes(bytes: Bytes) -> HlsBody {
        HlsBody::Bytes(Some(bytes).filter(|b| !b.is_empty()))
    }

    /// Segment `n` of `package`, whose exact size is `len`, built from `object`'s bytes.
    pub fn segment(package: Arc<Package>, n: usize, len: u64, object: ObjectHandle) -> HlsBody {
        let (sender, chunks) = mpsc::channel(1);
        tokio::spawn(async move {
            if let Err(error) = build_segment(&package, n, len, &object, &sender).await {
                // The viewer may be gone already: then nobody needs to hear it.
                let _ = sender.send(Err(error)).await;
            }
        });
        HlsBody::Segment { chunks, remaining: len }
    }
}

/// Sends segment `n` in chunks; `Ok` also when the viewer left (the sends fail).
async fn build_segment(
    package: &Package,
    n: usize,
    len: u64,
    object: &ObjectHandle,
    sender: &mpsc::Sender<Chunk>,
) -> Result<(), HlsError> {
    let (mut writer, _) = package.segment(n)?;
    let mut out = Vec::with_capacity(CHUNK + 4096);
    let mut sent = 0u64;
    writer.begin(&mut out);
    while let Some(frame) = writer.frames().first() {
        let data = object
            .read_range(frame.offset, frame.size.into())
            .await
            .map_err(|error| HlsError::Source(error.to_string()))?;
        // A frame that would outgrow the buffer goes in the next one: growing would copy it.
        let full = out.len() >= CHUNK || (!out.is_empty() && out.len() + writer.next_len() > out.capacity());
        if full && !send(&mut out, &mut sent, sender).await {
            return Ok(());
        }
        writer.push_frame(&data, &mut out)?;
    }
    // The length was promised in the headers: more or fewer bytes would be a lie.
    if sent + out.len() as u64 != len {
        return Err(HlsError::Internal(format!("segment {n} came out {} bytes, not {len}", sent + out.len() as u64)));
    }
    send(&mut out, &mut sent, sender).await;
    Ok(())
}

/// Hands `out` to the body as one chunk and starts a new one; false when the viewer left.
async fn send(out: &mut Vec<u8>, sent: &mut u64, sender: &mpsc::Sender<Chunk>) -> bool {
    *sent += out.len() as u64;
    let chunk = Bytes::from(std::mem::replace(out, Vec::with_capacity(CHUNK + 4096)));
    sender.send(Ok(chunk)).await.is_ok()
}

impl Body for HlsBody {
    type Data = Bytes;
    type Error = HlsError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, HlsError>>> {
        match self.get_mut() {
            HlsBody::Bytes(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            HlsBody::Segment { chunks, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                match chunks.poll_recv(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        *remaining = remaining.saturating_sub(chunk.len() as u64);
                        Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(error))),
                    // The builder stopped short without saying why: the body cannot be whole.
                    Poll::Ready(None) => Poll::Ready(Some(Err(HlsError::Internal("the segment ended early".into())))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            HlsBody::Bytes(bytes) => bytes.is_none(),
            HlsBody::Segment { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            HlsBody::Bytes(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            HlsBody::Segment { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}
