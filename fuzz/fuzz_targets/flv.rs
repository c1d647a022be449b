//! Arbitrary bytes as an FLV file: open must fail cleanly or give an index whose seeks and
//! tag iteration never panic, and whose tags come out in file order without looping.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sf_media::{Format, MediaIndex, MemorySource};

/// Tags read per seek: enough to cover small inputs, bounded so each run stays fast.
const MAX_TAGS: usize = 10_000;

fuzz_target!(|data: &[u8]| {
    let source = MemorySource(Bytes::copy_from_slice(data));
    MemorySource::run(async {
        let Ok(index) = MediaIndex::open(&source, Format::Flv).await else {
            return;
        };
        let info = index.info();
        assert!(info.has_audio || info.has_video);
        let duration = u32::try_from(info.duration_ms).unwrap_or(u32::MAX);
        for ms in [0, 1, duration / 2, duration, u32::MAX] {
            let mut cursor = index.seek(ms);
            for _ in 0..MAX_TAGS {
                match index.next_tag(&mut cursor, &source).await {
                    Ok(Some(tag)) => assert!(tag.body_len() < 1 << 24),
                    Ok(None) | Err(_) => break,
                }
            }
        }
    });
});
