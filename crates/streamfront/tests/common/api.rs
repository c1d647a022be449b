//! The CloudFront API's real clients against the real server: the AWS CLI and boto3 from the
//! pinned venv of `scripts/api-venv.sh`, and botocore-signed hand-made requests
//! (tests/api/raw.py) for what no SDK sends on purpose.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Run, Server, run, tail};

/// The key the tests' servers accept (`STREAMFRONT_API_ACCESS_KEY_ID`).
pub const ACCESS_KEY_ID: &str = "AKIASTREAMFRONTTEST1";
/// Its secret (`STREAMFRONT_API_SECRET_ACCESS_KEY`).
pub const SECRET_ACCESS_KEY: &str = "streamfront/api/test/secret/0123456789abcdef";

/// One CLI or boto3 run may take this long (the CLI alone starts in about a second).
const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// The environment a server needs to accept [`ACCESS_KEY_ID`].
pub fn server_env() -> [(&'static str, &'static str); 2] {
    [("STREAMFRONT_API_ACCESS_KEY_ID", ACCESS_KEY_ID), ("STREAMFRONT_API_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)]
}

/// The venv with the pinned AWS CLI and boto3, created once per test process by
/// `scripts/api-venv.sh`; panics with the script's output when it cannot be made.
pub fn venv() -> &'static Path {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/api-venv.sh");
        let r = run(Command::new(&script), Duration::from_secs(900));
        assert!(r.success(), "scripts/api-venv.sh could not make the AWS CLI venv: {}", r.describe());
        let path = PathBuf::from(r.stdout_text().lines().last().unwrap_or_default().trim());
        assert!(path.join("bin/aws").is_file(), "api-venv.sh printed {path:?}, which has no bin/aws: {}", r.describe());
        path
    })
}

/// A python script of tests/api.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api").join(name)
}

/// What one AWS CLI run gave.
pub struct Output {
    pub run: Run,
    /// stdout parsed as JSON (Null when empty or not JSON).
    pub json: Value,
}

impl Output {
    /// The service's error code from the CLI's `An error occurred (Code) when calling …`.
    pub fn error_code(&self) -> Option<String> {
        let rest = &self.run.stderr[self.run.stderr.find("An error occurred (")? + "An error occurred (".len()..];
        Some(rest[..rest.find(')')?].to_owned())
    }
}

/// The AWS CLI and boto3 pointed at one server's API, with one set of credentials.
#[derive(Clone)]
pub struct Aws {
    pub endpoint: String,
    pub key_id: String,
    pub secret: String,
}

impl Aws {
    /// The test credentials against `server`'s API.
    pub fn new(server: &Server) -> Aws {
        Aws { endpoint: server.api_url(), key_id: ACCESS_KEY_ID.into(), secret: SECRET_ACCESS_KEY.into() }
    }

    /// The same endpoint with other credentials.
    pub fn with_credentials(&self, key_id: &str, secret: &str) -> Aws {
        Aws { endpoint: self.endpoint.clone(), key_id: key_id.into(), secret: secret.into() }
    }

    /// A command from the venv with only this client's AWS settings: no developer profile,
    /// no instance metadata, and no retries that would hide an error.
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("AWS_") {
                cmd.env_remove(&key);
            }
        }
        cmd.envs([
            ("AWS_ACCESS_KEY_ID", self.key_id.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.as_str()),
            ("AWS_DEFAULT_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_RETRY_MODE", "standard"),
            ("AWS_MAX_ATTEMPTS", "1"),
            ("AWS_DEFAULT_OUTPUT", "json"),
            ("SF_API_URL", self.endpoint.as_str()),
        ]);
        cmd
    }

    /// `aws --endpoint-url API ARGS…`
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(&venv().join("bin/aws"));
        cmd.arg("--endpoint-url").arg(&self.endpoint).args(args);
        let run = run(cmd, CLIENT_LIMIT);
        let json = serde_json::from_slice(&run.stdout).unwrap_or(Value::Null);
        Output { run, json }
    }

    /// `aws ARGS…`, which must succeed; its JSON output.
    pub fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(out.run.success(), "{}\n--- stdout ---\n{}", out.run.describe(), tail(&out.run.stdout_text(), 40));
        out.json
    }

    /// `aws ARGS…`, which must fail with a service error: (exit code, error code).
    pub fn err(&self, args: &[&str]) -> (i32, String) {
        let out = self.run(args);
        assert!(
            !out.run.success(),
            "expected an error, the CLI succeeded: {}\n{}",
            out.run.what,
            out.run.stdout_text()
        );
        let code = out.error_code().unwrap_or_else(|| panic!("no service error code: {}", out.run.describe()));
        (out.run.code().unwrap_or(-1), code)
    }

    /// boto3: `client.OPERATION(**params)` through tests/api/call.py: `{status, response}` or
    /// `{status, error: {Code, Message}}`.
    pub fn boto(&self, operation: &str, params: Value) -> Value {
        let mut cmd = self.command(&venv().join("bin/python"));
        cmd.arg(script("call.py")).arg(operation).arg(params.to_string());
        let r = run(cmd, CLIENT_LIMIT);
        assert!(r.success(), "{}", r.describe());
        serde_json::from_slice(&r.stdout).unwrap_or_else(|e| panic!("call.py printed no JSON ({e}): {}", r.describe()))
    }

    /// [`Aws::boto`], which must succeed with HTTP `status`; the response.
    pub fn boto_ok(&self, operation: &str, params: Value, status: u64) -> Value {
        let out = self.boto(operation, params);
        assert_eq!(out["status"], status, "{operation}: {out:#}");
        out["response"].clone()
    }

    /// [`Aws::boto`], which must fail: (HTTP status, error code).
    pub fn boto_err(&self, operation: &str, params: Value) -> (u64, String) {
        let out = self.boto(operation, params);
        assert!(out.get("error").is_some(), "{operation} should have failed: {out:#}");
        (out["status"].as_u64().unwrap_or_default(), out["error"]["Code"].as_str().unwrap_or_default().to_owned())
    }

    /// A hand-made request through tests/api/raw.py (signed by botocore's SigV4Auth unless
    /// `--unsigned`); its JSON report `{status, code, body, sent, error}`.
    pub fn raw(&self, method: &str, path: &str, body: Option<&Path>, options: &[&str]) -> Value {
        let mut cmd = self.command(&venv().join("bin/python"));
        cmd.arg(script("raw.py")).arg(method).arg(path).args(options);
        if let Some(body) = body {
            cmd.arg("--body-file").arg(body);
        }
        let r = run(cmd, CLIENT_LIMIT);
        assert!(r.success(), "{}", r.describe());
        serde_json::from_slice(&r.stdout).unwrap_or_else(|e| panic!("raw.py printed no JSON ({e}): {}", r.describe()))
    }
}

/// Writes `value` as JSON to `dir/name` and returns the CLI's `file://PATH` for it.
pub fn json_file(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    format!("file://{}", path.display())
}

/// Calls `get` until `done` holds on its answer (every 200 ms); panics after `limit`.
pub fn poll(what: &str, limit: Duration, mut get: impl FnMut() -> Value, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let value = get();
        if done(&value) {
            return value;
        }
        assert!(Instant::now() < deadline, "not within {limit:?}: {what}; last answer:\n{value:#}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Every difference between what was sent and what came back, as `path: sent → got` lines,
/// except members the server added that `added` lists with exactly their value.
pub fn json_differences(sent: &Value, got: &Value, added: &[(&str, Value)]) -> Vec<String> {
    let mut out = Vec::new();
    diff_at("", sent, got, added, &mut out);
    out
}

fn diff_at(path: &str, sent: &Value, got: &Value, added: &[(&str, Value)], out: &mut Vec<String>) {
    match (sent, got) {
        (Value::Object(s), Value::Object(g)) => {
            for (key, sv) in s {
                let at = format!("{path}.{key}");
                match g.get(key) {
                    Some(gv) => diff_at(&at, sv, gv, added, out),
                    None => out.push(format!("{at}: sent {sv}, missing from the answer")),
                }
            }
            for (key, gv) in g.iter().filter(|(k, _)| !s.contains_key(*k)) {
                let at = format!("{path}.{key}");
                match added.iter().find(|(p, _)| *p == at) {
                    Some((_, expected)) if expected == gv => {}
                    Some((_, expected)) => out.push(format!("{at}: added {gv}, expected the default {expected}")),
                    None => out.push(format!("{at}: not sent, answered {gv}")),
                }
            }
        }
        (Value::Array(s), Value::Array(g)) if s.len() == g.len() => {
            for (i, (sv, gv)) in s.iter().zip(g).enumerate() {
                diff_at(&format!("{path}[{i}]"), sv, gv, added, out);
            }
        }
        _ if sent == got => {}
        _ => out.push(format!("{path}: sent {sent}, answered {got}")),
    }
}

/// `curl -X METHOD URL [--data-binary @BODY]` with no signature: (HTTP status, body).
pub fn curl(method: &str, url: &str, body: Option<&Path>) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["--silent", "--show-error", "--max-time", "30", "--write-out", "\n%{http_code}", "-X", method, url]);
    if let Some(body) = body {
        cmd.arg("--data-binary").arg(format!("@{}", body.display()));
    }
    let r = run(cmd, CLIENT_LIMIT);
    assert!(r.success(), "{}", r.describe());
    let text = r.stdout_text();
    let (body, status) = text.rsplit_once('\n').unwrap_or_default();
    (status.trim().parse().unwrap_or_else(|_| panic!("curl printed no status: {}", r.describe())), body.to_owned())
}

/// The `<Code>` of an error envelope.
pub fn error_code(body: &str) -> Option<&str> {
    let start = body.find("<Code>")? + "<Code>".len();
    Some(&body[start..start + body[start..].find("</Code>")?])
}
