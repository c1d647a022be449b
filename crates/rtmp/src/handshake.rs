//! The server side of the RTMP handshake: simple (echo), digest (FP9, schemes 0 and 1, S1 in
//! the client's scheme, valid S2 signature) and RTMPE (types 6, 8 and 9: Diffie-Hellman on the
//! 1024-bit Oakley group 2, RC4 keys from HMAC-SHA256, 1536-byte keystream skip).

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

/// An RC4 keystream, already advanced past the 1536 skipped bytes.
pub struct Rc4Stream {
    _private: (),
}

impl Rc4Stream {
    /// Encrypts or decrypts `buf` in place.
    pub fn apply(&mut self, buf: &mut [u8]) {
        let _ = buf;
        todo!("rtmp wire helper")
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
    #[error("encrypted handshakes are disabled")]
    EncryptionDisabled,
}

/// Server handshake state machine. Feed client bytes with [`ServerHandshake::handle_input`];
/// send what [`ServerHandshake::poll_transmit`] returns (S0+S1+S2, as soon as C0+C1 are in,
/// without waiting for C2); when [`ServerHandshake::is_complete`], take the outcome. Bytes
/// after C2 are not consumed: they are the first chunks (encrypted, for RTMPE).
pub struct ServerHandshake {
    _private: (),
}

impl ServerHandshake {
    /// `allow_encrypted`: whether types 6/8/9 are accepted.
    pub fn new(allow_encrypted: bool) -> Self {
        let _ = allow_encrypted;
        todo!("rtmp wire helper")
    }

    /// Consumes handshake bytes from the front of `input`; returns how many were used.
    pub fn handle_input(&mut self, input: &[u8]) -> Result<usize, HandshakeError> {
        let _ = input;
        todo!("rtmp wire helper")
    }

    /// Bytes to send to the client, once.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        todo!("rtmp wire helper")
    }

    /// True once C2 has been read.
    pub fn is_complete(&self) -> bool {
        todo!("rtmp wire helper")
    }

    /// The outcome; call once [`ServerHandshake::is_complete`].
    pub fn into_outcome(self) -> HandshakeOutcome {
        todo!("rtmp wire helper")
    }
}

impl std::fmt::Debug for ServerHandshake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerHandshake")
    }
}
