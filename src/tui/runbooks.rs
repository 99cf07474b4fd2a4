//! The Runbooks and Runs screens' state: the runbook list, this session's
//! runs (one per service, any number of services at once), the run being
//! viewed and the dialogs that answer it. Each run lives in its own task
//! (see [`crate::runbook::runner`]); this side only sends the operator's
//! inputs and keeps the newest status each run published, keyed by run id.
//!
//! Starting a run reads and writes files (runbook, journals, lock, fsync):
//! it goes through [`crate::runbook::start`] on a blocking thread and its
//! result comes back as a [`RunMessage`], so the UI loop never waits on it.
//! So do reading each runbook's last run from the journals
//! ([`crate::runbook::history`]) and discarding a journal.

use std::path::PathBuf;

use chrono::Utc;
use crossterm::event::KeyEvent;
use tokio::sync::mpsc;

use super::keys::Action;
use super::popups::confirm::{ConfirmDialog, DialogOutcome};
use super::popups::reason::{ReasonDialog, ReasonFor, ReasonOutcome};
use super::popups::review::{ReviewDialog, ReviewOutcome};
use super::state::Update;
use crate::domain::environment::Environment;
use crate::domain::incident::IncidentStart;
use crate::format::printable;
use crate::monitor::{SnapshotFeed, Tracker};
use crate::provider::Provider;
use crate::runbook::engine::{Prompt, PromptId};
use crate::runbook::format::Runbook;
use crate::runbook::history::{self, LastRun};
use crate::runbook::runner::{self, Input, RunStatus};
use crate::runbook::safety::SafetySettings;
use crate::runbook::start::{self, Discard, ResumePolicy, StartRefused, StartRequest, Starter};
use crate::runbook::vars::Variables;

/// What starting a run needs beyond the runbook itself.
pub struct RunbookSetup {
    pub runbooks: Vec<Runbook>,
    /// Runbook files that did not load, as `file:line:column: message`.
    pub problems: Vec<String>,
    pub provider: Provider,
    pub journal_dir: PathBuf,
    pub lock_dir: PathBuf,
    pub builtins: Variables,
    pub operator: String,
    /// Why `operator` is not the identity the session asked for, if it is not.
    pub identity_note: Option<String>,
    /// Names this console in journals and locks.
    pub session: String,
    /// The safety rules' settings from the user's configuration.
    pub safety: SafetySettings,
    /// The shared store coordinating consoles, if configured.
    pub shared: Option<crate::coordination::connect::Connected>,
}

/// What a run's task and a start's blocking thread tell the UI loop.
#[derive(Debug)]
pub enum RunMessage {
    Status(RunStatus),
    /// A start requested for `service` ended, begun or refused.
    Started {
        service: String,
        result: Result<StartedRun, StartProblem>,
    },
    /// Each runbook's last run, read for the `asked`-th refresh.
    History {
        asked: u64,
        result: Result<Vec<Option<LastRun>>, String>,
    },
    /// A journal of `service` set aside from the list: where it went.
    Discarded {
        service: String,
        result: Result<PathBuf, String>,
    },
}

#[derive(Debug)]
pub struct StartedRun {
    pub inputs: mpsc::Sender<Input>,
    pub status: RunStatus,
    /// The journal resumed, when the run continues an unfinished one.
    pub resumed: Option<PathBuf>,
    pub discarded: Option<PathBuf>,
    pub warnings: Vec<String>,
}

/// Why a start was refused; an unreadable journal can be discarded here.
#[derive(Debug)]
pub struct StartProblem {
    pub message: String,
    /// The runbook and the journals blocking it, when that is the reason.
    pub blocked_by: Option<(PathBuf, Vec<PathBuf>)>,
}

/// One run of this session, in progress or over.
pub struct RunEntry {
    pub inputs: mpsc::Sender<Input>,
    pub status: RunStatus,
}

impl RunEntry {
    pub fn in_progress(&self) -> bool {
        self.status.view.outcome.is_none()
    }
}

pub enum Dialog {
    Confirm(Box<ConfirmDialog>),
    Reason(ReasonDialog),
    Review(Box<ReviewDialog>),
}

/// A journal the operator may discard from the list (`D`).
pub struct Blocked {
    pub runbook: PathBuf,
    pub journal: PathBuf,
}

pub struct RunbooksState {
    pub setup: RunbookSetup,
    /// Index into `setup.runbooks`.
    pub selected: usize,
    /// This session's runs, in the order they started.
    pub runs: Vec<RunEntry>,
    /// Index into `runs` on the Runs screen.
    pub runs_selected: usize,
    /// `/` on the runbook list: runbooks whose name or service holds it.
    pub list_filter: String,
    /// `/` on the Runs screen: runs whose service or runbook holds it.
    pub runs_filter: String,
    /// The run shown instead of the list, by run id.
    pub viewing: Option<String>,
    pub dialog: Option<Dialog>,
    /// The last thing the operator should know (a refusal, a lock holder).
    pub notice: Option<String>,
    /// Services whose start is under way, so a second Enter waits for it.
    pub starting: Vec<String>,
    pub blocked: Option<Blocked>,
    /// Each runbook's last run (as `setup.runbooks`), from the journals.
    pub last_runs: Vec<Option<LastRun>>,
    /// Refreshes of `last_runs` asked for, and the newest one applied:
    /// an older answer arriving late is dropped.
    history_asked: u64,
    history_applied: u64,
    /// The service and journal the open discard dialog sets aside.
    discarding: Option<(String, PathBuf)>,
    /// The prompt the open dialog answers: its answer names this prompt
    /// (or, for a skip, its step), so the run refuses it once it has moved on.
    dialog_for: Option<PromptId>,
    /// The step the open skip dialog passes over (a wait has no prompt).
    skipping: Option<String>,
    feed: SnapshotFeed,
    messages: mpsc::Sender<RunMessage>,
}

impl RunbooksState {
    pub fn new(
        setup: RunbookSetup,
        feed: SnapshotFeed,
        messages: mpsc::Sender<RunMessage>,
    ) -> Self {
        let notice = setup.identity_note.clone();
        let mut state = Self {
            last_runs: vec![None; setup.runbooks.len()],
            history_asked: 0,
            history_applied: 0,
            discarding: None,
            setup,
            selected: 0,
            runs: Vec::new(),
            runs_selected: 0,
            list_filter: String::new(),
            runs_filter: String::new(),
            viewing: None,
            dialog: None,
            notice,
            starting: Vec::new(),
            blocked: None,
            dialog_for: None,
            skipping: None,
            feed,
            messages,
        };
        state.refresh_history();
        state
    }

    /// Reads each runbook's last run again, off the UI task; the answer
    /// comes back as [`RunMessage::History`]. Without a runtime (a test
    /// drawing a screen) the list shows none.
    pub fn refresh_history(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        self.history_asked += 1;
        let asked = self.history_asked;
        let dir = self.setup.journal_dir.clone();
        let runbooks = self.setup.runbooks.clone();
        let messages = self.messages.clone();
        tokio::spawn(async move {
            let read = tokio::task::spawn_blocking(move || history::last_runs(&dir, &runbooks));
            let result = match read.await {
                Ok(read) => read.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            messages
                .send(RunMessage::History { asked, result })
                .await
                .ok();
        });
    }

    /// The selected runbook's last run, unless the filter hides it.
    pub fn selected_last_run(&self) -> Option<&LastRun> {
        self.selected_runbook()?;
        self.last_runs.get(self.selected)?.as_ref()
    }

    /// Whether the selected runbook's last start was refused for a
    /// journal that cannot be read: `D` then discards it and starts again.
    fn blocked_here(&self) -> bool {
        let selected = self.selected_runbook().map(|rb| &rb.path);
        self.blocked
            .as_ref()
            .is_some_and(|b| Some(&b.runbook) == selected)
    }

    /// The journal `D` would set aside on the list: the selected runbook's
    /// blocking or unfinished one, unless this session is running it.
    fn discardable(&self) -> Option<(String, PathBuf)> {
        let runbook = self.selected_runbook()?;
        let last = self.selected_last_run().filter(|l| l.discardable())?;
        if self.active_run(&runbook.service).is_some() {
            return None;
        }
        Some((runbook.service.clone(), last.journal.clone()))
    }

    /// The selected runbook, unless the filter hides it.
    pub fn selected_runbook(&self) -> Option<&Runbook> {
        self.setup
            .runbooks
            .get(self.selected)
            .filter(|rb| passes(&self.list_filter, [&rb.name, &rb.service]))
    }

    /// Indexes into `setup.runbooks` of the runbooks the filter shows.
    pub fn shown_runbooks(&self) -> Vec<usize> {
        let runbooks = self.setup.runbooks.iter().enumerate();
        runbooks
            .filter(|(_, rb)| passes(&self.list_filter, [&rb.name, &rb.service]))
            .map(|(i, _)| i)
            .collect()
    }

    /// Indexes into `runs` of the runs the filter shows.
    pub fn shown_runs(&self) -> Vec<usize> {
        let runs = self.runs.iter().enumerate();
        runs.filter(|(_, r)| {
            passes(
                &self.runs_filter,
                [&r.status.view.service, &r.status.view.runbook],
            )
        })
        .map(|(i, _)| i)
        .collect()
    }

    /// After a filter changed: the selection moves to a row still shown.
    pub fn refilter(&mut self) {
        let shown = self.shown_runbooks();
        if !shown.contains(&self.selected) {
            self.selected = shown.first().copied().unwrap_or(0);
        }
        let shown = self.shown_runs();
        if !shown.contains(&self.runs_selected) {
            self.runs_selected = shown.first().copied().unwrap_or(0);
        }
    }

    /// The run on screen, if one is.
    pub fn viewed(&self) -> Option<&RunEntry> {
        let id = self.viewing.as_ref()?;
        self.runs.iter().find(|r| &r.status.run_id == id)
    }

    pub fn viewing_run(&self) -> bool {
        self.viewed().is_some()
    }

    /// Some run has not finished: quitting would leave it to resume later.
    pub fn run_in_progress(&self) -> bool {
        self.runs.iter().any(RunEntry::in_progress)
    }

    /// The run in progress on `service`, if this session has one.
    pub fn active_run(&self, service: &str) -> Option<&RunEntry> {
        self.runs
            .iter()
            .find(|r| r.in_progress() && r.status.view.service == service)
    }

    pub fn on_message(&mut self, message: RunMessage) -> Update {
        match message {
            RunMessage::Status(status) => self.on_status(status),
            RunMessage::Started { service, result } => {
                self.starting.retain(|s| s != &service);
                match result {
                    Ok(started) => self.on_started(started),
                    Err(problem) => {
                        self.blocked = problem.blocked_by.and_then(|(runbook, journals)| {
                            Some(Blocked {
                                runbook,
                                journal: journals.into_iter().next()?,
                            })
                        });
                        self.notice = Some(problem.message);
                    }
                }
                Update::Redraw
            }
            RunMessage::History { asked, result } => {
                if asked < self.history_applied {
                    return Update::Nothing;
                }
                self.history_applied = asked;
                match result {
                    Ok(last_runs) => self.last_runs = last_runs,
                    Err(e) => self.notice = Some(format!("the journals could not be read: {e}")),
                }
                Update::Redraw
            }
            RunMessage::Discarded { service, result } => {
                self.notice = Some(match result {
                    Ok(moved_to) => format!(
                        "set aside as {} with your reason; the next start of `{service}` begins afresh",
                        printable(&moved_to.display().to_string())
                    ),
                    Err(e) => format!("the journal was not set aside: {e}"),
                });
                self.refresh_history();
                Update::Redraw
            }
        }
    }

    fn on_status(&mut self, status: RunStatus) -> Update {
        let viewed = self.viewing.as_ref() == Some(&status.run_id);
        let Some(entry) = self
            .runs
            .iter_mut()
            .find(|r| r.status.run_id == status.run_id)
        else {
            return Update::Nothing;
        };
        let ended = entry.in_progress() && status.view.outcome.is_some();
        entry.status = status;
        let now = self.setup.provider.observe.now();
        let prompt = entry.status.view.prompt.clone();
        if viewed && let Some(Dialog::Confirm(dialog)) = &mut self.dialog {
            // Fresh facts and a recorded override show in the open dialog;
            // once the step moved on (or was answered elsewhere) a stale
            // confirmation must not stay on screen.
            // The same step asked again (an override recorded) keeps its
            // dialog, which shows the new question before it is answered.
            let same_step = |p: &Prompt| {
                self.dialog_for
                    .as_ref()
                    .is_some_and(|open| open.step == p.id().step)
            };
            let current = prompt
                .as_ref()
                .is_some_and(|p| same_step(p) && dialog.refresh(p, now));
            if current {
                self.dialog_for = prompt.as_ref().map(Prompt::id);
            } else {
                self.dialog = None;
                self.dialog_for = None;
            }
        }
        if ended {
            self.refresh_history();
        }
        Update::Redraw
    }

    fn on_started(&mut self, started: StartedRun) {
        let mut notes = started.warnings;
        if let Some(p) = &started.discarded {
            notes.push(format!("set aside {}", p.display()));
        }
        if let Some(p) = &started.resumed {
            notes.push(format!("resumed the unfinished run in {}", p.display()));
        }
        self.notice = (!notes.is_empty()).then(|| notes.join("; "));
        self.blocked = None;
        self.viewing = Some(started.status.run_id.clone());
        self.runs
            .retain(|r| r.status.run_id != started.status.run_id);
        self.runs.push(RunEntry {
            inputs: started.inputs,
            status: started.status,
        });
        self.runs_selected = self.runs.len() - 1;
        self.refresh_history();
    }

    fn prompt(&self) -> Option<&Prompt> {
        self.viewed()?.status.view.prompt.as_ref()
    }

    /// Closes the open dialog unanswered: what it would answer is over.
    pub fn close_dialog(&mut self) {
        self.dialog = None;
        self.dialog_for = None;
        self.skipping = None;
        self.discarding = None;
    }

    /// Keys of the open dialog, which takes every key.
    pub fn on_dialog_key(
        &mut self,
        key: KeyEvent,
        environment: &Environment,
        tracker: &Tracker,
    ) -> Update {
        let Some(dialog) = &mut self.dialog else {
            return Update::Nothing;
        };
        let to = self.dialog_for.clone();
        let skipping = self.skipping.clone();
        let input = match dialog {
            Dialog::Confirm(d) => match d.on_key(key) {
                DialogOutcome::Open => return Update::Redraw,
                DialogOutcome::Cancelled => None,
                DialogOutcome::Confirmed { typed } => to.map(|to| Input::Confirm { to, typed }),
                DialogOutcome::Override { reason } => {
                    // The dialog stays open: the next status shows the
                    // override recorded and the call can be confirmed.
                    if let Some(to) = to {
                        self.send(Input::Override { to, reason });
                    }
                    return Update::Redraw;
                }
            },
            Dialog::Reason(d) => match d.on_key(key) {
                ReasonOutcome::Open => return Update::Redraw,
                ReasonOutcome::Cancelled => None,
                ReasonOutcome::Given(reason) => match d.purpose {
                    ReasonFor::Skip => skipping.map(|step| Input::Skip { step, reason }),
                    ReasonFor::Abort => Some(Input::Abort { reason }),
                    ReasonFor::Discard => {
                        self.dialog = None;
                        match self.discarding.take() {
                            Some((service, journal)) => {
                                self.discard_journal(service, journal, reason, environment)
                            }
                            None => self.discard(reason, environment, tracker),
                        }
                        return Update::Redraw;
                    }
                },
            },
            Dialog::Review(d) => match d.on_key(key) {
                ReviewOutcome::Open => return Update::Redraw,
                ReviewOutcome::Cancelled => None,
                ReviewOutcome::Start(supplied) => {
                    let file = d.runbook.clone();
                    let service = d.service.clone();
                    self.dialog = None;
                    self.start(file, service, supplied, environment, tracker);
                    return Update::Redraw;
                }
            },
        };
        self.close_dialog();
        if let Some(input) = input {
            self.send(input);
        }
        Update::Redraw
    }

    /// An action on the Runbooks screen: on the run shown, or on the list.
    pub fn perform(&mut self, action: Action) -> Update {
        if self.viewing_run() {
            self.perform_on_run(action)
        } else {
            self.perform_on_list(action)
        }
    }

    /// Whether a run or list action does something now.
    pub fn applies(&self, action: Action) -> bool {
        let in_progress = self.viewed().is_some_and(RunEntry::in_progress);
        let prompt = self.prompt();
        // A finished run's last prompt stays in its view: it is over all the same.
        let prompt = prompt.filter(|_| in_progress);
        match action {
            Action::Confirm => matches!(prompt, Some(Prompt::ConfirmAction { .. })),
            Action::Tick => matches!(prompt, Some(Prompt::Tick { .. })),
            Action::Retry => matches!(prompt, Some(Prompt::Failed { .. })),
            Action::Skip | Action::Abort => in_progress,
            Action::Discard => self.blocked_here() || self.discardable().is_some(),
            _ => true,
        }
    }

    fn perform_on_list(&mut self, action: Action) -> Update {
        match action {
            Action::Open => self.start_or_open(),
            Action::Back if !self.list_filter.is_empty() => {
                self.list_filter.clear();
                self.refilter();
            }
            // A start refused by an unreadable journal discards it and
            // starts again; otherwise the selected runbook's journal only.
            Action::Discard if self.blocked_here() => {
                self.dialog = Some(Dialog::Reason(ReasonDialog::new(ReasonFor::Discard)));
            }
            Action::Discard => {
                let Some((service, journal)) = self.discardable() else {
                    return Update::Nothing;
                };
                let what = match self.selected_last_run().map(|l| l.state) {
                    Some(history::RunState::Unfinished { step, of }) => format!(
                        "the unfinished run of `{service}` (at step {step}/{of}) will not be resumed"
                    ),
                    _ => format!("the journal of `{service}` that cannot be read"),
                };
                // A file name is anyone's text: printable only.
                let name = journal.file_name().unwrap_or_default().to_string_lossy();
                let detail = format!(
                    "{what}: {} is kept as evidence, renamed .discarded",
                    printable(&name)
                );
                self.dialog = Some(Dialog::Reason(
                    ReasonDialog::new(ReasonFor::Discard).with_detail(detail),
                ));
                self.discarding = Some((service, journal));
            }
            _ => match moved(self.selected, &self.shown_runbooks(), action) {
                Some(to) => self.selected = to,
                None => return Update::Nothing,
            },
        }
        Update::Redraw
    }

    /// An action on the Runs screen; Open opens the selected run.
    pub fn perform_on_runs(&mut self, action: Action) -> Update {
        let shown = self.shown_runs();
        match action {
            Action::Back if !self.runs_filter.is_empty() => {
                self.runs_filter.clear();
                self.refilter();
            }
            Action::Open => match shown
                .contains(&self.runs_selected)
                .then(|| self.runs.get(self.runs_selected))
                .flatten()
            {
                Some(run) => {
                    self.viewing = Some(run.status.run_id.clone());
                    self.notice = None;
                }
                None => return Update::Nothing,
            },
            _ => match moved(self.runs_selected, &shown, action) {
                Some(to) => self.runs_selected = to,
                None => return Update::Nothing,
            },
        }
        Update::Redraw
    }

    fn perform_on_run(&mut self, action: Action) -> Update {
        let finished = !self.viewed().is_some_and(RunEntry::in_progress);
        let prompt = self.prompt().filter(|_| !finished).cloned();
        match (action, prompt) {
            (Action::Back, _) => {
                self.viewing = None;
            }
            (Action::Confirm, Some(prompt @ Prompt::ConfirmAction { .. })) => {
                self.dialog_for = Some(prompt.id());
                // The facts' age is counted from now, not from when the
                // run last published (it publishes on change only).
                let now = self.setup.provider.observe.now();
                self.dialog =
                    ConfirmDialog::for_prompt(&prompt, now).map(|d| Dialog::Confirm(Box::new(d)));
            }
            (Action::Tick, Some(prompt @ Prompt::Tick { .. })) => {
                self.send(Input::Tick { to: prompt.id() })
            }
            (Action::Retry, Some(prompt @ Prompt::Failed { .. })) => {
                self.send(Input::Retry { to: prompt.id() })
            }
            // Any step can be passed over with a reason, a wait included;
            // the engine refuses only while a call is in flight.
            (Action::Skip, _) if !finished => {
                self.skipping = self.viewed().and_then(|r| {
                    let view = &r.status.view;
                    Some(view.steps.get(view.current?)?.id.clone())
                });
                self.dialog = Some(Dialog::Reason(ReasonDialog::new(ReasonFor::Skip)));
            }
            (Action::Abort, _) if !finished => {
                self.dialog = Some(Dialog::Reason(ReasonDialog::new(ReasonFor::Abort)));
            }
            _ => return Update::Nothing,
        }
        Update::Redraw
    }

    /// Sends to the run on screen: a dialog answers the run it was opened on.
    fn send(&mut self, input: Input) {
        if let Some(run) = self.viewed()
            && run.inputs.try_send(input).is_err()
        {
            self.notice = Some("the run is not taking input (it has ended)".into());
        }
    }

    /// Opens the selected runbook's service's run in progress, or opens
    /// the review that starts one: one run per service, never two.
    fn start_or_open(&mut self) {
        let Some(runbook) = self.selected_runbook() else {
            return;
        };
        if let Some(run) = self.active_run(&runbook.service) {
            self.viewing = Some(run.status.run_id.clone());
            return;
        }
        if self.setup.provider.read_only() {
            self.notice = Some(format!(
                "Enter would start a run of `{}`, and this session is read-only: it cannot start runs (`drconsole follow` watches one)",
                runbook.service
            ));
            return;
        }
        let mut known = self.setup.builtins.clone();
        known.insert("operator".into(), self.setup.operator.clone());
        let global_clusters = self
            .feed
            .latest()
            .map(|o| o.snapshot.global_clusters.clone())
            .unwrap_or_default();
        self.dialog = Some(Dialog::Review(Box::new(ReviewDialog::new(
            runbook,
            known,
            global_clusters,
        ))));
    }

    /// Starts (or resumes, from the journal, the unfinished run of) the
    /// runbook in `file`. A run started while the service has an open
    /// incident counts its RTO from the incident's start.
    fn start(
        &mut self,
        file: PathBuf,
        service: String,
        supplied: Variables,
        environment: &Environment,
        tracker: &Tracker,
    ) {
        let request = StartRequest {
            file,
            supplied,
            resume: ResumePolicy::Newest,
            discard: None,
            incident: tracker.incident(&service).map(IncidentStart::of),
        };
        self.request_start(service, request, environment);
    }

    fn discard(&mut self, reason: String, environment: &Environment, tracker: &Tracker) {
        let Some(blocked) = self.blocked.take() else {
            return;
        };
        let Some(service) = crate::runbook::journal::service_of(&blocked.journal).map(String::from)
        else {
            return;
        };
        let request = StartRequest {
            file: blocked.runbook,
            supplied: Variables::new(),
            resume: ResumePolicy::Newest,
            discard: Some(Discard {
                journal: blocked.journal,
                reason,
            }),
            incident: tracker.incident(&service).map(IncidentStart::of),
        };
        self.request_start(service, request, environment);
    }

    /// Sets `journal` aside as `runbook run --discard-journal` does
    /// ([`start::discard`]), on a blocking thread; the outcome comes back
    /// as [`RunMessage::Discarded`].
    fn discard_journal(
        &mut self,
        service: String,
        journal: PathBuf,
        reason: String,
        environment: &Environment,
    ) {
        let starter = self.starter(environment);
        let messages = self.messages.clone();
        self.notice = Some(format!("setting aside the journal of `{service}`…"));
        tokio::spawn(async move {
            let request = Discard { journal, reason };
            let of = service.clone();
            let done = tokio::task::spawn_blocking(move || start::discard(&starter, &of, &request));
            let result = match done.await {
                Ok(Ok(record)) => Ok(record.moved_to),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            messages
                .send(RunMessage::Discarded { service, result })
                .await
                .ok();
        });
    }

    /// What this session lends a start or a discard.
    fn starter(&self, environment: &Environment) -> Starter {
        Starter {
            environment: environment.clone(),
            builtins: self.setup.builtins.clone(),
            operator: self.setup.operator.clone(),
            session: self.setup.session.clone(),
            journal_dir: self.setup.journal_dir.clone(),
            lock_dir: self.setup.lock_dir.clone(),
            today: Utc::now().date_naive(),
            feed: self.feed.clone(),
            safety: self.setup.safety,
        }
    }

    /// Runs the start sequence on a blocking thread; its result arrives as
    /// [`RunMessage::Started`], and the run's statuses after it.
    fn request_start(&mut self, service: String, request: StartRequest, environment: &Environment) {
        if self.starting.contains(&service) {
            self.notice = Some(format!("a run of `{service}` is starting"));
            return;
        }
        self.starting.push(service.clone());
        self.notice = Some(format!("starting a run of `{service}`…"));
        let starter = self.starter(environment);
        let provider = self.setup.provider.clone();
        let messages = self.messages.clone();
        let shared = self.setup.shared.clone();
        tokio::spawn(async move {
            let file = request.file.clone();
            let now = provider.observe.now();
            let read_only = provider.read_only();
            let opened = tokio::task::spawn_blocking(move || {
                let prepared = start::prepare(&starter, request)?;
                let resumed = prepared.resumed.clone();
                let discarded = prepared.discarded.as_ref().map(|d| d.moved_to.clone());
                let warnings = prepared.warnings.iter().map(ToString::to_string).collect();
                Ok::<_, StartProblem>((prepared.spec, resumed, discarded, warnings))
            })
            .await;
            let opened = match opened {
                Ok(Ok((spec, resumed, discarded, warnings))) => {
                    Ok(open_run(spec, shared.as_ref(), now, read_only)
                        .await
                        .map(|o| (o, resumed, discarded, warnings)))
                }
                Ok(Err(problem)) => Ok(Err(problem)),
                Err(e) => Err(e),
            };
            let problem = match opened {
                Ok(Ok((opened, resumed, discarded, warnings))) => {
                    let handle = opened.spawn(provider);
                    let mut watch = handle.status;
                    let started = StartedRun {
                        inputs: handle.inputs,
                        status: watch.borrow_and_update().clone(),
                        resumed,
                        discarded,
                        warnings,
                    };
                    let result = Ok(started);
                    if messages
                        .send(RunMessage::Started { service, result })
                        .await
                        .is_err()
                    {
                        return;
                    }
                    // Only after the run is known to the UI loop, so that no
                    // status arrives for a run it has not heard of.
                    while watch.changed().await.is_ok() {
                        let status = watch.borrow_and_update().clone();
                        if messages.send(RunMessage::Status(status)).await.is_err() {
                            break;
                        }
                    }
                    return;
                }
                Ok(Err(problem)) => problem,
                Err(e) => StartProblem {
                    message: format!("starting the run of {}: {e}", file.display()),
                    blocked_by: None,
                },
            };
            let result = Err(problem);
            messages
                .send(RunMessage::Started { service, result })
                .await
                .ok();
        });
    }
}

/// Whether a row with these texts passes `filter` (case-insensitive).
fn passes<const N: usize>(filter: &str, texts: [&String; N]) -> bool {
    let needle = filter.to_lowercase();
    needle.is_empty() || texts.iter().any(|t| t.to_lowercase().contains(&needle))
}

/// Where a movement action takes the selection `at` among the `shown`
/// indexes, or `None` when it is not a movement or goes nowhere.
fn moved(at: usize, shown: &[usize], action: Action) -> Option<usize> {
    let last = shown.len().checked_sub(1)?;
    let here = shown.iter().position(|i| *i == at).unwrap_or(0);
    let to = match action {
        Action::Down => (here + 1).min(last),
        Action::Up => here.saturating_sub(1),
        Action::PageDown => (here + 10).min(last),
        Action::PageUp => here.saturating_sub(10),
        Action::First => 0,
        Action::Last => last,
        _ => return None,
    };
    Some(shown[to])
}

impl From<StartRefused> for StartProblem {
    fn from(refused: StartRefused) -> StartProblem {
        let blocked_by = match &refused {
            StartRefused::Unreadable { file, problems, .. } => Some((
                file.clone(),
                problems.iter().map(|p| p.path().to_path_buf()).collect(),
            )),
            _ => None,
        };
        let message = match &refused {
            // The CLI's remedy line is not this screen's: the key comes
            // first, and the file by name, so that it fits a small pane.
            StartRefused::Unreadable {
                service, problems, ..
            } => {
                let problem = problems.first().map_or_else(String::new, |p| {
                    let text = p.to_string();
                    match p.path().parent() {
                        Some(dir) => text.replacen(&format!("{}/", dir.display()), "", 1),
                        None => text,
                    }
                });
                format!(
                    "`{service}` is blocked by a journal that cannot be read (what its run did is unknown); D sets it aside with a reason. {problem}"
                )
            }
            other => other.to_string(),
        };
        StartProblem {
            message,
            blocked_by,
        }
    }
}

/// Opens a prepared run: through the shared store's lease when there is
/// one, else under the local lock only.
async fn open_run(
    spec: runner::RunSpec,
    shared: Option<&crate::coordination::connect::Connected>,
    now: chrono::DateTime<Utc>,
    read_only: bool,
) -> Result<runner::OpenedRun, StartProblem> {
    let problem = |message: String| StartProblem {
        message,
        blocked_by: None,
    };
    match shared {
        Some(shared) => crate::coordination::start::open_shared(
            spec,
            shared,
            crate::coordination::run::Claim::Lease,
            now,
            read_only,
        )
        .await
        .map(|s| s.opened)
        .map_err(|e| problem(format!("{e:#}"))),
        None => tokio::task::spawn_blocking(move || runner::open(spec, now, read_only))
            .await
            .map_err(|e| problem(e.to_string()))?
            .map_err(|e| problem(e.to_string())),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::Duration;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::config::environment_file::demo_environment;
    use crate::monitor::MonitorState;
    use crate::provider::sim::{self, SimWorld};
    use crate::runbook::engine::Engine;
    use crate::runbook::journal::{RunMeta, RunOutcome};
    use crate::runbook::library;
    use crate::tui::state::{App, Screen};

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn runbook(service: &str) -> Runbook {
        let (runbooks, _) =
            library::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks"));
        runbooks
            .into_iter()
            .find(|rb| rb.service == service)
            .unwrap()
    }

    /// A run of `service` as its task would first publish it.
    pub(crate) fn started(
        env: &Environment,
        service: &str,
        run_id: &str,
    ) -> (StartedRun, mpsc::Receiver<Input>) {
        let rb = runbook(service);
        let meta = RunMeta {
            run_id: run_id.into(),
            runbook: rb.name.clone(),
            file: rb.path.clone(),
            service: service.into(),
            operator: "ann".into(),
            session: "test".into(),
            host: "h".into(),
            incident: None,
        };
        let spec = env.service(service).unwrap().clone();
        let (engine, _) = Engine::start(rb, spec, false, meta, Variables::new(), Utc::now());
        let (inputs, received) = mpsc::channel(4);
        let status = RunStatus {
            run_id: run_id.into(),
            operator: "ann".into(),
            view: engine.view(),
            journal: PathBuf::from(format!("{service}-{run_id}.jsonl")),
            notice: None,
            now: Utc::now(),
            handled: 0,
        };
        let run = StartedRun {
            inputs,
            status,
            resumed: None,
            discarded: None,
            warnings: Vec::new(),
        };
        (run, received)
    }

    pub(crate) async fn app() -> App {
        app_for(false).await
    }

    async fn app_for(read_only: bool) -> App {
        app_in(read_only, Path::new("/nonexistent")).await.0
    }

    /// An app keeping its journals and locks under `dir`, and the receiver
    /// of what its runs' tasks and its file readers send it.
    async fn app_in(read_only: bool, dir: &Path) -> (App, mpsc::Receiver<RunMessage>) {
        let env = demo_environment();
        let world = Arc::new(SimWorld::new(&env, Utc::now()));
        let provider = sim::provider(world, read_only);
        let (feed, _) =
            crate::monitor::spawn_feed(provider.observe.clone(), Duration::from_secs(3600));
        let (messages, received) = mpsc::channel(8);
        let setup = RunbookSetup {
            runbooks: vec![runbook("orders"), runbook("billing")],
            problems: Vec::new(),
            provider,
            journal_dir: dir.join("journal"),
            lock_dir: dir.join("locks"),
            builtins: Variables::new(),
            operator: "ann".into(),
            identity_note: None,
            session: "test".into(),
            safety: SafetySettings::default(),
            shared: None,
        };
        let mut app = App::new(
            env,
            crate::tui::theme::load("dark", None).unwrap(),
            "demo",
            MonitorState::new(Duration::from_secs(5)),
            Utc::now(),
        );
        app.runbooks = Some(RunbooksState::new(setup, feed, messages));
        (app, received)
    }

    /// Hands the app what its tasks send until `done` holds.
    async fn pump_until(
        app: &mut App,
        received: &mut mpsc::Receiver<RunMessage>,
        done: impl Fn(&App) -> bool,
    ) {
        let pumped = tokio::time::timeout(Duration::from_secs(20), async {
            while !done(app) {
                let message = received.recv().await.expect("the app's channel is open");
                app.on_run_message(message);
            }
        })
        .await;
        assert!(pumped.is_ok(), "what was awaited never arrived");
    }

    pub(crate) fn start(app: &mut App, run: StartedRun) {
        let service = run.status.view.service.clone();
        app.on_run_message(RunMessage::Started {
            service,
            result: Ok(run),
        });
    }

    #[tokio::test]
    async fn two_services_run_at_once_and_each_status_and_input_reaches_its_own_run() {
        let mut app = app().await;
        let env = app.environment.clone();
        let (orders, mut orders_inputs) = started(&env, "orders", "r-orders");
        let (billing, mut billing_inputs) = started(&env, "billing", "r-billing");
        start(&mut app, orders);
        start(&mut app, billing);
        app.screen = Screen::Runbooks;
        let state = app.runbooks.as_ref().unwrap();
        assert_eq!(state.runs.len(), 2);
        assert_eq!(state.viewed().unwrap().status.run_id, "r-billing");
        assert!(app.has_active_run("orders") && app.has_active_run("billing"));

        // A status of the run not on screen updates that run only.
        let mut moved = app.runbooks.as_ref().unwrap().runs[0].status.clone();
        moved.notice = Some("orders moved".into());
        app.on_run_message(RunMessage::Status(moved));
        let state = app.runbooks.as_ref().unwrap();
        assert_eq!(state.viewed().unwrap().status.run_id, "r-billing");
        assert_eq!(state.runs[0].status.notice.as_deref(), Some("orders moved"));
        assert_eq!(state.runs[1].status.notice, None);

        // An abort typed on the Billing screen goes to Billing.
        app.on_key(key(KeyCode::Char('A')));
        for c in "drill".chars() {
            app.on_key(key(KeyCode::Char(c)));
        }
        app.on_key(key(KeyCode::Enter));
        assert_eq!(
            billing_inputs.try_recv().unwrap(),
            Input::Abort {
                reason: "drill".into()
            }
        );
        assert!(orders_inputs.try_recv().is_err());

        // The Runs screen opens the run selected there, whatever was viewed.
        app.on_key(key(KeyCode::Char('3')));
        assert_eq!(app.screen, Screen::Runs);
        app.on_key(key(KeyCode::Char('k')));
        assert_eq!(app.screen, Screen::Runs, "moving does not open anything");
        app.on_key(key(KeyCode::Enter));
        assert_eq!(app.screen, Screen::Runbooks);
        let state = app.runbooks.as_ref().unwrap();
        assert_eq!(state.viewed().unwrap().status.run_id, "r-orders");

        // Enter on a runbook of a service with a run opens that run.
        app.on_key(key(KeyCode::Esc));
        let state = app.runbooks.as_mut().unwrap();
        state.selected = 1;
        assert_eq!(state.selected_runbook().unwrap().service, "billing");
        app.on_key(key(KeyCode::Enter));
        let state = app.runbooks.as_ref().unwrap();
        assert_eq!(state.viewed().unwrap().status.run_id, "r-billing");
        assert!(
            state.starting.is_empty(),
            "no second run of billing is started"
        );
    }

    #[tokio::test]
    async fn an_incident_declared_on_the_dashboard_is_checked_in_its_dialog() {
        let mut app = app().await;
        let orders = app
            .visible
            .iter()
            .position(|&i| app.rows[i].posture.service_id == "orders")
            .unwrap();
        app.selected = orders;
        let typed = |app: &mut App, text: &str| {
            for c in text.chars() {
                app.on_key(key(KeyCode::Char(c)));
            }
        };
        app.on_key(key(KeyCode::Char('I')));
        typed(&mut app, "2999-01-01T00:00:00Z");
        app.on_key(key(KeyCode::Enter));
        app.on_key(key(KeyCode::Enter));
        let error = |app: &App| app.declaring.as_ref().and_then(|d| d.error.clone());
        assert_eq!(
            error(&app).as_deref(),
            Some("declaring an incident needs a reason")
        );
        typed(&mut app, "users see 500s");
        app.on_key(key(KeyCode::Enter));
        assert!(error(&app).unwrap().contains("is in the future"));
        app.on_key(key(KeyCode::Tab));
        for _ in 0.."2999-01-01T00:00:00Z".len() {
            app.on_key(key(KeyCode::Backspace));
        }
        typed(&mut app, "a while ago");
        app.on_key(key(KeyCode::Tab));
        app.on_key(key(KeyCode::Enter));
        assert!(error(&app).unwrap().contains("is not a time"));
        assert!(app.tracker.incident("orders").is_none(), "nothing changed");

        app.on_key(key(KeyCode::Tab));
        for _ in 0.."a while ago".len() {
            app.on_key(key(KeyCode::Backspace));
        }
        typed(&mut app, "-10m");
        app.on_key(key(KeyCode::Tab));
        app.on_key(key(KeyCode::Enter));
        assert!(app.declaring.is_none());
        let incident = app.tracker.incident("orders").expect("declared");
        assert_eq!(incident.start, app.now - chrono::Duration::minutes(10));
        let declared = incident.declared.as_ref().unwrap();
        assert_eq!(
            (declared.who.as_str(), declared.why.as_str()),
            ("ann", "users see 500s")
        );
        assert!(
            app.notice
                .as_deref()
                .unwrap()
                .contains("incident declared on orders")
        );

        app.read_only = true;
        app.on_key(key(KeyCode::Char('I')));
        assert!(app.declaring.is_none());
        assert!(app.notice.as_deref().unwrap().contains("read-only"));
    }

    #[tokio::test]
    async fn enter_in_a_read_only_session_says_it_cannot_start_runs() {
        let mut app = app_for(true).await;
        app.read_only = true;
        app.screen = Screen::Runbooks;
        app.on_key(key(KeyCode::Enter));
        let state = app.runbooks.as_ref().unwrap();
        let notice = state.notice.as_deref().unwrap();
        assert!(
            notice.contains("this session is read-only: it cannot start runs"),
            "{notice}"
        );
        assert!(state.starting.is_empty() && state.runs.is_empty());
    }

    fn footer_words(app: &App) -> Vec<&'static str> {
        app.keys
            .footer(&app.contexts(), |a| app.applies(a))
            .into_iter()
            .map(|(_, word)| word)
            .collect()
    }

    fn typed(app: &mut App, text: &str) {
        for c in text.chars() {
            app.on_key(key(KeyCode::Char(c)));
        }
    }

    #[tokio::test]
    async fn the_footer_offers_only_the_keys_that_apply_and_a_finished_run_looks_it() {
        let mut app = app().await;
        let env = app.environment.clone();
        let (orders, _inputs) = started(&env, "orders", "r-orders");
        start(&mut app, orders);
        app.screen = Screen::Runbooks;
        let words = footer_words(&app);
        assert!(
            words.contains(&"skip") && words.contains(&"abort"),
            "{words:?}"
        );
        let prompt = app.runbooks.as_ref().unwrap().prompt().cloned();
        assert_eq!(
            words.contains(&"confirm"),
            matches!(prompt, Some(Prompt::ConfirmAction { .. })),
            "{words:?}"
        );
        assert_eq!(
            words.contains(&"retry"),
            matches!(prompt, Some(Prompt::Failed { .. }))
        );

        let run = &mut app.runbooks.as_mut().unwrap().runs[0];
        run.status.view.outcome = Some(RunOutcome::Aborted {
            reason: "drill".into(),
            elapsed: Duration::from_secs(60),
        });
        let words = footer_words(&app);
        for gone in ["confirm", "tick", "retry", "skip", "abort"] {
            assert!(
                !words.contains(&gone),
                "{gone} offered on a finished run: {words:?}"
            );
        }
        assert!(words.contains(&"list"));

        // Notices are transient: the next key clears them.
        app.runbooks.as_mut().unwrap().notice = Some("press q again".into());
        app.on_key(key(KeyCode::Char('j')));
        assert_eq!(app.runbooks.as_ref().unwrap().notice, None);

        // `2` after a finished run opens the list, not the run again.
        app.on_key(key(KeyCode::Char('1')));
        app.on_key(key(KeyCode::Char('2')));
        assert_eq!(app.screen, Screen::Runbooks);
        assert!(!app.runbooks.as_ref().unwrap().viewing_run());
    }

    /// The first `q` with a run in progress warns on whatever screen it
    /// is pressed; only the second leaves.
    #[tokio::test]
    async fn leaving_during_a_run_is_warned_about_on_every_screen() {
        let mut app = app().await;
        let env = app.environment.clone();
        let (orders, _inputs) = started(&env, "orders", "r-orders");
        start(&mut app, orders);
        for screen in [Screen::Runs, Screen::Dashboard, Screen::Runbooks] {
            app.screen = screen;
            assert_eq!(app.on_key(key(KeyCode::Char('q'))), Update::Redraw);
            let text = screen_text(&app, 160, 30);
            assert!(text.contains("press q again"), "{screen:?}:\n{text}");
            app.on_key(key(KeyCode::Char('j')));
        }
    }

    #[tokio::test]
    async fn the_demo_offers_its_outage_key_and_read_only_sessions_no_acting_keys() {
        let mut app = app().await;
        let words = footer_words(&app);
        assert!(!words.contains(&"outage"), "no faults to cause: {words:?}");
        assert!(words.contains(&"incident"));
        let env = app.environment.clone();
        let world = Arc::new(SimWorld::new(&env, Utc::now()));
        app.set_fault_control(Some(world));
        assert!(footer_words(&app).contains(&"outage"));
        app.read_only = true;
        app.set_fault_control(None);
        let words = footer_words(&app);
        assert!(
            !words.contains(&"outage") && !words.contains(&"incident"),
            "{words:?}"
        );
    }

    #[tokio::test]
    async fn slash_filters_the_runbook_and_run_lists_and_esc_clears() {
        let mut app = app().await;
        app.on_key(key(KeyCode::Char('2')));
        app.on_key(key(KeyCode::Char('/')));
        typed(&mut app, "bill");
        app.on_key(key(KeyCode::Enter));
        let state = app.runbooks.as_ref().unwrap();
        assert_eq!(state.shown_runbooks().len(), 1);
        assert_eq!(state.selected_runbook().unwrap().service, "billing");
        app.on_key(key(KeyCode::Char('k')));
        let state = app.runbooks.as_ref().unwrap();
        assert_eq!(
            state.selected_runbook().unwrap().service,
            "billing",
            "orders is hidden"
        );
        app.on_key(key(KeyCode::Esc));
        assert_eq!(app.runbooks.as_ref().unwrap().shown_runbooks().len(), 2);

        let env = app.environment.clone();
        start(&mut app, started(&env, "orders", "r-orders").0);
        start(&mut app, started(&env, "billing", "r-billing").0);
        app.on_key(key(KeyCode::Char('3')));
        app.on_key(key(KeyCode::Char('/')));
        typed(&mut app, "ORD");
        app.on_key(key(KeyCode::Enter));
        app.on_key(key(KeyCode::Enter));
        let state = app.runbooks.as_ref().unwrap();
        assert_eq!(state.viewed().unwrap().status.run_id, "r-orders");
    }

    #[tokio::test]
    async fn the_palette_runs_commands_from_the_key_table_and_with_arguments() {
        let mut app = app().await;
        let palette = |app: &mut App, line: &str| {
            app.on_key(key(KeyCode::Char(':')));
            typed(app, line);
            app.on_key(key(KeyCode::Enter))
        };
        palette(&mut app, "runs");
        assert_eq!(app.screen, Screen::Runs);
        palette(&mut app, "service billing");
        assert_eq!(app.screen, Screen::Dashboard);
        assert!(app.detail_open);
        assert_eq!(app.selected_row().unwrap().posture.service_id, "billing");
        palette(&mut app, "theme light");
        assert_eq!(app.theme.name, "light");
        palette(&mut app, "incident start -10m users see 500s");
        let dialog = app
            .declaring
            .as_ref()
            .expect("the declare dialog reviews it");
        assert_eq!(
            (dialog.when.as_str(), dialog.why.as_str()),
            ("-10m", "users see 500s")
        );
        app.on_key(key(KeyCode::Enter));
        assert!(app.tracker.incident("billing").is_some());
        assert_eq!(palette(&mut app, "quit"), Update::Quit);
    }

    #[tokio::test]
    async fn enter_on_a_runbook_reviews_it_and_enter_again_starts_it() {
        let mut app = app().await;
        app.on_key(key(KeyCode::Char('2')));
        app.on_key(key(KeyCode::Enter));
        let state = app.runbooks.as_ref().unwrap();
        let Some(Dialog::Review(review)) = &state.dialog else {
            panic!("Enter opens the review, not the run");
        };
        assert_eq!(review.service, "orders");
        assert!(review.posture.is_some(), "the live posture is shown");
        assert!(review.first_action.is_some());
        assert!(state.starting.is_empty(), "nothing started yet");
        app.on_key(key(KeyCode::Esc));
        assert!(app.runbooks.as_ref().unwrap().dialog.is_none());
        assert!(app.runbooks.as_ref().unwrap().starting.is_empty());
        app.on_key(key(KeyCode::Enter));
        app.on_key(key(KeyCode::Enter));
        let state = app.runbooks.as_ref().unwrap();
        assert!(state.dialog.is_none());
        assert_eq!(state.starting, ["orders"]);
    }

    fn last_state(app: &App) -> Option<history::RunState> {
        let state = app.runbooks.as_ref().unwrap();
        state.last_runs.first()?.as_ref().map(|l| l.state)
    }

    fn screen_text(app: &App, width: u16, height: u16) -> String {
        crate::tui::render::testing::lines(&crate::tui::render::testing::draw_app(
            app, width, height,
        ))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn discarding_an_unfinished_run_from_the_list_journals_what_the_cli_does() {
        use crate::runbook::history::{self, RunState};

        let dir = tempfile::tempdir().unwrap();
        let journals = dir.path().join("journal");
        let rb = runbook("orders");
        let journal = history::tests::write_run(&journals, &rb, 1, 3, None);
        let name = journal.file_name().unwrap().to_string_lossy().into_owned();
        let written = std::fs::read(&journal).unwrap();
        let (mut app, mut received) = app_in(false, dir.path()).await;
        let of = rb.steps.len();
        pump_until(&mut app, &mut received, |app| {
            last_state(app) == Some(RunState::Unfinished { step: 4, of })
        })
        .await;
        app.on_key(key(KeyCode::Char('2')));
        assert!(screen_text(&app, 160, 30).contains(&format!("unfinished step 4/{of}")));
        assert!(app.applies(Action::Discard), "D is offered on the list");
        app.on_key(key(KeyCode::Char('D')));
        let state = app.runbooks.as_ref().unwrap();
        let Some(Dialog::Reason(dialog)) = &state.dialog else {
            panic!("D asks why");
        };
        assert!(dialog.detail.as_deref().unwrap().contains("step 4/"));
        typed(&mut app, "stale game-day run");
        app.on_key(key(KeyCode::Enter));
        pump_until(&mut app, &mut received, |app| {
            last_state(app) == Some(RunState::Discarded)
        })
        .await;
        assert!(!journal.exists(), "set aside");
        let note = |dir: &Path| -> crate::runbook::journal::Discard {
            let text = std::fs::read(dir.join(format!("{name}.discard.json"))).unwrap();
            serde_json::from_slice(&text).unwrap()
        };
        let console = note(&journals);
        assert_eq!(console.reason, "stale game-day run");
        assert!(console.moved_to.exists());
        let screen = screen_text(&app, 160, 30);
        assert!(screen.contains("discarded just now"), "{screen}");
        assert!(screen.contains("why: stale game-day run"), "{screen}");
        assert!(!app.applies(Action::Discard), "nothing left to discard");

        // The CLI's `runbook run FILE --discard-journal J --reason R` on the
        // same journal writes the same record.
        let cli = tempfile::tempdir().unwrap();
        let cli_journals = cli.path().join("journal");
        std::fs::create_dir_all(&cli_journals).unwrap();
        std::fs::write(cli_journals.join(&name), written).unwrap();
        let state = app.runbooks.as_ref().unwrap();
        let starter = Starter {
            journal_dir: cli_journals.clone(),
            lock_dir: cli.path().join("locks"),
            builtins: [("demo_app_url".to_string(), "http://127.0.0.1:9".to_string())].into(),
            ..state.starter(&app.environment)
        };
        let request = StartRequest {
            file: rb.path.clone(),
            supplied: Variables::new(),
            resume: ResumePolicy::New,
            discard: Some(Discard {
                journal: cli_journals.join(&name),
                reason: "stale game-day run".into(),
            }),
            incident: None,
        };
        let prepared = start::prepare(&starter, request).unwrap_or_else(|e| panic!("{e}"));
        let from_cli = note(&cli_journals);
        assert_eq!(prepared.discarded.as_ref(), Some(&from_cli));
        let same = |d: &crate::runbook::journal::Discard| {
            (
                d.operator.clone(),
                d.session.clone(),
                d.host.clone(),
                d.reason.clone(),
                d.problem.clone(),
                d.journal.file_name().map(ToOwned::to_owned),
                d.moved_to.file_name().map(ToOwned::to_owned),
            )
        };
        assert_eq!(same(&console), same(&from_cli));
    }

    #[tokio::test]
    async fn the_list_shows_each_runbooks_last_run_in_the_columns_that_fit() {
        use crate::runbook::history::RunState;

        let mut app = app().await;
        let now = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 26, 12, 0, 0).unwrap();
        app.now = now;
        app.screen = Screen::Runbooks;
        let state = app.runbooks.as_mut().unwrap();
        let last = |state, minutes| LastRun {
            journal: PathBuf::from("orders-20261126T114800Z-1-ab.jsonl"),
            state,
            at: now - chrono::Duration::minutes(minutes),
            reason: None,
        };
        state.last_runs = vec![
            Some(last(RunState::Unfinished { step: 4, of: 12 }, 12)),
            Some(last(RunState::Completed, 3 * 24 * 60)),
        ];
        insta::assert_snapshot!("runbook_list_wide", screen_text(&app, 160, 24));
        insta::assert_snapshot!("runbook_list_80x24", screen_text(&app, 80, 24));
        // A session with no run of its own says where each was left.
        app.screen = Screen::Runs;
        let runs = screen_text(&app, 120, 24);
        assert!(runs.contains("No runs in this session yet."), "{runs}");
        assert!(
            runs.contains("(orders): unfinished step 4/12 · 12m00s ago"),
            "{runs}"
        );
        assert!(runs.contains("(billing): completed 3d00h ago"), "{runs}");
    }

    /// Every character the key table binds outside text fields: typed into
    /// a dialog, each must land in its text and none act.
    const BOUND: &str = "q?:/1234tfjkgGODIAsrc ";

    /// Types [`BOUND`] into whatever is open, checking that nothing quits,
    /// changes screen or opens an overlay on the way.
    fn type_bound_keys(app: &mut App) {
        let screen = app.screen;
        for c in BOUND.chars() {
            let update = app.on_key(key(KeyCode::Char(c)));
            assert_ne!(update, Update::Quit, "`{c}` quit from a dialog");
            assert_eq!(app.screen, screen, "`{c}` changed the screen");
            assert!(
                !app.help_open && !app.palette.open,
                "`{c}` opened an overlay"
            );
        }
    }

    #[tokio::test]
    async fn keys_bound_in_the_table_type_into_the_confirmation() {
        let mut app = app().await;
        let env = app.environment.clone();
        start(&mut app, started(&env, "orders", "r-orders").0);
        app.screen = Screen::Runbooks;
        let prompt = Prompt::ConfirmAction {
            step: "failover-database".into(),
            seq: 1,
            title: "Fail over".into(),
            call: Box::new(crate::domain::action::ApiCall {
                service: "rds".into(),
                region: "us-west-2".into(),
                operation: "FailoverGlobalCluster".into(),
                params: serde_json::json!({ "GlobalClusterIdentifier": "orders-global" }),
            }),
            target: "orders-global".into(),
            typed: true,
            note: None,
            assessment: Box::new(crate::runbook::facts::Assessment {
                observed_at: app.now,
                facts: vec![],
                violations: vec![],
            }),
            overridden: None,
        };
        let dialog = ConfirmDialog::for_prompt(&prompt, app.now).unwrap();
        app.runbooks.as_mut().unwrap().dialog = Some(Dialog::Confirm(Box::new(dialog)));
        type_bound_keys(&mut app);
        let Some(Dialog::Confirm(dialog)) = &app.runbooks.as_ref().unwrap().dialog else {
            panic!("the confirmation closed");
        };
        assert_eq!(dialog.input, BOUND);
    }

    #[tokio::test]
    async fn keys_bound_in_the_table_type_into_the_reason() {
        let mut app = app().await;
        let env = app.environment.clone();
        start(&mut app, started(&env, "orders", "r-orders").0);
        app.screen = Screen::Runbooks;
        app.on_key(key(KeyCode::Char('s')));
        type_bound_keys(&mut app);
        let Some(Dialog::Reason(dialog)) = &app.runbooks.as_ref().unwrap().dialog else {
            panic!("the reason dialog closed");
        };
        assert_eq!(
            (dialog.purpose, dialog.input.as_str()),
            (ReasonFor::Skip, BOUND)
        );
        // Under a dialog the footer offers no key the dialog would type.
        let footer = screen_text(&app, 160, 30);
        let footer = footer.lines().last().unwrap();
        assert!(
            footer.contains("Esc") && footer.contains("Ctrl-C"),
            "{footer}"
        );
        for word in ["skip", "abort", "q quit", "? help"] {
            assert!(
                !footer.contains(word),
                "{word} offered under a dialog: {footer}"
            );
        }
    }

    #[tokio::test]
    async fn keys_bound_in_the_table_type_into_the_declaration() {
        let mut app = app().await;
        app.on_key(key(KeyCode::Char('I')));
        type_bound_keys(&mut app);
        app.on_key(key(KeyCode::Tab));
        type_bound_keys(&mut app);
        let dialog = app
            .declaring
            .as_ref()
            .expect("the declare dialog stays open");
        assert_eq!((dialog.when.as_str(), dialog.why.as_str()), (BOUND, BOUND));
    }

    #[tokio::test]
    async fn keys_bound_in_the_table_type_into_the_review() {
        let mut app = app().await;
        app.on_key(key(KeyCode::Char('2')));
        app.runbooks.as_mut().unwrap().selected = 1;
        app.on_key(key(KeyCode::Enter));
        let before = match &app.runbooks.as_ref().unwrap().dialog {
            Some(Dialog::Review(review)) => review.parameters[review.field].value.clone(),
            _ => panic!("Enter opens the review"),
        };
        type_bound_keys(&mut app);
        let state = app.runbooks.as_ref().unwrap();
        let Some(Dialog::Review(review)) = &state.dialog else {
            panic!("the review closed");
        };
        assert_eq!(
            review.parameters[review.field].value,
            format!("{before}{BOUND}")
        );
        assert!(state.starting.is_empty(), "nothing started");
    }

    #[tokio::test]
    async fn keys_bound_in_the_table_type_into_the_filter_and_the_palette() {
        let mut app = app().await;
        app.on_key(key(KeyCode::Char('/')));
        type_bound_keys(&mut app);
        assert_eq!(app.filter, BOUND);
        app.on_key(key(KeyCode::Enter));
        app.on_key(key(KeyCode::Char(':')));
        let screen = app.screen;
        for c in BOUND.chars() {
            assert_ne!(app.on_key(key(KeyCode::Char(c))), Update::Quit);
            assert_eq!(app.screen, screen);
        }
        assert_eq!(app.palette.input, BOUND);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hostile_journal_name_reaches_the_list_and_the_dialog_only_as_printable_text() {
        use crate::runbook::history::RunState;

        let dir = tempfile::tempdir().unwrap();
        let journals = dir.path().join("journal");
        std::fs::create_dir_all(&journals).unwrap();
        // A right-to-left override would show the name reversed.
        std::fs::write(journals.join("billing-\u{202e}lnosj.jsonl"), "garbage\n").unwrap();
        let (mut app, mut received) = app_in(false, dir.path()).await;
        let billing = |app: &App| {
            let state = app.runbooks.as_ref().unwrap();
            state.last_runs.get(1)?.as_ref().map(|l| l.state)
        };
        pump_until(&mut app, &mut received, |app| {
            billing(app) == Some(RunState::Unreadable)
        })
        .await;
        app.on_key(key(KeyCode::Char('2')));
        app.runbooks.as_mut().unwrap().selected = 1;
        let screen = screen_text(&app, 160, 30);
        assert!(screen.contains("unreadable journal"), "{screen}");
        assert!(!screen.contains('\u{202e}'), "{screen}");
        app.on_key(key(KeyCode::Char('D')));
        let Some(Dialog::Reason(dialog)) = &app.runbooks.as_ref().unwrap().dialog else {
            panic!("D asks why");
        };
        let detail = dialog.detail.as_deref().unwrap();
        assert!(
            detail.contains("cannot be read") && !detail.contains('\u{202e}'),
            "{detail}"
        );
    }

    #[tokio::test]
    async fn d_after_a_refused_start_discards_for_that_runbook_only() {
        let mut app = app().await;
        app.on_key(key(KeyCode::Char('2')));
        let state = app.runbooks.as_mut().unwrap();
        let billing = state.setup.runbooks[1].path.clone();
        state.blocked = Some(Blocked {
            runbook: billing,
            journal: PathBuf::from("/nonexistent/journal/billing-x.jsonl"),
        });
        assert_eq!(state.selected_runbook().unwrap().service, "orders");
        assert!(!app.applies(Action::Discard), "orders is not blocked");
        app.on_key(key(KeyCode::Char('D')));
        assert!(app.runbooks.as_ref().unwrap().dialog.is_none());
        app.on_key(key(KeyCode::Char('j')));
        assert!(app.applies(Action::Discard));
        app.on_key(key(KeyCode::Char('D')));
        let Some(Dialog::Reason(dialog)) = &app.runbooks.as_ref().unwrap().dialog else {
            panic!("D asks why");
        };
        assert_eq!(dialog.purpose, ReasonFor::Discard);
    }
}
