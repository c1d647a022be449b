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
        let size = self.0.len() as u64;
        let start = offset.min(size);
        let end = offset.saturating_add(len).min(size);
        Ok(self.0.slice(start as usize..end as usize))
    }
}
