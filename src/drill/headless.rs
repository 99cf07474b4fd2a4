//! `drconsole drill SCENARIO --headless`: the scenario's expected runbook
//! run by a scripted trainee who answers every prompt after a decision
//! delay (simulated time): ticks manual steps, confirms actions (typing
//! the target when asked, overriding broken guardrails with a recorded
//! reason), retries a failed step a few times, then aborts.
//!
//! The trainee starts the runbook when the service leaves UP, or two
//! minutes after the last fault has started if it never does (a drill with
//! nothing to see, such as stopped backups). The drill ends once the run
//! has ended, the timeline has played out and the service is UP again, or
//! at the scenario's time limit.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::report;
use super::run::DrillWorld;
use super::score::{self, DrillEnd, Report};
use super::validate::Checked;
use crate::domain::availability::Availability;
use crate::runbook::engine::{Prompt, PromptId};
use crate::runbook::journal::RunOutcome;
use crate::runbook::runner::{self, Input, RunHandle};
use crate::runbook::safety::SafetySettings;
use crate::runbook::start::{self, ResumePolicy, StartRequest, Starter};

/// Times one step is retried before the scripted trainee gives up.
const RETRIES: u32 = 10;
/// Real time between two looks at the run and the clock.
const REAL_TICK: Duration = Duration::from_millis(5);
/// Reason journaled when the scripted trainee overrides a guardrail.
const OVERRIDE_REASON: &str = "headless drill: the scenario's expected runbook goes ahead";

pub struct Options {
    pub time_scale: f64,
    pub seed: Option<u64>,
    pub decision_delay: Duration,
    pub operator: String,
    pub safety: SafetySettings,
}

/// What a headless drill leaves: the report and where it was written.
pub struct Outcome {
    pub report: Report,
    pub report_path: PathBuf,
    pub journal: Option<PathBuf>,
    pub world: PathBuf,
}

pub async fn run(
    checked: Checked,
    options: Options,
    drills_dir: &std::path::Path,
) -> anyhow::Result<Outcome> {
    let runbook = checked
        .runbooks
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the scenario names no runbook"))?;
    let drill = DrillWorld::open(checked, options.time_scale, options.seed, drills_dir).await?;
    let start_by = drill.last_fault_start() + chrono::Duration::minutes(2);
    // Wait for the trainee's cue.
    loop {
        if drill.time_limit_reached() {
            return finish(&drill, DrillEnd::NoRun, &runbook, None, drills_dir);
        }
        if drill.left_up_at().is_some() || drill.world.now() >= start_by {
            break;
        }
        tokio::time::sleep(REAL_TICK).await;
    }
    let poll = Duration::from_secs_f64((5.0 / options.time_scale).max(0.01));
    let (feed, monitor) = crate::monitor::spawn_feed(drill.provider.observe.clone(), poll);
    let starter = Starter {
        environment: drill.checked.environment.clone(),
        builtins: drill.builtins.clone(),
        operator: options.operator.clone(),
        session: format!("drill-{}", std::process::id()),
        journal_dir: drill.dir.join("journal"),
        lock_dir: drill.dir.join("locks"),
        today: Utc::now().date_naive(),
        feed,
        safety: options.safety,
    };
    let request = StartRequest {
        file: runbook.path.clone(),
        supplied: Default::default(),
        resume: ResumePolicy::New,
        discard: None,
        incident: None,
    };
    let prepared = tokio::task::spawn_blocking(move || start::prepare(&starter, request)).await?;
    let prepared = prepared.map_err(|e| anyhow::anyhow!("{e}"))?;
    let RunHandle {
        inputs,
        mut status,
        task,
    } = runner::start(prepared.spec, drill.provider.clone())?;
    let mut seen: Option<(PromptId, DateTime<Utc>)> = None;
    let mut retries: HashMap<String, u32> = HashMap::new();
    let mut sent = 0u64;
    let end = loop {
        let now = drill.world.now();
        let current = status.borrow_and_update().clone();
        if let Some(outcome) = &current.view.outcome {
            break match outcome {
                RunOutcome::Completed { .. } => DrillEnd::RunbookCompleted,
                RunOutcome::Aborted { reason, .. } => DrillEnd::RunbookAborted {
                    reason: reason.clone(),
                },
            };
        }
        if drill.time_limit_reached() {
            let _ = inputs
                .send(Input::Abort {
                    reason: "the drill's time limit was reached".into(),
                })
                .await;
            break DrillEnd::TimeLimit;
        }
        if current.handled >= sent
            && let Some(prompt) = &current.view.prompt
        {
            let id = prompt.id();
            let since = match &seen {
                Some((seen_id, at)) if *seen_id == id => *at,
                _ => {
                    seen = Some((id.clone(), now));
                    now
                }
            };
            let delay = chrono::Duration::from_std(options.decision_delay).unwrap_or_default();
            if now >= since + delay {
                let input = answer(prompt, &mut retries);
                if inputs.send(input).await.is_err() {
                    break DrillEnd::RunbookAborted {
                        reason: "the run stopped taking answers".into(),
                    };
                }
                sent += 1;
                seen = None;
            }
        }
        tokio::time::sleep(REAL_TICK).await;
    };
    drop(inputs);
    let journal = status.borrow().journal.clone();
    let _ = task.await;
    monitor.abort();
    // The service's recovery may trail the run's last step (DNS, checkers).
    let settled =
        |d: &DrillWorld| d.timeline_played() && d.availability() == Some(Availability::Up);
    while !(drill.time_limit_reached() || settled(&drill)) {
        tokio::time::sleep(REAL_TICK).await;
    }
    finish(&drill, end, &runbook, Some(journal), drills_dir)
}

/// What the scripted trainee answers to `prompt`.
fn answer(prompt: &Prompt, retries: &mut HashMap<String, u32>) -> Input {
    let to = prompt.id();
    match prompt {
        Prompt::Tick { .. } => Input::Tick { to },
        Prompt::ConfirmAction {
            assessment,
            overridden,
            typed,
            target,
            ..
        } => {
            if assessment.blocked() && overridden.is_none() {
                Input::Override {
                    to,
                    reason: OVERRIDE_REASON.into(),
                }
            } else {
                Input::Confirm {
                    to,
                    typed: typed.then(|| target.clone()),
                }
            }
        }
        Prompt::Failed { step, error, .. } => {
            let tried = retries.entry(step.clone()).or_default();
            *tried += 1;
            if *tried > RETRIES {
                Input::Abort {
                    reason: format!("step `{step}` still failing after {RETRIES} retries: {error}"),
                }
            } else {
                Input::Retry { to }
            }
        }
    }
}

/// Scores the drill, writes its report and saves its world.
pub fn finish(
    drill: &DrillWorld,
    end: DrillEnd,
    runbook: &crate::runbook::format::Runbook,
    journal: Option<PathBuf>,
    drills_dir: &std::path::Path,
) -> anyhow::Result<Outcome> {
    let record = drill.record(end, runbook, journal.as_deref())?;
    let report = score::score(&record);
    let report_path = report::write(&report, drills_dir)?;
    let world = drill.save_world()?;
    Ok(Outcome {
        report,
        report_path,
        journal,
        world,
    })
}
