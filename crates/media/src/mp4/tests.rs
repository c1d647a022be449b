//! Whole-reader tests on hand-built files: timestamps across tracks, prefixes, selection of
//! tracks, and robustness against truncated or corrupted input.

use super::boxes::build::{boxed, full, u32s};
use super::codec::tests::{avc1_entry, mp4a_entry, stsd};
use super::sample_table::tests::Stbl;
use super::track::tests::{elst, mvhd, trak};
use crate::{MediaError, MemorySource, TagKind};

const AVCC: [u8; 8] = [1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 0];
const ASC: [u8; 2] = [0x12, 0x10];

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("memory source futures are always ready"),
    }
}

fn open(file: &[u8]) -> Result<(crate::MediaInfo, Vec<crate::Sample>), MediaError> {
    block_on(super::open(&MemorySource(file.to_vec().into())))
}

/// ftyp, an mdat of `mdat_len` bytes, then moov with the given tracks (whose chunk offsets
/// point into the mdat payload, which starts at `MDAT_DATA`).
fn file(traks: &[Vec<u8>], mdat_len: usize) -> Vec<u8> {
    let mut out = boxed(b"ftyp", b"isom\0\0\0\0isomavc1"); // 24 bytes
    out.extend(boxed(b"mdat", &vec![0xab; mdat_len]));
    let mut moov = mvhd(1000);
    for t in traks {
        moov.extend_from_slice(t);
    }
    out.extend(boxed(b"moov", &moov));
    out
}

/// Where mdat's payload starts in `file()`.
const MDAT_DATA: u32 = 24 + 8;

/// 4 video frames at 25 fps in a 12800 timescale with two B-frames' delay (media time 1024),
/// in one chunk of sizes 10, 11, 12, 13.
fn video_trak(id: u32) -> Vec<u8> {
    let stbl = Stbl {
        stts: vec![(4, 512)],
        ctts: Some(vec![(1, 1024), (1, 2048), (2, 0)]),
        stss: Some(vec![1]),
        stsz: (0, vec![10, 11, 12, 13]),
        stsc: vec![(1, 4, 1)],
        stco: vec![MDAT_DATA],
    };
    trak(id, b"vide", 12800, Some(elst(&[(160, 1024)])), stsd(&[avc1_entry(&AVCC, 320, 240)]), &stbl)
}

/// 5 AAC frames at 44.1 kHz with 1024 samples of priming, in two chunks after the video.
fn audio_trak(id: u32) -> Vec<u8> {
    let stbl = Stbl {
        stts: vec![(5, 1024)],
        ctts: None,
        stss: None,
        stsz: (0, vec![5, 5, 5, 5, 6]),
        stsc: vec![(1, 3, 1), (2, 2, 1)],
        stco: vec![MDAT_DATA + 46, MDAT_DATA + 100],
    };
    trak(id, b"soun", 44100, Some(elst(&[(93, 1024)])), stsd(&[mp4a_entry(0, 0x40, &ASC, false)]), &stbl)
}

#[test]
fn video_and_audio_on_one_timeline() {
    let f = file(&[video_trak(1), audio_trak(2)], 200);
    let (info, samples) = open(&f).unwrap();
    assert!(info.has_video && info.has_audio);
    let got: Vec<_> = samples.iter().map(|s| (s.kind, s.timestamp, s.keyframe, s.prefix.as_slice().to_vec())).collect();
    use TagKind::{Audio, Video};
    let aac = vec![0xaf, 0x01];
    // Video dts −80, −40, 0, 40 ms and audio −23.2, 0, 23.2, … ms, all shifted by 80 ms.
    assert_eq!(
        got,
        vec![
            (Video, 0, true, vec![0x17, 1, 0, 0, 80]),
            (Video, 40, false, vec![0x27, 1, 0, 0, 160]),
            (Audio, 57, true, aac.clone()),
            (Video, 80, false, vec![0x27, 1, 0, 0, 0]),
            (Audio, 80, true, aac.clone()),
            (Audio, 103, true, aac.clone()),
            (Video, 120, false, vec![0x27, 1, 0, 0, 0]),
            (Audio, 126, true, aac.clone()),
            (Audio, 150, true, aac.clone()),
        ]
    );
    let layout: Vec<_> = samples.iter().filter(|s| s.kind == Audio).map(|s| (s.offset, s.size)).collect();
    let base = u64::from(MDAT_DATA);
    assert_eq!(layout, vec![(base + 46, 5), (base + 51, 5), (base + 56, 5), (base + 100, 5), (base + 105, 6)]);

    assert_eq!(info.sequence_headers.len(), 2);
    assert_eq!(&info.sequence_headers[0].data[..5], &[0x17, 0, 0, 0, 0]);
    assert_eq!(&info.sequence_headers[0].data[5..], &AVCC);
    assert_eq!(&info.sequence_headers[1].data[..], &[0xaf, 0, 0x12, 0x10]);
    // Audio ends at 5 × 1024 − 1024 samples = 92.9 ms + 80 → 173 ms; the last timestamp is
    // 150, so the announced duration is capped for rtmpdump.
    assert_eq!(info.duration_ms, 150 * 10_000 / 9_995);
    let meta = sf_amf::amf0::decode_all(&info.metadata).unwrap();
    assert_eq!(meta[0].as_str(), Some("onMetaData"));
    let get = |k: &str| meta[1].get(k).and_then(|v| v.as_f64());
    assert_eq!(get("videocodecid"), Some(7.0));
    assert_eq!(get("audiocodecid"), Some(10.0));
    assert_eq!(get("width"), Some(320.0));
    assert_eq!(get("framerate"), Some(25.0));
    assert_eq!(get("audiosamplerate"), Some(44100.0));
    assert_eq!(get("audiochannels"), Some(2.0));
    assert_eq!(get("avcprofile"), Some(66.0));
    assert_eq!(get("moovposition"), Some(f64::from(MDAT_DATA + 200)));
    assert_eq!(get("duration"), Some(info.duration_ms as f64 / 1000.0));
}

#[test]
fn picks_first_supported_tracks() {
    let text = trak(
        1,
        b"text",
        1000,
        None,
        stsd(&[boxed(b"tx3g", &[0; 40])]),
        &Stbl {
            stts: vec![(1, 1000)],
            ctts: None,
            stss: None,
            stsz: (0, vec![1]),
            stsc: vec![(1, 1, 1)],
            stco: vec![MDAT_DATA],
        },
    );
    let hevc = trak(
        2,
        b"vide",
        1000,
        None,
        stsd(&[boxed(b"hvc1", &[0; 90])]),
        &Stbl {
            stts: vec![(1, 1000)],
            ctts: None,
            stss: None,
            stsz: (0, vec![1]),
            stsc: vec![(1, 1, 1)],
            stco: vec![MDAT_DATA],
        },
    );
    let f = file(&[text.clone(), hevc.clone(), audio_trak(3), video_trak(4), video_trak(5)], 200);
    let (info, samples) = open(&f).unwrap();
    assert!(info.has_video && info.has_audio);
    assert_eq!(samples.len(), 9);

    // Audio only: no video codec id in the metadata, no video sequence header.
    let f = file(&[audio_trak(1)], 200);
    let (info, samples) = open(&f).unwrap();
    assert!(!info.has_video && info.has_audio);
    assert_eq!(samples[0].timestamp, 0);
    assert_eq!(info.sequence_headers.len(), 1);
    let meta = sf_amf::amf0::decode_all(&info.metadata).unwrap();
    assert!(meta[1].get("videocodecid").is_none());

    let f = file(&[text, hevc], 200);
    match open(&f) {
        Err(MediaError::Unsupported { reason, .. }) => {
            assert!(reason.contains("text") && reason.contains("HEVC"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn fragmented_files_are_unsupported() {
    let empty = Stbl { stts: vec![], ctts: None, stss: None, stsz: (0, vec![]), stsc: vec![], stco: vec![] };
    let t = trak(1, b"vide", 12800, None, stsd(&[avc1_entry(&AVCC, 320, 240)]), &empty);
    let mut moov = mvhd(1000);
    moov.extend(t);
    moov.extend(boxed(b"mvex", &[]));
    let f = [boxed(b"ftyp", b"iso5"), boxed(b"moov", &moov)].concat();
    match open(&f) {
        Err(MediaError::Unsupported { reason, .. }) => {
            assert!(reason.contains("fragmented"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn leading_empty_edit_delays_one_track() {
    // Audio delayed by 1 s (movie timescale 1000) with its usual priming; video without an
    // edit list. Nothing is negative, so no shift.
    let video = trak(
        1,
        b"vide",
        12800,
        None,
        stsd(&[avc1_entry(&AVCC, 320, 240)]),
        &Stbl {
            stts: vec![(4, 512)],
            ctts: None,
            stss: None,
            stsz: (0, vec![10, 11, 12, 13]),
            stsc: vec![(1, 4, 1)],
            stco: vec![MDAT_DATA],
        },
    );
    let mut audio = audio_trak(2);
    let edts = elst(&[(1000, -1), (93, 1024)]);
    let at = audio.windows(4).position(|w| w == b"edts").unwrap() - 4;
    let old_len = u32::from_be_bytes(audio[at..at + 4].try_into().unwrap()) as usize;
    audio.splice(at..at + old_len, edts);
    let len = audio.len() as u32;
    audio[..4].copy_from_slice(&len.to_be_bytes());
    let (_, samples) = open(&file(&[video, audio], 200)).unwrap();
    let audio_ts: Vec<_> = samples.iter().filter(|s| s.kind == TagKind::Audio).map(|s| s.timestamp).collect();
    assert_eq!(audio_ts, vec![977, 1000, 1023, 1046, 1070]);
    assert_eq!(samples[0].timestamp, 0);
    assert!(samples.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
}

#[test]
fn samples_past_the_end_and_bad_timescale() {
    // An audio chunk beyond the end of the file.
    let mut audio = audio_trak(2);
    let at = audio.windows(4).position(|w| w == b"stco").unwrap() + 12;
    audio[at..at + 4].copy_from_slice(&0x0010_0000u32.to_be_bytes());
    let f = file(&[video_trak(1), audio], 200);
    assert!(matches!(open(&f), Err(MediaError::Malformed { .. })));
    // A media timescale of 0.
    let mut t = video_trak(1);
    let at = t.windows(4).position(|w| w == b"mdhd").unwrap() + 16;
    t[at..at + 4].copy_from_slice(&0u32.to_be_bytes());
    assert!(matches!(open(&file(&[t], 200)), Err(MediaError::Malformed { .. })));
}

#[test]
fn mp3_in_mp4() {
    let stbl = Stbl {
        stts: vec![(2, 1152)],
        ctts: None,
        stss: None,
        stsz: (0, vec![50, 50]),
        stsc: vec![(1, 2, 1)],
        stco: vec![MDAT_DATA],
    };
    let t = trak(1, b"soun", 44100, None, stsd(&[mp4a_entry(0, 0x6b, &[], false)]), &stbl);
    let (info, samples) = open(&file(&[t], 200)).unwrap();
    assert!(info.sequence_headers.is_empty());
    assert_eq!(samples[0].prefix.as_slice(), &[0x2f]);
    assert_eq!(samples[1].timestamp, 26);
    let meta = sf_amf::amf0::decode_all(&info.metadata).unwrap();
    assert_eq!(meta[1].get("audiocodecid").and_then(|v| v.as_f64()), Some(2.0));
}

#[test]
fn truncations_and_corruptions_never_panic() {
    let f = file(&[video_trak(1), audio_trak(2)], 200);
    for len in 0..f.len() {
        let _ = open(&f[..len]);
    }
    // Deterministic byte corruption over the moov (xorshift).
    let moov_at = f.windows(4).rposition(|w| w == b"moov").unwrap() - 4;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..20_000 {
        let mut g = f.clone();
        for _ in 0..3 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let at = moov_at + (state as usize) % (f.len() - moov_at);
            g[at] = (state >> 32) as u8;
        }
        if let Ok((_, samples)) = open(&g) {
            assert!(samples.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
            assert!(samples.iter().all(|s| s.offset + u64::from(s.size) <= g.len() as u64));
        }
    }
}

#[test]
fn sixty_four_bit_boxes_and_co64() {
    // moov first, then an mdat with a 64-bit size; chunk offsets in co64.
    let mut moov = mvhd(600);
    let stbl_tables = {
        let mut t = Vec::new();
        t.extend(full(b"stts", 0, &u32s(&[1, 2, 512])));
        t.extend(full(b"stsz", 0, &u32s(&[0, 2, 3, 4])));
        t.extend(full(b"stsc", 0, &u32s(&[1, 1, 2, 1])));
        t
    };
    // Offsets filled in below once the moov size is known.
    let build = |mdat_data: u64| {
        let mut tables = stbl_tables.clone();
        let mut co64 = u32s(&[1]);
        co64.extend(mdat_data.to_be_bytes());
        tables.extend(full(b"co64", 0, &co64));
        let stbl = boxed(b"stbl", &[boxed(b"stsd", &stsd(&[avc1_entry(&AVCC, 2, 2)])), tables].concat());
        let mdia = boxed(
            b"mdia",
            &[super::track::tests::mdhd(12800), super::track::tests::hdlr(b"vide"), boxed(b"minf", &stbl)].concat(),
        );
        boxed(b"trak", &[super::track::tests::tkhd(1, 2, 2), mdia].concat())
    };
    let probe = build(0);
    moov.extend(&probe);
    let ftyp = boxed(b"ftyp", b"isom");
    let moov_box = boxed(b"moov", &moov);
    let mdat_data = (ftyp.len() + moov_box.len() + 16) as u64;
    let moov = [mvhd(600), build(mdat_data)].concat();
    let mut f = [ftyp, boxed(b"moov", &moov)].concat();
    f.extend([0, 0, 0, 1, b'm', b'd', b'a', b't']);
    f.extend((16u64 + 7).to_be_bytes());
    f.extend([1, 2, 3, 4, 5, 6, 7]);
    let (_, samples) = open(&f).unwrap();
    assert_eq!(
        samples.iter().map(|s| (s.offset, s.size)).collect::<Vec<_>>(),
        vec![(mdat_data, 3), (mdat_data + 3, 4)]
    );
}
