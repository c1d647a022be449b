//! Settings: command-line flags over the TOML config file over built-in defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

pub const DEFAULT_DATA_DIR: &str = "/var/lib/streamfront";
pub const DEFAULT_RTMP_LISTEN: &str = "0.0.0.0:1935";
pub const DEFAULT_HTTP_LISTEN: &str = "0.0.0.0:80";
pub const DEFAULT_ADMIN_LISTEN: &str = "127.0.0.1:9935";

/// Flags of `streamfront serve`. Each one, when given, overrides the config file.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML config file with the same settings as these flags (see docs/configuration.md).
    #[arg(long, value_name = "FILE", env = "STREAMFRONT_CONFIG")]
    pub config: Option<PathBuf>,

    /// Media origin: a local directory, or `s3://bucket[/prefix]` (credentials, region and
    /// endpoint from the AWS_* environment variables or the config file's [s3] section).
    /// Without it, the sample library built into the binary is served.
    #[arg(long, value_name = "DIR|s3://BUCKET[/PREFIX]")]
    pub origin: Option<String>,

    /// Where the server keeps its state (the unpacked sample library, the disk cache)
    /// [default: /var/lib/streamfront].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Address for RTMP and RTMPE; repeat for several [default: 0.0.0.0:1935].
    #[arg(long = "rtmp-listen", value_name = "ADDR")]
    pub rtmp_listen: Vec<SocketAddr>,

    /// Address for HTTP: RTMPT, RTMPTE and crossdomain.xml, and RTMP/RTMPE too (told apart by
    /// the first byte); repeat for several [default: 0.0.0.0:80].
    #[arg(long = "http-listen", value_name = "ADDR")]
    pub http_listen: Vec<SocketAddr>,

    /// Address for GET /healthz and GET /metrics; repeat for several [default: 127.0.0.1:9935].
    #[arg(long = "admin-listen", value_name = "ADDR")]
    pub admin_listen: Vec<SocketAddr>,

    /// Memory for cached media blocks, in MiB [default: 512].
    #[arg(long, value_name = "MIB")]
    pub cache_memory_mb: Option<u64>,

    /// Disk for cached media blocks under <data-dir>/cache, in MiB; 0 turns the disk tier off
    /// [default: 10240].
    #[arg(long, value_name = "MIB")]
    pub cache_disk_mb: Option<u64>,

    /// Seconds an object is fresh when the origin's Cache-Control does not say (CloudFront:
    /// 86400; never below 3600) [default: 86400].
    #[arg(long, value_name = "SECONDS")]
    pub cache_ttl: Option<u64>,

    /// Seconds an expired object keeps playing from the cache while the origin fails
    /// [default: 86400].
    #[arg(long, value_name = "SECONDS")]
    pub stale_if_error: Option<u64>,

    /// Size of a cache block (one origin read), in KiB, 64 to 65536 [default: 1024].
    #[arg(long, value_name = "KIB", value_parser = clap::value_parser!(u64).range(64..=65536))]
    pub cache_block_kb: Option<u64>,

    /// Most simultaneous connections; more are refused [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,

    /// Most open RTMPT/RTMPTE tunnel sessions in all [default: 10000].
    #[arg(long, value_name = "N")]
    pub rtmpt_max_sessions: Option<usize>,

    /// Most open RTMPT/RTMPTE tunnel sessions per client address (raise it for viewers behind
    /// one NAT or proxy) [default: 64].
    #[arg(long, value_name = "N")]
    pub rtmpt_sessions_per_client: Option<usize>,

    /// Seconds a connection may sit with nothing playing and nothing received [default: 120].
    #[arg(long, value_name = "SECONDS")]
    pub idle_timeout: Option<u64>,

    /// Seconds a client may read nothing while data waits for it [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub stalled_timeout: Option<u64>,

    /// Log filter (tracing EnvFilter syntax), e.g. `info`, `debug`, `sf_edge=debug`
    /// [default: info].
    #[arg(long, value_name = "FILTER", env = "STREAMFRONT_LOG")]
    pub log: Option<String>,
}

/// The config file. Unknown keys are errors, so a typo never goes unnoticed.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub origin: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub rtmp_listen: Option<Vec<SocketAddr>>,
    pub http_listen: Option<Vec<SocketAddr>>,
    pub admin_listen: Option<Vec<SocketAddr>>,
    pub log: Option<String>,
    #[serde(default)]
    pub cache: CacheSection,
    #[serde(default)]
    pub limits: LimitsSection,
    #[serde(default)]
    pub s3: S3Section,
}

/// S3 settings; each one set here overrides the matching AWS_* environment variable.
#[derive(Debug, Default, Deserialize)]
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

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSection {
    pub memory_mb: Option<u64>,
    pub disk_mb: Option<u64>,
    pub block_kb: Option<u64>,
    pub ttl_seconds: Option<u64>,
    pub stale_if_error_seconds: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsSection {
    pub max_connections: Option<usize>,
    pub rtmpt_max_sessions: Option<usize>,
    pub rtmpt_sessions_per_client: Option<usize>,
    pub idle_timeout: Option<u64>,
    pub stalled_timeout: Option<u64>,
}

/// Everything resolved.
#[derive(Debug)]
pub struct Settings {
    pub origin: Option<String>,
    pub data_dir: PathBuf,
    pub rtmp_listen: Vec<SocketAddr>,
    pub http_listen: Vec<SocketAddr>,
    pub admin_listen: Vec<SocketAddr>,
    pub cache_memory_mb: u64,
    pub cache_disk_mb: u64,
    pub cache_ttl: u64,
    pub stale_if_error: u64,
    pub cache_block_kb: u64,
    pub max_connections: usize,
    pub rtmpt_max_sessions: usize,
    pub rtmpt_sessions_per_client: usize,
    pub idle_timeout: u64,
    pub stalled_timeout: u64,
    pub log: String,
    pub s3: S3Section,
}

/// Reads the config file, if any.
pub fn load_file(path: Option<&Path>) -> Result<FileConfig, String> {
    let Some(path) = path else { return Ok(FileConfig::default()) };
    let text = std::fs::read_to_string(path).map_err(|e| format!("--config {}: {e}", path.display()))?;
    toml::from_str(&text).map_err(|e| format!("--config {}: {}", path.display(), e.to_string().trim_end()))
}

impl Settings {
    pub fn resolve(args: ServeArgs, file: FileConfig) -> Result<Settings, String> {
        let addrs = |flag: Vec<SocketAddr>, file: Option<Vec<SocketAddr>>, default: &str| {
            if !flag.is_empty() {
                flag
            } else {
                file.unwrap_or_else(|| vec![default.parse().expect("default addresses parse")])
            }
        };
        let block_kb = args.cache_block_kb.or(file.cache.block_kb).unwrap_or(1024);
        if !(64..=65536).contains(&block_kb) {
            return Err(format!("cache block size {block_kb} KiB is outside 64..=65536"));
        }
        Ok(Settings {
            origin: args.origin.or(file.origin),
            data_dir: args.data_dir.or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            rtmp_listen: addrs(args.rtmp_listen, file.rtmp_listen, DEFAULT_RTMP_LISTEN),
            http_listen: addrs(args.http_listen, file.http_listen, DEFAULT_HTTP_LISTEN),
            admin_listen: addrs(args.admin_listen, file.admin_listen, DEFAULT_ADMIN_LISTEN),
            cache_memory_mb: args.cache_memory_mb.or(file.cache.memory_mb).unwrap_or(512),
            cache_disk_mb: args.cache_disk_mb.or(file.cache.disk_mb).unwrap_or(10_240),
            cache_ttl: args.cache_ttl.or(file.cache.ttl_seconds).unwrap_or(86_400),
            stale_if_error: args.stale_if_error.or(file.cache.stale_if_error_seconds).unwrap_or(86_400),
            cache_block_kb: block_kb,
            max_connections: args.max_connections.or(file.limits.max_connections).unwrap_or(10_000),
            rtmpt_max_sessions: args.rtmpt_max_sessions.or(file.limits.rtmpt_max_sessions).unwrap_or(10_000),
            rtmpt_sessions_per_client: args
                .rtmpt_sessions_per_client
                .or(file.limits.rtmpt_sessions_per_client)
                .unwrap_or(64),
            idle_timeout: args.idle_timeout.or(file.limits.idle_timeout).unwrap_or(120),
            stalled_timeout: args.stalled_timeout.or(file.limits.stalled_timeout).unwrap_or(60),
            log: args.log.or(file.log).unwrap_or_else(|| "info".to_owned()),
            s3: file.s3,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn resolve(argv: &[&str], toml: &str) -> Result<Settings, String> {
        let cli =
            Cli::try_parse_from(std::iter::once("serve").chain(argv.iter().copied())).map_err(|e| e.to_string())?;
        let file: FileConfig = toml::from_str(toml).map_err(|e| e.to_string())?;
        Settings::resolve(cli.args, file)
    }

    #[test]
    fn defaults_then_file_then_flags() {
        let s = resolve(&[], "").unwrap();
        assert_eq!(s.rtmp_listen, vec!["0.0.0.0:1935".parse().unwrap()]);
        assert_eq!(s.data_dir, PathBuf::from(DEFAULT_DATA_DIR));
        let file = "origin = \"/srv/media\"\nrtmp_listen = [\"127.0.0.1:1936\"]\n[cache]\nmemory_mb = 64\n[s3]\nregion = \"eu-west-1\"\n";
        let s = resolve(&[], file).unwrap();
        assert_eq!(s.origin.as_deref(), Some("/srv/media"));
        assert_eq!(s.rtmp_listen, vec!["127.0.0.1:1936".parse().unwrap()]);
        assert_eq!(s.cache_memory_mb, 64);
        assert_eq!(s.s3.region.as_deref(), Some("eu-west-1"));
        let s = resolve(&["--rtmp-listen", "127.0.0.1:2000", "--cache-memory-mb", "8"], file).unwrap();
        assert_eq!(s.rtmp_listen, vec!["127.0.0.1:2000".parse().unwrap()]);
        assert_eq!(s.cache_memory_mb, 8);
        assert_eq!((s.rtmpt_max_sessions, s.rtmpt_sessions_per_client), (10_000, 64));
        let s = resolve(&["--rtmpt-sessions-per-client", "500"], "[limits]\nrtmpt_max_sessions = 20000\n").unwrap();
        assert_eq!((s.rtmpt_max_sessions, s.rtmpt_sessions_per_client), (20_000, 500));
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        assert!(resolve(&[], "orgin = \"/x\"").is_err());
        assert!(resolve(&[], "[cache]\nblock_kb = 1").is_err());
        assert!(resolve(&["--cache-block-kb", "1"], "").is_err());
    }
}
