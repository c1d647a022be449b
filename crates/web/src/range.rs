//! `Range` requests against a representation of known size (RFC 9110 §14), and the body of a
//! `multipart/byteranges` 206 (RFC 9110 §14.6, §15.3.7.2).
//!
//! CloudFront's rule for bad headers (Developer Guide, RangeGETs): an invalid `Range` gets 200
//! with the whole object. Invalid means any spec that does not parse, ranges in descending
//! order (`300-400,100-200`) or overlapping ranges (`100-200,150-250`). RFC 9110 §14.2 lets a
//! server ignore `Range` in the same way, and for too many ranges.

use bytes::Bytes;

/// Longest `Range` value considered; a longer one is ignored (200 with the whole object).
pub const MAX_RANGE_HEADER_LEN: usize = 1024;

/// Most ranges in one request; more are ignored (RFC 9110 §14.2 allows it, and many small
/// ranges are a known denial-of-service pattern).
pub const MAX_RANGES: usize = 16;

/// One satisfiable byte range: `start..=end`, both inside the representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte, inclusive.
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Never true: a range holds at least one byte. For clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The `Content-Range` value of a 206 for this range: `bytes 0-499/1234`.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{size}", self.start, self.end)
    }
}

/// What the server sends for a request's `Range` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeRequest {
    /// 200 with the whole representation: no `Range`, or one that is ignored.
    Full,
    /// 206 with one range and a `Content-Range`.
    Single(ByteRange),
    /// 206 `multipart/byteranges` with these ranges, ascending and disjoint (see [`multipart`]).
    Multi(Vec<ByteRange>),
    /// 416 with `Content-Range: bytes */<size>` ([`unsatisfied_content_range`]).
    Unsatisfiable,
}

/// The `Content-Range` value of a 416: `bytes */1234` (RFC 9110 §15.5.17).
pub fn unsatisfied_content_range(size: u64) -> String {
    format!("bytes */{size}")
}

/// Evaluates a `Range` header value (`None` when absent) against a representation of `size`
/// bytes. Only the caller knows the method: RFC 9110 §14.2 applies `Range` to GET alone.
pub fn parse_range(header: Option<&[u8]>, size: u64) -> RangeRequest {
    let Some(header) = header else { return RangeRequest::Full };
    if header.len() > MAX_RANGE_HEADER_LEN {
        return RangeRequest::Full;
    }
    let Ok(header) = std::str::from_utf8(header) else { return RangeRequest::Full };
    match parse_specs(header, size) {
        Some(ranges) => classify(ranges),
        None => RangeRequest::Full,
    }
}

/// The satisfiable ranges of a valid header, in request order; `None` when the header is to be
/// ignored.
fn parse_specs(header: &str, size: u64) -> Option<Vec<ByteRange>> {
    // ranges-specifier = range-unit "=" range-set; range units are case-insensitive (§14.1).
    let (unit, set) = header.trim().split_once('=')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let mut ranges: Vec<ByteRange> = Vec::new();
    let mut specs = 0;
    // range-set = 1#range-spec; empty list elements are ignored (§5.6.1.2).
    for spec in set.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        specs += 1;
        if specs > MAX_RANGES {
            return None;
        }
        let Some(range) = resolve(spec, size)? else { continue };
        // Descending or overlapping ranges make the header invalid (Developer Guide, RangeGETs).
        if ranges.last().is_some_and(|prev| range.start <= prev.end) {
            return None;
        }
        ranges.push(range);
    }
    if specs == 0 {
        return None;
    }
    Some(ranges)
}

/// One range-spec against `size` (§14.1.1): `None` when it does not parse, `Some(None)` when it
/// parses but is unsatisfiable, else the range clamped to the representation.
fn resolve(spec: &str, size: u64) -> Option<Option<ByteRange>> {
    let (first, last) = spec.split_once('-')?;
    if first.is_empty() {
        // suffix-range: the last N bytes; the whole representation when it is shorter.
        let suffix = digits(last)?;
        if suffix == 0 || size == 0 {
            return Some(None);
        }
        return Some(Some(ByteRange { start: size.saturating_sub(suffix), end: size - 1 }));
    }
    let start = digits(first)?;
    let end = if last.is_empty() { u64::MAX } else { digits(last)? };
    if end < start {
        return None;
    }
    if start >= size {
        return Some(None);
    }
    Some(Some(ByteRange { start, end: end.min(size - 1) }))
}

/// `1*DIGIT` as a number; a value beyond `u64` saturates (it is past any representation's end).
fn digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(s.bytes().fold(0u64, |n, d| n.saturating_mul(10).saturating_add(u64::from(d - b'0'))))
}

fn classify(mut ranges: Vec<ByteRange>) -> RangeRequest {
    match ranges.len() {
        0 => RangeRequest::Unsatisfiable,
        1 => RangeRequest::Single(ranges.remove(0)),
        _ => RangeRequest::Multi(ranges),
    }
}

/// A random multipart boundary from caller-supplied random bits (no RNG here): 32 hex digits,
/// which cannot occur by chance in the parts it separates (RFC 2046 §5.1.1).
pub fn multipart_boundary(random: u128) -> String {
    format!("{random:032x}")
}

/// One piece of a multipart body, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Bytes to send as they are: boundary lines and part headers.
    Literal(Bytes),
    /// `len` bytes of the representation from offset `start`, streamed from the cache.
    Range {
        /// Offset of the first byte.
        start: u64,
        /// Number of bytes.
        len: u64,
    },
}

/// The body of a `multipart/byteranges` 206: what to stream, and its headers' values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Multipart {
    /// The response's `Content-Type`: `multipart/byteranges; boundary=…`.
    pub content_type: String,
    /// The body, literal pieces between ranges.
    pub parts: Vec<Part>,
    /// The response's `Content-Length`: every literal and range added up.
    pub content_length: u64,
}

/// Lays out a `multipart/byteranges` body for `ranges` of a representation of `size` bytes
/// (RFC 9110 §14.6): each range preceded by a boundary line, its `Content-Type` (when the
/// representation has one) and `Content-Range`, and a closing boundary at the end.
pub fn multipart(ranges: &[ByteRange], size: u64, content_type: Option<&str>, boundary: &str) -> Multipart {
    let mut parts = Vec::with_capacity(ranges.len() * 2 + 1);
    for (i, range) in ranges.iter().enumerate() {
        // The CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1), so the first
        // one has none.
        let mut head = if i == 0 { format!("--{boundary}\r\n") } else { format!("\r\n--{boundary}\r\n") };
        if let Some(content_type) = content_type {
            head.push_str(&format!("Content-Type: {content_type}\r\n"));
        }
        head.push_str(&format!("Content-Range: {}\r\n\r\n", range.content_range(size)));
        parts.push(Part::Literal(Bytes::from(head)));
        parts.push(Part::Range { start: range.start, len: range.len() });
    }
    parts.push(Part::Literal(Bytes::from(format!("\r\n--{boundary}--\r\n"))));
    let content_length = parts
        .iter()
        .map(|part| match part {
            Part::Literal(bytes) => bytes.len() as u64,
            Part::Range { len, .. } => *len,
        })
        .sum();
    Multipart { content_type: format!("multipart/byteranges; boundary={boundary}"), parts, content_length }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(header: &str, size: u64) -> RangeRequest {
        parse_range(Some(header.as_bytes()), size)
    }

    fn r(start: u64, end: u64) -> ByteRange {
        ByteRange { start, end }
    }

    #[test]
    fn no_header_is_the_full_representation() {
        assert_eq!(parse_range(None, 100), RangeRequest::Full);
    }

    #[test]
    fn single_ranges_closed_open_and_suffix() {
        // RFC 9110 §14.1.2 examples on a 10000-byte representation.
        assert_eq!(parse("bytes=0-499", 10_000), RangeRequest::Single(r(0, 499)));
        assert_eq!(parse("bytes=500-999", 10_000), RangeRequest::Single(r(500, 999)));
        assert_eq!(parse("bytes=-500", 10_000), RangeRequest::Single(r(9500, 9999)));
        assert_eq!(parse("bytes=9500-", 10_000), RangeRequest::Single(r(9500, 9999)));
        assert_eq!(parse("bytes=0-0", 10_000), RangeRequest::Single(r(0, 0)));
        assert_eq!(parse("bytes=-1", 10_000), RangeRequest::Single(r(9999, 9999)));
        // The unit is case-insensitive; OWS around the list elements.
        assert_eq!(parse("Bytes= 0-1 ", 10), RangeRequest::Single(r(0, 1)));
    }

    #[test]
    fn ranges_past_the_end_are_clamped() {
        assert_eq!(parse("bytes=5-100", 10), RangeRequest::Single(r(5, 9)));
        assert_eq!(parse("bytes=-100", 10), RangeRequest::Single(r(0, 9)));
        assert_eq!(parse("bytes=0-99999999999999999999999999", 10), RangeRequest::Single(r(0, 9)));
    }

    #[test]
    fn unsatisfiable_ranges_get_416() {
        assert_eq!(parse("bytes=10-20", 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse("bytes=10-", 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse("bytes=-0", 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse("bytes=0-0", 0), RangeRequest::Unsatisfiable);
        assert_eq!(parse("bytes=99999999999999999999999-", 10), RangeRequest::Unsatisfiable);
        assert_eq!(parse("bytes=20-30,40-50", 10), RangeRequest::Unsatisfiable);
        assert_eq!(unsatisfied_content_range(10), "bytes */10");
    }

    #[test]
    fn unsatisfiable_members_of_a_set_are_dropped() {
        assert_eq!(parse("bytes=0-1,20-30", 10), RangeRequest::Single(r(0, 1)));
        assert_eq!(parse("bytes=0-1,4-5,20-30", 10), RangeRequest::Multi(vec![r(0, 1), r(4, 5)]));
    }

    #[test]
    fn valid_multiple_ranges_are_multi() {
        // RFC 9110 §14.1.2: "the first and last bytes only".
        assert_eq!(parse("bytes=0-0,-1", 10_000), RangeRequest::Multi(vec![r(0, 0), r(9999, 9999)]));
        assert_eq!(parse("bytes=100-200, 300-400", 10_000), RangeRequest::Multi(vec![r(100, 200), r(300, 400)]));
        // Adjacent is not overlapping.
        assert_eq!(parse("bytes=0-4,5-9", 10), RangeRequest::Multi(vec![r(0, 4), r(5, 9)]));
        // Empty list elements are ignored.
        assert_eq!(parse("bytes=,0-1,,3-4,", 10), RangeRequest::Multi(vec![r(0, 1), r(3, 4)]));
    }

    #[test]
    fn descending_or_overlapping_ranges_get_the_full_object() {
        // The Developer Guide's own examples (RangeGETs).
        assert_eq!(parse("bytes=300-400,100-200", 10_000), RangeRequest::Full);
        assert_eq!(parse("bytes=100-200,150-250", 10_000), RangeRequest::Full);
        assert_eq!(parse("bytes=0-10,-9995", 10_000), RangeRequest::Full);
        // Sharing one byte is overlapping.
        assert_eq!(parse("bytes=0-5,5-9", 10), RangeRequest::Full);
    }

    #[test]
    fn invalid_specs_get_the_full_object() {
        for bad in [
            "bytes=",
            "bytes=abc",
            "bytes=5-1",
            "bytes=-",
            "bytes=1-2-3",
            "bytes=+1-2",
            "bytes=0x1-2",
            "bytes=1 -2",
            "items=0-1",
            "bytes 0-1",
            "bytes =0-1",
            "0-1",
            "bytes=0-1,x",
            "",
        ] {
            assert_eq!(parse(bad, 10_000), RangeRequest::Full, "{bad:?}");
        }
        assert_eq!(parse_range(Some(b"bytes=\xff0-1"), 10), RangeRequest::Full);
    }

    #[test]
    fn too_many_ranges_or_too_long_a_header_get_the_full_object() {
        let sixteen: Vec<String> = (0..16).map(|i| format!("{}-{}", i * 10, i * 10 + 1)).collect();
        assert!(
            matches!(parse(&format!("bytes={}", sixteen.join(",")), 1000), RangeRequest::Multi(v) if v.len() == 16)
        );
        let seventeen: Vec<String> = (0..17).map(|i| format!("{}-{}", i * 10, i * 10 + 1)).collect();
        assert_eq!(parse(&format!("bytes={}", seventeen.join(",")), 1000), RangeRequest::Full);
        let long = format!("bytes=0-1{}", " ".repeat(MAX_RANGE_HEADER_LEN));
        assert_eq!(parse(&long, 10), RangeRequest::Full);
    }

    #[test]
    fn multipart_body_follows_rfc_9110_example() {
        let m = multipart(&[r(500, 999), r(7000, 7999)], 8000, Some("application/pdf"), "THIS_STRING_SEPARATES");
        assert_eq!(m.content_type, "multipart/byteranges; boundary=THIS_STRING_SEPARATES");
        let head1 =
            "--THIS_STRING_SEPARATES\r\nContent-Type: application/pdf\r\nContent-Range: bytes 500-999/8000\r\n\r\n";
        let head2 = "\r\n--THIS_STRING_SEPARATES\r\nContent-Type: application/pdf\r\nContent-Range: bytes 7000-7999/8000\r\n\r\n";
        let tail = "\r\n--THIS_STRING_SEPARATES--\r\n";
        assert_eq!(
            m.parts,
            vec![
                Part::Literal(Bytes::from(head1)),
                Part::Range { start: 500, len: 500 },
                Part::Literal(Bytes::from(head2)),
                Part::Range { start: 7000, len: 1000 },
                Part::Literal(Bytes::from(tail)),
            ]
        );
        assert_eq!(m.content_length, (head1.len() + head2.len() + tail.len()) as u64 + 1500);
    }

    #[test]
    fn multipart_without_content_type_and_its_length_matches_the_bytes() {
        let body = b"0123456789";
        let m = multipart(&[r(0, 1), r(8, 9)], 10, None, &multipart_boundary(0xabc));
        let mut out = Vec::new();
        for part in &m.parts {
            match part {
                Part::Literal(b) => out.extend_from_slice(b),
                Part::Range { start, len } => out.extend_from_slice(&body[*start as usize..(*start + *len) as usize]),
            }
        }
        let text = String::from_utf8(out).unwrap();
        let b = "00000000000000000000000000000abc";
        assert_eq!(
            text,
            format!(
                "--{b}\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n--{b}\r\nContent-Range: bytes 8-9/10\r\n\r\n89\r\n--{b}--\r\n"
            )
        );
        assert_eq!(m.content_length, text.len() as u64);
    }
}
