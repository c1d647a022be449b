//! Bounds-checked reading shared by the AMF0 and AMF3 decoders, plus the two limits that keep
//! hostile input from costing more than it is worth: nesting depth and reference copies.
//!
//! References (AMF0 0x07, AMF3 object/string/traits references) are resolved by *replaying*:
//! a reference table remembers where a complex value started in the input, and a reference
//! decodes those bytes again. That keeps tables tiny (no clone of every object "just in case"),
//! but lets a few bytes of references copy a large value many times over — the AMF version of
//! the billion-laughs attack. Every copy is therefore charged against an allowance that grows
//! with the input actually read.

use crate::amf0::MAX_DEPTH;
use crate::{DecodeError, Value};

/// Bytes of copies any decode may make, however short its input: enough for the odd small
/// object repeated by reference.
const COPY_ALLOWANCE_BASE: usize = 64 * 1024;
/// Further bytes of copies allowed per input byte read so far.
const COPY_ALLOWANCE_PER_BYTE: usize = 64;

/// Most items any container reserves room for up front; larger ones grow as they are read.
const MAX_PREALLOCATED: usize = 1024;

/// A cursor over one decode call's input.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    /// Bytes copied so far by resolving references (see [`Reader::charge`]).
    copied: usize,
    /// How many replays are running; copies made inside one are charged by the outermost.
    replays: u32,
}

/// Where to continue after a replay; returned by [`Reader::begin_replay`].
pub(crate) struct Resume(usize);

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0, copied: 0, replays: 0 }
    }

    /// Offset of the next unread byte from the start of this decode's input.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The input not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        &self.data[self.pos..]
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest().is_empty()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.rest().first().copied()
    }

    /// The next `n` bytes. A length beyond the input is `Truncated`, never an allocation.
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let rest = self.rest();
        if n > rest.len() {
            return Err(DecodeError::Truncated);
        }
        self.pos += n;
        Ok(&rest[..n])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn f64(&mut self) -> Result<f64, DecodeError> {
        Ok(f64::from_be_bytes(self.array()?))
    }

    /// `len` bytes of UTF-8.
    pub(crate) fn utf8(&mut self, len: usize) -> Result<String, DecodeError> {
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| DecodeError::InvalidUtf8)
    }

    /// Capacity to reserve for `count` declared items: no more than the input could hold
    /// (each item takes at least one byte), so a lying count cannot allocate; and no more than
    /// a small fixed number, because every container still open up the nesting holds its
    /// reservation at once (64 levels each claiming "the rest of the input" would multiply it).
    pub(crate) fn capacity_for(&self, count: usize) -> usize {
        count.min(self.rest().len()).min(MAX_PREALLOCATED)
    }

    /// Moves the cursor back to `start` to decode a referenced value again.
    pub(crate) fn begin_replay(&mut self, start: usize) -> Resume {
        let resume = Resume(self.pos);
        self.pos = start;
        self.replays += 1;
        resume
    }

    /// Ends a replay and charges what it produced (unless an outer replay will).
    pub(crate) fn end_replay(
        &mut self,
        resume: Resume,
        replayed: Result<Value, DecodeError>,
    ) -> Result<Value, DecodeError> {
        self.pos = resume.0;
        self.replays -= 1;
        let value = replayed?;
        self.charge(footprint(&value))?;
        Ok(value)
    }

    /// Records `bytes` of data copied out of a reference table; fails once the copies outgrow
    /// what the input read so far justifies.
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), DecodeError> {
        if self.replays > 0 {
            return Ok(());
        }
        self.copied = self.copied.saturating_add(bytes);
        let allowance = COPY_ALLOWANCE_BASE.saturating_add(self.pos.saturating_mul(COPY_ALLOWANCE_PER_BYTE));
        if self.copied > allowance {
            return Err(DecodeError::ExpansionTooLarge);
        }
        Ok(())
    }
}

/// The nesting depth for the children of a container that itself sits inside `depth`
/// containers; at most [`MAX_DEPTH`] containers may nest.
pub(crate) fn enter(depth: usize) -> Result<usize, DecodeError> {
    if depth >= MAX_DEPTH {
        return Err(DecodeError::TooDeep(MAX_DEPTH));
    }
    Ok(depth + 1)
}

/// Roughly the memory a value occupies; the unit of the copy allowance.
pub(crate) fn footprint(value: &Value) -> usize {
    let pairs = |pairs: &[(String, Value)]| -> usize {
        pairs.iter().map(|(k, v)| size_of::<String>() + k.len() + footprint(v)).sum()
    };
    size_of::<Value>()
        + match value {
            Value::String(s) | Value::Xml(s) => s.len(),
            Value::ByteArray(b) => b.len(),
            Value::Object(p) | Value::EcmaArray(p) => pairs(p),
            Value::TypedObject { class_name, properties } => class_name.len() + pairs(properties),
            Value::StrictArray(items) => items.iter().map(footprint).sum(),
            Value::Number(_) | Value::Boolean(_) | Value::Null | Value::Undefined | Value::Date { .. } => 0,
        }
}

/// A reference table of complex values: where each began in the input, and whether it is
/// complete. A reference to a value still being decoded (a cycle) cannot be represented in a
/// [`Value`] tree, so it is refused like a missing one.
#[derive(Default)]
pub(crate) struct RefTable {
    entries: Vec<(usize, bool)>,
}

impl RefTable {
    /// Adds a value starting at input offset `start`; returns its slot for [`RefTable::close`].
    pub(crate) fn open(&mut self, start: usize) -> usize {
        self.entries.push((start, false));
        self.entries.len() - 1
    }

    pub(crate) fn close(&mut self, slot: usize) {
        self.entries[slot].1 = true;
    }

    /// Where the complete value with this index starts, or `BadReference`.
    pub(crate) fn start_of(&self, index: u32) -> Result<usize, DecodeError> {
        match usize::try_from(index).ok().and_then(|i| self.entries.get(i)) {
            Some(&(start, true)) => Ok(start),
            _ => Err(DecodeError::BadReference(index)),
        }
    }
}

/// A declared 32-bit length or count as a `usize` (saturating where `usize` is narrower, which
/// then fails as `Truncated`).
pub(crate) fn len(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}
