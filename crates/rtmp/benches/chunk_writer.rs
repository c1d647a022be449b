//! Chunk writer throughput on the media path: large video messages split at the negotiated
//! chunk size, and a stream of small audio messages (fmt-2 headers). The reader is measured
//! on the same streams for comparison.
//!
//! Run: `cargo bench -p sf-rtmp --bench chunk_writer`.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sf_rtmp::chunk::{ChunkReader, ChunkWriter, ReaderLimits};
use sf_rtmp::message::{MessageHeader, type_id};

const VIDEO_LEN: usize = 64 * 1024;
const AUDIO_LEN: usize = 200;
const AUDIO_BATCH: usize = 100;

fn video_header(timestamp: u32) -> MessageHeader {
    MessageHeader { csid: 7, timestamp, type_id: type_id::VIDEO, stream_id: 1 }
}

fn audio_header(timestamp: u32) -> MessageHeader {
    MessageHeader { csid: 6, timestamp, type_id: type_id::AUDIO, stream_id: 1 }
}

fn writer(c: &mut Criterion) {
    let frame = vec![0x5au8; VIDEO_LEN];
    // An FLV video tag header beside the frame body, as the session sends them.
    let tag_header = [0x17u8, 0x01, 0, 0, 0];
    let body = &frame[tag_header.len()..];

    let mut group = c.benchmark_group("chunk_writer");
    group.throughput(Throughput::Bytes(VIDEO_LEN as u64));
    for (name, chunk_size, base) in [
        ("video_64KiB_chunk_4096", 4096, 0),
        ("video_64KiB_chunk_128", 128, 0),
        ("video_64KiB_chunk_4096_extended_ts", 4096, 0x0100_0000),
    ] {
        group.bench_function(name, |b| {
            let mut writer = ChunkWriter::new();
            writer.set_chunk_size(chunk_size);
            let mut out = BytesMut::with_capacity(2 * VIDEO_LEN);
            let mut timestamp = base;
            b.iter(|| {
                out.clear();
                timestamp += 40;
                writer.write(&video_header(timestamp), &[&tag_header, body], &mut out);
                black_box(out.len())
            });
        });
    }

    let audio = [0xafu8; AUDIO_LEN];
    group.throughput(Throughput::Elements(AUDIO_BATCH as u64));
    group.bench_function("audio_200B_x100_chunk_4096", |b| {
        let mut writer = ChunkWriter::new();
        writer.set_chunk_size(4096);
        let mut out = BytesMut::with_capacity(AUDIO_BATCH * (AUDIO_LEN + 16));
        let mut timestamp = 0u32;
        b.iter(|| {
            out.clear();
            for _ in 0..AUDIO_BATCH {
                timestamp += 23;
                writer.write(&audio_header(timestamp), &[&audio[..2], &audio[2..]], &mut out);
            }
            black_box(out.len())
        });
    });
    group.finish();
}

fn reader(c: &mut Criterion) {
    let mut group = c.benchmark_group("chunk_reader");
    let limits = ReaderLimits { max_message_len: 1 << 20, max_chunk_streams: 64, max_buffered: 4 << 20 };
    for (name, chunk_size) in [("video_64KiB_chunk_4096", 4096u32), ("video_64KiB_chunk_128", 128)] {
        let mut writer = ChunkWriter::new();
        let mut stream = BytesMut::new();
        let set_chunk_size = MessageHeader { csid: 2, timestamp: 0, type_id: type_id::SET_CHUNK_SIZE, stream_id: 0 };
        writer.write(&set_chunk_size, &[&chunk_size.to_be_bytes()], &mut stream);
        writer.set_chunk_size(chunk_size);
        let preamble = stream.split().freeze();
        let frame = vec![0x5au8; VIDEO_LEN];
        writer.write(&video_header(40), &[&frame], &mut stream);
        let one_frame = stream.split().freeze();

        group.throughput(Throughput::Bytes(VIDEO_LEN as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut reader = ChunkReader::new(limits);
                reader.push(&preamble);
                reader.push(&one_frame);
                let mut total = 0;
                while let Some(message) = reader.next_message().expect("valid stream") {
                    total += message.payload.len();
                }
                black_box(total)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, writer, reader);
criterion_main!(benches);
