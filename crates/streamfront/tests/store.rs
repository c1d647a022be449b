//! Distributions from the control store: `streamfront distributions put` commits them, every
//! `serve` on the same store (a directory, or a bucket on the real S3 server of sf-testkit)
//! routes to them within seconds, across restarts, and keeps serving when the store goes away.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use sf_testkit::{BUCKET, S3Server};

const DOMAIN: &str = "store-vod.example.com";
const ID: &str = "ESTORE0000001";

/// A directory origin holding `x.mp4` = clip.mp4, which the default origin does not have.
fn store_origin(dir: &Path) -> std::path::PathBuf {
    let origin = dir.join("store-origin");
    std::fs::create_dir_all(&origin).unwrap();
    std::fs::copy(media().origin.join("clip.mp4"), origin.join("x.mp4")).unwrap();
    origin
}

/// `streamfront distributions put --store STORE FILE` with one distribution for `origin`.
fn put(dir: &Path, store: &str, origin: &Path, env: &[(String, String)]) -> Run {
    let file = dir.join("dists.toml");
    let toml = format!(
        "[[streaming_distributions]]\nid = \"{ID}\"\ndomain_name = \"{DOMAIN}\"\norigin = \"{}\"\n",
        origin.display()
    );
    std::fs::write(&file, toml).unwrap();
    let mut cmd = Command::new(binary());
    cmd.args(["distributions", "put", "--store", store]).arg(&file);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    run(cmd, Duration::from_secs(30))
}

/// `streamfront distributions delete --store STORE ID`.
fn delete(store: &str) -> Run {
    let mut cmd = Command::new(binary());
    cmd.args(["distributions", "delete", "--store", store, ID]);
    run(cmd, Duration::from_secs(30))
}

fn serve(store: &str, env: &[(String, String)]) -> Server {
    Server::start_with(
        &media().origin,
        ServerOptions { env: env.to_vec(), args: vec!["--store".into(), store.into()], ..Default::default() },
    )
}

/// ffmpeg playing `x.mp4` with `DOMAIN` in its tcUrl gets clip.mp4's frames.
fn plays_through_the_store_distribution(server: &Server) {
    let url = format!("rtmp://127.0.0.1:{}/cfx/st/mp4:x.mp4", server.rtmp_port());
    let tc_url = format!("rtmp://{DOMAIN}/cfx/st");
    eprintln!("{}", check_ffmpeg(&url, "clip.mp4", &Expect::Whole, &["-rtmp_tcurl", &tc_url], &[]));
}

fn distributions(server: &Server) -> serde_json::Value {
    let (status, body) = http_get(server.admin_addr(), "/distributions", Duration::from_secs(5)).unwrap();
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The store distribution as `/distributions` shows it, if it does.
fn listed(server: &Server) -> Option<serde_json::Value> {
    distributions(server).as_array().unwrap().iter().find(|d| d["id"] == ID).cloned()
}

fn metrics(server: &Server) -> String {
    http_get(server.admin_addr(), "/metrics", Duration::from_secs(5)).unwrap().1
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_directory_store_routes_across_restarts() {
    require_tool("ffmpeg");
    let dir = TempDir::new("store");
    let store = dir.path().join("control").display().to_string();
    let origin = store_origin(dir.path());
    let committed = put(dir.path(), &store, &origin, &[]);
    assert!(committed.success(), "{}", committed.describe());
    assert!(committed.stdout_text().starts_with(&format!("committed 1: put streaming distribution {ID}")));

    let mut server = serve(&store, &[]);
    let shown = listed(&server).unwrap_or_else(|| panic!("{ID} not in /distributions: {}", server.log()));
    assert_eq!(shown["domain_name"], DOMAIN);
    assert_eq!(shown["version"], 1);
    plays_through_the_store_distribution(&server);
    server.terminate(Duration::from_secs(10));

    let server = serve(&store, &[]);
    plays_through_the_store_distribution(&server);
    // A deployed change: this edge's heartbeat says it applied number 1.
    wait_until("status Deployed", Duration::from_secs(10), || {
        listed(&server).is_some_and(|d| d["status"] == "Deployed")
    });

    // A delete reaches the running edge too, and a second one is refused.
    let deleted = delete(&store);
    assert!(deleted.success(), "{}", deleted.describe());
    assert!(deleted.stdout_text().starts_with("committed 2:"), "{}", deleted.describe());
    wait_until("the deleted distribution leaves /distributions", Duration::from_secs(5), || listed(&server).is_none());
    let again = delete(&store);
    assert!(!again.success(), "deleting an unknown id must fail: {}", again.describe());
}

#[test]
fn two_edges_on_one_s3_store_follow_it_and_outlive_it() {
    require_tool("ffmpeg");
    let dir = TempDir::new("store-s3");
    let mut s3 = S3Server::start(dir.path());
    let env = s3.aws_env();
    let store = format!("s3://{BUCKET}/control");
    let origin = store_origin(dir.path());
    let edges = [serve(&store, &env), serve(&store, &env)];
    for edge in &edges {
        assert!(listed(edge).is_none());
        assert!(metrics(edge).contains("streamfront_store_reachable 1"), "{}", metrics(edge));
    }

    let committed = put(dir.path(), &store, &origin, &env);
    assert!(committed.success(), "{}", committed.describe());
    let applied = Instant::now();
    for edge in &edges {
        wait_until(
            "both edges serve the new distribution",
            Duration::from_secs(5).saturating_sub(applied.elapsed()),
            || listed(edge).is_some(),
        );
    }
    for edge in &edges {
        plays_through_the_store_distribution(edge);
        wait_until("Deployed once both edges applied it", Duration::from_secs(15), || {
            listed(edge).is_some_and(|d| d["status"] == "Deployed")
        });
    }

    s3.stop();
    for edge in &edges {
        wait_until("streamfront_store_reachable 0", Duration::from_secs(30), || {
            metrics(edge).contains("streamfront_store_reachable 0")
        });
        assert!(metrics(edge).contains("streamfront_store_applied_seq 1"), "{}", metrics(edge));
        assert!(listed(edge).is_some(), "the last configuration is kept");
        plays_through_the_store_distribution(edge);
    }
}

/// `serve --store STORE` with `--config CONFIG`, every `AWS_*` variable of the test's own
/// environment removed and `env` set: the run of a server expected to refuse to start.
fn serve_expecting_refusal(dir: &Path, store: &str, config: Option<&Path>, env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(binary());
    cmd.args(["serve", "--store", store, "--origin"])
        .arg(&media().origin)
        .arg("--data-dir")
        .arg(dir)
        .args(["--rtmp-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--http-listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--admin-listen", &format!("127.0.0.1:{}", free_port())]);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(&key);
        }
    }
    cmd.envs(env.iter().copied());
    run(cmd, Duration::from_secs(60))
}

#[test]
fn an_unreachable_store_is_a_start_up_error_naming_the_flag() {
    let dir = TempDir::new("store-down");
    // Nothing listens on this port: every request to the "store" is refused.
    let endpoint = format!("http://127.0.0.1:{}", free_port());
    let env = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let r = serve_expecting_refusal(dir.path(), "s3://nowhere/control", None, &env);
    assert_eq!(r.code(), Some(1), "serve must refuse to start: {}", r.describe());
    let error = r.stderr.lines().find(|l| l.starts_with("streamfront: ")).unwrap_or_default();
    assert!(
        error.starts_with("streamfront: --store s3://nowhere/control"),
        "a one-line error naming the flag: {}",
        r.describe()
    );
}

#[test]
fn a_store_that_ignores_if_none_match_is_refused_at_start() {
    let dir = TempDir::new("store-no-cas");
    // s3s-fs with the header dropped on the way in: a create-if-absent PUT overwrites.
    let s3 = S3Server::start_with(&dir.path().join("s3"), sf_testkit::Quirks { ignore_if_none_match: true });
    let config = dir.path().join("streamfront.toml");
    let s3_section = format!("[s3]\nendpoint = \"{}\"\nregion = \"us-east-1\"\nanonymous = true\n", s3.endpoint());
    std::fs::write(&config, s3_section).unwrap();
    let r = serve_expecting_refusal(&dir.path().join("data"), &format!("s3://{BUCKET}/control"), Some(&config), &[]);
    assert_eq!(r.code(), Some(1), "serve must refuse a store without conditional writes: {}", r.describe());
    let error = r.stderr.lines().find(|l| l.starts_with("streamfront: ")).unwrap_or_default();
    let flag = format!("--store s3://{BUCKET}/control");
    for part in [flag.as_str(), "If-None-Match", "conditional writes"] {
        assert!(error.contains(part), "{part:?} in the error: {}", r.describe());
    }
    assert!(s3.count("PUT") > 0, "the probe reached the store");
}

/// `distributions put` of `toml` (entries of `[[streaming_distributions]]`).
fn put_toml(dir: &Path, store: &str, toml: &str) -> Run {
    let file = dir.join("more-dists.toml");
    std::fs::write(&file, toml).unwrap();
    let mut cmd = Command::new(binary());
    cmd.args(["distributions", "put", "--store", store]).arg(&file);
    run(cmd, Duration::from_secs(30))
}

#[test]
fn the_config_file_wins_over_the_store_by_id_and_by_host_name_and_the_rest_still_applies() {
    require_tool("ffmpeg");
    let dir = TempDir::new("store-shadow");
    let store = dir.path().join("control").display().to_string();
    let origin = store_origin(dir.path());
    // The config file declares ID itself and the host name static.example.com.
    let config = dir.path().join("streamfront.toml");
    let declared = format!(
        "[[streaming_distributions]]\nid = \"{ID}\"\ndomain_name = \"static.example.com\"\norigin = \"{}\"\n",
        media().origin.display()
    );
    std::fs::write(&config, declared).unwrap();
    let server = Server::start_with(
        &media().origin,
        ServerOptions {
            args: vec!["--store".into(), store.clone(), "--config".into(), config.display().to_string()],
            ..Default::default()
        },
    );

    // One change with three distributions: one with the declared id, one whose alias is the
    // declared host name, and one that clashes with nothing.
    let o = origin.display();
    let toml = format!(
        "[[streaming_distributions]]\nid = \"{ID}\"\ndomain_name = \"{DOMAIN}\"\norigin = \"{o}\"\n\n\
         [[streaming_distributions]]\nid = \"ECLASH0000001\"\ndomain_name = \"clash.example.com\"\n\
         aliases = [\"static.example.com\"]\norigin = \"{o}\"\n\n\
         [[streaming_distributions]]\nid = \"EFINE00000001\"\ndomain_name = \"fine.example.com\"\norigin = \"{o}\"\n"
    );
    let committed = put_toml(dir.path(), &store, &toml);
    assert!(committed.success(), "{}", committed.describe());

    let find = |id: &str| distributions(&server).as_array().unwrap().iter().find(|d| d["id"] == id).cloned();
    wait_until("the unclashing store distribution is served", Duration::from_secs(10), || {
        find("EFINE00000001").is_some()
    });
    assert_eq!(find(ID).unwrap()["domain_name"], "static.example.com", "the declared {ID} is the one served");
    assert!(find("ECLASH0000001").is_none(), "a store distribution taking a declared host name is not served");
    let log = server.log();
    assert!(log.contains("a distribution of the config file has this host name"), "{log}");

    // The unclashing one plays its own origin's x.mp4.
    let url = format!("rtmp://127.0.0.1:{}/cfx/st/mp4:x.mp4", server.rtmp_port());
    eprintln!(
        "{}",
        check_ffmpeg(&url, "clip.mp4", &Expect::Whole, &["-rtmp_tcurl", "rtmp://fine.example.com/cfx/st"], &[])
    );
}
