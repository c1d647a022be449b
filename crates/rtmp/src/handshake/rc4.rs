//! The RC4 streams of an RTMPE connection (reference §2.5–§2.6).

use rc4::{KeyInit, Rc4, StreamCipher};

use super::dh::KEY_LEN;
use super::digest::hmac_sha256;

/// Length of an RC4 key: the first half of an HMAC-SHA256.
pub(crate) const RC4_KEY_LEN: usize = 16;

/// Keystream bytes both sides discard before the first real byte (RC4-drop1536, §2.6).
const SKIPPED_KEYSTREAM: usize = 1536;

/// An RC4 keystream, already advanced past the 1536 skipped bytes.
pub struct Rc4Stream {
    cipher: Rc4,
}

impl Rc4Stream {
    /// A stream keyed with `key` (1 to 256 bytes; RTMPE uses 16), with the first 1536
    /// keystream bytes already discarded.
    ///
    /// # Panics
    /// If `key` is empty or longer than 256 bytes.
    pub fn new(key: &[u8]) -> Rc4Stream {
        let mut cipher = Rc4::new_from_slice(key).expect("RC4 keys are 1 to 256 bytes");
        let mut skipped = [0u8; SKIPPED_KEYSTREAM];
        cipher.apply_keystream(&mut skipped);
        Rc4Stream { cipher }
    }

    /// Encrypts or decrypts `buf` in place.
    pub fn apply(&mut self, buf: &mut [u8]) {
        self.cipher.apply_keystream(buf);
    }
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

/// The RC4 key of the direction whose *receiver* owns `receiver_public_key`:
/// `HMAC-SHA256(secret, receiver's public key)[..16]` (§2.5's table).
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
    pub(crate) fn for_server(
        secret: &[u8; KEY_LEN],
        server_public_key: &[u8; KEY_LEN],
        client_public_key: &[u8; KEY_LEN],
    ) -> Rc4Pair {
        Rc4Pair {
            decrypt: Rc4Stream::new(&rc4_key(secret, server_public_key)),
            encrypt: Rc4Stream::new(&rc4_key(secret, client_public_key)),
        }
    }

    /// The client's pair, the mirror image of [`Rc4Pair::for_server`] (tests, and any
    /// future client).
    #[cfg_attr(not(test), allow(dead_code))]
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
