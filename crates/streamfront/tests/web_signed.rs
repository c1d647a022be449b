//! Private content over HTTP, with the keys and signing code users already have: public keys
//! and key groups created with the AWS CLI through the CloudFront API, a web distribution
//! whose behaviors trust a key group (`TrustedKeyGroups`) or `self` (`TrustedSigners`, a
//! declared `--key-pair`), signed URLs made by botocore's `CloudFrontSigner` and by
//! `aws cloudfront sign`, signed cookies from botocore's policy and signer. Each bad case gets
//! CloudFront's 403 XML with its code; a key taken out of its group stops at once; the signing
//! parameters neither reach the custom origin nor split the cache; a second edge on the same
//! store honours keys created through the first; and HLS of a signed streaming distribution
//! plays in ffmpeg from a signed playlist URL, whose signature its segment URIs carry.

mod common;
mod tls_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::api::{Aws, json_file, poll, venv};
use common::web::{Reply, behavior, request, site_config, with_pattern};
use common::*;
use serde_json::{Value, json};
use sf_testkit::{S3Server, WebServer};

/// The declared key pair of `self` (`--key-pair`), the same RSA key as the first public key.
const DECLARED_ID: &str = "APKAWEBSIGNEDTEST001";

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// An RSA key pair made by openssl: (private PKCS#1 PEM path, public SPKI PEM path).
fn rsa_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}.pub.pem"));
    for args in [
        vec!["genrsa", "-traditional", "-out", private.to_str().unwrap(), "2048"],
        vec!["rsa", "-in", private.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()],
    ] {
        let mut cmd = Command::new("openssl");
        cmd.args(&args);
        let r = run(cmd, Duration::from_secs(60));
        assert!(r.success(), "openssl {args:?}: {}", r.describe());
    }
    (private, public)
}

/// A signer: a key id and its private key.
#[derive(Clone)]
struct Signer {
    id: String,
    private: PathBuf,
}

impl Signer {
    /// botocore's `CloudFrontSigner.generate_presigned_url`: canned with `less` alone, else a
    /// custom policy for `resource` (the URL with `*`/`?` wildcards when given).
    fn url(&self, resource: &str, less: u64, greater: Option<u64>, ip: Option<&str>) -> String {
        self.botocore(None, resource, less, greater, ip)
    }

    /// The `Cookie` header value of botocore-made signed cookies.
    fn cookies(&self, resource: &str, less: u64, greater: Option<u64>, ip: Option<&str>) -> String {
        self.botocore(Some("--cookies"), resource, less, greater, ip)
    }

    /// tests/signed/botocore_sign.py, with `mode` (`--cookies`) when given.
    fn botocore(
        &self,
        mode: Option<&str>,
        resource: &str,
        less: u64,
        greater: Option<u64>,
        ip: Option<&str>,
    ) -> String {
        let mut cmd = Command::new(venv().join("bin/python"));
        cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signed/botocore_sign.py"));
        cmd.args(mode);
        cmd.args([&self.id, self.private.to_str().unwrap(), resource, &less.to_string()]);
        cmd.arg(greater.map_or("-".to_owned(), |g| g.to_string()));
        cmd.args(ip);
        let r = run(cmd, Duration::from_secs(60));
        assert!(r.success(), "botocore_sign.py: {}", r.describe());
        r.stdout_text().trim().to_owned()
    }

    /// `aws cloudfront sign --url URL … --date-less-than LESS` (local: no endpoint is called).
    fn aws_sign(&self, url: &str, less: u64) -> String {
        let aws = Aws { endpoint: "http://127.0.0.1:9".into(), key_id: "AKIDUNUSED".into(), secret: "unused".into() };
        let key = format!("file://{}", self.private.display());
        let less = less.to_string();
        let args = ["cloudfront", "sign", "--url", url, "--key-pair-id", &self.id, "--private-key", &key];
        let out = aws.run(&[&args[..], &["--date-less-than", &less]].concat());
        assert!(out.run.success(), "aws cloudfront sign: {}", out.run.describe());
        out.run.stdout_text().trim().to_owned()
    }
}

/// `create-public-key` with the PEM at `public`; its id.
fn create_public_key(aws: &Aws, dir: &Path, name: &str, public: &Path) -> String {
    let config = json!({"CallerReference": name, "Name": name, "EncodedKey": std::fs::read_to_string(public).unwrap()});
    let file = json_file(dir, &format!("{name}.json"), &config);
    let created = aws.ok(&["cloudfront", "create-public-key", "--public-key-config", &file]);
    created["PublicKey"]["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}")).to_owned()
}

/// `create-key-group` listing `keys`; its id.
fn create_key_group(aws: &Aws, dir: &Path, name: &str, keys: &[&str]) -> String {
    let file = json_file(dir, &format!("{name}.json"), &json!({"Name": name, "Items": keys}));
    let created = aws.ok(&["cloudfront", "create-key-group", "--key-group-config", &file]);
    created["KeyGroup"]["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}")).to_owned()
}

/// The site of tests/common/web.rs with signers: the default behavior (bucket) and `api/*`
/// (custom origin) trust key group `group`; `self/*` trusts `self`; `pinned/*` is public.
fn signed_config(web_port: u16, group: &str) -> Value {
    let mut config = site_config(web_port);
    let trusting_group = |mut b: Value| {
        b["TrustedKeyGroups"] = json!({"Enabled": true, "Quantity": 1, "Items": [group]});
        b
    };
    config["DefaultCacheBehavior"] = trusting_group(behavior("bucket", 0));
    let mut trusting_self = with_pattern("self/*", behavior("bucket", 0));
    trusting_self["TrustedSigners"] = json!({"Enabled": true, "Quantity": 1, "Items": ["self"]});
    config["CacheBehaviors"] = json!({"Quantity": 3, "Items": [
        trusting_group(with_pattern("api/*", behavior("app", 0))),
        trusting_self,
        with_pattern("pinned/*", behavior("bucket", 0)),
    ]});
    config
}

struct Setup {
    server: Server,
    aws: Aws,
    web: WebServer,
    domain: String,
    /// In the trusted group.
    trusted: Signer,
    /// A public key in a key group the distribution does not trust.
    other: Signer,
    /// The declared key pair (`self`).
    declared: Signer,
    group: String,
    _s3: S3Server,
    dir: TempDir,
}

impl Setup {
    fn start() -> Setup {
        let dir = TempDir::new("web-signed");
        let s3 = S3Server::start(&dir.path().join("s3"));
        for (key, data) in [("private/a.txt", "secret a"), ("private/b.txt", "secret b"), ("self/c.txt", "secret c")] {
            s3.put(&format!("site/{key}"), data.as_bytes());
        }
        s3.put("site/pinned/open.txt", b"open");
        let web_root = dir.path().join("app");
        std::fs::create_dir_all(web_root.join("api")).unwrap();
        std::fs::write(web_root.join("api/data.json"), br#"{"private":true}"#).unwrap();
        let web = WebServer::start(&web_root);
        let (private1, public1) = rsa_key(dir.path(), "key1");
        let (private2, public2) = rsa_key(dir.path(), "key2");
        let empty = dir.path().join("empty");
        std::fs::create_dir_all(&empty).unwrap();
        let server = Server::start_with(
            &empty,
            ServerOptions {
                origin_spec: Some("none".into()),
                env: s3.aws_env(),
                args: vec![
                    "--distribution-domain".into(),
                    "cdn.test".into(),
                    "--key-pair".into(),
                    format!("{DECLARED_ID}={}", public1.display()),
                ],
                api: true,
                ..Default::default()
            },
        );
        let aws = Aws::new(&server);
        let key1 = create_public_key(&aws, dir.path(), "key1", &public1);
        let key2 = create_public_key(&aws, dir.path(), "key2", &public2);
        let group = create_key_group(&aws, dir.path(), "trusted", &[&key1]);
        create_key_group(&aws, dir.path(), "untrusted", &[&key2]);
        let file = json_file(dir.path(), "site.json", &signed_config(web.port(), &group));
        let created = aws.ok(&["cloudfront", "create-distribution", "--distribution-config", &file]);
        let domain = created["Distribution"]["DomainName"].as_str().unwrap().to_owned();
        let setup = Setup {
            server,
            aws,
            web,
            domain,
            trusted: Signer { id: key1, private: private1.clone() },
            other: Signer { id: key2, private: private2 },
            declared: Signer { id: DECLARED_ID.into(), private: private1 },
            group,
            _s3: s3,
            dir,
        };
        wait_served(setup.server.http_port, &setup.domain);
        setup
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.domain)
    }

    /// GET of a signed URL (`http://domain/path?…`) or a path.
    fn get(&self, url: &str, headers: &[(&str, &str)]) -> Reply {
        let target = url.strip_prefix(&format!("http://{}", self.domain)).unwrap_or(url);
        request(self.server.http_port, "GET", &self.domain, target, headers)
    }
}

fn wait_served(port: u16, domain: &str) {
    poll(
        "the distribution is served",
        Duration::from_secs(20),
        || {
            let reply = request(port, "GET", domain, "/pinned/served-yet", &[]);
            json!(reply.status != 404 || !reply.text().contains("no distribution"))
        },
        |served| served == &json!(true),
    );
}

fn assert_served(reply: &Reply, body: &str, what: &str) {
    assert_eq!((reply.status, reply.text().as_str()), (200, body), "{what}: {reply:?}");
}

/// A 403 with CloudFront's XML body and `code`.
fn assert_refused(reply: &Reply, code: &str, what: &str) {
    assert_eq!(reply.status, 403, "{what}: {reply:?} {}", reply.text());
    assert_eq!(reply.header("content-type"), Some("text/xml"), "{what}");
    assert_eq!(reply.header("x-cache"), Some("Error from streamfront"), "{what}");
    let text = reply.text();
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>")
            && text.contains(&format!("<Code>{code}</Code>"))
            && text.ends_with("</Message></Error>"),
        "{what}: {text}"
    );
}

#[test]
fn signed_urls_and_cookies_from_botocore_and_the_cli_open_private_behaviors() {
    let setup = Setup::start();
    let a = setup.url("/private/a.txt");
    let hour = now() + 3600;

    assert_served(&setup.get("/pinned/open.txt", &[]), "open", "a public behavior needs nothing");
    assert_served(&setup.get(&setup.trusted.url(&a, hour, None, None), &[]), "secret a", "canned, botocore");
    let wildcard = setup.trusted.url(&setup.url("/private/*"), hour, Some(now() - 60), Some("127.0.0.1"));
    let b = wildcard.replacen("/private/*?", "/private/b.txt?", 1);
    assert_served(&setup.get(&b, &[]), "secret b", "custom policy with a wildcard, a start and an address");
    assert_served(&setup.get(&setup.trusted.aws_sign(&a, hour), &[]), "secret a", "aws cloudfront sign");
    // Signed cookies, canned and custom; the path alone (a signed URL would win over them).
    let canned = setup.trusted.cookies(&a, hour, None, None);
    assert_served(&setup.get("/private/a.txt", &[("Cookie", &canned)]), "secret a", "canned cookies");
    let custom = setup.trusted.cookies(&setup.url("/private/*"), hour, None, Some("127.0.0.0/8"));
    let with_others = format!("theme=dark; {custom}");
    assert_served(&setup.get("/private/b.txt", &[("Cookie", &with_others)]), "secret b", "custom cookies");
    // `self`: the declared key pair, not the API's keys.
    let c = setup.url("/self/c.txt");
    assert_served(&setup.get(&setup.declared.url(&c, hour, None, None), &[]), "secret c", "declared key pair");
    assert_refused(&setup.get(&setup.trusted.url(&c, hour, None, None), &[]), "InvalidKey", "a group key on self");
    assert_refused(&setup.get(&setup.declared.url(&a, hour, None, None), &[]), "InvalidKey", "self key on a group");
    let log = setup.server.log();
    assert!(log.contains("signed request refused") && log.contains("reason=\"unknown key\""), "{}", tail(&log, 10));
}

#[test]
fn bad_signatures_get_403_with_cloudfronts_codes() {
    let setup = Setup::start();
    let a = setup.url("/private/a.txt");
    let hour = now() + 3600;
    let valid = setup.trusted.url(&a, hour, None, None);
    let get = |url: &str| setup.get(url, &[]);
    assert_served(&get(&valid), "secret a", "the control");

    assert_refused(&get("/private/a.txt"), "MissingKey", "unsigned");
    assert_refused(&setup.get("/private/a.txt", &[("Cookie", "theme=dark")]), "MissingKey", "no signed cookies");
    let no_key = valid.split("&Key-Pair-Id=").next().unwrap();
    assert_refused(&get(no_key), "MissingKey", "no Key-Pair-Id");
    assert_refused(&get(&valid.replace(&setup.trusted.id, "KNOSUCHKEY0001")), "InvalidKey", "unknown key");
    assert_refused(&get(&setup.other.url(&a, hour, None, None)), "InvalidKey", "a key of a group not trusted here");
    let (head, rest) = valid.split_once("&Signature=").unwrap();
    let key_pair = &rest[rest.find('&').unwrap()..];
    assert_refused(&get(&format!("{head}&Signature=!!!{key_pair}")), "MalformedSignature", "signature not base64");
    let expires_at = valid.find("?Expires=").unwrap();
    let bad_policy = format!("{}?Policy=!!!!&Signature={rest}", &valid[..expires_at]);
    assert_refused(&get(&bad_policy), "MalformedPolicy", "policy not base64");

    assert_refused(&get(&setup.trusted.url(&a, now() - 10, None, None)), "AccessDenied", "expired");
    let later = setup.trusted.url(&a, hour + 3600, Some(hour), None);
    assert_refused(&get(&later), "AccessDenied", "not yet valid");
    assert_refused(&get(&setup.trusted.url(&a, hour, None, Some("192.0.2.0/24"))), "AccessDenied", "wrong address");
    let other_object = valid.replacen("/private/a.txt?", "/private/b.txt?", 1);
    assert_refused(&get(&other_object), "AccessDenied", "resource mismatch (canned)");
    assert_refused(&get(&format!("{valid}&x=1")), "AccessDenied", "a parameter added after signing");
    assert_refused(&get(&valid.replacen("?Expires=", "?x=1&Expires=", 1)), "AccessDenied", "one inserted before");
    // A custom policy for another object, widened to `*` after signing.
    let custom = setup.trusted.url(&setup.url("/private/b.txt"), hour, None, Some("127.0.0.1"));
    let (_, query) = custom.split_once("?Policy=").unwrap();
    let (policy, signature) = query.split_once('&').unwrap();
    let untampered = format!("{}?Policy={policy}&{signature}", a);
    assert_refused(&get(&untampered), "AccessDenied", "custom policy for another resource");
    let decoded = String::from_utf8(sf_sign::base64url::decode(policy).unwrap()).unwrap();
    let widened = sf_sign::base64url::encode(decoded.replace("/private/b.txt", "/private/*").as_bytes());
    assert_refused(&get(&format!("{a}?Policy={widened}&{signature}")), "AccessDenied", "tampered policy");
    // Cookies are refused the same way.
    let expired = setup.trusted.cookies(&a, now() - 10, None, None);
    assert_refused(&setup.get("/private/a.txt", &[("Cookie", &expired)]), "AccessDenied", "expired cookies");
    let log = setup.server.log();
    for reason in ["unsigned", "malformed", "unknown key", "expired", "not yet valid", "wrong ip", "bad signature"] {
        assert!(log.contains(&format!("reason=\"{reason}\"")), "no log line with reason {reason}: {}", tail(&log, 30));
    }
    assert!(log.contains("reason=\"resource mismatch\""), "{}", tail(&log, 30));
}

#[test]
fn signing_parameters_stay_out_of_the_origin_and_the_cache_key_and_keys_can_be_withdrawn() {
    let setup = Setup::start();
    let data = setup.url("/api/data.json?v=1");
    let first = setup.trusted.url(&data, now() + 3600, None, None);
    let reply = setup.get(&first, &[]);
    assert_served(&reply, r#"{"private":true}"#, "custom origin");
    assert_eq!(reply.header("x-cache"), Some("Miss from streamfront"));
    let asked: Vec<String> = setup.web.requests().into_iter().map(|r| r.target).collect();
    assert!(
        !asked.is_empty() && asked.iter().all(|target| target == "/api/data.json?v=1"),
        "the origin sees the viewer's own query only: {asked:?}"
    );
    let gets = setup.web.count("GET");
    // Another signature for the same URL is the same object: a hit.
    let second = setup.trusted.url(&data, now() + 7200, None, None);
    assert_ne!(first, second);
    let reply = setup.get(&second, &[]);
    assert_served(&reply, r#"{"private":true}"#, "second signature");
    assert_eq!(reply.header("x-cache"), Some("Hit from streamfront"), "signatures do not split the cache");
    assert_eq!(setup.web.count("GET"), gets, "no origin request for the hit");

    // The key is taken out of its group (as it must be before DeletePublicKey): its verified
    // signature stops working at once, and the key can then be deleted.
    let got = setup.aws.ok(&["cloudfront", "get-key-group-config", "--id", &setup.group]);
    let etag = got["ETag"].as_str().unwrap().to_owned();
    let public2 = setup.dir.path().join("key2.pub.pem");
    let key3 = create_public_key(&setup.aws, setup.dir.path(), "key3", &public2);
    let file = json_file(setup.dir.path(), "trusted-2.json", &json!({"Name": "trusted", "Items": [key3]}));
    setup.aws.ok(&[
        "cloudfront",
        "update-key-group",
        "--id",
        &setup.group,
        "--if-match",
        &etag,
        "--key-group-config",
        &file,
    ]);
    poll(
        "the withdrawn key is refused",
        Duration::from_secs(20),
        || json!(setup.get(&second, &[]).status),
        |status| status == &json!(403),
    );
    assert_refused(&setup.get(&second, &[]), "InvalidKey", "withdrawn key");
    let key1 = setup.aws.ok(&["cloudfront", "get-public-key", "--id", &setup.trusted.id]);
    let etag = key1["ETag"].as_str().unwrap();
    setup.aws.ok(&["cloudfront", "delete-public-key", "--id", &setup.trusted.id, "--if-match", etag]);
    // The key now in the group (key2's public key under a new id) signs.
    let new_signer = Signer { id: key3, private: setup.other.private.clone() };
    assert_served(&setup.get(&new_signer.url(&data, now() + 3600, None, None), &[]), r#"{"private":true}"#, "new key");
}

#[test]
fn a_key_group_created_through_one_edge_is_honoured_by_another_on_the_same_store() {
    let dir = TempDir::new("web-signed-fleet");
    let s3 = S3Server::start(&dir.path().join("s3"));
    s3.put("site/private/a.txt", b"secret a");
    let store = dir.path().join("control").display().to_string();
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let edge = |api: bool| {
        Server::start_with(
            &empty,
            ServerOptions {
                origin_spec: Some("none".into()),
                env: s3.aws_env(),
                args: vec!["--store".into(), store.clone(), "--distribution-domain".into(), "cdn.test".into()],
                api,
                ..Default::default()
            },
        )
    };
    let first = edge(true);
    let second = edge(false);
    let aws = Aws::new(&first);
    let (private, public) = rsa_key(dir.path(), "key");
    let key = create_public_key(&aws, dir.path(), "key", &public);
    let group = create_key_group(&aws, dir.path(), "fleet", &[&key]);
    // The custom origin (port 1024) is never asked here.
    let file = json_file(dir.path(), "site.json", &signed_config(1024, &group));
    let created = aws.ok(&["cloudfront", "create-distribution", "--distribution-config", &file]);
    let domain = created["Distribution"]["DomainName"].as_str().unwrap().to_owned();
    wait_served(second.http_port, &domain);
    let signer = Signer { id: key, private };
    let url = signer.url(&format!("http://{domain}/private/a.txt"), now() + 3600, None, None);
    let target = url.strip_prefix(&format!("http://{domain}")).unwrap();
    let reply = request(second.http_port, "GET", &domain, target, &[]);
    assert_served(&reply, "secret a", "the other edge");
    assert_refused(&request(second.http_port, "GET", &domain, "/private/a.txt", &[]), "MissingKey", "unsigned");
}

/// A streaming distribution on the media directory trusting `self`, with HLS over HTTP and,
/// on the returned port, HTTPS (a certificate for its domain).
fn hls_server(dir: &Path, public: &Path) -> (Server, u16, tls_support::Cert) {
    let config = dir.join("streamfront.toml");
    let toml = format!(
        "[[key_pairs]]\nid = \"{DECLARED_ID}\"\npublic_key = \"{}\"\n\
         [[streaming_distributions]]\nid = \"EHLSSIGNED0001\"\ndomain_name = \"{HLS_DOMAIN}\"\norigin = \"{}\"\n\
         trusted_signers = [\"self\"]\n",
        public.display(),
        media().origin.display()
    );
    std::fs::write(&config, toml).unwrap();
    let cert = tls_support::Cert::make(dir, "hls", HLS_DOMAIN, &[HLS_DOMAIN]);
    let config = config.display().to_string();
    let extra = ["--config", config.as_str(), "--hls-segment-seconds", "2"];
    let (server, https_port) = tls_support::start_tls(&media().origin, &[(HLS_DOMAIN, &cert)], &extra);
    (server, https_port, cert)
}

/// `curl` over HTTPS to the HLS domain (resolved to the server) with HTTP/1.1 or HTTP/2: the status.
fn curl_https(cert: &tls_support::Cert, port: u16, url: &str, http2: bool) -> u16 {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"]).arg(&cert.cert);
    cmd.args(["--resolve", &format!("{HLS_DOMAIN}:{port}:127.0.0.1")]);
    cmd.arg(if http2 { "--http2" } else { "--http1.1" }).arg(url);
    let r = run(cmd, Duration::from_secs(30));
    assert!(r.success(), "curl: {}", r.describe());
    r.stdout_text().trim().parse().unwrap()
}

const HLS_DOMAIN: &str = "hls-signed.example.com";

#[test]
fn hls_of_a_signed_stream_plays_from_a_signed_playlist_and_refuses_the_unsigned() {
    let dir = TempDir::new("hls-signed");
    let (private, public) = rsa_key(dir.path(), "key");
    let (server, https_port, cert) = hls_server(dir.path(), &public);
    let signer = Signer { id: DECLARED_ID.into(), private };
    let get = |target: &str, headers: &[(&str, &str)]| request(server.http_port, "GET", HLS_DOMAIN, target, headers);
    let index = format!("http://{HLS_DOMAIN}/hls/clip.mp4/index.m3u8");
    let hour = now() + 3600;

    assert_refused(&get("/hls/clip.mp4/index.m3u8", &[]), "MissingKey", "unsigned playlist");
    assert_refused(&get("/hls/clip.mp4/seg-0.ts", &[]), "MissingKey", "unsigned segment");
    // A playlist signed by URL: its segment and variant URIs carry the signature.
    let signed = signer.url(&index, hour, None, None);
    let query = &signed[signed.find('?').unwrap() + 1..];
    let playlist = get(signed.strip_prefix(&format!("http://{HLS_DOMAIN}")).unwrap(), &[]);
    assert_eq!(playlist.status, 200, "{playlist:?}");
    let playlist_text = playlist.text();
    let uris: Vec<&str> = playlist_text.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    assert!(!uris.is_empty() && uris.iter().all(|u| u.ends_with(query)), "{}", playlist.text());
    let segment = format!("/hls/clip.mp4/{}", uris[0]);
    let reply = get(&segment, &[]);
    assert_eq!((reply.status, reply.header("content-type")), (200, Some("video/mp2t")), "{segment}");
    assert_refused(&get(&segment.replacen("clip.mp4", "long.mp4", 1), &[]), "AccessDenied", "another stream's segment");
    let master = signer.url(&format!("http://{HLS_DOMAIN}/hls/clip.mp4/master.m3u8"), hour, None, None);
    let master = get(master.strip_prefix(&format!("http://{HLS_DOMAIN}")).unwrap(), &[]);
    assert!(master.status == 200 && master.text().contains("index.m3u8"), "{master:?}");
    let variant = master.text().lines().find(|l| l.starts_with("index.m3u8")).unwrap().to_owned();
    assert_eq!(get(&format!("/hls/clip.mp4/{variant}"), &[]).status, 200, "the variant URI is signed: {variant}");
    // A signature for the stream, as a signed RTMP play name; a wildcard custom policy; cookies.
    let by_name = signer.url("clip.mp4", hour, None, None);
    let name_query = &by_name[by_name.find('?').unwrap()..];
    assert_eq!(get(&format!("/hls/clip.mp4/index.m3u8{name_query}"), &[]).status, 200, "signed stream name");
    let wildcard = signer.url(&format!("http://{HLS_DOMAIN}/hls/*"), hour, None, Some("127.0.0.1"));
    let wildcard_query = &wildcard[wildcard.find('?').unwrap()..];
    assert_eq!(get(&format!("/hls/long.mp4/seg-1.ts{wildcard_query}"), &[]).status, 200, "wildcard");
    // A wildcard needs a custom policy: a canned one is rebuilt for the requested URL.
    let cookies = signer.cookies(&format!("http://{HLS_DOMAIN}/hls/clip.mp4/*"), hour, Some(now() - 60), None);
    assert_eq!(get("/hls/clip.mp4/seg-0.ts", &[("Cookie", &cookies)]).status, 200, "signed cookies");
    let expired = signer.url(&index, now() - 10, None, None);
    assert_refused(
        &get(expired.strip_prefix(&format!("http://{HLS_DOMAIN}")).unwrap(), &[]),
        "AccessDenied",
        "expired",
    );

    // Over HTTPS the URL signed is `https://…` (with the port the viewer named): an `http://`
    // signature does not open it, over HTTP/1.1 or HTTP/2.
    let https_index = format!("https://{HLS_DOMAIN}:{https_port}/hls/clip.mp4/index.m3u8");
    for http2 in [false, true] {
        assert_eq!(curl_https(&cert, https_port, &signer.url(&https_index, hour, None, None), http2), 200);
        let http_signed =
            signer.url(&format!("http://{HLS_DOMAIN}:{https_port}/hls/clip.mp4/index.m3u8"), hour, None, None);
        let over_https = http_signed.replacen("http://", "https://", 1);
        assert_eq!(curl_https(&cert, https_port, &over_https, http2), 403, "an http:// signature over HTTPS");
    }

    // ffmpeg plays the signed playlist URL (the Host names the distribution), segments and all.
    let url = format!("http://127.0.0.1:{}{}", server.http_port, &signed[signed.find("/hls/").unwrap()..]);
    let host = format!("Host: {HLS_DOMAIN}\r\n");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-v", "error", "-headers", &host, "-i", &url, "-map", "0:v", "-f", "framemd5", "-"]);
    let r = run(cmd, Duration::from_secs(120));
    assert!(r.success() && r.stderr.trim().is_empty(), "ffmpeg: {}", r.describe());
    let frames = r.stdout_text().lines().filter(|l| !l.starts_with('#')).count();
    assert!(frames > 50, "ffmpeg decoded {frames} video frames");
    let mut unsigned = Command::new("ffmpeg");
    let plain = format!("http://127.0.0.1:{}/hls/clip.mp4/index.m3u8", server.http_port);
    unsigned.args(["-v", "error", "-headers", &host, "-i", &plain, "-f", "null", "-"]);
    let r = run(unsigned, Duration::from_secs(60));
    assert!(!r.success() && r.stderr.contains("403"), "unsigned: {}", r.describe());
}
