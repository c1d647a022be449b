//! Arbitrary bytes as an MP3 file: open must fail cleanly or give a frame table whose seeks
//! and reads never panic, with frames of plausible size in rising time order.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sf_media::{Format, MediaIndex, MemorySource, TagKind};

/// Tags read per seek: enough to cover small inputs, bounded so each run stays fast.
const MAX_TAGS: usize = 10_000;

fuzz_target!(|data: &[u8]| {
    let source = MemorySource(Bytes::copy_from_slice(data));
    MemorySource::run(async {
        let Ok(index) = MediaIndex::open(&source, Format::Mp3).await else {
            return;
        };
        let info = index.info();
        assert!(info.has_audio && !info.has_video);
        let duration = u32::try_from(info.duration_ms).unwrap_or(u32::MAX);
        for ms in [0, 1, duration / 2, duration, u32::MAX] {
            let mut cursor = index.seek(ms);
            let mut last = cursor.start_ms;
            for _ in 0..MAX_TAGS {
                match index.next_tag(&mut cursor, &source).await {
                    Ok(Some(tag)) => {
                        assert_eq!(tag.kind, TagKind::Audio);
                        // A frame is 4..=2881 bytes; timestamps never go back.
                        assert!((4..=2881).contains(&tag.data.len()));
                        assert!(tag.timestamp >= last);
                        last = tag.timestamp;
                    }
                    Ok(None) => break,
                    Err(e) => panic!("a scanned frame must be readable: {e}"),
                }
            }
        }
    });
});
