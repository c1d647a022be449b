//! Certificates: picked by the name the client asks for (SNI), wildcards, the default for
//! clients that ask for none, reloading from disk, and start-up errors that name the file.

mod common;
mod tls_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use tls_support::*;

#[test]
fn sni_picks_the_certificate_and_the_default_serves_the_rest() {
    let dir = TempDir::new("tls");
    let first = Cert::make(dir.path(), "first", "first", &["first.test"]);
    let wild = Cert::make(dir.path(), "wild", "wild", &["*.cdn.test"]);
    let marked = Cert::make(dir.path(), "marked", "marked", &["marked.test"]);
    let config = dir.path().join("streamfront.toml");
    let entry = |domains: &str, cert: &Cert, default: bool| {
        format!(
            "[[certificates]]\ndomains = [{domains}]\ncert = {:?}\nkey = {:?}\ndefault = {default}\n",
            cert.cert, cert.key
        )
    };
    let toml = [
        entry("\"first.test\"", &first, false),
        entry("\"*.cdn.test\"", &wild, false),
        entry("\"marked.test\", \"other.test\"", &marked, true),
    ]
    .concat();
    std::fs::write(&config, toml).unwrap();
    let (_server, port) = start_tls(&media().origin, &[], &["--config", config.to_str().unwrap()]);
    let cases: [(Option<&str>, &str); 8] = [
        (Some("first.test"), "first"),
        (Some("FIRST.test"), "first"),
        (Some("a.cdn.test"), "wild"),
        (Some("other.test"), "marked"),
        // A wildcard matches exactly one label.
        (Some("a.b.cdn.test"), "marked"),
        (Some("cdn.test"), "marked"),
        (Some("unknown.test"), "marked"),
        (None, "marked"),
    ];
    check_each(&cases, |(sni, expected)| {
        let got = served_cn(port, *sni);
        if got == *expected { Ok(()) } else { Err(format!("served {got}")) }
    });
}

#[test]
fn without_a_marked_default_the_first_certificate_serves_clients_without_sni() {
    let dir = TempDir::new("tls");
    let a = Cert::make(dir.path(), "a", "a", &["a.test"]);
    let b = Cert::make(dir.path(), "b", "b", &["b.test"]);
    let (_server, port) = start_tls(&media().origin, &[("a.test", &a), ("b.test", &b)], &[]);
    assert_eq!(served_cn(port, None), "a");
    assert_eq!(served_cn(port, Some("b.test")), "b");
}

/// New files renamed into place reach new handshakes within the reload interval, while a
/// viewer that connected before plays on to the last packet.
#[test]
fn a_certificate_swapped_on_disk_serves_new_connections_while_an_old_one_plays() {
    let dir = TempDir::new("tls");
    let old = Cert::make(dir.path(), "live", "old", &["localhost"]);
    let (server, port) = start_tls(&media().origin, &[("localhost", &old)], &[]);
    assert_eq!(served_cn(port, Some("localhost")), "old");

    let ca = dir.path().join("old-ca.pem");
    std::fs::copy(&old.cert, &ca).unwrap();
    let viewer = rtmps_viewer(port, &ca, 15);
    wait_for_plays(&server, 1);

    let new = Cert::make(dir.path(), "next", "new", &["localhost"]);
    std::fs::rename(&new.cert, &old.cert).unwrap();
    std::fs::rename(&new.key, &old.key).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let served = served_cn(port, Some("localhost"));
        if served == "new" {
            break;
        }
        assert!(Instant::now() < deadline, "still serving {served} 15 s after the swap");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(server.log().contains("certificates reloaded"), "{}", server.log());
    assert!(!viewer.is_finished(), "the viewer should still be playing when the new certificate is served");
    let played = viewer.join().expect("the viewer that connected before the swap plays to the end");
    eprintln!("{played}");
}

/// A reload that finds bad files keeps the certificates it has.
#[test]
fn a_bad_replacement_is_refused_and_the_old_certificate_stays() {
    let dir = TempDir::new("tls");
    let good = Cert::make(dir.path(), "live", "good", &["localhost"]);
    let (server, port) = start_tls(&media().origin, &[("localhost", &good)], &[]);
    let other = Cert::make(dir.path(), "other", "other", &["localhost"]);
    // Only the certificate changes: the key on disk no longer belongs to it.
    std::fs::rename(&other.cert, &good.cert).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !server.log().contains("certificates not reloaded") {
        assert!(Instant::now() < deadline, "no reload attempt logged:\n{}", server.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(server.log().contains("does not belong to certificate"), "{}", server.log());
    assert_eq!(served_cn(port, Some("localhost")), "good");
}

#[test]
fn start_up_errors_name_the_file() {
    let dir = TempDir::new("tls");
    let a = Cert::make(dir.path(), "a", "a", &["a.test"]);
    let b = Cert::make(dir.path(), "b", "b", &["b.test"]);
    let missing = dir.path().join("missing.pem");
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello\n").unwrap();
    let (cert, key) = (a.cert.display(), a.key.display());
    let cases = [
        (format!("a.test={}:{key}", missing.display()), format!("{}: No such file", missing.display())),
        (format!("a.test={cert}:{}", missing.display()), format!("{}: No such file", missing.display())),
        (format!("a.test={}:{key}", not_pem.display()), format!("{}: no CERTIFICATE", not_pem.display())),
        (format!("a.test={cert}:{}", not_pem.display()), format!("{}:", not_pem.display())),
        (format!("a.test={cert}:{}", b.key.display()), format!("{}: this key does not belong", b.key.display())),
        (format!("a..test={cert}:{key}"), "a..test: not a host name".to_owned()),
    ];
    check_each(&cases, |(flag, expected)| {
        let data = TempDir::new("data");
        let mut cmd = Command::new(binary());
        cmd.arg("serve").arg("--data-dir").arg(data.path());
        for name in ["--rtmp-listen", "--http-listen", "--https-listen", "--admin-listen"] {
            cmd.arg(name).arg(format!("127.0.0.1:{}", free_port()));
        }
        cmd.args(["--tls-cert", flag]);
        cmd.stdin(Stdio::null());
        let r = run(cmd, Duration::from_secs(20));
        let last = r.stderr.trim_end().lines().last().unwrap_or_default().to_owned();
        match r.code() {
            Some(1) if last.starts_with("streamfront: TLS certificate: ") && last.contains(expected.as_str()) => Ok(()),
            _ => Err(format!("expected exit 1 and a line with {expected:?}: {}", r.describe())),
        }
    });
}
