//! How a viewer's RTMP bytes travel: straight over TCP (RTMP, RTMPE), inside TLS (RTMPS), or
//! in an RTMPT tunnel (RTMPT, RTMPTE), with RC4 around them for the encrypted variants. The
//! handshake is `sf_rtmp`'s [`ClientHandshake`].

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use sf_rtmp::handshake::{ClientHandshake, ClientKind, Rc4Pair};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::tunnel::{Tunnel, TunnelStats};

/// The protocol viewers speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// RTMP over TCP, simple handshake (like rtmpdump).
    Rtmp,
    /// RTMPE over TCP: handshake type 6 (DH, like FFmpeg `rtmpe://`), then RC4 both ways.
    Rtmpe,
    /// RTMP inside TLS (like FFmpeg and rtmpdump `rtmps://`), simple handshake.
    Rtmps,
    /// RTMP in HTTP POSTs, polling like FFmpeg `rtmpt://` (simple handshake inside).
    Rtmpt,
    /// RTMPE in HTTP POSTs.
    Rtmpte,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Rtmp => "rtmp",
            Protocol::Rtmpe => "rtmpe",
            Protocol::Rtmps => "rtmps",
            Protocol::Rtmpt => "rtmpt",
            Protocol::Rtmpte => "rtmpte",
        }
    }

    pub fn tunnelled(self) -> bool {
        matches!(self, Protocol::Rtmpt | Protocol::Rtmpte)
    }

    /// The handshake this protocol's viewers offer.
    pub fn handshake(self) -> ClientKind {
        match self {
            Protocol::Rtmp | Protocol::Rtmps | Protocol::Rtmpt => ClientKind::Simple,
            Protocol::Rtmpe | Protocol::Rtmpte => ClientKind::Encrypted { version: 6 },
        }
    }
}

/// Where a viewer connects, and from where.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: SocketAddr,
    pub protocol: Protocol,
    /// Local addresses to spread viewers over (viewer `i` uses `i % len`); empty = any.
    pub local_ips: Vec<IpAddr>,
    /// RTMPT: pause before an `/idle` that follows an empty response.
    pub idle_sleep: Duration,
    /// RTMPS: the TLS client settings (see [`tls_client_config`]).
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// TLS client settings trusting only the certificates in the PEM file `ca_file`, without
/// session resumption (every connection pays a full handshake, as rtmpdump's do), on the
/// aws-lc-rs provider the server uses.
pub fn tls_client_config(ca_file: &std::path::Path) -> Result<Arc<rustls::ClientConfig>, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    let certs = CertificateDer::pem_file_iter(ca_file).map_err(|e| format!("{}: {e}", ca_file.display()))?;
    for cert in certs {
        let cert = cert.map_err(|e| format!("{}: {e}", ca_file.display()))?;
        roots.add(cert).map_err(|e| format!("{}: {e}", ca_file.display()))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS settings: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    Ok(Arc::new(config))
}

/// `count` loopback addresses 127.0.0.1, 127.0.0.2, … (all of 127/8 is local on Linux).
pub fn loopback_ips(count: usize) -> Vec<IpAddr> {
    (1..=count as u32).map(|i| IpAddr::V4(Ipv4Addr::from(0x7f00_0000 + i))).collect()
}

/// A connected viewer's byte pipe, after the handshake.
pub struct Transport {
    link: Link,
    cipher: Option<Rc4Pair>,
    /// Bytes read from the socket (for a tunnel: with HTTP heads and polling bytes; inside
    /// TLS: after decryption).
    pub wire_bytes: u64,
}

enum Link {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Tunnel(Box<Tunnel>),
}

impl Transport {
    /// Connects viewer `index` and runs `handshake` (made for [`Protocol::handshake`] ahead
    /// of time, so that the client's own DH key generation stays out of the measured ramp).
    /// Returns the transport and the server bytes that came after S2, already decrypted.
    pub async fn connect(
        target: &Target,
        index: u64,
        mut handshake: ClientHandshake,
    ) -> io::Result<(Transport, Vec<u8>)> {
        let stream = match target.local_ips.get(index as usize % target.local_ips.len().max(1)) {
            Some(ip) => {
                let socket = if ip.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
                socket.bind(SocketAddr::new(*ip, 0))?;
                socket.connect(target.addr).await?
            }
            None => TcpStream::connect(target.addr).await?,
        };
        stream.set_nodelay(true)?;
        let link = if target.protocol.tunnelled() {
            Link::Tunnel(Box::new(Tunnel::open(stream, target.addr, target.idle_sleep).await?))
        } else if let Some(tls) = &target.tls {
            // The server's address as its name: no SNI for an IP address, as rtmpdump and
            // FFmpeg connect to one.
            let name = rustls_pki_types::ServerName::IpAddress(target.addr.ip().into());
            Link::Tls(Box::new(TlsConnector::from(Arc::clone(tls)).connect(name, stream).await?))
        } else {
            Link::Tcp(stream)
        };
        let mut transport = Transport { link, cipher: None, wire_bytes: 0 };

        let mut c0c1 = handshake.poll_transmit().ok_or_else(|| io::Error::other("no C0+C1"))?;
        transport.write(&mut c0c1).await?;
        let mut buf = vec![0u8; 8 * 1024];
        let rest = loop {
            let n = transport.read(&mut buf).await?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection"));
            }
            let used = handshake.handle_input(&buf[..n]).map_err(|e| io::Error::other(format!("handshake: {e}")))?;
            if let Some(mut c2) = handshake.poll_transmit() {
                transport.write(&mut c2).await?;
                break buf[used..n].to_vec();
            }
        };
        transport.cipher = handshake.into_outcome().encryption;
        let mut rest = rest;
        if let Some(cipher) = &mut transport.cipher {
            cipher.decrypt.apply(&mut rest);
        }
        Ok((transport, rest))
    }

    /// Sends `data` (encrypting it in place for RTMPE); a tunnel sends it with its next request.
    pub async fn write(&mut self, data: &mut [u8]) -> io::Result<()> {
        if let Some(cipher) = &mut self.cipher {
            cipher.encrypt.apply(data);
        }
        match &mut self.link {
            Link::Tcp(stream) => stream.write_all(data).await,
            // tokio-rustls keeps what it accepted until flushed.
            Link::Tls(stream) => {
                stream.write_all(data).await?;
                stream.flush().await
            }
            Link::Tunnel(tunnel) => {
                tunnel.write(data);
                Ok(())
            }
        }
    }

    /// Reads server bytes (decrypted); 0 = the server closed the connection.
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.link {
            Link::Tcp(stream) => {
                let n = stream.read(buf).await?;
                self.wire_bytes += n as u64;
                n
            }
            Link::Tls(stream) => {
                let n = stream.read(buf).await?;
                self.wire_bytes += n as u64;
                n
            }
            Link::Tunnel(tunnel) => {
                let n = tunnel.read(buf).await;
                self.wire_bytes = tunnel.stats.wire_bytes;
                n?
            }
        };
        if let Some(cipher) = &mut self.cipher {
            cipher.decrypt.apply(&mut buf[..n]);
        }
        Ok(n)
    }

    /// Tunnel counters (None over TCP).
    pub fn tunnel_stats(&self) -> Option<TunnelStats> {
        match &self.link {
            Link::Tcp(_) | Link::Tls(_) => None,
            Link::Tunnel(tunnel) => Some(tunnel.stats),
        }
    }

    /// Ends the connection: `/close` for a tunnel (bounded to a second), nothing for TCP.
    pub async fn close(&mut self) {
        if let Link::Tunnel(tunnel) = &mut self.link {
            let _ = tokio::time::timeout(Duration::from_secs(1), tunnel.close()).await;
            self.wire_bytes = tunnel.stats.wire_bytes;
        }
    }
}
