//! Shared by the sf-control tests: a state to fold, S3 settings for the test server, and a
//! wrapper that counts the reads a real store receives.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult,
};
use serde::{Deserialize, Serialize};
use sf_cache::S3Settings;
use sf_control::{Seq, State};
use sf_testkit::S3Server;

/// A name → value map, with the numbers applied in the order they were applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    pub values: BTreeMap<String, String>,
    pub applied: Vec<Seq>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Set {
    pub name: String,
    pub value: String,
}

pub fn set(name: &str, value: &str) -> Set {
    Set { name: name.to_owned(), value: value.to_owned() }
}

impl State for Names {
    type Change = Set;

    fn apply(&mut self, seq: Seq, change: &Set) {
        self.values.insert(change.name.clone(), change.value.clone());
        self.applied.push(seq);
    }
}

/// Settings for the test S3 server, with short timeouts and few retries so an outage shows
/// quickly.
pub fn s3_settings(server: &S3Server) -> S3Settings {
    S3Settings {
        region: Some(sf_testkit::REGION.to_owned()),
        endpoint: Some(server.endpoint()),
        access_key_id: Some(sf_testkit::ACCESS_KEY.to_owned()),
        secret_access_key: Some(sf_testkit::SECRET_KEY.to_owned()),
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_millis(500),
        max_retries: 1,
        retry_timeout: Duration::from_secs(1),
        ..S3Settings::default()
    }
}

/// A real object store that records the path of every GET it is asked for.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    gets: Mutex<Vec<String>>,
}

impl CountingStore {
    pub fn new(inner: Arc<dyn ObjectStore>) -> Arc<CountingStore> {
        Arc::new(CountingStore { inner, gets: Mutex::default() })
    }

    /// GETs so far of objects whose path starts with `prefix`.
    pub fn gets_under(&self, prefix: &str) -> Vec<String> {
        self.gets.lock().unwrap().iter().filter(|p| p.starts_with(prefix)).cloned().collect()
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Counting({})", self.inner)
    }
}

#[async_trait::async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        self.gets.lock().unwrap().push(location.to_string());
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }
}
