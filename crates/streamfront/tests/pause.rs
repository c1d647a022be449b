//! Pause and unpause, as a Flash player sends them (`pause(0, null, flag, position_ms)`):
//! the server answers Pause.Notify and stops sending media, then Unpause.Notify and goes on
//! from where it stopped. Neither ffmpeg nor rtmpdump can pause from the command line, so a
//! raw RTMP client drives it, on the RTMP port and on the HTTP port (RTMP sniffed there).

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::raw::{Amf, Message, RawClient};
use common::*;

fn is_media(m: &Message) -> bool {
    m.type_id == 8 || m.type_id == 9
}

fn send_pause(c: &mut RawClient, sid: u32, pause: bool, position_ms: u32) {
    let values = [Amf::Str("pause".into()), Amf::Num(0.0), Amf::Null, Amf::Bool(pause), Amf::Num(position_ms.into())];
    c.send_command(8, sid, &values).expect("send pause");
}

/// Reads until onStatus `code`; returns the newest media timestamp seen on the way.
fn read_until_status(c: &mut RawClient, code: &str, mut newest: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    c.read_until(deadline, |m| {
        if is_media(m) {
            newest = newest.max(m.timestamp);
        }
        m.name().as_deref() == Some("onStatus") && m.code().as_deref() == Some(code)
    })
    .unwrap_or_else(|e| panic!("no {code}: {e}"));
    newest
}

fn pause_and_unpause(addr: SocketAddr) {
    let mut c = RawClient::connect(addr).expect("connect");
    c.handshake().expect("handshake");
    let answer = c.connect_app("cfx/st", addr.port()).expect("connect(cfx/st)");
    assert_eq!(answer.name().as_deref(), Some("_result"));
    let sid = c.create_stream().expect("createStream");
    c.play(sid, "mp4:long.mp4", None).expect("play");
    let mut newest = read_until_status(&mut c, "NetStream.Play.Start", 0);
    // Play until a second and a half of media has arrived (the default buffer keeps the
    // server at most about two seconds ahead of real time).
    let deadline = Instant::now() + Duration::from_secs(10);
    c.read_until(deadline, |m| {
        if is_media(m) {
            newest = newest.max(m.timestamp);
        }
        newest >= 1500
    })
    .expect("media after Play.Start");

    send_pause(&mut c, sid, true, newest);
    let before_pause = read_until_status(&mut c, "NetStream.Pause.Notify", newest);
    // Paused: nothing but silence for longer than the server's lead on real time.
    let quiet_until = Instant::now() + Duration::from_secs(3);
    loop {
        match c.read_message(quiet_until) {
            Ok(m) => assert!(!is_media(&m), "media while paused: type {} at {} ms", m.type_id, m.timestamp),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => break,
            Err(e) => panic!("connection failed while paused: {e}"),
        }
    }

    send_pause(&mut c, sid, false, before_pause);
    read_until_status(&mut c, "NetStream.Unpause.Notify", before_pause);
    // Media again, from where it stopped: not from the start, not skipping the pause.
    let deadline = Instant::now() + Duration::from_secs(5);
    let resumed = c.read_until(deadline, is_media).expect("media after Unpause.Notify");
    let first = resumed.last().unwrap().timestamp;
    assert!(
        first + 1000 >= before_pause && first <= before_pause + 1000,
        "after unpause media starts at {first} ms; before the pause it had reached {before_pause} ms"
    );
}

#[test]
fn pause_stops_media_and_unpause_resumes_where_it_stopped() {
    let mut server = Server::start(&media().origin);
    pause_and_unpause(server.rtmp_addr());
    pause_and_unpause(SocketAddr::from(([127, 0, 0, 1], server.http_port)));
    server.assert_healthy();
    assert!(server.log().contains("pause"), "the log records the pause:\n{}", tail(&server.log(), 20));
}
