//! The text of the playlists (RFC 8216 §4): a VOD media playlist with accurate durations,
//! and a master playlist naming it with its bandwidth, resolution, frame rate and codecs.
//!
//! Every URI in them may carry a query (the caller's: a version pin such as `v=…`, signing
//! parameters), so that a player holding one playlist only ever asks for segments of the
//! object version that playlist describes.

use std::fmt::Write as _;

use crate::segment::Span;

/// `seg-<n>.ts`, the name of segment `n` (counted from 0, like the media sequence).
pub fn segment_name(n: usize) -> String {
    format!("seg-{n}.ts")
}

/// The `EXTINF` value: seconds with three decimals (exact, from whole milliseconds).
fn seconds(ms: u64) -> String {
    format!("{}.{:03}", ms / 1000, ms % 1000)
}

/// `EXT-X-TARGETDURATION`: every `EXTINF` rounded to the nearest integer must be at most it
/// (RFC 8216 §4.3.3.1); at least 1.
pub fn target_duration(spans: &[Span]) -> u64 {
    spans.iter().map(|s| (s.duration_ms + 500) / 1000).max().unwrap_or(0).max(1)
}

/// `uri` with `query` added (after `?`, or `&` when `uri` has a query already), when there is one.
pub fn with_query(uri: &str, query: &str) -> String {
    if query.is_empty() {
        return uri.to_owned();
    }
    let separator = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{separator}{query}")
}

/// The media playlist of `spans`; every segment URI carries `query` (see [`with_query`]).
pub fn media(spans: &[Span], query: &str) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    let _ = writeln!(out, "#EXT-X-TARGETDURATION:{}", target_duration(spans));
    out.push_str("#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n");
    for (n, span) in spans.iter().enumerate() {
        let _ = writeln!(out, "#EXTINF:{},\n{}", seconds(span.duration_ms), with_query(&segment_name(n), query));
    }
    out.push_str("#EXT-X-ENDLIST\n");
    out
}

/// What the master playlist says about the one variant.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Peak segment bit rate, bits per second (RFC 8216 §4.3.4.2).
    pub bandwidth: u64,
    pub resolution: Option<(u32, u32)>,
    pub frame_rate: Option<f64>,
    pub codecs: String,
}

/// The master playlist of the one variant, whose media playlist is at `media_playlist` (a
/// URI relative to the master's, with any query it needs).
pub fn master(variant: &Variant, media_playlist: &str) -> String {
    let mut out = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
    let _ = write!(out, "#EXT-X-STREAM-INF:BANDWIDTH={}", variant.bandwidth.max(1));
    if let Some((w, h)) = variant.resolution {
        let _ = write!(out, ",RESOLUTION={w}x{h}");
    }
    if let Some(fps) = variant.frame_rate {
        let _ = write!(out, ",FRAME-RATE={fps:.3}");
    }
    let _ = writeln!(out, ",CODECS=\"{}\"\n{media_playlist}", variant.codecs);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(duration_ms: u64) -> Span {
        Span { first: 0, end: 1, start_ms: 0, duration_ms }
    }

    #[test]
    fn media_playlist_follows_rfc_8216() {
        let spans = [span(6000), span(6499), span(1234)];
        let text = media(&spans, "");
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6.000,\nseg-0.ts\n#EXTINF:6.499,\nseg-1.ts\n\
             #EXTINF:1.234,\nseg-2.ts\n#EXT-X-ENDLIST\n"
        );
        // 6.5 s rounds to 7: the target follows.
        assert_eq!(target_duration(&[span(6000), span(6500)]), 7);
        assert_eq!(target_duration(&[span(40)]), 1);
        // A query goes on every segment URI, and only there.
        let pinned = media(&spans, "v=0123abcd");
        assert_eq!(pinned, text.replace(".ts\n", ".ts?v=0123abcd\n"));
        assert_eq!(pinned.matches("?v=0123abcd").count(), 3);
    }

    #[test]
    fn master_playlist_names_the_variant() {
        let variant = Variant {
            bandwidth: 123_456,
            resolution: Some((160, 120)),
            frame_rate: Some(25.0),
            codecs: "avc1.64000c,mp4a.40.2".into(),
        };
        assert_eq!(
            master(&variant, "index.m3u8"),
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=123456,RESOLUTION=160x120,\
             FRAME-RATE=25.000,CODECS=\"avc1.64000c,mp4a.40.2\"\nindex.m3u8\n"
        );
        let audio = Variant { bandwidth: 64_000, resolution: None, frame_rate: None, codecs: "mp4a.40.34".into() };
        assert!(master(&audio, "index.m3u8").contains("BANDWIDTH=64000,CODECS=\"mp4a.40.34\"\n"));
    }
}
