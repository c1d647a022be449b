//! Frame scan: finds every MPEG audio frame between the tags, reading the source in large
//! windows. Locks onto the first header confirmed by a second one right after it, follows
//! frame lengths from there, and after garbage searches again (bounded) for a confirmed
//! header of the same stream.

use bytes::Bytes;

use super::frame::{FrameHeader, HEADER_LEN, MAX_FRAME_LEN, StreamParams};
use crate::{ByteSource, MediaError};

/// How much one read fetches while scanning.
pub(super) const WINDOW: u64 = 1 << 20;

/// Bytes searched for a frame (at the start, or after garbage) before the rest of the file
/// is taken as not audio: a tolerant bound for junk between frames that still ends a scan
/// of a file that is no MP3 at all within a megabyte.
const MAX_GARBAGE: u64 = 1 << 20;

/// One frame found by the scan.
#[derive(Debug, Clone, Copy)]
pub(super) struct Frame {
    pub offset: u64,
    pub header: FrameHeader,
}

/// Yields the frames in `[start, end)` in order.
pub(super) struct Scanner<'a, S> {
    source: &'a S,
    end: u64,
    window: Bytes,
    window_start: u64,
    pos: u64,
    locked: Option<StreamParams>,
    /// Offset where the previous frame ended: a header there needs no confirmation.
    expected: Option<u64>,
}

impl<'a, S: ByteSource> Scanner<'a, S> {
    pub fn new(source: &'a S, start: u64, end: u64) -> Self {
        Scanner { source, end, window: Bytes::new(), window_start: 0, pos: start, locked: None, expected: None }
    }

    /// The next frame, or `None` at the end of the audio (or after too much garbage, or at
    /// a frame cut short by the end of the file).
    pub async fn next(&mut self) -> Result<Option<Frame>, MediaError> {
        let garbage_limit = self.pos.saturating_add(MAX_GARBAGE);
        while self.pos + HEADER_LEN as u64 <= self.end && self.pos <= garbage_limit {
            self.fill().await?;
            if self.pos + HEADER_LEN as u64 > self.end {
                break;
            }
            let at = (self.pos - self.window_start) as usize;
            let window = &self.window[..];
            // Jump to the next possible sync byte rather than trying every offset.
            if window[at] != 0xff {
                match window[at..].iter().position(|b| *b == 0xff) {
                    Some(skip) => self.pos += skip as u64,
                    None => self.pos = self.window_start + window.len() as u64,
                }
                self.expected = None;
                continue;
            }
            let Some(header) = FrameHeader::parse(&window[at..]).filter(|h| self.matches(h)) else {
                self.pos += 1;
                self.expected = None;
                continue;
            };
            let frame_end = self.pos + header.len as u64;
            if frame_end > self.end {
                // A cut-off last frame, or a false sync near the end: neither is audio.
                if self.expected == Some(self.pos) {
                    return Ok(None);
                }
                self.pos += 1;
                continue;
            }
            if self.expected != Some(self.pos) && !self.confirmed(&header, at) {
                self.pos += 1;
                continue;
            }
            let frame = Frame { offset: self.pos, header };
            self.locked = Some(header.params);
            self.expected = Some(frame_end);
            self.pos = frame_end;
            return Ok(Some(frame));
        }
        Ok(None)
    }

    /// The bytes of a frame just returned (within the window, which always holds it whole).
    pub fn frame_bytes(&self, frame: &Frame) -> &[u8] {
        let at = (frame.offset - self.window_start) as usize;
        self.window.get(at..at + frame.header.len).unwrap_or_default()
    }

    fn matches(&self, header: &FrameHeader) -> bool {
        self.locked.is_none_or(|p| p == header.params)
    }

    /// A header found by searching is real if the frame it announces is followed by another
    /// header of the same stream, or ends exactly at the end of the audio.
    fn confirmed(&self, header: &FrameHeader, at: usize) -> bool {
        let frame_end = self.pos + header.len as u64;
        if frame_end == self.end {
            return true;
        }
        self.window.get(at + header.len..).and_then(FrameHeader::parse).is_some_and(|next| next.params == header.params)
    }

    /// Makes the window hold the longest possible frame at `pos` plus the next header (or
    /// everything up to the end of the audio).
    async fn fill(&mut self) -> Result<(), MediaError> {
        let need_end = (self.pos + (MAX_FRAME_LEN + HEADER_LEN) as u64).min(self.end);
        let window_end = self.window_start + self.window.len() as u64;
        if self.pos < self.window_start || need_end > window_end {
            let len = WINDOW.min(self.end - self.pos);
            self.window = self.source.read(self.pos, len).await?;
            self.window_start = self.pos;
            if (self.window.len() as u64) < need_end - self.pos {
                // The source returned less than it has: treat the short read as the end.
                self.end = self.window_start + self.window.len() as u64;
            }
        }
        Ok(())
    }
}
