//! The screenshots of the README tour: the real `App` driven against the
//! simulator into each meaningful moment, drawn into a `TestBackend` and
//! written as PNG (see `raster.rs`).
//!
//! Everything is fixed: the demo estate, the simulator's start time and
//! seed, the poll timings shown, the run ids. The console's own code does
//! the rest (polls applied as the UI loop applies them, runs driven by the
//! runbook engine, keys pressed through the key table), so a change to a
//! screen shows in its picture and two runs give identical files.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;

use drconsole::config::environment_file::demo_environment;
use drconsole::domain::availability::Availability;
use drconsole::domain::incident::IncidentStart;
use drconsole::drill::run::{DrillWorld, planned_steps};
use drconsole::drill::score::{DrillEnd, DrillRecord, FaultEvent, score};
use drconsole::drill::{scenario, validate};
use drconsole::follow::local::LocalJournals;
use drconsole::monitor::{MonitorEvent, MonitorState};
use drconsole::provider::fault::FaultControl;
use drconsole::provider::sim::{self, SimWorld};
use drconsole::readiness::facts::Configuration;
use drconsole::runbook::engine::{Command, Engine, Event, Prompt};
use drconsole::runbook::format::{self, Runbook};
use drconsole::runbook::http::HttpResponse;
use drconsole::runbook::journal::{Record, RunMeta};
use drconsole::runbook::plan;
use drconsole::runbook::runner::RunStatus;
use drconsole::runbook::safety::SafetySettings;
use drconsole::runbook::vars::Variables;
use drconsole::timeline::differ::Differ;
use drconsole::timeline::events::{EventLog, ObservedEvent};
use drconsole::timeline::merge::{self, Filter};
use drconsole::tui::drill::{DrillState, Finished};
use drconsole::tui::follow::{FollowSetup, FollowState};
use drconsole::tui::readiness::{Evidence, ReadinessState};
use drconsole::tui::render;
use drconsole::tui::runbooks::{RunMessage, RunbookSetup, RunbooksState, StartedRun};
use drconsole::tui::state::App;
use drconsole::tui::theme;
use drconsole::tui::timeline::{Built, TimelineSetup, TimelineState};

/// When the simulated world starts: the same every run.
const START: &str = "2026-03-02T12:00:00Z";
/// Seconds between polls, as the demo session polls.
const POLL: u64 = 5;
/// The poll duration the header shows (the wall clock would vary).
const POLL_TOOK: Duration = Duration::from_millis(140);

const FAILOVER: (&str, &str) = (
    "runbooks/orders-unplanned-failover.yaml",
    include_str!("../../runbooks/orders-unplanned-failover.yaml"),
);
const PROMOTION: (&str, &str) = (
    "runbooks/billing-replica-promotion.yaml",
    include_str!("../../runbooks/billing-replica-promotion.yaml"),
);
/// The drill whose report is pictured: its orders failover is the one run.
const DRILL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/runbooks/drills/full-outage.yaml"
);

/// One picture: its file name and the terminal it is drawn in.
pub struct Shot {
    pub file: &'static str,
    pub width: u16,
    pub height: u16,
    pub theme: &'static str,
}

/// Every picture, in README order.
pub const SHOTS: &[Shot] = &[
    Shot {
        file: "dashboard.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "outage.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "run-confirm.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "runs.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "readiness.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "timeline.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "follow.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "drill-report.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "help.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "palette.png",
        width: 160,
        height: 45,
        theme: "dark",
    },
    Shot {
        file: "theme-light.png",
        width: 160,
        height: 45,
        theme: "light",
    },
    Shot {
        file: "theme-high-contrast.png",
        width: 160,
        height: 45,
        theme: "high-contrast",
    },
    Shot {
        file: "small-80x24.png",
        width: 80,
        height: 24,
        theme: "dark",
    },
];

/// Writes every picture into `dir`; the paths written.
pub fn write_all(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _inside = runtime.enter();
    let mut written = Vec::new();
    for shot in SHOTS {
        let (mut app, _files) = scene(shot, &runtime)?;
        let buffer = draw(&mut app, shot.width, shot.height);
        let path = dir.join(shot.file);
        std::fs::write(&path, crate::raster::png(&buffer, shot.theme))?;
        written.push(path);
    }
    Ok(written)
}

fn draw(app: &mut App, width: u16, height: u16) -> ratatui::buffer::Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test backend");
    // As the UI loop does before each frame: the app fits its rows to it.
    app.screen_rows = usize::from(height);
    terminal
        .draw(|frame| render::app::render(frame, app))
        .expect("a test backend draws");
    terminal.backend().buffer().clone()
}

fn key(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        key(app, KeyCode::Char(c));
    }
}

/// The app in the moment `shot` shows, and the files it reads from while
/// it is drawn.
fn scene(
    shot: &Shot,
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<(App, Option<tempfile::TempDir>)> {
    let mut demo = Demo::new(shot.theme)?;
    demo.poll_for(Duration::from_secs(180));
    match shot.file {
        "follow.png" => return demo.follow(runtime),
        "drill-report.png" => return demo.drill_report(runtime),
        _ => {}
    }
    let app = match shot.file {
        "dashboard.png" | "theme-light.png" | "theme-high-contrast.png" => demo.app,
        "small-80x24.png" => {
            demo.outage();
            demo.app
        }
        "outage.png" => {
            demo.outage();
            demo.app.detail_open = true;
            demo.app
        }
        "help.png" => {
            key(&mut demo.app, KeyCode::Char('?'));
            demo.app
        }
        "palette.png" => {
            key(&mut demo.app, KeyCode::Char(':'));
            typed(&mut demo.app, "th");
            demo.app
        }
        "run-confirm.png" => {
            demo.outage();
            demo.start_failover()?;
            // The Runbooks screen views the run; `c` opens its confirmation.
            key(&mut demo.app, KeyCode::Char('2'));
            key(&mut demo.app, KeyCode::Char('c'));
            typed(&mut demo.app, "orders-gl");
            demo.app
        }
        "runs.png" => {
            demo.outage();
            demo.start_failover()?;
            demo.start_promotion()?;
            key(&mut demo.app, KeyCode::Char('3'));
            demo.app
        }
        "readiness.png" => {
            demo.readiness();
            key(&mut demo.app, KeyCode::Char('4'));
            demo.app.update_readiness(true);
            demo.app
        }
        "timeline.png" => {
            demo.outage();
            demo.start_failover()?;
            demo.timeline();
            key(&mut demo.app, KeyCode::Char('t'));
            demo.app
        }
        other => anyhow::bail!("no scene for {other}"),
    };
    Ok((app, None))
}

/// The demo session: the simulated world, the app watching it, and what
/// the timeline is built from.
struct Demo {
    world: Arc<SimWorld>,
    app: App,
    differ: Differ,
    events: Vec<ObservedEvent>,
    journals: Vec<Vec<Record>>,
    /// Orders' availability as the dashboard showed it, each change.
    orders: Vec<(DateTime<Utc>, Availability)>,
}

impl Demo {
    fn new(theme_name: &str) -> anyhow::Result<Demo> {
        let env = demo_environment();
        let start = DateTime::parse_from_rfc3339(START)?.to_utc();
        let world = Arc::new(SimWorld::new(&env, start));
        let theme = theme::load(theme_name, None)?;
        let mut app = App::new(
            env.clone(),
            theme,
            "demo",
            MonitorState::new(Duration::from_secs(POLL)),
            start,
        );
        app.runbooks = Some(runbooks_state(&world)?);
        app.set_fault_control(Some(Arc::clone(&world) as Arc<dyn FaultControl>));
        Ok(Demo {
            world,
            app,
            differ: Differ::default(),
            events: Vec::new(),
            journals: Vec::new(),
            orders: Vec::new(),
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.world.now()
    }

    /// Polls as the demo session does, every [`POLL`] seconds for `span`.
    fn poll_for(&mut self, span: Duration) {
        let until = self.now() + span;
        while self.now() < until {
            self.world.advance(Duration::from_secs(POLL));
            let event = MonitorEvent {
                readings: self.world.observe(),
                took: POLL_TOOK,
            };
            let now = self.now();
            self.app.on_polls(vec![event], now);
            let changes = self.differ.observe(
                &self.app.environment,
                &self.app.monitor,
                &self.app.tracker,
                now,
            );
            self.events.extend(changes);
            let orders = self
                .app
                .rows
                .iter()
                .find(|r| r.posture.service_id == "orders");
            if let Some(shown) = orders.map(|r| r.posture.availability())
                && self.orders.last().is_none_or(|(_, a)| *a != shown)
            {
                self.orders.push((now, shown));
            }
        }
    }

    /// us-east-1 goes down and stays down for twelve minutes.
    fn outage(&mut self) {
        // `O` on the selected service (Orders, primary in us-east-1), as a
        // trainee starts the outage.
        key(&mut self.app, KeyCode::Char('O'));
        self.poll_for(Duration::from_secs(12 * 60));
    }

    fn runbook(&self, (path, text): (&str, &str)) -> anyhow::Result<Runbook> {
        format::parse(Path::new(path), text).map_err(|problems| {
            anyhow::anyhow!(
                "{path}: {}",
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })
    }

    /// The orders failover, driven by the engine until it asks for the
    /// typed confirmation of the database failover; the app views it.
    fn start_failover(&mut self) -> anyhow::Result<()> {
        let runbook = self.runbook(FAILOVER)?;
        self.start_run(runbook, "20260302T121500Z-orders", |p| {
            matches!(
                p,
                Prompt::ConfirmAction {
                    typed: true,
                    overridden: Some(_),
                    ..
                }
            )
        })
    }

    /// The billing promotion, driven until it first asks the operator.
    fn start_promotion(&mut self) -> anyhow::Result<()> {
        let runbook = self.runbook(PROMOTION)?;
        self.start_run(runbook, "20260302T121530Z-billing", |_| true)
    }

    fn start_run(
        &mut self,
        runbook: Runbook,
        run_id: &str,
        stop_at: impl Fn(&Prompt) -> bool,
    ) -> anyhow::Result<()> {
        let service = self
            .app
            .environment
            .service(&runbook.service)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no service {}", runbook.service))?;
        let vars = plan::run_values(&runbook, &service, &Variables::new(), &builtins(), "ann")?;
        let incident = self
            .app
            .tracker
            .incident(&service.id)
            .map(IncidentStart::of);
        let meta = RunMeta {
            run_id: run_id.into(),
            runbook: runbook.name.clone(),
            file: runbook.path.clone(),
            service: service.id.clone(),
            operator: "ann".into(),
            session: "demo".into(),
            host: "console".into(),
            incident: incident.clone(),
        };
        let (mut engine, commands) = Engine::start(runbook, service, false, meta, vars, self.now());
        let mut journal = Vec::new();
        let mut pending: VecDeque<Command> = commands.into();
        loop {
            while let Some(command) = pending.pop_front() {
                if let Some(event) = self.answer(command, &mut journal) {
                    let now = self.now();
                    pending.extend(engine.handle(event, now)?);
                }
            }
            match engine.prompt() {
                Some(prompt) if stop_at(&prompt) => break,
                // A confirmation the safety rules block: the operator
                // overrides it with a reason, as in a real outage.
                Some(
                    ref prompt @ Prompt::ConfirmAction {
                        ref assessment,
                        overridden: None,
                        ..
                    },
                ) if assessment.blocked() => {
                    let event = Event::Override {
                        to: prompt.id(),
                        reason:
                            "us-east-1 is down: losing 12 minutes of orders beats a longer outage"
                                .into(),
                    };
                    let now = self.now();
                    pending.extend(engine.handle(event, now)?);
                }
                Some(prompt @ (Prompt::Tick { .. } | Prompt::ConfirmAction { .. })) => {
                    let now = self.now();
                    let event = match &prompt {
                        Prompt::Tick { .. } => Event::Tick { to: prompt.id() },
                        Prompt::ConfirmAction { typed, target, .. } => Event::Confirm {
                            to: prompt.id(),
                            typed: typed.then(|| target.clone()),
                        },
                        _ => unreachable!("matched above"),
                    };
                    pending.extend(engine.handle(event, now)?);
                }
                Some(Prompt::Failed { error, .. }) => anyhow::bail!("run {run_id} failed: {error}"),
                None if engine.outcome().is_some() => break,
                None => {
                    self.poll_for(Duration::from_secs(POLL));
                    let now = self.now();
                    pending.extend(engine.handle(Event::TimePassed, now)?);
                }
            }
        }
        let (inputs, _dropped) = mpsc::channel(1);
        let status = RunStatus {
            run_id: run_id.into(),
            operator: "ann".into(),
            view: engine.view(),
            journal: PathBuf::from(format!("journal/{run_id}.jsonl")),
            notice: None,
            now: self.now(),
            handled: 0,
        };
        let service = status.view.service.clone();
        self.app.on_run_message(RunMessage::Started {
            service,
            result: Ok(StartedRun {
                inputs,
                status,
                resumed: None,
                discarded: None,
                warnings: Vec::new(),
            }),
        });
        self.journals.push(journal);
        Ok(())
    }

    /// Carries out one engine command against the world, as the runner
    /// does; the event answering it, if any.
    fn answer(&mut self, command: Command, journal: &mut Vec<Record>) -> Option<Event> {
        match command {
            Command::Journal(record) => {
                journal.push(record);
                None
            }
            Command::Observe {
                step,
                after,
                change_id,
            } => {
                self.poll_for(after.max(Duration::from_secs(POLL)));
                // As the runner asks Route 53 (here the simulator) how the
                // change a wait follows stands.
                let change = change_id.and_then(|id| self.world.change_status(&id).ok());
                Some(Event::Observed {
                    step,
                    snapshot: self.app.monitor.merged().clone(),
                    change,
                })
            }
            Command::Assess { step, .. } => {
                self.poll_for(Duration::from_secs(POLL));
                Some(Event::Assessed {
                    step,
                    snapshot: self.app.monitor.merged().clone(),
                    observed_at: self.now(),
                    writer_moves: Vec::new(),
                })
            }
            Command::Execute { step, action } => Some(match self.world.execute(&action) {
                Ok(receipt) => Event::ActionAccepted { step, receipt },
                Err(error) => Event::ActionFailed { step, error },
            }),
            Command::Verify { step, .. } => Some(Event::Verified {
                step,
                applied: false,
            }),
            // The demo application's answer to every smoke test once the
            // service is back (a login answers with its token), without
            // a server: the picture must not depend on a port.
            Command::Http { step, .. } => Some(Event::HttpDone {
                step,
                result: Ok(HttpResponse {
                    status: 200,
                    body: r#"{"token":"demo-session-token"}"#.into(),
                }),
            }),
            Command::Finished(_) => None,
        }
    }

    /// A second console follows the orders failover from its journal,
    /// read-only, beside the dashboard.
    fn follow(
        mut self,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<(App, Option<tempfile::TempDir>)> {
        self.outage();
        self.start_failover()?;
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("orders-20260302T121500Z-orders.jsonl");
        let mut text = String::new();
        for record in self.journals.last().into_iter().flatten() {
            text.push_str(&serde_json::to_string(record)?);
            text.push('\n');
        }
        std::fs::write(&path, text)?;
        let mut app = self.app;
        app.runbooks = None;
        app.read_only = true;
        app.set_fault_control(None);
        app.open_follow(Some(FollowState::new(FollowSetup {
            source: Arc::new(LocalJournals::new(dir.path())),
            target: Some(LocalJournals::run_in(&path)?),
            library: Arc::new(vec![
                format::parse(Path::new(FAILOVER.0), FAILOVER.1)
                    .map_err(|_| anyhow::anyhow!("the failover runbook parses"))?,
            ]),
            origin: "journals in ~/.local/share/drconsole/journal".into(),
        })));
        let now = self.world.now();
        runtime.block_on(async {
            let read = tokio::time::timeout(Duration::from_secs(20), async {
                while app.follow.as_ref().is_some_and(|f| f.status.run.is_none()) {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    app.on_tick(now);
                }
            });
            read.await
        })?;
        Ok((app, Some(dir)))
    }

    /// The full-outage drill played on the demo estate: us-east-1 fails at
    /// T+1m, the trainee runs the orders failover to its end, and the
    /// console shows the scored report with its timeline chart.
    fn drill_report(
        mut self,
        runtime: &tokio::runtime::Runtime,
    ) -> anyhow::Result<(App, Option<tempfile::TempDir>)> {
        let today = DateTime::parse_from_rfc3339(START)?.date_naive();
        let checked = scenario::load(Path::new(DRILL))
            .and_then(|s| validate::check(s, today))
            .map_err(|d| anyhow::anyhow!("{DRILL}: {d:?}"))?;
        let started_at = self.now();
        let losses_before = self.world.ground_truth().losses.len();
        // The drill's history starts with what the dashboard shows at T+0.
        let at_start = self.orders.last().map_or(Availability::Up, |(_, a)| *a);
        self.orders = vec![(started_at, at_start)];
        self.poll_for(Duration::from_secs(60));
        let fault = FaultEvent {
            at: self.now(),
            label: checked.scenario.timeline[0].fault.label(),
            started: true,
        };
        key(&mut self.app, KeyCode::Char('O'));
        // The trainee sees it go down, then runs the failover.
        self.poll_for(Duration::from_secs(90));
        let runbook = self.runbook(FAILOVER)?;
        self.start_run(runbook.clone(), "20260302T120430Z-orders", |_| false)?;
        let mut waited = Duration::ZERO;
        while self
            .orders
            .last()
            .is_some_and(|(_, a)| *a != Availability::Up)
            && waited < Duration::from_secs(600)
        {
            self.poll_for(Duration::from_secs(POLL));
            waited += Duration::from_secs(POLL);
        }
        let record = DrillRecord {
            scenario: checked.scenario.name.clone(),
            file: PathBuf::from("runbooks/drills/full-outage.yaml"),
            service: "orders".into(),
            objectives: checked.scenario.objectives,
            time_limit: checked.scenario.time_limit,
            started_at,
            ended_at: self.now(),
            end: DrillEnd::RunbookCompleted,
            faults: vec![fault],
            availability: self.orders.clone(),
            steps: planned_steps(&runbook),
            journal: self.journals.last().cloned().unwrap_or_default(),
            truth: self.world.ground_truth(),
            losses_before,
        };
        let report = score(&record);
        let dir = tempfile::tempdir()?;
        let world = runtime.block_on(DrillWorld::open(checked, 60.0, Some(7), dir.path()))?;
        let mut drill = DrillState::new(world, dir.path().to_path_buf())?;
        drill.finished = Some(Finished::Written {
            report: Box::new(report),
            path: PathBuf::from(
                "~/.local/share/drconsole/drills/20260302T120300Z-full-us-east-1-outage.md",
            ),
        });
        let mut app = self.app;
        app.drill = Some(drill);
        // Back from the run's screen to the report, as the footer offers.
        key(&mut app, KeyCode::Char('R'));
        Ok((app, Some(dir)))
    }

    fn readiness(&mut self) {
        let evidence = Evidence {
            configuration: Configuration::from_readings(&self.world.configuration()),
            runs: Vec::new(),
            unreadable: Vec::new(),
            read_at: self.now(),
        };
        self.app.readiness = Some(ReadinessState::with_evidence(evidence));
    }

    fn timeline(&mut self) {
        let mut state = TimelineState::new(TimelineSetup {
            journal_dir: "journal".into(),
            events: EventLog::new("events"),
        });
        state.built = Some(Arc::new(Built {
            timeline: merge::build(&self.journals, &self.events, &Filter::default()),
            problems: Vec::new(),
        }));
        self.app.timeline = Some(state);
    }
}

/// The demo session's builtins: where its demo application listens.
fn builtins() -> Variables {
    Variables::from([(
        "demo_app_url".to_string(),
        "http://127.0.0.1:8080".to_string(),
    )])
}

fn runbooks_state(world: &Arc<SimWorld>) -> anyhow::Result<RunbooksState> {
    let provider = sim::provider(Arc::clone(world), false);
    let (feed, _poller) =
        drconsole::monitor::spawn_feed(provider.observe.clone(), Duration::from_secs(3600));
    let (messages, _dropped) = mpsc::channel(8);
    let parse = |(path, text): (&str, &str)| {
        format::parse(Path::new(path), text).map_err(|_| anyhow::anyhow!("{path} does not parse"))
    };
    Ok(RunbooksState::new(
        RunbookSetup {
            runbooks: vec![parse(FAILOVER)?, parse(PROMOTION)?],
            problems: Vec::new(),
            provider,
            journal_dir: PathBuf::from("journal"),
            lock_dir: PathBuf::from("locks"),
            builtins: builtins(),
            operator: "ann".into(),
            identity_note: None,
            session: "demo".into(),
            safety: SafetySettings::default(),
            shared: None,
        },
        feed,
        messages,
    ))
}
