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
use crate::provider::Provider;
use crate::provider::aws::{self, AwsOptions};
use crate::provider::sim::{self, SimWorld};
use crate::runbook::lock::Holder;
use crate::runbook::vars::Variables;

pub struct Session {
    pub environment: Environment,
    /// Who confirms, skips and overrides, as the journal records it.
    pub operator: Operator,
    pub provider: Provider,
    pub poll_interval: Duration,
    /// The simulated world, in demo sessions.
    pub world: Option<Arc<SimWorld>>,
    /// Values runbooks may use as `${name}`, e.g. the demo application's URL.
    pub builtins: Variables,
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
        // Resolved once, beside the provider, before any screen is drawn.
        let (provider, operator) =
            tokio::join!(aws::provider(&opts, environment), aws_operator(&opts));
        let (provider, environment) = provider?;
        return Ok(Session {
            environment,
            operator,
            provider,
            poll_interval: config.aws_poll_interval.unwrap_or(DEFAULT_AWS_POLL),
            world: None,
            builtins: Variables::new(),
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
        operator: Operator::local(),
        provider: sim::provider(Arc::clone(&world), args.read_only),
        poll_interval: config.demo_poll_interval.unwrap_or(DEFAULT_DEMO_POLL),
        environment,
        world: Some(world),
    })
}

/// The identity journaled with every confirmation, skip and override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The caller identity's ARN in AWS mode, else `user@host`.
    pub id: String,
    /// Why an AWS session fell back to `user@host`; shown to the operator.
    pub fallback: Option<String>,
}

impl Operator {
    /// The local login and host: who is at this keyboard.
    pub fn local() -> Operator {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_string());
        let host = Holder::me(None).host;
        Operator {
            id: format!("{user}@{host}"),
            fallback: None,
        }
    }
}

async fn aws_operator(opts: &AwsOptions) -> Operator {
    let config = aws::sdk_config::load(opts.profile.as_deref(), opts.region.as_deref()).await;
    match aws::identity::caller_arn(&config).await {
        Ok(arn) => Operator {
            id: arn,
            fallback: None,
        },
        Err(e) => {
            let local = Operator::local();
            let why = format!(
                "the AWS caller identity is unknown ({e}); journals name the operator {}",
                local.id
            );
            tracing::warn!("{why}");
            Operator {
                fallback: Some(why),
                ..local
            }
        }
    }
}
