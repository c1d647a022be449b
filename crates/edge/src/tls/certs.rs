//! The configured certificates: PEM files read and checked, picked per handshake by the name
//! the client asked for (SNI, RFC 6066 §3), and reloaded when their files change.
//!
//! Clients that send no SNI get the default certificate: librtmp sends none, and no client
//! sends one for an IP address (RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not
//! permitted in HostName").

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Largest PEM file read: a chain of a few certificates, or one key, is a few KB.
const MAX_PEM_FILE: u64 = 1 << 20;

/// One certificate as configured: the names it serves and its two PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSpec {
    /// Host names, or wildcards `*.example.com` that match exactly one more label.
    pub domains: Vec<String>,
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The leaf's private key (PKCS#8, PKCS#1 or SEC1; not encrypted).
    pub key: PathBuf,
    /// Served to clients without SNI, or whose name no certificate has. Without one marked,
    /// the first certificate is the default.
    pub default: bool,
}

/// The certificates of the HTTPS listeners and of a TLS API listener.
pub struct Certificates {
    specs: Vec<CertificateSpec>,
    provider: Arc<CryptoProvider>,
    table: RwLock<Arc<Table>>,
    /// The files' stamps at the last load attempt, good or bad: a bad set of files is
    /// reported once, not at every poll.
    attempted: Mutex<Vec<Stamp>>,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates").field("specs", &self.specs).finish_non_exhaustive()
    }
}

/// What a reload found.
#[derive(Debug, PartialEq, Eq)]
pub enum Reload {
    Unchanged,
    Reloaded,
}

impl Certificates {
    /// Reads and checks every file; the error names the file, or the domain, at fault.
    pub fn load(specs: Vec<CertificateSpec>, provider: Arc<CryptoProvider>) -> Result<Certificates, String> {
        let stamps = stamps(&specs);
        let table = Table::load(&specs, &provider)?;
        Ok(Certificates { specs, provider, table: RwLock::new(Arc::new(table)), attempted: Mutex::new(stamps) })
    }

    /// Loads the files again if any changed (modification time, size or inode) since the last
    /// attempt. New handshakes get the new certificates; connections keep the ones they
    /// started with. On an error the old certificates stay.
    pub fn reload_if_changed(&self) -> Result<Reload, String> {
        let now = stamps(&self.specs);
        {
            let mut attempted = self.attempted.lock().expect("certificates lock");
            if *attempted == now {
                return Ok(Reload::Unchanged);
            }
            *attempted = now;
        }
        let table = Table::load(&self.specs, &self.provider)?;
        *self.table.write().expect("certificates lock") = Arc::new(table);
        Ok(Reload::Reloaded)
    }

    /// The certificate for a client that asked for `server_name` (None: no SNI).
    pub fn pick(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let table = Arc::clone(&self.table.read().expect("certificates lock"));
        table.pick(server_name)
    }

    /// The configured certificate whose domains cover `host` (an exact name before a
    /// wildcard), as SNI would pick it; `None`: clients asking for it get the default.
    pub fn covering(&self, host: &str) -> Option<&CertificateSpec> {
        let covers = |exact: bool| {
            self.specs.iter().find(|spec| {
                spec.domains
                    .iter()
                    .any(|domain| domain.starts_with("*.") != exact && sf_dist::domain_covers(domain, host))
            })
        };
        covers(true).or_else(|| covers(false))
    }

    /// The certificate served to clients whose name no certificate covers.
    pub fn default_spec(&self) -> &CertificateSpec {
        self.specs.iter().find(|spec| spec.default).or(self.specs.first()).expect("loading checked there is one")
    }

    /// Every PEM file configured, for messages.
    pub fn files(&self) -> impl Iterator<Item = &Path> {
        self.specs.iter().flat_map(|spec| [spec.cert.as_path(), spec.key.as_path()])
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.pick(client_hello.server_name()))
    }
}

/// The certificates by name, as loaded at one time.
struct Table {
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// By the part after `*.`.
    wildcard: HashMap<String, Arc<CertifiedKey>>,
    default: Arc<CertifiedKey>,
}

impl Table {
    fn load(specs: &[CertificateSpec], provider: &CryptoProvider) -> Result<Table, String> {
        if specs.iter().filter(|spec| spec.default).count() > 1 {
            return Err("more than one certificate is marked default".to_owned());
        }
        let mut exact = HashMap::new();
        let mut wildcard = HashMap::new();
        let mut default = None;
        for spec in specs {
            let key = Arc::new(load_pair(spec, provider)?);
            if spec.domains.is_empty() {
                return Err(format!("certificate {}: no domains", spec.cert.display()));
            }
            for domain in &spec.domains {
                let name = normalize(domain);
                check_domain(&name)
                    .map_err(|problem| format!("certificate {}: {domain}: {problem}", spec.cert.display()))?;
                let map = match name.strip_prefix("*.") {
                    Some(parent) => (&mut wildcard, parent.to_owned()),
                    None => (&mut exact, name.clone()),
                };
                if map.0.insert(map.1, Arc::clone(&key)).is_some() {
                    return Err(format!("domain {name} has two certificates"));
                }
            }
            if spec.default || default.is_none() && !specs.iter().any(|s| s.default) {
                default = Some(key);
            }
        }
        let default = default.ok_or_else(|| "no certificate configured".to_owned())?;
        Ok(Table { exact, wildcard, default })
    }

    fn pick(&self, server_name: Option<&str>) -> Arc<CertifiedKey> {
        let found = server_name.map(normalize).and_then(|name| {
            self.exact.get(&name).or_else(|| {
                let (_, parent) = name.split_once('.')?;
                self.wildcard.get(parent)
            })
        });
        Arc::clone(found.unwrap_or(&self.default))
    }
}

/// Host names compare case-insensitively (RFC 4343) and without a root dot.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// A host name (RFC 1123 labels), optionally behind `*.`.
fn check_domain(name: &str) -> Result<(), &'static str> {
    let host = name.strip_prefix("*.").unwrap_or(name);
    if host.is_empty() || host.len() > 253 {
        return Err("not a host name");
    }
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if !host.split('.').all(label_ok) {
        return Err("not a host name (letters, digits and '-' between dots; a wildcard only as `*.` first)");
    }
    Ok(())
}

/// The chain and key of `spec`, checked to belong together.
fn load_pair(spec: &CertificateSpec, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let cert_pem = read_pem(&spec.cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {e}", spec.cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no CERTIFICATE block in it", spec.cert.display()));
    }
    let key_pem = read_pem(&spec.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| format!("{}: {e}", spec.key.display()))?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            format!("{}: this key does not belong to certificate {}", spec.key.display(), spec.cert.display())
        }
        e => format!("{} / {}: {e}", spec.cert.display(), spec.key.display()),
    })
}

fn read_pem(path: &Path) -> Result<Vec<u8>, String> {
    let len = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?.len();
    if len > MAX_PEM_FILE {
        return Err(format!("{}: {len} bytes is too large for a PEM file (at most {MAX_PEM_FILE})", path.display()));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// What tells a file changed: modification time, size and inode (a renamed-in file).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp(Option<(SystemTime, u64, u64)>);

fn stamps(specs: &[CertificateSpec]) -> Vec<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let stamp =
        |path: &Path| Stamp(std::fs::metadata(path).ok().and_then(|m| Some((m.modified().ok()?, m.len(), m.ino()))));
    specs.iter().flat_map(|spec| [stamp(&spec.cert), stamp(&spec.key)]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_host_names_or_one_leading_wildcard() {
        for good in ["localhost", "cdn.example.com", "*.cdn.example.com", "a-b.c0"] {
            assert_eq!(check_domain(good), Ok(()), "{good}");
        }
        for bad in ["", "*", "*.", "a..b", "-a.b", "a.*.b", "**.b", "a b", "a_b.c", "*.*.b"] {
            assert!(check_domain(bad).is_err(), "{bad}");
        }
    }
}
