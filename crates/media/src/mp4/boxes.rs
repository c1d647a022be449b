//! Bounds-checked big-endian reading of box payloads, box headers, and iteration over the
//! child boxes of a container. Nothing here trusts a length it has not checked against the
//! bytes actually present.

use crate::{Format, MediaError};

/// A box type such as `*b"moov"`.
pub(super) type FourCc = [u8; 4];

pub(super) fn malformed(reason: impl Into<String>) -> MediaError {
    MediaError::malformed(Format::Mp4, reason)
}

pub(super) fn unsupported(reason: impl Into<String>) -> MediaError {
    MediaError::unsupported(Format::Mp4, reason)
}

/// Printable form of a box type for error messages (box types from hostile input may be any
/// bytes).
pub(super) fn fourcc_str(kind: FourCc) -> String {
    kind.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { char::from(b) } else { '?' }).collect()
}

/// A cursor over a box payload. Every read checks the remaining length, and a short payload
/// becomes `Malformed` naming the box, so parsers can read fields in order without
/// pre-computing sizes.
#[derive(Debug, Clone)]
pub(super) struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

impl<'a> Reader<'a> {
    pub(super) fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, what }
    }

    pub(super) fn remaining(&self) -> usize {
        self.data.len()
    }

    /// Everything not read yet.
    pub(super) fn rest(&self) -> &'a [u8] {
        self.data
    }

    pub(super) fn truncated(&self) -> MediaError {
        malformed(format!("{} box is truncated", self.what))
    }

    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], MediaError> {
        if n > self.data.len() {
            return Err(self.truncated());
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    pub(super) fn skip(&mut self, n: usize) -> Result<(), MediaError> {
        self.bytes(n).map(|_| ())
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], MediaError> {
        let mut out = [0; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> Result<u8, MediaError> {
        Ok(self.array::<1>()?[0])
    }

    pub(super) fn u16(&mut self) -> Result<u16, MediaError> {
        self.array().map(u16::from_be_bytes)
    }

    pub(super) fn u32(&mut self) -> Result<u32, MediaError> {
        self.array().map(u32::from_be_bytes)
    }

    pub(super) fn i32(&mut self) -> Result<i32, MediaError> {
        self.array().map(i32::from_be_bytes)
    }

    pub(super) fn u64(&mut self) -> Result<u64, MediaError> {
        self.array().map(u64::from_be_bytes)
    }

    pub(super) fn i64(&mut self) -> Result<i64, MediaError> {
        self.array().map(i64::from_be_bytes)
    }

    pub(super) fn fourcc(&mut self) -> Result<FourCc, MediaError> {
        self.array()
    }

    /// Version and flags of a "full box".
    pub(super) fn full_box(&mut self) -> Result<(u8, u32), MediaError> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }

    /// The `count × entry_size` bytes of a table whose count was just read, refusing counts
    /// the payload cannot hold (so a table claiming 2^32 entries in a few bytes fails here,
    /// before anything is allocated). Bytes after the table are ignored.
    pub(super) fn table(&mut self, count: u32, entry_size: usize) -> Result<&'a [u8], MediaError> {
        let len = u64::from(count) * entry_size as u64;
        if len > self.data.len() as u64 {
            return Err(malformed(format!(
                "{} box claims {count} entries but holds only {} bytes",
                self.what,
                self.data.len()
            )));
        }
        self.bytes(len as usize)
    }
}

/// The length of a box as its header states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BoxSize {
    /// Total size in bytes, header included.
    Exact(u64),
    /// Size field 0: the box runs to the end of its container (or of the file).
    ToEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BoxHeader {
    pub(super) kind: FourCc,
    /// 8, or 16 with a 64-bit size.
    pub(super) header_len: u64,
    pub(super) size: BoxSize,
}

/// Longest box header we parse (32-bit size, type, 64-bit size).
pub(super) const MAX_HEADER_LEN: u64 = 16;

/// Parses the header at the start of `buf`. `Ok(None)` if `buf` is too short to hold it.
pub(super) fn parse_header(buf: &[u8]) -> Result<Option<BoxHeader>, MediaError> {
    let mut r = Reader::new(buf, "box header");
    let (Ok(size32), Ok(kind)) = (r.u32(), r.fourcc()) else {
        return Ok(None);
    };
    let (header_len, size) = match size32 {
        0 => (8, BoxSize::ToEnd),
        1 => match r.u64() {
            Ok(size) => (16, BoxSize::Exact(size)),
            Err(_) => return Ok(None),
        },
        n => (8, BoxSize::Exact(n.into())),
    };
    if let BoxSize::Exact(size) = size
        && size < header_len
    {
        return Err(malformed(format!("'{}' box has size {size}, smaller than its header", fourcc_str(kind))));
    }
    Ok(Some(BoxHeader { kind, header_len, size }))
}

/// The child boxes of a container payload, as `(type, payload)`. Stops at the first error
/// (after yielding it). Fewer than 8 trailing bytes are ignored: QuickTime ends some
/// containers with a 32-bit zero terminator.
pub(super) fn children(payload: &[u8]) -> Children<'_> {
    Children { rest: payload }
}

pub(super) struct Children<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<(FourCc, &'a [u8]), MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < 8 {
            return None;
        }
        let result = match parse_header(self.rest) {
            Ok(Some(h)) => {
                let available = self.rest.len() as u64;
                let size = match h.size {
                    BoxSize::Exact(size) => size,
                    BoxSize::ToEnd => available,
                };
                if size > available {
                    Err(malformed(format!(
                        "'{}' box of {size} bytes runs past its parent ({available} bytes left)",
                        fourcc_str(h.kind)
                    )))
                } else {
                    // Both fit in `available`, which came from a slice length.
                    let payload = &self.rest[h.header_len as usize..size as usize];
                    self.rest = &self.rest[size as usize..];
                    return Some(Ok((h.kind, payload)));
                }
            }
            Ok(None) => Err(malformed("box header is truncated")),
            Err(e) => Err(e),
        };
        self.rest = &[];
        Some(result)
    }
}

/// Payload of the first child of type `kind`, if any.
pub(super) fn find_child(payload: &[u8], kind: FourCc) -> Result<Option<&[u8]>, MediaError> {
    for child in children(payload) {
        let (k, body) = child?;
        if k == kind {
            return Ok(Some(body));
        }
    }
    Ok(None)
}

/// Payload of the first child of type `kind`, or `Malformed` naming what is missing.
pub(super) fn require_child<'a>(payload: &'a [u8], kind: FourCc, parent: &str) -> Result<&'a [u8], MediaError> {
    find_child(payload, kind)?.ok_or_else(|| malformed(format!("'{parent}' box has no '{}' box", fourcc_str(kind))))
}

#[cfg(test)]
pub(super) mod build {
    //! Box writers for unit tests.

    pub(crate) fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 8);
        out.extend_from_slice(&(payload.len() as u32 + 8).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(payload);
        out
    }

    pub(crate) fn full(kind: &[u8; 4], version: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![version, 0, 0, 0];
        p.extend_from_slice(payload);
        boxed(kind, &p)
    }

    pub(crate) fn u32s(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes() {
        let h = parse_header(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']).unwrap().unwrap();
        assert_eq!(h, BoxHeader { kind: *b"free", header_len: 8, size: BoxSize::Exact(8) });

        let mut big = vec![0, 0, 0, 1, b'm', b'd', b'a', b't'];
        big.extend_from_slice(&(5u64 << 32).to_be_bytes());
        let h = parse_header(&big).unwrap().unwrap();
        assert_eq!(h.header_len, 16);
        assert_eq!(h.size, BoxSize::Exact(5 << 32));

        let h = parse_header(&[0, 0, 0, 0, b'm', b'd', b'a', b't']).unwrap().unwrap();
        assert_eq!(h.size, BoxSize::ToEnd);
    }

    #[test]
    fn header_too_short_or_too_small() {
        assert!(parse_header(&[0, 0, 0]).unwrap().is_none());
        // 64-bit size announced but missing.
        assert!(parse_header(&[0, 0, 0, 1, b'm', b'd', b'a', b't', 0]).unwrap().is_none());
        assert!(parse_header(&[0, 0, 0, 7, b'f', b'r', b'e', b'e']).is_err());
        let mut big = vec![0, 0, 0, 1, b'm', b'd', b'a', b't'];
        big.extend_from_slice(&15u64.to_be_bytes());
        assert!(parse_header(&big).is_err());
    }

    #[test]
    fn children_walk_and_errors() {
        let mut payload = build::boxed(b"aaaa", &[1, 2]);
        payload.extend(build::boxed(b"bbbb", &[]));
        payload.extend([0, 0, 0, 0]); // QuickTime terminator
        let kids: Vec<_> = children(&payload).map(Result::unwrap).collect();
        assert_eq!(kids, vec![(*b"aaaa", &[1u8, 2][..]), (*b"bbbb", &[][..])]);

        // A child larger than its parent.
        let mut bad = build::boxed(b"aaaa", &[1, 2, 3]);
        bad.truncate(10);
        let kids: Vec<_> = children(&bad).collect();
        assert_eq!(kids.len(), 1);
        assert!(kids[0].is_err());

        // Size 0 inside a container: to the end of the parent.
        let to_end = [0, 0, 0, 0, b'c', b'c', b'c', b'c', 9, 9];
        assert_eq!(find_child(&to_end, *b"cccc").unwrap(), Some(&[9u8, 9][..]));
        assert!(require_child(&to_end, *b"dddd", "test").is_err());
    }

    #[test]
    fn reader_bounds() {
        let mut r = Reader::new(&[0, 0, 0, 2, 1, 2, 3], "test");
        assert_eq!(r.u32().unwrap(), 2);
        assert!(r.table(2, 4).is_err());
        assert_eq!(r.table(1, 3).unwrap(), &[1, 2, 3]);
        assert!(r.u8().is_err());
        let mut r = Reader::new(&[0, 0, 0, 0], "test");
        assert!(r.table(u32::MAX, 8).is_err());
        assert_eq!(fourcc_str(*b"a\0b\xff"), "a?b?");
    }
}
