//! AMF0 encoding and decoding.
//!
//! References (marker 0x07) are resolved: the index counts objects, typed objects, ECMA arrays
//! and strict arrays in the order their markers appear, across all values of one
//! [`decode_all`] call (one [`decode`] call has a table of its own). The referenced value is
//! copied into the tree, so a decoded [`Value`] never contains a reference; a reference to a
//! value that is not complete yet (a cycle) or does not exist is [`DecodeError::BadReference`].

use crate::read::{self, Reader, RefTable};
use crate::{DecodeError, Value, amf3};

/// Deepest nesting of objects/arrays the decoder accepts: at most this many containers may
/// enclose one another (AMF3 values behind the avmplus switch count too).
pub const MAX_DEPTH: usize = 64;

const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const OBJECT: u8 = 0x03;
const MOVIECLIP: u8 = 0x04;
const NULL: u8 = 0x05;
const UNDEFINED: u8 = 0x06;
const REFERENCE: u8 = 0x07;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;
const STRICT_ARRAY: u8 = 0x0A;
const DATE: u8 = 0x0B;
const LONG_STRING: u8 = 0x0C;
const UNSUPPORTED: u8 = 0x0D;
const RECORDSET: u8 = 0x0E;
const XML_DOCUMENT: u8 = 0x0F;
const TYPED_OBJECT: u8 = 0x10;
const AVMPLUS: u8 = 0x11;

/// Appends the AMF0 encoding of `value` to `out`. Strings longer than 65535 bytes are written
/// as long strings (0x0C). AMF3-only values (ByteArray) are written via the avmplus marker, and
/// so are objects with a key or class name longer than 65535 bytes, which AMF0 cannot express
/// (AMF3 drops empty keys of such objects; see [`amf3::encode`]).
///
/// # Panics
/// If a string, XML document or strict array is longer than `u32::MAX` (bytes or items): no
/// AMF0 encoding exists, and no RTMP message could carry it.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Number(n) => {
            out.push(NUMBER);
            out.extend_from_slice(&n.to_be_bytes());
        }
        Value::Boolean(b) => out.extend_from_slice(&[BOOLEAN, u8::from(*b)]),
        Value::String(s) => match u16::try_from(s.len()) {
            Ok(len) => {
                out.push(STRING);
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(s.as_bytes());
            }
            Err(_) => {
                out.push(LONG_STRING);
                put_long_str(s, out);
            }
        },
        Value::Object(properties) if keys_fit(properties) => {
            out.push(OBJECT);
            put_properties(properties, out);
        }
        Value::Null => out.push(NULL),
        Value::Undefined => out.push(UNDEFINED),
        Value::EcmaArray(properties) if keys_fit(properties) => {
            out.push(ECMA_ARRAY);
            // Only a hint to readers, so saturating is harmless.
            let count = u32::try_from(properties.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&count.to_be_bytes());
            put_properties(properties, out);
        }
        Value::StrictArray(items) => {
            out.push(STRICT_ARRAY);
            out.extend_from_slice(&u32_len(items.len()).to_be_bytes());
            for item in items {
                encode(item, out);
            }
        }
        Value::Date { millis, timezone } => {
            out.push(DATE);
            out.extend_from_slice(&millis.to_be_bytes());
            out.extend_from_slice(&timezone.to_be_bytes());
        }
        Value::Xml(s) => {
            out.push(XML_DOCUMENT);
            put_long_str(s, out);
        }
        Value::TypedObject { class_name, properties } if fits_u16(class_name) && keys_fit(properties) => {
            out.push(TYPED_OBJECT);
            put_str(class_name, out);
            put_properties(properties, out);
        }
        Value::Object(_) | Value::EcmaArray(_) | Value::TypedObject { .. } | Value::ByteArray(_) => {
            out.push(AVMPLUS);
            amf3::encode(value, out);
        }
    }
}

/// Encodes several values back to back (a command: name, transaction id, objects…).
pub fn encode_all(values: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    for v in values {
        encode(v, &mut out);
    }
    out
}

/// Decodes one value from the front of `input` and advances it. On error `input` is left
/// as it was.
pub fn decode(input: &mut &[u8]) -> Result<Value, DecodeError> {
    let mut decoder = Decoder::new(input);
    let value = decoder.value(0)?;
    *input = decoder.r.rest();
    Ok(value)
}

/// Decodes values until the input is used up. References may point into earlier values.
pub fn decode_all(input: &[u8]) -> Result<Vec<Value>, DecodeError> {
    let mut decoder = Decoder::new(input);
    let mut values = Vec::new();
    while !decoder.r.is_empty() {
        values.push(decoder.value(0)?);
    }
    Ok(values)
}

fn fits_u16(s: &str) -> bool {
    s.len() <= usize::from(u16::MAX)
}

fn keys_fit(properties: &[(String, Value)]) -> bool {
    properties.iter().all(|(k, _)| fits_u16(k))
}

fn u32_len(len: usize) -> u32 {
    u32::try_from(len).expect("AMF0 cannot encode a value longer than u32::MAX")
}

/// A u16-length string; the caller has checked the length.
fn put_str(s: &str, out: &mut Vec<u8>) {
    let len = u16::try_from(s.len()).expect("checked by the caller");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_long_str(s: &str, out: &mut Vec<u8>) {
    out.extend_from_slice(&u32_len(s.len()).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Object body: (key, value)* then the empty key and the object-end marker.
fn put_properties(properties: &[(String, Value)], out: &mut Vec<u8>) {
    for (key, value) in properties {
        put_str(key, out);
        encode(value, out);
    }
    out.extend_from_slice(&[0, 0, OBJECT_END]);
}

struct Decoder<'a> {
    r: Reader<'a>,
    /// Complex values for 0x07 references.
    table: RefTable,
    /// True while a reference is being replayed: its values are in the table already.
    replaying: bool,
}

impl<'a> Decoder<'a> {
    fn new(input: &'a [u8]) -> Self {
        Decoder { r: Reader::new(input), table: RefTable::default(), replaying: false }
    }

    /// One value; `depth` is the number of containers around it.
    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let start = self.r.pos();
        match self.r.u8()? {
            NUMBER => Ok(Value::Number(self.r.f64()?)),
            BOOLEAN => Ok(Value::Boolean(self.r.u8()? != 0)),
            STRING => Ok(Value::String(self.short_string()?)),
            OBJECT => self.complex(start, depth, |d, inner| Ok(Value::Object(d.properties(inner, None)?))),
            NULL => Ok(Value::Null),
            // "Unsupported" means the sender had nothing to say; Undefined is the closest value.
            UNDEFINED | UNSUPPORTED => Ok(Value::Undefined),
            REFERENCE => {
                let index = self.r.u16()?;
                let start = self.table.start_of(index.into())?;
                self.replay(start, depth)
            }
            ECMA_ARRAY => self.complex(start, depth, |d, inner| {
                let hint = d.r.u32()?;
                Ok(Value::EcmaArray(d.properties(inner, Some(hint))?))
            }),
            STRICT_ARRAY => self.complex(start, depth, |d, inner| {
                let count = read::len(d.r.u32()?);
                let mut items = Vec::with_capacity(d.r.capacity_for(count));
                for _ in 0..count {
                    items.push(d.value(inner)?);
                }
                Ok(Value::StrictArray(items))
            }),
            DATE => {
                let millis = self.r.f64()?;
                let timezone = self.r.i16()?;
                Ok(Value::Date { millis, timezone })
            }
            LONG_STRING => Ok(Value::String(self.long_string()?)),
            XML_DOCUMENT => Ok(Value::Xml(self.long_string()?)),
            TYPED_OBJECT => self.complex(start, depth, |d, inner| {
                let class_name = d.short_string()?;
                let properties = d.properties(inner, None)?;
                Ok(Value::TypedObject { class_name, properties })
            }),
            AVMPLUS => amf3::decode_nested(&mut self.r, depth),
            MOVIECLIP => Err(DecodeError::Unsupported("AMF0 movieclip")),
            RECORDSET => Err(DecodeError::Unsupported("AMF0 recordset")),
            OBJECT_END => Err(DecodeError::Unsupported("AMF0 object end outside an object")),
            marker => Err(DecodeError::UnknownMarker { version: 0, marker }),
        }
    }

    /// A value that takes a reference-table slot and holds other values: registers it (before
    /// its children, as encoders number them) and decodes its body one level deeper.
    fn complex(
        &mut self,
        start: usize,
        depth: usize,
        body: impl FnOnce(&mut Self, usize) -> Result<Value, DecodeError>,
    ) -> Result<Value, DecodeError> {
        let inner = read::enter(depth)?;
        let slot = (!self.replaying).then(|| self.table.open(start));
        let value = body(self, inner)?;
        if let Some(slot) = slot {
            self.table.close(slot);
        }
        Ok(value)
    }

    /// Decodes the referenced value again from where it started.
    fn replay(&mut self, start: usize, depth: usize) -> Result<Value, DecodeError> {
        let resume = self.r.begin_replay(start);
        let outer = std::mem::replace(&mut self.replaying, true);
        let replayed = self.value(depth);
        self.replaying = outer;
        self.r.end_replay(resume, replayed)
    }

    fn short_string(&mut self) -> Result<String, DecodeError> {
        let len = self.r.u16()?;
        self.r.utf8(len.into())
    }

    fn long_string(&mut self) -> Result<String, DecodeError> {
        let len = self.r.u32()?;
        self.r.utf8(read::len(len))
    }

    /// Object body: (key, value)* up to the empty key followed by the object-end marker.
    /// `ecma_hint` is the declared count of an ECMA array.
    fn properties(&mut self, depth: usize, ecma_hint: Option<u32>) -> Result<Vec<(String, Value)>, DecodeError> {
        let mut properties = Vec::new();
        loop {
            // Some encoders end an ECMA array at the end of the data without `00 00 09`. Take
            // that only once the declared count is reached, so a cut-off message still fails.
            let hint_met = |hint| properties.len() >= read::len(hint);
            if self.r.is_empty() && ecma_hint.is_some_and(hint_met) {
                return Ok(properties);
            }
            let key = self.short_string()?;
            if key.is_empty() && self.r.peek() == Some(OBJECT_END) {
                self.r.u8()?;
                return Ok(properties);
            }
            // An empty key followed by a value is an ordinary (if odd) property.
            let value = self.value(depth)?;
            properties.push((key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// FFmpeg's `connect` for rtmp://localhost:1935/cfx/st (playing), written out by hand.
    const FFMPEG_CONNECT: &[u8] = b"\x02\x00\x07connect\
        \x00\x3f\xf0\x00\x00\x00\x00\x00\x00\
        \x03\
        \x00\x03app\x02\x00\x06cfx/st\
        \x00\x08flashVer\x02\x00\x0dLNX 9,0,124,2\
        \x00\x05tcUrl\x02\x00\x1crtmp://localhost:1935/cfx/st\
        \x00\x04fpad\x01\x00\
        \x00\x0ccapabilities\x00\x40\x2e\x00\x00\x00\x00\x00\x00\
        \x00\x0baudioCodecs\x00\x40\xaf\xce\x00\x00\x00\x00\x00\
        \x00\x0bvideoCodecs\x00\x40\x6f\x80\x00\x00\x00\x00\x00\
        \x00\x0dvideoFunction\x00\x3f\xf0\x00\x00\x00\x00\x00\x00\
        \x00\x00\x09";

    fn ffmpeg_connect() -> Vec<Value> {
        vec![
            Value::from("connect"),
            Value::from(1.0),
            Value::object([
                ("app", Value::from("cfx/st")),
                ("flashVer", Value::from("LNX 9,0,124,2")),
                ("tcUrl", Value::from("rtmp://localhost:1935/cfx/st")),
                ("fpad", Value::from(false)),
                ("capabilities", Value::from(15.0)),
                ("audioCodecs", Value::from(4071.0)),
                ("videoCodecs", Value::from(252.0)),
                ("videoFunction", Value::from(1.0)),
            ]),
        ]
    }

    /// One of each kind of value, small enough for byte-at-a-time tests.
    fn samples() -> Vec<Value> {
        let nested = Value::object([
            ("list", Value::StrictArray(vec![Value::from(1.0), Value::Null, Value::from("x")])),
            ("meta", Value::ecma_array([("duration", Value::from(12.5))])),
            ("", Value::from(true)), // an empty key with a value is a legal property
        ]);
        vec![
            Value::from(0.0),
            Value::from(-2.5),
            Value::Number(f64::INFINITY),
            Value::from(true),
            Value::from(false),
            Value::from(""),
            Value::from("héllo"),
            Value::Null,
            Value::Undefined,
            Value::object::<&str>([]),
            nested.clone(),
            Value::ecma_array::<&str>([]),
            Value::ecma_array([("width", Value::from(1280.0)), ("inner", nested.clone())]),
            Value::StrictArray(vec![]),
            Value::StrictArray(vec![nested, Value::Undefined]),
            Value::Date { millis: 1.7e12, timezone: -60 },
            Value::Xml("<a b='c'/>".into()),
            Value::TypedObject { class_name: "flex.Msg".into(), properties: vec![("body".into(), Value::from("hi"))] },
            Value::ByteArray(vec![0, 1, 0xFF]),
        ]
    }

    fn one(bytes: &[u8]) -> Result<Value, DecodeError> {
        let mut input = bytes;
        let value = decode(&mut input)?;
        assert!(input.is_empty(), "{} bytes left over", input.len());
        Ok(value)
    }

    /// `depth` strict arrays of one element, nested, around `leaf`.
    fn nested_arrays(depth: usize, leaf: &[u8]) -> Vec<u8> {
        let mut bytes = [STRICT_ARRAY, 0, 0, 0, 1].repeat(depth);
        bytes.extend_from_slice(leaf);
        bytes
    }

    #[test]
    fn ffmpeg_connect_matches_known_bytes() {
        assert_eq!(encode_all(&ffmpeg_connect()), FFMPEG_CONNECT);
        let values = decode_all(FFMPEG_CONNECT).unwrap();
        assert_eq!(values, ffmpeg_connect());
        assert_eq!(values[2].get("app").and_then(Value::as_str), Some("cfx/st"));
    }

    #[test]
    fn known_scalar_encodings() {
        let cases: [(Value, &[u8]); 6] = [
            (Value::from(1.5), b"\x00\x3f\xf8\x00\x00\x00\x00\x00\x00"),
            (Value::from(true), b"\x01\x01"),
            (Value::Null, b"\x05"),
            (Value::Undefined, b"\x06"),
            (Value::Date { millis: 1.0, timezone: -1 }, b"\x0b\x3f\xf0\0\0\0\0\0\0\xff\xff"),
            (Value::ecma_array([("a", Value::Null)]), b"\x08\0\0\0\x01\0\x01a\x05\0\0\x09"),
        ];
        for (value, bytes) in cases {
            assert_eq!(encode_all(std::slice::from_ref(&value)), bytes, "{value:?}");
            assert_eq!(one(bytes), Ok(value));
        }
    }

    #[test]
    fn every_kind_round_trips() {
        let values = samples();
        for value in &values {
            assert_eq!(one(&encode_all(std::slice::from_ref(value))).as_ref(), Ok(value));
        }
        assert_eq!(decode_all(&encode_all(&values)), Ok(values));
    }

    #[test]
    fn ecma_array_count_is_the_number_of_pairs() {
        let value = Value::ecma_array((0..300).map(|i| (i.to_string(), Value::from(i as f64))));
        let bytes = encode_all(&[value]);
        assert_eq!(bytes[..5], [ECMA_ARRAY, 0, 0, 0x01, 0x2C]);
        assert_eq!(bytes[bytes.len() - 3..], [0, 0, OBJECT_END]);
    }

    #[test]
    fn long_strings_switch_to_marker_0x0c() {
        let fits = "a".repeat(65535);
        let bytes = encode_all(&[Value::from(fits.as_str())]);
        assert_eq!(bytes[..3], [STRING, 0xFF, 0xFF]);
        let long = "a".repeat(65536);
        let bytes = encode_all(&[Value::from(long.as_str())]);
        assert_eq!(bytes[..5], [LONG_STRING, 0, 1, 0, 0]);
        assert_eq!(one(&bytes), Ok(Value::String(long)));
    }

    #[test]
    fn keys_too_long_for_amf0_go_through_avmplus() {
        let value = Value::object([("k".repeat(70_000), Value::from(1.0))]);
        let bytes = encode_all(std::slice::from_ref(&value));
        assert_eq!(bytes[..2], [AVMPLUS, 0x0A]);
        assert_eq!(one(&bytes), Ok(value));
    }

    /// Each strict prefix of one value's encoding is `Truncated`, except that a trailing ECMA
    /// array may lack its end marker(s) (see `Decoder::properties`); then the value is the same.
    fn assert_prefixes_truncated(value: &Value) {
        let bytes = encode_all(std::slice::from_ref(value));
        for n in 0..bytes.len() {
            let rest = &bytes[n..];
            let only_end_markers = rest.len().is_multiple_of(3) && rest.chunks(3).all(|c| c == [0, 0, 9]);
            match decode(&mut &bytes[..n]) {
                Err(DecodeError::Truncated) => {}
                Ok(v) if only_end_markers && v == *value => {}
                other => panic!("{value:?}: prefix of {n}/{} bytes gave {other:?}", bytes.len()),
            }
        }
    }

    #[test]
    fn every_strict_prefix_is_truncated() {
        for value in samples().iter().chain(&ffmpeg_connect()) {
            assert_prefixes_truncated(value);
        }
    }

    #[test]
    fn ecma_array_without_end_marker_at_end_of_input() {
        assert_eq!(one(b"\x08\0\0\0\x01\0\x01a\x05"), Ok(Value::ecma_array([("a", Value::Null)])));
        // Fewer pairs than declared: cut off, not merely unterminated.
        assert_eq!(one(b"\x08\0\0\0\x02\0\x01a\x05"), Err(DecodeError::Truncated));
        // Only at the end of the input, and only for ECMA arrays.
        assert_eq!(one(b"\x03\0\x01a\x05"), Err(DecodeError::Truncated));
        // More bytes after the last pair are read as the next key.
        assert_eq!(decode_all(b"\x08\0\0\0\x01\0\x01a\x05\x05"), Err(DecodeError::Truncated));
    }

    #[test]
    fn nesting_is_bounded() {
        assert!(one(&nested_arrays(MAX_DEPTH, &[NULL])).is_ok());
        assert_eq!(one(&nested_arrays(MAX_DEPTH + 1, &[NULL])), Err(DecodeError::TooDeep(64)));
        // A bomb far deeper than the stack could take.
        let bomb = [OBJECT, 0, 1, b'a'].repeat(1_000_000);
        assert_eq!(one(&bomb), Err(DecodeError::TooDeep(64)));
        // AMF3 arrays behind avmplus switches count as well.
        let amf3_arrays = |depth| {
            let mut bytes = [AVMPLUS].to_vec();
            bytes.extend_from_slice(&[0x09, 0x03, 0x01].repeat(depth)); // [ [ [ …
            bytes.push(0x01); // null
            bytes
        };
        assert!(one(&nested_arrays(40, &amf3_arrays(24))).is_ok());
        assert_eq!(one(&nested_arrays(40, &amf3_arrays(25))), Err(DecodeError::TooDeep(64)));
    }

    #[test]
    fn huge_declared_lengths_fail_without_allocating() {
        let cases: [&[u8]; 6] = [
            b"\x02\xff\xffabc",
            b"\x0c\xff\xff\xff\xffabc",
            b"\x0f\xff\xff\xff\xff",
            b"\x0a\xff\xff\xff\xff\x05\x05",
            b"\x10\xff\xff",
            b"\x11\x06\xff\xff\xff\xff",
        ];
        for bytes in cases {
            assert_eq!(one(bytes), Err(DecodeError::Truncated), "{bytes:?}");
        }
        // An ECMA array's count is only a hint.
        assert_eq!(one(b"\x08\xff\xff\xff\xff\0\0\x09"), Ok(Value::EcmaArray(vec![])));
    }

    #[test]
    fn references_resolve_to_earlier_complex_values() {
        // [ {a: 1}, ref 1 ]: the array itself is reference 0, the object 1.
        let bytes = b"\x0a\0\0\0\x02\x03\0\x01a\x00\x3f\xf0\0\0\0\0\0\0\0\0\x09\x07\0\x01";
        let a = Value::object([("a", Value::from(1.0))]);
        assert_eq!(one(bytes), Ok(Value::StrictArray(vec![a.clone(), a.clone()])));
        // Across the values of one message: "x", {a: 1}, ref 0.
        let mut message = encode_all(&[Value::from("x"), a.clone()]);
        message.extend_from_slice(&[REFERENCE, 0, 0]);
        assert_eq!(decode_all(&message), Ok(vec![Value::from("x"), a.clone(), a]));
        // …but a single `decode` starts a table of its own.
        assert_eq!(one(b"\x07\0\0"), Err(DecodeError::BadReference(0)));
    }

    #[test]
    fn bad_references_are_refused() {
        // A reference to the object that contains it cannot be a tree.
        assert_eq!(one(b"\x03\0\x01a\x07\0\0\0\0\x09"), Err(DecodeError::BadReference(0)));
        assert_eq!(one(b"\x0a\0\0\0\x01\x07\0\x05"), Err(DecodeError::BadReference(5)));
    }

    #[test]
    fn reference_bombs_are_stopped() {
        // [ [60 KB string] ], then 10 000 references to it: 600 MB from 90 KB.
        let mut flat = encode_all(&[Value::StrictArray(vec![Value::from("s".repeat(60_000))])]);
        flat.extend_from_slice(&[STRICT_ARRAY, 0, 0, 0x27, 0x10]);
        flat.extend_from_slice(&[REFERENCE, 0, 0].repeat(10_000));
        assert_eq!(decode_all(&flat), Err(DecodeError::ExpansionTooLarge));

        // Each array holds ten references to the previous one: 10^8 copies of a string.
        let mut chain = encode_all(&[Value::StrictArray(vec![Value::from("s".repeat(100))])]);
        for level in 0..8u16 {
            chain.extend_from_slice(&[STRICT_ARRAY, 0, 0, 0, 10]);
            for _ in 0..10 {
                chain.push(REFERENCE);
                chain.extend_from_slice(&level.to_be_bytes());
            }
        }
        assert_eq!(decode_all(&chain), Err(DecodeError::ExpansionTooLarge));

        // A modest amount of sharing is fine.
        chain.truncate(chain.len() - 6 * 35);
        let values = decode_all(&chain).unwrap();
        assert_eq!(values.len(), 3);
    }

    #[test]
    fn references_cannot_nest_past_max_depth() {
        // Value 0: 60 nested arrays. Value 1: 10 nested arrays around a reference to value 0.
        let mut bytes = nested_arrays(60, &[NULL]);
        bytes.extend_from_slice(&nested_arrays(10, &[REFERENCE, 0, 0]));
        assert_eq!(decode_all(&bytes), Err(DecodeError::TooDeep(64)));
    }

    #[test]
    fn other_markers() {
        assert_eq!(one(b"\x0d"), Ok(Value::Undefined));
        assert_eq!(one(b"\x11\x04\x7f"), Ok(Value::from(127.0)));
        assert_eq!(one(b"\x04"), Err(DecodeError::Unsupported("AMF0 movieclip")));
        assert_eq!(one(b"\x0e"), Err(DecodeError::Unsupported("AMF0 recordset")));
        assert!(matches!(one(b"\x09"), Err(DecodeError::Unsupported(_))));
        assert_eq!(one(b"\x12"), Err(DecodeError::UnknownMarker { version: 0, marker: 0x12 }));
        assert_eq!(one(b"\x02\0\x01\xff"), Err(DecodeError::InvalidUtf8));
        // Each avmplus value has fresh AMF3 tables.
        assert_eq!(decode_all(b"\x11\x06\x05ab\x11\x06\x00"), Err(DecodeError::BadReference(0)));
    }

    #[test]
    fn decode_advances_only_on_success() {
        let bytes = b"\x05\x01\x01\x02\0";
        let mut input = &bytes[..];
        assert_eq!(decode(&mut input), Ok(Value::Null));
        assert_eq!(decode(&mut input), Ok(Value::from(true)));
        assert_eq!(input, b"\x02\0");
        assert_eq!(decode(&mut input), Err(DecodeError::Truncated));
        assert_eq!(input, b"\x02\0");
    }

    /// A cheap stand-in for the fuzz target: corrupt known messages and check that decoding
    /// never panics and that whatever decodes survives a round trip.
    #[test]
    fn corrupted_messages_never_panic() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let originals = [FFMPEG_CONNECT.to_vec(), encode_all(&samples())];
        for _ in 0..20_000 {
            let mut bytes = originals[(next() % 2) as usize].clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            bytes.truncate(1 + (next() % bytes.len() as u64) as usize);
            if let Ok(values) = decode_all(&bytes) {
                let again = decode_all(&encode_all(&values)).unwrap();
                assert_eq!(format!("{values:?}"), format!("{again:?}"));
            }
        }
    }
}
