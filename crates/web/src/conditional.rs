//! Conditional GET and HEAD against the cached representation (RFC 9110 §13).
//!
//! The edge answers viewers' conditionals itself, from the `ETag` and `Last-Modified` it stored
//! with the object, with a bodiless 304 as RFC 9110 §15.4.5 describes. A field that does not
//! parse is ignored: it never blocks a response.

use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{IF_MATCH, IF_MODIFIED_SINCE, IF_NONE_MATCH, IF_RANGE, IF_UNMODIFIED_SINCE};
use http::{HeaderMap, Method};

/// The validators of the representation the edge would send.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Validators<'a> {
    /// `ETag` as the origin sent it (or as weakened for a compressed response), quotes
    /// included. An invalid one counts as none.
    pub etag: Option<&'a str>,
    /// `Last-Modified`; compared at whole seconds, as HTTP dates carry.
    pub last_modified: Option<SystemTime>,
}

/// What the conditionals of a request decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 304 Not Modified, no body (`If-None-Match` or `If-Modified-Since` held).
    NotModified,
    /// 412 Precondition Failed (`If-Match` or `If-Unmodified-Since` failed).
    PreconditionFailed,
    /// Serve the representation.
    Proceed {
        /// Whether a `Range` header may be honoured: the method is GET and there is no
        /// `If-Range`, or it matches (RFC 9110 §13.1.5). When false, send the whole 200.
        apply_range: bool,
    },
}

/// Evaluates the request's preconditions in RFC 9110 §13.2.2's order. Only GET and HEAD are
/// evaluated here (the edge answers them from cache); other methods get `Proceed` and go to the
/// origin with their conditionals.
pub fn evaluate(method: &Method, request: &HeaderMap, current: &Validators) -> Outcome {
    let is_get = *method == Method::GET;
    if !is_get && *method != Method::HEAD {
        return Outcome::Proceed { apply_range: false };
    }
    let etag = current.etag.and_then(|e| whole_tag(e.as_bytes()));
    let last_modified = current.last_modified.map(unix_seconds);

    // Step 1 (§13.1.1): If-Match, strong comparison.
    let if_match = tag_list_matches(request, &IF_MATCH, etag, Comparison::Strong);
    if if_match == Some(false) {
        return Outcome::PreconditionFailed;
    }
    // Step 2 (§13.1.4): If-Unmodified-Since, only without If-Match.
    if if_match.is_none()
        && let (Some(date), Some(modified)) = (single_date(request, &IF_UNMODIFIED_SINCE), last_modified)
        && modified > date
    {
        return Outcome::PreconditionFailed;
    }
    // Step 3 (§13.1.2): If-None-Match, weak comparison; a match on GET or HEAD is a 304.
    if request.contains_key(IF_NONE_MATCH) {
        if tag_list_matches(request, &IF_NONE_MATCH, etag, Comparison::Weak) == Some(true) {
            return Outcome::NotModified;
        }
    } else if let (Some(date), Some(modified)) = (single_date(request, &IF_MODIFIED_SINCE), last_modified)
        // Step 4 (§13.1.3): If-Modified-Since, only without If-None-Match.
        && modified <= date
    {
        return Outcome::NotModified;
    }
    // Step 5 (§13.1.5): If-Range decides whether Range applies.
    let apply_range = is_get
        && match request.get(IF_RANGE) {
            None => true,
            Some(value) => if_range_holds(value.as_bytes(), etag, last_modified),
        };
    Outcome::Proceed { apply_range }
}

/// An entity-tag (RFC 9110 §8.8.3): weak or strong, and the opaque-tag with its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    opaque: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    /// Both strong and the same opaque-tag (§8.8.3.2).
    Strong,
    /// The same opaque-tag, weak or not.
    Weak,
}

impl EntityTag<'_> {
    fn matches(&self, other: &EntityTag, comparison: Comparison) -> bool {
        self.opaque == other.opaque && (comparison == Comparison::Weak || (!self.weak && !other.weak))
    }
}

/// `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE` at the start of `s`, and what follows it.
fn parse_tag(s: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let (weak, s) = match s.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let body = s.strip_prefix(b"\"")?;
    // etagc = %x21 / %x23-7E / obs-text: anything visible but DQUOTE.
    let close = body.iter().position(|&c| c == b'"')?;
    if !body[..close].iter().all(|&c| c == 0x21 || (0x23..=0x7e).contains(&c) || c >= 0x80) {
        return None;
    }
    Some((EntityTag { weak, opaque: &s[..close + 2] }, &body[close + 1..]))
}

/// A value that is exactly one entity-tag.
fn whole_tag(s: &[u8]) -> Option<EntityTag<'_>> {
    match parse_tag(s.trim_ascii()) {
        Some((tag, [])) => Some(tag),
        _ => None,
    }
}

/// Whether an `If-Match` or `If-None-Match` field (`"*" / #entity-tag`, over all its lines)
/// matches the current tag. `None` when the field is absent or does not parse.
fn tag_list_matches(
    request: &HeaderMap,
    name: &http::HeaderName,
    current: Option<EntityTag>,
    comparison: Comparison,
) -> Option<bool> {
    let mut values = request.get_all(name).iter().peekable();
    values.peek()?;
    let mut matched = false;
    for value in values {
        let value = value.as_bytes().trim_ascii();
        if value == b"*" {
            // "*" matches any current representation; the edge only asks when it has one.
            matched = true;
            continue;
        }
        let mut rest = value;
        loop {
            // #rule: elements separated by commas with optional whitespace; empty ones ignored.
            rest = rest.trim_ascii_start();
            while let Some(r) = rest.strip_prefix(b",") {
                rest = r.trim_ascii_start();
            }
            if rest.is_empty() {
                break;
            }
            let (tag, after) = parse_tag(rest)?;
            matched |= current.is_some_and(|c| c.matches(&tag, comparison));
            rest = after.trim_ascii_start();
            if !rest.is_empty() && !rest.starts_with(b",") {
                return None;
            }
        }
    }
    Some(matched)
}

/// A date field given exactly once with a valid HTTP-date (§5.6.7), in Unix seconds.
fn single_date(request: &HeaderMap, name: &http::HeaderName) -> Option<u64> {
    let mut values = request.get_all(name).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    parse_date(value.as_bytes())
}

fn parse_date(value: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(value).ok()?;
    httpdate::parse_http_date(text.trim()).ok().map(unix_seconds)
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// `If-Range = entity-tag / HTTP-date` (§13.1.5): a strong match of the current ETag, or a date
/// equal to `Last-Modified`. Anything else, a weak tag included, is false.
fn if_range_holds(value: &[u8], etag: Option<EntityTag>, last_modified: Option<u64>) -> bool {
    let value = value.trim_ascii();
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return match (whole_tag(value), etag) {
            (Some(tag), Some(current)) => current.matches(&tag, Comparison::Strong),
            _ => false,
        };
    }
    matches!((parse_date(value), last_modified), (Some(date), Some(modified)) if date == modified)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const MODIFIED: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
    const EARLIER: &str = "Sun, 06 Nov 1994 08:49:36 GMT";
    const LATER: &str = "Sun, 06 Nov 1994 08:49:38 GMT";

    fn modified() -> SystemTime {
        httpdate::parse_http_date(MODIFIED).unwrap()
    }

    fn current() -> Validators<'static> {
        Validators { etag: Some("\"xyzzy\""), last_modified: Some(modified()) }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        map
    }

    fn get(pairs: &[(&str, &str)]) -> Outcome {
        evaluate(&Method::GET, &headers(pairs), &current())
    }

    const SERVE: Outcome = Outcome::Proceed { apply_range: true };
    const SERVE_WHOLE: Outcome = Outcome::Proceed { apply_range: false };

    #[test]
    fn no_conditionals_serve_with_range() {
        assert_eq!(get(&[]), SERVE);
        assert_eq!(evaluate(&Method::HEAD, &headers(&[]), &current()), SERVE_WHOLE);
    }

    #[test]
    fn if_none_match_uses_weak_comparison_and_lists() {
        assert_eq!(get(&[("if-none-match", "\"xyzzy\"")]), Outcome::NotModified);
        assert_eq!(get(&[("if-none-match", "W/\"xyzzy\"")]), Outcome::NotModified);
        assert_eq!(get(&[("if-none-match", "\"a\", \"xyzzy\"")]), Outcome::NotModified);
        assert_eq!(get(&[("if-none-match", "\"a\""), ("if-none-match", "\"xyzzy\"")]), Outcome::NotModified);
        assert_eq!(get(&[("if-none-match", "*")]), Outcome::NotModified);
        assert_eq!(get(&[("if-none-match", "\"a\", W/\"b\"")]), SERVE);
        // Commas inside an opaque-tag are part of it.
        assert_eq!(get(&[("if-none-match", "\"xy,zzy\"")]), SERVE);
        let comma = Validators { etag: Some("\"a,b\""), ..current() };
        let h = headers(&[("if-none-match", "\"c\", \"a,b\"")]);
        assert_eq!(evaluate(&Method::GET, &h, &comma), Outcome::NotModified);
        let weak_current = Validators { etag: Some("W/\"xyzzy\""), ..current() };
        let h = headers(&[("if-none-match", "\"xyzzy\"")]);
        assert_eq!(evaluate(&Method::HEAD, &h, &weak_current), Outcome::NotModified);
    }

    #[test]
    fn if_none_match_overrides_if_modified_since() {
        assert_eq!(get(&[("if-none-match", "\"other\""), ("if-modified-since", MODIFIED)]), SERVE);
    }

    #[test]
    fn if_modified_since_compares_dates() {
        assert_eq!(get(&[("if-modified-since", MODIFIED)]), Outcome::NotModified);
        assert_eq!(get(&[("if-modified-since", LATER)]), Outcome::NotModified);
        assert_eq!(get(&[("if-modified-since", EARLIER)]), SERVE);
        // Sub-second parts of Last-Modified do not count.
        let v = Validators { last_modified: Some(modified() + Duration::from_millis(500)), ..current() };
        assert_eq!(evaluate(&Method::GET, &headers(&[("if-modified-since", MODIFIED)]), &v), Outcome::NotModified);
        // Ignored: invalid date, repeated field, no Last-Modified.
        assert_eq!(get(&[("if-modified-since", "yesterday")]), SERVE);
        assert_eq!(get(&[("if-modified-since", MODIFIED), ("if-modified-since", MODIFIED)]), SERVE);
        let no_date = Validators { last_modified: None, ..current() };
        assert_eq!(evaluate(&Method::GET, &headers(&[("if-modified-since", LATER)]), &no_date), SERVE);
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        assert_eq!(get(&[("if-match", "\"xyzzy\"")]), SERVE);
        assert_eq!(get(&[("if-match", "\"a\", \"xyzzy\"")]), SERVE);
        assert_eq!(get(&[("if-match", "*")]), SERVE);
        assert_eq!(get(&[("if-match", "\"a\"")]), Outcome::PreconditionFailed);
        assert_eq!(get(&[("if-match", "W/\"xyzzy\"")]), Outcome::PreconditionFailed);
        let no_tag = Validators { etag: None, ..current() };
        assert_eq!(
            evaluate(&Method::GET, &headers(&[("if-match", "\"xyzzy\"")]), &no_tag),
            Outcome::PreconditionFailed
        );
        // A field that does not parse is ignored.
        assert_eq!(get(&[("if-match", "xyzzy")]), SERVE);
        assert_eq!(get(&[("if-match", "\"xyzzy\" junk")]), SERVE);
    }

    #[test]
    fn if_unmodified_since_only_without_if_match() {
        assert_eq!(get(&[("if-unmodified-since", EARLIER)]), Outcome::PreconditionFailed);
        assert_eq!(get(&[("if-unmodified-since", MODIFIED)]), SERVE);
        assert_eq!(get(&[("if-match", "\"xyzzy\""), ("if-unmodified-since", EARLIER)]), SERVE);
        assert_eq!(get(&[("if-unmodified-since", "garbage")]), SERVE);
    }

    #[test]
    fn if_match_is_evaluated_before_if_none_match() {
        assert_eq!(get(&[("if-match", "\"a\""), ("if-none-match", "\"xyzzy\"")]), Outcome::PreconditionFailed);
    }

    #[test]
    fn if_range_decides_whether_range_applies() {
        assert_eq!(get(&[("range", "bytes=0-1"), ("if-range", "\"xyzzy\"")]), SERVE);
        assert_eq!(get(&[("range", "bytes=0-1"), ("if-range", "\"other\"")]), SERVE_WHOLE);
        // A weak tag never matches for If-Range.
        assert_eq!(get(&[("range", "bytes=0-1"), ("if-range", "W/\"xyzzy\"")]), SERVE_WHOLE);
        assert_eq!(get(&[("range", "bytes=0-1"), ("if-range", MODIFIED)]), SERVE);
        assert_eq!(get(&[("range", "bytes=0-1"), ("if-range", LATER)]), SERVE_WHOLE);
        assert_eq!(get(&[("range", "bytes=0-1"), ("if-range", "junk")]), SERVE_WHOLE);
        let weak_current = Validators { etag: Some("W/\"xyzzy\""), ..current() };
        let h = headers(&[("range", "bytes=0-1"), ("if-range", "\"xyzzy\"")]);
        assert_eq!(evaluate(&Method::GET, &h, &weak_current), SERVE_WHOLE);
    }

    #[test]
    fn other_methods_are_left_to_the_origin() {
        let h = headers(&[("if-none-match", "\"xyzzy\"")]);
        assert_eq!(evaluate(&Method::POST, &h, &current()), SERVE_WHOLE);
    }

    #[test]
    fn an_invalid_current_etag_counts_as_none() {
        for invalid in ["xyzzy", "\"xyzzy\" junk", "\"xyzzy"] {
            let bad = Validators { etag: Some(invalid), last_modified: None };
            assert_eq!(evaluate(&Method::GET, &headers(&[("if-none-match", "\"xyzzy\"")]), &bad), SERVE, "{invalid}");
        }
    }
}
