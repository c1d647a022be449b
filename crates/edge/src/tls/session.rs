//! What a finished TLS handshake agreed, named as CloudFront's access logs name it: the
//! protocol as `TLSv1.2`/`TLSv1.3` and the cipher suite by its OpenSSL name
//! (`ECDHE-RSA-AES128-GCM-SHA256`, `TLS_AES_128_GCM_SHA256`), the names of the `ssl-protocol`
//! and `ssl-cipher` fields (CloudFront Developer Guide, "Supported protocols and ciphers
//! between viewers and CloudFront"; the OpenSSL names are those of `openssl ciphers -stdname`).

use rustls::{CipherSuite, ProtocolVersion, ServerConnection};

/// The protocol and cipher suite of one TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    pub protocol: &'static str,
    pub cipher: &'static str,
}

impl Session {
    /// The session `connection` negotiated (`None` before its handshake finished).
    pub fn of(connection: &ServerConnection) -> Option<Session> {
        let protocol = protocol_name(connection.protocol_version()?);
        let cipher = cipher_name(connection.negotiated_cipher_suite()?.suite());
        Some(Session { protocol, cipher })
    }
}

fn protocol_name(version: ProtocolVersion) -> &'static str {
    match version {
        ProtocolVersion::TLSv1_3 => "TLSv1.3",
        ProtocolVersion::TLSv1_2 => "TLSv1.2",
        ProtocolVersion::TLSv1_1 => "TLSv1.1",
        ProtocolVersion::TLSv1_0 => "TLSv1",
        _ => "unknown",
    }
}

/// Every suite rustls's aws-lc-rs provider offers; any other is logged by its IANA name.
fn cipher_name(suite: CipherSuite) -> &'static str {
    match suite {
        CipherSuite::TLS13_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        CipherSuite::TLS13_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        CipherSuite::TLS13_CHACHA20_POLY1305_SHA256 => "TLS_CHACHA20_POLY1305_SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 => "ECDHE-ECDSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 => "ECDHE-ECDSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-ECDSA-CHACHA20-POLY1305",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 => "ECDHE-RSA-AES128-GCM-SHA256",
        CipherSuite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 => "ECDHE-RSA-AES256-GCM-SHA384",
        CipherSuite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-RSA-CHACHA20-POLY1305",
        other => other.as_str().unwrap_or("unknown"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_of_the_provider_has_its_openssl_name() {
        for suite in rustls::crypto::aws_lc_rs::default_provider().cipher_suites {
            let name = cipher_name(suite.suite());
            let iana = suite.suite().as_str().unwrap_or_default();
            assert_ne!(name, iana, "{iana} is logged by its IANA name");
        }
        assert_eq!(protocol_name(ProtocolVersion::TLSv1_2), "TLSv1.2");
    }
}
