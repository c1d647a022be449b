//! `[[streaming_distributions]]` entries into CloudFront-shaped records (checked with sf-dist)
//! and the origin spec each one reads.
//!
//! Ids and domain names left out are derived from the entry (FNV-1a of its domain name, else
//! of its origin), not drawn at random, so a restart serves the same names.

use sf_dist::{
    S3Origin, Status, StreamingDistribution, StreamingDistributionConfig, StreamingLoggingConfig, Tag, Timestamp,
    TrustedSigners, codes, parse_s3_origin_domain, validate_streaming_config,
};

use crate::settings::StreamingDistributionEntry;

/// A streaming distribution from the config file and the origin it reads (`s3://…` or a
/// directory, as `--origin` takes it).
pub struct StaticDistribution {
    pub record: StreamingDistribution,
    pub origin_spec: String,
}

/// Checks and completes the entries; the error names the entry and the key.
pub fn from_entries(
    entries: &[StreamingDistributionEntry],
    distribution_domain: &str,
) -> Result<Vec<StaticDistribution>, String> {
    entries.iter().enumerate().map(|(n, entry)| from_entry(n + 1, entry, distribution_domain)).collect()
}

fn from_entry(n: usize, entry: &StreamingDistributionEntry, domain: &str) -> Result<StaticDistribution, String> {
    let fail = |key: &str, why: String| format!("[[streaming_distributions]] entry {n}: {key}: {why}");
    if entry.origin.trim().is_empty() {
        return Err(fail("origin", "missing: an S3 origin domain name, s3://bucket[/prefix] or a directory".into()));
    }
    let id = match &entry.id {
        Some(id) if id.is_empty() || id.len() > 128 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            return Err(fail("id", format!("{id:?} must be 1 to 128 letters and digits")));
        }
        Some(id) => id.clone(),
        None => format!("E{}", token(entry.domain_name.as_deref().unwrap_or(&entry.origin)).to_ascii_uppercase()),
    };
    let domain_name = match &entry.domain_name {
        Some(name) => name.to_ascii_lowercase(),
        None => format!("s{}.{}", token(&id), domain.trim_end_matches('.').to_ascii_lowercase()),
    };
    if sf_dist::normalize_host(&domain_name).as_deref() != Some(domain_name.as_str()) {
        return Err(fail("domain_name", format!("{domain_name:?} is not a host name")));
    }
    // An S3 origin domain name is checked as CloudFront checks it; `s3://` and directories are
    // this server's own forms, checked when the origin is opened.
    let (s3_domain, origin_spec) = match parse_s3_origin_domain(&entry.origin) {
        Ok(bucket) => (entry.origin.clone(), format!("s3://{}", bucket.bucket)),
        Err(_) => ("origin.s3.amazonaws.com".to_owned(), entry.origin.clone()),
    };
    let config = StreamingDistributionConfig {
        caller_reference: format!("config-file-{id}"),
        s3_origin: S3Origin { domain_name: s3_domain, origin_access_identity: String::new() },
        aliases: entry.aliases.clone(),
        comment: String::new(),
        logging: entry.logging.as_ref().map(|l| StreamingLoggingConfig {
            enabled: l.enabled,
            bucket: l.bucket.clone(),
            prefix: l.prefix.clone(),
        }),
        trusted_signers: TrustedSigners {
            enabled: !entry.trusted_signers.is_empty(),
            items: entry.trusted_signers.clone(),
        },
        price_class: None,
        enabled: entry.enabled,
    };
    // Kept as the tag an API-created distribution would carry: the edge reads only that.
    let tags = match entry.viewer_protocol_policy.as_deref() {
        None => Vec::new(),
        Some(policy) if sf_edge::routing::StreamingProtocolPolicy::parse(policy).is_some() => {
            vec![Tag { key: sf_edge::routing::VIEWER_PROTOCOL_POLICY_TAG.to_owned(), value: Some(policy.to_owned()) }]
        }
        Some(policy) => {
            return Err(fail("viewer_protocol_policy", format!("{policy:?} must be \"allow-all\" or \"secure-only\"")));
        }
    };
    validate_streaming_config(&config).map_err(|e| {
        let key = match e.field.as_str() {
            _ if e.code == codes::INVALID_ORIGIN => "origin",
            f if f.starts_with("Logging") => "logging",
            f if f.starts_with("TrustedSigners") => "trusted_signers",
            _ => "aliases",
        };
        fail(key, format!("{} ({})", e.message, e.code))
    })?;
    let record = StreamingDistribution {
        arn: format!("arn:aws:cloudfront::{}:streaming-distribution/{id}", crate::api::ACCOUNT_ID),
        id,
        status: Status::Deployed,
        last_modified_time: Timestamp(0),
        domain_name,
        etag: "E0".to_owned(),
        streaming_distribution_config: config,
        tags,
    };
    Ok(StaticDistribution { record, origin_spec })
}

/// 13 lower-case letters and digits derived from `seed` (two FNV-1a 64 hashes).
fn token(seed: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let fnv = |basis: u64| {
        seed.bytes().fold(basis, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3))
    };
    let mut value = (u128::from(fnv(0xcbf2_9ce4_8422_2325)) << 64) | u128::from(fnv(0x6c62_272e_07bb_0142));
    (0..13)
        .map(|_| {
            let c = ALPHABET[(value % 36) as usize] as char;
            value /= 36;
            c
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(origin: &str) -> StreamingDistributionEntry {
        StreamingDistributionEntry { origin: origin.into(), enabled: true, ..Default::default() }
    }

    #[test]
    fn ids_and_names_are_derived_and_stable() {
        let a = from_entries(&[entry("media.s3.amazonaws.com")], "cdn.example").unwrap();
        let b = from_entries(&[entry("media.s3.amazonaws.com")], "cdn.example").unwrap();
        assert_eq!(a[0].record.id, b[0].record.id);
        assert_eq!(a[0].record.domain_name, b[0].record.domain_name);
        assert_eq!(a[0].record.id.len(), 14);
        assert!(a[0].record.domain_name.starts_with('s') && a[0].record.domain_name.ends_with(".cdn.example"));
        assert_eq!(a[0].origin_spec, "s3://media");
        let other = from_entries(&[entry("other.s3.amazonaws.com")], "cdn.example").unwrap();
        assert_ne!(a[0].record.id, other[0].record.id);
    }

    #[test]
    fn bad_entries_name_the_entry_and_key() {
        let mut bad = entry("/srv/media");
        bad.aliases = vec!["*.example.com".into()];
        let err = from_entries(&[entry("/srv/a"), bad], "cdn.example").err().unwrap();
        assert!(err.starts_with("[[streaming_distributions]] entry 2: aliases: "), "{err}");
        let err = from_entries(&[entry("")], "x").err().unwrap();
        assert!(err.contains("entry 1: origin"), "{err}");
        let mut bad = entry("/srv/a");
        bad.id = Some("a/b".into());
        assert!(from_entries(&[bad], "x").err().unwrap().contains("entry 1: id"));
    }
}
