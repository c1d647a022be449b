//! The AWS SigV4 test suite (aws-sig-v4-test-suite, 2015-08-30 edition, as published with
//! https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html): each vector's
//! request (`<name>.req`) and the signature of its `<name>.authz`, for service `service`, region
//! `us-east-1`, access key `AKIDEXAMPLE`. The verifier must accept each, and refuse each once
//! its signature is changed.
//!
//! Left out:
//! - get-header-value-multiline: its header value is folded over three lines (obs-fold), which
//!   RFC 9112 §5.2 forbids and which an `http::HeaderValue` cannot hold (it refuses CR and LF).
//! - post-x-www-form-urlencoded-parameters: its canonical request (`.creq`) puts the form body
//!   `Param1=value1` in the query string and hashes an empty payload, which no SDK does for a
//!   REST service (botocore hashes the body as sent).
//! - post-sts-header-after: the token is sent but not signed; botocore signs it, and so the
//!   verifier refuses such a request ([`unsigned_session_token_is_refused`]).
//!
//! The path vectors (get-space, get-utf8, …) write their paths unencoded; the canonical URI the
//! suite expects is that path encoded once, which is what the verifier does to the path as
//! received (botocore's paths arrive encoded once already, hence CloudFront's double encoding).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};

use super::{DEFAULT_MAX_SKEW, Request, verify_for_service};
use crate::credentials::{ApiCredential, Credentials};

struct Vector {
    name: &'static str,
    /// The `.req` file.
    request: &'static str,
    /// From the `.authz` file.
    signed_headers: &'static str,
    signature: &'static str,
}

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// post-sts-token/readme.txt.
const SESSION_TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

#[rustfmt::skip]
const VECTORS: &[Vector] = &[
    Vector { name: "get-vanilla", request: "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    Vector { name: "get-vanilla-query", request: "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    Vector { name: "get-vanilla-empty-query-key", request: "GET /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb" },
    Vector { name: "get-vanilla-query-order-key", request: "GET /?Param1=value2&Param1=Value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1" },
    Vector { name: "get-vanilla-query-order-key-case", request: "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500" },
    Vector { name: "get-vanilla-query-order-value", request: "GET /?Param1=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694" },
    Vector { name: "get-vanilla-query-unreserved", request: "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197" },
    Vector { name: "get-vanilla-utf8-query", request: "GET /?ሴ=bar HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04" },
    Vector { name: "get-header-key-duplicate", request: "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\nX-Amz-Date:20150830T123600Z", signed_headers: "host;my-header1;x-amz-date", signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea" },
    Vector { name: "get-header-value-order", request: "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value4\nMy-Header1:value1\nMy-Header1:value3\nMy-Header1:value2\nX-Amz-Date:20150830T123600Z", signed_headers: "host;my-header1;x-amz-date", signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01" },
    Vector { name: "get-header-value-trim", request: "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\nX-Amz-Date:20150830T123600Z", signed_headers: "host;my-header1;my-header2;x-amz-date", signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736" },
    Vector { name: "get-unreserved", request: "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f" },
    Vector { name: "get-utf8", request: "GET /ሴ HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85" },
    Vector { name: "get-space", request: "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741" },
    Vector { name: "get-slash", request: "GET // HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    Vector { name: "get-slashes", request: "GET //example// HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84" },
    Vector { name: "get-slash-dot-slash", request: "GET /./ HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    Vector { name: "get-slash-pointless-dot", request: "GET /./example HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5" },
    Vector { name: "get-relative", request: "GET /example/.. HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    Vector { name: "get-relative-relative", request: "GET /example1/example2/../.. HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31" },
    Vector { name: "post-vanilla", request: "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
    Vector { name: "post-vanilla-query", request: "POST /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11" },
    Vector { name: "post-vanilla-empty-query-value", request: "POST /?Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11" },
    Vector { name: "post-header-key-case", request: "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "host;x-amz-date", signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b" },
    Vector { name: "post-header-key-sort", request: "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1\nX-Amz-Date:20150830T123600Z", signed_headers: "host;my-header1;x-amz-date", signature: "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c" },
    Vector { name: "post-header-value-case", request: "POST / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:VALUE1\nX-Amz-Date:20150830T123600Z", signed_headers: "host;my-header1;x-amz-date", signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d" },
    Vector { name: "post-x-www-form-urlencoded", request: "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded; charset=utf-8\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z", signed_headers: "content-type;host;x-amz-date", signature: "0c3bc22986c53164a4755b4466c2e17db853888c5ddb98567e700a3ecdb262f6" },
    Vector { name: "post-sts-header-before", request: "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nX-Amz-Security-Token:AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==", signed_headers: "host;x-amz-date;x-amz-security-token", signature: "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead" },
];

/// 20150830T123600Z, when the suite signed.
fn suite_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

fn credentials(session_token: Option<&str>) -> Credentials {
    Credentials::new(vec![ApiCredential {
        access_key_id: "AKIDEXAMPLE".to_owned(),
        secret_access_key: SECRET.to_owned(),
        session_token: session_token.map(str::to_owned),
    }])
    .unwrap()
}

/// A `.req` file as an HTTP server hands it over: method, path, query, headers (leading and
/// trailing whitespace of values stripped, as HTTP parsers do), body.
struct Parsed {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

fn parse(request: &str) -> Parsed {
    let (head, body) = request.split_once("\n\n").unwrap_or((request, ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap();
    let (method, rest) = request_line.split_once(' ').unwrap();
    let target = rest.strip_suffix(" HTTP/1.1").unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = HeaderMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').unwrap();
        headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value.trim()).unwrap());
    }
    Parsed {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn with_authorization(mut parsed: Parsed, signed_headers: &str, signature: &str) -> Parsed {
    let value = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders={signed_headers}, Signature={signature}"
    );
    parsed.headers.insert(http::header::AUTHORIZATION, value.parse().unwrap());
    parsed
}

fn verify(parsed: &Parsed, credentials: &Credentials) -> Result<String, crate::ApiError> {
    let request = Request {
        method: &parsed.method,
        path: &parsed.path,
        query: &parsed.query,
        headers: &parsed.headers,
        body: &parsed.body,
    };
    verify_for_service(&request, credentials, suite_time(), DEFAULT_MAX_SKEW, "service")
}

#[test]
fn every_vector_verifies() {
    for vector in VECTORS {
        let token = vector.signed_headers.contains("x-amz-security-token").then_some(SESSION_TOKEN);
        let parsed = with_authorization(parse(vector.request), vector.signed_headers, vector.signature);
        let result = verify(&parsed, &credentials(token));
        assert_eq!(result, Ok("AKIDEXAMPLE".to_owned()), "{}", vector.name);
    }
}

#[test]
fn every_vector_with_another_signature_is_refused() {
    for vector in VECTORS {
        let token = vector.signed_headers.contains("x-amz-security-token").then_some(SESSION_TOKEN);
        let last = if vector.signature.ends_with('0') { "1" } else { "0" };
        let signature = format!("{}{last}", &vector.signature[..63]);
        let parsed = with_authorization(parse(vector.request), vector.signed_headers, &signature);
        let err = verify(&parsed, &credentials(token)).unwrap_err();
        assert_eq!((err.status, err.code), (403, "SignatureDoesNotMatch"), "{}", vector.name);
    }
}

/// post-sts-header-after: the token added after signing.
#[test]
fn unsigned_session_token_is_refused() {
    let request = "POST / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z";
    let signature = "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b";
    let mut parsed = with_authorization(parse(request), "host;x-amz-date", signature);
    assert!(verify(&parsed, &credentials(None)).is_ok(), "the request as signed");
    parsed.headers.insert("x-amz-security-token", SESSION_TOKEN.parse().unwrap());
    assert_eq!(verify(&parsed, &credentials(Some(SESSION_TOKEN))).unwrap_err().code, "InvalidClientTokenId");
    assert_eq!(verify(&parsed, &credentials(None)).unwrap_err().code, "InvalidClientTokenId");
}
