//! `drconsole runbook check|plan|run`.

use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::Subcommand;

use crate::domain::environment::Environment;
use crate::provider::Provider;
use crate::runbook::vars::Variables;
use crate::runbook::{format, plan, validate};

#[derive(Debug, Subcommand)]
pub enum RunbookCommand {
    /// Validate runbooks against the environment; exits non-zero on errors.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Print every step and the exact API call each action would make.
    Plan {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// A parameter value, NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
    },
}

/// What the runbook commands need from the session.
pub struct RunbookContext {
    pub environment: Environment,
    /// Absent when the session did not build one (`check` and `plan` need none).
    pub provider: Option<Provider>,
    pub journal_dir: PathBuf,
    pub lock_dir: PathBuf,
    /// Values for the builtin variables, e.g. `demo_app_url` in the demo.
    pub builtins: Variables,
    pub operator: String,
    pub today: NaiveDate,
}

pub fn parse_param(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("expected NAME=VALUE, got `{s}`")),
    }
}

pub async fn execute(cmd: RunbookCommand, ctx: RunbookContext) -> anyhow::Result<ExitCode> {
    match cmd {
        RunbookCommand::Check { files } => Ok(check(&files, &ctx)),
        RunbookCommand::Plan { file, params } => plan(&file, params, &ctx),
    }
}

fn check(files: &[PathBuf], ctx: &RunbookContext) -> ExitCode {
    let mut errors = 0;
    let mut warnings = 0;
    for file in files {
        for d in validate::check_file(file, &ctx.environment, ctx.today) {
            if d.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
            eprintln!("{d}");
        }
    }
    eprintln!(
        "{} file(s) checked: {errors} error(s), {warnings} warning(s)",
        files.len()
    );
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn plan(
    file: &std::path::Path,
    params: Vec<(String, String)>,
    ctx: &RunbookContext,
) -> anyhow::Result<ExitCode> {
    let runbook = match load_valid(file, ctx) {
        Some(rb) => rb,
        None => return Ok(ExitCode::FAILURE),
    };
    let supplied: Variables = params.into_iter().collect();
    let vars = plan::parameter_values(&runbook, &supplied, &ctx.builtins)?;
    print!("{}", plan::render(&runbook, &vars));
    Ok(ExitCode::SUCCESS)
}

/// Loads a runbook and prints its diagnostics; None when it has errors.
fn load_valid(file: &std::path::Path, ctx: &RunbookContext) -> Option<format::Runbook> {
    let runbook = match format::load(file) {
        Ok(rb) => rb,
        Err(diags) => {
            diags.iter().for_each(|d| eprintln!("{d}"));
            return None;
        }
    };
    let diags = validate::validate(&runbook, &ctx.environment, ctx.today);
    diags.iter().for_each(|d| eprintln!("{d}"));
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }
    Some(runbook)
}
