//! The response `Cache-Control` directives CloudFront's TTL rules read (RFC 9111 §5.2.2).
//!
//! A small parser rather than a crate: the one on crates.io (`cache_control` 0.2) never sets
//! `s-maxage` and drops `private` when `no-cache` follows it, and a full policy engine such as
//! `http-cache-semantics` applies a browser cache's rules, not CloudFront's table. This one
//! walks the value once, allocates nothing, and so needs no length bound of its own.

/// The directives of a response's `Cache-Control` that decide how long the edge keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheControl {
    /// `max-age`, seconds.
    pub max_age: Option<u64>,
    /// `s-maxage`, seconds: for shared caches such as the edge, it wins over `max-age`.
    pub s_maxage: Option<u64>,
    /// `no-cache` (with or without a field list).
    pub no_cache: bool,
    /// `no-store`.
    pub no_store: bool,
    /// `private` (with or without a field list).
    pub private: bool,
    /// `stale-if-error` (RFC 5861 §4), seconds.
    pub stale_if_error: Option<u64>,
}

/// delta-seconds too large to represent are taken as 2^31 (RFC 9111 §1.2.2).
const DELTA_SECONDS_MAX: u64 = 1 << 31;

impl CacheControl {
    /// Parses a `Cache-Control` value; several field lines may be joined with `,`. Directive
    /// names are case-insensitive; arguments may be tokens or quoted strings (§5.2). The first
    /// occurrence of a directive counts; an argument that is not a number makes the
    /// response stale (`0`), as RFC 9111 §4.2.1 encourages. Unknown directives are skipped.
    pub fn parse(value: &str) -> CacheControl {
        let mut cc = CacheControl::default();
        let mut rest = value;
        while !rest.is_empty() {
            let (directive, after) = split_directive(rest);
            rest = after;
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(unquote(argument.trim()))),
                None => (directive.trim(), None),
            };
            let seconds = || argument.map_or(0, delta_seconds);
            if name.eq_ignore_ascii_case("max-age") {
                cc.max_age = cc.max_age.or(Some(seconds()));
            } else if name.eq_ignore_ascii_case("s-maxage") {
                cc.s_maxage = cc.s_maxage.or(Some(seconds()));
            } else if name.eq_ignore_ascii_case("stale-if-error") {
                cc.stale_if_error = cc.stale_if_error.or(Some(seconds()));
            } else if name.eq_ignore_ascii_case("no-cache") {
                cc.no_cache = true;
            } else if name.eq_ignore_ascii_case("no-store") {
                cc.no_store = true;
            } else if name.eq_ignore_ascii_case("private") {
                cc.private = true;
            }
        }
        cc
    }

    /// The freshness lifetime a shared cache reads from this header: `s-maxage`, else
    /// `max-age` (RFC 9111 §4.2.1).
    pub fn shared_max_age(&self) -> Option<u64> {
        self.s_maxage.or(self.max_age)
    }

    /// Whether the origin asked for the response not to be reused without it: `no-cache`,
    /// `no-store` or `private`.
    pub fn forbids_caching(&self) -> bool {
        self.no_cache || self.no_store || self.private
    }
}

/// The first directive of `s` and the rest after its comma; commas inside a quoted string do
/// not split (`no-cache="a, b"`).
fn split_directive(s: &str) -> (&str, &str) {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => return (&s[..i], &s[i + 1..]),
            _ => {}
        }
    }
    (s, "")
}

fn unquote(s: &str) -> &str {
    s.strip_prefix('"').and_then(|s| s.strip_suffix('"')).unwrap_or(s)
}

/// `delta-seconds = 1*DIGIT`, saturating at 2^31; anything else is 0 (stale).
fn delta_seconds(s: &str) -> u64 {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    s.bytes().fold(0u64, |n, d| (n * 10 + u64::from(d - b'0')).min(DELTA_SECONDS_MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_directives_that_set_ttls() {
        let cc = CacheControl::parse("public, max-age=60, s-maxage=600, stale-if-error=30");
        assert_eq!(cc.max_age, Some(60));
        assert_eq!(cc.s_maxage, Some(600));
        assert_eq!(cc.stale_if_error, Some(30));
        assert_eq!(cc.shared_max_age(), Some(600));
        assert!(!cc.forbids_caching());
        assert_eq!(CacheControl::parse("max-age=60").shared_max_age(), Some(60));
        assert_eq!(CacheControl::parse("").shared_max_age(), None);
    }

    #[test]
    fn no_cache_no_store_and_private_each_forbid_caching() {
        for value in ["no-cache", "no-store", "private", "private, no-cache", "no-cache, private", "NO-STORE"] {
            assert!(CacheControl::parse(value).forbids_caching(), "{value}");
        }
        let cc = CacheControl::parse("private, no-cache");
        assert!(cc.private && cc.no_cache && !cc.no_store);
        // Field-qualified forms, with a comma inside the quotes.
        let cc = CacheControl::parse("no-cache=\"Set-Cookie, X-A\", max-age=5");
        assert!(cc.no_cache);
        assert_eq!(cc.max_age, Some(5));
    }

    #[test]
    fn names_are_case_insensitive_and_arguments_may_be_quoted() {
        let cc = CacheControl::parse(" Max-Age = \"120\" ,S-MAXAGE=7");
        assert_eq!(cc.max_age, Some(120));
        assert_eq!(cc.s_maxage, Some(7));
    }

    #[test]
    fn first_occurrence_counts_and_bad_numbers_are_stale() {
        assert_eq!(CacheControl::parse("max-age=10, max-age=20").max_age, Some(10));
        assert_eq!(CacheControl::parse("max-age=abc").max_age, Some(0));
        assert_eq!(CacheControl::parse("max-age=-1").max_age, Some(0));
        assert_eq!(CacheControl::parse("max-age").max_age, Some(0));
        assert_eq!(CacheControl::parse("max-age=99999999999999999999999").max_age, Some(1 << 31));
    }

    #[test]
    fn unknown_directives_and_empty_elements_are_skipped() {
        let cc = CacheControl::parse(",, immutable, foo=\"bar,baz\", max-age=3,");
        assert_eq!(cc, CacheControl { max_age: Some(3), ..CacheControl::default() });
        // A directive inside a quoted argument is not a directive.
        assert_eq!(CacheControl::parse("foo=\"a, max-age=7\", max-age=5").max_age, Some(5));
    }
}
