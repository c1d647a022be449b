//! The `Marker`/`MaxItems` paging of every List operation (e.g. ListDistributions,
//! https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_ListDistributions.html):
//! items in id order; `Marker` is the id of the last item of the previous page; `NextMarker`
//! is given only when the list is truncated, and is the id of the last item on this page.

use crate::error::ApiError;

/// `MaxItems` when the request has none; also the most CloudFront returns.
pub const DEFAULT_MAX_ITEMS: u32 = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The request's `Marker` (empty without one), echoed as CloudFront does.
    pub marker: String,
    pub max_items: u32,
    pub is_truncated: bool,
    /// `Some` only when truncated.
    pub next_marker: Option<String>,
    pub items: Vec<T>,
}

/// The page after `marker` of `items`, which must come in id order (as a `BTreeMap` by id
/// gives them). `max_items` is the request's string: absent or empty means
/// [`DEFAULT_MAX_ITEMS`]; otherwise an integer from 0 to 100, else 400 `InvalidArgument`
/// naming `MaxItems`. A page of `MaxItems` 0 holds nothing; if items follow it is truncated and
/// its `NextMarker` is the request's marker, so paging on loses nothing.
pub fn page<'a, T>(
    items: impl Iterator<Item = (&'a str, T)>,
    marker: Option<&str>,
    max_items: Option<&str>,
) -> Result<Page<T>, ApiError> {
    let max = parse_max_items(max_items)?;
    let marker = marker.unwrap_or_default();
    let mut after = items.skip_while(|(id, _)| !marker.is_empty() && *id <= marker).peekable();
    let mut page = Vec::new();
    let mut last_id = marker;
    while page.len() < max as usize {
        let Some((id, item)) = after.next() else { break };
        last_id = id;
        page.push(item);
    }
    let is_truncated = after.peek().is_some();
    Ok(Page {
        marker: marker.to_owned(),
        max_items: max,
        is_truncated,
        next_marker: is_truncated.then(|| last_id.to_owned()),
        items: page,
    })
}

fn parse_max_items(max_items: Option<&str>) -> Result<u32, ApiError> {
    let Some(text) = max_items.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(DEFAULT_MAX_ITEMS);
    };
    match text.parse::<u32>() {
        Ok(max) if max <= DEFAULT_MAX_ITEMS => Ok(max),
        _ => Err(ApiError::invalid_argument(
            "MaxItems",
            format!(
                "{text:?} is not an integer from 0 to {DEFAULT_MAX_ITEMS} (CloudFront returns at most 100 items a page)"
            ),
        )),
    }
}
