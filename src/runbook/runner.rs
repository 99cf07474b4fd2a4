//! Drives the engine against a provider: journals, calls, observations,
//! HTTP requests. The same runner serves the TUI and the headless CLI: the
//! operator's inputs come in on a channel and the run's state goes out on a
//! watch channel, so a screen only renders [`RunStatus`] and sends [`Input`].

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::engine::{Command, Engine, Event, RunView};
use super::format::Runbook;
use super::http;
use super::journal::{Journal, ReadError, RecoveredRun, RunMeta, RunOutcome, StepState};
use super::lock::{Holder, LockError, ServiceLock};
use super::vars::Variables;
use crate::domain::action::ChangeStatus;
use crate::domain::environment::ServiceSpec;
use crate::domain::snapshot::{ErrorKind, Snapshot, SourceError};
use crate::provider::Provider;

/// Longest real-time sleep while waiting for a poll to fall due. The
/// provider's clock may run faster than real time (the simulator's does),
/// so due times are checked against it in short steps.
const CLOCK_STEP: Duration = Duration::from_millis(200);

/// What the operator can do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Confirm the awaited action; `typed` carries the typed target.
    Confirm {
        typed: Option<String>,
    },
    Tick,
    Decline,
    Skip {
        reason: String,
    },
    /// Go ahead despite the safety rules the awaited action breaks.
    Override {
        reason: String,
    },
    Retry,
    Abort {
        reason: String,
    },
}

impl From<Input> for Event {
    fn from(input: Input) -> Event {
        match input {
            Input::Confirm { typed } => Event::Confirm { typed },
            Input::Tick => Event::Tick,
            Input::Decline => Event::Decline,
            Input::Skip { reason } => Event::Skip { reason },
            Input::Override { reason } => Event::Override { reason },
            Input::Retry => Event::Retry,
            Input::Abort { reason } => Event::Abort { reason },
        }
    }
}

/// What a screen shows: the run, and the latest refusal or problem.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStatus {
    pub view: RunView,
    pub journal: PathBuf,
    /// Why the last input was refused, or what went wrong talking to the
    /// provider; cleared by the next accepted input.
    pub notice: Option<String>,
    /// The provider's clock when this status was published.
    pub now: DateTime<Utc>,
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
    let service_id = spec.runbook.service.clone();
    let mut notice = None;
    let run_id = format!(
        "{}-{}-{:04x}",
        now.format("%Y%m%dT%H%M%SZ"),
        std::process::id(),
        rand::random::<u16>()
    );
    let journal_path = match &spec.resume {
        Some(path) => path.clone(),
        None => Journal::path_for(&spec.journal_dir, &service_id, &run_id),
    };
    let lock = ServiceLock::acquire(&spec.lock_dir, &service_id, Holder::me(Some(journal_path)))?;
    let (engine, journal, commands) = match &spec.resume {
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
            (engine, journal, commands)
        }
        None => {
            let journal = Journal::create(&spec.journal_dir, &service_id, &run_id)?;
            let meta = RunMeta {
                run_id,
                runbook: spec.runbook.name.clone(),
                file: spec.runbook.path.clone(),
                service: service_id,
                operator: spec.operator.clone(),
                session: spec.session.clone(),
                host: lock.holder().host.clone(),
            };
            let (engine, commands) =
                Engine::start(spec.runbook, spec.service, read_only, meta, spec.vars, now);
            (engine, journal, commands)
        }
    };
    let (inputs_tx, inputs_rx) = mpsc::channel(16);
    let (status_tx, status_rx) = watch::channel(RunStatus {
        view: engine.view(),
        journal: journal.path().to_path_buf(),
        notice: notice.clone(),
        now,
    });
    let runner = Runner {
        engine,
        journal_dir: spec.journal_dir,
        journal,
        provider,
        http: reqwest::Client::new(),
        status: status_tx,
        pending: None,
        notice,
        _lock: lock,
    };
    let task = tokio::spawn(runner.run(inputs_rx, commands));
    Ok(RunHandle {
        inputs: inputs_tx,
        status: status_rx,
        task,
    })
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

/// An observation the engine asked for, due at a time on the provider's clock.
struct PendingObservation {
    step: String,
    due: DateTime<Utc>,
    change_id: Option<String>,
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
                if let Some(outcome) = self.carry_out(command, &mut queue).await? {
                    self.publish();
                    return Ok(RunEnd::Finished(outcome));
                }
            }
            self.publish();
            let waiting =
                self.pending.is_some() || self.engine.current_state() == Some(&StepState::Waiting);
            tokio::select! {
                input = inputs.recv() => {
                    let Some(input) = input else {
                        return Ok(RunEnd::Detached { journal: self.journal.path().to_path_buf() });
                    };
                    let now = self.provider.observe.now();
                    match self.engine.handle(input.into(), now) {
                        Ok(commands) => {
                            self.notice = None;
                            queue.extend(commands);
                        }
                        Err(refusal) => self.notice = Some(refusal.to_string()),
                    }
                }
                () = tokio::time::sleep(CLOCK_STEP), if waiting => {
                    let event = self.poll_due().await;
                    let now = self.provider.observe.now();
                    queue.extend(self.feed(event, now));
                }
            }
        }
    }

    fn publish(&self) {
        self.status.send_replace(RunStatus {
            view: self.engine.view(),
            journal: self.journal.path().to_path_buf(),
            notice: self.notice.clone(),
            now: self.provider.observe.now(),
        });
    }

    /// Provider answers are never refused, only ignored when stale.
    fn feed(&mut self, event: Event, now: DateTime<Utc>) -> Vec<Command> {
        self.engine.handle(event, now).unwrap_or_default()
    }

    async fn poll_due(&mut self) -> Event {
        let now = self.provider.observe.now();
        match self.pending.take() {
            Some(p) if now >= p.due => {
                let (snapshot, change) = self.observe(p.change_id.as_deref()).await;
                Event::Observed {
                    step: p.step,
                    snapshot,
                    change,
                }
            }
            other => {
                self.pending = other;
                Event::TimePassed
            }
        }
    }

    async fn observe(&mut self, change_id: Option<&str>) -> (Snapshot, Option<ChangeStatus>) {
        let mut snapshot = Snapshot::default();
        let mut failures = Vec::new();
        for reading in self.provider.observe.observe().await {
            match reading.result {
                Ok(s) => snapshot.extend(&s),
                Err(e) => failures.push(format!("{}: {e}", reading.source)),
            }
        }
        let change = match change_id {
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
        (snapshot, change)
    }

    /// Carries out one command; returns the outcome once the run has ended.
    async fn carry_out(
        &mut self,
        command: Command,
        queue: &mut VecDeque<Command>,
    ) -> anyhow::Result<Option<RunOutcome>> {
        match command {
            Command::Journal(record) => self.journal.append(&record).map_err(|e| {
                anyhow::anyhow!(
                    "cannot write the journal {}: {e}; stopping before anything else happens",
                    self.journal.path().display()
                )
            })?,
            Command::Execute { step, action } => {
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
                let due = self.provider.observe.now()
                    + chrono::Duration::from_std(after).unwrap_or_default();
                self.pending = Some(PendingObservation {
                    step,
                    due,
                    change_id,
                });
                if after.is_zero() {
                    let event = self.poll_due().await;
                    let now = self.provider.observe.now();
                    queue.extend(self.feed(event, now));
                }
            }
            Command::Assess {
                step,
                global_cluster,
            } => {
                self.publish();
                let (snapshot, _) = self.observe(None).await;
                let observed_at = self.provider.observe.now();
                let writer_moves = match global_cluster {
                    Some(g) => {
                        let dir = self.journal_dir.clone();
                        tokio::task::spawn_blocking(move || super::journal::writer_moves(&dir, &g))
                            .await
                            .unwrap_or_default()
                    }
                    None => Vec::new(),
                };
                let event = Event::Assessed {
                    step,
                    snapshot,
                    observed_at,
                    writer_moves,
                };
                queue.extend(self.feed(event, observed_at));
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

/// Runs a runbook on a terminal without the TUI: progress to `out`,
/// questions answered line by line from `input`. An action needs an explicit
/// `y` (or its target typed, for `confirm: typed`); the end of input leaves
/// the run resumable rather than answering anything.
pub async fn run_headless<R, W>(
    spec: RunSpec,
    provider: Provider,
    input: R,
    mut out: W,
) -> anyhow::Result<RunEnd>
where
    R: tokio::io::AsyncBufRead + Unpin,
    W: std::io::Write,
{
    use tokio::io::AsyncBufReadExt;

    let RunHandle {
        inputs,
        mut status,
        task,
    } = start(spec, provider)?;
    let mut lines = input.lines();
    let mut printer = Printer::default();
    let mut inputs = Some(inputs);
    loop {
        let current = status.borrow_and_update().clone();
        printer.show(&current, &mut out)?;
        if current.view.outcome.is_some() {
            break;
        }
        if let (Some(prompt), Some(sender)) = (&current.view.prompt, &inputs)
            && printer.asked.as_ref() != Some(prompt)
        {
            ask(prompt, &mut out)?;
            printer.asked = Some(prompt.clone());
            let Some(line) = lines.next_line().await? else {
                writeln!(out, "end of input: leaving the run to resume later")?;
                inputs = None;
                continue;
            };
            printer.asked = None;
            match answer(prompt, line.trim()) {
                Some(reply) => {
                    sender.send(reply).await.ok();
                }
                None => {
                    writeln!(out, "not understood")?;
                    continue;
                }
            }
        }
        if inputs.is_none() {
            break;
        }
        if status.changed().await.is_err() {
            break;
        }
    }
    drop(inputs);
    let end = task.await??;
    if let RunEnd::Detached { journal } = &end {
        writeln!(
            out,
            "run left unfinished; resume with --resume {}",
            journal.display()
        )?;
    }
    Ok(end)
}

#[derive(Default)]
struct Printer {
    shown: Vec<(StepState, Option<String>)>,
    notice: Option<String>,
    asked: Option<super::engine::Prompt>,
}

impl Printer {
    fn show(&mut self, status: &RunStatus, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let rto = clock(status.view.rto_elapsed(status.now));
        for (i, step) in status.view.steps.iter().enumerate() {
            let now = (step.run.state.clone(), step.run.observed.clone());
            if self.shown.get(i) == Some(&now) {
                continue;
            }
            let first_time = self.shown.len() <= i;
            if first_time && step.run.state == StepState::Pending {
                self.shown.push(now);
                continue;
            }
            let detail = match &step.run.state {
                StepState::Failed { error } => format!(": {error}"),
                StepState::Skipped { reason } => format!(": {reason}"),
                _ => step
                    .run
                    .observed
                    .as_ref()
                    .map(|o| format!(" ({o})"))
                    .unwrap_or_default(),
            };
            let elapsed = match (&step.run.state, step.elapsed(status.now), step.budget) {
                (StepState::Done, Some(e), Some(b)) => {
                    format!(" in {} of {}", clock(e), clock(b))
                }
                (StepState::Done, Some(e), None) => format!(" in {}", clock(e)),
                _ => String::new(),
            };
            writeln!(
                out,
                "[{rto}] {:>2}. {} {}{elapsed}{detail}",
                i + 1,
                step.id,
                step.run.state.label()
            )?;
            if first_time {
                self.shown.push(now);
            } else {
                self.shown[i] = now;
            }
        }
        if status.notice != self.notice {
            if let Some(n) = &status.notice {
                writeln!(out, "[{rto}] ! {n}")?;
            }
            self.notice = status.notice.clone();
        }
        if let Some(outcome) = &status.view.outcome {
            match outcome {
                RunOutcome::Completed { elapsed } => writeln!(
                    out,
                    "run complete: RTO {} (objective {})",
                    clock(*elapsed),
                    clock(status.view.rto_objective)
                )?,
                RunOutcome::Aborted { reason, elapsed } => {
                    writeln!(out, "run aborted after {}: {reason}", clock(*elapsed))?
                }
            }
        }
        Ok(())
    }
}

fn ask(prompt: &super::engine::Prompt, out: &mut impl std::io::Write) -> std::io::Result<()> {
    use super::engine::Prompt;
    match prompt {
        Prompt::Tick {
            title,
            instructions,
            ..
        } => {
            writeln!(out, "  {title}\n  {instructions}")?;
            write!(out, "  done? [y] / skip REASON / abort REASON: ")?;
        }
        Prompt::ConfirmAction {
            title,
            call,
            target,
            typed,
            note,
            assessment,
            overridden,
            ..
        } => {
            writeln!(out, "  {title}")?;
            if let Some(n) = note {
                writeln!(out, "  {n}")?;
            }
            for line in call.to_string().lines() {
                writeln!(out, "    {line}")?;
            }
            writeln!(
                out,
                "  facts observed at {}:",
                assessment.observed_at.format("%H:%M:%SZ")
            )?;
            for fact in &assessment.facts {
                let mark = if fact.concern { "!" } else { "-" };
                writeln!(out, "    {mark} {}: {}", fact.subject, fact.text)?;
            }
            for v in &assessment.violations {
                writeln!(out, "  BLOCKED by rule `{}`: {}", v.rule.label(), v.message)?;
            }
            if assessment.blocked() && overridden.is_none() {
                write!(
                    out,
                    "  override REASON to go ahead anyway / n declines / skip REASON / abort REASON: "
                )?;
                return out.flush();
            }
            if let Some(reason) = overridden {
                writeln!(out, "  rules overridden: {reason}")?;
            }
            if *typed {
                write!(out, "  type `{target}` to make this call (n declines): ")?;
            } else {
                write!(out, "  make this call? [y/n]: ")?;
            }
        }
        Prompt::Failed { error, .. } => {
            writeln!(out, "  failed: {error}")?;
            write!(out, "  retry / skip REASON / abort REASON: ")?;
        }
    }
    out.flush()
}

/// The input a reply stands for; None when it is not understood.
fn answer(prompt: &super::engine::Prompt, reply: &str) -> Option<Input> {
    use super::engine::Prompt;
    let (word, rest) = reply.split_once(' ').unwrap_or((reply, ""));
    match word {
        "skip" => {
            return Some(Input::Skip {
                reason: rest.into(),
            });
        }
        "abort" => {
            return Some(Input::Abort {
                reason: rest.into(),
            });
        }
        "override" if matches!(prompt, Prompt::ConfirmAction { .. }) => {
            return Some(Input::Override {
                reason: rest.into(),
            });
        }
        _ => {}
    }
    match prompt {
        Prompt::Tick { .. } => matches!(reply, "y" | "yes" | "").then_some(Input::Tick),
        Prompt::ConfirmAction { typed: true, .. } => match reply {
            "n" | "no" => Some(Input::Decline),
            typed => Some(Input::Confirm {
                typed: Some(typed.to_string()),
            }),
        },
        Prompt::ConfirmAction { typed: false, .. } => match reply {
            "y" | "yes" => Some(Input::Confirm { typed: None }),
            "n" | "no" => Some(Input::Decline),
            _ => None,
        },
        Prompt::Failed { .. } => (reply == "retry" || reply == "r").then_some(Input::Retry),
    }
}

fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{:02}:{:02}", s / 60, s % 60)
    }
}

/// Where a run on this service could be resumed from, newest first.
pub fn resumable(journal_dir: &Path, service: &str) -> Vec<PathBuf> {
    super::journal::unfinished(journal_dir, service)
        .into_iter()
        .map(|(path, _)| path)
        .collect()
}
