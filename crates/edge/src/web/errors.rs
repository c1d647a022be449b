//! Why a web request failed, as the viewer is told: the status (the origin's 403 and 404
//! passed on as CloudFront passes them; 502 when the origin fails, 504 when it does not answer
//! in time) and a short text naming the problem.

use hyper::StatusCode;
use sf_cache::OriginError;

/// A failed request: the status and what the short body says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: StatusCode,
    pub detail: String,
}

impl Failure {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Failure {
        Failure { status, detail: detail.into() }
    }

    /// What an origin error becomes. S3 answers 403 for a missing key to a caller that may not
    /// list the bucket, 404 to one that may (S3 API Reference, GetObject, "Permissions"):
    /// whichever the origin said is passed on.
    pub fn from_origin(error: &OriginError) -> Failure {
        let status = match error {
            OriginError::NotFound => StatusCode::NOT_FOUND,
            OriginError::AccessDenied => StatusCode::FORBIDDEN,
            OriginError::Failed(text) if is_timeout(text) => StatusCode::GATEWAY_TIMEOUT,
            // The origin's own error status is passed on as it is.
            OriginError::Status { status, .. } => StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY),
            _ => StatusCode::BAD_GATEWAY,
        };
        Failure::new(status, format!("origin: {error}"))
    }

    /// The body: the status line's words and the detail, one line each.
    pub fn text(&self) -> String {
        let reason = self.status.canonical_reason().unwrap_or("Error");
        format!("{} {reason}\n{}\n", self.status.as_u16(), self.detail)
    }
}

// W2: a distinct timeout variant of OriginError, if it gets one.
/// Whether an origin failure is a timeout: the cache's own bound says "no answer within", a
/// custom origin's client "no response in time", the S3 client's "timed out"/"timeout".
fn is_timeout(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    ["no answer within", "no response in time", "timed out", "timeout"].iter().any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_errors_become_statuses() {
        let status = |error: OriginError| Failure::from_origin(&error).status;
        assert_eq!(status(OriginError::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status(OriginError::AccessDenied), StatusCode::FORBIDDEN);
        assert_eq!(status(OriginError::Changed), StatusCode::BAD_GATEWAY);
        assert_eq!(status(OriginError::Failed("origin s3://b: connection refused".into())), StatusCode::BAD_GATEWAY);
        let late = OriginError::Failed("origin s3://b: no answer within 15 s".into());
        assert_eq!(status(late), StatusCode::GATEWAY_TIMEOUT);
        let silent = OriginError::Failed("origin http://a:80: no response in time (3 attempts)".into());
        assert_eq!(status(silent), StatusCode::GATEWAY_TIMEOUT);
        let answered = |status| OriginError::Status { status, cache_control: None, text: "origin: HTTP".into() };
        assert_eq!(Failure::from_origin(&answered(503)).status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(Failure::from_origin(&answered(400)).status, StatusCode::BAD_REQUEST);
    }
}
