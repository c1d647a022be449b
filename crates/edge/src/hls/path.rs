//! The HLS URLs of a streaming distribution's host:
//!
//! - `/hls/<stream>/index.m3u8` (media playlist), `/hls/<stream>/master.m3u8` (master
//!   playlist), `/hls/<stream>/seg-<n>.ts` (segment `n`, from 0);
//! - Wowza's form, `/cfx/st/<stream>/playlist.m3u8` (the media playlist), whose relative
//!   segment URIs resolve to `/cfx/st/<stream>/seg-<n>.ts`, served the same way.
//!
//! Playlists give these URLs a query pinning the object version (`?v=<tag>`, see
//! [`super::version`]); the path alone names the resource.
//!
//! `<stream>` is percent-decoded (RFC 3986 §2.1) and then named as an RTMP `play` name is (see
//! [`crate::names`]): `videos/clip.mp4` is that object, `mp4:videos/clip` is `videos/clip.mp4`.

use crate::web::key::object_key;

/// What an HLS URL asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    MediaPlaylist,
    MasterPlaylist,
    Segment(usize),
}

/// An HLS URL taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlsPath {
    /// The stream, decoded: an RTMP play name.
    pub stream: String,
    pub resource: Resource,
}

/// The prefixes of HLS URLs.
const HLS_PREFIX: &str = "/hls/";
const WOWZA_PREFIX: &str = "/cfx/st/";

/// Whether `path` is one of the HLS forms (well formed or not): such a request is answered by
/// the HLS handler, with a 404 if it names nothing.
pub fn is_hls(path: &str) -> bool {
    path.starts_with(HLS_PREFIX) || path.starts_with(WOWZA_PREFIX)
}

/// Most digits of a segment number (a billion 1-second segments is 30 years).
const MAX_SEGMENT_DIGITS: usize = 9;

/// Takes an HLS URL's path apart; `None` when it names no HLS resource.
pub fn parse(path: &str) -> Option<HlsPath> {
    let (rest, wowza) = match path.strip_prefix(HLS_PREFIX) {
        Some(rest) => (rest, false),
        None => (path.strip_prefix(WOWZA_PREFIX)?, true),
    };
    let (stream, file) = rest.rsplit_once('/')?;
    let resource = match file {
        "index.m3u8" => Resource::MediaPlaylist,
        "master.m3u8" => Resource::MasterPlaylist,
        "playlist.m3u8" if wowza => Resource::MediaPlaylist,
        _ => Resource::Segment(segment_number(file)?),
    };
    let stream = object_key(stream).ok()?;
    (!stream.is_empty()).then_some(HlsPath { stream, resource })
}

/// `seg-<n>.ts` → `n`, written without leading zeros (one URL per segment).
fn segment_number(file: &str) -> Option<usize> {
    let digits = file.strip_prefix("seg-")?.strip_suffix(".ts")?;
    let canonical = digits.len() <= MAX_SEGMENT_DIGITS
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if canonical { digits.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(path: &str) -> Option<(String, Resource)> {
        parse(path).map(|p| (p.stream, p.resource))
    }

    #[test]
    fn takes_the_url_forms_apart() {
        let stream = || "videos/clip.mp4".to_owned();
        assert_eq!(parsed("/hls/videos/clip.mp4/index.m3u8"), Some((stream(), Resource::MediaPlaylist)));
        assert_eq!(parsed("/hls/videos/clip.mp4/master.m3u8"), Some((stream(), Resource::MasterPlaylist)));
        assert_eq!(parsed("/hls/videos/clip.mp4/seg-0.ts"), Some((stream(), Resource::Segment(0))));
        assert_eq!(parsed("/hls/videos/clip.mp4/seg-12.ts"), Some((stream(), Resource::Segment(12))));
        let wowza = || "mp4:videos/clip.mp4".to_owned();
        assert_eq!(parsed("/cfx/st/mp4:videos/clip.mp4/playlist.m3u8"), Some((wowza(), Resource::MediaPlaylist)));
        assert_eq!(parsed("/cfx/st/mp4:videos/clip.mp4/seg-3.ts"), Some((wowza(), Resource::Segment(3))));
        assert_eq!(
            parsed("/hls/My%20Videos/a.mp4/index.m3u8"),
            Some(("My Videos/a.mp4".into(), Resource::MediaPlaylist))
        );
    }

    #[test]
    fn refuses_what_names_nothing() {
        for path in [
            "/hls/index.m3u8",
            "/hls//index.m3u8",
            "/hls/a.mp4/playlist.m3u8",
            "/hls/a.mp4/seg-01.ts",
            "/hls/a.mp4/seg-.ts",
            "/hls/a.mp4/seg-1.ts.ts",
            "/hls/a.mp4/seg--1.ts",
            "/hls/a.mp4/seg-1234567890.ts",
            "/hls/a.mp4/",
            "/hls/a.mp4",
            "/hls/%FF/index.m3u8",
            "/open/1",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
        assert!(is_hls("/hls/x") && is_hls("/cfx/st/x") && !is_hls("/crossdomain.xml") && !is_hls("/send/x/1"));
    }
}
