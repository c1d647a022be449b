//! The JSON the store persists: exact round trips, and member names and order checked against
//! botocore's CloudFront 2020-05-31 model (`tests/data/…-config-shapes.json` is the structure
//! and list part of `botocore/data/cloudfront/2020-05-31/service-2.json`, without its docs).

mod common;

use std::collections::HashMap;

use common::*;
use serde::Deserialize;
use serde_json::Value;
use sf_dist::*;

#[test]
fn streaming_config_round_trips_exactly() {
    let config = full_streaming_config();
    let json = serde_json::to_string(&config).unwrap();
    assert_eq!(serde_json::from_str::<StreamingDistributionConfig>(&json).unwrap(), config);
    assert_eq!(
        serde_json::to_string(&serde_json::from_str::<StreamingDistributionConfig>(&json).unwrap()).unwrap(),
        json
    );
}

#[test]
fn web_config_round_trips_exactly() {
    for config in [full_web_config(), minimal_web_config()] {
        let json = serde_json::to_string_pretty(&config).unwrap();
        let back: DistributionConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back, config);
        assert_eq!(serde_json::to_string_pretty(&back).unwrap(), json);
    }
}

#[test]
fn records_round_trip_with_cloudfront_names() {
    let mut streaming = (*streaming_with("EGTXBD79H29TRA8", "s5c39gqb8ow64r.cdn.test", &["a.example.com"])).clone();
    streaming.tags = vec![Tag { key: s("team"), value: Some(s("video")) }, Tag { key: s("bare"), value: None }];
    let json = serde_json::to_value(&streaming).unwrap();
    for key in ["Id", "ARN", "Status", "LastModifiedTime", "DomainName", "ETag", "StreamingDistributionConfig", "Tags"]
    {
        assert!(json.get(key).is_some(), "{key} missing in {json}");
    }
    assert_eq!(json["Status"], "InProgress");
    assert_eq!(serde_json::from_value::<StreamingDistribution>(json).unwrap(), streaming);

    let web = (*web_with("EDFDVBD6EXAMPLE", "d111111abcdef8.cdn.test", &[])).clone();
    let json = serde_json::to_value(&web).unwrap();
    assert_eq!(json["InProgressInvalidationBatches"], 0);
    assert_eq!(json["ARN"], "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE");
    assert_eq!(serde_json::from_value::<Distribution>(json).unwrap(), web);
}

#[test]
fn replacing_a_config_is_a_new_in_progress_version() {
    let mut dist = (*streaming_with("EGTXBD79H29TRA8", "s5c39gqb8ow64r.cdn.test", &[])).clone();
    dist.status = Status::Deployed;
    let mut config = dist.streaming_distribution_config.clone();
    config.enabled = false;
    dist.replace_config(config, s("E3NEWETAG00001"), Timestamp(5));
    assert_eq!(
        (dist.status, dist.etag.as_str(), dist.last_modified_time),
        (Status::InProgress, "E3NEWETAG00001", Timestamp(5))
    );
    assert!(!dist.streaming_distribution_config.enabled);
}

#[test]
fn timestamps_print_like_cloudfront() {
    assert_eq!(Timestamp(0).to_iso8601(), "1970-01-01T00:00:00.000Z");
    assert_eq!(Timestamp(1_574_384_115_705).to_iso8601(), "2019-11-22T00:55:15.705Z");
    assert_eq!(Timestamp(951_782_400_000).to_iso8601(), "2000-02-29T00:00:00.000Z");
    assert_eq!(Timestamp(4_107_542_399_999).to_iso8601(), "2100-02-28T23:59:59.999Z");
}

#[test]
fn enums_use_wire_spellings_and_parse_names_the_field() {
    assert_eq!(serde_json::to_string(&PriceClass::PriceClass100).unwrap(), "\"PriceClass_100\"");
    assert_eq!(serde_json::to_string(&MinimumProtocolVersion::TlsV1_1_2016).unwrap(), "\"TLSv1.1_2016\"");
    assert_eq!(ViewerProtocolPolicy::parse("X", "redirect-to-https"), Ok(ViewerProtocolPolicy::RedirectToHttps));
    let err = PriceClass::parse("PriceClass", "PriceClass_300").unwrap_err();
    assert_eq!((err.code, err.field.as_str()), ("InvalidArgument", "PriceClass"));
    assert!(err.message.contains("PriceClass_All"), "{}", err.message);
    for value in HttpVersion::ALL {
        assert_eq!(HttpVersion::from_wire(value.as_str()), Some(*value));
    }
}

#[test]
fn quantity_mismatch_is_inconsistent_quantities() {
    assert_eq!(check_quantity("Aliases", 2, 2), Ok(()));
    let err = check_quantity("Aliases", 3, 2).unwrap_err();
    assert_eq!((err.code, err.field.as_str()), ("InconsistentQuantities", "Aliases.Quantity"));
}

// ---- Member names and order against the botocore model ----

#[derive(Deserialize)]
struct Shape {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    members: Vec<(String, String)>,
    member: Option<String>,
}

/// A JSON value that keeps object keys in document order (serde_json's `Value` sorts them).
enum Ordered {
    Scalar,
    Null,
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered::Object(entries))
            }
        }
        d.deserialize_any(V)
    }
}

struct Model(HashMap<String, Shape>);

impl Model {
    fn load() -> Model {
        Model(serde_json::from_str(include_str!("data/cloudfront-2020-05-31-config-shapes.json")).unwrap())
    }

    /// The members our JSON has for a structure: the model's, without `Quantity`.
    fn members(&self, shape: &str) -> Vec<&(String, String)> {
        self.0[shape].members.iter().filter(|(name, _)| name != "Quantity").collect()
    }

    /// A `{Quantity, Items}` wrapper with nothing else is a plain array in our JSON.
    fn is_bare_wrapper(&self, shape: &str) -> bool {
        let all = &self.0[shape].members;
        all.len() == 2 && all[0].0 == "Quantity" && all[1].0 == "Items"
    }

    /// Every member present, non-null, in model order; every list non-empty.
    fn check(&self, path: &str, shape: &str, value: &Ordered) {
        let kind = self.0[shape].kind.as_str();
        match (kind, value) {
            (_, Ordered::Null) => panic!("{path} ({shape}) is null: the fixture is not fully populated"),
            ("structure", _) if self.is_bare_wrapper(shape) => {
                let items = &self.0[shape].members[1].1;
                self.check(path, items, value)
            }
            ("structure", Ordered::Object(entries)) => {
                let ours: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
                let model: Vec<&str> = self.members(shape).iter().map(|(k, _)| k.as_str()).collect();
                assert_eq!(ours, model, "{path}: members of {shape} differ from the model (names or order)");
                for ((name, member_shape), (_, v)) in self.members(shape).into_iter().zip(entries) {
                    self.check(&format!("{path}.{name}"), member_shape, v);
                }
            }
            ("list", Ordered::Array(items)) => {
                assert!(!items.is_empty(), "{path} ({shape}) is empty: the fixture is not fully populated");
                let member = self.0[shape].member.as_deref().unwrap();
                for (i, item) in items.iter().enumerate() {
                    self.check(&format!("{path}[{i}]"), member, item);
                }
            }
            ("structure" | "list", _) => panic!("{path}: {shape} is a {kind} in the model"),
            (_, Ordered::Scalar) => {}
            (_, _) => panic!("{path}: {shape} is a scalar ({kind}) in the model"),
        }
    }
}

fn ordered_json<T: serde::Serialize>(value: &T) -> Ordered {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

#[test]
fn streaming_config_has_every_model_member_in_model_order() {
    Model::load().check(
        "StreamingDistributionConfig",
        "StreamingDistributionConfig",
        &ordered_json(&full_streaming_config()),
    );
}

#[test]
fn web_config_has_every_model_member_in_model_order() {
    Model::load().check("DistributionConfig", "DistributionConfig", &ordered_json(&full_web_config()));
}

#[test]
fn a_persisted_config_from_the_model_names_deserialises() {
    // Written by hand from the model's member names, as a store file would hold it.
    let json = r#"{"CallerReference":"r","S3Origin":{"DomainName":"bkt.s3.amazonaws.com","OriginAccessIdentity":""},
        "Aliases":[],"Comment":"","Logging":null,"TrustedSigners":{"Enabled":false,"Items":[]},
        "PriceClass":"PriceClass_200","Enabled":false}"#;
    let config: StreamingDistributionConfig = serde_json::from_str(json).unwrap();
    assert_eq!(config.price_class, Some(PriceClass::PriceClass200));
    assert_eq!(validate_streaming_config(&config), Ok(()));
    let value: Value = serde_json::to_value(&config).unwrap();
    assert_eq!(value["S3Origin"]["DomainName"], "bkt.s3.amazonaws.com");
}
