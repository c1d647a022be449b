//! The plain RTMP hot path as the cache sees it: a player reading 1000-byte tags one after
//! another from an object already in the memory tier.
//!
//! `cargo bench -p sf-cache --bench tag_reads` runs it under criterion. For instruction
//! counts, run the built bench binary under `valgrind --tool=callgrind` with
//! `SF_TAG_READ_PASSES=N` set: it then makes N passes over the object and exits, so the
//! difference between two pass counts, divided by the tags read, is the cost of one read.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use sf_cache::{CacheConfig, EdgeCache, LocalOrigin, ObjectHandle, Origin, OriginCache};

const OBJECT_SIZE: u64 = 16 << 20;
const TAG: u64 = 1000;

/// A cache over a directory holding one 16 MiB object, with the object read once (so every
/// block is in memory), and a handle to it.
fn warm_object(runtime: &tokio::runtime::Runtime) -> (tempfile::TempDir, Arc<OriginCache>, ObjectHandle) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("clip.flv"), vec![0x5au8; OBJECT_SIZE as usize]).expect("object");
    let config = CacheConfig { memory_bytes: 64 << 20, ..CacheConfig::default() };
    let cache = EdgeCache::new(config).origin_cache(Origin::Local(LocalOrigin::new(dir.path())));
    let object = runtime.block_on(async {
        let object = cache.open("clip.flv").await.expect("open");
        read_all(&object).await;
        object
    });
    (dir, cache, object)
}

/// Reads the whole object in tag-sized pieces; returns the number of reads.
async fn read_all(object: &ObjectHandle) -> u64 {
    let mut at = 0;
    let mut reads = 0;
    while at < OBJECT_SIZE {
        let tag = object.read_range(at, TAG).await.expect("read");
        at += black_box(tag).len() as u64;
        reads += 1;
    }
    reads
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let (_dir, _cache, object) = warm_object(&runtime);
    if let Ok(passes) = std::env::var("SF_TAG_READ_PASSES") {
        let passes: u64 = passes.parse().expect("SF_TAG_READ_PASSES: a number");
        let reads: u64 = (0..passes).map(|_| runtime.block_on(read_all(&object))).sum();
        println!("{reads} tag reads");
        return;
    }
    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("cache");
    group.throughput(Throughput::Bytes(OBJECT_SIZE));
    group.bench_function("1000-byte tags from a 16 MiB object in memory", |b| {
        b.iter(|| runtime.block_on(read_all(&object)))
    });
    group.finish();
    criterion.final_summary();
}
