//! What the FFmpeg-backed media tests share: running the tools (they fail, never skip,
//! without them), ffprobe's view of a file's packets, and MD5s.

#![allow(dead_code)] // each test file uses its own subset

use std::path::Path;
use std::process::Command;

use md5::{Digest, Md5};
use sf_media::{ByteSource, MediaIndex, Tag};

/// Runs a tool and returns its stdout; panics (never skips) if it is missing or fails.
pub fn run(program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program).args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `{program}` ({e}): these tests need FFmpeg installed (apt-get install ffmpeg)")
    });
    assert!(out.status.success(), "`{program} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// One packet as FFmpeg's demuxer sees it.
#[derive(Debug, Clone)]
pub struct ProbedPacket {
    pub video: bool,
    pub dts_ms: i64,
    pub md5: String,
    pub key: bool,
    pub pos: u64,
    pub size: u64,
}

/// Every packet of `path`, from `ffprobe -show_packets -show_data_hash MD5`.
pub fn probe_packets(path: &Path) -> Vec<ProbedPacket> {
    let out = run(
        "ffprobe",
        &["-v", "error", "-show_packets", "-show_data_hash", "MD5", "-of", "default", path.to_str().unwrap()],
    );
    // One [PACKET] block of key=value lines per packet (side data nests its own blocks).
    String::from_utf8(out)
        .unwrap()
        .split("[/PACKET]")
        .filter(|block| block.contains("[PACKET]"))
        .map(|block| {
            let field = |key: &str| {
                block
                    .lines()
                    .find_map(|kv| kv.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
                    .unwrap_or_else(|| panic!("no {key} in {block}"))
            };
            ProbedPacket {
                video: field("codec_type") == "video",
                dts_ms: (field("dts_time").parse::<f64>().unwrap() * 1000.0).round() as i64,
                md5: field("data_hash").trim_start_matches("MD5:").to_owned(),
                key: field("flags").starts_with('K'),
                pos: field("pos").parse().unwrap(),
                size: field("size").parse().unwrap(),
            }
        })
        .collect()
}

pub fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a seek to `ms` starts, and every tag from there to the end.
pub async fn play(index: &MediaIndex, source: &impl ByteSource, ms: u32) -> (u32, Vec<Tag>) {
    let mut cursor = index.seek(ms);
    let mut tags = Vec::new();
    while let Some(tag) = index.next_tag(&mut cursor, source).await.expect("tag") {
        tags.push(tag);
    }
    (cursor.start_ms, tags)
}
