//! The canonical request, exactly as botocore builds it for CloudFront (botocore auth.py,
//! `SigV4Auth.canonical_request`; utils.py `normalize_url_path`/`remove_dot_segments`;
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html):
//! `METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED_HEADERS\nPAYLOAD_HASH`.

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};

use super::refusal::signature_does_not_match;
use crate::ApiError;

/// What SigV4 leaves unencoded in query keys and values: the unreserved characters of RFC 3986
/// §2.3 (botocore: `quote(…, safe='-_.~')`).
const QUERY_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// The same, and `/`, for the path (botocore: `quote(…, safe='/~')`).
const PATH_ENCODE: &AsciiSet = &QUERY_ENCODE.remove(b'/');

pub(crate) struct Input<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    /// Lowercase, sorted, each once.
    pub signed_headers: &'a [String],
    pub payload_hash: &'a str,
}

/// The canonical request as bytes: header values need not be UTF-8.
pub(crate) fn canonical_request(input: &Input) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(256 + input.path.len() * 3 + input.query.len() * 3);
    out.extend_from_slice(input.method.to_ascii_uppercase().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(input.path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query(input.query).as_bytes());
    out.push(b'\n');
    for name in input.signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        canonical_header_value(input.headers, name, &mut out)?;
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(input.signed_headers.join(";").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(input.payload_hash.as_bytes());
    Ok(out)
}

/// The path as received (still percent-encoded), without dot segments and empty segments, then
/// percent-encoded once more: CloudFront, like every service but S3, double-encodes.
pub(crate) fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let mut normalized = String::with_capacity(path.len() + 1);
    if path.starts_with('/') {
        normalized.push('/');
    }
    normalized.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        normalized.push('/');
    }
    percent_encode(normalized.as_bytes(), PATH_ENCODE).to_string()
}

/// `key=value` pairs sorted by key, then value, each encoded as SigV4 wants; a bare key is
/// `key=` (`?WithTags` → `WithTags=`). Keys and values are decoded first, so that what a client
/// encoded itself (botocore encodes with the same rule) comes out unchanged.
pub(crate) fn canonical_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (reencode_query_part(key), reencode_query_part(value))
        })
        .collect();
    pairs.sort_unstable();
    let pairs: Vec<String> = pairs.into_iter().map(|(key, value)| format!("{key}={value}")).collect();
    pairs.join("&")
}

fn reencode_query_part(part: &str) -> String {
    let decoded: Vec<u8> = percent_decode_str(part).collect();
    percent_encode(&decoded, QUERY_ENCODE).to_string()
}

/// Every value of header `name` with its whitespace trimmed and inner runs collapsed to one
/// space, joined with `,` (botocore `_header_value`: `' '.join(value.split())`).
fn canonical_header_value(headers: &HeaderMap, name: &str, out: &mut Vec<u8>) -> Result<(), ApiError> {
    let mut values = headers.get_all(name).iter().peekable();
    if values.peek().is_none() {
        return Err(signature_does_not_match(format_args!(
            "The header {name:?} is listed in SignedHeaders but the request does not have it."
        )));
    }
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let words = value.as_bytes().split(|b| is_python_whitespace(*b)).filter(|word| !word.is_empty());
        for (j, word) in words.enumerate() {
            if j > 0 {
                out.push(b' ');
            }
            out.extend_from_slice(word);
        }
    }
    Ok(())
}

/// The ASCII characters Python's `str.split()` splits on.
fn is_python_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_is_normalized_then_encoded_again() {
        // The example of botocore signing a CloudFront request for an id with '/' and ' '.
        assert_eq!(canonical_uri("/2020-05-31/distribution/E%2F1%20x"), "/2020-05-31/distribution/E%252F1%2520x");
        assert_eq!(canonical_uri(""), "/");
        assert_eq!(canonical_uri("//"), "/");
        assert_eq!(canonical_uri("/a/./b/../c//"), "/a/c/");
        assert_eq!(canonical_uri("/../.."), "/");
        assert_eq!(canonical_uri("/-._~AZaz09"), "/-._~AZaz09");
        assert_eq!(canonical_uri("/a b/ሴ"), "/a%20b/%E1%88%B4");
    }

    #[test]
    fn query_is_sorted_and_encoded() {
        assert_eq!(canonical_query(""), "");
        assert_eq!(canonical_query("WithTags"), "WithTags=");
        assert_eq!(canonical_query("b=2&a=1&a=0"), "a=0&a=1&b=2");
        assert_eq!(canonical_query("Marker=E%2F1&MaxItems=10"), "Marker=E%2F1&MaxItems=10");
        assert_eq!(canonical_query("k=a b+c*"), "k=a%20b%2Bc%2A");
        assert_eq!(canonical_query("k=%2f"), "k=%2F");
    }

    #[test]
    fn header_values_are_trimmed_collapsed_and_joined() {
        let mut headers = HeaderMap::new();
        headers.append("x-a", " one   two\t three ".parse().unwrap());
        headers.append("x-a", "four".parse().unwrap());
        let mut out = Vec::new();
        canonical_header_value(&headers, "x-a", &mut out).unwrap();
        assert_eq!(out, b"one two three,four");
        let err = canonical_header_value(&headers, "x-b", &mut out).unwrap_err();
        assert_eq!(err.code, "SignatureDoesNotMatch");
    }
}
