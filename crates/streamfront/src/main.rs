//! The `streamfront` binary: command line and configuration, wiring only.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser, Subcommand};
use sf_cache::{CacheConfig, DiskConfig, EdgeCache, Freshness, LocalOrigin, Origin, S3Settings};
use sf_edge::rtmpt::TunnelLimits;
use sf_edge::{Edge, EdgeConfig, Timeouts};
use tracing::info;

mod api;
mod dist_cli;
mod distributions;
mod follow;
mod sample;
mod settings;

use settings::Settings;

/// Self-hosted media CDN in the form of Amazon CloudFront's RTMP and web distributions.
/// The shape of the command line. It is read with clap's builder rather than `Cli::parse`:
/// see [`settings::defaults_in_help_only`].
#[derive(Debug, Parser)]
#[command(name = "streamfront", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve media to RTMP players (rtmp://HOST/cfx/st/<stream name>).
    Serve(Box<Settings>),
    /// Put, delete and list the streaming distributions of the control store (--store).
    Distributions {
        #[command(subcommand)]
        command: dist_cli::DistributionsCommand,
    },
}

fn main() -> ExitCode {
    let matches = Cli::command().mut_subcommand("serve", settings::defaults_in_help_only).get_matches();
    match matches.subcommand() {
        Some(("serve", matches)) => serve(matches),
        Some(("distributions", matches)) => match dist_cli::DistributionsCommand::from_arg_matches(matches) {
            Ok(command) => dist_cli::run(command),
            Err(e) => e.exit(),
        },
        _ => unreachable!("clap requires a subcommand"),
    }
}

fn serve(matches: &ArgMatches) -> ExitCode {
    let settings = match Settings::load(matches) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("streamfront: {message}");
            return ExitCode::FAILURE;
        }
    };
    let filter = match tracing_subscriber::EnvFilter::try_new(&settings.log) {
        Ok(filter) => filter,
        Err(e) => unreachable!("Settings::load checks the log filter: {e}"),
    };
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();

    if let Err(message) = std::fs::create_dir_all(&settings.data_dir) {
        eprintln!("streamfront: --data-dir {}: {message}", settings.data_dir.display());
        return ExitCode::FAILURE;
    }
    let statics = match distributions::from_entries(&settings.streaming_distributions, &settings.distribution_domain) {
        Ok(statics) => statics,
        Err(message) => {
            eprintln!("streamfront: {message}");
            return ExitCode::FAILURE;
        }
    };
    let origin = match &settings.origin {
        Some(spec) if spec == settings::NO_DEFAULT_ORIGIN => None,
        Some(spec) => match Origin::from_spec_with(spec, &s3_settings(&settings.s3)) {
            Ok(origin) => Some(origin),
            Err(message) => {
                eprintln!("streamfront: --origin {spec}: {message}");
                return ExitCode::FAILURE;
            }
        },
        None => match sample::unpack(&settings.data_dir) {
            Ok(dir) => Some(Origin::Local(LocalOrigin::new(dir))),
            Err(message) => {
                eprintln!(
                    "streamfront: --data-dir {}: cannot unpack the sample library: {message}",
                    settings.data_dir.display()
                );
                return ExitCode::FAILURE;
            }
        },
    };
    let origin_name = origin.as_ref().map_or_else(|| "none".to_owned(), Origin::describe);
    let ttl = Duration::from_secs(settings.cache.ttl_seconds);
    let cache_config = CacheConfig {
        block_size: settings.cache.block_kb * 1024,
        memory_bytes: settings.cache.memory_mb << 20,
        disk: (settings.cache.disk_mb > 0)
            .then(|| DiskConfig::under_data_dir(&settings.data_dir, settings.cache.disk_mb << 20)),
        freshness: Freshness {
            default_ttl: ttl,
            stale_if_error: Duration::from_secs(settings.cache.stale_if_error_seconds),
            ..Freshness::default()
        },
        negative_ttl: Duration::from_secs(settings.cache.negative_ttl_seconds),
        ..CacheConfig::default()
    };
    let cache = match EdgeCache::try_new(cache_config) {
        Ok(cache) => cache,
        Err(message) => {
            eprintln!("streamfront: --data-dir {}: {message}", settings.data_dir.display());
            return ExitCode::FAILURE;
        }
    };
    let tls = match load_certificates(&settings.certificates) {
        Ok(tls) => tls,
        Err(message) => {
            eprintln!("streamfront: TLS certificate: {message}");
            return ExitCode::FAILURE;
        }
    };
    let origin_ca = match settings.load_origin_ca() {
        Ok(ca) => ca,
        Err(message) => {
            eprintln!("streamfront: {message}");
            return ExitCode::FAILURE;
        }
    };
    let key_pairs = match settings::load_key_pairs(&settings.key_pairs) {
        Ok(key_pairs) => key_pairs,
        Err(message) => {
            eprintln!("streamfront: {message}");
            return ExitCode::FAILURE;
        }
    };
    let config = EdgeConfig {
        rtmp_listen: settings.rtmp_listen.clone(),
        http_listen: settings.http_listen.clone(),
        admin_listen: settings.admin_listen.clone(),
        https_listen: settings.https_listeners(),
        tls: tls.clone(),
        https_public_port: settings.https_public_port(),
        max_connections: settings.limits.max_connections,
        timeouts: Timeouts {
            handshake: Duration::from_secs(settings.limits.handshake_timeout),
            idle: Duration::from_secs(settings.limits.idle_timeout),
            stalled: Duration::from_secs(settings.limits.stalled_timeout),
        },
        tunnels: TunnelLimits {
            max_sessions: settings.limits.rtmpt_max_sessions,
            max_sessions_per_client: settings.limits.rtmpt_sessions_per_client,
            expiry: Duration::from_secs(settings.limits.rtmpt_session_timeout),
        },
        session: Default::default(),
        key_pairs,
        hls_segment_seconds: settings.hls_segment_seconds,
    };
    let s3 = s3_settings(&settings.s3);
    let default = origin.map(|origin| (cache.origin_cache(origin), origin_name.clone()));
    let mut routing = follow::Routing::new(Arc::clone(&cache), s3.clone(), default);
    routing.set_origin_ca(origin_ca);
    let declared: Vec<sf_api::server::Declared> = statics
        .iter()
        .map(|d| {
            let config = &d.record.streaming_distribution_config;
            let names = std::iter::once(d.record.domain_name.clone()).chain(config.aliases.iter().cloned()).collect();
            sf_api::server::Declared { id: d.record.id.clone(), names }
        })
        .collect();
    for d in statics {
        match Origin::from_spec_with(&d.origin_spec, &s3) {
            Ok(origin) => routing.add_static(d.record, origin),
            Err(message) => {
                eprintln!("streamfront: streaming distribution {}: origin {}: {message}", d.record.id, d.origin_spec);
                return ExitCode::FAILURE;
            }
        }
    }
    if let Err(message) = routing.build(&Default::default()) {
        eprintln!("streamfront: [[streaming_distributions]] {message}");
        return ExitCode::FAILURE;
    }
    let edge_id = match follow::edge_id(&settings.data_dir) {
        Ok(id) => id,
        Err(message) => {
            eprintln!("streamfront: --data-dir {}: {message}", settings.data_dir.display());
            return ExitCode::FAILURE;
        }
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("streamfront: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The store is read once before serving, so a restart serves its distributions at once.
    let started = runtime.block_on(async {
        let store = follow::open_store(&settings, sf_control::StoreOptions::default()).await?;
        let applied = store
            .load::<sf_api::state::ControlState>()
            .await
            .map_err(|e| format!("--store {}: {e}", store.describe()))?;
        let served = routing.build(&applied.state).map_err(|e| format!("--store {}: {e}", store.describe()))?;
        Ok::<_, String>((store, served, applied.state))
    });
    let (store, served, stored) = match started {
        Ok(started) => started,
        Err(message) => {
            eprintln!("streamfront: {message}");
            return ExitCode::FAILURE;
        }
    };
    for d in served.all() {
        info!(distribution = %d.id, domain = d.domain_name.as_deref().unwrap_or("(default)"), aliases = ?d.aliases, enabled = d.enabled, origin = %d.origin, "serving");
    }
    let edge = Edge::with_distributions(config, &cache, served);
    edge.replace_key_groups(follow::key_groups(&stored, edge.signatures.keys()));
    let following = runtime.block_on(async { follow::spawn(Arc::clone(&store), Arc::clone(&edge), routing, edge_id) });
    let follower = match following {
        Ok(follower) => follower,
        Err(message) => {
            eprintln!("streamfront: {message}");
            return ExitCode::FAILURE;
        }
    };
    let access_logs = match runtime.block_on(async { start_access_logs(&settings, &edge) }) {
        Ok(service) => service,
        Err(message) => {
            eprintln!("streamfront: {message}");
            return ExitCode::FAILURE;
        }
    };
    let api = match runtime.block_on(api::start(&settings, store, follower, &edge, declared, tls)) {
        Ok(api) => api,
        Err(message) => {
            eprintln!("streamfront: {message}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            wait_for_signal().await;
            info!("shutting down");
            let _ = stop.send(true);
        });
        api.serve(stopped.clone());
        info!(origin = %origin_name, "streamfront {} starting", env!("CARGO_PKG_VERSION"));
        let served = sf_edge::run(edge, stopped).await;
        // After the connections closed (their stop and disconnect records are in).
        access_logs.shutdown(ACCESS_LOG_SHUTDOWN).await;
        match served {
            Ok(()) => {
                info!("stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("streamfront: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// How long the access logs may take to deliver what is pending when the server stops.
const ACCESS_LOG_SHUTDOWN: Duration = Duration::from_secs(20);

/// Starts writing access logs under `<data-dir>/logs` and delivering them.
fn start_access_logs(settings: &Settings, edge: &Edge) -> Result<sf_logs::Service, String> {
    let logs = &settings.access_logs;
    let edge_location = logs.edge_location.clone().unwrap_or_else(host_name);
    let config = sf_logs::LogSettings {
        dir: settings.data_dir.join("logs"),
        flush: Duration::from_secs(logs.flush_seconds),
        edge_location,
        spool_bytes: logs.spool_mb << 20,
        s3: s3_settings(&settings.s3),
    };
    sf_logs::start(&edge.access_logs, config)
}

/// The machine's host name (Linux), the default `x-edge-location`.
fn host_name() -> String {
    let name =
        std::fs::read_to_string("/proc/sys/kernel/hostname").or_else(|_| std::fs::read_to_string("/etc/hostname"));
    name.ok().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).unwrap_or_else(|| "-".to_owned())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// The configured certificates, loaded and checked (None: no TLS).
fn load_certificates(entries: &[settings::CertificateEntry]) -> Result<Option<Arc<sf_edge::tls::Tls>>, String> {
    if entries.is_empty() {
        return Ok(None);
    }
    let specs = entries
        .iter()
        .map(|entry| sf_edge::tls::CertificateSpec {
            domains: entry.domains.clone(),
            cert: entry.cert.clone(),
            key: entry.key.clone(),
            default: entry.default,
        })
        .collect();
    sf_edge::tls::Tls::load(specs).map(Some)
}

/// S3 settings from the config file; what it leaves unset comes from the AWS_* environment.
pub(crate) fn s3_settings(section: &settings::S3Section) -> S3Settings {
    let defaults = S3Settings::default();
    S3Settings {
        region: section.region.clone(),
        endpoint: section.endpoint.clone(),
        access_key_id: section.access_key_id.clone(),
        secret_access_key: section.secret_access_key.clone(),
        session_token: section.session_token.clone(),
        virtual_hosted_style: section.virtual_hosted_style.unwrap_or(defaults.virtual_hosted_style),
        anonymous: section.anonymous.unwrap_or(defaults.anonymous),
        request_timeout: section.request_timeout_seconds.map_or(defaults.request_timeout, Duration::from_secs),
        max_retries: section.max_retries.unwrap_or(defaults.max_retries),
        ..defaults
    }
}
