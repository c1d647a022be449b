//! The CloudFront API of streamfront: what `aws --endpoint-url http://edge:9936 cloudfront …`,
//! boto3 and the AWS SDKs talk to.
//!
//! Modules, each with one job:
//! - [`error`]: [`ApiError`], the one error every layer returns: CloudFront's error code, its
//!   HTTP status and a message for the user.
//! - `sigv4`: verifies AWS Signature Version 4 exactly as botocore signs (sans-IO).
//! - `xml`: CloudFront's REST-XML dialect as a serde format (sans-IO).
//! - `state`: everything the API manages, as the control store's folded state, and the changes
//!   that the API commits.
//! - `ops`: the operations' semantics as pure functions of the state (sans-IO).
//! - `server`: the HTTP server that ties them together over the control store.

#![forbid(unsafe_code)]

pub mod credentials;
pub mod error;
pub mod ops;
pub mod server;
pub mod shapes;
pub mod sigv4;
pub mod state;
pub mod xml;

pub use error::ApiError;
