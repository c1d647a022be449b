//! FLV reader on hand-built byte vectors: broken headers, truncation, absurd sizes, wrong
//! back-pointers, missing metadata, sequence headers, and keyframe indexes good and bad.

use std::sync::atomic::{AtomicU64, Ordering};

mod common;

use bytes::Bytes;
use common::play;
use sf_amf::{Value, amf0};
use sf_media::{ByteSource, Format, MediaError, MediaIndex, MemorySource, SourceError, Tag, TagKind};

const AUDIO: u8 = 8;
const VIDEO: u8 = 9;
const SCRIPT: u8 = 18;

/// A file: header with `flags` and data offset 9, PreviousTagSize0, then `tags`.
fn flv(flags: u8, tags: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"FLV\x01".to_vec();
    out.push(flags);
    out.extend_from_slice(&9u32.to_be_bytes());
    out.extend_from_slice(&0u32.to_be_bytes());
    for t in tags {
        out.extend_from_slice(t);
    }
    out
}

/// One tag with a correct back-pointer.
fn tag(kind: u8, timestamp: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    sf_media::flv::write_tag(&mut out, kind, timestamp, body);
    out
}

/// Hand-encoded AMF0, so these vectors do not depend on the encoder under test elsewhere.
fn amf_string(s: &str, out: &mut Vec<u8>) {
    out.push(0x02);
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn amf_number(n: f64, out: &mut Vec<u8>) {
    out.push(0x00);
    out.extend_from_slice(&n.to_be_bytes());
}

fn amf_key(k: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&(k.len() as u16).to_be_bytes());
    out.extend_from_slice(k.as_bytes());
}

/// `onMetaData` with a duration and, optionally, a keyframes index.
fn metadata(duration: f64, keyframes: Option<(&[f64], &[f64])>) -> Vec<u8> {
    let mut out = Vec::new();
    amf_string("onMetaData", &mut out);
    out.push(0x08);
    out.extend_from_slice(&2u32.to_be_bytes());
    amf_key("duration", &mut out);
    amf_number(duration, &mut out);
    if let Some((times, positions)) = keyframes {
        amf_key("keyframes", &mut out);
        out.push(0x03);
        for (name, values) in [("filepositions", positions), ("times", times)] {
            amf_key(name, &mut out);
            out.push(0x0a);
            out.extend_from_slice(&(values.len() as u32).to_be_bytes());
            for v in values {
                amf_number(*v, &mut out);
            }
        }
        out.extend_from_slice(&[0, 0, 9]);
    }
    out.extend_from_slice(&[0, 0, 9]);
    out
}

async fn open(bytes: &[u8]) -> Result<(MediaIndex, MemorySource), MediaError> {
    let source = MemorySource(Bytes::copy_from_slice(bytes));
    let index = MediaIndex::open(&source, Format::Flv).await?;
    Ok((index, source))
}

fn summary(tags: &[Tag]) -> Vec<(TagKind, u32, bool, Vec<u8>)> {
    tags.iter().map(|t| (t.kind, t.timestamp, t.keyframe, t.data.to_vec())).collect()
}

#[tokio::test]
async fn rejects_what_is_not_flv() {
    let mut beyond = flv(4, &[tag(AUDIO, 0, &[0x2f, 1, 2])]);
    beyond[5..9].copy_from_slice(&1000u32.to_be_bytes());
    for (bytes, why) in [
        (Vec::new(), "empty"),
        (b"FLV\x01\x05\0\0".to_vec(), "header cut short"),
        (b"MP4\x01\x05\0\0\0\x09\0\0\0\0".to_vec(), "wrong signature"),
        (flv(5, &[]), "no tags"),
        (flv(5, &[tag(SCRIPT, 0, &metadata(1.0, None))]), "no audio or video"),
        (beyond, "data offset past the end"),
    ] {
        match open(&bytes).await {
            Err(MediaError::Malformed { format: Format::Flv, .. }) => {}
            other => panic!("{why}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn honours_the_data_offset() {
    let mut bytes = b"FLV\x01\x04\0\0\0\x14".to_vec();
    bytes.extend_from_slice(&[0xee; 11]); // header extension a reader must skip
    bytes.extend_from_slice(&0u32.to_be_bytes());
    bytes.extend(tag(AUDIO, 0, &[0x2f, 1]));
    bytes.extend(tag(AUDIO, 26, &[0x2f, 2]));
    let (index, source) = open(&bytes).await.unwrap();
    let (_, tags) = play(&index, &source, 0).await;
    assert_eq!(summary(&tags), [(TagKind::Audio, 0, true, vec![0x2f, 1]), (TagKind::Audio, 26, true, vec![0x2f, 2])]);
}

#[tokio::test]
async fn truncated_tail_and_absurd_sizes_end_the_stream_cleanly() {
    let good = [tag(SCRIPT, 0, &metadata(0.1, None)), tag(VIDEO, 0, &[0x12, 9, 9]), tag(AUDIO, 10, &[0x2f, 7])];
    let full = flv(5, &good);
    // A last tag claiming 16 MiB in a tiny file, and a cut inside a tag header or body.
    let mut huge = full.clone();
    huge.extend_from_slice(&[VIDEO, 0xff, 0xff, 0xff, 0, 0, 20, 0, 0, 0, 0, 0x12, 1, 2, 3]);
    let cut_in_header = full[..full.len() - 15 + 5].to_vec();
    let cut_in_body = full[..full.len() - 5].to_vec();
    for (bytes, expect) in [(&full, 2), (&huge, 2), (&cut_in_body, 1), (&cut_in_header, 1)] {
        let (index, source) = open(bytes).await.expect("opens");
        let (_, tags) = play(&index, &source, 0).await;
        assert_eq!(tags.len(), expect, "file of {} bytes", bytes.len());
        assert_eq!(tags[0].data.as_ref(), [0x12, 9, 9]);
    }
}

#[tokio::test]
async fn wrong_back_pointers_are_ignored() {
    let tags = [tag(VIDEO, 0, &[0x12, 1]), tag(VIDEO, 40, &[0x22, 2]), tag(VIDEO, 80, &[0x12, 3])];
    let good = flv(1, &tags);
    let broken = flv(
        1,
        &tags.map(|mut t| {
            let n = t.len();
            t[n - 4..].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
            t
        }),
    );
    let (i1, s1) = open(&good).await.unwrap();
    let (i2, s2) = open(&broken).await.unwrap();
    assert_eq!(summary(&play(&i1, &s1, 0).await.1), summary(&play(&i2, &s2, 0).await.1));
    assert_eq!(play(&i2, &s2, 100).await.0, 80);
}

#[tokio::test]
async fn synthesizes_metadata_when_the_file_has_none() {
    let av = flv(5, &[tag(VIDEO, 0, &[0x12, 0]), tag(AUDIO, 0, &[0x2e, 0]), tag(AUDIO, 2000, &[0x2e, 0])]);
    let (index, _) = open(&av).await.unwrap();
    assert_eq!(index.info().duration_ms, 2000, "duration from the last tag");
    let values = amf0::decode_all(&index.info().metadata).unwrap();
    let expected = Value::ecma_array([
        ("duration", Value::Number(2.0)),
        ("videocodecid", Value::Number(2.0)),
        ("audiocodecid", Value::Number(2.0)),
    ]);
    assert_eq!(values, [Value::from("onMetaData"), expected]);

    // Header flags promise video; only audio is there: no videocodecid, has_video false.
    let audio = flv(5, &[tag(AUDIO, 0, &[0xaf, 0, 0x12, 0x10]), tag(AUDIO, 23, &[0xaf, 1, 5])]);
    let (index, _) = open(&audio).await.unwrap();
    assert!(index.info().has_audio && !index.info().has_video);
    let values = amf0::decode_all(&index.info().metadata).unwrap();
    assert_eq!(values[1].get("audiocodecid"), Some(&Value::Number(10.0)));
    assert_eq!(values[1].get("videocodecid"), None);
}

#[tokio::test]
async fn metadata_that_does_not_decode_is_replaced() {
    let mut broken = Vec::new();
    amf_string("onMetaData", &mut broken);
    broken.extend_from_slice(&[0x08, 0, 0, 0, 1, 0, 3]); // ECMA array cut short
    let bytes = flv(4, &[tag(SCRIPT, 0, &broken), tag(AUDIO, 0, &[0x2f, 1]), tag(AUDIO, 26, &[0x2f, 1])]);
    let (index, source) = open(&bytes).await.unwrap();
    assert_ne!(index.info().metadata.as_ref(), broken.as_slice());
    assert_eq!(amf0::decode_all(&index.info().metadata).unwrap()[1].get("duration"), Some(&Value::Number(0.026)));
    let (_, tags) = play(&index, &source, 0).await;
    assert!(tags.iter().all(|t| t.kind == TagKind::Audio), "the broken onMetaData is not forwarded");
}

#[tokio::test]
async fn sequence_headers_are_held_back_and_the_rest_forwarded() {
    // The duration agrees with the last tag (80 ms), so the metadata goes out verbatim.
    let meta = metadata(0.08, None);
    let avc_config = [0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f];
    let aac_config = [0xaf, 0, 0x12, 0x10];
    let new_config = [0x17, 0, 0, 0, 0, 1, 0x4d, 0, 0x1e];
    let mut filtered = tag(AUDIO, 30, &[0xaf, 1, 0xff]);
    filtered[0] |= 0x20;
    let bytes = flv(
        5,
        &[
            tag(SCRIPT, 0, &meta),
            tag(VIDEO, 0, &avc_config),
            tag(VIDEO, 0, &[0x17, 1, 0, 0, 0, 0xaa]),
            // AAC configuration after the first video frame: still the head for audio.
            tag(AUDIO, 0, &aac_config),
            tag(AUDIO, 0, &[0xaf, 1, 0xbb]),
            tag(7, 10, &[1, 2, 3]),
            filtered,
            tag(VIDEO, 33, &[]),
            tag(SCRIPT, 40, b"\x02\x00\x0aonCuePoint\x05"),
            tag(VIDEO, 40, &[0x27, 1, 0, 0, 0, 0xcc]),
            tag(VIDEO, 80, &new_config),
            tag(VIDEO, 80, &[0x17, 1, 0, 0, 0, 0xdd]),
        ],
    );
    let (index, source) = open(&bytes).await.unwrap();
    let info = index.info();
    assert_eq!(info.metadata.as_ref(), meta.as_slice());
    assert_eq!(
        summary(&info.sequence_headers),
        [(TagKind::Video, 0, true, avc_config.to_vec()), (TagKind::Audio, 0, true, aac_config.to_vec())]
    );
    let (start, tags) = play(&index, &source, 0).await;
    assert_eq!(start, 0);
    assert_eq!(
        summary(&tags),
        [
            (TagKind::Video, 0, true, vec![0x17, 1, 0, 0, 0, 0xaa]),
            (TagKind::Audio, 0, true, vec![0xaf, 1, 0xbb]),
            (TagKind::Script, 40, true, b"\x02\x00\x0aonCuePoint\x05".to_vec()),
            (TagKind::Video, 40, false, vec![0x27, 1, 0, 0, 0, 0xcc]),
            (TagKind::Video, 80, true, new_config.to_vec()),
            (TagKind::Video, 80, true, vec![0x17, 1, 0, 0, 0, 0xdd]),
        ]
    );
    assert!(tags.iter().all(|t| t.prefix.as_slice().is_empty()));
    // The mid-file key frame is a seek point; its new configuration is not.
    let (start, tags) = play(&index, &source, 90).await;
    assert_eq!((start, tags.len()), (80, 1));
}

/// A/V file: key frames every 1000 ms, audio every 250 ms, audio starting before video.
fn av_tags() -> Vec<Vec<u8>> {
    let mut tags = vec![tag(AUDIO, 0, &[0x2f, 0])];
    for ms in (0..5000).step_by(250) {
        let video = if ms % 1000 == 0 { 0x12 } else { 0x22 };
        tags.push(tag(VIDEO, ms + 100, &[video, 1, 2, 3]));
        tags.push(tag(AUDIO, ms + 125, &[0x2f, 1, 2]));
    }
    tags
}

fn tag_offsets(bytes: &[u8]) -> Vec<(u64, u8, u32, u8)> {
    let mut at = 13;
    let mut out = Vec::new();
    while at + 12 <= bytes.len() {
        let size = u32::from_be_bytes([0, bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let ts = u32::from_be_bytes([bytes[at + 7], bytes[at + 4], bytes[at + 5], bytes[at + 6]]);
        out.push((at as u64, bytes[at], ts, bytes[at + 11]));
        at += 15 + size;
    }
    out
}

async fn assert_av_seeks(index: &MediaIndex, source: &MemorySource) {
    for (ms, expect) in
        [(0, 0), (99, 0), (100, 0), (1099, 0), (1100, 1100), (2500, 2100), (4999, 4100), (u32::MAX, 4100)]
    {
        let (start, tags) = play(index, source, ms).await;
        assert_eq!(start, expect, "seek({ms})");
        assert_eq!(tags[0].timestamp, expect);
        if expect > 0 {
            assert!(tags[0].kind == TagKind::Video && tags[0].keyframe);
        }
    }
}

#[tokio::test]
async fn seeks_without_an_index_by_scanning() {
    let bytes = flv(5, &av_tags());
    let (index, source) = open(&bytes).await.unwrap();
    assert_av_seeks(&index, &source).await;
}

#[tokio::test]
async fn bad_keyframe_indexes_fall_back_to_the_scan() {
    let plain = flv(5, &av_tags());
    // Real key frames, shifted by the metadata tag that will precede them.
    let keys: Vec<(f64, f64)> = tag_offsets(&plain)
        .into_iter()
        .filter(|t| t.1 == VIDEO && t.3 == 0x12)
        .map(|t| (t.2 as f64 / 1000.0, t.0 as f64))
        .collect();
    let meta_len = |m: &[u8]| (m.len() + 15) as f64;
    type Corruption = Box<dyn Fn(&mut Vec<f64>, &mut Vec<f64>)>;
    let variants: Vec<(&str, Corruption)> = vec![
        ("positions off by one", Box::new(|_, p| p.iter_mut().for_each(|x| *x += 1.0))),
        (
            "lengths differ",
            Box::new(|t, _| {
                t.pop();
            }),
        ),
        ("positions not rising", Box::new(|_, p| p.swap(1, 2))),
        ("position past the end", Box::new(|_, p| *p.last_mut().unwrap() = 1e9)),
        ("fractional position", Box::new(|_, p| p[2] += 0.5)),
        ("not a number", Box::new(|t, _| t[1] = f64::NAN)),
        ("times disagree with tags", Box::new(|t, _| t[3] += 0.5)),
        ("points at a non-key frame", Box::new(|_, p| p[2] += 15.0 + 4.0 + 11.0 + 15.0 + 4.0)),
        (
            "empty",
            Box::new(|t, p| {
                t.clear();
                p.clear();
            }),
        ),
    ];
    for (why, corrupt) in variants {
        // The metadata's length depends on the entry count only, so measure with a dummy.
        let mut times: Vec<f64> = keys.iter().map(|k| k.0).collect();
        let mut positions: Vec<f64> = keys.iter().map(|k| k.1).collect();
        corrupt(&mut times, &mut positions);
        let dummy = metadata(5.0, Some((&times, &positions)));
        let shift = meta_len(&dummy);
        let positions: Vec<f64> = positions.iter().map(|p| p + shift).collect();
        let meta = metadata(5.0, Some((&times, &positions)));
        let mut tags = vec![tag(SCRIPT, 0, &meta)];
        tags.extend(av_tags());
        let bytes = flv(5, &tags);
        let (index, source) = open(&bytes).await.unwrap_or_else(|e| panic!("{why}: {e}"));
        assert_av_seeks(&index, &source).await;
    }
}

/// Counts bytes read, to tell an open that used the index from one that scanned.
struct Counting(MemorySource, AtomicU64);

impl ByteSource for Counting {
    fn size(&self) -> u64 {
        self.0.size()
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Bytes, SourceError> {
        let b = self.0.read(offset, len).await?;
        self.1.fetch_add(b.len() as u64, Ordering::Relaxed);
        Ok(b)
    }
}

#[tokio::test]
async fn a_sane_index_is_used_with_its_constant_shift_and_extended_by_the_tail() {
    // Sixty 200 KiB video tags 100 ms apart, a key frame every third. The index lists every
    // key frame but the last, with times 40 ms early (as FFmpeg's are by its audio delay).
    let big = vec![0u8; 200 * 1024];
    let body = |key: bool| {
        let mut b = big.clone();
        b[0] = if key { 0x12 } else { 0x22 };
        b
    };
    let media: Vec<Vec<u8>> = (0..60u32).map(|i| tag(VIDEO, 40 + i * 100, &body(i % 3 == 0))).collect();
    let keys: Vec<usize> = (0..57).step_by(3).collect();
    let times: Vec<f64> = keys.iter().map(|i| *i as f64 * 0.1).collect();
    let offsets = |meta_len: usize| -> Vec<f64> {
        keys.iter().map(|i| (13 + meta_len + 15 + i * (big.len() + 15)) as f64).collect()
    };
    let meta_len = metadata(6.0, Some((&times, &offsets(0)))).len();
    let meta = metadata(6.0, Some((&times, &offsets(meta_len))));
    let mut tags = vec![tag(SCRIPT, 0, &meta)];
    tags.extend(media);
    let bytes = flv(1, &tags);
    let source = Counting(MemorySource(Bytes::from(bytes.clone())), AtomicU64::new(0));
    let index = MediaIndex::open(&source, Format::Flv).await.unwrap();
    let read = source.1.load(Ordering::Relaxed);
    // The head window, the spot checks and the tail past the last entry; not the file.
    assert!(read < 4 << 20, "index used, no full scan: read {read} of {}", bytes.len());
    for (ms, expect) in [(0, 40), (339, 40), (340, 340), (5739, 5440), (5740, 5740), (u32::MAX, 5740)] {
        let mut cursor = index.seek(ms);
        assert_eq!(cursor.start_ms, expect, "seek({ms})");
        let first = index.next_tag(&mut cursor, &source.0).await.unwrap().unwrap();
        assert_eq!((first.timestamp, first.keyframe), (expect, true));
    }
}

#[tokio::test]
async fn audio_only_files_seek_to_any_tag() {
    let tags: Vec<Vec<u8>> = (0..100u32).map(|i| tag(AUDIO, i * 26, &[0x2f, i as u8])).collect();
    let (index, source) = open(&flv(4, &tags)).await.unwrap();
    assert!(!index.info().has_video);
    for ms in [0, 25, 26, 27, 1000, 2573, 2574, 99_999] {
        let (start, played) = play(&index, &source, ms).await;
        let expect = (ms / 26).min(99) * 26;
        assert_eq!((start, played[0].timestamp), (expect, expect), "seek({ms})");
    }
}

#[tokio::test]
async fn a_storm_of_unusable_tags_is_an_error_not_a_hang() {
    let mut tags = vec![tag(AUDIO, 0, &[0x2f, 0])];
    tags.extend((0..5000).map(|_| tag(3, 0, &[])));
    tags.push(tag(AUDIO, 26, &[0x2f, 1]));
    let (index, source) = open(&flv(4, &tags)).await.unwrap();
    let mut cursor = index.seek(0);
    assert!(index.next_tag(&mut cursor, &source).await.unwrap().is_some());
    assert!(matches!(index.next_tag(&mut cursor, &source).await, Err(MediaError::Malformed { .. })));
}

#[tokio::test]
async fn duration_is_the_last_timestamp_so_rtmpdump_sees_a_complete_download() {
    // Encoders write the end of the last frame (here 1 s) where the last tag is at 960 ms;
    // rtmpdump wants the last timestamp to reach 99.9 % of the duration.
    let meta = metadata(1.0, None);
    let bytes = flv(
        5,
        &[tag(SCRIPT, 0, &meta), tag(VIDEO, 0, &[0x17, 1, 0, 0, 0, 0xaa]), tag(VIDEO, 960, &[0x27, 1, 0, 0, 0, 0xbb])],
    );
    let (index, _source) = open(&bytes).await.unwrap();
    let info = index.info();
    assert_eq!(info.duration_ms, 960);
    let mut body = &info.metadata[..];
    assert_eq!(sf_amf::amf0::decode(&mut body).unwrap(), Value::from("onMetaData"));
    let value = sf_amf::amf0::decode(&mut body).unwrap();
    assert_eq!(value.get("duration"), Some(&Value::Number(0.96)));
}
