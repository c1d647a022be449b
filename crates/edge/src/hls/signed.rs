//! HLS of a streaming distribution with trusted signers: every playlist and segment request
//! needs a signed URL or signed cookies (checked as web requests are, see
//! [`crate::web::private`]). A signature may be for the stream, as a signed RTMP play name is
//! (so one signed name serves both), for the request's URL (a custom policy's wildcard such
//! as `http://host/hls/videos/*`), or for the playlist the request came from: a signed
//! playlist's URIs carry its query, so that its signature or cookie authorises its segments.

use hyper::http::request::Parts;

use super::path;
use crate::Edge;
use crate::http::Viewer;
use crate::web::private::{self, Allowed, Denied, Signers};

/// The playlists of one stream's folder, whose signatures authorise what they list.
const PLAYLISTS: [&str; 3] = ["index.m3u8", "master.m3u8", "playlist.m3u8"];

/// Checks `request`; a URL naming no stream or distribution passes (it is answered 404).
pub fn check(edge: &Edge, host: Option<&str>, viewer: &Viewer, request: &Parts) -> Result<Allowed, Denied> {
    let unchecked = || Ok(Allowed::default());
    let Some(hls_path) = path::parse(request.uri.path()) else { return unchecked() };
    let Some(distribution) = edge.distributions().resolve(host) else { return unchecked() };
    let Some(accounts) = &distribution.trusted_signers else { return unchecked() };
    let Ok(resolved) = crate::names::resolve(&[], &hls_path.stream) else { return unchecked() };
    let keys: Vec<String> = resolved.candidates.into_iter().map(|(key, _)| key).collect();
    let mut resources = sf_sign::rtmp_resources(&resolved.path, &keys);
    let origin = private::Origin { peer: viewer.peer.ip(), https: viewer.is_https(), host: host.unwrap_or_default() };
    let request_path = request.uri.path();
    let directory = &request_path[..request_path.rfind('/').map_or(0, |slash| slash + 1)];
    resources.extend(private::playlist_resources(request, origin, directory, &PLAYLISTS));
    let signers = Signers { accounts: Some(accounts), key_groups: None };
    private::check(edge, &distribution.id, signers, request, origin, &resources)
}

/// A playlist's text with `signed_query` added to its URIs, when the request had a signed URL.
pub fn uris(playlist: String, signed_query: Option<&str>) -> String {
    match signed_query {
        Some(query) => private::sign_playlist_uris(&playlist, query),
        None => playlist,
    }
}
