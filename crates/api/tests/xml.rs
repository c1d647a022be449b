//! The REST-XML codec: round trips of every config, the exact bytes of a config in model order,
//! input as botocore and the AWS CLI send it, and every error class with its field path.

mod common;

use common::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sf_api::ApiError;
use sf_api::shapes::{DistributionConfigWithTags, StreamingDistributionConfigWithTags, TagKeys, Tags};
use sf_api::xml::{MAX_DEPTH, MAX_ELEMENTS, MAX_TEXT, NAMESPACE, error_xml, from_xml, to_xml, try_to_xml};
use sf_dist::*;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(root: &str, value: &T) {
    let xml = to_xml(root, value);
    let back: T = from_xml(&xml).unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&xml)));
    assert_eq!(&back, value, "{}", String::from_utf8_lossy(&xml));
    assert_eq!(to_xml(root, &back), xml);
}

#[test]
fn every_config_round_trips() {
    round_trip("DistributionConfig", &full_web_config());
    round_trip("DistributionConfig", &minimal_web_config());
    round_trip("StreamingDistributionConfig", &full_streaming_config());
    let tags = Tags { items: vec![Tag { key: s("a"), value: Some(s("1")) }, Tag { key: s("b"), value: None }] };
    round_trip(
        "StreamingDistributionConfigWithTags",
        &StreamingDistributionConfigWithTags {
            streaming_distribution_config: full_streaming_config(),
            tags: tags.clone(),
        },
    );
    round_trip(
        "DistributionConfigWithTags",
        &DistributionConfigWithTags { distribution_config: full_web_config(), tags: tags.clone() },
    );
    round_trip("Tags", &tags);
    round_trip("TagKeys", &TagKeys { items: vec![s("a"), s("b")] });
    round_trip("PublicKeyConfig", &public_key_record("K1").config);
    round_trip("KeyGroupConfig", &key_group_record("kg").config);
    round_trip("CloudFrontOriginAccessIdentityConfig", &oai_record("E1").config);
    round_trip("OriginAccessControlConfig", &oac_record("E1").config);
    round_trip("InvalidationBatch", &invalidation_record("I1").invalidation_batch);
}

#[test]
fn the_full_web_config_really_has_two_items_in_every_list() {
    let xml = String::from_utf8(to_xml("DistributionConfig", &full_web_config())).unwrap();
    let quantities: Vec<&str> = xml.split("<Quantity>").skip(1).map(|rest| &rest[..rest.find('<').unwrap()]).collect();
    assert!(quantities.len() >= 20, "{quantities:?}");
    assert!(quantities.iter().all(|q| q.parse::<usize>().unwrap() >= 2), "{quantities:?}");
    assert!(xml.contains("<ParameterDefinitions><member><Name>tenant</Name>"), "{xml}");
}

#[test]
fn a_streaming_config_is_written_in_model_order() {
    let expected = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        r#"<StreamingDistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">"#,
        "<CallerReference>20200101-0001</CallerReference>",
        "<S3Origin><DomainName>mymedia.s3.amazonaws.com</DomainName>",
        "<OriginAccessIdentity>origin-access-identity/cloudfront/E74FTE3AEXAMPLE</OriginAccessIdentity></S3Origin>",
        "<Aliases><Quantity>2</Quantity><Items><CNAME>media.example.com</CNAME><CNAME>video.example.com</CNAME></Items></Aliases>",
        "<Comment>RTMP for video site</Comment>",
        "<Logging><Enabled>true</Enabled><Bucket>mylogs.s3.amazonaws.com</Bucket><Prefix>rtmp/</Prefix></Logging>",
        "<TrustedSigners><Enabled>true</Enabled><Quantity>2</Quantity>",
        "<Items><AwsAccountNumber>self</AwsAccountNumber><AwsAccountNumber>123456789012</AwsAccountNumber></Items></TrustedSigners>",
        "<PriceClass>PriceClass_All</PriceClass><Enabled>true</Enabled>",
        "</StreamingDistributionConfig>",
    );
    assert_eq!(String::from_utf8(to_xml("StreamingDistributionConfig", &full_streaming_config())).unwrap(), expected);

    // Empty lists keep their Quantity and drop Items; None members are left out; text is escaped.
    let mut config = full_streaming_config();
    config.aliases.clear();
    config.trusted_signers = TrustedSigners { enabled: false, items: vec![] };
    config.logging = None;
    config.price_class = None;
    config.comment = s("a <b> & c");
    let xml = String::from_utf8(to_xml("StreamingDistributionConfig", &config)).unwrap();
    assert!(xml.contains("<Aliases><Quantity>0</Quantity></Aliases><Comment>a &lt;b&gt; &amp; c</Comment>"), "{xml}");
    assert!(xml.contains("<TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners><Enabled>"));
    assert!(!xml.contains("Logging") && !xml.contains("PriceClass"), "{xml}");
}

#[test]
fn lists_without_quantity_are_bare() {
    let xml = String::from_utf8(to_xml("KeyGroupConfig", &key_group_record("kg").config)).unwrap();
    assert!(
        xml.contains("<Name>kg1</Name><Items><PublicKey>K2JCJMDEHXQW5F</PublicKey><PublicKey>KDFB19YGCR002</PublicKey></Items><Comment>c</Comment>"),
        "{xml}"
    );
    let xml = String::from_utf8(to_xml("Tags", &Tags { items: vec![Tag { key: s("k"), value: None }] })).unwrap();
    assert!(xml.ends_with(
        r#"<Tags xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Items><Tag><Key>k</Key></Tag></Items></Tags>"#
    ));
}

#[test]
fn every_response_shape_is_written_with_every_list_named() {
    let documents = response_documents();
    assert_eq!(documents.len(), 21);
    for (operation, xml, _) in documents {
        let xml = String::from_utf8(xml).unwrap();
        assert!(xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><"#), "{operation}");
        assert!(xml.contains(&format!(r#" xmlns="{NAMESPACE}">"#)), "{operation}");
    }
}

#[test]
fn a_list_missing_from_the_table_is_an_error_not_a_guess() {
    #[derive(Serialize)]
    struct Unlisted {
        #[serde(rename = "Things")]
        things: Vec<String>,
    }
    let e = try_to_xml("Unlisted", &Unlisted { things: vec![s("x")] }).unwrap_err();
    assert_eq!((e.status, e.code), (500, "InternalError"));
    assert!(e.message.contains("Unlisted.Things"), "{e}");
}

/// `aws cloudfront create-distribution --origin-domain-name mybucket.s3.amazonaws.com
/// --default-root-object index.html`, byte for byte as aws-cli 1.45.11 sent it: no XML
/// declaration, self-closing empty strings, `Enabled` and `Comment` before `DefaultRootObject`.
const CLI_SHORTHAND: &str = r#"<DistributionConfig xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><CallerReference>cli-1796673645-643077</CallerReference><Origins><Quantity>1</Quantity><Items><Origin><Id>mybucket.s3.amazonaws.com-1796673645-954136</Id><DomainName>mybucket.s3.amazonaws.com</DomainName><OriginPath /><S3OriginConfig><OriginAccessIdentity /></S3OriginConfig></Origin></Items></Origins><DefaultCacheBehavior><TargetOriginId>mybucket.s3.amazonaws.com-1796673645-954136</TargetOriginId><ForwardedValues><QueryString>false</QueryString><Cookies><Forward>none</Forward></Cookies></ForwardedValues><TrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></TrustedSigners><ViewerProtocolPolicy>allow-all</ViewerProtocolPolicy><MinTTL>0</MinTTL></DefaultCacheBehavior><Enabled>true</Enabled><Comment /><DefaultRootObject>index.html</DefaultRootObject></DistributionConfig>"#;

#[test]
fn reads_the_cli_shorthand_body() {
    let config: DistributionConfig = from_xml(CLI_SHORTHAND.as_bytes()).unwrap();
    let mut expected = minimal_web_config();
    let origin_id = s("mybucket.s3.amazonaws.com-1796673645-954136");
    expected.origins[0].id = origin_id.clone();
    expected.default_cache_behavior.target_origin_id = origin_id;
    assert_eq!(config, expected);
}

#[test]
fn prefixes_order_white_space_and_unknown_members_do_not_matter() {
    let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- written by hand -->
<cf:StreamingDistributionConfig xmlns:cf="http://cloudfront.amazonaws.com/doc/2020-05-31/">
  <cf:Enabled> true </cf:Enabled>
  <cf:TrustedSigners>
    <cf:Items><cf:Whatever>self</cf:Whatever></cf:Items>
    <cf:Quantity>1</cf:Quantity>
    <cf:Enabled>false</cf:Enabled>
  </cf:TrustedSigners>
  <cf:Comment><![CDATA[a <b>]]> &amp; &#x63;</cf:Comment>
  <cf:SomethingNewer><cf:Deep>1</cf:Deep></cf:SomethingNewer>
  <cf:Aliases/>
  <cf:S3Origin><cf:OriginAccessIdentity/><cf:DomainName>b.s3.amazonaws.com</cf:DomainName></cf:S3Origin>
  <cf:CallerReference>ref</cf:CallerReference>
</cf:StreamingDistributionConfig>
"#;
    let config: StreamingDistributionConfig = from_xml(body.as_bytes()).unwrap();
    assert_eq!(
        config,
        StreamingDistributionConfig {
            caller_reference: s("ref"),
            s3_origin: S3Origin { domain_name: s("b.s3.amazonaws.com"), origin_access_identity: s("") },
            aliases: vec![],
            comment: s("a <b> & c"),
            logging: None,
            trusted_signers: TrustedSigners { enabled: false, items: vec![s("self")] },
            price_class: None,
            enabled: true,
        }
    );
}

#[test]
fn timestamps_are_read_from_iso_8601() {
    #[derive(Deserialize, Serialize, Debug, PartialEq)]
    #[serde(rename_all = "PascalCase")]
    struct Timed {
        last_modified_time: Timestamp,
    }
    let xml = String::from_utf8(to_xml("Timed", &Timed { last_modified_time: Timestamp(1_574_384_115_705) })).unwrap();
    assert!(xml.contains("<LastModifiedTime>2019-11-22T00:55:15.705Z</LastModifiedTime>"), "{xml}");
    for text in ["2019-11-22T00:55:15.705Z", "2019-11-22T01:55:15.705+01:00", "2019-11-22T00:55:15.705999Z"] {
        let body = format!("<Timed><LastModifiedTime>{text}</LastModifiedTime></Timed>");
        assert_eq!(from_xml::<Timed>(body.as_bytes()).unwrap().last_modified_time, Timestamp(1_574_384_115_705));
    }
    let e = from_xml::<Timed>(b"<Timed><LastModifiedTime>yesterday</LastModifiedTime></Timed>").unwrap_err();
    assert_error(&e, "InvalidArgument", "LastModifiedTime");
}

#[test]
fn error_envelope_is_cloudfronts() {
    let e = ApiError::new(404, "NoSuchStreamingDistribution", "The specified streaming distribution does not exist.");
    assert_eq!(
        String::from_utf8(error_xml(&e, "req-1")).unwrap(),
        concat!(
            r#"<?xml version="1.0" encoding="UTF-8"?>"#,
            r#"<ErrorResponse xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"><Error><Type>Sender</Type>"#,
            "<Code>NoSuchStreamingDistribution</Code><Message>The specified streaming distribution does not exist.</Message>",
            "</Error><RequestId>req-1</RequestId></ErrorResponse>"
        )
    );
    let xml = String::from_utf8(error_xml(&ApiError::internal("store <down>"), "r")).unwrap();
    assert!(
        xml.contains("<Type>Receiver</Type><Code>InternalError</Code><Message>store &lt;down&gt;</Message>"),
        "{xml}"
    );
}

// ---- Errors ----

fn assert_error(e: &ApiError, code: &str, path: &str) {
    assert_eq!((e.status, e.code), (400, code), "{e}");
    assert!(e.message.contains(path), "{path} not named in: {e}");
}

fn web_error(body: &str) -> ApiError {
    from_xml::<DistributionConfig>(body.as_bytes()).expect_err(body)
}

/// The CLI body with one piece replaced.
fn cli_with(from: &str, to: &str) -> String {
    assert!(CLI_SHORTHAND.contains(from), "{from}");
    CLI_SHORTHAND.replacen(from, to, 1)
}

const ORIGIN: &str = "<Origin><Id>mybucket.s3.amazonaws.com-1796673645-954136</Id><DomainName>mybucket.s3.amazonaws.com</DomainName><OriginPath /><S3OriginConfig><OriginAccessIdentity /></S3OriginConfig></Origin>";

#[test]
fn an_empty_body_is_missing_body() {
    for body in ["", " \r\n\t"] {
        let e = from_xml::<DistributionConfig>(body.as_bytes()).unwrap_err();
        assert_eq!((e.status, e.code), (400, "MissingBody"), "{e}");
    }
}

#[test]
fn broken_xml_is_malformed_input_saying_where() {
    for (body, says) in [
        ("<DistributionConfig><Comment></DistributionConfig>", "byte"),
        ("<DistributionConfig>", "ends inside <DistributionConfig>"),
        ("just text", "text outside the root"),
        ("<!-- only a comment -->", "no XML element"),
        ("<A/><B/>", "second root"),
        ("<A>&nbsp;</A>", "unknown entity"),
        ("<!DOCTYPE A [<!ENTITY x 'y'>]><A>&x;</A>", "DOCTYPE"),
        ("<A></A>x", "text outside the root"),
    ] {
        let e = web_error(body);
        assert_eq!((e.status, e.code), (400, "MalformedInput"), "{body}: {e}");
        assert!(e.message.contains(says), "{body}: {e}");
    }
    let e = from_xml::<DistributionConfig>(b"<A>\xff</A>").unwrap_err();
    assert_eq!(e.code, "MalformedInput", "{e}");
}

#[test]
fn text_and_elements_in_each_others_place_are_malformed_input() {
    let e = web_error(&cli_with(
        "<S3OriginConfig><OriginAccessIdentity /></S3OriginConfig>",
        "<S3OriginConfig>x</S3OriginConfig>",
    ));
    assert_error(&e, "MalformedInput", "Origins.Items[0].S3OriginConfig");
    let e = web_error(&cli_with("<Comment />", "<Comment><B>x</B></Comment>"));
    assert_error(&e, "MalformedInput", "Comment");
}

#[test]
fn quantity_mismatches_are_inconsistent_quantities_naming_the_list() {
    let e = web_error(&cli_with("<Quantity>1</Quantity><Items><Origin>", "<Quantity>2</Quantity><Items><Origin>"));
    assert_error(&e, "InconsistentQuantities", "Origins.Quantity");
    // The counted Items of a struct (TrustedSigners), deep in the config.
    let e = web_error(&cli_with("<Quantity>0</Quantity></TrustedSigners>", "<Quantity>1</Quantity></TrustedSigners>"));
    assert_error(&e, "InconsistentQuantities", "DefaultCacheBehavior.TrustedSigners.Quantity");
    // A list inside an item.
    let e =
        web_error(&cli_with("<OriginPath />", "<OriginPath /><CustomHeaders><Quantity>3</Quantity></CustomHeaders>"));
    assert_error(&e, "InconsistentQuantities", "Origins.Items[0].CustomHeaders.Quantity");
}

#[test]
fn missing_and_mistyped_members_are_invalid_argument_naming_the_path() {
    // A second origin without its DomainName.
    let second = ORIGIN.replace("<DomainName>mybucket.s3.amazonaws.com</DomainName>", "");
    let e = web_error(
        &cli_with("<Quantity>1</Quantity><Items>", "<Quantity>2</Quantity><Items>")
            .replace("</Origin></Items>", &format!("</Origin>{second}</Items>")),
    );
    assert_error(&e, "InvalidArgument", "Origins.Items[1].DomainName");

    let cases = [
        (cli_with("<CallerReference>cli-1796673645-643077</CallerReference>", ""), "CallerReference"),
        (cli_with("<Enabled>true</Enabled><Comment />", "<Enabled>True</Enabled><Comment />"), "Enabled"),
        (
            cli_with("<QueryString>false</QueryString>", "<QueryString>1</QueryString>"),
            "DefaultCacheBehavior.ForwardedValues.QueryString",
        ),
        (cli_with("<MinTTL>0</MinTTL>", "<MinTTL>abc</MinTTL>"), "DefaultCacheBehavior.MinTTL"),
        (cli_with("<MinTTL>0</MinTTL>", "<MinTTL></MinTTL>"), "DefaultCacheBehavior.MinTTL"),
        (
            cli_with(
                "<S3OriginConfig><OriginAccessIdentity /></S3OriginConfig>",
                "<CustomOriginConfig><HTTPPort>3000000000</HTTPPort><HTTPSPort>443</HTTPSPort><OriginProtocolPolicy>http-only</OriginProtocolPolicy></CustomOriginConfig>",
            ),
            "Origins.Items[0].CustomOriginConfig.HTTPPort",
        ),
        (cli_with("allow-all", "allow-some"), "DefaultCacheBehavior.ViewerProtocolPolicy"),
        (cli_with("<Quantity>1</Quantity><Items><Origin>", "<Items><Origin>"), "Origins.Quantity"),
        (
            cli_with("<Quantity>1</Quantity><Items><Origin>", "<Quantity>one</Quantity><Items><Origin>"),
            "Origins.Quantity",
        ),
    ];
    for (body, path) in cases {
        assert_error(&web_error(&body), "InvalidArgument", path);
    }
    let e = web_error(&cli_with("<MinTTL>0</MinTTL>", "<MinTTL>abc</MinTTL>"));
    assert!(e.message.contains("\"abc\" is not"), "{e}");
    let e = web_error(&cli_with("allow-all", "allow-some"));
    assert!(e.message.contains("allow-all, https-only, redirect-to-https"), "{e}");
}

#[test]
fn input_beyond_the_bounds_is_refused_without_panicking() {
    let deep = format!("{}{}", "<A>".repeat(MAX_DEPTH + 1), "</A>".repeat(MAX_DEPTH + 1));
    assert_error(&web_error(&deep), "MalformedInput", "deeper than 32");
    let wide = format!("<A>{}</A>", "<B/>".repeat(MAX_ELEMENTS));
    assert_error(&web_error(&wide), "MalformedInput", "more than 100000 elements");
    let long = cli_with("<Comment />", &format!("<Comment>{}</Comment>", "x".repeat(MAX_TEXT + 1)));
    assert_error(&web_error(&long), "MalformedInput", "longer than");
    // Just within the bounds is fine.
    let deep_ok = format!("<A>{}{}</A>", "<B>".repeat(MAX_DEPTH - 1), "</B>".repeat(MAX_DEPTH - 1));
    assert_error(&web_error(&deep_ok), "InvalidArgument", "CallerReference");
}

#[test]
fn carriage_returns_and_markup_in_values_survive_a_round_trip() {
    let mut config = full_streaming_config();
    config.comment = s("line\r\nnext\rlast <&> \"'\t");
    round_trip("StreamingDistributionConfig", &config);
}
