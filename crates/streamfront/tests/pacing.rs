//! Pacing: the server sends the client's buffer length ahead of real time, so rtmpdump (which
//! asks for a 10-hour buffer) downloads the 10 s sample at line speed, while ffmpeg (3 s
//! buffer) receives it in about real time minus its buffer. Both must still get every packet.
//! The bounds are deliberately loose; the measured times are printed.

mod common;

use std::time::Duration;

use common::*;

const SAMPLE_SECONDS: f64 = 10.0;
/// ffmpeg's default `-rtmp_buffer` (ms).
const FFMPEG_BUFFER_SECONDS: f64 = 3.0;

#[test]
fn rtmpdump_with_a_huge_buffer_downloads_faster_than_real_time() {
    let server = Server::start(&media().origin);
    let checked = check_rtmpdump(&server.url("sample.mp4"), "sample.mp4", &Expect::Whole, &[], &[0]);
    eprintln!("{checked}");
    assert!(
        checked.elapsed < Duration::from_secs(3),
        "rtmpdump (10 h buffer) took {:.2}s for a {SAMPLE_SECONDS}s clip: the server should burst it",
        checked.elapsed.as_secs_f64()
    );
}

#[test]
fn ffmpeg_with_a_3s_buffer_is_paced_in_real_time() {
    let server = Server::start(&media().origin);
    let r = ffmpeg_framemd5(&server.url("sample.mp4"), &[], &[], CLIENT_LIMIT);
    assert!(r.success(), "{}", r.describe());
    let fm = FrameMd5::parse(&r.stdout_text()).unwrap();
    compare(&fm, &source("sample.mp4"), &Expect::Whole).unwrap_or_else(|e| panic!("{e}"));
    // Burst = buffer + 1 s + one send batch (0.4 s, sf-edge's player), then real time: at
    // least clip - buffer - 1 s - batch, less 0.6 s slack.
    let min = SAMPLE_SECONDS - FFMPEG_BUFFER_SECONDS - 1.0 - 0.4 - 0.6;
    eprintln!("ffmpeg received the {SAMPLE_SECONDS}s sample in {:.2}s", r.elapsed.as_secs_f64());
    assert!(
        r.elapsed.as_secs_f64() >= min,
        "ffmpeg (3 s buffer) received a {SAMPLE_SECONDS}s clip in {:.2}s (< {min}s): the server does not pace",
        r.elapsed.as_secs_f64()
    );
    assert!(
        r.elapsed.as_secs_f64() < SAMPLE_SECONDS + 5.0,
        "ffmpeg took {:.2}s for a {SAMPLE_SECONDS}s clip: the server sends slower than real time",
        r.elapsed.as_secs_f64()
    );
}
