//! A web site as an operator makes one: the AWS CLI creates a web distribution through the
//! CloudFront API on an S3 bucket (the real S3 server of sf-testkit) with a second, custom HTTP
//! origin (sf-testkit's web server) reached by a path-pattern behavior; then plain HTTP clients
//! check what is served, the behaviors' TTLs, and that an invalidation takes effect.

mod common;

use std::time::Duration;

use common::api::poll;
use common::web::{Reply, Site};
use common::*;
use serde_json::{Value, json};

fn ok(reply: &Reply, what: &str) {
    assert_eq!(reply.status, 200, "{what}: {reply:?} {}", reply.text());
}

#[test]
fn the_cli_creates_a_site_served_from_s3_and_a_custom_origin() {
    let site = Site::start(&[("index.html", b"<h1>home</h1>"), ("player.html", b"<video></video>")]);
    std::fs::create_dir_all(site.web_root().join("api")).unwrap();
    std::fs::write(site.web_root().join("api/hello.json"), br#"{"hello":"app"}"#).unwrap();

    let home = site.get("/", &[]);
    ok(&home, "/");
    assert_eq!(home.text(), "<h1>home</h1>");
    assert!(home.header("content-type").is_some_and(|t| t.starts_with("text/html")), "{home:?}");
    assert_eq!(home.header("x-cache"), Some("Miss from streamfront"));
    assert!(home.header("etag").is_some_and(|e| e.starts_with('"')), "the origin's ETag: {home:?}");
    assert!(home.header("last-modified").is_some(), "the origin's Last-Modified: {home:?}");
    ok(&site.get("/player.html", &[]), "/player.html");

    let api = site.get("/api/hello.json", &[]);
    ok(&api, "/api/hello.json");
    assert_eq!(api.text(), r#"{"hello":"app"}"#);
    assert!(api.header("content-type").is_some_and(|t| t.starts_with("application/json")), "{api:?}");
    let asked: Vec<_> = site.web.requests().into_iter().filter(|r| r.target.starts_with("/api/")).collect();
    assert!(!asked.is_empty(), "the custom origin was asked");
    assert!(asked.iter().all(|r| r.header("x-edge-secret") == Some("s3cret")), "custom header sent: {asked:?}");
    assert_eq!(site.get("/api/hello.json", &[]).header("x-cache"), Some("Hit from streamfront"));

    // The query string is in the key of this behavior: another query is another object.
    let before = site.web.count("GET");
    ok(&site.get("/api/hello.json?v=2", &[]), "with a query");
    assert!(site.web.count("GET") > before, "a new query string goes to the origin");
    assert!(site.web.requests().iter().any(|r| r.target == "/api/hello.json?v=2"), "{:?}", site.web.requests());
    assert_eq!(site.get("/api/hello.json?v=2", &[]).header("x-cache"), Some("Hit from streamfront"));

    // The admin listing shows the web distribution with its origins and status.
    let (code, body) = http_get(site.server.admin_addr(), "/distributions", Duration::from_secs(5)).unwrap();
    assert_eq!(code, 200);
    let list: Vec<Value> = serde_json::from_str(&body).unwrap();
    let web = list.iter().find(|d| d["id"] == site.id.as_str()).unwrap_or_else(|| panic!("not listed: {body}"));
    assert_eq!(web["kind"], "web", "{body}");
    assert_eq!(web["domain_name"], site.domain.as_str(), "{body}");
    assert_eq!(web["origins"].as_array().map(Vec::len), Some(2), "{body}");
    assert!(web["version"].is_u64() && web["status"].is_string(), "{body}");
}

#[test]
fn ttls_follow_cache_control_and_a_behaviors_min_ttl() {
    let site = Site::start(&[("index.html", b"home")]);
    site.put("short.txt", b"one", Some("max-age=1"));
    site.put("pinned/short.txt", b"one", Some("max-age=1"));
    assert_eq!(site.get("/short.txt", &[]).text(), "one");
    assert_eq!(site.get("/pinned/short.txt", &[]).text(), "one");
    site.put("short.txt", b"two", Some("max-age=1"));
    site.put("pinned/short.txt", b"two", Some("max-age=1"));
    // Fresh for one second: still the first version.
    assert_eq!(site.get("/short.txt", &[]).text(), "one");
    std::thread::sleep(Duration::from_millis(2500));
    // max-age=1 under MinTTL 0: refetched once it is stale.
    let refetched = site.get("/short.txt", &[]);
    assert_eq!(refetched.text(), "two", "{refetched:?}");
    assert_eq!(refetched.header("x-cache"), Some("Miss from streamfront"));
    // The same header under MinTTL 3600: kept.
    let kept = site.get("/pinned/short.txt", &[]);
    assert_eq!(kept.text(), "one", "{kept:?}");
    assert_eq!(kept.header("x-cache"), Some("Hit from streamfront"));
    assert!(kept.header("age").and_then(|a| a.parse::<u64>().ok()).is_some_and(|a| a >= 2), "{kept:?}");
}

#[test]
fn an_invalidation_makes_a_changed_object_visible_and_completes() {
    let site = Site::start(&[("index.html", b"first")]);
    assert_eq!(site.get("/index.html", &[]).text(), "first");
    site.put("index.html", b"second", None);
    // DefaultTTL is a day: the cache keeps the first version.
    assert_eq!(site.get("/index.html", &[]).text(), "first");
    assert_eq!(site.get("/", &[]).text(), "first");

    let created =
        site.aws.ok(&["cloudfront", "create-invalidation", "--distribution-id", &site.id, "--paths", "/index.html"]);
    let invalidation = created["Invalidation"]["Id"].as_str().unwrap_or_else(|| panic!("{created:#}")).to_owned();
    let done = poll(
        "the invalidation completes",
        Duration::from_secs(30),
        || site.aws.ok(&["cloudfront", "get-invalidation", "--distribution-id", &site.id, "--id", &invalidation]),
        |got| got["Invalidation"]["Status"] == "Completed",
    );
    assert_eq!(done["Invalidation"]["InvalidationBatch"]["Paths"]["Items"], json!(["/index.html"]));
    let after = site.get("/index.html", &[]);
    assert_eq!(after.text(), "second", "{after:?}");
    assert_eq!(after.header("x-cache"), Some("Miss from streamfront"));
    assert_eq!(site.get("/", &[]).text(), "second");
}

#[test]
fn a_missing_object_is_remembered_for_the_error_caching_min_ttl() {
    let site = Site::start(&[("index.html", b"home")]);
    assert_eq!(site.get("/late.txt", &[]).status, 404);
    site.put("late.txt", b"here now", None);
    let cached = site.get("/late.txt", &[]);
    assert_eq!(cached.status, 404, "the 404 is cached: {cached:?}");
    std::thread::sleep(Duration::from_millis(3000));
    // After ErrorCachingMinTTL (2 s), well before the cache's own 10 s for missing names.
    let found = site.get("/late.txt", &[]);
    assert_eq!((found.status, found.text().as_str()), (200, "here now"), "{found:?}");
}
