//! Compression at the edge (Developer Guide, "Serve compressed files", ServingCompressedFiles).
//!
//! CloudFront compresses a response when the behavior has `Compress`, the viewer accepts `br`
//! or `gzip` (Brotli preferred) over HTTP/1.1 or later, and the origin's response has no
//! `Content-Encoding`, a `Content-Length` of 1,000 to 10,000,000 bytes, status 200, 403 or 404
//! and one of the listed content types. A compressed response's strong ETag becomes weak.

use std::io::Write;

use bytes::Bytes;

/// A content coding the edge produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// `br` (RFC 7932).
    Brotli,
    /// `gzip` (RFC 1952).
    Gzip,
}

impl Encoding {
    /// The token for `Content-Encoding` (and the cache key of the compressed variant).
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }
}

/// Smallest and largest `Content-Length` CloudFront compresses.
pub const COMPRESSIBLE_SIZES: std::ops::RangeInclusive<u64> = 1_000..=10_000_000;

/// The content types CloudFront compresses (ServingCompressedFiles), lower case.
pub const COMPRESSIBLE_TYPES: [&str; 46] = [
    "application/dash+xml",
    "application/eot",
    "application/font",
    "application/font-sfnt",
    "application/javascript",
    "application/json",
    "application/opentype",
    "application/otf",
    "application/pkcs7-mime",
    "application/protobuf",
    "application/rss+xml",
    "application/truetype",
    "application/ttf",
    "application/vnd.apple.mpegurl",
    "application/vnd.mapbox-vector-tile",
    "application/vnd.ms-fontobject",
    "application/xhtml+xml",
    "application/xml",
    "application/x-font-opentype",
    "application/x-font-truetype",
    "application/x-font-ttf",
    "application/x-httpd-cgi",
    "application/x-javascript",
    "application/x-mpegurl",
    "application/x-opentype",
    "application/x-otf",
    "application/x-perl",
    "application/x-ttf",
    "font/eot",
    "font/opentype",
    "font/otf",
    "font/ttf",
    "image/svg+xml",
    "text/css",
    "text/csv",
    "text/html",
    "text/javascript",
    "text/js",
    "text/plain",
    "text/richtext",
    "text/tab-separated-values",
    "text/xml",
    "text/x-component",
    "text/x-java-source",
    "text/x-script",
    "vnd.apple.mpegurl",
];

/// What the viewer's request says about compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ViewerInfo<'a> {
    /// `Accept-Encoding` (several field lines joined with `,`).
    pub accept_encoding: Option<&'a str>,
    /// The request's HTTP version: HTTP/1.0 is never compressed.
    pub version: http::Version,
}

/// What the origin's response says about compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseInfo<'a> {
    /// The status the origin sent.
    pub status: u16,
    /// `Content-Type`, parameters and all.
    pub content_type: Option<&'a str>,
    /// Whether the origin sent a `Content-Encoding` (it is compressed already).
    pub has_content_encoding: bool,
    /// The origin's `Content-Length`; unknown lengths are not compressed.
    pub content_length: Option<u64>,
}

/// The encoding to compress a response with, or `None` to send it as it is. `enabled` is the
/// behavior's [`crate::Behavior::compress`].
pub fn choose_encoding(enabled: bool, viewer: &ViewerInfo, response: &ResponseInfo) -> Option<Encoding> {
    let compressible = enabled
        && viewer.version >= http::Version::HTTP_11
        && !response.has_content_encoding
        && matches!(response.status, 200 | 403 | 404)
        && response.content_length.is_some_and(|len| COMPRESSIBLE_SIZES.contains(&len))
        && response.content_type.is_some_and(is_compressible_type);
    if !compressible {
        return None;
    }
    accepted_encoding(viewer.accept_encoding?)
}

/// The encoding the edge would use for this `Accept-Encoding`: `br` over `gzip`, ignoring other
/// codings and any listed with `q=0` (RFC 9110 §12.5.3). Also the normalised value to key the
/// cache and the origin request on.
pub fn accepted_encoding(accept_encoding: &str) -> Option<Encoding> {
    let mut gzip = false;
    for element in accept_encoding.split(',') {
        let mut params = element.split(';');
        let coding = params.next().unwrap_or("").trim();
        let refused = params.any(|p| p.split_once('=').is_some_and(|(k, v)| k.trim() == "q" && is_zero_qvalue(v)));
        if refused {
            continue;
        }
        if coding.eq_ignore_ascii_case("br") {
            return Some(Encoding::Brotli);
        }
        gzip |= coding.eq_ignore_ascii_case("gzip");
    }
    gzip.then_some(Encoding::Gzip)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (RFC 9110 §12.4.2): zero.
fn is_zero_qvalue(v: &str) -> bool {
    let v = v.trim();
    v.strip_prefix('0')
        .is_some_and(|rest| rest.is_empty() || rest.strip_prefix('.').is_some_and(|d| d.bytes().all(|b| b == b'0')))
}

fn is_compressible_type(content_type: &str) -> bool {
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    COMPRESSIBLE_TYPES.iter().any(|t| t.eq_ignore_ascii_case(media_type))
}

/// The ETag of a compressed response: a strong `"x"` becomes `W/"x"`, a weak one stays, and one
/// that starts with neither `"` nor `W/` is dropped (`None`) (ServingCompressedFiles).
pub fn weaken_etag(etag: &str) -> Option<String> {
    let etag = etag.trim();
    if etag.starts_with("W/") {
        Some(etag.to_string())
    } else if etag.starts_with('"') {
        Some(format!("W/{etag}"))
    } else {
        None
    }
}

/// gzip level: zlib's default, the usual balance for text on the fly.
pub const GZIP_LEVEL: u32 = 6;
/// Brotli quality: 5 compresses text better than gzip 6 at a similar speed; 11 is for
/// precompressed files, far too slow per request.
pub const BROTLI_QUALITY: u32 = 5;
/// Brotli window: 2^18 bytes (256 KiB). The encoder holds about two windows of input before
/// its first output, so this bounds both its memory and its delay per response.
pub const BROTLI_WINDOW_BITS: u32 = 18;

/// A streaming compressor: feed it the body piece by piece and send what it gives back, so a
/// compressed response costs the encoder's window, not the object.
pub struct Encoder(Inner);

enum Inner {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Brotli(Box<brotli::CompressorWriter<Vec<u8>>>),
}

impl Encoder {
    /// A new compressor for `encoding`.
    pub fn new(encoding: Encoding) -> Encoder {
        Encoder(match encoding {
            Encoding::Gzip => {
                Inner::Gzip(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(GZIP_LEVEL)))
            }
            Encoding::Brotli => Inner::Brotli(Box::new(brotli::CompressorWriter::new(
                Vec::new(),
                4096,
                BROTLI_QUALITY,
                BROTLI_WINDOW_BITS,
            ))),
        })
    }

    /// Compresses `input` and returns the output ready so far (often empty: the encoder
    /// buffers until it has a block's worth). Writing to memory fails only on an encoder bug.
    pub fn push(&mut self, input: &[u8]) -> std::io::Result<Bytes> {
        let output = match &mut self.0 {
            Inner::Gzip(e) => {
                e.write_all(input)?;
                e.get_mut()
            }
            Inner::Brotli(e) => {
                e.write_all(input)?;
                e.get_mut()
            }
        };
        Ok(Bytes::from(std::mem::take(output)))
    }

    /// Ends the stream and returns the rest of the output.
    pub fn finish(self) -> std::io::Result<Bytes> {
        let output = match self.0 {
            Inner::Gzip(e) => e.finish()?,
            Inner::Brotli(e) => e.into_inner(),
        };
        Ok(Bytes::from(output))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn viewer(accept: &str) -> ViewerInfo<'_> {
        ViewerInfo { accept_encoding: Some(accept), version: http::Version::HTTP_11 }
    }

    const HTML: ResponseInfo<'static> = ResponseInfo {
        status: 200,
        content_type: Some("text/html; charset=utf-8"),
        has_content_encoding: false,
        content_length: Some(5_000),
    };

    #[test]
    fn brotli_is_preferred_over_gzip() {
        assert_eq!(choose_encoding(true, &viewer("gzip, deflate, br"), &HTML), Some(Encoding::Brotli));
        assert_eq!(choose_encoding(true, &viewer("gzip, deflate"), &HTML), Some(Encoding::Gzip));
        assert_eq!(choose_encoding(true, &viewer("GZIP"), &HTML), Some(Encoding::Gzip));
        assert_eq!(choose_encoding(true, &viewer("deflate, identity, *"), &HTML), None);
        assert_eq!(choose_encoding(true, &ViewerInfo { accept_encoding: None, ..viewer("") }, &HTML), None);
    }

    #[test]
    fn codings_refused_with_q_zero_are_not_used() {
        assert_eq!(accepted_encoding("br;q=0, gzip;q=0.5"), Some(Encoding::Gzip));
        assert_eq!(accepted_encoding("br; q=0.000, gzip"), Some(Encoding::Gzip));
        assert_eq!(accepted_encoding("br;q=0.001"), Some(Encoding::Brotli));
        assert_eq!(accepted_encoding("gzip;q=0"), None);
    }

    #[test]
    fn needs_compress_enabled_and_http_1_1() {
        assert_eq!(choose_encoding(false, &viewer("br"), &HTML), None);
        let old = ViewerInfo { accept_encoding: Some("gzip"), version: http::Version::HTTP_10 };
        assert_eq!(choose_encoding(true, &old, &HTML), None);
        let h2 = ViewerInfo { accept_encoding: Some("gzip"), version: http::Version::HTTP_2 };
        assert_eq!(choose_encoding(true, &h2, &HTML), Some(Encoding::Gzip));
    }

    #[test]
    fn only_listed_content_types_are_compressed() {
        for ct in ["text/css", "application/javascript", "image/svg+xml", "Application/JSON", "text/plain;charset=x"] {
            let r = ResponseInfo { content_type: Some(ct), ..HTML };
            assert_eq!(choose_encoding(true, &viewer("gzip"), &r), Some(Encoding::Gzip), "{ct}");
        }
        for ct in ["video/mp4", "image/jpeg", "application/octet-stream", "text/htmlx"] {
            let r = ResponseInfo { content_type: Some(ct), ..HTML };
            assert_eq!(choose_encoding(true, &viewer("gzip"), &r), None, "{ct}");
        }
        assert_eq!(choose_encoding(true, &viewer("gzip"), &ResponseInfo { content_type: None, ..HTML }), None);
    }

    #[test]
    fn size_status_and_existing_encoding_rules() {
        let with = |r: ResponseInfo| choose_encoding(true, &viewer("gzip"), &r);
        assert_eq!(with(ResponseInfo { content_length: Some(999), ..HTML }), None);
        assert_eq!(with(ResponseInfo { content_length: Some(1_000), ..HTML }), Some(Encoding::Gzip));
        assert_eq!(with(ResponseInfo { content_length: Some(10_000_000), ..HTML }), Some(Encoding::Gzip));
        assert_eq!(with(ResponseInfo { content_length: Some(10_000_001), ..HTML }), None);
        assert_eq!(with(ResponseInfo { content_length: None, ..HTML }), None);
        assert_eq!(with(ResponseInfo { status: 403, ..HTML }), Some(Encoding::Gzip));
        assert_eq!(with(ResponseInfo { status: 404, ..HTML }), Some(Encoding::Gzip));
        assert_eq!(with(ResponseInfo { status: 206, ..HTML }), None);
        assert_eq!(with(ResponseInfo { status: 500, ..HTML }), None);
        assert_eq!(with(ResponseInfo { has_content_encoding: true, ..HTML }), None);
    }

    #[test]
    fn etags_are_weakened_kept_or_dropped() {
        assert_eq!(weaken_etag("\"abc\"").as_deref(), Some("W/\"abc\""));
        assert_eq!(weaken_etag("W/\"abc\"").as_deref(), Some("W/\"abc\""));
        assert_eq!(weaken_etag("abc"), None);
    }

    fn compress_in_pieces(encoding: Encoding, input: &[u8]) -> Vec<u8> {
        let mut encoder = Encoder::new(encoding);
        let mut out = Vec::new();
        for piece in input.chunks(777) {
            out.extend_from_slice(&encoder.push(piece).unwrap());
        }
        out.extend_from_slice(&encoder.finish().unwrap());
        out
    }

    fn text() -> Vec<u8> {
        (0..20_000).map(|i| format!("<p>line {i} of a page</p>\n")).collect::<String>().into_bytes()
    }

    #[test]
    fn gzip_stream_decodes_to_the_input() {
        let input = text();
        let compressed = compress_in_pieces(Encoding::Gzip, &input);
        assert!(compressed.len() < input.len() / 4);
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut decoded).unwrap();
        assert_eq!(decoded, input);
    }

    #[test]
    fn brotli_stream_decodes_to_the_input() {
        let input = text();
        let compressed = compress_in_pieces(Encoding::Brotli, &input);
        assert!(compressed.len() < input.len() / 4);
        let mut decoded = Vec::new();
        brotli::Decompressor::new(&compressed[..], 4096).read_to_end(&mut decoded).unwrap();
        assert_eq!(decoded, input);
    }

    #[test]
    fn output_is_streamed_before_the_end() {
        // 2 MB: several Brotli windows.
        let input = [text(), text(), text(), text()].concat();
        for encoding in [Encoding::Gzip, Encoding::Brotli] {
            let mut encoder = Encoder::new(encoding);
            let early: usize = input.chunks(4096).map(|p| encoder.push(p).unwrap().len()).sum();
            assert!(early > 0, "{encoding:?} gave nothing before finish");
        }
    }

    #[test]
    fn empty_input_is_a_valid_stream() {
        let compressed = compress_in_pieces(Encoding::Gzip, b"");
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_end(&mut decoded).unwrap();
        assert!(decoded.is_empty());
    }
}
