//! The disk tier: one file per block under `<dir>/blocks/xx/<hash>.blk`, and one small
//! record per object under `<dir>/objects/xx/<hash>.obj` (its version and freshness, so a
//! restarted server serves cached media without asking the origin first). Blocks of all
//! origins share the tier and its bound; every name and record includes the origin's
//! namespace, and reads check it, so a directory reused with another origin serves none of
//! the first one's bytes.
//!
//! A block file is a header (magic, block index, length, CRC-32 of the data, namespace,
//! key, version, CRC-32 of the header) followed by the data. Files are written to a temporary name and
//! renamed, so a crash leaves either the old state or a whole file; a file torn anyway (no
//! fsync) or corrupted later fails its checks on read and is dropped, never served.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::block_cache::{BlockKey, ObjectId};
use crate::origin::ObjectMeta;
use crate::slru::Slru;
use crate::stats::CacheStats;

// Version 2 added the namespace; files of version 1 fail their checks and are dropped.
const BLOCK_MAGIC: &[u8; 8] = b"SFBLK\0\0\x02";
// Version 3 added the HTTP metadata (content type, ETag, Last-Modified, Expires); records of
// version 2 fail their checks and the object is looked up again. Version 4 added when the
// origin was last asked (an `Age` after a restart must not be guessed from a TTL).
const OBJECT_MAGIC: &[u8; 8] = b"SFOBJ\0\0\x04";
/// Namespaces, keys, versions and Cache-Control values longer than this are not stored.
const MAX_FIELD: usize = 4096;
/// The largest object record: its fixed part and up to seven fields.
const MAX_RECORD: u64 = 8 * MAX_FIELD as u64 + 128;
/// Startup indexes at most this many block files; the rest are deleted.
const MAX_FILES: usize = 2_000_000;

/// Where and how much.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskConfig {
    /// The cache directory (created if missing), e.g. `<data_dir>/cache`.
    pub dir: PathBuf,
    /// Bytes of block files kept (headers included); least valuable blocks are deleted
    /// beyond it.
    pub max_bytes: u64,
}

impl DiskConfig {
    /// `<data_dir>/cache`, bounded to `max_bytes`.
    pub fn under_data_dir(data_dir: &Path, max_bytes: u64) -> Self {
        DiskConfig { dir: data_dir.join("cache"), max_bytes }
    }
}

/// What is stored about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectRecord {
    pub meta: ObjectMeta,
    /// When the origin last confirmed this version.
    pub checked: SystemTime,
    pub fresh_until: SystemTime,
}

#[derive(Debug)]
pub(crate) struct DiskTier {
    blocks_dir: PathBuf,
    objects_dir: PathBuf,
    index: Mutex<Slru<String>>,
}

fn hash_name(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

fn block_name(key: &BlockKey) -> String {
    let object = &key.object;
    hash_name(&[
        object.namespace.as_bytes(),
        object.key.as_bytes(),
        object.version.as_bytes(),
        &key.index.to_le_bytes(),
    ])
}

fn object_name(namespace: &str, key: &str) -> String {
    hash_name(&[namespace.as_bytes(), key.as_bytes()])
}

impl DiskTier {
    /// Opens (creating) the directory and indexes the block files already there, oldest
    /// first, deleting temporary files and whatever exceeds `max_bytes`.
    pub(crate) fn open(config: &DiskConfig) -> io::Result<DiskTier> {
        let blocks_dir = config.dir.join("blocks");
        let objects_dir = config.dir.join("objects");
        fs::create_dir_all(&blocks_dir)?;
        fs::create_dir_all(&objects_dir)?;
        let mut found = Vec::new();
        for shard in fs::read_dir(&blocks_dir)? {
            let shard = shard?.path();
            if !shard.is_dir() {
                continue;
            }
            for file in fs::read_dir(&shard)? {
                let Ok(file) = file else { continue };
                let path = file.path();
                let name = file.file_name().to_string_lossy().into_owned();
                match name.strip_suffix(".blk") {
                    Some(stem) if stem.len() == 32 && found.len() < MAX_FILES => {
                        if let Ok(meta) = file.metadata() {
                            let mtime = meta.modified().unwrap_or(UNIX_EPOCH);
                            found.push((mtime, stem.to_owned(), meta.len()));
                        }
                    }
                    // Temporary files of writes a crash interrupted, and strays.
                    _ => {
                        let _ = fs::remove_file(&path);
                    }
                }
            }
        }
        found.sort();
        let mut index = Slru::new(config.max_bytes);
        let count = found.len();
        let mut trimmed = 0;
        for (_, name, size) in found {
            for victim in index.insert(name, size, 0) {
                let _ = fs::remove_file(shard_path(&blocks_dir, &victim, "blk"));
                trimmed += 1;
            }
        }
        tracing::info!(dir = %config.dir.display(), blocks = count - trimmed, trimmed, bytes = index.used(), "disk cache opened");
        Ok(DiskTier { blocks_dir, objects_dir, index: Mutex::new(index) })
    }

    pub(crate) fn used(&self) -> u64 {
        self.index.lock().expect("disk index").used()
    }

    pub(crate) fn blocks(&self) -> usize {
        self.index.lock().expect("disk index").len()
    }

    /// The block if the disk holds an intact copy. A damaged file is deleted, counted and
    /// logged, and reads as a miss.
    pub(crate) async fn read(&self, key: &BlockKey, reader: u64, stats: &CacheStats) -> Option<Bytes> {
        let name = block_name(key);
        if !self.index.lock().expect("disk index").contains(&name) {
            return None;
        }
        let path = shard_path(&self.blocks_dir, &name, "blk");
        let key2 = key.clone();
        let result = tokio::task::spawn_blocking(move || read_block_file(&path, &key2)).await.ok()?;
        match result {
            Ok(data) => {
                self.index.lock().expect("disk index").touch(&name, reader);
                Some(data)
            }
            Err(problem) => {
                let vanished = problem.kind() == io::ErrorKind::NotFound;
                if !vanished {
                    stats.disk_corrupt.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(key = %key.object.key, block = key.index, error = %problem, "disk cache block damaged; fetching it again");
                    let _ = fs::remove_file(shard_path(&self.blocks_dir, &name, "blk"));
                }
                self.index.lock().expect("disk index").remove(&name);
                None
            }
        }
    }

    /// Stores a block (off the async threads), evicting beyond the bound.
    pub(crate) async fn write(self: &Arc<Self>, key: &BlockKey, data: Bytes, stats: &Arc<CacheStats>) {
        let name = block_name(key);
        let this = Arc::clone(self);
        let key = key.clone();
        let stats2 = Arc::clone(stats);
        let _ = tokio::task::spawn_blocking(move || {
            let path = shard_path(&this.blocks_dir, &name, "blk");
            match write_block_file(&path, &key, &data) {
                Ok(size) => {
                    stats2.disk_write_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                    let victims = this.index.lock().expect("disk index").insert(name, size, 0);
                    for victim in victims {
                        stats2.disk_evictions.fetch_add(1, Ordering::Relaxed);
                        let _ = fs::remove_file(shard_path(&this.blocks_dir, &victim, "blk"));
                    }
                }
                Err(error) => {
                    stats2.disk_write_errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(key = %key.object.key, block = key.index, %error, "cannot write disk cache block");
                }
            }
        })
        .await;
    }

    /// The stored record of `key` of the origin `namespace`, if any and intact.
    pub(crate) async fn load_object(&self, namespace: &str, key: &str) -> Option<ObjectRecord> {
        let path = shard_path(&self.objects_dir, &object_name(namespace, key), "obj");
        let (namespace, key) = (namespace.to_owned(), key.to_owned());
        tokio::task::spawn_blocking(move || read_object_file(&path, &namespace, &key).ok()).await.ok().flatten()
    }

    pub(crate) async fn store_object(&self, namespace: &str, key: &str, record: &ObjectRecord) {
        let path = shard_path(&self.objects_dir, &object_name(namespace, key), "obj");
        let bytes = encode_object(namespace, key, record);
        let Some(bytes) = bytes else { return };
        let _ = tokio::task::spawn_blocking(move || {
            if let Err(error) = write_atomically(&path, &[&bytes]) {
                tracing::warn!(%error, "cannot write disk cache object record");
            }
        })
        .await;
    }

    /// Deletes the blocks `0..blocks` of `object`; returns how many were on disk.
    pub(crate) async fn forget_blocks(self: &Arc<Self>, object: Arc<ObjectId>, blocks: u64) -> usize {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut forgotten = 0;
            for index in 0..blocks {
                let name = block_name(&BlockKey { object: Arc::clone(&object), index });
                if this.index.lock().expect("disk index").remove(&name).is_some() {
                    let _ = fs::remove_file(shard_path(&this.blocks_dir, &name, "blk"));
                    forgotten += 1;
                }
            }
            forgotten
        })
        .await
        .unwrap_or(0)
    }

    /// Deletes the records of the objects of origin `namespace` whose keys `select` picks,
    /// and returns them. Reads every record on disk (each a few KiB at most): an
    /// invalidation's work is bounded by the objects the tier knows.
    pub(crate) async fn take_objects(
        &self,
        namespace: &str,
        select: impl Fn(&str) -> bool + Send + 'static,
    ) -> Vec<(String, ObjectRecord)> {
        let (dir, namespace) = (self.objects_dir.clone(), namespace.to_owned());
        let scan = move || {
            let mut taken = Vec::new();
            for shard in fs::read_dir(&dir).into_iter().flatten().flatten() {
                for file in fs::read_dir(shard.path()).into_iter().flatten().flatten() {
                    let path = file.path();
                    if file.metadata().map_or(true, |meta| meta.len() > MAX_RECORD) {
                        continue;
                    }
                    let Ok((stored_namespace, key, record)) = fs::read(&path).and_then(|all| decode_object(&all))
                    else {
                        continue;
                    };
                    if stored_namespace == namespace && select(&key) {
                        let _ = fs::remove_file(&path);
                        taken.push((key, record));
                    }
                }
            }
            taken
        };
        tokio::task::spawn_blocking(scan).await.unwrap_or_default()
    }

    pub(crate) async fn forget_object(&self, namespace: &str, key: &str) {
        let path = shard_path(&self.objects_dir, &object_name(namespace, key), "obj");
        let _ = tokio::task::spawn_blocking(move || fs::remove_file(path)).await;
    }
}

fn shard_path(dir: &Path, name: &str, ext: &str) -> PathBuf {
    dir.join(&name[..2]).join(format!("{name}.{ext}"))
}

fn write_atomically(path: &Path, parts: &[&[u8]]) -> io::Result<u64> {
    let dir = path.parent().expect("shard dir");
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("x"),
        std::process::id() as u64
            ^ (SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos() as u64)
    ));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        let mut total = 0u64;
        for part in parts {
            file.write_all(part)?;
            total += part.len() as u64;
        }
        drop(file);
        fs::rename(&tmp, path)?;
        Ok(total)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&(field.len() as u32).to_le_bytes());
    out.extend_from_slice(field);
}

fn block_header(key: &BlockKey, data: &[u8]) -> Vec<u8> {
    let object = &key.object;
    let mut header = Vec::with_capacity(64 + object.namespace.len() + object.key.len() + object.version.len());
    header.extend_from_slice(BLOCK_MAGIC);
    header.extend_from_slice(&key.index.to_le_bytes());
    header.extend_from_slice(&(data.len() as u64).to_le_bytes());
    header.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    put_field(&mut header, object.namespace.as_bytes());
    put_field(&mut header, object.key.as_bytes());
    put_field(&mut header, object.version.as_bytes());
    let crc = crc32fast::hash(&header);
    header.extend_from_slice(&crc.to_le_bytes());
    header
}

fn write_block_file(path: &Path, key: &BlockKey, data: &[u8]) -> io::Result<u64> {
    let object = &key.object;
    if object.namespace.len() > MAX_FIELD || object.key.len() > MAX_FIELD || object.version.len() > MAX_FIELD {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "key or version too long for the disk cache"));
    }
    let header = block_header(key, data);
    write_atomically(path, &[&header, data])
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// A little reader over a byte slice for the fixed formats above.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(invalid("truncated"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    fn field(&mut self) -> io::Result<&'a [u8]> {
        let len = self.u32()? as usize;
        if len > MAX_FIELD {
            return Err(invalid("field too long"));
        }
        self.take(len)
    }
}

fn read_block_file(path: &Path, key: &BlockKey) -> io::Result<Bytes> {
    let mut file = fs::File::open(path)?;
    let file_len = file.metadata()?.len();
    // Bounded: blocks are at most a few MiB plus a header; refuse anything absurd.
    if file_len > (1 << 30) {
        return Err(invalid("block file too large"));
    }
    let mut all = Vec::with_capacity(file_len as usize);
    file.read_to_end(&mut all)?;
    let mut cur = Cursor(&all);
    if cur.take(8)? != BLOCK_MAGIC {
        return Err(invalid("bad magic"));
    }
    let index = cur.u64()?;
    let data_len = cur.u64()?;
    let data_crc = cur.u32()?;
    let stored_namespace = cur.field()?;
    let stored_key = cur.field()?;
    let stored_version = cur.field()?;
    let header_len = all.len() - cur.0.len();
    let header_crc = cur.u32()?;
    if crc32fast::hash(&all[..header_len]) != header_crc {
        return Err(invalid("header checksum mismatch"));
    }
    let object = &key.object;
    if index != key.index
        || stored_namespace != object.namespace.as_bytes()
        || stored_key != object.key.as_bytes()
        || stored_version != object.version.as_bytes()
    {
        return Err(invalid("block file belongs to another block"));
    }
    if cur.0.len() as u64 != data_len {
        return Err(invalid("torn block file (length mismatch)"));
    }
    if crc32fast::hash(cur.0) != data_crc {
        return Err(invalid("data checksum mismatch"));
    }
    let start = header_len + 4;
    Ok(Bytes::from(all).slice(start..))
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn put_optional(out: &mut Vec<u8>, field: Option<&str>) {
    out.push(u8::from(field.is_some()));
    put_field(out, field.unwrap_or("").as_bytes());
}

fn encode_object(namespace: &str, key: &str, record: &ObjectRecord) -> Option<Vec<u8>> {
    let meta = &record.meta;
    let optional = [&meta.cache_control, &meta.content_type, &meta.etag, &meta.expires];
    let fields = [namespace, key, &meta.version];
    if fields.iter().any(|field| field.len() > MAX_FIELD)
        || optional.iter().any(|field| field.as_ref().is_some_and(|f| f.len() > MAX_FIELD))
    {
        return None;
    }
    let mut out = Vec::new();
    out.extend_from_slice(OBJECT_MAGIC);
    out.extend_from_slice(&meta.size.to_le_bytes());
    out.extend_from_slice(&unix(record.checked).to_le_bytes());
    out.extend_from_slice(&unix(record.fresh_until).to_le_bytes());
    out.push(u8::from(meta.last_modified.is_some()));
    out.extend_from_slice(&meta.last_modified.map_or(0, unix).to_le_bytes());
    put_field(&mut out, namespace.as_bytes());
    put_field(&mut out, key.as_bytes());
    put_field(&mut out, meta.version.as_bytes());
    for field in optional {
        put_optional(&mut out, field.as_deref());
    }
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Some(out)
}

fn read_object_file(path: &Path, namespace: &str, key: &str) -> io::Result<ObjectRecord> {
    let (stored_namespace, stored_key, record) = decode_object(&fs::read(path)?)?;
    if stored_namespace != namespace || stored_key != key {
        return Err(invalid("record of another object"));
    }
    Ok(record)
}

/// A record's origin namespace, object key and contents.
fn decode_object(all: &[u8]) -> io::Result<(String, String, ObjectRecord)> {
    if all.len() < 4 || all.len() as u64 > MAX_RECORD {
        return Err(invalid("bad object record size"));
    }
    let (body, crc) = all.split_at(all.len() - 4);
    if crc32fast::hash(body).to_le_bytes() != crc {
        return Err(invalid("object record checksum mismatch"));
    }
    let mut cur = Cursor(body);
    if cur.take(8)? != OBJECT_MAGIC {
        return Err(invalid("bad magic"));
    }
    let size = cur.u64()?;
    let checked = UNIX_EPOCH + Duration::from_secs(cur.u64()?);
    let fresh_until = UNIX_EPOCH + Duration::from_secs(cur.u64()?);
    let has_last_modified = cur.take(1)?[0] == 1;
    let last_modified = UNIX_EPOCH + Duration::from_secs(cur.u64()?);
    let stored_namespace = text(cur.field()?)?;
    let stored_key = text(cur.field()?)?;
    let version = text(cur.field()?)?;
    let mut optional = || -> io::Result<Option<String>> {
        let present = cur.take(1)?[0] == 1;
        let value = text(cur.field()?)?;
        Ok(present.then_some(value))
    };
    let meta = ObjectMeta {
        size,
        version,
        cache_control: optional()?,
        content_type: optional()?,
        etag: optional()?,
        expires: optional()?,
        last_modified: has_last_modified.then_some(last_modified),
    };
    Ok((stored_namespace, stored_key, ObjectRecord { meta, checked, fresh_until }))
}

fn text(field: &[u8]) -> io::Result<String> {
    String::from_utf8(field.to_vec()).map_err(|_| invalid("not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::block_cache::ObjectId;

    fn key_in(namespace: &str, version: &str, index: u64) -> BlockKey {
        BlockKey { object: Arc::new(ObjectId::new(namespace.into(), "a/b.mp4", version)), index }
    }

    fn key(index: u64) -> BlockKey {
        key_in("s3:http://one/media/", "\"etag1\"", index)
    }

    #[test]
    fn block_files_round_trip_and_damage_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.blk");
        let data: Vec<u8> = (0..5000u32).map(|i| i as u8).collect();
        write_block_file(&path, &key(3), &data).unwrap();
        assert_eq!(&read_block_file(&path, &key(3)).unwrap()[..], &data[..]);
        // Another block or version never reads as this one.
        assert!(read_block_file(&path, &key(4)).is_err());
        assert!(read_block_file(&path, &key_in("s3:http://one/media/", "\"etag2\"", 3)).is_err());
        // Nor does the same key and version of another origin.
        assert!(read_block_file(&path, &key_in("s3:http://two/media/", "\"etag1\"", 3)).is_err());
        // A flipped data byte, a flipped header byte, a torn tail.
        let good = fs::read(&path).unwrap();
        for damage in [good.len() - 10, 12, 30] {
            let mut bad = good.clone();
            bad[damage] ^= 0x40;
            fs::write(&path, &bad).unwrap();
            assert!(read_block_file(&path, &key(3)).is_err(), "damage at {damage}");
        }
        fs::write(&path, &good[..good.len() - 100]).unwrap();
        assert!(read_block_file(&path, &key(3)).is_err());
        fs::write(&path, b"").unwrap();
        assert!(read_block_file(&path, &key(3)).is_err());
    }

    #[test]
    fn object_records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.obj");
        let record = ObjectRecord {
            meta: ObjectMeta {
                size: 42,
                version: "\"v\"".into(),
                cache_control: Some("max-age=7200".into()),
                content_type: Some("text/html; charset=utf-8".into()),
                etag: Some("\"v\"".into()),
                last_modified: Some(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
                expires: None,
            },
            checked: UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            fresh_until: UNIX_EPOCH + Duration::from_secs(1_900_000_000),
        };
        fs::write(&path, encode_object("local:/a", "k", &record).unwrap()).unwrap();
        assert_eq!(read_object_file(&path, "local:/a", "k").unwrap(), record);
        assert!(read_object_file(&path, "local:/a", "other").is_err());
        assert!(read_object_file(&path, "local:/b", "k").is_err(), "a record of another origin");
    }
}
