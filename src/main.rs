//! drconsole's entry point: parse the command line, open a session, dispatch.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;

use drconsole::cli::args::{Cli, Command};
use drconsole::cli::drill;
use drconsole::cli::readiness;
use drconsole::cli::runbook::{self, RunbookCommand, RunbookContext};
use drconsole::cli::status::{self, FailedSource, StatusReport};
use drconsole::cli::timeline;
use drconsole::config::paths::{self, Paths};
use drconsole::config::user_config::UserConfig;
use drconsole::runbook::library;
use drconsole::session::SavedWorld;
use drconsole::tui::runbooks::RunbookSetup;
use drconsole::tui::theme;
use drconsole::tui::{self, ConsoleContext};
use drconsole::{logging, monitor, session};

/// Many small allocations per poll and per service: glibc's malloc spent a
/// growing share of a large estate's time consolidating free chunks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Before any thread exists: the mask is process-wide.
    paths::keep_new_files_private();
    let mut cli = Cli::parse();
    // A follow session watches; it is built without the acting half.
    cli.session.read_only |= matches!(cli.command, Some(Command::Follow(_)));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("drconsole: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("drconsole: {e:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let paths = Paths::discover()?;
    let config = match &cli.session.config {
        // A file named on the command line must exist; the default may not.
        Some(path) => UserConfig::load_named(path)?,
        None => UserConfig::load(&paths.config_file())?,
    };
    let _log_guard = logging::init(&paths.log_dir())?;
    // The demo's world carries on from session to session where it is
    // watched or acted on; `check` and `plan` never look at it.
    let worlds = paths.demo_worlds_dir();
    let saved = match &cli.command {
        None | Some(Command::Runbook(RunbookCommand::Run { .. })) => {
            SavedWorld::ResumeAndSave(&worlds)
        }
        Some(Command::Status { .. } | Command::Readiness(_) | Command::Follow(_)) => {
            SavedWorld::ResumeOnly(&worlds)
        }
        // A drill builds a world of its own.
        Some(
            Command::Runbook(_)
            | Command::Approve { .. }
            | Command::Drill(_)
            | Command::Timeline(_),
        ) => SavedWorld::Ignore,
    };
    let mut session = session::open(&cli.session, &config, saved).await?;
    let closer = session.closer();
    let outcome = dispatch(cli, config, &paths, session).await;
    closer.close().await;
    outcome
}

async fn dispatch(
    cli: Cli,
    config: UserConfig,
    paths: &Paths,
    session: session::Session,
) -> anyhow::Result<ExitCode> {
    if cli.command.is_some()
        && let Some(notice) = &session.notice
    {
        eprintln!("drconsole: {notice}");
    }
    // The shared store: `--shared` over `[shared]`.
    let shared_settings = drconsole::coordination::config::resolve(
        cli.session.shared.as_deref(),
        cli.session.shared_region.as_deref(),
        config.shared_settings(),
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    match cli.command {
        None | Some(Command::Follow(_)) => {
            if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
                anyhow::bail!(
                    "the console needs a terminal; for scripts use `drconsole status` or `drconsole runbook run`"
                );
            }
            let theme_name = cli
                .session
                .theme
                .or(config.theme.clone())
                .unwrap_or_else(|| "dark".into());
            let mut theme = theme::load(&theme_name, Some(&paths.user_themes_dir()))?;
            if theme::no_color_requested() {
                theme = theme.without_colors();
            }
            let mode_label = session.mode_label();
            let dir = cli
                .session
                .runbooks
                .clone()
                .unwrap_or_else(|| library::default_dir(&paths.config_dir));
            let (runbooks, problems) = library::load_dir(&dir);
            let shared = match shared_settings {
                Some(settings) => Some(
                    drconsole::coordination::connect::connect(
                        settings,
                        cli.session.profile.as_deref(),
                        &session.operator.id,
                    )
                    .await,
                ),
                None => None,
            };
            // The header names the shared store's region: it must not be
            // one that may fail.
            let mode_label = match &shared {
                Some(c) => format!(
                    "{mode_label} · shared {}{}",
                    c.store.settings.region,
                    if c.identity_problem.is_some() {
                        " unreachable"
                    } else {
                        ""
                    }
                ),
                None => mode_label,
            };
            let follow = match &cli.command {
                Some(Command::Follow(args)) => Some(
                    drconsole::cli::follow::setup(
                        args,
                        &paths.journal_dir(),
                        runbooks.clone(),
                        drconsole::cli::follow::SharedAccess {
                            store: shared.as_ref().map(|c| &c.store),
                            region: cli.session.shared_region.as_deref(),
                            profile: cli.session.profile.as_deref(),
                        },
                    )
                    .await?,
                ),
                _ => None,
            };
            let runbooks = RunbookSetup {
                runbooks,
                problems,
                provider: session.provider.clone(),
                journal_dir: paths.journal_dir(),
                lock_dir: paths.lock_dir(),
                builtins: session.builtins.clone(),
                operator: session.operator.id.clone(),
                identity_note: session.operator.fallback.clone(),
                session: format!("console-{}", std::process::id()),
                safety: config.safety.settings(),
                shared,
            };
            tui::run(ConsoleContext {
                runbooks: Some(runbooks),
                faults: session.faults,
                notice: session.notice,
                discovery: session.discovery,
                environment: session.environment,
                provider: session.provider,
                theme,
                poll_interval: session.poll_interval,
                mode_label,
                follow,
                timeline: Some(drconsole::tui::timeline::TimelineSetup {
                    journal_dir: paths.journal_dir(),
                    events: timeline::events_log(&paths.data_dir),
                }),
                keys: config.key_map().map_err(|r| anyhow::anyhow!(r.message))?,
                themes_dir: Some(paths.user_themes_dir()),
                drill: None,
            })
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Drill(args)) => drill::execute(args, paths, &config).await,
        Some(Command::Runbook(cmd)) => {
            if let Some(why) = &session.operator.fallback {
                eprintln!("drconsole: {why}");
            }
            let ctx = RunbookContext {
                environment: session.environment,
                provider: Some(session.provider),
                journal_dir: paths.journal_dir(),
                lock_dir: paths.lock_dir(),
                builtins: session.builtins,
                operator: session.operator.id.clone(),
                today: chrono::Utc::now().date_naive(),
                poll_interval: session.poll_interval,
                safety: config.safety.settings(),
                shared: shared_settings,
                profile: cli.session.profile.clone(),
            };
            runbook::execute(cmd, ctx).await
        }
        Some(Command::Readiness(args)) => {
            let ctx = readiness::ReadinessContext {
                runbooks_dir: cli
                    .session
                    .runbooks
                    .clone()
                    .unwrap_or_else(|| library::default_dir(&paths.config_dir)),
                journal_dir: paths.journal_dir(),
                environment: session.environment,
                provider: session.provider,
                poll_interval: session.poll_interval,
            };
            Ok(readiness::run(&args, ctx).await)
        }
        Some(Command::Approve { run, step, reason }) => {
            drconsole::cli::approve::approve(
                shared_settings,
                cli.session.profile.as_deref(),
                &run,
                &step,
                &reason,
            )
            .await
        }
        Some(Command::Timeline(args)) => Ok(timeline::execute(
            &args,
            &paths.data_dir,
            &paths.journal_dir(),
        )),
        Some(Command::Status { format }) => {
            let state =
                monitor::observe_once(session.provider.observe.as_ref(), session.poll_interval)
                    .await;
            let now = session.provider.observe.now();
            let postures = state.postures(&session.environment, now);
            let failed = state
                .sources()
                .iter()
                .filter_map(|(source, status)| {
                    let failure = status.last_error.as_ref()?;
                    (status.consecutive_failures > 0).then(|| FailedSource {
                        source: source.clone(),
                        error: failure.error.clone(),
                    })
                })
                .collect();
            let report = StatusReport::new(
                &session.environment.name,
                &session.mode_label(),
                now,
                postures,
                failed,
                session
                    .discovery
                    .as_ref()
                    .map(|d| status::failed_sources(&d.failed))
                    .unwrap_or_default(),
                state.into_merged(),
            )
            .with_lag_sources(&session.environment.services);
            print!("{}", report.render(format));
            Ok(report.exit_code())
        }
    }
}
