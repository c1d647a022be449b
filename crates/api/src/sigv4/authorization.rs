//! The `Authorization` header of a SigV4-signed request:
//! `AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/cloudfront/aws4_request,
//! SignedHeaders=host;x-amz-date, Signature=<64 hex digits>` (botocore auth.py,
//! `SigV4Auth._inject_signature_to_request`;
//! https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).

use super::refusal::{incomplete_signature, missing_authentication_token};
use crate::ApiError;

pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Longest `Authorization` header read: botocore's are about 200 bytes, and 64 signed header
/// names of 64 bytes each still fit.
pub(crate) const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;
/// Most names in `SignedHeaders` (botocore signs 2 to 5 for CloudFront).
pub(crate) const MAX_SIGNED_HEADERS: usize = 64;
const SCOPE_TERMINATOR: &str = "aws4_request";

/// `Credential=<access key id>/<scope>`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Scope<'a> {
    /// `yyyymmdd`.
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

impl Scope<'_> {
    /// `yyyymmdd/region/service/aws4_request`, as in the string to sign.
    pub fn to_line(&self) -> String {
        format!("{}/{}/{}/{SCOPE_TERMINATOR}", self.date, self.region, self.service)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Authorization<'a> {
    pub access_key_id: &'a str,
    pub scope: Scope<'a>,
    /// Lowercase, sorted, each once.
    pub signed_headers: Vec<String>,
    pub signature: [u8; 32],
}

/// Parses the header's value; `value` is at most [`MAX_AUTHORIZATION_LEN`] bytes.
pub(crate) fn parse(value: &str) -> Result<Authorization<'_>, ApiError> {
    let Some(parameters) = value.strip_prefix(ALGORITHM).filter(|rest| rest.starts_with(' ')) else {
        let scheme = value.split(' ').next().unwrap_or("");
        let scheme: String = scheme.chars().take(32).collect();
        return Err(missing_authentication_token(&format!(
            "the Authorization header's scheme is {scheme:?}, only {ALGORITHM} is accepted"
        )));
    };
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for parameter in parameters.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = parameter.split_once('=').unwrap_or((parameter, ""));
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => {
                let name: String = name.chars().take(32).collect();
                return Err(incomplete_signature(format_args!(
                    "unknown Authorization parameter {name:?} (expected Credential, SignedHeaders and Signature)"
                )));
            }
        };
        if slot.replace(value).is_some() {
            return Err(incomplete_signature(format_args!("Authorization header has {name} twice")));
        }
    }
    let missing: Vec<&str> = [("Credential", credential), ("SignedHeaders", signed_headers), ("Signature", signature)]
        .into_iter()
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        return Err(incomplete_signature(format_args!(
            "Authorization header requires the parameter(s) {}",
            missing.join(", ")
        )));
    }
    let (credential, signed_headers, signature) = (credential.unwrap(), signed_headers.unwrap(), signature.unwrap());
    let (access_key_id, scope) = parse_credential(credential)?;
    Ok(Authorization {
        access_key_id,
        scope,
        signed_headers: parse_signed_headers(signed_headers)?,
        signature: parse_signature(signature)?,
    })
}

fn parse_credential(credential: &str) -> Result<(&str, Scope<'_>), ApiError> {
    let malformed = || {
        incomplete_signature(format_args!(
            "Credential must be <access key id>/<yyyymmdd>/<region>/<service>/{SCOPE_TERMINATOR}"
        ))
    };
    let mut parts = credential.split('/');
    let (Some(id), Some(date), Some(region), Some(service), Some(terminator), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let date_ok = date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit());
    if id.is_empty() || !date_ok || region.is_empty() || service.is_empty() || terminator != SCOPE_TERMINATOR {
        return Err(malformed());
    }
    Ok((id, Scope { date, region, service }))
}

fn parse_signed_headers(list: &str) -> Result<Vec<String>, ApiError> {
    if list.split(';').nth(MAX_SIGNED_HEADERS).is_some() {
        return Err(incomplete_signature(format_args!("SignedHeaders names more than {MAX_SIGNED_HEADERS} headers")));
    }
    let mut names = Vec::new();
    for name in list.split(';') {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            let name: String = name.chars().take(64).collect();
            return Err(incomplete_signature(format_args!("SignedHeaders has an invalid header name {name:?}")));
        }
        names.push(name.to_ascii_lowercase());
    }
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

fn parse_signature(hex: &str) -> Result<[u8; 32], ApiError> {
    let malformed = || incomplete_signature("Signature must be 64 hexadecimal digits");
    if hex.len() != 64 {
        return Err(malformed());
    }
    let mut signature = [0u8; 32];
    for (byte, pair) in signature.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let digits = std::str::from_utf8(pair).map_err(|_| malformed())?;
        *byte = u8::from_str_radix(digits, 16).map_err(|_| malformed())?;
    }
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTOCORE: &str = "AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/cloudfront/aws4_request, \
                            SignedHeaders=host;if-match;x-amz-date, \
                            Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

    #[test]
    fn parses_what_botocore_sends() {
        let authorization = parse(BOTOCORE).unwrap();
        assert_eq!(authorization.access_key_id, "AKID");
        assert_eq!(authorization.scope, Scope { date: "20261207", region: "us-east-1", service: "cloudfront" });
        assert_eq!(authorization.scope.to_line(), "20261207/us-east-1/cloudfront/aws4_request");
        assert_eq!(authorization.signed_headers, ["host", "if-match", "x-amz-date"]);
        assert_eq!(authorization.signature[..3], [0x5f, 0xa0, 0x0f]);
    }

    #[test]
    fn refuses_malformed_headers_with_the_reason() {
        let code_of = |value: &str| parse(value).unwrap_err().code;
        assert_eq!(code_of("AWS AKID:c2lnbmF0dXJl"), "MissingAuthenticationToken");
        assert_eq!(code_of("AWS4-HMAC-SHA256Credential=x"), "MissingAuthenticationToken");
        let without_signature = BOTOCORE.split(", Signature").next().unwrap();
        let err = parse(without_signature).unwrap_err();
        assert_eq!((err.code, err.message.contains("Signature")), ("IncompleteSignature", true), "{err}");
        for bad in [
            BOTOCORE.replace("aws4_request", "aws5_request"),
            BOTOCORE.replace("/20261207/", "/2026127/"),
            BOTOCORE.replace("/us-east-1/", "//"),
            BOTOCORE.replace("AKID/", "AKID/extra/"),
            BOTOCORE.replace("Signature=5", "Signature=g"),
            BOTOCORE.replace("Signature=5", "Signature="),
            BOTOCORE.replace("host;", "ho st;"),
            BOTOCORE.replace("host;", ";"),
            format!("{BOTOCORE}, Signature=00"),
            format!("{BOTOCORE}, Extra=1"),
        ] {
            assert_eq!(code_of(&bad), "IncompleteSignature", "{bad}");
        }
        let many = (0..=MAX_SIGNED_HEADERS).map(|i| format!("x-h{i}")).collect::<Vec<_>>().join(";");
        assert_eq!(code_of(&BOTOCORE.replace("host;if-match;x-amz-date", &many)), "IncompleteSignature");
    }
}
