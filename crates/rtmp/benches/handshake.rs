//! Server CPU per handshake: what each new viewer costs before any media flows. A plain
//! digest handshake (ffmpeg's `rtmp://`) is two HMAC-SHA256s; an RTMPE one (type 6) adds
//! the client key check (a Jacobi symbol), our key pair and the shared secret (two 256-bit
//! exponentiations mod the 1024-bit prime) and the RC4 set-up.
//!
//! Each iteration is the server's side only: C0+C1 in, S0+S1+S2 out, C2 in. The clients'
//! messages are made once, outside the timing.
//!
//! Run: `cargo bench -p sf-rtmp --bench handshake`.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use sf_rtmp::handshake::{ClientHandshake, ClientKind, ServerHandshake};

/// A client's C0+C1 and C2 for `kind`, from a full exchange with a server.
fn client_messages(kind: ClientKind) -> (Vec<u8>, Vec<u8>) {
    let mut client = ClientHandshake::with_rng_seed(kind, 1);
    let mut server = ServerHandshake::with_rng_seed(1);
    let c0c1 = client.poll_transmit().expect("C0+C1");
    server.handle_input(&c0c1).expect("server takes C0+C1");
    let response = server.poll_transmit().expect("S0+S1+S2");
    client.handle_input(&response).expect("client takes S0+S1+S2");
    let c2 = client.poll_transmit().expect("C2");
    (c0c1, c2)
}

fn server_handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("server_handshake");
    for (name, kind) in [("digest", ClientKind::Digest), ("rtmpe", ClientKind::Encrypted { version: 6 })] {
        let (c0c1, c2) = client_messages(kind);
        let mut seed = 0;
        group.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter_batched(
                || {
                    seed += 1;
                    ServerHandshake::with_rng_seed(seed)
                },
                |mut server| {
                    server.handle_input(black_box(&c0c1)).expect("C0+C1");
                    black_box(server.poll_transmit());
                    // C2 is not checked (no server does), but it is read.
                    server.handle_input(black_box(&c2)).expect("C2");
                    server.into_outcome()
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, server_handshake);
criterion_main!(benches);
