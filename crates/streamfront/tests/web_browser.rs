//! A real browser: headless Chromium (Debian's `chromium`, driven by playwright-core, both
//! installed by scripts/browser-deps.sh and .ci/run) loads a player page from a web
//! distribution the AWS CLI created; the page's `<video>` plays an MP4 from the same
//! distribution; the test seeks and checks that playback goes on from the seek point, which
//! takes a `Range` request the edge answers with 206.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::web::Site;
use common::*;

/// Where the seek goes, in seconds into the 20 s movie.
const SEEK: f64 = 12.0;

/// playwright-core's directory, installed once by scripts/browser-deps.sh (which fails when
/// /usr/bin/chromium or npm is missing: this test never skips).
fn browser_deps() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/browser-deps.sh");
    let r = run(Command::new(&script), Duration::from_secs(600));
    assert!(r.success(), "scripts/browser-deps.sh could not install the browser test's tools: {}", r.describe());
    PathBuf::from(r.stdout_text().lines().last().unwrap_or_default().trim())
}

/// A 20 s, 320x240 movie Chromium decodes whatever codecs its build has: VP9 in MP4, a key
/// frame every second, the index at the front.
fn movie(dir: &Path) -> Vec<u8> {
    let path = dir.join("movie.mp4");
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=20:size=320x240:rate=25")
        .args(["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-g", "25"])
        .args(["-pix_fmt", "yuv420p", "-movflags", "+faststart"])
        .arg(&path);
    let r = run(cmd, Duration::from_secs(180));
    assert!(r.success(), "ffmpeg could not make the movie: {}", r.describe());
    std::fs::read(&path).unwrap()
}

const PLAYER: &[u8] = br#"<!doctype html>
<html><head><title>player</title></head>
<body><video id="player" src="/media/movie.mp4" muted autoplay playsinline preload="auto" width="320" height="240"></video></body>
</html>
"#;

#[test]
fn chromium_plays_and_seeks_a_movie_from_a_web_distribution() {
    let deps = browser_deps();
    let scratch = TempDir::new("web-browser");
    let movie = movie(scratch.path());
    let site = Site::start(&[("index.html", PLAYER), ("media/movie.mp4", &movie)]);

    let url = format!("http://{}:{}/", site.domain, site.server.http_port);
    let profile = scratch.path().join("chromium-profile");
    let mut cmd = Command::new("node");
    cmd.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser/play_and_seek.js"))
        .arg(&url)
        .arg(SEEK.to_string())
        .arg(&profile)
        // The distribution's domain name leads to this edge, as DNS would send a viewer.
        .arg(format!("MAP {} 127.0.0.1", site.domain))
        .env("NODE_PATH", deps.join("node_modules"));
    let r = run(cmd, Duration::from_secs(120));
    assert!(r.success(), "the browser did not play and seek: {}", r.describe());
    let reported: serde_json::Value = serde_json::from_str(r.stdout_text().lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {}", r.describe()));
    let after = reported["after"]["currentTime"].as_f64().unwrap();
    assert!(after > SEEK + 1.0 && after < 20.0, "playback goes on from the seek point: {reported}");
    assert!(reported["before"].as_f64().unwrap() < SEEK, "{reported}");

    // The edge answered the seek with a partial response.
    let log = std::fs::read_to_string(&site.server.stderr_path).unwrap();
    let partial = log.lines().filter(|l| l.contains("path=/media/movie.mp4") && l.contains("status=206")).count();
    assert!(partial >= 1, "no 206 for the movie in the server's log:\n{log}");
}
