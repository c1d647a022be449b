//! Demuxer benchmarks over in-memory files: index building (open) and tag iteration.

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sf_media::{Format, MediaIndex, MemorySource};

/// An FLV without keyframes index (so open scans): `seconds` of 25 fps video (2 KiB
/// frames, a key frame every 2 s) interleaved with AAC-sized audio tags every 23 ms.
fn synthetic_flv(seconds: u32) -> Bytes {
    use sf_media::flv::write_tag as tag;
    let mut out = b"FLV\x01\x05\0\0\0\x09\0\0\0\0".to_vec();
    tag(&mut out, 9, 0, &[0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f]);
    tag(&mut out, 8, 0, &[0xaf, 0, 0x12, 0x10]);
    let mut video = vec![0u8; 2048];
    let audio = [0xaf, 1].iter().copied().chain([0u8; 300]).collect::<Vec<_>>();
    let (mut next_video, mut next_audio) = (0u32, 0u32);
    while next_video < seconds * 1000 || next_audio < seconds * 1000 {
        if next_video <= next_audio {
            video[0] = if next_video % 2000 == 0 { 0x17 } else { 0x27 };
            video[1] = 1;
            tag(&mut out, 9, next_video, &video);
            next_video += 40;
        } else {
            tag(&mut out, 8, next_audio, &audio);
            next_audio += 23;
        }
    }
    out.into()
}

/// A CBR MP3 (MPEG-1 layer III, 128 kbit/s, 44.1 kHz) of `seconds`, frames zero-filled.
fn synthetic_mp3(seconds: u32) -> Bytes {
    let frames = u64::from(seconds) * 44100 / 1152 + 1;
    let mut out = Vec::with_capacity(frames as usize * 418);
    // Bresenham on the padding bit keeps the exact 128 kbit/s average, like an encoder.
    let mut remainder = 0u64;
    for _ in 0..frames {
        remainder += 144 * 128_000 % 44100;
        let padded = remainder >= 44100;
        if padded {
            remainder -= 44100;
        }
        let start = out.len();
        out.resize(start + 417 + usize::from(padded), 0);
        out[start..start + 4].copy_from_slice(&[0xff, 0xfb, 0x90 | u8::from(padded) << 1, 0x64]);
    }
    out.into()
}

fn flv_open_and_iterate(c: &mut Criterion) {
    let file = synthetic_flv(300);
    let source = MemorySource(file.clone());
    let mut group = c.benchmark_group("flv");
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.bench_function("open_scan_5min", |b| {
        b.iter(|| MemorySource::run(MediaIndex::open(black_box(&source), Format::Flv)).unwrap())
    });
    let index = MemorySource::run(MediaIndex::open(&source, Format::Flv)).unwrap();
    group.bench_function("iterate_tags_5min", |b| {
        b.iter(|| {
            MemorySource::run(async {
                let mut cursor = index.seek(0);
                let mut n = 0usize;
                while let Some(tag) = index.next_tag(&mut cursor, &source).await.unwrap() {
                    n += tag.data.len();
                }
                black_box(n)
            })
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("seek", |b| {
        let mut ms = 0u32;
        b.iter(|| {
            ms = (ms + 7919) % 300_000;
            black_box(index.seek(ms))
        })
    });
    group.finish();
}

fn mp3_open(c: &mut Criterion) {
    let file = synthetic_mp3(3600);
    let source = MemorySource(file.clone());
    let mut group = c.benchmark_group("mp3");
    group.throughput(Throughput::Bytes(file.len() as u64));
    group.bench_function("open_scan_1h_cbr", |b| {
        b.iter(|| MemorySource::run(MediaIndex::open(black_box(&source), Format::Mp3)).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = flv_benches;
    config = Criterion::default().sample_size(10);
    targets = flv_open_and_iterate
}
criterion_group! {
    name = mp3_benches;
    config = Criterion::default().sample_size(10);
    targets = mp3_open
}
// ---------------------------------------------------------------------------------------
// MP4: building the sample table from a long file's moov, and iterating its samples.

/// A file whose first `head.len()` bytes are real (ftyp, moov, mdat header) and whose media
/// data reads as zeros, served without copying: a 2-hour file does not fit in memory.
struct Mp4Synthetic {
    head: Bytes,
    size: u64,
    zeros: Bytes,
}

impl sf_media::ByteSource for Mp4Synthetic {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read(&self, offset: u64, len: u64) -> Result<Bytes, sf_media::SourceError> {
        let end = offset.saturating_add(len).min(self.size);
        let head_len = self.head.len() as u64;
        if offset >= end {
            return Ok(Bytes::new());
        }
        if end <= head_len {
            return Ok(self.head.slice(offset as usize..end as usize));
        }
        if offset >= head_len && end - offset <= self.zeros.len() as u64 {
            return Ok(self.zeros.slice(..(end - offset) as usize));
        }
        let mut out = vec![0; (end - offset) as usize];
        if offset < head_len {
            out[..(head_len - offset) as usize].copy_from_slice(&self.head[offset as usize..]);
        }
        Ok(out.into())
    }
}

fn mp4_box(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(len + 8);
    out.extend_from_slice(&(len as u32 + 8).to_be_bytes());
    out.extend_from_slice(kind);
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// A full box with version 0 whose payload is `values` as big-endian u32s.
fn mp4_table(kind: &[u8; 4], values: impl IntoIterator<Item = u32>) -> Vec<u8> {
    let payload: Vec<u8> = [0u32].into_iter().chain(values).flat_map(u32::to_be_bytes).collect();
    mp4_box(kind, &[&payload])
}

struct Mp4Track {
    handler: &'static [u8; 4],
    timescale: u32,
    delta: u32,
    sizes: Vec<u32>,
    ctts: Option<Vec<u32>>,
    sync: Option<Vec<u32>>,
    samples_per_chunk: u32,
    chunk_offsets: Vec<u32>,
    media_time: u32,
    sample_entry: Vec<u8>,
}

impl Mp4Track {
    fn trak(&self, id: u32) -> Vec<u8> {
        let n = self.sizes.len() as u32;
        let mut stbl = mp4_box(b"stsd", &[&[0, 0, 0, 0, 0, 0, 0, 1], &self.sample_entry]);
        stbl.extend(mp4_table(b"stts", [1, n, self.delta]));
        if let Some(ctts) = &self.ctts {
            stbl.extend(mp4_table(b"ctts", [ctts.len() as u32].into_iter().chain(ctts.iter().flat_map(|&c| [1, c]))));
        }
        if let Some(sync) = &self.sync {
            stbl.extend(mp4_table(b"stss", [sync.len() as u32].into_iter().chain(sync.iter().copied())));
        }
        stbl.extend(mp4_table(b"stsz", [0, n].into_iter().chain(self.sizes.iter().copied())));
        let chunks = self.chunk_offsets.len() as u32;
        let last = n - (chunks - 1) * self.samples_per_chunk;
        stbl.extend(mp4_table(b"stsc", [2, 1, self.samples_per_chunk, 1, chunks, last, 1]));
        stbl.extend(mp4_table(b"stco", [chunks].into_iter().chain(self.chunk_offsets.iter().copied())));
        let minf = mp4_box(b"minf", &[&mp4_box(b"stbl", &[&stbl])]);
        let mdhd = mp4_table(b"mdhd", [0, 0, self.timescale, n * self.delta, 0x55c4_0000]);
        let hdlr = mp4_box(b"hdlr", &[&[0; 8], self.handler, &[0; 13]]);
        let mdia = mp4_box(b"mdia", &[&mdhd, &hdlr, &minf]);
        let mut tkhd = vec![0u8; 84];
        tkhd[12..16].copy_from_slice(&id.to_be_bytes());
        tkhd[76..80].copy_from_slice(&(1280u32 << 16).to_be_bytes());
        tkhd[80..84].copy_from_slice(&(720u32 << 16).to_be_bytes());
        let edts = mp4_box(b"edts", &[&mp4_table(b"elst", [1, 1000, self.media_time, 0x0001_0000])]);
        mp4_box(b"trak", &[&mp4_box(b"tkhd", &[&tkhd]), &edts, &mdia])
    }
}

/// A faststart MP4 of `seconds` of 1280x720 H.264 at 30 fps (key frame every 2 s, B-frames)
/// and 44.1 kHz AAC, with the tables and layout an encoder would write: chunks of 0.5 s,
/// interleaved.
fn synthetic_mp4(seconds: u32) -> Mp4Synthetic {
    let frames = seconds * 30;
    let aac_frames = (u64::from(seconds) * 44100 / 1024) as u32;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |range: u32| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % u64::from(range)) as u32
    };
    let video_sizes: Vec<u32> = (0..frames).map(|i| if i % 60 == 0 { 60_000 } else { 2_000 + next(8_000) }).collect();
    let audio_sizes: Vec<u32> = (0..aac_frames).map(|_| 300 + next(150)).collect();
    // Pattern I P B B P B B …: composition offsets of 2, 5, 2, 2, … frames (×512).
    let ctts = (0..frames).map(|i| if i % 3 == 1 { 3 * 512 } else { 512 }).collect();
    let sync = (0..frames).step_by(60).map(|i| i + 1).collect();
    let sample_entry = {
        let avcc = [1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 4, 0x68, 0xee, 0x3c, 0x80];
        let mut fixed = vec![0u8; 78];
        fixed[7] = 1;
        fixed[24..28].copy_from_slice(&[5, 0, 2, 0xd0]);
        mp4_box(b"avc1", &[&fixed, &mp4_box(b"avcC", &[&avcc])])
    };
    let audio_entry = {
        let mut fixed = vec![0u8; 28];
        fixed[7] = 1;
        fixed[17] = 2;
        fixed[19] = 16;
        fixed[24..28].copy_from_slice(&(44100u32 << 16).to_be_bytes());
        let esds = [
            0, 0, 0, 0, 3, 25, 0, 1, 0, 4, 17, 0x40, 0x15, 0, 0, 0, 0, 1, 0xf4, 0, 0, 1, 0xf4, 0, 5, 2, 0x12, 0x10, 6,
            1, 2,
        ];
        mp4_box(b"mp4a", &[&fixed, &mp4_box(b"esds", &[&esds])])
    };
    let mut video = Mp4Track {
        handler: b"vide",
        timescale: 15360,
        delta: 512,
        sizes: video_sizes,
        ctts: Some(ctts),
        sync: Some(sync),
        samples_per_chunk: 15,
        chunk_offsets: Vec::new(),
        media_time: 512,
        sample_entry,
    };
    let mut audio = Mp4Track {
        handler: b"soun",
        timescale: 44100,
        delta: 1024,
        sizes: audio_sizes,
        ctts: None,
        sync: None,
        samples_per_chunk: 22,
        chunk_offsets: Vec::new(),
        media_time: 1024,
        sample_entry: audio_entry,
    };
    // Lay the chunks out in time order after the moov, whose size does not depend on the
    // offsets' values: build it once with placeholder offsets to learn it.
    let layout = |video: &mut Mp4Track, audio: &mut Mp4Track, start: u64| {
        let (mut v, mut a, mut at) = (0usize, 0usize, start);
        video.chunk_offsets.clear();
        audio.chunk_offsets.clear();
        while v < video.sizes.len() || a < audio.sizes.len() {
            let v_time = v as f64 / 30.0;
            let a_time = a as f64 * 1024.0 / 44100.0;
            let is_video = a >= audio.sizes.len() || (v < video.sizes.len() && v_time <= a_time);
            let (track, first) = if is_video { (&mut *video, &mut v) } else { (&mut *audio, &mut a) };
            let end = (*first + track.samples_per_chunk as usize).min(track.sizes.len());
            track.chunk_offsets.push(at as u32);
            at += track.sizes[*first..end].iter().map(|&s| u64::from(s)).sum::<u64>();
            *first = end;
        }
        at
    };
    let build = |video: &Mp4Track, audio: &Mp4Track| {
        let mvhd =
            mp4_table(b"mvhd", [0, 0, 1000, seconds * 1000, 0x0001_0000, 0x0100_0000].into_iter().chain([0; 19]));
        let moov = mp4_box(b"moov", &[&mvhd, &video.trak(1), &audio.trak(2)]);
        [mp4_box(b"ftyp", &[b"isomiso2avc1mp41"]), moov].concat()
    };
    layout(&mut video, &mut audio, 0);
    let head_len = build(&video, &audio).len() as u64 + 8;
    let end = layout(&mut video, &mut audio, head_len);
    assert!(end < u64::from(u32::MAX), "stco needs 32-bit offsets");
    let mut head = build(&video, &audio);
    head.extend_from_slice(&((end - head_len + 8) as u32).to_be_bytes());
    head.extend_from_slice(b"mdat");
    assert_eq!(head.len() as u64, head_len);
    Mp4Synthetic { head: head.into(), size: end, zeros: Bytes::from(vec![0; 65_536]) }
}

fn mp4_benches(c: &mut Criterion) {
    let source = synthetic_mp4(2 * 3600);
    let mut group = c.benchmark_group("mp4");
    group.throughput(Throughput::Bytes(source.head.len() as u64));
    group.bench_function("open_2h_30fps_aac", |b| {
        b.iter(|| MemorySource::run(MediaIndex::open(black_box(&source), Format::Mp4)).unwrap())
    });
    let index = MemorySource::run(MediaIndex::open(&source, Format::Mp4)).unwrap();
    let mut count = 0u64;
    MemorySource::run(async {
        let mut cursor = index.seek(0);
        while index.next_tag(&mut cursor, &source).await.unwrap().is_some() {
            count += 1;
        }
    });
    group.throughput(Throughput::Elements(count));
    group.bench_function("iterate_samples_2h", |b| {
        b.iter(|| {
            MemorySource::run(async {
                let mut cursor = index.seek(0);
                let mut n = 0usize;
                while let Some(tag) = index.next_tag(&mut cursor, &source).await.unwrap() {
                    n += tag.body_len();
                }
                black_box(n)
            })
        })
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("seek", |b| {
        let mut ms = 0u32;
        b.iter(|| {
            ms = (ms + 7919) % 7_200_000;
            black_box(index.seek(ms))
        })
    });
    group.finish();
}

criterion_group! {
    name = mp4;
    config = Criterion::default().sample_size(10);
    targets = mp4_benches
}

// Every reader's group; each engineer adds theirs here.
criterion_main!(flv_benches, mp3_benches, mp4);
