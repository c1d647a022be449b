//! The CloudFront API's other resources with the real AWS CLI: public keys (a real 2048-bit RSA
//! key from openssl), key groups, origin access identities and origin access controls through
//! create, get, get-config, list, update and delete with If-Match; invalidations of a web
//! distribution; tags on a distribution's ARN.

mod common;

use std::process::Command;
use std::time::Duration;

use common::api::{Aws, json_file, poll};
use common::*;
use serde_json::{Value, json};

/// How the CLI names one kind of resource and its members.
struct Kind {
    /// `public-key` in `create-public-key`, `get-public-key-config`, …
    noun: &'static str,
    /// `list-public-keys`
    list: &'static str,
    /// The path after `/2020-05-31/` in `Location`.
    path: &'static str,
    /// The resource member of the answers (`PublicKey`) and of its config (`PublicKeyConfig`).
    shape: &'static str,
    config: &'static str,
    /// `PublicKeyList`
    list_shape: &'static str,
    /// The error code of an unknown id.
    no_such: &'static str,
}

impl Kind {
    fn config_arg(&self) -> String {
        // --public-key-config, --key-group-config, --cloud-front-origin-access-identity-config, …
        let mut arg = String::from("-");
        for c in self.config.chars() {
            if c.is_ascii_uppercase() {
                arg.push('-');
            }
            arg.push(c.to_ascii_lowercase());
        }
        arg
    }
}

const PUBLIC_KEY: Kind = Kind {
    noun: "public-key",
    list: "list-public-keys",
    path: "public-key",
    shape: "PublicKey",
    config: "PublicKeyConfig",
    list_shape: "PublicKeyList",
    no_such: "NoSuchPublicKey",
};
const KEY_GROUP: Kind = Kind {
    noun: "key-group",
    list: "list-key-groups",
    path: "key-group",
    shape: "KeyGroup",
    config: "KeyGroupConfig",
    list_shape: "KeyGroupList",
    no_such: "NoSuchResource",
};
const OAI: Kind = Kind {
    noun: "cloud-front-origin-access-identity",
    list: "list-cloud-front-origin-access-identities",
    path: "origin-access-identity/cloudfront",
    shape: "CloudFrontOriginAccessIdentity",
    config: "CloudFrontOriginAccessIdentityConfig",
    list_shape: "CloudFrontOriginAccessIdentityList",
    no_such: "NoSuchCloudFrontOriginAccessIdentity",
};
const OAC: Kind = Kind {
    noun: "origin-access-control",
    list: "list-origin-access-controls",
    path: "origin-access-control",
    shape: "OriginAccessControl",
    config: "OriginAccessControlConfig",
    list_shape: "OriginAccessControlList",
    no_such: "NoSuchOriginAccessControl",
};

/// A resource made by [`create_and_read`]: its id and current ETag.
struct Made {
    id: String,
    etag: String,
}

/// Creates one resource of `kind` from `config` and checks that create, get, get-config and
/// list all show it as sent.
fn create_and_read(aws: &Aws, dir: &TempDir, kind: &Kind, config: &Value) -> Made {
    let file = json_file(dir.path(), &format!("{}.json", kind.noun), config);
    let created = aws.ok(&["cloudfront", &format!("create-{}", kind.noun), &kind.config_arg(), &file]);
    let resource = &created[kind.shape];
    let id = resource["Id"].as_str().unwrap_or_else(|| panic!("{}: no Id: {created:#}", kind.noun)).to_owned();
    let etag = created["ETag"].as_str().unwrap_or_else(|| panic!("{}: no ETag: {created:#}", kind.noun)).to_owned();
    let location = created["Location"].as_str().unwrap_or_default();
    assert!(location.ends_with(&format!("/2020-05-31/{}/{id}", kind.path)), "{}: Location {location:?}", kind.noun);
    assert_eq!(&resource[kind.config], config, "{}: create echoes the config: {created:#}", kind.noun);

    let got = aws.ok(&["cloudfront", &format!("get-{}", kind.noun), "--id", &id]);
    assert_eq!(got["ETag"], etag.as_str(), "{}: {got:#}", kind.noun);
    assert_eq!(got[kind.shape], *resource, "{}: get shows what create answered", kind.noun);
    let got = aws.ok(&["cloudfront", &format!("get-{}-config", kind.noun), "--id", &id]);
    assert_eq!(got["ETag"], etag.as_str(), "{}: {got:#}", kind.noun);
    assert_eq!(&got[kind.config], config, "{}: get-config", kind.noun);

    let listed = aws.ok(&["cloudfront", kind.list]);
    let items = listed[kind.list_shape]["Items"].as_array().unwrap_or_else(|| panic!("{}: {listed:#}", kind.list));
    // Key group summaries wrap the whole key group; the others carry the id themselves.
    let ids: Vec<&Value> =
        items.iter().map(|i| if i["Id"].is_null() { &i["KeyGroup"]["Id"] } else { &i["Id"] }).collect();
    assert!(ids.iter().any(|i| **i == id.as_str()), "{}: {id} is not listed: {listed:#}", kind.list);
    Made { id, etag }
}

/// Updates `made` to `config` with its ETag (after a stale ETag is refused); checks get-config.
fn update(aws: &Aws, dir: &TempDir, kind: &Kind, made: &mut Made, config: &Value) {
    let file = json_file(dir.path(), &format!("{}-update.json", kind.noun), config);
    let update = |if_match: &str| {
        aws.run(&[
            "cloudfront",
            &format!("update-{}", kind.noun),
            "--id",
            &made.id,
            "--if-match",
            if_match,
            &kind.config_arg(),
            &file,
        ])
    };
    let stale = update("E0STALEETAG000");
    assert_eq!(stale.error_code().as_deref(), Some("PreconditionFailed"), "{}: {}", kind.noun, stale.run.describe());
    let out = update(&made.etag);
    assert!(out.run.success(), "{}: {}", kind.noun, out.run.describe());
    let etag = out.json["ETag"].as_str().unwrap().to_owned();
    assert_ne!(etag, made.etag, "{}: an update makes a new ETag", kind.noun);
    let got = aws.ok(&["cloudfront", &format!("get-{}-config", kind.noun), "--id", &made.id]);
    assert_eq!(&got[kind.config], config, "{}: the update was applied", kind.noun);
    assert_eq!(got["ETag"], etag.as_str());
    made.etag = etag;
}

/// Deletes `made` (a stale ETag first, refused) and checks it is gone.
fn delete(aws: &Aws, kind: &Kind, made: &Made) {
    let delete = |if_match: &str| {
        aws.run(&["cloudfront", &format!("delete-{}", kind.noun), "--id", &made.id, "--if-match", if_match])
    };
    let stale = delete("E0STALEETAG000");
    assert_eq!(stale.error_code().as_deref(), Some("PreconditionFailed"), "{}: {}", kind.noun, stale.run.describe());
    let out = delete(&made.etag);
    assert!(out.run.success(), "{}: {}", kind.noun, out.run.describe());
    let (_, code) = aws.err(&["cloudfront", &format!("get-{}", kind.noun), "--id", &made.id]);
    assert_eq!(code, kind.no_such, "{}", kind.noun);
}

/// A fresh 2048-bit RSA public key as PEM (`openssl genrsa` then `openssl rsa -pubout`).
fn rsa_public_key_pem(dir: &TempDir) -> String {
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    let mut genrsa = Command::new("openssl");
    genrsa.args(["genrsa", "-out"]).arg(&private).arg("2048");
    let r = run(genrsa, Duration::from_secs(60));
    assert!(r.success(), "{}", r.describe());
    let mut pubout = Command::new("openssl");
    pubout.args(["rsa", "-pubout", "-in"]).arg(&private).arg("-out").arg(&public);
    let r = run(pubout, Duration::from_secs(60));
    assert!(r.success(), "{}", r.describe());
    std::fs::read_to_string(public).unwrap()
}

fn start() -> (Server, Aws, TempDir) {
    let server = Server::start_with(
        &media().origin,
        ServerOptions { origin_spec: Some("none".into()), api: true, ..Default::default() },
    );
    let aws = Aws::new(&server);
    (server, aws, TempDir::new("api-resources"))
}

#[test]
fn public_keys_and_key_groups_live_and_die() {
    let (_server, aws, dir) = start();

    let pem = rsa_public_key_pem(&dir);
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
    let key_config = |comment: &str| json!({"CallerReference": "key-1", "Name": "signing-key", "EncodedKey": pem, "Comment": comment});
    let mut key = create_and_read(&aws, &dir, &PUBLIC_KEY, &key_config("first"));
    // Only the comment of a public key can change.
    update(&aws, &dir, &PUBLIC_KEY, &mut key, &key_config("second"));
    let mut other_key = key_config("second");
    other_key["EncodedKey"] = json!(rsa_public_key_pem(&dir));
    let (status, code) =
        aws.boto_err("update_public_key", json!({"Id": key.id, "IfMatch": key.etag, "PublicKeyConfig": other_key}));
    assert_eq!((status, code.as_str()), (400, "CannotChangeImmutablePublicKeyFields"));

    let group_config = |name: &str| json!({"Name": name, "Items": [key.id], "Comment": "signers"});
    let mut group = create_and_read(&aws, &dir, &KEY_GROUP, &group_config("group-1"));
    update(&aws, &dir, &KEY_GROUP, &mut group, &group_config("group-renamed"));
    // A key in a group cannot be deleted.
    let (status, code) = aws.boto_err("delete_public_key", json!({"Id": key.id, "IfMatch": key.etag}));
    assert_eq!((status, code.as_str()), (409, "PublicKeyInUse"));
    delete(&aws, &KEY_GROUP, &group);
    delete(&aws, &PUBLIC_KEY, &key);
}

#[test]
fn origin_access_identities_and_controls_live_and_die() {
    let (_server, aws, dir) = start();
    let oai_config = |comment: &str| json!({"CallerReference": "oai-1", "Comment": comment});
    let mut oai = create_and_read(&aws, &dir, &OAI, &oai_config("for media"));
    let shown = aws.ok(&["cloudfront", "get-cloud-front-origin-access-identity", "--id", &oai.id]);
    assert!(
        shown["CloudFrontOriginAccessIdentity"]["S3CanonicalUserId"].as_str().is_some_and(|s| !s.is_empty()),
        "an OAI has an S3 canonical user id: {shown:#}"
    );
    update(&aws, &dir, &OAI, &mut oai, &oai_config("for media and logs"));
    delete(&aws, &OAI, &oai);

    let oac_config = |behavior: &str| {
        json!({
            "Name": "media-oac",
            "Description": "signs requests to the media bucket",
            "SigningProtocol": "sigv4",
            "SigningBehavior": behavior,
            "OriginAccessControlOriginType": "s3",
        })
    };
    let mut oac = create_and_read(&aws, &dir, &OAC, &oac_config("always"));
    update(&aws, &dir, &OAC, &mut oac, &oac_config("no-override"));
    delete(&aws, &OAC, &oac);
}

#[test]
fn invalidations_complete_and_distributions_take_tags() {
    let (_server, aws, _dir) = start();
    let created = aws.ok(&["cloudfront", "create-distribution", "--origin-domain-name", "media.s3.amazonaws.com"]);
    let id = created["Distribution"]["Id"].as_str().unwrap_or_else(|| panic!("no Id: {created:#}")).to_owned();
    let arn = created["Distribution"]["ARN"].as_str().unwrap().to_owned();

    // Invalidations: create (201, Location), list, get until Completed.
    let made =
        aws.ok(&["cloudfront", "create-invalidation", "--distribution-id", &id, "--paths", "/index.html", "/images/*"]);
    let invalidation = &made["Invalidation"];
    let inv_id = invalidation["Id"].as_str().unwrap_or_else(|| panic!("no Id: {made:#}")).to_owned();
    assert!(
        made["Location"]
            .as_str()
            .is_some_and(|l| l.ends_with(&format!("/2020-05-31/distribution/{id}/invalidation/{inv_id}"))),
        "{made:#}"
    );
    assert_eq!(
        invalidation["InvalidationBatch"]["Paths"],
        json!({"Quantity": 2, "Items": ["/index.html", "/images/*"]})
    );
    assert!(invalidation["CreateTime"].is_string(), "{made:#}");
    let listed = aws.ok(&["cloudfront", "list-invalidations", "--distribution-id", &id]);
    let items = &listed["InvalidationList"]["Items"];
    assert_eq!(items.as_array().map(|i| i.len()), Some(1), "{listed:#}");
    assert_eq!(items[0]["Id"], inv_id.as_str(), "{listed:#}");
    poll(
        "the invalidation Completed",
        Duration::from_secs(15),
        || aws.ok(&["cloudfront", "get-invalidation", "--distribution-id", &id, "--id", &inv_id]),
        |got| got["Invalidation"]["Status"] == "Completed",
    );
    let (_, code) =
        aws.err(&["cloudfront", "create-invalidation", "--distribution-id", "ENOSUCHDIST000", "--paths", "/a"]);
    assert_eq!(code, "NoSuchDistribution");

    // Tags on the distribution's ARN: add, list, remove one.
    aws.ok(&[
        "cloudfront",
        "tag-resource",
        "--resource",
        &arn,
        "--tags",
        "Items=[{Key=team,Value=web},{Key=env,Value=test}]",
    ]);
    let tags = |aws: &Aws| {
        let listed = aws.ok(&["cloudfront", "list-tags-for-resource", "--resource", &arn]);
        let mut items = listed["Tags"]["Items"].as_array().cloned().unwrap_or_default();
        items.sort_by_key(|t| t["Key"].as_str().unwrap_or_default().to_owned());
        items
    };
    assert_eq!(tags(&aws), [json!({"Key": "env", "Value": "test"}), json!({"Key": "team", "Value": "web"})]);
    aws.ok(&["cloudfront", "untag-resource", "--resource", &arn, "--tag-keys", "Items=env"]);
    assert_eq!(tags(&aws), [json!({"Key": "team", "Value": "web"})]);
}
