//! Pinning HLS URLs to one object version, so a cache or a player never mixes the segments of
//! two versions of an object (their boundaries and sizes differ).
//!
//! Every URI in a playlist carries `v=<tag>`, the tag naming the object version, the segment
//! length and this packager; the same tag is the ETag of everything served for that version.
//! A request pinned to another tag than the current one is answered 410 Gone: what it names
//! existed and is gone for good (RFC 9110 §15.5.11), and the player should load the playlist
//! again. A request without a pin gets the current version, cacheable briefly; a pinned one
//! never changes, so it is cacheable for a year (RFC 9111 §5.2.2.1, RFC 8246 `immutable`).

use hyper::StatusCode;

/// The query parameter holding the pin.
const PARAMETER: &str = "v";

/// A pinned URL's content never changes.
const PINNED_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
/// An unpinned URL follows the object: caches look again after a minute.
const UNPINNED_CACHE_CONTROL: &str = "public, max-age=60";

/// The pin of one object version as packaged with one segment length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// 16 hex digits: FNV-1a of the version, the segment length and this packager's version,
    /// which keeps the origin's own ETag characters out of URLs and ours.
    tag: String,
}

impl Pin {
    pub fn new(version: &str, segment_ms: u32) -> Pin {
        let mut hash = 0xcbf2_9ce4_8422_2325u64;
        let parts: [&[u8]; 3] = [version.as_bytes(), &segment_ms.to_be_bytes(), env!("CARGO_PKG_VERSION").as_bytes()];
        for part in parts {
            for b in part.iter().chain(b"\0") {
                hash ^= u64::from(*b);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        Pin { tag: format!("{hash:016x}") }
    }

    /// The strong ETag of every playlist and segment of this version.
    pub fn etag(&self) -> String {
        format!("\"hls-{}\"", self.tag)
    }

    /// The query the playlists' URIs carry.
    pub fn query(&self) -> String {
        format!("{PARAMETER}={}", self.tag)
    }

    /// Checks the pin of a request whose query is `query`: `Ok(true)` when it names this
    /// version, `Ok(false)` when it names none, and a 410 when it names another.
    pub fn check(&self, query: Option<&str>) -> Result<bool, (StatusCode, String)> {
        match requested(query) {
            None => Ok(false),
            Some(tag) if tag == self.tag => Ok(true),
            Some(_) => Err((
                StatusCode::GONE,
                "this URL names an earlier version of the stream: load its playlist again".into(),
            )),
        }
    }
}

/// The `Cache-Control` of a response to a pinned (or an unpinned) URL.
pub fn cache_control(pinned: bool) -> &'static str {
    if pinned { PINNED_CACHE_CONTROL } else { UNPINNED_CACHE_CONTROL }
}

/// The value of the first `v` parameter of `query` (other parameters, such as a signature's,
/// are not ours); as sent, since a tag is hex digits and needs no decoding.
fn requested(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|pair| pair.strip_prefix(PARAMETER)?.strip_prefix('='))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pin_follows_the_version_and_the_segment_length() {
        let pin = Pin::new("\"etag-1\"", 6000);
        assert_eq!(pin, Pin::new("\"etag-1\"", 6000));
        assert_ne!(pin, Pin::new("\"etag-2\"", 6000));
        assert_ne!(pin, Pin::new("\"etag-1\"", 2000));
        let tag = pin.query().strip_prefix("v=").unwrap().to_owned();
        assert!(tag.len() == 16 && tag.bytes().all(|b| b.is_ascii_hexdigit()), "{tag}");
        assert_eq!(pin.etag(), format!("\"hls-{tag}\""));
    }

    #[test]
    fn requests_pinned_elsewhere_are_gone() {
        let pin = Pin::new("v1", 6000);
        let ours = pin.query();
        assert_eq!(pin.check(None), Ok(false));
        assert_eq!(pin.check(Some("")), Ok(false));
        assert_eq!(pin.check(Some("Expires=1&Signature=x")), Ok(false));
        assert_eq!(pin.check(Some(&ours)), Ok(true));
        assert_eq!(pin.check(Some(&format!("Expires=1&{ours}&Signature=x"))), Ok(true));
        let other = Pin::new("v2", 6000).query();
        for query in [other.as_str(), "v=", "v=zz", "v"] {
            let expected = if query == "v" { Ok(false) } else { Err(StatusCode::GONE) };
            assert_eq!(pin.check(Some(query)).map_err(|(status, _)| status), expected, "{query}");
        }
        // `vv=` or `xv=` are other parameters.
        assert_eq!(pin.check(Some("vv=1&xv=2")), Ok(false));
        assert_eq!(cache_control(true), "public, max-age=31536000, immutable");
        assert_eq!(cache_control(false), "public, max-age=60");
    }
}
