//! AMF3 decoding (and encoding of the values a server sends).

use crate::{DecodeError, Value};

/// Decodes one AMF3 value from the front of `input` and advances it. Each call has its own
/// reference tables (AMF3 tables are per message body; within one AMF0 body each avmplus
/// value starts fresh, as Flash writes them).
pub fn decode(input: &mut &[u8]) -> Result<Value, DecodeError> {
    let _ = input;
    todo!("sf-amf helper")
}

/// Appends the AMF3 encoding of `value` to `out`.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    let _ = (value, out);
    todo!("sf-amf helper")
}
