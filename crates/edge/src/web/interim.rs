//! Stand-ins for what `sf-web` (W1) and sf-cache's richer `ObjectMeta` (W2) will provide, kept
//! as small as the serving path needs until they land. Every item here is replaced by theirs.

use std::time::SystemTime;

use sf_cache::ObjectMeta;
use sf_dist::{DefaultCacheBehavior, DistributionConfig, Method};

// W1: sf_web::pattern::path_matches.
/// CloudFront's path patterns: `*` any run of characters (including `/`), `?` one character,
/// case-sensitive, the leading `/` optional.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.strip_prefix('/').unwrap_or(pattern).as_bytes();
    let path = path.strip_prefix('/').unwrap_or(path).as_bytes();
    // Iterative wildcard matching with one backtrack point (linear in practice).
    let (mut p, mut s, mut star, mut mark) = (0, 0, None, 0);
    while s < path.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == path[s]) {
            p += 1;
            s += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some(p);
            mark = s;
            p += 1;
        } else if let Some(at) = star {
            p = at + 1;
            mark += 1;
            s = mark;
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

// W1: sf_web::pattern::select_behavior.
/// The first cache behavior whose pattern matches `path`, else the default one.
pub fn select_behavior<'a>(config: &'a DistributionConfig, path: &str) -> &'a DefaultCacheBehavior {
    config
        .cache_behaviors
        .iter()
        .find(|b| path_matches(&b.path_pattern, path))
        .map_or(&config.default_cache_behavior, |b| &b.behavior)
}

/// The methods a behavior allows (GET and HEAD when it lists none).
pub fn allows(behavior: &DefaultCacheBehavior, method: Method) -> bool {
    match &behavior.allowed_methods {
        Some(allowed) => allowed.items.contains(&method),
        None => matches!(method, Method::Get | Method::Head),
    }
}

// W1: sf_web::range.
/// A `Range` header against an object of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    Full,
    /// `start..=end`.
    Single(u64, u64),
    Unsatisfiable,
}

/// Single ranges only (`a-b`, `a-`, `-n`); anything else is served whole.
pub fn parse_range(header: Option<&str>, size: u64) -> Range {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Range::Full };
    if spec.contains(',') {
        return Range::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Range::Full };
    let (first, last) = (first.trim(), last.trim());
    let parsed = if first.is_empty() {
        match last.parse::<u64>() {
            Ok(0) => return Range::Unsatisfiable,
            Ok(n) => (size.saturating_sub(n), size.saturating_sub(1)),
            Err(_) => return Range::Full,
        }
    } else {
        let Ok(start) = first.parse::<u64>() else { return Range::Full };
        let end = if last.is_empty() {
            u64::MAX
        } else {
            match last.parse::<u64>() {
                Ok(end) if end >= start => end,
                _ => return Range::Full,
            }
        };
        (start, end)
    };
    if size == 0 || parsed.0 >= size {
        return Range::Unsatisfiable;
    }
    Range::Single(parsed.0, parsed.1.min(size - 1))
}

// W2: ObjectMeta.etag.
/// The object's ETag as the origin sent it (S3's versions are its ETags).
pub fn etag(meta: &ObjectMeta) -> Option<String> {
    meta.version.starts_with('"').then(|| meta.version.clone())
}

// W2: ObjectMeta.last_modified.
pub fn last_modified(_meta: &ObjectMeta) -> Option<SystemTime> {
    None
}

// W2: ObjectMeta.content_type.
pub fn content_type(_meta: &ObjectMeta, key: &str) -> String {
    let extension = key.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "js" => "application/javascript",
        "json" => "application/json",
        "txt" => "text/plain",
        "xml" => "application/xml",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
    .to_owned()
}

// W1: sf_web::conditional.
/// Whether `If-None-Match` names `etag` (weak comparison, `*`, lists).
pub fn none_match(header: Option<&str>, etag: Option<&str>) -> bool {
    let (Some(header), Some(etag)) = (header, etag) else { return false };
    let strip = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    header.split(',').any(|tag| tag.trim() == "*" || strip(tag) == strip(etag))
}
