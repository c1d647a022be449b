//! Real players: ffmpeg (libavformat's own RTMP client) and rtmpdump (librtmp).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::framemd5::{Expect, FrameMd5, compare};
use super::media::source;
use super::{Run, TempDir, command_line, require_tool, run, tail};

/// Generous upper bound for one client run (clips are 5-10 s and paced in real time).
pub const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// `ffmpeg -nostdin -v error [input_opts] -i URL -c copy [output_opts] -f framemd5 -`
pub fn ffmpeg_framemd5(url: &str, input_opts: &[&str], output_opts: &[&str], limit: Duration) -> Run {
    run(framemd5_command(url, input_opts, output_opts), limit)
}

/// ffmpeg copying `url`'s packets to a framemd5 listing on stdout.
fn framemd5_command(url: &str, input_opts: &[&str], output_opts: &[&str]) -> Command {
    require_tool("ffmpeg");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error"])
        .args(input_opts)
        .arg("-i")
        .arg(url)
        .args(["-c", "copy"])
        .args(output_opts)
        .args(["-f", "framemd5", "-"]);
    cmd
}

/// `rtmpdump -r URL -o out.flv [args]`; returns the run and the output file's directory.
pub fn rtmpdump(url: &str, args: &[&str], limit: Duration) -> (Run, TempDir) {
    require_tool("rtmpdump");
    let dir = TempDir::new("rtmpdump");
    let mut cmd = Command::new("rtmpdump");
    cmd.arg("-r").arg(url).arg("-o").arg(dir.path().join("out.flv")).args(args);
    (run(cmd, limit), dir)
}

/// framemd5 of a local file (e.g. what rtmpdump wrote).
pub fn framemd5_file(path: &std::path::Path) -> Result<FrameMd5, String> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-nostdin", "-v", "error", "-i"]).arg(path).args(["-c", "copy", "-f", "framemd5", "-"]);
    let r = run(cmd, Duration::from_secs(60));
    if !r.success() {
        return Err(format!("ffmpeg could not read {}: {}", path.display(), r.describe()));
    }
    FrameMd5::parse(&r.stdout_text())
}

/// What a successful check reports: a summary line and how long the client ran.
pub struct Checked {
    pub summary: String,
    pub elapsed: Duration,
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary)
    }
}

/// Plays `url` with ffmpeg and checks the packets against source file `name`; the client must
/// exit 0.
pub fn check_ffmpeg(url: &str, name: &str, expect: &Expect, input_opts: &[&str], output_opts: &[&str]) -> Checked {
    let src = source(name);
    let r = ffmpeg_framemd5(url, input_opts, output_opts, CLIENT_LIMIT);
    assert!(r.success(), "ffmpeg playing {url} (source {name}) failed: {}", r.describe());
    let fm = FrameMd5::parse(&r.stdout_text()).unwrap_or_else(|e| panic!("ffmpeg output for {url}: {e}"));
    match compare(&fm, &src, expect) {
        Ok(summary) => Checked {
            summary: format!("ffmpeg {url}: {summary} in {:.2}s", r.elapsed.as_secs_f64()),
            elapsed: r.elapsed,
        },
        Err(e) => panic!(
            "ffmpeg playing {url} did not receive source {name} ({expect:?}) exactly:\n{e}\n\
             client: {}",
            r.describe()
        ),
    }
}

/// Plays `url` with rtmpdump (plus `args`), then compares the FLV it wrote with source file
/// `name`. `ok_codes`: accepted exit codes (normally just 0).
pub fn check_rtmpdump(url: &str, name: &str, expect: &Expect, args: &[&str], ok_codes: &[i32]) -> Checked {
    let src = source(name);
    let (r, dir) = rtmpdump(url, args, CLIENT_LIMIT);
    assert!(
        r.code().is_some_and(|c| ok_codes.contains(&c)),
        "rtmpdump playing {url} (source {name}) should exit with one of {ok_codes:?}: {}",
        r.describe()
    );
    let out = dir.path().join("out.flv");
    let fm = framemd5_file(&out).unwrap_or_else(|e| panic!("rtmpdump {url}: {e}\nclient: {}", r.describe()));
    match compare(&fm, &src, expect) {
        Ok(summary) => Checked {
            summary: format!("rtmpdump {url}: {summary} in {:.2}s", r.elapsed.as_secs_f64()),
            elapsed: r.elapsed,
        },
        Err(e) => panic!(
            "rtmpdump playing {url} did not receive source {name} ({expect:?}) exactly:\n{e}\n\
             client: {}",
            r.describe()
        ),
    }
}

/// Percent-encodes everything but unreserved characters, `/` and `:` (for rtmpdump URLs;
/// librtmp decodes `%XX` in the play path).
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/:".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Starts ffmpeg writing framemd5 to a pipe and reports when the first packet line arrives:
/// (time to first packet, finished run). Used for latency measurements.
pub fn ffmpeg_time_to_first_packet(
    url: &str,
    input_opts: &[&str],
    output_opts: &[&str],
    limit: Duration,
) -> (Option<Duration>, Run) {
    let dir = TempDir::new("ttfp");
    let err_path = dir.path().join("stderr");
    let mut cmd = framemd5_command(url, input_opts, output_opts);
    let what = command_line(&cmd);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(std::fs::File::create(&err_path).unwrap());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut first = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if first.is_none() && !line.starts_with('#') && !line.is_empty() {
                first = Some(start.elapsed());
            }
            all.push(line);
        }
        (first, all.join("\n"))
    });
    let (status, timed_out) = super::wait_deadline(&mut child, start + limit);
    let (first, out) = reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned();
    let r = Run { status, stdout: out.into_bytes(), stderr, elapsed: start.elapsed(), timed_out, what };
    (first, r)
}

/// Panics unless `text` contains `needle` (case-insensitive), showing the text's tail.
pub fn assert_contains_ci(text: &str, needle: &str, what: &str) {
    assert!(
        text.to_lowercase().contains(&needle.to_lowercase()),
        "{what}: expected {needle:?} in:\n{}",
        tail(text, 30)
    );
}
