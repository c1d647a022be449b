use bytes::Bytes;

use crate::{ByteSource, SourceError};

/// An object held in memory: for tests, fuzzing and benchmarks.
#[derive(Debug, Clone)]
pub struct MemorySource(pub Bytes);

impl ByteSource for MemorySource {
    fn size(&self) -> u64 {
        self.0.len() as u64
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Bytes, SourceError> {
        Ok(self.slice(offset, len))
    }

    /// Memory never makes a reader wait.
    fn read_now(&self, offset: u64, len: u64) -> Option<Result<Bytes, SourceError>> {
        Some(Ok(self.slice(offset, len)))
    }
}

impl MemorySource {
    /// Bytes `[offset, offset + len)` clipped to the object.
    fn slice(&self, offset: u64, len: u64) -> Bytes {
        let size = self.0.len() as u64;
        let start = offset.min(size);
        let end = offset.saturating_add(len).min(size);
        self.0.slice(start as usize..end as usize)
    }

    /// Runs a future whose reads all come from a `MemorySource` (open, seek, tag reads) to
    /// completion without a runtime: such reads never wait, so one poll finishes it. For
    /// tests, fuzz targets and benchmarks.
    ///
    /// # Panics
    /// If the future waits on anything else.
    pub fn run<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => {
                panic!("MemorySource::run: the future waits on something that is not a MemorySource")
            }
        }
    }
}
