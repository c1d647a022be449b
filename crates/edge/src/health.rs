//! `/healthz`: whether every configured listener is accepting, and whether the disk tier (if
//! there is one) can be written. The answer lists each check, so an operator reads what
//! failed without looking at the logs.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sf_cache::EdgeCache;
use tokio::sync::watch;

use crate::EdgeConfig;
use crate::listener::ListenerKind;

/// A disk probe slower than this counts as a failure.
const DISK_PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// Probes stuck on a hung disk each hold a blocking thread; beyond this many, report
/// failure without starting another.
const MAX_DISK_PROBES: usize = 4;

/// The outcome of every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// (check, `Ok(detail)` or `Err(what failed)`), in a fixed order.
    pub checks: Vec<(&'static str, Result<String, String>)>,
}

impl Report {
    pub fn healthy(&self) -> bool {
        self.checks.iter().all(|(_, outcome)| outcome.is_ok())
    }

    /// `ok` or `failing: <checks>`, then one line per check.
    pub fn text(&self) -> String {
        let failed: Vec<&str> = self.checks.iter().filter(|(_, o)| o.is_err()).map(|(name, _)| *name).collect();
        let mut text = if failed.is_empty() { "ok\n".to_owned() } else { format!("failing: {}\n", failed.join(", ")) };
        for (name, outcome) in &self.checks {
            let _ = match outcome {
                Ok(detail) => writeln!(text, "{name}: ok ({detail})"),
                Err(problem) => writeln!(text, "{name}: FAILED: {problem}"),
            };
        }
        text
    }
}

#[derive(Debug)]
pub struct Health {
    expected_listeners: usize,
    listeners: Mutex<Vec<Arc<ListenerState>>>,
    disk: Option<DiskCheck>,
}

impl Health {
    pub fn new(config: &EdgeConfig, cache: &Arc<EdgeCache>) -> Self {
        let expected_listeners =
            config.rtmp_listen.len() + config.http_listen.len() + config.https_listen.len() + config.admin_listen.len();
        let disk = cache.config().disk.as_ref().map(|disk| DiskCheck::new(disk.dir.clone(), Arc::clone(cache)));
        Health { expected_listeners, listeners: Mutex::new(Vec::new()), disk }
    }

    /// Called for each bound listener before its task starts; the task keeps the returned
    /// registration until it ends. A listener task that ends while `shutdown` is still false
    /// makes the server unhealthy.
    pub fn register_listener(
        &self,
        kind: ListenerKind,
        addr: SocketAddr,
        shutdown: watch::Receiver<bool>,
    ) -> ListenerRegistration {
        let state = Arc::new(ListenerState {
            kind,
            addr,
            stopped: AtomicBool::new(false),
            accept_failing: AtomicBool::new(false),
            accept_error: Mutex::new(String::new()),
        });
        self.listeners.lock().expect("health lock").push(Arc::clone(&state));
        ListenerRegistration { state, shutdown }
    }

    pub async fn check(&self) -> Report {
        let mut checks = vec![("listeners", self.check_listeners())];
        if let Some(disk) = &self.disk {
            checks.push(("disk tier", disk.check().await));
        }
        Report { checks }
    }

    fn check_listeners(&self) -> Result<String, String> {
        let listeners = self.listeners.lock().expect("health lock");
        let mut problems = Vec::new();
        for listener in listeners.iter() {
            let name = format!("{:?} listener {}", listener.kind, listener.addr).to_lowercase();
            if listener.stopped.load(Ordering::Relaxed) {
                problems.push(format!("{name} stopped"));
            } else if listener.accept_failing.load(Ordering::Relaxed) {
                let error = listener.accept_error.lock().expect("health lock");
                problems.push(format!("{name} cannot accept: {error}"));
            }
        }
        if listeners.len() < self.expected_listeners {
            problems.push(format!("{} of {} listeners started", listeners.len(), self.expected_listeners));
        }
        if problems.is_empty() { Ok(format!("{} accepting", listeners.len())) } else { Err(problems.join("; ")) }
    }
}

#[derive(Debug)]
struct ListenerState {
    kind: ListenerKind,
    addr: SocketAddr,
    stopped: AtomicBool,
    accept_failing: AtomicBool,
    accept_error: Mutex<String>,
}

/// A listener task's link to [`Health`]; dropping it marks the listener stopped.
#[derive(Debug)]
pub struct ListenerRegistration {
    state: Arc<ListenerState>,
    shutdown: watch::Receiver<bool>,
}

impl ListenerRegistration {
    /// After a successful accept: one atomic load unless the previous accept failed.
    pub fn accepted(&self) {
        if self.state.accept_failing.load(Ordering::Relaxed) {
            self.state.accept_failing.store(false, Ordering::Relaxed);
        }
    }

    pub fn accept_failed(&self, error: &std::io::Error) {
        *self.state.accept_error.lock().expect("health lock") = error.to_string();
        self.state.accept_failing.store(true, Ordering::Relaxed);
    }
}

impl Drop for ListenerRegistration {
    fn drop(&mut self) {
        if !*self.shutdown.borrow() {
            self.state.stopped.store(true, Ordering::Relaxed);
        }
    }
}

/// Is the disk tier usable: its directory takes a small file (created and removed within
/// [`DISK_PROBE_TIMEOUT`]), and block writes are not failing.
#[derive(Debug)]
struct DiskCheck {
    dir: PathBuf,
    cache: Arc<EdgeCache>,
    probes_running: Arc<AtomicUsize>,
    probe_number: AtomicU64,
    /// Block write counters seen by the previous check, and whether writes were failing
    /// then: the cache counts writes and write errors but not their order, so "failing"
    /// means errors and no successful write since the previous check, and it lasts until a
    /// check sees a successful write.
    writes: Mutex<WriteCounters>,
}

#[derive(Debug, Default, Clone, Copy)]
struct WriteCounters {
    errors: u64,
    bytes: u64,
    failing: bool,
}

impl DiskCheck {
    fn new(dir: PathBuf, cache: Arc<EdgeCache>) -> Self {
        let stats = cache.stats();
        let writes = WriteCounters {
            errors: stats.disk_write_errors.load(Ordering::Relaxed),
            bytes: stats.disk_write_bytes.load(Ordering::Relaxed),
            failing: false,
        };
        DiskCheck {
            dir,
            cache,
            probes_running: Arc::new(AtomicUsize::new(0)),
            probe_number: AtomicU64::new(0),
            writes: Mutex::new(writes),
        }
    }

    async fn check(&self) -> Result<String, String> {
        let dir = self.dir.display();
        self.probe().await.map_err(|problem| format!("{dir}: {problem}"))?;
        if self.block_writes_failing() {
            let errors = self.cache.stats().disk_write_errors.load(Ordering::Relaxed);
            return Err(format!("{dir}: block writes failing ({errors} write errors so far; see the log)"));
        }
        Ok(dir.to_string())
    }

    fn block_writes_failing(&self) -> bool {
        let stats = self.cache.stats();
        let now = WriteCounters {
            errors: stats.disk_write_errors.load(Ordering::Relaxed),
            bytes: stats.disk_write_bytes.load(Ordering::Relaxed),
            failing: false,
        };
        let mut previous = self.writes.lock().expect("health lock");
        let (new_errors, new_writes) = (now.errors > previous.errors, now.bytes > previous.bytes);
        let failing = if new_writes { false } else { new_errors || previous.failing };
        *previous = WriteCounters { failing, ..now };
        failing
    }

    /// Creates, writes and removes a small file in the cache directory.
    async fn probe(&self) -> Result<(), String> {
        if self.probes_running.fetch_add(1, Ordering::AcqRel) >= MAX_DISK_PROBES {
            self.probes_running.fetch_sub(1, Ordering::AcqRel);
            return Err(format!("{MAX_DISK_PROBES} earlier probes have not finished"));
        }
        let path = self.dir.join(format!(".healthz-probe-{}", self.probe_number.fetch_add(1, Ordering::Relaxed)));
        let running = Arc::clone(&self.probes_running);
        let probe = tokio::task::spawn_blocking(move || {
            let outcome = write_and_remove(&path);
            running.fetch_sub(1, Ordering::AcqRel);
            outcome
        });
        match tokio::time::timeout(DISK_PROBE_TIMEOUT, probe).await {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(error))) => Err(error.to_string()),
            Ok(Err(panicked)) => Err(format!("probe failed: {panicked}")),
            Err(_) => Err(format!("a small file write took longer than {DISK_PROBE_TIMEOUT:?}")),
        }
    }
}

fn write_and_remove(path: &Path) -> std::io::Result<()> {
    let written = std::fs::write(path, b"streamfront health probe\n");
    let removed = std::fs::remove_file(path);
    written.and(removed)
}

#[cfg(test)]
mod tests {
    use sf_cache::{CacheConfig, DiskConfig};

    use super::*;

    fn config(listeners: usize) -> EdgeConfig {
        EdgeConfig {
            rtmp_listen: vec!["127.0.0.1:0".parse().unwrap(); listeners],
            http_listen: Vec::new(),
            https_listen: Vec::new(),
            tls: None,
            https_public_port: 443,
            admin_listen: Vec::new(),
            max_connections: 1,
            timeouts: Default::default(),
            tunnels: Default::default(),
            session: Default::default(),
            key_pairs: Default::default(),
            hls_segment_seconds: sf_hls::DEFAULT_SEGMENT_SECONDS,
        }
    }

    fn cache(disk: Option<&Path>) -> Arc<EdgeCache> {
        let disk = disk.map(|dir| DiskConfig { dir: dir.to_owned(), max_bytes: 1 << 20 });
        EdgeCache::new(CacheConfig { disk, ..CacheConfig::default() })
    }

    fn check(health: &Health, name: &str) -> Result<String, String> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let report = runtime.block_on(health.check());
        assert_eq!(report.healthy(), report.checks.iter().all(|(_, o)| o.is_ok()));
        report.checks.into_iter().find(|(n, _)| *n == name).map(|(_, o)| o).expect("the check ran")
    }

    #[test]
    fn a_listener_that_ends_before_shutdown_is_a_failure() {
        let health = Health::new(&config(2), &cache(None));
        let (shutdown_tx, shutdown) = watch::channel(false);
        let addr: SocketAddr = "127.0.0.1:1935".parse().unwrap();
        let first = health.register_listener(ListenerKind::Rtmp, addr, shutdown.clone());
        assert!(check(&health, "listeners").unwrap_err().contains("1 of 2 listeners started"));
        let second = health.register_listener(ListenerKind::Http, "127.0.0.1:80".parse().unwrap(), shutdown.clone());
        assert_eq!(check(&health, "listeners"), Ok("2 accepting".to_owned()));

        first.accept_failed(&std::io::Error::from_raw_os_error(24));
        let problem = check(&health, "listeners").unwrap_err();
        assert!(problem.contains("rtmp listener 127.0.0.1:1935 cannot accept"), "{problem}");
        first.accepted();
        assert!(check(&health, "listeners").is_ok());

        drop(first);
        assert_eq!(check(&health, "listeners"), Err("rtmp listener 127.0.0.1:1935 stopped".to_owned()));
        // Listeners that end because the server shuts down are not failures.
        let health = Health::new(&config(1), &cache(None));
        let listener = health.register_listener(ListenerKind::Rtmp, addr, shutdown);
        shutdown_tx.send(true).unwrap();
        drop(listener);
        assert_eq!(check(&health, "listeners"), Ok("1 accepting".to_owned()));
        drop(second);
    }

    #[test]
    fn the_disk_check_follows_the_cache_directory() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        let health = Health::new(&config(0), &cache(Some(&cache_dir)));
        assert_eq!(check(&health, "disk tier"), Ok(cache_dir.display().to_string()));

        std::fs::rename(&cache_dir, dir.path().join("moved")).unwrap();
        std::fs::write(&cache_dir, b"not a directory").unwrap();
        let problem = check(&health, "disk tier").unwrap_err();
        assert!(problem.starts_with(&format!("{}: ", cache_dir.display())), "{problem}");

        std::fs::remove_file(&cache_dir).unwrap();
        std::fs::create_dir(&cache_dir).unwrap();
        assert!(check(&health, "disk tier").is_ok());
        assert_eq!(std::fs::read_dir(&cache_dir).unwrap().count(), 0, "the probe leaves nothing behind");
    }

    #[test]
    fn failing_block_writes_fail_the_disk_check_until_one_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let cache_dir = dir.path().join("cache");
        let cache = cache(Some(&cache_dir));
        let health = Health::new(&config(0), &cache);
        let stats = cache.stats();
        stats.disk_write_errors.fetch_add(1, Ordering::Relaxed);
        assert!(check(&health, "disk tier").unwrap_err().contains("block writes failing"));
        assert!(check(&health, "disk tier").is_err(), "no write has succeeded since");
        stats.disk_write_bytes.fetch_add(4096, Ordering::Relaxed);
        assert!(check(&health, "disk tier").is_ok());
    }

    #[test]
    fn without_a_disk_tier_there_is_no_disk_check() {
        let health = Health::new(&config(0), &cache(None));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let report = runtime.block_on(health.check());
        assert_eq!(report.text(), "ok\nlisteners: ok (0 accepting)\n");
    }
}
