//! Response bodies of web distributions, streamed block by block: the next cache block is read
//! only when hyper asks for the next frame, that is once the previous one was handed to the
//! socket, so an object of any size costs a block or two of memory per viewer, and a slow
//! viewer holds back its own reads and nobody else's.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use hyper::body::{Body, Frame, SizeHint};
use sf_cache::{ObjectHandle, OriginError};
use sf_web::Part;

use super::report::Report;

type Chunks = Pin<Box<dyn Stream<Item = Result<Bytes, OriginError>> + Send>>;

/// What the body sends.
enum Source {
    Empty,
    Bytes(Option<Bytes>),
    Object(Chunks),
}

/// A web response body. It carries the request's [`Report`], which counts the bytes sent and
/// logs the request when the body is done with (sent whole, failed, or dropped because the
/// viewer left).
pub struct WebBody {
    source: Source,
    /// Bytes still to send, when known (not for a compressed body).
    remaining: Option<u64>,
    report: Option<Report>,
}

impl WebBody {
    pub fn empty() -> WebBody {
        WebBody { source: Source::Empty, remaining: Some(0), report: None }
    }

    pub fn bytes(bytes: Bytes) -> WebBody {
        WebBody { remaining: Some(bytes.len() as u64), source: Source::Bytes(Some(bytes)), report: None }
    }

    /// `parts` of `handle`'s object, read in pieces that never cross a cache block of
    /// `block_size` bytes (so each piece is a slice of one cached block, not a copy).
    pub fn object(handle: ObjectHandle, parts: Vec<Part>, block_size: u64) -> WebBody {
        let len = parts
            .iter()
            .map(|part| match part {
                Part::Literal(bytes) => bytes.len() as u64,
                Part::Range { len, .. } => *len,
            })
            .sum();
        let chunks = stream::unfold((handle, VecDeque::from(parts)), move |(handle, mut parts)| async move {
            let chunk = match parts.pop_front()? {
                Part::Literal(bytes) => Ok(bytes),
                Part::Range { start, len } => {
                    let piece = len.min(block_size - start % block_size);
                    if piece < len {
                        parts.push_front(Part::Range { start: start + piece, len: len - piece });
                    }
                    match handle.read_range(start, piece).await {
                        Ok(bytes) if bytes.len() as u64 == piece => Ok(bytes),
                        Ok(_) => Err(OriginError::Changed),
                        Err(error) => Err(error),
                    }
                }
            };
            if chunk.is_err() {
                // Nothing follows an error: the connection is closed mid-body.
                parts.clear();
            }
            Some((chunk, (handle, parts)))
        });
        WebBody { source: Source::Object(chunks.boxed()), remaining: Some(len), report: None }
    }

    /// Attaches the request's report, finished when this body is.
    pub fn with_report(mut self, report: Report) -> WebBody {
        self.report = Some(report);
        self
    }

    /// The chunks of a body turned into other chunks (compression): `encode` gets each chunk,
    /// then `None` at the end, where an encoder writes what it still holds. The length is no
    /// longer known.
    pub fn map_chunks(
        self,
        mut encode: impl FnMut(Option<Bytes>) -> Result<Bytes, OriginError> + Send + 'static,
    ) -> WebBody {
        let WebBody { source, report, .. } = self;
        let input: Chunks = match source {
            Source::Empty => stream::empty().boxed(),
            Source::Bytes(bytes) => stream::iter(bytes.map(Ok)).boxed(),
            Source::Object(chunks) => chunks,
        };
        let marked = input.map(|chunk| chunk.map(Some)).chain(stream::once(async { Ok(None) }));
        let encoded = marked.filter_map(move |chunk| {
            let out = match chunk.and_then(&mut encode) {
                Ok(bytes) if bytes.is_empty() => None,
                other => Some(other),
            };
            async move { out }
        });
        WebBody { source: Source::Object(encoded.boxed()), remaining: None, report }
    }

    fn sent(&mut self, len: usize) {
        if let Some(remaining) = &mut self.remaining {
            *remaining = remaining.saturating_sub(len as u64);
        }
        if let Some(report) = &mut self.report {
            report.add_sent(len as u64);
        }
    }

    fn failed(&mut self, error: &OriginError) {
        if let Some(report) = &mut self.report {
            report.body_failed(error);
        }
    }
}

impl Body for WebBody {
    type Data = Bytes;
    type Error = OriginError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, OriginError>>> {
        let polled = match &mut self.source {
            Source::Empty => Poll::Ready(None),
            Source::Bytes(bytes) => Poll::Ready(bytes.take().map(Ok)),
            Source::Object(chunks) => chunks.as_mut().poll_next(cx),
        };
        match polled {
            Poll::Ready(Some(Ok(bytes))) => {
                self.sent(bytes.len());
                Poll::Ready(Some(Ok(Frame::data(bytes))))
            }
            Poll::Ready(Some(Err(error))) => {
                self.failed(&error);
                self.source = Source::Empty;
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(None) => {
                self.source = Source::Empty;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self.source, Source::Empty) || self.remaining == Some(0)
    }

    fn size_hint(&self) -> SizeHint {
        match self.remaining {
            Some(len) => SizeHint::with_exact(len),
            None => SizeHint::default(),
        }
    }
}
