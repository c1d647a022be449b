//! Access logs in CloudFront's web format (33 fields): a web distribution with `Logging`
//! created through the API by the AWS CLI, reading a bucket of the real S3 server (sf-testkit),
//! is sent page loads, a Range request, a 304, a 404, a HEAD, a miss then a hit, over HTTP and
//! HTTPS (HTTP/1.1 and HTTP/2) by curl; the gzip files delivered into the logging bucket on
//! SIGTERM match what curl saw, field by field, and GoAccess reads them. Records wait while
//! the bucket is down and none is lost. HLS requests to a streaming distribution with
//! `Logging` are web records too, in files of their own beside the streaming format's.

mod common;
mod tls_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::api::{Aws, json_file};
use common::logs::{is_hour, log_files, metric};
use common::raw::RawClient;
use common::web::behavior;
use common::*;
use serde_json::json;
use sf_testkit::S3Server;
use tls_support::Cert;

const LOG_BUCKET: &str = "logs";
const PREFIX: &str = "web/";
const WEB_FIELDS: &str = "date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status \
     cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header \
     cs-protocol cs-bytes time-taken x-forwarded-for ssl-protocol ssl-cipher x-edge-response-result-type \
     cs-protocol-version fle-status fle-encrypted-fields c-port time-to-first-byte x-edge-detailed-result-type \
     sc-content-type sc-content-len sc-range-start sc-range-end";
const STREAMING_FIELDS: &str = "date time x-edge-location c-ip x-event sc-bytes x-cf-status x-cf-client-id \
     cs-uri-stem cs-uri-query c-referrer x-page-url c-user-agent x-sname x-sname-query x-file-ext x-sid";

const INDEX: &[u8] = b"<html><body>player page</body></html>\n";

fn video_bytes() -> Vec<u8> {
    sf_testkit::pseudo_random_bytes(200_000, 7)
}

/// The server, the S3 server holding the site and the logging bucket, and the distribution.
struct Site {
    server: Server,
    s3: S3Server,
    id: String,
    domain: String,
    https_port: u16,
    dir: TempDir,
}

/// A web distribution over `site/` of bucket `media`, logging (with cookies) into bucket
/// `logs` under `web/`, created by the AWS CLI; an HTTPS listener with a certificate for
/// `*.cdn.test`; records delivered every `flush_seconds`.
fn start(flush_seconds: u64) -> Site {
    let dir = TempDir::new("web-logs");
    let s3 = S3Server::start(&dir.path().join("s3"));
    s3.put("site/index.html", INDEX);
    s3.put("site/video.bin", &video_bytes());
    std::fs::create_dir_all(s3.root().join(LOG_BUCKET)).unwrap();
    let cert = Cert::make(dir.path(), "cdn", "cdn.test", &["*.cdn.test"]);
    let https_port = free_port();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let args = [
        "--distribution-domain",
        "cdn.test",
        "--access-log-flush-seconds",
        &flush_seconds.to_string(),
        "--edge-location",
        "TST1",
        "--https-listen",
        &format!("127.0.0.1:{https_port}"),
        "--tls-cert",
        &cert.flag("*.cdn.test"),
    ];
    let server = Server::start_with(
        &empty,
        ServerOptions {
            origin_spec: Some("none".into()),
            env: s3.aws_env(),
            args: args.iter().map(|a| a.to_string()).collect(),
            api: true,
            ..Default::default()
        },
    );
    let config = json!({
        "CallerReference": "web-logs-test",
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 1, "Items": [{"Id": "bucket", "DomainName": "media.s3.amazonaws.com",
            "OriginPath": "/site", "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": behavior("bucket", 0),
        "Comment": "logged",
        "Logging": {"Enabled": true, "IncludeCookies": true, "Bucket": format!("{LOG_BUCKET}.s3.amazonaws.com"),
            "Prefix": PREFIX},
        "Enabled": true,
    });
    // With certificates the API speaks HTTPS too (its certificate names `*.cdn.test`, not 127.0.0.1).
    let api = format!("https://127.0.0.1:{}", server.api_port.unwrap());
    let aws = Aws { endpoint: api, ..Aws::new(&server) };
    let file = json_file(dir.path(), "site.json", &config);
    let created = aws.ok(&["cloudfront", "create-distribution", "--no-verify-ssl", "--distribution-config", &file]);
    let id = created["Distribution"]["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}")).to_owned();
    let domain = created["Distribution"]["DomainName"].as_str().unwrap().to_owned();
    let site = Site { server, s3, id, domain, https_port, dir };
    // The distribution is served once its host no longer gets the listener's "no distribution".
    let deadline = Instant::now() + Duration::from_secs(20);
    while site.curl("/probe", &[]).body.contains("no distribution") {
        assert!(Instant::now() < deadline, "the distribution is not served");
        std::thread::sleep(Duration::from_millis(100));
    }
    site
}

/// What curl saw of one request.
#[derive(Debug)]
struct Sent {
    status: String,
    header_bytes: u64,
    body_bytes: u64,
    request_bytes: u64,
    local_port: String,
    request_id: String,
    etag: String,
    /// `TLSv1.2 / ECDHE-RSA-AES256-GCM-SHA384` from curl's `-v`, for HTTPS.
    tls: Option<(String, String)>,
    body: String,
}

impl Site {
    /// `curl` of `path` on the plain HTTP listener, by the distribution's host name.
    fn curl(&self, path: &str, args: &[&str]) -> Sent {
        let url = format!("http://127.0.0.1:{}{path}", self.server.http_port);
        let host = format!("Host: {}", self.domain);
        curl(&[&["-H", &host], args, &[&url]].concat())
    }

    /// `curl` of `path` over HTTPS, by the distribution's host name.
    fn curl_https(&self, path: &str, args: &[&str]) -> Sent {
        let resolve = format!("{}:{}:127.0.0.1", self.domain, self.https_port);
        let url = format!("https://{}:{}{path}", self.domain, self.https_port);
        curl(&[&["-k", "--resolve", &resolve], args, &[&url]].concat())
    }

    fn log_files(&self) -> BTreeMap<String, String> {
        log_files(&self.s3, LOG_BUCKET)
    }
}

fn curl(args: &[&str]) -> Sent {
    let dir = TempDir::new("curl");
    let body = dir.path().join("body");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-v", "-o"]).arg(&body).args([
        "-w",
        "%{http_code}\t%{size_header}\t%{size_download}\t%{size_request}\t%{local_port}\t%header{x-amz-cf-id}\t%header{etag}",
    ]);
    cmd.args(args);
    let r = run(cmd, Duration::from_secs(30));
    assert!(r.success(), "{}", r.describe());
    let out = r.stdout_text();
    let f: Vec<&str> = out.split('\t').collect();
    let number = |s: &str| s.trim().parse::<u64>().unwrap();
    let tls = r.stderr.lines().find_map(|line| {
        let (protocol, cipher) = line.split_once("SSL connection using ")?.1.split_once(" / ")?;
        Some((protocol.trim().to_owned(), cipher.trim().to_owned()))
    });
    Sent {
        status: f[0].to_owned(),
        header_bytes: number(f[1]),
        body_bytes: number(f[2]),
        request_bytes: number(f[3]),
        local_port: f[4].to_owned(),
        request_id: f[5].to_owned(),
        etag: f[6].to_owned(),
        tls,
        body: String::from_utf8_lossy(&std::fs::read(&body).unwrap_or_default()).into_owned(),
    }
}

/// The records of every web-format file under `prefix`, each a vector of its 33 fields, after
/// checking each file's name and headers.
fn web_records(files: &BTreeMap<String, String>, prefix: &str, id: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    for (name, text) in files {
        let rest = name.strip_prefix(&format!("{prefix}{id}.")).unwrap_or_else(|| panic!("file name {name}"));
        let (hour, unique) = rest.strip_suffix(".gz").unwrap().split_once('.').unwrap();
        assert!(is_hour(hour), "{name}: the hour is YYYY-MM-DD-HH");
        assert!(unique.len() >= 8 && unique.bytes().all(|b| b.is_ascii_alphanumeric()), "{name}: the unique id");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("#Version: 1.0"), "{name}");
        if lines.next() != Some(format!("#Fields: {WEB_FIELDS}").as_str()) {
            continue;
        }
        for line in lines {
            let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
            assert_eq!(fields.len(), 33, "{name}: {line:?}");
            assert_eq!(format!("{}-{}", fields[0], &fields[1][..2]), hour, "{name}: a record of another hour: {line}");
            records.push(fields);
        }
    }
    records
}

/// The fields a record has, by name.
fn named(record: &[String]) -> BTreeMap<&'static str, &str> {
    WEB_FIELDS.split(' ').zip(record.iter().map(String::as_str)).collect()
}

fn seconds(text: &str) -> f64 {
    assert!(text.len() >= 5 && text.as_bytes()[text.len() - 4] == b'.', "seconds with 3 decimals: {text}");
    text.parse().unwrap()
}

#[test]
fn web_requests_are_logged_field_by_field_on_sigterm_and_goaccess_reads_them() {
    require_tool("goaccess");
    let mut site = start(300);
    let miss = site.curl("/index.html", &[]);
    let hit = site.curl("/index.html", &[]);
    let range = site.curl("/video.bin", &["-H", "Range: bytes=100-199"]);
    let not_modified = site.curl("/index.html", &["-H", &format!("If-None-Match: {}", hit.etag)]);
    let missing = site.curl("/missing.html", &[]);
    let head = site.curl("/index.html", &["-I"]);
    let viewer = site.curl(
        "/index.html?q=a%20b&x=1",
        &[
            "-H",
            "Cookie: sid=1; theme=dark",
            "-e",
            "http://player.example.com/page",
            "-A",
            "Mozilla/5.0 (X11; Linux)",
            "-H",
            "X-Forwarded-For: 203.0.113.7",
        ],
    );
    let tls12 = site.curl_https("/index.html", &["--http1.1", "--tlsv1.2", "--tls-max", "1.2"]);
    let h2 = site.curl_https("/video.bin", &["--http2"]);
    let sent = [&miss, &hit, &range, &not_modified, &missing, &head, &viewer, &tls12, &h2];
    let statuses: Vec<&str> = sent.iter().map(|s| s.status.as_str()).collect();
    assert_eq!(statuses, ["200", "200", "206", "304", "404", "200", "200", "200", "200"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(site.log_files().is_empty(), "delivered before the flush period or SIGTERM");
    let status = site.server.terminate(Duration::from_secs(30)).expect("the server stops on SIGTERM");
    assert!(status.success(), "{status}");

    let files = site.log_files();
    assert!(!files.is_empty(), "no log file delivered on SIGTERM");
    let records = web_records(&files, PREFIX, &site.id);
    let by_port: BTreeMap<&str, BTreeMap<&str, &str>> =
        records.iter().map(|r| named(r)).map(|r| (r["c-port"], r)).collect();
    assert_eq!(by_port.len(), records.len(), "one record per connection (curl's local port)");
    // The probes that waited for the distribution are logged too, before these.
    assert_eq!(records.len(), sent.len() + records.iter().filter(|r| r[7] == "/probe").count(), "{records:#?}");

    for s in sent {
        let r = by_port.get(s.local_port.as_str()).unwrap_or_else(|| panic!("no record of {s:?}: {records:#?}"));
        let what = format!("{s:?}\n{r:#?}");
        assert_eq!(r["x-edge-location"], "TST1", "{what}");
        assert_eq!(r["c-ip"], "127.0.0.1", "{what}");
        assert_eq!(r["cs(Host)"], site.domain, "{what}");
        assert_eq!(r["sc-status"], s.status, "{what}");
        assert_eq!(r["x-edge-request-id"], s.request_id, "x-edge-request-id is the X-Amz-Cf-Id: {what}");
        assert_eq!((r["fle-status"], r["fle-encrypted-fields"]), ("-", "-"), "{what}");
        let taken = seconds(r["time-taken"]);
        let first_byte = seconds(r["time-to-first-byte"]);
        assert!(first_byte <= taken && taken < 10.0, "{what}");
        assert_eq!(r["x-edge-result-type"], r["x-edge-response-result-type"], "sent whole: {what}");
        if s.status == "304" || r["cs-protocol-version"] == "HTTP/2.0" {
            continue;
        }
        // HTTP/1.1: bytes as curl counted them.
        assert_eq!(r["sc-bytes"], (s.header_bytes + s.body_bytes).to_string(), "sc-bytes: {what}");
        assert_eq!(r["cs-bytes"], s.request_bytes.to_string(), "cs-bytes: {what}");
        assert_eq!(r["cs-protocol-version"], "HTTP/1.1", "{what}");
    }
    let r = |s: &Sent| by_port[s.local_port.as_str()].clone();
    fn page<'a>(r: &BTreeMap<&str, &'a str>) -> (&'a str, &'a str, &'a str, &'a str, &'a str) {
        (r["cs-method"], r["cs-uri-stem"], r["x-edge-result-type"], r["sc-content-type"], r["sc-content-len"])
    }
    let index_len = INDEX.len().to_string();
    let index_len = index_len.as_str();
    assert_eq!(page(&r(&miss)), ("GET", "/index.html", "Miss", "text/html", index_len));
    assert_eq!(page(&r(&hit)), ("GET", "/index.html", "Hit", "text/html", index_len));
    assert_eq!(page(&r(&range)), ("GET", "/video.bin", "Miss", "application/octet-stream", "100"));
    assert_eq!((r(&range)["sc-range-start"], r(&range)["sc-range-end"]), ("100", "199"));
    assert_eq!((r(&hit)["sc-range-start"], r(&hit)["sc-range-end"]), ("-", "-"));
    assert_eq!(page(&r(&not_modified)), ("GET", "/index.html", "Hit", "text/html", "-"));
    assert_eq!(r(&not_modified)["sc-bytes"], not_modified.header_bytes.to_string());
    assert_eq!(page(&r(&missing)).2, "Error");
    assert_eq!(r(&missing)["x-edge-detailed-result-type"], "Error");
    assert_eq!(page(&r(&head)), ("HEAD", "/index.html", "Hit", "text/html", index_len));
    assert_eq!(r(&head)["sc-bytes"], head.header_bytes.to_string(), "HEAD: headers only");
    for s in [&miss, &hit, &range, &not_modified, &missing, &head, &viewer] {
        let r = r(s);
        assert_eq!((r["cs-protocol"], r["ssl-protocol"], r["ssl-cipher"]), ("http", "-", "-"));
        assert_eq!(r["x-host-header"], site.domain);
    }
    for s in [&miss, &hit, &range, &missing, &head] {
        let r = r(s);
        assert_eq!(r["cs(User-Agent)"], format!("curl/{}", curl_version()));
        let none = [r["cs(Referer)"], r["cs-uri-query"], r["cs(Cookie)"], r["x-forwarded-for"]];
        assert_eq!(none, ["-", "-", "-", "-"], "{r:#?}");
    }
    // The escaping rules: spaces and `%` encoded, `;` `(` `/` `&` `=` not.
    let v = r(&viewer);
    assert_eq!(v["cs-uri-query"], "q=a%2520b&x=1");
    assert_eq!(v["cs(Cookie)"], "sid=1;%20theme=dark", "IncludeCookies");
    assert_eq!(v["cs(Referer)"], "http://player.example.com/page");
    assert_eq!(v["cs(User-Agent)"], "Mozilla/5.0%20(X11;%20Linux)");
    assert_eq!(v["x-forwarded-for"], "203.0.113.7");
    // HTTPS: the protocol and cipher curl (OpenSSL) negotiated, by OpenSSL's names.
    let t = r(&tls12);
    let (protocol, cipher) = tls12.tls.clone().expect("curl -v names the TLS session");
    assert_eq!((t["cs-protocol"], t["ssl-protocol"], t["ssl-cipher"]), ("https", protocol.as_str(), cipher.as_str()));
    assert_eq!(protocol, "TLSv1.2");
    assert_eq!(t["x-host-header"], format!("{}:{}", site.domain, site.https_port));
    let h = r(&h2);
    let (protocol, cipher) = h2.tls.clone().expect("curl -v names the TLS session");
    assert_eq!((h["ssl-protocol"], h["ssl-cipher"]), (protocol.as_str(), cipher.as_str()));
    assert_eq!(protocol, "TLSv1.3");
    assert_eq!((h["cs-protocol-version"], h["x-edge-result-type"]), ("HTTP/2.0", "Hit"));
    assert_eq!(h["sc-content-len"], video_bytes().len().to_string());

    // GoAccess reads CloudFront's format and counts every request.
    let plain = site.dir.path().join("access.log");
    std::fs::write(&plain, files.values().cloned().collect::<String>()).unwrap();
    let report = site.dir.path().join("report.json");
    let mut cmd = Command::new("goaccess");
    cmd.arg("--log-format=CLOUDFRONT").arg("--no-global-config").arg("-o").arg(&report).arg(&plain);
    let r = run(cmd, Duration::from_secs(60));
    assert!(r.success(), "goaccess: {}", r.describe());
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let general = &report["general"];
    assert_eq!(general["total_requests"], json!(records.len()), "{general:#}");
    assert_eq!(general["failed_requests"], json!(0), "{general:#}");
}

fn curl_version() -> String {
    let out = Command::new("curl").arg("--version").output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1).unwrap_or_default().to_owned()
}

#[test]
fn an_unreachable_bucket_loses_no_web_record() {
    let mut site = start(1);
    // Cached (a day by the behavior's DefaultTTL): served with the S3 server down.
    site.curl("/index.html", &[]);
    site.s3.stop();
    let ports: Vec<String> = (0..5).map(|_| site.curl("/index.html", &[])).map(|s| s.local_port).collect();
    let deadline = Instant::now() + Duration::from_secs(15);
    while metric(&site.server, "streamfront_access_log_delivery_failures_total") == 0 {
        assert!(Instant::now() < deadline, "no failed delivery counted while the bucket is down");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(metric(&site.server, "streamfront_access_log_spool_bytes") > 0, "records wait on disk");
    site.s3.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    let records = loop {
        let records = web_records(&site.log_files(), PREFIX, &site.id);
        let delivered = records.iter().filter(|r| ports.contains(&r[26])).count();
        if delivered == ports.len() || Instant::now() > deadline {
            break records;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut delivered: Vec<&String> = records.iter().filter(|r| r[7] == "/index.html").map(|r| &r[26]).collect();
    delivered.sort();
    delivered.dedup();
    assert_eq!(delivered.len(), 6, "every request once: {records:#?}");
    assert!(ports.iter().all(|p| delivered.contains(&p)), "{records:#?}");
    assert_eq!(metric(&site.server, "streamfront_access_log_records_dropped_total"), 0);
}

/// A streaming distribution `DOMAIN` logging into bucket `logs` under `PREFIX`, from the
/// media directory, with 2-second HLS segments.
fn start_streaming(s3: &S3Server, dir: &Path) -> Server {
    std::fs::create_dir_all(s3.root().join(LOG_BUCKET)).unwrap();
    let config = dir.join("streamfront.toml");
    let toml = format!(
        "[s3]\nendpoint = \"{endpoint}\"\n\
         [[streaming_distributions]]\nid = \"{STREAMING_ID}\"\ndomain_name = \"{STREAMING_DOMAIN}\"\norigin = \"{origin}\"\n\
         logging = {{ bucket = \"{LOG_BUCKET}.s3.amazonaws.com\", prefix = \"{PREFIX}\" }}\n",
        endpoint = s3.endpoint(),
        origin = media().origin.display(),
    );
    std::fs::write(&config, toml).unwrap();
    let args = ["--config", &config.display().to_string(), "--hls-segment-seconds", "2", "--edge-location", "TST1"];
    let args = args.iter().map(|a| a.to_string()).collect();
    Server::start_with(&media().origin, ServerOptions { env: s3.aws_env(), args, ..Default::default() })
}

const STREAMING_ID: &str = "EHLSLOGGED0001";
const STREAMING_DOMAIN: &str = "s1.hls.example.com";

#[test]
fn hls_requests_are_web_records_in_files_of_their_own() {
    let dir = TempDir::new("hls-logs");
    let s3 = S3Server::start(&dir.path().join("s3"));
    let mut server = start_streaming(&s3, dir.path());
    let url = format!("http://127.0.0.1:{}/hls/clip.mp4/index.m3u8", server.http_port);
    let headers = format!("Host: {STREAMING_DOMAIN}\r\n");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-headers", &headers, "-i", &url, "-f", "null", "-"]);
    let r = run(cmd, Duration::from_secs(60));
    assert!(r.success(), "ffmpeg: {}", r.describe());
    // An RTMP connection of the same distribution: its records go to a streaming-format file.
    let mut c = RawClient::connect(server.rtmp_addr()).expect("connect");
    c.handshake().expect("handshake");
    c.connect_app_via("cfx/st", &format!("rtmp://{STREAMING_DOMAIN}/cfx/st")).expect("connect");
    drop(c);
    std::thread::sleep(Duration::from_millis(300));
    let status = server.terminate(Duration::from_secs(30)).expect("the server stops on SIGTERM");
    assert!(status.success(), "{status}");

    let files = log_files(&s3, LOG_BUCKET);
    let formats: Vec<&str> = files.values().map(|text| text.lines().nth(1).unwrap_or_default()).collect();
    assert_eq!(files.len(), 2, "a web-format file and a streaming-format file: {:?}", files.keys());
    assert!(formats.contains(&format!("#Fields: {WEB_FIELDS}").as_str()), "{formats:?}");
    assert!(formats.contains(&format!("#Fields: {STREAMING_FIELDS}").as_str()), "{formats:?}");
    let records = web_records(&files, PREFIX, STREAMING_ID);
    // A record is written when its response is done, and ffmpeg may open the next segment
    // before it lets go of the last one: the order of the records is not the order asked.
    let mut requests: Vec<(&str, &str)> = records.iter().map(|r| (r[7].as_str(), r[8].as_str())).collect();
    requests.sort();
    assert_eq!(
        requests,
        [
            ("/hls/clip.mp4/index.m3u8", "200"),
            ("/hls/clip.mp4/seg-0.ts", "200"),
            ("/hls/clip.mp4/seg-1.ts", "200"),
            ("/hls/clip.mp4/seg-2.ts", "200"),
        ],
        "{records:#?}"
    );
    for record in &records {
        let r = named(record);
        let what = format!("{r:#?}");
        assert_eq!((r["cs-method"], r["cs(Host)"], r["x-host-header"]), ("GET", STREAMING_DOMAIN, STREAMING_DOMAIN));
        assert_eq!((r["cs-protocol"], r["x-edge-location"], r["c-ip"]), ("http", "TST1", "127.0.0.1"), "{what}");
        assert!(r["cs(User-Agent)"].starts_with("Lavf/"), "{what}");
        let content_type =
            if r["cs-uri-stem"].ends_with(".m3u8") { "application/vnd.apple.mpegurl" } else { "video/mp2t" };
        assert_eq!(r["sc-content-type"], content_type, "{what}");
        let len: u64 = r["sc-content-len"].parse().unwrap();
        let sent: u64 = r["sc-bytes"].parse().unwrap();
        assert!(len > 0 && sent > len && sent < len + 1024, "sc-bytes are the body and its headers: {what}");
        assert_eq!(r["x-edge-result-type"], "Hit", "{what}");
        assert_eq!(r["x-edge-request-id"].len(), 56, "{what}");
    }
}
