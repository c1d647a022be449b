//! The cost of checking a signed stream name on every play: with the verified-signature cache
//! (what the edge does: after the first play of a name, a map lookup and the conditions), and
//! without it (a fresh, empty cache for every check: an RSA-SHA1 verification with a 2048-bit
//! key every time). The name is a canned-policy name signed with `openssl sha1 -sign`.
//!
//! Run: `cargo bench -p sf-sign --bench verify`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use sf_sign::{KeyPair, KeyPairs, SELF_ACCOUNT, Verifier, Viewer, rtmp_resources, split_stream_name};

const PUBLIC_KEY: &str = include_str!("data/bench-2048.pub.pem");
const SIGNED_NAME: &str = include_str!("data/bench-2048.signed-name.txt");

fn verifier(cache_capacity: usize) -> Verifier {
    let mut keys = KeyPairs::default();
    keys.insert(KeyPair::from_pem("APKABENCHMARK0000001", SELF_ACCOUNT, PUBLIC_KEY).unwrap()).unwrap();
    Verifier::with_cache_capacity(keys, cache_capacity)
}

fn verify(c: &mut Criterion) {
    let name = SIGNED_NAME.trim();
    let (path, query) = split_stream_name(name);
    let path = path.trim_start_matches("mp4:");
    let resources = rtmp_resources(path, &[path.to_owned()]);
    let trusted = [SELF_ACCOUNT.to_owned()];
    let viewer = Viewer { now: 1_800_000_000, ip: "198.51.100.7".parse().unwrap(), resources: &resources };
    let mut group = c.benchmark_group("signed_play_check");
    let cached = verifier(sf_sign::MAX_ENTRIES);
    cached.check_query(query.as_deref(), &trusted, &viewer).unwrap();
    group.bench_function("cached", |b| {
        b.iter(|| cached.check_query(black_box(query.as_deref()), &trusted, black_box(&viewer)).unwrap())
    });
    // The keys are parsed once; each check gets an empty cache (cloning the keys is a map of
    // one `Arc`).
    let keys = cached.keys().clone();
    group.bench_function("uncached_rsa_sha1_2048", |b| {
        b.iter(|| {
            let fresh = Verifier::with_cache_capacity(keys.clone(), 1);
            fresh.check_query(black_box(query.as_deref()), &trusted, black_box(&viewer)).unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
