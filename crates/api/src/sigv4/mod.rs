//! Verification of AWS Signature Version 4 in its header form, exactly as botocore signs
//! CloudFront requests (botocore auth.py, `SigV4Auth`;
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html). Sans-IO: the server
//! hands over what it received (with the body it read) and the clock.
//!
//! - [`authorization`]: the `Authorization` header.
//! - [`time`]: when the request was signed (`X-Amz-Date` or `Date`).
//! - [`canonical`]: the canonical request.
//! - [`refusal`]: the 403 answers.

mod authorization;
mod canonical;
mod refusal;
mod time;

#[cfg(test)]
mod suite_tests;

use std::time::{Duration, SystemTime};

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use self::authorization::{ALGORITHM, MAX_AUTHORIZATION_LEN};
use self::refusal::{
    access_denied, incomplete_signature, invalid_client_token_id, missing_authentication_token,
    request_time_too_skewed, signature_does_not_match,
};
use crate::ApiError;
use crate::credentials::{ApiCredential, Credentials};

/// The service name in the credential scope of every CloudFront request.
pub const SERVICE: &str = "cloudfront";
/// How far a request's time may be from the server's by default (S3 allows the same).
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// What verification needs of a received request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The request target's path exactly as received (still percent-encoded).
    pub path: &'a str,
    /// The raw query string without `?` ("" when none).
    pub query: &'a str,
    pub headers: &'a http::HeaderMap,
    /// The whole body as read (its SHA-256 is part of what is signed).
    pub body: &'a [u8],
}

/// The access key id of the caller when `req` carries a valid signature for CloudFront by one of
/// `credentials`, made within `max_skew` of `now`; else a 403 [`ApiError`] saying what is wrong.
pub fn verify(
    req: &Request,
    credentials: &Credentials,
    now: SystemTime,
    max_skew: Duration,
) -> Result<String, ApiError> {
    verify_for_service(req, credentials, now, max_skew, SERVICE)
}

/// [`verify`] for any service name: the AWS test suite signs for `service`.
pub(crate) fn verify_for_service(
    req: &Request,
    credentials: &Credentials,
    now: SystemTime,
    max_skew: Duration,
    service: &str,
) -> Result<String, ApiError> {
    let header = authorization_header(req.headers)?;
    let authorization = authorization::parse(header)?;
    if authorization.scope.service != service {
        return Err(access_denied(format_args!(
            "the credential scope is for the service {:?}; this endpoint is {service:?}: sign for {service:?}",
            authorization.scope.service
        )));
    }
    let Some(credential) = credentials.lookup(authorization.access_key_id) else {
        return Err(invalid_client_token_id(format_args!(
            "the access key id {} is not one this server knows",
            authorization.access_key_id
        )));
    };
    let time = time::request_time(req.headers)?;
    if authorization.scope.date != time.date() {
        return Err(incomplete_signature(format_args!(
            "the credential scope's date {} is not the request's date {}",
            authorization.scope.date,
            time.date()
        )));
    }
    check_skew(time.at, &time.basic, now, max_skew)?;
    check_session_token(req.headers, credential, &authorization.signed_headers)?;
    if !authorization.signed_headers.iter().any(|name| name == "host") {
        return Err(signature_does_not_match("'host' must be one of the SignedHeaders."));
    }
    let payload_hash = payload_hash(req)?;
    let canonical_request = canonical::canonical_request(&canonical::Input {
        method: req.method,
        path: req.path,
        query: req.query,
        headers: req.headers,
        signed_headers: &authorization.signed_headers,
        payload_hash: &payload_hash,
    })?;
    let scope = authorization.scope.to_line();
    let string_to_sign = format!("{ALGORITHM}\n{}\n{scope}\n{}", time.basic, hex(&Sha256::digest(&canonical_request)));
    let key = signing_key(&credential.secret_access_key, &authorization.scope);
    // `verify_slice` compares in constant time.
    let mut mac = hmac_sha256(&key);
    mac.update(string_to_sign.as_bytes());
    if mac.verify_slice(&authorization.signature).is_err() {
        return Err(signature_does_not_match(format_args!(
            "The canonical request for this request should have been\n'{}'\n\nThe string to sign should have \
             been\n'{string_to_sign}'",
            String::from_utf8_lossy(&canonical_request)
        )));
    }
    Ok(credential.access_key_id.clone())
}

fn authorization_header(headers: &http::HeaderMap) -> Result<&str, ApiError> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(missing_authentication_token("it has no Authorization header"));
    };
    if values.next().is_some() {
        return Err(incomplete_signature("the request has more than one Authorization header"));
    }
    if value.len() > MAX_AUTHORIZATION_LEN {
        return Err(incomplete_signature(format_args!(
            "the Authorization header is longer than {MAX_AUTHORIZATION_LEN} bytes"
        )));
    }
    value.to_str().map_err(|_| incomplete_signature("the Authorization header is not ASCII"))
}

fn check_skew(
    signed_at: SystemTime,
    signed_at_text: &str,
    now: SystemTime,
    max_skew: Duration,
) -> Result<(), ApiError> {
    let (skew, direction) = match now.duration_since(signed_at) {
        Ok(age) => (age, "before"),
        Err(ahead) => (ahead.duration(), "after"),
    };
    if skew > max_skew {
        return Err(request_time_too_skewed(format_args!(
            "the request was signed at {signed_at_text}, {} s {direction} the server's time, more than the {} s \
             allowed",
            skew.as_secs(),
            max_skew.as_secs()
        )));
    }
    Ok(())
}

/// A credential with a session token wants it in `X-Amz-Security-Token`, signed (botocore signs
/// it); one without refuses a token, which would belong to other, temporary credentials.
fn check_session_token(
    headers: &http::HeaderMap,
    credential: &ApiCredential,
    signed: &[String],
) -> Result<(), ApiError> {
    const HEADER: &str = "x-amz-security-token";
    let mut sent = headers.get_all(HEADER).iter();
    let (token, another) = (sent.next(), sent.next());
    match (&credential.session_token, token) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(invalid_client_token_id(format_args!(
            "the access key id {} has no session token, yet the request has an X-Amz-Security-Token",
            credential.access_key_id
        ))),
        (Some(_), None) => Err(invalid_client_token_id(format_args!(
            "the access key id {} needs its session token in X-Amz-Security-Token",
            credential.access_key_id
        ))),
        (Some(expected), Some(token)) => {
            if another.is_some() || !constant_time_eq(expected.as_bytes(), token.as_bytes()) {
                return Err(invalid_client_token_id(format_args!(
                    "the X-Amz-Security-Token is not the session token of the access key id {}",
                    credential.access_key_id
                )));
            }
            if !signed.iter().any(|name| name == HEADER) {
                return Err(invalid_client_token_id("X-Amz-Security-Token must be one of the SignedHeaders"));
            }
            Ok(())
        }
    }
}

/// `X-Amz-Content-SHA256` when the client sent it, which must then be the body's hash (a
/// client that hashed another body, or a body changed on the way, fails here); else the hash of
/// the body (the AWS CLI sends no such header for CloudFront).
fn payload_hash(req: &Request) -> Result<String, ApiError> {
    let body_hash = hex(&Sha256::digest(req.body));
    let mut declared = req.headers.get_all("x-amz-content-sha256").iter();
    let Some(value) = declared.next() else { return Ok(body_hash) };
    let matches = declared.next().is_none() && value.as_bytes().eq_ignore_ascii_case(body_hash.as_bytes());
    if !matches {
        return Err(signature_does_not_match(
            "The X-Amz-Content-SHA256 header is not the SHA-256 of the body received (unsigned and streaming \
             payloads are not accepted).",
        ));
    }
    Ok(value.to_str().expect("equal to ASCII hex digits").to_owned())
}

type HmacSha256 = Hmac<Sha256>;

fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length")
}

fn hmac_once(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = hmac_sha256(key);
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
fn signing_key(secret: &str, scope: &authorization::Scope) -> Vec<u8> {
    let date_key = hmac_once(format!("AWS4{secret}").as_bytes(), scope.date);
    let region_key = hmac_once(&date_key, scope.region);
    let service_key = hmac_once(&region_key, scope.service);
    hmac_once(&service_key, "aws4_request")
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[usize::from(byte >> 4)] as char);
        out.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    out
}

/// Equality whose time does not depend on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}
