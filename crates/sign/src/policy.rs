//! Policies: the canned policy CloudFront rebuilds byte for byte, and custom policies, parsed
//! leniently (white space and key order are free: the Developer Guide's own examples have
//! both) but failing closed on anything they do not understand.
//!
//! Amazon CloudFront Developer Guide, "Creating a signed URL using a canned policy" and
//! "… custom policy": one statement; `DateLessThan` required; `DateGreaterThan` and
//! `IpAddress` (`AWS:SourceIp`, one address or CIDR range) optional; `*` and `?` wildcards in
//! `Resource`, which may be left out (any resource).

use std::net::IpAddr;

use serde_json::Value;

use crate::SignError;

/// The canned policy for `resource`, exactly as CloudFront rebuilds it (and as botocore's
/// `CloudFrontSigner.build_policy` writes it: `json.dumps` with `(',', ':')` separators).
pub fn canned_policy(resource: &str, expires: u64) -> String {
    let resource = Value::String(resource.to_owned());
    format!(
        r#"{{"Statement":[{{"Resource":{resource},"Condition":{{"DateLessThan":{{"AWS:EpochTime":{expires}}}}}}}]}}"#
    )
}

/// What a policy allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `None`: any resource.
    pub resource: Option<String>,
    /// Valid before this time (epoch seconds).
    pub date_less_than: u64,
    /// Valid from this time on (epoch seconds).
    pub date_greater_than: Option<u64>,
    pub source_ip: Option<Cidr>,
}

impl Policy {
    /// A canned policy's meaning.
    pub fn canned(resource: &str, expires: u64) -> Policy {
        Policy {
            resource: Some(resource.to_owned()),
            date_less_than: expires,
            date_greater_than: None,
            source_ip: None,
        }
    }

    /// Parses a custom policy's JSON.
    pub fn parse(json: &[u8]) -> Result<Policy, SignError> {
        let malformed = |why: &str| SignError::MalformedPolicy(why.to_owned());
        let value: Value = serde_json::from_slice(json).map_err(|e| malformed(&format!("not JSON ({e})")))?;
        let statements =
            value.get("Statement").and_then(Value::as_array).ok_or_else(|| malformed("no Statement list"))?;
        let [statement] = statements.as_slice() else {
            return Err(malformed("it must have exactly one statement"));
        };
        let resource = match statement.get("Resource") {
            None => None,
            Some(Value::String(resource)) => Some(resource.clone()),
            Some(_) => return Err(malformed("Resource is not a string")),
        };
        let condition =
            statement.get("Condition").and_then(Value::as_object).ok_or_else(|| malformed("no Condition object"))?;
        let mut policy = Policy { resource, date_less_than: 0, date_greater_than: None, source_ip: None };
        let mut date_less_than = None;
        for (name, test) in condition {
            match name.as_str() {
                "DateLessThan" => date_less_than = Some(epoch_time(test).ok_or_else(|| malformed("bad DateLessThan"))?),
                "DateGreaterThan" => {
                    policy.date_greater_than = Some(epoch_time(test).ok_or_else(|| malformed("bad DateGreaterThan"))?)
                }
                "IpAddress" => {
                    let ip =
                        test.get("AWS:SourceIp").and_then(Value::as_str).ok_or_else(|| malformed("bad IpAddress"))?;
                    policy.source_ip =
                        Some(Cidr::parse(ip).ok_or_else(|| malformed(&format!("bad AWS:SourceIp {ip:?}")))?);
                }
                // A condition this server does not know could only restrict: refuse rather than ignore it.
                other => return Err(malformed(&format!("unknown condition {other:?}"))),
            }
        }
        policy.date_less_than = date_less_than.ok_or_else(|| malformed("DateLessThan is required"))?;
        Ok(policy)
    }

    /// True when the resource pattern matches one of `resources`.
    pub fn matches_any(&self, resources: &[String]) -> bool {
        match &self.resource {
            None => true,
            Some(pattern) => resources.iter().any(|r| wildcard_match(pattern, r)),
        }
    }

    /// Checks the time and address conditions for a viewer at `ip` at `now` (epoch seconds).
    pub fn check_conditions(&self, now: u64, ip: IpAddr) -> Result<(), SignError> {
        if now >= self.date_less_than {
            return Err(SignError::Expired { at: self.date_less_than });
        }
        if let Some(from) = self.date_greater_than
            && now < from
        {
            return Err(SignError::NotYetValid { from });
        }
        if let Some(cidr) = &self.source_ip
            && !cidr.contains(ip)
        {
            return Err(SignError::WrongIp { ip, allowed: cidr.to_string() });
        }
        Ok(())
    }
}

/// `{"AWS:EpochTime": N}`; N a non-negative integer (a quoted one is accepted too).
fn epoch_time(test: &Value) -> Option<u64> {
    match test.get("AWS:EpochTime")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse().ok(),
        _ => None,
    }
}

/// `*` matches any run of characters (`/` included), `?` exactly one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // The last `*` seen and the text position it was tried at: backtrack there on a mismatch.
    // This is linear in practice and O(|p|·|t|) at worst.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((star_pi, star_ti)) = star {
            pi = star_pi + 1;
            ti = star_ti + 1;
            star = Some((star_pi, star_ti + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// An address range: `192.0.2.0/24`, or one address (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(text: &str) -> Option<Cidr> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && p.len() <= 3 => p.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(Cidr { network, prefix })
    }

    /// True when `ip` (an IPv4-mapped IPv6 address counts as IPv4) is in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_eq(u32::from(net).into(), u32::from(ip).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => prefix_eq(u128::from(net), u128::from(ip), self.prefix, 128),
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// True when the first `prefix` of `bits` bits of `a` and `b` are equal.
fn prefix_eq(a: u128, b: u128, prefix: u8, bits: u32) -> bool {
    let shift = bits - u32::from(prefix);
    shift >= bits || (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_policies_are_rebuilt_byte_for_byte() {
        // botocore's tests/unit/test_signers.py (TestCloudfrontSigner).
        assert_eq!(
            canned_policy("foo", 1451606400),
            r#"{"Statement":[{"Resource":"foo","Condition":{"DateLessThan":{"AWS:EpochTime":1451606400}}}]}"#
        );
        // The Developer Guide's example, as boto's tests/unit/cloudfront/test_signed_urls.py has it.
        assert_eq!(
            canned_policy("http://d604721fxaaqy9.cloudfront.net/horizon.jpg?large=yes&license=yes", 1258237200),
            r#"{"Statement":[{"Resource":"http://d604721fxaaqy9.cloudfront.net/horizon.jpg?large=yes&license=yes","Condition":{"DateLessThan":{"AWS:EpochTime":1258237200}}}]}"#
        );
        // Quotes and backslashes are escaped as json.dumps escapes them.
        assert_eq!(
            canned_policy(r#"a"b\c"#, 1),
            r#"{"Statement":[{"Resource":"a\"b\\c","Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]}"#
        );
    }

    #[test]
    fn custom_policies_are_parsed_leniently() {
        // The Developer Guide's custom policy 2, with its white space and line breaks.
        let doc = "{ \n   \"Statement\": [{ \n      \"Resource\":\"http://*\", \n      \"Condition\":{ \n         \"IpAddress\":{\"AWS:SourceIp\":\"216.98.35.1/32\"},\n         \"DateGreaterThan\":{\"AWS:EpochTime\":1241073790},\n         \"DateLessThan\":{\"AWS:EpochTime\":1255674716}\n      } \n   }] \n}\n";
        let policy = Policy::parse(doc.as_bytes()).unwrap();
        assert_eq!(policy.resource.as_deref(), Some("http://*"));
        assert_eq!((policy.date_greater_than, policy.date_less_than), (Some(1241073790), 1255674716));
        assert_eq!(policy.source_ip, Cidr::parse("216.98.35.1"));
        let no_resource = Policy::parse(br#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":"5"}}}]}"#);
        assert!(no_resource.unwrap().matches_any(&["anything".into()]));
    }

    #[test]
    fn bad_policies_are_malformed() {
        for json in [
            "not json",
            r#"{"Statement":[]}"#,
            r#"{"Statement":[{"Condition":{}}]}"#,
            r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":-1}}}]}"#,
            r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1},"IpAddress":{"AWS:SourceIp":"1.2.3.4/33"}}}]}"#,
            r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1},"StringEquals":{}}}]}"#,
            r#"{"Statement":[{"Resource":1,"Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]}"#,
            r#"{"Statement":[{"Condition":{"DateLessThan":{"AWS:EpochTime":1}}},{"Condition":{"DateLessThan":{"AWS:EpochTime":1}}}]}"#,
        ] {
            assert!(matches!(Policy::parse(json.as_bytes()), Err(SignError::MalformedPolicy(_))), "{json}");
        }
    }

    #[test]
    fn conditions() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let policy = Policy {
            resource: None,
            date_less_than: 200,
            date_greater_than: Some(100),
            source_ip: Cidr::parse("192.0.2.0/24"),
        };
        assert_eq!(policy.check_conditions(150, ip("192.0.2.7")), Ok(()));
        assert_eq!(policy.check_conditions(100, ip("192.0.2.7")), Ok(()), "from DateGreaterThan on");
        assert_eq!(policy.check_conditions(150, ip("::ffff:192.0.2.7")), Ok(()), "IPv4-mapped");
        assert_eq!(policy.check_conditions(200, ip("192.0.2.7")), Err(SignError::Expired { at: 200 }));
        assert_eq!(policy.check_conditions(99, ip("192.0.2.7")), Err(SignError::NotYetValid { from: 100 }));
        assert!(matches!(policy.check_conditions(150, ip("192.0.3.1")), Err(SignError::WrongIp { .. })));
        assert!(matches!(policy.check_conditions(150, ip("2001:db8::1")), Err(SignError::WrongIp { .. })));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        assert!(Cidr::parse("2001:db8::/32").unwrap().contains(ip("2001:db8:1::1")));
        assert!(Cidr::parse("1.2.3.4/").is_none() && Cidr::parse("1.2.3/8").is_none());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("videos/*", "videos/a/b.mp4"));
        assert!(wildcard_match("videos/*", "videos/"));
        assert!(!wildcard_match("videos/*", "video/a.mp4"));
        assert!(wildcard_match("clip?.flv", "clip1.flv"));
        assert!(!wildcard_match("clip?.flv", "clip.flv"));
        assert!(wildcard_match("*a*b*", "xxaxxbxx"));
        assert!(!wildcard_match("*a*b", "xxaxxbxxc"));
        assert!(wildcard_match("exact", "exact") && !wildcard_match("exact", "exactly"));
        assert!(wildcard_match("*", ""));
    }
}
