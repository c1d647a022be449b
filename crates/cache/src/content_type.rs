//! Content types of files in a local origin, by extension (a remote origin says its own).
//! The table covers what a player page and its media need; anything else is
//! `application/octet-stream`, which browsers download rather than guess.

/// The `Content-Type` for a file named `name` (a path or key; only the extension counts).
pub fn for_name(name: &str) -> &'static str {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let Some((_, extension)) = file.rsplit_once('.') else {
        return DEFAULT;
    };
    let extension = extension.to_ascii_lowercase();
    TABLE.iter().find(|(ext, _)| *ext == extension).map_or(DEFAULT, |(_, content_type)| content_type)
}

const DEFAULT: &str = "application/octet-stream";

/// Extensions and their types, per IANA's media type registry and the WHATWG MIME Sniffing
/// standard's usual mappings.
const TABLE: &[(&str, &str)] = &[
    ("html", "text/html"),
    ("htm", "text/html"),
    ("css", "text/css"),
    ("js", "text/javascript"),
    ("mjs", "text/javascript"),
    ("json", "application/json"),
    ("xml", "application/xml"),
    ("txt", "text/plain"),
    ("csv", "text/csv"),
    ("vtt", "text/vtt"),
    ("srt", "application/x-subrip"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("ico", "image/x-icon"),
    ("woff", "font/woff"),
    ("woff2", "font/woff2"),
    ("ttf", "font/ttf"),
    ("otf", "font/otf"),
    ("swf", "application/x-shockwave-flash"),
    ("wasm", "application/wasm"),
    ("pdf", "application/pdf"),
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("f4v", "video/mp4"),
    ("mov", "video/quicktime"),
    ("webm", "video/webm"),
    ("flv", "video/x-flv"),
    ("mp3", "audio/mpeg"),
    ("m4a", "audio/mp4"),
    ("f4a", "audio/mp4"),
    ("aac", "audio/aac"),
    ("ogg", "audio/ogg"),
    ("m3u8", "application/vnd.apple.mpegurl"),
    ("ts", "video/mp2t"),
    ("mpd", "application/dash+xml"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_extension_case_insensitive_with_a_default() {
        assert_eq!(for_name("/srv/www/index.HTML"), "text/html");
        assert_eq!(for_name("video/clip.mp4"), "video/mp4");
        assert_eq!(for_name("player.swf"), "application/x-shockwave-flash");
        assert_eq!(for_name("a.dir/README"), "application/octet-stream");
        assert_eq!(for_name("archive.unknown"), "application/octet-stream");
    }
}
