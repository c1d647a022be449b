//! The viewer request headers sf-web reads, on arbitrary input: `Range` against a size, the
//! conditionals against a representation's validators, `Cache-Control`/`Expires` into TTLs and
//! `Accept-Encoding`. Nothing may panic, and what `parse_range` returns must be sound: ranges
//! inside the representation, ascending, disjoint, at most `MAX_RANGES`, and a multipart body
//! whose `Content-Length` adds up. The input is read as lines: the representation's size, its
//! ETag, its Last-Modified, then `Name: value` header lines (lines that are no valid header are
//! dropped).
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use libfuzzer_sys::fuzz_target;
use sf_web::range::MAX_RANGES;
use sf_web::{
    CacheControl, OriginFreshness, Part, RangeRequest, Ttls, Validators, accepted_encoding, error_ttl, evaluate,
    multipart, parse_range, ttl,
};

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let size = lines.next().and_then(|l| std::str::from_utf8(l).ok()).and_then(|l| l.trim().parse::<u64>().ok());
    let size = size.unwrap_or(10_000);
    let etag = lines.next().and_then(|l| std::str::from_utf8(l).ok());
    let last_modified =
        lines.next().and_then(|l| std::str::from_utf8(l).ok()).and_then(|l| httpdate::parse_http_date(l).ok());
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else { continue };
        let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(&line[..colon]), HeaderValue::from_bytes(line[colon + 1..].trim_ascii()))
        else {
            continue;
        };
        headers.append(name, value);
    }

    let validators = Validators { etag, last_modified };
    for method in [Method::GET, Method::HEAD] {
        evaluate(&method, &headers, &validators);
    }

    for value in headers.get_all(http::header::RANGE) {
        match parse_range(Some(value.as_bytes()), size) {
            RangeRequest::Full | RangeRequest::Unsatisfiable => {}
            RangeRequest::Single(r) => assert!(r.start <= r.end && r.end < size),
            RangeRequest::Multi(ranges) => {
                assert!(ranges.len() >= 2 && ranges.len() <= MAX_RANGES);
                assert!(ranges.iter().all(|r| r.start <= r.end && r.end < size));
                assert!(ranges.windows(2).all(|w| w[0].end < w[1].start));
                let body = multipart(&ranges, size, Some("video/mp4"), "b");
                let total: u64 = body
                    .parts
                    .iter()
                    .map(|p| match p {
                        Part::Literal(b) => b.len() as u64,
                        Part::Range { len, .. } => *len,
                    })
                    .sum();
                assert_eq!(total, body.content_length);
            }
        }
    }

    let text = |name: http::header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let cache_control = text(http::header::CACHE_CONTROL);
    if let Some(cc) = cache_control {
        CacheControl::parse(cc);
    }
    let origin =
        OriginFreshness { cache_control, expires: text(http::header::EXPIRES), date: text(http::header::DATE) };
    let ttls = Ttls { min: size % 100, default: 86_400, max: size % 1_000 };
    let t = ttl(ttls, &origin, UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    assert!(!t.store || t.fresh_for.as_secs() >= ttls.min);
    error_ttl((size % 600) as u16, Some(10), cache_control);
    if let Some(accept) = text(http::header::ACCEPT_ENCODING) {
        accepted_encoding(accept);
    }
});
