//! Streaming distributions from the config file, each with its own bucket on a real S3 server
//! (sf-testkit), routed by the host of the connect's `tcUrl`: ffmpeg (`-rtmp_tcurl`),
//! rtmpdump (`--tcUrl`) and a raw client (for the refusals) against the real binary.

mod common;

use std::time::Duration;

use common::raw::RawClient;
use common::*;
use sf_testkit::{BUCKET, S3Server};

/// The second bucket: another directory beside the testkit's own under the server's root.
const OTHER_BUCKET: &str = "other-media";
const DOMAIN_A: &str = "media-a.example.com";
const DOMAIN_B: &str = "s1234567890abc.cdn.test";
const ALIAS_B: &str = "video.example.org";
const DOMAIN_OFF: &str = "off.example.com";

struct Setup {
    server: Server,
    _s3: S3Server,
    _dir: TempDir,
}

/// Bucket `media` holds `x.mp4` = movie.mp4 and bucket `other-media` holds `x.mp4` = clip.mp4
/// (different clips under one key); A serves `media`, B `other-media`, a third is disabled.
fn start(default_origin: &str) -> Setup {
    start_with_extra(default_origin, "")
}

/// [`start`] with more of the config file.
fn start_with_extra(default_origin: &str, extra_toml: &str) -> Setup {
    let dir = TempDir::new("s3");
    let s3 = S3Server::start(dir.path());
    s3.link_file("x.mp4", &media().origin.join("movie.mp4"));
    let other = dir.path().join(OTHER_BUCKET);
    std::fs::create_dir_all(&other).unwrap();
    std::fs::copy(media().origin.join("clip.mp4"), other.join("x.mp4")).unwrap();
    let config = dir.path().join("streamfront.toml");
    let toml = format!(
        "distribution_domain = \"cdn.test\"\n\
         [s3]\nendpoint = \"{endpoint}\"\n\
         [[streaming_distributions]]\nid = \"EAAAAAAAAAAAAA\"\ndomain_name = \"{DOMAIN_A}\"\norigin = \"{BUCKET}.s3.amazonaws.com\"\n\
         [[streaming_distributions]]\nid = \"EBBBBBBBBBBBBB\"\ndomain_name = \"{DOMAIN_B}\"\naliases = [\"{ALIAS_B}\"]\n\
         origin = \"{OTHER_BUCKET}.s3.us-east-1.amazonaws.com\"\n\
         [[streaming_distributions]]\nid = \"EOFFOFFOFFOFFO\"\ndomain_name = \"{DOMAIN_OFF}\"\norigin = \"s3://{BUCKET}\"\nenabled = false\n{extra_toml}",
        endpoint = s3.endpoint()
    );
    std::fs::write(&config, toml).unwrap();
    let server = Server::start_with(
        &media().origin,
        ServerOptions {
            origin_spec: Some(default_origin.to_owned()),
            env: s3.aws_env(),
            args: vec!["--config".into(), config.display().to_string()],
            ..Default::default()
        },
    );
    Setup { server, _s3: s3, _dir: dir }
}

fn play_url(server: &Server) -> String {
    format!("rtmp://127.0.0.1:{}/cfx/st/mp4:x.mp4", server.rtmp_port())
}

/// ffmpeg connected to 127.0.0.1 but naming `host` in its tcUrl must get `source`'s packets.
fn ffmpeg_via(server: &Server, host: &str, source: &str) {
    let tc_url = format!("rtmp://{host}/cfx/st");
    eprintln!("{}", check_ffmpeg(&play_url(server), source, &Expect::Whole, &["-rtmp_tcurl", &tc_url], &[]));
}

#[test]
fn each_distribution_plays_its_own_bucket() {
    let setup = start(media().origin.to_str().unwrap());
    let server = &setup.server;
    ffmpeg_via(server, DOMAIN_A, "movie.mp4");
    ffmpeg_via(server, DOMAIN_B, "clip.mp4");
    let url = format!("rtmp://127.0.0.1:{}/cfx/st", server.rtmp_port());
    let tc_url = format!("rtmp://{DOMAIN_B}/cfx/st");
    let args = ["-y", "mp4:x.mp4", "--tcUrl", &tc_url];
    eprintln!("{}", check_rtmpdump(&url, "clip.mp4", &Expect::Whole, &args, &[0]));
    let log = server.log();
    assert!(log.contains("distribution=EBBBBBBBBBBBBB"), "no distribution in the log lines:\n{}", tail(&log, 20));
    let (_, metrics) = http_get(server.admin_addr(), "/metrics", Duration::from_secs(5)).unwrap();
    let sent_by_b = metrics
        .lines()
        .find(|l| l.starts_with("streamfront_sent_bytes_total{distribution=\"EBBBBBBBBBBBBB\""))
        .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok());
    assert!(sent_by_b.is_some_and(|b| b > 0), "no bytes counted for distribution B:\n{metrics}");
}

#[test]
fn aliases_case_and_ports_route() {
    let setup = start(media().origin.to_str().unwrap());
    ffmpeg_via(&setup.server, ALIAS_B, "clip.mp4");
    ffmpeg_via(&setup.server, "Media-A.Example.COM:1935", "movie.mp4");
}

/// The `_error` reply to a connect whose tcUrl names `host`.
fn connect_via(server: &Server, host: &str) -> (Option<String>, String) {
    let mut client = RawClient::connect(server.rtmp_addr()).unwrap();
    client.handshake().unwrap();
    let reply = client.connect_app_via("cfx/st", &format!("rtmp://{host}/cfx/st")).unwrap();
    let description = format!("{:?}", reply.values());
    (reply.code(), description)
}

#[test]
fn disabled_and_unknown_hosts_are_rejected() {
    let setup = start(media().origin.to_str().unwrap());
    let (code, description) = connect_via(&setup.server, DOMAIN_OFF);
    assert_eq!(code.as_deref(), Some("NetConnection.Connect.Rejected"), "{description}");
    assert!(description.contains("disabled"), "{description}");
    // With a default, unknown hosts play from it.
    let (code, description) = connect_via(&setup.server, "unknown.example.net");
    assert_eq!(code.as_deref(), Some("NetConnection.Connect.Success"), "{description}");

    let setup = start("none");
    let (code, description) = connect_via(&setup.server, "unknown.example.net");
    assert_eq!(code.as_deref(), Some("NetConnection.Connect.Rejected"), "{description}");
    assert!(description.contains("unknown.example.net"), "{description}");
    let (code, _) = connect_via(&setup.server, "127.0.0.1");
    assert_eq!(code.as_deref(), Some("NetConnection.Connect.Rejected"));
    ffmpeg_via(&setup.server, DOMAIN_A, "movie.mp4");
}

#[test]
fn admin_lists_the_distributions() {
    let setup = start(media().origin.to_str().unwrap());
    let (code, body) = http_get(setup.server.admin_addr(), "/distributions", Duration::from_secs(5)).unwrap();
    assert_eq!(code, 200, "{body}");
    let list: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let ids: Vec<&str> = list.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["EAAAAAAAAAAAAA", "EBBBBBBBBBBBBB", "EOFFOFFOFFOFFO", "default"], "{body}");
    assert_eq!(list[1]["domain_name"], DOMAIN_B);
    assert_eq!(list[1]["aliases"], serde_json::json!([ALIAS_B]));
    assert_eq!(list[2]["enabled"], false);
    assert_eq!(list[3]["default"], true);
    assert!(list.iter().all(|d| d["status"] == "Deployed"), "{body}");
    assert!(list[1]["origin"].as_str().unwrap().contains(OTHER_BUCKET), "{body}");
}

#[test]
fn a_tunnel_without_a_tcurl_host_routes_by_its_host_header() {
    // librtmp sends `Host: <URL host>:<port>` on every RTMPT request; `--tcUrl cfx/st` names no
    // host, so only the Host header can pick distribution B (domain `localhost` here, the one
    // name that reaches 127.0.0.1 from the URL).
    let extra = format!(
        "[[streaming_distributions]]\nid = \"ELOCAL\"\ndomain_name = \"localhost\"\norigin = \"{OTHER_BUCKET}.s3.amazonaws.com\"\n"
    );
    let setup = start_with_extra("none", &extra);
    let url = format!("rtmpt://localhost:{}/cfx/st", setup.server.http_port);
    let args = ["-y", "mp4:x.mp4", "--tcUrl", "cfx/st"];
    eprintln!("{}", check_rtmpdump(&url, "clip.mp4", &Expect::Whole, &args, &[0]));
}
