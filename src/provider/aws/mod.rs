//! The AWS provider: live reads and failover actions through the AWS SDK.
//!
//! ```text
//! provider()  -> sdk_config::load  -> discover (no environment file)
//!             -> AwsObserver (ReadClients)            rds / route53 / cloudwatch reads
//!             -> AwsActor    (ActClients, unless read-only)   act.rs
//! ```
//!
//! When discovery answered only in part, both halves are [`swap::Swappable`]
//! and [`rediscover`] keeps retrying, replacing them as the estate grows.

pub mod act;
pub mod arn;
pub mod budget;
pub mod budgeted_http;
pub mod clients;
pub mod cloudwatch;
pub mod config_facts;
pub mod discover;
pub mod errors;
pub mod events;
pub mod identity;
pub mod observe;
pub mod rds;
pub mod rediscover;
pub mod route53;
pub mod sdk_config;
pub mod swap;
pub mod watch;

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::domain::environment::Environment;
use crate::monitor::DiscoveryProgress;
use crate::provider::{Act, Provider, ProviderKind};
pub use act::AwsActor;
pub use budget::{Budget, BudgetSettings};
pub use clients::{ActClients, ReadClients};
use discover::{Discovered, Discovery, DiscoveryClients};
pub use observe::AwsObserver;
use rediscover::Backoff;
use swap::Swappable;
pub use watch::Watch;

/// What the command line and the user config say about the AWS session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Never build the acting half.
    pub read_only: bool,
    pub budget: BudgetSettings,
}

/// An AWS session: the provider, the environment it watches, and, when
/// discovery could not read every source, the retries still to come.
pub struct AwsSession {
    pub provider: Provider,
    /// The API budget both halves send through, for the detail pane.
    pub budget: Arc<Budget>,
    pub environment: Environment,
    pub discovery: Option<DiscoveryProgress>,
}

/// Builds the AWS provider for an environment, discovering one when none is given.
pub async fn provider(opts: &AwsOptions, env: Option<Environment>) -> anyhow::Result<AwsSession> {
    let config = sdk_config::load(opts.profile.as_deref(), opts.region.as_deref()).await;
    let budget = Arc::new(Budget::new(opts.budget.clone()));
    if let Some(env) = env {
        return Ok(AwsSession {
            provider: build(
                &config,
                Watch::from_environment(&env),
                opts.read_only,
                &budget,
            ),
            budget,
            environment: env,
            discovery: None,
        });
    }
    let clients = DiscoveryClients::new(&config);
    let discovery = Discovery::run(&clients, &discover::home_region(&config))
        .await
        .map_err(|e| anyhow::anyhow!("discovering the environment: {e}"))?;
    let found = discovery.discovered();
    if discovery.complete() {
        return Ok(AwsSession {
            provider: build(&config, found.watch(), opts.read_only, &budget),
            budget,
            environment: found.environment,
            discovery: None,
        });
    }
    let failed = discovery.failures();
    for f in &failed {
        if let Err(e) = &f.result {
            tracing::warn!(source = %f.source, "discovery incomplete: {e}");
        }
    }
    let watch = found.watch();
    let observe = Arc::new(Swappable::new(AwsObserver::new(
        ReadClients::new(&config, &watch.regions, &budget),
        watch.clone(),
    )));
    let act = (!opts.read_only).then(|| {
        Arc::new(Swappable::new(AwsActor::new(ActClients::new(
            &config,
            &watch.regions,
            &budget,
        ))))
    });
    let on_found = {
        let (observe, act, budget) = (Arc::clone(&observe), act.clone(), Arc::clone(&budget));
        move |found: &Discovered| {
            let watch = found.watch();
            if let Some(act) = &act {
                act.replace(AwsActor::new(ActClients::new(
                    &config,
                    &watch.regions,
                    &budget,
                )));
            }
            observe.replace(AwsObserver::new(
                ReadClients::new(&config, &watch.regions, &budget),
                watch,
            ));
        }
    };
    let updates = rediscover::spawn(discovery, clients, Backoff::default(), on_found);
    Ok(AwsSession {
        budget,
        provider: Provider {
            observe,
            act: act.map(|a| a as Arc<dyn Act>),
            kind: ProviderKind::Aws,
        },
        environment: found.environment,
        discovery: Some(DiscoveryProgress { failed, updates }),
    })
}

/// The provider on an already loaded SDK configuration, within the
/// default budget. With `read_only` no acting client is created at all.
pub fn from_sdk_config(config: &SdkConfig, env: &Environment, read_only: bool) -> Provider {
    let budget = Arc::new(Budget::default());
    build(config, Watch::from_environment(env), read_only, &budget)
}

/// The provider reading exactly `watch`, both halves within `budget`.
pub fn build(config: &SdkConfig, watch: Watch, read_only: bool, budget: &Arc<Budget>) -> Provider {
    let act = (!read_only).then(|| {
        Arc::new(AwsActor::new(ActClients::new(
            config,
            &watch.regions,
            budget,
        ))) as Arc<dyn Act>
    });
    let observe = Arc::new(AwsObserver::new(
        ReadClients::new(config, &watch.regions, budget),
        watch,
    ));
    Provider {
        observe,
        act,
        kind: ProviderKind::Aws,
    }
}
