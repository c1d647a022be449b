//! Pause and unpause, as a Flash player sends them (`pause(0, null, flag, position_ms)`):
//! the server answers Pause.Notify and stops sending media, then Unpause.Notify and goes on
//! from where it stopped. Neither ffmpeg nor rtmpdump can pause from the command line, so a
//! raw RTMP client drives it: on the RTMP port, on the HTTP port (RTMP sniffed there), and
//! through a local bridge that carries its RTMP as RTMPE, RTMPT or RTMPTE.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use common::raw::{Amf, Message, RawClient};
use common::*;
use sf_rtmp::handshake::{ClientHandshake, ClientKind, Rc4Pair};

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

/// How the bridge reaches the server.
enum Upstream {
    Tcp(TcpStream),
    /// An RTMPT session: bytes to send wait for the next request.
    Tunnel {
        port: u16,
        id: String,
        seq: u64,
        outgoing: Vec<u8>,
    },
}

impl Upstream {
    fn tunnel(port: u16) -> Upstream {
        let (status, body) = http(port, &post("/open/1", &[0]));
        assert_eq!(status, 200, "/open/1");
        let id = String::from_utf8(body).unwrap().trim_end().to_owned();
        Upstream::Tunnel { port, id, seq: 0, outgoing: Vec::new() }
    }

    fn write(&mut self, data: &[u8]) {
        match self {
            Upstream::Tcp(stream) => stream.write_all(data).expect("write to server"),
            Upstream::Tunnel { outgoing, .. } => outgoing.extend_from_slice(data),
        }
    }

    /// What the server sent since the last call (waits up to ~50 ms; a tunnel polls once).
    fn read(&mut self) -> Vec<u8> {
        match self {
            Upstream::Tcp(stream) => {
                stream.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
                let mut buf = vec![0u8; 65536];
                match stream.read(&mut buf) {
                    Ok(0) => panic!("server closed the connection"),
                    Ok(n) => buf[..n].to_vec(),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => Vec::new(),
                    Err(e) => panic!("read from server: {e}"),
                }
            }
            Upstream::Tunnel { port, id, seq, outgoing } => {
                *seq += 1;
                let (status, body) = if outgoing.is_empty() {
                    http(*port, &post(&format!("/idle/{id}/{seq}"), &[0]))
                } else {
                    http(*port, &post(&format!("/send/{id}/{seq}"), &std::mem::take(outgoing)))
                };
                assert_eq!(status, 200, "tunnel request {seq}");
                if body.len() == 1 {
                    thread::sleep(Duration::from_millis(20));
                }
                body[1..].to_vec()
            }
        }
    }
}

/// Listens on a local port for one RTMP client; answers its (simple) handshake itself, makes
/// its own handshake of `kind` with the server over `upstream`, then relays the client's
/// RTMP both ways, with RC4 for RTMPE.
fn bridge(mut upstream: Upstream, kind: ClientKind) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        let (mut client, _) = listener.accept().unwrap();
        let mut c0c1 = [0u8; 1537];
        client.read_exact(&mut c0c1).unwrap();
        let mut reply = vec![3u8];
        reply.extend_from_slice(&[0u8; 1536]);
        reply.extend_from_slice(&c0c1[1..]);
        client.write_all(&reply).unwrap();
        client.read_exact(&mut [0u8; 1536]).unwrap();

        let mut handshake = ClientHandshake::new(kind);
        upstream.write(&handshake.poll_transmit().expect("C0+C1"));
        let mut early = Vec::new();
        while !handshake.is_complete() {
            let input = upstream.read();
            let used = handshake.handle_input(&input).expect("server handshake");
            early.extend_from_slice(&input[used..]);
            if let Some(c2) = handshake.poll_transmit() {
                upstream.write(&c2);
            }
        }
        let mut cipher: Option<Rc4Pair> = handshake.into_outcome().encryption;
        let mut from_server = early;
        client.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        let mut buf = vec![0u8; 65536];
        loop {
            if let Some(cipher) = &mut cipher {
                cipher.decrypt.apply(&mut from_server);
            }
            if client.write_all(&from_server).is_err() {
                return;
            }
            match client.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    let mut data = buf[..n].to_vec();
                    if let Some(cipher) = &mut cipher {
                        cipher.encrypt.apply(&mut data);
                    }
                    upstream.write(&data);
                }
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(_) => return,
            }
            from_server = upstream.read();
        }
    });
    addr
}

#[test]
fn pause_stops_media_and_unpause_resumes_where_it_stopped() {
    let mut server = Server::start(&media().origin);
    let http_port = server.http_port;
    pause_and_unpause(server.rtmp_addr());
    pause_and_unpause(SocketAddr::from(([127, 0, 0, 1], http_port)));
    let rtmpe = ClientKind::Encrypted { version: 6 };
    let rtmp_tcp = || Upstream::Tcp(TcpStream::connect(server.rtmp_addr()).unwrap());
    pause_and_unpause(bridge(rtmp_tcp(), rtmpe));
    pause_and_unpause(bridge(Upstream::tunnel(http_port), ClientKind::Simple));
    pause_and_unpause(bridge(Upstream::tunnel(http_port), rtmpe));
    server.assert_healthy();
    let log = server.log();
    for protocol in ["rtmp", "rtmpe", "rtmpt", "rtmpte"] {
        assert!(
            log.lines().any(|l| l.contains("unpause") && l.contains(&format!("protocol=\"{protocol}\""))),
            "the log records an unpause over {protocol}:\n{}",
            tail(&log, 40)
        );
    }
}
