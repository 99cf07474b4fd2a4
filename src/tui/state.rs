//! The console's state: what is selected, which pane has focus, what is open,
//! and the rows the screen shows. Input and monitor messages change it; the
//! render functions only read it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use unicode_width::UnicodeWidthStr;

use super::render;
use super::view::{ServiceRow, refresh_rows, service_rows};
use crate::domain::environment::Environment;
use crate::domain::incident::{self, DeclareError, Incident};
use crate::domain::posture::Posture;
use crate::monitor::{EnvironmentUpdate, MonitorEvent, MonitorState, Tracker};
use crate::provider::FocusedService;
use crate::provider::aws::budget::Usage;
use crate::provider::fault::{Fault, FaultControl};
use crate::timeline::recorder::EventRecorder;
use crate::tui::drill::DrillState;
use crate::tui::follow::FollowState;
use crate::tui::keys::{self, Action, Context, KeyMap};
use crate::tui::palette::{Command, Palette, PaletteOutcome, Vocabulary};
use crate::tui::popups::declare::{DeclareDialog, DeclareOutcome, Field};
use crate::tui::readiness::ReadinessState;
use crate::tui::runbooks::{Dialog, RunMessage, RunbooksState};
use crate::tui::theme::{self, Theme};
use crate::tui::timeline::TimelineState;

/// The widest name and tier of the rows, in terminal columns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Widest {
    pub name: u16,
    pub tier: u16,
}

impl Widest {
    fn of(rows: &[ServiceRow]) -> Widest {
        let width = |s: &str| u16::try_from(s.width()).unwrap_or(u16::MAX);
        rows.iter().fold(Widest::default(), |w, r| Widest {
            name: w.name.max(width(&r.posture.service_name)),
            tier: w.tier.max(width(r.posture.tier.label())),
        })
    }
}

/// The screens of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    Dashboard,
    /// The runbook list, or the run being viewed.
    Runbooks,
    /// This session's runs, active and finished.
    Runs,
    /// The DR checklist evaluated live.
    Readiness,
    /// Another session's run, followed read-only (`drconsole follow`).
    Follow,
    /// What happened, in time order: observations and runs' steps.
    Timeline,
    /// A drill's scored report, once it has ended.
    DrillReport,
}

/// Which pane keys act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Table,
    Detail,
}

/// What the loop should do after a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    Nothing,
    Redraw,
    Quit,
}

pub struct App {
    pub environment: Environment,
    pub theme: Theme,
    /// `demo`, `aws · read-only`, ...: shown in the header.
    pub mode_label: String,
    pub monitor: MonitorState,
    /// Each service's availability history, verdict hysteresis and incidents.
    pub tracker: Tracker,
    /// The provider's clock at the last update.
    pub now: DateTime<Utc>,
    /// One row per service of the environment, in its order.
    pub rows: Vec<ServiceRow>,
    /// Indexes into `rows` that pass the filter.
    pub visible: Vec<usize>,
    /// Index into `visible`.
    pub selected: usize,
    pub screen: Screen,
    pub focus: Focus,
    pub detail_open: bool,
    pub detail_scroll: u16,
    pub help_open: bool,
    pub filter: String,
    pub filter_editing: bool,
    /// How long the last poll took (wall clock).
    pub last_poll_took: Option<Duration>,
    /// The widest texts of some columns over every row: measured when the
    /// rows are made, not on every frame.
    pub widest: Widest,
    /// The interval between polls when it is longer than the one asked
    /// for: polls of this estate cost more than their share of the machine
    /// (`monitor::POLL_CPU_SHARE`).
    pub poll_stretched: Option<Duration>,
    /// The Runbooks screen, when the console was given runbooks to offer.
    pub runbooks: Option<RunbooksState>,
    /// `q` was pressed once while a run was in progress.
    pub quit_armed: bool,
    /// Faults a trainee may cause (`O`), in demo sessions that may act: the
    /// outage the runbooks recover from.
    pub faults: Option<Arc<dyn FaultControl>>,
    /// The session cannot change anything, so `O` explains instead.
    pub read_only: bool,
    /// Faults in force in the simulated world, as shown in the header.
    pub simulated_faults: Vec<String>,
    /// A one-off message on the dashboard's bottom line, until the next key.
    pub notice: Option<String>,
    /// The dialog declaring an incident on a service (`I`), while open.
    pub declaring: Option<DeclareDialog>,
    /// The keys of each action: the defaults and the user's `[keys]`.
    pub keys: KeyMap,
    /// The `:` palette and its history.
    pub palette: Palette,
    /// The user's themes, for `:theme`.
    pub themes_dir: Option<PathBuf>,
    /// The terminal's height as last drawn: no more rows than this are on
    /// screen either side of the selection.
    pub screen_rows: usize,
    /// The Readiness screen, when the session evaluates readiness.
    pub readiness: Option<ReadinessState>,
    /// The run followed, in a `drconsole follow` session.
    pub follow: Option<FollowState>,
    /// The Timeline screen, when the console knows where its sources are.
    pub timeline: Option<TimelineState>,
    /// Appends what each poll changed to the events log.
    pub events: Option<EventRecorder>,
    /// The drill running in the console (`drconsole drill SCENARIO`).
    pub drill: Option<DrillState>,
    /// Each AWS API's request budget as last asked of the provider; `None`
    /// when it sends no AWS requests (the demo).
    pub api_budget: Option<Vec<Usage>>,
}

/// [`App::screen_rows`] until the terminal has said: taller than any
/// terminal a console is read on.
const SCREEN_ROWS_UNTIL_DRAWN: usize = 200;

impl App {
    pub fn new(
        environment: Environment,
        theme: Theme,
        mode_label: impl Into<String>,
        monitor: MonitorState,
        now: DateTime<Utc>,
    ) -> Self {
        let mut app = Self {
            environment,
            theme,
            mode_label: mode_label.into(),
            monitor,
            tracker: Tracker::default(),
            now,
            rows: Vec::new(),
            visible: Vec::new(),
            selected: 0,
            screen: Screen::Dashboard,
            focus: Focus::Table,
            detail_open: false,
            detail_scroll: 0,
            help_open: false,
            filter: String::new(),
            filter_editing: false,
            last_poll_took: None,
            poll_stretched: None,
            widest: Widest::default(),
            runbooks: None,
            quit_armed: false,
            faults: None,
            read_only: false,
            simulated_faults: Vec::new(),
            notice: None,
            declaring: None,
            keys: KeyMap::default(),
            palette: Palette::default(),
            themes_dir: None,
            screen_rows: SCREEN_ROWS_UNTIL_DRAWN,
            readiness: None,
            follow: None,
            timeline: None,
            events: None,
            drill: None,
            api_budget: None,
        };
        app.refresh();
        app
    }

    /// Recomputes the rows from the monitor's data at `self.now`: every
    /// row's posture, and the cells of those that may be on screen.
    pub fn refresh(&mut self) {
        self.rows = service_rows(&self.environment, &self.monitor, &self.tracker, self.now);
        self.widest = Widest::of(&self.rows);
        self.apply_filter();
        self.refresh_due();
    }

    /// Brings the rows to `self.now` where the clock changed them: those
    /// whose verdict or staleness it moved, and those that may be on
    /// screen, whose ages count in seconds (these with their cells). The
    /// rest wait for new data. Returns how many rows were recomputed.
    pub fn refresh_due(&mut self) -> usize {
        let now = self.now;
        let first = self.selected.saturating_sub(self.screen_rows);
        let last = self.selected.saturating_add(self.screen_rows);
        let mut near: Vec<usize> = self
            .visible
            .iter()
            .skip(first)
            .take(last - first + 1)
            .copied()
            .filter(|&i| {
                self.rows
                    .get(i)
                    .is_some_and(|r| r.clock.computed_at < now || !r.detailed)
            })
            .collect();
        near.sort_unstable();
        let due: Vec<usize> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(i, r)| r.clock.is_due(now) && near.binary_search(i).is_err())
            .map(|(i, _)| i)
            .collect();
        for (positions, detailed) in [(&near, true), (&due, false)] {
            refresh_rows(
                &mut self.rows,
                positions,
                detailed,
                &self.environment,
                &self.monitor,
                &self.tracker,
                now,
            );
        }
        near.len() + due.len()
    }

    /// Recomputes which rows pass the filter, keeping the selected service
    /// selected when it still passes.
    fn apply_filter(&mut self) {
        let selected_row = self.visible.get(self.selected).copied();
        let needle = self.filter.to_lowercase();
        self.visible = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                needle.is_empty()
                    || r.posture.service_name.to_lowercase().contains(&needle)
                    || r.posture.service_id.to_lowercase().contains(&needle)
            })
            .map(|(i, _)| i)
            .collect();
        self.selected = selected_row
            .and_then(|row| self.visible.iter().position(|i| *i == row))
            .unwrap_or(self.selected)
            .min(self.visible.len().saturating_sub(1));
    }

    pub fn selected_row(&self) -> Option<&ServiceRow> {
        self.visible
            .get(self.selected)
            .and_then(|i| self.rows.get(*i))
    }

    /// The service whose detail is on screen, for the monitor to read in
    /// more detail.
    pub fn open_service(&self) -> Option<FocusedService> {
        if self.screen != Screen::Dashboard || !self.detail_open {
            return None;
        }
        let spec = self
            .environment
            .service(&self.selected_row()?.posture.service_id)?;
        Some(FocusedService {
            service: spec.id.clone(),
            health_checks: spec.health_checks.iter().map(|h| h.id.clone()).collect(),
        })
    }

    pub fn on_run_message(&mut self, message: RunMessage) -> Update {
        match &mut self.runbooks {
            Some(runbooks) => runbooks.on_message(message),
            None => Update::Nothing,
        }
    }

    /// Whether this session has a run in progress on `service`.
    pub fn has_active_run(&self, service: &str) -> bool {
        self.runbooks
            .as_ref()
            .is_some_and(|r| r.active_run(service).is_some())
    }

    pub fn on_monitor(&mut self, event: MonitorEvent, now: DateTime<Utc>) -> Update {
        self.on_polls(vec![event], now)
    }

    /// Polls in the order they were taken: each counts for the history
    /// (hysteresis counts polls), the rows are recomputed once.
    /// The monitor polls every `every`, having been asked for `asked`.
    pub fn set_poll_cadence(&mut self, every: Duration, asked: Duration) {
        self.poll_stretched = (every > asked).then_some(every);
        self.monitor.set_cadence(every, asked);
    }

    pub fn on_polls(&mut self, events: Vec<MonitorEvent>, now: DateTime<Utc>) -> Update {
        for event in events {
            self.last_poll_took = Some(event.took);
            let taken_at = event.readings.iter().map(|r| r.taken_at).max();
            self.monitor.apply(event.readings);
            if let Some(at) = taken_at {
                self.tracker.observe(&self.environment, &self.monitor, at);
                if let Some(recorder) = &mut self.events {
                    recorder.observe(&self.environment, &self.monitor, &self.tracker, at);
                }
            }
        }
        self.now = now;
        self.refresh();
        self.update_readiness(true);
        Update::Redraw
    }

    /// Background discovery found more of the estate (or is still failing):
    /// the new environment replaces the old, failing discovery sources show
    /// as stale, recovered ones disappear.
    pub fn on_environment(&mut self, update: EnvironmentUpdate) -> Update {
        self.environment = update.environment;
        self.monitor.forget(&update.recovered);
        self.monitor.apply(update.failed);
        self.refresh();
        Update::Redraw
    }

    /// An operator declares that `service`'s incident began at `start`
    /// (its RTO clock then counts from there); who and why are kept.
    pub fn declare_incident(
        &mut self,
        service: &str,
        start: DateTime<Utc>,
        who: &str,
        why: &str,
    ) -> Result<Incident, DeclareError> {
        let incident = self
            .tracker
            .declare_incident(&self.environment, service, start, who, why, self.now)?
            .clone();
        self.refresh();
        Ok(incident)
    }

    /// A follow session opens on the run it follows.
    pub fn open_follow(&mut self, follow: Option<FollowState>) {
        if follow.is_some() {
            self.screen = Screen::Follow;
        }
        self.follow = follow;
    }

    /// The once-a-second clock: ages and the clock move on, and a followed
    /// run shows what its journal gained since.
    pub fn on_tick(&mut self, now: DateTime<Utc>) -> Update {
        if let Some(follow) = &mut self.follow {
            follow.refresh();
        }
        if let Some(timeline) = &mut self.timeline {
            timeline.refresh();
        }
        self.now = now;
        self.refresh_due();
        self.update_readiness(false);
        if let Some(drill) = &mut self.drill
            && drill.watch(self.runbooks.as_ref())
        {
            // The drill aborted the run: a dialog still asking about it
            // would take keys typed on the report.
            if let Some(runbooks) = &mut self.runbooks {
                runbooks.close_dialog();
            }
            return self.show(Screen::DrillReport);
        }
        Update::Redraw
    }

    /// A key press; it also dismisses the notices of the dashboard and the runbooks.
    pub fn on_key(&mut self, key: KeyEvent) -> Update {
        if key.kind == KeyEventKind::Release {
            return Update::Nothing;
        }
        // Notices are transient: the next key clears them, the run's own
        // status line stays.
        let had_notice = self.notice.take().is_some()
            | self
                .runbooks
                .as_mut()
                .is_some_and(|r| r.notice.take().is_some());
        match self.handle_key(key) {
            Update::Nothing if had_notice => Update::Redraw,
            update => update,
        }
    }

    fn handle_key(&mut self, key: KeyEvent) -> Update {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
            return Update::Quit;
        }
        if self.declaring.is_some() {
            return self.on_declare_key(key);
        }
        if self.filter_editing {
            return self.on_filter_key(key);
        }
        if self.palette.open {
            return self.on_palette_key(key);
        }
        let quit_armed = std::mem::take(&mut self.quit_armed);
        // An open dialog takes every key, `q` and digits included.
        if !self.help_open
            && matches!(self.screen, Screen::Runbooks | Screen::Runs)
            && let Some(runbooks) = &mut self.runbooks
            && runbooks.dialog.is_some()
        {
            return runbooks.on_dialog_key(key, &self.environment, &self.tracker);
        }
        let contexts = self.contexts();
        let Some(action) = self.keys.action_for(&key, &contexts) else {
            // A follow session says why a key that would act on the run
            // does nothing there.
            if self.screen == Screen::Follow && !self.help_open {
                return self.on_screen_key(key);
            }
            return Update::Nothing;
        };
        // The Readiness, Follow and Timeline screens read keys themselves;
        // they are handed the action's default key, so a rebinding in
        // `[keys]` reaches them too.
        if !self.help_open
            && let Some(default) = keys::default_key(action)
            && self.on_screen_key(default) == Update::Redraw
        {
            return Update::Redraw;
        }
        self.perform(action, quit_armed)
    }

    /// A key for the screen on show, if that screen reads keys itself.
    fn on_screen_key(&mut self, key: KeyEvent) -> Update {
        match self.screen {
            Screen::Follow => match &mut self.follow {
                Some(follow) => follow.on_key(key, &mut self.notice),
                None => Update::Nothing,
            },
            Screen::Timeline => match &mut self.timeline {
                Some(timeline) => timeline.on_key(key),
                None => Update::Nothing,
            },
            Screen::Readiness => match &mut self.readiness {
                Some(readiness) => readiness.on_key(key),
                None => Update::Nothing,
            },
            Screen::DrillReport => match &mut self.drill {
                Some(drill) => drill.on_key(key),
                None => Update::Nothing,
            },
            _ => Update::Nothing,
        }
    }

    /// Where the console is, most specific first: which bindings apply.
    pub fn contexts(&self) -> Vec<Context> {
        if self.help_open {
            return vec![Context::Help, Context::Global];
        }
        vec![self.screen_context(), Context::Global]
    }

    /// Whether a dialog is open: it takes every key.
    pub fn dialog_open(&self) -> bool {
        self.declaring.is_some() || self.runbooks.as_ref().is_some_and(|r| r.dialog.is_some())
    }

    /// The context of the screen, under any overlay.
    pub fn screen_context(&self) -> Context {
        match self.screen {
            Screen::Dashboard => Context::Dashboard,
            Screen::Runbooks if self.runbooks.as_ref().is_some_and(|r| r.viewing_run()) => {
                Context::Run
            }
            Screen::Runbooks => Context::RunbookList,
            Screen::Runs => Context::RunsList,
            Screen::Readiness => Context::Readiness,
            Screen::Follow => Context::Follow,
            Screen::Timeline => Context::Timeline,
            Screen::DrillReport => Context::DrillReport,
        }
    }

    /// Whether `action` does something now: the footer offers only these.
    pub fn applies(&self, action: Action) -> bool {
        let runbooks = self.runbooks.as_ref();
        let context = self.contexts()[0];
        match action {
            Action::Quit | Action::Palette => true,
            Action::Help => !self.help_open,
            Action::Dashboard => self.screen != Screen::Dashboard,
            Action::Runbooks => self.screen != Screen::Runbooks,
            // Room is short at 80 columns: the Runs key shows once there are runs.
            Action::Runs => {
                self.screen != Screen::Runs && runbooks.is_some_and(|r| !r.runs.is_empty())
            }
            Action::Readiness => self.screen != Screen::Readiness && self.readiness.is_some(),
            Action::Follow => self.screen != Screen::Follow && self.follow.is_some(),
            Action::Timeline => self.screen != Screen::Timeline && self.timeline.is_some(),
            Action::Report => {
                self.screen != Screen::DrillReport
                    && self.drill.as_ref().is_some_and(DrillState::is_finished)
            }
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::First
            | Action::Last => true,
            Action::Open => match context {
                Context::Dashboard => !self.detail_open && !self.visible.is_empty(),
                Context::RunbookList => runbooks.is_some_and(|r| r.selected_runbook().is_some()),
                Context::RunsList => runbooks.is_some_and(|r| !r.runs.is_empty()),
                _ => true,
            },
            Action::Back => match context {
                Context::Dashboard => self.detail_open || !self.filter.is_empty(),
                Context::RunbookList => runbooks.is_some_and(|r| !r.list_filter.is_empty()),
                Context::RunsList => runbooks.is_some_and(|r| !r.runs_filter.is_empty()),
                _ => true,
            },
            Action::SwitchFocus => self.detail_open,
            Action::Filter => true,
            Action::Outage => self.faults.is_some(),
            Action::Declare => !self.read_only && runbooks.is_some(),
            Action::Confirm
            | Action::Tick
            | Action::Retry
            | Action::Skip
            | Action::Abort
            | Action::Discard => runbooks.is_some_and(|r| r.applies(action)),
        }
    }

    /// Does what a key bound to `action` asks, where the console is.
    fn perform(&mut self, action: Action, quit_armed: bool) -> Update {
        let context = self.contexts()[0];
        match action {
            Action::Quit => self.quit(quit_armed),
            Action::Help => {
                self.help_open = !self.help_open;
                Update::Redraw
            }
            Action::Open | Action::Back if context == Context::Help => {
                self.help_open = false;
                Update::Redraw
            }
            Action::Palette => {
                self.palette.open();
                Update::Redraw
            }
            Action::Filter => {
                self.filter_editing = self.screen_filter().is_some();
                Update::Redraw
            }
            Action::Dashboard => self.show(Screen::Dashboard),
            Action::Runbooks => {
                // A finished run is not where the runbooks are: the list is.
                if let Some(runbooks) = &mut self.runbooks
                    && runbooks.viewed().is_some_and(|r| !r.in_progress())
                {
                    runbooks.viewing = None;
                }
                // Runs started elsewhere (`runbook run`, another console) show.
                if let Some(runbooks) = &mut self.runbooks {
                    runbooks.refresh_history();
                }
                self.show(Screen::Runbooks)
            }
            Action::Runs => self.show(Screen::Runs),
            Action::Readiness if self.readiness.is_some() => {
                let update = self.show(Screen::Readiness);
                self.update_readiness(true);
                update
            }
            Action::Follow if self.follow.is_some() => self.show(Screen::Follow),
            Action::Report if self.drill.as_ref().is_some_and(DrillState::is_finished) => {
                self.show(Screen::DrillReport)
            }
            Action::Timeline => match &mut self.timeline {
                Some(timeline) => {
                    timeline.open();
                    self.show(Screen::Timeline)
                }
                None => Update::Nothing,
            },
            _ if context == Context::Dashboard => self.perform_on_dashboard(action),
            _ => {
                let Some(runbooks) = &mut self.runbooks else {
                    return Update::Nothing;
                };
                let update = match context {
                    Context::RunsList => runbooks.perform_on_runs(action),
                    _ => runbooks.perform(action),
                };
                if let Some(Dialog::Review(review)) = &mut runbooks.dialog
                    && review.posture.is_none()
                {
                    review.posture = self
                        .rows
                        .iter()
                        .find(|r| r.posture.service_id == review.service)
                        .map(|r| posture_line(&r.posture));
                    if let Some(service) = self.environment.service(&review.service) {
                        review.resolve_defaults(service);
                    }
                }
                if context == Context::RunsList
                    && action == Action::Open
                    && update == Update::Redraw
                {
                    // Enter opened a run: it is shown where runs are driven.
                    self.screen = Screen::Runbooks;
                }
                update
            }
        }
    }

    fn show(&mut self, screen: Screen) -> Update {
        self.help_open = false;
        self.screen = screen;
        Update::Redraw
    }

    /// Quits, unless a run is in progress: then the first `q` says what
    /// leaving means and only a second one leaves.
    fn quit(&mut self, quit_armed: bool) -> Update {
        // Leaving a drill ends it first and shows its report.
        if let Some(drill) = &mut self.drill
            && !drill.is_finished()
        {
            drill.end_now(self.runbooks.as_ref());
            return self.show(Screen::DrillReport);
        }
        let Some(runbooks) = &mut self.runbooks else {
            return Update::Quit;
        };
        if !runbooks.run_in_progress() || quit_armed {
            return Update::Quit;
        }
        self.quit_armed = true;
        let key = self.keys.label(Action::Quit);
        runbooks.notice = Some(format!(
            "a run is in progress: press {key} again to leave it (it resumes from its journal)"
        ));
        // Every screen shows it: a second press must never come unwarned.
        self.notice = runbooks.notice.clone();
        Update::Redraw
    }

    fn perform_on_dashboard(&mut self, action: Action) -> Update {
        match action {
            Action::Outage => self.toggle_simulated_outage(),
            Action::Declare => self.open_declare(),
            Action::Open if !self.detail_open && !self.visible.is_empty() => {
                self.detail_open = true;
                self.detail_scroll = 0;
                Update::Redraw
            }
            Action::Back => self.back(),
            Action::SwitchFocus => {
                if !self.detail_open {
                    return Update::Nothing;
                }
                self.focus = match self.focus {
                    Focus::Table => Focus::Detail,
                    Focus::Detail => Focus::Table,
                };
                Update::Redraw
            }
            Action::Down => self.step(1),
            Action::Up => self.step(-1),
            Action::PageDown => self.step(10),
            Action::PageUp => self.step(-10),
            Action::First => self.step(i64::MIN / 2),
            Action::Last => self.step(i64::MAX / 2),
            _ => Update::Nothing,
        }
    }

    /// The filter of the list on screen, and whether it is the dashboard's.
    fn screen_filter(&mut self) -> Option<&mut String> {
        match (self.screen, &mut self.runbooks) {
            (Screen::Dashboard, _) => Some(&mut self.filter),
            (Screen::Runbooks, Some(r)) => Some(&mut r.list_filter),
            (Screen::Runs, Some(r)) => Some(&mut r.runs_filter),
            _ => None,
        }
    }

    /// The filter of the list on screen, as typed so far.
    pub fn shown_filter(&self) -> &str {
        match (self.screen, &self.runbooks) {
            (Screen::Runbooks, Some(r)) => &r.list_filter,
            (Screen::Runs, Some(r)) => &r.runs_filter,
            _ => &self.filter,
        }
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Update {
        let Some(filter) = self.screen_filter() else {
            self.filter_editing = false;
            return Update::Redraw;
        };
        let mut done = false;
        match key.code {
            KeyCode::Enter => done = true,
            KeyCode::Esc => {
                done = true;
                filter.clear();
            }
            KeyCode::Backspace => {
                filter.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => filter.push(c),
            _ => return Update::Nothing,
        }
        if done {
            self.filter_editing = false;
        }
        self.refilter();
        Update::Redraw
    }

    fn refilter(&mut self) {
        self.apply_filter();
        if let Some(runbooks) = &mut self.runbooks {
            runbooks.refilter();
        }
    }

    /// Keys of the open palette; a command it understood is run.
    fn on_palette_key(&mut self, key: KeyEvent) -> Update {
        let words = self.vocabulary();
        match self.palette.on_key(key, &words) {
            PaletteOutcome::Open | PaletteOutcome::Closed => Update::Redraw,
            PaletteOutcome::Run(command) => match self.run_command(command) {
                Update::Nothing => Update::Redraw,
                update => update,
            },
        }
    }

    /// What the palette completes: the services and the themes.
    pub fn vocabulary(&self) -> Vocabulary {
        Vocabulary {
            services: self
                .rows
                .iter()
                .map(|r| r.posture.service_id.clone())
                .collect(),
            themes: theme::available(self.themes_dir.as_deref()),
        }
    }

    /// Does a palette command.
    pub fn run_command(&mut self, command: Command) -> Update {
        match command {
            Command::Perform(action) => {
                self.help_open = false;
                let context = self.contexts()[0];
                // A command names a thing to do, whatever the screen: it is
                // done where it applies.
                let home = keys::binding(action)
                    .contexts
                    .iter()
                    .any(|(c, _)| *c == context || *c == Context::Global);
                if !home {
                    self.screen = Screen::Dashboard;
                }
                self.perform(action, false)
            }
            Command::Service(id) => {
                self.screen = Screen::Dashboard;
                self.help_open = false;
                self.filter.clear();
                self.apply_filter();
                if let Some(at) = self
                    .visible
                    .iter()
                    .position(|&i| self.rows[i].posture.service_id == id)
                {
                    self.selected = at;
                    self.detail_open = true;
                    self.detail_scroll = 0;
                }
                Update::Redraw
            }
            Command::Theme(name) => {
                match theme::load(&name, self.themes_dir.as_deref()) {
                    Ok(theme) if theme::no_color_requested() => self.theme = theme.without_colors(),
                    Ok(theme) => self.theme = theme,
                    Err(e) => self.notice = Some(e.to_string()),
                }
                Update::Redraw
            }
            Command::IncidentStart { when, why } => {
                self.screen = Screen::Dashboard;
                self.help_open = false;
                if self.open_declare() == Update::Redraw
                    && let Some(dialog) = &mut self.declaring
                {
                    dialog.when = when;
                    dialog.why = why;
                    dialog.field = Field::Why;
                }
                Update::Redraw
            }
            Command::Filter(text) => {
                if let Some(filter) = self.screen_filter() {
                    *filter = text;
                }
                self.refilter();
                Update::Redraw
            }
        }
    }

    /// Gives the console its handle on faults and shows those already in
    /// force (a resumed demo world may be mid-outage).
    pub fn set_fault_control(&mut self, faults: Option<Arc<dyn FaultControl>>) {
        self.faults = faults;
        self.show_faults();
    }

    fn show_faults(&mut self) {
        self.simulated_faults = self
            .faults
            .as_ref()
            .map(|f| f.active_faults().iter().map(Fault::label).collect())
            .unwrap_or_default();
    }

    /// Starts, or ends, a simulated outage of the selected service's
    /// primary region. Only the demo can be told to fail, and only by a
    /// session that may act; otherwise the key says why it does nothing.
    fn toggle_simulated_outage(&mut self) -> Update {
        let Some(world) = self.faults.clone() else {
            self.notice = Some(if self.read_only {
                "O would start a simulated outage, and this session is read-only".into()
            } else {
                "O simulates a regional outage in the demo; real regions cannot be told to fail"
                    .into()
            });
            return Update::Redraw;
        };
        let Some(row) = self.selected_row() else {
            return Update::Nothing;
        };
        let region = self
            .environment
            .service(&row.posture.service_id)
            .map(|s| s.primary_region.clone());
        let Some(region) = region else {
            return Update::Nothing;
        };
        let fault = Fault::RegionOutage { region };
        let outcome = if world.active_faults().contains(&fault) {
            world.clear(&fault)
        } else {
            world.inject(fault)
        };
        if let Err(e) = outcome {
            tracing::warn!("simulated outage: {e}");
            self.notice = Some(format!("simulated outage: {e}"));
        }
        self.show_faults();
        Update::Redraw
    }

    /// Opens the dialog declaring an incident on the selected service.
    fn open_declare(&mut self) -> Update {
        if self.read_only {
            self.notice = Some("I would declare an incident, and this session is read-only".into());
            return Update::Redraw;
        }
        let Some(row) = self.selected_row() else {
            return Update::Nothing;
        };
        self.declaring = Some(DeclareDialog::new(row.posture.service_id.clone()));
        Update::Redraw
    }

    /// Keys of the declare dialog: a refused declaration stays in the
    /// dialog with its reason; an accepted one closes it and says so.
    fn on_declare_key(&mut self, key: KeyEvent) -> Update {
        let Some(dialog) = &mut self.declaring else {
            return Update::Nothing;
        };
        let (when, why) = match dialog.on_key(key) {
            DeclareOutcome::Open => return Update::Redraw,
            DeclareOutcome::Cancelled => {
                self.declaring = None;
                return Update::Redraw;
            }
            DeclareOutcome::Declare { when, why } => (when, why),
        };
        let service = dialog.service.clone();
        let who = self.runbooks.as_ref().map(|r| r.setup.operator.clone());
        let declared = match (who, when.as_str()) {
            (None, _) => Err("this session has no operator identity to declare with".to_string()),
            (Some(who), "") => self
                .declare_incident(&service, self.now, &who, &why)
                .map_err(|e| e.to_string()),
            (Some(who), when) => incident::parse_start(when, self.now)
                .map_err(|e| e.to_string())
                .and_then(|start| {
                    self.declare_incident(&service, start, &who, &why)
                        .map_err(|e| e.to_string())
                }),
        };
        match declared {
            Ok(incident) => {
                self.declaring = None;
                self.notice = Some(format!(
                    "incident declared on {service}: runs started now count their RTO from {}",
                    incident.start.format("%H:%M:%SZ")
                ));
            }
            Err(why) => {
                if let Some(dialog) = &mut self.declaring {
                    dialog.refused(why);
                }
            }
        }
        Update::Redraw
    }

    /// Esc closes the innermost thing open.
    fn back(&mut self) -> Update {
        if self.detail_open {
            self.detail_open = false;
            self.focus = Focus::Table;
        } else if !self.filter.is_empty() {
            self.filter.clear();
            self.apply_filter();
        } else {
            return Update::Nothing;
        }
        Update::Redraw
    }

    /// Moves the selection, or scrolls the detail pane when it has focus.
    fn step(&mut self, by: i64) -> Update {
        if self.focus == Focus::Detail && self.detail_open {
            let scrolled = (i64::from(self.detail_scroll) + by).clamp(0, i64::from(u16::MAX));
            self.detail_scroll = u16::try_from(scrolled).unwrap_or(u16::MAX);
            return Update::Redraw;
        }
        let last = self.visible.len().saturating_sub(1) as i64;
        let next = (self.selected as i64 + by).clamp(0, last) as usize;
        if next == self.selected {
            return Update::Nothing;
        }
        self.selected = next;
        self.detail_scroll = 0;
        Update::Redraw
    }

    /// A click selects the row under it or focuses the detail pane; the
    /// wheel moves the selection (or scrolls the focused detail pane).
    /// `screen` is the terminal's whole area, as the last frame was drawn.
    pub fn on_mouse(&mut self, mouse: MouseEvent, screen: Rect) -> Update {
        if self.help_open || self.screen != Screen::Dashboard {
            return Update::Nothing;
        }
        match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => {
                let at = Position::new(mouse.column, mouse.row);
                if let Some(i) = render::app::row_at(screen, self, at) {
                    self.selected = i;
                    self.focus = Focus::Table;
                    self.detail_scroll = 0;
                    return Update::Redraw;
                }
                let in_detail = render::app::areas(screen, self)
                    .and_then(|a| a.detail)
                    .is_some_and(|d| d.contains(at));
                if in_detail && self.focus != Focus::Detail {
                    self.focus = Focus::Detail;
                    return Update::Redraw;
                }
                Update::Nothing
            }
            MouseEventKind::ScrollDown => self.step(1),
            MouseEventKind::ScrollUp => self.step(-1),
            _ => Update::Nothing,
        }
    }
}

/// A service's posture in one line, for the review before a run.
fn posture_line(posture: &Posture) -> String {
    let writer = posture.writer_region.as_deref().unwrap_or("none");
    format!(
        "{} · RPO {} · writer {writer}",
        posture.availability().label(),
        posture.rpo.label()
    )
}
