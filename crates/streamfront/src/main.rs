//! The `streamfront` binary: command line and configuration, wiring only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use sf_cache::{CacheConfig, EdgeCache, LocalOrigin, Origin};
use sf_edge::{Edge, EdgeConfig, Timeouts};
use tracing::info;

mod sample;

/// Self-hosted media CDN in the form of Amazon CloudFront's RTMP and web distributions.
#[derive(Debug, Parser)]
#[command(name = "streamfront", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve media to RTMP players (rtmp://HOST/cfx/st/<stream name>).
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Media origin: a local directory of media files. Without it, streamfront serves the
    /// sample library built into the binary (sample.mp4), unpacked under --data-dir.
    #[arg(long, value_name = "DIR", env = "STREAMFRONT_ORIGIN")]
    origin: Option<PathBuf>,

    /// Where the server keeps its state (the built-in sample library; later the disk cache).
    #[arg(long, value_name = "DIR", env = "STREAMFRONT_DATA_DIR", default_value = "/var/lib/streamfront")]
    data_dir: PathBuf,

    /// Address for RTMP and RTMPE (repeatable).
    #[arg(long = "rtmp-listen", value_name = "ADDR", default_value = "0.0.0.0:1935")]
    rtmp_listen: Vec<SocketAddr>,

    /// Address for the HTTP port, which also accepts RTMP and RTMPE (repeatable).
    #[arg(long = "http-listen", value_name = "ADDR", default_value = "0.0.0.0:80")]
    http_listen: Vec<SocketAddr>,

    /// Address for the admin endpoints GET /healthz and GET /metrics (repeatable).
    #[arg(long = "admin-listen", value_name = "ADDR", default_value = "127.0.0.1:9935")]
    admin_listen: Vec<SocketAddr>,

    /// Memory for cached media blocks, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    cache_memory_mb: u64,

    /// Size of a cache block (one origin read), in KiB.
    #[arg(long, value_name = "KIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(64..=65536))]
    cache_block_kb: u64,

    /// Most simultaneous connections; more are refused.
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_connections: usize,

    /// Seconds a connection may sit with nothing playing and nothing received.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    idle_timeout: u64,

    /// Seconds a client may read nothing while data waits for it before it is dropped.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    stalled_timeout: u64,

    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `debug`, `sf_edge=debug`.
    #[arg(long, value_name = "FILTER", env = "STREAMFRONT_LOG", default_value = "info")]
    log: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args),
    }
}

fn serve(args: ServeArgs) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();

    if let Err(message) = std::fs::create_dir_all(&args.data_dir) {
        eprintln!("streamfront: --data-dir {}: {message}", args.data_dir.display());
        return ExitCode::FAILURE;
    }
    let origin_dir = match &args.origin {
        Some(dir) if dir.is_dir() => dir.clone(),
        Some(dir) => {
            eprintln!("streamfront: --origin {}: not a directory", dir.display());
            return ExitCode::FAILURE;
        }
        None => match sample::unpack(&args.data_dir) {
            Ok(dir) => dir,
            Err(message) => {
                eprintln!("streamfront: --data-dir {}: cannot unpack the sample library: {message}", args.data_dir.display());
                return ExitCode::FAILURE;
            }
        },
    };

    let cache = EdgeCache::new(
        Origin::Local(LocalOrigin::new(&origin_dir)),
        CacheConfig { block_size: args.cache_block_kb * 1024, memory_bytes: args.cache_memory_mb << 20 },
    );
    let config = EdgeConfig {
        rtmp_listen: args.rtmp_listen,
        http_listen: args.http_listen,
        admin_listen: args.admin_listen,
        max_connections: args.max_connections,
        timeouts: Timeouts {
            idle: Duration::from_secs(args.idle_timeout),
            stalled: Duration::from_secs(args.stalled_timeout),
            ..Timeouts::default()
        },
        tunnels: Default::default(),
        session: Default::default(),
    };
    let edge = Edge::new(config, cache);

    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("streamfront: cannot start the runtime: {e}");
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
        info!(origin = %origin_dir.display(), "streamfront {} starting", env!("CARGO_PKG_VERSION"));
        match sf_edge::run(edge, stopped).await {
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

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
