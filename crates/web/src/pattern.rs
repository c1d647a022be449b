//! Which cache behavior serves a request path, and uniform access to its settings.
//!
//! CloudFront Developer Guide, "Values that you specify when you create or update a
//! distribution" (distribution-web-values-specify), Path pattern: behaviors are tried in list
//! order and the first match wins; the default behavior's pattern is `*` and comes last; `*`
//! matches 0 or more characters, `?` exactly one; matching is case-sensitive; a leading `/` in
//! the pattern is optional; the query string is not part of the match, so
//! `images/*.jpg` also matches `/images/a/b.jpg`.

use std::borrow::Cow;

use sf_dist::{
    DefaultCacheBehavior, DistributionConfig, ForwardedValues, Method, TrustedKeyGroups, TrustedSigners,
    ViewerProtocolPolicy, WireEnum,
};

use crate::headers::QueryStringKey;
use crate::ttl::Ttls;

/// Whether `path` (the request path, without its query string) matches a CloudFront
/// `PathPattern`. Runs in O(pattern × path) at worst, with no allocation.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    // "The path pattern ... a leading / is optional": compare both without it.
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern).as_bytes();
    let text = path.strip_prefix('/').unwrap_or(path);
    let bytes = text.as_bytes();
    let (mut p, mut t) = (0, 0);
    // After a `*`: the pattern position behind it and the text position its run ends at, so a
    // failed literal match can retry with the run one character longer.
    let mut star: Option<(usize, usize)> = None;
    while t < bytes.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p + 1, t));
                p += 1;
            }
            Some(b'?') => {
                p += 1;
                t += char_len_at(text, t);
            }
            Some(&c) if c == bytes[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((after_star, run_end)) => {
                    let run_end = run_end + char_len_at(text, run_end);
                    star = Some((after_star, run_end));
                    p = after_star;
                    t = run_end;
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The length in bytes of the character that starts at byte `i` of `text` (`?` and `*` step by
/// characters, not bytes).
fn char_len_at(text: &str, i: usize) -> usize {
    text[i..].chars().next().map_or(1, char::len_utf8)
}

/// The behavior that serves `path`: the first `CacheBehavior` in order whose `PathPattern`
/// matches, else the `DefaultCacheBehavior`.
pub fn select_behavior<'a>(config: &'a DistributionConfig, path: &str) -> Behavior<'a> {
    config
        .cache_behaviors
        .iter()
        .find(|b| path_matches(&b.path_pattern, path))
        .map(|b| Behavior { path_pattern: &b.path_pattern, settings: &b.behavior, is_default: false })
        .unwrap_or(Behavior { path_pattern: "*", settings: &config.default_cache_behavior, is_default: true })
}

/// The object a request path names: `/` becomes `/<DefaultRootObject>` when one is set; every
/// other path, `/install/` included, stays as it is (Developer Guide, "Specify a default root
/// object", DefaultRootObject).
pub fn object_path<'a>(config: &DistributionConfig, path: &'a str) -> Cow<'a, str> {
    match config.default_root_object.as_deref() {
        Some(root) if path == "/" && !root.is_empty() => Cow::Owned(format!("/{root}")),
        _ => Cow::Borrowed(path),
    }
}

/// A selected cache behavior: a `CacheBehavior` or the `DefaultCacheBehavior`, with the
/// defaults CloudFront applies to members left out.
#[derive(Debug, Clone, Copy)]
pub struct Behavior<'a> {
    path_pattern: &'a str,
    settings: &'a DefaultCacheBehavior,
    is_default: bool,
}

/// Managed cache policies a behavior may name by `CachePolicyId` (Developer Guide, "Use managed
/// cache policies"): their TTLs, and whether their Gzip/Brotli settings allow compression.
/// None of them puts the query string in the cache key.
const MANAGED_CACHE_POLICIES: [(&str, Ttls, bool); 3] = [
    // CachingOptimized
    ("658327ea-f89d-4fab-a63d-7e88639e58f6", Ttls { min: 1, default: 86_400, max: 31_536_000 }, true),
    // CachingDisabled
    ("4135ea2d-6df8-44a3-9df3-4b5a84be39ad", Ttls { min: 0, default: 0, max: 0 }, false),
    // CachingOptimizedForUncompressedObjects
    ("b2884449-e4de-46a7-ac36-70bc7f1ddd6d", Ttls { min: 1, default: 86_400, max: 31_536_000 }, false),
];

/// GET and HEAD: what `AllowedMethods` and `CachedMethods` are when left out, and what
/// CloudFront "always caches" (Developer Guide, RequestAndResponseBehaviorS3Origin).
const GET_HEAD: [Method; 2] = [Method::Get, Method::Head];

impl<'a> Behavior<'a> {
    /// Whether this is the `DefaultCacheBehavior`.
    pub fn is_default(&self) -> bool {
        self.is_default
    }

    /// The `PathPattern` that matched; `*` for the default behavior.
    pub fn path_pattern(&self) -> &'a str {
        self.path_pattern
    }

    /// The behavior's members as configured.
    pub fn settings(&self) -> &'a DefaultCacheBehavior {
        self.settings
    }

    /// `TargetOriginId`: the id of the origin (or origin group) requests go to.
    pub fn target_origin_id(&self) -> &'a str {
        &self.settings.target_origin_id
    }

    /// Whether `AllowedMethods` lets `method` through (GET and HEAD when left out). Others get
    /// 403 at the edge.
    pub fn allows(&self, method: &http::Method) -> bool {
        let allowed = self.settings.allowed_methods.as_ref().map_or(&GET_HEAD[..], |m| &m.items[..]);
        allowed.iter().any(|m| m.as_str() == method.as_str())
    }

    /// Whether responses to `method` are cached: always GET and HEAD, OPTIONS only when
    /// `CachedMethods` lists it, never anything else.
    pub fn caches(&self, method: &http::Method) -> bool {
        if *method == http::Method::GET || *method == http::Method::HEAD {
            return true;
        }
        let cached = self.settings.allowed_methods.as_ref().map_or(&[][..], |m| &m.cached_methods[..]);
        *method == http::Method::OPTIONS && cached.contains(&Method::Options)
    }

    /// `MinTTL`, `DefaultTTL` and `MaxTTL` in seconds: a managed cache policy's when
    /// `CachePolicyId` names one, else the legacy members with CloudFront's defaults (0, 86400,
    /// 31536000; distribution-web-values-specify). Negative values count as 0.
    pub fn ttls(&self) -> Ttls {
        if let Some((_, ttls, _)) = self.managed_policy() {
            return ttls;
        }
        let seconds = |v: Option<i64>, default: u64| v.map_or(default, |v| v.max(0) as u64);
        Ttls {
            min: seconds(self.settings.min_ttl, 0),
            default: seconds(self.settings.default_ttl, Ttls::DEFAULT.default),
            max: seconds(self.settings.max_ttl, Ttls::DEFAULT.max),
        }
    }

    /// What of the query string goes into the cache key (`ForwardedValues.QueryString` and
    /// `QueryStringCacheKeys`, Developer Guide "Cache content based on query string
    /// parameters"). A cache policy, or no `ForwardedValues`, keys on none of it.
    pub fn query_string_key(&self) -> QueryStringKey<'a> {
        match self.forwarded_values() {
            Some(f) if self.settings.cache_policy_id.is_none() && f.query_string => {
                if f.query_string_cache_keys.is_empty() {
                    QueryStringKey::All
                } else {
                    QueryStringKey::Only(&f.query_string_cache_keys)
                }
            }
            _ => QueryStringKey::None,
        }
    }

    /// Whether `Compress` is on and nothing else rules compression out: a managed cache
    /// policy with Gzip/Brotli off, or `Accept-Encoding` listed among the forwarded headers
    /// ("Listing Accept-Encoding explicitly in the cache key disables compression",
    /// Developer Guide, ServingCompressedFiles).
    pub fn compress(&self) -> bool {
        if self.settings.compress != Some(true) {
            return false;
        }
        if let Some((_, _, compress)) = self.managed_policy() {
            return compress;
        }
        let forwards_accept_encoding = self
            .forwarded_values()
            .is_some_and(|f| f.headers.iter().any(|h| h.eq_ignore_ascii_case("accept-encoding")));
        !forwards_accept_encoding
    }

    /// `ViewerProtocolPolicy`.
    pub fn viewer_protocol_policy(&self) -> ViewerProtocolPolicy {
        self.settings.viewer_protocol_policy
    }

    /// `TrustedSigners`, when enabled: viewers need URLs or cookies signed by these accounts.
    pub fn trusted_signers(&self) -> Option<&'a TrustedSigners> {
        self.settings.trusted_signers.as_ref().filter(|t| t.enabled)
    }

    /// `TrustedKeyGroups`, when enabled: viewers need URLs or cookies signed by these key groups.
    pub fn trusted_key_groups(&self) -> Option<&'a TrustedKeyGroups> {
        self.settings.trusted_key_groups.as_ref().filter(|t| t.enabled)
    }

    /// `ForwardedValues`, the legacy cache key and forwarding settings.
    pub fn forwarded_values(&self) -> Option<&'a ForwardedValues> {
        self.settings.forwarded_values.as_ref()
    }

    fn managed_policy(&self) -> Option<(&'static str, Ttls, bool)> {
        let id = self.settings.cache_policy_id.as_deref()?;
        MANAGED_CACHE_POLICIES.iter().copied().find(|(managed, _, _)| *managed == id)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_including_slashes() {
        assert!(path_matches("images/*.jpg", "/images/a.jpg"));
        assert!(path_matches("images/*.jpg", "/images/2024/05/a.jpg"));
        assert!(path_matches("images/*.jpg", "/images/.jpg"));
        assert!(!path_matches("images/*.jpg", "/images/a.jpeg"));
        assert!(!path_matches("images/*.jpg", "/video/images/a.jpg"));
        assert!(path_matches("*", "/"));
        assert!(path_matches("*", "/anything/at/all?x"));
        assert!(path_matches("*.mp4", "/v/a.mp4"));
        assert!(path_matches("a*b*c", "/axxbyyc"));
        assert!(path_matches("a*b*c", "/abcbc"));
        assert!(!path_matches("a*b*c", "/abcb"));
        assert!(path_matches("a**", "/a"));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        assert!(path_matches("/v?.mp4", "/v1.mp4"));
        assert!(!path_matches("/v?.mp4", "/v.mp4"));
        assert!(!path_matches("/v?.mp4", "/v12.mp4"));
        assert!(path_matches("/v?.mp4", "/v/.mp4"));
        // One character, not one byte.
        assert!(path_matches("/v?.mp4", "/vé.mp4"));
        assert!(path_matches("/*é?", "/xéy"));
    }

    #[test]
    fn matching_is_case_sensitive_and_anchored() {
        assert!(!path_matches("images/*", "/Images/a.jpg"));
        assert!(!path_matches("a.jpg", "/a.jpgx"));
        assert!(!path_matches("a.jpg", "/xa.jpg"));
        assert!(!path_matches("", "/a"));
        assert!(path_matches("", "/"));
    }

    #[test]
    fn leading_slash_in_the_pattern_is_optional() {
        assert!(path_matches("/images/*", "/images/a.jpg"));
        assert!(path_matches("images/*", "/images/a.jpg"));
        assert!(path_matches("/index.html", "/index.html"));
        assert!(path_matches("index.html", "/index.html"));
    }

    fn config(json: serde_json::Value) -> DistributionConfig {
        serde_json::from_value(json).unwrap()
    }

    fn behavior_json(origin: &str, extra: serde_json::Value) -> serde_json::Value {
        let mut b = serde_json::json!({
            "TargetOriginId": origin, "TrustedSigners": null, "TrustedKeyGroups": null,
            "ViewerProtocolPolicy": "allow-all", "AllowedMethods": null, "SmoothStreaming": null,
            "Compress": null, "LambdaFunctionAssociations": [], "FunctionAssociations": [],
            "FieldLevelEncryptionId": null, "RealtimeLogConfigArn": null, "CachePolicyId": null,
            "OriginRequestPolicyId": null, "ResponseHeadersPolicyId": null, "GrpcConfig": null,
            "ForwardedValues": null, "MinTTL": null, "DefaultTTL": null, "MaxTTL": null,
        });
        for (k, v) in extra.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    }

    pub(crate) fn test_config(default: serde_json::Value, behaviors: Vec<serde_json::Value>) -> DistributionConfig {
        config(serde_json::json!({
            "CallerReference": "r", "Aliases": [], "DefaultRootObject": "index.html",
            "Origins": [], "OriginGroups": [], "DefaultCacheBehavior": behavior_json("default", default),
            "CacheBehaviors": behaviors.into_iter().map(|b| {
                let pattern = b["PathPattern"].clone();
                let mut full = behavior_json(b["TargetOriginId"].as_str().unwrap(), b.clone());
                full["PathPattern"] = pattern;
                full
            }).collect::<Vec<_>>(),
            "CustomErrorResponses": [], "Comment": "", "Logging": null, "PriceClass": null,
            "Enabled": true, "ViewerCertificate": null, "Restrictions": null, "WebACLId": null,
            "HttpVersion": null, "IsIPV6Enabled": null, "ContinuousDeploymentPolicyId": null,
            "Staging": null, "AnycastIpListId": null, "TenantConfig": null, "ConnectionMode": null,
            "ViewerMtlsConfig": null, "ConnectionFunctionAssociation": null, "CacheTagConfig": null,
        }))
    }

    fn two_behaviors() -> DistributionConfig {
        test_config(
            serde_json::json!({}),
            vec![
                serde_json::json!({"PathPattern": "/videos/*.mp4", "TargetOriginId": "media"}),
                serde_json::json!({"PathPattern": "videos/*", "TargetOriginId": "web"}),
            ],
        )
    }

    #[test]
    fn first_matching_behavior_in_order_wins_then_the_default() {
        let c = two_behaviors();
        assert_eq!(select_behavior(&c, "/videos/a.mp4").target_origin_id(), "media");
        assert_eq!(select_behavior(&c, "/videos/x/a.mp4").target_origin_id(), "media");
        assert_eq!(select_behavior(&c, "/videos/a.webm").target_origin_id(), "web");
        let default = select_behavior(&c, "/index.html");
        assert_eq!(default.target_origin_id(), "default");
        assert!(default.is_default());
        assert!(!select_behavior(&c, "/videos/a.webm").is_default());
    }

    #[test]
    fn default_root_object_applies_to_slash_only() {
        let mut c = two_behaviors();
        assert_eq!(object_path(&c, "/"), "/index.html");
        assert_eq!(object_path(&c, "/install/"), "/install/");
        assert_eq!(object_path(&c, "/a.html"), "/a.html");
        c.default_root_object = Some(String::new());
        assert_eq!(object_path(&c, "/"), "/");
        c.default_root_object = None;
        assert_eq!(object_path(&c, "/"), "/");
    }

    #[test]
    fn methods_default_to_get_and_head_and_options_is_cached_only_when_listed() {
        let c = test_config(
            serde_json::json!({}),
            vec![serde_json::json!({"PathPattern": "api/*", "TargetOriginId": "o",
                "AllowedMethods": {"Items": ["GET", "HEAD", "OPTIONS"], "CachedMethods": ["GET", "HEAD", "OPTIONS"]}})],
        );
        let default = select_behavior(&c, "/a");
        assert!(default.allows(&http::Method::GET) && default.allows(&http::Method::HEAD));
        assert!(!default.allows(&http::Method::OPTIONS) && !default.allows(&http::Method::POST));
        assert!(default.caches(&http::Method::GET) && !default.caches(&http::Method::OPTIONS));
        let api = select_behavior(&c, "/api/x");
        assert!(api.allows(&http::Method::OPTIONS) && !api.allows(&http::Method::DELETE));
        assert!(api.caches(&http::Method::OPTIONS) && !api.caches(&http::Method::POST));
    }

    #[test]
    fn ttls_come_from_the_behavior_with_cloudfront_defaults_or_a_managed_policy() {
        let c = test_config(
            serde_json::json!({"MinTTL": 5}),
            vec![
                serde_json::json!({"PathPattern": "a", "TargetOriginId": "o", "MinTTL": 1, "DefaultTTL": 60, "MaxTTL": 600}),
                serde_json::json!({"PathPattern": "b", "TargetOriginId": "o",
                    "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}),
            ],
        );
        assert_eq!(select_behavior(&c, "/x").ttls(), Ttls { min: 5, default: 86_400, max: 31_536_000 });
        assert_eq!(select_behavior(&c, "/a").ttls(), Ttls { min: 1, default: 60, max: 600 });
        assert_eq!(select_behavior(&c, "/b").ttls(), Ttls { min: 0, default: 0, max: 0 });
    }

    #[test]
    fn query_string_key_follows_forwarded_values() {
        let fv = |qs: bool, keys: serde_json::Value| {
            serde_json::json!({"QueryString": qs, "Cookies": {"Forward": "none", "WhitelistedNames": []},
                "Headers": [], "QueryStringCacheKeys": keys})
        };
        let c = test_config(
            serde_json::json!({"ForwardedValues": fv(false, serde_json::json!([]))}),
            vec![
                serde_json::json!({"PathPattern": "all", "TargetOriginId": "o", "ForwardedValues": fv(true, serde_json::json!([]))}),
                serde_json::json!({"PathPattern": "some", "TargetOriginId": "o",
                    "ForwardedValues": fv(true, serde_json::json!(["v", "lang"]))}),
            ],
        );
        assert_eq!(select_behavior(&c, "/x").query_string_key(), QueryStringKey::None);
        assert_eq!(select_behavior(&c, "/all").query_string_key(), QueryStringKey::All);
        let keys = ["v".to_string(), "lang".to_string()];
        assert_eq!(select_behavior(&c, "/some").query_string_key(), QueryStringKey::Only(&keys));
    }

    #[test]
    fn compress_needs_the_flag_and_no_accept_encoding_in_the_key() {
        let fv = |headers: serde_json::Value| {
            serde_json::json!({"QueryString": false, "Cookies": {"Forward": "none", "WhitelistedNames": []},
                "Headers": headers, "QueryStringCacheKeys": []})
        };
        let c = test_config(
            serde_json::json!({"Compress": true, "ForwardedValues": fv(serde_json::json!([]))}),
            vec![
                serde_json::json!({"PathPattern": "off", "TargetOriginId": "o"}),
                serde_json::json!({"PathPattern": "ae", "TargetOriginId": "o", "Compress": true,
                    "ForwardedValues": fv(serde_json::json!(["accept-encoding"]))}),
                serde_json::json!({"PathPattern": "nocache", "TargetOriginId": "o", "Compress": true,
                    "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}),
            ],
        );
        assert!(select_behavior(&c, "/x").compress());
        assert!(!select_behavior(&c, "/off").compress());
        assert!(!select_behavior(&c, "/ae").compress());
        assert!(!select_behavior(&c, "/nocache").compress());
    }
}
