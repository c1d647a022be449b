//! The handshake and chunk reader against the real clients installed on the machine: FFmpeg
//! (digest scheme 0; it verifies S1 and S2 before it sends C2 and `connect`) and rtmpdump
//! (simple handshake; digest scheme 0 with SWF verification data; RTMPE scheme 1, which it
//! verifies — "Server not genuine Adobe!" on a bad S2 — also answered as types 8 and 9).
//!
//! Each case accepts one connection on 127.0.0.1, runs [`ServerHandshake`], decrypts what
//! follows C2 for RTMPE, reassembles it with [`ChunkReader`] and requires the first message to
//! be the AMF0 command `connect`. Receiving `connect` at all proves the client accepted our
//! S0/S1/S2. Only std is used: blocking sockets and a child process. The tools are required:
//! a missing `ffmpeg` or `rtmpdump` fails the test.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use sf_rtmp::chunk::{ChunkReader, ReaderLimits};
use sf_rtmp::handshake::{HandshakeKind, HandshakeOutcome, ServerHandshake};
use sf_rtmp::message::{Message, type_id};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A client process, killed when dropped; its output goes to a log file shown on failure.
struct ClientProcess {
    child: Child,
    log: PathBuf,
}

impl ClientProcess {
    fn spawn(tool: &str, args: &[String]) -> ClientProcess {
        let log = std::env::temp_dir().join(format!(
            "sf-rtmp-{tool}-{}-{}.log",
            std::process::id(),
            args.join(" ").bytes().map(u32::from).sum::<u32>()
        ));
        let out = File::create(&log).expect("create client log");
        let err = out.try_clone().expect("clone client log");
        let child =
            Command::new(tool).args(args).stdin(Stdio::null()).stdout(out).stderr(err).spawn().unwrap_or_else(|e| {
                let _ = std::fs::remove_file(&log);
                panic!("cannot run `{tool}` ({e}): this test needs ffmpeg and rtmpdump installed")
            });
        ClientProcess { child, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the client's output if it has exited.
    fn check_running(&mut self, what: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("client exited ({status}) while {what}; its output:\n{}", self.log());
        }
    }
}

impl Drop for ClientProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn accept(listener: &TcpListener, client: &mut ClientProcess) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                return stream;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                client.check_running("we waited for its connection");
                assert!(Instant::now() < deadline, "no connection; client output:\n{}", client.log());
                thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Reads some bytes; `None` on a read timeout (the client may still be thinking).
fn read_some(stream: &mut TcpStream, client: &mut ClientProcess, deadline: Instant, what: &str) -> Option<Vec<u8>> {
    let mut buf = [0u8; 16 * 1024];
    match stream.read(&mut buf) {
        Ok(0) => panic!("client closed the connection while {what}; its output:\n{}", client.log()),
        Ok(n) => Some(buf[..n].to_vec()),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            client.check_running(what);
            assert!(Instant::now() < deadline, "timed out while {what}; client output:\n{}", client.log());
            None
        }
        Err(e) => panic!("read while {what}: {e}; client output:\n{}", client.log()),
    }
}

/// Serves one connection up to the first message. `c0_override` replaces the client's
/// first byte before the handshake sees it (to make a type-6 client look like 8 or 9: it
/// then follows our S0 and checks the signature with XTEA or Blowfish).
fn first_message(
    stream: &mut TcpStream,
    client: &mut ClientProcess,
    c0_override: Option<u8>,
) -> (HandshakeOutcome, Message) {
    let deadline = Instant::now() + TIMEOUT;
    let mut handshake = ServerHandshake::new();
    let mut first_byte = true;
    let mut leftover = Vec::new();
    while !handshake.is_complete() {
        let Some(mut bytes) = read_some(stream, client, deadline, "we read the handshake") else {
            continue;
        };
        if first_byte {
            if let Some(c0) = c0_override {
                bytes[0] = c0;
            }
            first_byte = false;
        }
        let used = handshake.handle_input(&bytes).unwrap_or_else(|e| panic!("handshake: {e}"));
        if let Some(response) = handshake.poll_transmit() {
            stream.write_all(&response).unwrap();
        }
        leftover = bytes[used..].to_vec();
    }
    let mut outcome = handshake.into_outcome();

    let mut reader = ChunkReader::new(ReaderLimits::default());
    let mut incoming = leftover;
    loop {
        if let Some(rc4) = &mut outcome.encryption {
            rc4.decrypt.apply(&mut incoming);
        }
        reader.push(&incoming);
        match reader.next_message() {
            Ok(Some(message)) => return (outcome, message),
            Ok(None) => {}
            Err(e) => panic!("chunk stream: {e}; client output:\n{}", client.log()),
        }
        incoming = read_some(stream, client, deadline, "we waited for connect").unwrap_or_default();
    }
}

fn assert_connect(message: &Message) {
    assert_eq!(message.type_id, type_id::COMMAND_AMF0, "{message:?}");
    assert_eq!(message.stream_id, 0);
    let prefix = b"\x02\x00\x07connect";
    assert!(
        message.payload.starts_with(prefix),
        "first message is not connect: {:02x?}",
        &message.payload[..message.payload.len().min(32)]
    );
    // The tcUrl carries the path we gave the client.
    let text = String::from_utf8_lossy(&message.payload);
    assert!(text.contains("cfx/st"), "connect without our app: {text:?}");
}

/// Runs `tool` against a fresh listener and checks its handshake kind and `connect`.
fn run_case(tool: &str, args: impl Fn(u16) -> Vec<String>, c0_override: Option<u8>) -> HandshakeOutcome {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut client = ClientProcess::spawn(tool, &args(port));
    let mut stream = accept(&listener, &mut client);
    let (outcome, message) = first_message(&mut stream, &mut client, c0_override);
    assert_connect(&message);
    outcome
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

#[test]
fn ffmpeg_digest_handshake_scheme_0() {
    let outcome = run_case(
        "ffmpeg",
        |port| {
            let url = format!("rtmp://127.0.0.1:{port}/cfx/st/x");
            strings(&["-nostdin", "-hide_banner", "-loglevel", "verbose", "-i", &url, "-t", "1", "-f", "null", "-"])
        },
        None,
    );
    assert_eq!(outcome.kind, HandshakeKind::Digest { scheme: 0 });
    assert_eq!(outcome.client_version, [9, 0, 124, 2]);
    assert!(outcome.encryption.is_none());
}

#[test]
fn rtmpdump_simple_handshake() {
    let outcome = run_case(
        "rtmpdump",
        |port| strings(&["-V", "-r", &format!("rtmp://127.0.0.1:{port}/cfx/st/x"), "-o", "/dev/null"]),
        None,
    );
    assert_eq!(outcome.kind, HandshakeKind::Simple);
    assert_eq!(outcome.client_version, [0; 4]);
}

#[test]
fn rtmpdump_digest_handshake_with_swf_verification_data() {
    // With a SWF hash and size librtmp uses the FP9 handshake and verifies S1 and S2.
    let hash = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let outcome = run_case(
        "rtmpdump",
        |port| {
            let url = format!("rtmp://127.0.0.1:{port}/cfx/st/x");
            strings(&["-V", "-r", &url, "-w", hash, "-x", "12345", "-o", "/dev/null"])
        },
        None,
    );
    assert_eq!(outcome.kind, HandshakeKind::Digest { scheme: 0 });
}

fn rtmpdump_rtmpe(c0_override: Option<u8>) -> HandshakeOutcome {
    run_case(
        "rtmpdump",
        |port| strings(&["-V", "-r", &format!("rtmpe://127.0.0.1:{port}/cfx/st/x"), "-o", "/dev/null"]),
        c0_override,
    )
}

#[test]
fn rtmpdump_rtmpe_type_6_scheme_1() {
    let outcome = rtmpdump_rtmpe(None);
    assert_eq!(outcome.kind, HandshakeKind::Encrypted { scheme: 1, version: 6 });
    assert_eq!(outcome.client_version, [128, 0, 3, 2]);
    assert!(outcome.encryption.is_some());
}

#[test]
fn rtmpdump_rtmpe_answered_as_type_8_xtea() {
    let outcome = rtmpdump_rtmpe(Some(8));
    assert_eq!(outcome.kind, HandshakeKind::Encrypted { scheme: 1, version: 8 });
}

#[test]
fn rtmpdump_rtmpe_answered_as_type_9_blowfish() {
    let outcome = rtmpdump_rtmpe(Some(9));
    assert_eq!(outcome.kind, HandshakeKind::Encrypted { scheme: 1, version: 9 });
}
