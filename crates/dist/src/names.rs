//! Syntax of the names a config carries: DNS names and aliases, S3 bucket names, origin access
//! identities, AWS account numbers. Each check returns the reason a name is refused.

/// A DNS host name as CloudFront takes it for an alias or a custom origin: 1–253 characters,
/// at least two labels, each 1–63 letters, digits or hyphens, not starting or ending with a
/// hyphen (RFC 1123 §2.1). Upper case is refused because CloudFront requires lower-case
/// alternate domain names (Developer Guide, CNAMEs.html, "Alternate domain names must be
/// lowercase"); `allow_upper` relaxes that for origin domain names.
pub fn check_host_name(name: &str, allow_upper: bool) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > 253 {
        return Err(format!("is {} characters long; a DNS name has at most 253", name.len()));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() < 2 {
        return Err(format!("{name:?} is not a fully qualified domain name (it has no dot)"));
    }
    for label in labels {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("{name:?} has a label of {} characters; labels have 1 to 63", label.len()));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!("{name:?} has a label that starts or ends with a hyphen"));
        }
        let bad = |b: u8| {
            !(b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || (allow_upper && b.is_ascii_uppercase()))
        };
        if let Some(b) = label.bytes().find(|&b| bad(b)) {
            let what = if b.is_ascii_uppercase() { "an upper-case letter" } else { "a character" };
            return Err(format!("{name:?} has {what} ({:?}) not allowed in a domain name", b as char));
        }
    }
    Ok(())
}

/// An alternate domain name. Web distributions may use one leading `*.` wildcard
/// (`*.example.com`, never `*domain.example.com` or `a.*.example.com`: CNAMEs.html).
pub fn check_alias(alias: &str, allow_wildcard: bool) -> Result<(), String> {
    match alias.strip_prefix("*.") {
        Some(rest) if allow_wildcard => check_host_name(rest, false),
        Some(_) => Err(format!("{alias:?}: wildcard aliases are only for web distributions")),
        None if alias.contains('*') => Err(format!("{alias:?}: a wildcard must be the whole first label (`*.`)")),
        None => check_host_name(alias, false),
    }
}

/// An S3 bucket name usable in a virtual-hosted domain name (S3 User Guide,
/// bucketnamingrules.html): 3–63 characters of lower-case letters, digits, dots and hyphens,
/// starting and ending with a letter or digit, no `..`, not an IPv4 address, none of the
/// reserved prefixes and suffixes. Dots are legal.
pub fn check_bucket_name(bucket: &str) -> Result<(), String> {
    if !(3..=63).contains(&bucket.len()) {
        return Err(format!("bucket name {bucket:?} must be 3 to 63 characters long"));
    }
    if let Some(c) = bucket.chars().find(|&c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')) {
        return Err(format!(
            "bucket name {bucket:?} has {c:?}; only lower-case letters, digits, '.' and '-' are allowed"
        ));
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !edge_ok(bucket.chars().next()) || !edge_ok(bucket.chars().last()) {
        return Err(format!("bucket name {bucket:?} must start and end with a letter or digit"));
    }
    if bucket.contains("..") || bucket.contains(".-") || bucket.contains("-.") {
        return Err(format!("bucket name {bucket:?} has an empty or hyphen-edged label"));
    }
    if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err(format!("bucket name {bucket:?} is formatted as an IP address"));
    }
    if bucket.starts_with("xn--")
        || bucket.starts_with("sthree-")
        || bucket.ends_with("-s3alias")
        || bucket.ends_with("--ol-s3")
    {
        return Err(format!("bucket name {bucket:?} uses a prefix or suffix S3 reserves"));
    }
    Ok(())
}

/// `OriginAccessIdentity`: empty (public bucket) or `origin-access-identity/cloudfront/<ID>`
/// with an upper-case alphanumeric ID such as `E74FTE3AEXAMPLE`.
pub fn check_origin_access_identity(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    match value.strip_prefix("origin-access-identity/cloudfront/") {
        Some(id)
            if !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()) =>
        {
            Ok(())
        }
        _ => Err(format!("{value:?} is neither empty nor origin-access-identity/cloudfront/<ID>")),
    }
}

/// A trusted signer: `self` or a 12-digit AWS account number.
pub fn check_trusted_signer(value: &str) -> Result<(), String> {
    if value == "self" || is_account_number(value) {
        return Ok(());
    }
    Err(format!("{value:?} is neither \"self\" nor a 12-digit AWS account number"))
}

pub fn is_account_number(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        for ok in ["media.example.com", "a.b", "x-1.example.co.uk", &format!("{}.com", "a".repeat(63))] {
            assert_eq!(check_host_name(ok, false), Ok(()), "{ok}");
        }
        for bad in ["", "localhost", "a..b", ".a.b", "a.b.", "-a.b", "a-.b", "a_b.com", "Media.example.com", "a b.com"]
        {
            assert!(check_host_name(bad, false).is_err(), "{bad}");
        }
        assert!(check_host_name(&format!("{}.com", "a".repeat(64)), false).is_err());
        assert!(check_host_name(&format!("{}com", "abcdefghi.".repeat(26)), false).is_err());
        assert_eq!(check_host_name("Origin.Example.com", true), Ok(()));
    }

    #[test]
    fn aliases_and_wildcards() {
        assert_eq!(check_alias("*.example.com", true), Ok(()));
        assert!(check_alias("*.example.com", false).unwrap_err().contains("only for web"));
        for bad in ["*example.com", "a.*.example.com", "*.*.example.com", "*.com."] {
            assert!(check_alias(bad, true).is_err(), "{bad}");
        }
        assert!(check_alias("*.com", true).is_err(), "wildcard over a bare TLD");
    }

    #[test]
    fn bucket_names() {
        for ok in ["abc", "my.media.bucket", "a-b-c", "123bucket"] {
            assert_eq!(check_bucket_name(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ab",
            "Abc",
            "a_b",
            "-abc",
            "abc-",
            "a..b",
            "a.-b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            &"a".repeat(64),
        ] {
            assert!(check_bucket_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origin_access_identities_and_signers() {
        assert_eq!(check_origin_access_identity(""), Ok(()));
        assert_eq!(check_origin_access_identity("origin-access-identity/cloudfront/E74FTE3AEXAMPLE"), Ok(()));
        for bad in ["E74FTE3AEXAMPLE", "origin-access-identity/cloudfront/", "origin-access-identity/cloudfront/e7/x"] {
            assert!(check_origin_access_identity(bad).is_err(), "{bad}");
        }
        assert_eq!(check_trusted_signer("self"), Ok(()));
        assert_eq!(check_trusted_signer("123456789012"), Ok(()));
        for bad in ["Self", "12345678901", "1234567890123", "12345678901a"] {
            assert!(check_trusted_signer(bad).is_err(), "{bad}");
        }
    }
}
