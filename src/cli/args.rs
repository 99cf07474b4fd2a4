//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use super::drill::DrillArgs;
use super::runbook::RunbookCommand;
use super::status::StatusFormat;

/// Live disaster-recovery posture and guided failover runbooks for AWS.
///
/// With no arguments it opens the console on the embedded demo
/// environment: no AWS account, no network.
#[derive(Debug, Parser)]
#[command(name = "drconsole", version, about, long_about)]
pub struct Cli {
    #[command(flatten)]
    pub session: SessionArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args)]
pub struct SessionArgs {
    /// Watch real AWS (standard credential chain) instead of the demo.
    #[arg(long, global = true)]
    pub aws: bool,
    /// AWS shared-config profile (implies --aws).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Home region for AWS (defaults to the profile's).
    #[arg(long, global = true, value_name = "REGION", value_parser = region_name)]
    pub region: Option<String>,
    /// Environment file (TOML) naming regions, services and resources.
    #[arg(long = "env", global = true, value_name = "FILE")]
    pub environment: Option<PathBuf>,
    /// User configuration file (default: the platform config directory).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Never mutate anything: the acting half of the provider is not built.
    #[arg(long, global = true)]
    pub read_only: bool,
    /// Start the demo's simulated world afresh instead of resuming the one
    /// the last demo session saved.
    #[arg(long, global = true)]
    pub fresh_demo: bool,
    /// Directory of runbooks the console offers (default: ./runbooks if
    /// present, else the config directory's runbooks/).
    #[arg(long, global = true, value_name = "DIR")]
    pub runbooks: Option<PathBuf>,
    /// Shared store coordinating consoles on several machines (locks,
    /// journals, approvals): overrides `[shared]` in the configuration.
    /// The bucket must not be in a region that may fail.
    #[arg(long, global = true, value_name = "s3://BUCKET/PREFIX", value_parser = shared_location)]
    pub shared: Option<String>,
    /// The shared store bucket's region.
    #[arg(long, global = true, value_name = "REGION", value_parser = region_name)]
    pub shared_region: Option<String>,
    /// Colour theme: dark, light, high-contrast, or a user theme's name.
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,
}

/// The region becomes part of every endpoint's host name, so only a name
/// of AWS's shape is taken.
fn region_name(text: &str) -> Result<String, String> {
    if crate::domain::environment::is_region_name(text) {
        Ok(text.to_string())
    } else {
        Err("not an AWS region name; expected one like `us-east-1`".into())
    }
}

fn shared_location(text: &str) -> Result<String, String> {
    crate::coordination::config::parse_location(text).map(|_| text.to_string())
}

impl SessionArgs {
    pub fn wants_aws(&self) -> bool {
        self.aws || self.profile.is_some()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every service's posture once. Exit status: 0 every service
    /// within its objectives, 1 some service outside them, 3 none known
    /// outside but some cannot be shown inside (unknown verdict, replication
    /// lag unreadable, discovery incomplete), 2 drconsole's own error.
    Status {
        #[arg(long, value_enum, default_value = "table")]
        format: StatusFormat,
    },
    /// Evaluate the DR checklist once and exit non-zero if any check fails.
    Readiness(super::readiness::ReadinessArgs),
    /// Validate runbooks, print their plan, or run one without the console.
    #[command(subcommand)]
    Runbook(RunbookCommand),
    /// Approve a `confirm: two-person` step of a run another operator
    /// leads (needs the shared store).
    Approve {
        /// The run's id (shown by the run waiting for approval).
        run: String,
        /// The step's id.
        step: String,
        /// Why it may go ahead (recorded).
        #[arg(long, value_name = "TEXT")]
        reason: String,
    },
    /// Practise on a simulated outage and get a scored report; check
    /// scenario files; list past reports.
    Drill(DrillArgs),
    /// Watch another session's run live, read-only, beside the dashboard.
    Follow(super::follow::FollowArgs),
    /// Print the incident timeline from the journals and the events log.
    Timeline(super::timeline::TimelineArgs),
}
