//! For the access log tests: the log files delivered into a bucket of the real S3 server, read
//! back (gunzipped), and the counters of `/metrics`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use sf_testkit::S3Server;

use super::{Server, http_get};

/// The `.gz` files in `bucket`: key → decompressed text.
pub fn log_files(s3: &S3Server, bucket: &str) -> BTreeMap<String, String> {
    let root = s3.root().join(bucket);
    let mut files = BTreeMap::new();
    collect(&root, &root, &mut files);
    files
}

fn collect(root: &Path, dir: &Path, files: &mut BTreeMap<String, String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let name = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            // s3s-fs keeps its own bookkeeping in dot-directories.
            if !name.starts_with('.') {
                collect(root, &path, files);
            }
        } else if name.ends_with(".gz") {
            let mut text = String::new();
            flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
                .read_to_string(&mut text)
                .unwrap_or_else(|e| panic!("{name} is not gzip text: {e}"));
            files.insert(name, text);
        }
    }
}

/// `YYYY-MM-DD-HH`, the hour in a log file's name.
pub fn is_hour(s: &str) -> bool {
    s.len() == 13
        && s.bytes().enumerate().all(|(i, b)| if [4, 7, 10].contains(&i) { b == b'-' } else { b.is_ascii_digit() })
}

/// A counter or gauge without labels from the server's `/metrics`.
pub fn metric(server: &Server, name: &str) -> u64 {
    let (_, text) = http_get(server.admin_addr(), "/metrics", Duration::from_secs(5)).unwrap();
    text.lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
}
