//! The S3 origin (AWS S3 or any S3-compatible store: MinIO, Garage, Ceph RGW, ...).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::client::{HttpError, HttpErrorKind};
use object_store::list::{PaginatedListOptions, PaginatedListStore};
use object_store::path::Path;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore, RetryConfig,
};

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

impl S3Settings {
    /// `builder` (usually [`AmazonS3Builder::from_env`]) with these settings over it: region,
    /// endpoint, credentials, addressing style, bounded timeouts and retries. Every S3 client
    /// streamfront makes (origins, the control store) is built through here.
    pub fn configure(&self, mut builder: AmazonS3Builder) -> AmazonS3Builder {
        if let Some(region) = &self.region {
            builder = builder.with_region(region);
        }
        if let Some(endpoint) = &self.endpoint {
            // An explicit endpoint wins over AWS_ENDPOINT_URL_S3 from the environment.
            builder =
                builder.with_config(object_store::aws::AmazonS3ConfigKey::S3Endpoint, endpoint).with_endpoint(endpoint);
        }
        if let Some(key) = &self.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &self.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        if let Some(token) = &self.session_token {
            builder = builder.with_token(token);
        }
        if self.anonymous {
            builder = builder.with_skip_signature(true);
        }
        let options = ClientOptions::new()
            .with_allow_http(true)
            .with_timeout(self.request_timeout)
            .with_connect_timeout(self.connect_timeout);
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(1),
                base: 2.0,
            },
            max_retries: self.max_retries,
            retry_timeout: self.retry_timeout,
        };
        builder
            .with_virtual_hosted_style_request(self.virtual_hosted_style)
            .with_client_options(options)
            .with_retry(retry)
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
    /// Where requests go (for the origin's identity in cache keys).
    endpoint: String,
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
        builder: AmazonS3Builder,
        bucket: &str,
        prefix: &str,
        settings: &S3Settings,
    ) -> Result<S3Origin, OriginSpecError> {
        let prefix = prefix.trim_matches('/').to_owned();
        let describe = format!("s3://{bucket}/{prefix}");
        if !prefix.is_empty() && !safe_key(&prefix) {
            return Err(OriginSpecError(format!("{describe}: the prefix must be a plain path")));
        }
        let builder = settings.configure(builder);
        let endpoint = endpoint_of(&builder);
        let store =
            builder.with_bucket_name(bucket).build().map_err(|e| OriginSpecError(format!("{describe}: {e}")))?;
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.connect_timeout)
            .build()
            .map_err(|e| OriginSpecError(format!("{describe}: {e}")))?;
        Ok(S3Origin {
            store: Arc::new(store),
            http,
            endpoint,
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

    /// `s3:ENDPOINT/BUCKET/PREFIX`: the same bucket name at two endpoints is two origins.
    pub(crate) fn namespace(&self) -> String {
        format!("s3:{}/{}/{}", self.endpoint, self.bucket, self.prefix)
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
        // same time (best effort).
        let (result, expires) = tokio::join!(self.store.get_opts(&path, options), self.expires(&path));
        let result = result.map_err(|e| self.error(e))?;
        Ok(object_meta(&result.meta, &result.attributes, expires))
    }

    /// The first look at `key`: a GET of its first `len` bytes, which tells what a HEAD
    /// would (size, ETag, Cache-Control) and brings the block every reader needs first,
    /// beside the presigned HEAD that reads `Expires`. A missing object costs these two
    /// requests and no more. Where the GET cannot serve as a HEAD (an empty object, a store
    /// without ranges), a HEAD follows.
    pub(crate) async fn first_look(&self, key: &str, len: u64) -> Result<(ObjectMeta, Option<Bytes>), OriginError> {
        let path = self.path(key)?;
        let (first_block, expires) = tokio::join!(self.first_block(&path, len), self.expires(&path));
        match first_block {
            Ok((meta, attributes, block)) => Ok((object_meta(&meta, &attributes, expires), Some(block))),
            Err(FirstBlockError::Origin(error)) => Err(error),
            Err(FirstBlockError::Unusable) => self.head(key).await.map(|meta| (meta, None)),
        }
    }

    async fn first_block(
        &self,
        path: &Path,
        len: u64,
    ) -> Result<(object_store::ObjectMeta, Attributes, Bytes), FirstBlockError> {
        let options = GetOptions { range: Some(GetRange::Bounded(0..len)), ..GetOptions::default() };
        let result = match self.store.get_opts(path, options).await {
            Ok(result) => result,
            // Range Not Satisfiable: an empty object.
            Err(error) if error.to_string().contains("status code: 416") => return Err(FirstBlockError::Unusable),
            Err(error) => return Err(FirstBlockError::Origin(self.error(error))),
        };
        if result.range != (0..len.min(result.meta.size)) {
            return Err(FirstBlockError::Unusable);
        }
        let (meta, attributes) = (result.meta.clone(), result.attributes.clone());
        let block = result.bytes().await.map_err(|e| FirstBlockError::Origin(self.error(e)))?;
        Ok((meta, attributes, block))
    }

    /// Which of `keys` exist, from one LIST of their common prefix (`name.` for the
    /// candidates of `mp4:name`; S3 prefixes need not end at a `/`). `None` when the listing
    /// does not fit in one page: then it tells nothing for sure.
    pub(crate) async fn list_existing(&self, keys: &[&str]) -> Result<Option<Vec<bool>>, OriginError> {
        /// Objects one LIST may return; a name rarely has more than a few.
        const MAX_KEYS: usize = 200;
        let paths: Vec<Option<Path>> = keys.iter().map(|key| self.path(key).ok()).collect();
        let names: Vec<&str> = paths.iter().flatten().map(|p| p.as_ref()).collect();
        if names.is_empty() {
            return Ok(Some(vec![false; keys.len()]));
        }
        let prefix = common_prefix(&names);
        let options = PaginatedListOptions {
            delimiter: Some("/".into()),
            max_keys: Some(MAX_KEYS),
            ..PaginatedListOptions::default()
        };
        let page = self.store.list_paginated(Some(prefix), options).await.map_err(|e| self.error(e))?;
        if page.page_token.is_some() {
            return Ok(None);
        }
        let listed: std::collections::HashSet<&str> =
            page.result.objects.iter().map(|object| object.location.as_ref()).collect();
        Ok(Some(paths.iter().map(|path| path.as_ref().is_some_and(|p| listed.contains(p.as_ref()))).collect()))
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

    /// The object's `Expires` header as sent, from a presigned HEAD; `None` when it has none
    /// or the request fails.
    async fn expires(&self, path: &Path) -> Option<String> {
        use object_store::signer::Signer;
        let url = self.store.signed_url(http::Method::HEAD, path, Duration::from_secs(300)).await.ok()?;
        let response = self.http.head(url.as_str()).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let value = response.headers().get(http::header::EXPIRES)?.to_str().ok()?;
        Some(value.chars().take(crate::origin::MAX_HEADER_VALUE).collect())
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

/// Why a first-block GET gave no first look.
enum FirstBlockError {
    /// The origin's answer (not found, access denied, failing).
    Origin(OriginError),
    /// The object is there but the answer cannot stand for a HEAD.
    Unusable,
}

/// What the cache keeps of an object's metadata.
fn object_meta(meta: &object_store::ObjectMeta, attributes: &Attributes, expires: Option<String>) -> ObjectMeta {
    let version = match &meta.e_tag {
        Some(etag) => etag.clone(),
        None => format!("{}-{:x}", meta.last_modified.timestamp_nanos_opt().unwrap_or(0), meta.size),
    };
    let attribute = |name: &Attribute| attributes.get(name).map(|v| v.as_ref().to_owned());
    ObjectMeta {
        size: meta.size,
        version,
        cache_control: attribute(&Attribute::CacheControl),
        content_type: attribute(&Attribute::ContentType),
        etag: meta.e_tag.clone(),
        last_modified: Some(crate::origin::whole_seconds(SystemTime::from(meta.last_modified))),
        expires,
    }
}

/// The endpoint requests go to, as the builder will use it.
fn endpoint_of(builder: &AmazonS3Builder) -> String {
    use object_store::aws::AmazonS3ConfigKey as Key;
    let explicit = builder.get_config_value(&Key::S3Endpoint).or_else(|| builder.get_config_value(&Key::Endpoint));
    let endpoint = explicit.unwrap_or_else(|| {
        let region = builder.get_config_value(&Key::Region).unwrap_or_else(|| "us-east-1".to_owned());
        format!("https://s3.{region}.amazonaws.com")
    });
    endpoint.trim_end_matches('/').to_owned()
}

/// The longest common prefix of `names`, cut at a character boundary.
fn common_prefix<'a>(names: &[&'a str]) -> &'a str {
    let Some((first, rest)) = names.split_first() else {
        return "";
    };
    let mut len = rest
        .iter()
        .fold(first.len(), |len, name| first.bytes().zip(name.bytes()).take(len).take_while(|(a, b)| a == b).count());
    while !first.is_char_boundary(len) {
        len -= 1;
    }
    &first[..len]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefixes() {
        assert_eq!(common_prefix(&["vod/a.mp4", "vod/a.f4v", "vod/a.m4v"]), "vod/a.");
        assert_eq!(common_prefix(&["x.mp4"]), "x.mp4");
        assert_eq!(common_prefix(&["é.mp4", "è.mp4"]), "");
        assert_eq!(common_prefix(&[]), "");
    }
}
