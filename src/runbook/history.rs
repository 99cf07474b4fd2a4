//! What the journal directory remembers of each runbook's runs, for the
//! runbook list: the journal that blocks its service, the unfinished run a
//! start would resume, or else the last run that ended (completed, aborted,
//! or set aside with a reason by [`super::journal::discard`]).
//!
//! Reading ([`read`]) touches files; choosing a runbook's last run
//! ([`last_run`]) is pure.

use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::format::Runbook;
use super::journal::{self, Discard, ReadError, RecoveredRun, RunOutcome, StepState};

/// A discard note is a few hundred bytes; a bigger file is not one.
const MAX_NOTE_BYTES: u64 = 64 * 1024;

/// One journal of the directory as the list needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalFile {
    /// Where the journal is now (`….jsonl.discarded` once set aside).
    pub path: PathBuf,
    /// Its last record, or when it was set aside.
    pub at: DateTime<Utc>,
    pub kind: JournalKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JournalKind {
    Run(Box<RecoveredRun>),
    /// A journal that cannot be read (its time is the file's): it blocks
    /// every run of its service.
    Unreadable,
    /// Set aside with `reason`; the run's runbook and service when its
    /// journal still reads.
    Discarded {
        reason: String,
        runbook: Option<(String, String)>,
    },
}

/// Where a runbook's last run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// A journal of the service that cannot be read (no run starts).
    Unreadable,
    /// At step `step` of `of` (1-based; `of` of `of` once all are settled).
    Unfinished {
        step: usize,
        of: usize,
    },
    Completed,
    Aborted,
    Discarded,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastRun {
    pub journal: PathBuf,
    pub state: RunState,
    pub at: DateTime<Utc>,
    /// Why it was aborted or discarded, as the operator wrote it.
    pub reason: Option<String>,
}

impl LastRun {
    /// A journal the operator may set aside: one that blocks or would be resumed.
    pub fn discardable(&self) -> bool {
        matches!(
            self.state,
            RunState::Unreadable | RunState::Unfinished { .. }
        )
    }
}

/// Every journal in `dir`, current and set aside (a missing directory has none).
pub fn read(dir: &Path) -> Result<Vec<JournalFile>, ReadError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ReadError::Io {
                path: dir.to_path_buf(),
                source,
            });
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    let mut files = Vec::new();
    for path in paths {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.ends_with(".jsonl") {
            // Only regular files: a directory or socket so named is not a journal.
            if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                continue;
            }
            files.push(match RecoveredRun::load(&path) {
                Ok(run) => JournalFile {
                    at: run.last_at,
                    kind: JournalKind::Run(Box::new(run)),
                    path,
                },
                Err(_) => JournalFile {
                    at: modified(&path).unwrap_or(DateTime::<Utc>::MIN_UTC),
                    kind: JournalKind::Unreadable,
                    path,
                },
            });
        } else if let Some(journal_name) = name.strip_suffix(".discard.json")
            && journal_name.ends_with(".jsonl")
            && let Some(note) = read_note(&path)
        {
            // Where `journal::discard` moved it, derived from the note's own
            // name: the path written inside the note is not trusted.
            let moved = dir.join(format!("{journal_name}.discarded"));
            let runbook = RecoveredRun::load(&moved)
                .ok()
                .map(|run| (run.meta.runbook, run.meta.service));
            files.push(JournalFile {
                path: moved,
                at: note.at,
                kind: JournalKind::Discarded {
                    reason: note.reason,
                    runbook,
                },
            });
        }
    }
    Ok(files)
}

fn read_note(path: &Path) -> Option<Discard> {
    let file = std::fs::File::open(path).ok()?;
    let mut text = Vec::new();
    file.take(MAX_NOTE_BYTES).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

fn modified(path: &Path) -> Option<DateTime<Utc>> {
    let time = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(DateTime::<Utc>::from(time))
}

/// The run the list shows for `runbook`: a journal blocking its service
/// first, then its newest unfinished run, then its newest ended one.
pub fn last_run(files: &[JournalFile], runbook: &Runbook) -> Option<LastRun> {
    let service = runbook.service.as_str();
    let ours = |rb: &str, s: &str| rb == runbook.name && s == service;
    let mut blocking = None;
    let mut unfinished: Option<LastRun> = None;
    let mut ended: Option<LastRun> = None;
    for file in files {
        let (state, reason) = match &file.kind {
            JournalKind::Unreadable if journal::may_belong(&file.path, service) => {
                (RunState::Unreadable, None)
            }
            JournalKind::Unreadable => continue,
            JournalKind::Run(run) if ours(&run.meta.runbook, &run.meta.service) => {
                match &run.finished {
                    None => (
                        RunState::Unfinished {
                            step: position(run, runbook),
                            of: runbook.steps.len(),
                        },
                        None,
                    ),
                    Some(RunOutcome::Completed { .. }) => (RunState::Completed, None),
                    Some(RunOutcome::Aborted { reason, .. }) => {
                        (RunState::Aborted, Some(reason.clone()))
                    }
                }
            }
            JournalKind::Run(_) => continue,
            JournalKind::Discarded {
                runbook: known,
                reason,
            } => {
                let matches = match known {
                    Some((rb, s)) => ours(rb, s),
                    // What it recorded is unknown: it was its service's.
                    None => {
                        let original = file.path.with_extension("");
                        journal::may_belong(&original, service)
                    }
                };
                if !matches {
                    continue;
                }
                (RunState::Discarded, Some(reason.clone()))
            }
        };
        let candidate = LastRun {
            journal: file.path.clone(),
            state,
            at: file.at,
            reason,
        };
        let slot = match state {
            RunState::Unreadable => &mut blocking,
            RunState::Unfinished { .. } => &mut unfinished,
            _ => &mut ended,
        };
        if slot.as_ref().is_none_or(|held| candidate.at >= held.at) {
            *slot = Some(candidate);
        }
    }
    blocking.or(unfinished).or(ended)
}

/// The step a run stands at: the first of the runbook's steps not settled.
fn position(run: &RecoveredRun, runbook: &Runbook) -> usize {
    runbook
        .steps
        .iter()
        .position(|s| !run.steps.get(&s.id).is_some_and(StepState::is_settled))
        .map_or(runbook.steps.len(), |i| i + 1)
}

/// Each runbook's last run, in the order of `runbooks`. Blocking: reads
/// every journal of `dir`.
pub fn last_runs(dir: &Path, runbooks: &[Runbook]) -> Result<Vec<Option<LastRun>>, ReadError> {
    let files = read(dir)?;
    Ok(runbooks.iter().map(|rb| last_run(&files, rb)).collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use chrono::TimeZone;

    use super::*;
    use crate::runbook::format;
    use crate::runbook::journal::{Entry, Journal, Record, RunMeta};
    use crate::runbook::vars::Variables;

    fn shipped(file: &str) -> Runbook {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("runbooks")
            .join(file);
        format::load(&path).unwrap_or_else(|d| panic!("{d:?}"))
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, minute, 0).unwrap()
    }

    /// A journal of `rb` named as a run writes it, started at `minute`,
    /// with `settled` steps done and, if given, its outcome.
    pub(crate) fn write_run(
        dir: &Path,
        rb: &Runbook,
        minute: u32,
        settled: usize,
        outcome: Option<RunOutcome>,
    ) -> PathBuf {
        let run_id = format!("20261126T12{minute:02}00Z-1-ab");
        let mut journal = Journal::create(dir, &rb.service, &run_id).unwrap();
        let meta = RunMeta {
            run_id,
            runbook: rb.name.clone(),
            file: rb.path.clone(),
            service: rb.service.clone(),
            operator: "ann".into(),
            session: "test".into(),
            host: "h".into(),
            incident: None,
        };
        let mut records = vec![Entry::RunStarted {
            meta,
            params: Variables::new(),
        }];
        records.extend(rb.steps[..settled].iter().map(|s| Entry::Step {
            step: s.id.clone(),
            state: StepState::Done,
        }));
        records.extend(outcome.map(|outcome| Entry::Finished {
            outcome,
            elapsed_s: None,
            since_outage: None,
            since_outage_s: None,
        }));
        for (i, entry) in records.into_iter().enumerate() {
            let at = at(minute) + chrono::Duration::seconds(i as i64);
            journal.append(&Record { at, entry }).unwrap();
        }
        journal.path().to_path_buf()
    }

    fn completed() -> Option<RunOutcome> {
        Some(RunOutcome::Completed {
            elapsed: Duration::from_secs(60),
        })
    }

    #[test]
    fn an_unfinished_run_comes_before_a_newer_ended_one_and_says_where_it_stands() {
        let dir = tempfile::tempdir().unwrap();
        let rb = shipped("orders-unplanned-failover.yaml");
        let other = shipped("orders-failback.yaml");
        assert_eq!(
            last_runs(dir.path(), std::slice::from_ref(&rb)).unwrap(),
            [None]
        );
        let unfinished = write_run(dir.path(), &rb, 1, 3, None);
        write_run(dir.path(), &rb, 2, rb.steps.len(), completed());
        write_run(dir.path(), &other, 3, 1, None);
        let last = last_runs(dir.path(), &[rb.clone(), other]).unwrap();
        assert_eq!(
            last[0],
            Some(LastRun {
                journal: unfinished,
                state: RunState::Unfinished {
                    step: 4,
                    of: rb.steps.len()
                },
                at: at(1) + chrono::Duration::seconds(3),
                reason: None,
            })
        );
        assert!(last[0].as_ref().unwrap().discardable());
        assert_eq!(
            last[1].as_ref().unwrap().state,
            RunState::Unfinished { step: 2, of: 12 },
            "each runbook its own runs"
        );
    }

    #[test]
    fn the_newest_ended_run_shows_and_a_discarded_one_counts_as_ended() {
        let dir = tempfile::tempdir().unwrap();
        let rb = shipped("billing-replica-promotion.yaml");
        write_run(dir.path(), &rb, 1, rb.steps.len(), completed());
        let aborted = Some(RunOutcome::Aborted {
            reason: "drill".into(),
            elapsed: Duration::from_secs(5),
        });
        write_run(dir.path(), &rb, 2, 1, aborted);
        let state = |dir: &Path| last_run(&read(dir).unwrap(), &rb).unwrap().state;
        assert_eq!(state(dir.path()), RunState::Aborted);
        let aborted = last_run(&read(dir.path()).unwrap(), &rb).unwrap();
        assert_eq!(aborted.reason.as_deref(), Some("drill"));

        let open = write_run(dir.path(), &rb, 3, 1, None);
        assert!(matches!(state(dir.path()), RunState::Unfinished { .. }));
        let who = ("ann", "test", "h");
        journal::discard(&open, &rb.service, "stale", who, at(30)).unwrap();
        let last = last_run(&read(dir.path()).unwrap(), &rb).unwrap();
        assert_eq!(last.state, RunState::Discarded);
        assert_eq!((last.at, last.reason.as_deref()), (at(30), Some("stale")));
        assert!(!last.discardable());
        assert!(last.journal.to_string_lossy().ends_with(".jsonl.discarded"));
    }

    #[test]
    fn a_journal_that_cannot_be_read_blocks_its_service_before_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let rb = shipped("billing-replica-promotion.yaml");
        write_run(dir.path(), &rb, 1, 1, None);
        let torn = dir.path().join("billing-20261126T120500Z-1-cd.jsonl");
        std::fs::write(&torn, "not json\n{}\n").unwrap();
        // Not billing's: another service's, and a note that is not one.
        std::fs::write(
            dir.path().join("billing-eu-20261126T120500Z-1-cd.jsonl"),
            "x\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("x.jsonl.discard.json"), "[1, 2").unwrap();
        let files = read(dir.path()).unwrap();
        let last = last_run(&files, &rb).unwrap();
        assert_eq!(
            (last.state, last.journal),
            (RunState::Unreadable, torn.clone())
        );

        journal::discard(&torn, "billing", "corrupt", ("ann", "t", "h"), at(40)).unwrap();
        let last = last_run(&read(dir.path()).unwrap(), &rb).unwrap();
        assert!(
            matches!(last.state, RunState::Unfinished { step: 2, .. }),
            "the unreadable journal set aside no longer hides the run: {last:?}"
        );
        let orders = shipped("orders-unplanned-failover.yaml");
        assert_eq!(last_run(&read(dir.path()).unwrap(), &orders), None);
    }
}
