//! Viewer protocol policies: a web distribution's behaviors redirect plain HTTP to HTTPS or
//! refuse it (curl over both listeners), a `secure-only` streaming distribution rejects plain
//! RTMP and RTMPT and plays RTMPS and RTMPE (rtmpdump), and the certificate each name gets is
//! listed, an uncovered alias counted.

mod common;
mod tls_support;

use std::process::Command;
use std::time::Duration;

use common::raw::RawClient;
use common::*;
use sf_testkit::WebServer;
use tls_support::*;

const ALIAS: &str = "www.example.com";
const UNCOVERED: &str = "video.example.net";

/// A behavior for the custom origin `app` with `policy`, at `pattern` (None: the default).
fn behavior(pattern: Option<&str>, policy: &str) -> serde_json::Value {
    let mut behavior = serde_json::json!({
        "TargetOriginId": "app", "ViewerProtocolPolicy": policy,
        "LambdaFunctionAssociations": [], "FunctionAssociations": [],
        "ForwardedValues": { "QueryString": false, "Cookies": { "Forward": "none", "WhitelistedNames": [] },
            "Headers": [], "QueryStringCacheKeys": [] },
        "MinTTL": 0, "DefaultTTL": 86400, "MaxTTL": 31536000, "Compress": false,
    });
    if let Some(pattern) = pattern {
        behavior["PathPattern"] = pattern.into();
    }
    behavior
}

/// curl over HTTP to the plain listener or HTTPS (verifying with `ca`) to the TLS one,
/// resolving `ALIAS` on both `ports` to loopback: (status, `Location`, body).
fn curl(args: &[&str], url: &str, ports: [u16; 2], ca: &std::path::Path) -> (u16, String, String) {
    require_tool("curl");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "--cacert"]).arg(ca);
    for port in ports {
        cmd.arg("--resolve").arg(format!("{ALIAS}:{port}:127.0.0.1"));
    }
    cmd.args(["-w", "\n%{http_code} %{redirect_url}"]).args(args).arg(url);
    let r = run(cmd, Duration::from_secs(30));
    assert!(r.success(), "curl {args:?} {url}: {}", r.describe());
    let text = r.stdout_text();
    let (body, status_line) = text.rsplit_once('\n').unwrap();
    let (status, location) = status_line.split_once(' ').unwrap();
    (status.parse().unwrap(), location.to_owned(), body.to_owned())
}

#[test]
fn web_behaviors_redirect_or_refuse_plain_http_and_serve_https() {
    let dir = TempDir::new("tls-policy");
    let origin = WebServer::start(&dir.path().join("origin"));
    origin.write_file("page.html", b"the page");
    origin.write_file("secure/a.txt", b"secure text");
    origin.write_file("open/b.txt", b"open text");
    let cert = Cert::make(dir.path(), "www", ALIAS, &[ALIAS]);
    let config = serde_json::json!({
        "CallerReference": "tls-policy", "Aliases": [ALIAS, UNCOVERED], "DefaultRootObject": "page.html",
        "Origins": [{ "Id": "app", "DomainName": "127.0.0.1", "OriginPath": "", "CustomHeaders": [],
            "CustomOriginConfig": { "HTTPPort": origin.port(), "HTTPSPort": 443,
                "OriginProtocolPolicy": "http-only", "OriginSslProtocols": ["TLSv1.2"] } }],
        "OriginGroups": [], "DefaultCacheBehavior": behavior(None, "redirect-to-https"),
        "CacheBehaviors": [behavior(Some("secure/*"), "https-only"), behavior(Some("open/*"), "allow-all")],
        "CustomErrorResponses": [], "Comment": "", "Enabled": true,
    });
    let store = dir.path().join("control");
    put_web(&store, "EPOLICY0000001", config);
    let https_port = free_port();
    let args = vec![
        "--store".to_owned(),
        store.display().to_string(),
        "--https-listen".to_owned(),
        format!("127.0.0.1:{https_port}"),
        "--tls-cert".to_owned(),
        cert.flag(ALIAS),
    ];
    let server = Server::start_with(&media().origin, ServerOptions { args, ..ServerOptions::default() });
    wait_for_web(&server, ALIAS);
    let (http, ca) = (server.http_port, cert.cert.as_path());
    let ports = [http, https_port];
    let plain = |path: &str| format!("http://{ALIAS}:{http}{path}");
    let secure = |path: &str| format!("https://{ALIAS}:{https_port}{path}");

    // redirect-to-https: 301 for GET and HEAD, 307 for other methods, to the same target on
    // the HTTPS listener's port.
    let location = secure("/page.html?x=1&y=2");
    assert_eq!(curl(&[], &plain("/page.html?x=1&y=2"), ports, ca).0, 301);
    assert_eq!(curl(&[], &plain("/page.html?x=1&y=2"), ports, ca).1, location);
    assert_eq!(curl(&["-I"], &plain("/page.html?x=1&y=2"), ports, ca).0, 301, "HEAD");
    let (status, redirect, _) = curl(&["-X", "POST", "-d", "a=b"], &plain("/page.html"), ports, ca);
    assert_eq!((status, redirect.as_str()), (307, secure("/page.html").as_str()), "POST");
    // curl follows the redirect across the listeners and verifies the certificate.
    for version in ["--http1.1", "--http2"] {
        let (status, _, body) = curl(&["-L", version], &plain("/page.html"), ports, ca);
        assert_eq!((status, body.as_str()), (200, "the page"), "following the redirect with {version}");
    }
    // https-only: 403 over HTTP, served over HTTPS.
    let (status, _, body) = curl(&[], &plain("/secure/a.txt"), ports, ca);
    assert_eq!(status, 403, "https-only over HTTP: {body}");
    assert!(body.contains("HTTPS only"), "{body}");
    assert_eq!(curl(&[], &secure("/secure/a.txt"), ports, ca).2, "secure text");
    // allow-all: both.
    assert_eq!(curl(&[], &plain("/open/b.txt"), ports, ca).2, "open text");
    assert_eq!(curl(&[], &secure("/open/b.txt"), ports, ca).2, "open text");
    assert!(server.log().contains("cache=\"Redirect\""), "redirects are logged as such:\n{}", server.log());

    // Each name's certificate; the alias no certificate covers is warned of and counted.
    let (_, listing) = http_get(server.admin_addr(), "/distributions", Duration::from_secs(5)).unwrap();
    let listing: serde_json::Value = serde_json::from_str(&listing).unwrap();
    let web = listing.as_array().unwrap().iter().find(|d| d["kind"] == "web").expect("the web distribution listed");
    assert_eq!(web["certificates"][ALIAS], cert.cert.display().to_string(), "{web:#}");
    assert_eq!(web["certificates"][UNCOVERED], format!("default: {}", cert.cert.display()), "{web:#}");
    assert_eq!(metric(&server, "streamfront_tls_uncovered_aliases"), 1);
    let log = server.log();
    assert!(log.contains("no configured certificate covers this alias") && log.contains(UNCOVERED), "{log}");
}

/// A `secure-only` streaming distribution (the config file's key): plain RTMP and RTMPT are
/// rejected with a description, RTMPS and RTMPE play every packet.
#[test]
fn secure_only_streaming_distribution_refuses_plain_rtmp_and_plays_rtmps() {
    let dir = TempDir::new("tls-policy");
    let cert = Cert::make(dir.path(), "localhost", "localhost", &["localhost"]);
    let config = dir.path().join("streamfront.toml");
    let toml = format!(
        "[[streaming_distributions]]\ndomain_name = \"localhost\"\norigin = \"{}\"\nviewer_protocol_policy = \"secure-only\"\n",
        media().origin.display()
    );
    std::fs::write(&config, toml).unwrap();
    let https_port = free_port();
    let args = vec![
        "--config".to_owned(),
        config.display().to_string(),
        "--https-listen".to_owned(),
        format!("127.0.0.1:{https_port}"),
        "--tls-cert".to_owned(),
        cert.flag("localhost"),
    ];
    let options = ServerOptions { args, origin_spec: Some("none".into()), ..ServerOptions::default() };
    let server = Server::start_with(&media().origin, options);

    let mut client = RawClient::connect(server.rtmp_addr()).unwrap();
    client.handshake().unwrap();
    let reply = client.connect_app_via("cfx/st", "rtmp://localhost/cfx/st").unwrap();
    let description = format!("{:?}", reply.values());
    assert_eq!(reply.code().as_deref(), Some("NetConnection.Connect.Rejected"), "{description}");
    assert!(description.contains("accepts only secure connections"), "{description}");

    for url in [
        format!("rtmp://localhost:{}/cfx/st/clip.flv", server.rtmp_port()),
        format!("rtmpt://localhost:{}/cfx/st/clip.flv", server.http_port),
    ] {
        let (r, _dir) = rtmpdump(&url, &[], Duration::from_secs(30));
        assert!(!r.success(), "rtmpdump {url} played from a secure-only distribution: {}", r.describe());
    }
    assert_eq!(server.log().matches("accepts only secure connections").count(), 3, "{}", server.log());

    let rtmps = format!("rtmps://localhost:{https_port}/cfx/st/clip.flv");
    eprintln!("{}", check_rtmpdump(&rtmps, "clip.flv", &Expect::Whole, &[], &[0]));
    let rtmpe = format!("rtmpe://localhost:{}/cfx/st/clip.flv", server.rtmp_port());
    eprintln!("{}", check_rtmpdump(&rtmpe, "clip.flv", &Expect::Whole, &[], &[0]));
    let (_, listing) = http_get(server.admin_addr(), "/distributions", Duration::from_secs(5)).unwrap();
    assert!(listing.contains("\"viewer_protocol_policy\": \"secure-only\""), "{listing}");
}
