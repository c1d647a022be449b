//! AMF0 encoding and decoding.

use crate::{DecodeError, Value};

/// Deepest nesting of objects/arrays the decoder accepts.
pub const MAX_DEPTH: usize = 64;

/// Appends the AMF0 encoding of `value` to `out`. Strings longer than 65535 bytes are written
/// as long strings (0x0C). AMF3-only values (ByteArray) are written via the avmplus marker.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    let _ = (value, out);
    todo!("sf-amf helper")
}

/// Encodes several values back to back (a command: name, transaction id, objects…).
pub fn encode_all(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode(v, &mut out);
    }
    out
}

/// Decodes one value from the front of `input` and advances it.
pub fn decode(input: &mut &[u8]) -> Result<Value, DecodeError> {
    let _ = input;
    todo!("sf-amf helper")
}

/// Decodes values until the input is used up.
pub fn decode_all(mut input: &[u8]) -> Result<Vec<Value>, DecodeError> {
    let mut values = Vec::new();
    while !input.is_empty() {
        values.push(decode(&mut input)?);
    }
    Ok(values)
}
