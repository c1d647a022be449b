//! A streaming distribution's whole life through the CloudFront API with the real AWS CLI (and
//! boto3 where the HTTP status matters): create, get, update with If-Match, the refusals
//! CloudFront gives (stale or missing ETag, an enabled delete, a changed CallerReference),
//! disable, Deployed, delete; and a created distribution plays its bucket on the real S3 server
//! with ffmpeg and rtmpdump, routed by its domain name and then by an alias added by update,
//! until it is disabled.

mod common;

use std::time::Duration;

use common::api::{Aws, json_file, poll};
use common::raw::RawClient;
use common::*;
use serde_json::{Value, json};
use sf_testkit::{BUCKET, S3Server};

const DOMAIN: &str = "cdn.test";
const ALIAS: &str = "rtmp.api-test.example";

struct Setup {
    server: Server,
    aws: Aws,
    dir: TempDir,
    _s3: S3Server,
}

/// Bucket `media` holds `x.mp4` = movie.mp4; the server has no default origin, so only a
/// distribution can play it.
fn start() -> Setup {
    let dir = TempDir::new("api-streaming");
    let s3 = S3Server::start(dir.path());
    s3.link_file("x.mp4", &media().origin.join("movie.mp4"));
    let server = Server::start_with(
        &media().origin,
        ServerOptions {
            origin_spec: Some("none".into()),
            env: s3.aws_env(),
            args: vec!["--distribution-domain".into(), DOMAIN.into()],
            api: true,
            ..Default::default()
        },
    );
    let aws = Aws::new(&server);
    Setup { server, aws, dir, _s3: s3 }
}

fn config(caller_reference: &str, comment: &str, aliases: &[&str], enabled: bool) -> Value {
    let aliases =
        if aliases.is_empty() { json!({"Quantity": 0}) } else { json!({"Quantity": aliases.len(), "Items": aliases}) };
    json!({
        "CallerReference": caller_reference,
        "S3Origin": {"DomainName": format!("{BUCKET}.s3.amazonaws.com"), "OriginAccessIdentity": ""},
        "Aliases": aliases,
        "Comment": comment,
        "TrustedSigners": {"Enabled": false, "Quantity": 0},
        "PriceClass": "PriceClass_All",
        "Enabled": enabled,
    })
}

fn get(aws: &Aws, id: &str) -> Value {
    aws.ok(&["cloudfront", "get-streaming-distribution", "--id", id])
}

fn wait_deployed(aws: &Aws, id: &str) -> Value {
    poll(
        &format!("{id} Deployed"),
        Duration::from_secs(15),
        || get(aws, id),
        |d| d["StreamingDistribution"]["Status"] == "Deployed",
    )
}

/// ffmpeg and rtmpdump connected to 127.0.0.1 but naming `host` in their tcUrl get movie.mp4.
fn plays_via(server: &Server, host: &str) {
    let tc_url = format!("rtmp://{host}/cfx/st");
    let url = format!("rtmp://127.0.0.1:{}/cfx/st/mp4:x.mp4", server.rtmp_port());
    eprintln!("{}", check_ffmpeg(&url, "movie.mp4", &Expect::Whole, &["-rtmp_tcurl", &tc_url], &[]));
    let app_url = format!("rtmp://127.0.0.1:{}/cfx/st", server.rtmp_port());
    let args = ["-y", "mp4:x.mp4", "--tcUrl", &tc_url];
    eprintln!("{}", check_rtmpdump(&app_url, "movie.mp4", &Expect::Whole, &args, &[0]));
}

/// The code of the reply to a connect whose tcUrl names `host`, and the whole reply.
fn connect_via(server: &Server, host: &str) -> (Option<String>, String) {
    let mut client = RawClient::connect(server.rtmp_addr()).unwrap();
    client.handshake().unwrap();
    let reply = client.connect_app_via("cfx/st", &format!("rtmp://{host}/cfx/st")).unwrap();
    (reply.code(), format!("{:?}", reply.values()))
}

#[test]
fn a_streaming_distribution_lives_and_dies_through_the_cli_and_plays_while_it_lives() {
    require_tool("ffmpeg");
    require_tool("rtmpdump");
    // Bound by name: `..` would drop the S3 server at once.
    let Setup { server, aws, dir, _s3 } = start();
    let dir = dir.path();

    // Create: 201 with Location and ETag, InProgress, an s… domain name under --distribution-domain.
    let sent = config("life-1", "first", &[], true);
    let created = aws.ok(&[
        "cloudfront",
        "create-streaming-distribution",
        "--streaming-distribution-config",
        &json_file(dir, "create.json", &sent),
    ]);
    let dist = &created["StreamingDistribution"];
    let id = dist["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}")).to_owned();
    let etag = created["ETag"].as_str().unwrap_or_else(|| panic!("no ETag: {created:#}")).to_owned();
    let domain = dist["DomainName"].as_str().unwrap().to_owned();
    assert!(id.starts_with('E') && id.len() >= 13, "{created:#}");
    assert!(
        created["Location"].as_str().is_some_and(|l| l.ends_with(&format!("/2020-05-31/streaming-distribution/{id}"))),
        "{created:#}"
    );
    assert!(domain.starts_with('s') && domain.ends_with(&format!(".{DOMAIN}")), "{created:#}");
    assert_eq!(dist["ARN"].as_str().unwrap().rsplit_once(':').unwrap().1, format!("streaming-distribution/{id}"));
    assert_eq!(dist["Status"], "InProgress", "a new distribution is InProgress: {created:#}");
    assert_eq!(dist["StreamingDistributionConfig"], sent, "the config is echoed as sent");

    // Get and get-config: the same ETag and config.
    let got = get(&aws, &id);
    assert_eq!(got["ETag"], etag.as_str());
    assert_eq!(got["StreamingDistribution"]["StreamingDistributionConfig"], sent);
    let got_config = aws.ok(&["cloudfront", "get-streaming-distribution-config", "--id", &id]);
    assert_eq!(got_config["ETag"], etag.as_str());
    assert_eq!(got_config["StreamingDistributionConfig"], sent);

    // Deployed within seconds, then it plays its bucket through its domain name.
    wait_deployed(&aws, &id);
    plays_via(&server, &domain);

    // Update with the right If-Match: a new comment and an alias, which routes once Deployed.
    let updated_config = config("life-1", "second", &[ALIAS], true);
    let update_file = json_file(dir, "update.json", &updated_config);
    let update = |if_match: &str| {
        aws.run(&[
            "cloudfront",
            "update-streaming-distribution",
            "--id",
            &id,
            "--if-match",
            if_match,
            "--streaming-distribution-config",
            &update_file,
        ])
    };
    let out = update(&etag);
    assert!(out.run.success(), "{}", out.run.describe());
    let etag2 = out.json["ETag"].as_str().unwrap().to_owned();
    assert_ne!(etag2, etag, "an update makes a new ETag");
    assert_eq!(out.json["StreamingDistribution"]["StreamingDistributionConfig"], updated_config);
    assert_eq!(get(&aws, &id)["StreamingDistribution"]["StreamingDistributionConfig"]["Comment"], "second");
    wait_deployed(&aws, &id);
    plays_via(&server, ALIAS);

    // The old ETag is stale: 412 PreconditionFailed (the status through boto3).
    let out = update(&etag);
    assert_eq!(out.error_code().as_deref(), Some("PreconditionFailed"), "{}", out.run.describe());
    let boto_update = |if_match: Option<&str>, config: &Value| {
        let mut params = json!({"Id": id, "StreamingDistributionConfig": config});
        if let Some(if_match) = if_match {
            params["IfMatch"] = json!(if_match);
        }
        aws.boto_err("update_streaming_distribution", params)
    };
    assert_eq!(boto_update(Some(&etag), &updated_config), (412, "PreconditionFailed".into()));
    // No If-Match at all: 400 InvalidIfMatchVersion.
    assert_eq!(boto_update(None, &updated_config), (400, "InvalidIfMatchVersion".into()));
    // The CallerReference cannot change: 400 IllegalUpdate.
    assert_eq!(boto_update(Some(&etag2), &config("life-2", "second", &[ALIAS], true)), (400, "IllegalUpdate".into()));
    // None of the refused updates changed anything.
    let got = get(&aws, &id);
    assert_eq!(got["ETag"], etag2.as_str());
    assert_eq!(got["StreamingDistribution"]["StreamingDistributionConfig"], updated_config);

    // An enabled distribution cannot be deleted: 409 StreamingDistributionNotDisabled.
    let (_, code) = aws.err(&["cloudfront", "delete-streaming-distribution", "--id", &id, "--if-match", &etag2]);
    assert_eq!(code, "StreamingDistributionNotDisabled");
    let (status, code) = aws.boto_err("delete_streaming_distribution", json!({"Id": id, "IfMatch": etag2}));
    assert_eq!((status, code.as_str()), (409, "StreamingDistributionNotDisabled"));

    // Disable, wait for Deployed, delete: 204; then it is gone.
    let disabled = aws.ok(&[
        "cloudfront",
        "update-streaming-distribution",
        "--id",
        &id,
        "--if-match",
        &etag2,
        "--streaming-distribution-config",
        &json_file(dir, "disable.json", &config("life-1", "second", &[ALIAS], false)),
    ]);
    let etag3 = disabled["ETag"].as_str().unwrap().to_owned();
    let deployed = wait_deployed(&aws, &id);
    assert_eq!(deployed["StreamingDistribution"]["StreamingDistributionConfig"]["Enabled"], false);
    // Deployed means the edge applied it: players are turned away now.
    let (code, description) = connect_via(&server, &domain);
    assert_eq!(code.as_deref(), Some("NetConnection.Connect.Rejected"), "a disabled distribution: {description}");
    // A stale ETag still refuses the delete.
    let (status, code) = aws.boto_err("delete_streaming_distribution", json!({"Id": id, "IfMatch": etag2}));
    assert_eq!((status, code.as_str()), (412, "PreconditionFailed"));
    let response = aws.boto_ok("delete_streaming_distribution", json!({"Id": id, "IfMatch": etag3}), 204);
    assert_eq!(response, json!({}), "a delete answers nothing");
    let (_, code) = aws.err(&["cloudfront", "get-streaming-distribution", "--id", &id]);
    assert_eq!(code, "NoSuchStreamingDistribution");
    let (code, description) = connect_via(&server, ALIAS);
    assert_eq!(code.as_deref(), Some("NetConnection.Connect.Rejected"), "a deleted distribution: {description}");
    let (_, code) = aws.err(&["cloudfront", "delete-streaming-distribution", "--id", &id, "--if-match", &etag3]);
    assert_eq!(code, "NoSuchStreamingDistribution");
}

#[test]
fn create_with_tags_keeps_the_tags() {
    let Setup { server: _server, aws, dir, _s3 } = start();
    let sent = json!({
        "StreamingDistributionConfig": config("tagged-1", "tagged", &[], true),
        "Tags": {"Items": [{"Key": "team", "Value": "video"}, {"Key": "env", "Value": "test"}]},
    });
    let created = aws.ok(&[
        "cloudfront",
        "create-streaming-distribution-with-tags",
        "--streaming-distribution-config-with-tags",
        &json_file(dir.path(), "tagged.json", &sent),
    ]);
    let dist = &created["StreamingDistribution"];
    assert!(created["ETag"].is_string() && created["Location"].is_string(), "{created:#}");
    assert_eq!(dist["StreamingDistributionConfig"], sent["StreamingDistributionConfig"]);
    let arn = dist["ARN"].as_str().unwrap();
    let tags = aws.ok(&["cloudfront", "list-tags-for-resource", "--resource", arn]);
    let mut items = tags["Tags"]["Items"].as_array().unwrap_or_else(|| panic!("no tags: {tags:#}")).clone();
    items.sort_by_key(|t| t["Key"].as_str().unwrap().to_owned());
    assert_eq!(items, [json!({"Key": "env", "Value": "test"}), json!({"Key": "team", "Value": "video"})]);
}
