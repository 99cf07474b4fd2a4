//! Who the AWS credentials belong to (`sts:GetCallerIdentity`), so every
//! confirmation, skip and override in a journal names a principal rather
//! than a local login. The call needs no IAM permission.

use aws_config::SdkConfig;

use super::errors::from_sdk;
use crate::domain::snapshot::{ErrorKind, SourceError};

/// The ARN of the principal the session's credentials resolve to.
pub async fn caller_arn(config: &SdkConfig) -> Result<String, SourceError> {
    let out = aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| from_sdk("GetCallerIdentity", e))?;
    out.arn().map(str::to_string).ok_or_else(|| {
        SourceError::new(
            ErrorKind::Other,
            "GetCallerIdentity answered without an ARN",
        )
    })
}
