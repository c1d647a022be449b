//! The client side of the RTMP handshake, for tests and the load benchmark: simple (C1
//! without a digest), digest (FP9, as FFmpeg `rtmp://` sends it) and RTMPE (types 6, 8 and
//! 9, as FFmpeg and rtmpdump `rtmpe://` send it). It checks what a strict client checks
//! (FFmpeg's `rtmp_handshake`, librtmp's `HandShake`): S0, the S1 digest, the S2 signature
//! and the server's DH key.
//!
//! Sans-IO like [`ServerHandshake`](super::ServerHandshake): send what
//! [`ClientHandshake::poll_transmit`] returns (C0+C1 at once, C2 after S0+S1+S2), feed server
//! bytes to [`ClientHandshake::handle_input`], and once [`ClientHandshake::is_complete`] take
//! the outcome. Bytes after S2 are not consumed (for RTMPE they are already encrypted).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::dh::{self, KEY_LEN, KeyPair};
use super::digest::{
    self, BLOCK_LEN, Block, DIGEST_LEN, Digest, FMS_KEY, FMS_PARTIAL_KEY, FP_KEY, FP_PARTIAL_KEY, SIGNATURE_POS, Scheme,
};
use super::rc4::{Rc4Pair, unpadded_secret};
use super::respond::{RESPONSE_LEN, VERSION_PLAIN, VERSION_RTMPE};
use super::sig::{self, VERSION_BLOWFISH, VERSION_XTEA};

/// C1[4..8] of a digest handshake: FFmpeg's `rtmp://` client version
/// (`RTMP_CLIENT_VER1..4` in `libavformat/rtmp.h`).
const DIGEST_CLIENT_VERSION: [u8; 4] = [9, 0, 124, 2];
/// C1[4..8] of an RTMPE handshake: what FFmpeg (`rtmp_handshake`) and librtmp
/// (`HandShake`) send for `rtmpe://`.
const RTMPE_CLIENT_VERSION: [u8; 4] = [128, 0, 3, 2];

/// Which handshake the client offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    /// C0 = 3 and a C1 without a digest (zero version field), like rtmpdump without SWF
    /// verification: the server answers with the echo handshake.
    Simple,
    /// C0 = 3 and a C1 with a digest (scheme 0), like FFmpeg `rtmp://` and Flash Player.
    Digest,
    /// RTMPE: C0 = `version` (6, 8 or 9), a digest and a DH public key in scheme 1, like
    /// FFmpeg and rtmpdump `rtmpe://`.
    Encrypted { version: u8 },
}

/// Why a client handshake failed (the connection should be closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientHandshakeError {
    #[error("RTMPE version {0} is not 6, 8 or 9")]
    UnsupportedVersion(u8),
    #[error("the server answered version 0x{received:02x} to C0 = {sent}")]
    BadVersion { sent: u8, received: u8 },
    #[error("S1 carries no valid server digest")]
    NoServerDigest,
    #[error("the S2 signature does not match C1")]
    BadSignature,
    #[error("invalid Diffie-Hellman public key from the server")]
    BadPublicKey,
}

/// Result of a completed client handshake.
#[derive(Debug)]
pub struct ClientHandshakeOutcome {
    /// S1[4..8]: the server's version field (zero for the echo handshake).
    pub server_version: [u8; 4],
    /// The scheme (0 or 1) of the digest found in S1, when the server sent one.
    pub server_scheme: Option<u8>,
    /// Present for RTMPE: `encrypt` covers every byte after C2 (client → server), `decrypt`
    /// every byte after S2 (server → client).
    pub encryption: Option<Rc4Pair>,
}

enum Stage {
    /// Collecting S0+S1+S2 (in `ClientHandshake::response`).
    ReadingResponse,
    /// C2 is ready (or sent); nothing more to read.
    Done,
    Failed(ClientHandshakeError),
}

/// Client handshake state machine; see the module documentation.
pub struct ClientHandshake {
    c0: u8,
    /// Source of the C2 random bytes.
    rng: StdRng,
    /// Our C1 digest (digest and RTMPE handshakes).
    digest: Option<Digest>,
    dh: Option<KeyPair>,
    stage: Stage,
    response: Vec<u8>,
    transmit: Option<Vec<u8>>,
    server_version: [u8; 4],
    server_scheme: Option<u8>,
    encryption: Option<Rc4Pair>,
    /// Key RC4 with the "value then zeros" form of a secret that starts with a zero byte,
    /// like librtmp built with OpenSSL and FFmpeg built with GMP (`libavformat/rtmpdh.c`); tests
    /// only.
    unpadded_secret: bool,
    /// The shared secret (RTMPE), kept for tests.
    #[cfg(test)]
    secret: Option<[u8; KEY_LEN]>,
}

impl ClientHandshake {
    /// A client offering `kind`, with random bytes (C1, C2, the DH private key) from the OS.
    pub fn new(kind: ClientKind) -> Self {
        Self::with_rng(kind, None, rand::make_rng())
    }

    /// Like [`ClientHandshake::new`], with every random byte drawn from a generator seeded
    /// with `seed`, so that runs are reproducible.
    pub fn with_rng_seed(kind: ClientKind, seed: u64) -> Self {
        Self::with_rng(kind, None, StdRng::seed_from_u64(seed))
    }

    /// Like [`ClientHandshake::with_rng_seed`], with the digest (and DH key) placed in
    /// `scheme` rather than the kind's usual one (tests).
    #[cfg(test)]
    pub(crate) fn with_scheme(kind: ClientKind, scheme: Scheme, seed: u64) -> Self {
        Self::with_rng(kind, Some(scheme), StdRng::seed_from_u64(seed))
    }

    /// Keys RC4 with the unpadded form of a secret with a zero top byte (tests).
    #[cfg(test)]
    pub(crate) fn with_unpadded_secret(mut self) -> Self {
        self.unpadded_secret = true;
        self
    }

    /// The DH shared secret, once S1 has been read (RTMPE; tests).
    #[cfg(test)]
    pub(crate) fn shared_secret(&self) -> Option<&[u8; KEY_LEN]> {
        self.secret.as_ref()
    }

    fn with_rng(kind: ClientKind, scheme: Option<Scheme>, mut rng: StdRng) -> Self {
        let (c0, usual_scheme) = match kind {
            ClientKind::Simple | ClientKind::Digest => (VERSION_PLAIN, Scheme::Zero),
            ClientKind::Encrypted { version } => (version, Scheme::One),
        };
        let scheme = scheme.unwrap_or(usual_scheme);
        let supported = matches!(c0, VERSION_PLAIN | VERSION_RTMPE | VERSION_XTEA | VERSION_BLOWFISH);

        // C1: time 0, version, random bytes, then the DH key and the digest (as in librtmp's
        // `HandShake`).
        let mut c1 = [0u8; BLOCK_LEN];
        rng.fill_bytes(&mut c1[8..]);
        let mut dh = None;
        match kind {
            ClientKind::Simple => {}
            ClientKind::Digest => c1[4..8].copy_from_slice(&DIGEST_CLIENT_VERSION),
            ClientKind::Encrypted { .. } => {
                c1[4..8].copy_from_slice(&RTMPE_CLIENT_VERSION);
                if supported {
                    let pair = KeyPair::generate(&mut rng);
                    // The key goes in before the digest: the digest covers it.
                    let at = scheme.dh_offset(&c1);
                    c1[at..at + KEY_LEN].copy_from_slice(pair.public_key());
                    dh = Some(pair);
                }
            }
        }
        let digest = (kind != ClientKind::Simple).then(|| {
            digest::write_digest(&mut c1, scheme, FP_PARTIAL_KEY);
            let at = scheme.digest_offset(&c1);
            let mut own = [0u8; DIGEST_LEN];
            own.copy_from_slice(&c1[at..at + DIGEST_LEN]);
            own
        });
        let (stage, transmit) = if supported {
            let mut c0c1 = Vec::with_capacity(1 + BLOCK_LEN);
            c0c1.push(c0);
            c0c1.extend_from_slice(&c1);
            (Stage::ReadingResponse, Some(c0c1))
        } else {
            (Stage::Failed(ClientHandshakeError::UnsupportedVersion(c0)), None)
        };
        ClientHandshake {
            c0,
            rng,
            digest,
            dh,
            stage,
            response: Vec::new(),
            transmit,
            server_version: [0; 4],
            server_scheme: None,
            encryption: None,
            unpadded_secret: false,
            #[cfg(test)]
            secret: None,
        }
    }

    /// Bytes to send to the server: C0+C1 first, then C2 once S0+S1+S2 are in. Each once.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.take()
    }

    /// Consumes server bytes from the front of `input` (never past S2); returns how many were
    /// used. Once complete it uses nothing more; after an error it keeps returning that error.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<usize, ClientHandshakeError> {
        match &self.stage {
            Stage::Failed(error) => return Err(error.clone()),
            Stage::Done => return Ok(0),
            Stage::ReadingResponse => {}
        }
        if input.is_empty() {
            return Ok(0);
        }
        if self.response.is_empty() {
            // Reject a bad S0 at once rather than after 3072 more bytes.
            if let Err(error) = self.check_s0(input[0]) {
                self.stage = Stage::Failed(error.clone());
                return Err(error);
            }
            self.response.reserve_exact(RESPONSE_LEN);
        }
        let take = input.len().min(RESPONSE_LEN - self.response.len());
        self.response.extend_from_slice(&input[..take]);
        if self.response.len() == RESPONSE_LEN {
            let response = std::mem::take(&mut self.response);
            match self.answer(&response) {
                Ok(c2) => {
                    self.transmit = Some(c2);
                    self.stage = Stage::Done;
                }
                Err(error) => {
                    self.stage = Stage::Failed(error.clone());
                    return Err(error);
                }
            }
        }
        Ok(take)
    }

    /// S0 echoes C0 (FFmpeg's `rtmp_handshake` and librtmp's `HandShake` pick the signature
    /// cipher from it).
    fn check_s0(&self, s0: u8) -> Result<(), ClientHandshakeError> {
        if s0 == self.c0 { Ok(()) } else { Err(ClientHandshakeError::BadVersion { sent: self.c0, received: s0 }) }
    }

    /// Checks S0+S1+S2 and builds C2.
    fn answer(&mut self, response: &[u8]) -> Result<Vec<u8>, ClientHandshakeError> {
        let s0 = response[0];
        let mut s1: Block = [0; BLOCK_LEN];
        s1.copy_from_slice(&response[1..1 + BLOCK_LEN]);
        let s2 = &response[1 + BLOCK_LEN..];
        self.server_version.copy_from_slice(&s1[4..8]);
        let Some(own_digest) = self.digest else {
            // Simple: C2 echoes S1.
            return Ok(s1.to_vec());
        };
        // FFmpeg verifies the server only when S1[4] ≥ 3 (`rtmp_handshake`); an RTMPE server must.
        if s1[4] < 3 {
            if self.dh.is_some() {
                return Err(ClientHandshakeError::NoServerDigest);
            }
            return Ok(s1.to_vec());
        }
        let (scheme, server_digest) =
            digest::find_digest(&s1, FMS_PARTIAL_KEY).ok_or(ClientHandshakeError::NoServerDigest)?;
        self.server_scheme = Some(scheme.number());

        let key = digest::signature_key(&FMS_KEY, &own_digest);
        let mut expected = digest::signature(&key, &s2[..SIGNATURE_POS]);
        sig::encrypt_signature(s0, &key, &mut expected);
        if s2[SIGNATURE_POS..] != expected {
            return Err(ClientHandshakeError::BadSignature);
        }

        if let Some(own) = &self.dh {
            let at = scheme.dh_offset(&s1);
            let mut server_key = [0u8; KEY_LEN];
            server_key.copy_from_slice(&s1[at..at + KEY_LEN]);
            if !dh::is_valid_public_key(&server_key) {
                return Err(ClientHandshakeError::BadPublicKey);
            }
            let mut secret = own.shared_secret(&server_key);
            #[cfg(test)]
            {
                self.secret = Some(secret);
            }
            if self.unpadded_secret {
                secret = unpadded_secret(&secret).unwrap_or(secret);
            }
            self.encryption = Some(Rc4Pair::for_client(&secret, &server_key, own.public_key()));
        }

        let mut c2 = vec![0u8; BLOCK_LEN];
        self.rng.fill_bytes(&mut c2[..SIGNATURE_POS]);
        let key = digest::signature_key(&FP_KEY, &server_digest);
        let mut signature = digest::signature(&key, &c2[..SIGNATURE_POS]);
        sig::encrypt_signature(s0, &key, &mut signature);
        c2[SIGNATURE_POS..].copy_from_slice(&signature);
        Ok(c2)
    }

    /// True once S0+S1+S2 have been read and C2 has been taken with
    /// [`ClientHandshake::poll_transmit`].
    pub fn is_complete(&self) -> bool {
        matches!(self.stage, Stage::Done) && self.transmit.is_none()
    }

    /// The outcome; call once [`ClientHandshake::is_complete`].
    ///
    /// # Panics
    /// If the handshake is not complete.
    pub fn into_outcome(self) -> ClientHandshakeOutcome {
        assert!(self.is_complete(), "ClientHandshake::into_outcome before the handshake completed");
        ClientHandshakeOutcome {
            server_version: self.server_version,
            server_scheme: self.server_scheme,
            encryption: self.encryption,
        }
    }
}

impl std::fmt::Debug for ClientHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientHandshake").field("c0", &self.c0).finish_non_exhaustive()
    }
}
