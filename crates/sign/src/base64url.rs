//! CloudFront's URL-safe base64: standard base64 with `+` → `-`, `=` → `_`, `/` → `~`
//! (Amazon CloudFront Developer Guide, "Create a signature for a signed URL that uses a canned
//! policy": `openssl base64 | tr -- '+=/' '-_~'`; botocore `CloudFrontSigner._url_b64encode`).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};

/// `data` in CloudFront's URL-safe base64.
pub fn encode(data: &[u8]) -> String {
    STANDARD.encode(data).chars().map(to_url_safe).collect()
}

/// Decodes CloudFront's URL-safe base64. The standard characters are accepted too (signers
/// that forgot the substitution), and padding may be left out.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let standard: String = text.chars().map(from_url_safe).collect();
    STANDARD_PAD_INDIFFERENT.decode(standard).ok()
}

fn to_url_safe(c: char) -> char {
    match c {
        '+' => '-',
        '=' => '_',
        '/' => '~',
        other => other,
    }
}

fn from_url_safe(c: char) -> char {
    match c {
        '-' => '+',
        '_' => '=',
        '~' => '/',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_the_substitutions() {
        // Bytes whose standard encoding has `+`, `/` and padding.
        let data = [0xfb, 0xff, 0xbf, 0x01];
        assert_eq!(STANDARD.encode(data), "+/+/AQ==");
        assert_eq!(encode(&data), "-~-~AQ__");
        assert_eq!(decode("-~-~AQ__").unwrap(), data);
        assert_eq!(decode("-~-~AQ").unwrap(), data, "padding left out");
        assert_eq!(decode("+/+/AQ==").unwrap(), data, "standard characters");
        assert!(decode("not base64!").is_none());
    }
}
