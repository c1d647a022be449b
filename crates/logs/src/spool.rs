//! The disk spool under `<data-dir>/logs`: records wait here until their file is delivered.
//!
//! Each (distribution, hour) has one open spool file at a time, `<seq>.open`: a JSON header
//! line (where its records go) then the records. Appends go through a buffer that the writer
//! flushes every second, so a crash loses at most the last second. A file is sealed
//! (renamed `<seq>.ready`) once it is as old as the flush period or [`MAX_FILE_BYTES`] long;
//! the deliverer then uploads it and removes it. On start, files a crash left open are sealed,
//! less a torn last line. The spool never holds more than its budget: records beyond it are
//! refused (the caller counts and logs them).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::file::{LogTarget, unique_id};

/// A spool file is sealed at this size, which bounds what one delivery reads into memory.
pub const MAX_FILE_BYTES: u64 = 8 << 20;
/// Longest header line read back (a target's names are short).
const MAX_HEADER_BYTES: usize = 4096;

const OPEN: &str = "open";
const READY: &str = "ready";

/// The first line of a spool file: where its records go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpoolHeader {
    pub target: LogTarget,
    /// `YYYY-MM-DD-HH` of its records.
    pub hour: String,
    /// The unique id of the delivered file's name, chosen once, so that a delivery repeated
    /// after a crash overwrites the same object.
    pub unique: String,
}

struct OpenFile {
    path: PathBuf,
    writer: BufWriter<File>,
    opened: Instant,
    bytes: u64,
}

/// Why a record was not spooled.
#[derive(Debug)]
pub enum Refused {
    /// The spool holds its budget already.
    Full,
    Io(io::Error),
}

/// The open spool files of one writer.
pub struct Spool {
    dir: PathBuf,
    open: HashMap<(LogTarget, String), OpenFile>,
    budget: u64,
    /// Bytes of every spool file on disk, shared with the deliverer, which removes files.
    used: Arc<AtomicU64>,
    next_seq: u64,
}

impl Spool {
    /// The spool in `dir` (created if needed), files left open by a crash sealed, holding at
    /// most `budget` bytes; `used` is set to what is on disk.
    pub fn open(dir: &Path, budget: u64, used: Arc<AtomicU64>) -> io::Result<Spool> {
        fs::create_dir_all(dir)?;
        let mut on_disk = 0;
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == OPEN) {
                recover(&path)?;
                fs::rename(&path, path.with_extension(READY))?;
            }
        }
        for entry in fs::read_dir(dir)? {
            on_disk += entry?.metadata()?.len();
        }
        used.store(on_disk, Ordering::Relaxed);
        Ok(Spool { dir: dir.to_owned(), open: HashMap::new(), budget, used, next_seq: 0 })
    }

    /// Appends `line` to the file of `target` and `hour`; a file reaching
    /// [`MAX_FILE_BYTES`] is sealed at once (true: a file was sealed).
    pub fn append(&mut self, target: &LogTarget, hour: &str, line: &str, now: Instant) -> Result<bool, Refused> {
        let len = line.len() as u64;
        if self.used.load(Ordering::Relaxed) + len > self.budget {
            return Err(Refused::Full);
        }
        let key = (target.clone(), hour.to_owned());
        if !self.open.contains_key(&key) {
            let file = self.create(target, hour, now).map_err(Refused::Io)?;
            self.open.insert(key.clone(), file);
        }
        let file = self.open.get_mut(&key).expect("inserted above");
        file.writer.write_all(line.as_bytes()).map_err(Refused::Io)?;
        file.bytes += len;
        self.used.fetch_add(len, Ordering::Relaxed);
        if file.bytes >= MAX_FILE_BYTES {
            let file = self.open.remove(&key).expect("looked at above");
            seal(file).map_err(Refused::Io)?;
            return Ok(true);
        }
        Ok(false)
    }

    fn create(&mut self, target: &LogTarget, hour: &str, now: Instant) -> io::Result<OpenFile> {
        let millis = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
        self.next_seq += 1;
        let path = self.dir.join(format!("{millis:020}-{:010}.{OPEN}", self.next_seq));
        let header = SpoolHeader { target: target.clone(), hour: hour.to_owned(), unique: unique_id() };
        let mut line = serde_json::to_string(&header).map_err(io::Error::other)?;
        line.push('\n');
        let mut writer = BufWriter::new(OpenOptions::new().create_new(true).append(true).open(&path)?);
        writer.write_all(line.as_bytes())?;
        self.used.fetch_add(line.len() as u64, Ordering::Relaxed);
        Ok(OpenFile { path, writer, opened: now, bytes: line.len() as u64 })
    }

    /// Hands every buffered record to the file system.
    pub fn flush(&mut self) -> io::Result<()> {
        for file in self.open.values_mut() {
            file.writer.flush()?;
        }
        Ok(())
    }

    /// Seals the files opened at least `age` before `now` (all of them with `None`); returns
    /// how many.
    pub fn seal(&mut self, now: Instant, age: Option<std::time::Duration>) -> io::Result<usize> {
        let due: Vec<_> = self
            .open
            .iter()
            .filter(|(_, f)| age.is_none_or(|age| now.duration_since(f.opened) >= age))
            .map(|(key, _)| key.clone())
            .collect();
        for key in &due {
            seal(self.open.remove(key).expect("listed above"))?;
        }
        Ok(due.len())
    }
}

fn seal(mut file: OpenFile) -> io::Result<()> {
    file.writer.flush()?;
    file.writer.get_ref().sync_data()?;
    fs::rename(&file.path, file.path.with_extension(READY))
}

/// Cuts a torn last line (a crash in the middle of a write) off a file left open.
fn recover(path: &Path) -> io::Result<()> {
    let text = fs::read(path)?;
    let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if whole < text.len() {
        OpenOptions::new().write(true).open(path)?.set_len(whole as u64)?;
    }
    Ok(())
}

/// The sealed files in `dir`, oldest first.
pub fn ready_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == READY))
        .collect();
    files.sort();
    Ok(files)
}

/// A sealed file's header and records; `None` when its header cannot be read (not ours, or
/// damaged).
pub fn read_ready(path: &Path) -> io::Result<Option<(SpoolHeader, Vec<u8>)>> {
    let mut text = Vec::new();
    File::open(path)?.take(MAX_FILE_BYTES * 2).read_to_end(&mut text)?;
    let Some(end) = text.iter().take(MAX_HEADER_BYTES).position(|&b| b == b'\n') else { return Ok(None) };
    let Ok(header) = serde_json::from_slice::<SpoolHeader>(&text[..end]) else { return Ok(None) };
    text.drain(..=end);
    Ok(Some((header, text)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::record::LogKind;

    fn target() -> LogTarget {
        LogTarget::new("E1", "logs.s3.amazonaws.com", "p/", LogKind::Streaming, false).unwrap()
    }

    #[test]
    fn records_wait_in_files_sealed_by_age_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let used = Arc::new(AtomicU64::new(0));
        let mut spool = Spool::open(dir.path(), 1 << 20, Arc::clone(&used)).unwrap();
        let t0 = Instant::now();
        spool.append(&target(), "2020-01-01-00", "a\n", t0).unwrap();
        spool.append(&target(), "2020-01-01-01", "b\n", t0).unwrap();
        spool.append(&target(), "2020-01-01-00", "c\n", t0 + Duration::from_secs(1)).unwrap();
        assert_eq!(spool.seal(t0 + Duration::from_secs(9), Some(Duration::from_secs(10))).unwrap(), 0);
        assert!(ready_files(dir.path()).unwrap().is_empty());
        assert_eq!(spool.seal(t0 + Duration::from_secs(10), Some(Duration::from_secs(10))).unwrap(), 2);
        let files = ready_files(dir.path()).unwrap();
        let mut read: Vec<_> = files.iter().map(|f| read_ready(f).unwrap().unwrap()).collect();
        read.sort_by(|a, b| a.0.hour.cmp(&b.0.hour));
        assert_eq!(read[0].0.hour, "2020-01-01-00");
        assert_eq!(read[0].1, b"a\nc\n");
        assert_eq!(read[1].1, b"b\n");
        assert_eq!(read[0].0.target, target());
        let on_disk: u64 = files.iter().map(|f| f.metadata().unwrap().len()).sum();
        assert_eq!(used.load(Ordering::Relaxed), on_disk);
    }

    #[test]
    fn the_budget_refuses_records_beyond_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 400, Arc::new(AtomicU64::new(0))).unwrap();
        let line = "x".repeat(99) + "\n";
        let now = Instant::now();
        let accepted = (0..10).filter(|_| spool.append(&target(), "h", &line, now).is_ok()).count();
        assert!((1..4).contains(&accepted), "{accepted} records of 100 bytes in 400 (with a header)");
        assert!(matches!(spool.append(&target(), "h", &line, now), Err(Refused::Full)));
    }

    #[test]
    fn files_a_crash_left_open_are_sealed_without_their_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::open(dir.path(), 1 << 20, Arc::new(AtomicU64::new(0))).unwrap();
        spool.append(&target(), "h", "whole\n", Instant::now()).unwrap();
        spool.flush().unwrap();
        let open = fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap().path();
        OpenOptions::new().append(true).open(&open).unwrap().write_all(b"torn").unwrap();
        std::mem::forget(spool); // a crash: nothing more is written
        let used = Arc::new(AtomicU64::new(0));
        Spool::open(dir.path(), 1 << 20, Arc::clone(&used)).unwrap();
        let files = ready_files(dir.path()).unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(read_ready(&files[0]).unwrap().unwrap().1, b"whole\n");
        assert_eq!(used.load(Ordering::Relaxed), files[0].metadata().unwrap().len());
    }
}
