//! The AWS provider: live reads and failover actions through the AWS SDK.
//!
//! ```text
//! provider()  -> sdk_config::load  -> discover (no environment file)
//!             -> AwsObserver (ReadClients)            rds / route53 / cloudwatch reads
//!             -> AwsActor    (ActClients, unless read-only)   act.rs
//! ```

pub mod act;
pub mod arn;
pub mod clients;
pub mod cloudwatch;
pub mod discover;
pub mod errors;
pub mod identity;
pub mod observe;
pub mod rds;
pub mod route53;
pub mod sdk_config;
pub mod watch;

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::domain::environment::Environment;
use crate::provider::{Act, Provider, ProviderKind};
pub use act::AwsActor;
pub use clients::{ActClients, ReadClients};
pub use observe::AwsObserver;
pub use watch::Watch;

/// What the command line says about the AWS session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Never build the acting half.
    pub read_only: bool,
}

/// Builds the AWS provider for an environment, discovering one when none is given.
pub async fn provider(
    opts: &AwsOptions,
    env: Option<Environment>,
) -> anyhow::Result<(Provider, Environment)> {
    let config = sdk_config::load(opts.profile.as_deref(), opts.region.as_deref()).await;
    let (env, watch) = match env {
        Some(env) => {
            let watch = Watch::from_environment(&env);
            (env, watch)
        }
        None => {
            let found = discover::discover(&config)
                .await
                .map_err(|e| anyhow::anyhow!("discovering the environment: {e}"))?;
            let watch = found.watch();
            (found.environment, watch)
        }
    };
    Ok((build(&config, watch, opts.read_only), env))
}

/// The provider on an already loaded SDK configuration. With `read_only`
/// no acting client is created at all.
pub fn from_sdk_config(config: &SdkConfig, env: &Environment, read_only: bool) -> Provider {
    build(config, Watch::from_environment(env), read_only)
}

/// The provider reading exactly `watch`.
pub fn build(config: &SdkConfig, watch: Watch, read_only: bool) -> Provider {
    let act = (!read_only)
        .then(|| Arc::new(AwsActor::new(ActClients::new(config, &watch.regions))) as Arc<dyn Act>);
    let observe = Arc::new(AwsObserver::new(
        ReadClients::new(config, &watch.regions),
        watch,
    ));
    Provider {
        observe,
        act,
        kind: ProviderKind::Aws,
    }
}
