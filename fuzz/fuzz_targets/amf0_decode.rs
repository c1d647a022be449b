//! AMF0 decoding of arbitrary bytes must never panic, and whatever decodes must survive
//! encode → decode unchanged.
#![no_main]

use sf_amf::{Value, amf0};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(values) = amf0::decode_all(data) else { return };
    // References come back resolved and 0x0D as Undefined, so the values (not the bytes) are
    // what must round-trip.
    let bytes = amf0::encode_all(&values);
    let again = amf0::decode_all(&bytes).expect("re-encoded AMF0 must decode");
    // Encoding what decoded is a fixed point, whatever was lost on the way.
    assert_eq!(amf0::encode_all(&again), bytes);
    // Lossless unless AMF3 values behind the avmplus marker carry keys AMF0 cannot hold
    // (then the object goes back through AMF3, which cannot write empty keys). Compared via
    // Debug so that NaN equals NaN.
    if values.iter().all(amf0_keys) {
        assert_eq!(format!("{values:?}"), format!("{again:?}"));
    }
});

/// True if every key and class name inside `value` fits AMF0's 16-bit length.
fn amf0_keys(value: &Value) -> bool {
    let fits = |s: &String| s.len() <= usize::from(u16::MAX);
    match value {
        Value::Object(p) | Value::EcmaArray(p) => p.iter().all(|(k, v)| fits(k) && amf0_keys(v)),
        Value::TypedObject { class_name, properties } => {
            fits(class_name) && properties.iter().all(|(k, v)| fits(k) && amf0_keys(v))
        }
        Value::StrictArray(items) => items.iter().all(amf0_keys),
        _ => true,
    }
}
