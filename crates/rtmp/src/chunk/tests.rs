//! Chunk stream tests: hand-computed wire bytes, reader edge cases and limits, and writer →
//! reader round trips of random message sequences under every input split.

use bytes::{Bytes, BytesMut};
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};

use super::*;
use crate::message::{Message, MessageHeader, type_id};

fn header(csid: u32, timestamp: u32, type_id: u8, stream_id: u32) -> MessageHeader {
    MessageHeader { csid, timestamp, type_id, stream_id }
}

fn write(writer: &mut ChunkWriter, header: MessageHeader, body: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    writer.write(&header, &[body], &mut out);
    out.to_vec()
}

fn message(header: MessageHeader, payload: &[u8]) -> Message {
    Message {
        csid: header.csid,
        timestamp: header.timestamp,
        type_id: header.type_id,
        stream_id: header.stream_id,
        payload: Bytes::copy_from_slice(payload),
    }
}

fn big_limits() -> ReaderLimits {
    ReaderLimits { max_message_len: MAX_MESSAGE_LEN, max_chunk_streams: 1 << 20, max_buffered: 1 << 30 }
}

/// Pushes `input` in pieces of `split` bytes, collecting messages until the first error.
fn read_split(input: &[u8], split: usize, limits: ReaderLimits) -> (Vec<Message>, Option<ChunkError>) {
    let mut reader = ChunkReader::new(limits);
    let mut messages = Vec::new();
    for piece in input.chunks(split.max(1)) {
        reader.push(piece);
        loop {
            match reader.next_message() {
                Ok(Some(message)) => messages.push(message),
                Ok(None) => break,
                Err(error) => return (messages, Some(error)),
            }
        }
    }
    assert_eq!(reader.bytes_received(), input.len() as u64);
    (messages, None)
}

/// Reads `input` all at once and byte by byte; both must agree.
fn read_both(input: &[u8], limits: ReaderLimits) -> (Vec<Message>, Option<ChunkError>) {
    let whole = read_split(input, input.len(), limits);
    let bytewise = read_split(input, 1, limits);
    assert_eq!(whole, bytewise, "byte-at-a-time differs from all-at-once");
    whole
}

fn read_ok(input: &[u8]) -> Vec<Message> {
    let (messages, error) = read_both(input, ReaderLimits::default());
    assert_eq!(error, None);
    messages
}

fn body(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 1) as u8).collect()
}

fn concat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

// ----- writer: hand-computed bytes ----------------------------------------------------------

#[test]
fn writer_first_message_is_fmt0_then_fmt2_or_fmt1() {
    let mut writer = ChunkWriter::new();
    let h = header(3, 0, type_id::COMMAND_AMF0, 0);
    assert_eq!(write(&mut writer, h, b"hello"), concat(&[&[0x03, 0, 0, 0, 0, 0, 5, 0x14, 0, 0, 0, 0], b"hello"]));
    // Same length and type: fmt 2, delta 40.
    assert_eq!(write(&mut writer, header(3, 40, 20, 0), b"world"), concat(&[&[0x83, 0, 0, 0x28], b"world"]));
    // Other length: fmt 1 with delta 0.
    assert_eq!(
        write(&mut writer, header(3, 40, 20, 0), b"hello!"),
        concat(&[&[0x43, 0, 0, 0, 0, 0, 6, 0x14], b"hello!"])
    );
    // Other type, same length: fmt 1.
    assert_eq!(
        write(&mut writer, header(3, 41, 18, 0), b"hello!"),
        concat(&[&[0x43, 0, 0, 1, 0, 0, 6, 0x12], b"hello!"])
    );
    // Timestamp backwards: fmt 0.
    assert_eq!(
        write(&mut writer, header(3, 10, 18, 0), b"hello!"),
        concat(&[&[0x03, 0, 0, 10, 0, 0, 6, 0x12, 0, 0, 0, 0], b"hello!"])
    );
    // Stream id change: fmt 0, little-endian stream id.
    assert_eq!(
        write(&mut writer, header(3, 20, 18, 0x0102_0304), b"hello!"),
        concat(&[&[0x03, 0, 0, 20, 0, 0, 6, 0x12, 4, 3, 2, 1], b"hello!"])
    );
    // Another chunk stream starts with fmt 0 of its own.
    assert_eq!(write(&mut writer, header(5, 20, 18, 0), b""), [0x05, 0, 0, 20, 0, 0, 0, 0x12, 0, 0, 0, 0]);
}

#[test]
fn writer_splits_into_fmt3_continuations() {
    let mut writer = ChunkWriter::new();
    let payload = body(300);
    let out = write(&mut writer, header(4, 1000, type_id::VIDEO, 1), &payload);
    let expected = concat(&[
        &[0x04, 0x00, 0x03, 0xe8, 0x00, 0x01, 0x2c, 0x09, 1, 0, 0, 0],
        &payload[..128],
        &[0xc4],
        &payload[128..256],
        &[0xc4],
        &payload[256..],
    ]);
    assert_eq!(out, expected);
    // Exactly one chunk's worth: no trailing continuation header.
    let out = write(&mut writer, header(4, 1040, type_id::VIDEO, 1), &payload[..128]);
    assert_eq!(out, concat(&[&[0x44, 0, 0, 40, 0, 0, 128, 9], &payload[..128]]));
}

#[test]
fn writer_parts_are_concatenated_across_chunk_boundaries() {
    let mut writer = ChunkWriter::new();
    writer.set_chunk_size(4);
    let mut out = BytesMut::new();
    writer.write(&header(6, 0, type_id::AUDIO, 1), &[b"ab", b"", b"cdefg", b"hij"], &mut out);
    assert_eq!(
        out.to_vec(),
        concat(&[&[0x06, 0, 0, 0, 0, 0, 10, 8, 1, 0, 0, 0], b"abcd", &[0xc6], b"efgh", &[0xc6], b"ij"])
    );
}

#[test]
fn writer_extended_timestamp_is_repeated_on_continuations() {
    let mut writer = ChunkWriter::new();
    let payload = body(200);
    let ts = 0x0100_0000;
    let out = write(&mut writer, header(4, ts, type_id::VIDEO, 1), &payload);
    let expected = concat(&[
        &[0x04, 0xff, 0xff, 0xff, 0x00, 0x00, 0xc8, 0x09, 1, 0, 0, 0, 0x01, 0, 0, 0],
        &payload[..128],
        &[0xc4, 0x01, 0, 0, 0],
        &payload[128..],
    ]);
    assert_eq!(out, expected);
    // A small delta afterwards: no extended field any more, no 4 bytes on fmt 3 either.
    let out = write(&mut writer, header(4, ts + 33, type_id::VIDEO, 1), &payload);
    let expected = concat(&[&[0x84, 0, 0, 33], &payload[..128], &[0xc4], &payload[128..]]);
    assert_eq!(out, expected);
    // A delta of 0xFFFFFF or more is extended too (fmt 1 here), and repeated.
    let out = write(&mut writer, header(4, ts + 33 + 0xff_ffff, type_id::AUDIO, 1), &payload);
    let expected = concat(&[
        &[0x44, 0xff, 0xff, 0xff, 0x00, 0x00, 0xc8, 0x08, 0x00, 0xff, 0xff, 0xff],
        &payload[..128],
        &[0xc4, 0x00, 0xff, 0xff, 0xff],
        &payload[128..],
    ]);
    assert_eq!(out, expected);
}

#[test]
fn writer_timestamp_field_boundary() {
    let mut writer = ChunkWriter::new();
    assert_eq!(
        write(&mut writer, header(2, 0xff_fffe, 1, 0), &[0, 0, 0x10, 0]),
        [0x02, 0xff, 0xff, 0xfe, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0]
    );
    let mut writer = ChunkWriter::new();
    assert_eq!(
        write(&mut writer, header(2, 0xff_ffff, 1, 0), &[0, 0, 0x10, 0]),
        [0x02, 0xff, 0xff, 0xff, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0, 0, 0x10, 0]
    );
}

#[test]
fn writer_long_basic_headers() {
    let mut writer = ChunkWriter::new();
    writer.set_chunk_size(1);
    let cases: [(u32, &[u8], &[u8]); 4] = [
        (64, &[0x00, 0x00], &[0xc0, 0x00]),
        (319, &[0x00, 0xff], &[0xc0, 0xff]),
        // 320 − 64 = 256, little-endian.
        (320, &[0x01, 0x00, 0x01], &[0xc1, 0x00, 0x01]),
        (65599, &[0x01, 0xff, 0xff], &[0xc1, 0xff, 0xff]),
    ];
    for (csid, first, continuation) in cases {
        let out = write(&mut writer, header(csid, 0, 8, 0), b"xy");
        let expected = concat(&[first, &[0, 0, 0, 0, 0, 2, 8, 0, 0, 0, 0], b"x", continuation, b"y"]);
        assert_eq!(out, expected, "csid {csid}");
        assert_eq!(read_split(&out, 1, ReaderLimits::default()).0[0].csid, csid);
    }
}

#[test]
fn writer_chunk_size() {
    let mut writer = ChunkWriter::default();
    assert_eq!(writer.chunk_size(), 128);
    writer.set_chunk_size(4096);
    assert_eq!(writer.chunk_size(), 4096);
    writer.set_chunk_size(MAX_CHUNK_SIZE);
    let out = write(&mut writer, header(3, 0, 9, 1), &body(70_000));
    assert_eq!(out.len(), 12 + 70_000);
}

#[test]
#[should_panic(expected = "invalid chunk size")]
fn writer_rejects_chunk_size_zero() {
    ChunkWriter::new().set_chunk_size(0);
}

// ----- reader: hand-computed bytes ----------------------------------------------------------

#[test]
fn reader_decodes_all_formats() {
    let input = concat(&[
        // fmt 0, csid 3, ts 1000, 5 bytes, type 20, stream 1
        &[0x03, 0x00, 0x03, 0xe8, 0, 0, 5, 20, 1, 0, 0, 0],
        b"first",
        // fmt 1: delta 20, 3 bytes, type 18
        &[0x43, 0, 0, 20, 0, 0, 3, 18],
        b"two",
        // fmt 2: delta 5
        &[0x83, 0, 0, 5],
        b"333",
        // fmt 3 starting a message: delta 5 again
        &[0xc3],
        b"444",
    ]);
    let h = |ts, type_id| header(3, ts, type_id, 1);
    assert_eq!(
        read_ok(&input),
        [
            message(h(1000, 20), b"first"),
            message(h(1020, 18), b"two"),
            message(h(1025, 18), b"333"),
            message(h(1030, 18), b"444"),
        ]
    );
}

#[test]
fn reader_fmt3_after_fmt0_adds_the_absolute_timestamp() {
    // 2012 spec, FFmpeg, librtmp: after a type 0 the "delta" is the absolute timestamp.
    let input = concat(&[&[0x04, 0, 0, 100, 0, 0, 1, 8, 0, 0, 0, 0], b"a", &[0xc4], b"b"]);
    let messages = read_ok(&input);
    assert_eq!(messages[0].timestamp, 100);
    assert_eq!(messages[1].timestamp, 200);
}

#[test]
fn reader_continuations_and_interleaving() {
    let a = body(200);
    let b = body(130);
    let input = concat(&[
        &[0x04, 0, 0, 1, 0, 0, 200, 9, 1, 0, 0, 0],
        &a[..128],
        &[0x06, 0, 0, 2, 0, 0, 130, 8, 1, 0, 0, 0],
        &b[..128],
        &[0xc4],
        &a[128..],
        &[0xc6],
        &b[128..],
    ]);
    assert_eq!(read_ok(&input), [message(header(4, 1, 9, 1), &a), message(header(6, 2, 8, 1), &b)]);
}

#[test]
fn reader_extended_timestamp_on_continuations_present_or_absent() {
    let payload = body(200);
    let first = [0x04, 0xff, 0xff, 0xff, 0, 0, 200, 9, 1, 0, 0, 0, 0x01, 0x02, 0x03, 0x04];
    let expected = [message(header(4, 0x0102_0304, 9, 1), &payload)];
    // FFmpeg / librtmp ≥ 2014 style: the 4 bytes follow the fmt-3 basic header.
    let with = concat(&[&first, &payload[..128], &[0xc4, 1, 2, 3, 4], &payload[128..]]);
    assert_eq!(read_ok(&with), expected);
    // 2009-spec style: nothing follows.
    let without = concat(&[&first, &payload[..128], &[0xc4], &payload[128..]]);
    assert_eq!(read_ok(&without), expected);
    // Payload that starts like the timestamp but is not it.
    let mut tricky = payload.clone();
    tricky[128..131].copy_from_slice(&[1, 2, 3]);
    let without = concat(&[&first, &tricky[..128], &[0xc4], &tricky[128..]]);
    assert_eq!(read_ok(&without), [message(header(4, 0x0102_0304, 9, 1), &tricky)]);
}

#[test]
fn reader_extended_timestamp_on_fmt3_new_message() {
    let input = concat(&[
        &[0x05, 0xff, 0xff, 0xff, 0, 0, 2, 8, 0, 0, 0, 0, 0x01, 0, 0, 0],
        b"ab",
        // fmt 3 new message repeating the extended field: timestamp 2 × 0x01000000
        &[0xc5, 0x01, 0, 0, 0],
        b"cd",
        // and one from an old peer that omits it
        &[0xc5],
        b"ef",
    ]);
    let messages = read_ok(&input);
    let stamps: Vec<u32> = messages.iter().map(|m| m.timestamp).collect();
    assert_eq!(stamps, [0x0100_0000, 0x0200_0000, 0x0300_0000]);
    assert_eq!(messages[2].payload, &b"ef"[..]);
}

#[test]
fn reader_extended_delta_on_fmt1() {
    let input = concat(&[
        &[0x05, 0, 0, 10, 0, 0, 1, 8, 0, 0, 0, 0],
        b"a",
        &[0x45, 0xff, 0xff, 0xff, 0, 0, 1, 9, 0x10, 0, 0, 0],
        b"b",
    ]);
    let messages = read_ok(&input);
    assert_eq!(messages[1].timestamp, 0x1000_000a);
    assert_eq!(messages[1].type_id, 9);
}

#[test]
fn reader_timestamps_wrap() {
    let input = concat(&[
        &[0x05, 0xff, 0xff, 0xff, 0, 0, 1, 8, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0],
        b"a",
        &[0x85, 0, 0, 0x20],
        b"b",
    ]);
    assert_eq!(read_ok(&input)[1].timestamp, 0x10);
}

#[test]
fn reader_zero_length_messages() {
    let input = concat(&[&[0x03, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0], &[0xc3], &[0x83, 0, 0, 1]]);
    let messages = read_ok(&input);
    assert_eq!(messages.len(), 3);
    assert!(messages.iter().all(|m| m.payload.is_empty()));
    assert_eq!(messages[2].timestamp, 1);
}

#[test]
fn reader_applies_set_chunk_size_and_returns_it() {
    let payload = body(300);
    let input = concat(&[
        &[0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x01, 0x00],
        &[0x03, 0, 0, 0, 0, 0x01, 0x2c, 20, 0, 0, 0, 0],
        &payload[..256],
        &[0xc3],
        &payload[256..],
    ]);
    let messages = read_ok(&input);
    assert_eq!(messages[0].type_id, type_id::SET_CHUNK_SIZE);
    assert_eq!(messages[1].payload, payload);
    let mut reader = ChunkReader::new(ReaderLimits::default());
    reader.push(&input);
    while reader.next_message().unwrap().is_some() {}
    assert_eq!(reader.chunk_size(), 256);
}

#[test]
fn reader_rejects_bad_chunk_sizes() {
    for (payload, error) in [
        (vec![0, 0, 0, 0], ChunkError::InvalidChunkSize(0)),
        (vec![0x80, 0, 0, 0], ChunkError::InvalidChunkSize(0x8000_0000)),
        (vec![0xff, 0xff, 0xff, 0xff], ChunkError::InvalidChunkSize(u32::MAX)),
        (vec![0, 1], ChunkError::Control(crate::message::ControlError::BadLength { type_id: 1, len: 2, expected: 4 })),
    ] {
        let input = concat(&[&[0x02, 0, 0, 0, 0, 0, payload.len() as u8, 1, 0, 0, 0, 0], &payload]);
        assert_eq!(read_both(&input, ReaderLimits::default()), (vec![], Some(error)));
    }
    // The largest valid size works.
    let input = [0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff];
    assert_eq!(read_ok(&input).len(), 1);
}

#[test]
fn reader_applies_abort() {
    let a = body(200);
    let input = concat(&[
        &[0x04, 0, 0, 1, 0, 0, 200, 9, 1, 0, 0, 0],
        &a[..128],
        // Abort csid 4
        &[0x02, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0, 0, 0, 0, 4],
        // A new message on csid 4 with fmt 3: starts fresh (timestamp 1 + 1)
        &[0xc4],
        &a[..128],
        &[0xc4],
        &a[128..],
    ]);
    let messages = read_ok(&input);
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0].type_id, type_id::ABORT);
    assert_eq!(messages[1], message(header(4, 2, 9, 1), &a));
}

#[test]
fn reader_new_header_mid_message_abandons_it() {
    let a = body(200);
    let input = concat(&[
        &[0x04, 0, 0, 1, 0, 0, 200, 9, 1, 0, 0, 0],
        &a[..128],
        &[0x04, 0, 0, 7, 0, 0, 3, 9, 1, 0, 0, 0],
        b"new",
    ]);
    assert_eq!(read_ok(&input), [message(header(4, 7, 9, 1), b"new")]);
}

#[test]
fn reader_needs_a_previous_header() {
    for first in [0x43u8, 0x83, 0xc3] {
        let input = [first, 0, 0, 0, 0, 0, 1, 8, b'x'];
        assert_eq!(
            read_both(&input, ReaderLimits::default()),
            (vec![], Some(ChunkError::NoPreviousHeader { csid: 3 }))
        );
    }
}

#[test]
fn reader_errors_are_sticky() {
    let mut reader = ChunkReader::new(ReaderLimits::default());
    reader.push(&[0xc3]);
    let error = Some(ChunkError::NoPreviousHeader { csid: 3 });
    assert_eq!(reader.next_message().err(), error);
    reader.push(&[0x03, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0]);
    assert_eq!(reader.next_message().err(), error);
    assert_eq!(reader.bytes_received(), 13);
}

// ----- reader limits ------------------------------------------------------------------------

#[test]
fn reader_rejects_long_messages_before_buffering() {
    let limits = ReaderLimits { max_message_len: 1000, ..ReaderLimits::default() };
    let input = [0x03, 0, 0, 0, 0x00, 0x03, 0xe9, 20, 0, 0, 0, 0];
    assert_eq!(read_both(&input, limits), (vec![], Some(ChunkError::MessageTooLarge { len: 1001, limit: 1000 })));
    // fmt 1 is checked too.
    let input = [0x03, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0x43, 0, 0, 0, 0xff, 0xff, 0xff, 9];
    let (messages, error) = read_both(&input, limits);
    assert_eq!(messages.len(), 1);
    assert_eq!(error, Some(ChunkError::MessageTooLarge { len: 0xff_ffff, limit: 1000 }));
    // At the limit is fine.
    let payload = body(1000);
    let mut writer = ChunkWriter::new();
    let input = write(&mut writer, header(3, 0, 20, 0), &payload);
    assert_eq!(read_both(&input, limits).0[0].payload, payload);
}

#[test]
fn reader_limits_chunk_streams() {
    let limits = ReaderLimits { max_chunk_streams: 3, ..ReaderLimits::default() };
    let mut input = Vec::new();
    for csid in [3u8, 4, 5, 3, 6] {
        input.extend_from_slice(&[csid, 0, 0, 0, 0, 0, 1, 8, 0, 0, 0, 0, b'x']);
    }
    let (messages, error) = read_both(&input, limits);
    assert_eq!(messages.len(), 4);
    assert_eq!(error, Some(ChunkError::TooManyChunkStreams(3)));
}

#[test]
fn reader_limits_buffered_bytes() {
    let limits = ReaderLimits { max_message_len: 1000, max_chunk_streams: 64, max_buffered: 1500 };
    // Two 800-byte messages started on two chunk streams: 1600 > 1500.
    let input = concat(&[
        &[0x04, 0, 0, 0, 0, 0x03, 0x20, 9, 1, 0, 0, 0],
        &body(128),
        &[0x05, 0, 0, 0, 0, 0x03, 0x20, 9, 1, 0, 0, 0],
    ]);
    assert_eq!(read_both(&input, limits), (vec![], Some(ChunkError::TooMuchBuffered(1500))));
    // One after the other is fine: completed messages no longer count.
    let mut writer = ChunkWriter::new();
    let mut input = write(&mut writer, header(4, 0, 9, 1), &body(800));
    input.extend(write(&mut writer, header(5, 0, 9, 1), &body(800)));
    input.extend(write(&mut writer, header(4, 0, 9, 1), &body(800)));
    assert_eq!(read_both(&input, limits).0.len(), 3);
    // Single-chunk messages count as well, whether or not they arrive in one piece.
    let limits = ReaderLimits { max_message_len: 1000, max_chunk_streams: 64, max_buffered: 500 };
    let mut writer = ChunkWriter::new();
    writer.set_chunk_size(1000);
    let input = write(&mut writer, header(4, 0, 9, 1), &body(800));
    assert_eq!(read_both(&input, limits), (vec![], Some(ChunkError::TooMuchBuffered(500))));
}

#[test]
fn reader_consumes_what_it_parses() {
    let mut writer = ChunkWriter::new();
    let mut reader = ChunkReader::new(ReaderLimits::default());
    // A long stream through a reader that is drained after each push holds at most one
    // header's worth of input.
    for i in 0..1000u32 {
        let bytes = write(&mut writer, header(6, i * 23, 8, 1), &body(300));
        for piece in bytes.chunks(17) {
            reader.push(piece);
            while let Some(message) = reader.next_message().unwrap() {
                assert_eq!(message.timestamp, i * 23);
            }
            assert!(reader.unparsed_len() < 18 + 17, "{} bytes held", reader.unparsed_len());
        }
    }
}

// ----- round trips --------------------------------------------------------------------------

/// A random message sequence as the server might write it: several chunk streams, stream
/// ids, types, lengths from 0 to a few chunks, timestamps that mostly grow, sometimes
/// jump back or past 0xFFFFFF; chunk size changes announced in band.
fn random_stream(rng: &mut StdRng, count: usize, chunk_sizes: &[u32]) -> (Vec<u8>, Vec<Message>) {
    let mut writer = ChunkWriter::new();
    let mut out = BytesMut::new();
    let mut expected = Vec::new();
    let mut clock = [0u32; 8];
    let csids = [2u32, 3, 4, 5, 63, 64, 319, 320, 65599];
    for _ in 0..count {
        if rng.random_ratio(1, 15) {
            let size = chunk_sizes[rng.random_range(0..chunk_sizes.len())];
            let h = header(2, 0, type_id::SET_CHUNK_SIZE, 0);
            let payload = size.to_be_bytes();
            writer.write(&h, &[&payload], &mut out);
            writer.set_chunk_size(size);
            expected.push(message(h, &payload));
            continue;
        }
        let slot = rng.random_range(0..csids.len());
        let csid = csids[slot];
        let clock = &mut clock[slot % 8];
        *clock = match rng.random_range(0..10) {
            0 => clock.wrapping_sub(rng.random_range(0..1000)),
            1 => rng.random_range(0xff_fff0..0x0100_0010),
            2 => clock.wrapping_add(rng.random_range(0xff_fff0..0x0200_0000)),
            3 => rng.random(),
            _ => clock.wrapping_add(rng.random_range(0..100)),
        };
        let type_id = [8u8, 9, 18, 20][rng.random_range(0..4)];
        let stream_id = [0u32, 1, 1, 1, 0x0102_0304][rng.random_range(0..5)];
        let len = match rng.random_range(0..4) {
            0 => 0,
            1 => rng.random_range(1..8),
            _ => rng.random_range(0..3000),
        };
        let mut payload = vec![0u8; len];
        rng.fill_bytes(&mut payload);
        // Split the body into up to 3 parts to exercise the part walking.
        let a = rng.random_range(0..=len);
        let b = rng.random_range(a..=len);
        let h = header(csid, *clock, type_id, stream_id);
        writer.write(&h, &[&payload[..a], &payload[a..b], &payload[b..]], &mut out);
        expected.push(message(h, &payload));
    }
    (out.to_vec(), expected)
}

#[test]
fn round_trip_random_sequences() {
    let size_sets: [&[u32]; 4] = [&[128], &[1, 2, 7], &[128, 4096, 60_000], &[3, 128, 1000, 65_536]];
    for (seed, sizes) in size_sets.iter().enumerate().flat_map(|(i, s)| (0..5).map(move |k| (i * 10 + k, s))) {
        let mut rng = StdRng::seed_from_u64(seed as u64);
        let (bytes, expected) = random_stream(&mut rng, 120, sizes);
        for split in [bytes.len(), 1, 2, 3, 17, 128, 4097] {
            let (messages, error) = read_split(&bytes, split, big_limits());
            assert_eq!(error, None, "seed {seed} split {split}");
            assert!(messages == expected, "seed {seed} split {split}: messages differ");
        }
        // Random splits.
        let mut reader = ChunkReader::new(big_limits());
        let mut messages = Vec::new();
        let mut rest = &bytes[..];
        while !rest.is_empty() {
            let n = rng.random_range(1..=rest.len().min(5000));
            reader.push(&rest[..n]);
            rest = &rest[n..];
            while let Some(message) = reader.next_message().unwrap() {
                messages.push(message);
            }
        }
        assert!(messages == expected, "seed {seed}: random split differs");
    }
}

#[test]
fn round_trip_large_media_message() {
    let mut writer = ChunkWriter::new();
    writer.set_chunk_size(4096);
    let mut out = BytesMut::new();
    let payload = body(65_536);
    let h = header(7, 0x0123_4567, type_id::VIDEO, 1);
    writer.write(&h, &[&payload[..5], &payload[5..]], &mut out);
    // 16 chunks: one full header with extended timestamp, 15 continuations with it repeated.
    assert_eq!(out.len(), 16 + 15 * 5 + 65_536);
    let mut reader = ChunkReader::new(ReaderLimits::default());
    reader.push(&[0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0]);
    reader.push(&out);
    assert_eq!(reader.next_message().unwrap().unwrap().type_id, type_id::SET_CHUNK_SIZE);
    assert_eq!(reader.next_message().unwrap(), Some(message(h, &payload)));
    assert_eq!(reader.next_message().unwrap(), None);
}

#[test]
fn garbage_never_panics_and_splits_agree() {
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..300 {
        let len = rng.random_range(0..400);
        let mut input = vec![0u8; len];
        rng.fill_bytes(&mut input);
        // Bias towards plausible headers now and then.
        if len > 0 && rng.random_ratio(1, 2) {
            input[0] &= 0x3f;
        }
        let limits = ReaderLimits { max_message_len: 5000, max_chunk_streams: 8, max_buffered: 20_000 };
        read_both(&input, limits);
    }
}
