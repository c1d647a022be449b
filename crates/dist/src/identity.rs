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

/// An id candidate for the other resources: `first` + 13 upper-case letters and digits, as in
/// CloudFront's public key (`K2JCJMDEHXQW5F`), invalidation (`I2J0I21PCUYOIK`), OAI
/// (`E74FTE3AEXAMPLE`) and OAC (`EIAP8PEXAMPLE`) ids.
pub fn generate_resource_id(first: char, rng: &mut impl Rng) -> String {
    random_token(rng, first, UPPER_ALNUM)
}

/// A key group id candidate: CloudFront gives key groups UUIDs
/// (`2b8b5d92-6fa9-4ab2-9b0f-1e2fe8d3c2a1`); this is a random (version 4) one.
pub fn generate_uuid(rng: &mut impl Rng) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
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
        let key = generate_resource_id('K', &mut rng);
        assert!(key.starts_with('K') && key.len() == 14 && key[1..].bytes().all(|b| UPPER_ALNUM.contains(&b)), "{key}");
    }

    #[test]
    fn uuids_are_version_4() {
        let mut rng = StdRng::seed_from_u64(4);
        let uuid = generate_uuid(&mut rng);
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{uuid}");
        assert!(groups[2].starts_with('4') && "89ab".contains(&groups[3][..1]), "{uuid}");
        assert!(uuid.bytes().all(|b| b == b'-' || b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{uuid}");
        assert_ne!(uuid, generate_uuid(&mut rng));
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
