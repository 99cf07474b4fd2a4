//! The local journal directory as a [`RunSource`]: runs this machine's
//! sessions journal, tailed by file size.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::source::{ActiveRun, Batch, FollowError, Position, RunRef, RunSource};
use crate::runbook::journal::{self, ReadError, Record, RecoveredRun};

/// At most this much new journal is read per poll; the rest comes with
/// the next. A journal grows by a few hundred bytes a record, so only a
/// file that is not a journal gets near it.
const READ_CHUNK: u64 = 4 * 1024 * 1024;

/// Journals in one directory, as `runbook run` and the console write them.
#[derive(Debug, Clone)]
pub struct LocalJournals {
    pub dir: PathBuf,
}

impl LocalJournals {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The run journaled in `path`, which need not be in the directory.
    pub fn run_in(path: &Path) -> Result<RunRef, FollowError> {
        let first = journal::read(path)?;
        let run = RecoveredRun::from_records(path, &first)?;
        Ok(run_ref(path, &run))
    }

    /// The run with this id, finished or not.
    pub fn by_run_id(&self, run_id: &str) -> Result<RunRef, FollowError> {
        let suffix = format!("-{run_id}.jsonl");
        for path in self.journal_files()? {
            let named = path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(&suffix));
            if named
                && let Ok(run) = LocalJournals::run_in(&path)
                && run.run_id == run_id
            {
                return Ok(run);
            }
        }
        Err(FollowError::NotFound(format!(
            "no journal of run `{run_id}` in {}",
            self.dir.display()
        )))
    }

    /// The most recently active unfinished run of `service`.
    pub fn newest_of(&self, service: &str) -> Result<RunRef, FollowError> {
        self.active_runs()?
            .into_iter()
            .find(|a| a.run.service == service)
            .map(|a| a.run)
            .ok_or_else(|| {
                FollowError::NotFound(format!(
                    "no unfinished run of `{service}` in {}",
                    self.dir.display()
                ))
            })
    }

    fn journal_files(&self) -> Result<Vec<PathBuf>, FollowError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(ReadError::Io {
                    path: self.dir.clone(),
                    source,
                }
                .into());
            }
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl") && p.is_file())
            .collect();
        files.sort();
        Ok(files)
    }
}

fn run_ref(path: &Path, run: &RecoveredRun) -> RunRef {
    RunRef {
        run_id: run.meta.run_id.clone(),
        service: run.meta.service.clone(),
        location: path.display().to_string(),
    }
}

impl RunSource for LocalJournals {
    /// Journals that cannot be read are left out: there is no run in them
    /// to follow, and `runbook run` reports them where they block.
    fn active_runs(&self) -> Result<Vec<ActiveRun>, FollowError> {
        let mut runs: Vec<ActiveRun> = self
            .journal_files()?
            .into_iter()
            .filter_map(|path| {
                let run = RecoveredRun::load(&path).ok()?;
                run.finished.is_none().then(|| ActiveRun {
                    run: run_ref(&path, &run),
                    runbook: run.meta.runbook.clone(),
                    operator: run.meta.operator.clone(),
                    started_at: run.started_at,
                    last_at: run.last_at,
                })
            })
            .collect();
        runs.sort_by_key(|r| std::cmp::Reverse(r.last_at));
        Ok(runs)
    }

    fn read_since(&self, run: &RunRef, from: Position) -> Result<Batch, FollowError> {
        let path = PathBuf::from(&run.location);
        let io = |source| ReadError::Io {
            path: path.clone(),
            source,
        };
        let mut file = File::open(&path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len < from.offset {
            return Err(FollowError::Shrank {
                path,
                read: from.offset,
                now: len,
            });
        }
        if len == from.offset {
            return Ok(Batch {
                records: Vec::new(),
                next: from,
            });
        }
        file.seek(SeekFrom::Start(from.offset)).map_err(io)?;
        let mut new = Vec::new();
        file.take(READ_CHUNK).read_to_end(&mut new).map_err(io)?;
        // A whole chunk with no line end would be read again at every
        // poll without ever completing: no journal record is that long.
        if new.len() as u64 == READ_CHUNK && !new.contains(&b'\n') {
            return Err(ReadError::Corrupt {
                path,
                line: from.lines + 1,
                message: format!(
                    "a line longer than {} MiB: not a journal record",
                    READ_CHUNK / (1024 * 1024)
                ),
            }
            .into());
        }
        Ok(complete_records(&path, &new, from)?)
    }
}

/// The records in `bytes` up to its last newline, and the position after
/// them. What follows the last newline is a record still being written.
pub fn complete_records(path: &Path, bytes: &[u8], from: Position) -> Result<Batch, ReadError> {
    let Some(end) = bytes.iter().rposition(|b| *b == b'\n') else {
        return Ok(Batch {
            records: Vec::new(),
            next: from,
        });
    };
    let mut records = Vec::new();
    let mut line = from.lines;
    for raw in bytes[..end].split(|b| *b == b'\n') {
        line += 1;
        if let Some(record) = parse_line(path, line, raw)? {
            records.push(record);
        }
    }
    Ok(Batch {
        records,
        next: Position {
            offset: from.offset + end as u64 + 1,
            lines: line,
        },
    })
}

/// One complete journal line: a record, nothing (a blank line), or why it
/// is not a record, with its line and column.
fn parse_line(path: &Path, line: usize, raw: &[u8]) -> Result<Option<Record>, ReadError> {
    let corrupt = |message: String| ReadError::Corrupt {
        path: path.to_path_buf(),
        line,
        message,
    };
    let text = std::str::from_utf8(raw).map_err(|e| {
        corrupt(format!(
            "not UTF-8 (invalid byte at column {})",
            e.valid_up_to() + 1
        ))
    })?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str::<Record>(text.trim_end())
        .map(Some)
        .map_err(|e| {
            let what = e.to_string();
            let what = what
                .rsplit_once(" at line ")
                .map_or(what.as_str(), |(w, _)| w);
            corrupt(format!(
                "not a journal record (column {}): {what}",
                e.column()
            ))
        })
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::follow::Follower;
    use crate::runbook::journal::{Entry, RunMeta, StepState};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap()
    }

    fn line(record: &Record) -> String {
        format!("{}\n", serde_json::to_string(record).unwrap())
    }

    fn started(run_id: &str) -> Record {
        Record {
            at: at(0),
            entry: Entry::RunStarted {
                meta: RunMeta {
                    run_id: run_id.into(),
                    runbook: "Orders failover".into(),
                    file: "/nonexistent/orders.yaml".into(),
                    service: "orders".into(),
                    operator: "ann@laptop".into(),
                    session: "cli-1".into(),
                    host: "laptop".into(),
                    incident: None,
                },
                params: Default::default(),
            },
        }
    }

    fn step(s: i64, id: &str, state: StepState) -> Record {
        Record {
            at: at(s),
            entry: Entry::Step {
                step: id.into(),
                state,
            },
        }
    }

    fn append(path: &Path, text: &str) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text.as_bytes()).unwrap();
    }

    const RUN: &str = "20261126T120000Z-42-ab";

    fn journal(dir: &Path) -> PathBuf {
        dir.join(format!("orders-{RUN}.jsonl"))
    }

    #[test]
    fn a_torn_last_line_is_read_only_once_it_is_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        append(&path, &line(&started(RUN)));
        let source: Arc<dyn RunSource> = Arc::new(LocalJournals::new(dir.path()));
        let run = LocalJournals::new(dir.path()).by_run_id(RUN).unwrap();
        let mut follower = Follower::new(source, run);
        assert!(follower.poll().unwrap());
        assert!(!follower.poll().unwrap(), "nothing new");

        let running = line(&step(1, "promote", StepState::Running));
        let (head, tail) = running.split_at(running.len() / 2);
        append(&path, head);
        assert!(!follower.poll().unwrap(), "half a record is not one");
        append(&path, tail);
        assert!(follower.poll().unwrap());
        let run = follower.recovered().unwrap();
        assert_eq!(run.steps["promote"], StepState::Running);
        assert_eq!(follower.records().len(), 2);
    }

    #[test]
    fn a_corrupt_line_is_reported_with_its_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        append(&path, &line(&started(RUN)));
        let source = LocalJournals::new(dir.path());
        let run = source.by_run_id(RUN).unwrap();
        let first = source.read_since(&run, Position::default()).unwrap();
        append(&path, "\n{\"at\": 7}\n");
        let error = source.read_since(&run, first.next).unwrap_err().to_string();
        assert!(error.contains(&format!("{}:3:", path.display())), "{error}");
        assert!(error.contains("column"), "{error}");

        let bytes = [b'{', 0xff, b'\n'];
        let error = complete_records(&path, &bytes, first.next).unwrap_err();
        assert!(
            error
                .to_string()
                .contains(":2: not UTF-8 (invalid byte at column 2)")
        );
    }

    #[test]
    fn a_line_longer_than_a_read_is_an_error_not_a_stall() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        append(&path, &line(&started(RUN)));
        let source = LocalJournals::new(dir.path());
        let run = source.by_run_id(RUN).unwrap();
        let first = source.read_since(&run, Position::default()).unwrap();
        append(&path, &"x".repeat(READ_CHUNK as usize + 10));
        let error = source.read_since(&run, first.next).unwrap_err().to_string();
        assert!(error.contains(":2: a line longer than 4 MiB"), "{error}");
    }

    #[test]
    fn a_journal_that_shrinks_under_the_follower_is_an_error_not_a_rewind() {
        let dir = tempfile::tempdir().unwrap();
        let path = journal(dir.path());
        append(&path, &line(&started(RUN)));
        append(&path, &line(&step(1, "promote", StepState::Running)));
        let source = LocalJournals::new(dir.path());
        let run = source.by_run_id(RUN).unwrap();
        let read = source.read_since(&run, Position::default()).unwrap();
        std::fs::write(&path, line(&started(RUN))).unwrap();
        let error = source.read_since(&run, read.next).unwrap_err();
        assert!(matches!(error, FollowError::Shrank { .. }), "{error}");
    }

    #[test]
    fn active_runs_are_the_unfinished_ones_most_recent_first() {
        let dir = tempfile::tempdir().unwrap();
        let older = "20261126T110000Z-41-aa";
        let finished = "20261126T100000Z-40-ff";
        append(
            &dir.path().join(format!("orders-{older}.jsonl")),
            &line(&started(older)),
        );
        append(&journal(dir.path()), &line(&started(RUN)));
        append(
            &journal(dir.path()),
            &line(&step(5, "promote", StepState::Running)),
        );
        let done = dir.path().join(format!("orders-{finished}.jsonl"));
        append(&done, &line(&started(finished)));
        append(
            &done,
            r#"{"at":"2026-11-18T20:26:50Z","event":"finished","outcome":"completed","elapsed":"1m"}
"#,
        );
        append(&dir.path().join("orders-broken.jsonl"), "not json\n");
        let source = LocalJournals::new(dir.path());
        let ids: Vec<String> = source
            .active_runs()
            .unwrap()
            .into_iter()
            .map(|a| a.run.run_id)
            .collect();
        assert_eq!(ids, vec![RUN.to_string(), older.to_string()]);
        assert_eq!(source.newest_of("orders").unwrap().run_id, RUN);
        assert!(source.newest_of("billing").is_err());
        assert_eq!(source.by_run_id(finished).unwrap().run_id, finished);
        assert!(source.by_run_id("nope").is_err());
    }
}
