//! The FP9 digest handshake arithmetic: the two offset schemes, the HMAC-SHA256 digest
//! embedded in C1/S1 and the signature closing C2/S2, as librtmp's `handshake.h` and FFmpeg's
//! `libavformat/rtmpproto.c` and `rtmpdigest.c` compute them.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Length of C1/S1/C2/S2.
pub(crate) const BLOCK_LEN: usize = 1536;
/// Length of an embedded digest and of a C2/S2 signature.
pub(crate) const DIGEST_LEN: usize = 32;
/// Where the signature starts in C2/S2 (the rest is random).
pub(crate) const SIGNATURE_POS: usize = BLOCK_LEN - DIGEST_LEN;

pub(crate) type Block = [u8; BLOCK_LEN];
pub(crate) type Digest = [u8; DIGEST_LEN];

/// "Genuine Adobe Flash Media Server 001" followed by 32 constant bytes (librtmp
/// `GenuineFMSKey`, FFmpeg `rtmp_server_key`).
pub(crate) const FMS_KEY: [u8; 68] = [
    0x47, 0x65, 0x6e, 0x75, 0x69, 0x6e, 0x65, 0x20, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x20, 0x46, 0x6c, 0x61, 0x73, 0x68,
    0x20, 0x4d, 0x65, 0x64, 0x69, 0x61, 0x20, 0x53, 0x65, 0x72, 0x76, 0x65, 0x72, 0x20, 0x30, 0x30, 0x31, 0xf0, 0xee,
    0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8, 0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29,
    0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6, 0x36, 0xcf, 0xeb, 0x31, 0xae,
];

/// "Genuine Adobe Flash Player 001" followed by the same 32 constant bytes
/// (librtmp `GenuineFPKey`, FFmpeg `rtmp_player_key`).
pub(crate) const FP_KEY: [u8; 62] = [
    0x47, 0x65, 0x6e, 0x75, 0x69, 0x6e, 0x65, 0x20, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x20, 0x46, 0x6c, 0x61, 0x73, 0x68,
    0x20, 0x50, 0x6c, 0x61, 0x79, 0x65, 0x72, 0x20, 0x30, 0x30, 0x31, 0xf0, 0xee, 0xc2, 0x4a, 0x80, 0x68, 0xbe, 0xe8,
    0x2e, 0x00, 0xd0, 0xd1, 0x02, 0x9e, 0x7e, 0x57, 0x6e, 0xec, 0x5d, 0x2d, 0x29, 0x80, 0x6f, 0xab, 0x93, 0xb8, 0xe6,
    0x36, 0xcf, 0xeb, 0x31, 0xae,
];

/// The text part of [`FMS_KEY`]: signs S1.
pub(crate) const FMS_PARTIAL_KEY: &[u8] = FMS_KEY.split_at(36).0;
/// The text part of [`FP_KEY`]: signs C1.
pub(crate) const FP_PARTIAL_KEY: &[u8] = FP_KEY.split_at(30).0;

/// Where the digest and the DH public key sit in C1/S1 (librtmp `GetDigestOffset1` and
/// `GetDHOffset1` for scheme 0, `…2` for scheme 1; FFmpeg `ff_rtmp_calc_digest_pos`). Scheme 0
/// puts the digest in the first half ("digest first", FFmpeg `rtmp://`, Flash); scheme 1 puts
/// the DH key first (FFmpeg and rtmpdump `rtmpe://`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Zero,
    One,
}

impl Scheme {
    /// The order in which a client digest is looked for: scheme 0, which FFmpeg `rtmp://`
    /// uses, first.
    pub(crate) const SEARCH_ORDER: [Scheme; 2] = [Scheme::Zero, Scheme::One];

    pub(crate) fn number(self) -> u8 {
        match self {
            Scheme::Zero => 0,
            Scheme::One => 1,
        }
    }

    /// Offset of the 32-byte digest: `sum(b, base) % 728 + add`.
    pub(crate) fn digest_offset(self, block: &Block) -> usize {
        match self {
            Scheme::Zero => offset_sum(block, 8) % 728 + 12,
            Scheme::One => offset_sum(block, 772) % 728 + 776,
        }
    }

    /// Offset of the 128-byte DH public key (RTMPE): `sum(b, base) % 632 + add`.
    pub(crate) fn dh_offset(self, block: &Block) -> usize {
        match self {
            Scheme::Zero => offset_sum(block, 1532) % 632 + 772,
            Scheme::One => offset_sum(block, 768) % 632 + 8,
        }
    }
}

/// Sum of the four (unsigned) bytes at `at`; the offsets are derived from it.
fn offset_sum(block: &Block, at: usize) -> usize {
    block[at..at + 4].iter().map(|&b| usize::from(b)).sum()
}

/// HMAC-SHA256 of the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Digest {
    // HMAC accepts keys of any length; the error case does not exist for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The digest of `block` with the digest itself at `pos` left out (librtmp
/// `CalculateDigest`, FFmpeg `ff_rtmp_calc_digest`).
pub(crate) fn block_digest(block: &Block, pos: usize, key: &[u8]) -> Digest {
    hmac_sha256(key, &[&block[..pos], &block[pos + DIGEST_LEN..]])
}

/// Looks for a valid digest made with `key`, scheme 0 first; returns the scheme and the
/// digest found.
pub(crate) fn find_digest(block: &Block, key: &[u8]) -> Option<(Scheme, Digest)> {
    Scheme::SEARCH_ORDER.into_iter().find_map(|scheme| {
        let pos = scheme.digest_offset(block);
        let expected = block_digest(block, pos, key);
        (block[pos..pos + DIGEST_LEN] == expected).then_some((scheme, expected))
    })
}

/// Computes and writes the digest of `block` for `scheme`. Everything else in the block
/// (including a DH key) must already be in place: the digest covers it.
pub(crate) fn write_digest(block: &mut Block, scheme: Scheme, key: &[u8]) {
    let pos = scheme.digest_offset(block);
    let digest = block_digest(block, pos, key);
    block[pos..pos + DIGEST_LEN].copy_from_slice(&digest);
}

/// The key that signs C2/S2: `HMAC(full key, peer's C1/S1 digest)`. It also selects the
/// XTEA/Blowfish keys for types 8 and 9 (FFmpeg
/// `ff_rtmpe_encrypt_sig`: `digest[i] % 15`).
pub(crate) fn signature_key(full_key: &[u8], peer_digest: &Digest) -> Digest {
    hmac_sha256(full_key, &[peer_digest])
}

/// The signature over the random part of C2/S2, before any type 8/9 encryption.
pub(crate) fn signature(signature_key: &Digest, random_part: &[u8]) -> Digest {
    hmac_sha256(signature_key, &[random_part])
}
