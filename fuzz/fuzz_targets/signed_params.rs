//! What a viewer controls of a signed request, on arbitrary input: stream names with escaped
//! queries, query strings, `Cookie` headers and custom policies (the parsers of sf-sign), and
//! the whole check against a real key. Nothing may panic; a query without its signing
//! parameters has none left; a policy that parses matches its own resource pattern's
//! wildcards without blowing up. The input is read as lines: a stream name or query, cookie
//! header lines, and a policy (the rest).
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use libfuzzer_sys::fuzz_target;
use sf_sign::{
    KeyPair, KeyPairs, PolicySource, SELF_ACCOUNT, Verifier, Viewer, has_signing_params, parse_cookies, parse_query,
    split_stream_name, wildcard_match, without_signing_params,
};

/// The AWS documentation's example public key (crates/sign/src/testdata).
const KEY: &str = include_str!("../../crates/sign/src/testdata/aws-doc-example.pub.pem");

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let name = lines.next().unwrap_or_default();
    let cookies = lines.next().unwrap_or_default();
    let rest = lines.next().unwrap_or_default();

    let (stream, query) = split_stream_name(name);
    assert!(name.starts_with(stream));
    let query = query.unwrap_or_else(|| name.to_owned());
    let parsed = parse_query(&query);
    let stripped = without_signing_params(&query);
    assert!(!has_signing_params(&stripped), "{query:?} → {stripped:?} still has signing parameters");
    let _ = parse_cookies(cookies.split(';'));

    if let Ok(policy) = sf_sign::Policy::parse(rest.as_bytes()) {
        if let Some(resource) = &policy.resource {
            // A pattern of up to a few KB against a text of a few KB stays O(|p|·|t|).
            let _ = wildcard_match(resource, stream);
            let _ = wildcard_match(resource, rest);
        }
        let _ = policy.check_conditions(1_700_000_000, IpAddr::V4(Ipv4Addr::LOCALHOST));
    }

    if let Ok(Some(params)) = parsed {
        if let PolicySource::Custom(bytes) = &params.policy {
            let _ = sf_sign::Policy::parse(bytes);
        }
        let mut keys = KeyPairs::default();
        keys.insert(KeyPair::from_pem(&params.key_pair_id, SELF_ACCOUNT, KEY).expect("the example key"))
            .expect("one key");
        let verifier = Verifier::new(keys);
        let resources = vec![stream.to_owned()];
        let viewer = Viewer { now: 1_700_000_000, ip: IpAddr::V4(Ipv4Addr::LOCALHOST), resources: &resources };
        let trusted = vec![SELF_ACCOUNT.to_owned()];
        let _ = verifier.check_query(Some(&query), &trusted, &viewer);
    }
});
