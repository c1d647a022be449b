//! The RC4 streams of an RTMPE connection (librtmp `InitRC4Encryption` in `handshake.h`;
//! FFmpeg `ff_rtmpe_compute_secret_key` and `ff_rtmpe_update_keystream` in
//! `libavformat/rtmpcrypt.c`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

// `::rc4` is the RustCrypto crate, not this module.
use ::rc4::{KeyInit, Rc4, StreamCipher};

use super::dh::KEY_LEN;
use super::digest::hmac_sha256;

/// Length of an RC4 key: the first half of an HMAC-SHA256.
pub(crate) const RC4_KEY_LEN: usize = 16;

/// Keystream bytes both sides discard before the first real byte (RC4-drop1536, as
/// FFmpeg's `ff_rtmpe_update_keystream` and librtmp's `HandShake`/`SHandShake` do).
const SKIPPED_KEYSTREAM: usize = 1536;

/// An RC4 keystream, already advanced past the 1536 skipped bytes.
pub struct Rc4Stream {
    cipher: Rc4,
    /// Only for a pair whose shared secret starts with a zero byte; see [`Fallback`].
    fallback: Option<Fallback>,
}

/// When the shared secret's top byte is 0 (1 connection in 256), clients disagree on its
/// 128-byte form: left-padded (librtmp/GnuTLS, FFmpeg/mbedtls, what we use) or the value
/// followed by zeros (librtmp/OpenSSL, FFmpeg/GMP), depending on the big-number library
/// behind librtmp's `dh.h` and FFmpeg's `libavformat/rtmpdh.c`. Such a pair keeps a keystream for
/// the second form too, and the first bytes decrypted from the client pick one: `connect`
/// starts with a fmt-0 basic header, normally `0x03` (FFmpeg's `gen_connect` and librtmp's
/// `SendConnectPacket` use chunk stream 3). Both streams of the pair follow the same choice.
struct Fallback {
    alternate: Rc4,
    /// The decrypting stream decides; the encrypting one follows (or, if the server sends
    /// first, decides for the left-padded form).
    decides: bool,
    choice: Arc<AtomicU8>,
}

const UNDECIDED: u8 = 0;
const PADDED: u8 = 1;
const ALTERNATE: u8 = 2;

impl Rc4Stream {
    /// A stream keyed with `key` (1 to 256 bytes; RTMPE uses 16), with the first 1536
    /// keystream bytes already discarded.
    ///
    /// # Panics
    /// If `key` is empty or longer than 256 bytes.
    pub fn new(key: &[u8]) -> Rc4Stream {
        Rc4Stream { cipher: keystream(key), fallback: None }
    }

    /// Encrypts or decrypts `buf` in place.
    pub fn apply(&mut self, buf: &mut [u8]) {
        if !buf.is_empty() && self.fallback.is_some() {
            self.settle(buf);
        } else {
            self.cipher.apply_keystream(buf);
        }
    }

    /// Applies the first non-empty buffer of a stream with a [`Fallback`], choosing (or
    /// following the choice of) the secret's form.
    fn settle(&mut self, buf: &mut [u8]) {
        let Some(Fallback { mut alternate, decides, choice }) = self.fallback.take() else {
            return self.cipher.apply_keystream(buf);
        };
        let decided = match (choice.load(Ordering::Acquire), decides) {
            (UNDECIDED, true) => {
                let mut other = buf.to_vec();
                alternate.apply_keystream(&mut other);
                self.cipher.apply_keystream(buf);
                if first_byte_score(other[0]) > first_byte_score(buf[0]) {
                    buf.copy_from_slice(&other);
                    self.cipher = alternate;
                    choice.store(ALTERNATE, Ordering::Release);
                } else {
                    choice.store(PADDED, Ordering::Release);
                }
                return;
            }
            // Sending before anything arrived: commit to the left-padded form.
            (UNDECIDED, false) => match choice.compare_exchange(UNDECIDED, PADDED, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => PADDED,
                Err(current) => current,
            },
            (current, _) => current,
        };
        if decided == ALTERNATE {
            self.cipher = alternate;
        }
        self.cipher.apply_keystream(buf);
    }
}

/// How much a decrypted first byte looks like the start of `connect`: `0x03` (fmt 0 on
/// chunk stream 3, what FFmpeg, librtmp and Flash send), any fmt-0 basic header, or not.
fn first_byte_score(byte: u8) -> u8 {
    match byte {
        0x03 => 2,
        _ if byte >> 6 == 0 => 1,
        _ => 0,
    }
}

/// RC4 keyed with `key`, past the 1536 discarded bytes.
fn keystream(key: &[u8]) -> Rc4 {
    let mut cipher = Rc4::new_from_slice(key).expect("RC4 keys are 1 to 256 bytes");
    let mut skipped = [0u8; SKIPPED_KEYSTREAM];
    cipher.apply_keystream(&mut skipped);
    cipher
}

impl std::fmt::Debug for Rc4Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rc4Stream")
    }
}

/// The two RC4 streams of an RTMPE connection.
#[derive(Debug)]
pub struct Rc4Pair {
    /// Decrypts what the client sends.
    pub decrypt: Rc4Stream,
    /// Encrypts what the server sends.
    pub encrypt: Rc4Stream,
}

/// The other 128-byte form of a secret with leading zero bytes: the significant bytes
/// first, then zeros (librtmp with OpenSSL, FFmpeg with GMP). `None` when both forms are
/// the same.
pub(crate) fn unpadded_secret(secret: &[u8; KEY_LEN]) -> Option<[u8; KEY_LEN]> {
    let zeros = secret.iter().take_while(|&&b| b == 0).count();
    if zeros == 0 || zeros == KEY_LEN {
        return None;
    }
    let mut out = [0u8; KEY_LEN];
    out[..KEY_LEN - zeros].copy_from_slice(&secret[zeros..]);
    Some(out)
}

/// The RC4 key of the direction whose *receiver* owns `receiver_public_key`:
/// `HMAC-SHA256(secret, receiver's public key)[..16]` (librtmp `InitRC4Encryption`,
/// FFmpeg `ff_rtmpe_compute_secret_key`).
pub(crate) fn rc4_key(secret: &[u8; KEY_LEN], receiver_public_key: &[u8; KEY_LEN]) -> [u8; RC4_KEY_LEN] {
    let mac = hmac_sha256(secret, &[receiver_public_key]);
    let mut key = [0u8; RC4_KEY_LEN];
    key.copy_from_slice(&mac[..RC4_KEY_LEN]);
    key
}

impl Rc4Pair {
    /// The server's pair: it encrypts with the key made from the client's public key and
    /// decrypts with the one made from its own (librtmp `InitRC4Encryption` called with
    /// (peer, own) keys, FFmpeg `ff_rtmpe_compute_secret_key`).
    ///
    /// `secret` is left-padded; if it starts with a zero byte the pair also covers clients
    /// that use the other form (see [`Fallback`]).
    pub(crate) fn for_server(
        secret: &[u8; KEY_LEN],
        server_public_key: &[u8; KEY_LEN],
        client_public_key: &[u8; KEY_LEN],
    ) -> Rc4Pair {
        let mut pair = Rc4Pair {
            decrypt: Rc4Stream::new(&rc4_key(secret, server_public_key)),
            encrypt: Rc4Stream::new(&rc4_key(secret, client_public_key)),
        };
        if let Some(alternate) = unpadded_secret(secret) {
            let choice = Arc::new(AtomicU8::new(UNDECIDED));
            let fallback = |public_key, decides| Fallback {
                alternate: keystream(&rc4_key(&alternate, public_key)),
                decides,
                choice: Arc::clone(&choice),
            };
            pair.decrypt.fallback = Some(fallback(server_public_key, true));
            pair.encrypt.fallback = Some(fallback(client_public_key, false));
        }
        pair
    }

    /// The client's pair, the mirror image of [`Rc4Pair::for_server`] (for `ClientHandshake`).
    pub(crate) fn for_client(
        secret: &[u8; KEY_LEN],
        server_public_key: &[u8; KEY_LEN],
        client_public_key: &[u8; KEY_LEN],
    ) -> Rc4Pair {
        Rc4Pair {
            decrypt: Rc4Stream::new(&rc4_key(secret, client_public_key)),
            encrypt: Rc4Stream::new(&rc4_key(secret, server_public_key)),
        }
    }
}
