//! With certificates, `--api-listen` speaks HTTPS: the AWS CLI reaches the CloudFront API
//! when told to trust the certificate (`--ca-bundle`), and refuses it otherwise.

mod common;
mod tls_support;

use std::process::Command;
use std::time::Duration;

use common::*;
use tls_support::*;

const ACCESS_KEY_ID: &str = "AKIDTLSTEST";
const SECRET_ACCESS_KEY: &str = "tls-test-secret";

fn aws(port: u16, ca_bundle: Option<&std::path::Path>) -> Run {
    require_tool("aws");
    let mut cmd = Command::new("aws");
    cmd.arg("--endpoint-url").arg(format!("https://localhost:{port}"));
    if let Some(ca) = ca_bundle {
        cmd.arg("--ca-bundle").arg(ca);
    }
    cmd.args(["cloudfront", "list-streaming-distributions", "--no-paginate", "--output", "json"]);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    run(cmd, Duration::from_secs(60))
}

#[test]
fn the_aws_cli_calls_the_api_over_https_with_ca_bundle() {
    let dir = TempDir::new("tls");
    let cert = Cert::make(dir.path(), "localhost", "localhost", &["localhost"]);
    let api_port = free_port();
    let api_listen = format!("127.0.0.1:{api_port}");
    let port = free_port();
    let args = vec![
        "--api-listen".to_owned(),
        api_listen,
        "--https-listen".to_owned(),
        format!("127.0.0.1:{port}"),
        "--tls-cert".to_owned(),
        cert.flag("localhost"),
    ];
    let env = vec![
        ("STREAMFRONT_API_ACCESS_KEY_ID".to_owned(), ACCESS_KEY_ID.to_owned()),
        ("STREAMFRONT_API_SECRET_ACCESS_KEY".to_owned(), SECRET_ACCESS_KEY.to_owned()),
    ];
    let server = Server::start_with(&media().origin, ServerOptions { args, env, ..ServerOptions::default() });

    let r = aws(api_port, Some(&cert.cert));
    assert!(r.success(), "aws with --ca-bundle: {}", r.describe());
    assert!(r.stdout_text().contains("\"StreamingDistributionList\""), "aws printed: {}", r.stdout_text());

    let r = aws(api_port, None);
    assert!(!r.success(), "aws trusted a self-signed certificate without --ca-bundle: {}", r.describe());
    assert_contains_ci(&r.stderr, "certificate verify failed", "aws without --ca-bundle");
    drop(server);
}

/// A web distribution whose `ViewerCertificate` names a certificate (ACM here) must have every
/// alias covered by a configured certificate: 400 `InvalidViewerCertificate` otherwise.
#[test]
fn a_named_viewer_certificate_must_cover_every_alias() {
    use common::api::{Aws, json_file};
    let dir = TempDir::new("tls");
    let cert = Cert::make(dir.path(), "edge", "localhost", &["localhost", "*.cdn.example.com"]);
    let args = vec![
        "--https-listen".to_owned(),
        format!("127.0.0.1:{}", free_port()),
        "--tls-cert".to_owned(),
        cert.flag("localhost,*.cdn.example.com"),
    ];
    let env = common::api::server_env().map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec();
    let options = ServerOptions { args, env, api: true, ..ServerOptions::default() };
    let server = Server::start_with(&media().origin, options);
    let mut aws = Aws::new(&server);
    aws.endpoint = format!("https://localhost:{}", server.api_port.unwrap());
    let ca = cert.cert.to_str().unwrap();
    let config = |reference: &str, alias: &str| {
        serde_json::json!({
            "CallerReference": reference,
            "Aliases": {"Quantity": 1, "Items": [alias]},
            "Origins": {"Quantity": 1, "Items": [{
                "Id": "o", "DomainName": "media.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""},
            }]},
            "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "redirect-to-https",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
            "ViewerCertificate": {
                "ACMCertificateArn": "arn:aws:acm:us-east-1:000000000000:certificate/0a1b2c3d",
                "SSLSupportMethod": "sni-only", "MinimumProtocolVersion": "TLSv1.2_2021"},
            "Comment": reference,
            "Enabled": true,
        })
    };
    let create = |reference: &str, alias: &str| {
        let file = json_file(dir.path(), &format!("{reference}.json"), &config(reference, alias));
        aws.run(&["--ca-bundle", ca, "cloudfront", "create-distribution", "--distribution-config", &file])
    };
    let covered = create("covered", "video.cdn.example.com");
    assert!(covered.run.success(), "an alias the wildcard covers: {}", covered.run.describe());
    let uncovered = create("uncovered", "www.example.org");
    assert!(!uncovered.run.success(), "an alias no certificate covers was accepted");
    assert_eq!(uncovered.error_code().as_deref(), Some("InvalidViewerCertificate"), "{}", uncovered.run.describe());
    assert!(uncovered.run.stderr.contains("www.example.org"), "the message names the alias: {}", uncovered.run.stderr);
}
