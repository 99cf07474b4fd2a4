//! The run journal: append-only JSON lines, one record per event, fsynced.
//!
//! It is the audit trail of a run and the source of truth for resuming one:
//! [`RecoveredRun::from_records`] rebuilds where a run stood, including any
//! action whose intent was written but whose outcome never was.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::facts::Assessment;
use super::vars::Variables;
use crate::domain::action::{Action, ApiCall, Receipt};

/// Where a step stands. The journal records every transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum StepState {
    Pending,
    Running,
    /// Polling a condition until it holds or the timeout passes.
    Waiting,
    /// A person must act: tick a manual step or confirm an action.
    AwaitingConfirmation,
    /// Resumed after a crash between an action's intent and its outcome:
    /// re-reading the real state before anything is repeated.
    Verifying,
    Done,
    Failed {
        error: String,
    },
    Skipped {
        reason: String,
    },
}

impl StepState {
    pub fn label(&self) -> &'static str {
        match self {
            StepState::Pending => "pending",
            StepState::Running => "running",
            StepState::Waiting => "waiting",
            StepState::AwaitingConfirmation => "awaiting confirmation",
            StepState::Verifying => "verifying",
            StepState::Done => "done",
            StepState::Failed { .. } => "failed",
            StepState::Skipped { .. } => "skipped",
        }
    }

    /// Done or skipped: the run has moved past this step.
    pub fn is_settled(&self) -> bool {
        matches!(self, StepState::Done | StepState::Skipped { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum RunOutcome {
    Completed {
        #[serde(with = "humantime_serde")]
        elapsed: std::time::Duration,
    },
    Aborted {
        reason: String,
        #[serde(with = "humantime_serde")]
        elapsed: std::time::Duration,
    },
}

/// Who started a run, from where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunMeta {
    pub run_id: String,
    pub runbook: String,
    pub file: PathBuf,
    pub service: String,
    pub operator: String,
    pub session: String,
    pub host: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Entry {
    RunStarted {
        #[serde(flatten)]
        meta: RunMeta,
        params: Variables,
    },
    Resumed {
        operator: String,
        session: String,
    },
    Step {
        step: String,
        #[serde(flatten)]
        state: StepState,
    },
    /// The operator went ahead: ticked a manual step or confirmed an
    /// action, with what the confirmation showed. Journals written before
    /// operators and facts were recorded lack both.
    Confirmed {
        step: String,
        typed: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operator: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        assessment: Option<Assessment>,
    },
    Declined {
        step: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        operator: Option<String>,
    },
    /// The operator overrode the safety rules an action broke.
    Overridden {
        step: String,
        operator: String,
        reason: String,
        assessment: Assessment,
    },
    /// The operator skipped a step (the step's own record says `skipped` too).
    Skipped {
        step: String,
        operator: String,
        reason: String,
    },
    /// Written (and fsynced) before the call is made.
    Intent {
        step: String,
        action: Action,
        call: ApiCall,
    },
    ActionDone {
        step: String,
        receipt: Receipt,
    },
    ActionFailed {
        step: String,
        error: String,
        /// The call may or may not have taken effect (a timeout, a lost
        /// connection): the intent stays open and is verified before any retry.
        outcome_unknown: bool,
    },
    Verified {
        step: String,
        applied: bool,
    },
    Captured {
        step: String,
        name: String,
        value: String,
    },
    Notified {
        step: String,
        message: String,
    },
    Finished {
        #[serde(flatten)]
        outcome: RunOutcome,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: Entry,
}

/// An open journal file. Every append is written and fsynced before it returns.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
}

impl Journal {
    /// A new journal for a run, `<dir>/<service>-<run_id>.jsonl`, mode 0600.
    pub fn create(dir: &Path, service: &str, run_id: &str) -> std::io::Result<Journal> {
        std::fs::create_dir_all(dir)?;
        let path = Journal::path_for(dir, service, run_id);
        let file = open_options().create_new(true).open(&path)?;
        // The new file's directory entry must survive a crash too.
        #[cfg(unix)]
        File::open(dir)?.sync_all()?;
        Ok(Journal { path, file })
    }

    /// Reopens a journal to continue a run. A torn last line (the process
    /// died mid-write) is cut off first so new records start on a fresh line.
    pub fn reopen(path: &Path) -> std::io::Result<Journal> {
        let text = std::fs::read(path)?;
        let keep = match text.iter().rposition(|b| *b == b'\n') {
            Some(i) => i + 1,
            None => 0,
        };
        let file = open_options().open(path)?;
        if keep < text.len() {
            file.set_len(keep as u64)?;
            file.sync_all()?;
        }
        Ok(Journal {
            path: path.to_path_buf(),
            file,
        })
    }

    pub fn path_for(dir: &Path, service: &str, run_id: &str) -> PathBuf {
        dir.join(format!("{service}-{run_id}.jsonl"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        self.file.write_all(&line)?;
        self.file.sync_data()
    }
}

fn open_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a journal record: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: the journal does not start with a run-started record")]
    NoStart { path: PathBuf },
}

/// Every complete record of a journal. An unparsable last line without a
/// newline is a write torn by a crash and is ignored; anything else
/// unparsable is corruption and is reported with its line number.
pub fn read(path: &Path) -> Result<Vec<Record>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut reader = BufReader::new(file);
    let mut records = Vec::new();
    let mut buf = String::new();
    let mut n = 0;
    loop {
        buf.clear();
        if reader.read_line(&mut buf).map_err(io)? == 0 {
            break;
        }
        n += 1;
        let complete = buf.ends_with('\n');
        if buf.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(buf.trim_end()) {
            Ok(r) => records.push(r),
            Err(_) if !complete => break,
            Err(e) => {
                return Err(ReadError::Corrupt {
                    path: path.to_path_buf(),
                    line: n,
                    message: e.to_string(),
                });
            }
        }
    }
    Ok(records)
}

/// When a step was first started and when it settled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepTimes {
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// Where a run stood when its journal ends.
#[derive(Debug, Clone, PartialEq)]
pub struct RecoveredRun {
    pub meta: RunMeta,
    pub started_at: DateTime<Utc>,
    /// Parameters and builtins the run started with, plus later captures.
    pub vars: Variables,
    /// The last state of each step that has one.
    pub steps: BTreeMap<String, StepState>,
    pub times: BTreeMap<String, StepTimes>,
    /// Actions whose intent was journaled with no certain outcome.
    pub open_intents: BTreeMap<String, Action>,
    /// How the run ended, if it did.
    pub finished: Option<RunOutcome>,
    pub last_at: DateTime<Utc>,
}

impl RecoveredRun {
    pub fn from_records(path: &Path, records: &[Record]) -> Result<RecoveredRun, ReadError> {
        let Some(Record {
            at,
            entry: Entry::RunStarted { meta, params },
        }) = records.first()
        else {
            return Err(ReadError::NoStart {
                path: path.to_path_buf(),
            });
        };
        let mut run = RecoveredRun {
            meta: meta.clone(),
            started_at: *at,
            vars: params.clone(),
            steps: BTreeMap::new(),
            times: BTreeMap::new(),
            open_intents: BTreeMap::new(),
            finished: None,
            last_at: *at,
        };
        for record in &records[1..] {
            run.last_at = record.at;
            match &record.entry {
                Entry::Step { step, state } => {
                    let times = run.times.entry(step.clone()).or_default();
                    times.started_at.get_or_insert(record.at);
                    times.finished_at = state.is_settled().then_some(record.at);
                    run.steps.insert(step.clone(), state.clone());
                }
                Entry::Intent { step, action, .. } => {
                    run.open_intents.insert(step.clone(), action.clone());
                }
                Entry::ActionDone { step, .. } | Entry::Verified { step, .. } => {
                    run.open_intents.remove(step);
                }
                Entry::ActionFailed {
                    step,
                    outcome_unknown,
                    ..
                } => {
                    if !outcome_unknown {
                        run.open_intents.remove(step);
                    }
                }
                Entry::Captured { name, value, .. } => {
                    run.vars.insert(name.clone(), value.clone());
                }
                Entry::Finished { outcome } => run.finished = Some(outcome.clone()),
                Entry::RunStarted { .. }
                | Entry::Resumed { .. }
                | Entry::Confirmed { .. }
                | Entry::Declined { .. }
                | Entry::Overridden { .. }
                | Entry::Skipped { .. }
                | Entry::Notified { .. } => {}
            }
        }
        Ok(run)
    }

    pub fn load(path: &Path) -> Result<RecoveredRun, ReadError> {
        RecoveredRun::from_records(path, &read(path)?)
    }
}

/// Journals in `dir` of runs on `service` that never finished, newest first.
pub fn unfinished(dir: &Path, service: &str) -> Vec<(PathBuf, RecoveredRun)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let prefix = format!("{service}-");
    let mut runs: Vec<(PathBuf, RecoveredRun)> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "jsonl")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(&prefix))
        })
        .filter_map(|p| {
            let run = RecoveredRun::load(&p).ok()?;
            (run.finished.is_none() && run.meta.service == service).then_some((p, run))
        })
        .collect();
    runs.sort_by_key(|(_, run)| std::cmp::Reverse(run.last_at));
    runs
}

/// When the writer of `global_cluster` was moved by any run journaled in
/// `dir` (a failover or switchover accepted, or found in effect on resume),
/// for the anti-flapping rule. Unreadable journals are passed over: they
/// cannot say anything either way.
pub fn writer_moves(dir: &Path, global_cluster: &str) -> Vec<DateTime<Utc>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut moves = Vec::new();
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.extension().is_none_or(|e| e != "jsonl") {
            continue;
        }
        let Ok(records) = read(&path) else { continue };
        let mut moving = BTreeMap::new();
        for record in records {
            match &record.entry {
                Entry::Intent { step, action, .. } => {
                    moving.insert(
                        step.clone(),
                        action.moves_writer_of() == Some(global_cluster),
                    );
                }
                Entry::ActionDone { step, .. }
                | Entry::Verified {
                    step,
                    applied: true,
                } if moving.get(step) == Some(&true) => moves.push(record.at),
                _ => {}
            }
        }
    }
    moves
}
