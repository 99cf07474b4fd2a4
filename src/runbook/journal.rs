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
use crate::domain::incident::IncidentStart;

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
    /// The outage this run answers, when it was started during one: its
    /// RTO clock counts from there. Journals written before runs carried
    /// it lack it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<IncidentStart>,
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
    /// Another operator took the run over from a holder whose shared lease
    /// had expired (see [`crate::coordination::lease::take_over`]).
    TakenOver {
        operator: String,
        host: String,
        from: String,
        reason: String,
    },
    /// The run went ahead without the shared store's lease: the store could
    /// not be reached and the operator accepted that another console may
    /// act on the same service. Uploaded with the rest when the store returns.
    Solo {
        operator: String,
        reason: String,
        problem: String,
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
    /// A `confirm: two-person` action was confirmed by its operator and
    /// waits for a second operator's approval.
    ApprovalRequested {
        step: String,
        operator: String,
    },
    /// A second operator, with another identity, approved the action.
    Approved {
        step: String,
        approver: String,
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
    /// A value an http step captured. The value itself stays in the
    /// engine's memory: captures are bearer tokens and the like, and the
    /// journal is read by `follow`, drill reports and whoever has the disk.
    Captured {
        step: String,
        name: String,
        /// Its length in characters, enough to tell an empty value apart.
        #[serde(default)]
        chars: usize,
    },
    Notified {
        step: String,
        message: String,
    },
    /// The run ended. For a run started during an incident it also gives
    /// the time from the outage's start, beside the runbook's own
    /// duration; both also in seconds. Older journals have neither.
    Finished {
        #[serde(flatten)]
        outcome: RunOutcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        elapsed_s: Option<f64>,
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "humantime_serde::option"
        )]
        since_outage: Option<std::time::Duration>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since_outage_s: Option<f64>,
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
        crate::config::paths::create_private_dir(dir)?;
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
    #[error("{path}:{line}: {message}")]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{path}: the journal does not start with a run-started record")]
    NoStart { path: PathBuf },
}

impl ReadError {
    /// The file that could not be read.
    pub fn path(&self) -> &Path {
        match self {
            ReadError::Io { path, .. }
            | ReadError::Corrupt { path, .. }
            | ReadError::NoStart { path } => path,
        }
    }
}

/// Every complete record of a journal, read line by line as bytes so that
/// a line that is not UTF-8 is reported with its number like any other.
///
/// The one damage repaired silently is a torn last line: a line with no
/// newline at the end of the file, which is what a crash in the middle of
/// [`Journal::append`] leaves. `append` had not returned, so nothing was
/// done on the strength of that record (an intent is fsynced before its
/// call), and dropping it loses nothing that happened; [`Journal::reopen`]
/// cuts it off before the run continues. Anything else unparsable, at any
/// position, is corruption: the run it records may already have acted, so
/// it is reported with its line and blocks new runs (see [`scan`]).
pub fn read(path: &Path) -> Result<Vec<Record>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    let mut reader = BufReader::new(file);
    let mut records = Vec::new();
    let mut buf = Vec::new();
    let mut n = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(io)? == 0 {
            break;
        }
        n += 1;
        let complete = buf.ends_with(b"\n");
        let corrupt = |message: String| ReadError::Corrupt {
            path: path.to_path_buf(),
            line: n,
            message,
        };
        let text = match std::str::from_utf8(&buf) {
            Ok(text) => text,
            Err(_) if !complete => break,
            Err(e) => {
                return Err(corrupt(format!(
                    "not UTF-8 (invalid byte at column {})",
                    e.valid_up_to() + 1
                )));
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Record>(text.trim_end()) {
            Ok(r) => records.push(r),
            Err(_) if !complete => break,
            Err(e) => {
                // serde_json counts lines within this one record; the
                // file's line is already in the message, so only the column
                // is kept.
                let what = e.to_string();
                let what = what
                    .rsplit_once(" at line ")
                    .map_or(what.as_str(), |(w, _)| w);
                return Err(corrupt(format!(
                    "not a journal record (column {}): {what}",
                    e.column()
                )));
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
    /// Parameters and builtins the run started with.
    pub vars: Variables,
    /// Variables http steps captured, each with the step that captured it:
    /// their values were never journaled, so a resumed run does not have them.
    pub captured: BTreeMap<String, String>,
    /// The last state of each step that has one.
    pub steps: BTreeMap<String, StepState>,
    pub times: BTreeMap<String, StepTimes>,
    /// Actions whose intent was journaled with no certain outcome.
    pub open_intents: BTreeMap<String, Action>,
    /// The Route 53 change the last accepted action started, which a
    /// resumed `dns_change_insync` wait still has to see through.
    pub change_id: Option<String>,
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
            captured: BTreeMap::new(),
            steps: BTreeMap::new(),
            times: BTreeMap::new(),
            open_intents: BTreeMap::new(),
            change_id: None,
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
                Entry::ActionDone { step, receipt } => {
                    run.open_intents.remove(step);
                    run.change_id = receipt.change_id.clone();
                }
                Entry::Verified { step, applied } => {
                    run.open_intents.remove(step);
                    if *applied {
                        // A call found already in effect left no receipt.
                        run.change_id = None;
                    }
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
                Entry::Captured { step, name, .. } => {
                    run.captured.insert(name.clone(), step.clone());
                }
                Entry::Finished { outcome, .. } => run.finished = Some(outcome.clone()),
                Entry::RunStarted { .. }
                | Entry::Resumed { .. }
                | Entry::TakenOver { .. }
                | Entry::Solo { .. }
                | Entry::ApprovalRequested { .. }
                | Entry::Approved { .. }
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

/// The service a journal's file name says it belongs to:
/// `<service>-<YYYYMMDDTHHMMSSZ>-<pid>-<hex>.jsonl`. Read from the name so
/// that a journal too damaged to parse is still attributed to its service,
/// and precisely, so that `orders` does not claim `orders-eu`'s journals.
pub fn service_of(path: &Path) -> Option<&str> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".jsonl")?;
    let mut parts = stem.rsplitn(4, '-');
    let hex = parts.next()?;
    let pid = parts.next()?;
    let time = parts.next()?;
    let service = parts.next()?;
    let time_ok = time.len() == 16
        && time.as_bytes()[8] == b'T'
        && time.ends_with('Z')
        && time[..8]
            .bytes()
            .chain(time[9..15].bytes())
            .all(|b| b.is_ascii_digit());
    let ok = !service.is_empty()
        && time_ok
        && !pid.is_empty()
        && pid.bytes().all(|b| b.is_ascii_digit())
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then_some(service)
}

/// Whether a file in the journal directory may be a journal of `service`:
/// named `<service>-….jsonl`, and not the standard name of a journal of
/// another service whose id starts the same (`orders-eu-<run id>.jsonl` is
/// not `orders`'s). A file named otherwise is counted in, so that a damaged
/// journal with an odd name blocks rather than hides.
pub fn may_belong(path: &Path, service: &str) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.ends_with(".jsonl")
        && name.starts_with(&format!("{service}-"))
        && service_of(path).is_none_or(|s| s == service)
}

/// What the journal directory holds for one service, before a run starts.
#[derive(Debug, Default)]
pub struct Scan {
    /// Runs that never finished, newest first.
    pub unfinished: Vec<(PathBuf, RecoveredRun)>,
    /// Journals that cannot be read. Each blocks new runs of the service
    /// until the operator discards it: what it recorded is unknown.
    pub unreadable: Vec<ReadError>,
}

/// Reads every journal of `service` in `dir` (a missing directory has none).
pub fn scan(dir: &Path, service: &str) -> Result<Scan, ReadError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Scan::default()),
        Err(source) => {
            return Err(ReadError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut scan = Scan::default();
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| may_belong(p, service))
        .collect();
    paths.sort();
    for path in paths {
        match RecoveredRun::load(&path) {
            Ok(run) if run.meta.service != service && service_of(&path) == Some(service) => {
                scan.unreadable.push(ReadError::Corrupt {
                    line: 1,
                    message: format!(
                        "the file is named for `{service}` but records a run on `{}`",
                        run.meta.service
                    ),
                    path,
                });
            }
            Ok(run) if run.meta.service != service => {}
            Ok(run) if run.finished.is_none() => scan.unfinished.push((path, run)),
            Ok(_) => {}
            Err(e) => scan.unreadable.push(e),
        }
    }
    scan.unfinished
        .sort_by_key(|(_, run)| std::cmp::Reverse(run.last_at));
    Ok(scan)
}

/// Who set a journal aside, when and why: written next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Discard {
    pub at: DateTime<Utc>,
    pub journal: PathBuf,
    pub moved_to: PathBuf,
    pub operator: String,
    pub session: String,
    pub host: String,
    pub reason: String,
    /// What was wrong with it, if it could not be read.
    pub problem: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DiscardError {
    #[error("a reason is required to discard a journal")]
    NoReason,
    #[error("{0}: not a journal of `{1}` (journals are named <service>-<run id>.jsonl)")]
    OtherService(PathBuf, String),
    #[error("{0}: the run finished; there is nothing to discard")]
    Finished(PathBuf),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Sets a journal aside so that new runs of its service may start:
/// renames it to `<file>.discarded` and writes `<file>.discard.json` with
/// who, why and when, both fsynced. The journal itself is kept, never
/// deleted: it is evidence.
pub fn discard(
    path: &Path,
    service: &str,
    reason: &str,
    who: (&str, &str, &str),
    at: DateTime<Utc>,
) -> Result<Discard, DiscardError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(DiscardError::NoReason);
    }
    if !may_belong(path, service) {
        return Err(DiscardError::OtherService(
            path.to_path_buf(),
            service.into(),
        ));
    }
    let io = |source| DiscardError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::symlink_metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(io(std::io::Error::other("not a regular file")));
    }
    let problem = match RecoveredRun::load(path) {
        Ok(run) if run.finished.is_some() => return Err(DiscardError::Finished(path.into())),
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    };
    let name = path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let dir = path.parent().unwrap_or(Path::new("."));
    let moved_to = dir.join(format!("{name}.discarded"));
    let note = dir.join(format!("{name}.discard.json"));
    let (operator, session, host) = who;
    let record = Discard {
        at,
        journal: path.to_path_buf(),
        moved_to: moved_to.clone(),
        operator: operator.into(),
        session: session.into(),
        host: host.into(),
        reason: reason.into(),
        problem,
    };
    let text = serde_json::to_vec_pretty(&record).map_err(|e| io(std::io::Error::other(e)))?;
    if moved_to.exists() {
        return Err(io(std::io::Error::other(format!(
            "{} already exists",
            moved_to.display()
        ))));
    }
    // The note first: a crash between the two leaves the journal in place
    // (still blocking) rather than moved aside with no reason recorded.
    let note_io = |source| DiscardError::Io {
        path: note.clone(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&note).map_err(note_io)?;
    file.write_all(&text)
        .and_then(|()| file.sync_all())
        .map_err(note_io)?;
    std::fs::rename(path, &moved_to).map_err(io)?;
    #[cfg(unix)]
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    Ok(record)
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
