//! SigV4 verification of the CloudFront API: arbitrary requests into `sf_api::sigv4::verify`,
//! which must answer every one with Ok or a 403, never panic. The input is read as
//! `METHOD PATH[?QUERY]\nName: value\n…\n\nBODY` (lines that are no valid header are dropped), so
//! the seeds, signed requests for the `cloudfront` service, get mutated field by field.
#![no_main]

use std::sync::OnceLock;
use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;
use sf_api::credentials::{ApiCredential, Credentials};
use sf_api::sigv4::{DEFAULT_MAX_SKEW, Request, verify};

fn credentials() -> &'static Credentials {
    static CREDENTIALS: OnceLock<Credentials> = OnceLock::new();
    CREDENTIALS.get_or_init(|| {
        let credential = |id: &str, token: Option<&str>| ApiCredential {
            access_key_id: id.to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: token.map(str::to_owned),
        };
        Credentials::new(vec![credential("AKIDEXAMPLE", None), credential("ASIAEXAMPLE", Some("token"))]).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split('\n');
    let request_line = lines.next().unwrap_or("");
    let (method, target) = request_line.split_once(' ').unwrap_or((request_line, "/"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value.trim()))
        else {
            continue;
        };
        headers.append(name, value);
    }
    let request = Request { method, path, query, headers: &headers, body };
    // When the seeds were signed, so that they get as far as the signature.
    let now = UNIX_EPOCH + Duration::from_secs(1_440_938_160);
    if let Err(e) = verify(&request, credentials(), now, DEFAULT_MAX_SKEW) {
        assert_eq!(e.status, 403, "{e}");
    }
});
