//! Access logs of a streaming distribution whose `Logging` is enabled (the config file's
//! `logging` key), delivered as CloudFront delivers them: gzip files in the logging bucket of a
//! real S3 server (sf-testkit), read back and checked field by field against what a raw RTMP
//! client did (connect, play, pause, unpause, seek, close). Delivery on SIGTERM, every flush
//! period, after an outage of the bucket, and after a crash.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::logs::{is_hour, metric};
use common::raw::{Amf, RawClient};
use common::*;
use sf_testkit::S3Server;

const DISTRIBUTION: &str = "ELOGGEDLOGGED1";
const DOMAIN: &str = "logged.example.com";
const PREFIX: &str = "rtmp/";
/// The logging bucket `logs.s3.amazonaws.com`: a directory beside the testkit's own bucket.
const LOG_BUCKET: &str = "logs";
const STREAMING_FIELDS: &str = "date time x-edge-location c-ip x-event sc-bytes x-cf-status x-cf-client-id \
     cs-uri-stem cs-uri-query c-referrer x-page-url c-user-agent x-sname x-sname-query x-file-ext x-sid";

struct Setup {
    server: Server,
    s3: S3Server,
    dir: TempDir,
}

/// A server whose distribution `DOMAIN` logs into bucket `logs` under `rtmp/`, flushing every
/// `flush_seconds`, with its data in `data_dir` (else a fresh one); the default distribution
/// (any other host) does not log.
fn start(flush_seconds: u64, data_dir: Option<PathBuf>, s3: Option<(S3Server, TempDir)>) -> Setup {
    let (s3, dir) = s3.unwrap_or_else(|| {
        let dir = TempDir::new("s3");
        (S3Server::start(dir.path()), dir)
    });
    std::fs::create_dir_all(dir.path().join(LOG_BUCKET)).unwrap();
    let config = dir.path().join("streamfront.toml");
    let toml = format!(
        "[s3]\nendpoint = \"{endpoint}\"\n\
         [[streaming_distributions]]\nid = \"{DISTRIBUTION}\"\ndomain_name = \"{DOMAIN}\"\norigin = \"{origin}\"\n\
         logging = {{ bucket = \"{LOG_BUCKET}.s3.amazonaws.com\", prefix = \"{PREFIX}\" }}\n",
        endpoint = s3.endpoint(),
        origin = media().origin.display(),
    );
    std::fs::write(&config, toml).unwrap();
    let args = ["--config", &config.display().to_string(), "--access-log-flush-seconds", &flush_seconds.to_string()]
        .into_iter()
        .chain(["--edge-location", "TST1"])
        .map(str::to_owned)
        .collect();
    let server =
        Server::start_with(&media().origin, ServerOptions { env: s3.aws_env(), args, data_dir, ..Default::default() });
    Setup { server, s3, dir }
}

/// Everything the raw client did, to compare the records with.
struct Session {
    client: SocketAddr,
    sid: u32,
}

fn command(c: &mut RawClient, sid: u32, values: Vec<Amf>) {
    c.send_command(8, sid, &values).expect("send a command");
}

fn until_status(c: &mut RawClient, code: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    c.read_until(deadline, |m| m.name().as_deref() == Some("onStatus") && m.code().as_deref() == Some(code))
        .unwrap_or_else(|e| panic!("no {code}: {e}"));
}

/// Connects through `DOMAIN` (a query on the tcUrl), plays `mp4:long.mp4?p=1`, pauses,
/// unpauses, seeks and closes the connection.
fn play_pause_seek_close(server: &Server) -> Session {
    let mut c = RawClient::connect(server.rtmp_addr()).expect("connect");
    c.handshake().expect("handshake");
    let answer = c.connect_app_via("cfx/st", &format!("rtmp://{DOMAIN}/cfx/st?key=value")).expect("connect");
    assert_eq!(answer.name().as_deref(), Some("_result"), "{:?}", answer.values());
    let sid = c.create_stream().expect("createStream");
    c.play(sid, "mp4:long.mp4?p=1", None).expect("play");
    until_status(&mut c, "NetStream.Play.Start");
    let pause = |pause: bool| vec![Amf::Str("pause".into()), Amf::Num(0.0), Amf::Null, Amf::Bool(pause), Amf::Num(0.0)];
    command(&mut c, sid, pause(true));
    until_status(&mut c, "NetStream.Pause.Notify");
    command(&mut c, sid, pause(false));
    until_status(&mut c, "NetStream.Unpause.Notify");
    command(&mut c, sid, vec![Amf::Str("seek".into()), Amf::Num(0.0), Amf::Null, Amf::Num(3000.0)]);
    until_status(&mut c, "NetStream.Seek.Notify");
    let client = c.local_addr();
    drop(c);
    Session { client, sid }
}

/// A connection to the default distribution, which does not log.
fn connect_unlogged(server: &Server) {
    let mut c = RawClient::connect(server.rtmp_addr()).expect("connect");
    c.handshake().expect("handshake");
    let answer = c.connect_app("cfx/st", server.rtmp_port()).expect("connect");
    assert_eq!(answer.name().as_deref(), Some("_result"));
}

/// The log files in the bucket: name → decompressed text.
fn log_files(s3: &S3Server) -> BTreeMap<String, String> {
    common::logs::log_files(s3, LOG_BUCKET)
}

/// Every record of every file, each a vector of its fields, after checking each file's name
/// and headers.
fn records(files: &BTreeMap<String, String>) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    for (name, text) in files {
        let rest = name.strip_prefix(&format!("{PREFIX}{DISTRIBUTION}.")).unwrap_or_else(|| panic!("file name {name}"));
        let (hour, unique) = rest.strip_suffix(".gz").unwrap().split_once('.').unwrap();
        assert!(is_hour(hour), "{name}: the hour is YYYY-MM-DD-HH");
        assert!(unique.len() >= 8 && unique.bytes().all(|b| b.is_ascii_alphanumeric()), "{name}: the unique id");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("#Version: 1.0"), "{name}");
        assert_eq!(lines.next(), Some(format!("#Fields: {STREAMING_FIELDS}").as_str()), "{name}");
        for line in lines {
            let fields: Vec<String> = line.split('\t').map(str::to_owned).collect();
            assert_eq!(fields.len(), 17, "{name}: {line:?}");
            assert_eq!(format!("{}-{}", fields[0], &fields[1][..2]), hour, "{name}: a record of another hour: {line}");
            records.push(fields);
        }
    }
    records
}

/// Waits until the bucket holds records for which `done` is true.
fn wait_for_records(s3: &S3Server, limit: Duration, done: impl Fn(&[Vec<String>]) -> bool) -> Vec<Vec<String>> {
    let deadline = Instant::now() + limit;
    loop {
        let records = records(&log_files(s3));
        if done(&records) || Instant::now() > deadline {
            return records;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn events(records: &[Vec<String>]) -> Vec<&str> {
    records.iter().map(|r| r[4].as_str()).collect()
}

#[test]
fn sigterm_delivers_every_event_field_by_field() {
    let mut setup = start(300, None, None);
    let session = play_pause_seek_close(&setup.server);
    connect_unlogged(&setup.server);
    std::thread::sleep(Duration::from_millis(500));
    assert!(log_files(&setup.s3).is_empty(), "delivered before the flush period or SIGTERM");
    let status = setup.server.terminate(Duration::from_secs(30)).expect("the server stops on SIGTERM");
    assert!(status.success(), "{status}");

    let files = log_files(&setup.s3);
    assert_eq!(files.len(), 1, "one file for one distribution and hour: {:?}", files.keys());
    let records = records(&files);
    assert_eq!(events(&records), ["connect", "play", "pause", "unpause", "seek", "stop", "disconnect"], "{records:?}");
    let client_id = &records[0][7];
    assert!(client_id.len() == 32 && client_id.bytes().all(|b| b.is_ascii_hexdigit()), "x-cf-client-id {client_id}");
    let mut previous_bytes = 0;
    for r in &records {
        let event = r[4].as_str();
        assert_eq!(r[2], "TST1", "x-edge-location of {event}");
        assert_eq!(r[3], session.client.ip().to_string(), "c-ip of {event}");
        let bytes: u64 = r[5].parse().unwrap_or_else(|_| panic!("sc-bytes of {event}: {}", r[5]));
        assert!(
            bytes >= previous_bytes && bytes > 0,
            "sc-bytes is a running total: {event} {bytes} after {previous_bytes}"
        );
        previous_bytes = bytes;
        assert_eq!(r[6], "OK", "x-cf-status");
        assert_eq!(&r[7], client_id, "one x-cf-client-id per connection");
        assert_eq!(r[8], format!("rtmp://{DOMAIN}/cfx/st"), "cs-uri-stem");
        assert_eq!(r[9], "key=value", "cs-uri-query");
        assert_eq!((r[10].as_str(), r[11].as_str()), ("-", "-"), "c-referrer and x-page-url (no swfUrl, pageUrl)");
        assert_eq!(r[12], "LNX%209,0,124,2", "c-user-agent: the flashVer, escaped");
        let stream_fields: Vec<&str> = r[13..].iter().map(String::as_str).collect();
        if matches!(event, "connect" | "disconnect") {
            assert_eq!(stream_fields, ["-", "-", "-", "-"], "{event}");
        } else {
            assert_eq!(stream_fields, ["long", "p=1", "mp4", &session.sid.to_string()], "{event}");
        }
    }
    // Media went out between play and stop.
    assert!(records[5][5].parse::<u64>().unwrap() > records[1][5].parse::<u64>().unwrap() + 10_000, "{records:?}");
}

#[test]
fn files_are_delivered_every_flush_period() {
    let setup = start(1, None, None);
    play_pause_seek_close(&setup.server);
    let records = wait_for_records(&setup.s3, Duration::from_secs(15), |r| events(r).contains(&"disconnect"));
    assert_eq!(events(&records), ["connect", "play", "pause", "unpause", "seek", "stop", "disconnect"]);
    assert!(metric(&setup.server, "streamfront_access_log_files_delivered_total") >= 1);
    assert_eq!(metric(&setup.server, "streamfront_access_log_records_total"), 7);
}

#[test]
fn an_unreachable_bucket_loses_no_record() {
    let mut setup = start(1, None, None);
    setup.s3.stop();
    for _ in 0..3 {
        play_pause_seek_close(&setup.server);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while metric(&setup.server, "streamfront_access_log_delivery_failures_total") == 0 {
        assert!(Instant::now() < deadline, "no failed delivery counted while the bucket is down");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(metric(&setup.server, "streamfront_access_log_spool_bytes") > 0, "records wait on disk");
    setup.s3.restart();
    let records = wait_for_records(&setup.s3, Duration::from_secs(30), |r| {
        events(r).iter().filter(|e| **e == "disconnect").count() == 3
    });
    let mut got = events(&records);
    got.sort();
    let mut want = ["connect", "play", "pause", "unpause", "seek", "stop", "disconnect"].repeat(3);
    want.sort();
    assert_eq!(got, want, "every record of the three connections, once");
    assert_eq!(metric(&setup.server, "streamfront_access_log_records_dropped_total"), 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&setup.server, "streamfront_access_log_spool_bytes") > 0 {
        assert!(Instant::now() < deadline, "the spool empties once delivered");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_crash_loses_nothing_older_than_a_second() {
    let data = TempDir::new("crash-data");
    let mut setup = start(300, Some(data.path().to_owned()), None);
    play_pause_seek_close(&setup.server);
    // The writer hands records to the file system every second.
    std::thread::sleep(Duration::from_millis(2500));
    setup.server.kill();
    assert!(log_files(&setup.s3).is_empty(), "nothing delivered before the crash");
    let Setup { server, s3, dir } = setup;
    drop(server);
    // The restarted server finds the spool and delivers it.
    let setup = start(1, Some(data.path().to_owned()), Some((s3, dir)));
    let records = wait_for_records(&setup.s3, Duration::from_secs(15), |r| events(r).contains(&"disconnect"));
    assert_eq!(events(&records), ["connect", "play", "pause", "unpause", "seek", "stop", "disconnect"]);
}
