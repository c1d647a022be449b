//! The headers the edge adds to responses, and the cache key.
//!
//! CloudFront adds `X-Cache` (its values follow the access log's `x-edge-result-type`,
//! Developer Guide AccessLogs), `Via` (RequestAndResponseBehaviorS3Origin) and the request id
//! `X-Amz-Cf-Id` (the log's `x-edge-request-id`); `Age` is RFC 9111 §5.1.

use std::borrow::Cow;
use std::time::SystemTime;

use base64::Engine;

/// The name of the request id header, as CloudFront names it, so tools that read it work.
pub const REQUEST_ID_HEADER: &str = "x-amz-cf-id";

/// Where a response came from, for `X-Cache` and the access log's result type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum XCache {
    /// Served from the cache.
    Hit,
    /// Served from the cache after the origin confirmed it (a 304 to a revalidation).
    RefreshHit,
    /// Fetched from the origin.
    Miss,
    /// An error: from the origin, or the edge's own (403, 404, 502, 504…).
    Error,
    /// A redirect to HTTPS (`ViewerProtocolPolicy` `redirect-to-https`).
    Redirect,
}

impl XCache {
    /// The `X-Cache` value: `Hit from streamfront` and so on.
    pub fn header_value(self) -> &'static str {
        match self {
            XCache::Hit => "Hit from streamfront",
            XCache::RefreshHit => "RefreshHit from streamfront",
            XCache::Miss => "Miss from streamfront",
            XCache::Error => "Error from streamfront",
            XCache::Redirect => "Redirect from streamfront",
        }
    }

    /// The access log's result type: `Hit`, `RefreshHit`, `Miss`, `Error` or `Redirect`.
    pub fn result_type(self) -> &'static str {
        match self {
            XCache::Hit => "Hit",
            XCache::RefreshHit => "RefreshHit",
            XCache::Miss => "Miss",
            XCache::Error => "Error",
            XCache::Redirect => "Redirect",
        }
    }
}

/// The `Via` value for an edge named `edge` (its host name): `1.1 <edge> (streamfront)`, shaped
/// like CloudFront's `1.1 <id>.cloudfront.net (CloudFront)` (RFC 9110 §7.6.3).
pub fn via(edge: &str) -> String {
    format!("1.1 {edge} (streamfront)")
}

/// `Age` in seconds (RFC 9111 §4.2.3, §5.1): the object's age when stored (the origin's `Age`,
/// or 0) plus the time it has spent in the cache. A clock that went backwards adds nothing.
pub fn age(stored_at: SystemTime, now: SystemTime, age_when_stored: u64) -> u64 {
    let resident = now.duration_since(stored_at).map_or(0, |d| d.as_secs());
    age_when_stored.saturating_add(resident)
}

/// A request id from 40 caller-supplied random bytes: 56 characters of URL-safe base64, the
/// shape of CloudFront's `X-Amz-Cf-Id`.
pub fn request_id(random: [u8; 40]) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(random)
}

/// What of the query string goes into the cache key (`ForwardedValues`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryStringKey<'a> {
    /// `QueryString` false, or a cache policy: none of it.
    None,
    /// `QueryString` true with no `QueryStringCacheKeys`: all of it, as sent.
    All,
    /// `QueryString` true with `QueryStringCacheKeys`: only these parameters.
    Only(&'a [String]),
}

/// The query string part of the cache key (Developer Guide, QueryStringParameters): `None`
/// when nothing of it counts. Parameters keep the request's order and case; only `&` separates
/// them (`color=red;size=large` is one parameter), and names compare exactly.
pub fn query_cache_key<'q>(key: QueryStringKey, query: Option<&'q str>) -> Option<Cow<'q, str>> {
    let query = query.filter(|q| !q.is_empty())?;
    match key {
        QueryStringKey::None => None,
        QueryStringKey::All => Some(Cow::Borrowed(query)),
        QueryStringKey::Only(names) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|param| {
                    let name = param.split_once('=').map_or(*param, |(name, _)| name);
                    !param.is_empty() && names.iter().any(|n| n == name)
                })
                .collect();
            (!kept.is_empty()).then(|| Cow::Owned(kept.join("&")))
        }
    }
}

/// The cache key of an object: its path, then `?` and the query part when there is one. Paths
/// never hold `?`, so keys cannot collide.
pub fn cache_key(path: &str, query_part: Option<&str>) -> String {
    match query_part {
        Some(query) => format!("{path}?{query}"),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn x_cache_values() {
        assert_eq!(XCache::Hit.header_value(), "Hit from streamfront");
        assert_eq!(XCache::RefreshHit.header_value(), "RefreshHit from streamfront");
        assert_eq!(XCache::Miss.header_value(), "Miss from streamfront");
        assert_eq!(XCache::Error.header_value(), "Error from streamfront");
        assert_eq!(XCache::RefreshHit.result_type(), "RefreshHit");
    }

    #[test]
    fn via_names_the_edge() {
        assert_eq!(via("edge1.example.net"), "1.1 edge1.example.net (streamfront)");
    }

    #[test]
    fn age_adds_time_in_cache_to_age_when_stored() {
        let stored = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        assert_eq!(age(stored, stored, 0), 0);
        assert_eq!(age(stored, stored + Duration::from_millis(59_999), 0), 59);
        assert_eq!(age(stored, stored + Duration::from_secs(60), 5), 65);
        assert_eq!(age(stored, stored - Duration::from_secs(60), 5), 5);
    }

    #[test]
    fn request_id_has_cloudfronts_shape() {
        let id = request_id([0xfb; 40]);
        assert_eq!(id.len(), 56);
        assert!(id.ends_with("=="));
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'='));
        assert_ne!(request_id([1; 40]), request_id([2; 40]));
    }

    #[test]
    fn query_string_in_the_key_follows_forwarded_values() {
        let q = Some("b=2&a=1&B=3&b=4");
        assert_eq!(query_cache_key(QueryStringKey::None, q), None);
        assert_eq!(query_cache_key(QueryStringKey::All, q).as_deref(), Some("b=2&a=1&B=3&b=4"));
        let names = ["b".to_string()];
        assert_eq!(query_cache_key(QueryStringKey::Only(&names), q).as_deref(), Some("b=2&b=4"));
        let names = ["a".to_string(), "b".to_string()];
        assert_eq!(query_cache_key(QueryStringKey::Only(&names), q).as_deref(), Some("b=2&a=1&b=4"));
        let names = ["zzz".to_string()];
        assert_eq!(query_cache_key(QueryStringKey::Only(&names), q), None);
        assert_eq!(query_cache_key(QueryStringKey::All, Some("")), None);
        assert_eq!(query_cache_key(QueryStringKey::All, None), None);
    }

    #[test]
    fn only_ampersand_separates_parameters() {
        let names = ["color".to_string()];
        let key = query_cache_key(QueryStringKey::Only(&names), Some("color=red;size=large&&x=1"));
        assert_eq!(key.as_deref(), Some("color=red;size=large"));
        let names = ["flag".to_string()];
        assert_eq!(query_cache_key(QueryStringKey::Only(&names), Some("flag&x")).as_deref(), Some("flag"));
    }

    #[test]
    fn cache_key_joins_path_and_query_part() {
        assert_eq!(cache_key("/a.html", None), "/a.html");
        assert_eq!(cache_key("/a.html", Some("v=1")), "/a.html?v=1");
    }
}
