//! The response views: what they derive from the records (active signers and key groups,
//! CloudFront's defaults in summaries, the OAI's canonical user id) as written on the wire.

mod common;

use common::*;
use sf_api::shapes::{self, Paging};
use sf_api::xml::to_xml;
use sf_dist::*;

fn xml<T: serde::Serialize>(root: &str, value: &T) -> String {
    String::from_utf8(to_xml(root, value)).unwrap()
}

#[test]
fn a_streaming_distribution_names_its_trusted_signers_as_active() {
    let record = streaming_record();
    let doc = xml("StreamingDistribution", &shapes::streaming_distribution(&record, Status::Deployed));
    assert!(doc.contains(concat!(
        "<Id>EGTXBD79H29TRA8</Id><ARN>arn:aws:cloudfront::123456789012:streaming-distribution/EGTXBD79H29TRA8</ARN>",
        "<Status>Deployed</Status><LastModifiedTime>2019-11-22T00:55:15.705Z</LastModifiedTime>",
        "<DomainName>s5c39gqb8ow64r.cloudfront.net</DomainName>",
        "<ActiveTrustedSigners><Enabled>true</Enabled><Quantity>2</Quantity><Items>",
        "<Signer><AwsAccountNumber>self</AwsAccountNumber><KeyPairIds><Quantity>0</Quantity></KeyPairIds></Signer>",
        "<Signer><AwsAccountNumber>123456789012</AwsAccountNumber><KeyPairIds><Quantity>0</Quantity></KeyPairIds></Signer>",
        "</Items></ActiveTrustedSigners><StreamingDistributionConfig><CallerReference>",
    )), "{doc}");
}

#[test]
fn a_distribution_gathers_signers_and_key_groups_of_all_its_behaviors() {
    let record = web_record();
    let view = shapes::distribution(&record, Status::InProgress, &|group| vec![format!("{group}-K1")]);
    let accounts: Vec<&str> = view.active_trusted_signers.items.iter().map(|s| s.aws_account_number.as_str()).collect();
    assert_eq!(accounts, ["self", "123456789012"]);
    assert!(view.active_trusted_key_groups.enabled);
    let groups: Vec<(&str, &[String])> = view
        .active_trusted_key_groups
        .items
        .iter()
        .map(|g| (g.key_group_id.as_str(), g.key_pair_ids.as_slice()))
        .collect();
    assert_eq!(groups, [("kg-id", &[s("kg-id-K1")][..]), ("kg-2", &[s("kg-2-K1")][..])]);
    let doc = xml("Distribution", &view);
    assert!(doc.contains("<InProgressInvalidationBatches>2</InProgressInvalidationBatches>"), "{doc}");
    assert!(doc.contains(
        "<ActiveTrustedKeyGroups><Enabled>true</Enabled><Quantity>2</Quantity><Items><KeyGroup><KeyGroupId>kg-id</KeyGroupId><KeyPairIds><Quantity>1</Quantity><Items><KeyPairId>kg-id-K1</KeyPairId></Items></KeyPairIds></KeyGroup>"
    ), "{doc}");

    // Without trusted key groups or signers anywhere: disabled and empty.
    let minimal = minimal_web_record();
    let view = shapes::distribution(&minimal, Status::Deployed, &|_| panic!("no key group to look up"));
    let doc = xml("Distribution", &view);
    assert!(doc.contains("<ActiveTrustedSigners><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedSigners><ActiveTrustedKeyGroups><Enabled>false</Enabled><Quantity>0</Quantity></ActiveTrustedKeyGroups>"), "{doc}");
}

#[test]
fn a_distribution_summary_fills_in_what_cloudfront_echoes() {
    let minimal = minimal_web_record();
    let paging = Paging { marker: s(""), max_items: 100, next_marker: None, is_truncated: false };
    let doc = xml("DistributionList", &shapes::distribution_list(paging, [(&minimal, Status::Deployed)]));
    assert!(
        doc.contains("<Marker></Marker><MaxItems>100</MaxItems><IsTruncated>false</IsTruncated><Quantity>1</Quantity>"),
        "{doc}"
    );
    assert!(!doc.contains("NextMarker"), "{doc}");
    assert!(doc.contains("<Comment></Comment><PriceClass>PriceClass_All</PriceClass><Enabled>true</Enabled>"), "{doc}");
    assert!(doc.contains(concat!(
        "<ViewerCertificate><CloudFrontDefaultCertificate>true</CloudFrontDefaultCertificate>",
        "<MinimumProtocolVersion>TLSv1</MinimumProtocolVersion><CertificateSource>cloudfront</CertificateSource></ViewerCertificate>",
        "<Restrictions><GeoRestriction><RestrictionType>none</RestrictionType><Quantity>0</Quantity></GeoRestriction></Restrictions>",
        "<WebACLId></WebACLId><HttpVersion>http2</HttpVersion><IsIPV6Enabled>true</IsIPV6Enabled><Staging>false</Staging>",
        "</DistributionSummary>"
    )), "{doc}");
    assert!(doc.contains("<ETag>E9LHASXEXAMPLE</ETag><Status>Deployed</Status>"), "{doc}");
    // Summaries have no CallerReference, DefaultRootObject or Logging.
    assert!(!doc.contains("CallerReference") && !doc.contains("DefaultRootObject"), "{doc}");
}

#[test]
fn list_shapes_carry_their_paging_members_only() {
    let paging = || Paging { marker: s("M"), max_items: 1, next_marker: Some(s("N")), is_truncated: true };
    let keys = [public_key_record("K1")];
    let doc = xml("PublicKeyList", &shapes::public_key_list(paging(), &keys));
    assert!(
        doc.contains(
            "<NextMarker>N</NextMarker><MaxItems>1</MaxItems><Quantity>1</Quantity><Items><PublicKeySummary><Id>K1</Id>"
        ),
        "{doc}"
    );
    assert!(!doc.contains("<Marker>") && !doc.contains("IsTruncated"), "{doc}");
    let oacs = [oac_record("E1")];
    let doc = xml("OriginAccessControlList", &shapes::origin_access_control_list(paging(), &oacs));
    assert!(doc.contains("<Marker>M</Marker><NextMarker>N</NextMarker><MaxItems>1</MaxItems><IsTruncated>true</IsTruncated><Quantity>1</Quantity>"), "{doc}");
    // Description is required in the summary, optional in the config.
    assert!(
        doc.contains("<Id>E1</Id><Description></Description><Name>oac1</Name><SigningProtocol>sigv4</SigningProtocol>"),
        "{doc}"
    );
}

#[test]
fn the_s3_canonical_user_id_is_64_hex_digits_fixed_by_the_id() {
    let a = shapes::s3_canonical_user_id("E74FTE3AEXAMPLE");
    assert_eq!(a.len(), 64);
    assert!(a.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{a}");
    assert_eq!(a, shapes::s3_canonical_user_id("E74FTE3AEXAMPLE"));
    assert_ne!(a, shapes::s3_canonical_user_id("E74FTE3AEXAMPLF"));
    let oai = oai_record("E74FTE3AEXAMPLE");
    let doc = xml("CloudFrontOriginAccessIdentity", &shapes::origin_access_identity(&oai));
    assert!(doc.contains(&format!("<Id>E74FTE3AEXAMPLE</Id><S3CanonicalUserId>{a}</S3CanonicalUserId><CloudFrontOriginAccessIdentityConfig><CallerReference>oai-ref</CallerReference>")), "{doc}");
}
