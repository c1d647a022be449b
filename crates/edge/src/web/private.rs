//! Private content over HTTP: a cache behavior with `TrustedSigners` or `TrustedKeyGroups`
//! enabled (and HLS on a streaming distribution with trusted signers) serves only requests
//! that carry a signed URL or, when the URL has none of the signing parameters, signed
//! cookies (Amazon CloudFront Developer Guide, "Serving private content with signed URLs and
//! signed cookies", "Deciding to use signed URLs or signed cookies").
//!
//! The signed resource is the URL as the viewer sent it: `http://` or `https://` as the
//! listener, the `Host`, the path, and the query without the signing parameters, in order
//! (the Developer Guide's "Creating a signed URL using a canned policy": "the base URL
//! including your query strings, if any", which botocore's `CloudFrontSigner` signs as given).
//! Refusals are 403 with CloudFront's XML error body, and one log line naming the reason.
//!
//! The signatures are checked by `sf-sign` (the edge's one verifier, whose cache makes a
//! repeated signature cost a map lookup); the keys are looked up first, on every request, so
//! a key deleted or taken out of a group stops verifying at once.

use std::net::IpAddr;
use std::time::SystemTime;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use sf_sign::{SignError, SigningParams, Viewer};
use tracing::warn;

use crate::Edge;

/// Who may sign the requests of a cache behavior (or of a streaming distribution's HLS).
#[derive(Debug, Clone, Copy, Default)]
pub struct Signers<'a> {
    /// `TrustedSigners`: `self` and account numbers whose declared key pairs sign.
    pub accounts: Option<&'a [String]>,
    /// `TrustedKeyGroups`: ids of key groups whose public keys sign.
    pub key_groups: Option<&'a [String]>,
}

impl<'a> Signers<'a> {
    /// The signers of a web distribution's cache behavior (those not enabled are `None`).
    pub fn of_behavior(behavior: &sf_web::Behavior<'a>) -> Signers<'a> {
        Signers {
            accounts: behavior.trusted_signers().map(|t| t.items.as_slice()),
            key_groups: behavior.trusted_key_groups().map(|t| t.items.as_slice()),
        }
    }

    /// Whether requests need a signature.
    pub fn required(&self) -> bool {
        self.accounts.is_some() || self.key_groups.is_some()
    }
}

/// The connection a request came on, as far as a signature cares.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub peer: IpAddr,
    pub https: bool,
    /// The host the viewer asked for (its `Host` header, as sent).
    pub host: &'a str,
}

/// A request that may be served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    /// The query without the signing parameters: what reaches a cache key and an origin.
    pub query: Option<String>,
    /// The query of a signed URL as it was sent (own parameters and signing parameters), for
    /// the URIs of a playlist it authorises; `None` for signed cookies or no signature.
    pub signed_query: Option<String>,
}

/// A refused request: CloudFront's error code and message, and the reason for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub code: &'static str,
    pub message: &'static str,
    pub error: SignError,
}

impl Denied {
    fn from(error: SignError) -> Denied {
        // The codes and messages CloudFront answers with (Developer Guide, "Troubleshooting
        // signed URLs and signed cookies" names the messages).
        let (code, message) = match &error {
            SignError::Unsigned | SignError::MissingKeyPairId => {
                ("MissingKey", "Missing Key-Pair-Id query parameter or cookie value")
            }
            SignError::UnknownKey(_) | SignError::UntrustedKey { .. } => ("InvalidKey", "Unknown Key"),
            SignError::MalformedSignature(_) => ("MalformedSignature", "Could not unencode Signature"),
            SignError::MalformedPolicy(_) => ("MalformedPolicy", "Malformed Policy"),
            _ => ("AccessDenied", "Access denied"),
        };
        Denied { code, message, error }
    }

    /// The 403 response: status, headers and body (none for HEAD).
    pub fn response(&self, method: &Method) -> (StatusCode, HeaderMap, Bytes) {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{}</Code><Message>{}</Message></Error>",
            self.code, self.message
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let x_cache = HeaderValue::from_static(sf_web::XCache::Error.header_value());
        headers.insert(header::HeaderName::from_static("x-cache"), x_cache);
        let body = if method == Method::HEAD { Bytes::new() } else { Bytes::from(body) };
        (StatusCode::FORBIDDEN, headers, body)
    }
}

/// Most query parameters a request may have for its suffixes to be tried as the query of the
/// playlist that authorises it (see [`playlist_resources`]).
const MAX_SUFFIXES: usize = 4;

/// Checks `request` against `signers`. `extra_resources` are further resources a signature
/// may be for besides the request's URL (an HLS request's stream, its playlists). Refusals
/// are logged with `distribution`.
pub fn check(
    edge: &Edge,
    distribution: &str,
    signers: Signers,
    request: &Parts,
    origin: Origin,
    extra_resources: &[String],
) -> Result<Allowed, Denied> {
    let query = request.uri.query();
    if !signers.required() {
        return Ok(Allowed { query: query.map(str::to_owned), signed_query: None });
    }
    let signed_url = query.is_some_and(sf_sign::has_signing_params);
    let own_query = query.map(sf_sign::without_signing_params).filter(|q| !q.is_empty());
    let result = signing_params(request, signed_url).and_then(|params| {
        let mut resources = vec![url(origin, request.uri.path(), own_query.as_deref())];
        resources.extend(extra_resources.iter().cloned());
        verify(edge, signers, &params, origin.peer, &resources)
    });
    match result {
        Ok(()) => Ok(Allowed { query: own_query, signed_query: signed_url.then(|| query.unwrap_or("").to_owned()) }),
        Err(error) => {
            let denied = Denied::from(error);
            warn!(
                client = %origin.peer, distribution, path = request.uri.path(), code = denied.code,
                reason = denied.error.reason(), "signed request refused: {}", denied.error
            );
            Err(denied)
        }
    }
}

/// The signing parameters of the URL, else of the cookies.
fn signing_params(request: &Parts, signed_url: bool) -> Result<SigningParams, SignError> {
    let params = if signed_url {
        sf_sign::parse_query(request.uri.query().unwrap_or(""))?
    } else {
        let cookies = request.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok());
        sf_sign::parse_cookies(cookies)?
    };
    params.ok_or(SignError::Unsigned)
}

/// Finds the key (in a trusted key group, else a declared key pair of a trusted account) and
/// checks the signature, the resource and the conditions.
fn verify(
    edge: &Edge,
    signers: Signers,
    params: &SigningParams,
    peer: IpAddr,
    resources: &[String],
) -> Result<(), SignError> {
    let id = &params.key_pair_id;
    let key_groups = edge.key_groups();
    let in_group = signers.key_groups.and_then(|groups| key_groups.key_in(groups, id));
    let key = match in_group {
        Some(key) => key,
        None => {
            let declared = signers.accounts.and_then(|_| edge.signatures.keys().get(id));
            match (declared, signers.accounts) {
                (Some(key), Some(accounts)) if accounts.contains(&key.account) => key,
                (Some(key), _) => {
                    return Err(SignError::UntrustedKey { id: id.clone(), account: key.account.clone() });
                }
                (None, _) => return Err(SignError::UnknownKey(id.clone())),
            }
        }
    };
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let viewer = Viewer { now, ip: peer, resources };
    edge.signatures.check(params, key, &viewer).map(drop)
}

/// `http://host/path?query`, as the viewer sent it.
fn url(origin: Origin, path: &str, query: Option<&str>) -> String {
    let scheme = if origin.https { "https" } else { "http" };
    match query {
        Some(query) => format!("{scheme}://{}{path}?{query}", origin.host),
        None => format!("{scheme}://{}{path}", origin.host),
    }
}

/// The URLs of the playlists that may have authorised a request to `directory` (the HLS
/// folder of one stream, ending in `/`): a playlist's signing query is carried by the URIs in
/// it, whose own parameters come first; so each suffix of the request's own query (at most
/// [`MAX_SUFFIXES`]), and none, may be the playlist's.
pub fn playlist_resources(request: &Parts, origin: Origin, directory: &str, playlists: &[&str]) -> Vec<String> {
    let own = request.uri.query().map(sf_sign::without_signing_params).unwrap_or_default();
    let pairs: Vec<&str> = own.split('&').filter(|p| !p.is_empty()).collect();
    let suffixes = (0..pairs.len()).rev().take(MAX_SUFFIXES).map(|from| Some(pairs[from..].join("&")));
    let queries: Vec<Option<String>> = std::iter::once(None).chain(suffixes).collect();
    let mut resources = Vec::new();
    for playlist in playlists {
        for query in &queries {
            resources.push(url(origin, &format!("{directory}{playlist}"), query.as_deref()));
        }
    }
    resources
}

/// `playlist` with `query` added to each URI it lists (lines not starting with `#`, and the
/// `URI="…"` attributes of tags), so that a signed URL's signature reaches its segments and
/// variants.
pub fn sign_playlist_uris(playlist: &str, query: &str) -> String {
    let mut out = String::with_capacity(playlist.len() * 2);
    for line in playlist.split_inclusive('\n') {
        let (text, end) = line.split_at(line.trim_end_matches(['\r', '\n']).len());
        if text.is_empty() {
            out.push_str(line);
        } else if !text.starts_with('#') {
            out.push_str(&sf_hls::playlist::with_query(text, query));
            out.push_str(end);
        } else if let Some(at) = text.find("URI=\"")
            && let Some(len) = text[at + 5..].find('"')
        {
            let uri = &text[at + 5..at + 5 + len];
            out.push_str(&text[..at + 5]);
            out.push_str(&sf_hls::playlist::with_query(uri, query));
            out.push_str(&text[at + 5 + len..]);
            out.push_str(end);
        } else {
            out.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playlist_uris_carry_the_signing_query() {
        let media = "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:6.0,\nseg-0.ts?v=1\r\n#EXTINF:2.5,\nseg-1.ts\n#EXT-X-ENDLIST\n";
        let signed = sign_playlist_uris(media, "Expires=9&Signature=s&Key-Pair-Id=K");
        assert_eq!(
            signed,
            "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4?Expires=9&Signature=s&Key-Pair-Id=K\"\n#EXTINF:6.0,\n\
             seg-0.ts?v=1&Expires=9&Signature=s&Key-Pair-Id=K\r\n#EXTINF:2.5,\n\
             seg-1.ts?Expires=9&Signature=s&Key-Pair-Id=K\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn refusals_carry_cloudfronts_codes() {
        let code = |error: SignError| Denied::from(error).code;
        assert_eq!(code(SignError::Unsigned), "MissingKey");
        assert_eq!(code(SignError::MissingKeyPairId), "MissingKey");
        assert_eq!(code(SignError::UnknownKey("K".into())), "InvalidKey");
        assert_eq!(code(SignError::MalformedSignature("x".into())), "MalformedSignature");
        assert_eq!(code(SignError::MalformedPolicy("x".into())), "MalformedPolicy");
        assert_eq!(code(SignError::Expired { at: 1 }), "AccessDenied");
        assert_eq!(code(SignError::BadSignature), "AccessDenied");
        let (status, headers, body) = Denied::from(SignError::Unsigned).response(&Method::GET);
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(headers[header::CONTENT_TYPE], "text/xml");
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>MissingKey</Code>\
             <Message>Missing Key-Pair-Id query parameter or cookie value</Message></Error>"
        );
    }
}
