//! The one error every check in this crate returns: a CloudFront error code, the field it is
//! about (a path such as `Origins.Items[1].DomainName`) and a sentence saying why.

use std::fmt;

/// CloudFront's error codes (the error shape names of the 2020-05-31 API model), so the API
/// layer can put them in `<Error><Code>` unchanged and pick the HTTP status from them.
pub mod codes {
    pub const INVALID_ARGUMENT: &str = "InvalidArgument";
    pub const INCONSISTENT_QUANTITIES: &str = "InconsistentQuantities";
    pub const INVALID_ORIGIN: &str = "InvalidOrigin";
    pub const INVALID_ORIGIN_ACCESS_IDENTITY: &str = "InvalidOriginAccessIdentity";
    pub const TOO_MANY_TRUSTED_SIGNERS: &str = "TooManyTrustedSigners";
    pub const TOO_MANY_STREAMING_DISTRIBUTION_CNAMES: &str = "TooManyStreamingDistributionCNAMEs";
    pub const TOO_MANY_DISTRIBUTION_CNAMES: &str = "TooManyDistributionCNAMEs";
    pub const ILLEGAL_UPDATE: &str = "IllegalUpdate";
    pub const CNAME_ALREADY_EXISTS: &str = "CNAMEAlreadyExists";
    pub const INVALID_DEFAULT_ROOT_OBJECT: &str = "InvalidDefaultRootObject";
    pub const INVALID_RELATIVE_PATH: &str = "InvalidRelativePath";
    pub const INVALID_ERROR_CODE: &str = "InvalidErrorCode";
    pub const INVALID_RESPONSE_CODE: &str = "InvalidResponseCode";
    pub const INVALID_TTL_ORDER: &str = "InvalidTTLOrder";
    pub const INVALID_VIEWER_CERTIFICATE: &str = "InvalidViewerCertificate";
    pub const TOO_MANY_ORIGINS: &str = "TooManyOrigins";
    pub const TOO_MANY_CACHE_BEHAVIORS: &str = "TooManyCacheBehaviors";
    pub const TOO_MANY_TRUSTED_KEY_GROUPS: &str = "TooManyKeyGroupsAssociatedToDistribution";
    pub const NO_SUCH_ORIGIN: &str = "NoSuchOrigin";
    pub const INVALID_TAGGING: &str = "InvalidTagging";
}

/// A configuration the control plane must refuse, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// One of [`codes`].
    pub code: &'static str,
    /// Where in the config, as CloudFront member names: `Aliases.Items[0]`.
    pub field: String,
    /// Why, in a sentence a person can act on.
    pub message: String,
}

impl ValidationError {
    pub fn new(code: &'static str, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { code, field: field.into(), message: message.into() }
    }

    pub fn invalid_argument(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(codes::INVALID_ARGUMENT, field, message)
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.code, self.field, self.message)
    }
}

/// The typed model keeps lists as plain `Vec`s and leaves CloudFront's `Quantity` elements out
/// (they are derived from the list length when a config is echoed). A decoder of the wire form
/// calls this for every `{Quantity, Items}` wrapper it reads, so a mismatch is answered the way
/// CloudFront answers it.
pub fn check_quantity(field: &str, quantity: i64, items: usize) -> Result<(), ValidationError> {
    if quantity == items as i64 {
        return Ok(());
    }
    Err(ValidationError::new(
        codes::INCONSISTENT_QUANTITIES,
        format!("{field}.Quantity"),
        format!("Quantity is {quantity} but Items holds {items} element(s)"),
    ))
}
