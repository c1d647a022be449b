//! The bucket (and region) named by an S3 origin's `DomainName`.
//!
//! CloudFront takes only virtual-hosted S3 endpoints here, not path-style URLs, website
//! endpoints or `s3-accelerate` (Developer Guide, DownloadDistS3AndCustomOrigins.html and the
//! former StreamingDistributionS3Origin.html). The accepted forms are those of the S3 User
//! Guide's VirtualHosting.html and the legacy dash-region endpoints:
//! `<bucket>.s3.amazonaws.com`, `<bucket>.s3.<region>.amazonaws.com`,
//! `<bucket>.s3-<region>.amazonaws.com` and `<bucket>.s3.<region>.amazonaws.com.cn`.

use crate::names::check_bucket_name;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Bucket {
    pub bucket: String,
    /// `None` for the global `s3.amazonaws.com` endpoint (us-east-1).
    pub region: Option<String>,
}

/// Splits an S3 origin domain name into bucket and region, or says why it is not one.
/// Host names are case-insensitive, so the name is lower-cased first.
pub fn parse_s3_origin_domain(domain_name: &str) -> Result<S3Bucket, String> {
    let name = domain_name.to_ascii_lowercase();
    let not_s3 = || {
        format!(
            "{domain_name:?} is not an S3 bucket endpoint; use <bucket>.s3.amazonaws.com, \
             <bucket>.s3.<region>.amazonaws.com or <bucket>.s3-<region>.amazonaws.com"
        )
    };
    let (rest, china) = if let Some(rest) = name.strip_suffix(".amazonaws.com") {
        (rest, false)
    } else if let Some(rest) = name.strip_suffix(".amazonaws.com.cn") {
        (rest, true)
    } else {
        return Err(not_s3());
    };
    let (head, last) = rest.rsplit_once('.').ok_or_else(not_s3)?;
    let (bucket, region) = if last == "s3" && !china {
        (head, None)
    } else if let Some(region) = last.strip_prefix("s3-").filter(|_| !china) {
        // `s3-external-1` is the legacy name of the us-east-1 endpoint.
        let region = if region == "external-1" { "us-east-1" } else { region };
        (head, Some(region))
    } else if let Some(bucket) = head.strip_suffix(".s3") {
        (bucket, Some(last))
    } else {
        return Err(not_s3());
    };
    if let Some(region) = region
        && !is_region(region)
    {
        return Err(format!("{domain_name:?}: {region:?} is not an AWS region name"));
    }
    check_bucket_name(bucket).map_err(|why| format!("{domain_name:?}: {why}"))?;
    Ok(S3Bucket { bucket: bucket.to_owned(), region: region.map(str::to_owned) })
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`: a two-letter area, one or more
/// lower-case words, a number. This also keeps out `s3-website-…` and `s3-accelerate`.
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts[1..parts.len() - 1].iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts.last().is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(domain: &str) -> (String, Option<String>) {
        let b = parse_s3_origin_domain(domain).unwrap_or_else(|e| panic!("{domain}: {e}"));
        (b.bucket, b.region)
    }

    #[test]
    fn accepted_forms() {
        assert_eq!(ok("mymedia.s3.amazonaws.com"), ("mymedia".into(), None));
        assert_eq!(ok("my.media.bucket.s3.amazonaws.com"), ("my.media.bucket".into(), None));
        assert_eq!(ok("media.s3.eu-west-1.amazonaws.com"), ("media".into(), Some("eu-west-1".into())));
        assert_eq!(ok("a.b.s3.us-gov-west-1.amazonaws.com"), ("a.b".into(), Some("us-gov-west-1".into())));
        assert_eq!(ok("media.s3-ap-southeast-2.amazonaws.com"), ("media".into(), Some("ap-southeast-2".into())));
        assert_eq!(ok("media.s3-external-1.amazonaws.com"), ("media".into(), Some("us-east-1".into())));
        assert_eq!(ok("media.s3.cn-north-1.amazonaws.com.cn"), ("media".into(), Some("cn-north-1".into())));
        assert_eq!(ok("Media.S3.AmazonAWS.com"), ("media".into(), None));
    }

    #[test]
    fn refused_forms_say_why() {
        for bad in [
            "media.example.com",
            "s3.amazonaws.com",
            "s3.amazonaws.com/media",
            "media.s3-website-us-east-1.amazonaws.com",
            "media.s3-website.us-east-1.amazonaws.com",
            "media.s3-accelerate.amazonaws.com",
            "media.s3.dualstack.us-east-1.amazonaws.com",
            "media.s3.amazonaws.com.cn",
            "media.s3.amazonaws.com.",
            "ab.s3.amazonaws.com",
            "my_bucket.s3.amazonaws.com",
            "media.s3.useast1.amazonaws.com",
        ] {
            let err = parse_s3_origin_domain(bad).expect_err(bad);
            assert!(err.contains(bad) || err.contains("bucket name"), "{bad}: {err}");
        }
    }
}
