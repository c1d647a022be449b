//! For the web distribution tests: a plain HTTP/1.1 client (one request per connection, the
//! response read whole), and a site the AWS CLI creates on an S3 bucket and a custom origin.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sf_testkit::{S3Server, WebServer};

use super::api::{Aws, json_file};
use super::{Server, ServerOptions, TempDir};

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`, so the body is what comes
/// before the end of the stream).
pub fn request(port: u16, method: &str, host: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Reply { status, headers, body: raw[end + 4..].to_vec() }
}

/// A cache behavior: the legacy ForwardedValues form, with the query string in the key.
pub fn behavior(target: &str, min_ttl: u64) -> Value {
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

pub fn with_pattern(pattern: &str, mut behavior: Value) -> Value {
    behavior["PathPattern"] = json!(pattern);
    behavior
}

/// The bucket `media` under `site/` by default, `/api/*` from the custom origin on `web_port`,
/// `/pinned/*` from the bucket with a MinTTL of an hour; 404s cached for 2 s.
pub fn site_config(web_port: u16) -> Value {
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
        // A missing object is remembered for 2 s (CloudFront's default is 10).
        "CustomErrorResponses": {"Quantity": 1, "Items": [{"ErrorCode": 404, "ErrorCachingMinTTL": 2}]},
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
    pub fn put(&self, key: &str, data: &[u8], cache_control: Option<&str>) {
        self.s3.put_with(&format!("site/{key}"), data, cache_control);
    }

    pub fn web_root(&self) -> &Path {
        self.web.root()
    }
}
