//! The runbook state machine: pure, no I/O, no clock of its own.
//!
//! The runner feeds it [`Event`]s (what the operator did, what the provider
//! answered, that time passed) with the current time, and carries out the
//! [`Command`]s it returns, in order: journal records first, so an action's
//! intent is on disk before the call is made.
//!
//! Values http steps capture (tokens) live only in the engine's memory: the
//! journal records that a value was captured, never the value, and text it
//! journals has captured values replaced by their `${name}`. A resumed run
//! therefore lacks them, and a step that needs one fails saying which step
//! captured it. An action whose resolved targets are not the service's is
//! refused before it is sent, whatever its parameters said.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::condition::{Condition, Observed};
use super::facts::{self, Assessment};
use super::format::{Confirm, HttpSpec, Runbook, StepKind, WaitSpec};
use super::http::{self, HttpResponse};
use super::journal::{Entry, Record, RecoveredRun, RunMeta, RunOutcome, StepState};
use super::ownership;
use super::safety::{self, SafetySettings};
use super::vars::{self, ResolveError, Variables};
use crate::domain::action::{Action, ApiCall, ChangeStatus, Receipt};
use crate::domain::environment::ServiceSpec;
use crate::domain::incident::IncidentStart;
use crate::domain::snapshot::{ErrorKind, Snapshot, SourceError};
use crate::format::{objective, short_duration};

/// Captured values at least this long are taken for secrets and kept out
/// of journaled text.
pub const SECRET_CHARS: usize = 8;

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The operator confirmed the awaited action (with the typed target for
    /// `confirm: typed`) at prompt `to`.
    Confirm {
        to: PromptId,
        typed: Option<String>,
    },
    /// The operator ticked a manual step at prompt `to`.
    Tick {
        to: PromptId,
    },
    /// The operator refused the awaited action at prompt `to`.
    Decline {
        to: PromptId,
    },
    /// The operator skipped `step`, the one on their screen.
    Skip {
        step: String,
        reason: String,
    },
    /// The operator goes ahead despite the safety rules the awaited action
    /// breaks; the confirmation itself still follows.
    Override {
        to: PromptId,
        reason: String,
    },
    Retry {
        to: PromptId,
    },
    Abort {
        reason: String,
    },
    /// A second operator approved the `confirm: two-person` action of
    /// `step` (read from the shared store).
    Approved {
        step: String,
        approver: String,
        reason: String,
    },
    /// The fresh observation taken for an action step about to be
    /// confirmed, and when earlier runs moved the writer of its global
    /// database (from the journals).
    Assessed {
        step: String,
        snapshot: Snapshot,
        observed_at: DateTime<Utc>,
        writer_moves: Vec<DateTime<Utc>>,
    },
    Observed {
        step: String,
        snapshot: Snapshot,
        /// Status of the change the latest action made, when one was asked for.
        change: Option<ChangeStatus>,
    },
    ActionAccepted {
        step: String,
        receipt: Receipt,
    },
    ActionFailed {
        step: String,
        error: SourceError,
    },
    Verified {
        step: String,
        applied: bool,
    },
    VerifyFailed {
        step: String,
        error: SourceError,
    },
    HttpDone {
        step: String,
        result: Result<HttpResponse, String>,
    },
    /// Time passed with nothing else happening: wait timeouts may expire.
    TimePassed,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Append to the journal (and fsync) before carrying out what follows.
    Journal(Record),
    Execute {
        step: String,
        action: Action,
    },
    /// Ask whether the action's effect is already in place.
    Verify {
        step: String,
        action: Action,
    },
    /// Take a snapshot after `after` and send [`Event::Observed`]; ask for
    /// the change's status too when `change_id` is set.
    Observe {
        step: String,
        after: Duration,
        change_id: Option<String>,
    },
    Http {
        step: String,
        spec: HttpSpec,
    },
    /// Take a fresh snapshot for the action step about to be confirmed and
    /// send [`Event::Assessed`], with the journaled writer moves of
    /// `global_cluster` when the action moves one.
    Assess {
        step: String,
        global_cluster: Option<String>,
    },
    Finished(RunOutcome),
}

/// Why an operator's input was not accepted; the run is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the run has ended")]
    Ended,
    #[error("cannot {what} now: step `{step}` is {state}")]
    NotNow {
        what: &'static str,
        step: String,
        state: &'static str,
    },
    #[error("type `{expected}` exactly to confirm")]
    TypedMismatch { expected: String },
    #[error("a reason is required")]
    ReasonRequired,
    #[error("not applied: the prompt of step `{step}` it answered is no longer open")]
    StalePrompt { step: String },
    #[error("not applied: step `{step}` is no longer the current step")]
    NotCurrent { step: String },
    #[error("blocked by safety rules ({rules}): override with a reason first")]
    Blocked { rules: String },
    #[error("no safety rule blocks this action: there is nothing to override")]
    NothingToOverride,
    #[error(
        "step `{step}` needs a second operator's approval, which only a shared store can carry: configure [shared] or --shared s3://BUCKET/PREFIX"
    )]
    NeedsSharedStore { step: String },
    #[error("step `{step}` already waits for a second operator's approval")]
    AwaitingApproval { step: String },
    #[error("{approver} requested step `{step}`: the approval must come from another identity")]
    OwnApproval { step: String, approver: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error("that run already ended")]
    Finished,
    #[error("the journal is of runbook `{journal}`, not `{runbook}`")]
    OtherRunbook { journal: String, runbook: String },
    #[error("the journal has step `{0}`, which this runbook does not")]
    UnknownStep(String),
    #[error("the journal has an action for step `{0}`, which is no longer an action step")]
    NotAnAction(String),
}

/// Names one prompt of one run: an answer carries the id of the prompt it
/// was given at, and only that prompt takes it, so an answer that arrives
/// after the run has moved on can never act on whatever is asked next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptId {
    pub step: String,
    /// The run's count of state changes when the prompt opened: the same
    /// step asked again (after a retry, say) is another prompt.
    pub seq: u64,
}

/// What the operator is asked, if anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "prompt", rename_all = "kebab-case")]
pub enum Prompt {
    Tick {
        step: String,
        seq: u64,
        title: String,
        instructions: String,
    },
    ConfirmAction {
        step: String,
        seq: u64,
        title: String,
        call: Box<ApiCall>,
        /// The identifier to type when `typed` is set.
        target: String,
        typed: bool,
        /// Why the confirmation is asked again, when it is.
        note: Option<String>,
        /// The live facts and the safety rules the call breaks.
        assessment: Box<Assessment>,
        /// The operator's reason for overriding the broken rules, once given.
        overridden: Option<String>,
    },
    /// Retry, skip with a reason, or abort.
    Failed {
        step: String,
        seq: u64,
        title: String,
        error: String,
    },
}

impl Prompt {
    /// What an answer to this prompt must carry.
    pub fn id(&self) -> PromptId {
        let (Prompt::Tick { step, seq, .. }
        | Prompt::ConfirmAction { step, seq, .. }
        | Prompt::Failed { step, seq, .. }) = self;
        PromptId {
            step: step.clone(),
            seq: *seq,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRun {
    pub state: StepState,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// What the latest evaluation, call or request saw.
    pub observed: Option<String>,
    pub attempts: u32,
}

impl StepRun {
    fn new() -> Self {
        Self {
            state: StepState::Pending,
            started_at: None,
            finished_at: None,
            observed: None,
            attempts: 0,
        }
    }
}

/// One step as a screen shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepView {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub kind: &'static str,
    #[serde(with = "humantime_serde")]
    pub budget: Option<Duration>,
    /// A wait step's timeout, to show elapsed against it.
    #[serde(with = "humantime_serde")]
    pub timeout: Option<Duration>,
    #[serde(flatten)]
    pub run: StepRun,
}

impl StepView {
    /// Time spent on the step so far (or in all, once it has settled).
    pub fn elapsed(&self, now: DateTime<Utc>) -> Option<Duration> {
        let start = self.run.started_at?;
        let end = self.run.finished_at.unwrap_or(now);
        Some((end - start).to_std().unwrap_or_default())
    }

    pub fn over_budget(&self, now: DateTime<Utc>) -> bool {
        matches!((self.budget, self.elapsed(now)), (Some(b), Some(e)) if e > b)
    }
}

/// Everything a screen or a headless printer needs to show a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunView {
    pub runbook: String,
    pub service: String,
    pub started_at: DateTime<Utc>,
    /// The outage the run answers, when it was started during one.
    pub incident: Option<IncidentStart>,
    #[serde(with = "humantime_serde")]
    pub rto_objective: Duration,
    pub steps: Vec<StepView>,
    pub current: Option<usize>,
    pub prompt: Option<Prompt>,
    /// What the current step waits for when it is not asking the operator.
    pub waiting_for: Option<String>,
    pub outcome: Option<RunOutcome>,
    pub read_only: bool,
}

impl RunView {
    /// A run as its journal tells it, for following another session's run:
    /// nothing is asked and nothing is executed.
    pub fn from_journal(runbook: &Runbook, run: &RecoveredRun) -> RunView {
        let steps: Vec<StepView> = runbook
            .steps
            .iter()
            .map(|s| {
                let times = run.times.get(&s.id).copied().unwrap_or_default();
                StepView {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    description: s.description.clone(),
                    kind: s.kind.label(),
                    budget: s.expect_within,
                    timeout: match &s.kind {
                        StepKind::Wait(w) => Some(w.timeout),
                        _ => None,
                    },
                    run: StepRun {
                        state: run.steps.get(&s.id).cloned().unwrap_or(StepState::Pending),
                        started_at: times.started_at,
                        finished_at: times.finished_at,
                        observed: None,
                        attempts: 0,
                    },
                }
            })
            .collect();
        let current = match run.finished {
            Some(_) => None,
            None => steps.iter().position(|s| !s.run.state.is_settled()),
        };
        RunView {
            runbook: runbook.name.clone(),
            service: runbook.service.clone(),
            started_at: run.started_at,
            incident: run.meta.incident.clone(),
            rto_objective: runbook.objectives.rto,
            steps,
            current,
            prompt: None,
            waiting_for: None,
            outcome: run.finished.clone(),
            read_only: true,
        }
    }

    /// The run's RTO clock: from the outage's start when the run answers
    /// one, else from the run's own start.
    pub fn rto_elapsed(&self, now: DateTime<Utc>) -> Duration {
        self.runbook_elapsed(now) + self.outage_lead().unwrap_or_default()
    }

    /// How long the runbook itself has taken.
    pub fn runbook_elapsed(&self, now: DateTime<Utc>) -> Duration {
        match &self.outcome {
            Some(RunOutcome::Completed { elapsed } | RunOutcome::Aborted { elapsed, .. }) => {
                *elapsed
            }
            None => (now - self.started_at).to_std().unwrap_or_default(),
        }
    }

    /// When the run ended, on its own clock; `None` while it goes on. Its
    /// steps' times stop there: an aborted run's last step is not still
    /// being worked on.
    pub fn ended_at(&self) -> Option<DateTime<Utc>> {
        let elapsed = match &self.outcome {
            Some(RunOutcome::Completed { elapsed } | RunOutcome::Aborted { elapsed, .. }) => {
                elapsed
            }
            None => return None,
        };
        self.started_at
            .checked_add_signed(chrono::Duration::from_std(*elapsed).ok()?)
    }

    /// How long the outage had lasted when the run started.
    pub fn outage_lead(&self) -> Option<Duration> {
        let incident = self.incident.as_ref()?;
        Some(outage_lead(incident, self.started_at))
    }

    /// The completed run of an outage, as the operator is told it: `orders
    /// restored 4m31s after the outage began (RTO 15m) · runbook took
    /// 2m08s`. None for a run that answered no incident or has not
    /// completed.
    pub fn restored_line(&self) -> Option<String> {
        let Some(RunOutcome::Completed { elapsed }) = &self.outcome else {
            return None;
        };
        let lead = self.outage_lead()?;
        Some(format!(
            "{} restored {} after the outage began (RTO {}) · runbook took {}",
            self.service,
            short_duration(*elapsed + lead),
            objective(self.rto_objective),
            short_duration(*elapsed)
        ))
    }
}

/// Time from the outage's start to the run's, never negative.
fn outage_lead(incident: &IncidentStart, run_start: DateTime<Utc>) -> Duration {
    (run_start - incident.start).to_std().unwrap_or_default()
}

/// The resolved content of the step being worked on.
#[derive(Debug, Clone, PartialEq)]
enum Active {
    Manual {
        instructions: String,
    },
    Conditions {
        conditions: Vec<Condition>,
        /// Set for waits: failing after this instant.
        deadline: Option<DateTime<Utc>>,
        poll: Duration,
    },
    Action {
        action: Action,
        confirm: Confirm,
        /// The call may have taken effect: look before calling again.
        verify_first: bool,
        note: Option<String>,
        /// Set once the fresh observation is in; until then nothing is asked.
        assessment: Option<Assessment>,
        overridden: Option<String>,
    },
    Http(HttpSpec),
}

pub struct Engine {
    runbook: Runbook,
    service: ServiceSpec,
    read_only: bool,
    /// Who answers this session's prompts, for the journal.
    operator: String,
    safety: SafetySettings,
    steps: Vec<StepRun>,
    current: usize,
    active: Option<Active>,
    vars: Variables,
    /// Names of the variables this process captured (their values are in `vars`).
    captured: Vec<String>,
    /// Variables captured before a resume, by the step that captured each:
    /// their values were never journaled.
    lost: std::collections::BTreeMap<String, String>,
    started_at: DateTime<Utc>,
    /// The outage this run answers, from the journal's start record.
    incident: Option<IncidentStart>,
    /// The Route 53 change the latest action made, to wait on.
    change_id: Option<String>,
    outcome: Option<RunOutcome>,
    /// State changes so far; numbers the prompts (see [`PromptId`]).
    changes: u64,
    /// Approvals travel through the shared store: without one, a
    /// two-person step cannot be confirmed.
    shared: bool,
    /// The two-person step whose approval was requested, until it settles.
    approval_requested: Option<String>,
    /// Names the run to the second operator who approves.
    run_id: String,
}

impl Engine {
    /// Starts a run: journals its start and begins the first step.
    pub fn start(
        runbook: Runbook,
        service: ServiceSpec,
        read_only: bool,
        meta: RunMeta,
        vars: Variables,
        now: DateTime<Utc>,
    ) -> (Engine, Vec<Command>) {
        let mut engine = Engine::new(runbook, service, read_only, vars, now);
        engine.operator = meta.operator.clone();
        engine.incident = meta.incident.clone();
        engine.run_id = meta.run_id.clone();
        let mut cmds = Vec::new();
        engine.journal(
            now,
            Entry::RunStarted {
                meta,
                params: engine.vars.clone(),
            },
            &mut cmds,
        );
        engine.begin(0, now, &mut cmds);
        (engine, cmds)
    }

    /// Continues a run from its journal. The RTO clock keeps the original
    /// start; a step whose action intent has no outcome is verified against
    /// the real state instead of being executed again.
    pub fn resume(
        runbook: Runbook,
        service: ServiceSpec,
        read_only: bool,
        run: &RecoveredRun,
        operator: &str,
        session: &str,
        now: DateTime<Utc>,
    ) -> Result<(Engine, Vec<Command>), ResumeError> {
        if run.finished.is_some() {
            return Err(ResumeError::Finished);
        }
        if run.meta.runbook != runbook.name {
            return Err(ResumeError::OtherRunbook {
                journal: run.meta.runbook.clone(),
                runbook: runbook.name.clone(),
            });
        }
        if let Some(unknown) = run
            .steps
            .keys()
            .chain(run.open_intents.keys())
            .find(|id| !runbook.steps.iter().any(|s| &s.id == *id))
        {
            return Err(ResumeError::UnknownStep(unknown.clone()));
        }
        let mut engine = Engine::new(
            runbook,
            service,
            read_only,
            run.vars.clone(),
            run.started_at,
        );
        engine.run_id = run.meta.run_id.clone();
        engine.lost = run
            .captured
            .iter()
            .filter(|(name, _)| !engine.vars.contains_key(*name))
            .map(|(name, step)| (name.clone(), step.clone()))
            .collect();
        engine.operator = operator.to_string();
        engine.incident = run.meta.incident.clone();
        engine.change_id = run.change_id.clone();
        for (i, step) in engine.runbook.steps.iter().enumerate() {
            let times = run.times.get(&step.id);
            let run_state = &mut engine.steps[i];
            run_state.started_at = times.and_then(|t| t.started_at);
            if let Some(state) = run.steps.get(&step.id).filter(|s| s.is_settled()) {
                run_state.state = state.clone();
                run_state.finished_at = times.and_then(|t| t.finished_at);
            }
        }
        let mut cmds = Vec::new();
        engine.journal(
            now,
            Entry::Resumed {
                operator: operator.to_string(),
                session: session.to_string(),
            },
            &mut cmds,
        );
        let next = engine
            .steps
            .iter()
            .position(|s| !s.state.is_settled())
            .unwrap_or(engine.steps.len());
        let step = engine.runbook.steps.get(next);
        let intent = step.and_then(|s| run.open_intents.get(&s.id).map(|a| (s, a)));
        match intent {
            Some((step, action)) => {
                let StepKind::Action { confirm, .. } = &step.kind else {
                    return Err(ResumeError::NotAnAction(step.id.clone()));
                };
                let confirm = *confirm;
                engine.current = next;
                engine.active = Some(Active::Action {
                    action: action.clone(),
                    confirm,
                    verify_first: true,
                    note: None,
                    assessment: None,
                    overridden: None,
                });
                engine.verify(now, &mut cmds);
            }
            None => engine.begin(next, now, &mut cmds),
        }
        Ok((engine, cmds))
    }

    fn new(
        runbook: Runbook,
        service: ServiceSpec,
        read_only: bool,
        vars: Variables,
        started_at: DateTime<Utc>,
    ) -> Engine {
        let steps = runbook.steps.iter().map(|_| StepRun::new()).collect();
        Engine {
            runbook,
            service,
            read_only,
            operator: String::new(),
            safety: SafetySettings::default(),
            steps,
            current: 0,
            active: None,
            vars,
            captured: Vec::new(),
            lost: std::collections::BTreeMap::new(),
            started_at,
            incident: None,
            change_id: None,
            outcome: None,
            changes: 0,
            shared: false,
            approval_requested: None,
            run_id: String::new(),
        }
    }

    /// Whether the run is coordinated through a shared store (which carries
    /// two-person approvals).
    pub fn set_shared(&mut self, shared: bool) {
        self.shared = shared;
    }

    /// The step waiting for a second operator's approval, if any.
    pub fn awaiting_approval(&self) -> Option<&str> {
        let step = self.approval_requested.as_deref()?;
        (self.outcome.is_none()
            && self.is_current(step)
            && self.state() == &StepState::AwaitingConfirmation)
            .then_some(step)
    }

    /// Replaces the safety rules' settings (e.g. the anti-flapping period
    /// from the user's configuration); they apply from the next assessment.
    pub fn set_safety(&mut self, settings: SafetySettings) {
        self.safety = settings;
    }

    pub fn runbook(&self) -> &Runbook {
        &self.runbook
    }

    pub fn outcome(&self) -> Option<&RunOutcome> {
        self.outcome.as_ref()
    }

    pub fn vars(&self) -> &Variables {
        &self.vars
    }

    /// The state of the step being worked on; None once the run has ended.
    pub fn current_state(&self) -> Option<&StepState> {
        if self.outcome.is_some() {
            return None;
        }
        self.steps.get(self.current).map(|s| &s.state)
    }

    pub fn view(&self) -> RunView {
        RunView {
            runbook: self.runbook.name.clone(),
            service: self.runbook.service.clone(),
            started_at: self.started_at,
            incident: self.incident.clone(),
            rto_objective: self.runbook.objectives.rto,
            steps: self
                .runbook
                .steps
                .iter()
                .zip(&self.steps)
                .map(|(s, r)| StepView {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    description: s.description.clone(),
                    kind: s.kind.label(),
                    budget: s.expect_within,
                    timeout: match &s.kind {
                        StepKind::Wait(w) => Some(w.timeout),
                        _ => None,
                    },
                    run: r.clone(),
                })
                .collect(),
            current: (self.current < self.steps.len()).then_some(self.current),
            prompt: self.prompt(),
            waiting_for: self.waiting_for(),
            outcome: self.outcome.clone(),
            read_only: self.read_only,
        }
    }

    pub fn prompt(&self) -> Option<Prompt> {
        if self.outcome.is_some() {
            return None;
        }
        let step = self.runbook.steps.get(self.current)?;
        let run = &self.steps[self.current];
        if self.awaiting_approval().is_some() {
            return None;
        }
        if let StepState::Failed { error } = &run.state {
            return Some(Prompt::Failed {
                step: step.id.clone(),
                seq: self.changes,
                title: step.title.clone(),
                error: error.clone(),
            });
        }
        match (&run.state, self.active.as_ref()?) {
            (StepState::AwaitingConfirmation, Active::Manual { instructions }) => {
                Some(Prompt::Tick {
                    step: step.id.clone(),
                    seq: self.changes,
                    title: step.title.clone(),
                    instructions: instructions.clone(),
                })
            }
            (
                StepState::AwaitingConfirmation,
                Active::Action {
                    action,
                    confirm,
                    note,
                    assessment: Some(assessment),
                    overridden,
                    ..
                },
            ) => Some(Prompt::ConfirmAction {
                step: step.id.clone(),
                seq: self.changes,
                title: step.title.clone(),
                call: Box::new(action.describe()),
                target: action.target().to_string(),
                typed: *confirm == Confirm::Typed,
                note: note.clone(),
                assessment: Box::new(assessment.clone()),
                overridden: overridden.clone(),
            }),
            _ => None,
        }
    }

    /// What the current step is waiting for when nothing is asked of the
    /// operator: the conditions of a check or wait, the observation an
    /// action's confirmation needs, a call or request in flight.
    fn waiting_for(&self) -> Option<String> {
        if self.outcome.is_some() {
            return None;
        }
        if let Some(step) = self.awaiting_approval() {
            return Some(format!(
                "a second operator's approval: drconsole approve {} {step} --reason \"...\"",
                self.run_id
            ));
        }
        let state = &self.steps.get(self.current)?.state;
        match (state, self.active.as_ref()?) {
            (
                StepState::Waiting | StepState::Running,
                Active::Conditions {
                    conditions,
                    deadline,
                    ..
                },
            ) => {
                let until = conditions
                    .iter()
                    .map(Condition::describe)
                    .collect::<Vec<_>>()
                    .join("; ");
                Some(match deadline {
                    Some(d) => format!("{until} (times out at {})", d.format("%H:%M:%SZ")),
                    None => format!("an observation to check {until}"),
                })
            }
            (
                StepState::Running,
                Active::Action {
                    assessment: None, ..
                },
            ) => Some("a fresh observation of the live facts for the confirmation".into()),
            (StepState::Running, Active::Action { action, .. }) => {
                let call = action.describe();
                Some(format!(
                    "{} {} to be accepted",
                    call.service, call.operation
                ))
            }
            (StepState::Verifying, Active::Action { .. }) => {
                Some("a look at whether the earlier call took effect".into())
            }
            (StepState::Running, Active::Http(spec)) => Some(format!(
                "the answer to {} {}",
                spec.method.as_str(),
                spec.url
            )),
            _ => None,
        }
    }

    /// Applies one event. Operator inputs that do not fit the run's state
    /// are refused; provider answers for a step the run has left are ignored.
    pub fn handle(&mut self, event: Event, now: DateTime<Utc>) -> Result<Vec<Command>, Refusal> {
        let mut cmds = Vec::new();
        if self.outcome.is_some() {
            return match event {
                Event::Confirm { .. }
                | Event::Tick { .. }
                | Event::Decline { .. }
                | Event::Skip { .. }
                | Event::Override { .. }
                | Event::Retry { .. }
                | Event::Abort { .. } => Err(Refusal::Ended),
                _ => Ok(cmds),
            };
        }
        match event {
            Event::Confirm { to, typed } => {
                self.answering(to)?;
                self.confirm(typed, false, now, &mut cmds)?;
            }
            Event::Tick { to } => {
                self.answering(to)?;
                self.confirm(None, true, now, &mut cmds)?;
            }
            Event::Decline { to } => {
                self.answering(to)?;
                self.decline(now, &mut cmds)?;
            }
            Event::Skip { step, reason } => {
                if !self.is_current(&step) {
                    return Err(Refusal::NotCurrent { step });
                }
                self.skip(reason, now, &mut cmds)?;
            }
            Event::Override { to, reason } => {
                self.answering(to)?;
                self.override_rules(reason, now, &mut cmds)?;
            }
            Event::Retry { to } => {
                self.answering(to)?;
                self.retry(now, &mut cmds)?;
            }
            Event::Abort { reason } => self.abort(reason, now, &mut cmds)?,
            Event::Approved {
                step,
                approver,
                reason,
            } => self.approved(step, approver, reason, now, &mut cmds)?,
            Event::Assessed {
                step,
                snapshot,
                observed_at,
                writer_moves,
            } => {
                if self.is_current(&step) && self.state() == &StepState::Running {
                    self.assessed(&snapshot, observed_at, &writer_moves, now, &mut cmds);
                } else if self.is_current(&step) && self.state() == &StepState::AwaitingConfirmation
                {
                    self.reassessed(&snapshot, observed_at, &writer_moves);
                }
            }
            Event::Observed {
                step,
                snapshot,
                change,
            } => {
                if self.is_current(&step) {
                    self.observed(&snapshot, change, now, &mut cmds);
                }
            }
            Event::ActionAccepted { step, receipt } => {
                if self.is_current(&step) && self.state() == &StepState::Running {
                    self.accepted(receipt, now, &mut cmds);
                }
            }
            Event::ActionFailed { step, error } => {
                if self.is_current(&step) && self.state() == &StepState::Running {
                    self.action_failed(error, now, &mut cmds);
                }
            }
            Event::Verified { step, applied } => {
                if self.is_current(&step) && self.state() == &StepState::Verifying {
                    self.verified(applied, now, &mut cmds);
                }
            }
            Event::VerifyFailed { step, error } => {
                if self.is_current(&step) && self.state() == &StepState::Verifying {
                    self.fail(
                        format!("could not check whether the action took effect: {error}; retry checks again"),
                        now,
                        &mut cmds,
                    );
                }
            }
            Event::HttpDone { step, result } => {
                if self.is_current(&step) && self.state() == &StepState::Running {
                    self.http_done(result, now, &mut cmds);
                }
            }
            Event::TimePassed => self.time_passed(now, &mut cmds),
        }
        Ok(cmds)
    }

    /// Refuses an answer given at any prompt but the open one.
    fn answering(&self, to: PromptId) -> Result<(), Refusal> {
        match self.prompt() {
            Some(open) if open.id() == to => Ok(()),
            _ => Err(Refusal::StalePrompt { step: to.step }),
        }
    }

    fn is_current(&self, step: &str) -> bool {
        self.runbook
            .steps
            .get(self.current)
            .is_some_and(|s| s.id == step)
    }

    fn state(&self) -> &StepState {
        &self.steps[self.current].state
    }

    fn step_id(&self) -> String {
        self.runbook.steps[self.current].id.clone()
    }

    /// Variables as of `now`, with the RTO clock filled in.
    fn vars_at(&self, now: DateTime<Utc>) -> Variables {
        let mut vars = self.vars.clone();
        let lead = self
            .incident
            .as_ref()
            .map(|i| outage_lead(i, self.started_at))
            .unwrap_or_default();
        let elapsed = (now - self.started_at).to_std().unwrap_or_default() + lead;
        let whole = Duration::from_secs(elapsed.as_secs());
        vars.insert(
            "run_elapsed".to_string(),
            crate::format::short_duration(whole),
        );
        vars
    }

    fn journal(&self, now: DateTime<Utc>, entry: Entry, cmds: &mut Vec<Command>) {
        let entry = match entry {
            Entry::Notified { step, message } => Entry::Notified {
                step,
                message: self.redact(message),
            },
            Entry::Step {
                step,
                state: StepState::Failed { error },
            } => Entry::Step {
                step,
                state: StepState::Failed {
                    error: self.redact(error),
                },
            },
            other => other,
        };
        cmds.push(Command::Journal(Record { at: now, entry }));
    }

    /// Text to journal with every captured value replaced by its `${name}`.
    /// Values shorter than [`SECRET_CHARS`] are left: a status code or a
    /// count is no secret, and replacing it everywhere would garble the record.
    fn redact(&self, mut text: String) -> String {
        for name in &self.captured {
            if let Some(value) = self.vars.get(name)
                && value.chars().count() >= SECRET_CHARS
            {
                text = text.replace(value.as_str(), &format!("${{{name}}}"));
            }
        }
        text
    }

    /// Why a step's `${...}` could not be filled in, in words for the operator.
    fn unresolved(&self, error: ResolveError) -> String {
        match &error {
            ResolveError::Undefined(name) => match self.lost.get(name) {
                Some(step) => format!(
                    "`${{{name}}}` was captured by step `{step}` before this run was resumed; captured values are kept in memory only, never in the journal, so it is gone: do this step by hand and skip it with a reason, or abort and start a new run"
                ),
                None => error.to_string(),
            },
            ResolveError::Invalid(_) => error.to_string(),
        }
    }

    /// Why an action may not be sent for this run's service, if it may not.
    fn outside_service(&self, action: &Action) -> Option<String> {
        let foreign = ownership::foreign_targets(action, &self.service);
        if foreign.is_empty() {
            return None;
        }
        let list: Vec<String> = foreign.iter().map(ToString::to_string).collect();
        Some(format!(
            "refused: {} {} not part of service `{}`, whose lock this run holds; nothing was sent (fix the parameters, or skip with a reason)",
            list.join(", "),
            if list.len() == 1 { "is" } else { "are" },
            self.service.id
        ))
    }

    fn transition(&mut self, state: StepState, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        self.changes += 1;
        // A step that moves on (declined, skipped, retried) asks afresh.
        self.approval_requested = None;
        let run = &mut self.steps[self.current];
        run.state = state.clone();
        if state.is_settled() {
            run.finished_at = Some(now);
        }
        let step = self.step_id();
        self.journal(now, Entry::Step { step, state }, cmds);
    }

    fn fail(&mut self, error: String, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        self.transition(StepState::Failed { error }, now, cmds);
    }

    fn settle(&mut self, state: StepState, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        self.transition(state, now, cmds);
        self.active = None;
        self.begin(self.current + 1, now, cmds);
    }

    fn begin(&mut self, index: usize, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        self.current = index;
        self.active = None;
        let Some(step) = self.runbook.steps.get(index).cloned() else {
            let elapsed = (now - self.started_at).to_std().unwrap_or_default();
            self.finish(RunOutcome::Completed { elapsed }, now, cmds);
            return;
        };
        let run = &mut self.steps[index];
        run.started_at.get_or_insert(now);
        run.finished_at = None;
        run.attempts += 1;
        let vars = self.vars_at(now);
        match &step.kind {
            StepKind::Manual { instructions } => {
                let instructions = vars::substitute(instructions, &vars, false)
                    .unwrap_or_else(|_| instructions.clone());
                self.active = Some(Active::Manual { instructions });
                self.transition(StepState::AwaitingConfirmation, now, cmds);
            }
            StepKind::Check { conditions } => {
                self.begin_conditions(conditions, None, &vars, now, cmds);
            }
            StepKind::Wait(wait) => {
                self.begin_conditions(&wait.until, Some(wait), &vars, now, cmds);
            }
            StepKind::Action { action, confirm } => {
                if self.read_only {
                    self.fail(
                        "this session is read-only: actions are disabled (skip with a reason, or run without --read-only)".into(),
                        now,
                        cmds,
                    );
                    return;
                }
                match vars::resolve(action, &vars, true) {
                    Ok(action) => {
                        self.active = Some(Active::Action {
                            action,
                            confirm: *confirm,
                            verify_first: false,
                            note: None,
                            assessment: None,
                            overridden: None,
                        });
                        self.assess(now, cmds);
                    }
                    Err(e) => self.fail(self.unresolved(e), now, cmds),
                }
            }
            StepKind::Http(spec) if self.read_only && !spec.method.is_safe() => self.fail(
                format!(
                    "this session is read-only: a {} request could change the application, so only GET and HEAD are sent (skip with a reason)",
                    spec.method.as_str()
                ),
                now,
                cmds,
            ),
            StepKind::Http(spec) => match vars::resolve(spec, &vars, true) {
                Ok(spec) => {
                    self.active = Some(Active::Http(spec.clone()));
                    self.transition(StepState::Running, now, cmds);
                    cmds.push(Command::Http {
                        step: step.id.clone(),
                        spec,
                    });
                }
                Err(e) => self.fail(self.unresolved(e), now, cmds),
            },
            StepKind::Notify { message } => match vars::substitute(message, &vars, true) {
                Ok(message) => {
                    self.steps[index].observed = Some(message.clone());
                    self.journal(
                        now,
                        Entry::Notified {
                            step: step.id.clone(),
                            message,
                        },
                        cmds,
                    );
                    self.settle(StepState::Done, now, cmds);
                }
                Err(name) => self.fail(self.unresolved(ResolveError::Undefined(name)), now, cmds),
            },
        }
    }

    fn begin_conditions(
        &mut self,
        conditions: &[Condition],
        wait: Option<&WaitSpec>,
        vars: &Variables,
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) {
        let conditions = match vars::resolve(&conditions.to_vec(), vars, true) {
            Ok(c) => c,
            Err(e) => return self.fail(self.unresolved(e), now, cmds),
        };
        let needs_change = conditions.contains(&Condition::DnsChangeInsync);
        if needs_change && self.change_id.is_none() {
            return self.fail(
                "there is no Route 53 change id to wait on (no earlier action returned one in this session); check propagation by hand, then skip with a reason".into(),
                now,
                cmds,
            );
        }
        let deadline = match wait {
            Some(w) => match chrono::Duration::from_std(w.timeout)
                .ok()
                .and_then(|timeout| now.checked_add_signed(timeout))
            {
                Some(deadline) => Some(deadline),
                None => {
                    return self.fail(
                        format!(
                            "a timeout of {} runs past the end of the calendar; give the wait a shorter one",
                            crate::format::objective(w.timeout)
                        ),
                        now,
                        cmds,
                    );
                }
            },
            None => None,
        };
        let poll = wait.map_or(Duration::ZERO, |w| w.poll);
        self.active = Some(Active::Conditions {
            conditions,
            deadline,
            poll,
        });
        let state = if wait.is_some() {
            StepState::Waiting
        } else {
            StepState::Running
        };
        self.transition(state, now, cmds);
        cmds.push(Command::Observe {
            step: self.step_id(),
            after: Duration::ZERO,
            change_id: needs_change.then(|| self.change_id.clone()).flatten(),
        });
    }

    fn observed(
        &mut self,
        snapshot: &Snapshot,
        change: Option<ChangeStatus>,
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) {
        let waiting = match self.state() {
            StepState::Waiting => true,
            StepState::Running => false,
            _ => return,
        };
        let Some(Active::Conditions {
            conditions,
            deadline,
            poll,
        }) = self.active.clone()
        else {
            return;
        };
        let observed = Observed {
            service: &self.service,
            snapshot,
            change: self.change_id.as_deref().zip(change),
        };
        let evaluations: Vec<_> = conditions
            .iter()
            .map(|c| (c, c.evaluate(&observed)))
            .collect();
        self.steps[self.current].observed = Some(
            evaluations
                .iter()
                .map(|(_, e)| e.observed.as_str())
                .collect::<Vec<_>>()
                .join("; "),
        );
        let unmet: Vec<_> = evaluations.iter().filter(|(_, e)| !e.holds).collect();
        if unmet.is_empty() {
            return self.settle(StepState::Done, now, cmds);
        }
        let explain = unmet
            .iter()
            .map(|(c, e)| format!("expected {}, observed {}", c.describe(), e.observed))
            .collect::<Vec<_>>()
            .join("; ");
        if !waiting {
            return self.fail(explain, now, cmds);
        }
        match deadline {
            Some(d) if now >= d => self.fail(self.timeout_message(&explain), now, cmds),
            _ => cmds.push(Command::Observe {
                step: self.step_id(),
                after: poll,
                change_id: conditions
                    .contains(&Condition::DnsChangeInsync)
                    .then(|| self.change_id.clone())
                    .flatten(),
            }),
        }
    }

    fn timeout_message(&self, explain: &str) -> String {
        let timeout = match &self.runbook.steps[self.current].kind {
            StepKind::Wait(w) => crate::format::objective(w.timeout),
            _ => String::new(),
        };
        format!("timed out after {timeout}: {explain}")
    }

    fn time_passed(&mut self, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        if self.state() != &StepState::Waiting {
            return;
        }
        if let Some(Active::Conditions {
            deadline: Some(d), ..
        }) = &self.active
            && now >= *d
        {
            let last = self.steps[self.current]
                .observed
                .clone()
                .unwrap_or_else(|| "nothing observed yet".into());
            let message = self.timeout_message(&format!("last observed {last}"));
            self.fail(message, now, cmds);
        }
    }

    fn confirm(
        &mut self,
        typed: Option<String>,
        tick: bool,
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        let what = if tick { "tick" } else { "confirm" };
        if self.state() != &StepState::AwaitingConfirmation {
            return Err(self.not_now(what));
        }
        let step = self.step_id();
        match self.active.clone() {
            Some(Active::Manual { .. }) => {
                self.journal(
                    now,
                    Entry::Confirmed {
                        step,
                        typed: false,
                        operator: Some(self.operator.clone()),
                        assessment: None,
                    },
                    cmds,
                );
                self.settle(StepState::Done, now, cmds);
            }
            Some(Active::Action {
                action,
                confirm,
                assessment,
                overridden,
                ..
            }) if !tick => {
                if let Some(refusal) = self.outside_service(&action) {
                    self.fail(refusal, now, cmds);
                    return Ok(());
                }
                let typed_ok = typed.as_deref().map(str::trim) == Some(action.target());
                if confirm == Confirm::Typed && !typed_ok {
                    return Err(Refusal::TypedMismatch {
                        expected: action.target().to_string(),
                    });
                }
                if let Some(a) = assessment.as_ref().filter(|a| a.blocked())
                    && overridden.is_none()
                {
                    return Err(Refusal::Blocked {
                        rules: rule_labels(a),
                    });
                }
                if confirm == Confirm::TwoPerson {
                    if !self.shared {
                        return Err(Refusal::NeedsSharedStore { step });
                    }
                    if self.awaiting_approval().is_some() {
                        return Err(Refusal::AwaitingApproval { step });
                    }
                }
                self.journal(
                    now,
                    Entry::Confirmed {
                        step: step.clone(),
                        typed: confirm == Confirm::Typed,
                        operator: Some(self.operator.clone()),
                        assessment,
                    },
                    cmds,
                );
                if confirm == Confirm::TwoPerson {
                    self.journal(
                        now,
                        Entry::ApprovalRequested {
                            step: step.clone(),
                            operator: self.operator.clone(),
                        },
                        cmds,
                    );
                    self.approval_requested = Some(step);
                    self.changes += 1;
                    return Ok(());
                }
                self.call(step, action, now, cmds);
            }
            _ => return Err(self.not_now(what)),
        }
        Ok(())
    }

    /// Journals the intent, then makes the call.
    fn call(&mut self, step: String, action: Action, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        self.journal(
            now,
            Entry::Intent {
                step: step.clone(),
                call: action.describe(),
                action: action.clone(),
            },
            cmds,
        );
        self.transition(StepState::Running, now, cmds);
        cmds.push(Command::Execute { step, action });
    }

    /// A second operator's approval of the requested two-person step: the
    /// call goes ahead as the requester confirmed it.
    fn approved(
        &mut self,
        step: String,
        approver: String,
        reason: String,
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.awaiting_approval() != Some(step.as_str()) {
            return Err(Refusal::NotCurrent { step });
        }
        if approver == self.operator {
            return Err(Refusal::OwnApproval { step, approver });
        }
        if reason.trim().is_empty() {
            return Err(Refusal::ReasonRequired);
        }
        let Some(Active::Action { action, .. }) = self.active.clone() else {
            return Err(Refusal::NotCurrent { step });
        };
        self.approval_requested = None;
        self.journal(
            now,
            Entry::Approved {
                step: step.clone(),
                approver,
                reason,
            },
            cmds,
        );
        self.call(step, action, now, cmds);
        Ok(())
    }

    fn not_now(&self, what: &'static str) -> Refusal {
        Refusal::NotNow {
            what,
            step: self.step_id(),
            state: self.state().label(),
        }
    }

    fn decline(&mut self, now: DateTime<Utc>, cmds: &mut Vec<Command>) -> Result<(), Refusal> {
        let awaiting_action = self.state() == &StepState::AwaitingConfirmation
            && matches!(self.active, Some(Active::Action { .. }));
        if !awaiting_action {
            return Err(self.not_now("decline"));
        }
        let step = self.step_id();
        self.journal(
            now,
            Entry::Declined {
                step,
                operator: Some(self.operator.clone()),
            },
            cmds,
        );
        self.fail("declined by the operator".into(), now, cmds);
        Ok(())
    }

    fn skip(
        &mut self,
        reason: String,
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(Refusal::ReasonRequired);
        }
        if self.call_in_flight() || self.state() == &StepState::Verifying {
            return Err(self.not_now("skip"));
        }
        self.journal(
            now,
            Entry::Skipped {
                step: self.step_id(),
                operator: self.operator.clone(),
                reason: reason.clone(),
            },
            cmds,
        );
        self.settle(StepState::Skipped { reason }, now, cmds);
        Ok(())
    }

    /// An action's call has been made and not answered. While the step
    /// is still gathering its facts nothing has been sent.
    fn call_in_flight(&self) -> bool {
        self.state() == &StepState::Running
            && matches!(
                self.active,
                Some(Active::Action {
                    assessment: Some(_),
                    ..
                })
            )
    }

    fn override_rules(
        &mut self,
        reason: String,
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        if self.state() != &StepState::AwaitingConfirmation {
            return Err(self.not_now("override"));
        }
        let step = self.step_id();
        let operator = self.operator.clone();
        let Some(Active::Action {
            assessment: Some(assessment),
            overridden,
            ..
        }) = &mut self.active
        else {
            return Err(self.not_now("override"));
        };
        if !assessment.blocked() {
            return Err(Refusal::NothingToOverride);
        }
        let reason = reason.trim().to_string();
        if reason.is_empty() {
            return Err(Refusal::ReasonRequired);
        }
        *overridden = Some(reason.clone());
        let assessment = assessment.clone();
        // The question changes (the rules are passed; the call itself is
        // still to be confirmed): an answer typed at the old one is stale.
        self.changes += 1;
        self.journal(
            now,
            Entry::Overridden {
                step,
                operator,
                reason,
                assessment,
            },
            cmds,
        );
        Ok(())
    }

    /// Asks for the fresh observation an action's confirmation is built on.
    /// An action outside the run's service fails here, before anything is
    /// observed or asked, on every path to a confirmation (a resumed intent
    /// included).
    fn assess(&mut self, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        if let Some(Active::Action { action, .. }) = &self.active
            && let Some(refusal) = self.outside_service(&action.clone())
        {
            return self.fail(refusal, now, cmds);
        }
        let Some(Active::Action {
            action,
            assessment,
            overridden,
            ..
        }) = &mut self.active
        else {
            return;
        };
        *assessment = None;
        *overridden = None;
        let global_cluster = action.moves_writer_of().map(str::to_string);
        self.transition(StepState::Running, now, cmds);
        cmds.push(Command::Assess {
            step: self.step_id(),
            global_cluster,
        });
    }

    /// Names the action's cluster by ARN from the observed membership, then
    /// turns the observation into the facts and rule verdicts the
    /// confirmation shows. A cluster that cannot be named fails the step
    /// before anything is sent.
    fn assessed(
        &mut self,
        snapshot: &Snapshot,
        observed_at: DateTime<Utc>,
        writer_moves: &[DateTime<Utc>],
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) {
        let Some(Active::Action {
            action,
            assessment: None,
            ..
        }) = &self.active
        else {
            return;
        };
        let resolved = match action.with_member_arns(&snapshot.global_clusters) {
            Ok(a) => a,
            Err(e) => return self.fail(e.to_string(), now, cmds),
        };
        let fresh = self.assessment_of(&resolved, snapshot, observed_at, writer_moves);
        if let Some(Active::Action {
            action, assessment, ..
        }) = &mut self.active
        {
            *action = resolved;
            *assessment = Some(fresh);
        }
        self.transition(StepState::AwaitingConfirmation, now, cmds);
    }

    /// A newer observation while the operator reads the confirmation: the
    /// facts and the rules' verdicts follow it, so that what is confirmed
    /// (and journaled with the confirmation) is the estate as it is now, not
    /// as it was when the step began. The call itself stays as shown.
    fn reassessed(
        &mut self,
        snapshot: &Snapshot,
        observed_at: DateTime<Utc>,
        writer_moves: &[DateTime<Utc>],
    ) {
        let Some(Active::Action {
            action,
            assessment: Some(assessment),
            ..
        }) = &self.active
        else {
            return;
        };
        if observed_at <= assessment.observed_at {
            return;
        }
        let fresh = self.assessment_of(action, snapshot, observed_at, writer_moves);
        if let Some(Active::Action {
            assessment: Some(assessment),
            overridden,
            ..
        }) = &mut self.active
        {
            // An override answers the rules it was given on: a rule broken
            // now that was not then asks again.
            let rules = |v: &[safety::Violation]| -> Vec<&'static str> {
                let mut r: Vec<_> = v.iter().map(|v| v.rule.label()).collect();
                r.sort_unstable();
                r
            };
            let newly_broken = rules(&fresh.violations)
                .iter()
                .any(|r| !rules(&assessment.violations).contains(r));
            if newly_broken {
                *overridden = None;
            }
            *assessment = fresh;
        }
    }

    /// The facts that matter for `action` in `snapshot` and the safety
    /// rules it breaks there.
    fn assessment_of(
        &self,
        action: &Action,
        snapshot: &Snapshot,
        observed_at: DateTime<Utc>,
        writer_moves: &[DateTime<Utc>],
    ) -> Assessment {
        let rpo = self.runbook.objectives.rpo;
        Assessment {
            observed_at,
            facts: facts::gather(action, &self.service, snapshot, rpo),
            violations: safety::evaluate(
                action,
                &safety::Context {
                    service: &self.service,
                    snapshot,
                    rpo,
                    earlier_writer_moves: writer_moves,
                    settings: self.safety,
                    now: observed_at,
                },
            ),
        }
    }

    /// What to observe again while an action waits for its confirmation:
    /// `Some((step, global cluster whose writer moves count))`.
    pub fn awaiting_action_confirmation(&self) -> Option<(String, Option<String>)> {
        match &self.active {
            Some(Active::Action {
                action,
                assessment: Some(_),
                ..
            }) if self.state() == &StepState::AwaitingConfirmation => {
                Some((self.step_id(), action.moves_writer_of().map(str::to_string)))
            }
            _ => None,
        }
    }

    fn retry(&mut self, now: DateTime<Utc>, cmds: &mut Vec<Command>) -> Result<(), Refusal> {
        if !matches!(self.state(), StepState::Failed { .. }) {
            return Err(self.not_now("retry"));
        }
        match &self.active {
            Some(Active::Action {
                verify_first: true, ..
            }) => {
                self.steps[self.current].attempts += 1;
                self.verify(now, cmds);
            }
            _ => self.begin(self.current, now, cmds),
        }
        Ok(())
    }

    fn abort(
        &mut self,
        reason: String,
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) -> Result<(), Refusal> {
        let verifying = self.state() == &StepState::Verifying
            && matches!(self.active, Some(Active::Action { .. }));
        if self.call_in_flight() || verifying {
            return Err(self.not_now("abort"));
        }
        let reason = match reason.trim() {
            "" => "aborted by the operator".to_string(),
            r => r.to_string(),
        };
        let elapsed = (now - self.started_at).to_std().unwrap_or_default();
        self.finish(RunOutcome::Aborted { reason, elapsed }, now, cmds);
        Ok(())
    }

    fn finish(&mut self, outcome: RunOutcome, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        self.outcome = Some(outcome.clone());
        let elapsed = match &outcome {
            RunOutcome::Completed { elapsed } | RunOutcome::Aborted { elapsed, .. } => *elapsed,
        };
        let since_outage = self
            .incident
            .as_ref()
            .map(|i| elapsed + outage_lead(i, self.started_at));
        self.journal(
            now,
            Entry::Finished {
                outcome: outcome.clone(),
                elapsed_s: Some(elapsed.as_secs_f64()),
                since_outage,
                since_outage_s: since_outage.map(|d| d.as_secs_f64()),
            },
            cmds,
        );
        cmds.push(Command::Finished(outcome));
    }

    fn verify(&mut self, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        let Some(Active::Action { action, .. }) = &self.active else {
            return;
        };
        let action = action.clone();
        self.steps[self.current].started_at.get_or_insert(now);
        self.transition(StepState::Verifying, now, cmds);
        cmds.push(Command::Verify {
            step: self.step_id(),
            action,
        });
    }

    fn accepted(&mut self, receipt: Receipt, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        self.change_id = receipt.change_id.clone();
        self.steps[self.current].observed = Some(receipt.summary.clone());
        let step = self.step_id();
        self.journal(now, Entry::ActionDone { step, receipt }, cmds);
        self.settle(StepState::Done, now, cmds);
    }

    fn action_failed(&mut self, error: SourceError, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        let outcome_unknown = matches!(error.kind, ErrorKind::Timeout | ErrorKind::Network);
        let step = self.step_id();
        self.journal(
            now,
            Entry::ActionFailed {
                step,
                error: error.to_string(),
                outcome_unknown,
            },
            cmds,
        );
        if let Some(Active::Action { verify_first, .. }) = &mut self.active {
            *verify_first = outcome_unknown;
        }
        let message = if outcome_unknown {
            format!("{error}; the call may have taken effect, so retry checks before calling again")
        } else {
            error.to_string()
        };
        self.fail(message, now, cmds);
    }

    fn verified(&mut self, applied: bool, now: DateTime<Utc>, cmds: &mut Vec<Command>) {
        let step = self.step_id();
        self.journal(now, Entry::Verified { step, applied }, cmds);
        if applied {
            // The receipt, and any change id in it, was lost with the crash.
            self.change_id = None;
            self.steps[self.current].observed = Some("already in effect: not called again".into());
            return self.settle(StepState::Done, now, cmds);
        }
        if let Some(Active::Action {
            verify_first, note, ..
        }) = &mut self.active
        {
            *verify_first = false;
            *note = Some("the earlier call did not take effect; confirm to make it now".into());
        }
        self.assess(now, cmds);
    }

    fn http_done(
        &mut self,
        result: Result<HttpResponse, String>,
        now: DateTime<Utc>,
        cmds: &mut Vec<Command>,
    ) {
        let Some(Active::Http(spec)) = &self.active else {
            return;
        };
        match http::judge(spec, result) {
            Ok(pass) => {
                let step = self.step_id();
                for (name, value) in pass.captures {
                    let chars = value.chars().count();
                    self.lost.remove(&name);
                    self.vars.insert(name.clone(), value);
                    if !self.captured.contains(&name) {
                        self.captured.push(name.clone());
                    }
                    self.journal(
                        now,
                        Entry::Captured {
                            step: step.clone(),
                            name,
                            chars,
                        },
                        cmds,
                    );
                }
                self.steps[self.current].observed = Some(pass.observed);
                self.settle(StepState::Done, now, cmds);
            }
            Err(error) => {
                self.steps[self.current].observed = Some(error.clone());
                self.fail(error, now, cmds);
            }
        }
    }
}

fn rule_labels(assessment: &Assessment) -> String {
    assessment
        .violations
        .iter()
        .map(|v| v.rule.label())
        .collect::<Vec<_>>()
        .join(", ")
}
