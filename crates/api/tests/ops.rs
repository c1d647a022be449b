//! The operations' semantics over a state folded as the control store folds it: every change
//! an op plans is applied as the next number and checked (see `ops_support::World::run`).

mod ops_support;

use ops_support::*;
use sf_api::ops::*;
use sf_dist::{InvalidationBatch, InvalidationStatus, OriginAccessIdentityConfig, Status, TrustedKeyGroups};

fn oai_config(reference: &str) -> OriginAccessIdentityConfig {
    OriginAccessIdentityConfig { caller_reference: s(reference), comment: s("media") }
}

fn batch(reference: &str, paths: &[&str]) -> InvalidationBatch {
    InvalidationBatch { paths: paths.iter().map(|p| s(p)).collect(), caller_reference: s(reference) }
}

#[test]
fn streaming_distribution_lifecycle() {
    let mut w = World::new();
    let id =
        w.run(|st, c| create_streaming_distribution(st, c, streaming_config("r1", &[]), vec![tag("a", "1")])).unwrap();
    let stored = get_streaming_distribution(&w.state, &id).unwrap();
    assert_eq!(stored.origin, "s3://mymedia");
    assert_eq!(stored.record.status, Status::InProgress);
    assert!(stored.record.domain_name.starts_with('s') && stored.record.domain_name.ends_with(".cdn.test"));
    assert_eq!(stored.record.arn, format!("arn:aws:cloudfront::{ACCOUNT}:streaming-distribution/{id}"));
    assert_eq!(stored.record.tags, [tag("a", "1")]);
    let etag = stored.record.etag.clone();

    let mut changed = streaming_config("r1", &["media.example.com"]);
    changed.comment = s("changed");
    let (c, u) = (changed.clone(), id.clone());
    assert_eq!(w.refuse(|st, ctx| update_streaming_distribution(st, ctx, &u, None, c)), (400, "InvalidIfMatchVersion"));
    let (c, u) = (changed.clone(), id.clone());
    assert_eq!(
        w.refuse(|st, ctx| update_streaming_distribution(st, ctx, &u, Some("E0000000000000"), c)),
        (412, "PreconditionFailed")
    );
    let mut other_reference = changed.clone();
    other_reference.caller_reference = s("r2");
    let u = id.clone();
    assert_eq!(
        w.refuse(|st, ctx| update_streaming_distribution(st, ctx, &u, Some(&etag), other_reference)),
        (400, "IllegalUpdate")
    );
    let mut other_origin = changed.clone();
    other_origin.s3_origin.domain_name = s("other.s3.amazonaws.com");
    let u = id.clone();
    assert_eq!(
        w.refuse(|st, ctx| update_streaming_distribution(st, ctx, &u, Some(&etag), other_origin)),
        (400, "IllegalUpdate")
    );

    let (c, u) = (changed.clone(), id.clone());
    w.run(|st, ctx| update_streaming_distribution(st, ctx, &u, Some(&etag), c)).unwrap();
    let updated = &get_streaming_distribution(&w.state, &id).unwrap().record;
    assert_ne!(updated.etag, etag, "a new ETag for the new version");
    assert_eq!(updated.streaming_distribution_config, changed, "the whole config replaced");
    assert_eq!(updated.tags, [tag("a", "1")], "tags are kept");
    let etag = updated.etag.clone();

    let u = id.clone();
    assert_eq!(
        w.refuse(|st, ctx| delete_streaming_distribution(st, ctx, &u, Some(&etag))),
        (409, "StreamingDistributionNotDisabled")
    );
    let mut disabled = changed.clone();
    disabled.enabled = false;
    let u = id.clone();
    w.run(|st, ctx| update_streaming_distribution(st, ctx, &u, Some(&etag), disabled)).unwrap();
    let u = id.clone();
    assert_eq!(
        w.refuse(|st, ctx| delete_streaming_distribution(st, ctx, &u, Some(&etag))),
        (412, "PreconditionFailed")
    );
    let u = id.clone();
    assert_eq!(w.refuse(|st, ctx| delete_streaming_distribution(st, ctx, &u, None)), (400, "InvalidIfMatchVersion"));
    let etag = get_streaming_distribution(&w.state, &id).unwrap().record.etag.clone();
    let u = id.clone();
    w.run(|st, ctx| delete_streaming_distribution(st, ctx, &u, Some(&etag))).unwrap();
    assert_eq!(get_streaming_distribution(&w.state, &id).unwrap_err().code, "NoSuchStreamingDistribution");
    let u = id.clone();
    assert_eq!(
        w.refuse(|st, ctx| delete_streaming_distribution(st, ctx, &u, Some(&etag))),
        (404, "NoSuchStreamingDistribution")
    );
}

#[test]
fn web_distribution_lifecycle() {
    let mut w = World::new();
    let id = w.run(|st, c| create_distribution(st, c, web_config("w1", &[]), vec![])).unwrap();
    let record = get_distribution(&w.state, &id).unwrap().record.clone();
    assert!(record.domain_name.starts_with('d'));
    assert_eq!(record.arn, format!("arn:aws:cloudfront::{ACCOUNT}:distribution/{id}"));
    assert_eq!(w.state.web[&id].version, w.seq);

    let mut changed = web_config("w1", &["www.example.com"]);
    changed.comment = s("v2");
    let (c, u) = (changed.clone(), id.clone());
    assert_eq!(w.refuse(|st, ctx| update_distribution(st, ctx, &u, None, c)), (400, "InvalidIfMatchVersion"));
    let (c, u) = (changed.clone(), id.clone());
    assert_eq!(w.refuse(|st, ctx| update_distribution(st, ctx, &u, Some("stale"), c)), (412, "PreconditionFailed"));
    let u = id.clone();
    let moved = web_config("w2", &[]);
    assert_eq!(w.refuse(|st, ctx| update_distribution(st, ctx, &u, Some(&record.etag), moved)), (400, "IllegalUpdate"));
    let (c, u) = (changed.clone(), id.clone());
    w.run(|st, ctx| update_distribution(st, ctx, &u, Some(&record.etag), c)).unwrap();
    let updated = get_distribution(&w.state, &id).unwrap().record.clone();
    assert_eq!((updated.distribution_config.clone(), updated.status), (changed.clone(), Status::InProgress));
    assert_ne!(updated.etag, record.etag);

    let u = id.clone();
    assert_eq!(
        w.refuse(|st, ctx| delete_distribution(st, ctx, &u, Some(&updated.etag))),
        (409, "DistributionNotDisabled")
    );
    let mut disabled = changed;
    disabled.enabled = false;
    let u = id.clone();
    w.run(|st, ctx| update_distribution(st, ctx, &u, Some(&updated.etag), disabled)).unwrap();
    let etag = get_distribution(&w.state, &id).unwrap().record.etag.clone();
    let u = id.clone();
    w.run(|st, ctx| delete_distribution(st, ctx, &u, Some(&etag))).unwrap();
    assert_eq!(get_distribution(&w.state, &id).unwrap_err().status, 404);
}

#[test]
fn a_reused_caller_reference_names_the_existing_distribution() {
    let mut w = World::new();
    let s1 = w.run(|st, c| create_streaming_distribution(st, c, streaming_config("same", &[]), vec![])).unwrap();
    let e = w.plan(|st, c| create_streaming_distribution(st, c, streaming_config("same", &[]), vec![])).unwrap_err();
    assert_eq!((e.status, e.code), (409, "StreamingDistributionAlreadyExists"));
    assert!(e.message.contains(&s1), "{e}");
    // The two kinds keep their own caller references.
    let d1 = w.run(|st, c| create_distribution(st, c, web_config("same", &[]), vec![])).unwrap();
    let e = w.plan(|st, c| create_distribution(st, c, web_config("same", &[]), vec![])).unwrap_err();
    assert_eq!((e.status, e.code), (409, "DistributionAlreadyExists"));
    assert!(e.message.contains(&d1), "{e}");
    assert_ne!(s1, d1);
}

#[test]
fn cnames_are_unique_across_streaming_and_web_distributions() {
    let mut w = World::new();
    let s1 = w
        .run(|st, c| create_streaming_distribution(st, c, streaming_config("s1", &["a.example.com"]), vec![]))
        .unwrap();
    assert_eq!(
        w.refuse(|st, c| create_distribution(st, c, web_config("w1", &["a.example.com"]), vec![])),
        (409, "CNAMEAlreadyExists")
    );
    // A wildcard is a name of its own; an identical wildcard clashes.
    w.run(|st, c| create_distribution(st, c, web_config("w2", &["*.example.com"]), vec![])).unwrap();
    assert_eq!(
        w.refuse(|st, c| create_distribution(st, c, web_config("w3", &["*.example.com"]), vec![])),
        (409, "CNAMEAlreadyExists")
    );
    assert_eq!(
        w.refuse(|st, c| create_streaming_distribution(st, c, streaming_config("s2", &["a.example.com"]), vec![])),
        (409, "CNAMEAlreadyExists")
    );
    // A distribution keeps its own aliases through an update.
    let etag = w.state.streaming[&s1].record.etag.clone();
    let u = s1.clone();
    w.run(|st, c| {
        update_streaming_distribution(
            st,
            c,
            &u,
            Some(&etag),
            streaming_config("s1", &["a.example.com", "b.example.com"]),
        )
    })
    .unwrap();
}

#[test]
fn origin_access_identities_are_checked_where_used_and_kept_while_used() {
    let mut w = World::new();
    let mut config = streaming_config("s1", &[]);
    config.s3_origin.origin_access_identity = s("origin-access-identity/cloudfront/E74FTE3AEXAMPLE");
    let c = config.clone();
    assert_eq!(
        w.refuse(|st, ctx| create_streaming_distribution(st, ctx, c, vec![])),
        (400, "InvalidOriginAccessIdentity")
    );

    let oai = w.run(|st, ctx| create_origin_access_identity(st, ctx, oai_config("o1"))).unwrap();
    assert_eq!(
        w.refuse(|st, ctx| create_origin_access_identity(st, ctx, oai_config("o1"))),
        (409, "CloudFrontOriginAccessIdentityAlreadyExists")
    );
    config.s3_origin.origin_access_identity = format!("origin-access-identity/cloudfront/{oai}");
    let streaming = w.run(|st, ctx| create_streaming_distribution(st, ctx, config, vec![])).unwrap();
    let etag = get_origin_access_identity(&w.state, &oai).unwrap().record.etag.clone();
    let o = oai.clone();
    assert_eq!(
        w.refuse(|st, ctx| delete_origin_access_identity(st, ctx, &o, Some(&etag))),
        (409, "CloudFrontOriginAccessIdentityInUse")
    );
    let mut web = web_config("w1", &[]);
    web.origins[0].s3_origin_config.as_mut().unwrap().origin_access_identity =
        format!("origin-access-identity/cloudfront/{oai}");
    w.run(|st, ctx| create_distribution(st, ctx, web, vec![])).unwrap();
    // Still in use by the web distribution once the streaming one is gone.
    w.state.streaming.remove(&streaming);
    let o = oai.clone();
    assert_eq!(
        w.refuse(|st, ctx| delete_origin_access_identity(st, ctx, &o, Some(&etag))),
        (409, "CloudFrontOriginAccessIdentityInUse")
    );
    w.state.web.clear();

    let o = oai.clone();
    assert_eq!(
        w.refuse(|st, ctx| update_origin_access_identity(st, ctx, &o, Some(&etag), oai_config("other"))),
        (400, "IllegalUpdate")
    );
    let o = oai.clone();
    assert_eq!(
        w.refuse(|st, ctx| update_origin_access_identity(st, ctx, &o, None, oai_config("o1"))),
        (400, "InvalidIfMatchVersion")
    );
    let o = oai.clone();
    let mut comment = oai_config("o1");
    comment.comment = s("new comment");
    w.run(|st, ctx| update_origin_access_identity(st, ctx, &o, Some(&etag), comment)).unwrap();
    let updated = get_origin_access_identity(&w.state, &oai).unwrap().record.clone();
    assert_eq!(updated.config.comment, "new comment");
    assert_ne!(updated.etag, etag);
    let o = oai.clone();
    assert_eq!(
        w.refuse(|st, ctx| delete_origin_access_identity(st, ctx, &o, Some(&etag))),
        (412, "PreconditionFailed")
    );
    let o = oai.clone();
    w.run(|st, ctx| delete_origin_access_identity(st, ctx, &o, Some(&updated.etag))).unwrap();
    assert_eq!(get_origin_access_identity(&w.state, &oai).unwrap_err().code, "NoSuchCloudFrontOriginAccessIdentity");
}

#[test]
fn origin_access_controls_are_checked_where_used_and_kept_while_used() {
    let mut w = World::new();
    let mut web = web_config("w1", &[]);
    web.origins[0].origin_access_control_id = Some(s("EIAP8PEXAMPLE"));
    let c = web.clone();
    assert_eq!(w.refuse(|st, ctx| create_distribution(st, ctx, c, vec![])), (404, "NoSuchOriginAccessControl"));

    let oac = w.run(|st, ctx| create_origin_access_control(st, ctx, oac_config("media"))).unwrap();
    assert_eq!(
        w.refuse(|st, ctx| create_origin_access_control(st, ctx, oac_config("media"))),
        (409, "OriginAccessControlAlreadyExists")
    );
    let other = w.run(|st, ctx| create_origin_access_control(st, ctx, oac_config("other"))).unwrap();
    web.origins[0].origin_access_control_id = Some(oac.clone());
    w.run(|st, ctx| create_distribution(st, ctx, web, vec![])).unwrap();

    let etag = get_origin_access_control(&w.state, &oac).unwrap().record.etag.clone();
    let o = oac.clone();
    assert_eq!(
        w.refuse(|st, ctx| delete_origin_access_control(st, ctx, &o, Some(&etag))),
        (409, "OriginAccessControlInUse")
    );
    // Renaming onto another OAC's name clashes; keeping its own name does not.
    let o = other.clone();
    let other_etag = w.state.origin_access_controls[&other].record.etag.clone();
    assert_eq!(
        w.refuse(|st, ctx| update_origin_access_control(st, ctx, &o, Some(&other_etag), oac_config("media"))),
        (409, "OriginAccessControlAlreadyExists")
    );
    let o = other.clone();
    let mut described = oac_config("other");
    described.description = Some(s("d"));
    w.run(|st, ctx| update_origin_access_control(st, ctx, &o, Some(&other_etag), described)).unwrap();
    let etag = w.state.origin_access_controls[&other].record.etag.clone();
    let o = other.clone();
    w.run(|st, ctx| delete_origin_access_control(st, ctx, &o, Some(&etag))).unwrap();
    assert_eq!(get_origin_access_control(&w.state, &other).unwrap_err().code, "NoSuchOriginAccessControl");
}

#[test]
fn public_keys_must_be_pem_rsa_and_keep_their_key() {
    let mut w = World::new();
    for (bad, why) in [
        (s("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"), "PEM"),
        (RSA_PUBLIC_KEY.replace("MIIB", "M!IB"), "base64"),
        (s(EC_PUBLIC_KEY), "RSA"),
        (RSA_PUBLIC_KEY.replace("-----END PUBLIC KEY-----", ""), "PEM"),
    ] {
        let mut config = public_key_config("k", "key");
        config.encoded_key = bad;
        let e = w.plan(|st, c| create_public_key(st, c, config)).unwrap_err();
        assert_eq!((e.status, e.code), (400, "InvalidArgument"), "{why}");
        assert!(e.message.starts_with("EncodedKey") && e.message.contains(why), "{why}: {e}");
    }
    let id = w.run(|st, c| create_public_key(st, c, public_key_config("k1", "key"))).unwrap();
    assert!(id.starts_with('K') && id.len() == 14, "{id}");
    assert_eq!(
        w.refuse(|st, c| create_public_key(st, c, public_key_config("k1", "again"))),
        (409, "PublicKeyAlreadyExists")
    );

    let etag = get_public_key(&w.state, &id).unwrap().record.etag.clone();
    let mut other_key = public_key_config("k1", "key");
    other_key.encoded_key = RSA_PUBLIC_KEY.replace("SwIDAQAB", "SwIDAQAC");
    let k = id.clone();
    assert_eq!(
        w.refuse(|st, c| update_public_key(st, c, &k, Some(&etag), other_key)),
        (400, "CannotChangeImmutablePublicKeyFields")
    );
    let k = id.clone();
    assert_eq!(
        w.refuse(|st, c| update_public_key(st, c, &k, Some(&etag), public_key_config("k2", "key"))),
        (400, "IllegalUpdate")
    );
    let k = id.clone();
    w.run(|st, c| update_public_key(st, c, &k, Some(&etag), public_key_config("k1", "renamed"))).unwrap();
    let record = get_public_key(&w.state, &id).unwrap().record.clone();
    assert_eq!(record.config.name, "renamed");
    assert!(record.last_modified_time > record.created_time);
    let k = id.clone();
    w.run(|st, c| delete_public_key(st, c, &k, Some(&record.etag))).unwrap();
    assert_eq!(get_public_key(&w.state, &id).unwrap_err().code, "NoSuchPublicKey");
}

#[test]
fn key_groups_name_existing_keys_and_are_kept_while_trusted() {
    let mut w = World::with_quotas(Quotas { public_keys_per_key_group: 2, ..Quotas::default() });
    let k1 = w.run(|st, c| create_public_key(st, c, public_key_config("k1", "one"))).unwrap();
    let k2 = w.run(|st, c| create_public_key(st, c, public_key_config("k2", "two"))).unwrap();
    let k3 = w.run(|st, c| create_public_key(st, c, public_key_config("k3", "three"))).unwrap();
    assert_eq!(
        w.refuse(|st, c| create_key_group(st, c, key_group_config("g", &["KNOSUCHKEY0000"]))),
        (404, "NoSuchPublicKey")
    );
    let (a, b, d) = (k1.clone(), k2.clone(), k3.clone());
    assert_eq!(
        w.refuse(|st, c| create_key_group(st, c, key_group_config("g", &[&a, &b, &d]))),
        (400, "TooManyPublicKeysInKeyGroup")
    );
    let a = k1.clone();
    assert_eq!(w.refuse(|st, c| create_key_group(st, c, key_group_config("g", &[&a, &a]))), (400, "InvalidArgument"));
    let a = k1.clone();
    let group = w.run(|st, c| create_key_group(st, c, key_group_config("g", &[&a]))).unwrap();
    assert_eq!(group.len(), 36, "a UUID: {group}");
    let b = k2.clone();
    assert_eq!(w.refuse(|st, c| create_key_group(st, c, key_group_config("g", &[&b]))), (409, "KeyGroupAlreadyExists"));

    let etag = w.state.public_keys[&k1].record.etag.clone();
    let k = k1.clone();
    assert_eq!(w.refuse(|st, c| delete_public_key(st, c, &k, Some(&etag))), (409, "PublicKeyInUse"));

    let mut web = web_config("w1", &[]);
    web.default_cache_behavior.trusted_key_groups =
        Some(TrustedKeyGroups { enabled: true, items: vec![s("no-such-group")] });
    let c = web.clone();
    assert_eq!(w.refuse(|st, ctx| create_distribution(st, ctx, c, vec![])), (400, "TrustedKeyGroupDoesNotExist"));
    web.default_cache_behavior.trusted_key_groups =
        Some(TrustedKeyGroups { enabled: true, items: vec![group.clone()] });
    let dist = w.run(|st, ctx| create_distribution(st, ctx, web.clone(), vec![])).unwrap();
    let group_etag = get_key_group(&w.state, &group).unwrap().record.etag.clone();
    let g = group.clone();
    assert_eq!(w.refuse(|st, c| delete_key_group(st, c, &g, Some(&group_etag))), (409, "ResourceInUse"));

    // Update: the group now holds k2 only, so k1 may go.
    let (g, b) = (group.clone(), k2.clone());
    assert_eq!(
        w.refuse(|st, c| update_key_group(st, c, &g, None, key_group_config("g", &[&b]))),
        (400, "InvalidIfMatchVersion")
    );
    let (g, b) = (group.clone(), k2.clone());
    w.run(|st, c| update_key_group(st, c, &g, Some(&group_etag), key_group_config("g", &[&b]))).unwrap();
    let k = k1.clone();
    w.run(|st, c| delete_public_key(st, c, &k, Some(&etag))).unwrap();

    let dist_etag = w.state.web[&dist].record.etag.clone();
    web.default_cache_behavior.trusted_key_groups = None;
    let d = dist.clone();
    w.run(|st, ctx| update_distribution(st, ctx, &d, Some(&dist_etag), web)).unwrap();
    let group_etag = get_key_group(&w.state, &group).unwrap().record.etag.clone();
    let g = group.clone();
    w.run(|st, c| delete_key_group(st, c, &g, Some(&group_etag))).unwrap();
    assert_eq!(get_key_group(&w.state, &group).unwrap_err().code, "NoSuchResource");
}

#[test]
fn quotas_refuse_one_more() {
    let one = Quotas {
        streaming_distributions: 1,
        web_distributions: 1,
        public_keys: 1,
        key_groups: 1,
        public_keys_per_key_group: 1,
        origin_access_identities: 1,
        origin_access_controls: 1,
        invalidation_paths_in_progress: 3000,
        invalidation_wildcard_paths_in_progress: 15,
    };
    let mut w = World::with_quotas(one);
    w.run(|st, c| create_streaming_distribution(st, c, streaming_config("s1", &[]), vec![])).unwrap();
    assert_eq!(
        w.refuse(|st, c| create_streaming_distribution(st, c, streaming_config("s2", &[]), vec![])),
        (400, "TooManyStreamingDistributions")
    );
    w.run(|st, c| create_distribution(st, c, web_config("w1", &[]), vec![])).unwrap();
    assert_eq!(
        w.refuse(|st, c| create_distribution(st, c, web_config("w2", &[]), vec![])),
        (400, "TooManyDistributions")
    );
    let key = w.run(|st, c| create_public_key(st, c, public_key_config("k1", "one"))).unwrap();
    assert_eq!(w.refuse(|st, c| create_public_key(st, c, public_key_config("k2", "two"))), (400, "TooManyPublicKeys"));
    let k = key.clone();
    w.run(|st, c| create_key_group(st, c, key_group_config("g1", &[&k]))).unwrap();
    let k = key.clone();
    assert_eq!(w.refuse(|st, c| create_key_group(st, c, key_group_config("g2", &[&k]))), (400, "TooManyKeyGroups"));
    w.run(|st, c| create_origin_access_identity(st, c, oai_config("o1"))).unwrap();
    assert_eq!(
        w.refuse(|st, c| create_origin_access_identity(st, c, oai_config("o2"))),
        (400, "TooManyCloudFrontOriginAccessIdentities")
    );
    w.run(|st, c| create_origin_access_control(st, c, oac_config("c1"))).unwrap();
    assert_eq!(
        w.refuse(|st, c| create_origin_access_control(st, c, oac_config("c2"))),
        (400, "TooManyOriginAccessControls")
    );
    assert_eq!(Quotas::default().web_distributions, 200);
}

#[test]
fn invalidation_paths_follow_cloudfronts_rules() {
    let mut w = World::with_quotas(Quotas { invalidation_paths_in_progress: 3, ..Quotas::default() });
    let d = w.run(|st, c| create_distribution(st, c, web_config("w1", &[]), vec![])).unwrap();
    for (paths, expected) in [
        (vec![], (400, "InvalidArgument")),
        (vec!["index.html"], (400, "InvalidArgument")),
        (vec!["/a*b"], (400, "InvalidArgument")),
        (vec!["/a**"], (400, "InvalidArgument")),
        (vec!["/a", "/b", "/c", "/d"], (413, "BatchTooLarge")),
    ] {
        let (dist, b) = (d.clone(), batch("c", &paths));
        assert_eq!(w.refuse(|st, c| create_invalidation(st, c, &dist, b)), expected, "{paths:?}");
    }
    let long = format!("/{}", "a".repeat(4000));
    let (dist, b) = (d.clone(), batch("c", &[&long]));
    assert_eq!(w.refuse(|st, c| create_invalidation(st, c, &dist, b)), (400, "InvalidArgument"));
    let (dist, b) = (d.clone(), batch("c", &["/index.html", "/images/*", "/*"]));
    let id = w.run(|st, c| create_invalidation(st, c, &dist, b)).unwrap();
    assert!(id.starts_with('I'), "{id}");
    assert_eq!(get_invalidation(&w.state, &d, &id).unwrap().record.status, InvalidationStatus::InProgress);
    assert_eq!(get_invalidation(&w.state, &d, "INOSUCH").unwrap_err().code, "NoSuchInvalidation");
    assert_eq!(get_invalidation(&w.state, "ENOSUCH", &id).unwrap_err().code, "NoSuchDistribution");
    let b = batch("x", &["/a"]);
    assert_eq!(w.refuse(|st, c| create_invalidation(st, c, "ENOSUCH", b)), (404, "NoSuchDistribution"));
}

#[test]
fn invalidation_caller_references_replay_and_in_progress_limits_hold_until_completed() {
    let quotas =
        Quotas { invalidation_paths_in_progress: 3, invalidation_wildcard_paths_in_progress: 2, ..Quotas::default() };
    let mut w = World::with_quotas(quotas);
    let d = w.run(|st, c| create_distribution(st, c, web_config("w1", &[]), vec![])).unwrap();
    let (dist, b) = (d.clone(), batch("c1", &["/a", "/b", "/x/*"]));
    let first = w.run(|st, c| create_invalidation(st, c, &dist, b)).unwrap();
    assert_eq!(w.state.web[&d].record.in_progress_invalidation_batches, 1);

    // The same batch again: the original, and nothing to commit.
    let (dist, b) = (d.clone(), batch("c1", &["/x/*", "/a", "/b"]));
    let replay = w.plan(|st, c| create_invalidation(st, c, &dist, b)).unwrap();
    assert_eq!((replay.change, replay.id), (None, first.clone()));
    let (dist, b) = (d.clone(), batch("c1", &["/other"]));
    assert_eq!(w.refuse(|st, c| create_invalidation(st, c, &dist, b)), (409, "InvalidationBatchAlreadyExists"));

    let (dist, b) = (d.clone(), batch("c2", &["/c", "/d"]));
    assert_eq!(w.refuse(|st, c| create_invalidation(st, c, &dist, b)), (400, "TooManyInvalidationsInProgress"));
    let (dist, b) = (d.clone(), batch("c2", &["/y/*", "/z/*"]));
    assert_eq!(w.refuse(|st, c| create_invalidation(st, c, &dist, b)), (400, "TooManyInvalidationsInProgress"));
    let (dist, b) = (d.clone(), batch("c2", &["/c", "/y/*"]));
    let second = w.run(|st, c| create_invalidation(st, c, &dist, b)).unwrap();
    assert_eq!(w.state.web[&d].record.in_progress_invalidation_batches, 2);

    let (dist, i) = (d.clone(), first.clone());
    w.run(|st, c| complete_invalidation(st, c, &dist, &i)).unwrap();
    assert_eq!(w.state.invalidations[&d][&first].record.status, InvalidationStatus::Completed);
    assert_eq!(w.state.web[&d].record.in_progress_invalidation_batches, 1);
    let (dist, i) = (d.clone(), first.clone());
    assert_eq!(w.plan(|st, c| complete_invalidation(st, c, &dist, &i)).unwrap().change, None, "already completed");
    // Completed paths no longer count.
    let (dist, b) = (d.clone(), batch("c3", &["/d", "/e", "/z/*"]));
    w.run(|st, c| create_invalidation(st, c, &dist, b)).unwrap();
    assert!(w.state.invalidations[&d].contains_key(&second));

    // Deleting the distribution takes its invalidations along.
    let etag = w.state.web[&d].record.etag.clone();
    let mut disabled = web_config("w1", &[]);
    disabled.enabled = false;
    let dist = d.clone();
    w.run(|st, c| update_distribution(st, c, &dist, Some(&etag), disabled)).unwrap();
    let etag = w.state.web[&d].record.etag.clone();
    let dist = d.clone();
    w.run(|st, c| delete_distribution(st, c, &dist, Some(&etag))).unwrap();
    assert!(w.state.invalidations.is_empty());
}

#[test]
fn tags_by_arn_merge_and_remove_without_a_new_version() {
    let mut w = World::new();
    let s1 = w
        .run(|st, c| create_streaming_distribution(st, c, streaming_config("s1", &[]), vec![tag("team", "a")]))
        .unwrap();
    let d1 = w.run(|st, c| create_distribution(st, c, web_config("w1", &[]), vec![])).unwrap();
    let s_arn = w.state.streaming[&s1].record.arn.clone();
    let d_arn = w.state.web[&d1].record.arn.clone();
    let (etag, version) = (w.state.streaming[&s1].record.etag.clone(), w.state.streaming[&s1].version);

    let a = s_arn.clone();
    assert_eq!(w.run(|st, c| tag_resource(st, c, &a, vec![tag("team", "b"), tag("env", "prod")])).unwrap(), s1);
    assert_eq!(tags_of(&w.state, &s_arn).unwrap(), [tag("team", "b"), tag("env", "prod")]);
    assert_eq!(
        (&w.state.streaming[&s1].record.etag, w.state.streaming[&s1].version),
        (&etag, version),
        "not a new version"
    );
    let a = s_arn.clone();
    assert_eq!(
        w.plan(|st, c| tag_resource(st, c, &a, vec![tag("env", "prod")])).unwrap().change,
        None,
        "nothing changes"
    );
    let a = s_arn.clone();
    w.run(|st, c| untag_resource(st, c, &a, &[s("team"), s("absent")])).unwrap();
    assert_eq!(tags_of(&w.state, &s_arn).unwrap(), [tag("env", "prod")]);

    let a = d_arn.clone();
    assert_eq!(w.run(|st, c| tag_resource(st, c, &a, vec![tag("k", "v")])).unwrap(), d1);
    assert_eq!(tags_of(&w.state, &d_arn).unwrap(), [tag("k", "v")]);
    let a = d_arn.clone();
    assert_eq!(w.refuse(|st, c| tag_resource(st, c, &a, vec![tag("bad{key}", "v")])), (400, "InvalidTagging"));
    let a = d_arn.clone();
    let too_many: Vec<_> = (0..50).map(|i| tag(&format!("k{i}"), "v")).collect();
    assert_eq!(w.refuse(|st, c| tag_resource(st, c, &a, too_many)), (400, "InvalidTagging"), "51 in all");
    let unknown = format!("arn:aws:cloudfront::{ACCOUNT}:distribution/ENOSUCHDIST000");
    assert_eq!(tags_of(&w.state, &unknown).unwrap_err().code, "NoSuchResource");
    assert_eq!(w.refuse(|st, c| untag_resource(st, c, &unknown, &[s("k")])), (404, "NoSuchResource"));
    for bad in ["arn:aws:s3:::bucket", "arn:aws:cloudfront::acct:distribution/E1", "distribution/E1"] {
        let e = tags_of(&w.state, bad).unwrap_err();
        assert_eq!((e.code, e.message.starts_with("Resource")), ("InvalidArgument", true), "{bad}");
    }
}

#[test]
fn paging_walks_the_ids_in_order() {
    let items = [("E1", 1), ("E2", 2), ("E3", 3)];
    let first = page(items.iter().map(|(id, v)| (*id, *v)), None, Some("1")).unwrap();
    assert_eq!((first.marker.as_str(), first.max_items, first.is_truncated), ("", 1, true));
    assert_eq!((first.next_marker.as_deref(), first.items), (Some("E1"), vec![1]));
    let second = page(items.iter().map(|(id, v)| (*id, *v)), Some("E1"), Some("1")).unwrap();
    assert_eq!((second.marker.as_str(), second.next_marker.as_deref(), second.items), ("E1", Some("E2"), vec![2]));
    let last = page(items.iter().map(|(id, v)| (*id, *v)), Some("E2"), Some("1")).unwrap();
    assert_eq!((last.is_truncated, last.next_marker, last.items), (false, None, vec![3]));
    let all = page(items.iter().map(|(id, v)| (*id, *v)), None, None).unwrap();
    assert_eq!((all.max_items, all.is_truncated, all.next_marker, all.items), (100, false, None, vec![1, 2, 3]));
    let none = page(items.iter().map(|(id, v)| (*id, *v)), None, Some("0")).unwrap();
    assert_eq!((none.is_truncated, none.items.len()), (true, 0));
    for bad in ["101", "-1", "ten", "1.5"] {
        let e = page(items.iter().map(|(id, v)| (*id, *v)), None, Some(bad)).unwrap_err();
        assert_eq!((e.status, e.code), (400, "InvalidArgument"), "{bad}");
        assert!(e.message.starts_with("MaxItems") && e.message.contains("100"), "{e}");
    }
}
