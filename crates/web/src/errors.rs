//! `CustomErrorResponses`: what the edge sends instead of an error (Developer Guide, "Generate
//! custom error responses", GeneratingCustomErrorResponses).

use sf_dist::DistributionConfig;

/// The status codes a `CustomErrorResponse` may name (HTTPStatusCodes).
pub const CONFIGURABLE_ERROR_CODES: [u16; 11] = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504];

/// A distribution's `CustomErrorResponse` for one status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorPage<'a> {
    /// `ErrorCode`: the status from the origin (or the edge) this entry replaces.
    pub error_code: u16,
    /// `ResponsePagePath`: the object to send instead, fetched through the first behavior whose
    /// pattern matches it. `None`: the error is sent as it is, only its caching changes.
    pub page_path: Option<&'a str>,
    /// `ResponseCode`, the status sent with the page; `None` keeps `error_code`.
    pub response_code: Option<u16>,
    /// `ErrorCachingMinTTL`, for [`crate::error_ttl`].
    pub error_caching_min_ttl: Option<i64>,
}

impl ErrorPage<'_> {
    /// The status the viewer gets with the page.
    pub fn status(&self) -> u16 {
        self.response_code.unwrap_or(self.error_code)
    }
}

/// The `CustomErrorResponse` configured for `status`, if any.
pub fn error_page(config: &DistributionConfig, status: u16) -> Option<ErrorPage<'_>> {
    if !CONFIGURABLE_ERROR_CODES.contains(&status) {
        return None;
    }
    let entry = config.custom_error_responses.iter().find(|e| e.error_code == i32::from(status))?;
    Some(ErrorPage {
        error_code: status,
        page_path: entry.response_page_path.as_deref().filter(|p| !p.is_empty()),
        // A string in the model ("200"); one that is not a status code keeps the original.
        response_code: entry
            .response_code
            .as_deref()
            .and_then(|c| c.trim().parse::<u16>().ok())
            .filter(|c| (100..=599).contains(c)),
        error_caching_min_ttl: entry.error_caching_min_ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::tests::test_config;
    use sf_dist::CustomErrorResponse;

    fn with_errors(entries: Vec<CustomErrorResponse>) -> DistributionConfig {
        let mut c = test_config(serde_json::json!({}), vec![]);
        c.custom_error_responses = entries;
        c
    }

    fn entry(code: i32, path: Option<&str>, response: Option<&str>, ttl: Option<i64>) -> CustomErrorResponse {
        CustomErrorResponse {
            error_code: code,
            response_page_path: path.map(str::to_string),
            response_code: response.map(str::to_string),
            error_caching_min_ttl: ttl,
        }
    }

    #[test]
    fn finds_the_entry_for_a_status_with_its_page_and_code() {
        let c = with_errors(vec![
            entry(404, Some("/errors/404.html"), Some("200"), Some(30)),
            entry(503, None, None, Some(0)),
            entry(403, Some("/index.html"), Some("junk"), None),
        ]);
        let page = error_page(&c, 404).unwrap();
        assert_eq!(page.page_path, Some("/errors/404.html"));
        assert_eq!(page.status(), 200);
        assert_eq!(page.error_caching_min_ttl, Some(30));
        let only_ttl = error_page(&c, 503).unwrap();
        assert_eq!((only_ttl.page_path, only_ttl.status(), only_ttl.error_caching_min_ttl), (None, 503, Some(0)));
        assert_eq!(error_page(&c, 403).unwrap().status(), 403);
        assert_eq!(error_page(&c, 500), None);
    }

    #[test]
    fn only_configurable_codes_are_replaced() {
        let c = with_errors(vec![entry(412, Some("/e.html"), Some("200"), None)]);
        assert_eq!(error_page(&c, 412), None);
    }
}
