//! Settings, declared once: every field is both a `serve` flag (clap) and a key of the TOML
//! config file (serde), with its default next to it in the flag's `default_value`.
//!
//! Precedence: a flag given on the command line (or its environment variable) wins over the
//! config file, and the file over the default. The file fills a whole [`Settings`] (missing keys
//! take the defaults), then the flags that were given overwrite their fields. For that, the
//! parser must not fill in defaults itself: [`defaults_in_help_only`] moves them into the help
//! text. Values out of range are then reported naming where they came from: the flag, its
//! environment variable or the file's key.

use std::fmt::Display;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Command, FromArgMatches};
use serde::{Deserialize, Serialize};
use sf_api::credentials::{ApiCredential, Credentials};

/// Longest time any `*_timeout`/`*_seconds` setting may have: one year (CloudFront's own
/// largest default TTL), far below where adding it to a clock could overflow.
const MAX_SECONDS: u64 = 365 * 86_400;
/// Largest cache size in MiB (16 TiB): the byte count stays far inside a u64.
const MAX_MIB: u64 = 1 << 24;
/// Largest connection or session count.
const MAX_COUNT: usize = 1_000_000;

/// Flags of `streamfront serve`, and the top level of the config file.
#[derive(Debug, Clone, Args, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// TOML config file with the same settings as these flags (see docs/configuration.md).
    #[arg(long, value_name = "FILE", env = "STREAMFRONT_CONFIG")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Media origin of the default distribution, which serves every host no streaming
    /// distribution claims: a local directory, or `s3://bucket[/prefix]` (credentials, region
    /// and endpoint from the AWS_* environment variables or the config file's [s3] section);
    /// `none` for no default. Without it, the sample library built into the binary is served.
    #[arg(long, value_name = "DIR|s3://BUCKET[/PREFIX]|none")]
    pub origin: Option<String>,

    /// Domain under which distributions get their generated names (`s<13 chars>.<domain>`).
    /// `.invalid` (RFC 6761 §6.4) never resolves: set a domain you own to publish the names.
    #[arg(long, value_name = "DOMAIN", default_value = "streamfront.invalid")]
    pub distribution_domain: String,

    /// Where the server keeps its state (the unpacked sample library, the disk cache).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/streamfront")]
    pub data_dir: PathBuf,

    /// The control store whose distributions are served alongside the config file's, followed
    /// while serving: a directory, or `s3://bucket[/prefix]` (S3 settings as for --origin).
    /// Default: <data-dir>/control.
    #[arg(long, value_name = "DIR|s3://BUCKET[/PREFIX]")]
    pub store: Option<String>,

    /// Address for RTMP and RTMPE; repeat for several.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:1935")]
    pub rtmp_listen: Vec<SocketAddr>,

    /// Address for HTTP: RTMPT, RTMPTE and crossdomain.xml, and RTMP/RTMPE too (told apart by
    /// the first byte); repeat for several.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:80")]
    pub http_listen: Vec<SocketAddr>,

    /// Address for RTMPS and HTTPS (told apart after the TLS handshake); repeat for several.
    /// Default: 0.0.0.0:443 when a certificate is configured, else none.
    #[arg(long, value_name = "ADDR")]
    pub https_listen: Vec<SocketAddr>,

    /// A TLS certificate, `DOMAIN[,DOMAIN…]=CERT.pem:KEY.pem` (a domain `*.example.com` matches
    /// one more label); repeat for several. Clients get the one for the name they ask for
    /// (SNI), else the default: the first, or in the config file's [[certificates]] the one
    /// with `default = true`. Reloaded when the files change. With certificates, the
    /// --api-listen listeners speak HTTPS.
    #[arg(long = "tls-cert", value_name = "DOMAINS=CERT:KEY", value_parser = parse_tls_cert)]
    pub certificates: Vec<CertificateEntry>,

    /// The port viewers reach HTTPS on, named in the `Location` of redirects to HTTPS (a cache
    /// behavior's `redirect-to-https`) when it is not 443: set it when a load balancer or port
    /// forward puts HTTPS on another port than the listener's. Default: the port of the first
    /// HTTPS listener.
    #[arg(long, value_name = "PORT")]
    pub https_public_port: Option<u16>,

    /// A PEM file of CA certificates that custom origins fetched over HTTPS (`https-only`,
    /// or `match-viewer` for HTTPS viewers) may chain to, besides the system's roots: for
    /// private origins with their own CA.
    #[arg(long, value_name = "FILE")]
    pub origin_ca_file: Option<PathBuf>,

    /// A CloudFront key pair whose signed URLs distributions with trusted signers accept,
    /// `ID=PUBLIC_KEY.pem` (the key pair id users sign with, e.g. `APKA…`; the RSA public key in
    /// PEM); repeat for several. Its account is `self`; the config file's [[key_pairs]] can name
    /// another account's key pair.
    #[arg(long = "key-pair", value_name = "ID=PUBLIC_KEY.pem", value_parser = parse_key_pair)]
    pub key_pairs: Vec<KeyPairEntry>,

    /// Address for GET /healthz and GET /metrics; repeat for several.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9935")]
    pub admin_listen: Vec<SocketAddr>,

    /// Address for the CloudFront API (`aws --endpoint-url http://ADDR cloudfront …`, boto3, the
    /// AWS SDKs; requests signed with SigV4); repeat for several. It needs a credential: the
    /// config file's [api] credentials, or STREAMFRONT_API_ACCESS_KEY_ID and
    /// STREAMFRONT_API_SECRET_ACCESS_KEY. Default: none (no API).
    #[arg(long, value_name = "ADDR")]
    pub api_listen: Vec<SocketAddr>,

    /// Seconds a signed API request's time (X-Amz-Date) may be from the server's clock.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub api_clock_skew: u64,

    /// Seconds HLS segments aim at (`/hls/<stream>/index.m3u8` on a streaming distribution's
    /// host), 1 to 60: each starts on a key frame, so a segment lasts at least one key frame
    /// interval.
    #[arg(long, value_name = "SECONDS", default_value_t = 6)]
    pub hls_segment_seconds: u32,

    /// Log filter (tracing EnvFilter syntax), e.g. `info`, `debug`, `sf_edge=debug`.
    #[arg(long, value_name = "FILTER", env = "STREAMFRONT_LOG", default_value = "info")]
    pub log: String,

    #[command(flatten)]
    pub cache: CacheSettings,

    #[command(flatten)]
    pub limits: LimitSettings,

    #[command(flatten)]
    pub access_logs: AccessLogSettings,

    /// Only in the config file: secrets do not belong on a command line.
    #[arg(skip)]
    pub s3: S3Section,

    /// `[api]`, only in the config file: secrets do not belong on a command line.
    #[arg(skip)]
    pub api: ApiSection,

    /// `[[streaming_distributions]]`, only in the config file.
    #[arg(skip)]
    pub streaming_distributions: Vec<StreamingDistributionEntry>,
}

/// The `--origin` value that turns the default distribution off.
pub const NO_DEFAULT_ORIGIN: &str = "none";

/// One `[[streaming_distributions]]` entry; see [`crate::distributions`] for how it is read.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StreamingDistributionEntry {
    /// Default: derived from `domain_name` (else `origin`), so it stays the same across restarts.
    pub id: Option<String>,
    /// Default: `s<13 chars>.<distribution_domain>`, derived from the id.
    pub domain_name: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// An S3 origin domain name (`bucket.s3.amazonaws.com`, `bucket.s3.<region>.amazonaws.com`,
    /// `bucket.s3-<region>.amazonaws.com`), `s3://bucket[/prefix]`, or a local directory.
    pub origin: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// Access logs into a bucket: `logging = { bucket = "logs.s3.amazonaws.com", prefix = "rtmp/" }`.
    pub logging: Option<LoggingEntry>,
    /// `TrustedSigners`: `self` and account numbers whose key pairs ([[key_pairs]]) sign its
    /// stream names; none: plays need no signature.
    #[serde(default)]
    pub trusted_signers: Vec<String>,
    /// `allow-all` (the default) or `secure-only`: RTMPS, RTMPE, RTMPTE and RTMPTS only; plain
    /// RTMP and RTMPT connections are rejected. The same as the tag
    /// `streamfront:viewer-protocol-policy` on a distribution the API created.
    pub viewer_protocol_policy: Option<String>,
}

/// The `logging` of a `[[streaming_distributions]]` entry: CloudFront's `Logging`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingEntry {
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
    /// `name.s3.amazonaws.com`: bucket `name` on the S3 endpoint of [s3].
    pub bucket: String,
    #[serde(default)]
    pub prefix: String,
}

/// One `[[key_pairs]]` entry, or one `--key-pair`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPairEntry {
    /// The key pair id signers put in `Key-Pair-Id` (CloudFront's were `APKA…`).
    pub id: String,
    /// The RSA public key, PEM (`BEGIN PUBLIC KEY` or `BEGIN RSA PUBLIC KEY`).
    pub public_key: PathBuf,
    /// The account that owns it, as distributions' trusted signers name it.
    #[serde(default = "self_account")]
    pub account: String,
}

impl Default for KeyPairEntry {
    fn default() -> Self {
        KeyPairEntry { id: String::new(), public_key: PathBuf::new(), account: self_account() }
    }
}

fn self_account() -> String {
    sf_sign::SELF_ACCOUNT.to_owned()
}

/// `ID=PUBLIC_KEY.pem`.
fn parse_key_pair(value: &str) -> Result<KeyPairEntry, String> {
    match value.split_once('=') {
        Some((id, path)) if !id.trim().is_empty() && !path.is_empty() => {
            Ok(KeyPairEntry { id: id.trim().to_owned(), public_key: path.into(), account: self_account() })
        }
        _ => Err("expected ID=PUBLIC_KEY.pem".to_owned()),
    }
}

impl KeyPairEntry {
    /// The key pair, its PEM file read and checked; the error names the id and the file.
    pub fn load(&self) -> Result<sf_sign::KeyPair, String> {
        let fail = |why: String| format!("key pair {}: {}: {why}", self.id, self.public_key.display());
        let pem = std::fs::read_to_string(&self.public_key).map_err(|e| fail(e.to_string()))?;
        sf_sign::KeyPair::from_pem(&self.id, &self.account, &pem).map_err(fail)
    }
}

/// Every key pair of `entries`, loaded; an error names the first bad one.
pub fn load_key_pairs(entries: &[KeyPairEntry]) -> Result<sf_sign::KeyPairs, String> {
    let mut keys = sf_sign::KeyPairs::default();
    for entry in entries {
        keys.insert(entry.load()?)?;
    }
    Ok(keys)
}

fn enabled_by_default() -> bool {
    true
}

/// One `[[certificates]]` entry, or one `--tls-cert`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateEntry {
    /// Host names, or `*.example.com` for every name one label under example.com.
    pub domains: Vec<String>,
    /// PEM certificate chain, leaf first (relative paths from the working directory).
    pub cert: PathBuf,
    /// PEM private key of the leaf, not encrypted.
    pub key: PathBuf,
    /// The certificate for clients that send no server name (SNI) or one no certificate has.
    #[serde(default)]
    pub default: bool,
}

/// `DOMAIN[,DOMAIN…]=CERT.pem:KEY.pem`; the key's path is after the last `:`.
fn parse_tls_cert(value: &str) -> Result<CertificateEntry, String> {
    let form = "expected DOMAIN[,DOMAIN…]=CERT.pem:KEY.pem";
    let (domains, files) = value.split_once('=').ok_or(form)?;
    let (cert, key) = files.rsplit_once(':').ok_or(form)?;
    let domains: Vec<String> = domains.split(',').map(|d| d.trim().to_owned()).collect();
    if domains.iter().any(String::is_empty) || cert.is_empty() || key.is_empty() {
        return Err(form.to_owned());
    }
    Ok(CertificateEntry { domains, cert: cert.into(), key: key.into(), default: false })
}

/// `[cache]`: the block cache in front of the origin.
#[derive(Debug, Clone, Args, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "Cache")]
pub struct CacheSettings {
    /// Memory for cached media blocks, in MiB.
    #[arg(long = "cache-memory-mb", value_name = "MIB", default_value_t = 512)]
    pub memory_mb: u64,

    /// Disk for cached media blocks under <data-dir>/cache, in MiB; 0 turns the disk tier off.
    #[arg(long = "cache-disk-mb", value_name = "MIB", default_value_t = 10_240)]
    pub disk_mb: u64,

    /// Size of a cache block (one origin read), in KiB, 64 to 65536.
    #[arg(long = "cache-block-kb", value_name = "KIB", default_value_t = 1024)]
    pub block_kb: u64,

    /// Seconds an object is fresh when the origin's Cache-Control does not say (CloudFront:
    /// 86400; never below 3600).
    #[arg(long = "cache-ttl", value_name = "SECONDS", default_value_t = 86_400)]
    pub ttl_seconds: u64,

    /// Seconds an expired object keeps playing from the cache while the origin fails.
    #[arg(long = "stale-if-error", value_name = "SECONDS", default_value_t = 86_400)]
    pub stale_if_error_seconds: u64,

    /// Seconds a name the origin does not have is answered from the cache; 0 asks the origin
    /// every time.
    #[arg(long = "negative-ttl", value_name = "SECONDS", default_value_t = 10)]
    pub negative_ttl_seconds: u64,
}

/// `[limits]`: how many connections, and how long each may wait.
#[derive(Debug, Clone, Args, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "Limits")]
pub struct LimitSettings {
    /// Most simultaneous connections; more are refused.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_connections: usize,

    /// Most open RTMPT/RTMPTE tunnel sessions in all.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub rtmpt_max_sessions: usize,

    /// Most open RTMPT/RTMPTE tunnel sessions per client address (raise it for viewers behind
    /// one NAT or proxy).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub rtmpt_sessions_per_client: usize,

    /// Seconds a client may take to finish the RTMP handshake.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub handshake_timeout: u64,

    /// Seconds a connection may sit idle: RTMP with nothing playing and nothing received,
    /// HTTP with no request open (HTTP/1.1: at most 30 s, the bound on a request's head).
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub idle_timeout: u64,

    /// Seconds a client may read nothing while data waits for it.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub stalled_timeout: u64,

    /// Seconds an RTMPT/RTMPTE tunnel session lives without a request from its client.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub rtmpt_session_timeout: u64,
}

/// `[access_logs]`: CloudFront's log files, for distributions whose `Logging` is enabled.
#[derive(Debug, Clone, Args, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
#[command(next_help_heading = "Access logs")]
pub struct AccessLogSettings {
    /// Seconds a record waits at most before its file goes to the logging bucket.
    #[arg(long = "access-log-flush-seconds", value_name = "SECONDS", default_value_t = 300)]
    pub flush_seconds: u64,

    /// `x-edge-location` of every record, e.g. `SEA4`. Default: the host name.
    #[arg(long = "edge-location", value_name = "NAME")]
    pub edge_location: Option<String>,

    /// Disk for records waiting under <data-dir>/logs (the bucket unreachable), in MiB; records
    /// beyond it are dropped and counted.
    #[arg(long = "access-log-spool-mb", value_name = "MIB", default_value_t = 1024)]
    pub spool_mb: u64,
}

impl Default for AccessLogSettings {
    fn default() -> Self {
        flag_defaults()
    }
}

/// `[s3]`: each setting here overrides the matching AWS_* environment variable.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct S3Section {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// `bucket.host` URLs instead of `host/bucket` (AWS itself; custom endpoints usually
    /// want path style, the default).
    pub virtual_hosted_style: Option<bool>,
    /// Unsigned requests, for public buckets.
    pub anonymous: Option<bool>,
    pub request_timeout_seconds: Option<u64>,
    pub max_retries: Option<usize>,
}

/// `[api]`: who may call the CloudFront API. After [`Settings::load`], `credentials` also holds
/// the one from the `STREAMFRONT_API_*` environment variables.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiSection {
    /// `credentials = [{ access_key_id = "…", secret_access_key = "…", session_token = "…" }]`.
    pub credentials: Vec<ApiCredential>,
    /// `[api.quotas]`: how many of each resource the API accepts (CloudFront's defaults).
    pub quotas: sf_api::ops::Quotas,
}

/// The environment variables of one more API credential (both or neither).
pub const API_ACCESS_KEY_ID_ENV: &str = "STREAMFRONT_API_ACCESS_KEY_ID";
pub const API_SECRET_ACCESS_KEY_ENV: &str = "STREAMFRONT_API_SECRET_ACCESS_KEY";

/// An environment variable's value: None when unset or empty, an error when unreadable.
type EnvLookup = Result<Option<String>, String>;

/// The credential that `STREAMFRONT_API_ACCESS_KEY_ID` and `STREAMFRONT_API_SECRET_ACCESS_KEY`
/// give (`env` looks a variable up), if any; an error when only one of them is set.
fn api_credential_from_env(env: impl Fn(&str) -> EnvLookup) -> Result<Option<ApiCredential>, String> {
    match (env(API_ACCESS_KEY_ID_ENV)?, env(API_SECRET_ACCESS_KEY_ENV)?) {
        (None, None) => Ok(None),
        (Some(access_key_id), Some(secret_access_key)) => {
            Ok(Some(ApiCredential { access_key_id, secret_access_key, session_token: None }))
        }
        (Some(_), None) => {
            Err(format!("{API_ACCESS_KEY_ID_ENV} is set but {API_SECRET_ACCESS_KEY_ENV} is not: set both"))
        }
        (None, Some(_)) => {
            Err(format!("{API_SECRET_ACCESS_KEY_ENV} is set but {API_ACCESS_KEY_ID_ENV} is not: set both"))
        }
    }
}

/// The process's environment variable `name`.
fn env_var(name: &str) -> EnvLookup {
    match std::env::var(name) {
        Ok(value) if value.is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(format!("{name} is not UTF-8")),
    }
}

/// The defaults of a settings section: what the flags' `default_value`s say.
fn flag_defaults<T: Args + FromArgMatches>() -> T {
    // Environment variables are the command line's business, not defaults.
    let command = T::augment_args(Command::new("defaults")).mut_args(|arg| arg.env(None::<&'static str>));
    let matches = command.try_get_matches_from(["defaults"]).expect("the declared defaults parse");
    T::from_arg_matches(&matches).expect("every setting has a default or is optional")
}

impl Default for Settings {
    fn default() -> Self {
        flag_defaults()
    }
}

impl Default for CacheSettings {
    fn default() -> Self {
        flag_defaults()
    }
}

impl Default for LimitSettings {
    fn default() -> Self {
        flag_defaults()
    }
}

/// `command` with each default moved from the parser into the help text (`[default: …]`, as
/// clap writes it), so that a flag not given leaves the config file's value alone.
pub fn defaults_in_help_only(command: Command) -> Command {
    command.mut_args(|arg| {
        let defaults: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
        if defaults.is_empty() {
            return arg;
        }
        let with_default = |help: &clap::builder::StyledStr| format!("{help} [default: {}]", defaults.join(", "));
        let help = arg.get_help().map(with_default).unwrap_or_default();
        let long_help = arg.get_long_help().map(with_default);
        let arg = arg.default_value(None::<&'static str>).help(help);
        match long_help {
            Some(long_help) => arg.long_help(long_help),
            None => arg,
        }
    })
}

impl Settings {
    /// Where the control store is: `store`, else `<data-dir>/control`.
    pub fn store_location(&self) -> Result<sf_control::ControlLocation, String> {
        match &self.store {
            Some(spec) => sf_control::ControlLocation::parse(spec).map_err(|e| format!("--store {spec}: {e}")),
            None => Ok(sf_control::ControlLocation::in_data_dir(&self.data_dir)),
        }
    }

    /// Defaults, then the config file (`--config`), then the flags given in `matches` (parsed
    /// by a command made with [`defaults_in_help_only`]), then the API credential of the
    /// environment; checked.
    pub fn load(matches: &ArgMatches) -> Result<Settings, String> {
        Settings::load_with_env(matches, env_var)
    }

    /// [`Settings::load`] with `env` to look environment variables up.
    fn load_with_env(matches: &ArgMatches, env: impl Fn(&str) -> EnvLookup) -> Result<Settings, String> {
        let file = matches.get_one::<PathBuf>("config");
        let mut settings = match file {
            Some(path) => read_file(path)?,
            None => Settings::default(),
        };
        settings.update_from_arg_matches(matches).map_err(|e| e.to_string().trim_end().to_owned())?;
        settings.check().map_err(|invalid| invalid.describe(matches, file.map(PathBuf::as_path)))?;
        settings.api.credentials.extend(api_credential_from_env(env)?);
        settings.api_credentials()?;
        Ok(settings)
    }

    /// Who may call the API; an error when a credential is invalid, or when `api_listen` is set
    /// and there is none.
    pub fn api_credentials(&self) -> Result<Credentials, String> {
        let credentials =
            Credentials::new(self.api.credentials.clone()).map_err(|e| format!("[api] credentials: {e}"))?;
        if !self.api_listen.is_empty() && credentials.is_empty() {
            return Err(format!(
                "--api-listen needs at least one API credential: set {API_ACCESS_KEY_ID_ENV} and \
                 {API_SECRET_ACCESS_KEY_ENV}, or add `credentials = [{{ access_key_id = \"…\", secret_access_key = \
                 \"…\" }}]` to the [api] section of the config file (--config)"
            ));
        }
        Ok(credentials)
    }

    /// The HTTPS listeners: `https_listen`, else 0.0.0.0:443 when there is a certificate.
    pub fn https_listeners(&self) -> Vec<SocketAddr> {
        if self.https_listen.is_empty() && !self.certificates.is_empty() {
            return vec![SocketAddr::from(([0, 0, 0, 0], 443))];
        }
        self.https_listen.clone()
    }

    /// `origin_ca_file`, read and checked; the error names the file.
    pub fn load_origin_ca(&self) -> Result<Option<std::sync::Arc<sf_cache::OriginCa>>, String> {
        let Some(path) = &self.origin_ca_file else { return Ok(None) };
        let fail = |why: String| format!("--origin-ca-file {}: {why}", path.display());
        let pem = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
        sf_cache::OriginCa::from_pem(pem).map(|ca| Some(std::sync::Arc::new(ca))).map_err(fail)
    }

    /// The port redirects to HTTPS name: `https_public_port`, else the first HTTPS
    /// listener's, else 443.
    pub fn https_public_port(&self) -> u16 {
        self.https_public_port.or_else(|| self.https_listeners().first().map(SocketAddr::port)).unwrap_or(443)
    }

    /// Every value in its range, the log filter valid, every listener address once.
    fn check(&self) -> Result<(), Invalid> {
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log) {
            return Err(Invalid::text(None, "log", &self.log, e));
        }
        self.check_listeners()?;
        let (cache, limits) = (Some("cache"), Some("limits"));
        let c = &self.cache;
        in_range(cache, "memory_mb", c.memory_mb, 1..=MAX_MIB)?;
        in_range(cache, "disk_mb", c.disk_mb, 0..=MAX_MIB)?;
        in_range(cache, "block_kb", c.block_kb, 64..=65536)?;
        in_range(cache, "ttl_seconds", c.ttl_seconds, 0..=MAX_SECONDS)?;
        in_range(cache, "stale_if_error_seconds", c.stale_if_error_seconds, 0..=MAX_SECONDS)?;
        in_range(cache, "negative_ttl_seconds", c.negative_ttl_seconds, 0..=MAX_SECONDS)?;
        let l = &self.limits;
        in_range(limits, "max_connections", l.max_connections, 1..=MAX_COUNT)?;
        in_range(limits, "rtmpt_max_sessions", l.rtmpt_max_sessions, 1..=MAX_COUNT)?;
        in_range(limits, "rtmpt_sessions_per_client", l.rtmpt_sessions_per_client, 1..=MAX_COUNT)?;
        in_range(limits, "handshake_timeout", l.handshake_timeout, 1..=MAX_SECONDS)?;
        in_range(limits, "idle_timeout", l.idle_timeout, 1..=MAX_SECONDS)?;
        in_range(limits, "stalled_timeout", l.stalled_timeout, 1..=MAX_SECONDS)?;
        in_range(limits, "rtmpt_session_timeout", l.rtmpt_session_timeout, 1..=MAX_SECONDS)?;
        in_range(None, "api_clock_skew", self.api_clock_skew, 1..=MAX_SECONDS)?;
        let logs = Some("access_logs");
        in_range(logs, "flush_seconds", self.access_logs.flush_seconds, 1..=MAX_SECONDS)?;
        in_range(logs, "spool_mb", self.access_logs.spool_mb, 1..=MAX_MIB)?;
        in_range(None, "hls_segment_seconds", self.hls_segment_seconds, 1..=60)?;
        if let Some(port) = self.https_public_port {
            in_range(None, "https_public_port", port, 1..=u16::MAX)?;
        }
        if let Some(seconds) = self.s3.request_timeout_seconds {
            in_range(Some("s3"), "request_timeout_seconds", seconds, 1..=MAX_SECONDS)?;
        }
        if let Some(retries) = self.s3.max_retries {
            in_range(Some("s3"), "max_retries", retries, 0..=100)?;
        }
        Ok(())
    }

    /// Players need at least one RTMP or HTTP listener, and an address can be bound once.
    fn check_listeners(&self) -> Result<(), Invalid> {
        if self.rtmp_listen.is_empty() && self.http_listen.is_empty() && self.https_listeners().is_empty() {
            let problem = "no listener for players: rtmp_listen, http_listen or https_listen needs an address";
            return Err(Invalid::text(None, "rtmp_listen", "[]", problem));
        }
        if !self.https_listen.is_empty() && self.certificates.is_empty() {
            let problem = "needs a certificate: add --tls-cert DOMAIN=CERT.pem:KEY.pem or [[certificates]]";
            return Err(Invalid::text(None, "https_listen", format_addrs(&self.https_listen), problem));
        }
        let https_listen = self.https_listeners();
        let lists = [
            ("rtmp_listen", &self.rtmp_listen),
            ("http_listen", &self.http_listen),
            ("https_listen", &https_listen),
            ("admin_listen", &self.admin_listen),
            ("api_listen", &self.api_listen),
        ];
        let mut seen = Vec::new();
        for (key, addrs) in lists {
            for addr in addrs {
                if let Some((first, _)) = seen.iter().find(|(_, a)| a == addr) {
                    return Err(Invalid::text(None, key, addr, format!("already listed in {first}")));
                }
                seen.push((key, *addr));
            }
        }
        Ok(())
    }
}

fn format_addrs(addrs: &[SocketAddr]) -> String {
    addrs.iter().map(SocketAddr::to_string).collect::<Vec<_>>().join(",")
}

pub fn read_file(path: &Path) -> Result<Settings, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("--config {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("--config {}: {}", path.display(), e.to_string().trim_end()))
}

/// A setting with a value it cannot have.
#[derive(Debug)]
struct Invalid {
    /// The config file's table (`cache`, `limits`), None at the top level.
    section: Option<&'static str>,
    /// The TOML key, which is also the clap id of its flag.
    key: &'static str,
    /// As written on a command line.
    value: String,
    /// As written in TOML.
    toml_value: String,
    problem: String,
}

fn in_range<T: PartialOrd + Display>(
    section: Option<&'static str>,
    key: &'static str,
    value: T,
    range: RangeInclusive<T>,
) -> Result<(), Invalid> {
    if range.contains(&value) {
        return Ok(());
    }
    let problem = format!("must be {}..={}", range.start(), range.end());
    Err(Invalid { section, key, value: value.to_string(), toml_value: value.to_string(), problem })
}

impl Invalid {
    fn text(section: Option<&'static str>, key: &'static str, value: impl Display, problem: impl Display) -> Invalid {
        let value = value.to_string();
        Invalid { section, key, toml_value: format!("{value:?}"), value, problem: problem.to_string() }
    }

    /// One line naming the setting the way the user gave it: `--flag value`, `VARIABLE=value`
    /// or `--config FILE: [section] key = value`.
    fn describe(&self, matches: &ArgMatches, file: Option<&Path>) -> String {
        let command = Settings::augment_args(Command::new("serve"));
        let arg = command.get_arguments().find(|arg| arg.get_id() == self.key);
        let flag = arg.and_then(|arg| arg.get_long()).map(|long| format!("--{long}"));
        // Only flags have a source in `matches` (asking about an [s3] key would panic).
        let source = arg.and_then(|arg| matches.value_source(arg.get_id().as_str()));
        let (value, problem) = (&self.value, &self.problem);
        match (source, flag) {
            (Some(ValueSource::CommandLine), Some(flag)) => format!("{flag} {value}: {problem}"),
            (Some(ValueSource::EnvVariable), Some(flag)) => {
                let variable = arg.and_then(|arg| arg.get_env()).map(|v| v.to_string_lossy().into_owned());
                format!("{}={value} ({flag}): {problem}", variable.unwrap_or_default())
            }
            _ => {
                let table = self.section.map(|s| format!("[{s}] ")).unwrap_or_default();
                let file = file.map(|f| format!("--config {}: ", f.display())).unwrap_or_default();
                format!("{file}{table}{} = {}: {problem}", self.key, self.toml_value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use clap::CommandFactory;

    use super::*;

    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    fn command() -> Command {
        defaults_in_help_only(Cli::command())
    }

    /// `streamfront serve ARGV` with `toml` as the config file, like main.rs does it, in an
    /// environment without STREAMFRONT_API_* variables.
    fn load(argv: &[&str], toml: &str) -> Result<Settings, String> {
        load_env(argv, toml, &[])
    }

    /// [`load`] in an environment with `env`'s variables.
    fn load_env(argv: &[&str], toml: &str, env: &[(&str, &str)]) -> Result<Settings, String> {
        let file = std::env::temp_dir().join(format!(
            "streamfront-settings-{}-{:?}.toml",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&file, toml).unwrap();
        let argv = ["serve", "--config", file.to_str().unwrap()].into_iter().chain(argv.iter().copied());
        let lookup = |name: &str| Ok(env.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()));
        let result = command()
            .try_get_matches_from(argv)
            .map_err(|e| e.to_string())
            .and_then(|m| Settings::load_with_env(&m, lookup));
        std::fs::remove_file(&file).unwrap();
        result
    }

    #[test]
    fn defaults_then_file_then_flags() {
        let s = load(&[], "").unwrap();
        assert_eq!(s.rtmp_listen, vec!["0.0.0.0:1935".parse().unwrap()]);
        assert_eq!(s.data_dir, PathBuf::from("/var/lib/streamfront"));
        assert_eq!(
            (s.limits.handshake_timeout, s.limits.rtmpt_session_timeout, s.cache.negative_ttl_seconds),
            (10, 30, 10)
        );
        let file = "origin = \"/srv/media\"\nrtmp_listen = [\"127.0.0.1:1936\"]\n[cache]\nmemory_mb = 64\n[s3]\nregion = \"eu-west-1\"\n";
        let s = load(&[], file).unwrap();
        assert_eq!(s.origin.as_deref(), Some("/srv/media"));
        assert_eq!(s.rtmp_listen, vec!["127.0.0.1:1936".parse().unwrap()]);
        assert_eq!(s.cache.memory_mb, 64);
        assert_eq!(s.cache.disk_mb, 10_240, "a key missing from a section keeps its default");
        assert_eq!(s.s3.region.as_deref(), Some("eu-west-1"));
        let s = load(&["--rtmp-listen", "127.0.0.1:2000", "--cache-memory-mb", "8"], file).unwrap();
        assert_eq!(s.rtmp_listen, vec!["127.0.0.1:2000".parse().unwrap()]);
        assert_eq!(s.cache.memory_mb, 8);
        assert_eq!(s.origin.as_deref(), Some("/srv/media"), "a flag not given leaves the file's value");
        assert_eq!((s.limits.rtmpt_max_sessions, s.limits.rtmpt_sessions_per_client), (10_000, 64));
        let s = load(&["--rtmpt-sessions-per-client", "500"], "[limits]\nrtmpt_max_sessions = 20000\n").unwrap();
        assert_eq!((s.limits.rtmpt_max_sessions, s.limits.rtmpt_sessions_per_client), (20_000, 500));
        let file = "[limits]\nhandshake_timeout = 5\nrtmpt_session_timeout = 7\n[cache]\nnegative_ttl_seconds = 0\n";
        let s = load(&["--handshake-timeout", "3"], file).unwrap();
        assert_eq!(
            (s.limits.handshake_timeout, s.limits.rtmpt_session_timeout, s.cache.negative_ttl_seconds),
            (3, 7, 0)
        );
    }

    #[test]
    fn bad_values_name_the_flag_or_the_key() {
        assert!(load(&[], "orgin = \"/x\"").unwrap_err().contains("orgin"));
        let err = load(&[], "[cache]\nblock_kb = 1").unwrap_err();
        assert!(err.ends_with(".toml: [cache] block_kb = 1: must be 64..=65536"), "{err}");
        assert_eq!(load(&["--cache-block-kb", "1"], "").unwrap_err(), "--cache-block-kb 1: must be 64..=65536");
        // The flag is named even when the file has a valid value for it.
        let err = load(&["--idle-timeout", "0"], "[limits]\nidle_timeout = 5").unwrap_err();
        assert_eq!(err, "--idle-timeout 0: must be 1..=31536000");
        let err = load(&["--log", "foo=bar=baz"], "").unwrap_err();
        assert!(err.starts_with("--log foo=bar=baz: ") && !err.contains('\n'), "{err}");
        assert!(load(&[], "log = \"foo=bar=baz\"").unwrap_err().contains("log = \"foo=bar=baz\": "));
        for zero in ["--max-connections", "--handshake-timeout", "--stalled-timeout", "--rtmpt-session-timeout"] {
            assert!(load(&[zero, "0"], "").unwrap_err().starts_with(&format!("{zero} 0: must be 1..=")), "{zero}");
        }
        let err = load(&["--http-listen", "127.0.0.1:5000", "--admin-listen", "127.0.0.1:5000"], "").unwrap_err();
        assert_eq!(err, "--admin-listen 127.0.0.1:5000: already listed in http_listen");
        let err = load(&[], "rtmp_listen = []\nhttp_listen = []").unwrap_err();
        assert!(err.contains("rtmp_listen = \"[]\": no listener for players"), "{err}");
        assert!(
            load(&[], "[s3]\nrequest_timeout_seconds = 0").unwrap_err().contains("[s3] request_timeout_seconds = 0")
        );
    }

    #[test]
    fn api_listeners_need_a_credential_from_the_file_or_the_environment() {
        let s = load(&[], "").unwrap();
        assert!(s.api_listen.is_empty() && s.api.credentials.is_empty(), "the API is off by default");
        assert_eq!(s.api_clock_skew, 900);

        let listen = ["--api-listen", "127.0.0.1:9936"];
        let err = load(&listen, "").unwrap_err();
        assert!(err.starts_with("--api-listen needs at least one API credential: set STREAMFRONT_API_ACCESS_KEY_ID and STREAMFRONT_API_SECRET_ACCESS_KEY, or add `credentials = ["), "{err}");
        assert!(err.contains("[api] section"), "{err}");

        let file = "[api]\ncredentials = [{ access_key_id = \"AKIDFILE\", secret_access_key = \"s1\", session_token = \"t1\" }]\n";
        let s = load(&listen, file).unwrap();
        assert_eq!(s.api_listen, vec!["127.0.0.1:9936".parse().unwrap()]);
        let credentials = s.api_credentials().unwrap();
        assert_eq!(credentials.lookup("AKIDFILE").unwrap().session_token.as_deref(), Some("t1"));

        let env = [("STREAMFRONT_API_ACCESS_KEY_ID", "AKIDENV"), ("STREAMFRONT_API_SECRET_ACCESS_KEY", "s2")];
        let s = load_env(&listen, file, &env).unwrap();
        let credentials = s.api_credentials().unwrap();
        assert!(credentials.lookup("AKIDENV").is_some() && credentials.lookup("AKIDFILE").is_some());
        assert!(load_env(&listen, "", &env).is_ok(), "the environment alone is enough");

        let err = load_env(&listen, "", &env[..1]).unwrap_err();
        assert_eq!(err, "STREAMFRONT_API_ACCESS_KEY_ID is set but STREAMFRONT_API_SECRET_ACCESS_KEY is not: set both");
        let err = load_env(&[], "", &env[1..]).unwrap_err();
        assert_eq!(err, "STREAMFRONT_API_SECRET_ACCESS_KEY is set but STREAMFRONT_API_ACCESS_KEY_ID is not: set both");
        let same_id = [("STREAMFRONT_API_ACCESS_KEY_ID", "AKIDFILE"), ("STREAMFRONT_API_SECRET_ACCESS_KEY", "s2")];
        let err = load_env(&listen, file, &same_id).unwrap_err();
        assert_eq!(err, "[api] credentials: API access_key_id AKIDFILE is listed twice");
        let err = load(&[], "[api]\ncredentials = [{ access_key_id = \"A\", secret_access_key = \"\" }]").unwrap_err();
        assert!(err.contains("empty secret_access_key"), "{err}");
        assert!(
            load(&[], "[api]\ncredentials = [{ access_key_id = \"A\" }]").unwrap_err().contains("secret_access_key")
        );

        assert_eq!(load(&["--api-clock-skew", "0"], "").unwrap_err(), "--api-clock-skew 0: must be 1..=31536000");
        assert_eq!(load(&["--api-clock-skew", "60"], "").unwrap().api_clock_skew, 60);
        let err = load(&["--api-listen", "127.0.0.1:9935"], file).unwrap_err();
        assert_eq!(err, "--api-listen 127.0.0.1:9935: already listed in admin_listen");
    }

    #[test]
    fn certificates_from_flags_or_the_file_turn_https_on() {
        let s = load(&[], "").unwrap();
        assert!(s.certificates.is_empty() && s.https_listeners().is_empty(), "no HTTPS without a certificate");

        let s = load(&["--tls-cert", "a.example.com,*.cdn.example.com=/etc/a.pem:/etc/a.key"], "").unwrap();
        let entry = CertificateEntry {
            domains: vec!["a.example.com".into(), "*.cdn.example.com".into()],
            cert: "/etc/a.pem".into(),
            key: "/etc/a.key".into(),
            default: false,
        };
        assert_eq!(s.certificates, vec![entry]);
        assert_eq!(s.https_listeners(), vec!["0.0.0.0:443".parse().unwrap()], "443 by default with a certificate");

        let file = "https_listen = [\"127.0.0.1:8443\"]\n[[certificates]]\ndomains = [\"b\"]\ncert = \"b.pem\"\nkey = \"b.key\"\ndefault = true\n";
        let s = load(&[], file).unwrap();
        assert_eq!(s.https_listeners(), vec!["127.0.0.1:8443".parse().unwrap()]);
        assert!(s.certificates[0].default);
        let s = load(&["--tls-cert", "c=c.pem:c.key"], file).unwrap();
        assert_eq!(s.certificates.len(), 1, "the flags replace the file's certificates");
        assert_eq!(s.certificates[0].domains, ["c"]);

        let err = load(&["--https-listen", "127.0.0.1:8443"], "").unwrap_err();
        assert_eq!(
            err,
            "--https-listen 127.0.0.1:8443: needs a certificate: add --tls-cert DOMAIN=CERT.pem:KEY.pem or [[certificates]]"
        );
        for bad in ["a.pem:a.key", "a=a.pem", "=a.pem:a.key", "a,=a.pem:a.key", "a=:a.key", "a=a.pem:"] {
            let err = load(&["--tls-cert", bad], "").unwrap_err();
            assert!(err.contains("expected DOMAIN[,DOMAIN…]=CERT.pem:KEY.pem"), "{bad}: {err}");
        }
        let err =
            load(&["--https-listen", "127.0.0.1:5000", "--http-listen", "127.0.0.1:5000", "--tls-cert", "a=a:b"], "");
        assert_eq!(err.unwrap_err(), "--https-listen 127.0.0.1:5000: already listed in http_listen");
        let s =
            load(&["--https-listen", "127.0.0.1:8443", "--tls-cert", "a=a:b"], "rtmp_listen = []\nhttp_listen = []");
        assert!(s.is_ok(), "an HTTPS listener alone serves players");
    }

    #[test]
    fn the_defaults_are_valid() {
        Settings::default().check().unwrap();
    }

    #[test]
    fn help_shows_every_default() {
        let help = command().render_long_help().to_string();
        for arg in Settings::augment_args(Command::new("serve")).get_arguments() {
            for default in arg.get_default_values() {
                let shown = format!("[default: {}]", default.to_string_lossy());
                assert!(help.contains(&shown), "--{} {shown} missing from the help:\n{help}", arg.get_long().unwrap());
            }
        }
    }

    const DOC: &str = include_str!("../../../docs/configuration.md");

    /// The ```toml blocks of the doc, with commented-out settings (`# key = value`) put back.
    fn doc_examples() -> Vec<String> {
        let mut blocks = Vec::new();
        let mut rest = DOC;
        while let Some(start) = rest.find("```toml\n") {
            let body = &rest[start + 8..];
            let end = body.find("```").expect("an unterminated ```toml block in docs/configuration.md");
            blocks.push(body[..end].lines().map(uncomment_setting).collect::<Vec<_>>().join("\n"));
            rest = &body[end + 3..];
        }
        assert!(!blocks.is_empty(), "no ```toml example in docs/configuration.md");
        blocks
    }

    fn uncomment_setting(line: &str) -> &str {
        let Some(setting) = line.trim_start().strip_prefix('#').map(str::trim_start) else { return line };
        let key = setting.split('=').next().unwrap_or("").trim();
        let is_setting =
            setting.contains('=') && !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        if is_setting { setting } else { line }
    }

    /// `section.key` of every leaf of a TOML table.
    fn key_paths(table: &toml::Table, prefix: &str, out: &mut BTreeSet<String>) {
        for (key, value) in table {
            match value {
                toml::Value::Table(inner) => key_paths(inner, &format!("{prefix}{key}."), out),
                _ => {
                    out.insert(format!("{prefix}{key}"));
                }
            }
        }
    }

    /// Settings with every optional value present, so that serializing it shows every key.
    fn every_key_set() -> Settings {
        // No `..` here: a new [s3] key does not compile until it is listed.
        let s3 = S3Section {
            region: Some(String::new()),
            endpoint: Some(String::new()),
            access_key_id: Some(String::new()),
            secret_access_key: Some(String::new()),
            session_token: Some(String::new()),
            virtual_hosted_style: Some(false),
            anonymous: Some(false),
            request_timeout_seconds: Some(1),
            max_retries: Some(1),
        };
        let streaming_distributions = vec![StreamingDistributionEntry {
            id: Some(String::new()),
            domain_name: Some(String::new()),
            logging: Some(LoggingEntry::default()),
            viewer_protocol_policy: Some(String::new()),
            ..StreamingDistributionEntry::default()
        }];
        let api = ApiSection {
            credentials: vec![ApiCredential {
                access_key_id: String::new(),
                secret_access_key: String::new(),
                session_token: Some(String::new()),
            }],
            quotas: Default::default(),
        };
        Settings {
            origin: Some(String::new()),
            store: Some(String::new()),
            s3,
            api,
            streaming_distributions,
            certificates: vec![CertificateEntry::default()],
            access_logs: AccessLogSettings { edge_location: Some(String::new()), ..AccessLogSettings::default() },
            key_pairs: vec![KeyPairEntry::default()],
            https_public_port: Some(443),
            origin_ca_file: Some(PathBuf::new()),
            ..Settings::default()
        }
    }

    #[test]
    fn doc_examples_parse_with_the_real_type() {
        for example in doc_examples() {
            let settings: Settings = toml::from_str(&example)
                .unwrap_or_else(|e| panic!("a docs/configuration.md example does not parse: {e}\n{example}"));
            settings.check().unwrap_or_else(|e| panic!("a docs/configuration.md example is invalid: {e:?}"));
        }
    }

    #[test]
    fn every_key_and_flag_is_documented() {
        let mut documented = BTreeSet::new();
        for example in doc_examples() {
            key_paths(&toml::from_str(&example).unwrap(), "", &mut documented);
        }
        let mut declared = BTreeSet::new();
        key_paths(&toml::Table::try_from(every_key_set()).unwrap(), "", &mut declared);
        let missing: Vec<_> = declared.difference(&documented).collect();
        assert!(missing.is_empty(), "keys missing from the docs/configuration.md examples: {missing:?}");

        for arg in Settings::augment_args(Command::new("serve")).get_arguments() {
            let flag = format!("--{}", arg.get_long().unwrap());
            let row = DOC.lines().find(|l| l.starts_with(&format!("| `{flag}")));
            let row = row.unwrap_or_else(|| panic!("docs/configuration.md has no table row for {flag}"));
            for default in arg.get_default_values() {
                let default = format!("`{}`", default.to_string_lossy());
                assert!(
                    row.contains(&default),
                    "the docs/configuration.md row of {flag} does not say {default}: {row}"
                );
            }
        }
    }
}
