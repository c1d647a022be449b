//! The serde `Serializer` that writes CloudFront's REST-XML: one element per struct member, in
//! declaration order (= model order), `None` left out, lists in the wrapper form the model gives
//! them (see [`super::lists`]). Text goes through quick-xml's `Writer`, which escapes it.

use std::borrow::Cow;
use std::fmt;

use quick_xml::Writer;
use quick_xml::escape::escape;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use serde::ser::{self, Impossible, Serialize};

use super::NAMESPACE;
use super::lists::{ListForm, list_spec};

/// Only a bug can make serialising fail: a list missing from the table of [`super::lists`], or
/// a Rust type the model has no XML for (maps, floats, tuples…).
#[derive(Debug)]
pub struct SerError(String);

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerError(msg.to_string())
    }
}

type Out = Writer<Vec<u8>>;

/// `<?xml …?>` and `value` as the root element `root` carrying the CloudFront namespace.
pub(crate) fn write_document<T: Serialize + ?Sized>(root: &str, value: &T) -> Result<Vec<u8>, SerError> {
    let mut out = Writer::new(Vec::with_capacity(1024));
    out.get_mut().extend_from_slice(br#"<?xml version="1.0" encoding="UTF-8"?>"#);
    value.serialize(ValueSer { out: &mut out, name: root, parent: "", root: true, as_time: false })?;
    Ok(out.into_inner())
}

fn write(out: &mut Out, event: Event<'_>) -> Result<(), SerError> {
    // Writing into a Vec cannot fail.
    out.write_event(event).map_err(|e| SerError(format!("writing XML: {e}")))
}

fn start(out: &mut Out, name: &str) -> Result<(), SerError> {
    write(out, Event::Start(BytesStart::new(name)))
}

fn end(out: &mut Out, name: &str) -> Result<(), SerError> {
    write(out, Event::End(BytesEnd::new(name)))
}

fn text_element(out: &mut Out, name: &str, text: &str) -> Result<(), SerError> {
    start(out, name)?;
    if !text.is_empty() {
        // quick-xml escapes `<>&'"`; a carriage return must be a reference too, or a reader
        // normalises it to a line feed (XML 1.0 §2.11).
        let escaped = escape(text);
        let escaped = if escaped.contains('\r') { Cow::Owned(escaped.replace('\r', "&#13;")) } else { escaped };
        write(out, Event::Text(BytesText::from_escaped(escaped)))?;
    }
    end(out, name)
}

/// Writes one value as the element `name`, a member of the struct `parent` (serde's name for
/// it), which is what the list table is keyed by.
struct ValueSer<'w, 'n> {
    out: &'w mut Out,
    name: &'n str,
    parent: &'n str,
    /// The document's root: carries `xmlns`.
    root: bool,
    /// Inside `sf_dist::Timestamp`: the u64 is milliseconds, written as ISO 8601.
    as_time: bool,
}

impl ValueSer<'_, '_> {
    fn text(self, text: &str) -> Result<(), SerError> {
        text_element(self.out, self.name, text)
    }

    fn unsupported(&self, what: &str) -> SerError {
        SerError(format!("{}.{}: {what} has no CloudFront XML form", self.parent, self.name))
    }
}

macro_rules! integers {
    ($($method:ident: $ty:ty),*) => {$(
        fn $method(self, v: $ty) -> Result<(), SerError> {
            self.text(&v.to_string())
        }
    )*};
}

impl<'w, 'n> ser::Serializer for ValueSer<'w, 'n> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = ListSer<'w, 'n>;
    type SerializeTuple = Impossible<(), SerError>;
    type SerializeTupleStruct = Impossible<(), SerError>;
    type SerializeTupleVariant = Impossible<(), SerError>;
    type SerializeMap = Impossible<(), SerError>;
    type SerializeStruct = StructSer<'w, 'n>;
    type SerializeStructVariant = Impossible<(), SerError>;

    fn serialize_bool(self, v: bool) -> Result<(), SerError> {
        self.text(if v { "true" } else { "false" })
    }

    integers!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
              serialize_u8: u8, serialize_u16: u16, serialize_u32: u32);

    fn serialize_u64(self, v: u64) -> Result<(), SerError> {
        if self.as_time {
            return self.text(&sf_dist::Timestamp(v).to_iso8601());
        }
        self.text(&v.to_string())
    }

    fn serialize_f32(self, _: f32) -> Result<(), SerError> {
        Err(self.unsupported("a float"))
    }

    fn serialize_f64(self, _: f64) -> Result<(), SerError> {
        Err(self.unsupported("a float"))
    }

    fn serialize_char(self, v: char) -> Result<(), SerError> {
        self.text(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), SerError> {
        self.text(v)
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), SerError> {
        Err(self.unsupported("a byte string"))
    }

    fn serialize_none(self) -> Result<(), SerError> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), SerError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), SerError> {
        Err(self.unsupported("a unit"))
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), SerError> {
        Err(self.unsupported("a unit struct"))
    }

    /// Wire enums: the variant's serde name is its wire spelling.
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<(), SerError> {
        self.text(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<(), SerError> {
        let as_time = name == "Timestamp";
        value.serialize(ValueSer { as_time, ..self })
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), SerError> {
        Err(self.unsupported("an enum with data"))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<ListSer<'w, 'n>, SerError> {
        let spec = list_spec(self.parent, self.name).ok_or_else(|| {
            SerError(format!("{}.{} is a list missing from the table in xml/lists.rs", self.parent, self.name))
        })?;
        let len = len.ok_or_else(|| self.unsupported("a list of unknown length"))?;
        let out = self.out;
        match spec.form {
            ListForm::Wrapped => {
                start(out, self.name)?;
                text_element(out, "Quantity", &len.to_string())?;
            }
            ListForm::CountedItems => text_element(out, "Quantity", &len.to_string())?,
            ListForm::Bare => start(out, self.name)?,
        }
        let items_open = spec.form != ListForm::Bare && len > 0;
        if items_open {
            start(out, "Items")?;
        }
        Ok(ListSer { out, name: self.name, item: spec.item, form: spec.form, items_open, expected: len, written: 0 })
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, SerError> {
        Err(self.unsupported("a tuple"))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, SerError> {
        Err(self.unsupported("a tuple struct"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, SerError> {
        Err(self.unsupported("an enum with data"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, SerError> {
        Err(self.unsupported("a map"))
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<StructSer<'w, 'n>, SerError> {
        let mut element = BytesStart::new(self.name);
        if self.root {
            element.push_attribute(("xmlns", NAMESPACE));
        }
        write(self.out, Event::Start(element))?;
        Ok(StructSer { out: self.out, name: self.name, struct_name: name })
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, SerError> {
        Err(self.unsupported("an enum with data"))
    }
}

/// The members of a struct, each an element named after it.
pub(crate) struct StructSer<'w, 'n> {
    out: &'w mut Out,
    name: &'n str,
    struct_name: &'static str,
}

impl ser::SerializeStruct for StructSer<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), SerError> {
        value.serialize(ValueSer { out: self.out, name: key, parent: self.struct_name, root: false, as_time: false })
    }

    fn end(self) -> Result<(), SerError> {
        end(self.out, self.name)
    }
}

/// The items of a list, each an element named `item`, and the closing tags of its wrapper.
pub(crate) struct ListSer<'w, 'n> {
    out: &'w mut Out,
    name: &'n str,
    item: &'static str,
    form: ListForm,
    items_open: bool,
    expected: usize,
    written: usize,
}

impl ser::SerializeSeq for ListSer<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), SerError> {
        self.written += 1;
        // An item is no struct member: a list of lists does not occur in the model.
        value.serialize(ValueSer { out: self.out, name: self.item, parent: self.item, root: false, as_time: false })
    }

    fn end(self) -> Result<(), SerError> {
        if self.written != self.expected {
            return Err(SerError(format!(
                "{}: {} items announced, {} written",
                self.name, self.expected, self.written
            )));
        }
        if self.items_open {
            end(self.out, "Items")?;
        }
        match self.form {
            ListForm::Wrapped | ListForm::Bare => end(self.out, self.name),
            ListForm::CountedItems => Ok(()),
        }
    }
}
