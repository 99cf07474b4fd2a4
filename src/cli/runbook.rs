//! `drconsole runbook check|plan|run|new`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clap::Subcommand;

use super::shared_run;
use crate::coordination::run::Claim;
use crate::domain::environment::{Environment, ServiceSpec};
use crate::domain::incident::{self, Basis, IncidentStart, ServiceHistory};
use crate::domain::posture;
use crate::format::printable;
use crate::monitor::SnapshotFeed;
use crate::provider::Provider;
use crate::runbook::headless::{self, Operator};
use crate::runbook::journal::RunOutcome;
use crate::runbook::runner::RunEnd;
use crate::runbook::safety::SafetySettings;
use crate::runbook::start::{self, Discard, ResumePolicy, StartRefused, StartRequest, Starter};
use crate::runbook::vars::Variables;
use crate::runbook::{format, generate, plan, validate};

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
    /// Run a runbook on this terminal, asking for every confirmation on stdin.
    Run {
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// A parameter value, NAME=VALUE (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param)]
        params: Vec<(String, String)>,
        /// Directory for the run's journal (default: the data directory).
        #[arg(long, value_name = "DIR")]
        journal: Option<PathBuf>,
        /// Continue the unfinished run recorded in this journal file.
        #[arg(long, value_name = "JOURNAL", conflicts_with = "new")]
        resume: Option<PathBuf>,
        /// Start a new run even though an unfinished one exists.
        #[arg(long)]
        new: bool,
        /// Set this journal of the service aside first (it cannot be read,
        /// or its run is abandoned): renamed to `*.discarded`, with who,
        /// why and when written beside it. Needs --reason.
        #[arg(long, value_name = "JOURNAL", requires = "reason")]
        discard_journal: Option<PathBuf>,
        /// Why the journal is discarded, the run taken over, or run solo
        /// (recorded).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Take over the service's run from a console whose shared lease
        /// has expired, resuming it from the shared journal. Needs --reason.
        #[arg(long, requires = "reason", conflicts_with_all = ["solo", "resume", "new"])]
        take_over: bool,
        /// Start without the shared store's lease when the store cannot be
        /// reached: no other console can be kept off the service. Needs --reason.
        #[arg(long, requires = "reason")]
        solo: bool,
        /// When the outage began, if before the run: RFC 3339, HH:MM (UTC,
        /// today) or a time ago such as -15m. The RTO clock counts from
        /// it; journaled with the operator and --incident-reason. Without
        /// it, a service not UP at the first poll counts from that poll.
        #[arg(
            long,
            value_name = "TIME",
            requires = "incident_reason",
            allow_hyphen_values = true
        )]
        incident_start: Option<String>,
        /// Why the outage is said to have begun then (recorded).
        #[arg(long, value_name = "TEXT", requires = "incident_start")]
        incident_reason: Option<String>,
    },
    /// Write a runbook for a service from what the environment knows of it,
    /// with `${service.…}` variables for its identifiers, then check it.
    New {
        #[arg(value_name = "SERVICE")]
        service: String,
        #[arg(long, value_enum)]
        kind: generate::Kind,
        /// Directory to write `SERVICE-KIND.yaml` into.
        #[arg(long, value_name = "DIR", default_value = ".")]
        out: PathBuf,
        /// The region a drain-region runbook takes out of rotation
        /// (default: the service's primary region).
        #[arg(long, value_name = "REGION")]
        region: Option<String>,
        /// Replace the file if it exists.
        #[arg(long)]
        force: bool,
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
    /// How often the run's monitor polls the provider.
    pub poll_interval: Duration,
    /// The safety rules' settings from the user's configuration.
    pub safety: SafetySettings,
    /// The shared store (`[shared]` or `--shared`), if any.
    pub shared: Option<crate::coordination::config::SharedSettings>,
    /// The AWS profile the shared store's client uses.
    pub profile: Option<String>,
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
    // Errors quote runbook text, lock files and provider answers.
    run_command(cmd, ctx)
        .await
        .map_err(|e| anyhow::anyhow!("{}", printable(&format!("{e:#}"))))
}

async fn run_command(cmd: RunbookCommand, ctx: RunbookContext) -> anyhow::Result<ExitCode> {
    match cmd {
        RunbookCommand::Check { files } => Ok(check(&files, &ctx)),
        RunbookCommand::Plan { file, params } => plan(&file, params, &ctx),
        RunbookCommand::New {
            service,
            kind,
            out,
            region,
            force,
        } => new(&service, kind, &out, region.as_deref(), force, &ctx),
        RunbookCommand::Run {
            file,
            params,
            journal,
            resume,
            new,
            discard_journal,
            reason,
            incident_start,
            incident_reason,
            take_over,
            solo,
        } => {
            let claim = match (take_over, solo, &reason) {
                (true, _, Some(reason)) => Claim::TakeOver {
                    reason: reason.clone(),
                },
                (_, true, Some(reason)) => Claim::Solo {
                    reason: reason.clone(),
                },
                _ => Claim::Lease,
            };
            if (take_over || solo) && ctx.shared.is_none() {
                eprintln!(
                    "drconsole: --take-over and --solo need a shared store: [shared] in the configuration or --shared s3://BUCKET/PREFIX"
                );
                return Ok(ExitCode::from(2));
            }
            if reason.is_some() && !take_over && !solo && discard_journal.is_none() {
                eprintln!("drconsole: --reason goes with --discard-journal, --take-over or --solo");
                return Ok(ExitCode::from(2));
            }
            let options = RunOptions {
                claim,
                params,
                journal_dir: journal.unwrap_or_else(|| ctx.journal_dir.clone()),
                resume: match (resume, new) {
                    (Some(path), _) => ResumePolicy::From(path),
                    (None, true) => ResumePolicy::New,
                    (None, false) => ResumePolicy::Refuse,
                },
                discard: discard_journal.map(|journal| Discard {
                    journal,
                    reason: reason.clone().unwrap_or_default(),
                }),
                incident: incident_start.map(|t| (t, incident_reason.unwrap_or_default())),
            };
            run(&file, options, ctx).await
        }
    }
}

struct RunOptions {
    claim: Claim,
    params: Vec<(String, String)>,
    journal_dir: PathBuf,
    resume: ResumePolicy,
    discard: Option<Discard>,
    /// `--incident-start` and `--incident-reason`, as typed.
    incident: Option<(String, String)>,
}

/// The same start sequence as the console's ([`start::prepare`]), with a
/// monitor of its own whose polls the run's conditions are evaluated on.
async fn run(
    file: &std::path::Path,
    options: RunOptions,
    ctx: RunbookContext,
) -> anyhow::Result<ExitCode> {
    let provider = ctx
        .provider
        .clone()
        .ok_or_else(|| anyhow::anyhow!("this session has no provider to run against"))?;
    let declared = match &options.incident {
        Some((time, why)) => {
            match declared_incident(time, why, &ctx.operator, provider.observe.now()) {
                Ok(incident) => Some(incident),
                Err(e) => {
                    eprintln!("drconsole: --incident-start: {}", printable(&e));
                    return Ok(ExitCode::from(2));
                }
            }
        }
        None => None,
    };
    let (feed, monitor) = crate::monitor::spawn_feed(provider.observe.clone(), ctx.poll_interval);
    let starter = Starter {
        environment: ctx.environment,
        builtins: ctx.builtins,
        operator: ctx.operator,
        session: format!("cli-{}", std::process::id()),
        journal_dir: options.journal_dir,
        lock_dir: ctx.lock_dir,
        today: ctx.today,
        feed: feed.clone(),
        safety: ctx.safety,
    };
    let request = StartRequest {
        file: file.to_path_buf(),
        supplied: options.params.into_iter().collect(),
        resume: options.resume,
        discard: options.discard,
        incident: declared,
    };
    let prepared = tokio::task::spawn_blocking(move || start::prepare(&starter, request)).await?;
    let mut prepared = match prepared {
        Ok(p) => p,
        Err(refused) => {
            say_lines(&refused.to_string());
            monitor.abort();
            return Ok(match refused {
                StartRefused::Read(_) => ExitCode::from(2),
                _ => ExitCode::FAILURE,
            });
        }
    };
    for d in &prepared.warnings {
        eprintln!("{}", printable(&d.to_string()));
    }
    if let Some(d) = &prepared.discarded {
        eprintln!(
            "{}",
            printable(&format!(
                "set aside {} as {} ({}: {})",
                d.journal.display(),
                d.moved_to.display(),
                d.operator,
                d.reason
            ))
        );
    }
    if prepared.resumed.is_none() && prepared.spec.incident.is_none() {
        prepared.spec.incident = observed_incident(feed, &prepared.spec.service).await;
    }
    if prepared.resumed.is_none()
        && let Some(incident) = &prepared.spec.incident
    {
        eprintln!(
            "the RTO clock counts from the outage's start, {} ({})",
            incident.start.format("%Y-%m-%d %H:%M:%SZ"),
            match incident.basis {
                Basis::Declared => "declared",
                Basis::FirstObservation => "not UP at the first poll: it began then or earlier",
                Basis::Transition => "observed",
            }
        );
    }
    let end = match ctx.shared {
        None => {
            headless::run_headless(
                prepared.spec,
                provider,
                Operator::terminal(),
                std::io::stdout(),
            )
            .await
        }
        Some(settings) => {
            shared_run::run_shared(
                prepared.spec,
                provider,
                settings,
                ctx.profile.as_deref(),
                options.claim,
            )
            .await
        }
    };
    monitor.abort();
    Ok(match end? {
        RunEnd::Finished(RunOutcome::Completed { .. }) => ExitCode::SUCCESS,
        RunEnd::Finished(RunOutcome::Aborted { .. }) => ExitCode::FAILURE,
        RunEnd::Detached { journal } => {
            let args: Vec<String> = std::env::args_os()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
            println!(
                "resume with: {}",
                printable(&resume_command(&args, &journal))
            );
            ExitCode::FAILURE
        }
    })
}

/// `--incident-start TIME --incident-reason WHY`, checked: a time that
/// can be read, not in the future, not more than 7 days back, a reason.
fn declared_incident(
    time: &str,
    why: &str,
    operator: &str,
    now: DateTime<Utc>,
) -> Result<IncidentStart, String> {
    let start = incident::parse_start(time, now).map_err(|e| e.to_string())?;
    IncidentStart::declared(start, operator, why, now).map_err(|e| e.to_string())
}

/// Longest wait for the monitor's first poll before a run starts with no
/// incident of its own.
const FIRST_POLL_WAIT: Duration = Duration::from_secs(20);

/// The service's incident as the monitor's first poll shows it: not `UP`
/// then, the outage began at that poll or earlier (as `status` says).
async fn observed_incident(mut feed: SnapshotFeed, service: &ServiceSpec) -> Option<IncidentStart> {
    let first = async {
        while feed.latest().is_none() {
            if !feed.changed().await {
                break;
            }
        }
        feed.latest()
    };
    let poll = tokio::time::timeout(FIRST_POLL_WAIT, first).await.ok()??;
    let (availability, rpo) = posture::observe(service, &poll.snapshot, poll.at);
    let mut history = ServiceHistory::default();
    history.observe(availability, rpo, poll.at);
    history.incident().map(IncidentStart::of)
}

/// This command line, made to continue the run in `journal`: the same
/// session flags (provider, environment) and parameters, `--resume` in
/// place of any `--resume` or `--new`.
fn resume_command(args: &[String], journal: &std::path::Path) -> String {
    let mut words = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            // The journal set aside by --discard-journal is gone; the
            // resumed run needs neither it nor its reason.
            // A resumed run keeps the incident start its journal records.
            "--resume" | "--discard-journal" | "--reason" | "--incident-start"
            | "--incident-reason" => {
                rest.next();
            }
            "--new" => {}
            a if a.starts_with("--resume=")
                || a.starts_with("--discard-journal=")
                || a.starts_with("--reason=")
                || a.starts_with("--incident-start=")
                || a.starts_with("--incident-reason=") => {}
            a => words.push(a.to_string()),
        }
    }
    words.push("--resume".into());
    words.push(journal.display().to_string());
    words
        .iter()
        .map(|w| shell_word(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as a POSIX shell reads it back.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
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
            eprintln!("{}", printable(&d.to_string()));
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
    let supplied: Variables = params.into_iter().collect();
    let runbook = match load_valid(file, &supplied, ctx) {
        Some(rb) => rb,
        None => return Ok(ExitCode::FAILURE),
    };
    let builtins = match ctx.environment.service(&runbook.service) {
        Some(service) => plan::with_service(&ctx.builtins, service),
        None => ctx.builtins.clone(),
    };
    let vars = plan::parameter_values(&runbook, &supplied, &builtins)?;
    print!("{}", plan::render(&runbook, &vars));
    Ok(ExitCode::SUCCESS)
}

/// `runbook new`: writes the runbook, never over an existing file unless
/// `force`, then checks it as `runbook check` would.
fn new(
    service_id: &str,
    kind: generate::Kind,
    out: &std::path::Path,
    region: Option<&str>,
    force: bool,
    ctx: &RunbookContext,
) -> anyhow::Result<ExitCode> {
    let env = &ctx.environment;
    let Some(service) = env.service(service_id) else {
        anyhow::bail!(
            "service `{service_id}` is not in environment `{}` (it has: {})",
            env.name,
            env.services
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    if region.is_some() && kind != generate::Kind::DrainRegion {
        anyhow::bail!(
            "--region applies to --kind drain-region only; a {} runbook acts on the service's own regions",
            kind.name()
        );
    }
    let region = region.unwrap_or(&service.primary_region);
    let text = generate::generate(service, kind, region)?;
    let path = out.join(generate::file_name(service, kind, region));
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = match options.open(&path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "{} exists; pass --force to replace it, or --out another directory",
            path.display()
        ),
        Err(e) => return Err(anyhow::anyhow!("{}: {e}", path.display())),
    };
    std::io::Write::write_all(&mut file, text.as_bytes())
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    println!("{}", path.display());
    Ok(check(&[path], ctx))
}

/// Loads a runbook and prints its diagnostics; None when it has errors.
///
/// The runbook, when it and the values supplied on the command line are
/// valid against the environment (a `--param dr_region=mars-1` is checked
/// like the same value written in the file).
fn load_valid(
    file: &std::path::Path,
    supplied: &Variables,
    ctx: &RunbookContext,
) -> Option<format::Runbook> {
    let runbook = match format::load(file) {
        Ok(rb) => rb,
        Err(diags) => {
            print_diagnostics(&diags);
            return None;
        }
    };
    let mut as_run = runbook.clone();
    for p in &mut as_run.parameters {
        if let Some(value) = supplied.get(&p.name) {
            p.default = Some(value.clone());
        }
    }
    let diags = validate::validate(&as_run, &ctx.environment, ctx.today);
    print_diagnostics(&diags);
    if diags.iter().any(|d| d.is_error()) {
        return None;
    }
    Some(runbook)
}

fn print_diagnostics(diags: &[crate::runbook::diagnostic::Diagnostic]) {
    for d in diags {
        eprintln!("{}", printable(&d.to_string()));
    }
}

/// Prints `text` to stderr line by line, each without control characters:
/// a message of several lines keeps its lines, and none can drive the
/// terminal.
fn say_lines(text: &str) {
    for line in text.lines() {
        eprintln!("{}", printable(line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_repeats_the_session_and_names_the_journal() {
        let args: Vec<String> = [
            "drconsole",
            "--aws",
            "--profile",
            "dr ops",
            "runbook",
            "run",
            "failover.yaml",
            "--param",
            "dr_region=us-west-2",
            "--new",
            "--resume=old.jsonl",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            resume_command(&args, std::path::Path::new("/data/it's.jsonl")),
            r"drconsole --aws --profile 'dr ops' runbook run failover.yaml --param dr_region=us-west-2 --resume '/data/it'\''s.jsonl'"
        );
        let again = [
            "drconsole",
            "runbook",
            "run",
            "f.yaml",
            "--resume",
            "a.jsonl",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            resume_command(&again, std::path::Path::new("a.jsonl")),
            "drconsole runbook run f.yaml --resume a.jsonl"
        );
    }
}
