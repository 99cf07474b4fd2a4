//! The console's state: what is selected, which pane has focus, what is open,
//! and the rows the screen shows. Input and monitor messages change it; the
//! render functions only read it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::{Position, Rect};

use super::render;
use super::view::{ServiceRow, refresh_rows, service_rows};
use crate::domain::environment::Environment;
use crate::domain::incident::{self, DeclareError, Incident};
use crate::monitor::{EnvironmentUpdate, MonitorEvent, MonitorState, Tracker};
use crate::provider::fault::{Fault, FaultControl};
use crate::timeline::recorder::EventRecorder;
use crate::tui::follow::FollowState;
use crate::tui::popups::declare::{DeclareDialog, DeclareOutcome};
use crate::tui::readiness::ReadinessState;
use crate::tui::runbooks::{RunMessage, RunbooksState};
use crate::tui::theme::Theme;
use crate::tui::timeline::TimelineState;

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
            runbooks: None,
            quit_armed: false,
            faults: None,
            read_only: false,
            simulated_faults: Vec::new(),
            notice: None,
            declaring: None,
            screen_rows: SCREEN_ROWS_UNTIL_DRAWN,
            readiness: None,
            follow: None,
            timeline: None,
            events: None,
        };
        app.refresh();
        app
    }

    /// Recomputes the rows from the monitor's data at `self.now`.
    pub fn refresh(&mut self) {
        self.rows = service_rows(&self.environment, &self.monitor, &self.tracker, self.now);
        self.apply_filter();
    }

    /// Brings the rows to `self.now` where the clock changed them: those
    /// whose verdict or staleness it moved, and those that may be on
    /// screen, whose ages count in seconds. The rest wait for new data.
    /// Returns how many rows were recomputed.
    pub fn refresh_due(&mut self) -> usize {
        let now = self.now;
        let first = self.selected.saturating_sub(self.screen_rows);
        let last = self.selected.saturating_add(self.screen_rows);
        let mut due: Vec<usize> = self
            .visible
            .iter()
            .skip(first)
            .take(last - first + 1)
            .copied()
            .filter(|&i| self.rows.get(i).is_some_and(|r| r.clock.computed_at < now))
            .collect();
        due.extend(
            self.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.clock.is_due(now))
                .map(|(i, _)| i),
        );
        due.sort_unstable();
        due.dedup();
        refresh_rows(
            &mut self.rows,
            &due,
            &self.environment,
            &self.monitor,
            &self.tracker,
            now,
        );
        due.len()
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
        Update::Redraw
    }

    /// A key press; it also dismisses the dashboard's notice.
    pub fn on_key(&mut self, key: KeyEvent) -> Update {
        if key.kind == KeyEventKind::Release {
            return Update::Nothing;
        }
        let had_notice = self.notice.take().is_some();
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
        let quit_armed = std::mem::take(&mut self.quit_armed);
        if self.screen == Screen::Follow
            && !self.help_open
            && let Some(follow) = &mut self.follow
            && follow.on_key(key, &mut self.notice) == Update::Redraw
        {
            return Update::Redraw;
        }
        if self.screen == Screen::Timeline
            && !self.help_open
            && let Some(timeline) = &mut self.timeline
            && timeline.on_key(key) == Update::Redraw
        {
            return Update::Redraw;
        }
        if matches!(self.screen, Screen::Runbooks | Screen::Runs)
            && !self.help_open
            && let Some(runbooks) = &mut self.runbooks
        {
            // An open dialog takes every key, `q` and digits included.
            let had_dialog = runbooks.dialog.is_some();
            let update = if self.screen == Screen::Runs {
                let update = runbooks.on_runs_key(key);
                if key.code == KeyCode::Enter && update == Update::Redraw {
                    // Enter opened a run: it is shown where runs are driven.
                    self.screen = Screen::Runbooks;
                }
                update
            } else {
                runbooks.on_key(key, &self.environment, &self.tracker)
            };
            if had_dialog || update != Update::Nothing {
                return update;
            }
            if key.code == KeyCode::Char('q') && runbooks.run_in_progress() && !quit_armed {
                self.quit_armed = true;
                runbooks.notice = Some(
                    "a run is in progress: press q again to leave it (it resumes from its journal)"
                        .into(),
                );
                return Update::Redraw;
            }
        }
        match key.code {
            KeyCode::Char('1') if self.screen != Screen::Dashboard => {
                self.screen = Screen::Dashboard;
                return Update::Redraw;
            }
            KeyCode::Char('2') | KeyCode::Char('r')
                if self.screen != Screen::Runbooks && !self.help_open =>
            {
                self.screen = Screen::Runbooks;
                return Update::Redraw;
            }
            KeyCode::Char('3') if self.screen != Screen::Runs && !self.help_open => {
                self.screen = Screen::Runs;
                return Update::Redraw;
            }
            KeyCode::Char('4') if self.screen != Screen::Readiness && !self.help_open => {
                self.screen = Screen::Readiness;
                self.update_readiness(true);
                return Update::Redraw;
            }
            _ => {}
        }
        if self.help_open {
            return match key.code {
                KeyCode::Char('q') => Update::Quit,
                KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => {
                    self.help_open = false;
                    Update::Redraw
                }
                _ => Update::Nothing,
            };
        }
        if self.screen == Screen::Readiness
            && let Some(readiness) = &mut self.readiness
            && readiness.on_key(key) == Update::Redraw
        {
            return Update::Redraw;
        }
        if matches!(
            self.screen,
            Screen::Runbooks | Screen::Runs | Screen::Readiness | Screen::Follow | Screen::Timeline
        ) {
            return match key.code {
                KeyCode::Char('q') => Update::Quit,
                KeyCode::Char('?') => {
                    self.help_open = true;
                    Update::Redraw
                }
                _ => Update::Nothing,
            };
        }
        match key.code {
            KeyCode::Char('q') => Update::Quit,
            KeyCode::Char('?') => {
                self.help_open = true;
                Update::Redraw
            }
            KeyCode::Char('O') => self.toggle_simulated_outage(),
            KeyCode::Char('I') => self.open_declare(),
            KeyCode::Char('/') => {
                self.filter_editing = true;
                Update::Redraw
            }
            KeyCode::Enter if !self.detail_open && !self.visible.is_empty() => {
                self.detail_open = true;
                self.detail_scroll = 0;
                Update::Redraw
            }
            KeyCode::Esc => self.back(),
            KeyCode::Tab | KeyCode::BackTab => {
                if !self.detail_open {
                    return Update::Nothing;
                }
                self.focus = match self.focus {
                    Focus::Table => Focus::Detail,
                    Focus::Detail => Focus::Table,
                };
                Update::Redraw
            }
            KeyCode::Down | KeyCode::Char('j') => self.step(1),
            KeyCode::Up | KeyCode::Char('k') => self.step(-1),
            KeyCode::PageDown => self.step(10),
            KeyCode::PageUp => self.step(-10),
            KeyCode::Home | KeyCode::Char('g') => self.step(i64::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => self.step(i64::MAX / 2),
            _ => Update::Nothing,
        }
    }

    fn on_filter_key(&mut self, key: KeyEvent) -> Update {
        match key.code {
            KeyCode::Enter => self.filter_editing = false,
            KeyCode::Esc => {
                self.filter_editing = false;
                self.filter.clear();
                self.apply_filter();
            }
            KeyCode::Backspace => {
                self.filter.pop();
                self.apply_filter();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.filter.push(c);
                self.apply_filter();
            }
            _ => return Update::Nothing,
        }
        Update::Redraw
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
