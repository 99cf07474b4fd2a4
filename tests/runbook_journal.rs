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
                incident: None,
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
                chars: 3,
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
    assert_eq!(
        run.vars.get("token"),
        None,
        "a captured value is never journaled"
    );
    assert_eq!(run.captured["token"], "login");
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
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("data/journal");
    Journal::create(&dir, "billing", "r1").unwrap();
    for d in [&dir, &root.path().join("data")] {
        let mode = std::fs::metadata(d).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{}", d.display());
    }
}

#[test]
fn a_journal_written_before_captures_were_redacted_forgets_their_values() {
    let started = serde_json::to_string(&started()).unwrap();
    let old = format!(
        "{started}\n{}\n",
        r#"{"at":"2026-11-25T08:00:03Z","event":"captured","step":"login","name":"token","value":"t0k"}"#
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("billing-r0.jsonl");
    std::fs::write(&path, old).unwrap();
    let run = RecoveredRun::load(&path).unwrap();
    assert_eq!(run.vars.get("token"), None);
    assert_eq!(run.captured["token"], "login");
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
                elapsed_s: None,
                since_outage: None,
                since_outage_s: None,
            },
        ))
        .unwrap();
    let found = journal::scan(dir.path(), "billing").unwrap();
    assert!(found.unreadable.is_empty(), "{:?}", found.unreadable);
    assert_eq!(found.unfinished.len(), 1);
    assert_eq!(found.unfinished[0].0, open.path());
    let orders = journal::scan(dir.path(), "orders").unwrap();
    assert!(orders.unfinished.is_empty() && orders.unreadable.is_empty());
    assert!(
        Journal::create(dir.path(), "billing", "r1").is_err(),
        "never overwrites a journal"
    );
}

#[test]
fn a_torn_last_line_cut_inside_a_character_is_still_only_torn() {
    let (_dir, path) = write_all(&sample());
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    // The first byte of `é`: a crash cut the write in the middle of it.
    file.write_all(b"{\"at\":\"2026-11-25T08:00:05Z\",\"event\":\"notified\",\"message\":\"\xc3")
        .unwrap();
    drop(file);
    assert_eq!(journal::read(&path).unwrap(), sample());
}

#[test]
fn a_journal_that_cannot_be_read_is_reported_by_the_scan_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut good = Journal::create(dir.path(), "billing", "20261120T100000Z-1-abcd").unwrap();
    for r in &sample()[..2] {
        good.append(r).unwrap();
    }
    let bad = dir.path().join("billing-20261120T110000Z-2-beef.jsonl");
    std::fs::write(&bad, b"{\"at\":\"x\"}\n\xff\n").unwrap();
    // Another service whose id starts the same: neither its journal nor
    // its damage belongs to `billing`.
    std::fs::write(
        dir.path().join("billing-eu-20261120T110000Z-2-beef.jsonl"),
        b"garbage\n",
    )
    .unwrap();
    let scan = journal::scan(dir.path(), "billing").unwrap();
    assert_eq!(scan.unfinished.len(), 1);
    assert_eq!(scan.unreadable.len(), 1, "{:?}", scan.unreadable);
    assert_eq!(scan.unreadable[0].path(), bad);
    assert!(
        scan.unreadable[0]
            .to_string()
            .starts_with(&format!("{}:1: not a journal record", bad.display())),
        "{}",
        scan.unreadable[0]
    );
    assert_eq!(
        journal::scan(dir.path(), "billing-eu")
            .unwrap()
            .unreadable
            .len(),
        1
    );
    assert_eq!(
        journal::service_of(&bad),
        Some("billing"),
        "the service is read from the name when the content cannot be"
    );
}

#[test]
fn a_discard_needs_a_reason_and_keeps_the_file_aside() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("billing-20261120T110000Z-2-beef.jsonl");
    std::fs::write(&bad, b"garbage\n").unwrap();
    let who = ("alice", "console-1", "host");
    assert!(matches!(
        journal::discard(&bad, "billing", "  ", who, Utc::now()),
        Err(journal::DiscardError::NoReason)
    ));
    assert!(matches!(
        journal::discard(&bad, "orders", "probe", who, Utc::now()),
        Err(journal::DiscardError::OtherService(..))
    ));
    let record = journal::discard(&bad, "billing", "probe garbage", who, Utc::now()).unwrap();
    assert!(!bad.exists());
    assert_eq!(std::fs::read(&record.moved_to).unwrap(), b"garbage\n");
    assert!(record.problem.unwrap().contains(":1: not a journal record"));
    assert!(
        journal::scan(dir.path(), "billing")
            .unwrap()
            .unreadable
            .is_empty()
    );
}
