//! Identities CloudFront hands out: distribution IDs (`EDFDVBD632BHDS5`), domain names
//! (`s5c39gqb8ow64r.<distribution domain>`), ARNs and ETags (`E2QWRUHAPOMQZL`).
//!
//! Randomness comes from the caller's RNG, so tests are deterministic. Uniqueness (IDs and
//! domain names are never reused) is the store's job: it draws candidates until one is free.

use rand::{Rng, RngExt};

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Characters after the leading letter, as in CloudFront's own IDs and domain names.
const RANDOM_LEN: usize = 13;

/// The two namespaces: RTMP (`s…`, `streaming-distribution/`) and web (`d…`, `distribution/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DistributionKind {
    Streaming,
    Web,
}

impl DistributionKind {
    fn domain_prefix(self) -> char {
        match self {
            DistributionKind::Streaming => 's',
            DistributionKind::Web => 'd',
        }
    }

    /// The resource type in the ARN.
    pub fn arn_resource(self) -> &'static str {
        match self {
            DistributionKind::Streaming => "streaming-distribution",
            DistributionKind::Web => "distribution",
        }
    }
}

fn random_token(rng: &mut impl Rng, first: char, alphabet: &[u8]) -> String {
    let mut token = String::with_capacity(1 + RANDOM_LEN);
    token.push(first);
    for _ in 0..RANDOM_LEN {
        token.push(alphabet[rng.random_range(0..alphabet.len())] as char);
    }
    token
}

/// A distribution ID candidate: `E` + 13 upper-case letters and digits.
pub fn generate_distribution_id(rng: &mut impl Rng) -> String {
    random_token(rng, 'E', UPPER_ALNUM)
}

/// A fresh ETag for a new config version; the same shape as CloudFront's (`E2QWRUHAPOMQZL`).
pub fn generate_etag(rng: &mut impl Rng) -> String {
    random_token(rng, 'E', UPPER_ALNUM)
}

/// Whether `id` has the shape of a distribution ID we hand out (for checking path parameters).
pub fn is_distribution_id(id: &str) -> bool {
    id.len() == 1 + RANDOM_LEN
        && id.starts_with('E')
        && id.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A domain name candidate: `s`/`d` + 13 lower-case letters and digits + `.` + the edge's
/// `--distribution-domain` (lower-cased, as every name the router compares is).
pub fn generate_domain_name(kind: DistributionKind, distribution_domain: &str, rng: &mut impl Rng) -> String {
    let label = random_token(rng, kind.domain_prefix(), LOWER_ALNUM);
    format!("{label}.{}", distribution_domain.trim_end_matches('.').to_ascii_lowercase())
}

/// `arn:aws:cloudfront::<account>:streaming-distribution/<Id>` or `…:distribution/<Id>`.
pub fn arn(kind: DistributionKind, account: &str, id: &str) -> String {
    format!("arn:aws:cloudfront::{account}:{}/{id}", kind.arn_resource())
}

/// Id, ARN and domain name of a new distribution, drawn together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionIdentity {
    pub id: String,
    pub arn: String,
    pub domain_name: String,
}

impl DistributionIdentity {
    /// One candidate; the store redraws if the id or domain name is already taken.
    pub fn generate(kind: DistributionKind, account: &str, distribution_domain: &str, rng: &mut impl Rng) -> Self {
        let id = generate_distribution_id(rng);
        let domain_name = generate_domain_name(kind, distribution_domain, rng);
        Self { arn: arn(kind, account, &id), id, domain_name }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn ids_and_etags_have_cloudfront_shape() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..200 {
            let id = generate_distribution_id(&mut rng);
            assert!(is_distribution_id(&id), "{id}");
            let etag = generate_etag(&mut rng);
            assert!(is_distribution_id(&etag), "{etag}");
        }
        assert!(!is_distribution_id("E2QWRUHAPOMQZ"));
        assert!(!is_distribution_id("e2QWRUHAPOMQZL"));
        assert!(!is_distribution_id("E2QWRUHAPOMQzL"));
    }

    #[test]
    fn domain_names_are_prefixed_lower_case_and_under_the_distribution_domain() {
        let mut rng = StdRng::seed_from_u64(2);
        let s = generate_domain_name(DistributionKind::Streaming, "CDN.Example.com.", &mut rng);
        let (label, rest) = s.split_once('.').unwrap();
        assert_eq!(rest, "cdn.example.com");
        assert_eq!(label.len(), 14);
        assert!(label.starts_with('s'));
        assert!(label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()), "{label}");
        let d = generate_domain_name(DistributionKind::Web, "cdn.example.com", &mut rng);
        assert!(d.starts_with('d') && d.ends_with(".cdn.example.com"), "{d}");
    }

    #[test]
    fn identity_draws_differ_and_arn_names_the_kind() {
        let mut rng = StdRng::seed_from_u64(3);
        let a = DistributionIdentity::generate(DistributionKind::Streaming, "123456789012", "cdn.test", &mut rng);
        let b = DistributionIdentity::generate(DistributionKind::Streaming, "123456789012", "cdn.test", &mut rng);
        assert_ne!(a.id, b.id);
        assert_ne!(a.domain_name, b.domain_name);
        assert_eq!(a.arn, format!("arn:aws:cloudfront::123456789012:streaming-distribution/{}", a.id));
        assert_eq!(
            arn(DistributionKind::Web, "123456789012", "EDFDVBD6EXAMPLE"),
            "arn:aws:cloudfront::123456789012:distribution/EDFDVBD6EXAMPLE"
        );
    }
}
