//! Web distributions on the HTTP listener: a web distribution committed into the control store
//! (as the CloudFront API commits it) is served by its `Host` from an S3 bucket on the real S3
//! server of sf-testkit, through the cache, to a plain HTTP/1.1 client; other hosts keep the
//! listener's RTMPT and crossdomain.xml.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use common::web::{Reply, request};
use common::*;
use sf_api::state::Change;
use sf_dist::{Distribution, DistributionConfig, DistributionIdentity, Timestamp};
use sf_testkit::S3Server;

const ID: &str = "EWEBTEST00001";
const DOMAIN: &str = "d111111abcdef8.cloudfront.net";
const ALIAS: &str = "www.example.com";

/// A web distribution reading bucket `media` under `site/`, with `index.html` at `/`, a custom
/// page for 404 and `overrides` merged over the config (JSON, as the model's serde names it).
fn config(overrides: serde_json::Value) -> DistributionConfig {
    let behavior = serde_json::json!({
        "TargetOriginId": "s3", "ViewerProtocolPolicy": "allow-all",
        "LambdaFunctionAssociations": [], "FunctionAssociations": [],
        "ForwardedValues": { "QueryString": false, "Cookies": { "Forward": "none", "WhitelistedNames": [] },
            "Headers": [], "QueryStringCacheKeys": [] },
        "MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000, "Compress": true,
    });
    let mut config = serde_json::json!({
        "CallerReference": "web-test", "Aliases": [ALIAS], "DefaultRootObject": "index.html",
        "Origins": [{ "Id": "s3", "DomainName": "media.s3.amazonaws.com", "OriginPath": "/site",
            "CustomHeaders": [], "S3OriginConfig": { "OriginAccessIdentity": "" } }],
        "OriginGroups": [], "DefaultCacheBehavior": behavior, "CacheBehaviors": [],
        "CustomErrorResponses": [{ "ErrorCode": 404, "ResponsePagePath": "/errors/404.html", "ResponseCode": "404" }],
        "Comment": "", "Enabled": true,
    });
    for (key, value) in overrides.as_object().unwrap() {
        config[key] = value.clone();
    }
    serde_json::from_value(config).unwrap()
}

/// Commits the web distribution into the directory store `store` (`Change::PutWeb`, what the
/// API's CreateDistribution commits).
fn put_web(store: &Path, config: DistributionConfig) {
    let identity = DistributionIdentity {
        id: ID.into(),
        arn: format!("arn:aws:cloudfront::123456789012:distribution/{ID}"),
        domain_name: DOMAIN.into(),
    };
    let record = Distribution::new(identity, "E1".into(), config, Vec::new(), Timestamp(0));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let location = sf_control::ControlLocation::parse(&store.display().to_string()).unwrap();
        let store = location.open(&Default::default(), Default::default()).await.unwrap();
        store.commit(&Change::PutWeb { record: Box::new(record) }).await.unwrap();
    });
}

/// An S3 server holding the site, a store with the distribution, and the binary following it.
struct Site {
    server: Server,
    s3: S3Server,
    _dir: TempDir,
}

impl Site {
    fn start(overrides: serde_json::Value, objects: &[(&str, &[u8])], args: &[&str]) -> Site {
        let dir = TempDir::new("web");
        let s3 = S3Server::start(&dir.path().join("s3"));
        for (key, data) in objects {
            s3.put(&format!("site/{key}"), data);
        }
        let store = dir.path().join("control");
        put_web(&store, config(overrides));
        let empty_origin = dir.path().join("default-origin");
        std::fs::create_dir_all(&empty_origin).unwrap();
        let mut all_args = vec!["--store".to_owned(), store.display().to_string()];
        all_args.extend(args.iter().map(|a| a.to_string()));
        let server = Server::start_with(
            &empty_origin,
            ServerOptions { env: s3.aws_env(), args: all_args, ..Default::default() },
        );
        Site { server, s3, _dir: dir }
    }

    fn request(&self, method: &str, host: &str, path: &str, headers: &[(&str, &str)]) -> Reply {
        request(self.server.http_port, method, host, path, headers)
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        self.request("GET", DOMAIN, path, headers)
    }
}

const INDEX: &[u8] = b"<html><body>player page</body></html>\n";
/// Text of a size CloudFront compresses (1,000 to 10,000,000 bytes).
const APP_JS: &str = concat!(
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
    "function play(video) { video.currentTime = 0; video.play(); }\n",
);

/// `gzip -dc` of `data`.
fn gunzip(data: &[u8]) -> Vec<u8> {
    let dir = TempDir::new("gz");
    let path = dir.path().join("body.gz");
    std::fs::write(&path, data).unwrap();
    let out = std::process::Command::new("gzip").arg("-dc").arg(&path).output().unwrap();
    assert!(out.status.success(), "gzip -dc: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

const NOT_FOUND_PAGE: &[u8] = b"<html>no such page</html>\n";

fn media_bytes() -> Vec<u8> {
    (0..300_000u32).map(|i| (i % 251) as u8).collect()
}

#[test]
fn a_web_host_is_served_from_its_bucket_and_other_hosts_keep_the_listener() {
    let media = media_bytes();
    let site = Site::start(
        serde_json::json!({}),
        &[
            ("index.html", INDEX),
            ("video.mp4", &media),
            ("crossdomain.xml", b"<cross-domain-policy/>"),
            ("errors/404.html", NOT_FOUND_PAGE),
            ("app.js", APP_JS.as_bytes()),
        ],
        &[],
    );

    // `/` is the default root object; the first request is a miss, the next a hit.
    let first = site.get("/", &[]);
    assert_eq!(first.status, 200, "{first:?}");
    assert_eq!(first.body, INDEX);
    assert_eq!(first.header("content-type"), Some("text/html"));
    assert_eq!(first.header("content-length"), Some(INDEX.len().to_string().as_str()));
    assert_eq!(first.header("x-cache"), Some("Miss from streamfront"));
    assert!(first.header("via").is_some_and(|v| v.starts_with("1.1 ") && v.ends_with(" (streamfront)")), "{first:?}");
    assert!(first.header("x-amz-cf-id").is_some_and(|id| id.len() == 56), "{first:?}");
    let second = site.get("/index.html", &[]);
    assert_eq!(second.body, INDEX);
    assert_eq!(second.header("x-cache"), Some("Hit from streamfront"));
    assert!(second.header("age").is_some(), "{second:?}");
    assert_ne!(first.header("x-amz-cf-id"), second.header("x-amz-cf-id"));

    // The alias in any case, with a port, is the same distribution.
    let aliased = site.request("GET", "WWW.Example.COM:80", "/video.mp4", &[]);
    assert_eq!(aliased.status, 200);
    assert_eq!(aliased.body, media, "the whole object, streamed across blocks");

    // HEAD: the headers of a GET, no body.
    let head = site.request("HEAD", DOMAIN, "/video.mp4", &[]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("300000"));
    assert_eq!(head.header("accept-ranges"), Some("bytes"));
    assert!(head.body.is_empty());

    // Range: one range, an open one, a suffix, one past the end.
    let ranged = site.get("/video.mp4", &[("Range", "bytes=1000-1999")]);
    assert_eq!(ranged.status, 206);
    assert_eq!(ranged.header("content-range"), Some("bytes 1000-1999/300000"));
    assert_eq!(ranged.body, &media[1000..2000]);
    let open = site.get("/video.mp4", &[("Range", "bytes=299990-")]);
    assert_eq!((open.status, open.body.as_slice()), (206, &media[299_990..]));
    let suffix = site.get("/video.mp4", &[("Range", "bytes=-10")]);
    assert_eq!((suffix.status, suffix.body.as_slice()), (206, &media[299_990..]));
    let beyond = site.get("/video.mp4", &[("Range", "bytes=400000-")]);
    assert_eq!(beyond.status, 416);
    assert_eq!(beyond.header("content-range"), Some("bytes */300000"));

    // Several ranges: one multipart/byteranges 206.
    let multi = site.get("/video.mp4", &[("Range", "bytes=0-9,100-109")]);
    assert_eq!(multi.status, 206, "{multi:?}");
    let boundary = multi.header("content-type").and_then(|t| t.strip_prefix("multipart/byteranges; boundary="));
    let boundary = boundary.unwrap_or_else(|| panic!("{multi:?}")).to_owned();
    let text = String::from_utf8_lossy(&multi.body).into_owned();
    assert!(text.starts_with(&format!("--{boundary}\r\n")), "{text}");
    assert!(
        text.contains("Content-Range: bytes 0-9/300000\r\n")
            && text.contains("Content-Range: bytes 100-109/300000\r\n")
    );
    assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")), "{text}");
    assert_eq!(multi.header("content-length"), Some(multi.body.len().to_string().as_str()));

    // Compression: text when the viewer takes gzip (weak ETag, no length), never the MP4.
    let plain = site.get("/app.js", &[]);
    assert_eq!(plain.body, APP_JS.as_bytes());
    let gzipped = site.get("/app.js", &[("Accept-Encoding", "gzip")]);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"), "{gzipped:?}");
    assert_eq!(gzipped.header("vary"), Some("Accept-Encoding"));
    assert!(gzipped.header("etag").is_some_and(|e| e.starts_with("W/\"")), "{gzipped:?}");
    assert!(gzipped.body.len() < APP_JS.len() / 4, "{} bytes", gzipped.body.len());
    assert_eq!(gunzip(&strip_chunks(&gzipped)), APP_JS.as_bytes());
    let video = site.get("/video.mp4", &[("Accept-Encoding", "gzip, br"), ("Range", "bytes=0-9")]);
    assert_eq!((video.status, video.header("content-encoding")), (206, None));

    // A conditional GET with the ETag the first answer gave.
    let etag = ranged.header("etag").expect("an ETag from S3").to_owned();
    let unchanged = site.get("/video.mp4", &[("If-None-Match", &etag)]);
    assert_eq!(unchanged.status, 304, "{unchanged:?}");
    assert!(unchanged.body.is_empty());
    let other = site.get("/video.mp4", &[("If-None-Match", "\"something-else\"")]);
    assert_eq!(other.status, 200);

    // Listener paths are object paths on a web host.
    let policy = site.get("/crossdomain.xml", &[]);
    assert_eq!(policy.body, b"<cross-domain-policy/>", "the bucket's own policy");
    let open_path = site.request("POST", DOMAIN, "/open/1", &[("Content-Length", "0")]);
    assert_eq!(open_path.status, 403, "POST is not in AllowedMethods: {open_path:?}");

    // A missing object: the custom error page, with the origin's status.
    let missing = site.get("/nothing-here.html", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, NOT_FOUND_PAGE);
    assert_eq!(missing.header("x-cache"), Some("Error from streamfront"));

    // Other hosts: the listener as before, and a 404 naming the host for anything else.
    let allow_all = site.request("GET", "127.0.0.1", "/crossdomain.xml", &[]);
    assert_eq!(allow_all.status, 200);
    assert!(allow_all.text().contains("<allow-access-from domain=\"*\"/>"), "{}", allow_all.text());
    let unknown = site.request("GET", "nobody.example.org", "/index.html", &[]);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.text(), "no distribution serves the host nobody.example.org\n");
    let tunnel = site.request("POST", "127.0.0.1", "/fcs/ident2", &[("Content-Length", "0")]);
    assert_eq!(tunnel.status, 404, "FMS's identification probe");

    // Every request was logged and counted.
    let log = site.server.log();
    assert!(log.contains("web request") && log.contains(ID), "{log}");
    let metrics = http_get(site.server.admin_addr(), "/metrics", Duration::from_secs(5)).unwrap().1;
    let hits = format!("streamfront_web_requests_total{{distribution=\"{ID}\",status_class=\"2xx\",cache=\"Hit\"}}");
    assert!(metrics.lines().any(|l| l.starts_with(&hits)), "{hits} not in\n{metrics}");
    assert!(metrics.contains(&format!("streamfront_web_sent_bytes_total{{distribution=\"{ID}\"}}")), "{metrics}");
}

/// The body of a chunked response, de-chunked (others as they are).
fn strip_chunks(reply: &Reply) -> Vec<u8> {
    if reply.header("transfer-encoding") != Some("chunked") {
        return reply.body.clone();
    }
    let (mut out, mut rest) = (Vec::new(), reply.body.as_slice());
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
        rest = &rest[line_end + 2 + size + 2..];
    }
}

#[test]
fn a_disabled_distribution_answers_403() {
    let site = Site::start(serde_json::json!({ "Enabled": false }), &[("index.html", INDEX)], &[]);
    let reply = site.get("/index.html", &[]);
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(reply.text().contains("disabled"), "{}", reply.text());
}

#[test]
fn an_origin_outage_serves_what_is_cached_then_502() {
    let mut site = Site::start(serde_json::json!({}), &[("index.html", INDEX), ("other.html", INDEX)], &[]);
    assert_eq!(site.get("/", &[]).status, 200);
    site.s3.stop();
    // Cached: still served (the cache's stale-if-error), as a hit.
    let cached = site.get("/", &[]);
    assert_eq!((cached.status, cached.body.as_slice()), (200, INDEX), "{cached:?}");
    // Never fetched: the origin cannot be reached.
    let uncached = site.get("/other.html", &[]);
    assert_eq!(uncached.status, 502, "{uncached:?}");
    assert!(uncached.text().contains("origin"), "{}", uncached.text());
    assert_eq!(uncached.header("x-cache"), Some("Error from streamfront"));
}

/// The response head (up to the blank line) and the body bytes read with it.
fn read_head(stream: &mut TcpStream) -> (String, Vec<u8>) {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = raw.split_off(end + 4);
            return (String::from_utf8_lossy(&raw).into_owned(), rest);
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the connection closed before the response head ended");
        raw.extend_from_slice(&buf[..n]);
    }
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_200_mb_object_streams_whole_with_bounded_memory() {
    const SIZE: u64 = 200 << 20;
    let dir = TempDir::new("big");
    let big = dir.path().join("big.bin");
    // Sparse but for a marker every MiB, so misplaced blocks show.
    let file = std::fs::File::create(&big).unwrap();
    file.set_len(SIZE).unwrap();
    drop(file);
    {
        use std::os::unix::fs::FileExt;
        let file = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
        for mib in 0..(SIZE >> 20) {
            file.write_at(&mib.to_le_bytes(), mib << 20).unwrap();
        }
    }
    let site = Site::start(serde_json::json!({}), &[], &["--cache-memory-mb", "16", "--cache-disk-mb", "0"]);
    site.s3.link_file("site/big.bin", &big);
    // s3s-fs would hash the whole object for its ETag on every request.
    site.s3.set_etag("site/big.bin", "big-v1");
    let pid = site.server.pid().unwrap();
    let before = rss_kib(pid);

    let mut stream = TcpStream::connect(("127.0.0.1", site.server.http_port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(stream, "GET /big.bin HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n").unwrap();
    let (head, mut pending) = read_head(&mut stream);
    let mut buf = vec![0u8; 1 << 20];
    let (mut body, mut peak, mut markers) = (0u64, before, 0u64);
    let started = Instant::now();
    loop {
        let data = if pending.is_empty() {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            &buf[..n]
        } else {
            &pending[..]
        };
        for (i, byte) in data.iter().enumerate() {
            let at = body + i as u64;
            if at.is_multiple_of(1 << 20) && *byte == (at >> 20) as u8 {
                markers += 1;
            }
        }
        let len = data.len() as u64;
        body += len;
        pending.clear();
        if body % (8 << 20) < len {
            peak = peak.max(rss_kib(pid));
        }
        assert!(started.elapsed() < Duration::from_secs(120), "too slow: {body} bytes so far");
    }
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains(&format!("content-length: {SIZE}")), "{head}");
    assert_eq!(body, SIZE, "the whole object");
    assert_eq!(markers, SIZE >> 20, "every MiB's marker where it belongs");
    // 16 MiB of cache memory, a block or two in flight: far below the 200 MiB sent.
    let grown = peak.saturating_sub(before);
    eprintln!("RSS {before} KiB before, {peak} KiB at most while streaming");
    assert!(grown < 64 * 1024, "RSS grew by {grown} KiB (from {before} KiB) while streaming {SIZE} bytes");
}
