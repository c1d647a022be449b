//! AMF3 decoding (and encoding of the values a server sends).
//!
//! Decoding maps AMF3 onto [`Value`]: integers and doubles become `Number`; XML and
//! XMLDocument become `Xml`; dates get time zone 0; an array with named entries becomes an
//! `EcmaArray` (named entries first, then the dense ones keyed "0", "1", …), otherwise a
//! `StrictArray`; an object becomes `Object`, or `TypedObject` when it has a class name.
//! String, object and traits references are resolved, so decoded values never share parts.
//! Externalizable objects, vectors and dictionaries are [`DecodeError::Unsupported`].

use crate::read::{self, Reader, RefTable};
use crate::{DecodeError, Value};

const UNDEFINED: u8 = 0x00;
const NULL: u8 = 0x01;
const FALSE: u8 = 0x02;
const TRUE: u8 = 0x03;
const INTEGER: u8 = 0x04;
const DOUBLE: u8 = 0x05;
const STRING: u8 = 0x06;
const XML_DOCUMENT: u8 = 0x07;
const DATE: u8 = 0x08;
const ARRAY: u8 = 0x09;
const OBJECT: u8 = 0x0A;
const XML: u8 = 0x0B;
const BYTE_ARRAY: u8 = 0x0C;
const VECTOR_INT: u8 = 0x0D;
const VECTOR_OBJECT: u8 = 0x10;
const DICTIONARY: u8 = 0x11;

/// Integers in `INT_MIN..=INT_MAX` fit the 29-bit signed integer type.
const INT_MIN: i32 = -(1 << 28);
const INT_MAX: i32 = (1 << 28) - 1;
/// U29 lengths and counts hold 28 bits once the inline/reference flag is taken.
const MAX_LEN: usize = (1 << 28) - 1;

/// Decodes one AMF3 value from the front of `input` and advances it. Each call has its own
/// reference tables (AMF3 tables are per message body; within one AMF0 body each avmplus
/// value starts fresh, as Flash writes them). On error `input` is left as it was.
pub fn decode(input: &mut &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader::new(input);
    let value = decode_nested(&mut r, 0)?;
    *input = r.rest();
    Ok(value)
}

/// Decodes one AMF3 value with fresh tables from a reader that may be inside an AMF0 value
/// (after the avmplus marker), `depth` containers deep.
pub(crate) fn decode_nested(r: &mut Reader<'_>, depth: usize) -> Result<Value, DecodeError> {
    Decoder { r, strings: Vec::new(), objects: RefTable::default(), traits: Vec::new(), replaying: false }.value(depth)
}

/// Appends the AMF3 encoding of `value` to `out`.
///
/// No reference compression: every string and object is written inline. Numbers that are
/// integral and fit 29 bits (except -0) are written as integers. Objects are dynamic (with
/// their class name if typed), ECMA arrays are arrays with only named entries, and dates lose
/// their AMF0 time zone. An empty key cannot be written (it ends the member list), so
/// properties with an empty key are left out.
///
/// # Panics
/// If a string, key, array or byte array is longer than 2^28 − 1 (bytes or items), the most
/// AMF3 can express; no RTMP message could carry it anyway.
pub fn encode(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Undefined => out.push(UNDEFINED),
        Value::Null => out.push(NULL),
        Value::Boolean(false) => out.push(FALSE),
        Value::Boolean(true) => out.push(TRUE),
        Value::Number(n) => match as_int29(*n) {
            Some(i) => {
                out.push(INTEGER);
                // Two's complement, cut to 29 bits; the decoder sign-extends it back.
                put_u29(i as u32 & 0x1FFF_FFFF, out);
            }
            None => {
                out.push(DOUBLE);
                out.extend_from_slice(&n.to_be_bytes());
            }
        },
        Value::String(s) => {
            out.push(STRING);
            put_str(s, out);
        }
        Value::Xml(s) => {
            out.push(XML);
            put_str(s, out);
        }
        Value::Date { millis, .. } => {
            out.push(DATE);
            put_u29(1, out); // inline, no other flags
            out.extend_from_slice(&millis.to_be_bytes());
        }
        Value::StrictArray(items) => {
            out.push(ARRAY);
            put_inline_len(items.len(), out);
            put_str("", out); // no named entries
            for item in items {
                encode(item, out);
            }
        }
        Value::EcmaArray(properties) => {
            out.push(ARRAY);
            put_inline_len(0, out); // no dense part
            put_members(properties, out);
        }
        Value::Object(properties) => put_object("", properties, out),
        Value::TypedObject { class_name, properties } => put_object(class_name, properties, out),
        Value::ByteArray(bytes) => {
            out.push(BYTE_ARRAY);
            put_inline_len(bytes.len(), out);
            out.extend_from_slice(bytes);
        }
    }
}

/// `n` as a 29-bit integer, if that represents it exactly (-0 does not: it would come back +0).
fn as_int29(n: f64) -> Option<i32> {
    let exact = n.fract() == 0.0 && !(n == 0.0 && n.is_sign_negative());
    (exact && (f64::from(INT_MIN)..=f64::from(INT_MAX)).contains(&n)).then_some(n as i32)
}

/// U29: 7 bits per byte with a continuation bit for up to three bytes, then 8 bits.
fn put_u29(v: u32, out: &mut Vec<u8>) {
    debug_assert!(v < 1 << 29);
    let cont = |bits: u32| (bits & 0x7F) as u8 | 0x80;
    match v {
        0..0x80 => out.push(v as u8),
        0x80..0x4000 => out.extend_from_slice(&[cont(v >> 7), (v & 0x7F) as u8]),
        0x4000..0x20_0000 => out.extend_from_slice(&[cont(v >> 14), cont(v >> 7), (v & 0x7F) as u8]),
        _ => out.extend_from_slice(&[cont(v >> 22), cont(v >> 15), cont(v >> 8), v as u8]),
    }
}

/// A U29 with the low "inline" bit set and a length or count above it.
fn put_inline_len(len: usize, out: &mut Vec<u8>) {
    assert!(len <= MAX_LEN, "AMF3 cannot encode a length of {len}");
    put_u29(((len as u32) << 1) | 1, out);
}

/// UTF-8-vr written inline.
fn put_str(s: &str, out: &mut Vec<u8>) {
    put_inline_len(s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

/// Dynamic members (name, value)*, skipping empty names, then the empty name that ends them.
fn put_members(properties: &[(String, Value)], out: &mut Vec<u8>) {
    for (key, value) in properties.iter().filter(|(k, _)| !k.is_empty()) {
        put_str(key, out);
        encode(value, out);
    }
    put_str("", out);
}

/// An object with inline traits: not externalizable, dynamic, no sealed members.
fn put_object(class_name: &str, properties: &[(String, Value)], out: &mut Vec<u8>) {
    out.push(OBJECT);
    put_u29(0b1011, out); // inline object, inline traits, dynamic, 0 sealed
    put_str(class_name, out);
    put_members(properties, out);
}

/// Traits of an AMF3 object: what its members are called and whether more follow.
#[derive(Clone)]
struct Traits {
    class_name: String,
    sealed: Vec<String>,
    dynamic: bool,
}

impl Traits {
    /// Memory a copy takes, for the copy allowance.
    fn footprint(&self) -> usize {
        let strings = 1 + self.sealed.len();
        strings * size_of::<String>() + self.class_name.len() + self.sealed.iter().map(String::len).sum::<usize>()
    }
}

struct Decoder<'r, 'a> {
    r: &'r mut Reader<'a>,
    /// Non-empty strings (values, keys, class names) in order of appearance.
    strings: Vec<String>,
    /// Where each XML, date, array, object and byte array began.
    objects: RefTable,
    traits: Vec<Traits>,
    /// True while a reference is being replayed: what it reads is in the tables already.
    replaying: bool,
}

impl Decoder<'_, '_> {
    /// One value; `depth` is the number of containers around it.
    fn value(&mut self, depth: usize) -> Result<Value, DecodeError> {
        let start = self.r.pos();
        match self.r.u8()? {
            UNDEFINED => Ok(Value::Undefined),
            NULL => Ok(Value::Null),
            FALSE => Ok(Value::Boolean(false)),
            TRUE => Ok(Value::Boolean(true)),
            INTEGER => {
                // Sign-extend from 29 bits.
                let n = ((self.u29()? << 3) as i32) >> 3;
                Ok(Value::Number(n.into()))
            }
            DOUBLE => Ok(Value::Number(self.r.f64()?)),
            STRING => Ok(Value::String(self.string()?)),
            XML_DOCUMENT | XML => self.inline_or_reference(start, depth, |d, len| Ok(Value::Xml(d.r.utf8(len)?))),
            // The rest of a date's header is unused.
            DATE => self.inline_or_reference(start, depth, |d, _| Ok(Value::Date { millis: d.r.f64()?, timezone: 0 })),
            ARRAY => self.inline_or_reference(start, depth, |d, dense| d.array(dense, depth)),
            OBJECT => self.inline_or_reference(start, depth, |d, flags| d.object(flags, depth)),
            BYTE_ARRAY => {
                self.inline_or_reference(start, depth, |d, len| Ok(Value::ByteArray(d.r.take(len)?.to_vec())))
            }
            VECTOR_INT..=VECTOR_OBJECT => Err(DecodeError::Unsupported("AMF3 vector")),
            DICTIONARY => Err(DecodeError::Unsupported("AMF3 dictionary")),
            marker => Err(DecodeError::UnknownMarker { version: 3, marker }),
        }
    }

    /// 1 to 4 bytes: three with 7 bits and a continuation flag, then one with 8 bits.
    fn u29(&mut self) -> Result<u32, DecodeError> {
        let mut v = 0u32;
        for _ in 0..3 {
            let b = self.r.u8()?;
            v = (v << 7) | u32::from(b & 0x7F);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Ok((v << 8) | u32::from(self.r.u8()?))
    }

    /// A value kept in the object table. Its U29 header's low bit says inline (`body` decodes
    /// it from the remaining 28 bits, as a usize) or reference (the rest is a table index).
    fn inline_or_reference(
        &mut self,
        start: usize,
        depth: usize,
        body: impl FnOnce(&mut Self, usize) -> Result<Value, DecodeError>,
    ) -> Result<Value, DecodeError> {
        let header = self.u29()?;
        if header & 1 == 0 {
            let start = self.objects.start_of(header >> 1)?;
            return self.replay(start, depth);
        }
        // Numbered before its members are read, as encoders do.
        let slot = (!self.replaying).then(|| self.objects.open(start));
        let value = body(self, read::len(header >> 1))?;
        if let Some(slot) = slot {
            self.objects.close(slot);
        }
        Ok(value)
    }

    /// Decodes a referenced value again from where it started.
    fn replay(&mut self, start: usize, depth: usize) -> Result<Value, DecodeError> {
        let resume = self.r.begin_replay(start);
        let outer = std::mem::replace(&mut self.replaying, true);
        let replayed = self.value(depth);
        self.replaying = outer;
        self.r.end_replay(resume, replayed)
    }

    /// UTF-8-vr: an inline string or a string-table reference.
    fn string(&mut self) -> Result<String, DecodeError> {
        let header = self.u29()?;
        if header & 1 == 0 {
            let index = header >> 1;
            let s = usize::try_from(index)
                .ok()
                .and_then(|i| self.strings.get(i))
                .ok_or(DecodeError::BadReference(index))?;
            self.r.charge(size_of::<String>() + s.len())?;
            return Ok(s.clone());
        }
        let s = self.r.utf8(read::len(header >> 1))?;
        // The empty string is never sent by reference, so it takes no table slot.
        if !s.is_empty() && !self.replaying {
            self.strings.push(s.clone());
        }
        Ok(s)
    }

    /// Dynamic members or named array entries: (name, value)* up to the empty name.
    fn members(&mut self, depth: usize, into: &mut Vec<(String, Value)>) -> Result<(), DecodeError> {
        loop {
            let key = self.string()?;
            if key.is_empty() {
                return Ok(());
            }
            let value = self.value(depth)?;
            into.push((key, value));
        }
    }

    /// Array body after the header: named entries, then `dense` values.
    fn array(&mut self, dense: usize, depth: usize) -> Result<Value, DecodeError> {
        let inner = read::enter(depth)?;
        let mut named = Vec::new();
        self.members(inner, &mut named)?;
        let mut items = Vec::with_capacity(self.r.capacity_for(dense));
        for _ in 0..dense {
            items.push(self.value(inner)?);
        }
        if named.is_empty() {
            return Ok(Value::StrictArray(items));
        }
        // A mixed array: keep the dense entries under their indexes, as ActionScript sees them.
        named.extend(items.into_iter().enumerate().map(|(i, v)| (i.to_string(), v)));
        Ok(Value::EcmaArray(named))
    }

    /// Object body after the header; `flags` are the header bits above the inline bit.
    fn object(&mut self, flags: usize, depth: usize) -> Result<Value, DecodeError> {
        let inner = read::enter(depth)?;
        let traits = if flags & 1 == 0 {
            // Traits reference: the rest is an index into the traits table.
            let index = u32::try_from(flags >> 1).unwrap_or(u32::MAX);
            let traits = self.traits.get(flags >> 1).ok_or(DecodeError::BadReference(index))?;
            self.r.charge(traits.footprint())?;
            traits.clone()
        } else if flags & 0b10 != 0 {
            // The body is in a format only the named ActionScript class knows.
            return Err(DecodeError::Unsupported("AMF3 externalizable object"));
        } else {
            let dynamic = flags & 0b100 != 0;
            let sealed_count = flags >> 3;
            let class_name = self.string()?;
            let mut sealed = Vec::with_capacity(self.r.capacity_for(sealed_count));
            for _ in 0..sealed_count {
                sealed.push(self.string()?);
            }
            let traits = Traits { class_name, sealed, dynamic };
            if !self.replaying {
                self.traits.push(traits.clone());
            }
            traits
        };
        let mut properties = Vec::with_capacity(self.r.capacity_for(traits.sealed.len()));
        for name in traits.sealed {
            let value = self.value(inner)?;
            properties.push((name, value));
        }
        if traits.dynamic {
            self.members(inner, &mut properties)?;
        }
        if traits.class_name.is_empty() {
            Ok(Value::Object(properties))
        } else {
            Ok(Value::TypedObject { class_name: traits.class_name, properties })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::amf0::MAX_DEPTH;

    fn one(bytes: &[u8]) -> Result<Value, DecodeError> {
        let mut input = bytes;
        let value = decode(&mut input)?;
        assert!(input.is_empty(), "{} bytes left over", input.len());
        Ok(value)
    }

    fn encoded(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        encode(value, &mut out);
        out
    }

    fn strs(items: &[&str]) -> Value {
        Value::StrictArray(items.iter().map(|&s| Value::from(s)).collect())
    }

    #[test]
    fn integers_are_29_bit_signed() {
        let cases: [(f64, &[u8]); 9] = [
            (0.0, b"\x04\x00"),
            (127.0, b"\x04\x7f"),
            (128.0, b"\x04\x81\x00"),
            (16383.0, b"\x04\xff\x7f"),
            (16384.0, b"\x04\x81\x80\x00"),
            (2_097_152.0, b"\x04\x80\xc0\x80\x00"),
            (268_435_455.0, b"\x04\xbf\xff\xff\xff"),
            (-1.0, b"\x04\xff\xff\xff\xff"),
            (-268_435_456.0, b"\x04\xc0\x80\x80\x00"),
        ];
        for (n, bytes) in cases {
            assert_eq!(encoded(&Value::from(n)), bytes, "{n}");
            assert_eq!(one(bytes), Ok(Value::from(n)));
        }
    }

    #[test]
    fn other_numbers_are_doubles() {
        for n in [0.5, -0.0, 268_435_456.0, -268_435_457.0, f64::NAN, f64::INFINITY, 1e300] {
            let bytes = encoded(&Value::from(n));
            assert_eq!(bytes[0], DOUBLE, "{n}");
            let Ok(Value::Number(back)) = one(&bytes) else { panic!("{n}") };
            assert_eq!(back.to_bits(), n.to_bits());
        }
    }

    #[test]
    fn known_encodings() {
        let cases: [(Value, &[u8]); 11] = [
            (Value::Undefined, b"\x00"),
            (Value::Null, b"\x01"),
            (Value::from(false), b"\x02"),
            (Value::from(true), b"\x03"),
            (Value::from("ab"), b"\x06\x05ab"),
            (Value::Xml("<x/>".into()), b"\x0b\x09<x/>"),
            (Value::Date { millis: 1.0, timezone: 0 }, b"\x08\x01\x3f\xf0\0\0\0\0\0\0"),
            (Value::ByteArray(vec![7, 8]), b"\x0c\x05\x07\x08"),
            (strs(&["a"]), b"\x09\x03\x01\x06\x03a"),
            (Value::ecma_array([("k", Value::Null)]), b"\x09\x01\x03k\x01\x01"),
            (Value::object([("k", Value::from(1.0))]), b"\x0a\x0b\x01\x03k\x04\x01\x01"),
        ];
        for (value, bytes) in cases {
            assert_eq!(encoded(&value), bytes, "{value:?}");
            assert_eq!(one(bytes), Ok(value));
        }
        let typed = Value::TypedObject { class_name: "C".into(), properties: vec![] };
        assert_eq!(encoded(&typed), b"\x0a\x0b\x03C\x01");
        assert_eq!(one(b"\x0a\x0b\x03C\x01"), Ok(typed));
    }

    fn samples() -> Vec<Value> {
        let object = Value::object([
            ("list", strs(&["x", "", "y"])),
            ("when", Value::Date { millis: 1.7e12, timezone: 0 }),
            ("n", Value::from(-3.0)),
        ]);
        vec![
            Value::from(1.5),
            Value::from("héllo"),
            Value::Xml("<a/>".into()),
            Value::ByteArray(vec![0, 255]),
            object.clone(),
            Value::StrictArray(vec![object.clone(), Value::Undefined, Value::from(300.0)]),
            Value::ecma_array([("a", object.clone()), ("b", Value::from(true))]),
            Value::TypedObject { class_name: "flex.Msg".into(), properties: vec![("o".into(), object)] },
        ]
    }

    #[test]
    fn values_round_trip_and_every_strict_prefix_is_truncated() {
        for value in samples() {
            let bytes = encoded(&value);
            assert_eq!(one(&bytes).as_ref(), Ok(&value));
            for n in 0..bytes.len() {
                assert_eq!(decode(&mut &bytes[..n]), Err(DecodeError::Truncated), "{value:?} {n}");
            }
        }
    }

    #[test]
    fn lossy_encodings() {
        // Empty keys cannot be written; an empty ECMA array is an empty array.
        let value = Value::object([("", Value::Null), ("k", Value::Null)]);
        assert_eq!(one(&encoded(&value)), Ok(Value::object([("k", Value::Null)])));
        assert_eq!(one(&encoded(&Value::EcmaArray(vec![]))), Ok(Value::StrictArray(vec![])));
        let date = Value::Date { millis: 5.0, timezone: 60 };
        assert_eq!(one(&encoded(&date)), Ok(Value::Date { millis: 5.0, timezone: 0 }));
    }

    #[test]
    fn string_references() {
        // ["ab", "", "x", ref 0, ref 1]: the empty string takes no slot.
        assert_eq!(
            one(b"\x09\x0b\x01\x06\x05ab\x06\x01\x06\x03x\x06\x00\x06\x02"),
            Ok(strs(&["ab", "", "x", "ab", "x"]))
        );
        // Keys and class names share the table with values: {k: ref 0} is {k: "k"}.
        assert_eq!(one(b"\x0a\x0b\x01\x03k\x06\x00\x01"), Ok(Value::object([("k", "k".into())])));
        assert_eq!(one(b"\x09\x05\x01\x06\x03x\x06\x02"), Err(DecodeError::BadReference(1)));
    }

    #[test]
    fn object_references() {
        // [ {a: 1}, ref 1 ]: the outer array is object 0.
        let a = Value::object([("a", Value::from(1.0))]);
        assert_eq!(
            one(b"\x09\x05\x01\x0a\x0b\x01\x03a\x04\x01\x01\x0a\x02"),
            Ok(Value::StrictArray(vec![a.clone(), a]))
        );
        // Dates, XML and byte arrays are in the same table: [date, bytes, ref 2, ref 1].
        let date = Value::Date { millis: 1.0, timezone: 0 };
        let bytes = Value::ByteArray(vec![9]);
        assert_eq!(
            one(b"\x09\x09\x01\x08\x01\x3f\xf0\0\0\0\0\0\0\x0c\x03\x09\x0c\x04\x08\x02"),
            Ok(Value::StrictArray(vec![date.clone(), bytes.clone(), bytes, date]))
        );
        // An array that contains itself is a cycle.
        assert_eq!(one(b"\x09\x03\x01\x09\x00"), Err(DecodeError::BadReference(0)));
        assert_eq!(one(b"\x09\x03\x01\x0a\x0e"), Err(DecodeError::BadReference(7)));
    }

    #[test]
    fn traits_references() {
        // [C{a: 5}, C{a: 6}] where the second object reuses the first one's traits (sealed "a").
        let typed =
            |n: f64| Value::TypedObject { class_name: "C".into(), properties: vec![("a".into(), Value::from(n))] };
        assert_eq!(
            one(b"\x09\x05\x01\x0a\x13\x03C\x03a\x04\x05\x0a\x01\x04\x06"),
            Ok(Value::StrictArray(vec![typed(5.0), typed(6.0)]))
        );
        // Sealed members come first, then dynamic ones: anonymous, sealed "a", dynamic "b".
        assert_eq!(
            one(b"\x0a\x1b\x01\x03a\x04\x01\x03b\x04\x02\x01"),
            Ok(Value::object([("a", Value::from(1.0)), ("b", Value::from(2.0))]))
        );
        assert_eq!(one(b"\x0a\x05\x04\x01"), Err(DecodeError::BadReference(1)));
    }

    #[test]
    fn mixed_arrays_become_ecma_arrays() {
        // Named "k": 1, then dense [2].
        assert_eq!(
            one(b"\x09\x03\x03k\x04\x01\x01\x04\x02"),
            Ok(Value::ecma_array([("k", Value::from(1.0)), ("0", Value::from(2.0))]))
        );
    }

    #[test]
    fn unsupported_and_unknown() {
        let unsupported = DecodeError::Unsupported;
        assert_eq!(one(b"\x0a\x07\x03C"), Err(unsupported("AMF3 externalizable object")));
        assert_eq!(one(b"\x0d\x01\x00"), Err(unsupported("AMF3 vector")));
        assert_eq!(one(b"\x10\x01\x00"), Err(unsupported("AMF3 vector")));
        assert_eq!(one(b"\x11\x01\x00"), Err(unsupported("AMF3 dictionary")));
        assert_eq!(one(b"\x12"), Err(DecodeError::UnknownMarker { version: 3, marker: 0x12 }));
        assert_eq!(one(b"\x06\x03\xff"), Err(DecodeError::InvalidUtf8));
    }

    #[test]
    fn huge_declared_lengths_fail_without_allocating() {
        let cases: [&[u8]; 5] = [
            b"\x06\xff\xff\xff\xffabc",          // string of 2^28 - 1 bytes
            b"\x0c\xff\xff\xff\xff",             // byte array
            b"\x09\xff\xff\xff\xff\x01\x01\x01", // dense array of 2^28 - 1 items
            b"\x0a\xff\xff\xff\xf3\x01\x01",     // 2^25 - 1 sealed members
            b"\x0b\xff\xff\xff\xff<",            // XML
        ];
        for bytes in cases {
            assert_eq!(one(bytes), Err(DecodeError::Truncated), "{bytes:?}");
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let arrays = |depth| [&b"\x09\x03\x01".repeat(depth)[..], b"\x01"].concat();
        assert!(one(&arrays(MAX_DEPTH)).is_ok());
        assert_eq!(one(&arrays(MAX_DEPTH + 1)), Err(DecodeError::TooDeep(MAX_DEPTH)));
        let bomb = b"\x0a\x0b\x01\x03k".repeat(1_000_000);
        assert_eq!(one(&bomb), Err(DecodeError::TooDeep(MAX_DEPTH)));
    }

    #[test]
    fn reference_bombs_are_stopped() {
        // A 60 KB string, then 100 000 one-byte references to it.
        let mut strings = b"\x09\x8c\x9a\x43\x01".to_vec(); // 100 001 dense items
        strings.extend_from_slice(&encoded(&Value::from("s".repeat(60_000))));
        strings.extend_from_slice(&b"\x06\x00".repeat(100_000));
        assert_eq!(one(&strings), Err(DecodeError::ExpansionTooLarge));

        // Traits with a 60 KB member name, reused by 100 000 three-byte objects.
        let mut traits = b"\x09\x8c\x9a\x43\x01\x0a\x13\x01".to_vec();
        traits.extend_from_slice(&encoded(&Value::from("s".repeat(60_000)))[1..]);
        traits.push(0x01);
        traits.extend_from_slice(&b"\x0a\x01\x01".repeat(100_000));
        assert_eq!(one(&traits), Err(DecodeError::ExpansionTooLarge));

        // Arrays of ten references to the previous array, eight levels deep.
        let mut chain = b"\x09\x13\x01\x09\x03\x01\x06\x03s".to_vec(); // [ [ "s" ], …
        for level in 1..9u8 {
            chain.extend_from_slice(b"\x09\x15\x01");
            chain.extend_from_slice(&[ARRAY, level << 1].repeat(10));
        }
        assert_eq!(one(&chain), Err(DecodeError::ExpansionTooLarge));
    }

    #[test]
    fn corrupted_values_never_panic() {
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let original = encoded(&Value::StrictArray(samples()));
        for _ in 0..20_000 {
            let mut bytes = original.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() % bytes.len() as u64) as usize;
                bytes[at] = next() as u8;
            }
            if let Ok(value) = decode(&mut &bytes[..]) {
                assert!(decode(&mut &encoded(&value)[..]).is_ok());
            }
        }
    }
}
