//! Names the origin does not have, and origins that change under one data directory: the
//! real binary in front of a real S3 server on loopback (sf-testkit), played with the raw
//! RTMP client. What the origin was asked is counted on the S3 server's side.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::raw::{Amf, RawClient};
use common::*;
use sf_testkit::S3Server;

const NOT_FOUND: &str = "NetStream.Play.StreamNotFound";

/// The binary serving `spec` from `s3`, with the AWS_* variables pointing at it.
fn start(s3: &S3Server, spec: &str, data_dir: Option<&Path>) -> Server {
    Server::start_with(
        &media().origin,
        ServerOptions {
            origin_spec: Some(spec.to_owned()),
            env: s3.aws_env(),
            data_dir: data_dir.map(Path::to_path_buf),
            ..Default::default()
        },
    )
}

/// Plays `name` and returns the last onStatus code.
fn play_status(server: &Server, name: &str) -> String {
    let (codes, _) = RawClient::play_until(
        server.rtmp_addr(),
        name,
        &[NOT_FOUND, "NetStream.Play.Start", "NetStream.Play.Failed", "NetStream.Failed"],
        Duration::from_secs(10),
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
    codes.last().cloned().unwrap_or_default()
}

/// Plays `name` and returns the `duration` of its onMetaData.
fn played_duration(server: &Server, name: &str) -> f64 {
    let addr = server.rtmp_addr();
    let mut client = RawClient::connect(addr).unwrap();
    client.handshake().unwrap();
    client.connect_app("cfx/st", addr.port()).unwrap();
    let stream = client.create_stream().unwrap();
    client.play(stream, name, None).unwrap();
    let mut duration = None;
    client
        .read_until(Instant::now() + Duration::from_secs(10), |message| {
            if message.name().as_deref() != Some("onMetaData") {
                return false;
            }
            duration = message.values().iter().find_map(|v| match v.get("duration") {
                Some(Amf::Num(seconds)) => Some(*seconds),
                _ => None,
            });
            true
        })
        .unwrap_or_else(|e| panic!("play {name}: {e}\n{}", server.log()));
    duration.expect("onMetaData without a duration")
}

#[test]
fn a_missing_name_costs_at_most_two_origin_requests_then_none() {
    let dir = TempDir::new("s3-missing");
    let s3 = S3Server::start(dir.path());
    s3.link_file("vod/clip.mp4", &media().origin.join("clip.mp4"));
    let server = start(&s3, "s3://media/vod", None);
    // `mp4:missing` has seven candidate keys (missing.mp4, .f4v, .m4v, ...); `missing`
    // has one (missing.flv).
    for name in ["mp4:missing", "missing"] {
        let before = s3.requests().len();
        assert_eq!(play_status(&server, name), NOT_FOUND);
        let first = s3.requests()[before..].to_vec();
        assert!(!first.is_empty() && first.len() <= 2, "{name}: {} origin requests: {first:#?}", first.len());
        let before = s3.requests().len();
        assert_eq!(play_status(&server, name), NOT_FOUND);
        let second = s3.requests()[before..].to_vec();
        assert!(second.is_empty(), "{name} again: origin requests {second:#?}");
    }
    // Names that exist still play.
    assert_eq!(play_status(&server, "mp4:clip"), "NetStream.Play.Start");
}

#[test]
fn another_origin_on_the_same_data_dir_plays_its_own_bytes() {
    let dir = TempDir::new("s3-two-buckets");
    let s3 = S3Server::start(dir.path());
    // Two buckets (s3s-fs serves each subdirectory as one) with the same key: a 5 s clip
    // in one, the long video in two.
    for (bucket, file) in [("one", "clip.mp4"), ("two", "long.mp4")] {
        std::fs::create_dir_all(dir.path().join(bucket)).unwrap();
        std::fs::hard_link(media().origin.join(file), dir.path().join(bucket).join("x.mp4")).unwrap();
    }
    let data_dir = TempDir::new("data-two-buckets");
    let one = start(&s3, "s3://one", Some(data_dir.path()));
    assert_eq!(played_duration(&one, "mp4:x").round(), CLIP_SECONDS);
    // Let the disk tier write what it fetched.
    std::thread::sleep(Duration::from_millis(500));
    drop(one);

    let two = start(&s3, "s3://two", Some(data_dir.path()));
    assert_eq!(played_duration(&two, "mp4:x").round(), LONG_SECONDS);
    drop(two);

    // Back to the first origin: its bytes, from the disk tier.
    let one = start(&s3, "s3://one", Some(data_dir.path()));
    assert_eq!(played_duration(&one, "mp4:x").round(), CLIP_SECONDS);
}
