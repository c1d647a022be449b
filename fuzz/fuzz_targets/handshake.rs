//! Arbitrary client bytes into a `ServerHandshake`, in arbitrary
//! pieces. Checks the contract: S0+S1+S2 (3073 bytes) come exactly once, and only after
//! C0+C1; nothing past C2 (1 + 1536 + 1536 bytes) is consumed; errors are sticky; and the
//! result does not depend on the split.
//!
//! Input layout: a piece length (1 byte, length = byte + 1), then the client's bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sf_rtmp::handshake::{HandshakeError, HandshakeKind, ServerHandshake};

const C0C1: usize = 1 + 1536;
const C0C1C2: usize = C0C1 + 1536;

#[derive(Debug, PartialEq)]
struct Run {
    consumed: usize,
    transmit: Option<Vec<u8>>,
    result: Result<Option<(HandshakeKind, [u8; 4], bool)>, HandshakeError>,
}

fn run(input: &[u8], piece: usize) -> Run {
    // A fixed seed keeps runs reproducible and comparable.
    let mut handshake = ServerHandshake::with_rng_seed(0);
    let mut consumed = 0;
    let mut transmit = None;
    for part in input.chunks(piece) {
        match handshake.handle_input(part) {
            Ok(used) => {
                assert!(used <= part.len());
                consumed += used;
                assert!(consumed <= C0C1C2);
                if used < part.len() {
                    assert!(handshake.is_complete(), "stopped early without completing");
                }
            }
            Err(error) => {
                assert_eq!(handshake.handle_input(part), Err(error.clone()), "errors are sticky");
                // How much of a failing call was used is unspecified: compare errors only.
                return Run { consumed: 0, transmit, result: Err(error) };
            }
        }
        if let Some(bytes) = handshake.poll_transmit() {
            assert!(transmit.is_none(), "transmitted twice");
            assert!(consumed >= C0C1, "answered before C0+C1");
            assert_eq!(bytes.len(), 1 + 2 * 1536);
            transmit = Some(bytes);
        }
    }
    assert_eq!(handshake.is_complete(), consumed == C0C1C2);
    let result = if handshake.is_complete() {
        assert_eq!(handshake.handle_input(b"more"), Ok(0));
        let outcome = handshake.into_outcome();
        let encrypted = matches!(outcome.kind, HandshakeKind::Encrypted { .. });
        assert_eq!(encrypted, outcome.encryption.is_some());
        Ok(Some((outcome.kind, outcome.client_version, encrypted)))
    } else {
        Ok(None)
    };
    Run { consumed, transmit, result }
}

fuzz_target!(|data: &[u8]| {
    let Some((&piece, input)) = data.split_first() else {
        return;
    };
    let whole = run(input, input.len().max(1));
    let split = run(input, usize::from(piece) + 1);
    assert_eq!(whole, split, "the input split changed the result");
});
