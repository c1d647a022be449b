//! How long the edge keeps a response: CloudFront's TTL table (Developer Guide, "Manage how
//! long content stays in the cache (expiration)", Expiration) and its error caching (Developer
//! Guide, "Generate custom error responses", GeneratingCustomErrorResponses).
//!
//! Freshness from the origin's headers follows RFC 9111 §4.2.1 (`s-maxage`, then `max-age`,
//! then `Expires` − `Date`); the behavior's `MinTTL`, `DefaultTTL` and `MaxTTL` then bound it.

use std::time::{Duration, SystemTime};

use crate::cache_control::CacheControl;

/// A behavior's `MinTTL`, `DefaultTTL` and `MaxTTL`, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttls {
    /// `MinTTL`: the least time an object stays, whatever the origin says.
    pub min: u64,
    /// `DefaultTTL`: for responses with no `max-age`, `s-maxage` or `Expires`.
    pub default: u64,
    /// `MaxTTL`: the most time an object stays, whatever the origin says.
    pub max: u64,
}

impl Ttls {
    /// CloudFront's defaults: 0, 24 hours, one year (distribution-web-values-specify).
    pub const DEFAULT: Ttls = Ttls { min: 0, default: 86_400, max: 31_536_000 };
}

/// The origin response headers that set freshness, as the origin sent them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OriginFreshness<'a> {
    /// `Cache-Control` (several field lines joined with `,`).
    pub cache_control: Option<&'a str>,
    /// `Expires`.
    pub expires: Option<&'a str>,
    /// `Date`.
    pub date: Option<&'a str>,
}

/// What the edge does with a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl {
    /// Whether to keep it at all. False only for `no-cache`, `no-store` or `private` under
    /// `MinTTL` 0. A stored response with `fresh_for` zero is revalidated before each use.
    pub store: bool,
    /// How long it is served without asking the origin.
    pub fresh_for: Duration,
    /// Whether it may be served stale while the origin fails: yes unless the origin sent
    /// `stale-if-error=0` (Expiration).
    pub stale_on_error: bool,
}

/// The TTL of a cacheable response, from the behavior's TTLs, the origin's headers, and the
/// time the response was received (`now`, for an `Expires` with no usable `Date`).
///
/// - `no-cache`, `no-store` or `private`: not stored under `MinTTL` 0, else kept for `MinTTL`.
/// - `s-maxage`, else `max-age`, else `Expires`: clamped to [`MinTTL`, `MaxTTL`].
/// - None of them: `DefaultTTL`, at least `MinTTL`.
pub fn ttl(ttls: Ttls, origin: &OriginFreshness, now: SystemTime) -> Ttl {
    let cc = origin.cache_control.map(CacheControl::parse).unwrap_or_default();
    let stale_on_error = cc.stale_if_error != Some(0);
    let seconds = if cc.forbids_caching() {
        if ttls.min == 0 {
            return Ttl { store: false, fresh_for: Duration::ZERO, stale_on_error };
        }
        ttls.min
    } else {
        match cc.shared_max_age().or_else(|| expires_lifetime(origin, now)) {
            // Not `u64::clamp`, which panics when a config has MinTTL > MaxTTL: MinTTL wins.
            Some(lifetime) => lifetime.min(ttls.max).max(ttls.min),
            None => ttls.default.max(ttls.min),
        }
    };
    Ttl { store: true, fresh_for: Duration::from_secs(seconds), stale_on_error }
}

/// `Expires` − `Date` (or − `now` without a valid `Date`), not below 0. An `Expires` that is
/// not a valid date, such as `0`, means already expired (RFC 9111 §5.3).
fn expires_lifetime(origin: &OriginFreshness, now: SystemTime) -> Option<u64> {
    let expires = origin.expires?;
    let Ok(expires) = httpdate::parse_http_date(expires.trim()) else { return Some(0) };
    let date = origin.date.and_then(|d| httpdate::parse_http_date(d.trim()).ok()).unwrap_or(now);
    Some(expires.duration_since(date).map_or(0, |d| d.as_secs()))
}

/// Default `ErrorCachingMinTTL`: 10 seconds (GeneratingCustomErrorResponses).
pub const DEFAULT_ERROR_CACHING_MIN_TTL: u64 = 10;

/// How long an error response from the origin is cached, or `None` when it is not
/// (GeneratingCustomErrorResponses, HTTPStatusCodes):
/// - 404, 414, 500, 501, 502, 503, 504: always;
/// - 400, 403, 405, 412, 415: only when the origin sent `max-age` or `s-maxage`;
/// - anything else (416 included): never.
///
/// The time is the larger of `ErrorCachingMinTTL` (10 s when `None`) and the origin's max-age.
pub fn error_ttl(status: u16, error_caching_min_ttl: Option<i64>, cache_control: Option<&str>) -> Option<Duration> {
    let min = error_caching_min_ttl.map_or(DEFAULT_ERROR_CACHING_MIN_TTL, |v| v.max(0) as u64);
    let origin = cache_control.map(CacheControl::parse).unwrap_or_default().shared_max_age();
    let seconds = match status {
        404 | 414 | 500..=504 => min.max(origin.unwrap_or(0)),
        400 | 403 | 405 | 412 | 415 => min.max(origin?),
        _ => return None,
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

    fn now() -> SystemTime {
        httpdate::parse_http_date(NOW).unwrap()
    }

    fn secs(ttls: Ttls, origin: OriginFreshness) -> Option<u64> {
        let t = ttl(ttls, &origin, now());
        t.store.then_some(t.fresh_for.as_secs())
    }

    fn cc(value: &str) -> OriginFreshness<'_> {
        OriginFreshness { cache_control: Some(value), ..Default::default() }
    }

    const MIN0: Ttls = Ttls { min: 0, default: 86_400, max: 3_600 };
    const MIN60: Ttls = Ttls { min: 60, default: 120, max: 3_600 };

    #[test]
    fn no_headers_use_the_default_ttl_at_least_min_ttl() {
        assert_eq!(secs(Ttls::DEFAULT, OriginFreshness::default()), Some(86_400));
        assert_eq!(secs(MIN0, OriginFreshness::default()), Some(86_400));
        assert_eq!(secs(MIN60, OriginFreshness::default()), Some(120));
        assert_eq!(secs(Ttls { min: 500, default: 120, max: 3_600 }, OriginFreshness::default()), Some(500));
        // Directives that set no lifetime leave the default in place.
        assert_eq!(secs(MIN60, cc("public, must-revalidate")), Some(120));
    }

    #[test]
    fn max_age_is_bounded_by_max_ttl_and_min_ttl() {
        assert_eq!(secs(MIN0, cc("max-age=600")), Some(600));
        assert_eq!(secs(MIN0, cc("max-age=36000")), Some(3_600));
        assert_eq!(secs(MIN0, cc("max-age=0")), Some(0));
        assert_eq!(secs(MIN60, cc("max-age=10")), Some(60));
        // AWS's example: MaxTTL 300 with max-age=3600 caches for 300 s.
        assert_eq!(secs(Ttls { min: 0, default: 86_400, max: 300 }, cc("max-age=3600")), Some(300));
    }

    #[test]
    fn s_maxage_wins_over_max_age() {
        assert_eq!(secs(MIN0, cc("max-age=10, s-maxage=100")), Some(100));
        assert_eq!(secs(MIN0, cc("s-maxage=100, max-age=10")), Some(100));
        assert_eq!(secs(MIN0, cc("max-age=10, s-maxage=99999")), Some(3_600));
    }

    #[test]
    fn expires_counts_from_date_and_loses_to_max_age() {
        let expires = "Sun, 06 Nov 1994 08:59:37 GMT"; // 600 s after NOW
        let date = "Sun, 06 Nov 1994 08:54:37 GMT"; // 300 s after NOW
        let only_expires = OriginFreshness { expires: Some(expires), ..Default::default() };
        assert_eq!(secs(MIN0, only_expires), Some(600));
        assert_eq!(secs(MIN0, OriginFreshness { date: Some(date), ..only_expires }), Some(300));
        assert_eq!(secs(Ttls { max: 100, ..MIN0 }, only_expires), Some(100));
        assert_eq!(secs(MIN60, OriginFreshness { expires: Some(NOW), ..Default::default() }), Some(60));
        assert_eq!(secs(MIN0, OriginFreshness { cache_control: Some("max-age=5"), ..only_expires }), Some(5));
        // Past and invalid dates mean already expired.
        assert_eq!(
            secs(MIN0, OriginFreshness { expires: Some("Sat, 05 Nov 1994 08:49:37 GMT"), ..Default::default() }),
            Some(0)
        );
        assert_eq!(secs(MIN0, OriginFreshness { expires: Some("0"), ..Default::default() }), Some(0));
    }

    #[test]
    fn no_cache_no_store_private_are_respected_only_under_min_ttl_zero() {
        for value in ["no-cache", "no-store", "private", "private, max-age=600"] {
            assert_eq!(secs(MIN0, cc(value)), None, "{value}");
            assert_eq!(secs(MIN60, cc(value)), Some(60), "{value}");
        }
    }

    #[test]
    fn stale_if_error_zero_forbids_serving_stale() {
        let t = ttl(MIN60, &cc("max-age=5"), now());
        assert!(t.stale_on_error);
        let t = ttl(MIN60, &cc("max-age=5, stale-if-error=0"), now());
        assert!(!t.stale_on_error);
    }

    #[test]
    fn min_ttl_above_max_ttl_does_not_panic() {
        assert_eq!(secs(Ttls { min: 100, default: 10, max: 50 }, cc("max-age=70")), Some(100));
    }

    #[test]
    fn errors_always_cached_use_error_caching_min_ttl_or_origin_max_age() {
        for status in [404, 414, 500, 501, 502, 503, 504] {
            assert_eq!(error_ttl(status, None, None), Some(Duration::from_secs(10)), "{status}");
        }
        assert_eq!(error_ttl(404, Some(300), None), Some(Duration::from_secs(300)));
        assert_eq!(error_ttl(404, Some(5), Some("max-age=60")), Some(Duration::from_secs(60)));
        assert_eq!(error_ttl(404, Some(500), Some("max-age=60")), Some(Duration::from_secs(500)));
        assert_eq!(error_ttl(503, Some(0), None), None);
    }

    #[test]
    fn some_errors_are_cached_only_with_an_origin_max_age() {
        for status in [400, 403, 405, 412, 415] {
            assert_eq!(error_ttl(status, None, None), None, "{status}");
            assert_eq!(error_ttl(status, None, Some("no-store")), None, "{status}");
            assert_eq!(error_ttl(status, None, Some("max-age=30")), Some(Duration::from_secs(30)), "{status}");
            assert_eq!(error_ttl(status, None, Some("s-maxage=3")), Some(Duration::from_secs(10)), "{status}");
        }
    }

    #[test]
    fn other_statuses_are_never_cached_as_errors() {
        for status in [200, 301, 416, 429, 505] {
            assert_eq!(error_ttl(status, Some(60), Some("max-age=60")), None, "{status}");
        }
    }
}
