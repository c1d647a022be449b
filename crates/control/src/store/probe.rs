//! The start-up check that the store honours create-if-absent PUTs. Some S3-compatible
//! servers ignore `If-None-Match: *` (Amazon S3 User Guide: "Add preconditions to S3
//! operations with conditional requests" describes the header); on such a store two writers
//! could both commit the same number and one change would silently vanish.

use bytes::Bytes;
use object_store::ObjectStoreExt;

use super::keys::PROBES;
use super::record;
use super::{Store, StoreError};

impl Store {
    /// Creates `probe/<random>`, then creates it again: the second must be refused.
    pub(crate) async fn check_conditional_writes(&self) -> Result<(), StoreError> {
        let path =
            self.prefix.clone().join(PROBES).join(format!("{}-{:016x}", self.options.writer, rand::random::<u64>()));
        let refuse = |detail: String| StoreError::NoConditionalWrites { store: self.describe.clone(), detail };
        let first = record::create(self.objects.as_ref(), &path, Bytes::from_static(b"first")).await;
        let second = match first {
            Ok(true) => record::create(self.objects.as_ref(), &path, Bytes::from_static(b"second")).await,
            Ok(false) => Err(refuse(format!("{path}, a fresh random name, was refused as existing"))),
            Err(StoreError::Store(e @ object_store::Error::NotImplemented { .. })) => Err(refuse(e.to_string())),
            Err(e) => Err(e),
        };
        // Best effort: a leftover probe is harmless.
        if let Err(e) = self.objects.delete(&path).await {
            tracing::debug!(%path, error = %e, "removing the conditional-write probe");
        }
        match second? {
            false => Ok(()),
            true => Err(refuse("it overwrote an existing object on a second create of the same key".to_owned())),
        }
    }
}
