//! Web distributions through the CloudFront API with the real AWS CLI: the CLI's own shorthand
//! (`--origin-domain-name`), a full config with an S3 and a custom origin and two cache
//! behaviors that comes back field for field, update with If-Match, and delete after disable.

mod common;

use std::time::Duration;

use common::api::{Aws, json_differences, json_file, poll};
use common::*;
use serde_json::{Value, json};

const DOMAIN: &str = "cdn.test";

fn start() -> (Server, Aws) {
    let server = Server::start_with(
        &media().origin,
        ServerOptions {
            origin_spec: Some("none".into()),
            args: vec!["--distribution-domain".into(), DOMAIN.into()],
            api: true,
            ..Default::default()
        },
    );
    let aws = Aws::new(&server);
    (server, aws)
}

/// A cache behavior's members besides its path pattern (the legacy ForwardedValues form).
fn behavior(target: &str, viewer_protocol_policy: &str, compress: bool, default_ttl: u64) -> Value {
    json!({
        "TargetOriginId": target,
        "TrustedSigners": {"Enabled": false, "Quantity": 0},
        "TrustedKeyGroups": {"Enabled": false, "Quantity": 0},
        "ViewerProtocolPolicy": viewer_protocol_policy,
        "AllowedMethods": {
            "Quantity": 3,
            "Items": ["HEAD", "GET", "OPTIONS"],
            "CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]},
        },
        "SmoothStreaming": false,
        "Compress": compress,
        "LambdaFunctionAssociations": {"Quantity": 0},
        "FunctionAssociations": {"Quantity": 0},
        "FieldLevelEncryptionId": "",
        "ForwardedValues": {
            "QueryString": true,
            "Cookies": {"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["sid"]}},
            "Headers": {"Quantity": 1, "Items": ["Origin"]},
            "QueryStringCacheKeys": {"Quantity": 1, "Items": ["v"]},
        },
        "MinTTL": 0,
        "DefaultTTL": default_ttl,
        "MaxTTL": 31536000,
    })
}

fn with_pattern(pattern: &str, mut behavior: Value) -> Value {
    let mut out = serde_json::Map::new();
    out.insert("PathPattern".into(), json!(pattern));
    out.append(behavior.as_object_mut().unwrap());
    Value::Object(out)
}

/// A full DistributionConfig: two origins (S3 with a custom header, custom HTTP), a default and
/// two path behaviors, an error page, logging, geo restriction.
fn full_config(caller_reference: &str, comment: &str, enabled: bool) -> Value {
    json!({
        "CallerReference": caller_reference,
        "Aliases": {"Quantity": 2, "Items": ["www.web-api.example", "static.web-api.example"]},
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 2, "Items": [
            {
                "Id": "s3-media",
                "DomainName": "media.s3.amazonaws.com",
                "OriginPath": "/prod",
                "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-From-Edge", "HeaderValue": "yes"}]},
                "S3OriginConfig": {"OriginAccessIdentity": ""},
                "ConnectionAttempts": 2,
                "ConnectionTimeout": 5,
                "OriginShield": {"Enabled": false},
                "OriginAccessControlId": "",
            },
            {
                "Id": "app",
                "DomainName": "app.web-api.example",
                "OriginPath": "",
                "CustomHeaders": {"Quantity": 0},
                "CustomOriginConfig": {
                    "HTTPPort": 8080,
                    "HTTPSPort": 8443,
                    "OriginProtocolPolicy": "http-only",
                    "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                    "OriginReadTimeout": 20,
                    "OriginKeepaliveTimeout": 6,
                },
                "ConnectionAttempts": 3,
                "ConnectionTimeout": 10,
                "OriginShield": {"Enabled": false},
                "OriginAccessControlId": "",
            },
        ]},
        "OriginGroups": {"Quantity": 0},
        "DefaultCacheBehavior": behavior("s3-media", "redirect-to-https", true, 86400),
        "CacheBehaviors": {"Quantity": 2, "Items": [
            with_pattern("api/*", behavior("app", "https-only", false, 0)),
            with_pattern("images/*.jpg", behavior("s3-media", "allow-all", true, 3600)),
        ]},
        "CustomErrorResponses": {"Quantity": 1, "Items": [{
            "ErrorCode": 404,
            "ResponsePagePath": "/errors/404.html",
            "ResponseCode": "404",
            "ErrorCachingMinTTL": 10,
        }]},
        "Comment": comment,
        "Logging": {"Enabled": true, "IncludeCookies": false, "Bucket": "logs.s3.amazonaws.com", "Prefix": "web/"},
        "PriceClass": "PriceClass_200",
        "Enabled": enabled,
        "ViewerCertificate": {"CloudFrontDefaultCertificate": true, "MinimumProtocolVersion": "TLSv1"},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "whitelist", "Quantity": 2, "Items": ["DE", "FR"]}},
        "WebACLId": "",
        "HttpVersion": "http2",
        "IsIPV6Enabled": true,
    })
}

fn get(aws: &Aws, id: &str) -> Value {
    aws.ok(&["cloudfront", "get-distribution", "--id", id])
}

#[test]
fn the_cli_shorthand_creates_a_distribution() {
    let (_server, aws) = start();
    let created = aws.ok(&[
        "cloudfront",
        "create-distribution",
        "--origin-domain-name",
        "media.s3.amazonaws.com",
        "--default-root-object",
        "index.html",
    ]);
    let dist = &created["Distribution"];
    let id = dist["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}"));
    assert!(created["ETag"].is_string(), "{created:#}");
    assert!(
        created["Location"].as_str().is_some_and(|l| l.ends_with(&format!("/2020-05-31/distribution/{id}"))),
        "{created:#}"
    );
    let domain = dist["DomainName"].as_str().unwrap();
    assert!(domain.starts_with('d') && domain.ends_with(&format!(".{DOMAIN}")), "{created:#}");
    assert_eq!(dist["Status"], "InProgress", "{created:#}");
    let config = &dist["DistributionConfig"];
    // What the CLI's template sends (awscli/customizations/cloudfront.py), with its generated
    // CallerReference and origin id as answered.
    let caller_reference = config["CallerReference"].as_str().unwrap_or_default();
    assert!(caller_reference.starts_with("cli-"), "{created:#}");
    let origin_id = config["Origins"]["Items"][0]["Id"].as_str().unwrap_or_default();
    assert!(origin_id.starts_with("media.s3.amazonaws.com-"), "{created:#}");
    let sent = json!({
        "CallerReference": caller_reference,
        "Origins": {"Quantity": 1, "Items": [{
            "Id": origin_id,
            "DomainName": "media.s3.amazonaws.com",
            "OriginPath": "",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }]},
        "DefaultCacheBehavior": {
            "TargetOriginId": origin_id,
            "ForwardedValues": {"QueryString": false, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": false, "Quantity": 0},
            "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0,
        },
        "Enabled": true,
        "Comment": "",
        "DefaultRootObject": "index.html",
    });
    // The server answers every list wrapper the model has, empty when not sent (as CloudFront
    // does); scalar defaults it leaves out.
    let empty = json!({"Quantity": 0});
    let added = [
        ".Aliases",
        ".OriginGroups",
        ".CacheBehaviors",
        ".CustomErrorResponses",
        ".Origins.Items[0].CustomHeaders",
        ".DefaultCacheBehavior.ForwardedValues.Cookies.WhitelistedNames",
        ".DefaultCacheBehavior.ForwardedValues.Headers",
        ".DefaultCacheBehavior.ForwardedValues.QueryStringCacheKeys",
        ".DefaultCacheBehavior.LambdaFunctionAssociations",
        ".DefaultCacheBehavior.FunctionAssociations",
    ]
    .map(|path| (path, empty.clone()));
    let differences = json_differences(&sent, config, &added);
    assert!(differences.is_empty(), "create answered another config:\n{}", differences.join("\n"));
    let got = aws.ok(&["cloudfront", "get-distribution-config", "--id", id]);
    assert_eq!(&got["DistributionConfig"], config, "get-distribution-config shows what create answered");
    assert_eq!(got["ETag"], created["ETag"]);
}

#[test]
fn a_full_config_round_trips_and_updates_and_deletes() {
    let (_server, aws) = start();
    let dir = TempDir::new("api-web");
    let sent = full_config("web-full-1", "full", true);
    let created = aws.ok(&[
        "cloudfront",
        "create-distribution",
        "--distribution-config",
        &json_file(dir.path(), "full.json", &sent),
    ]);
    let id = created["Distribution"]["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}")).to_owned();
    let etag = created["ETag"].as_str().unwrap().to_owned();

    // The config sends every member the server answers, so it must come back with nothing added.
    let added: [(&str, Value); 0] = [];
    let got = aws.ok(&["cloudfront", "get-distribution-config", "--id", &id]);
    assert_eq!(got["ETag"], etag.as_str());
    let differences = json_differences(&sent, &got["DistributionConfig"], &added);
    assert!(differences.is_empty(), "get-distribution-config differs from what was sent:\n{}", differences.join("\n"));
    let differences = json_differences(&sent, &created["Distribution"]["DistributionConfig"], &added);
    assert!(differences.is_empty(), "create answered another config:\n{}", differences.join("\n"));

    // Update replaces the whole config: a new comment, one behavior less, no aliases.
    let mut second = full_config("web-full-1", "second", true);
    second["CacheBehaviors"] = json!({"Quantity": 1, "Items": [second["CacheBehaviors"]["Items"][1].clone()]});
    second["Aliases"] = json!({"Quantity": 0});
    let update_file = json_file(dir.path(), "second.json", &second);
    let update = |if_match: &str, file: &str| {
        aws.run(&[
            "cloudfront",
            "update-distribution",
            "--id",
            &id,
            "--if-match",
            if_match,
            "--distribution-config",
            file,
        ])
    };
    let out = update(&etag, &update_file);
    assert!(out.run.success(), "{}", out.run.describe());
    let etag2 = out.json["ETag"].as_str().unwrap().to_owned();
    assert_ne!(etag2, etag);
    let got = aws.ok(&["cloudfront", "get-distribution-config", "--id", &id]);
    let differences = json_differences(&second, &got["DistributionConfig"], &added);
    assert!(differences.is_empty(), "the update was not applied as sent:\n{}", differences.join("\n"));
    assert_eq!(update(&etag, &update_file).error_code().as_deref(), Some("PreconditionFailed"));

    // Delete: not while enabled; disable, Deployed, then 204 and gone.
    let (status, code) = aws.boto_err("delete_distribution", json!({"Id": id, "IfMatch": etag2}));
    assert_eq!((status, code.as_str()), (409, "DistributionNotDisabled"));
    let out = update(&etag2, &json_file(dir.path(), "off.json", &full_config("web-full-1", "second", false)));
    assert!(out.run.success(), "{}", out.run.describe());
    let etag3 = out.json["ETag"].as_str().unwrap().to_owned();
    poll(
        &format!("{id} Deployed"),
        Duration::from_secs(15),
        || get(&aws, &id),
        |d| d["Distribution"]["Status"] == "Deployed",
    );
    let (_, code) = aws.err(&["cloudfront", "delete-distribution", "--id", &id, "--if-match", &etag2]);
    assert_eq!(code, "PreconditionFailed");
    aws.boto_ok("delete_distribution", json!({"Id": id, "IfMatch": etag3}), 204);
    let (_, code) = aws.err(&["cloudfront", "get-distribution", "--id", &id]);
    assert_eq!(code, "NoSuchDistribution");
}
