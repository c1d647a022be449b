//! What the CloudFront API refuses, and that refusing changes nothing: requests without a
//! signature (curl), with a wrong secret or an unknown key id (the AWS CLI), with a body changed
//! after signing or signed 20 minutes ago (botocore's own SigV4 signer, tests/api/raw.py);
//! malformed XML, a wrong type, a Quantity mismatch, no body and a 10 MB body. The server keeps
//! answering the API and playing RTMP. And `--api-listen` without credentials does not start.

mod common;

use std::process::Command;
use std::time::Duration;

use common::api::{ACCESS_KEY_ID, Aws, SECRET_ACCESS_KEY, curl, error_code, json_file};
use common::*;
use serde_json::{Value, json};

const CREATE: &str = "/2020-05-31/streaming-distribution";

/// A valid StreamingDistributionConfig as botocore sends it, with `enabled` and `quantity`
/// (the aliases' Quantity) put in verbatim so they can be wrong.
fn config_xml(caller_reference: &str, enabled: &str, quantity: &str) -> String {
    format!(
        "<StreamingDistributionConfig xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\">\
         <CallerReference>{caller_reference}</CallerReference>\
         <S3Origin><DomainName>media.s3.amazonaws.com</DomainName><OriginAccessIdentity /></S3Origin>\
         <Aliases><Quantity>{quantity}</Quantity><Items><CNAME>refused.example.com</CNAME></Items></Aliases>\
         <Comment>signed by botocore</Comment>\
         <TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners>\
         <Enabled>{enabled}</Enabled></StreamingDistributionConfig>"
    )
}

fn write(dir: &TempDir, name: &str, body: &[u8]) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    path
}

/// The ids of every streaming distribution, through the CLI.
fn listed(aws: &Aws) -> Vec<String> {
    let list = aws.ok(&["cloudfront", "list-streaming-distributions", "--no-paginate"]);
    let list = &list["StreamingDistributionList"];
    assert!(list.is_object(), "{list:#}");
    list["Items"]
        .as_array()
        .map(|items| items.iter().map(|i| i["Id"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

/// `(status, code)` of a raw.py answer.
fn answered(report: &Value) -> (u64, &str) {
    (report["status"].as_u64().unwrap_or_default(), report["code"].as_str().unwrap_or_default())
}

#[test]
fn refused_requests_change_nothing_and_the_server_keeps_serving() {
    let server = Server::start_with(&media().origin, ServerOptions { api: true, ..Default::default() });
    let aws = Aws::new(&server);
    let dir = TempDir::new("api-refused");
    let valid = write(&dir, "valid.xml", config_xml("refused-1", "true", "1").as_bytes());

    // Authentication: each refused with 403 and its code, and nothing created.
    let (status, body) = curl("GET", &format!("{}{CREATE}", aws.endpoint), None);
    assert_eq!((status, error_code(&body)), (403, Some("MissingAuthenticationToken")), "{body}");
    let (status, body) = curl("POST", &format!("{}{CREATE}", aws.endpoint), Some(&valid));
    assert_eq!((status, error_code(&body)), (403, Some("MissingAuthenticationToken")), "{body}");
    let cli_config = json!({
        "CallerReference": "refused-cli",
        "S3Origin": {"DomainName": "media.s3.amazonaws.com", "OriginAccessIdentity": ""},
        "Comment": "",
        "TrustedSigners": {"Enabled": false, "Quantity": 0},
        "Enabled": true,
    });
    let config = json_file(dir.path(), "cli.json", &cli_config);
    let create = ["cloudfront", "create-streaming-distribution", "--streaming-distribution-config", &config];
    let (_, code) = aws.with_credentials(ACCESS_KEY_ID, "not-the-secret").err(&create);
    assert_eq!(code, "SignatureDoesNotMatch");
    let (_, code) = aws.with_credentials("AKIANOBODYKNOWSTHIS", SECRET_ACCESS_KEY).err(&create);
    assert_eq!(code, "InvalidClientTokenId");
    let (status, _) =
        aws.with_credentials("AKIANOBODYKNOWSTHIS", SECRET_ACCESS_KEY).boto_err("list_distributions", json!({}));
    assert_eq!(status, 403);
    let report = aws.raw("POST", CREATE, Some(&valid), &["--tamper"]);
    assert_eq!(answered(&report), (403, "SignatureDoesNotMatch"), "{report:#}");
    let report = aws.raw("POST", CREATE, Some(&valid), &["--skew", "1200"]);
    assert_eq!(answered(&report), (403, "RequestTimeTooSkewed"), "{report:#}");
    assert_eq!(listed(&aws), Vec::<String>::new(), "a refused request created something");

    // Bodies: each refused with 400 and its code, and nothing created.
    let cases = [
        ("malformed", b"<StreamingDistributionConfig><CallerReference>x</Caller".to_vec(), "MalformedInput"),
        ("wrong type", config_xml("refused-2", "yes", "1").into_bytes(), "InvalidArgument"),
        ("quantity", config_xml("refused-3", "true", "2").into_bytes(), "InconsistentQuantities"),
        ("no body", Vec::new(), "MissingBody"),
    ];
    for (name, body, expected) in cases {
        let report = aws.raw("POST", CREATE, Some(&write(&dir, "case.xml", &body)), &[]);
        assert_eq!(answered(&report), (400, expected), "{name}: {report:#}");
        if expected == "InvalidArgument" {
            assert!(report["body"].as_str().unwrap().contains("Enabled"), "the message names the field: {report:#}");
        }
    }
    // 10 MB: refused as too large, whatever it says.
    let mut huge = config_xml("refused-4", "true", "1").into_bytes();
    let at = huge.windows(9).position(|w| w == b"</Comment").unwrap();
    huge.splice(at..at, std::iter::repeat_n(b'x', 10 << 20));
    let report = aws.raw("POST", CREATE, Some(&write(&dir, "huge.xml", &huge)), &[]);
    assert_eq!(report["status"], 413, "{:#}", report["code"]);
    assert_eq!(listed(&aws), Vec::<String>::new(), "a refused body created something");

    // The same valid body, signed and unchanged, is accepted: the refusals were about what
    // each one changed. The server still answers and plays.
    let report = aws.raw("POST", CREATE, Some(&valid), &[]);
    assert_eq!(report["status"], 201, "{report:#}");
    assert_eq!(listed(&aws).len(), 1);
    let mut server = server;
    server.assert_healthy();
    eprintln!("{}", check_ffmpeg(&server.url("clip.flv"), "clip.flv", &Expect::Whole, &[], &[]));
}

#[test]
fn api_listen_without_credentials_refuses_to_start() {
    let dir = TempDir::new("api-no-credentials");
    let mut cmd = Command::new(binary());
    cmd.arg("serve")
        .arg("--origin")
        .arg(&media().origin)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--rtmp-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--http-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--admin-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--api-listen", &format!("127.0.0.1:{}", free_port())])
        .env_remove("STREAMFRONT_API_ACCESS_KEY_ID")
        .env_remove("STREAMFRONT_API_SECRET_ACCESS_KEY")
        .env_remove("STREAMFRONT_CONFIG");
    let r = run(cmd, Duration::from_secs(30));
    assert!(!r.timed_out, "serve started and kept running without API credentials: {}", r.describe());
    assert!(!r.success(), "{}", r.describe());
    assert!(r.stderr.contains("STREAMFRONT_API_ACCESS_KEY_ID"), "the error names the variable: {}", r.describe());
}
