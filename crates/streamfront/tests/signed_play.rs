//! Signed stream names on a streaming distribution with trusted signers `self`, signed by the
//! signing code users already have: botocore's `CloudFrontSigner` and `aws cloudfront sign`
//! (from the pinned venv of `scripts/api-venv.sh`), with a fresh RSA key from openssl. ffmpeg
//! and rtmpdump play them; a raw client sees the refusals (expired, not yet valid, wrong IP,
//! unknown key, tampered resource or policy, a parameter added after signing) and a seek
//! refused once the URL has expired.

mod common;

use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::api::{Aws, venv};
use common::raw::{Amf, RawClient};
use common::*;

const KEY_PAIR_ID: &str = "APKASIGNEDPLAYTEST01";
const DOMAIN: &str = "signed.example.com";

struct Setup {
    server: Server,
    dir: TempDir,
}

impl Setup {
    fn private_key(&self) -> String {
        self.dir.path().join("private.pem").display().to_string()
    }

    fn tc_url(&self) -> String {
        format!("rtmp://{DOMAIN}/cfx/st")
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn openssl(args: &[&str]) {
    let mut cmd = Command::new("openssl");
    cmd.args(args);
    let r = run(cmd, Duration::from_secs(60));
    assert!(r.success(), "openssl {args:?}: {}", r.describe());
}

/// A server whose distribution `signed.example.com` (the media directory) trusts `self`,
/// with one key pair made here; hosts it does not claim play unsigned from the default.
fn start() -> Setup {
    let dir = TempDir::new("signed");
    let private = dir.path().join("private.pem");
    let public = dir.path().join("public.pem");
    // PKCS#1 (`-traditional`): what python-rsa, under botocore's examples and the AWS CLI, reads.
    openssl(&["genrsa", "-traditional", "-out", private.to_str().unwrap(), "2048"]);
    openssl(&["rsa", "-in", private.to_str().unwrap(), "-pubout", "-out", public.to_str().unwrap()]);
    let config = dir.path().join("streamfront.toml");
    let toml = format!(
        "[[key_pairs]]\nid = \"{KEY_PAIR_ID}\"\npublic_key = \"{public}\"\n\
         [[streaming_distributions]]\nid = \"ESIGNEDSIGNEDS\"\ndomain_name = \"{DOMAIN}\"\norigin = \"{origin}\"\n\
         trusted_signers = [\"self\"]\n",
        public = public.display(),
        origin = media().origin.display()
    );
    std::fs::write(&config, toml).unwrap();
    let server = Server::start_with(
        &media().origin,
        ServerOptions { args: vec!["--config".into(), config.display().to_string()], ..Default::default() },
    );
    Setup { server, dir }
}

/// botocore's `CloudFrontSigner`: canned with `less` alone, else a custom policy.
fn botocore_sign(setup: &Setup, resource: &str, less: u64, greater: Option<u64>, ip: Option<&str>) -> String {
    let mut cmd = Command::new(venv().join("bin/python"));
    cmd.arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/signed/botocore_sign.py"));
    cmd.args([KEY_PAIR_ID, &setup.private_key(), resource, &less.to_string()]);
    cmd.arg(greater.map_or("-".to_owned(), |g| g.to_string()));
    cmd.args(ip);
    let r = run(cmd, Duration::from_secs(60));
    assert!(r.success(), "botocore_sign.py: {}", r.describe());
    r.stdout_text().trim().to_owned()
}

/// `aws cloudfront sign --url RESOURCE … --date-less-than LESS`.
fn aws_sign(setup: &Setup, resource: &str, less: u64) -> String {
    // `sign` is local: the endpoint is never called.
    let aws = Aws { endpoint: "http://127.0.0.1:9".into(), key_id: "AKIDUNUSED".into(), secret: "unused".into() };
    let key = format!("file://{}", setup.private_key());
    let out = aws.run(&[
        "cloudfront",
        "sign",
        "--url",
        resource,
        "--key-pair-id",
        KEY_PAIR_ID,
        "--private-key",
        &key,
        "--date-less-than",
        &less.to_string(),
    ]);
    assert!(out.run.success(), "aws cloudfront sign: {}", out.run.describe());
    out.run.stdout_text().trim().to_owned()
}

/// A raw client connected to the signed distribution, with a stream created.
fn connected(setup: &Setup) -> (RawClient, u32) {
    let mut client = RawClient::connect(setup.server.rtmp_addr()).unwrap();
    client.handshake().unwrap();
    let reply = client.connect_app_via("cfx/st", &setup.tc_url()).unwrap();
    assert_eq!(reply.code().as_deref(), Some("NetConnection.Connect.Success"));
    let sid = client.create_stream().unwrap();
    (client, sid)
}

/// The first onStatus that starts or fails a play of `name`: (code, the message's values).
fn play_status(setup: &Setup, name: &str) -> (String, String) {
    let (mut client, sid) = connected(setup);
    client.play(sid, name, None).unwrap();
    first_status(&mut client, &["NetStream.Play.Start", "NetStream.Play.Failed", "NetStream.Play.StreamNotFound"])
}

fn first_status(client: &mut RawClient, codes: &[&str]) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let messages = client
        .read_until(deadline, |m| {
            m.name().as_deref() == Some("onStatus") && m.code().is_some_and(|c| codes.contains(&c.as_str()))
        })
        .unwrap_or_else(|e| panic!("no onStatus among {codes:?}: {e}"));
    let last = messages.last().unwrap();
    (last.code().unwrap(), format!("{:?}", last.values()))
}

fn assert_refused(setup: &Setup, name: &str, reason: &str) {
    let (code, status) = play_status(setup, name);
    assert_eq!(code, "NetStream.Play.Failed", "{name}: {status}");
    assert!(status.contains("refused"), "{name}: the description says why: {status}");
    let logged = format!("reason=\"{reason}\"");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !setup.server.log().contains(&logged) {
        assert!(Instant::now() < deadline, "no log line with {logged} for {name}:\n{}", tail(&setup.server.log(), 20));
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ffmpeg_and_rtmpdump_play_names_signed_by_botocore_and_the_aws_cli() {
    let setup = start();
    let url = format!("rtmp://127.0.0.1:{}/cfx/st", setup.server.rtmp_port());
    let tc_url = setup.tc_url();
    let by_botocore = format!("mp4:{}", botocore_sign(&setup, "clip.mp4", now() + 3600, None, None));
    let checked = check_ffmpeg(
        &url,
        "clip.mp4",
        &Expect::Whole,
        &["-rtmp_playpath", &by_botocore, "-rtmp_tcurl", &tc_url, "-rtmp_app", "cfx/st"],
        &[],
    );
    eprintln!("{checked}");
    // A custom policy with a wildcard, an address range and a start time, by botocore.
    let custom = botocore_sign(&setup, "cl*", now() + 3600, Some(now() - 60), Some("127.0.0.0/8"));
    let custom = format!("mp4:{}", custom.replacen("cl*", "clip.mp4", 1));
    let args = ["-y", custom.as_str(), "--tcUrl", tc_url.as_str()];
    eprintln!("{}", check_rtmpdump(&url, "clip.mp4", &Expect::Whole, &args, &[0]));
    let by_cli = format!("mp4:{}", aws_sign(&setup, "clip.mp4", now() + 3600));
    let args = ["-y", by_cli.as_str(), "--tcUrl", tc_url.as_str()];
    eprintln!("{}", check_rtmpdump(&url, "clip.mp4", &Expect::Whole, &args, &[0]));
}

#[test]
fn bad_signed_names_are_refused_with_the_reason() {
    let setup = start();
    let valid = format!("mp4:{}", botocore_sign(&setup, "clip.mp4", now() + 3600, None, None));
    // The controls: the valid name plays, also without its extension in the resource and as
    // a Flash page escapes it (the query then never reaches the origin key).
    assert_eq!(play_status(&setup, &valid).0, "NetStream.Play.Start");
    let no_extension = format!("mp4:{}", botocore_sign(&setup, "clip", now() + 3600, None, None));
    assert_eq!(play_status(&setup, &no_extension.replacen("mp4:clip?", "mp4:clip.mp4?", 1)).0, "NetStream.Play.Start");
    let escaped = valid.replace('?', "%3F").replace('=', "%3D").replace('&', "%26");
    assert_eq!(play_status(&setup, &escaped).0, "NetStream.Play.Start", "{escaped}");

    assert_refused(&setup, "mp4:clip.mp4", "unsigned");
    let expired = format!("mp4:{}", botocore_sign(&setup, "clip.mp4", now() - 10, None, None));
    assert_refused(&setup, &expired, "expired");
    let later = format!("mp4:{}", botocore_sign(&setup, "clip.mp4", now() + 7200, Some(now() + 3600), None));
    assert_refused(&setup, &later, "not yet valid");
    let elsewhere = format!("mp4:{}", botocore_sign(&setup, "clip.mp4", now() + 3600, None, Some("192.0.2.0/24")));
    assert_refused(&setup, &elsewhere, "wrong ip");
    assert_refused(&setup, &valid.replace(KEY_PAIR_ID, "APKANOSUCHKEYPAIR001"), "unknown key");
    // Tampered: another stream with the same signature; a custom policy widened to `*`.
    assert_refused(&setup, &valid.replacen("mp4:clip.mp4?", "mp4:clip.f4v?", 1), "bad signature");
    let custom = botocore_sign(&setup, "other.mp4", now() + 3600, None, Some("127.0.0.1"));
    let (path, query) = custom.split_once("?Policy=").unwrap();
    let (policy, rest) = query.split_once('&').unwrap();
    let decoded = sf_sign::base64url::decode(policy).unwrap();
    let widened = String::from_utf8(decoded).unwrap().replace("other.mp4", "*");
    let tampered = format!("mp4:clip.mp4?Policy={}&{rest}", sf_sign::base64url::encode(widened.as_bytes()));
    assert!(path == "other.mp4");
    assert_refused(&setup, &tampered, "bad signature");
    let untampered = format!("mp4:clip.mp4?Policy={policy}&{rest}");
    assert_refused(&setup, &untampered, "resource mismatch");
    assert_refused(&setup, &format!("{valid}&Expires=9999999999"), "malformed");
    assert_refused(&setup, &format!("{valid}&start=0"), "malformed");

    // The default distribution (a host no distribution claims) has no trusted signers.
    let (code, _) = RawClient::play_until(
        setup.server.rtmp_addr(),
        "mp4:clip.mp4",
        &["NetStream.Play.Start", "NetStream.Play.Failed"],
        Duration::from_secs(10),
    )
    .unwrap();
    assert_eq!(code.last().map(String::as_str), Some("NetStream.Play.Start"));
}

#[test]
fn an_expired_name_finishes_its_play_but_cannot_seek() {
    let setup = start();
    // long.mp4 plays for longer than the few seconds the name is valid.
    let expires = now() + 3;
    let name = format!("mp4:{}", botocore_sign(&setup, "long.mp4", expires, None, None));
    let (mut client, sid) = connected(&setup);
    client.play(sid, &name, None).unwrap();
    assert_eq!(first_status(&mut client, &["NetStream.Play.Start", "NetStream.Play.Failed"]).0, "NetStream.Play.Start");
    let seek = |client: &mut RawClient, ms: f64| {
        client.send_command(8, sid, &[Amf::Str("seek".into()), Amf::Num(0.0), Amf::Null, Amf::Num(ms)]).unwrap();
    };
    seek(&mut client, 1000.0);
    let (code, status) = first_status(&mut client, &["NetStream.Seek.Notify", "NetStream.Play.Failed"]);
    assert_eq!(code, "NetStream.Seek.Notify", "a seek before the expiry works: {status}");
    // Media keeps coming past the expiry (the play finishes); then a seek is a new play, refused.
    while now() <= expires {
        let _ = client.read_message(Instant::now() + Duration::from_millis(200));
    }
    let before = Instant::now();
    let mut media_after_expiry = 0;
    while before.elapsed() < Duration::from_millis(500) {
        if let Ok(m) = client.read_message(Instant::now() + Duration::from_millis(100))
            && matches!(m.type_id, 8 | 9)
        {
            media_after_expiry += 1;
        }
    }
    assert!(media_after_expiry > 0, "the play goes on after the expiry");
    seek(&mut client, 0.0);
    let (code, status) = first_status(&mut client, &["NetStream.Seek.Notify", "NetStream.Play.Failed"]);
    assert_eq!(code, "NetStream.Play.Failed", "{status}");
    assert!(status.contains("expired"), "{status}");
    assert!(setup.server.log().contains("seek refused"), "{}", tail(&setup.server.log(), 10));
}
