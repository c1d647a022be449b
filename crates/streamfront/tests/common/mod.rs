//! End-to-end harness: starts the real `streamfront` binary on free loopback ports and plays
//! from it with real clients (ffmpeg, rtmpdump) and a raw RTMP socket.
//!
//! Every test binary includes this module with `mod common;` and uses a different part of it.
#![allow(dead_code)]

pub mod api;
pub mod clients;
pub mod framemd5;
pub mod logs;
pub mod media;
pub mod raw;
pub mod web;

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

// Each test file uses its own subset of these.
#[allow(unused_imports)]
pub use clients::*;
#[allow(unused_imports)]
pub use framemd5::*;
#[allow(unused_imports)]
pub use media::*;

/// How to install what the tests need; printed whenever a tool is missing.
pub const INSTALL_HINT: &str = "install the test tools with `apt-get update && apt-get install -y ffmpeg rtmpdump` \
     (or run `bash .ci/run`, which does it for you)";

/// Panics with an install hint unless `tool` can be executed.
pub fn require_tool(tool: &str) {
    static CHECKED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let checked = CHECKED.get_or_init(Default::default);
    if checked.lock().unwrap().contains(tool) {
        return;
    }
    let probe_arg = if tool == "rtmpdump" { "--help" } else { "-version" };
    match Command::new(tool).arg(probe_arg).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(_) => {
            checked.lock().unwrap().insert(tool.to_string());
        }
        Err(e) => panic!("required tool `{tool}` cannot be run ({e}); {INSTALL_HINT}"),
    }
}

/// A directory under cargo's per-target temp dir that is removed on drop (kept if the test
/// panicked, so its contents can be inspected).
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sf-it");
        fs::create_dir_all(&base).unwrap();
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let path = base.join(format!("{label}-{}-{}-{nanos}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
        fs::create_dir_all(&path).unwrap();
        TempDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A loopback port nobody listens on right now. Ports handed out by this process are never
/// handed out twice, so parallel tests in one binary cannot collide with each other.
pub fn free_port() -> u16 {
    static GIVEN: OnceLock<Mutex<HashSet<u16>>> = OnceLock::new();
    let given = GIVEN.get_or_init(Default::default);
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().unwrap().port();
        if given.lock().unwrap().insert(port) {
            return port;
        }
    }
}

/// Output of a finished (or killed) child process.
pub struct Run {
    pub status: Option<ExitStatus>,
    pub stdout: Vec<u8>,
    pub stderr: String,
    pub elapsed: Duration,
    pub timed_out: bool,
    pub what: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.and_then(|s| s.code())
    }

    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// A short description for failure messages: the command, exit status, time and the tail
    /// of stderr.
    pub fn describe(&self) -> String {
        let status = if self.timed_out {
            format!("KILLED after the {:.1}s limit", self.elapsed.as_secs_f64())
        } else {
            format!("exit {:?} after {:.2}s", self.code(), self.elapsed.as_secs_f64())
        };
        format!("`{}`: {status}\n--- stderr (tail) ---\n{}", self.what, tail(&self.stderr, 40))
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(n);
    lines[from..].join("\n")
}

/// Describes a command as a shell-like string.
pub fn command_line(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        let a = a.to_string_lossy();
        if a.contains(' ') || a.is_empty() {
            s.push_str(&format!(" '{a}'"));
        } else {
            s.push(' ');
            s.push_str(&a);
        }
    }
    s
}

/// Runs `cmd` with stdin closed, collecting stdout and stderr through files (no pipe
/// deadlocks); kills it after `limit`.
pub fn run(mut cmd: Command, limit: Duration) -> Run {
    let what = command_line(&cmd);
    let dir = TempDir::new("run");
    let out_path = dir.path().join("stdout");
    let err_path = dir.path().join("stderr");
    cmd.stdin(Stdio::null()).stdout(File::create(&out_path).unwrap()).stderr(File::create(&err_path).unwrap());
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start `{what}`: {e}; {INSTALL_HINT}"));
    let (status, timed_out) = wait_deadline(&mut child, start + limit);
    let elapsed = start.elapsed();
    let stdout = fs::read(&out_path).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&fs::read(&err_path).unwrap_or_default()).into_owned();
    Run { status, stdout, stderr, elapsed, timed_out, what }
}

/// Waits for `child` until `deadline`; kills it if it is still running then.
pub fn wait_deadline(child: &mut Child, deadline: Instant) -> (Option<ExitStatus>, bool) {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Some(status), false),
            Ok(None) => {}
            Err(e) => panic!("waiting for child: {e}"),
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let status = child.wait().ok();
            return (status, true);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends SIGTERM to a process (via kill(1): the harness has no libc dependency).
pub fn sigterm(pid: u32) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// A minimal HTTP/1.1 GET over a plain TcpStream: (status code, body).
pub fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect_timeout(&addr, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status_line = text.lines().next().unwrap_or_default().to_string();
    let code = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP response: {status_line:?}")))?;
    let body = match text.find("\r\n\r\n") {
        Some(i) => text[i + 4..].to_string(),
        None => String::new(),
    };
    Ok((code, body))
}

/// Sends `request` on a new loopback connection to `port`; the first response.
pub fn http(port: u16, request: &[u8]) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    stream.write_all(request).unwrap();
    read_response(&mut stream)
}

/// One HTTP response (status, body by Content-Length) from `stream`.
pub fn read_response(stream: &mut TcpStream) -> (u16, Vec<u8>) {
    read_next_response(stream, &mut Vec::new())
}

/// One response from `stream`, for pipelined requests: `pending` holds bytes already read
/// that belong to the responses after it.
pub fn read_next_response(stream: &mut TcpStream, pending: &mut Vec<u8>) -> (u16, Vec<u8>) {
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&pending[..end]).to_string();
            let status: u16 = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
            let length = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
                })
                .unwrap_or(0);
            while pending.len() < end + 4 + length {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => pending.extend_from_slice(&buf[..n]),
                }
            }
            let body_end = (end + 4 + length).min(pending.len());
            let body = pending[end + 4..body_end].to_vec();
            pending.drain(..body_end);
            return (status, body);
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return (0, std::mem::take(pending)),
            Ok(n) => pending.extend_from_slice(&buf[..n]),
        }
    }
}

/// A POST of `body` as RTMPT clients send it.
pub fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-fcs\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Extra knobs for [`Server::start_with`].
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// Additional `--rtmp-listen` addresses (fresh free ports) besides the first one.
    pub extra_rtmp_listeners: usize,
    /// Extra environment, e.g. `RUST_LOG`.
    pub env: Vec<(String, String)>,
    /// Extra command-line arguments after the listeners.
    pub args: Vec<String>,
    /// `--origin` value used instead of the origin path, e.g. `s3://bucket/prefix`.
    pub origin_spec: Option<String>,
    /// `--data-dir` to use instead of a fresh temp dir (e.g. to restart on the same disk
    /// cache); the caller owns it.
    pub data_dir: Option<PathBuf>,
    /// Serve the CloudFront API on a fresh free port (`--api-listen`) with the test
    /// credentials of [`api::ACCESS_KEY_ID`] in the environment.
    pub api: bool,
}

/// The real binary, started on free loopback ports with a temp data dir. Stopped (SIGTERM,
/// then SIGKILL) on drop; its stderr is printed when the test panicked.
pub struct Server {
    child: Option<Child>,
    pub origin: PathBuf,
    pub rtmp_ports: Vec<u16>,
    pub http_port: u16,
    pub admin_port: u16,
    /// The `--api-listen` port when [`ServerOptions::api`] is set.
    pub api_port: Option<u16>,
    pub stderr_path: PathBuf,
    pub exit: Option<ExitStatus>,
    data_dir: TempDir,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_streamfront")
}

impl Server {
    pub fn start(origin: &Path) -> Server {
        Server::start_with(origin, ServerOptions::default())
    }

    pub fn start_with(origin: &Path, opts: ServerOptions) -> Server {
        // A port picked as free can be taken by someone else before the server binds it:
        // retry with new ports when the server says "in use".
        let mut last = String::new();
        for _ in 0..3 {
            match Server::try_start(origin, &opts) {
                Ok(server) => return server,
                Err((msg, retry)) => {
                    if !retry {
                        panic!("{msg}");
                    }
                    last = msg;
                }
            }
        }
        panic!("server did not start after 3 tries: {last}");
    }

    fn try_start(origin: &Path, opts: &ServerOptions) -> Result<Server, (String, bool)> {
        let data_dir = TempDir::new("data");
        let stderr_path = data_dir.path().join("server-stderr.log");
        let rtmp_ports: Vec<u16> = (0..=opts.extra_rtmp_listeners).map(|_| free_port()).collect();
        let http_port = free_port();
        let admin_port = free_port();
        let api_port = opts.api.then(free_port);
        let mut cmd = Command::new(binary());
        cmd.arg("serve").arg("--origin");
        match &opts.origin_spec {
            Some(spec) => cmd.arg(spec),
            None => cmd.arg(origin),
        };
        cmd.arg("--data-dir").arg(opts.data_dir.as_deref().unwrap_or(data_dir.path()));
        for p in &rtmp_ports {
            cmd.arg("--rtmp-listen").arg(format!("127.0.0.1:{p}"));
        }
        cmd.arg("--http-listen").arg(format!("127.0.0.1:{http_port}"));
        cmd.arg("--admin-listen").arg(format!("127.0.0.1:{admin_port}"));
        cmd.args(&opts.args);
        // The developer's own AWS settings (a session token, a profile) must not reach a
        // server pointed at the test's S3 server.
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(&key);
            }
        }
        if let Some(port) = api_port {
            cmd.arg("--api-listen").arg(format!("127.0.0.1:{port}"));
            cmd.envs(api::server_env());
        }
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let what = command_line(&cmd);
        cmd.stdin(Stdio::null())
            .stdout(File::create(data_dir.path().join("server-stdout.log")).unwrap())
            .stderr(File::create(&stderr_path).unwrap());
        let child = cmd.spawn().map_err(|e| (format!("cannot start `{what}`: {e}"), false))?;
        let mut server = Server {
            child: Some(child),
            origin: origin.to_path_buf(),
            rtmp_ports,
            http_port,
            admin_port,
            api_port,
            stderr_path,
            exit: None,
            data_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = server.child.as_mut().unwrap().try_wait().unwrap() {
                server.exit = Some(status);
                server.child = None;
                let log = server.log();
                let retry = log.to_lowercase().contains("in use");
                return Err((
                    format!(
                        "server exited during startup with {status}\ncommand: {what}\n--- server stderr ---\n{}",
                        tail(&log, 60)
                    ),
                    retry,
                ));
            }
            if let Ok((200, body)) = http_get(server.admin_addr(), "/healthz", Duration::from_secs(1))
                && body.lines().next() == Some("ok")
                && api_port.is_none_or(|port| TcpStream::connect(("127.0.0.1", port)).is_ok())
            {
                return Ok(server);
            }
            if Instant::now() > deadline {
                let log = server.log();
                return Err((
                    format!(
                        "server did not answer GET /healthz with 200 `ok`{} within 15s\ncommand: {what}\n--- server stderr ---\n{}",
                        if api_port.is_some() { " and accept connections on --api-listen" } else { "" },
                        tail(&log, 60)
                    ),
                    false,
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }

    pub fn rtmp_port(&self) -> u16 {
        self.rtmp_ports[0]
    }

    pub fn rtmp_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.rtmp_port()))
    }

    pub fn admin_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.admin_port))
    }

    /// `rtmp://127.0.0.1:PORT/cfx/st/<path>` on the first `--rtmp-listen` port. `path` is put
    /// in verbatim (ffmpeg does not decode `%XX`; encode it yourself for rtmpdump).
    pub fn url(&self, path: &str) -> String {
        format!("rtmp://127.0.0.1:{}/cfx/st/{path}", self.rtmp_port())
    }

    /// The same on the `--http-listen` port (which speaks RTMP too).
    pub fn http_port_url(&self, path: &str) -> String {
        format!("rtmp://127.0.0.1:{}/cfx/st/{path}", self.http_port)
    }

    /// Everything the server wrote to stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&fs::read(&self.stderr_path).unwrap_or_default()).into_owned()
    }

    pub fn healthz(&self) -> std::io::Result<(u16, String)> {
        http_get(self.admin_addr(), "/healthz", Duration::from_secs(5))
    }

    /// Panics unless the server process is still running and healthy.
    pub fn assert_healthy(&mut self) {
        if let Some(child) = self.child.as_mut()
            && let Some(status) = child.try_wait().unwrap()
        {
            panic!("server died: {status}\n--- server stderr ---\n{}", tail(&self.log(), 60));
        }
        match self.healthz() {
            Ok((200, body)) if body.lines().next() == Some("ok") => {}
            other => panic!("GET /healthz: expected 200 `ok`, got {other:?}"),
        }
    }

    /// `http://127.0.0.1:PORT`: the API endpoint (panics unless started with the API).
    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.api_port.expect("the server was started without ServerOptions::api"))
    }

    /// SIGKILL (no graceful stop: nothing is flushed or closed) and waits for the exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            self.exit = child.wait().ok();
        }
    }

    /// Sends SIGTERM and waits up to `limit` for the exit status (None: still running).
    pub fn terminate(&mut self, limit: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        sigterm(child.id());
        let (status, killed) = wait_deadline(&mut child, Instant::now() + limit);
        self.exit = status;
        if killed { None } else { status }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            sigterm(child.id());
            let _ = wait_deadline(&mut child, Instant::now() + Duration::from_secs(5));
        }
        if std::thread::panicking() {
            eprintln!(
                "--- streamfront stderr ({}) ---\n{}\n--- end of streamfront stderr ---",
                self.stderr_path.display(),
                tail(&self.log(), 200)
            );
        }
    }
}

/// Runs `check` on every item and panics listing every failure (not just the first).
pub fn check_each<T: std::fmt::Debug>(items: &[T], mut check: impl FnMut(&T) -> Result<(), String>) {
    let failures: Vec<String> =
        items.iter().filter_map(|item| check(item).err().map(|e| format!("- {item:?}: {e}"))).collect();
    if !failures.is_empty() {
        panic!("{} of {} cases failed:\n{}", failures.len(), items.len(), failures.join("\n"));
    }
}

/// Runs every job in its own thread at once and returns their results in order; if any job
/// panics, the caller fails with every failed job's message.
pub fn parallel<T: Send + 'static>(jobs: Vec<Box<dyn FnOnce() -> T + Send + 'static>>) -> Vec<T> {
    let handles: Vec<_> = jobs.into_iter().map(std::thread::spawn).collect();
    let mut out = Vec::new();
    let mut failures = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        match h.join() {
            Ok(v) => out.push(v),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("job {i}: {msg}"));
            }
        }
    }
    if !failures.is_empty() {
        panic!("{} of the parallel jobs failed:\n{}", failures.len(), failures.join("\n\n"));
    }
    out
}
