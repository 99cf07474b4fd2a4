//! The terminal console: an event loop on tokio that redraws only when
//! something changed (new data, input, or the once-a-second clock).

pub mod contrast;
pub mod drill;
pub mod event;
pub mod follow;
pub mod keys;
pub mod palette;
pub mod popups;
pub mod readiness;
pub mod render;
pub mod runbooks;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod timeline;
pub mod view;

#[cfg(test)]
mod refresh_tests;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::Event;

use crate::domain::environment::Environment;
use crate::monitor::{self, DiscoveryProgress, MonitorState};
use crate::provider::Provider;
use crate::provider::fault::FaultControl;
use crate::tui::theme::Theme;
use event::{AppEvent, Events};
use runbooks::{RunbookSetup, RunbooksState};
use state::{App, Update};
use terminal::Tui;

/// Everything the console needs, built by `main`.
pub struct ConsoleContext {
    pub environment: Environment,
    pub provider: Provider,
    pub theme: Theme,
    pub poll_interval: Duration,
    /// Shown in the header: `demo`, `aws · read-only`, ...
    pub mode_label: String,
    /// What the Runbooks screen offers; `None` hides nothing but says so.
    pub runbooks: Option<RunbookSetup>,
    /// Starts and ends simulated faults, in a demo session allowed to act.
    pub faults: Option<Arc<dyn FaultControl>>,
    /// Shown at the bottom until the first key: how the session opened.
    pub notice: Option<String>,
    /// Discovery that failed in part and is being retried.
    pub discovery: Option<DiscoveryProgress>,
    /// `drconsole follow`: the run to follow, or where to find one.
    pub follow: Option<follow::FollowSetup>,
    /// The journals and events log the Timeline screen tells; the console
    /// also appends what it sees to that log.
    pub timeline: Option<timeline::TimelineSetup>,
    /// The keys of each action, with the user's `[keys]`.
    pub keys: keys::KeyMap,
    /// The user's themes, for `:theme`.
    pub themes_dir: Option<std::path::PathBuf>,
    /// `drconsole drill SCENARIO`: the drill running in the console.
    pub drill: Option<drill::DrillState>,
}

/// Runs the console until the user quits. The terminal is restored on
/// every way out, including errors and panics. A drill ends with the
/// console if it has not already: the path of its report is returned.
pub async fn run(ctx: ConsoleContext) -> anyhow::Result<Option<std::path::PathBuf>> {
    let observe = ctx.provider.observe.clone();
    let monitor::Monitor {
        events: polls,
        feed,
        task: poller,
        focus,
        cost,
        cadence,
    } = monitor::spawn(observe.clone(), ctx.poll_interval);
    // A drill's clock runs fast: data ages in simulated time.
    let seen_every = ctx.drill.as_ref().map_or(ctx.poll_interval, |d| {
        ctx.poll_interval.mul_f64(d.time_scale())
    });
    let mut monitor = MonitorState::new(seen_every);
    let environments = ctx.discovery.map(|d| {
        monitor.apply(d.failed);
        d.updates
    });
    let mut app = App::new(
        ctx.environment,
        ctx.theme,
        ctx.mode_label,
        monitor,
        observe.now(),
    );
    // Runs' statuses and starts' results, from their tasks.
    let (run_tx, run_rx) = tokio::sync::mpsc::channel(8);
    app.read_only = ctx.provider.read_only();
    app.set_fault_control(ctx.faults);
    app.notice = ctx.notice;
    app.open_follow(ctx.follow.map(follow::FollowState::new));
    app.events = ctx
        .timeline
        .as_ref()
        .map(|t| crate::timeline::recorder::EventRecorder::spawn(t.events.clone()));
    app.timeline = ctx.timeline.map(timeline::TimelineState::new);
    app.keys = ctx.keys;
    app.themes_dir = ctx.themes_dir;
    app.drill = ctx.drill;
    app.runbooks = ctx
        .runbooks
        .map(|setup| RunbooksState::new(setup, feed, run_tx));
    let (evidence, readiness_reader) = readiness::spawn_reader(
        observe.clone(),
        app.runbooks.as_ref().map(|r| r.setup.journal_dir.clone()),
        readiness::READ_EVERY,
    );
    app.readiness = Some(readiness::ReadinessState::new(evidence));
    let exit = event_loop(
        &mut app,
        polls,
        run_rx,
        environments,
        observe.as_ref(),
        Channels {
            focus: &focus,
            cost: &cost,
            cadence: &cadence,
            asked: ctx.poll_interval,
        },
    )
    .await;
    poller.abort();
    readiness_reader.abort();
    let report = app.drill.as_mut().and_then(|drill| {
        drill.end_now(app.runbooks.as_ref());
        drill.report_path().cloned()
    });
    match exit? {
        Exit::Quit => Ok(report),
        Exit::MonitorStopped => match poller.await {
            Err(e) if e.is_panic() => {
                let panic = e.into_panic();
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                anyhow::bail!("the monitor task panicked: {message}")
            }
            _ => anyhow::bail!("the monitor task stopped"),
        },
    }
}

/// Why the event loop ended.
enum Exit {
    Quit,
    /// The poll task died; the console would only show ageing data.
    MonitorStopped,
}

/// What the UI loop tells the monitor, and hears from it, besides polls.
struct Channels<'a> {
    focus: &'a tokio::sync::watch::Sender<Option<crate::provider::FocusedService>>,
    cost: &'a tokio::sync::watch::Sender<std::time::Duration>,
    cadence: &'a tokio::sync::watch::Receiver<std::time::Duration>,
    /// The interval between polls asked for.
    asked: std::time::Duration,
}

async fn event_loop(
    app: &mut App,
    polls: tokio::sync::mpsc::Receiver<monitor::MonitorEvent>,
    runs: tokio::sync::mpsc::Receiver<runbooks::RunMessage>,
    environments: Option<tokio::sync::mpsc::Receiver<monitor::EnvironmentUpdate>>,
    observe: &dyn crate::provider::Observe,
    Channels {
        focus,
        cost,
        cadence,
        asked,
    }: Channels<'_>,
) -> anyhow::Result<Exit> {
    let mut events = Events::new(polls, runs, environments)?;
    let mut tui = Tui::enter()?;
    let mut dirty = true;
    // When the poll being taken in arrived: its cost runs to the frame
    // that shows it.
    let mut taking_in: Option<std::time::Instant> = None;
    loop {
        if dirty {
            // Rows a key brought on screen show their ages as of now.
            app.screen_rows = usize::from(tui.area()?.height);
            app.refresh_due();
            app.api_budget = observe.api_budget();
            focus.send_if_modified(|open| {
                let now_open = app.open_service();
                let changed = *open != now_open;
                *open = now_open;
                changed
            });
            tui.draw(|frame| render::app::render(frame, app))?;
            dirty = false;
            if let Some(started) = taking_in.take() {
                let took = started.elapsed();
                tracing::debug!(took_ms = took.as_millis() as u64, "poll taken in");
                cost.send_replace(took);
            }
        }
        let update = match events.next().await {
            AppEvent::Input(Event::Key(key)) => app.on_key(key),
            AppEvent::Input(Event::Mouse(mouse)) => app.on_mouse(mouse, tui.area()?),
            AppEvent::Input(Event::Resize(..)) => Update::Redraw,
            AppEvent::Input(_) => Update::Nothing,
            AppEvent::Monitor(poll) => {
                taking_in = Some(std::time::Instant::now());
                app.set_poll_cadence(*cadence.borrow(), asked);
                let polls = std::iter::once(poll).chain(events.queued_polls()).collect();
                app.on_polls(polls, observe.now())
            }
            AppEvent::Run(message) => app.on_run_message(*message),
            AppEvent::Environment(update) => app.on_environment(*update),
            AppEvent::Tick => app.on_tick(observe.now()),
            AppEvent::InputClosed(error) => {
                tui.exit()?;
                return match error {
                    Some(e) => Err(anyhow::Error::new(e).context("reading terminal input")),
                    None => Ok(Exit::Quit),
                };
            }
            AppEvent::MonitorStopped => {
                tui.exit()?;
                return Ok(Exit::MonitorStopped);
            }
            AppEvent::Terminate => Update::Quit,
        };
        match update {
            Update::Quit => break,
            Update::Redraw => dirty = true,
            Update::Nothing => {}
        }
    }
    tui.exit()?;
    Ok(Exit::Quit)
}
