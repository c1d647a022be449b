//! From what a player sends (the `connect` application and the `play` stream name) to the
//! object keys to look up, following FMS and CloudFront naming (Amazon CloudFront Developer Guide:
//! "Configuring the Media Player"; Adobe Media Server: "Streaming media files"; what FFmpeg's
//! `rtmp_open` and librtmp's `RTMP_ParseURL`/`RTMP_ParsePlaypath` send).
//!
//! - The application must be `cfx/st`; extra folders (`cfx/st/videos`, as librtmp and JW
//!   Player split URLs) prefix the stream path. `cfx` alone is `cfx/st`: librtmp's
//!   `RTMP_ParseURL` (parseurl.c) keeps only the first path segment as the application when
//!   the URL has no `slist=` and the play path looks like `mp4:…`, so `rtmpdump -r
//!   rtmp://host/cfx/st -y mp4:a.mp4` connects with app `cfx`.
//! - `name` or `flv:name` → `name.flv`; `mp4:name.ext` → `name.ext`; `mp4:name` → `name.mp4`
//!   (then `.f4v`, `.m4v`, `.mov`, `.m4a`, `.3gp`, because librtmp strips those extensions);
//!   `mp3:name` → `name.mp3`; `name.mp4` (any known extension) without prefix → as is.
//! - `?query` is stripped (and kept for signed URLs), and so is a query that a Flash page
//!   escaped (`%3FExpires%3D…`, see [`sf_sign::split_stream_name`]): it never reaches the
//!   origin key. Names are taken literally, as FMS took them: `%XX` is not decoded (librtmp decodes URLs before sending; FFmpeg sends what the
//!   user typed), so an encoded `..` is just an odd file name that does not exist.

use sf_media::Format;

/// The only application CloudFront streaming distributions answer.
pub const APPLICATION: &str = "cfx/st";

/// What librtmp sends as the application for `rtmp://host/cfx/st` (see the module docs).
const CFX_ONLY: &str = "cfx";

/// Longest stream name accepted, in bytes after decoding.
const MAX_NAME_LEN: usize = 1024;

/// Extensions of the MP4 family, tried in this order after `.mp4` for an `mp4:` name
/// without extension.
const MP4_EXTENSIONS: [&str; 7] = ["mp4", "f4v", "m4v", "mov", "m4a", "3gp", "f4a"];

/// A stream name resolved to the keys it may live at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedName {
    /// Keys to try in order; the first that exists is played.
    pub candidates: Vec<(String, Format)>,
    /// The query string, without `?` (for signed URLs and logs).
    pub query: Option<String>,
    /// The stream's path below the application: folders and name, without prefix and query
    /// (what a signed URL's `Resource` names).
    pub path: String,
}

/// Why a name or application is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("application {0:?} is not {APPLICATION}")]
    WrongApplication(String),
    #[error("invalid stream name")]
    InvalidName,
}

/// Parses the `connect` application into the folders that prefix every stream path.
pub fn parse_application(app: &str) -> Result<Vec<String>, NameError> {
    let without_query = app.split('?').next().unwrap_or_default();
    let trimmed = without_query.trim_matches('/');
    if trimmed == CFX_ONLY {
        return Ok(Vec::new());
    }
    let rest = trimmed
        .strip_prefix(APPLICATION)
        .filter(|rest| rest.is_empty() || rest.starts_with('/'))
        .ok_or_else(|| NameError::WrongApplication(app.to_owned()))?;
    let mut folders = Vec::new();
    for part in rest.split('/').filter(|p| !p.is_empty()) {
        if !is_safe_component(part) {
            return Err(NameError::InvalidName);
        }
        folders.push(part.to_owned());
    }
    Ok(folders)
}

/// Resolves a `play` stream name below the application's folders.
pub fn resolve(folders: &[String], stream_name: &str) -> Result<ResolvedName, NameError> {
    let (name, query) = sf_sign::split_stream_name(stream_name);
    let (prefix, name) = match name.split_once(':') {
        Some((prefix, rest)) => (Some(prefix.to_ascii_lowercase()), rest),
        None => (None, name),
    };
    let name = name.to_owned();
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.split('/').all(is_safe_component) {
        return Err(NameError::InvalidName);
    }
    let extension = name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase());
    let extension = extension.as_deref();
    let with_ext = |ext: &str| format!("{name}.{ext}");

    let candidates: Vec<(String, Format)> = match prefix.as_deref() {
        None | Some("flv") => match extension {
            Some("flv") => vec![(name.clone(), Format::Flv)],
            Some("mp3") if prefix.is_none() => vec![(name.clone(), Format::Mp3)],
            Some(ext) if prefix.is_none() && MP4_EXTENSIONS.contains(&ext) => vec![(name.clone(), Format::Mp4)],
            _ => vec![(with_ext("flv"), Format::Flv)],
        },
        Some("mp4" | "f4v" | "mov" | "m4a" | "m4v" | "3gp" | "f4a") => match extension {
            Some(ext) if MP4_EXTENSIONS.contains(&ext) => vec![(name.clone(), Format::Mp4)],
            Some("flv") => vec![(name.clone(), Format::Flv)],
            _ => MP4_EXTENSIONS.iter().map(|ext| (with_ext(ext), Format::Mp4)).collect(),
        },
        Some("mp3") => match extension {
            Some("mp3") => vec![(name.clone(), Format::Mp3)],
            _ => vec![(with_ext("mp3"), Format::Mp3)],
        },
        // FMS names may not contain ':' other than after a known prefix.
        Some(_) => return Err(NameError::InvalidName),
    };
    let under_folders = |name: &str| {
        let mut path = folders.join("/");
        if !path.is_empty() {
            path.push('/');
        }
        path.push_str(name);
        path
    };
    let candidates = candidates.into_iter().map(|(key, format)| (under_folders(&key), format)).collect();
    Ok(ResolvedName { candidates, query, path: under_folders(&name) })
}

/// A path component that stays inside the media root: not empty, not `.` or `..`, and
/// without backslashes or control characters.
fn is_safe_component(part: &str) -> bool {
    !part.is_empty() && part != "." && part != ".." && !part.chars().any(|c| c == '\\' || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(folders: &[&str], name: &str) -> Vec<String> {
        let folders: Vec<String> = folders.iter().map(|s| s.to_string()).collect();
        resolve(&folders, name).unwrap().candidates.into_iter().map(|(k, _)| k).collect()
    }

    #[test]
    fn applications() {
        assert_eq!(parse_application("cfx/st").unwrap(), Vec::<String>::new());
        assert_eq!(parse_application("cfx/st/").unwrap(), Vec::<String>::new());
        assert_eq!(parse_application("cfx/st?token=1").unwrap(), Vec::<String>::new());
        assert_eq!(parse_application("cfx/st/videos/2024").unwrap(), vec!["videos", "2024"]);
        assert_eq!(parse_application("cfx/st/my dir").unwrap(), vec!["my dir"]);
        assert_eq!(parse_application("cfx/st/a%2e%2e").unwrap(), vec!["a%2e%2e"]);
        assert!(parse_application("vod").is_err());
        assert!(parse_application("cfx/stx").is_err());
        assert_eq!(parse_application("cfx").unwrap(), Vec::<String>::new(), "librtmp's app for cfx/st");
        assert_eq!(parse_application("cfx/").unwrap(), Vec::<String>::new());
        assert_eq!(parse_application("cfx?token=1").unwrap(), Vec::<String>::new());
        assert!(parse_application("cfx/videos").is_err());
        assert!(parse_application("cfxx").is_err());
        assert!(parse_application("cfx/st/..").is_err());
    }

    #[test]
    fn prefixes_and_extensions() {
        assert_eq!(keys(&[], "movie"), ["movie.flv"]);
        assert_eq!(keys(&[], "flv:movie"), ["movie.flv"]);
        assert_eq!(keys(&[], "movie.flv"), ["movie.flv"]);
        assert_eq!(keys(&[], "my.movie"), ["my.movie.flv"]);
        assert_eq!(keys(&[], "mp4:movie.mp4"), ["movie.mp4"]);
        assert_eq!(keys(&[], "mp4:movie.f4v"), ["movie.f4v"]);
        assert_eq!(keys(&[], "mp4:movie.m4a"), ["movie.m4a"]);
        assert_eq!(keys(&[], "mp4:movie")[..2], ["movie.mp4", "movie.f4v"]);
        assert_eq!(keys(&[], "movie.mp4"), ["movie.mp4"]);
        assert_eq!(keys(&[], "movie.mov"), ["movie.mov"]);
        assert_eq!(keys(&[], "mp3:song"), ["song.mp3"]);
        assert_eq!(keys(&[], "mp3:song.mp3"), ["song.mp3"]);
        assert_eq!(keys(&[], "song.mp3"), ["song.mp3"]);
        assert_eq!(keys(&[], "MP4:Movie.MP4"), ["Movie.MP4"]);
    }

    #[test]
    fn folders_queries_and_odd_characters() {
        assert_eq!(keys(&["videos"], "mp4:a.mp4"), ["videos/a.mp4"]);
        assert_eq!(keys(&[], "mp4:videos/a.mp4"), ["videos/a.mp4"]);
        assert_eq!(keys(&[], "mp4:my file.mp4"), ["my file.mp4"]);
        assert_eq!(keys(&[], "mp4:my%20file.mp4"), ["my%20file.mp4"], "taken literally");
        assert_eq!(keys(&[], "mp4:%2e%2e/a.mp4"), ["%2e%2e/a.mp4"], "an odd name, inside the root");
        assert_eq!(keys(&[], "mp4:vidéo.mp4"), ["vidéo.mp4"]);
        let resolved = resolve(&[], "mp4:a.mp4?Expires=1&Signature=x").unwrap();
        assert_eq!(resolved.candidates[0].0, "a.mp4");
        assert_eq!(resolved.query.as_deref(), Some("Expires=1&Signature=x"));
        assert_eq!(resolved.path, "a.mp4");
        // A query a Flash page escaped never reaches the key.
        let escaped = resolve(&["videos".into()], "mp4:a.mp4%3FExpires%3D1%26Signature%3Dx").unwrap();
        assert_eq!(escaped.candidates[0].0, "videos/a.mp4");
        assert_eq!(escaped.query.as_deref(), Some("Expires=1&Signature=x"));
        assert_eq!(escaped.path, "videos/a.mp4");
        // librtmp keeps the query after stripping the extension.
        assert_eq!(keys(&[], "mp4:a?x=1")[0], "a.mp4");
    }

    #[test]
    fn names_that_leave_the_root_are_refused() {
        for name in [
            "../secret",
            "mp4:../a.mp4",
            "mp4:/etc/passwd",
            "mp4:a/../../b.mp4",
            "mp4:a\\b.mp4",
            "mp4:a//b.mp4",
            "",
            "mp4:",
            "rtmp:x",
            "mp4:a\0.mp4",
            "mp4:./a.mp4",
        ] {
            assert_eq!(resolve(&[], name), Err(NameError::InvalidName), "{name:?}");
        }
    }
}
