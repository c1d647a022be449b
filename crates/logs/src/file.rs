//! Log files as CloudFront delivers them: gzip, the two header lines then the records, named
//! `<prefix><distribution id>.YYYY-MM-DD-HH.<unique id>.gz` in the logging bucket (a prefix
//! that does not end in `/` gets one). Source: Amazon CloudFront Developer Guide, AccessLogs.md,
//! "File name format".

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::record::LogKind;

/// Where a distribution's logs go, from its `Logging` configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct LogTarget {
    pub distribution_id: String,
    /// The bucket's name (`Logging.Bucket` is `name.s3.amazonaws.com`).
    pub bucket: String,
    /// `Logging.Prefix` as configured.
    pub prefix: String,
    pub kind: LogKind,
    /// `Logging.IncludeCookies` (web distributions only).
    pub include_cookies: bool,
}

impl LogTarget {
    /// The target of an enabled `Logging` whose `Bucket` is `bucket_domain`
    /// (`name.s3.amazonaws.com`, or a regional form); an error says why the bucket is not one.
    pub fn new(
        distribution_id: &str,
        bucket_domain: &str,
        prefix: &str,
        kind: LogKind,
        include_cookies: bool,
    ) -> Result<Self, String> {
        let bucket = sf_dist::parse_s3_origin_domain(bucket_domain)?.bucket;
        Ok(LogTarget {
            distribution_id: distribution_id.to_owned(),
            bucket,
            prefix: prefix.to_owned(),
            kind,
            include_cookies,
        })
    }

    /// The key of a file of records of `hour` (`YYYY-MM-DD-HH`) with `unique` in its name.
    pub fn object_key(&self, hour: &str, unique: &str) -> String {
        let prefix = match self.prefix.as_str() {
            "" => String::new(),
            p if p.ends_with('/') => p.to_owned(),
            p => format!("{p}/"),
        };
        format!("{prefix}{}.{hour}.{unique}.gz", self.distribution_id)
    }
}

/// A fresh unique id for a file name: 13 upper-case letters and digits (like CloudFront's
/// `RT4KCN4SGK9`), random, so that edges of one fleet never pick the same.
pub fn unique_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut bits: u128 = rand::random();
    (0..13)
        .map(|_| {
            let c = ALPHABET[(bits % 36) as usize] as char;
            bits /= 36;
            c
        })
        .collect()
}

/// The gzip file of `records` (whole lines) of `kind`.
pub fn gzip_file(kind: LogKind, records: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(records.len() / 4 + 64), Compression::default());
    encoder.write_all(kind.header().as_bytes()).expect("writing to a Vec does not fail");
    encoder.write_all(records).expect("writing to a Vec does not fail");
    encoder.finish().expect("writing to a Vec does not fail")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn target(prefix: &str) -> LogTarget {
        LogTarget::new("EMLARXS9EXAMPLE", "logs.s3.amazonaws.com", prefix, LogKind::Streaming, false).unwrap()
    }

    #[test]
    fn files_are_named_as_cloudfront_names_them() {
        assert_eq!(
            target("example-prefix/").object_key("2019-11-14-20", "RT4KCN4SGK9"),
            "example-prefix/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4SGK9.gz"
        );
        assert_eq!(
            target("example-prefix").object_key("2019-11-14-20", "U"),
            "example-prefix/EMLARXS9EXAMPLE.2019-11-14-20.U.gz"
        );
        assert_eq!(target("").object_key("2019-11-14-20", "U"), "EMLARXS9EXAMPLE.2019-11-14-20.U.gz");
        assert_eq!(target("").bucket, "logs");
        let regional = LogTarget::new("E1", "my-logs.s3.eu-west-1.amazonaws.com", "", LogKind::Web, true).unwrap();
        assert_eq!(regional.bucket, "my-logs");
        assert!(LogTarget::new("E1", "logs.example.com", "", LogKind::Web, false).is_err());
    }

    #[test]
    fn unique_ids_differ() {
        let (a, b) = (unique_id(), unique_id());
        assert_ne!(a, b);
        assert_eq!(a.len(), 13);
        assert!(a.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
    }

    #[test]
    fn files_are_gzip_with_the_headers_first() {
        let file = gzip_file(LogKind::Web, b"a\tb\n");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&file[..]).read_to_string(&mut text).unwrap();
        assert_eq!(text, format!("#Version: 1.0\n#Fields: {}\na\tb\n", crate::record::WEB_FIELDS));
    }
}
