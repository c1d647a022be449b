//! The S3 origin (AWS S3 or any S3-compatible store: MinIO, Garage, Ceph RGW, ...).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpError, HttpErrorKind};
use object_store::path::Path;
use object_store::{Attribute, BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, RetryConfig};

use crate::origin::{ObjectMeta, OriginError, OriginSpecError, safe_key};

/// S3 settings a config file can fill. Unset fields come from the standard AWS
/// environment variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ENDPOINT_URL_S3`,
/// `AWS_ENDPOINT_URL`); set fields override them.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    pub region: Option<String>,
    /// e.g. `http://127.0.0.1:9000` for MinIO; `http://` works without further settings.
    pub endpoint: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// `bucket.host` addressing instead of `host/bucket` (path style, the default,
    /// which custom endpoints need).
    pub virtual_hosted_style: bool,
    /// Send requests unsigned (public buckets).
    pub anonymous: bool,
    /// Bound on one HTTP request, body included.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Retries after the first attempt (timeouts, connection errors, 5xx).
    pub max_retries: usize,
    /// No retry starts later than this after the first attempt.
    pub retry_timeout: Duration,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            region: None,
            endpoint: None,
            access_key_id: None,
            secret_access_key: None,
            session_token: None,
            virtual_hosted_style: false,
            anonymous: false,
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(2),
            max_retries: 2,
            retry_timeout: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &self.secret_access_key.as_ref().map(|_| "<redacted>"))
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .field("virtual_hosted_style", &self.virtual_hosted_style)
            .field("anonymous", &self.anonymous)
            .field("request_timeout", &self.request_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_retries", &self.max_retries)
            .field("retry_timeout", &self.retry_timeout)
            .finish()
    }
}

/// Objects in one bucket below an optional prefix; keys are `/`-separated paths below it.
pub struct S3Origin {
    store: Arc<AmazonS3>,
    /// For presigned HEADs (see [`S3Origin::expires`]).
    http: reqwest::Client,
    bucket: String,
    prefix: String,
    max_retries: usize,
}

impl fmt::Debug for S3Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Origin").field("bucket", &self.bucket).field("prefix", &self.prefix).finish()
    }
}

impl S3Origin {
    /// An origin for `s3://bucket/prefix` from `settings` only (no environment).
    pub fn new(bucket: &str, prefix: &str, settings: &S3Settings) -> Result<S3Origin, OriginSpecError> {
        Self::build(AmazonS3Builder::new(), bucket, prefix, settings)
    }

    /// An origin for `s3://bucket/prefix` from the AWS environment variables, overridden
    /// by whatever `settings` sets.
    pub fn from_env_and(bucket: &str, prefix: &str, settings: &S3Settings) -> Result<S3Origin, OriginSpecError> {
        Self::build(AmazonS3Builder::from_env(), bucket, prefix, settings)
    }

    fn build(
        mut builder: AmazonS3Builder,
        bucket: &str,
        prefix: &str,
        settings: &S3Settings,
    ) -> Result<S3Origin, OriginSpecError> {
        let prefix = prefix.trim_matches('/').to_owned();
        let describe = format!("s3://{bucket}/{prefix}");
        if !prefix.is_empty() && !safe_key(&prefix) {
            return Err(OriginSpecError(format!("{describe}: the prefix must be a plain path")));
        }
        if let Some(region) = &settings.region {
            builder = builder.with_region(region);
        }
        if let Some(endpoint) = &settings.endpoint {
            // An explicit endpoint wins over AWS_ENDPOINT_URL_S3 from the environment.
            builder =
                builder.with_config(object_store::aws::AmazonS3ConfigKey::S3Endpoint, endpoint).with_endpoint(endpoint);
        }
        if let Some(key) = &settings.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        if let Some(token) = &settings.session_token {
            builder = builder.with_token(token);
        }
        if settings.anonymous {
            builder = builder.with_skip_signature(true);
        }
        let options = ClientOptions::new()
            .with_allow_http(true)
            .with_timeout(settings.request_timeout)
            .with_connect_timeout(settings.connect_timeout);
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: settings.max_retries,
            retry_timeout: settings.retry_timeout,
        };
        let store = builder
            .with_bucket_name(bucket)
            .with_virtual_hosted_style_request(settings.virtual_hosted_style)
            .with_client_options(options)
            .with_retry(retry)
            .build()
            .map_err(|e| OriginSpecError(format!("{describe}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|e| OriginSpecError(format!("{describe}: {e}")))?;
        Ok(S3Origin {
            store: Arc::new(store),
            http,
            bucket: bucket.to_owned(),
            prefix,
            max_retries: settings.max_retries,
        })
    }

    pub fn describe(&self) -> String {
        if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        }
    }

    fn path(&self, key: &str) -> Result<Path, OriginError> {
        if !safe_key(key) {
            return Err(OriginError::NotFound);
        }
        let full = if self.prefix.is_empty() { key.to_owned() } else { format!("{}/{key}", self.prefix) };
        Path::parse(full).map_err(|_| OriginError::NotFound)
    }

    pub(crate) async fn head(&self, key: &str) -> Result<ObjectMeta, OriginError> {
        let path = self.path(key)?;
        // A HEAD through `get_opts` rather than `head`: it also returns Cache-Control.
        let options = GetOptions { head: true, ..GetOptions::default() };
        // object_store does not expose `Expires`: read it from a presigned HEAD sent at the
        // same time (best effort; only used when Cache-Control gives no max-age).
        let (result, expires) = tokio::join!(self.store.get_opts(&path, options), self.expires(&path));
        let result = result.map_err(|e| self.error(e))?;
        let meta = &result.meta;
        let version = match &meta.e_tag {
            Some(etag) => etag.clone(),
            None => format!("{}-{:x}", meta.last_modified.timestamp_nanos_opt().unwrap_or(0), meta.size),
        };
        let mut cache_control = result.attributes.get(&Attribute::CacheControl).map(|v| v.as_ref().to_owned());
        // CloudFront: max-age wins over Expires. Otherwise Expires, taken relative to now, is
        // the same as a max-age (the freshness rules then apply their floor).
        if cache_control.as_deref().and_then(crate::freshness::max_age).is_none()
            && let Some(expires) = expires
        {
            let seconds = expires.duration_since(std::time::SystemTime::now()).unwrap_or_default().as_secs();
            let directive = format!("max-age={seconds}");
            cache_control = Some(match cache_control {
                Some(cc) if !cc.trim().is_empty() => format!("{cc}, {directive}"),
                _ => directive,
            });
        }
        Ok(ObjectMeta { size: meta.size, version, cache_control })
    }

    pub(crate) async fn fetch_range<F: FnMut(Bytes)>(
        &self,
        key: &str,
        meta: &ObjectMeta,
        start: u64,
        end: u64,
        mut sink: F,
    ) -> Result<(), OriginError> {
        let end = end.min(meta.size);
        if start >= end {
            return Ok(());
        }
        let path = self.path(key)?;
        // If-Match: a replaced object answers 412 instead of mixing new bytes into old
        // blocks. Stores that ignore If-Match are caught by the ETag check below.
        let options = GetOptions {
            if_match: Some(meta.version.clone()),
            range: Some(GetRange::Bounded(start..end)),
            ..GetOptions::default()
        };
        let result = self.store.get_opts(&path, options).await.map_err(|e| self.error(e))?;
        if result.meta.e_tag.as_deref().is_some_and(|etag| etag != meta.version) || result.meta.size != meta.size {
            return Err(OriginError::Changed);
        }
        if result.range != (start..end) {
            return Err(OriginError::Changed);
        }
        let mut stream = result.into_stream();
        while let Some(chunk) = stream.next().await {
            sink(chunk.map_err(|e| self.error(e))?);
        }
        Ok(())
    }

    /// The object's `Expires` header, from a presigned HEAD; `None` when it has none or the
    /// request fails.
    async fn expires(&self, path: &Path) -> Option<std::time::SystemTime> {
        use object_store::signer::Signer;
        let url = self.store.signed_url(http::Method::HEAD, path, Duration::from_secs(300)).await.ok()?;
        let response = self.http.head(url.as_str()).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let value = response.headers().get(http::header::EXPIRES)?.to_str().ok()?;
        httpdate::parse_http_date(value).ok()
    }

    /// The first `len` bytes of whatever version of `key` is current, with that version's
    /// ETag and size. A cold open sends this beside its HEAD, so the first block (which
    /// every reader needs first) costs no round trip of its own.
    pub(crate) async fn fetch_first_block(&self, key: &str, len: u64) -> Result<(Bytes, String, u64), OriginError> {
        let path = self.path(key)?;
        let options = GetOptions { range: Some(GetRange::Bounded(0..len)), ..GetOptions::default() };
        let result = self.store.get_opts(&path, options).await.map_err(|e| self.error(e))?;
        // Without an ETag the block could not be tied to the HEAD's version.
        let etag = result.meta.e_tag.clone().ok_or(OriginError::Changed)?;
        let size = result.meta.size;
        if result.range != (0..len.min(size)) {
            return Err(OriginError::Changed);
        }
        let bytes = result.bytes().await.map_err(|e| self.error(e))?;
        Ok((bytes, etag, size))
    }

    /// A clear, short description of an object_store error.
    fn error(&self, error: object_store::Error) -> OriginError {
        use object_store::Error as E;
        match &error {
            E::NotFound { .. } => return OriginError::NotFound,
            E::Precondition { .. } => return OriginError::Changed,
            E::PermissionDenied { .. } | E::Unauthenticated { .. } => {
                return OriginError::AccessDenied;
            }
            _ => {}
        }
        let attempts = self.max_retries + 1;
        let mut reason = None;
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
        while let Some(e) = source {
            if let Some(http) = e.downcast_ref::<HttpError>() {
                reason = Some(match http.kind() {
                    HttpErrorKind::Timeout => format!("timed out (up to {attempts} attempts)"),
                    HttpErrorKind::Connect => format!("cannot connect (up to {attempts} attempts)"),
                    _ => format!("request failed (up to {attempts} attempts): {http}"),
                });
                break;
            }
            source = e.source();
        }
        let text = error.to_string();
        let reason = reason.unwrap_or_else(|| {
            if let Some(at) = text.find("status code: ") {
                let status: String = text[at + "status code: ".len()..].chars().take_while(|c| *c != ':').collect();
                format!("HTTP {} (up to {attempts} attempts)", status.trim())
            } else {
                text.chars().take(300).collect()
            }
        });
        tracing::debug!(origin = %self.describe(), error = %text, "origin request failed");
        OriginError::Failed(format!("origin {}: {reason}", self.describe()))
    }
}
