//! MP3 reader on hand-built byte vectors: tags front and back, Xing/VBRI frames, garbage
//! between frames, truncation, every MPEG version, and files with no audio at all.

mod common;

use bytes::Bytes;
use common::play;
use sf_amf::{Value, amf0};
use sf_media::{Format, MediaError, MediaIndex, MemorySource, TagKind};

/// MPEG-1 layer III, 128 kbit/s, 44.1 kHz, joint stereo: 417-byte frames.
const HEADER_44K: [u8; 4] = [0xff, 0xfb, 0x90, 0x64];
/// MPEG-2 layer III, 64 kbit/s, 22.05 kHz, mono: 208-byte frames of 576 samples.
const HEADER_22K_MONO: [u8; 4] = [0xff, 0xf3, 0x80, 0xc4];
/// MPEG-2.5 layer III, 8 kbit/s, 8 kHz, mono: 72-byte frames.
const HEADER_8K: [u8; 4] = [0xff, 0xe3, 0x18, 0xc4];

/// A frame with header `h`, `len` bytes long, its payload filled with `fill`.
fn frame(h: [u8; 4], len: usize, fill: u8) -> Vec<u8> {
    let mut f = vec![fill; len];
    f[..4].copy_from_slice(&h);
    f
}

fn frames(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| frame(HEADER_44K, 417, i as u8 & 0x7f)).collect()
}

/// A Xing/Info/VBRI frame: the tag at its usual place in an otherwise normal frame.
fn info_frame(tag: &[u8; 4], at: usize) -> Vec<u8> {
    let mut f = frame(HEADER_44K, 417, 0);
    f[at..at + 4].copy_from_slice(tag);
    f
}

fn id3v2(major: u8, footer: bool, frames: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (id, content) in frames {
        body.extend_from_slice(*id);
        let n = content.len() as u32;
        if major == 4 {
            body.extend_from_slice(&[
                (n >> 21) as u8 & 0x7f,
                (n >> 14) as u8 & 0x7f,
                (n >> 7) as u8 & 0x7f,
                n as u8 & 0x7f,
            ]);
        } else {
            body.extend_from_slice(&n.to_be_bytes());
        }
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(content);
    }
    body.extend_from_slice(&[0; 64]); // padding
    let n = body.len() as u32;
    let size = [(n >> 21) as u8 & 0x7f, (n >> 14) as u8 & 0x7f, (n >> 7) as u8 & 0x7f, n as u8 & 0x7f];
    let mut tag = b"ID3".to_vec();
    tag.extend_from_slice(&[major, 0, if footer { 0x10 } else { 0 }]);
    tag.extend_from_slice(&size);
    tag.extend_from_slice(&body);
    if footer {
        tag.extend_from_slice(b"3DI");
        tag.extend_from_slice(&[major, 0, 0x10]);
        tag.extend_from_slice(&size);
    }
    tag
}

async fn open(bytes: Vec<u8>) -> Result<(MediaIndex, MemorySource), MediaError> {
    let source = MemorySource(Bytes::from(bytes));
    let index = MediaIndex::open(&source, Format::Mp3).await?;
    Ok((index, source))
}

fn metadata(index: &MediaIndex) -> Value {
    let values = amf0::decode_all(&index.info().metadata).unwrap();
    assert_eq!(values[0], Value::from("onMetaData"));
    values[1].clone()
}

fn ts(i: u64, samples: u64, rate: u64) -> u32 {
    ((i * samples * 1000 + rate / 2) / rate) as u32
}

#[tokio::test]
async fn cbr_frames_become_tags() {
    let bytes = frames(40);
    let (index, source) = open(bytes.clone()).await.unwrap();
    let info = index.info();
    assert_eq!((info.format, info.has_audio, info.has_video), (Format::Mp3, true, false));
    assert!(info.sequence_headers.is_empty());
    let (_, tags) = play(&index, &source, 0).await;
    assert_eq!(tags.len(), 40);
    for (i, t) in tags.iter().enumerate() {
        assert_eq!((t.kind, t.keyframe, t.prefix.as_slice()), (TagKind::Audio, true, &[0x2f][..]));
        assert_eq!(t.timestamp, ts(i as u64, 1152, 44100));
        assert_eq!(t.data.as_ref(), &bytes[i * 417..(i + 1) * 417]);
    }
    // Duration is the last frame's timestamp (rtmpdump's 99.9 % check).
    assert_eq!(info.duration_ms, u64::from(ts(39, 1152, 44100)));
    let meta = metadata(&index);
    assert_eq!(meta.get("duration"), Some(&Value::Number(info.duration_ms as f64 / 1000.0)));
    assert_eq!(meta.get("audiocodecid"), Some(&Value::Number(2.0)));
    assert_eq!(meta.get("audiosamplerate"), Some(&Value::Number(44100.0)));
    assert_eq!(meta.get("stereo"), Some(&Value::Boolean(true)));
    assert_eq!(meta.get("audiochannels"), Some(&Value::Number(2.0)));
    let rate = meta.get("audiodatarate").and_then(Value::as_f64).unwrap();
    assert!((rate - 128.0).abs() < 1.0, "{rate} kbit/s");
}

#[tokio::test]
async fn tags_before_and_after_the_audio_are_skipped() {
    let title = b"\x03Caf\xc3\xa9";
    for (major, footer) in [(3, false), (4, false), (4, true)] {
        let mut bytes = id3v2(major, footer, &[(b"TIT2", title), (b"TPE1", b"\x00Artist\x00")]);
        bytes.extend(id3v2(3, false, &[])); // a second tag right after the first
        let start = bytes.len();
        bytes.extend(frames(5));
        // APEv2 (with header) then ID3v1 at the end; "TAG" inside APE must not confuse.
        let mut ape = b"APETAGEX".to_vec();
        ape.extend_from_slice(&2000u32.to_le_bytes());
        ape.extend_from_slice(&(32u32 + 16).to_le_bytes());
        ape.extend_from_slice(&0u32.to_le_bytes());
        ape.extend_from_slice(&(0xa000_0000u32).to_le_bytes());
        ape.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(&ape);
        bytes.extend_from_slice(&[0xff; 16]); // items that look like sync bytes
        let mut footer_ = ape.clone();
        footer_[20..24].copy_from_slice(&(0x8000_0000u32).to_le_bytes());
        bytes.extend_from_slice(&footer_);
        let mut v1 = b"TAG".to_vec();
        v1.resize(128, 0xff);
        bytes.extend_from_slice(&v1);

        let (index, source) = open(bytes.clone()).await.unwrap();
        let (_, tags) = play(&index, &source, 0).await;
        assert_eq!(tags.len(), 5, "ID3v2.{major} footer {footer}");
        for (i, t) in tags.iter().enumerate() {
            let at = start + i * 417;
            assert_eq!(t.data.as_ref(), &bytes[at..at + 417]);
        }
        let meta = metadata(&index);
        assert_eq!(meta.get("title"), Some(&Value::from("Café")));
        assert_eq!(meta.get("artist"), Some(&Value::from("Artist")));
    }
}

#[tokio::test]
async fn vbr_header_frames_are_not_audio() {
    // Xing after the 32-byte MPEG-1 stereo side info, Info likewise, VBRI after 32 always.
    for (tag, at) in [(b"Xing", 36), (b"Info", 36), (b"VBRI", 36)] {
        let mut bytes = info_frame(tag, at);
        bytes.extend(frames(3));
        let (index, source) = open(bytes).await.unwrap();
        let (_, tags) = play(&index, &source, 0).await;
        assert_eq!(tags.len(), 3, "{}", String::from_utf8_lossy(tag));
        assert_eq!(tags[0].timestamp, 0);
        assert_eq!(tags[0].data.as_ref(), &frame(HEADER_44K, 417, 0)[..]);
    }
    // Only the first frame can be one: "Xing" later on is just audio data.
    let mut bytes = frames(1);
    bytes.extend(info_frame(b"Xing", 36));
    let (index, source) = open(bytes).await.unwrap();
    assert_eq!(play(&index, &source, 0).await.1.len(), 2);
}

#[tokio::test]
async fn garbage_between_frames_is_skipped() {
    let mut bytes = vec![0xff, 0xfb, 0x90, 0x00, 0xff, 0xff, 0xfb]; // false syncs first
    bytes.extend(frames(3));
    // Junk with sync bytes and a lone valid-looking header whose "next frame" is not there.
    bytes.extend_from_slice(&[0xff; 7]);
    bytes.extend(frame(HEADER_44K, 20, 0x11));
    bytes.extend(vec![0x42; 5000]);
    bytes.extend(frames(4));
    let (index, source) = open(bytes).await.unwrap();
    let (_, tags) = play(&index, &source, 0).await;
    assert_eq!(tags.len(), 7);
    assert!(tags.iter().all(|t| t.data.len() == 417 && t.data[..4] == HEADER_44K));
    assert_eq!(tags[6].timestamp, ts(6, 1152, 44100), "timestamps count frames, not bytes");
}

#[tokio::test]
async fn a_cut_last_frame_is_dropped() {
    let mut bytes = frames(6);
    bytes.truncate(bytes.len() - 100);
    let (index, source) = open(bytes).await.unwrap();
    let (_, tags) = play(&index, &source, 0).await;
    assert_eq!(tags.len(), 5);
    assert_eq!(index.info().duration_ms, u64::from(ts(4, 1152, 44100)));
}

#[tokio::test]
async fn other_versions_and_rates() {
    let mono22: Vec<u8> = (0..10).flat_map(|_| frame(HEADER_22K_MONO, 208, 0)).collect();
    let (index, source) = open(mono22).await.unwrap();
    let (_, tags) = play(&index, &source, 0).await;
    assert_eq!(tags.len(), 10);
    assert_eq!(tags[9].timestamp, ts(9, 576, 22050));
    assert_eq!(tags[0].prefix.as_slice(), [0x2a], "MP3, 22 kHz, 16-bit, mono");
    assert_eq!(metadata(&index).get("stereo"), Some(&Value::Boolean(false)));

    let low: Vec<u8> = (0..10).flat_map(|_| frame(HEADER_8K, 72, 0)).collect();
    let (index, source) = open(low).await.unwrap();
    let (_, tags) = play(&index, &source, 0).await;
    assert_eq!(tags[3].timestamp, 216);
    assert_eq!(
        tags[0].prefix.as_slice(),
        [0x22],
        "MP3 8 kHz goes out as format 2, which FFmpeg decodes (it cannot play format 14)"
    );
    assert_eq!(metadata(&index).get("audiocodecid"), Some(&Value::Number(2.0)));
}

#[tokio::test]
async fn seek_lands_on_the_frame_at_or_before() {
    let (index, source) = open(frames(100)).await.unwrap();
    for ms in [0, 25, 26, 27, 1000, 2585, 99_999] {
        let (start, tags) = play(&index, &source, ms).await;
        assert!(start <= ms && tags[0].timestamp == start, "seek({ms}) -> {start}");
        if let Some(next) = tags.get(1) {
            assert!(next.timestamp > ms, "seek({ms}): frame {} also <= target", next.timestamp);
        }
    }
}

#[tokio::test]
async fn nothing_playable_is_malformed() {
    let mut huge_id3 = b"ID3\x04\x00\x00\x7f\x7f\x7f\x7f".to_vec();
    huge_id3.extend(frames(3));
    let mut lone = frame(HEADER_44K, 417, 0);
    lone.extend_from_slice(&[0x42; 10]);
    for (bytes, why) in [
        (Vec::new(), "empty"),
        (vec![0xff; 3000], "sync bytes only"),
        ((0..200_000u32).map(|i| (i * 7919 % 251) as u8).collect(), "noise"),
        (id3v2(4, false, &[]), "ID3 only"),
        (huge_id3, "ID3 claiming more than the file"),
        (info_frame(b"Xing", 36), "Xing frame only"),
        (lone, "one frame followed by junk cannot be confirmed"),
    ] {
        match open(bytes).await {
            Err(MediaError::Malformed { format: Format::Mp3, .. }) => {}
            other => panic!("{why}: {:?}", other.map(|(i, _)| i.info().clone())),
        }
    }
}
