//! One stream waiting on a hung origin holds up nothing else on its connection. The real
//! binary serves `s3://media/vod` from the real S3 test server, which holds every request
//! for one object unanswered ([`S3Server::stall`]). A raw RTMP client plays that object on
//! one NetStream and a healthy one on another, on the same connection: the healthy stream
//! starts and plays, pauses and resumes; the hung one is closed and deleted with an answer;
//! and the connection closes cleanly when the client leaves — all well before the origin's
//! own timeouts (10 s per S3 request) would have freed anything.

mod common;

use std::time::{Duration, Instant};

use common::raw::{Amf, Message, RawClient, wait_closed};
use common::*;
use sf_testkit::{BUCKET, S3Server};

const HUNG: &str = "vod/hung.mp4";
const HEALTHY: &str = "vod/long.mp4";

fn is_media_on(m: &Message, stream_id: u32) -> bool {
    (m.type_id == 8 || m.type_id == 9) && m.stream_id == stream_id
}

fn is_status(m: &Message, stream_id: u32, code: &str) -> bool {
    m.stream_id == stream_id && m.name().as_deref() == Some("onStatus") && m.code().as_deref() == Some(code)
}

/// Reads until `stop`; panics with what came instead when `limit` passes first. Nothing may
/// come for `quiet` (the hung stream).
fn read_until(c: &mut RawClient, limit: Duration, quiet: u32, what: &str, mut stop: impl FnMut(&Message) -> bool) {
    let mut seen = Vec::new();
    let result = c.read_until(Instant::now() + limit, |m| {
        assert!(
            m.stream_id != quiet || m.name().as_deref() == Some("onStatus"),
            "media or data on the hung stream: type {}",
            m.type_id
        );
        seen.push((m.stream_id, m.type_id, m.name(), m.code()));
        stop(m)
    });
    if let Err(error) = result {
        let last: Vec<_> = seen.iter().rev().take(10).collect();
        panic!("waiting for {what}: {error}; last messages (newest first): {last:?}");
    }
}

fn send_pause(c: &mut RawClient, stream_id: u32, pause: bool) {
    let values = [Amf::Str("pause".into()), Amf::Num(0.0), Amf::Null, Amf::Bool(pause), Amf::Num(0.0)];
    c.send_command(8, stream_id, &values).expect("send pause");
}

#[test]
fn a_hung_origin_object_freezes_nothing_else_on_the_connection() {
    let dir = TempDir::new("s3-hang");
    let s3 = S3Server::start(dir.path());
    s3.link_file(HUNG, &media().origin.join("long.mp4"));
    s3.link_file(HEALTHY, &media().origin.join("long.mp4"));
    s3.stall(HUNG);
    let mut server = Server::start_with(
        &media().origin,
        ServerOptions { origin_spec: Some(format!("s3://{BUCKET}/vod")), env: s3.aws_env(), ..Default::default() },
    );
    let addr = server.rtmp_addr();
    let mut c = RawClient::connect(addr).expect("connect");
    c.handshake().expect("handshake");
    assert_eq!(c.connect_app("cfx/st", addr.port()).expect("connect").name().as_deref(), Some("_result"));
    let hung = c.create_stream().expect("createStream");
    let healthy = c.create_stream().expect("createStream");

    let started = Instant::now();
    c.play(hung, "mp4:hung.mp4", None).expect("play hung");
    c.play(healthy, "mp4:long.mp4", None).expect("play healthy");
    let step = Duration::from_secs(4);
    read_until(&mut c, step, hung, "Play.Start on the healthy stream", |m| {
        is_status(m, healthy, "NetStream.Play.Start")
    });
    let mut newest = 0;
    read_until(&mut c, step, hung, "a second of media on the healthy stream", |m| {
        if is_media_on(m, healthy) {
            newest = newest.max(m.timestamp);
        }
        newest >= 1000
    });
    assert!(s3.requests().iter().any(|r| r.is_for(HUNG)), "the hung object was asked for");

    // Pause and resume the healthy stream while the other still hangs.
    send_pause(&mut c, healthy, true);
    read_until(&mut c, step, hung, "Pause.Notify", |m| is_status(m, healthy, "NetStream.Pause.Notify"));
    send_pause(&mut c, healthy, false);
    read_until(&mut c, step, hung, "Unpause.Notify", |m| is_status(m, healthy, "NetStream.Unpause.Notify"));
    read_until(&mut c, step, hung, "media after unpause", |m| is_media_on(m, healthy));

    // Close the hung stream: the play it waited for stops; then delete it.
    c.send_command(8, hung, &[Amf::Str("closeStream".into()), Amf::Num(0.0), Amf::Null]).expect("closeStream");
    read_until(&mut c, step, hung, "Play.Stop on the hung stream", |m| is_status(m, hung, "NetStream.Play.Stop"));
    let delete = [Amf::Str("deleteStream".into()), Amf::Num(0.0), Amf::Null, Amf::Num(hung.into())];
    c.send_command(3, 0, &delete).expect("deleteStream");
    read_until(&mut c, step, hung, "media after deleteStream", |m| is_media_on(m, healthy));

    // The client leaves; the server closes its side at once, the origin still hanging.
    c.shutdown_write();
    let closed = wait_closed(&mut c.stream, Duration::from_secs(3));
    assert!(closed.is_some(), "the server kept the connection open after the client left");
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(9), "took {elapsed:?}: as long as the origin's own timeouts");

    s3.release(HUNG);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.log().contains("client closed the connection") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = server.log();
    assert!(
        log.lines().any(|l| l.contains("disconnect") && l.contains("client closed the connection")),
        "a clean disconnect in the log:\n{}",
        tail(&log, 30)
    );
    server.assert_healthy();
}
