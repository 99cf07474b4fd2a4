//! Opening a session: which environment, which provider, how often to poll.
//!
//! The one place that decides between the demo and AWS, and between a
//! session that may act and one that may only watch.

use std::sync::Arc;
use std::time::Duration;

use crate::cli::args::SessionArgs;
use crate::config::environment_file::{demo_environment, load_environment};
use crate::config::user_config::{DEFAULT_DEMO_POLL, UserConfig};
use crate::domain::environment::Environment;
use crate::provider::Provider;
use crate::provider::sim::{self, SimWorld};

pub struct Session {
    pub environment: Environment,
    pub provider: Provider,
    pub poll_interval: Duration,
    /// The simulated world, in demo sessions.
    pub world: Option<Arc<SimWorld>>,
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
    if args.wants_aws() {
        anyhow::bail!(
            "the AWS provider is not part of this build yet; run without --aws for the demo"
        );
    }
    let environment = match args.environment.as_ref().or(config.environment.as_ref()) {
        Some(path) => load_environment(path)?,
        None => demo_environment(),
    };
    let world = Arc::new(SimWorld::live(&environment));
    Ok(Session {
        provider: sim::provider(Arc::clone(&world), args.read_only),
        poll_interval: config.demo_poll_interval.unwrap_or(DEFAULT_DEMO_POLL),
        environment,
        world: Some(world),
    })
}
