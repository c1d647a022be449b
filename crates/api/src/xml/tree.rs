//! A request body read into a small element tree with quick-xml's `Reader`, bounded before
//! anything is allocated: nesting depth, number of elements and length of each text.
//!
//! Namespaces and prefixes are dropped (an element is known by its local name), attributes are
//! ignored, as botocore's RestXMLParser does (`botocore/parsers.py`, which strips `{ns}` from
//! every tag). A DOCTYPE is refused: CloudFront's documents have none, and refusing it keeps
//! entity declarations out.

use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use crate::ApiError;

/// Deeper than any CloudFront shape (`DistributionConfig` nests 8 levels).
pub const MAX_DEPTH: usize = 32;
/// Far more than a config can hold within CloudFront's quotas.
pub const MAX_ELEMENTS: usize = 100_000;
/// The longest text of one element; the longest legitimate values are PEM public keys
/// (`EncodedKey`, under 1 KiB for RSA-2048) and invalidation paths (at most 4,000 characters).
pub const MAX_TEXT: usize = 64 * 1024;

#[derive(Debug, Default)]
pub(crate) struct Element {
    /// The local name, without any namespace prefix.
    pub name: String,
    /// All character data directly inside, entities resolved.
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Text with no child elements, or only white space between children.
    pub fn has_only_whitespace_text(&self) -> bool {
        self.text.trim().is_empty()
    }
}

pub(crate) fn malformed(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "MalformedInput", message)
}

/// The root element of `body`, which must be one well-formed UTF-8 XML document.
pub(crate) fn parse(body: &[u8]) -> Result<Element, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|e| malformed(format!("the body is not UTF-8 (byte {})", e.valid_up_to())))?;
    let mut reader = Reader::from_str(text);
    let mut open: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| malformed(format!("the XML is not well-formed at byte {}: {e}", reader.error_position())))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(malformed(format!("a second root element at byte {position}")));
            }
            Event::Start(start) => {
                elements += 1;
                open.push(new_element(&start, open.len(), elements, position)?);
            }
            Event::Empty(start) => {
                elements += 1;
                let element = new_element(&start, open.len(), elements, position)?;
                close(element, &mut open, &mut root);
            }
            Event::End(_) => {
                // quick-xml checks that the end tag matches the open one.
                let element =
                    open.pop().ok_or_else(|| malformed(format!("an end tag with no start at byte {position}")))?;
                close(element, &mut open, &mut root);
            }
            Event::Text(t) => {
                let t = t.xml10_content().map_err(|e| malformed(format!("bad text at byte {position}: {e}")))?;
                add_text(&mut open, &t, position)?;
            }
            Event::CData(t) => {
                let t = t.xml10_content().map_err(|e| malformed(format!("bad CDATA at byte {position}: {e}")))?;
                add_text(&mut open, &t, position)?;
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| malformed(format!("bad entity at byte {position}: {e}")))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| malformed(format!("unknown entity &{name}; at byte {position}")))?
                            .to_owned()
                    }
                    Err(e) => return Err(malformed(format!("bad character reference at byte {position}: {e}"))),
                };
                add_text(&mut open, &resolved, position)?;
            }
            Event::DocType(_) => return Err(malformed("a DOCTYPE is not accepted")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(unclosed) = open.last() {
        return Err(malformed(format!("the document ends inside <{}>", unclosed.name)));
    }
    root.ok_or_else(|| malformed("the body holds no XML element"))
}

fn new_element(start: &BytesStart<'_>, depth: usize, count: usize, position: u64) -> Result<Element, ApiError> {
    if depth >= MAX_DEPTH {
        return Err(malformed(format!("elements nest deeper than {MAX_DEPTH} levels (byte {position})")));
    }
    if count > MAX_ELEMENTS {
        return Err(malformed(format!("more than {MAX_ELEMENTS} elements")));
    }
    let name = std::str::from_utf8(start.local_name().into_inner())
        .map_err(|_| malformed(format!("an element name is not UTF-8 at byte {position}")))?;
    Ok(Element { name: name.to_owned(), ..Element::default() })
}

/// Attaches a finished element to its parent, or makes it the root.
fn close(element: Element, open: &mut [Element], root: &mut Option<Element>) {
    match open.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

fn add_text(open: &mut [Element], text: &str, position: u64) -> Result<(), ApiError> {
    let Some(current) = open.last_mut() else {
        // Outside the root only white space may appear.
        return if text.trim().is_empty() {
            Ok(())
        } else {
            Err(malformed(format!("text outside the root element at byte {position}")))
        };
    };
    if current.text.len() + text.len() > MAX_TEXT {
        return Err(malformed(format!("the text of <{}> is longer than {MAX_TEXT} bytes", current.name)));
    }
    current.text.push_str(text);
    Ok(())
}
