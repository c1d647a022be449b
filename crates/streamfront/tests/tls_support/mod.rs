//! What the TLS tests share: certificates made with openssl, a server with an HTTPS listener,
//! and what certificate a handshake got. Each test file uses some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::*;

/// A self-signed certificate and its key, in PEM files.
pub struct Cert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Cert {
    /// `openssl req -x509` for `cn`, valid for the `names` (DNS names, or IP addresses).
    pub fn make(dir: &Path, file_stem: &str, cn: &str, names: &[&str]) -> Cert {
        require_tool("openssl");
        let cert = dir.join(format!("{file_stem}.pem"));
        let key = dir.join(format!("{file_stem}.key"));
        let sans: Vec<String> = names
            .iter()
            .map(|n| if n.parse::<std::net::IpAddr>().is_ok() { format!("IP:{n}") } else { format!("DNS:{n}") })
            .collect();
        let mut cmd = Command::new("openssl");
        cmd.args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj"])
            .arg(format!("/CN={cn}"))
            .arg("-addext")
            .arg(format!("subjectAltName={}", sans.join(",")))
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert);
        let r = run(cmd, Duration::from_secs(30));
        assert!(r.success(), "openssl req: {}", r.describe());
        Cert { cert, key }
    }

    /// A leaf certificate (not a CA: webpki refuses a CA as a server's certificate) for the
    /// DNS `names`, signed by `ca` (made with [`Cert::make`]).
    pub fn make_leaf(dir: &Path, file_stem: &str, names: &[&str], ca: &Cert) -> Cert {
        require_tool("openssl");
        let cert = dir.join(format!("{file_stem}.pem"));
        let key = dir.join(format!("{file_stem}.key"));
        let csr = dir.join(format!("{file_stem}.csr"));
        let extensions = dir.join(format!("{file_stem}.ext"));
        let sans: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
        std::fs::write(&extensions, format!("basicConstraints=CA:FALSE\nsubjectAltName={}\n", sans.join(","))).unwrap();
        let mut cmd = Command::new("openssl");
        cmd.args(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj"])
            .arg(format!("/CN={}", names[0]))
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr);
        let r = run(cmd, Duration::from_secs(30));
        assert!(r.success(), "openssl req -new: {}", r.describe());
        let mut cmd = Command::new("openssl");
        cmd.args(["x509", "-req", "-days", "2", "-set_serial", "2", "-in"])
            .arg(&csr)
            .arg("-CA")
            .arg(&ca.cert)
            .arg("-CAkey")
            .arg(&ca.key)
            .arg("-extfile")
            .arg(&extensions)
            .arg("-out")
            .arg(&cert);
        let r = run(cmd, Duration::from_secs(30));
        assert!(r.success(), "openssl x509 -req: {}", r.describe());
        Cert { cert, key }
    }

    /// `DOMAINS=CERT:KEY` for `--tls-cert`.
    pub fn flag(&self, domains: &str) -> String {
        format!("{domains}={}:{}", self.cert.display(), self.key.display())
    }
}

/// A server with one HTTPS listener on a fresh port, given `--tls-cert` for each
/// `(domains, cert)`, plus `extra` arguments.
pub fn start_tls(origin: &Path, certs: &[(&str, &Cert)], extra: &[&str]) -> (Server, u16) {
    let port = free_port();
    let mut args = vec!["--https-listen".to_owned(), format!("127.0.0.1:{port}")];
    for (domains, cert) in certs {
        args.push("--tls-cert".to_owned());
        args.push(cert.flag(domains));
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    let server = Server::start_with(origin, ServerOptions { args, ..ServerOptions::default() });
    (server, port)
}

/// The subject CN of the certificate served to a handshake asking for `server_name` (None:
/// no SNI), as `openssl s_client` sees it.
pub fn served_cn(port: u16, server_name: Option<&str>) -> String {
    let mut cmd = Command::new("openssl");
    cmd.args(["s_client", "-connect"]).arg(format!("127.0.0.1:{port}"));
    match server_name {
        Some(name) => cmd.args(["-servername", name]),
        None => cmd.arg("-noservername"),
    };
    cmd.stdin(Stdio::null());
    let r = run(cmd, Duration::from_secs(20));
    let text = r.stdout_text();
    let subject = text.lines().find(|l| l.starts_with("subject=")).unwrap_or_else(|| {
        panic!("openssl s_client to port {port} (SNI {server_name:?}) showed no certificate: {}", r.describe())
    });
    subject.rsplit("CN").next().unwrap_or_default().trim_start_matches([' ', '=']).trim().to_owned()
}

/// A viewer in its own thread: ffmpeg verifying the certificate against `ca`, playing the
/// first `seconds` of the 10-minute `long.mp4` over RTMPS (paced in real time after the
/// first burst); the thread returns the check's summary, or panics if a packet differs.
pub fn rtmps_viewer(port: u16, ca: &Path, seconds: u32) -> std::thread::JoinHandle<String> {
    let ca = ca.to_str().unwrap().to_owned();
    let url = format!("rtmps://localhost:{port}/cfx/st/long.mp4");
    // From the key frame at 0 s (the next is at 7 s): every packet from the first.
    let expect = Expect::From { target_ms: 1000.0, stop: None, truncated: true };
    std::thread::spawn(move || {
        let input = ["-tls_verify", "1", "-ca_file", ca.as_str()];
        check_ffmpeg(&url, "long.mp4", &expect, &input, &["-t", &seconds.to_string()]).to_string()
    })
}

/// Waits until the server logs its `n`th `play`.
pub fn wait_for_plays(server: &Server, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while server.log().matches("play client=").count() < n {
        assert!(std::time::Instant::now() < deadline, "no viewer started playing:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The value of a `/metrics` sample, e.g. `streamfront_tls_handshake_failures_total{reason="timeout"}`
/// (0 when absent).
pub fn metric(server: &Server, sample: &str) -> u64 {
    let (status, body) = http_get(server.admin_addr(), "/metrics", Duration::from_secs(5)).expect("GET /metrics");
    assert_eq!(status, 200, "GET /metrics");
    body.lines().find_map(|line| line.strip_prefix(sample).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0)
}

/// Commits web distribution `id` with `config` (JSON, as the model's serde names it) into the
/// directory store `store`, as the API's CreateDistribution commits it.
pub fn put_web(store: &Path, id: &str, config: serde_json::Value) {
    use sf_dist::{Distribution, DistributionIdentity, Timestamp};
    let identity = DistributionIdentity {
        id: id.into(),
        arn: format!("arn:aws:cloudfront::000000000000:distribution/{id}"),
        domain_name: format!("d{}.cloudfront.net", id.to_ascii_lowercase()),
    };
    let config = serde_json::from_value(config).expect("a DistributionConfig");
    let record = Distribution::new(identity, "E1".into(), config, Vec::new(), Timestamp(0));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let location = sf_control::ControlLocation::parse(&store.display().to_string()).unwrap();
        let store = location.open(&Default::default(), Default::default()).await.unwrap();
        store.commit(&sf_api::state::Change::PutWeb { record: Box::new(record) }).await.unwrap();
    });
}

/// Waits until the admin listing shows a web distribution with alias `alias`.
pub fn wait_for_web(server: &Server, alias: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let listing = http_get(server.admin_addr(), "/distributions", Duration::from_secs(5)).map(|(_, body)| body);
        if listing.as_deref().is_ok_and(|body| body.contains("\"kind\": \"web\"") && body.contains(alias)) {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "the web distribution of {alias} is not served: {listing:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A rustls client configuration trusting only the certificates in `ca` (on aws-lc-rs, as
/// the server).
pub fn client_config(ca: &Path) -> rustls::ClientConfig {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("the CA file") {
        roots.add(cert.expect("a PEM certificate")).expect("a usable CA certificate");
    }
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS 1.2 and 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A blocking TLS session on a TCP connection: what a [`RawClient`] speaks RTMPS over.
pub type TlsWire = rustls::StreamOwned<rustls::ClientConnection, std::net::TcpStream>;

impl crate::common::raw::Wire for TlsWire {
    fn tcp(&self) -> &std::net::TcpStream {
        &self.sock
    }
}

/// A TLS session to `localhost` (certificate checked against `ca`) on the connected `tcp`;
/// the handshake happens with the first read or write.
pub fn tls_wire(tcp: std::net::TcpStream, ca: &Path) -> TlsWire {
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let connection = rustls::ClientConnection::new(std::sync::Arc::new(client_config(ca)), name).unwrap();
    rustls::StreamOwned::new(connection, tcp)
}
