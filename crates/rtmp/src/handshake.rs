//! The server side of the RTMP handshake: simple (echo), digest (FP9, schemes 0 and 1, S1 in
//! the client's scheme, valid S2 signature) and RTMPE (types 6, 8 and 9: Diffie-Hellman on the
//! 1024-bit Oakley group 2, RC4 keys from HMAC-SHA256, 1536-byte keystream skip).
//!
//! - [`digest`]: offset schemes, keys, C1/S1 digests and C2/S2 signatures (librtmp `handshake.h`,
//!   FFmpeg `libavformat/rtmpproto.c` and `rtmpdigest.c`).
//! - [`dh`]: the Diffie-Hellman group and key checks (RFC 2409 §6.2; librtmp `dh.h`, FFmpeg
//!   `libavformat/rtmpdh.c`).
//! - [`rc4`]: the RC4 streams and their keys (librtmp `InitRC4Encryption`, FFmpeg
//!   `libavformat/rtmpcrypt.c`).
//! - [`sig`]: XTEA/Blowfish signature encryption of types 8 and 9 (librtmp `rtmpe8_sig` and
//!   `rtmpe9_sig`, FFmpeg `ff_rtmpe_encrypt_sig`).
//! - [`respond`]: S0+S1+S2 from C0+C1, so that what FFmpeg's `rtmp_handshake` and librtmp's
//!   `HandShake` check passes.
//! - [`client`]: the client side ([`ClientHandshake`]), for tests and the load benchmark.
//!
//! This file holds the byte-level state machine: it collects C0+C1 and C2 from any split of
//! the input and never consumes a byte past C2.

mod client;
mod dh;
mod digest;
mod rc4;
mod respond;
mod sig;

#[cfg(test)]
mod tests;

use rand::SeedableRng;
use rand::rngs::StdRng;

pub use self::client::{ClientHandshake, ClientHandshakeError, ClientHandshakeOutcome, ClientKind};
use self::digest::{BLOCK_LEN, Block};
pub use self::rc4::{Rc4Pair, Rc4Stream};
use self::respond::{VERSION_PLAIN, VERSION_RTMPE, respond};
use self::sig::{VERSION_BLOWFISH, VERSION_XTEA};

/// What kind of handshake took place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeKind {
    /// C1 carried no digest (rtmpdump without SWF verification): S2 echoes C1.
    Simple,
    /// Flash Player 9 style digest handshake; `scheme` is 0 (digest at 8-based offset) or 1.
    Digest { scheme: u8 },
    /// RTMPE; `version` is the C0 byte (6, 8 or 9).
    Encrypted { scheme: u8, version: u8 },
}

/// Result of a completed handshake.
#[derive(Debug)]
pub struct HandshakeOutcome {
    pub kind: HandshakeKind,
    /// C1[4..8]: the client's version field (e.g. 9,0,124,2 for FFmpeg).
    pub client_version: [u8; 4],
    /// Present for RTMPE: every byte after C2 (in) and after S2 (out) goes through it.
    pub encryption: Option<Rc4Pair>,
}

/// Why a handshake failed (the connection should be closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    #[error("first byte 0x{0:02x} is not an RTMP handshake version (3, 6, 8 or 9)")]
    BadVersion(u8),
    #[error("RTMPE handshake without a valid client digest")]
    NoClientDigest,
    #[error("invalid Diffie-Hellman public key from the client")]
    BadPublicKey,
}

/// Length of C0+C1.
const C0C1_LEN: usize = 1 + BLOCK_LEN;

enum Stage {
    /// Collecting C0+C1 (in `ServerHandshake::c0c1`).
    ReadingC0C1,
    /// S0+S1+S2 are ready; C2 is skipped (checking it is optional: nginx-rtmp's
    /// `ngx_rtmp_handshake_recv` never looks at it, though librtmp's `SHandShake` does).
    ReadingC2 {
        remaining: usize,
    },
    Done,
    Failed(HandshakeError),
}

/// Server handshake state machine. Feed client bytes with [`ServerHandshake::handle_input`];
/// send what [`ServerHandshake::poll_transmit`] returns (S0+S1+S2, as soon as C0+C1 are in,
/// without waiting for C2); when [`ServerHandshake::is_complete`], take the outcome. Bytes
/// after C2 are not consumed: they are the first chunks (encrypted, for RTMPE).
pub struct ServerHandshake {
    /// Source of S1/S2 random bytes and of the DH private key.
    rng: StdRng,
    stage: Stage,
    c0c1: Vec<u8>,
    transmit: Option<Vec<u8>>,
    kind: HandshakeKind,
    client_version: [u8; 4],
    encryption: Option<Rc4Pair>,
}

impl Default for ServerHandshake {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerHandshake {
    /// A handshake that accepts every version a client may ask for: plain (3) and
    /// encrypted (6, 8, 9).
    pub fn new() -> Self {
        // ChaCha12 seeded from the OS: good enough for DH private keys.
        Self::with_rng(rand::make_rng())
    }

    /// Like [`ServerHandshake::new`], with every random byte (S1, S2, the DH private key)
    /// drawn from a generator seeded with `seed`, so that runs are reproducible. For tests
    /// and fuzzing only: a server must use [`ServerHandshake::new`].
    pub fn with_rng_seed(seed: u64) -> Self {
        Self::with_rng(StdRng::seed_from_u64(seed))
    }

    fn with_rng(rng: StdRng) -> Self {
        ServerHandshake {
            rng,
            stage: Stage::ReadingC0C1,
            c0c1: Vec::new(),
            transmit: None,
            kind: HandshakeKind::Simple,
            client_version: [0; 4],
            encryption: None,
        }
    }

    /// Consumes handshake bytes from the front of `input`; returns how many were used.
    /// Once complete it uses nothing more; after an error it keeps returning that error.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<usize, HandshakeError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match &mut self.stage {
                Stage::Failed(error) => return Err(error.clone()),
                Stage::Done => return Ok(used),
                Stage::ReadingC2 { remaining } => {
                    let take = rest.len().min(*remaining);
                    used += take;
                    *remaining -= take;
                    if *remaining == 0 {
                        self.stage = Stage::Done;
                    }
                    return Ok(used);
                }
                Stage::ReadingC0C1 => {
                    if rest.is_empty() {
                        return Ok(used);
                    }
                    if self.c0c1.is_empty() {
                        // Reject a bad C0 at once rather than after 1536 more bytes.
                        if let Err(error) = self.check_version(rest[0]) {
                            self.stage = Stage::Failed(error.clone());
                            return Err(error);
                        }
                        self.c0c1.reserve_exact(C0C1_LEN);
                    }
                    let take = rest.len().min(C0C1_LEN - self.c0c1.len());
                    self.c0c1.extend_from_slice(&rest[..take]);
                    used += take;
                    if self.c0c1.len() < C0C1_LEN {
                        return Ok(used);
                    }
                    if let Err(error) = self.answer() {
                        self.stage = Stage::Failed(error.clone());
                        return Err(error);
                    }
                }
            }
        }
    }

    fn check_version(&self, c0: u8) -> Result<(), HandshakeError> {
        match c0 {
            VERSION_PLAIN | VERSION_RTMPE | VERSION_XTEA | VERSION_BLOWFISH => Ok(()),
            other => Err(HandshakeError::BadVersion(other)),
        }
    }

    /// C0+C1 are complete: prepare S0+S1+S2 and move on to C2.
    fn answer(&mut self) -> Result<(), HandshakeError> {
        let c0c1 = std::mem::take(&mut self.c0c1);
        let mut c1: Block = [0; BLOCK_LEN];
        c1.copy_from_slice(&c0c1[1..]);
        let response = respond(c0c1[0], &c1, &mut self.rng)?;
        self.client_version = [c1[4], c1[5], c1[6], c1[7]];
        self.kind = response.kind;
        self.encryption = response.encryption;
        self.transmit = Some(response.bytes);
        self.stage = Stage::ReadingC2 { remaining: BLOCK_LEN };
        Ok(())
    }

    /// Bytes to send to the client, once.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.take()
    }

    /// True once C2 has been read.
    pub fn is_complete(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// The outcome; call once [`ServerHandshake::is_complete`].
    ///
    /// # Panics
    /// If the handshake is not complete.
    pub fn into_outcome(self) -> HandshakeOutcome {
        assert!(self.is_complete(), "ServerHandshake::into_outcome before the handshake completed");
        HandshakeOutcome { kind: self.kind, client_version: self.client_version, encryption: self.encryption }
    }
}

impl std::fmt::Debug for ServerHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerHandshake")
    }
}
