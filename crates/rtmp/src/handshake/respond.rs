//! Building S0+S1+S2 from C0+C1 so that both FFmpeg (`rtmp_handshake` in
//! `libavformat/rtmpproto.c`) and librtmp (`HandShake` in `handshake.h`) accept them.

use rand::Rng;

use super::dh::{self, KEY_LEN, KeyPair};
use super::digest::{self, BLOCK_LEN, Block, Digest, FMS_KEY, FMS_PARTIAL_KEY, FP_PARTIAL_KEY, SIGNATURE_POS, Scheme};
use super::rc4::Rc4Pair;
use super::sig;
use super::{HandshakeError, HandshakeKind};

/// C0/S0 of a plain (unencrypted) handshake.
pub(crate) const VERSION_PLAIN: u8 = 3;
/// C0/S0 of RTMPE with a plain signature.
pub(crate) const VERSION_RTMPE: u8 = 6;

/// S1[4..8] of a digest handshake. The first byte must be ≥ 3, or FFmpeg skips verifying
/// us and then assumes scheme-0 DH placement for RTMPE (`rtmp_handshake`); 3.5.1.1 is what
/// librtmp's server (`SHandShake`) sends.
const SERVER_VERSION: [u8; 4] = [3, 5, 1, 1];

/// Length of S0+S1+S2.
pub(crate) const RESPONSE_LEN: usize = 1 + 2 * BLOCK_LEN;

/// What the server answers, and what it learned.
pub(crate) struct Response {
    /// S0+S1+S2.
    pub(crate) bytes: Vec<u8>,
    pub(crate) kind: HandshakeKind,
    pub(crate) encryption: Option<Rc4Pair>,
}

/// Answers a complete C0+C1. `c0` is already known to be an accepted version.
pub(crate) fn respond(c0: u8, c1: &Block, rng: &mut impl Rng) -> Result<Response, HandshakeError> {
    let encrypted = c0 != VERSION_PLAIN;
    // A zero version field means "no digest" (librtmp's `HandShake` without SWF
    // verification).
    if !encrypted && c1[4..8] == [0; 4] {
        return Ok(simple(c1, rng));
    }
    match digest::find_digest(c1, FP_PARTIAL_KEY) {
        Some((scheme, client_digest)) => digest_response(c0, c1, scheme, &client_digest, rng),
        // Old Flash players and odd clients send a version but no digest: fall back, as
        // nginx-rtmp does (`hs_old` in `ngx_rtmp_handshake.c`). RTMPE has no simple form.
        None if !encrypted => Ok(simple(c1, rng)),
        None => Err(HandshakeError::NoClientDigest),
    }
}

/// The pre-FP9 handshake: S1 with a zero version field (so FFmpeg does not try to verify
/// it), S2 an exact copy of C1.
fn simple(c1: &Block, rng: &mut impl Rng) -> Response {
    let mut bytes = Vec::with_capacity(RESPONSE_LEN);
    bytes.push(VERSION_PLAIN);
    let mut s1 = [0u8; BLOCK_LEN];
    rng.fill_bytes(&mut s1[8..]);
    bytes.extend_from_slice(&s1);
    bytes.extend_from_slice(c1);
    Response { bytes, kind: HandshakeKind::Simple, encryption: None }
}

/// The FP9 handshake, encrypted or not, answered in the client's own scheme.
fn digest_response(
    c0: u8,
    c1: &Block,
    scheme: Scheme,
    client_digest: &Digest,
    rng: &mut impl Rng,
) -> Result<Response, HandshakeError> {
    let mut s1 = [0u8; BLOCK_LEN];
    // S1[0..4] is our uptime; a sans-IO handshake has no clock and clients ignore it.
    s1[4..8].copy_from_slice(&SERVER_VERSION);
    rng.fill_bytes(&mut s1[8..]);

    let encryption = if c0 == VERSION_PLAIN {
        None
    } else {
        let at = scheme.dh_offset(c1);
        let mut client_key = [0u8; KEY_LEN];
        client_key.copy_from_slice(&c1[at..at + KEY_LEN]);
        if !dh::is_valid_public_key(&client_key) {
            return Err(HandshakeError::BadPublicKey);
        }
        let pair = KeyPair::generate(rng);
        // Our key goes in before the digest is computed: the digest covers it.
        let at = scheme.dh_offset(&s1);
        s1[at..at + KEY_LEN].copy_from_slice(pair.public_key());
        let secret = pair.shared_secret(&client_key);
        Some(Rc4Pair::for_server(&secret, pair.public_key(), &client_key))
    };
    digest::write_digest(&mut s1, scheme, FMS_PARTIAL_KEY);

    let mut s2 = [0u8; BLOCK_LEN];
    rng.fill_bytes(&mut s2[..SIGNATURE_POS]);
    let key = digest::signature_key(&FMS_KEY, client_digest);
    let mut signature = digest::signature(&key, &s2[..SIGNATURE_POS]);
    // Clients pick the signature cipher from S0, which echoes C0 (FFmpeg's `rtmp_handshake`,
    // librtmp's `HandShake`).
    sig::encrypt_signature(c0, &key, &mut signature);
    s2[SIGNATURE_POS..].copy_from_slice(&signature);

    let mut bytes = Vec::with_capacity(RESPONSE_LEN);
    bytes.push(c0);
    bytes.extend_from_slice(&s1);
    bytes.extend_from_slice(&s2);
    let kind = match c0 {
        VERSION_PLAIN => HandshakeKind::Digest { scheme: scheme.number() },
        version => HandshakeKind::Encrypted { scheme: scheme.number(), version },
    };
    Ok(Response { bytes, kind, encryption })
}
