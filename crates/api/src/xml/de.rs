//! The serde `Deserializer` over the element tree of a request body, driven by the Rust type:
//! the type asks for a bool, an integer, a struct or a list, and the element is read as that.
//!
//! Lenient where botocore's own parser is (`botocore/parsers.py` RestXMLParser): children in any
//! order, unknown children ignored, list items whatever their tag names, an absent list empty.
//! Strict where CloudFront is: `true`/`false` only, integers in range, `Quantity` equal to the
//! number of items, required members present. Every error names the member's path
//! (`Origins.Items[1].DomainName`).

use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, U64Deserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};

use super::lists::{ListForm, list_spec};
use super::time::parse_iso8601;
use super::tree::{Element, malformed};
use crate::ApiError;

/// An [`ApiError`], and whether it already says where (serde's own errors do not).
#[derive(Debug)]
pub(crate) struct DeError {
    pub error: ApiError,
    located: bool,
}

impl DeError {
    fn at(error: ApiError) -> DeError {
        DeError { error, located: true }
    }

    /// Prefixes the path if the error does not carry one yet.
    fn locate(mut self, path: &str) -> DeError {
        if !self.located {
            self.error.message = format!("{}: {}", display_path(path), self.error.message);
            self.located = true;
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError { error: ApiError::new(400, "InvalidArgument", msg.to_string()), located: false }
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "the root element" } else { path }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() { member.to_owned() } else { format!("{path}.{member}") }
}

fn invalid(path: &str, why: impl fmt::Display) -> DeError {
    DeError::at(ApiError::invalid_argument(display_path(path), why))
}

/// A codec bug, not the client's: a list missing from the table, a type with no XML form.
fn internal(path: &str, why: impl fmt::Display) -> DeError {
    DeError::at(ApiError::internal(format!("{}: {why}", display_path(path))))
}

/// Reads the document's root element as `T`'s top-level struct.
pub(crate) fn from_root<'de, T: de::Deserialize<'de>>(root: &'de Element) -> Result<T, ApiError> {
    T::deserialize(ValueDe { element: Some(root), owner: None, path: String::new() }).map_err(|e| e.error)
}

/// The struct a member belongs to: lists find their spec and their `Quantity` through it.
#[derive(Clone, Copy)]
struct Owner<'de> {
    element: &'de Element,
    struct_name: &'static str,
    member: &'static str,
}

/// One value: a member of a struct (maybe absent) or an item of a list.
struct ValueDe<'de> {
    element: Option<&'de Element>,
    owner: Option<Owner<'de>>,
    path: String,
}

impl<'de> ValueDe<'de> {
    fn present(&self) -> Result<&'de Element, DeError> {
        self.element.ok_or_else(|| invalid(&self.path, "a required member is missing"))
    }

    /// The text of a scalar element.
    fn text(&self) -> Result<&'de str, DeError> {
        let element = self.present()?;
        if !element.children.is_empty() {
            return Err(DeError::at(malformed(format!(
                "{}: expected a value, found child elements",
                display_path(&self.path)
            ))));
        }
        Ok(&element.text)
    }

    /// The text of a number or boolean: surrounding white space does not count.
    fn token(&self) -> Result<&'de str, DeError> {
        Ok(self.text()?.trim())
    }

    fn integer<N: std::str::FromStr>(&self, kind: &str) -> Result<N, DeError> {
        let token = self.token()?;
        token.parse().map_err(|_| {
            if !token.is_empty() && token.trim_start_matches(['-', '+']).bytes().all(|b| b.is_ascii_digit()) {
                invalid(&self.path, format!("{token} is out of range for {kind}"))
            } else {
                invalid(&self.path, format!("{token:?} is not {kind}"))
            }
        })
    }

    fn list<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let owner = self.owner.ok_or_else(|| internal(&self.path, "a list that is no struct member"))?;
        let spec = list_spec(owner.struct_name, owner.member).ok_or_else(|| {
            internal(&self.path, format!("{}.{} is missing from xml/lists.rs", owner.struct_name, owner.member))
        })?;
        // The element holding Quantity (none for a bare list), the Items element, and the
        // paths they are reported under.
        let (container, items, quantity_path, items_path) = match spec.form {
            ListForm::Wrapped => (
                self.element,
                self.element.and_then(|wrapper| wrapper.child("Items")),
                join(&self.path, "Quantity"),
                join(&self.path, "Items"),
            ),
            ListForm::CountedItems => {
                let owner_path = self.path.strip_suffix("Items").unwrap_or("").trim_end_matches('.');
                (Some(owner.element), self.element, join(owner_path, "Quantity"), self.path.clone())
            }
            ListForm::Bare => (None, self.element, String::new(), self.path.clone()),
        };
        let children: &'de [Element] = items.map_or(&[], |items| &items.children);
        if let Some(container) = container {
            let quantity = ValueDe { element: container.child("Quantity"), owner: None, path: quantity_path };
            match quantity.element {
                Some(_) => {
                    let n: i64 = quantity.integer("an integer")?;
                    sf_dist::check_quantity(&quantity.path, n, children.len()).map_err(|mut e| {
                        e.field = quantity.path.clone();
                        DeError::at(e.into())
                    })?;
                }
                // `<Aliases/>` or no Quantity and no Items: an empty list.
                None if items.is_some() => return Err(invalid(&quantity.path, "a required member is missing")),
                None => {}
            }
        }
        visitor.visit_seq(ItemsAccess { items: children.iter().enumerate(), path: items_path })
    }
}

macro_rules! integers {
    ($($method:ident: $ty:ty => $visit:ident, $kind:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let n: $ty = self.integer($kind)?;
            visitor.$visit(n).map_err(|e: DeError| e.locate(&self.path))
        }
    )*};
}

macro_rules! unsupported {
    ($($method:ident($($arg:ty),*): $what:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, $(_: $arg,)* _: V) -> Result<V::Value, DeError> {
            Err(internal(&self.path, concat!($what, " has no CloudFront XML form")))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = DeError;

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let value = match self.token()? {
            "true" => true,
            "false" => false,
            other => return Err(invalid(&self.path, format!("{other:?} is not a boolean (true or false)"))),
        };
        visitor.visit_bool(value).map_err(|e: DeError| e.locate(&self.path))
    }

    integers! {
        deserialize_i8: i8 => visit_i8, "a small integer";
        deserialize_i16: i16 => visit_i16, "a small integer";
        deserialize_i32: i32 => visit_i32, "an integer";
        deserialize_i64: i64 => visit_i64, "a long integer";
        deserialize_u8: u8 => visit_u8, "a small unsigned integer";
        deserialize_u16: u16 => visit_u16, "a small unsigned integer";
        deserialize_u32: u32 => visit_u32, "an unsigned integer";
        deserialize_u64: u64 => visit_u64, "an unsigned long integer";
    }

    unsupported! {
        deserialize_any(): "an untyped value";
        deserialize_f32(): "a float";
        deserialize_f64(): "a float";
        deserialize_char(): "a character";
        deserialize_bytes(): "a byte string";
        deserialize_byte_buf(): "a byte string";
        deserialize_map(): "a map";
        deserialize_identifier(): "an identifier";
        deserialize_tuple(usize): "a tuple";
        deserialize_tuple_struct(&'static str, usize): "a tuple struct";
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let text = self.text()?;
        visitor.visit_borrowed_str(text).map_err(|e: DeError| e.locate(&self.path))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.element {
            None => visitor.visit_none(),
            Some(_) => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }

    /// `sf_dist::Timestamp` is an ISO 8601 date-time on the wire; other newtypes are their
    /// content.
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, DeError> {
        if name != "Timestamp" {
            return visitor.visit_newtype_struct(self);
        }
        let text = self.token()?;
        let millis =
            parse_iso8601(text).ok_or_else(|| invalid(&self.path, format!("{text:?} is not an ISO 8601 date-time")))?;
        let inner: U64Deserializer<DeError> = millis.into_deserializer();
        visitor.visit_newtype_struct(inner).map_err(|e: DeError| e.locate(&self.path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.list(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let element = self.present()?;
        if element.children.is_empty() && !element.has_only_whitespace_text() {
            return Err(DeError::at(malformed(format!(
                "{}: expected child elements, found text",
                display_path(&self.path)
            ))));
        }
        let path = self.path;
        visitor
            .visit_map(MembersAccess { element, struct_name: name, fields: fields.iter(), current: "", path: &path })
            .map_err(|e: DeError| e.locate(&path))
    }

    /// Wire enums: unit variants named after their wire spelling.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let text = self.token()?;
        if !variants.contains(&text) {
            return Err(invalid(
                &self.path,
                format!("{text:?} is not one of the allowed values: {}", variants.join(", ")),
            ));
        }
        let variant: BorrowedStrDeserializer<'de, DeError> = BorrowedStrDeserializer::new(text);
        visitor.visit_enum(variant).map_err(|e: DeError| e.locate(&self.path))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

/// A struct's members, offered in declaration order whether present or not: an absent member
/// reads as `None`, as an empty list, or as "a required member is missing". Children the type
/// does not declare are never offered, so they are ignored.
struct MembersAccess<'de, 'p> {
    element: &'de Element,
    struct_name: &'static str,
    fields: std::slice::Iter<'static, &'static str>,
    current: &'static str,
    path: &'p str,
}

impl<'de> de::MapAccess<'de> for MembersAccess<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, DeError> {
        let Some(&field) = self.fields.next() else { return Ok(None) };
        self.current = field;
        seed.deserialize(BorrowedStrDeserializer::new(field)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, DeError> {
        let member = self.current;
        seed.deserialize(ValueDe {
            element: self.element.child(member),
            owner: Some(Owner { element: self.element, struct_name: self.struct_name, member }),
            path: join(self.path, member),
        })
    }
}

/// The items of a list, whatever their element names (botocore does not check them either).
struct ItemsAccess<'de> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Element>>,
    path: String,
}

impl<'de> de::SeqAccess<'de> for ItemsAccess<'de> {
    type Error = DeError;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>, DeError> {
        let Some((i, item)) = self.items.next() else { return Ok(None) };
        seed.deserialize(ValueDe { element: Some(item), owner: None, path: format!("{}[{i}]", self.path) }).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}
