//! Drives the engine against a provider: journals, calls, observations,
//! HTTP requests. The same runner serves the TUI and the headless CLI (see
//! [`super::headless`]): the operator's inputs come in on a channel and the
//! run's state goes out on a watch channel, so a screen only renders
//! [`RunStatus`] and sends [`Input`].

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::engine::{Command, Engine, Event, PromptId, RunView};
use super::format::Runbook;
use super::http;
use super::journal::{Journal, ReadError, Record, RecoveredRun, RunMeta, RunOutcome, StepState};
use super::lock::{Holder, LockError, ServiceLock};
use super::safety::SafetySettings;
use super::vars::Variables;
use crate::coordination::run::SharedRun;
use crate::domain::environment::ServiceSpec;
use crate::domain::incident::IncidentStart;
use crate::domain::snapshot::{ErrorKind, Snapshot, SourceError};
use crate::monitor::{Observation, SnapshotFeed};
use crate::provider::Provider;

/// Longest real-time sleep while waiting for a poll to fall due. The
/// provider's clock may run faster than real time (the simulator's does),
/// so due times are checked against it in short steps.
const CLOCK_STEP: Duration = Duration::from_millis(200);

/// How often the shared store is asked for a second operator's approval.
const APPROVAL_POLL: Duration = Duration::from_secs(1);

/// Longest wait for a fresh poll before an action's facts are shown.
const FRESH_POLL_WAIT: Duration = Duration::from_secs(20);

/// What the operator can do. Each answer names the prompt it was given at
/// (or, for a skip, the step on the operator's screen): the engine refuses
/// it once the run has moved on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Confirm the awaited action; `typed` carries the typed target.
    Confirm {
        to: PromptId,
        typed: Option<String>,
    },
    Tick {
        to: PromptId,
    },
    Decline {
        to: PromptId,
    },
    Skip {
        step: String,
        reason: String,
    },
    /// Go ahead despite the safety rules the awaited action breaks.
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
}

impl From<Input> for Event {
    fn from(input: Input) -> Event {
        match input {
            Input::Confirm { to, typed } => Event::Confirm { to, typed },
            Input::Tick { to } => Event::Tick { to },
            Input::Decline { to } => Event::Decline { to },
            Input::Skip { step, reason } => Event::Skip { step, reason },
            Input::Override { to, reason } => Event::Override { to, reason },
            Input::Retry { to } => Event::Retry { to },
            Input::Abort { reason } => Event::Abort { reason },
        }
    }
}

/// What a screen shows: the run, and the latest refusal or problem.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStatus {
    /// Which run this is: a console with several runs routes statuses by it.
    pub run_id: String,
    /// Who started the run (for a resumed run, who started it first).
    pub operator: String,
    pub view: RunView,
    pub journal: PathBuf,
    /// Why the last input was refused, or what went wrong talking to the
    /// provider; cleared by the next accepted input.
    pub notice: Option<String>,
    /// The provider's clock when this status was published.
    pub now: DateTime<Utc>,
    /// How many inputs the run has taken (accepted or refused): a sender
    /// knows the status reflects its input once this count includes it.
    pub handled: u64,
}

/// How a run's task ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    Finished(RunOutcome),
    /// The input channel closed before the run finished: the journal is
    /// left open to resume.
    Detached {
        journal: PathBuf,
    },
}

pub struct RunSpec {
    pub runbook: Runbook,
    pub service: ServiceSpec,
    /// Parameter values and builtins (see `plan::parameter_values`). A
    /// resumed run keeps the values it captured; these replace the rest.
    pub vars: Variables,
    pub operator: String,
    pub session: String,
    pub journal_dir: PathBuf,
    pub lock_dir: PathBuf,
    /// Continue the run in this journal instead of starting a new one.
    pub resume: Option<PathBuf>,
    /// The monitor's polls: conditions are evaluated on them instead of
    /// the run polling the estate itself.
    pub feed: SnapshotFeed,
    /// The outage a new run answers: its RTO clock counts from there. A
    /// resumed run keeps what its journal says.
    pub incident: Option<IncidentStart>,
    /// The safety rules' settings (the anti-flapping period).
    pub safety: SafetySettings,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Locked(#[from] LockError),
    #[error("journal: {0}")]
    Journal(#[from] std::io::Error),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error("cannot resume: {0}")]
    Resume(#[from] super::engine::ResumeError),
    #[error("the journal is of a run on `{journal}`, not `{runbook}`")]
    OtherService { journal: String, runbook: String },
}

pub struct RunHandle {
    pub inputs: mpsc::Sender<Input>,
    pub status: watch::Receiver<RunStatus>,
    pub task: JoinHandle<anyhow::Result<RunEnd>>,
}

/// Takes the service's lock, opens the journal, starts (or resumes) the
/// engine and spawns the task that drives it.
pub fn start(spec: RunSpec, provider: Provider) -> Result<RunHandle, StartError> {
    let now = provider.observe.now();
    let read_only = provider.read_only();
    Ok(open(spec, now, read_only)?.spawn(provider))
}

/// A run whose lock is held and whose journal is open, not yet driven.
pub struct OpenedRun {
    engine: Engine,
    /// Where earlier runs' journals are, for the writer moves they record.
    journal_dir: PathBuf,
    journal: Journal,
    commands: Vec<Command>,
    notice: Option<String>,
    run_id: String,
    operator: String,
    feed: SnapshotFeed,
    lock: ServiceLock,
    opened_at: DateTime<Utc>,
    shared: Option<SharedRun>,
}

/// The blocking half of [`start`]: lock, journal read and fsync. A console
/// calls it off its UI task and [`OpenedRun::spawn`]s the result.
pub fn open(spec: RunSpec, now: DateTime<Utc>, read_only: bool) -> Result<OpenedRun, StartError> {
    open_as(spec, now, read_only, new_run_id(now))
}

/// A fresh run's id: when it started, from which process, and a random tag.
pub fn new_run_id(now: DateTime<Utc>) -> String {
    format!(
        "{}-{}-{:04x}",
        now.format("%Y%m%dT%H%M%SZ"),
        std::process::id(),
        rand::random::<u16>()
    )
}

/// [`open`] with the id a new run gets: a shared run's lease names its run
/// before the run is opened.
pub fn open_as(
    spec: RunSpec,
    now: DateTime<Utc>,
    read_only: bool,
    new_run_id: String,
) -> Result<OpenedRun, StartError> {
    let service_id = spec.runbook.service.clone();
    let mut notice = None;
    let journal_path = match &spec.resume {
        Some(path) => path.clone(),
        None => Journal::path_for(&spec.journal_dir, &service_id, &new_run_id),
    };
    let lock = ServiceLock::acquire(&spec.lock_dir, &service_id, Holder::me(Some(journal_path)))?;
    let (mut engine, journal, commands, run_id, operator) = match &spec.resume {
        Some(path) => {
            let mut run = RecoveredRun::load(path)?;
            if run.meta.service != service_id {
                return Err(StartError::OtherService {
                    journal: run.meta.service,
                    runbook: service_id,
                });
            }
            notice = changed_values(&run.vars, &spec.vars);
            // This session's parameters and builtins (the demo app may now
            // listen elsewhere); values captured before the crash are kept.
            run.vars.extend(spec.vars);
            let journal = Journal::reopen(path)?;
            let (engine, commands) = Engine::resume(
                spec.runbook,
                spec.service,
                read_only,
                &run,
                &spec.operator,
                &spec.session,
                now,
            )?;
            (
                engine,
                journal,
                commands,
                run.meta.run_id,
                run.meta.operator,
            )
        }
        None => {
            let journal = Journal::create(&spec.journal_dir, &service_id, &new_run_id)?;
            let meta = RunMeta {
                run_id: new_run_id.clone(),
                runbook: spec.runbook.name.clone(),
                file: spec.runbook.path.clone(),
                service: service_id,
                operator: spec.operator.clone(),
                session: spec.session.clone(),
                host: lock.holder().host.clone(),
                incident: spec.incident.clone(),
            };
            let (engine, commands) =
                Engine::start(spec.runbook, spec.service, read_only, meta, spec.vars, now);
            (engine, journal, commands, new_run_id, spec.operator)
        }
    };
    engine.set_safety(spec.safety);
    Ok(OpenedRun {
        engine,
        journal_dir: spec.journal_dir,
        journal,
        commands,
        notice,
        run_id,
        operator,
        feed: spec.feed,
        lock,
        opened_at: now,
        shared: None,
    })
}

impl OpenedRun {
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Journals `record` with the run's first records, before anything
    /// the run does (a solo start's reason, say).
    pub fn note(&mut self, record: Record) {
        let at = self
            .commands
            .iter()
            .position(|c| !matches!(c, Command::Journal(_)))
            .unwrap_or(self.commands.len());
        self.commands.insert(at, Command::Journal(record));
    }

    /// Coordinates the run through the shared store: every journal record
    /// is mirrored there and no action is taken without the lease.
    pub fn share(&mut self, shared: SharedRun) {
        self.engine.set_shared(true);
        self.shared = Some(shared);
    }

    /// Spawns the task that drives the run.
    pub fn spawn(self, provider: Provider) -> RunHandle {
        let (inputs_tx, inputs_rx) = mpsc::channel(16);
        let (status_tx, status_rx) = watch::channel(RunStatus {
            run_id: self.run_id.clone(),
            operator: self.operator.clone(),
            view: self.engine.view(),
            journal: self.journal.path().to_path_buf(),
            notice: self.notice.clone(),
            now: self.opened_at,
            handled: 0,
        });
        let runner = Runner {
            engine: self.engine,
            journal_dir: self.journal_dir,
            journal: self.journal,
            provider,
            http: reqwest::Client::new(),
            status: status_tx,
            pending: None,
            notice: self.notice,
            feed: self.feed,
            monitor_alive: true,
            handled: 0,
            shared: self.shared,
            _lock: self.lock,
        };
        let task = tokio::spawn(runner.run(inputs_rx, self.commands));
        RunHandle {
            inputs: inputs_tx,
            status: status_rx,
            task,
        }
    }
}

/// Values this session sets differently from the run it resumes.
fn changed_values(journaled: &Variables, now: &Variables) -> Option<String> {
    let changed: Vec<String> = now
        .iter()
        .filter_map(|(name, value)| {
            let was = journaled.get(name)?;
            (was != value).then(|| format!("{name} was {was}, now {value}"))
        })
        .collect();
    (!changed.is_empty()).then(|| format!("resumed with different values: {}", changed.join("; ")))
}

/// An observation the engine asked for: the first poll that began at or
/// after `since`, taken once the provider's clock reaches `due`.
struct PendingObservation {
    step: String,
    since: DateTime<Utc>,
    due: DateTime<Utc>,
    change_id: Option<String>,
    /// The monitor was asked for a poll: once per observation, or asks made
    /// during a slow poll would queue a second one behind it.
    asked: bool,
}

struct Runner {
    engine: Engine,
    /// Where every run's journal is, for the history of writer moves.
    journal_dir: PathBuf,
    journal: Journal,
    provider: Provider,
    http: reqwest::Client,
    status: watch::Sender<RunStatus>,
    pending: Option<PendingObservation>,
    notice: Option<String>,
    feed: SnapshotFeed,
    monitor_alive: bool,
    handled: u64,
    shared: Option<SharedRun>,
    _lock: ServiceLock,
}

impl Runner {
    async fn run(
        mut self,
        mut inputs: mpsc::Receiver<Input>,
        first: Vec<Command>,
    ) -> anyhow::Result<RunEnd> {
        let mut queue: VecDeque<Command> = first.into();
        loop {
            while let Some(command) = queue.pop_front() {
                // The operator has left (Ctrl-C, end of input): stop before
                // anything else reaches out; the journal is resumable here
                // as after a crash.
                let reaches_out = matches!(
                    command,
                    Command::Execute { .. }
                        | Command::Verify { .. }
                        | Command::Observe { .. }
                        | Command::Http { .. }
                );
                if reaches_out && inputs.is_closed() {
                    self.publish();
                    return Ok(RunEnd::Detached {
                        journal: self.journal.path().to_path_buf(),
                    });
                }
                if let Some(outcome) = self.carry_out(command, &mut queue).await? {
                    self.publish();
                    if let Some(shared) = self.shared.take() {
                        shared.finish().await?;
                    }
                    return Ok(RunEnd::Finished(outcome));
                }
            }
            self.publish();
            let waiting =
                self.pending.is_some() || self.engine.current_state() == Some(&StepState::Waiting);
            let confirming = self.engine.awaiting_action_confirmation();
            let renew_every = self
                .shared
                .as_ref()
                .map_or(Duration::from_secs(3600), SharedRun::renew_every);
            if let Some(shared) = &mut self.shared {
                shared.keep_lease().await?;
            }
            tokio::select! {
                input = inputs.recv() => {
                    let Some(input) = input else {
                        return Ok(RunEnd::Detached { journal: self.journal.path().to_path_buf() });
                    };
                    self.handled += 1;
                    let now = self.provider.observe.now();
                    match self.engine.handle(input.into(), now) {
                        Ok(commands) => {
                            // A two-person request tells whom to ask.
                            self.notice = self
                                .engine
                                .awaiting_approval()
                                .and_then(|_| self.engine.view().waiting_for);
                            queue.extend(commands);
                        }
                        Err(refusal) => self.notice = Some(refusal.to_string()),
                    }
                }
                // A new poll, or the clock moving past a due time or a
                // timeout: either may settle what the step waits for.
                // While an action waits for its confirmation, each poll
                // renews its facts and the safety rules' verdicts.
                alive = self.feed.changed(), if (self.pending.is_some() || confirming.is_some()) && self.monitor_alive => {
                    if !alive {
                        self.monitor_alive = false;
                        self.notice = Some("the monitor has stopped: no new observations arrive".into());
                    }
                    if self.pending.is_some() {
                        let event = self.poll_due().await;
                        let now = self.provider.observe.now();
                        queue.extend(self.feed(event, now));
                    } else if let Some((step, global_cluster)) = confirming {
                        let event = self.reassessment(step, global_cluster).await;
                        let now = self.provider.observe.now();
                        queue.extend(self.feed(event, now));
                    }
                }
                // While the operator thinks, the lease is kept: a console
                // that cannot keep it stops before anyone else takes over.
                () = tokio::time::sleep(renew_every), if self.shared.is_some() => {
                    if let Some(shared) = &mut self.shared {
                        shared.keep_lease().await?;
                    }
                }
                () = tokio::time::sleep(APPROVAL_POLL), if self.engine.awaiting_approval().is_some() => {
                    self.check_approvals(&mut queue).await;
                }
                () = tokio::time::sleep(CLOCK_STEP), if waiting => {
                    let event = self.poll_due().await;
                    let now = self.provider.observe.now();
                    queue.extend(self.feed(event, now));
                }
            }
        }
    }

    /// Feeds the engine the approvals a second operator stored for the
    /// step that waits for one.
    async fn check_approvals(&mut self, queue: &mut VecDeque<Command>) {
        let (Some(shared), Some(step)) = (&self.shared, self.engine.awaiting_approval()) else {
            return;
        };
        let step = step.to_string();
        match shared.approvals(&step).await {
            Ok(approvals) => {
                let now = self.provider.observe.now();
                for a in approvals {
                    let event = Event::Approved {
                        step: step.clone(),
                        approver: a.approver.identity,
                        reason: a.reason,
                    };
                    match self.engine.handle(event, now) {
                        Ok(commands) => {
                            self.notice = None;
                            queue.extend(commands);
                            break;
                        }
                        Err(refusal) => self.notice = Some(refusal.to_string()),
                    }
                }
            }
            Err(e) => self.notice = Some(format!("cannot read approvals: {e}")),
        }
    }

    /// Publishes the run's status when it differs from the last one
    /// published: a screen is woken by change, not by the runner's clock.
    fn publish(&self) {
        let view = self.engine.view();
        let journal = self.journal.path();
        let now = self.provider.observe.now();
        self.status.send_if_modified(|status| {
            if status.view == view
                && status.notice == self.notice
                && status.journal == journal
                && status.handled == self.handled
            {
                return false;
            }
            status.view = view;
            status.notice = self.notice.clone();
            status.journal = journal.to_path_buf();
            status.now = now;
            status.handled = self.handled;
            true
        });
    }

    /// Provider answers are never refused, only ignored when stale.
    fn feed(&mut self, event: Event, now: DateTime<Utc>) -> Vec<Command> {
        self.engine.handle(event, now).unwrap_or_default()
    }

    /// The engine's observation, once it is due and the monitor has polled
    /// since it was asked for; else only that time passed. When a due
    /// observation still lacks a poll, the monitor is asked for one: a wait
    /// that polls faster than the monitor speeds the monitor up (one poll
    /// stream for the console and every run) instead of polling on its own.
    async fn poll_due(&mut self) -> Event {
        let now = self.provider.observe.now();
        let fresh = match &mut self.pending {
            Some(p) if now >= p.due => match self.feed.latest() {
                Some(o) if o.at >= p.since => Some(o),
                _ => {
                    if !std::mem::replace(&mut p.asked, true) {
                        self.feed.request();
                    }
                    None
                }
            },
            _ => None,
        };
        let Some(observation) = fresh else {
            return Event::TimePassed;
        };
        let Some(p) = self.pending.take() else {
            return Event::TimePassed;
        };
        let mut failures = observation.failures.clone();
        let change = match &p.change_id {
            Some(id) => match self.provider.observe.change_status(id).await {
                Ok(status) => Some(status),
                Err(e) => {
                    failures.push(format!("change {id}: {e}"));
                    None
                }
            },
            None => None,
        };
        self.notice = (!failures.is_empty())
            .then(|| format!("observation incomplete: {}", failures.join("; ")));
        Event::Observed {
            step: p.step,
            snapshot: Snapshot::clone(&observation.snapshot),
            change,
        }
    }

    /// A poll taken after this moment, for the facts of a decision: the
    /// monitor is asked to poll now. A monitor that does not answer within
    /// [`FRESH_POLL_WAIT`] leaves the newest poll there is, whose age the
    /// facts then show; none at all is an empty observation (every fact
    /// unknown), never a guess.
    async fn fresh_observation(&mut self) -> Arc<Observation> {
        let since = self.provider.observe.now();
        self.feed.request();
        let wait = async {
            loop {
                if let Some(o) = self.feed.latest()
                    && o.at >= since
                {
                    return;
                }
                if !self.feed.changed().await {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(FRESH_POLL_WAIT, wait).await;
        self.feed.latest().unwrap_or_default()
    }

    /// The latest poll as an assessment of the action awaiting its
    /// confirmation. Unlike the first assessment it asks for no poll of its
    /// own: it follows the monitor's.
    async fn reassessment(&mut self, step: String, global_cluster: Option<String>) -> Event {
        let observation = self.feed.latest().unwrap_or_default();
        self.notice = (!observation.failures.is_empty())
            .then(|| format!("facts incomplete: {}", observation.failures.join("; ")));
        Event::Assessed {
            step,
            snapshot: Snapshot::clone(&observation.snapshot),
            observed_at: observation.at,
            writer_moves: self.writer_moves(global_cluster).await,
        }
    }

    /// The writer moves journaled for `global_cluster`, read off the task.
    async fn writer_moves(&self, global_cluster: Option<String>) -> Vec<DateTime<Utc>> {
        match global_cluster {
            Some(g) => {
                let dir = self.journal_dir.clone();
                tokio::task::spawn_blocking(move || super::journal::writer_moves(&dir, &g))
                    .await
                    .unwrap_or_default()
            }
            None => Vec::new(),
        }
    }

    /// Carries out one command; returns the outcome once the run has ended.
    async fn carry_out(
        &mut self,
        command: Command,
        queue: &mut VecDeque<Command>,
    ) -> anyhow::Result<Option<RunOutcome>> {
        match command {
            Command::Journal(record) => {
                self.journal.append(&record).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot write the journal {}: {e}; stopping before anything else happens",
                        self.journal.path().display()
                    )
                })?;
                if let Some(shared) = &mut self.shared {
                    shared.record(&record).await?;
                }
            }
            Command::Execute { step, action } => {
                if let Some(shared) = &mut self.shared {
                    shared.before_acting().await?;
                }
                // Show the step running while the call is in flight.
                self.publish();
                let event = match &self.provider.act {
                    Some(act) => match act.execute(&action).await {
                        Ok(receipt) => Event::ActionAccepted { step, receipt },
                        Err(error) => Event::ActionFailed { step, error },
                    },
                    None => Event::ActionFailed {
                        step,
                        error: read_only_error(),
                    },
                };
                let now = self.provider.observe.now();
                queue.extend(self.feed(event, now));
            }
            Command::Verify { step, action } => {
                self.publish();
                let event = match &self.provider.act {
                    Some(act) => match act.already_applied(&action).await {
                        Ok(applied) => Event::Verified { step, applied },
                        Err(error) => Event::VerifyFailed { step, error },
                    },
                    None => Event::VerifyFailed {
                        step,
                        error: read_only_error(),
                    },
                };
                let now = self.provider.observe.now();
                queue.extend(self.feed(event, now));
            }
            Command::Observe {
                step,
                after,
                change_id,
            } => {
                let since = self.provider.observe.now();
                let due = chrono::Duration::from_std(after)
                    .ok()
                    .and_then(|after| since.checked_add_signed(after))
                    .unwrap_or(DateTime::<Utc>::MAX_UTC);
                // Asked for now (a check, or a wait's first look): the
                // monitor polls at once rather than at its interval.
                let immediate = after.is_zero();
                if immediate {
                    self.feed.request();
                }
                self.pending = Some(PendingObservation {
                    step,
                    since,
                    due,
                    change_id,
                    asked: immediate,
                });
            }
            Command::Assess {
                step,
                global_cluster,
            } => {
                self.publish();
                let observation = self.fresh_observation().await;
                self.notice = (!observation.failures.is_empty())
                    .then(|| format!("facts incomplete: {}", observation.failures.join("; ")));
                let snapshot = Snapshot::clone(&observation.snapshot);
                // The facts are as old as the poll they come from.
                let observed_at = observation.at;
                let now = self.provider.observe.now();
                let writer_moves = self.writer_moves(global_cluster).await;
                let event = Event::Assessed {
                    step,
                    snapshot,
                    observed_at,
                    writer_moves,
                };
                queue.extend(self.feed(event, now));
            }
            Command::Http { step, spec } => {
                self.publish();
                let result = http::send(&self.http, &spec).await;
                let now = self.provider.observe.now();
                queue.extend(self.feed(Event::HttpDone { step, result }, now));
            }
            Command::Finished(outcome) => return Ok(Some(outcome)),
        }
        Ok(None)
    }
}

fn read_only_error() -> SourceError {
    SourceError::new(
        ErrorKind::AccessDenied,
        "this session is read-only: no action can be executed",
    )
}
