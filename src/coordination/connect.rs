//! Opening the shared store for a session: the S3 client in the bucket's
//! region with the session's credentials, and who this console is (the
//! caller identity's ARN, the host, the process).

use std::sync::Arc;

use super::config::SharedSettings;
use super::lease::Claimant;
use super::run::SharedStore;
use super::s3::S3Store;
use crate::provider::aws::{identity, sdk_config};

/// The store as this session reaches it.
#[derive(Debug, Clone)]
pub struct Connected {
    pub store: SharedStore,
    /// Why the caller identity is unknown, if it is: then only a solo run
    /// can start, as nobody could be told who holds the lease.
    pub identity_problem: Option<String>,
}

/// Builds the client and asks STS who this console is.
pub async fn connect(
    settings: SharedSettings,
    profile: Option<&str>,
    fallback_identity: &str,
) -> Connected {
    let config = sdk_config::load(profile, Some(&settings.region)).await;
    let store = S3Store::new(&config, &settings.bucket, &settings.region);
    let (identity, problem) = match identity::caller_arn(&config).await {
        Ok(arn) => (arn, None),
        Err(e) => (fallback_identity.to_string(), Some(e.to_string())),
    };
    let me = Claimant {
        identity,
        host: crate::runbook::lock::Holder::me(None).host,
        pid: std::process::id(),
    };
    Connected {
        store: SharedStore {
            store: Arc::new(store),
            settings,
            me,
        },
        identity_problem: problem,
    }
}
