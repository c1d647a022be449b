//! [`ApiError`]: what every layer of the API returns when it refuses a request. The server turns
//! it into CloudFront's error envelope
//! (`<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`,
//! https://docs.aws.amazon.com/cloudfront/latest/APIReference/CommonErrors.html) with `status`.

use std::fmt;

use sf_dist::ValidationError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status: the `httpStatusCode` of the error shape in the 2020-05-31 model.
    pub status: u16,
    /// The error shape's name (`NoSuchStreamingDistribution`, `PreconditionFailed`, …), which
    /// botocore raises as `client.exceptions.<Code>`.
    pub code: &'static str,
    /// A sentence the user can act on.
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into() }
    }

    /// 400 `InvalidArgument`, naming the field.
    pub fn invalid_argument(field: &str, why: impl fmt::Display) -> ApiError {
        ApiError::new(400, "InvalidArgument", format!("{field}: {why}"))
    }

    /// 500 `InternalError`: the server could not do what it should have (the store failed).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message)
    }

    /// `Sender` for the client's mistakes (4xx), `Receiver` for the server's (5xx).
    pub fn error_type(&self) -> &'static str {
        if self.status >= 500 { "Receiver" } else { "Sender" }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

/// The HTTP status of a CloudFront error code that validation returns: 409 for conflicts with
/// other resources, 404 for missing ones, 400 for everything else in a config.
pub fn status_of_code(code: &str) -> u16 {
    match code {
        "CNAMEAlreadyExists" | "DistributionAlreadyExists" | "StreamingDistributionAlreadyExists" => 409,
        c if c.starts_with("NoSuch") => 404,
        _ => 400,
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> ApiError {
        ApiError::new(status_of_code(e.code), e.code, format!("{}: {}", e.field, e.message))
    }
}
