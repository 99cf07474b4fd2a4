//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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

impl SessionArgs {
    pub fn wants_aws(&self) -> bool {
        self.aws || self.profile.is_some()
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print every service's posture once and exit non-zero if any is
    /// outside its objectives.
    Status {
        #[arg(long, value_enum, default_value = "table")]
        format: StatusFormat,
    },
    /// Validate runbooks, print their plan, or run one without the console.
    #[command(subcommand)]
    Runbook(RunbookCommand),
    /// Watch another session's run live, read-only, beside the dashboard.
    Follow(super::follow::FollowArgs),
    /// Print the incident timeline from the journals and the events log.
    Timeline(super::timeline::TimelineArgs),
}
