//! A success of the CloudFront API is durable: a distribution created through the AWS CLI is
//! still there, with the same ETag and config, after the server is killed with SIGKILL right
//! after answering and started again on the same data directory.

mod common;

use common::api::{Aws, json_file};
use common::*;
use serde_json::json;

fn start(data_dir: &TempDir) -> Server {
    Server::start_with(
        &media().origin,
        ServerOptions {
            origin_spec: Some("none".into()),
            data_dir: Some(data_dir.path().to_path_buf()),
            api: true,
            ..Default::default()
        },
    )
}

#[test]
fn a_created_distribution_survives_kill_9() {
    let data_dir = TempDir::new("api-durable");
    let mut server = start(&data_dir);
    let aws = Aws::new(&server);
    let config = json!({
        "CallerReference": "durable-1",
        "S3Origin": {"DomainName": "media.s3.amazonaws.com", "OriginAccessIdentity": ""},
        "Aliases": {"Quantity": 1, "Items": ["durable.example.com"]},
        "Comment": "survives kill -9",
        "TrustedSigners": {"Enabled": false, "Quantity": 0},
        "Enabled": true,
    });
    let file = json_file(data_dir.path(), "durable.json", &config);
    let created = aws.ok(&["cloudfront", "create-streaming-distribution", "--streaming-distribution-config", &file]);
    // No graceful stop: whatever the answer promised must already be on disk.
    server.kill();
    let id = created["StreamingDistribution"]["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}"));
    let etag = created["ETag"].as_str().unwrap();

    let server = start(&data_dir);
    let aws = Aws::new(&server);
    let got = aws.ok(&["cloudfront", "get-streaming-distribution", "--id", id]);
    assert_eq!(got["ETag"], etag, "{got:#}");
    let dist = &got["StreamingDistribution"];
    assert_eq!(dist["StreamingDistributionConfig"], config);
    assert_eq!(dist["DomainName"], created["StreamingDistribution"]["DomainName"]);
    // The restarted server knows the CallerReference too.
    let (_, code) = aws.err(&["cloudfront", "create-streaming-distribution", "--streaming-distribution-config", &file]);
    assert_eq!(code, "StreamingDistributionAlreadyExists");
}
