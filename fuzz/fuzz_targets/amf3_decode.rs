//! AMF3 decoding of arbitrary bytes must never panic, and whatever decodes must encode to
//! something that decodes again.
#![no_main]

use sf_amf::{Value, amf3};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut input = data;
    let Ok(value) = amf3::decode(&mut input) else { return };
    assert!(input.len() < data.len(), "a value takes at least its marker");
    let mut bytes = Vec::new();
    amf3::encode(&value, &mut bytes);
    let again = amf3::decode(&mut &bytes[..]).expect("re-encoded AMF3 must decode");
    // The encoder writes no references, no sealed traits and no XMLDocument marker, but the
    // value is the same unless it had empty keys (sealed member names may be empty; dynamic
    // ones cannot). Compared via Debug so that NaN equals NaN.
    if no_empty_keys(&value) {
        assert_eq!(format!("{value:?}"), format!("{again:?}"));
    }
});

fn no_empty_keys(value: &Value) -> bool {
    match value {
        Value::Object(p) | Value::EcmaArray(p) | Value::TypedObject { properties: p, .. } => {
            p.iter().all(|(k, v)| !k.is_empty() && no_empty_keys(v))
        }
        Value::StrictArray(items) => items.iter().all(no_empty_keys),
        _ => true,
    }
}
