//! The signing parameters of a stream name: `name?[own params&]Expires=…&Signature=…&Key-Pair-Id=…`
//! (canned policy) or `…Policy=…&Signature=…&Key-Pair-Id=…` (custom policy), as the Amazon
//! CloudFront Developer Guide describes for RTMP distributions ("Creating a signed URL using a
//! canned policy" / "… custom policy"; botocore `CloudFrontSigner.generate_presigned_url`).
//!
//! Flash pages that pass the name through flashvars escape it (`?` → `%3F`, `=` → `%3D`, `&` →
//! `%26`; the Developer Guide's Perl `escape_url_for_webpage` and PHP `encode_query_params`
//! examples): [`split_stream_name`] undoes that when the escaped query holds a signing parameter.

use crate::SignError;
use crate::base64url;

/// The names CloudFront reserves for its signing parameters.
pub const EXPIRES: &str = "Expires";
pub const POLICY: &str = "Policy";
pub const SIGNATURE: &str = "Signature";
pub const KEY_PAIR_ID: &str = "Key-Pair-Id";
const SIGNING_NAMES: [&str; 4] = [EXPIRES, POLICY, SIGNATURE, KEY_PAIR_ID];

/// Longest encoded policy accepted (CloudFront's own URL limit is 8192 bytes).
pub const MAX_POLICY_LEN: usize = 8192;
/// Longest encoded signature accepted: a 4096-bit RSA signature is 684 characters.
const MAX_SIGNATURE_LEN: usize = 1024;
/// Longest key pair id accepted (legacy ids are 20 characters, public key ids 14).
const MAX_KEY_PAIR_ID_LEN: usize = 128;

/// The signing parameters of one signed name, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningParams {
    pub policy: PolicySource,
    pub signature: Vec<u8>,
    pub key_pair_id: String,
}

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// `Expires`: a canned policy, rebuilt from the resource and this time.
    Canned { expires: u64 },
    /// `Policy`: the custom policy's bytes, exactly as signed.
    Custom(Vec<u8>),
}

/// Splits a stream name into the name and its query string (without `?`), unescaping a query
/// that a Flash page escaped. A `%3F` not followed by a signing parameter is part of the name.
pub fn split_stream_name(name: &str) -> (&str, Option<String>) {
    if let Some((name, query)) = name.split_once('?') {
        return (name, Some(query.to_owned()));
    }
    let Some(at) = find_ignore_case(name, "%3F") else { return (name, None) };
    let query = unescape_query(&name[at + 3..]);
    if query.split('&').any(|pair| SIGNING_NAMES.contains(&pair.split_once('=').map_or(pair, |(k, _)| k))) {
        (&name[..at], Some(query))
    } else {
        (name, None)
    }
}

/// The signing parameters of `query`, or why they are unusable. `Ok(None)`: the query has none.
///
/// The signing parameters must come last (the Developer Guide: own parameters go "before the
/// Expires parameter"), each once: a parameter appended to a signed name is refused, so that
/// nobody can extend or change a name after it was signed.
pub fn parse_query(query: &str) -> Result<Option<SigningParams>, SignError> {
    let mut expires = None;
    let mut policy = None;
    let mut signature = None;
    let mut key_pair_id = None;
    let mut signing_started = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match key {
            EXPIRES => &mut expires,
            POLICY => &mut policy,
            SIGNATURE => &mut signature,
            KEY_PAIR_ID => &mut key_pair_id,
            _ if signing_started => {
                return Err(SignError::Malformed(format!("parameter {key:?} follows the signing parameters")));
            }
            _ => continue,
        };
        signing_started = true;
        if slot.replace(value).is_some() {
            return Err(SignError::Malformed(format!("{key} is given twice")));
        }
    }
    if !signing_started {
        return Ok(None);
    }
    let key_pair_id = key_pair_id.filter(|id| !id.is_empty()).ok_or(SignError::MissingKeyPairId)?;
    if key_pair_id.len() > MAX_KEY_PAIR_ID_LEN {
        return Err(SignError::Malformed(format!("{KEY_PAIR_ID} must have 1 to {MAX_KEY_PAIR_ID_LEN} characters")));
    }
    let malformed_signature = |why: String| SignError::MalformedSignature(why);
    let signature = signature.ok_or_else(|| malformed_signature(format!("{SIGNATURE} is missing")))?;
    if signature.len() > MAX_SIGNATURE_LEN {
        return Err(malformed_signature(format!("{SIGNATURE} is longer than {MAX_SIGNATURE_LEN} characters")));
    }
    let signature = base64url::decode(signature)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed_signature(format!("{SIGNATURE} is not CloudFront's base64")))?;
    // A custom policy wins when both are given: aws-cloudfront-sign (npm) sends both.
    let policy = match (policy, expires) {
        (Some(policy), _) => {
            if policy.len() > MAX_POLICY_LEN {
                return Err(SignError::MalformedPolicy(format!("{POLICY} is longer than {MAX_POLICY_LEN} characters")));
            }
            PolicySource::Custom(
                base64url::decode(policy)
                    .ok_or_else(|| SignError::MalformedPolicy(format!("{POLICY} is not CloudFront's base64")))?,
            )
        }
        (None, Some(expires)) => PolicySource::Canned { expires: parse_epoch(expires)? },
        (None, None) => return Err(SignError::MalformedPolicy(format!("neither {EXPIRES} nor {POLICY} is given"))),
    };
    Ok(Some(SigningParams { policy, signature, key_pair_id: key_pair_id.to_owned() }))
}

/// Seconds since the epoch, as the policies write them: decimal digits.
fn parse_epoch(text: &str) -> Result<u64, SignError> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignError::MalformedPolicy(format!("{EXPIRES} {text:?} is not a time in epoch seconds")));
    }
    text.parse().map_err(|_| SignError::MalformedPolicy(format!("{EXPIRES} {text:?} is out of range")))
}

/// Whether `query` has any of the signing parameters: then it is a signed URL, and signed
/// cookies are not looked at (Developer Guide, "Deciding to use signed URLs or signed cookies").
pub fn has_signing_params(query: &str) -> bool {
    query.split('&').any(|pair| SIGNING_NAMES.contains(&pair.split_once('=').map_or(pair, |(k, _)| k)))
}

/// `query` without the signing parameters, the others in their order: what the URL was signed
/// for, and what CloudFront forwards to the origin (Developer Guide, "Cache content based on
/// query string parameters": it removes `Expires`, `Key-Pair-Id`, `Policy` and `Signature`).
pub fn without_signing_params(query: &str) -> String {
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty() && !SIGNING_NAMES.contains(&pair.split_once('=').map_or(*pair, |(k, _)| k)))
        .collect();
    kept.join("&")
}

/// The names of signed cookies (Developer Guide, "Setting signed cookies using a canned
/// policy" / "… custom policy"); names are case-sensitive.
const COOKIE_NAMES: [(&str, &str); 4] = [
    ("CloudFront-Expires", EXPIRES),
    ("CloudFront-Policy", POLICY),
    ("CloudFront-Signature", SIGNATURE),
    ("CloudFront-Key-Pair-Id", KEY_PAIR_ID),
];

/// The signing parameters of `Cookie` header values (`CloudFront-Expires`|`CloudFront-Policy`,
/// `CloudFront-Signature`, `CloudFront-Key-Pair-Id`). `Ok(None)`: none of those cookies. A
/// cookie given twice keeps its first value, as browsers send the most specific path first
/// (RFC 6265 §5.4).
pub fn parse_cookies<'a>(headers: impl IntoIterator<Item = &'a str>) -> Result<Option<SigningParams>, SignError> {
    let mut values: [Option<&str>; 4] = [None; 4];
    for header in headers {
        for cookie in header.split(';') {
            let Some((name, value)) = cookie.trim().split_once('=') else { continue };
            if let Some(at) = COOKIE_NAMES.iter().position(|(cookie_name, _)| *cookie_name == name) {
                values[at].get_or_insert(value.trim_matches('"'));
            }
        }
    }
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    // The values become one query for `parse_query`: a value holding `&` or `=` could smuggle
    // in another parameter, and none of CloudFront's values has either.
    let mut query = Vec::new();
    for ((_, param), value) in COOKIE_NAMES.iter().zip(values) {
        let Some(value) = value else { continue };
        if value.contains(['&', '=']) {
            return Err(SignError::Malformed(format!("the {param} cookie holds '&' or '='")));
        }
        query.push(format!("{param}={value}"));
    }
    parse_query(&query.join("&"))
}

/// `%3D` → `=`, `%26` → `&` (any case); other escapes stay as they are.
fn unescape_query(query: &str) -> String {
    let mut out = String::with_capacity(query.len());
    let mut rest = query;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).map(str::to_ascii_uppercase);
        match escape.as_deref() {
            Some("%3D") => out.push('='),
            Some("%26") => out.push('&'),
            _ => {
                out.push('%');
                rest = &rest[at + 1..];
                continue;
            }
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    out
}

fn find_ignore_case(haystack: &str, needle: &str) -> Option<usize> {
    haystack.as_bytes().windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_and_escaped_names() {
        assert_eq!(split_stream_name("mp4:a.mp4"), ("mp4:a.mp4", None));
        assert_eq!(split_stream_name("a?x=1&Expires=2"), ("a", Some("x=1&Expires=2".into())));
        let escaped = "mp4:example/video.mp4%3FPolicy%3Dab_%26Signature%3Dcd%26Key-Pair-Id%3DPK12345EXAMPLE";
        assert_eq!(
            split_stream_name(escaped),
            ("mp4:example/video.mp4", Some("Policy=ab_&Signature=cd&Key-Pair-Id=PK12345EXAMPLE".into()))
        );
        assert_eq!(split_stream_name("a%3fExpires%3d1"), ("a", Some("Expires=1".into())), "lower case");
        // A name that merely contains %3F keeps it.
        assert_eq!(split_stream_name("what%3Fnot.flv"), ("what%3Fnot.flv", None));
    }

    #[test]
    fn parses_canned_and_custom_parameters() {
        let canned = parse_query("color=red&Expires=1357034400&Signature=c2lnbmVk&Key-Pair-Id=APKA").unwrap().unwrap();
        assert_eq!(canned.policy, PolicySource::Canned { expires: 1357034400 });
        assert_eq!(canned.signature, b"signed");
        assert_eq!(canned.key_pair_id, "APKA");
        let custom = parse_query("Policy=eyJ9&Signature=c2lnbmVk&Key-Pair-Id=K1").unwrap().unwrap();
        assert_eq!(custom.policy, PolicySource::Custom(b"{\"}".to_vec()));
        let both = parse_query("Expires=1&Policy=eyJ9&Signature=c2lnbmVk&Key-Pair-Id=K1").unwrap().unwrap();
        assert!(matches!(both.policy, PolicySource::Custom(_)), "npm aws-cloudfront-sign sends both");
        assert_eq!(parse_query("color=red").unwrap(), None);
        assert_eq!(parse_query("").unwrap(), None);
    }

    #[test]
    fn refuses_what_was_changed_or_left_out() {
        for (query, why) in [
            ("Expires=1&Signature=c2lnbmVk&Key-Pair-Id=K&x=1", "follows"),
            ("Expires=1&Signature=c2lnbmVk&Key-Pair-Id=K&Expires=9", "twice"),
            ("Expires=1&Key-Pair-Id=K", "Signature is missing"),
            ("Signature=c2lnbmVk&Key-Pair-Id=K", "neither"),
            ("Expires=-1&Signature=c2lnbmVk&Key-Pair-Id=K", "epoch"),
            ("Expires=99999999999999999999&Signature=c2lnbmVk&Key-Pair-Id=K", "epoch"),
            ("Expires=1&Signature=!!&Key-Pair-Id=K", "base64"),
            ("Policy=!!&Signature=c2lnbmVk&Key-Pair-Id=K", "base64"),
        ] {
            match parse_query(query) {
                Err(error) if error.is_malformed() => assert!(error.to_string().contains(why), "{query}: {error}"),
                other => panic!("{query}: {other:?}"),
            }
        }
        for query in ["Expires=1&Signature=c2lnbmVk", "Expires=1&Signature=c2lnbmVk&Key-Pair-Id="] {
            assert_eq!(parse_query(query), Err(SignError::MissingKeyPairId), "{query}");
        }
        assert!(matches!(parse_query("Expires=1&Signature=!!&Key-Pair-Id=K"), Err(SignError::MalformedSignature(_))));
        assert!(matches!(
            parse_query("Policy=!!&Signature=c2lnbmVk&Key-Pair-Id=K"),
            Err(SignError::MalformedPolicy(_))
        ));
        let long = format!("Policy={}&Signature=c2lnbmVk&Key-Pair-Id=K", "A".repeat(MAX_POLICY_LEN + 4));
        assert!(matches!(parse_query(&long), Err(SignError::MalformedPolicy(_))));
    }

    #[test]
    fn strips_signing_params_in_order() {
        let query = "b=2&a=1&Expires=1&Signature=c2lnbmVk&Key-Pair-Id=K";
        assert_eq!(without_signing_params(query), "b=2&a=1");
        assert_eq!(without_signing_params("Policy=x&Signature=y"), "");
        assert!(has_signing_params(query) && has_signing_params("Key-Pair-Id") && !has_signing_params("Expiresx=1"));
    }

    #[test]
    fn reads_signed_cookies() {
        let header =
            "theme=dark; CloudFront-Expires=1357034400; CloudFront-Signature=c2lnbmVk; CloudFront-Key-Pair-Id=K1";
        let params = parse_cookies([header]).unwrap().unwrap();
        assert_eq!(params.policy, PolicySource::Canned { expires: 1357034400 });
        assert_eq!((params.signature.as_slice(), params.key_pair_id.as_str()), (&b"signed"[..], "K1"));
        let split = ["CloudFront-Policy=eyJ9", "CloudFront-Signature=c2lnbmVk; CloudFront-Key-Pair-Id=K2"];
        assert_eq!(parse_cookies(split).unwrap().unwrap().policy, PolicySource::Custom(b"{\"}".to_vec()));
        assert_eq!(parse_cookies(["theme=dark", "cloudfront-expires=1"]).unwrap(), None, "names are case-sensitive");
        assert_eq!(
            parse_cookies(["CloudFront-Expires=1; CloudFront-Signature=c2lnbmVk"]),
            Err(SignError::MissingKeyPairId)
        );
        let smuggled = "CloudFront-Expires=1; CloudFront-Signature=c2lnbmVk; CloudFront-Key-Pair-Id=K&Policy=eyJ9";
        assert!(matches!(parse_cookies([smuggled]), Err(SignError::Malformed(_))));
    }
}
