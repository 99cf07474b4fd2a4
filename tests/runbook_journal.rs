//! The journal on disk: round trip, permissions, crash tolerance.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use drconsole::domain::action::{Action, Receipt};
use drconsole::runbook::journal::{
    self, Entry, Journal, ReadError, Record, RecoveredRun, RunMeta, RunOutcome, StepState,
};

fn rec(secs: i64, entry: Entry) -> Record {
    Record {
        at: Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap() + chrono::Duration::seconds(secs),
        entry,
    }
}

fn started() -> Record {
    rec(
        0,
        Entry::RunStarted {
            meta: RunMeta {
                run_id: "r1".into(),
                runbook: "billing".into(),
                file: PathBuf::from("runbooks/billing.yaml"),
                service: "billing".into(),
                operator: "alice".into(),
                session: "s1".into(),
                host: "laptop".into(),
            },
            params: [("dr_region".to_string(), "us-west-2".to_string())].into(),
        },
    )
}

fn promote() -> Action {
    Action::PromoteReadReplica {
        region: "us-west-2".into(),
        instance: "billing-replica".into(),
        backup_retention_days: Some(7),
    }
}

fn sample() -> Vec<Record> {
    vec![
        started(),
        rec(
            1,
            Entry::Step {
                step: "check".into(),
                state: StepState::Running,
            },
        ),
        rec(
            2,
            Entry::Step {
                step: "check".into(),
                state: StepState::Skipped {
                    reason: "health checks not wired yet".into(),
                },
            },
        ),
        rec(
            3,
            Entry::Captured {
                step: "login".into(),
                name: "token".into(),
                value: "t0k".into(),
            },
        ),
        rec(
            4,
            Entry::Confirmed {
                step: "promote".into(),
                typed: true,
                operator: None,
                assessment: None,
            },
        ),
        rec(
            4,
            Entry::Intent {
                step: "promote".into(),
                action: promote(),
                call: promote().describe(),
            },
        ),
    ]
}

fn write_all(records: &[Record]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::create(dir.path(), "billing", "r1").unwrap();
    for r in records {
        journal.append(r).unwrap();
    }
    let path = journal.path().to_path_buf();
    (dir, path)
}

#[test]
fn records_round_trip_and_rebuild_the_run() {
    let (_dir, path) = write_all(&sample());
    assert_eq!(journal::read(&path).unwrap(), sample());
    let run = RecoveredRun::load(&path).unwrap();
    assert_eq!(run.meta.operator, "alice");
    assert_eq!(run.vars["token"], "t0k");
    assert_eq!(run.vars["dr_region"], "us-west-2");
    assert_eq!(run.open_intents.get("promote"), Some(&promote()));
    assert!(matches!(run.steps["check"], StepState::Skipped { .. }));
    assert_eq!(
        run.times["check"].finished_at.unwrap() - run.times["check"].started_at.unwrap(),
        chrono::Duration::seconds(1)
    );
    assert!(run.finished.is_none());
}

#[test]
fn lines_are_plain_json_a_person_can_read() {
    let (_dir, path) = write_all(&sample()[..3]);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[2],
        r#"{"at":"2026-11-25T08:00:02Z","event":"step","step":"check","state":"skipped","reason":"health checks not wired yet"}"#
    );
}

#[cfg(unix)]
#[test]
fn the_journal_is_private_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, path) = write_all(&sample());
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn an_outcome_closes_the_intent_unless_it_is_unknown() {
    let mut records = sample();
    records.push(rec(
        9,
        Entry::ActionFailed {
            step: "promote".into(),
            error: "timeout: no answer".into(),
            outcome_unknown: true,
        },
    ));
    let run = RecoveredRun::from_records(&PathBuf::from("j"), &records).unwrap();
    assert!(run.open_intents.contains_key("promote"));
    records.push(rec(
        10,
        Entry::ActionDone {
            step: "promote".into(),
            receipt: Receipt::default(),
        },
    ));
    let run = RecoveredRun::from_records(&PathBuf::from("j"), &records).unwrap();
    assert!(run.open_intents.is_empty());
}

#[test]
fn a_torn_last_line_is_ignored_and_cut_off_on_reopen() {
    let (_dir, path) = write_all(&sample());
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    file.write_all(br#"{"at":"2026-11-25T08:00:05Z","event":"action-do"#)
        .unwrap();
    drop(file);
    assert_eq!(journal::read(&path).unwrap(), sample());

    let mut journal = Journal::reopen(&path).unwrap();
    let done = rec(
        6,
        Entry::ActionDone {
            step: "promote".into(),
            receipt: Receipt::default(),
        },
    );
    journal.append(&done).unwrap();
    let mut expected = sample();
    expected.push(done);
    assert_eq!(journal::read(&path).unwrap(), expected);
}

#[test]
fn a_bad_line_in_the_middle_is_corruption_with_its_line_number() {
    let (_dir, path) = write_all(&sample()[..2]);
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&path, format!("{}\nnot json\n{}\n", lines[0], lines[1])).unwrap();
    match journal::read(&path) {
        Err(ReadError::Corrupt { line, .. }) => assert_eq!(line, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_journal_must_start_with_the_run() {
    let (_dir, path) = write_all(&sample()[1..3]);
    assert!(matches!(
        RecoveredRun::load(&path),
        Err(ReadError::NoStart { .. })
    ));
}

#[test]
fn unfinished_runs_are_found_for_their_service_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut open = Journal::create(dir.path(), "billing", "r1").unwrap();
    for r in sample() {
        open.append(&r).unwrap();
    }
    let mut closed = Journal::create(dir.path(), "billing", "r2").unwrap();
    closed.append(&started()).unwrap();
    closed
        .append(&rec(
            50,
            Entry::Finished {
                outcome: RunOutcome::Completed {
                    elapsed: Duration::from_secs(50),
                },
            },
        ))
        .unwrap();
    let found = journal::unfinished(dir.path(), "billing");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, open.path());
    assert!(journal::unfinished(dir.path(), "orders").is_empty());
    assert!(
        Journal::create(dir.path(), "billing", "r1").is_err(),
        "never overwrites a journal"
    );
}
