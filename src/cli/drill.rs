//! `drconsole drill check FILE...`, `drill history`,
//! `drill SCENARIO --headless`, and `drill SCENARIO`: the console on the
//! scenario's world.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::config::paths::Paths;
use crate::config::user_config::UserConfig;
use crate::drill::run::DrillWorld;
use crate::drill::{headless, report, scenario, validate};
use crate::format::{objective, printable, short_duration};
use crate::runbook::format::Runbook;
use crate::runbook::library;
use crate::session::Operator;
use crate::tui::drill::DrillState;
use crate::tui::runbooks::RunbookSetup;
use crate::tui::{self, ConsoleContext, theme};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DrillArgs {
    #[command(subcommand)]
    pub command: Option<DrillCommand>,
    /// The scenario to run: a file (e.g. runbooks/drills/full-outage.yaml)
    /// or the name of one in runbooks/drills (e.g. full-outage).
    #[arg(value_name = "SCENARIO")]
    pub scenario: Option<PathBuf>,
    /// Run with the expected runbook answered automatically; exit non-zero
    /// when an objective is missed.
    #[arg(long)]
    pub headless: bool,
    /// Simulated seconds per real second.
    #[arg(long, value_name = "N", default_value_t = 60.0, value_parser = time_scale)]
    pub time_scale: f64,
    /// Seed of the simulated world (default: the environment's).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Simulated time a headless trainee takes to answer each prompt.
    #[arg(long, value_name = "D", default_value = "20s", value_parser = humantime::parse_duration)]
    pub decision_delay: Duration,
}

#[derive(Debug, Subcommand)]
pub enum DrillCommand {
    /// Validate scenario files (and the runbooks they name); exits non-zero on errors.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// List the drill reports in the data directory.
    History,
}

fn time_scale(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && (1.0..=3600.0).contains(&n) => Ok(n),
        _ => Err("expected a number from 1 to 3600".into()),
    }
}

pub async fn execute(
    args: DrillArgs,
    paths: &Paths,
    config: &UserConfig,
) -> anyhow::Result<ExitCode> {
    match (args.command, args.scenario.map(scenario_file)) {
        (Some(DrillCommand::Check { files }), _) => Ok(check(&files)),
        (Some(DrillCommand::History), _) => history(paths),
        (None, Some(scenario)) if args.headless => {
            let options = headless::Options {
                time_scale: args.time_scale,
                seed: args.seed,
                decision_delay: args.decision_delay,
                operator: format!("{} (headless drill)", Operator::local().id),
                safety: config.safety.settings(),
            };
            run_headless(&scenario, options, paths).await
        }
        (None, Some(scenario)) => {
            run_interactive(&scenario, args.time_scale, args.seed, paths, config).await
        }
        (None, None) => {
            anyhow::bail!("name a scenario file, or `drill check FILE...` or `drill history`")
        }
    }
}

/// Where the drill scenarios shipped with the runbooks are.
const SCENARIOS_DIR: &str = "runbooks/drills";

/// `name` as given when it is a file, else the scenario of that name in
/// [`SCENARIOS_DIR`] when there is one: `drill full-outage` is what a
/// trainee types after reading `drill history` or the README.
fn scenario_file(name: PathBuf) -> PathBuf {
    if name.exists() || name.components().count() != 1 {
        return name;
    }
    let named = std::path::Path::new(SCENARIOS_DIR).join(&name);
    [
        named.with_extension("yaml"),
        named.with_extension("yml"),
        named,
    ]
    .into_iter()
    .find(|p| p.is_file())
    .unwrap_or(name)
}

/// Loads and checks the scenario; diagnostics go to stderr.
fn checked(file: &std::path::Path) -> Option<validate::Checked> {
    let today = chrono::Utc::now().date_naive();
    let found = scenario::load(file).and_then(|s| validate::check(s, today));
    match found {
        Ok(c) => {
            for d in &c.warnings {
                eprintln!("{}", printable(&d.to_string()));
            }
            Some(c)
        }
        Err(diagnostics) => {
            for d in &diagnostics {
                eprintln!("{}", printable(&d.to_string()));
            }
            None
        }
    }
}

async fn run_headless(
    file: &std::path::Path,
    options: headless::Options,
    paths: &Paths,
) -> anyhow::Result<ExitCode> {
    let Some(checked) = checked(file) else {
        return Ok(ExitCode::from(2));
    };
    let dir = report::reports_dir(&paths.data_dir);
    let outcome = headless::run(checked, options, &dir).await?;
    let r = &outcome.report;
    let maybe = |d: Option<Duration>| d.map_or("—".to_string(), short_duration);
    println!("{}: {}", printable(&r.scenario), r.end.label());
    println!(
        "RTO {} (objective {}), RPO {} writes lost spanning {} (objective {}), {} promotion(s)",
        maybe(r.rto_s),
        r.rto_objective_s.map_or("—".into(), objective),
        r.lost_writes,
        maybe(r.rpo_s),
        r.rpo_objective_s.map_or("—".into(), objective),
        r.promotions
    );
    for f in &r.findings {
        println!("- {}", printable(f));
    }
    if let Some(j) = &outcome.journal {
        println!("journal: {}", j.display());
    }
    println!("world: {}", outcome.world.display());
    println!("report: {}", outcome.report_path.display());
    println!("{}", if r.passed { "PASSED" } else { "FAILED" });
    Ok(if r.passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The console on the scenario's world, the timeline playing; prints the
/// report's path once the console has closed.
async fn run_interactive(
    file: &std::path::Path,
    time_scale: f64,
    seed: Option<u64>,
    paths: &Paths,
    config: &UserConfig,
) -> anyhow::Result<ExitCode> {
    use std::io::IsTerminal;

    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        anyhow::bail!(
            "a drill needs a terminal; for scripts use `drconsole drill SCENARIO --headless`"
        );
    }
    let Some(checked) = checked(file) else {
        return Ok(ExitCode::from(2));
    };
    let mut theme = theme::load(
        config.theme.as_deref().unwrap_or("dark"),
        Some(&paths.user_themes_dir()),
    )?;
    if theme::no_color_requested() {
        theme = theme.without_colors();
    }
    let keys = config.key_map().map_err(|r| anyhow::anyhow!(r.message))?;
    let reports_dir = report::reports_dir(&paths.data_dir);
    let world = DrillWorld::open(checked, time_scale, seed, &reports_dir).await?;
    let runbooks = offered_runbooks(&world.checked.runbooks);
    let setup = RunbookSetup {
        runbooks: runbooks.0,
        problems: runbooks.1,
        provider: world.provider.clone(),
        journal_dir: world.dir.join("journal"),
        lock_dir: world.dir.join("locks"),
        builtins: world.builtins.clone(),
        operator: Operator::local().id,
        identity_note: None,
        session: format!("drill-{}", std::process::id()),
        safety: config.safety.settings(),
        shared: None,
    };
    let ctx = ConsoleContext {
        environment: world.checked.environment.clone(),
        provider: world.provider.clone(),
        theme,
        // Five simulated seconds between looks, as the headless drill.
        poll_interval: Duration::from_secs_f64((5.0 / time_scale).max(0.25)),
        mode_label: "drill · simulated".into(),
        runbooks: Some(setup),
        faults: None,
        notice: None,
        discovery: None,
        follow: None,
        timeline: None,
        keys,
        themes_dir: Some(paths.user_themes_dir()),
        drill: Some(DrillState::new(world, reports_dir)?),
    };
    match tui::run(ctx).await? {
        Some(path) => {
            println!("report: {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!("drconsole: the drill's report could not be written");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The runbooks beside the scenario's expected one, as the library offers
/// them, the expected ones included even when their folder has others.
fn offered_runbooks(expected: &[Runbook]) -> (Vec<Runbook>, Vec<String>) {
    let (mut runbooks, problems) = match expected.first().and_then(|r| r.path.parent()) {
        Some(dir) => library::load_dir(dir),
        None => (Vec::new(), Vec::new()),
    };
    for r in expected {
        if !runbooks.iter().any(|o| o.path == r.path) {
            runbooks.push(r.clone());
        }
    }
    (runbooks, problems)
}

fn check(files: &[PathBuf]) -> ExitCode {
    let today = chrono::Utc::now().date_naive();
    let mut errors = 0;
    let mut warnings = 0;
    for file in files {
        for d in validate::check_file(file, today) {
            if d.is_error() {
                errors += 1;
            } else {
                warnings += 1;
            }
            eprintln!("{}", printable(&d.to_string()));
        }
    }
    eprintln!(
        "{} scenario(s) checked: {errors} error(s), {warnings} warning(s)",
        files.len()
    );
    if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn history(paths: &Paths) -> anyhow::Result<ExitCode> {
    let dir = report::reports_dir(&paths.data_dir);
    let (past, problems) = report::history(&dir)?;
    for p in &problems {
        eprintln!("{}", printable(p));
    }
    if past.is_empty() {
        println!("no drill reports in {}", dir.display());
    } else {
        print!("{}", report::history_table(&past));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scenario_is_found_by_its_name_or_taken_as_the_path_given() {
        // Tests run from the repository, where the shipped drills are.
        assert_eq!(
            scenario_file("full-outage".into()),
            PathBuf::from("runbooks/drills/full-outage.yaml")
        );
        let given = PathBuf::from("runbooks/drills/full-outage.yaml");
        assert_eq!(scenario_file(given.clone()), given);
        // Neither a file nor a shipped name: left as typed, for the loader
        // to say it cannot read it.
        assert_eq!(
            scenario_file("no-such-drill".into()),
            PathBuf::from("no-such-drill")
        );
        assert_eq!(
            scenario_file("x/full-outage".into()),
            PathBuf::from("x/full-outage")
        );
    }
}
