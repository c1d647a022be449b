//! Lists and conflicts through the CloudFront API: the AWS CLI pages through streaming and web
//! distributions one at a time by following NextMarker, boto3 shows one page's IsTruncated and
//! NextMarker, a CNAME belongs to one distribution of either kind, and a CallerReference to one
//! distribution.

mod common;

use common::api::{Aws, json_file};
use common::*;
use serde_json::{Value, json};

fn streaming_config(caller_reference: &str, aliases: &[&str]) -> Value {
    json!({
        "CallerReference": caller_reference,
        "S3Origin": {"DomainName": "media.s3.amazonaws.com", "OriginAccessIdentity": ""},
        "Aliases": {"Quantity": aliases.len(), "Items": aliases},
        "Comment": caller_reference,
        "TrustedSigners": {"Enabled": false, "Quantity": 0},
        "Enabled": true,
    })
}

fn web_config(caller_reference: &str, aliases: &[&str]) -> Value {
    json!({
        "CallerReference": caller_reference,
        "Aliases": {"Quantity": aliases.len(), "Items": aliases},
        "Origins": {"Quantity": 1, "Items": [{
            "Id": "o", "DomainName": "media.s3.amazonaws.com", "S3OriginConfig": {"OriginAccessIdentity": ""},
        }]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "o",
            "ViewerProtocolPolicy": "allow-all",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
        "Comment": caller_reference,
        "Enabled": true,
    })
}

/// Creates a streaming distribution; its Id.
fn create_streaming(aws: &Aws, dir: &TempDir, config: &Value) -> String {
    let file = json_file(dir.path(), "streaming.json", config);
    let created = aws.ok(&["cloudfront", "create-streaming-distribution", "--streaming-distribution-config", &file]);
    created["StreamingDistribution"]["Id"].as_str().unwrap().to_owned()
}

/// Creates a web distribution; its Id.
fn create_web(aws: &Aws, dir: &TempDir, config: &Value) -> String {
    let file = json_file(dir.path(), "web.json", config);
    let created = aws.ok(&["cloudfront", "create-distribution", "--distribution-config", &file]);
    created["Distribution"]["Id"].as_str().unwrap().to_owned()
}

/// The ids in a list's Items, sorted.
fn sorted_ids(items: &Value) -> Vec<String> {
    let mut ids: Vec<String> = items
        .as_array()
        .unwrap_or_else(|| panic!("no Items: {items:#}"))
        .iter()
        .map(|item| item["Id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[test]
fn lists_page_and_names_and_references_are_unique() {
    let server = Server::start_with(
        &media().origin,
        ServerOptions { origin_spec: Some("none".into()), api: true, ..Default::default() },
    );
    let aws = Aws::new(&server);
    let dir = TempDir::new("api-lists");

    // Empty lists first.
    let empty = aws.ok(&["cloudfront", "list-streaming-distributions", "--no-paginate"]);
    assert_eq!(empty["StreamingDistributionList"]["Quantity"], 0, "{empty:#}");
    assert_eq!(empty["StreamingDistributionList"]["IsTruncated"], false, "{empty:#}");

    let mut streaming: Vec<String> = (1..=3)
        .map(|n| create_streaming(&aws, &dir, &streaming_config(&format!("s-{n}"), &[&format!("s{n}.lists.example")])))
        .collect();
    let mut web: Vec<String> = (1..=3)
        .map(|n| create_web(&aws, &dir, &web_config(&format!("w-{n}"), &[&format!("w{n}.lists.example")])))
        .collect();
    streaming.sort();
    web.sort();

    // The CLI asks for one item a page and follows NextMarker to the end.
    let all = aws.ok(&["cloudfront", "list-streaming-distributions", "--page-size", "1"]);
    assert_eq!(sorted_ids(&all["StreamingDistributionList"]["Items"]), streaming, "{all:#}");
    let all = aws.ok(&["cloudfront", "list-distributions", "--page-size", "1"]);
    assert_eq!(sorted_ids(&all["DistributionList"]["Items"]), web, "{all:#}");

    // One page of one through boto3: truncated, NextMarker is that page's last id, and the next
    // page starts after it.
    let page = aws.boto_ok("list_distributions", json!({"MaxItems": "1"}), 200);
    let list = &page["DistributionList"];
    assert_eq!(
        (list["IsTruncated"].clone(), list["Quantity"].clone(), list["MaxItems"].clone()),
        (json!(true), json!(1), json!(1)),
        "{page:#}"
    );
    assert_eq!(list["Marker"], "", "{page:#}");
    let first = list["Items"][0]["Id"].as_str().unwrap().to_owned();
    assert_eq!(list["NextMarker"], first.as_str(), "{page:#}");
    let rest = aws.boto_ok("list_distributions", json!({"Marker": first, "MaxItems": "5"}), 200);
    let rest = &rest["DistributionList"];
    assert_eq!(rest["IsTruncated"], false, "{rest:#}");
    assert!(rest.get("NextMarker").is_none(), "NextMarker only when truncated: {rest:#}");
    let mut seen = sorted_ids(&rest["Items"]);
    seen.push(first);
    seen.sort();
    assert_eq!(seen, web);
    let page = aws.boto_ok("list_streaming_distributions", json!({"MaxItems": "2"}), 200);
    assert_eq!(page["StreamingDistributionList"]["IsTruncated"], true, "{page:#}");
    assert_eq!(page["StreamingDistributionList"]["Quantity"], 2, "{page:#}");

    // A CNAME of a streaming distribution is refused for a web one, and the reverse.
    let file = json_file(dir.path(), "web-taken.json", &web_config("w-taken", &["s2.lists.example"]));
    let (_, code) = aws.err(&["cloudfront", "create-distribution", "--distribution-config", &file]);
    assert_eq!(code, "CNAMEAlreadyExists");
    let file = json_file(dir.path(), "streaming-taken.json", &streaming_config("s-taken", &["w3.lists.example"]));
    let (_, code) = aws.err(&["cloudfront", "create-streaming-distribution", "--streaming-distribution-config", &file]);
    assert_eq!(code, "CNAMEAlreadyExists");
    let (status, _) = aws.boto_err(
        "create_streaming_distribution",
        json!({"StreamingDistributionConfig": streaming_config("s-taken-2", &["s1.lists.example"])}),
    );
    assert_eq!(status, 409);

    // A CallerReference names one distribution: reusing it is refused, whatever the rest says.
    let file = json_file(dir.path(), "streaming-again.json", &streaming_config("s-1", &["other.lists.example"]));
    let (_, code) = aws.err(&["cloudfront", "create-streaming-distribution", "--streaming-distribution-config", &file]);
    assert_eq!(code, "StreamingDistributionAlreadyExists");
    let file = json_file(dir.path(), "web-again.json", &web_config("w-1", &[]));
    let (_, code) = aws.err(&["cloudfront", "create-distribution", "--distribution-config", &file]);
    assert_eq!(code, "DistributionAlreadyExists");
    let (status, _) = aws.boto_err("create_distribution", json!({"DistributionConfig": web_config("w-2", &[])}));
    assert_eq!(status, 409);

    // Nothing refused was created.
    let all = aws.ok(&["cloudfront", "list-streaming-distributions"]);
    assert_eq!(sorted_ids(&all["StreamingDistributionList"]["Items"]), streaming);
    let all = aws.ok(&["cloudfront", "list-distributions"]);
    assert_eq!(sorted_ids(&all["DistributionList"]["Items"]), web);
}
