//! The object key a request path names: the path without its leading `/`, percent-decoded
//! (RFC 3986 §2.1), as S3 and the cache name objects.

use std::borrow::Cow;

/// Longest path accepted, as CloudFront's limit on the URL (8,192 bytes, "Quotas" in the
/// CloudFront Developer Guide).
pub const MAX_PATH: usize = 8192;

/// Why a path names no object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyError {
    TooLong,
    /// Percent-decodes to bytes that are not UTF-8, or to a NUL.
    NotText,
}

/// `/a%20b.html` → `a b.html`.
pub fn object_key(path: &str) -> Result<String, KeyError> {
    if path.len() > MAX_PATH {
        return Err(KeyError::TooLong);
    }
    let raw = path.strip_prefix('/').unwrap_or(path);
    let decoded: Cow<'_, str> =
        percent_encoding::percent_decode_str(raw).decode_utf8().map_err(|_| KeyError::NotText)?;
    if decoded.contains('\0') {
        return Err(KeyError::NotText);
    }
    Ok(decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_strips_the_slash() {
        assert_eq!(object_key("/a%20b/c.html").unwrap(), "a b/c.html");
        assert_eq!(object_key("/crossdomain.xml").unwrap(), "crossdomain.xml");
        assert_eq!(object_key("/").unwrap(), "");
        assert_eq!(object_key("/%FF"), Err(KeyError::NotText));
        assert_eq!(object_key("/a%00"), Err(KeyError::NotText));
        assert_eq!(object_key(&"/a".repeat(5000)), Err(KeyError::TooLong));
    }
}
