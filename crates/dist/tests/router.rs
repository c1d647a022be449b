//! Host → distribution routing.

mod common;

use std::sync::Arc;

use common::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sf_dist::*;

const S1: &str = "s1a2b3c4d5e6f7.cdn.test";
const S2: &str = "s9z8y7x6w5v4u3.cdn.test";
const D1: &str = "d111111abcdef8.cdn.test";
const D2: &str = "d222222abcdef8.cdn.test";

fn router() -> Router {
    Router::build(
        [
            streaming_with("ESTREAM0000001", S1, &["media.example.com", "video.example.com"]),
            streaming_with("ESTREAM0000002", S2, &[]),
        ],
        [
            web_with("EWEB000000001", D1, &["www.example.com", "*.example.com"]),
            web_with("EWEB000000002", D2, &["*.cdn.example.com", "exact.cdn.example.com"]),
        ],
        Some("ESTREAM0000002"),
    )
    .unwrap()
}

fn streaming_id<'a>(router: &'a Router, host: &str) -> Option<(&'a str, Matched)> {
    router.resolve_streaming(host).map(|r| (r.distribution.id.as_str(), r.matched))
}

fn web_id<'a>(router: &'a Router, host: &str) -> Option<(&'a str, Matched)> {
    router.resolve_web(host).map(|r| (r.distribution.id.as_str(), r.matched))
}

#[test]
fn streaming_hosts_route_by_domain_name_and_alias_else_default() {
    let r = router();
    assert_eq!(streaming_id(&r, S1), Some(("ESTREAM0000001", Matched::DomainName)));
    assert_eq!(streaming_id(&r, "video.example.com"), Some(("ESTREAM0000001", Matched::Alias)));
    assert_eq!(streaming_id(&r, S2), Some(("ESTREAM0000002", Matched::DomainName)));
    for unclaimed in ["127.0.0.1", "127.0.0.1:1935", "[::1]:1935", "[::1]", "other.example.com", "", "bad host:x"] {
        assert_eq!(streaming_id(&r, unclaimed), Some(("ESTREAM0000002", Matched::Default)), "{unclaimed:?}");
    }
}

#[test]
fn namespaces_are_separate() {
    let r = router();
    // A web distribution's names never reach the RTMP side (they fall to the default) and
    // a streaming distribution's names never reach the web side.
    assert_eq!(streaming_id(&r, D1), Some(("ESTREAM0000002", Matched::Default)));
    assert_eq!(streaming_id(&r, "www.example.com"), Some(("ESTREAM0000002", Matched::Default)));
    assert_eq!(web_id(&r, S1), None);
    // `media.example.com` is a streaming alias; the web wildcard `*.example.com` covers it on
    // the web side, where the streaming distribution does not exist.
    assert_eq!(web_id(&r, "media.example.com"), Some(("EWEB000000001", Matched::WildcardAlias)));
}

#[test]
fn web_hosts_exact_beats_wildcard_and_the_most_specific_wildcard_wins() {
    let r = router();
    assert_eq!(web_id(&r, D1), Some(("EWEB000000001", Matched::DomainName)));
    assert_eq!(web_id(&r, "www.example.com"), Some(("EWEB000000001", Matched::Alias)));
    assert_eq!(web_id(&r, "shop.example.com"), Some(("EWEB000000001", Matched::WildcardAlias)));
    assert_eq!(web_id(&r, "a.b.example.com"), Some(("EWEB000000001", Matched::WildcardAlias)));
    assert_eq!(web_id(&r, "x.cdn.example.com"), Some(("EWEB000000002", Matched::WildcardAlias)));
    assert_eq!(web_id(&r, "a.b.cdn.example.com"), Some(("EWEB000000002", Matched::WildcardAlias)));
    assert_eq!(web_id(&r, "exact.cdn.example.com"), Some(("EWEB000000002", Matched::Alias)));
    assert_eq!(web_id(&r, "cdn.example.com"), Some(("EWEB000000001", Matched::WildcardAlias)));
    assert_eq!(web_id(&r, "example.com"), None, "*.example.com does not cover example.com");
    assert_eq!(web_id(&r, "127.0.0.1"), None, "no default web distribution");
    assert_eq!(web_id(&r, "[::1]:80"), None);
}

#[test]
fn without_a_default_unclaimed_streaming_hosts_route_nowhere() {
    let r = Router::build([streaming_with("ESTREAM0000001", S1, &[])], [], None).unwrap();
    assert_eq!(streaming_id(&r, S1), Some(("ESTREAM0000001", Matched::DomainName)));
    assert_eq!(streaming_id(&r, "127.0.0.1"), None);
}

#[test]
fn duplicate_names_are_cname_already_exists() {
    let clash = |streaming: Vec<Arc<StreamingDistribution>>, web: Vec<Arc<Distribution>>| {
        Router::build(streaming, web, None).err().expect("should clash")
    };
    let err = clash(
        vec![streaming_with("EA", S1, &["media.example.com"]), streaming_with("EB", S2, &["Media.Example.com"])],
        vec![],
    );
    assert_eq!((err.code, err.field.as_str()), ("CNAMEAlreadyExists", "Aliases.Items[0]"));
    assert!(err.message.contains("EA") && err.message.contains("EB"), "{err}");
    // Across namespaces too: CloudFront keeps one owner per name.
    let err =
        clash(vec![streaming_with("EA", S1, &["media.example.com"])], vec![web_with("EW", D1, &["media.example.com"])]);
    assert_eq!(err.code, "CNAMEAlreadyExists");
    let err = clash(vec![streaming_with("EA", S1, &[]), streaming_with("EB", S1, &[])], vec![]);
    assert_eq!((err.code, err.field.as_str()), ("CNAMEAlreadyExists", "DomainName"));
    let err = clash(vec![], vec![web_with("EW", D1, &["*.example.com"]), web_with("EX", D2, &["*.example.com"])]);
    assert_eq!(err.code, "CNAMEAlreadyExists");
    let err = clash(vec![streaming_with("EA", S1, &[S2])], vec![web_with("EW", S2, &[])]);
    assert_eq!(err.code, "CNAMEAlreadyExists", "an alias may not take another distribution's domain name");
}

#[test]
fn an_unknown_default_is_refused() {
    let err = Router::build([streaming_with("EA", S1, &[])], [], Some("EB")).err().unwrap();
    assert_eq!(err.field, "DefaultStreamingDistribution");
}

#[test]
fn tc_url_host_feeds_the_router() {
    let r = router();
    let host = host_from_tc_url("rtmp://user@VIDEO.example.com:1935/cfx/st").unwrap();
    assert_eq!(streaming_id(&r, host), Some(("ESTREAM0000001", Matched::Alias)));
    assert_eq!(host_from_tc_url("http://video.example.com/cfx/st"), None);
}

/// Writes `host` the ways a client may: mixed case, a `:port`, a trailing dot.
fn disguise(host: &str, rng: &mut StdRng) -> String {
    let mut out: String = host.chars().map(|c| if rng.random_bool(0.5) { c.to_ascii_uppercase() } else { c }).collect();
    if rng.random_bool(0.5) {
        out.push('.');
    }
    if rng.random_bool(0.5) {
        out.push_str(&format!(":{}", rng.random_range(1..=65535u32)));
    }
    out
}

fn random_label(rng: &mut StdRng) -> String {
    let len = rng.random_range(1..=12);
    (0..len).map(|_| b"abcdefghijklmnopqrstuvwxyz0123456789-"[rng.random_range(0..36)] as char).collect()
}

#[test]
fn case_port_and_trailing_dot_never_change_the_route() {
    let r = router();
    let mut rng = StdRng::seed_from_u64(0x5f_d15);
    let known = [S1, S2, D1, D2, "media.example.com", "video.example.com", "www.example.com", "exact.cdn.example.com"];
    for _ in 0..400 {
        // Half known names, half random ones (under a wildcard or not).
        let host = match rng.random_range(0..4) {
            0 | 1 => known[rng.random_range(0..known.len())].to_owned(),
            2 => format!("{}.example.com", random_label(&mut rng)),
            _ => format!("{}.{}.test", random_label(&mut rng), random_label(&mut rng)),
        };
        let written = disguise(&host, &mut rng);
        assert_eq!(streaming_id(&r, &written), streaming_id(&r, &host), "streaming {written:?} vs {host:?}");
        assert_eq!(web_id(&r, &written), web_id(&r, &host), "web {written:?} vs {host:?}");
        let tc_url = format!("rtmp://{written}/cfx/st");
        assert_eq!(host_from_tc_url(&tc_url).map(|h| streaming_id(&r, h)), Some(streaming_id(&r, &host)), "{tc_url}");
    }
}
