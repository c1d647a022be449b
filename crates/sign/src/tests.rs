//! The published vectors: the Amazon CloudFront Developer Guide's examples as boto's
//! tests/unit/cloudfront/test_signed_urls.py has them (signed with the guide's example key),
//! and RTMP stream names signed with the same key.

use std::net::IpAddr;

use super::*;

/// The public half of the Developer Guide's example key (boto's test key).
const PUBLIC_KEY: &str = include_str!("testdata/aws-doc-example.pub.pem");

const CANNED_RESOURCE: &str = "http://d604721fxaaqy9.cloudfront.net/horizon.jpg?large=yes&license=yes";
const CANNED_SIGNATURE: &str = "Nql641NHEUkUaXQHZINK1FZ~SYeUSoBJMxjdgqrzIdzV2gyEXPDNv0pYdWJkflDKJ3xIu7lbwRpSkG98NBlgPi4ZJpRRnVX4kXAJK6tdNx6FucDB7OVqzcxkxHsGFd8VCG1BkC-Afh9~lOCMIYHIaiOB6~5jt9w2EOwi6sIIqrg_";

const CUSTOM_POLICY_1: &str = "{ \n   \"Statement\": [{ \n      \"Resource\":\"http://d604721fxaaqy9.cloudfront.net/training/*\", \n      \"Condition\":{ \n         \"IpAddress\":{\"AWS:SourceIp\":\"145.168.143.0/24\"}, \n         \"DateLessThan\":{\"AWS:EpochTime\":1258237200}      \n      } \n   }] \n}\n";
const CUSTOM_POLICY_1_BASE64: &str = "eyAKICAgIlN0YXRlbWVudCI6IFt7IAogICAgICAiUmVzb3VyY2UiOiJodHRwOi8vZDYwNDcyMWZ4YWFxeTkuY2xvdWRmcm9udC5uZXQvdHJhaW5pbmcvKiIsIAogICAgICAiQ29uZGl0aW9uIjp7IAogICAgICAgICAiSXBBZGRyZXNzIjp7IkFXUzpTb3VyY2VJcCI6IjE0NS4xNjguMTQzLjAvMjQifSwgCiAgICAgICAgICJEYXRlTGVzc1RoYW4iOnsiQVdTOkVwb2NoVGltZSI6MTI1ODIzNzIwMH0gICAgICAKICAgICAgfSAKICAgfV0gCn0K";
const CUSTOM_SIGNATURE_1: &str = "cPFtRKvUfYNYmxek6ZNs6vgKEZP6G3Cb4cyVt~FjqbHOnMdxdT7eT6pYmhHYzuDsFH4Jpsctke2Ux6PCXcKxUcTIm8SO4b29~1QvhMl-CIojki3Hd3~Unxjw7Cpo1qRjtvrimW0DPZBZYHFZtiZXsaPt87yBP9GWnTQoaVysMxQ_";

const CUSTOM_POLICY_2: &str = "{ \n   \"Statement\": [{ \n      \"Resource\":\"http://*\", \n      \"Condition\":{ \n         \"IpAddress\":{\"AWS:SourceIp\":\"216.98.35.1/32\"},\n         \"DateGreaterThan\":{\"AWS:EpochTime\":1241073790},\n         \"DateLessThan\":{\"AWS:EpochTime\":1255674716}\n      } \n   }] \n}\n";
const CUSTOM_SIGNATURE_2: &str = "rc~5Qbbm8EJXjUTQ6Cn0LAxR72g1DOPrTmdtfbWVVgQNw0q~KHUAmBa2Zv1Wjj8dDET4XSL~Myh44CLQdu4dOH~N9huH7QfPSR~O4tIOS1WWcP~2JmtVPoQyLlEc8YHRCuN3nVNZJ0m4EZcXXNAS-0x6Zco2SYx~hywTRxWR~5Q_";

/// A canned RTMP name signed with the example key, key pair id `APKA9ONS7QCOWEXAMPLE`.
const RTMP_CANNED: &str = "videos/mediafile.flv?Expires=1357034400&Signature=ckpTlTyGptIm3OzameLFP8BubyGycLEXQDyRkABDc4H4ZDpikOu1JuPchoikbwplKhJP6waMNjZskv1hYB83Rb1oZgUgkIqY7YalmqUdk0Yo03-gpPx7fjPDLDFZUac4Tu7K9dHHK0H6fVzj~F0p1I4qMDgTRdVglXZYjaeabVQ_&Key-Pair-Id=APKA9ONS7QCOWEXAMPLE";
/// A custom-policy RTMP name: `videos/*`, 192.0.2.0/24, from 1357030800 to 1357034400.
const RTMP_CUSTOM: &str = "mp4:videos/clip.mp4?Policy=eyJTdGF0ZW1lbnQiOlt7IlJlc291cmNlIjoidmlkZW9zLyoiLCJDb25kaXRpb24iOnsiSXBBZGRyZXNzIjp7IkFXUzpTb3VyY2VJcCI6IjE5Mi4wLjIuMC8yNCJ9LCJEYXRlR3JlYXRlclRoYW4iOnsiQVdTOkVwb2NoVGltZSI6MTM1NzAzMDgwMH0sIkRhdGVMZXNzVGhhbiI6eyJBV1M6RXBvY2hUaW1lIjoxMzU3MDM0NDAwfX19XX0_&Signature=bIJnenZr1ZHfy4M9M7Ziiodk1bCZDM~Hj5KZtWtMQ~pm~IiI3hH7oCAFFwiEgL3vSsMJqCBnZT20Y9vbto5v5-Pr97VSDvXyDzvGg2pmiGPJxVMcsCb73qycVXNlIC4RtzeZhwMBNgREguSBkiiwYJaLW~4Yh4udL1dpIzOkoNw_&Key-Pair-Id=APKA9ONS7QCOWEXAMPLE";

fn key(id: &str) -> KeyPair {
    KeyPair::from_pem(id, SELF_ACCOUNT, PUBLIC_KEY).unwrap()
}

fn verifier() -> Verifier {
    let mut keys = KeyPairs::default();
    keys.insert(key("APKA9ONS7QCOWEXAMPLE")).unwrap();
    keys.insert(KeyPair::from_pem("APKAOTHERACCOUNT0001", "111122223333", PUBLIC_KEY).unwrap()).unwrap();
    Verifier::new(keys)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn trusted_self() -> Vec<String> {
    vec![SELF_ACCOUNT.to_owned()]
}

/// Checks `name` as the edge does: its query, for the resources of its path.
fn check(verifier: &Verifier, name: &str, now: u64, from: &str) -> Result<std::sync::Arc<Policy>, SignError> {
    let (path, query) = split_stream_name(name);
    let path = path.split_once(':').map_or(path, |(_, rest)| rest);
    let resources = rtmp_resources(path, &[]);
    verifier.check_query(query.as_deref(), &trusted_self(), &Viewer { now, ip: ip(from), resources: &resources })
}

fn params(policy: PolicySource, signature: &str) -> SigningParams {
    SigningParams { policy, signature: base64url::decode(signature).unwrap(), key_pair_id: "PK123456789754".into() }
}

#[test]
fn the_developer_guides_canned_example_verifies() {
    let (verifier, key) = (Verifier::default(), key("PK123456789754"));
    let resources = [CANNED_RESOURCE.to_owned()];
    let viewer = Viewer { now: 1258237199, ip: ip("203.0.113.1"), resources: &resources };
    let canned = params(PolicySource::Canned { expires: 1258237200 }, CANNED_SIGNATURE);
    assert!(verifier.check(&canned, &key, &viewer).is_ok());
    let later = params(PolicySource::Canned { expires: 1258237201 }, CANNED_SIGNATURE);
    assert_eq!(verifier.check(&later, &key, &viewer).unwrap_err(), SignError::BadSignature, "Expires changed");
    let expired = Viewer { now: 1258237200, ..viewer };
    assert_eq!(verifier.check(&canned, &key, &expired).unwrap_err(), SignError::Expired { at: 1258237200 });
}

#[test]
fn the_developer_guides_custom_examples_verify_over_their_exact_bytes() {
    assert_eq!(base64url::encode(CUSTOM_POLICY_1.as_bytes()), CUSTOM_POLICY_1_BASE64);
    let (verifier, key) = (Verifier::default(), key("PK123456789754"));
    let training = ["http://d604721fxaaqy9.cloudfront.net/training/orientation.avi".to_owned()];
    let viewer = Viewer { now: 1258237199, ip: ip("145.168.143.7"), resources: &training };
    let custom_1 = params(PolicySource::Custom(CUSTOM_POLICY_1.as_bytes().to_vec()), CUSTOM_SIGNATURE_1);
    verifier.check(&custom_1, &key, &viewer).unwrap();
    let elsewhere = ["http://d604721fxaaqy9.cloudfront.net/horizon.jpg".to_owned()];
    assert!(matches!(
        verifier.check(&custom_1, &key, &Viewer { resources: &elsewhere, ..viewer }),
        Err(SignError::ResourceMismatch { .. })
    ));
    assert!(matches!(
        verifier.check(&custom_1, &key, &Viewer { ip: ip("145.168.144.7"), ..viewer }),
        Err(SignError::WrongIp { .. })
    ));
    // The same policy without its white space is other bytes: not what was signed.
    let compact: String = CUSTOM_POLICY_1.split_whitespace().collect();
    let tampered = params(PolicySource::Custom(compact.into_bytes()), CUSTOM_SIGNATURE_1);
    assert_eq!(verifier.check(&tampered, &key, &viewer).unwrap_err(), SignError::BadSignature);

    let custom_2 = params(PolicySource::Custom(CUSTOM_POLICY_2.as_bytes().to_vec()), CUSTOM_SIGNATURE_2);
    let viewer = Viewer { now: 1241073790, ip: ip("216.98.35.1"), resources: &training };
    verifier.check(&custom_2, &key, &viewer).unwrap();
    assert_eq!(
        verifier.check(&custom_2, &key, &Viewer { now: 1241073789, ..viewer }).unwrap_err(),
        SignError::NotYetValid { from: 1241073790 }
    );
}

#[test]
fn rtmp_names_signed_with_canned_and_custom_policies() {
    let verifier = verifier();
    check(&verifier, RTMP_CANNED, 1357034399, "198.51.100.1").unwrap();
    assert_eq!(check(&verifier, RTMP_CANNED, 1357034400, "198.51.100.1").unwrap_err().reason(), "expired");
    // As a Flash page escapes it.
    let escaped = RTMP_CANNED.replace('?', "%3F").replace('=', "%3D").replace('&', "%26");
    check(&verifier, &escaped, 1357034399, "198.51.100.1").unwrap();
    // The same signature for another stream.
    let other = RTMP_CANNED.replace("mediafile", "otherfile");
    assert_eq!(check(&verifier, &other, 1357034399, "198.51.100.1").unwrap_err(), SignError::BadSignature);

    check(&verifier, RTMP_CUSTOM, 1357030800, "192.0.2.55").unwrap();
    let cases = [
        (RTMP_CUSTOM.to_owned(), 1357030799, "192.0.2.55", "not yet valid"),
        (RTMP_CUSTOM.to_owned(), 1357034400, "192.0.2.55", "expired"),
        (RTMP_CUSTOM.to_owned(), 1357030800, "192.0.3.55", "wrong ip"),
        (RTMP_CUSTOM.replace("videos/clip", "music/clip"), 1357030800, "192.0.2.55", "resource mismatch"),
        (RTMP_CUSTOM.replace("APKA9ONS7QCOWEXAMPLE", "APKANOSUCHKEY0000000"), 1357030800, "192.0.2.55", "unknown key"),
        (format!("{RTMP_CUSTOM}&start=10"), 1357030800, "192.0.2.55", "malformed"),
        ("mp4:videos/clip.mp4".to_owned(), 1357030800, "192.0.2.55", "unsigned"),
    ];
    for (name, now, from, reason) in cases {
        assert_eq!(check(&verifier, &name, now, from).unwrap_err().reason(), reason, "{name}");
    }
    // A policy changed after signing (one character of its base64).
    let tampered = RTMP_CUSTOM.replacen("Policy=eyJ", "Policy=eyK", 1);
    assert!(matches!(
        check(&verifier, &tampered, 1357030800, "192.0.2.55"),
        Err(SignError::BadSignature | SignError::Malformed(_) | SignError::MalformedPolicy(_))
    ));
}

#[test]
fn keys_of_accounts_that_are_not_trusted_signers_are_refused() {
    let verifier = verifier();
    let name = RTMP_CANNED.replace("APKA9ONS7QCOWEXAMPLE", "APKAOTHERACCOUNT0001");
    let (_, query) = split_stream_name(&name);
    let resources = rtmp_resources("videos/mediafile.flv", &[]);
    let viewer = Viewer { now: 1357034399, ip: ip("198.51.100.1"), resources: &resources };
    let refused = verifier.check_query(query.as_deref(), &trusted_self(), &viewer).unwrap_err();
    assert!(matches!(refused, SignError::UntrustedKey { .. }), "{refused:?}");
    // Trusted once the distribution lists that account; the key then verifies the signature.
    let other = ["111122223333".to_owned()];
    verifier.check_query(query.as_deref(), &other, &viewer).unwrap();
}

#[test]
fn a_thousand_checks_of_one_name_cost_one_rsa_verification() {
    let verifier = verifier();
    for _ in 0..1000 {
        check(&verifier, RTMP_CANNED, 1357034399, "198.51.100.1").unwrap();
        check(&verifier, RTMP_CUSTOM, 1357030800, "192.0.2.55").unwrap();
    }
    assert_eq!(verifier.rsa_verifications(), 2);
    // Conditions are checked on every use, cached or not.
    assert_eq!(check(&verifier, RTMP_CANNED, 1357034400, "198.51.100.1").unwrap_err().reason(), "expired");
    assert_eq!(check(&verifier, RTMP_CUSTOM, 1357030800, "10.0.0.1").unwrap_err().reason(), "wrong ip");
    assert_eq!(verifier.rsa_verifications(), 2);
}

#[test]
fn resources_with_and_without_extensions() {
    assert_eq!(rtmp_resources("videos/clip.mp4", &[]), ["videos/clip.mp4", "videos/clip"]);
    assert_eq!(rtmp_resources("clip", &["clip.flv".into()]), ["clip", "clip.flv"]);
    assert_eq!(rtmp_resources("v.1/clip", &["v.1/clip.flv".into()]), ["v.1/clip", "v.1/clip.flv"]);
}
