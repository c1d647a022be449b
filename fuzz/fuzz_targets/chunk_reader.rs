//! Arbitrary bytes, pushed in arbitrary pieces, into a `ChunkReader` with small limits.
//! Besides "never panics", checks that the split does not matter: the messages and the
//! error are the same as when everything is pushed at once.
//!
//! Input layout: `n` (1 byte), `n % 8` piece lengths (1 byte each, length = byte + 1,
//! cycled), 3 bytes of limits, then the chunk stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sf_rtmp::chunk::{ChunkError, ChunkReader, ReaderLimits};
use sf_rtmp::message::Message;

fn read(input: &[u8], pieces: &[usize], limits: ReaderLimits) -> (Vec<Message>, Option<ChunkError>) {
    let mut reader = ChunkReader::new(limits);
    let mut messages = Vec::new();
    let mut error = None;
    let mut rest = input;
    let mut lengths = pieces.iter().cycle();
    while !rest.is_empty() && error.is_none() {
        let n = lengths.next().copied().unwrap_or(rest.len()).min(rest.len());
        reader.push(&rest[..n]);
        rest = &rest[n..];
        loop {
            match reader.next_message() {
                Ok(Some(message)) => messages.push(message),
                Ok(None) => break,
                Err(e) => {
                    // Errors are sticky.
                    assert_eq!(reader.next_message(), Err(e.clone()));
                    error = Some(e);
                    break;
                }
            }
        }
    }
    assert_eq!(reader.bytes_received(), (input.len() - rest.len()) as u64);
    (messages, error)
}

fuzz_target!(|data: &[u8]| {
    let Some((&count, data)) = data.split_first() else {
        return;
    };
    let count = usize::from(count % 8);
    if data.len() < count + 3 {
        return;
    }
    let (pieces, data) = data.split_at(count);
    let pieces: Vec<usize> = pieces.iter().map(|&b| usize::from(b) + 1).collect();
    let (limits, input) = data.split_at(3);
    let limits = ReaderLimits {
        max_message_len: u32::from(limits[0]) * 64 + 1,
        max_chunk_streams: usize::from(limits[1] % 16) + 1,
        max_buffered: usize::from(limits[2]) * 128 + 64,
    };
    let whole = read(input, &[input.len().max(1)], limits);
    let split = read(input, &pieces, limits);
    assert_eq!(whole, split, "the input split changed the result");
    for message in &whole.0 {
        assert!(message.payload.len() <= limits.max_message_len as usize);
    }
});
