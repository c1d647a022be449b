//! Finding and reading the `moov` box. Files written without "faststart" keep it after the
//! media data, so we walk the top-level box headers with small ranged reads (one per box,
//! never touching `mdat`) and then fetch `moov` in one read.

use bytes::Bytes;

use super::boxes::{self, BoxSize, MAX_HEADER_LEN};
use crate::{ByteSource, MediaError};

/// Largest `moov` payload we read. Real files carry about 10-20 bytes of tables per sample,
/// so this allows tens of hours of media while bounding what a hostile object can make a
/// server allocate.
pub(super) const MAX_MOOV_LEN: u64 = 256 << 20;

/// Top-level boxes we are willing to step over before giving up: every one costs a read.
/// Ordinary files have a handful; fragmented ones have two per fragment, but keep `moov`
/// at the front.
const MAX_TOP_LEVEL_BOXES: usize = 4096;

/// The `moov` payload (header stripped) and where its box starts in the file.
#[derive(Debug)]
pub(super) struct Moov {
    pub(super) offset: u64,
    pub(super) payload: Bytes,
}

pub(super) async fn read_moov<S: ByteSource>(source: &S) -> Result<Moov, MediaError> {
    let file_size = source.size();
    let mut offset = 0u64;
    for _ in 0..MAX_TOP_LEVEL_BOXES {
        if file_size - offset < 8 {
            // End of file, or a few trailing bytes that cannot be a box.
            return Err(boxes::malformed("no 'moov' box"));
        }
        let head = source.read(offset, MAX_HEADER_LEN).await?;
        let header = boxes::parse_header(&head)?
            .ok_or_else(|| boxes::malformed(format!("box header at offset {offset} is truncated")))?;
        if !header.kind.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            // Top-level box types are plain ASCII: this is not an ISO media file (or we lost
            // track of the box structure).
            return Err(boxes::malformed(format!(
                "not an ISO media file: box type '{}' at offset {offset}",
                boxes::fourcc_str(header.kind)
            )));
        }
        let left = file_size - offset;
        let size = match header.size {
            BoxSize::Exact(size) => size,
            BoxSize::ToEnd => left,
        };
        if &header.kind == b"moov" {
            if size > left {
                return Err(boxes::malformed(format!(
                    "'moov' box of {size} bytes runs past the end of the file ({left} bytes left)"
                )));
            }
            let len = size - header.header_len;
            if len > MAX_MOOV_LEN {
                return Err(MediaError::TooLarge { what: "moov box", size: len, limit: MAX_MOOV_LEN });
            }
            let payload = source.read(offset + header.header_len, len).await?;
            if payload.len() as u64 != len {
                return Err(boxes::malformed("'moov' box is truncated"));
            }
            return Ok(Moov { offset, payload });
        }
        if size >= left {
            // The last box (often an `mdat` cut short by an interrupted upload): no room for
            // a `moov` after it.
            return Err(boxes::malformed("no 'moov' box"));
        }
        offset += size;
    }
    Err(boxes::unsupported(format!("no 'moov' box within the first {MAX_TOP_LEVEL_BOXES} top-level boxes")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemorySource;
    use crate::mp4::boxes::build::boxed;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match f.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("memory source futures are always ready"),
        }
    }

    fn read(file: Vec<u8>) -> Result<Moov, MediaError> {
        block_on(read_moov(&MemorySource(file.into())))
    }

    #[test]
    fn moov_first_and_last() {
        let mut file = boxed(b"ftyp", b"isom");
        file.extend(boxed(b"moov", b"abc"));
        file.extend(boxed(b"mdat", &[0; 100]));
        let moov = read(file).unwrap();
        assert_eq!((moov.offset, &moov.payload[..]), (12, &b"abc"[..]));

        let mut file = boxed(b"ftyp", b"isom");
        let mut mdat = vec![0, 0, 0, 1, b'm', b'd', b'a', b't'];
        mdat.extend_from_slice(&(16u64 + 50).to_be_bytes());
        mdat.extend([0; 50]);
        file.extend(mdat);
        file.extend(boxed(b"moov", b"xyz"));
        let moov = read(file).unwrap();
        assert_eq!((moov.offset, &moov.payload[..]), (12 + 66, &b"xyz"[..]));

        // Size 0: moov runs to the end of the file.
        let mut file = boxed(b"ftyp", b"isom");
        file.extend([0, 0, 0, 0, b'm', b'o', b'o', b'v', 7, 7]);
        assert_eq!(&read(file).unwrap().payload[..], &[7, 7]);
    }

    #[test]
    fn missing_or_broken_moov() {
        let mut file = boxed(b"ftyp", b"isom");
        file.extend(boxed(b"mdat", &[0; 10]));
        assert!(matches!(read(file.clone()), Err(MediaError::Malformed { .. })));
        // Truncated moov.
        let mut truncated = file.clone();
        truncated.extend(boxed(b"moov", &[1; 20]));
        truncated.truncate(truncated.len() - 5);
        assert!(matches!(read(truncated), Err(MediaError::Malformed { .. })));
        // An mdat claiming to run past the end.
        let mut file = boxed(b"ftyp", b"isom");
        file.extend([0, 0, 1, 0, b'm', b'd', b'a', b't']);
        assert!(matches!(read(file), Err(MediaError::Malformed { .. })));
        // Garbage and empty input.
        assert!(matches!(
            read(b"\x00\x00\x00\x10\xff\xfe\xfd\xfc garbage".to_vec()),
            Err(MediaError::Malformed { .. })
        ));
        assert!(matches!(read(Vec::new()), Err(MediaError::Malformed { .. })));
        assert!(matches!(read(vec![0, 0, 0, 4, b'f', b'r', b'e', b'e']), Err(MediaError::Malformed { .. })));
    }

    #[test]
    fn moov_over_the_limit() {
        let mut file = boxed(b"ftyp", b"isom");
        let len = MAX_MOOV_LEN + 9;
        file.extend_from_slice(&(len as u32).to_be_bytes());
        file.extend_from_slice(b"moov");
        // The source must be at least that large for the size check to be reached; claim it
        // with a sparse source.
        struct Sparse(Vec<u8>);
        impl ByteSource for Sparse {
            fn size(&self) -> u64 {
                self.0.len() as u64 + MAX_MOOV_LEN + 1
            }
            async fn read(&self, offset: u64, len: u64) -> Result<Bytes, crate::SourceError> {
                let start = (offset as usize).min(self.0.len());
                let end = (offset.saturating_add(len) as usize).min(self.0.len());
                Ok(Bytes::copy_from_slice(&self.0[start..end]))
            }
        }
        let err = block_on(read_moov(&Sparse(file))).unwrap_err();
        assert!(matches!(err, MediaError::TooLarge { .. }), "{err}");
    }
}
