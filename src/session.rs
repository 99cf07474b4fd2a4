//! Opening a session: which environment, which provider, how often to poll.
//!
//! The one place that decides between the demo and AWS, and between a
//! session that may act and one that may only watch.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::args::SessionArgs;
use crate::config::environment_file::{demo_environment, load_environment};
use crate::config::user_config::{DEFAULT_AWS_POLL, DEFAULT_DEMO_POLL, UserConfig};
use crate::domain::environment::Environment;
use crate::monitor::DiscoveryProgress;
use crate::provider::Provider;
use crate::provider::aws::{self, AwsOptions};
use crate::provider::sim::{self, SimWorld};
use crate::runbook::vars::Variables;

pub struct Session {
    pub environment: Environment,
    pub provider: Provider,
    pub poll_interval: Duration,
    /// The simulated world, in demo sessions.
    pub world: Option<Arc<SimWorld>>,
    /// Values runbooks may use as `${name}`, e.g. the demo application's URL.
    pub builtins: Variables,
    /// AWS discovery that failed in part: retried in the background.
    pub discovery: Option<DiscoveryProgress>,
}

impl Session {
    /// "demo", "aws", with "read-only" when the session cannot act.
    pub fn mode_label(&self) -> String {
        let kind = self.provider.kind.label();
        if self.provider.read_only() {
            format!("{kind} · read-only")
        } else {
            kind.to_string()
        }
    }
}

pub async fn open(args: &SessionArgs, config: &UserConfig) -> anyhow::Result<Session> {
    let env_file = args.environment.as_ref().or(config.environment.as_ref());
    let environment = env_file.map(|p| load_environment(p)).transpose()?;
    if args.wants_aws() {
        let opts = AwsOptions {
            profile: args.profile.clone().or(config.aws.profile.clone()),
            region: args.region.clone().or(config.aws.region.clone()),
            read_only: args.read_only,
        };
        let aws = aws::provider(&opts, environment).await?;
        return Ok(Session {
            environment: aws.environment,
            provider: aws.provider,
            poll_interval: config.aws_poll_interval.unwrap_or(DEFAULT_AWS_POLL),
            world: None,
            builtins: Variables::new(),
            discovery: aws.discovery,
        });
    }
    let environment = environment.unwrap_or_else(demo_environment);
    let world = Arc::new(SimWorld::live(&environment));
    // The demo application answers the runbooks' smoke tests the way the
    // simulated world dictates; it listens on loopback only.
    let (app_addr, _server) =
        sim::serve_demo_app(Arc::clone(&world), SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let builtins = Variables::from([("demo_app_url".to_string(), format!("http://{app_addr}"))]);
    Ok(Session {
        builtins,
        provider: sim::provider(Arc::clone(&world), args.read_only),
        poll_interval: config.demo_poll_interval.unwrap_or(DEFAULT_DEMO_POLL),
        environment,
        world: Some(world),
        discovery: None,
    })
}
