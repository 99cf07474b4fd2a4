//! The Runbooks screen's state: the runbook list, the run in progress and
//! the dialogs that answer it. A run lives in its own task (see
//! [`crate::runbook::runner`]); this side only sends the operator's inputs
//! and keeps the newest status it published.

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent};
use tokio::sync::mpsc;

use super::popups::confirm::{ConfirmDialog, DialogOutcome};
use super::popups::reason::{ReasonDialog, ReasonFor, ReasonOutcome};
use super::state::Update;
use crate::domain::environment::Environment;
use crate::provider::{Provider, ProviderKind};
use crate::runbook::engine::Prompt;
use crate::runbook::format::Runbook;
use crate::runbook::plan::run_values;
use crate::runbook::runner::{self, Input, RunSpec, RunStatus};
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
}

pub struct ActiveRun {
    pub inputs: mpsc::Sender<Input>,
    pub status: RunStatus,
}

pub enum Dialog {
    Confirm(Box<ConfirmDialog>),
    Reason(ReasonDialog),
}

pub struct RunbooksState {
    pub setup: RunbookSetup,
    pub selected: usize,
    pub active: Option<ActiveRun>,
    /// Showing the active run rather than the list.
    pub viewing_run: bool,
    pub dialog: Option<Dialog>,
    /// The last thing the operator should know (a refusal, a lock holder).
    pub notice: Option<String>,
    /// Statuses of the active run, forwarded from its watch channel.
    status_tx: mpsc::Sender<RunStatus>,
}

impl RunbooksState {
    pub fn new(setup: RunbookSetup, status_tx: mpsc::Sender<RunStatus>) -> Self {
        Self {
            selected: 0,
            active: None,
            viewing_run: false,
            dialog: None,
            notice: setup.identity_note.clone(),
            status_tx,
            setup,
        }
    }

    pub fn selected_runbook(&self) -> Option<&Runbook> {
        self.setup.runbooks.get(self.selected)
    }

    /// A run that has not finished: quitting would leave it to resume later.
    pub fn run_in_progress(&self) -> bool {
        self.active
            .as_ref()
            .is_some_and(|r| r.status.view.outcome.is_none())
    }

    pub fn on_status(&mut self, status: RunStatus) -> Update {
        if let Some(active) = &mut self.active {
            active.status = status;
            let status = &active.status;
            if let Some(Dialog::Confirm(dialog)) = &mut self.dialog {
                // Fresh facts and a recorded override show in the open
                // dialog; once the step moved on (or was answered
                // elsewhere) a stale confirmation must not stay on screen.
                let current = status
                    .view
                    .prompt
                    .as_ref()
                    .is_some_and(|p| dialog.refresh(p, status.now));
                if !current {
                    self.dialog = None;
                }
            }
        }
        Update::Redraw
    }

    fn prompt(&self) -> Option<&Prompt> {
        self.active.as_ref()?.status.view.prompt.as_ref()
    }

    pub fn on_key(&mut self, key: KeyEvent, environment: &Environment) -> Update {
        if let Some(dialog) = &mut self.dialog {
            let input = match dialog {
                Dialog::Confirm(d) => match d.on_key(key) {
                    DialogOutcome::Open => return Update::Redraw,
                    DialogOutcome::Cancelled => None,
                    DialogOutcome::Confirmed { typed } => Some(Input::Confirm { typed }),
                    DialogOutcome::Override { reason } => {
                        // The dialog stays open: the next status shows the
                        // override recorded and the call can be confirmed.
                        self.send(Input::Override { reason });
                        return Update::Redraw;
                    }
                },
                Dialog::Reason(d) => match d.on_key(key) {
                    ReasonOutcome::Open => return Update::Redraw,
                    ReasonOutcome::Cancelled => None,
                    ReasonOutcome::Given(reason) => Some(match d.purpose {
                        ReasonFor::Skip => Input::Skip { reason },
                        ReasonFor::Abort => Input::Abort { reason },
                    }),
                },
            };
            self.dialog = None;
            if let Some(input) = input {
                self.send(input);
            }
            return Update::Redraw;
        }
        if self.viewing_run {
            self.on_run_key(key)
        } else {
            self.on_list_key(key, environment)
        }
    }

    fn on_list_key(&mut self, key: KeyEvent, environment: &Environment) -> Update {
        let count = self.setup.runbooks.len();
        match key.code {
            KeyCode::Down | KeyCode::Char('j') if count > 0 => {
                self.selected = (self.selected + 1).min(count - 1);
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = count.saturating_sub(1),
            KeyCode::Enter => {
                if self.active.is_some() {
                    self.viewing_run = true;
                } else {
                    self.start(environment);
                }
            }
            _ => return Update::Nothing,
        }
        Update::Redraw
    }

    fn on_run_key(&mut self, key: KeyEvent) -> Update {
        let finished = !self.run_in_progress();
        match (key.code, self.prompt()) {
            (KeyCode::Esc, _) => {
                self.viewing_run = false;
                if finished {
                    self.active = None;
                }
            }
            (KeyCode::Char('c'), Some(prompt @ Prompt::ConfirmAction { .. })) => {
                let now = self.active.as_ref().map(|a| a.status.now);
                self.dialog = now
                    .and_then(|now| ConfirmDialog::for_prompt(prompt, now))
                    .map(|d| Dialog::Confirm(Box::new(d)));
            }
            (KeyCode::Char(' '), Some(Prompt::Tick { .. })) => self.send(Input::Tick),
            (KeyCode::Char('r'), Some(Prompt::Failed { .. })) => self.send(Input::Retry),
            // Any step can be passed over with a reason, a wait included;
            // the engine refuses only while a call is in flight.
            (KeyCode::Char('s'), _) if !finished => {
                self.dialog = Some(Dialog::Reason(ReasonDialog::new(ReasonFor::Skip)));
            }
            (KeyCode::Char('A'), _) if !finished => {
                self.dialog = Some(Dialog::Reason(ReasonDialog::new(ReasonFor::Abort)));
            }
            _ => return Update::Nothing,
        }
        Update::Redraw
    }

    fn send(&mut self, input: Input) {
        if let Some(active) = &self.active
            && active.inputs.try_send(input).is_err()
        {
            self.notice = Some("the run is not taking input (it has ended)".into());
        }
    }

    /// Starts the selected runbook, or resumes its service's unfinished run
    /// from the journal (never two runs of one service at once).
    fn start(&mut self, environment: &Environment) {
        let Some(runbook) = self.selected_runbook().cloned() else {
            return;
        };
        let Some(service) = environment.service(&runbook.service).cloned() else {
            self.notice = Some(format!(
                "runbook `{}` is for service `{}`, which this environment does not have",
                runbook.name, runbook.service
            ));
            return;
        };
        let resume = runner::resumable(&self.setup.journal_dir, &runbook.service)
            .into_iter()
            .next();
        let vars = match run_values(
            &runbook,
            &Variables::new(),
            &self.setup.builtins,
            &self.setup.operator,
        ) {
            Ok(v) => v,
            Err(e) => {
                self.notice = Some(e.to_string());
                return;
            }
        };
        let spec = RunSpec {
            runbook,
            service,
            vars,
            operator: self.setup.operator.clone(),
            session: self.setup.session.clone(),
            journal_dir: self.setup.journal_dir.clone(),
            lock_dir: self.setup.lock_dir.clone(),
            resume: resume.clone(),
        };
        match runner::start(spec, self.setup.provider.clone()) {
            Ok(handle) => {
                let mut watch = handle.status;
                let first = watch.borrow_and_update().clone();
                let tx = self.status_tx.clone();
                tokio::spawn(async move {
                    while watch.changed().await.is_ok() {
                        let status = watch.borrow_and_update().clone();
                        if tx.send(status).await.is_err() {
                            break;
                        }
                    }
                });
                let demo = self.setup.provider.kind == ProviderKind::Demo;
                self.notice = resume.map(|p| {
                    let mut notice = format!("resumed the unfinished run in {}", p.display());
                    if demo {
                        // The journal outlives the simulated world, which
                        // restarts healthy with every console.
                        notice.push_str(
                            " — the simulated world restarted with this console, so it no longer shows what that run did",
                        );
                    }
                    notice
                });
                self.active = Some(ActiveRun {
                    inputs: handle.inputs,
                    status: first,
                });
                self.viewing_run = true;
            }
            Err(e) => self.notice = Some(e.to_string()),
        }
    }
}
