//! The real binary with `--origin s3://media/vod` in front of a real S3 server on loopback
//! (s3s + s3s-fs with SigV4 signatures checked, from sf-testkit), played with ffmpeg and
//! rtmpdump. What the origin was asked is counted on the S3 server's side.
//!
//! The objects are the generated test media, linked into the server's bucket directory
//! under the prefix `vod/`.

mod common;

use std::collections::HashMap;
use std::fs;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use common::*;
use sf_testkit::{BUCKET, Request, S3Server};

const PREFIX: &str = "vod";

/// A running S3 server over a temp dir (dropped in this order: server, then the dir).
struct Origin {
    s3: S3Server,
    _dir: TempDir,
}

impl Origin {
    fn new() -> Origin {
        let dir = TempDir::new("s3");
        let s3 = S3Server::start(dir.path());
        Origin { s3, _dir: dir }
    }

    /// The generated media file `name` as object `vod/<as_name>`.
    fn add_as(&self, as_name: &str, name: &str) {
        self.s3.link_file(&key(as_name), &media().origin.join(name));
    }

    fn add(&self, names: &[&str]) {
        for name in names {
            self.add_as(name, name);
        }
    }

    /// The requests for object `vod/<name>` so far.
    fn requests_for(&self, name: &str) -> Vec<Request> {
        let key = key(name);
        self.s3.requests().into_iter().filter(|r| r.is_for(&key)).collect()
    }

    /// The ranges of the GETs for `vod/<name>` so far.
    fn get_ranges(&self, name: &str) -> Vec<Range<u64>> {
        self.requests_for(name)
            .into_iter()
            .filter(|r| r.method == "GET")
            .map(|r| r.range.clone().unwrap_or_else(|| panic!("a GET without a bounded range: {r:?}")))
            .collect()
    }

    /// GET and HEAD requests (of any object) so far.
    fn reads(&self) -> (usize, usize) {
        (self.s3.gets(), self.s3.heads())
    }
}

fn key(name: &str) -> String {
    format!("{PREFIX}/{name}")
}

/// The binary serving `s3://media/vod` from `origin`, with the AWS_* variables pointing at
/// it, plus `args`.
fn start(origin: &Origin, args: &[&str], data_dir: Option<&Path>) -> Server {
    start_with_env(args, data_dir, origin.s3.aws_env())
}

fn start_with_env(args: &[&str], data_dir: Option<&Path>, env: Vec<(String, String)>) -> Server {
    Server::start_with(
        &media().origin,
        ServerOptions {
            origin_spec: Some(format!("s3://{BUCKET}/{PREFIX}")),
            env,
            args: args.iter().map(|a| a.to_string()).collect(),
            data_dir: data_dir.map(Path::to_path_buf),
            ..Default::default()
        },
    )
}

/// GET /metrics.
fn metrics(server: &Server) -> String {
    let (code, body) = http_get(server.admin_addr(), "/metrics", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("GET /metrics: {e}"));
    assert_eq!(code, 200, "GET /metrics: {body}");
    body
}

/// The value of one series (`name` or `name{labels}`) in a /metrics text.
fn metric(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("no series {series} in /metrics:\n{text}"))
}

/// Size of the regular files below `dir`, and those ending in `ext`.
fn dir_size(dir: &Path, ext: &str) -> (u64, u64) {
    let (mut all, mut matching) = (0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else {
                all += meta.len();
                if path.extension().is_some_and(|e| e == ext) {
                    matching += meta.len();
                }
            }
        }
    }
    (all, matching)
}

/// Panics unless `ranges` are distinct `block`-aligned block reads of an object of `size`
/// bytes; returns the block numbers.
fn assert_distinct_blocks(ranges: &[Range<u64>], block: u64, size: u64) -> Vec<u64> {
    let mut seen: HashMap<u64, usize> = HashMap::new();
    for r in ranges {
        assert!(
            r.start % block == 0 && (r.end == (r.start + block).min(size)),
            "GET range {r:?} is not one whole {block}-byte block of a {size}-byte object; all: {ranges:?}"
        );
        *seen.entry(r.start / block).or_default() += 1;
    }
    let dupes: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(dupes.is_empty(), "blocks fetched more than once (block: times): {dupes:?}; all GETs: {ranges:?}");
    let mut blocks: Vec<u64> = seen.into_keys().collect();
    blocks.sort();
    blocks
}

fn play_both_exact(server: &Server, cases: &[(&str, &str, &str)]) {
    // (file, ffmpeg path, rtmpdump path), every client at once.
    let jobs: Vec<Box<dyn FnOnce() -> String + Send>> = cases
        .iter()
        .flat_map(|(file, ff, rd)| {
            let (file, ff, rd) = (file.to_string(), server.url(ff), server.url(rd));
            let file2 = file.clone();
            [
                Box::new(move || check_ffmpeg(&ff, &file, &Expect::Whole, &[], &[]).summary)
                    as Box<dyn FnOnce() -> String + Send>,
                Box::new(move || check_rtmpdump(&rd, &file2, &Expect::Whole, &[], &[0]).summary),
            ]
        })
        .collect();
    for line in parallel(jobs) {
        eprintln!("{line}");
    }
}

/// MP4 (moov first and last), FLV and MP3 from S3 arrive packet-exact with both clients.
#[test]
fn mp4_flv_and_mp3_play_exactly_from_s3() {
    let origin = Origin::new();
    let files = ["clip.mp4", "clip_moovend.mp4", "clip.flv", "cbr.mp3"];
    origin.add(&files);
    for f in files {
        source(f);
    }
    let mut server = start(&origin, &[], None);
    play_both_exact(
        &server,
        &[
            ("clip.mp4", "clip.mp4", "clip.mp4"),
            ("clip_moovend.mp4", "clip_moovend.mp4", "clip_moovend.mp4"),
            ("clip.flv", "clip.flv", "clip.flv"),
            ("cbr.mp3", "mp3:cbr", "mp3:cbr"),
        ],
    );
    let m = metrics(&server);
    let ranges = metric(&m, "streamfront_origin_requests_total{kind=\"range\"}");
    assert!(ranges > 0, "no ranged origin reads in /metrics");
    // GETs of objects, that is; LISTs (which resolve `mp4:name` candidates) are GETs of the bucket.
    let object_gets = origin
        .s3
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with(&format!("/{BUCKET}/{PREFIX}/")))
        .count();
    assert_eq!(ranges as usize, object_gets, "/metrics and the S3 server disagree on GETs");
    for f in files {
        assert!(!origin.get_ranges(f).is_empty(), "the S3 server saw no GET for {f}");
    }
    server.assert_healthy();
}

/// Signatures are checked: with a wrong secret, a play fails quickly and says why.
#[test]
fn a_wrong_secret_fails_cleanly() {
    let origin = Origin::new();
    origin.add(&["clip.flv"]);
    let mut env = origin.s3.aws_env();
    for (k, v) in &mut env {
        if k == "AWS_SECRET_ACCESS_KEY" {
            *v = "not-the-secret".into();
        }
    }
    let mut server = start_with_env(&[], None, env);
    let r = ffmpeg_framemd5(&server.url("clip.flv"), &[], &[], Duration::from_secs(20));
    assert!(!r.success() && !r.timed_out, "ffmpeg should fail: {}", r.describe());
    assert!(r.elapsed < Duration::from_secs(5), "took {:?} to fail", r.elapsed);
    assert_contains_ci(&r.stderr, "Play.Failed", "ffmpeg stderr");
    assert_contains_ci(&server.log(), "access denied", "server log");
    assert!(origin.s3.heads() >= 1, "the S3 server was never asked");
    server.assert_healthy();
}

/// Twelve viewers start the same cold file at once: each block is fetched from the origin
/// exactly once (read-ahead included), every viewer gets it exactly.
#[test]
fn twelve_cold_viewers_fetch_each_block_once() {
    let origin = Origin::new();
    origin.add_as("crowd.mp4", "sample.mp4");
    source("sample.mp4");
    let size = fs::metadata(media().origin.join("sample.mp4")).unwrap().len();
    let block = 64 * 1024;
    let mut server = start(&origin, &["--cache-block-kb", "64"], None);
    let barrier = Arc::new(Barrier::new(12));
    let jobs: Vec<Box<dyn FnOnce() -> String + Send>> = (0..12)
        .map(|i| {
            let url = server.url("crowd.mp4");
            let barrier = Arc::clone(&barrier);
            Box::new(move || {
                barrier.wait();
                if i % 2 == 0 {
                    check_ffmpeg(&url, "sample.mp4", &Expect::Whole, &[], &[]).summary
                } else {
                    check_rtmpdump(&url, "sample.mp4", &Expect::Whole, &[], &[0]).summary
                }
            }) as Box<dyn FnOnce() -> String + Send>
        })
        .collect();
    for line in parallel(jobs) {
        eprintln!("{line}");
    }
    let ranges = origin.get_ranges("crowd.mp4");
    let blocks = assert_distinct_blocks(&ranges, block, size);
    let all: Vec<u64> = (0..size.div_ceil(block)).collect();
    assert_eq!(blocks, all, "every block of the {size}-byte object once ({} GETs)", ranges.len());
    let heads = origin.requests_for("crowd.mp4").len() - ranges.len();
    let m = metrics(&server);
    eprintln!(
        "{} GETs for {} blocks, {heads} HEADs; single-flight joins {}",
        ranges.len(),
        all.len(),
        metric(&m, "streamfront_cache_single_flight_joins_total")
    );
    // One open for all 12 (single-flight lookups): a GET of the first block (counted above)
    // and the presigned HEAD that reads `Expires`.
    assert_eq!(heads, 1, "one open's HEAD for 12 viewers of one object");
    server.assert_healthy();
}

/// A 200+ MB, 4-minute H.264/AAC MP4 (moov first, then one large mdat; about 0.9 MB a
/// second), made quickly from noise with ffmpeg and kept across runs.
fn big_mp4() -> &'static Path {
    static BIG: OnceLock<PathBuf> = OnceLock::new();
    BIG.get_or_init(|| {
        require_tool("ffmpeg");
        let args: Vec<&str> = vec![
            "-f",
            "lavfi",
            "-i",
            "color=c=gray:s=160x120:r=25:d=240,noise=alls=100:allf=t+u:all_seed=7",
            "-f",
            "lavfi",
            "-i",
            "aevalsrc=sin(2*PI*(300+2*t)*t):s=8000:d=240",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-threads",
            "1",
            "-qp",
            "4",
            "-g",
            "25",
            "-keyint_min",
            "25",
            "-sc_threshold",
            "0",
            "-bf",
            "0",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "16k",
            "-ac",
            "1",
            "-fflags",
            "+bitexact",
            "-map_metadata",
            "-1",
            "-movflags",
            "+faststart",
        ];
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sf-s3-big");
        let version = {
            let mut c = Command::new("ffmpeg");
            c.arg("-version");
            run(c, Duration::from_secs(30)).stdout_text()
        };
        let tag: u64 = format!("{args:?}{}", version.lines().next().unwrap_or(""))
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
        let path = base.join(format!("big-{tag:016x}.mp4"));
        if !path.exists() {
            fs::create_dir_all(&base).unwrap();
            let tmp = base.join(format!("big-{tag:016x}.tmp-{}.mp4", std::process::id()));
            let started = Instant::now();
            let mut cmd = Command::new("ffmpeg");
            cmd.args(["-nostdin", "-v", "error", "-y"]).args(&args).arg(&tmp);
            let r = run(cmd, Duration::from_secs(120));
            assert!(r.success(), "generating the large MP4 failed: {}", r.describe());
            eprintln!(
                "generated {} ({} bytes) in {:.1}s",
                path.display(),
                fs::metadata(&tmp).unwrap().len(),
                started.elapsed().as_secs_f64()
            );
            fs::rename(&tmp, &path).unwrap();
        }
        path
    })
}

/// Seeking into the middle of a 200+ MB object (rtmpdump --start/--stop, ffmpeg -ss)
/// fetches a small fraction of it, and what arrives is exact.
#[test]
fn a_seek_into_a_200_mb_object_fetches_a_small_fraction() {
    let big = big_mp4();
    let size = fs::metadata(big).unwrap().len();
    assert!(size >= 200 << 20, "the large MP4 is only {size} bytes");
    let origin = Origin::new();
    origin.s3.link_file(&key("big.mp4"), big);
    // s3s-fs would hash the whole object for its ETag on every request.
    origin.s3.set_etag(&key("big.mp4"), "big-mp4-v1");
    let reference = source_at("big.mp4", big);
    let mut server = start(&origin, &[], None);

    // rtmpdump: from 120.5 s (key frame 120.0 s) for 2 s.
    let expect = Expect::From {
        target_ms: 120_500.0,
        stop: Some((120_000.0 + 2_000.0 - 250.0, 122_500.0 + 250.0)),
        truncated: false,
    };
    let (r, dir) = rtmpdump(&server.url("big.mp4"), &["-A", "120.5", "-B", "122.5"], CLIENT_LIMIT);
    assert!(matches!(r.code(), Some(0 | 2)), "rtmpdump: {}", r.describe());
    let got = framemd5_file(&dir.path().join("out.flv")).unwrap();
    let summary = compare(&got, &reference, &expect).unwrap_or_else(|e| panic!("rtmpdump seek into big.mp4: {e}"));
    eprintln!("rtmpdump -A 120.5 -B 122.5: {summary}");
    let after_rtmpdump = origin.s3.get_bytes_asked();

    // ffmpeg: -ss 180.5 (key frame 180.0 s), 1.5 s of it.
    let r =
        ffmpeg_framemd5(&server.url("big.mp4"), &["-ss", "180.5"], &["-copypriorss", "1", "-t", "1.5"], CLIENT_LIMIT);
    assert!(r.success(), "ffmpeg -ss 180.5: {}", r.describe());
    let got = FrameMd5::parse(&r.stdout_text()).unwrap();
    let expect = Expect::From { target_ms: 180_500.0, stop: None, truncated: true };
    let summary = compare(&got, &reference, &expect).unwrap_or_else(|e| panic!("ffmpeg -ss 180.5 into big.mp4: {e}"));
    eprintln!("ffmpeg -ss 180.5 -t 1.5: {summary}");
    // Let read-ahead started by the last reads finish before counting.
    std::thread::sleep(Duration::from_millis(500));

    let asked = origin.s3.get_bytes_asked();
    let ranges = origin.get_ranges("big.mp4");
    let m = metrics(&server);
    let fetched = metric(&m, "streamfront_origin_bytes_total");
    eprintln!(
        "{} GETs asked for {asked} bytes ({:.1}% of {size}; rtmpdump's part {after_rtmpdump}); \
         the server counted {fetched} bytes",
        ranges.len(),
        asked as f64 * 100.0 / size as f64
    );
    assert_distinct_blocks(&ranges, 1 << 20, size);
    assert!(asked <= size / 10, "asked for {asked} of {size} bytes for two 2-second plays");
    assert!(fetched <= asked, "fetched {fetched} > asked {asked}");
    server.assert_healthy();
}

/// With the origin down, cached media still plays, uncached media fails within seconds
/// with NetStream.Play.Failed, and once the origin is back it plays.
#[test]
fn origin_outage_cached_plays_uncached_fails_fast_then_recovers() {
    let mut origin = Origin::new();
    origin.add(&["clip.flv", "cbr.mp3"]);
    source("clip.flv");
    source("cbr.mp3");
    let mut server = start(&origin, &[], None);
    eprintln!("{}", check_rtmpdump(&server.url("clip.flv"), "clip.flv", &Expect::Whole, &[], &[0]));
    let before = origin.reads();

    origin.s3.stop();
    play_both_exact(&server, &[("clip.flv", "clip.flv", "clip.flv")]);
    assert_eq!(origin.reads(), before);

    let r = ffmpeg_framemd5(&server.url("mp3:cbr"), &[], &[], Duration::from_secs(30));
    assert!(!r.success() && !r.timed_out, "ffmpeg should fail: {}", r.describe());
    assert!(
        r.elapsed < Duration::from_secs(5),
        "ffmpeg took {:.2}s to fail: {}",
        r.elapsed.as_secs_f64(),
        r.describe()
    );
    assert_contains_ci(&r.stderr, "NetStream.Play.Failed", "ffmpeg stderr");
    eprintln!("uncached, origin down: {}", r.describe());
    let (rd, _dir) = rtmpdump(&server.url("mp3:cbr"), &[], Duration::from_secs(30));
    assert!(
        rd.code().is_some_and(|c| c != 0) && rd.elapsed < Duration::from_secs(5),
        "rtmpdump should fail within seconds: {}",
        rd.describe()
    );
    assert!(metric(&metrics(&server), "streamfront_origin_errors_total") >= 1);
    server.assert_healthy();

    origin.s3.restart();
    play_both_exact(&server, &[("cbr.mp3", "mp3:cbr", "mp3:cbr")]);
    server.assert_healthy();
}

/// A restarted server on the same --data-dir plays what it cached without asking the
/// origin anything (the 24 h default freshness has not run out).
#[test]
fn a_restart_keeps_the_disk_cache() {
    let origin = Origin::new();
    let files = ["clip.mp4", "cbr.mp3"];
    origin.add(&files);
    for f in files {
        source(f);
    }
    let data = TempDir::new("s3-data");
    let cached: u64 = files.iter().map(|f| fs::metadata(media().origin.join(f)).unwrap().len()).sum();
    let mut first = start(&origin, &["--cache-block-kb", "64"], Some(data.path()));
    for (file, path) in [("clip.mp4", "clip.mp4"), ("cbr.mp3", "mp3:cbr")] {
        eprintln!("{}", check_rtmpdump(&first.url(path), file, &Expect::Whole, &[], &[0]));
    }
    // Disk writes happen behind the reads: wait until every block is there.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let on_disk = metric(&metrics(&first), "streamfront_cache_bytes{tier=\"disk\"}");
        if on_disk >= cached {
            break;
        }
        assert!(Instant::now() < deadline, "disk tier holds {on_disk} bytes, want at least {cached}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(first.terminate(Duration::from_secs(10)).is_some_and(|s| s.success()));
    let before = origin.reads();

    let mut second = start(&origin, &["--cache-block-kb", "64"], Some(data.path()));
    play_both_exact(&second, &[("clip.mp4", "clip.mp4", "clip.mp4"), ("cbr.mp3", "mp3:cbr", "mp3:cbr")]);
    assert_eq!(origin.reads(), before, "(GETs, HEADs) after the restart: the origin was asked");
    let m = metrics(&second);
    assert_eq!(metric(&m, "streamfront_origin_requests_total{kind=\"range\"}"), 0);
    assert_eq!(metric(&m, "streamfront_origin_requests_total{kind=\"head\"}"), 0);
    assert!(metric(&m, "streamfront_cache_hits_total{tier=\"disk\"}") > 0);
    second.assert_healthy();
}

/// An object replaced at the origin: while the cached version is fresh, a play gets the
/// old version or fails — never a mix — and the mismatch the cache sees when it fetches a
/// block of the new object sends it to revalidate; the next play gets the new version.
///
/// (Revalidation when the TTL runs out cannot be driven through the binary: `--cache-ttl`
/// and Cache-Control max-age have a 3600 s floor. The crate-level test covers it.)
#[test]
fn a_replaced_object_plays_in_its_new_version_and_never_mixed() {
    let origin = Origin::new();
    origin.add_as("swap.mp4", "long.mp4");
    source("long.mp4");
    source("sample.mp4");
    let mut server = start(&origin, &["--cache-block-kb", "64"], None);

    // Old version: the first second only, so most blocks stay uncached.
    let r = ffmpeg_framemd5(&server.url("swap.mp4"), &[], &["-t", "1"], CLIENT_LIMIT);
    assert!(r.success(), "ffmpeg -t 1: {}", r.describe());
    // From the first key frame (the next is at 7 s), any prefix.
    let old_prefix = Expect::From { target_ms: 3_500.0, stop: None, truncated: true };
    let got = FrameMd5::parse(&r.stdout_text()).unwrap();
    compare(&got, &source("long.mp4"), &old_prefix).unwrap_or_else(|e| panic!("first play of the old version: {e}"));
    let old_gets = origin.get_ranges("swap.mp4").len();

    // Replace it (atomically, as S3 does).
    let new_bytes = fs::read(media().origin.join("sample.mp4")).unwrap();
    origin.s3.write_file(&key("swap.mp4"), &new_bytes);

    // Still fresh: the old version's index, whose uncached blocks can no longer be had.
    let (r, dir) = rtmpdump(&server.url("swap.mp4"), &[], CLIENT_LIMIT);
    let out = dir.path().join("out.flv");
    let delivered = fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    eprintln!("play while the old version is fresh: {}", r.describe());
    assert_ne!(r.code(), Some(0), "the whole old version cannot have played");
    // Whatever arrived (beyond the 13-byte FLV header) is a prefix of the old version.
    let got = if delivered > 13 {
        framemd5_file(&out).unwrap_or_else(|e| panic!("the partial play: {e}"))
    } else {
        FrameMd5::default()
    };
    if got.packet_count() > 0 {
        compare(&got, &source("long.mp4"), &old_prefix)
            .unwrap_or_else(|e| panic!("a play after the replacement mixed in other bytes: {e}"));
    }
    eprintln!("old-version prefix of {} packets, exact", got.packet_count());
    assert!(origin.get_ranges("swap.mp4").len() > old_gets, "no block of the new object was fetched");

    // Revalidated: the new version, exactly.
    eprintln!("{}", check_rtmpdump(&server.url("swap.mp4"), "sample.mp4", &Expect::Whole, &[], &[0]));
    eprintln!("{}", check_ffmpeg(&server.url("swap.mp4"), "sample.mp4", &Expect::Whole, &[], &[]));
    let m = metrics(&server);
    assert!(metric(&m, "streamfront_cache_revalidations_total") >= 1);
    assert_contains_ci(&server.log(), "changed", "server log");
    server.assert_healthy();
}

/// A stream of distinct files through small tiers: memory and disk stay within their
/// bounds (by /metrics and by the bytes in the data dir), and every play is exact.
#[test]
fn the_cache_stays_within_its_bounds_under_a_stream_of_distinct_files() {
    let origin = Origin::new();
    let n = 10;
    for i in 0..n {
        origin.add_as(&format!("many/{i}.mp4"), "sample.mp4");
    }
    source("sample.mp4");
    let data = TempDir::new("s3-bounds");
    let (memory, disk) = (1u64 << 20, 2u64 << 20);
    let mut server = start(
        &origin,
        &["--cache-block-kb", "64", "--cache-memory-mb", "1", "--cache-disk-mb", "2"],
        Some(data.path()),
    );
    let mut peak = (0, 0, 0);
    for i in 0..n {
        check_rtmpdump(&server.url(&format!("many/{i}.mp4")), "sample.mp4", &Expect::Whole, &[], &[0]);
        let m = metrics(&server);
        let mem = metric(&m, "streamfront_cache_bytes{tier=\"memory\"}");
        let on_disk = metric(&m, "streamfront_cache_bytes{tier=\"disk\"}");
        let (dir_all, dir_blocks) = dir_size(&data.path().join("cache"), "blk");
        peak = (peak.0.max(mem), peak.1.max(on_disk), peak.2.max(dir_all));
        assert!(mem <= memory, "after file {i}: memory tier {mem} > {memory}");
        assert!(on_disk <= disk, "after file {i}: disk tier {on_disk} > {disk}");
        assert!(dir_blocks <= disk, "after file {i}: block files hold {dir_blocks} > {disk}");
        // Object records and temporary files: a few KiB at most beyond the blocks.
        assert!(dir_all <= disk + (64 << 10), "after file {i}: the cache dir holds {dir_all} bytes");
    }
    let m = metrics(&server);
    eprintln!(
        "peaks: memory {} / {memory}, disk {} / {disk}, cache dir {}; evictions memory {} disk {}",
        peak.0,
        peak.1,
        peak.2,
        metric(&m, "streamfront_cache_evictions_total{tier=\"memory\"}"),
        metric(&m, "streamfront_cache_evictions_total{tier=\"disk\"}")
    );
    assert!(metric(&m, "streamfront_cache_evictions_total{tier=\"disk\"}") > 0);
    assert!(metric(&m, "streamfront_cache_evictions_total{tier=\"memory\"}") > 0);
    server.assert_healthy();
}
