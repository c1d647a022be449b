//! A web site as an operator makes one: the AWS CLI creates a web distribution through the
//! CloudFront API on an S3 bucket (the real S3 server of sf-testkit) with a second, custom HTTP
//! origin (sf-testkit's web server) reached by a path-pattern behavior; then plain HTTP clients
//! check what is served, the behaviors' TTLs, and that an invalidation takes effect.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::api::{Aws, json_file, poll};
use common::web::{Reply, request};
use common::*;
use serde_json::{Value, json};
use sf_testkit::{S3Server, WebServer};

/// A cache behavior: the legacy ForwardedValues form, with the query string in the key.
fn behavior(target: &str, min_ttl: u64) -> Value {
    json!({
        "TargetOriginId": target,
        "ViewerProtocolPolicy": "allow-all",
        "AllowedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"],
            "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}},
        "Compress": true,
        "ForwardedValues": {"QueryString": true, "Cookies": {"Forward": "none"}},
        "MinTTL": min_ttl,
        "DefaultTTL": 86400,
        "MaxTTL": 31536000,
    })
}

fn with_pattern(pattern: &str, mut behavior: Value) -> Value {
    behavior["PathPattern"] = json!(pattern);
    behavior
}

/// The bucket `media` under `site/` by default, `/api/*` from the custom origin on `web_port`,
/// `/pinned/*` from the bucket with a MinTTL of an hour.
fn site_config(web_port: u16) -> Value {
    json!({
        "CallerReference": "web-site-test",
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 2, "Items": [
            {"Id": "bucket", "DomainName": "media.s3.amazonaws.com", "OriginPath": "/site",
                "S3OriginConfig": {"OriginAccessIdentity": ""}},
            {"Id": "app", "DomainName": "127.0.0.1", "OriginPath": "",
                "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Edge-Secret", "HeaderValue": "s3cret"}]},
                "CustomOriginConfig": {"HTTPPort": web_port, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
                    "OriginReadTimeout": 10},
                "ConnectionAttempts": 1, "ConnectionTimeout": 2},
        ]},
        "DefaultCacheBehavior": behavior("bucket", 0),
        "CacheBehaviors": {"Quantity": 2, "Items": [
            with_pattern("api/*", behavior("app", 0)),
            with_pattern("pinned/*", behavior("bucket", 3600)),
        ]},
        "Comment": "a player site",
        "Enabled": true,
    })
}

/// The API, the S3 server and the custom origin, and the distribution the CLI created.
pub struct Site {
    pub server: Server,
    pub aws: Aws,
    pub s3: S3Server,
    pub web: WebServer,
    pub id: String,
    pub domain: String,
    pub dir: TempDir,
}

impl Site {
    /// Starts everything with `objects` in the bucket under `site/`, and waits until the
    /// distribution is served.
    pub fn start(objects: &[(&str, &[u8])]) -> Site {
        let dir = TempDir::new("web-site");
        let s3 = S3Server::start(&dir.path().join("s3"));
        for (key, data) in objects {
            s3.put(&format!("site/{key}"), data);
        }
        let web_root = dir.path().join("app");
        std::fs::create_dir_all(&web_root).unwrap();
        let web = WebServer::start(&web_root);
        web.require_header("X-Edge-Secret", "s3cret");
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let server = Server::start_with(
            &empty,
            ServerOptions {
                origin_spec: Some("none".into()),
                env: s3.aws_env(),
                args: vec!["--distribution-domain".into(), "cdn.test".into()],
                api: true,
                ..Default::default()
            },
        );
        let aws = Aws::new(&server);
        let file = json_file(dir.path(), "site.json", &site_config(web.port()));
        let created = aws.ok(&["cloudfront", "create-distribution", "--distribution-config", &file]);
        let id = created["Distribution"]["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}")).to_owned();
        let domain = created["Distribution"]["DomainName"].as_str().unwrap().to_owned();
        let site = Site { server, aws, s3, web, id, domain, dir };
        site.wait_served();
        site
    }

    fn wait_served(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let reply = self.get("/served-yet", &[]);
            if reply.status != 404 || !reply.text().contains("no distribution") {
                return;
            }
            assert!(Instant::now() < deadline, "the distribution is not served: {} {}", reply.status, reply.text());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.server.http_port, "GET", &self.domain, path, headers)
    }

    /// Replaces `key` under `site/` in the bucket, optionally with a `Cache-Control`.
    fn put(&self, key: &str, data: &[u8], cache_control: Option<&str>) {
        self.s3.put_with(&format!("site/{key}"), data, cache_control);
    }

    fn web_root(&self) -> &Path {
        self.web.root()
    }
}

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
