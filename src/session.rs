//! Opening a session: which environment, which provider, how often to poll.
//!
//! The one place that decides between the demo and AWS, and between a
//! session that may act and one that may only watch.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::cli::args::SessionArgs;
use crate::config::environment_file::{demo_environment, load_environment};
use crate::config::user_config::{DEFAULT_AWS_POLL, DEFAULT_DEMO_POLL, UserConfig};
use crate::domain::environment::Environment;
use crate::monitor::DiscoveryProgress;
use crate::provider::Provider;
use crate::provider::aws::{self, AwsOptions};
use crate::provider::fault::FaultControl;
use crate::provider::sim::{self, SimWorld, WorldClaim, WorldSaver};
use crate::runbook::lock::Holder;
use crate::runbook::vars::Variables;

pub struct Session {
    pub environment: Environment,
    /// Who confirms, skips and overrides, as the journal records it.
    pub operator: Operator,
    pub provider: Provider,
    pub poll_interval: Duration,
    /// Starts and ends simulated faults, in demo sessions that may act.
    pub faults: Option<Arc<dyn FaultControl>>,
    /// Values runbooks may use as `${name}`, e.g. the demo application's URL.
    pub builtins: Variables,
    /// How the session opened, when the operator should know: e.g. that the
    /// demo resumed a saved world, or could not.
    pub notice: Option<String>,
    /// Keeps the demo's world saved; [`Session::close`] saves it one last time.
    saver: Option<WorldSaver>,
    /// This session's exclusive right to the saved demo world it acts on.
    _world_claim: Option<WorldClaim>,
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

    /// Takes what must outlive the fields `main` moves out, so the session
    /// can still be closed.
    pub fn closer(&mut self) -> SessionCloser {
        SessionCloser(self.saver.take())
    }
}

/// Ends a session: saves the demo's world as it is at the end.
pub struct SessionCloser(Option<WorldSaver>);

impl SessionCloser {
    pub async fn close(self) {
        if let Some(saver) = self.0 {
            saver.finish().await;
        }
    }
}

/// What a demo session does with the world saved between sessions.
#[derive(Debug, Clone, Copy)]
pub enum SavedWorld<'a> {
    /// Neither read nor written: the command never looks at the world.
    Ignore,
    /// Resumed from its file in this directory (unless `--fresh-demo`) and
    /// kept saved there while the session lasts, unless it is read-only.
    ResumeAndSave(&'a Path),
    /// Resumed from its file in this directory but never written: a look.
    ResumeOnly(&'a Path),
}

/// Opens the session `args` and `config` ask for; in the demo, `saved`
/// says whether it continues the world an earlier session left.
pub async fn open(
    args: &SessionArgs,
    config: &UserConfig,
    saved: SavedWorld<'_>,
) -> anyhow::Result<Session> {
    let env_file = args.environment.as_ref().or(config.environment.as_ref());
    let environment = env_file.map(|p| load_environment(p)).transpose()?;
    if args.wants_aws() {
        let opts = AwsOptions {
            profile: args.profile.clone().or(config.aws.profile.clone()),
            region: args.region.clone().or(config.aws.region.clone()),
            read_only: args.read_only,
            budget: config.budget.settings(),
        };
        // Resolved once, beside the provider, before any screen is drawn.
        let (aws, operator) = tokio::join!(aws::provider(&opts, environment), aws_operator(&opts));
        let aws = aws?;
        return Ok(Session {
            environment: aws.environment,
            operator,
            provider: aws.provider,
            poll_interval: config.aws_poll_interval.unwrap_or(DEFAULT_AWS_POLL),
            faults: None,
            builtins: Variables::new(),
            notice: None,
            saver: None,
            _world_claim: None,
            discovery: aws.discovery,
        });
    }
    let environment = environment.unwrap_or_else(demo_environment);
    let mut claim = None;
    let (world, notice, save_to) = match saved {
        SavedWorld::Ignore => (SimWorld::live(&environment), None, None),
        SavedWorld::ResumeOnly(dir) => {
            let file = sim::saved_world_file(dir, &environment);
            let (world, notice) = sim::open_world(&environment, &file, args.fresh_demo, true);
            (world, notice, None)
        }
        SavedWorld::ResumeAndSave(dir) => {
            let file = sim::saved_world_file(dir, &environment);
            if !args.read_only {
                claim = WorldClaim::take(&file).map_err(|e| {
                    anyhow::anyhow!("{}: cannot claim the demo world: {e}", file.display())
                })?;
                if claim.is_none() {
                    anyhow::bail!(
                        "{}: the demo world is in use by another drconsole that can act on it; stop that one first, or start this one with --read-only to watch a copy",
                        file.display()
                    );
                }
            }
            let (world, notice) =
                sim::open_world(&environment, &file, args.fresh_demo, args.read_only);
            (world, notice, (!args.read_only).then_some(file))
        }
    };
    let world = Arc::new(world);
    let saver = save_to.map(|file| WorldSaver::spawn(Arc::clone(&world), file));
    // Read-only sessions watch; they cannot break the world either.
    let faults = (!args.read_only).then(|| Arc::clone(&world) as Arc<dyn FaultControl>);
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
        faults,
        notice,
        saver,
        _world_claim: claim,
        discovery: None,
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
