//! `sf_api::sigv4::verify` against requests signed by botocore itself (from the virtualenv that
//! scripts/api-venv.sh makes), and its refusals.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use sf_api::credentials::{ApiCredential, Credentials};
use sf_api::sigv4::{DEFAULT_MAX_SKEW, Request, verify};

/// A request as it would arrive: what the server hands to `verify`.
#[derive(Clone, Debug)]
struct Received {
    name: String,
    /// Which botocore signed it, and its version.
    signer: String,
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
    token: Option<String>,
}

impl Received {
    fn request(&self) -> Request<'_> {
        Request { method: &self.method, path: &self.path, query: &self.query, headers: &self.headers, body: &self.body }
    }

    fn authorization(&self) -> &str {
        self.headers["authorization"].to_str().unwrap()
    }

    fn set_authorization(&mut self, value: &str) {
        self.headers.insert("authorization", value.parse().unwrap());
    }
}

struct Signed {
    access_key_id: String,
    secret: String,
    cases: Vec<Received>,
}

impl Signed {
    fn credentials_for(&self, case: &Received) -> Credentials {
        self.credentials(case.token.as_deref())
    }

    fn credentials(&self, token: Option<&str>) -> Credentials {
        Credentials::new(vec![ApiCredential {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret.clone(),
            session_token: token.map(str::to_owned),
        }])
        .unwrap()
    }

    /// The case `name` as boto3's botocore signed it.
    fn case(&self, name: &str) -> Received {
        self.cases.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no case {name}")).clone()
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The virtualenv's python, made by scripts/api-venv.sh when it is not there yet.
fn venv_python() -> PathBuf {
    let script = repo_root().join("scripts/api-venv.sh");
    let output = Command::new(&script).output().unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(
        output.status.success(),
        "{} failed (it needs python3 and PyPI):\n{}",
        script.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let venv = stdout.lines().last().expect("api-venv.sh prints the venv's path last");
    Path::new(venv).join("bin/python")
}

/// Runs tests/botocore_sign.py once per test binary (its requests are signed at the real time),
/// with boto3's botocore and with the copy the AWS CLI carries: each case twice.
fn botocore_signed() -> &'static Signed {
    static SIGNED: OnceLock<Signed> = OnceLock::new();
    SIGNED.get_or_init(|| {
        let python = venv_python();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/botocore_sign.py");
        let mut signed = Signed { access_key_id: String::new(), secret: String::new(), cases: Vec::new() };
        for package in ["botocore", "awscli.botocore"] {
            let output = Command::new(&python).arg(&script).arg(package).output().unwrap();
            assert!(output.status.success(), "botocore_sign.py {package}: {}", String::from_utf8_lossy(&output.stderr));
            let json: Value = serde_json::from_slice(&output.stdout).unwrap();
            let signer = format!("{package} {}", json["version"].as_str().unwrap());
            signed.cases.extend(json["cases"].as_array().unwrap().iter().map(|case| received(case, &signer)));
            signed.access_key_id = json["access_key_id"].as_str().unwrap().to_owned();
            signed.secret = json["secret"].as_str().unwrap().to_owned();
        }
        signed
    })
}

/// A captured botocore request as the server would receive it: the HTTP client adds `Host`
/// from the URL (the signer signed that too).
fn received(case: &Value, signer: &str) -> Received {
    let url = case["url"].as_str().unwrap();
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, target) = rest.split_at(rest.find('/').unwrap());
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers = HeaderMap::new();
    headers.append("host", HeaderValue::from_str(authority).unwrap());
    for pair in case["headers"].as_array().unwrap() {
        let (name, value) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        // An HTTP parser strips the whitespace around a value.
        headers.append(HeaderName::from_bytes(name.as_bytes()).unwrap(), HeaderValue::from_str(value.trim()).unwrap());
    }
    let body_hex = case["body_hex"].as_str().unwrap();
    let body = (0..body_hex.len()).step_by(2).map(|i| u8::from_str_radix(&body_hex[i..i + 2], 16).unwrap()).collect();
    Received {
        name: case["name"].as_str().unwrap().to_owned(),
        signer: signer.to_owned(),
        method: case["method"].as_str().unwrap().to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body,
        token: case["token"].as_str().map(str::to_owned),
    }
}

fn verify_now(case: &Received, credentials: &Credentials) -> Result<String, sf_api::ApiError> {
    verify(&case.request(), credentials, SystemTime::now(), DEFAULT_MAX_SKEW)
}

/// `text` with one character changed: its last digit moved on by one (a date stays a valid
/// date a few seconds away), else its last character swapped.
fn tweak(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    match bytes.iter().rposition(u8::is_ascii_digit) {
        Some(i) => bytes[i] = b'0' + (bytes[i] - b'0' + 1) % 10,
        None => {
            let last = bytes.last_mut().unwrap();
            *last = if *last == b'a' { b'b' } else { b'a' };
        }
    }
    String::from_utf8(bytes).unwrap()
}

#[test]
fn botocore_signed_requests_verify() {
    let signed = botocore_signed();
    assert_eq!(signed.cases.len(), 12);
    assert!(signed.cases[0].signer.starts_with("botocore ") && signed.cases[11].signer.starts_with("awscli.botocore "));
    for case in &signed.cases {
        let credentials = signed.credentials_for(case);
        assert_eq!(
            verify_now(case, &credentials),
            Ok(signed.access_key_id.clone()),
            "{} by {}",
            case.name,
            case.signer
        );
        // Headers botocore adds after signing may change on the way.
        let mut relayed = case.clone();
        relayed.headers.insert("user-agent", "a proxy's".parse().unwrap());
        relayed.headers.insert("accept-encoding", "identity".parse().unwrap());
        assert!(verify_now(&relayed, &credentials).is_ok(), "{}: unsigned headers changed", case.name);
    }
    // What the cases are meant to cover is really in them.
    assert_eq!(signed.case("id with %2F and a space").path, "/2020-05-31/streaming-distribution/E%2F1%20x");
    assert_eq!(signed.case("?WithTags and a body").query, "WithTags");
    assert!(signed.case("If-Match signed").authorization().contains("SignedHeaders=host;if-match;x-amz-date,"));
    assert!(signed.case("paging query").authorization().contains(";x-amz-meta-note,"));
    assert!(signed.case("session token").authorization().contains(";x-amz-security-token,"));
    assert!(signed.case("Date instead of X-Amz-Date").authorization().contains("SignedHeaders=date;host,"));
}

#[test]
fn one_changed_byte_anywhere_signed_is_refused() {
    let signed = botocore_signed();
    for case in &signed.cases {
        let credentials = signed.credentials_for(case);
        let refused = |changed: &Received, what: &str| {
            let err = verify_now(changed, &credentials)
                .expect_err(&format!("{} by {}: changed {what}", case.name, case.signer));
            assert_eq!(err.status, 403, "{}: changed {what}", case.name);
            let expected =
                if what == "x-amz-security-token" { "InvalidClientTokenId" } else { "SignatureDoesNotMatch" };
            assert_eq!(err.code, expected, "{}: changed {what}: {}", case.name, err.message);
        };
        let mut changed = case.clone();
        changed.path = tweak(&case.path);
        refused(&changed, "path");
        if !case.query.is_empty() {
            let mut changed = case.clone();
            changed.query = tweak(&case.query);
            refused(&changed, "query");
        }
        if !case.body.is_empty() {
            let mut changed = case.clone();
            changed.body[case.body.len() / 2] ^= 1;
            refused(&changed, "body");
        }
        let mut changed = case.clone();
        changed.method = if case.method == "GET" { "HEAD".to_owned() } else { "GET".to_owned() };
        refused(&changed, "method");
        let signed_headers = case.authorization().split("SignedHeaders=").nth(1).unwrap().split(',').next().unwrap();
        for name in signed_headers.split(';') {
            let mut changed = case.clone();
            let value = case.headers[name].to_str().unwrap();
            let value = match (name, value.rsplit_once(' ')) {
                // Its seconds, not its zone.
                ("date", Some((stamp, zone))) => format!("{} {zone}", tweak(stamp)),
                _ => tweak(value),
            };
            changed.headers.insert(HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
            refused(&changed, name);
        }
    }
}

#[test]
fn the_secret_the_key_and_the_token_must_be_the_configured_ones() {
    let signed = botocore_signed();
    let plain = signed.case("If-Match signed");
    let with_token = signed.case("session token");
    let code = |case: &Received, credentials: &Credentials| verify_now(case, credentials).unwrap_err().code;

    let other_secret = Credentials::new(vec![ApiCredential {
        access_key_id: signed.access_key_id.clone(),
        secret_access_key: format!("{}x", signed.secret),
        session_token: None,
    }])
    .unwrap();
    assert_eq!(code(&plain, &other_secret), "SignatureDoesNotMatch");
    let other_id = Credentials::new(vec![ApiCredential {
        access_key_id: "AKIDSOMEONEELSE".to_owned(),
        secret_access_key: signed.secret.clone(),
        session_token: None,
    }])
    .unwrap();
    assert_eq!(code(&plain, &other_id), "InvalidClientTokenId");
    // A credential with a token wants it; one without refuses it.
    assert_eq!(code(&plain, &signed.credentials(Some("a-token"))), "InvalidClientTokenId");
    assert_eq!(code(&with_token, &signed.credentials(None)), "InvalidClientTokenId");
    assert_eq!(code(&with_token, &signed.credentials(Some("another-token"))), "InvalidClientTokenId");
    let mut token_removed = with_token.clone();
    token_removed.headers.remove("x-amz-security-token");
    assert_eq!(code(&token_removed, &signed.credentials_for(&with_token)), "InvalidClientTokenId");
}

#[test]
fn requests_signed_too_long_ago_or_in_the_future_are_refused() {
    let signed = botocore_signed();
    let case = signed.case("?WithTags and a body");
    let credentials = signed.credentials_for(&case);
    let at = |now: SystemTime| verify(&case.request(), &credentials, now, DEFAULT_MAX_SKEW);
    let minutes = |n: u64| Duration::from_secs(n * 60);
    let now = SystemTime::now();
    assert!(at(now + minutes(14)).is_ok());
    assert!(at(now - minutes(14)).is_ok());
    for (when, now) in [("20 minutes old", now + minutes(20)), ("20 minutes ahead", now - minutes(20))] {
        let err = at(now).unwrap_err();
        assert_eq!((err.status, err.code), (403, "RequestTimeTooSkewed"), "{when}: {}", err.message);
    }
    let err = verify(&case.request(), &credentials, now + minutes(3), Duration::from_secs(60)).unwrap_err();
    assert_eq!(err.code, "RequestTimeTooSkewed", "a narrower skew is honoured");
}

#[test]
fn malformed_or_foreign_authorization_is_refused_with_its_code() {
    let signed = botocore_signed();
    let case = signed.case("If-Match signed");
    let credentials = signed.credentials_for(&case);
    let with_authorization = |value: &str| {
        let mut changed = case.clone();
        changed.set_authorization(value);
        let err = verify_now(&changed, &credentials).unwrap_err();
        assert_eq!(err.status, 403);
        err.code
    };
    let original = case.authorization().to_owned();

    let mut unsigned = case.clone();
    unsigned.headers.remove("authorization");
    assert_eq!(verify_now(&unsigned, &credentials).unwrap_err().code, "MissingAuthenticationToken");
    assert_eq!(with_authorization("AWS AKIDBOTOCORE:frJIUN8DYpKDtOLCwo//yllqDzg="), "MissingAuthenticationToken");
    assert_eq!(with_authorization("Bearer abc"), "MissingAuthenticationToken");

    let no_signature = original.split(", Signature=").next().unwrap();
    assert_eq!(with_authorization(no_signature), "IncompleteSignature");
    assert_eq!(with_authorization(&original.replace("SignedHeaders=", "Signedheaders=")), "IncompleteSignature");
    assert_eq!(with_authorization(&original.replace("/aws4_request", "/aws4")), "IncompleteSignature");
    let long = format!("{original}{}", " ".repeat(8 * 1024));
    assert_eq!(with_authorization(&long), "IncompleteSignature");
    let yesterday =
        original.replace(&format!("/{}/", &case.headers["x-amz-date"].to_str().unwrap()[..8]), "/20000101/");
    assert_eq!(with_authorization(&yesterday), "IncompleteSignature", "scope date is not the request's date");

    assert_eq!(with_authorization(&original.replace(&signed.access_key_id, "AKIDUNKNOWN")), "InvalidClientTokenId");
    assert_eq!(with_authorization(&original.replace("/cloudfront/", "/s3/")), "AccessDenied");
    let mut host_unsigned = case.clone();
    host_unsigned.set_authorization(&original.replace("SignedHeaders=host;", "SignedHeaders="));
    let err = verify_now(&host_unsigned, &credentials).unwrap_err();
    assert_eq!(err.code, "SignatureDoesNotMatch");
    assert!(err.message.contains("'host' must be one of the SignedHeaders"), "{}", err.message);
    let mut if_match_dropped = case.clone();
    if_match_dropped.headers.remove("if-match");
    let err = verify_now(&if_match_dropped, &credentials).unwrap_err();
    assert_eq!(err.code, "SignatureDoesNotMatch");
    assert!(err.message.contains("\"if-match\" is listed in SignedHeaders"), "{}", err.message);

    let mut twice = case.clone();
    twice.headers.append("authorization", original.parse().unwrap());
    assert_eq!(verify_now(&twice, &credentials).unwrap_err().code, "IncompleteSignature");
    let mut no_date = case.clone();
    no_date.headers.remove("x-amz-date");
    assert_eq!(verify_now(&no_date, &credentials).unwrap_err().code, "IncompleteSignature");
    let mut declared_hash = case.clone();
    let body_hash = sha256_hex(&case.body);
    declared_hash.headers.insert("x-amz-content-sha256", body_hash.parse().unwrap());
    assert!(verify_now(&declared_hash, &credentials).is_ok(), "X-Amz-Content-SHA256 of the body itself");
    let mut wrong_hash = case.clone();
    wrong_hash.headers.insert("x-amz-content-sha256", "UNSIGNED-PAYLOAD".parse().unwrap());
    assert_eq!(verify_now(&wrong_hash, &credentials).unwrap_err().code, "SignatureDoesNotMatch");
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn the_signature_mismatch_message_says_what_to_check() {
    let signed = botocore_signed();
    let mut case = signed.case("id with %2F and a space");
    case.path = tweak(&case.path);
    let err = verify_now(&case, &signed.credentials(None)).unwrap_err();
    assert!(err.message.starts_with(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret \
         Access Key and signing method."
    ));
    assert!(err.message.contains("/2020-05-31/streaming-distribution/E%252F1%2521x"), "{}", err.message);
}
