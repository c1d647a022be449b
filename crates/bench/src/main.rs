//! `sf-loadbench`: N concurrent RTMP, RTMPE, RTMPS, RTMPT or RTMPTE viewers against one
//! server, reporting how many were served without rebuffering, time to first video frame, and
//! bytes received.
//!
//! Each viewer connects (`--protocol rtmp`: simple handshake over TCP; `rtmpe`: handshake type 6
//! then RC4 both ways; `rtmps`: simple handshake inside TLS, trusting `--ca-file`;
//! `rtmpt`/`rtmpte`: the same inside HTTP POSTs, polling like FFmpeg),
//! `connect`s to the application, `createStream`s,
//! `play`s the stream and sets its buffer length, then reads media until the server ends the
//! stream or the duration limit. A simulated player starts once it holds `--startup-ms` of
//! media and then plays in real time; a viewer "rebuffers" when the playhead catches up with
//! the newest media received. Connects are spread evenly over `--ramp-ms`. With
//! `--connect-only` each viewer closes after the handshakes instead: what they cost alone.
//!
//! Prints a human summary on stderr and one machine-readable `RESULT key=value …` line on
//! stdout (used by `scripts/loadbench.sh`).
//!
//! `--play-rate` measures something else: connect → play → first media message → close, `-n`
//! times for `--stream` and as many times for `--signed-stream`, in alternating rounds (see
//! [`play_rate`]).

mod play_rate;
mod playout;
mod transport;
mod tunnel;
mod viewer;

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use clap::Parser;
use sf_rtmp::handshake::ClientHandshake;
use tokio::time::Instant;

use crate::transport::{Protocol, Target, loopback_ips, tls_client_config};
use crate::viewer::{Outcome, ViewerConfig, ViewerResult};

/// RTMPT sessions streamfront allows per client address (its `TunnelLimits` default is 64).
const TUNNEL_VIEWERS_PER_IP: usize = 50;

#[derive(Debug, Parser)]
#[command(name = "sf-loadbench", version, about = "N concurrent RTMP/RTMPE/RTMPS/RTMPT viewers against one server")]
struct Args {
    /// Server address (host:port): the RTMP port, the HTTPS port for rtmps, or the HTTP port
    /// for rtmpt/rtmpte. An IP address: RTMPS viewers send no SNI and check the certificate
    /// for the IP address.
    #[arg(long, default_value = "127.0.0.1:1935")]
    addr: String,
    /// What viewers speak.
    #[arg(long, value_enum, default_value_t = Protocol::Rtmp)]
    protocol: Protocol,
    /// Spread viewers over this many local addresses 127.0.0.1, 127.0.0.2, … (loopback
    /// servers only). Default: 1, or one per 50 viewers for rtmpt/rtmpte, since a server may
    /// limit tunnels per client address (streamfront: 64).
    #[arg(long)]
    local_ips: Option<usize>,
    /// RTMPT: milliseconds to wait before an /idle that follows an empty response (FFmpeg: 50).
    #[arg(long, default_value_t = 50)]
    idle_sleep_ms: u64,
    /// Application to connect to: `cfx/st` for streamfront, e.g. `vod` for nginx-rtmp.
    #[arg(long, default_value = "cfx/st")]
    app: String,
    /// Stream name to play, e.g. `mp4:bench.mp4` or `bench.flv`.
    #[arg(long)]
    stream: String,
    /// Concurrent viewers.
    #[arg(short = 'n', long, default_value_t = 100)]
    viewers: usize,
    /// Seconds each viewer watches at most (from its connect).
    #[arg(long, default_value_t = 30.0)]
    duration_s: f64,
    /// Connects are spread evenly over this many milliseconds.
    #[arg(long, default_value_t = 5000)]
    ramp_ms: u64,
    /// Buffer length sent with SetBufferLength (ffmpeg sends 3000).
    #[arg(long, default_value_t = 3000)]
    buffer_ms: u32,
    /// Media the simulated player buffers before starting (and after a stall).
    #[arg(long, default_value_t = 1000)]
    startup_ms: u64,
    /// Seconds from connect to the first media message before a viewer counts as failed.
    #[arg(long, default_value_t = 10.0)]
    setup_timeout_s: f64,
    /// RTMPS: PEM file of the certificates to trust (e.g. the server's self-signed one).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<std::path::PathBuf>,
    /// Connect and finish the handshakes (TCP, TLS for rtmps, RTMP), then close, without
    /// playing: measures what the handshakes cost.
    #[arg(long)]
    connect_only: bool,
    /// Runtime worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    threads: Option<usize>,
    /// The host in `tcUrl` (it picks the distribution); default: `--addr`.
    #[arg(long)]
    tc_host: Option<String>,
    /// Measure the connect-and-play rate: `-n` sessions that end at their first media
    /// message, of `--stream` and of `--signed-stream`, alternating in `--rounds` rounds.
    #[arg(long, requires = "signed_stream")]
    play_rate: bool,
    /// `--play-rate`: the second stream, e.g. a name with `?Expires=…&Signature=…&Key-Pair-Id=…`.
    #[arg(long)]
    signed_stream: Option<String>,
    /// `--play-rate`: the host in `tcUrl` for `--signed-stream` (default: `--tc-host`).
    #[arg(long)]
    signed_tc_host: Option<String>,
    /// `--play-rate`: sessions in flight at once.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// `--play-rate`: alternating rounds.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
}

fn main() {
    let args = Args::parse();
    let addr: SocketAddr = match args.addr.to_socket_addrs().ok().and_then(|mut a| a.next()) {
        Some(addr) => addr,
        None => {
            eprintln!("sf-loadbench: cannot resolve --addr {}", args.addr);
            std::process::exit(2);
        }
    };
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if args.viewers == 0 || !positive(args.duration_s) || !positive(args.setup_timeout_s) {
        eprintln!("sf-loadbench: --viewers, --duration-s and --setup-timeout-s must be positive");
        std::process::exit(2);
    }
    let tls = match (args.protocol, &args.ca_file) {
        (Protocol::Rtmps, Some(ca_file)) => match tls_client_config(ca_file) {
            Ok(config) => Some(config),
            Err(e) => {
                eprintln!("sf-loadbench: --ca-file: {e}");
                std::process::exit(2);
            }
        },
        (Protocol::Rtmps, None) => {
            eprintln!("sf-loadbench: --protocol rtmps needs --ca-file");
            std::process::exit(2);
        }
        (_, Some(_)) => {
            eprintln!("sf-loadbench: --ca-file is for --protocol rtmps");
            std::process::exit(2);
        }
        (_, None) => None,
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(threads) = args.threads {
        builder.worker_threads(threads.max(1));
    }
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("sf-loadbench: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let local_ips = args.local_ips.unwrap_or(if args.protocol.tunnelled() {
        args.viewers.div_ceil(TUNNEL_VIEWERS_PER_IP)
    } else {
        1
    });
    if local_ips > 1 && !addr.ip().is_loopback() {
        eprintln!("sf-loadbench: --local-ips > 1 needs a loopback --addr");
        std::process::exit(2);
    }
    let target = Target {
        addr,
        protocol: args.protocol,
        local_ips: if local_ips > 1 { loopback_ips(local_ips.min(250)) } else { Vec::new() },
        idle_sleep: Duration::from_millis(args.idle_sleep_ms),
        tls,
    };
    let cfg = ViewerConfig {
        target,
        app: args.app.clone(),
        stream: args.stream.clone(),
        buffer_ms: args.buffer_ms,
        startup_ms: args.startup_ms,
        duration: Duration::from_secs_f64(args.duration_s),
        setup_timeout: Duration::from_secs_f64(args.setup_timeout_s),
        tc_host: args.tc_host.clone(),
        first_media_only: args.play_rate,
        connect_only: args.connect_only,
    };
    if let (true, Some(signed)) = (args.play_rate, &args.signed_stream) {
        let signed = ViewerConfig {
            stream: signed.clone(),
            tc_host: args.signed_tc_host.clone().or(args.tc_host.clone()),
            ..cfg.clone()
        };
        let cpu_before = process_cpu_seconds();
        let (tallies, failures) =
            runtime.block_on(play_rate::run([cfg, signed], args.viewers, args.concurrency, args.rounds));
        let client_cpu_s = process_cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
        report_play_rate(&args, &tallies, &failures, client_cpu_s);
        return;
    }
    // Every C1 (and RTMPE key pair: a 256-bit exponentiation each) before the clock starts, so that
    // the client's own crypto does not slow the ramp down.
    let kind = args.protocol.handshake();
    let handshakes: Vec<ClientHandshake> =
        (0..args.viewers).map(|i| ClientHandshake::with_rng_seed(kind, i as u64)).collect();
    let cpu_before = process_cpu_seconds();
    let started = std::time::Instant::now();
    let results = runtime.block_on(run_all(cfg, handshakes, Duration::from_millis(args.ramp_ms)));
    let wall_s = started.elapsed().as_secs_f64();
    let client_cpu_s = process_cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
    report(&args, &results, wall_s, client_cpu_s);
}

async fn run_all(cfg: ViewerConfig, handshakes: Vec<ClientHandshake>, ramp: Duration) -> Vec<ViewerResult> {
    let viewers = handshakes.len();
    let t0 = Instant::now();
    let mut handles = Vec::with_capacity(viewers);
    for (i, handshake) in handshakes.into_iter().enumerate() {
        let cfg = cfg.clone();
        let offset = ramp.mul_f64(i as f64 / viewers as f64);
        handles.push(tokio::spawn(async move {
            tokio::time::sleep_until(t0 + offset).await;
            viewer::run(cfg, i as u64, handshake).await
        }));
    }
    let mut results = Vec::with_capacity(viewers);
    for handle in handles {
        match handle.await {
            Ok(result) => results.push(result),
            Err(e) => results.push(ViewerResult {
                outcome: Outcome::Failed(format!("viewer task: {e}")),
                ttff_ms: None,
                playback_start_ms: None,
                rebuffers: 0,
                stalled_ms: 0.0,
                bytes: 0,
                wire_bytes: 0,
                http_requests: 0,
                http_idles: 0,
                http_empty: 0,
                media_ms: 0,
            }),
        }
    }
    results
}

fn report_play_rate(args: &Args, tallies: &[play_rate::Tally; 2], failures: &[Option<String>; 2], cpu: Option<f64>) {
    let [unsigned, signed] = tallies;
    let ratio = if unsigned.rate() > 0.0 { signed.rate() / unsigned.rate() } else { 0.0 };
    for (label, tally, failure) in [("unsigned", unsigned, &failures[0]), ("signed", signed, &failures[1])] {
        eprintln!(
            "{label:>8}: {} plays in {:.2} s = {:.1} plays/s, {} failed{}",
            tally.played,
            tally.seconds,
            tally.rate(),
            tally.failed,
            failure.as_ref().map(|f| format!(" (first: {f})")).unwrap_or_default()
        );
    }
    eprintln!("signed/unsigned rate: {ratio:.3} (concurrency {}, {} rounds)", args.concurrency, args.rounds);
    println!(
        "RESULT mode=play-rate plays={} concurrency={} rounds={} unsigned_rate={:.1} signed_rate={:.1} ratio={ratio:.3} \
         unsigned_failed={} signed_failed={} client_cpu_s={}",
        args.viewers,
        args.concurrency,
        args.rounds,
        unsigned.rate(),
        signed.rate(),
        unsigned.failed,
        signed.failed,
        cpu.map_or("-".to_owned(), |c| format!("{c:.2}"))
    );
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn report(args: &Args, results: &[ViewerResult], wall_s: f64, client_cpu_s: Option<f64>) {
    let n = results.len();
    let failed = results.iter().filter(|r| matches!(r.outcome, Outcome::Failed(_))).count();
    let served = n - failed;
    let completed = results.iter().filter(|r| r.outcome == Outcome::Completed).count();
    let rebuffered = results.iter().filter(|r| !matches!(r.outcome, Outcome::Failed(_)) && r.rebuffers > 0).count();
    let smooth = served - rebuffered;
    let mut ttff: Vec<f64> = results.iter().filter_map(|r| r.ttff_ms).collect();
    ttff.sort_by(f64::total_cmp);
    let mut startup: Vec<f64> = results.iter().filter_map(|r| r.playback_start_ms).collect();
    startup.sort_by(f64::total_cmp);
    let bytes: u64 = results.iter().map(|r| r.bytes).sum();
    let wire_bytes: u64 = results.iter().map(|r| r.wire_bytes).sum();
    let http_requests: u64 = results.iter().map(|r| r.http_requests).sum();
    let http_idles: u64 = results.iter().map(|r| r.http_idles).sum();
    let http_empty: u64 = results.iter().map(|r| r.http_empty).sum();
    let rebuffers: u64 = results.iter().map(|r| u64::from(r.rebuffers)).sum();
    let stalled_s: f64 = results.iter().map(|r| r.stalled_ms).sum::<f64>() / 1000.0;
    let mut media: Vec<f64> = results.iter().map(|r| r.media_ms as f64 / 1000.0).collect();
    media.sort_by(f64::total_cmp);
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for r in results {
        if let Outcome::Failed(reason) = &r.outcome {
            *reasons.entry(reason.as_str()).or_default() += 1;
        }
    }
    let fmt = |v: Option<f64>| v.map_or_else(|| "NA".to_owned(), |v| format!("{v:.1}"));

    eprintln!(
        "sf-loadbench: {} {} viewers of {} on {} (app {}), {:.1} s each, ramp {} ms",
        n,
        args.protocol.as_str(),
        args.stream,
        args.addr,
        args.app,
        args.duration_s,
        args.ramp_ms
    );
    eprintln!(
        "  served {served}, without rebuffering {smooth}, rebuffered {rebuffered} ({rebuffers} stalls, {stalled_s:.1} s), failed {failed}, stream ended {completed}"
    );
    eprintln!(
        "  time to first frame p50 {} ms, p99 {} ms, max {} ms; playback start p50 {} ms, p99 {} ms",
        fmt(percentile(&ttff, 50.0)),
        fmt(percentile(&ttff, 99.0)),
        fmt(ttff.last().copied()),
        fmt(percentile(&startup, 50.0)),
        fmt(percentile(&startup, 99.0)),
    );
    eprintln!(
        "  received {:.1} MB in {wall_s:.1} s; media per viewer p50 {} s; client CPU {} s",
        bytes as f64 / 1e6,
        fmt(percentile(&media, 50.0)),
        fmt(client_cpu_s),
    );
    if http_requests > 0 {
        eprintln!(
            "  RTMPT: {http_requests} HTTP requests ({:.1}/s per viewer), {http_idles} idle, {http_empty} empty responses; {:.1} MB on the wire",
            http_requests as f64 / wall_s.max(1e-3) / n as f64,
            wire_bytes as f64 / 1e6
        );
    }
    for (reason, count) in &reasons {
        eprintln!("  failed ×{count}: {reason}");
    }
    println!(
        "RESULT viewers={n} served={served} no_rebuffer={smooth} rebuffered={rebuffered} failed={failed} completed={completed} \
         stalls={rebuffers} stalled_s={stalled_s:.1} ttff_p50_ms={} ttff_p99_ms={} ttff_max_ms={} start_p50_ms={} start_p99_ms={} \
         bytes={bytes} wire_bytes={wire_bytes} http_requests={http_requests} http_idles={http_idles} http_empty={http_empty} \
         wall_s={wall_s:.1} client_cpu_s={} protocol={} mode={}",
        fmt(percentile(&ttff, 50.0)),
        fmt(percentile(&ttff, 99.0)),
        fmt(ttff.last().copied()),
        fmt(percentile(&startup, 50.0)),
        fmt(percentile(&startup, 99.0)),
        fmt(client_cpu_s),
        args.protocol.as_str(),
        if args.connect_only { "connect" } else { "play" },
    );
}

/// User + system CPU seconds of this process, from /proc/self/stat (Linux, 100 ticks/s).
fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[], 50.0), None);
    }
}
