//! Loading the shared SDK configuration: credential chain, region, bounded
//! retries and timeouts, so a sick endpoint costs a poll, never a frozen console.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Attempts per call, the first included. Throttling backs off between them;
/// across polls the API budget backs the monitor off (`budget::Schedule`).
/// Not the SDK's adaptive mode: its rate limiter is process-wide per service
/// and would hold a failover's own Route 53 change for seconds, past the
/// operation timeout, after the monitor met throttling.
pub const MAX_ATTEMPTS: u32 = 3;
/// One whole call, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(20);
/// One attempt of a call.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(6);
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Home region when neither `--region` nor the profile names one.
pub const DEFAULT_REGION: &str = "us-east-1";

pub fn retry_config() -> RetryConfig {
    RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS)
}

pub fn timeout_config() -> TimeoutConfig {
    TimeoutConfig::builder()
        .operation_timeout(OPERATION_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
}

/// The standard aws-config chain (environment, shared files, `profile`, SSO,
/// IMDS), which also honours `AWS_ENDPOINT_URL` and the per-service endpoint
/// variables, with drconsole's retry and timeout bounds on top.
pub async fn load(profile: Option<&str>, region: Option<&str>) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config());
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    let config = loader.load().await;
    if config.region().is_some() {
        return config;
    }
    config
        .into_builder()
        .region(Region::new(DEFAULT_REGION))
        .build()
}

/// The region a client for `region` should use, everything else shared.
pub fn for_region(config: &SdkConfig, region: &str) -> SdkConfig {
    config
        .clone()
        .into_builder()
        .region(Region::new(region.to_string()))
        .build()
}
