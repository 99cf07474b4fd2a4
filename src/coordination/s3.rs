//! [`ObjectStore`] on Amazon S3 conditional writes: `If-None-Match: *` on
//! PutObject to create, `If-Match` on PutObject and DeleteObject to replace
//! or delete. S3 answers a failed condition with 412 PreconditionFailed (or
//! 404 NoSuchKey when the object is gone), and a write racing another
//! conditional write on the same key with 409 ConditionalRequestConflict.

use async_trait::async_trait;
use aws_config::{Region, SdkConfig};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

use super::store::{ObjectStore, StoreError, Versioned};

/// The IAM actions the store's reads need (GetObject, ListObjectsV2).
pub const S3_READS: &[&str] = &["s3:GetObject", "s3:ListBucket"];
/// And its writes (PutObject, DeleteObject; a conditional delete also
/// needs `s3:GetObject`).
pub const S3_WRITES: &[&str] = &["s3:DeleteObject", "s3:PutObject"];

#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Store {
    /// A client for `bucket` in `region`, sharing the session's credentials,
    /// HTTP client, retries and timeouts. A custom endpoint (moto, a VPC
    /// endpoint URL) is addressed path-style: its host names carry no
    /// bucket.
    pub fn new(config: &SdkConfig, bucket: &str, region: &str) -> S3Store {
        let mut builder =
            aws_sdk_s3::config::Builder::from(config).region(Region::new(region.to_string()));
        if config.endpoint_url().is_some() {
            builder = builder.force_path_style(true);
        }
        S3Store {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            bucket: bucket.to_string(),
        }
    }
}

/// The store's answer, reduced to what the protocol decides on.
fn classify<E>(key: &str, operation: &str, error: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = match &error {
        SdkError::ServiceError(e) => Some(e.raw().status().as_u16()),
        SdkError::ResponseError(e) => Some(e.raw().status().as_u16()),
        _ => None,
    };
    let code = error.code().unwrap_or_default().to_string();
    let message = format!(
        "S3 {operation} {key}: {}",
        error.message().map(str::to_string).unwrap_or_else(|| {
            aws_smithy_types::error::display::DisplayErrorContext(&error).to_string()
        })
    );
    let conditional = matches!(operation, "PutObject" | "DeleteObject");
    match status {
        _ if code == "NoSuchBucket" => StoreError::Refused(message),
        Some(412) => StoreError::Precondition { key: key.into() },
        // The object a conditional write named is gone.
        Some(404) if conditional => StoreError::Precondition { key: key.into() },
        Some(409) => StoreError::Conflict { key: key.into() },
        Some(400 | 401 | 403 | 404) => StoreError::Refused(message),
        _ => StoreError::Unreachable(message),
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    async fn get(&self, key: &str) -> Result<Option<Versioned>, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => return Ok(None),
            Err(e) => return Err(classify(key, "GetObject", e)),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| StoreError::Unreachable(format!("S3 GetObject {key}: {e}")))?
            .into_bytes()
            .to_vec();
        Ok(Some(Versioned { body, etag }))
    }

    async fn create(&self, key: &str, body: Vec<u8>) -> Result<String, StoreError> {
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| classify(key, "PutObject", e))?;
        Ok(out.e_tag().unwrap_or_default().to_string())
    }

    async fn replace(&self, key: &str, body: Vec<u8>, etag: &str) -> Result<String, StoreError> {
        let out = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .if_match(etag)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| classify(key, "PutObject", e))?;
        Ok(out.e_tag().unwrap_or_default().to_string())
    }

    async fn delete(&self, key: &str, etag: &str) -> Result<(), StoreError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .if_match(etag)
            .send()
            .await
            .map_err(|e| classify(key, "DeleteObject", e))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut token = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token)
                .send()
                .await
                .map_err(|e| classify(prefix, "ListObjectsV2", e))?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            token = out.next_continuation_token().map(str::to_string);
            if token.is_none() || out.is_truncated() != Some(true) {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }
}
