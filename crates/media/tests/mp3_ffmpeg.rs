//! MP3 files written by FFmpeg (LAME) at test time, compared frame by frame with what
//! `ffprobe` demuxes. FFmpeg must be installed: these tests fail (never skip) without it.

use std::path::{Path, PathBuf};

mod common;

use bytes::Bytes;
use common::{md5_hex, play, probe_packets as probe, run};
use sf_amf::{Value, amf0};
use sf_media::{Format, MediaIndex, MemorySource};

/// An MP3 of `seconds` of a stereo tone at `rate` Hz, encoded with `codec_args`.
fn make(dir: &Path, name: &str, rate: u32, seconds: &str, codec_args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let source = format!("aevalsrc=sin(440*2*PI*t)|sin(660*2*PI*t):s={rate}");
    let mut args = vec!["-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i", &source, "-t", seconds];
    args.extend_from_slice(codec_args);
    args.push(path.to_str().unwrap());
    run("ffmpeg", &args);
    path
}

/// Opens `path`, checks every frame against ffprobe, and returns the index and metadata.
async fn check(path: &Path, sound_byte: u8) -> (MediaIndex, Value) {
    let source = MemorySource(Bytes::from(std::fs::read(path).unwrap()));
    let index = MediaIndex::open(&source, Format::Mp3).await.expect("open");
    let (_, tags) = play(&index, &source, 0).await;
    let packets = probe(path);
    assert_eq!(tags.len(), packets.len(), "frame count (the Xing/Info frame is not audio)");
    let offset = packets[0].dts_ms - i64::from(tags[0].timestamp);
    for (i, (tag, packet)) in tags.iter().zip(&packets).enumerate() {
        assert_eq!(md5_hex(&tag.data), packet.md5, "frame {i} data");
        let drift = packet.dts_ms - i64::from(tag.timestamp) - offset;
        assert!(drift.abs() <= 1, "frame {i}: ts {} vs dts {} ms", tag.timestamp, packet.dts_ms);
        assert_eq!(tag.prefix.as_slice(), [sound_byte], "frame {i} sound byte");
    }
    // Same frames, so the first one starts where FFmpeg's first packet does.
    let mut cursor = index.seek(0);
    let first = index.next_tag(&mut cursor, &source).await.unwrap().unwrap();
    let file = std::fs::read(path).unwrap();
    let at = packets[0].pos as usize;
    assert_eq!(first.data.as_ref(), &file[at..at + first.data.len()]);

    // Seeking: the frame at or before the target, and the next one after it.
    let last = tags.last().unwrap().timestamp;
    for ms in (0..last + 300).step_by(37) {
        let (start, played) = play(&index, &source, ms).await;
        assert!(start <= ms && played[0].timestamp == start, "seek({ms}) -> {start}");
        if let Some(next) = played.get(1) {
            assert!(next.timestamp > ms);
        }
    }
    let values = amf0::decode_all(&index.info().metadata).unwrap();
    assert_eq!(values[0], Value::from("onMetaData"));
    let meta = values[1].clone();
    // rtmpdump exits 0 only if the last timestamp reaches 99.9 % of onMetaData.duration.
    let duration = meta.get("duration").and_then(Value::as_f64).unwrap();
    assert!(f64::from(last) >= 0.999 * duration * 1000.0, "last {last} ms vs duration {duration} s");
    assert_eq!(index.info().duration_ms, u64::from(last));
    (index, meta)
}

#[tokio::test]
async fn cbr_with_id3_title() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(dir.path(), "a.mp3", 44100, "6", &["-c:a", "libmp3lame", "-b:a", "128k", "-metadata", "title=x"]);
    let (_, meta) = check(&path, 0x2f).await;
    assert_eq!(meta.get("title"), Some(&Value::from("x")));
    assert_eq!(meta.get("audiocodecid"), Some(&Value::Number(2.0)));
    assert_eq!(meta.get("audiosamplerate"), Some(&Value::Number(44100.0)));
    assert_eq!(meta.get("stereo"), Some(&Value::Boolean(true)));
    let rate = meta.get("audiodatarate").and_then(Value::as_f64).unwrap();
    assert!((rate - 128.0).abs() < 1.0, "{rate} kbit/s");
}

#[tokio::test]
async fn vbr() {
    let dir = tempfile::tempdir().unwrap();
    let path = make(dir.path(), "a.mp3", 44100, "12", &["-c:a", "libmp3lame", "-q:a", "4"]);
    let (index, meta) = check(&path, 0x2f).await;
    assert_eq!(meta.get("title"), None);
    // 12 s of 1152-sample frames at 44.1 kHz, give or take the encoder's padding frames.
    assert!(index.info().duration_ms.abs_diff(12_000) < 100, "{}", index.info().duration_ms);
}

#[tokio::test]
async fn other_sample_rates() {
    let dir = tempfile::tempdir().unwrap();
    for (rate, byte) in [(48000, 0x2f), (32000, 0x2f), (22050, 0x2b), (16000, 0x2b), (11025, 0x27), (8000, 0x23)] {
        let path = make(dir.path(), &format!("{rate}.mp3"), rate, "5", &["-c:a", "libmp3lame", "-b:a", "32k"]);
        let (_, meta) = check(&path, byte).await;
        assert_eq!(meta.get("audiosamplerate"), Some(&Value::Number(rate.into())), "{rate} Hz");
    }
}
