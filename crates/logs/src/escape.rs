//! Field values as CloudFront writes them: URL-encoded bytes 0–32 and 127 and above, and
//! `< > " # % { } | \ ^ ~ [ ] ' ` ` (space as `%20`), and `-` for a value that is absent or
//! empty. Source: Amazon CloudFront Developer Guide, "Configuring and using standard logs
//! (access logs)", https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/AccessLogs.html
//! (the same rules for RTMP distributions in the guide's 2020 version of that page).

use std::fmt::Write;

/// The value as one log field: never empty, never a tab or a line break.
pub fn field(value: Option<&str>) -> String {
    match value {
        None | Some("") => "-".to_owned(),
        Some(value) => escape(value),
    }
}

fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &byte in value.as_bytes() {
        if must_encode(byte) {
            write!(out, "%{byte:02X}").expect("writing to a String does not fail");
        } else {
            out.push(byte as char);
        }
    }
    out
}

fn must_encode(byte: u8) -> bool {
    byte <= 32 || byte >= 127 || b"<>\"#%{}|\\^~[]'`".contains(&byte)
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn encodes_what_cloudfront_encodes_and_nothing_else() {
        // The Flash version string of AWS's sample log.
        assert_eq!(field(Some("LNX 10,0,32,18")), "LNX%2010,0,32,18");
        assert_eq!(field(Some("p=2&q=4")), "p=2&q=4");
        assert_eq!(field(Some("a\tb\nc\r")), "a%09b%0Ac%0D");
        assert_eq!(field(Some("<>\"#%{}|\\^~[]'`")), "%3C%3E%22%23%25%7B%7D%7C%5C%5E%7E%5B%5D%27%60");
        assert_eq!(field(Some("é\u{7f}")), "%C3%A9%7F");
        assert_eq!(field(Some("http://player.example.com/player.swf")), "http://player.example.com/player.swf");
        assert_eq!(field(Some("Mozilla/5.0 (X11; Linux)")), "Mozilla/5.0%20(X11;%20Linux)");
    }

    #[test]
    fn absent_and_empty_are_a_dash() {
        assert_eq!(field(None), "-");
        assert_eq!(field(Some("")), "-");
    }
}
