//! RC4 throughput, the per-byte cost of RTMPE: every byte the server sends to an RTMPE or
//! RTMPTE viewer goes through [`Rc4Stream::apply`] once. Measured on the buffer sizes the
//! edge hands it (a 4 KiB chunk, a 64 KiB batch of paced media) and on small control
//! messages.
//!
//! Run: `cargo bench -p sf-rtmp --bench rc4`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use sf_rtmp::handshake::Rc4Stream;

fn rc4(c: &mut Criterion) {
    let mut group = c.benchmark_group("rc4_apply");
    for len in [64usize, 4 * 1024, 64 * 1024] {
        let mut stream = Rc4Stream::new(b"0123456789abcdef");
        let mut buf = vec![0x5au8; len];
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::from_parameter(len), &len, |b, _| {
            b.iter(|| {
                stream.apply(black_box(&mut buf));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, rc4);
criterion_main!(benches);
