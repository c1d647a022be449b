//! Writes the seed inputs of the `handshake` fuzz target (fuzz/seeds/handshake): complete
//! client handshakes of every kind the server answers, so that mutation starts past the C1
//! digest check (random bytes almost never pass it) and reaches Diffie-Hellman, RC4 set-up,
//! C2 and the bytes behind it.
//!
//! Run: `cargo run -p sf-rtmp --example handshake_seeds -- fuzz/seeds/handshake`.

use std::path::PathBuf;

use sf_rtmp::handshake::{ClientHandshake, ClientKind, ServerHandshake};

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("usage: handshake_seeds DIR"));
    std::fs::create_dir_all(&dir).expect("create the seed directory");
    // The fuzz input is a piece length byte (pieces of byte + 1 bytes), then client bytes.
    for (name, kind, piece) in [
        ("simple", ClientKind::Simple, 255u8),
        ("digest", ClientKind::Digest, 255),
        ("rtmpe6", ClientKind::Encrypted { version: 6 }, 255),
        ("rtmpe8", ClientKind::Encrypted { version: 8 }, 99),
        ("rtmpe9", ClientKind::Encrypted { version: 9 }, 0),
    ] {
        let mut client = ClientHandshake::with_rng_seed(kind, 5);
        let mut server = ServerHandshake::with_rng_seed(5);
        let c0c1 = client.poll_transmit().expect("C0+C1");
        server.handle_input(&c0c1).expect("server takes C0+C1");
        let response = server.poll_transmit().expect("S0+S1+S2");
        client.handle_input(&response).expect("client takes S0+S1+S2");
        let c2 = client.poll_transmit().expect("C2");
        let mut seed = vec![piece];
        seed.extend_from_slice(&c0c1);
        seed.extend_from_slice(&c2);
        // The start of a first chunk right behind C2, as clients send it.
        seed.extend_from_slice(b"\x03\x00\x00\x00\x00\x00\x10\x14\x00\x00\x00\x00\x02\x00\x07connect");
        std::fs::write(dir.join(name), seed).expect("write a seed");
    }
}
