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
