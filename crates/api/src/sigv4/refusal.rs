//! The 403 answers of SigV4 verification. The codes and the first sentence of each message are
//! those AWS services answer with (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html);
//! the rest tells the caller what to change.

use crate::ApiError;

const STATUS: u16 = 403;

/// No `Authorization` header, or one of another scheme than `AWS4-HMAC-SHA256`.
pub(crate) fn missing_authentication_token(why: &str) -> ApiError {
    ApiError::new(
        STATUS,
        "MissingAuthenticationToken",
        format!(
            "Request is missing Authentication Token: {why}. Sign requests with AWS Signature Version 4 \
             (AWS4-HMAC-SHA256), as the AWS CLI and SDKs do when given credentials."
        ),
    )
}

/// The `Authorization` header (or the request time it depends on) is malformed.
pub(crate) fn incomplete_signature(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        STATUS,
        "IncompleteSignature",
        format!("The request signature does not conform to AWS standards: {why}."),
    )
}

/// Unknown access key id, or a session token that does not belong with it.
pub(crate) fn invalid_client_token_id(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        STATUS,
        "InvalidClientTokenId",
        format!("The security token included in the request is invalid: {why}."),
    )
}

/// The signature (or the payload hash it covers) is not the one the server computes.
pub(crate) fn signature_does_not_match(detail: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        STATUS,
        "SignatureDoesNotMatch",
        format!(
            "The request signature we calculated does not match the signature you provided. Check your AWS \
             Secret Access Key and signing method. {detail}"
        ),
    )
}

pub(crate) fn request_time_too_skewed(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        STATUS,
        "RequestTimeTooSkewed",
        format!(
            "The difference between the request time and the current time is too large: {why}. Set the \
             client's clock right (NTP), or widen the server's --api-clock-skew."
        ),
    )
}

pub(crate) fn access_denied(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(STATUS, "AccessDenied", format!("Access denied: {why}."))
}
