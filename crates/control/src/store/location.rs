//! Where the store lives: a directory (`<data-dir>/control`) or `s3://bucket/prefix`, both
//! reached through `object_store`, so everything above runs one code path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use sf_cache::S3Settings;

use super::{Store, StoreError, StoreOptions};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlLocation {
    Directory(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl ControlLocation {
    /// `s3://bucket[/prefix]`, or else a directory path.
    pub fn parse(spec: &str) -> Result<ControlLocation, StoreError> {
        let Some(rest) = spec.strip_prefix("s3://") else {
            if spec.is_empty() {
                return Err(StoreError::InvalidLocation("an empty control store path".to_owned()));
            }
            return Ok(ControlLocation::Directory(PathBuf::from(spec)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket =
            !bucket.is_empty() && bucket.bytes().all(|b| b.is_ascii_alphanumeric() || b"-.".contains(&b));
        if !valid_bucket {
            return Err(StoreError::InvalidLocation(format!("{spec}: not a bucket name")));
        }
        let prefix = prefix.trim_matches('/');
        if object_store::path::Path::parse(prefix).is_err() {
            return Err(StoreError::InvalidLocation(format!("{spec}: the prefix must be a plain path")));
        }
        Ok(ControlLocation::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }

    /// The default: `<data-dir>/control`.
    pub fn in_data_dir(data_dir: &Path) -> ControlLocation {
        ControlLocation::Directory(data_dir.join("control"))
    }

    pub fn describe(&self) -> String {
        match self {
            ControlLocation::Directory(dir) => dir.display().to_string(),
            ControlLocation::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            ControlLocation::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// Opens (and checks, see [`Store::open`]) the store here. An S3 store takes endpoint,
    /// credentials and region from the AWS environment variables, overridden by `s3`.
    pub async fn open(&self, s3: &S3Settings, options: StoreOptions) -> Result<Arc<Store>, StoreError> {
        let (objects, prefix) = self.object_store(s3)?;
        Store::open(objects, &prefix, self.describe(), options).await
    }

    /// The object store and the prefix within it.
    pub fn object_store(&self, s3: &S3Settings) -> Result<(Arc<dyn ObjectStore>, String), StoreError> {
        match self {
            ControlLocation::Directory(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::InvalidLocation(format!("{}: {e}", dir.display())))?;
                // fsync: an acknowledged commit must survive a power cut, not only a crash.
                let local = LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| StoreError::InvalidLocation(format!("{}: {e}", dir.display())))?
                    .with_fsync(true);
                Ok((Arc::new(local), String::new()))
            }
            ControlLocation::S3 { bucket, prefix } => {
                Ok((Arc::new(s3_client(bucket, s3, &self.describe())?), prefix.clone()))
            }
        }
    }
}

/// An S3 client with the same settings as the S3 origins (`S3Settings::configure`):
/// environment first, explicit settings over it, bounded timeouts and retries.
fn s3_client(bucket: &str, settings: &S3Settings, describe: &str) -> Result<object_store::aws::AmazonS3, StoreError> {
    settings
        .configure(AmazonS3Builder::from_env())
        .with_bucket_name(bucket)
        .build()
        .map_err(|e| StoreError::InvalidLocation(format!("{describe}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_directories_and_buckets() {
        assert_eq!(
            ControlLocation::parse("/var/lib/sf/control").unwrap(),
            ControlLocation::Directory("/var/lib/sf/control".into())
        );
        assert_eq!(
            ControlLocation::parse("s3://fleet/streamfront/config/").unwrap(),
            ControlLocation::S3 { bucket: "fleet".into(), prefix: "streamfront/config".into() }
        );
        assert_eq!(ControlLocation::parse("s3://fleet").unwrap().describe(), "s3://fleet");
        for bad in ["", "s3://", "s3:///prefix", "s3://a b/x", "s3://fleet/a//b"] {
            assert!(ControlLocation::parse(bad).is_err(), "{bad:?}");
        }
    }
}
