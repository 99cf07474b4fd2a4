//! The object store the coordination protocol needs: read, create only if
//! absent, replace or delete only if unchanged, list by prefix. An ETag
//! names the version of an object a writer saw; a write conditioned on it
//! fails if anyone wrote in between.

use async_trait::async_trait;

/// An object and the version of it that was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    pub body: Vec<u8>,
    pub etag: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The condition did not hold: the object exists (create), or it
    /// changed or is gone (replace, delete). S3's 412 PreconditionFailed,
    /// and its 404 for a conditional write on an absent key.
    #[error("{key}: someone else wrote it first")]
    Precondition { key: String },
    /// Another conditional write on the key was in flight at the same time
    /// (S3's 409 ConditionalRequestConflict): nothing was written; read
    /// again and decide afresh.
    #[error("{key}: a concurrent write was in flight; retry")]
    Conflict { key: String },
    /// The store refused the request: credentials, permissions, a
    /// missing bucket. Retrying will not help; the store is there.
    #[error("{0}")]
    Refused(String),
    /// The store could not be reached or did not answer in time.
    #[error("{0}")]
    Unreachable(String),
}

impl StoreError {
    /// A failure of the store rather than a decision about the object:
    /// whatever was asked may or may not have happened.
    pub fn is_outage(&self) -> bool {
        matches!(self, StoreError::Unreachable(_))
    }
}

#[async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// The object at `key`, or `None` if there is none.
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError>;
    /// Writes `key` only if no object is there (`If-None-Match: *`);
    /// returns the new ETag.
    async fn create(&self, key: &str, body: Vec<u8>) -> Result<String, StoreError>;
    /// Replaces `key` only if it is still at `etag` (`If-Match`).
    async fn replace(&self, key: &str, body: Vec<u8>, etag: &str) -> Result<String, StoreError>;
    /// Deletes `key` only if it is still at `etag` (`If-Match`).
    async fn delete(&self, key: &str, etag: &str) -> Result<(), StoreError>;
    /// Every key under `prefix`, in lexical order.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
}
