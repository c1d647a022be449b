//! A cache behavior's `ViewerProtocolPolicy` against the protocol a request came in on
//! ("Viewer protocol policy", CloudFront Developer Guide, "Cache behavior settings"):
//! `allow-all` serves both, `redirect-to-https` sends an HTTP viewer to the same URL over
//! HTTPS (301 for GET and HEAD, 307 for other methods), `https-only` answers 403 over HTTP.

use http::{Method, StatusCode};
use sf_dist::ViewerProtocolPolicy;

/// What to do with a request before anything else of the behavior applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolCheck {
    /// Go on: HTTPS, or a policy that allows HTTP.
    Serve,
    /// Redirect to the HTTPS URL with this status.
    Redirect(StatusCode),
    /// 403: the behavior is HTTPS only.
    Refuse,
}

/// The decision for a request over HTTPS (`secure`) or plain HTTP.
pub fn check_viewer_protocol(policy: ViewerProtocolPolicy, secure: bool, method: &Method) -> ProtocolCheck {
    match policy {
        _ if secure => ProtocolCheck::Serve,
        ViewerProtocolPolicy::AllowAll => ProtocolCheck::Serve,
        ViewerProtocolPolicy::HttpsOnly => ProtocolCheck::Refuse,
        // A 307 keeps the method and body of a POST, PUT… (RFC 9110 §15.4.8); a 301 may
        // turn them into a GET (§15.4.2).
        ViewerProtocolPolicy::RedirectToHttps if matches!(*method, Method::GET | Method::HEAD) => {
            ProtocolCheck::Redirect(StatusCode::MOVED_PERMANENTLY)
        }
        ViewerProtocolPolicy::RedirectToHttps => ProtocolCheck::Redirect(StatusCode::TEMPORARY_REDIRECT),
    }
}

/// `https://host[:port]/path?query`: the `Location` of a redirect to HTTPS. `host` is the
/// request's normalised host (no port); `port` is the HTTPS port viewers reach, left out
/// when it is 443; `path_and_query` the request target as sent.
pub fn https_location(host: &str, port: u16, path_and_query: &str) -> String {
    let target = if path_and_query.starts_with('/') { path_and_query } else { "/" };
    if port == 443 { format!("https://{host}{target}") } else { format!("https://{host}:{port}{target}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_decide_by_protocol_and_method() {
        use ViewerProtocolPolicy::*;
        let check = check_viewer_protocol;
        for policy in [AllowAll, HttpsOnly, RedirectToHttps] {
            assert_eq!(check(policy, true, &Method::GET), ProtocolCheck::Serve, "{policy:?} over HTTPS");
        }
        assert_eq!(check(AllowAll, false, &Method::POST), ProtocolCheck::Serve);
        assert_eq!(check(HttpsOnly, false, &Method::GET), ProtocolCheck::Refuse);
        let moved = ProtocolCheck::Redirect(StatusCode::MOVED_PERMANENTLY);
        assert_eq!(check(RedirectToHttps, false, &Method::GET), moved);
        assert_eq!(check(RedirectToHttps, false, &Method::HEAD), moved);
        let temporary = ProtocolCheck::Redirect(StatusCode::TEMPORARY_REDIRECT);
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS, Method::PATCH] {
            assert_eq!(check(RedirectToHttps, false, &method), temporary, "{method}");
        }
    }

    #[test]
    fn locations_keep_path_and_query_and_name_other_ports() {
        assert_eq!(https_location("www.example.com", 443, "/a/b.html?x=1&y"), "https://www.example.com/a/b.html?x=1&y");
        assert_eq!(https_location("www.example.com", 8443, "/"), "https://www.example.com:8443/");
        assert_eq!(https_location("[::1]", 8443, "/v.mp4"), "https://[::1]:8443/v.mp4");
        // An absolute-form target's authority is not repeated.
        assert_eq!(https_location("h", 443, "*"), "https://h/");
    }
}
