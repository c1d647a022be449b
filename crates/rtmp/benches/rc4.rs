//! RC4 throughput, the per-byte cost of RTMPE: every byte the server sends to an RTMPE or
//! RTMPTE viewer goes through [`Rc4Stream::apply`] once. Measured on the buffer sizes the
//! edge hands it (a 4 KiB chunk, a 64 KiB batch of paced media) and on small control
//! messages.
//!
//! A second group, `rc4_yardstick`, measures how fast RC4 can go at all on this machine, to
//! tell how much of RTMPE's cost any implementation could remove (docs/benchmarks.md): a
//! plain loop over a 32-bit state (one stream, the fastest single-stream form tried) and
//! four independent streams interleaved in one loop (what batching several viewers'
//! encryption together could reach). Both are checked against RustCrypto's output first.
//! They are yardsticks only; the server uses RustCrypto's `rc4`.
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

/// Textbook RC4 with the state held in 32-bit words (byte-sized state entries cost extra
/// partial-register work per step). No 1536-byte drop: the yardsticks time the keystream only.
struct Yardstick {
    s: [u32; 256],
    i: usize,
    j: usize,
}

impl Yardstick {
    fn new(key: &[u8]) -> Yardstick {
        let mut s: [u32; 256] = std::array::from_fn(|k| k as u32);
        let mut j = 0usize;
        for k in 0..256 {
            j = (j + s[k] as usize + key[k % key.len()] as usize) & 255;
            s.swap(k, j);
        }
        Yardstick { s, i: 0, j: 0 }
    }

    #[inline(always)]
    fn next(&mut self) -> u8 {
        self.i = (self.i + 1) & 255;
        let si = self.s[self.i];
        self.j = (self.j + si as usize) & 255;
        let sj = self.s[self.j];
        self.s[self.i] = sj;
        self.s[self.j] = si;
        self.s[((si + sj) & 255) as usize] as u8
    }
}

fn one_stream(stream: &mut Yardstick, buf: &mut [u8]) {
    for byte in buf {
        *byte ^= stream.next();
    }
}

fn four_streams(streams: &mut [Yardstick; 4], bufs: &mut [Vec<u8>; 4]) {
    let [s0, s1, s2, s3] = streams;
    let [b0, b1, b2, b3] = bufs;
    let len = b0.len().min(b1.len()).min(b2.len()).min(b3.len());
    for k in 0..len {
        b0[k] ^= s0.next();
        b1[k] ^= s1.next();
        b2[k] ^= s2.next();
        b3[k] ^= s3.next();
    }
}

/// The yardstick produces RC4's keystream: compare with RustCrypto after the same 1536-byte
/// drop that [`Rc4Stream`] applies.
fn check_yardstick() {
    let key = b"0123456789abcdef";
    let mut ours = Yardstick::new(key);
    one_stream(&mut ours, &mut [0u8; 1536]);
    let mut expected = [0u8; 4096];
    Rc4Stream::new(key).apply(&mut expected);
    let mut got = [0u8; 4096];
    one_stream(&mut ours, &mut got);
    assert_eq!(got, expected, "the yardstick is not RC4");
}

fn yardstick(c: &mut Criterion) {
    check_yardstick();
    const LEN: usize = 64 * 1024;
    let mut group = c.benchmark_group("rc4_yardstick");
    group.throughput(Throughput::Bytes(LEN as u64));
    let mut stream = Yardstick::new(b"0123456789abcdef");
    let mut buf = vec![0x5au8; LEN];
    group.bench_function("one_stream_u32", |b| b.iter(|| one_stream(&mut stream, black_box(&mut buf))));
    // Four streams of LEN / 4 bytes each: the same bytes per iteration as above.
    let mut streams: [Yardstick; 4] = std::array::from_fn(|k| Yardstick::new(&[k as u8 + 1; 16]));
    let mut bufs: [Vec<u8>; 4] = std::array::from_fn(|_| vec![0x5au8; LEN / 4]);
    group.bench_function("four_streams_interleaved_u32", |b| {
        b.iter(|| four_streams(&mut streams, black_box(&mut bufs)))
    });
    group.finish();
}

criterion_group!(benches, rc4, yardstick);
criterion_main!(benches);
