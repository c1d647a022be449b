//! The `ViewerProtocolPolicy` of the behavior a request of a web distribution matches: a
//! request over plain HTTP is redirected to HTTPS (`redirect-to-https`) or refused
//! (`https-only`) before anything else of the behavior applies.

use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Response, StatusCode};
use sf_web::{ProtocolCheck, XCache};

use super::WebDistribution;
use super::body::WebBody;
use super::errors::Failure;
use super::serve::failed;
use crate::Edge;

/// The answer to a request its behavior does not serve over the protocol it came in on;
/// `None` to serve it.
/// `secure`: the request came over TLS.
pub fn check(
    edge: &Edge,
    distribution: &WebDistribution,
    request: &Parts,
    secure: bool,
) -> Option<(Response<WebBody>, XCache)> {
    let config = &distribution.record.distribution_config;
    let behavior = sf_web::select_behavior(config, &sf_web::object_path(config, request.uri.path()));
    let head = request.method == hyper::Method::HEAD;
    match sf_web::check_viewer_protocol(behavior.viewer_protocol_policy(), secure, &request.method) {
        ProtocolCheck::Serve => None,
        ProtocolCheck::Refuse => {
            let failure = Failure::new(StatusCode::FORBIDDEN, "this content is served over HTTPS only");
            Some(failed(&failure, head))
        }
        ProtocolCheck::Redirect(status) => {
            // The host the viewer asked for; the distribution's own name if it sent none usable.
            let host = request_host(request)
                .and_then(sf_dist::normalize_host)
                .unwrap_or_else(|| distribution.record.domain_name.clone());
            let target = request.uri.path_and_query().map_or("/", |target| target.as_str());
            let location = sf_web::https_location(&host, edge.config.https_public_port, target);
            // Both parts came in header values or the request line; refuse rather than serve
            // over HTTP if they still do not make one.
            let Ok(value) = HeaderValue::from_str(&location) else {
                return Some(failed(&Failure::new(StatusCode::BAD_REQUEST, "the request's host is not valid"), head));
            };
            let (mut response, _) = failed(&Failure::new(status, format!("served over HTTPS: {location}")), head);
            response.headers_mut().insert(header::LOCATION, value);
            Some((response, XCache::Redirect))
        }
    }
}

/// The authority of an absolute-form target, else the `Host` header.
fn request_host(request: &Parts) -> Option<&str> {
    match request.uri.authority() {
        Some(authority) => Some(authority.as_str()),
        None => request.headers.get(header::HOST)?.to_str().ok(),
    }
}
