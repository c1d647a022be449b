//! Custom origins over HTTPS: `https-only` is fetched over TLS on `HTTPSPort`, trusting the
//! CA of `--origin-ca-file`; `match-viewer` follows the viewer's protocol; an origin whose
//! certificate does not verify is a 502 naming why; a bad CA file stops the start.

mod common;
mod tls_support;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::web::request;
use common::*;
use sf_testkit::WebServer;
use tls_support::*;

const ALIAS: &str = "site.example.com";

fn behavior(pattern: Option<&str>, target: &str) -> serde_json::Value {
    let mut behavior = serde_json::json!({
        "TargetOriginId": target, "ViewerProtocolPolicy": "allow-all",
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

fn custom_origin(id: &str, http_port: u16, https_port: u16, policy: &str) -> serde_json::Value {
    serde_json::json!({ "Id": id, "DomainName": "localhost", "OriginPath": "", "CustomHeaders": [],
        "CustomOriginConfig": { "HTTPPort": http_port, "HTTPSPort": https_port, "OriginProtocolPolicy": policy,
            "OriginSslProtocols": ["TLSv1.2"], "OriginReadTimeout": 5 },
        "ConnectionAttempts": 1, "ConnectionTimeout": 2 })
}

/// The origins: `tls` (https-only) by default, `mv` (match-viewer: the plain server on HTTP,
/// the TLS one on HTTPS) for `mv/*`.
struct Origins {
    plain: WebServer,
    tls: WebServer,
    ca: Cert,
    dir: TempDir,
}

impl Origins {
    fn start() -> Origins {
        let dir = TempDir::new("tls-origin");
        let ca = Cert::make(dir.path(), "origin-ca", "Origin Test CA", &["origin-ca.invalid"]);
        let leaf = Cert::make_leaf(dir.path(), "origin", &["localhost"], &ca);
        let tls = WebServer::start_tls(&dir.path().join("tls-root"), &leaf.cert, &leaf.key);
        tls.write_file("a.txt", b"fetched over TLS");
        tls.write_file("mv/x.txt", b"the TLS side");
        let plain = WebServer::start(&dir.path().join("plain-root"));
        plain.write_file("mv/x.txt", b"the plain side");
        Origins { plain, tls, ca, dir }
    }

    /// A server following a store with the distribution, an HTTPS listener (certificate for
    /// `ALIAS`) and `extra` arguments: (server, HTTPS port, its certificate).
    fn serve(&self, name: &str, extra: &[&str]) -> (Server, u16, Cert) {
        let config = serde_json::json!({
            "CallerReference": "tls-origin", "Aliases": [ALIAS], "DefaultRootObject": "a.txt",
            "Origins": [custom_origin("tls", 1, self.tls.port(), "https-only"),
                custom_origin("mv", self.plain.port(), self.tls.port(), "match-viewer")],
            "OriginGroups": [], "DefaultCacheBehavior": behavior(None, "tls"),
            "CacheBehaviors": [behavior(Some("mv/*"), "mv")],
            "CustomErrorResponses": [], "Comment": "", "Enabled": true,
        });
        let store = self.dir.path().join(format!("control-{name}"));
        put_web(&store, "EORIGINTLS0001", config);
        let cert = Cert::make(self.dir.path(), &format!("edge-{name}"), ALIAS, &[ALIAS]);
        let https_port = free_port();
        let mut args = vec![
            "--store".to_owned(),
            store.display().to_string(),
            "--https-listen".to_owned(),
            format!("127.0.0.1:{https_port}"),
            "--tls-cert".to_owned(),
            cert.flag(ALIAS),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let server = Server::start_with(&media().origin, ServerOptions { args, ..ServerOptions::default() });
        wait_for_web(&server, ALIAS);
        (server, https_port, cert)
    }
}

/// GET `path` of the distribution over HTTPS with curl, verifying with `ca`: (status, body).
fn https_get(port: u16, ca: &Path, path: &str) -> (u16, String) {
    require_tool("curl");
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "--max-time", "20", "--cacert"])
        .arg(ca)
        .arg("--resolve")
        .arg(format!("{ALIAS}:{port}:127.0.0.1"))
        .args(["-w", "\n%{http_code}"])
        .arg(format!("https://{ALIAS}:{port}{path}"));
    let r = run(cmd, Duration::from_secs(30));
    assert!(r.success(), "curl: {}", r.describe());
    let text = r.stdout_text();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_owned())
}

#[test]
fn https_origins_are_fetched_over_tls_trusting_the_ca_file() {
    let origins = Origins::start();
    let (server, https_port, cert) =
        origins.serve("trusting", &["--origin-ca-file", origins.ca.cert.to_str().unwrap()]);

    let reply = request(server.http_port, "GET", ALIAS, "/a.txt", &[]);
    assert_eq!((reply.status, reply.text().as_str()), (200, "fetched over TLS"), "{reply:?}");
    assert_eq!(origins.tls.count("GET"), 1, "the TLS origin answered: {:?}", origins.tls.requests());
    // match-viewer: the origin over the viewer's protocol.
    let reply = request(server.http_port, "GET", ALIAS, "/mv/x.txt", &[]);
    assert_eq!((reply.status, reply.text().as_str()), (200, "the plain side"), "an HTTP viewer: {reply:?}");
    assert_eq!(https_get(https_port, &cert.cert, "/mv/x.txt"), (200, "the TLS side".to_owned()), "an HTTPS viewer");
    // The HTTPS viewer's copy is cached apart from the HTTP viewer's.
    let reply = request(server.http_port, "GET", ALIAS, "/mv/x.txt", &[]);
    assert_eq!(reply.text(), "the plain side");
    assert_eq!(reply.header("x-cache"), Some("Hit from streamfront"));
}

#[test]
fn an_origin_certificate_that_does_not_verify_is_a_502_naming_why() {
    let origins = Origins::start();
    let other = Cert::make(origins.dir.path(), "other-ca", "Another CA", &["other-ca.invalid"]);
    for (name, extra) in [("no-ca", vec![]), ("wrong-ca", vec!["--origin-ca-file", other.cert.to_str().unwrap()])] {
        let (server, _, _) = origins.serve(name, &extra);
        let reply = request(server.http_port, "GET", ALIAS, "/a.txt", &[]);
        let body = reply.text();
        assert_eq!(reply.status, 502, "{name}: {body}");
        let port = origins.tls.port();
        assert!(
            body.contains(&format!("origin https://localhost:{port}")),
            "{name}: the body names the origin: {body}"
        );
        assert!(body.to_ascii_lowercase().contains("certificate"), "{name}: the body says why: {body}");
    }
    assert_eq!(origins.tls.count("GET"), 0, "no request got past the TLS handshake");
}

#[test]
fn a_bad_origin_ca_file_stops_the_start_naming_it() {
    let dir = TempDir::new("tls-origin");
    let not_pem = dir.path().join("not-a-ca.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for file in [&not_pem, &missing] {
        let mut cmd = Command::new(binary());
        let listen = |flag: &str| [flag.to_owned(), format!("127.0.0.1:{}", free_port())];
        cmd.args(["serve", "--origin", "none"])
            .args(listen("--rtmp-listen"))
            .args(listen("--http-listen"))
            .args(listen("--admin-listen"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--origin-ca-file")
            .arg(file);
        let r = run(cmd, Duration::from_secs(30));
        assert!(!r.success(), "started with --origin-ca-file {}: {}", file.display(), r.describe());
        let expected = format!("--origin-ca-file {}", file.display());
        assert!(r.stderr.contains(&expected), "{}", r.describe());
    }
}
