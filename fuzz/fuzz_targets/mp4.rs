//! Arbitrary bytes as an MP4 file: open must fail cleanly or give a sample table that is
//! sorted by timestamp, lies within the file, and whose seeks and reads never panic.
//! Seed it with small real files (e.g. `ffmpeg -f lavfi -i testsrc=size=64x64:rate=5 -t 1
//! -c:v libx264 -bf 2 fuzz/corpus/mp4/a.mp4`, plus m4a/mov variants) to reach the tables.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sf_media::{Format, MediaIndex, MemorySource};

/// Tags read per seek: enough to cover small inputs, bounded so each run stays fast.
const MAX_TAGS: usize = 1_000;

fuzz_target!(|data: &[u8]| {
    let source = MemorySource(Bytes::copy_from_slice(data));
    MemorySource::run(async {
        let Ok((info, samples)) = sf_media::mp4::open(&source).await else {
            return;
        };
        assert!(info.has_audio || info.has_video);
        assert!(samples.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
        assert!(samples.iter().all(|s| s.offset + u64::from(s.size) <= data.len() as u64));
        assert!(info.sequence_headers.iter().all(|t| t.prefix.as_slice().is_empty()));
        let meta = sf_amf::amf0::decode_all(&info.metadata).expect("onMetaData decodes");
        assert_eq!(meta[0].as_str(), Some("onMetaData"));

        let index = MediaIndex::open(&source, Format::Mp4).await.expect("opens twice alike");
        let duration = u32::try_from(info.duration_ms).unwrap_or(u32::MAX);
        for ms in [0, 1, duration / 2, duration, u32::MAX] {
            let mut cursor = index.seek(ms);
            for _ in 0..MAX_TAGS {
                match index.next_tag(&mut cursor, &source).await {
                    Ok(Some(tag)) => assert!(tag.body_len() <= data.len() + 5),
                    Ok(None) | Err(_) => break,
                }
            }
        }
    });
});
