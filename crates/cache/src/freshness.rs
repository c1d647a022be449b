//! How long an object version is trusted without asking the origin (CloudFront's RTMP rules).

use std::time::{Duration, SystemTime};

use crate::origin::ObjectMeta;

/// CloudFront RTMP freshness: 24 hours by default, or the origin's `Cache-Control:
/// max-age` (`s-maxage` first), else the time left until its `Expires`, never below one hour. After that the object is
/// revalidated by its ETag. While the origin fails, what is cached is served for up to
/// `stale_if_error` past its freshness.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    pub default_ttl: Duration,
    /// Floor for the origin's max-age (CloudFront: 3600 s).
    pub min_ttl: Duration,
    /// Ceiling (CloudFront: 100 years).
    pub max_ttl: Duration,
    pub stale_if_error: Duration,
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness {
            default_ttl: Duration::from_secs(24 * 3600),
            min_ttl: Duration::from_secs(3600),
            max_ttl: Duration::from_secs(100 * 365 * 24 * 3600),
            stale_if_error: Duration::from_secs(24 * 3600),
        }
    }
}

impl Freshness {
    /// How long `meta` stays fresh.
    pub fn ttl(&self, meta: &ObjectMeta) -> Duration {
        // CloudFront: max-age wins over Expires.
        let declared =
            meta.cache_control.as_deref().and_then(max_age).or_else(|| meta.expires.as_deref().map(until_expires));
        declared.unwrap_or(self.default_ttl).max(self.min_ttl).min(self.max_ttl)
    }
}

/// The time left until an `Expires` value; none when it is past or not a valid date (RFC 9111
/// section 5.3: an invalid date means "already expired").
pub(crate) fn until_expires(value: &str) -> Duration {
    httpdate::parse_http_date(value.trim())
        .ok()
        .and_then(|at| at.duration_since(SystemTime::now()).ok())
        .unwrap_or_default()
}

/// `s-maxage`, else `max-age`, from a Cache-Control value.
pub(crate) fn max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    let mut s_maxage = None;
    for directive in value.split(',') {
        let Some((name, arg)) = directive.trim().split_once('=') else {
            continue;
        };
        let arg = arg.trim().trim_matches('"');
        let Ok(seconds) = arg.parse::<u64>() else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "max-age" => max_age = Some(Duration::from_secs(seconds)),
            "s-maxage" => s_maxage = Some(Duration::from_secs(seconds)),
            _ => {}
        }
    }
    s_maxage.or(max_age)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(cc: Option<&str>) -> ObjectMeta {
        ObjectMeta { size: 1, version: "v".into(), cache_control: cc.map(str::to_owned), ..ObjectMeta::default() }
    }

    #[test]
    fn cloudfront_rules() {
        let f = Freshness::default();
        assert_eq!(f.ttl(&meta(None)), Duration::from_secs(86400));
        assert_eq!(f.ttl(&meta(Some("public, max-age=7200"))), Duration::from_secs(7200));
        assert_eq!(f.ttl(&meta(Some("max-age=60"))), Duration::from_secs(3600));
        assert_eq!(f.ttl(&meta(Some("max-age=100, s-maxage=9000"))), Duration::from_secs(9000));
        assert_eq!(f.ttl(&meta(Some("no-cache"))), Duration::from_secs(86400));
        assert_eq!(f.ttl(&meta(Some("max-age=99999999999"))), f.max_ttl);
        let expires =
            |at: SystemTime, cc: Option<&str>| ObjectMeta { expires: Some(httpdate::fmt_http_date(at)), ..meta(cc) };
        let in_3h = SystemTime::now() + Duration::from_secs(3 * 3600 + 30);
        assert_eq!(f.ttl(&expires(in_3h, None)).as_secs() / 60, 180);
        assert_eq!(f.ttl(&expires(in_3h, Some("max-age=7200"))), Duration::from_secs(7200), "max-age wins");
        assert_eq!(f.ttl(&expires(SystemTime::UNIX_EPOCH, None)), f.min_ttl);
        assert_eq!(f.ttl(&ObjectMeta { expires: Some("0".into()), ..meta(None) }), f.min_ttl);
    }
}
