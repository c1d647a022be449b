//! Walks tag headers from one offset to the end of the file, reading the source in large
//! windows so a scan costs one read per megabyte (plus one per tag larger than a window),
//! not one per tag.

use bytes::Bytes;

use super::tag::{TAG_HEADER_LEN, TagHeader};
use crate::{ByteSource, MediaError};

/// How much one read fetches while walking.
pub(super) const WINDOW: u64 = 1 << 20;

/// Body bytes looked at without fetching the body: enough for the frame type, codec id,
/// AVC/AAC packet type and the AVC composition time.
pub(super) const PEEK: u64 = 5;

/// One tag met by the walk.
#[derive(Debug, Clone, Copy)]
pub(super) struct Found {
    pub offset: u64,
    pub header: TagHeader,
    /// The first body bytes (fewer when the body is shorter).
    pub peek: [u8; PEEK as usize],
    pub peek_len: usize,
}

impl Found {
    pub fn peek(&self) -> &[u8] {
        &self.peek[..self.peek_len]
    }
}

pub(super) struct Walker<'a, S> {
    source: &'a S,
    size: u64,
    window: Bytes,
    window_start: u64,
    next: u64,
}

impl<'a, S: ByteSource> Walker<'a, S> {
    pub fn new(source: &'a S, first_tag: u64) -> Self {
        Walker { source, size: source.size(), window: Bytes::new(), window_start: 0, next: first_tag }
    }

    /// Offset of the next tag the walk will look at.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// The next complete tag, or `None` at the end of the file or at a tag cut short by it
    /// (a truncated file plays up to the cut).
    pub async fn next(&mut self) -> Result<Option<Found>, MediaError> {
        let (offset, size) = (self.next, self.size);
        let Some(bytes) = self.bytes_at(offset, TAG_HEADER_LEN + PEEK).await? else {
            return Ok(None);
        };
        let Some(header) = TagHeader::parse(bytes) else {
            return Ok(None);
        };
        if header.body_end(offset) > size {
            return Ok(None);
        }
        let peek_len = (header.size as usize).min(PEEK as usize).min(bytes.len() - TAG_HEADER_LEN as usize);
        let mut peek = [0; PEEK as usize];
        peek[..peek_len].copy_from_slice(&bytes[TAG_HEADER_LEN as usize..][..peek_len]);
        self.next = header.next_offset(offset);
        Ok(Some(Found { offset, header, peek, peek_len }))
    }

    /// The whole body of a tag the walk returned (a slice of the window when it is inside).
    pub async fn body(&self, found: &Found) -> Result<Bytes, MediaError> {
        self.body_prefix(found, found.header.size.into()).await
    }

    /// The first `max_len` bytes of a tag's body (all of it if shorter).
    pub async fn body_prefix(&self, found: &Found, max_len: u64) -> Result<Bytes, MediaError> {
        let start = found.offset + TAG_HEADER_LEN;
        let len = u64::from(found.header.size).min(max_len);
        if start >= self.window_start && start + len <= self.window_start + self.window.len() as u64 {
            let from = (start - self.window_start) as usize;
            return Ok(self.window.slice(from..from + len as usize));
        }
        Ok(self.source.read(start, len).await?)
    }

    /// Up to `want` bytes at `offset` (fewer only at the end of the file), refilling the
    /// window when they are not all in it. `None` when nothing is left.
    async fn bytes_at(&mut self, offset: u64, want: u64) -> Result<Option<&[u8]>, MediaError> {
        if offset >= self.size {
            return Ok(None);
        }
        let want_end = offset.saturating_add(want).min(self.size);
        let window_end = self.window_start + self.window.len() as u64;
        if offset < self.window_start || want_end > window_end {
            self.window = self.source.read(offset, WINDOW).await?;
            self.window_start = offset;
        }
        let from = (offset - self.window_start) as usize;
        let to = ((want_end - self.window_start) as usize).min(self.window.len());
        Ok(self.window.get(from..to).filter(|b| !b.is_empty()))
    }
}
