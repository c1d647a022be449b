//! The running access log: [`AccessLogs`] takes records from connections (never blocking
//! them), a writer thread appends them to the disk spool, and a delivery task uploads sealed
//! files to each distribution's logging bucket, retrying while it is unreachable.
//!
//! Bounds: records wait for the writer in a channel of [`QUEUE_RECORDS`]; the spool holds at
//! most its budget on disk; one delivery reads one spool file (at most
//! [`crate::spool::MAX_FILE_BYTES`]). A record that does not fit is dropped, counted in
//! [`LogStats::records_dropped`] and logged.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt};
use sf_cache::S3Settings;
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use crate::file::{LogTarget, gzip_file};
use crate::record::{Record, hour_label};
use crate::spool::{self, Refused, Spool};

/// Records waiting for the writer thread, at most.
pub const QUEUE_RECORDS: usize = 16_384;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct LogStats {
    /// Records appended to the spool.
    pub records_written: AtomicU64,
    /// Log files put into logging buckets.
    pub files_delivered: AtomicU64,
    /// Failed attempts to put a file (it is tried again).
    pub delivery_failures: AtomicU64,
    /// Records lost: the queue or the spool was full, or the spool could not be written.
    pub records_dropped: AtomicU64,
    /// Bytes waiting in the spool.
    pub spool_bytes: Arc<AtomicU64>,
}

impl LogStats {
    fn dropped(&self, why: &str) {
        let total = self.records_dropped.fetch_add(1, Ordering::Relaxed) + 1;
        // The first drop of a burst and then ever more rarely: a full disk must not flood the log.
        if total.is_power_of_two() {
            warn!(records_dropped_total = total, "access log record dropped: {why}");
        }
    }
}

/// How the access log runs.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// The spool directory (`<data-dir>/logs`).
    pub dir: PathBuf,
    /// Records are delivered at least this often.
    pub flush: Duration,
    /// `x-edge-location` of every record.
    pub edge_location: String,
    /// Most bytes the spool holds on disk.
    pub spool_bytes: u64,
    /// How to reach the logging buckets.
    pub s3: S3Settings,
}

enum Message {
    Line {
        target: Arc<LogTarget>,
        hour: String,
        line: String,
    },
    /// Seal everything and stop.
    Shutdown,
}

/// Where connections send records. Until [`start`] runs, records are ignored.
#[derive(Debug, Default)]
pub struct AccessLogs {
    stats: LogStats,
    running: OnceLock<Running>,
}

#[derive(Debug)]
struct Running {
    sender: SyncSender<Message>,
    edge_location: String,
}

impl AccessLogs {
    pub fn new() -> Arc<Self> {
        Arc::new(AccessLogs::default())
    }

    pub fn stats(&self) -> &LogStats {
        &self.stats
    }

    /// Logs `record` for `target`'s distribution, stamped now. Never blocks: a record the
    /// writer cannot take is dropped and counted.
    pub fn log(&self, target: &Arc<LogTarget>, record: impl Into<Record>) {
        let Some(running) = self.running.get() else { return };
        let record = record.into();
        debug_assert_eq!(record.kind(), target.kind);
        let now = SystemTime::now();
        let line = record.line(now, &running.edge_location, target.include_cookies);
        let message = Message::Line { target: Arc::clone(target), hour: hour_label(now), line };
        match running.sender.try_send(message) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => self.stats.dropped("the writer's queue is full"),
            Err(TrySendError::Disconnected(_)) => self.stats.dropped("the access log has stopped"),
        }
    }
}

/// The writer thread and the delivery task; [`Service::shutdown`] delivers what is pending.
pub struct Service {
    sender: SyncSender<Message>,
    writer: Option<std::thread::JoinHandle<()>>,
    stop: watch::Sender<bool>,
    delivery: tokio::task::JoinHandle<()>,
    deliver: Arc<Delivery>,
}

/// Opens the spool (sealing what a crash left) and starts writing and delivering; needs a
/// tokio runtime. Records logged before this are lost; a second call is an error.
pub fn start(logs: &Arc<AccessLogs>, settings: LogSettings) -> Result<Service, String> {
    let used = Arc::clone(&logs.stats.spool_bytes);
    let spool = Spool::open(&settings.dir, settings.spool_bytes, used)
        .map_err(|e| format!("access log spool {}: {e}", settings.dir.display()))?;
    let (sender, receiver) = mpsc::sync_channel(QUEUE_RECORDS);
    let running = Running { sender: sender.clone(), edge_location: settings.edge_location.clone() };
    logs.running.set(running).map_err(|_| "the access log is already running".to_owned())?;
    let notify = Arc::new(Notify::new());
    let writer = {
        let (logs, notify, flush) = (Arc::clone(logs), Arc::clone(&notify), settings.flush);
        std::thread::Builder::new()
            .name("access-log-writer".into())
            .spawn(move || write_loop(spool, receiver, &logs.stats, &notify, flush))
            .map_err(|e| format!("cannot start the access log writer: {e}"))?
    };
    let deliver = Arc::new(Delivery {
        dir: settings.dir.clone(),
        s3: settings.s3.clone(),
        buckets: Mutex::new(HashMap::new()),
        logs: Arc::clone(logs),
    });
    let (stop, stopped) = watch::channel(false);
    // Retry an unreachable bucket often enough that a short outage delays little.
    let retry = settings.flush.min(Duration::from_secs(10));
    let delivery = tokio::spawn(Arc::clone(&deliver).run(notify, retry, stopped));
    info!(spool = %settings.dir.display(), flush_seconds = settings.flush.as_secs(), edge_location = %settings.edge_location, "access logs");
    Ok(Service { sender, writer: Some(writer), stop, delivery, deliver })
}

impl Service {
    /// Seals every spool file and tries to deliver all of them within `deadline`; what is not
    /// delivered stays on disk for the next start.
    pub async fn shutdown(mut self, deadline: Duration) {
        let _ = self.sender.send(Message::Shutdown);
        if let Some(writer) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
        let _ = self.stop.send(true);
        let _ = (&mut self.delivery).await;
        match tokio::time::timeout(deadline, self.deliver.deliver_ready()).await {
            Ok(true) => info!("access logs delivered"),
            Ok(false) => warn!("access logs not all delivered: they wait in the spool for the next start"),
            Err(_) => warn!("access log delivery took too long: the rest waits in the spool for the next start"),
        }
    }
}

/// The writer thread: appends records, flushes every second, seals files as old as `flush`.
fn write_loop(mut spool: Spool, receiver: mpsc::Receiver<Message>, stats: &LogStats, notify: &Notify, flush: Duration) {
    let second = Duration::from_secs(1);
    let mut next_tick = Instant::now() + second;
    loop {
        let message = receiver.recv_timeout(next_tick.saturating_duration_since(Instant::now()));
        let now = Instant::now();
        match message {
            Ok(Message::Line { target, hour, line }) => match spool.append(&target, &hour, &line, now) {
                Ok(sealed) => {
                    stats.records_written.fetch_add(1, Ordering::Relaxed);
                    if sealed {
                        notify.notify_one();
                    }
                }
                Err(Refused::Full) => stats.dropped("the spool is full (the logging bucket unreachable?)"),
                Err(Refused::Io(e)) => stats.dropped(&format!("cannot write the spool: {e}")),
            },
            Ok(Message::Shutdown) | Err(RecvTimeoutError::Disconnected) => {
                if let Err(e) = spool.seal(now, None) {
                    warn!("access log spool: {e}");
                }
                return;
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if now >= next_tick {
            next_tick = now + second;
            let sealed = spool.flush().and_then(|()| spool.seal(now, Some(flush)));
            match sealed {
                Ok(0) => {}
                Ok(_) => notify.notify_one(),
                Err(e) => warn!("access log spool: {e}"),
            }
        }
    }
}

/// Uploads sealed spool files.
struct Delivery {
    dir: PathBuf,
    s3: S3Settings,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
    logs: Arc<AccessLogs>,
}

impl Delivery {
    async fn run(self: Arc<Self>, notify: Arc<Notify>, retry: Duration, mut stopped: watch::Receiver<bool>) {
        loop {
            let all = self.deliver_ready().await;
            let pause = if all { Duration::from_secs(3600) } else { retry };
            tokio::select! {
                _ = notify.notified() => {}
                _ = tokio::time::sleep(pause) => {}
                _ = stopped.changed() => return,
            }
        }
    }

    /// Delivers sealed files, oldest first, until one fails; true when none is left.
    async fn deliver_ready(&self) -> bool {
        let files = match spool::ready_files(&self.dir) {
            Ok(files) => files,
            Err(e) => {
                warn!("access log spool {}: {e}", self.dir.display());
                return false;
            }
        };
        let stats = &self.logs.stats;
        for path in files {
            let size = path.metadata().map_or(0, |m| m.len());
            let read = match tokio::task::spawn_blocking({
                let path = path.clone();
                move || spool::read_ready(&path)
            })
            .await
            {
                Ok(Ok(read)) => read,
                Ok(Err(e)) => {
                    warn!(file = %path.display(), "access log spool: {e}");
                    return false;
                }
                Err(e) => {
                    warn!("access log spool: {e}");
                    return false;
                }
            };
            let Some((header, records)) = read else {
                warn!(file = %path.display(), "access log spool: not a spool file (its header is unreadable); removed");
                self.remove(&path, size);
                continue;
            };
            let key = header.target.object_key(&header.hour, &header.unique);
            let bucket = &header.target.bucket;
            let result = match self.bucket(bucket) {
                Ok(store) => {
                    let body = gzip_file(header.target.kind, &records);
                    let location = ObjectPath::parse(&key).unwrap_or_else(|_| ObjectPath::from(key.as_str()));
                    store.put(&location, body.into()).await.map(|_| ()).map_err(|e| e.to_string())
                }
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    stats.files_delivered.fetch_add(1, Ordering::Relaxed);
                    info!(distribution = %header.target.distribution_id, bucket = %bucket, key = %key, "access log delivered");
                    self.remove(&path, size);
                }
                Err(e) => {
                    stats.delivery_failures.fetch_add(1, Ordering::Relaxed);
                    warn!(distribution = %header.target.distribution_id, bucket = %bucket, key = %key, "access log delivery failed (retried): {e}");
                    return false;
                }
            }
        }
        true
    }

    fn remove(&self, path: &std::path::Path, size: u64) {
        match std::fs::remove_file(path) {
            Ok(()) => {
                let _ = self
                    .logs
                    .stats
                    .spool_bytes
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| Some(used.saturating_sub(size)));
            }
            Err(e) => warn!(file = %path.display(), "access log spool: cannot remove a delivered file: {e}"),
        }
    }

    /// The client of `bucket` on the configured S3 endpoint.
    fn bucket(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
        let mut buckets = self.buckets.lock().expect("buckets lock");
        if let Some(store) = buckets.get(bucket) {
            return Ok(Arc::clone(store));
        }
        let store = self
            .s3
            .configure(AmazonS3Builder::from_env())
            .with_bucket_name(bucket)
            .build()
            .map_err(|e| format!("logging bucket {bucket}: {e}"))?;
        let store: Arc<dyn ObjectStore> = Arc::new(store);
        buckets.insert(bucket.to_owned(), Arc::clone(&store));
        Ok(store)
    }
}
