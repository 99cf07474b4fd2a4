//! Minimal entry point for the runbook commands; the full CLI replaces it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use drconsole::cli::runbook::{RunbookCommand, RunbookContext, execute};
use drconsole::config::paths::Paths;
use drconsole::config::source_file::load_toml;

#[derive(Debug, Parser)]
#[command(name = "drconsole")]
struct Cli {
    /// Environment file (TOML).
    #[arg(long = "env", value_name = "FILE")]
    environment: PathBuf,
    #[command(subcommand)]
    command: Top,
}

#[derive(Debug, Subcommand)]
enum Top {
    #[command(subcommand)]
    Runbook(RunbookCommand),
}

#[tokio::main]
async fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let environment = load_toml(&cli.environment)?;
    let paths = Paths::discover()?;
    let ctx = RunbookContext {
        environment,
        provider: None,
        journal_dir: paths.journal_dir(),
        lock_dir: paths.lock_dir(),
        builtins: Default::default(),
        operator: std::env::var("USER").unwrap_or_else(|_| "operator".into()),
        today: chrono::Utc::now().date_naive(),
    };
    let Top::Runbook(cmd) = cli.command;
    execute(cmd, ctx).await
}
