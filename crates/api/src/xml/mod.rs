//! CloudFront's REST-XML dialect (API version 2020-05-31) as a serde format, sans-IO.
//!
//! The rules, from botocore's `serialize.py` (RestXMLSerializer), `parsers.py` (RestXMLParser)
//! and the 2020-05-31 model (`botocore/data/cloudfront/2020-05-31/service-2.json`):
//! - A struct is an element whose children are its members, written in declaration order (the
//!   model's order); `None` members are left out. On input, children may come in any order,
//!   unknown ones are ignored and namespaces or prefixes do not matter.
//! - Scalars are text: booleans exactly `true`/`false`, integers in decimal (range-checked on
//!   input), wire enums as their wire strings, `sf_dist::Timestamp` as ISO 8601 with
//!   milliseconds (`2019-11-22T00:55:15.705Z`); an empty element is the empty string.
//! - A `Vec` is one of the model's list forms (see [`lists`]): mostly
//!   `<X><Quantity>n</Quantity><Items><Item/>…</Items></X>`, with `Quantity` checked against
//!   the items on input; the item element names come from one table.
//!
//! Errors on input are CloudFront's: `MissingBody`, `MalformedInput`, `InconsistentQuantities`
//! and `InvalidArgument`, each naming the member's path (`Origins.Items[1].DomainName`).

mod de;
mod lists;
mod ser;
mod time;
mod tree;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use ser::SerError;
pub use tree::{MAX_DEPTH, MAX_ELEMENTS, MAX_TEXT};

use crate::ApiError;

/// The namespace of every CloudFront 2020-05-31 document.
pub const NAMESPACE: &str = "http://cloudfront.amazonaws.com/doc/2020-05-31/";

/// `<?xml version="1.0" encoding="UTF-8"?>` and `value` as the element `root` with
/// `xmlns=`[`NAMESPACE`].
///
/// # Panics
/// Only on a bug that the tests of every response shape catch: a list member missing from the
/// table of list element names, or a type with no XML form. Use [`try_to_xml`] to get an error
/// instead.
pub fn to_xml<T: Serialize + ?Sized>(root: &str, value: &T) -> Vec<u8> {
    match ser::write_document(root, value) {
        Ok(bytes) => bytes,
        Err(e) => panic!("no CloudFront XML for <{root}>: {e}"),
    }
}

/// [`to_xml`], with a codec bug reported as a 500 `InternalError` rather than a panic.
pub fn try_to_xml<T: Serialize + ?Sized>(root: &str, value: &T) -> Result<Vec<u8>, ApiError> {
    ser::write_document(root, value).map_err(|e| ApiError::internal(format!("writing <{root}>: {e}")))
}

/// Decodes a request body as `T`.
///
/// Errors (all 400): an empty body → `MissingBody`; not well-formed XML, or elements where a
/// value belongs and the reverse → `MalformedInput`; `Quantity` ≠ the number of items →
/// `InconsistentQuantities`; a missing required member or a wrong value (`abc` for an integer,
/// `True` for a boolean, an unknown enum value) → `InvalidArgument`. Each names the path.
/// Input beyond [`MAX_DEPTH`], [`MAX_ELEMENTS`] or [`MAX_TEXT`] is `MalformedInput`.
pub fn from_xml<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(400, "MissingBody", "This operation needs an XML document in the request body."));
    }
    let root = tree::parse(body)?;
    de::from_root(&root)
}

/// CloudFront's error envelope (https://docs.aws.amazon.com/cloudfront/latest/APIReference/CommonErrors.html):
/// `<ErrorResponse xmlns=…><Error><Type>Sender|Receiver</Type><Code/><Message/></Error><RequestId/></ErrorResponse>`.
pub fn error_xml(error: &ApiError, request_id: &str) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct ErrorResponse<'a> {
        error: ErrorBody<'a>,
        request_id: &'a str,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "PascalCase")]
    struct ErrorBody<'a> {
        r#type: &'a str,
        code: &'a str,
        message: &'a str,
    }
    let envelope = ErrorResponse {
        error: ErrorBody { r#type: error.error_type(), code: error.code, message: &error.message },
        request_id,
    };
    to_xml("ErrorResponse", &envelope)
}
