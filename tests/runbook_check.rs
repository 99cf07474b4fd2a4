//! `runbook check` as a user meets it: the binary, its exit status, and
//! malformed files of every sort, none of which may panic.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use drconsole::runbook::{format, validate};
use proptest::prelude::*;

fn drconsole() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drconsole"));
    cmd.arg("--env")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runbook-env.toml"));
    cmd
}

fn shipped() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
    files.sort();
    files
}

#[test]
fn check_passes_the_shipped_runbooks() {
    let out = drconsole()
        .args(["runbook", "check"])
        .args(shipped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("6 file(s) checked: 0 error(s)"), "{stderr}");
}

#[test]
fn a_parameter_given_on_the_command_line_is_validated_like_one_in_the_file() {
    let home = tempfile::tempdir().unwrap();
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/orders-unplanned-failover.yaml");
    for sub in ["plan", "run"] {
        let out = drconsole()
            .env("DRCONSOLE_HOME", home.path())
            .args(["runbook", sub])
            .arg(&file)
            .args(["--param", "dr_region=mars-1"])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{sub}: {stderr}");
        assert!(
            stderr.contains("region `mars-1` is not in the environment"),
            "{sub}: {stderr}"
        );
        assert!(out.stdout.is_empty(), "{sub} printed a plan or ran");
    }
}

#[test]
fn check_fails_with_file_line_column_on_a_broken_runbook() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "name: x\nservice: orders\nobjectives: { rto: 15m, rpo: 5m }\nowner: me\nlast_tested: 2026-11-01\nsteps:\n  - id: a\n    title: A\n    action:\n      type: promote-read-replica\n      region: us-west-2\n      instance: billing-db-typo\n    confirm: typed\n",
    )
    .unwrap();
    let out = drconsole()
        .args(["runbook", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{}:7:5: error: step `a`: instance `billing-db-typo` is not in the environment (known: billing-db, billing-replica)",
            bad.display()
        )),
        "{stderr}"
    );
}

#[test]
fn plan_prints_the_calls_without_making_them() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/orders-planned-switchover.yaml");
    let out = drconsole()
        .args(["runbook", "plan"])
        .arg(&file)
        .args(["--param", "app_url=http://127.0.0.1:1"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("rds SwitchoverGlobalCluster (us-west-2)"),
        "{stdout}"
    );
    assert!(stdout.contains("GET http://127.0.0.1:1/health"), "{stdout}");
    assert!(
        stdout.contains("\"GlobalClusterIdentifier\": \"orders-global\""),
        "the plan shows the identifiers the variables resolve to: {stdout}"
    );
}

/// The demo environment, as a user without `--env` gets it.
fn demo_drconsole(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_drconsole"));
    cmd.env("DRCONSOLE_HOME", home);
    cmd
}

#[test]
fn runbook_new_writes_a_runbook_that_checks_and_plans_for_every_kind_that_fits() {
    let home = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    for (service, kind, expect) in [
        (
            "orders",
            "unplanned-failover",
            "rds FailoverGlobalCluster (us-west-2)",
        ),
        (
            "orders",
            "switchover",
            "rds SwitchoverGlobalCluster (us-west-2)",
        ),
        (
            "orders",
            "detach-and-promote",
            "rds RemoveFromGlobalCluster (us-west-2)",
        ),
        (
            "orders",
            "failback",
            "\"HealthCheckId\": \"hc-orders-use1\"",
        ),
        (
            "billing",
            "replica-promotion",
            "\"DBInstanceIdentifier\": \"billing-replica\"",
        ),
    ] {
        let new = demo_drconsole(home.path())
            .args(["runbook", "new", service, "--kind", kind, "--out"])
            .arg(out_dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&new.stderr);
        assert!(new.status.success(), "{service} {kind}: {stderr}");
        assert!(stderr.contains("1 file(s) checked: 0 error(s)"), "{stderr}");
        let file = out_dir.path().join(format!("{service}-{kind}.yaml"));
        assert_eq!(
            String::from_utf8_lossy(&new.stdout).trim(),
            file.display().to_string()
        );
        let plan = demo_drconsole(home.path())
            .args(["runbook", "plan"])
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&plan.stdout);
        assert!(
            plan.status.success(),
            "{service} {kind}: {}",
            String::from_utf8_lossy(&plan.stderr)
        );
        assert!(stdout.contains(expect), "{service} {kind}: {stdout}");
    }

    let drain = demo_drconsole(home.path())
        .args(["runbook", "new", "catalog", "--kind", "drain-region"])
        .args(["--region", "us-west-2", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&drain.stderr);
    assert!(drain.status.success(), "{stderr}");
    assert!(stderr.contains("1 file(s) checked: 0 error(s)"), "{stderr}");
    let plan = demo_drconsole(home.path())
        .args(["runbook", "plan"])
        .arg(out_dir.path().join("catalog-drain-us-west-2.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&plan.stdout);
    assert!(
        stdout.contains("\"HealthCheckId\": \"hc-catalog-usw2\",\n      \"Inverted\": true"),
        "{stdout}"
    );
}

#[test]
fn runbook_new_never_overwrites_without_force_and_refuses_kinds_that_do_not_fit() {
    let home = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("orders-switchover.yaml");
    std::fs::write(&file, "mine").unwrap();
    let new = |extra: &[&str]| {
        demo_drconsole(home.path())
            .args(["runbook", "new", "orders", "--kind", "switchover", "--out"])
            .arg(out_dir.path())
            .args(extra)
            .output()
            .unwrap()
    };
    let refused = new(&[]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("exists; pass --force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    assert!(new(&["--force"]).status.success());
    assert!(
        std::fs::read_to_string(&file)
            .unwrap()
            .contains("switchover-global-cluster")
    );

    for (service, kind, why) in [
        (
            "billing",
            "failback",
            "`failback` needs an Aurora global database",
        ),
        (
            "orders",
            "drain-region",
            "`drain-region` needs an active-active service",
        ),
        (
            "nope",
            "switchover",
            "service `nope` is not in environment `demo`",
        ),
        (
            "catalog",
            "switchover --region us-west-2",
            "--region applies to --kind drain-region only",
        ),
    ] {
        let out = demo_drconsole(home.path())
            .args(["runbook", "new", service, "--kind"])
            .args(kind.split(' '))
            .arg("--out")
            .arg(out_dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
    }
    assert_eq!(std::fs::read_dir(out_dir.path()).unwrap().count(), 1);
}

fn diagnostics(text: &str) -> Vec<drconsole::runbook::diagnostic::Diagnostic> {
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    match format::parse(Path::new("fuzz.yaml"), text) {
        Ok(rb) => validate::validate(&rb, &support::runbook::env(), today),
        Err(d) => d,
    }
}

/// Malformed files of kinds the validator has no special case for: each
/// must give an error that points into the file, never a panic.
#[test]
fn odd_files_give_located_errors() {
    let header = "name: x\nservice: orders\nobjectives: { rto: 15m, rpo: 5m }\nowner: me\nlast_tested: 2026-11-01\n";
    let cases = [
        "\t- tabs are not indentation".to_string(),
        "[1, 2, 3]".to_string(),
        "name: x\nname: y\n".to_string(),
        "--- a\n--- b\n".to_string(),
        format!("{header}steps: {{}}\n"),
        format!("{header}steps:\n  - 42\n"),
        format!(
            "{header}steps:\n  - id: a\n    title: A\n    expect_within: soon\n    notify: x\n"
        ),
        format!(
            "{header}steps:\n  - id: a\n    title: A\n    wait: {{ until: [], timeout: 0s }}\n"
        ),
        format!("{header}steps:\n  - id: a\n    title: A\n    http: {{ url: x, method: FETCH }}\n"),
        format!(
            "{header}steps:\n  - id: a\n    title: A\n    http: {{ url: x, expect: {{ status: 999999 }} }}\n"
        ),
        format!(
            "{header}steps:\n  - id: a\n    title: A\n    check: [{{ region_health: {{ region: us-east-1, is: sideways }} }}]\n"
        ),
        format!("{header}steps:\n  - &a {{ id: a, title: A, notify: x }}\n  - *a\n"),
        format!("{header}last_tested: yesterday\nsteps: []\n"),
        format!(
            "{header}steps:\n  - id: a\n    title: A\n    action:\n      type: upsert-record\n      zone_id: Z0DEMO00000001\n      name: api.example.com.\n      record: {{ kind: txt, value: x }}\n"
        ),
    ];
    for text in cases {
        let d = diagnostics(&text);
        let errors: Vec<_> = d.iter().filter(|d| d.is_error()).collect();
        assert!(!errors.is_empty(), "no error for:\n{text}\n{d:?}");
        let lines = text.lines().count().max(1);
        for e in errors {
            assert!(
                e.pos.line >= 1 && e.pos.line <= lines + 1 && e.pos.column >= 1,
                "{e} points outside:\n{text}"
            );
            assert!(!e.message.is_empty());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn garbage_never_panics(text in "\\PC{0,300}") {
        let _ = diagnostics(&text);
    }

    #[test]
    fn damaged_runbooks_never_panic_and_point_into_the_file(
        file in 0usize..5,
        start in 0usize..4000,
        len in 0usize..40,
        insert in "[ :\\-\\[\\]{}#&*!|>'\"%@`a-z0-9\\n\\t$]{0,8}",
    ) {
        let text = std::fs::read_to_string(&shipped()[file]).unwrap();
        let mut start = start.min(text.len());
        while !text.is_char_boundary(start) { start -= 1; }
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) { end -= 1; }
        let damaged = format!("{}{}{}", &text[..start], insert, &text[end..]);
        let lines = damaged.lines().count().max(1);
        for d in diagnostics(&damaged) {
            prop_assert!(d.pos.line >= 1 && d.pos.line <= lines + 1, "{}", d);
        }
    }
}

/// A journal line that is complete but not a record (issue 7 item 2): the
/// run it belongs to may already have acted, so nothing may start afresh.
const STARTED: &str = r#"{"at":"2026-11-20T10:00:00Z","event":"run-started","run_id":"20261120T100000Z-1-abcd","runbook":"Billing","file":"runbooks/billing-replica-promotion.yaml","service":"billing","operator":"alice","session":"cli-1","host":"h","params":{}}"#;

fn journal_dir(home: &Path) -> PathBuf {
    home.join("data/journal")
}

fn write_journal(home: &Path, body: &[u8]) -> PathBuf {
    let dir = journal_dir(home);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("billing-20261120T100000Z-1-abcd.jsonl");
    std::fs::write(&path, body).unwrap();
    path
}

fn run_billing(home: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_drconsole"))
        .env("DRCONSOLE_HOME", home)
        .args(["runbook", "run"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/billing-replica-promotion.yaml"))
        .args(extra)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

fn journals(home: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(journal_dir(home))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

#[test]
fn a_corrupt_journal_blocks_a_new_run_of_its_service_and_names_the_line() {
    let home = tempfile::tempdir().unwrap();
    let path = write_journal(home.path(), format!("{STARTED}\ngarbage\n").as_bytes());
    for extra in [&[][..], &["--new"][..]] {
        let (code, text) = run_billing(home.path(), extra);
        assert_eq!(code, Some(1), "{extra:?}: {text}");
        assert!(
            text.contains(&format!("{}:2:", path.display())),
            "{extra:?}: {text}"
        );
        assert!(text.contains("--discard-journal"), "{extra:?}: {text}");
        assert_eq!(journals(home.path()), vec![path.clone()], "{text}");
    }
}

#[test]
fn invalid_utf8_in_a_journal_is_reported_once_with_its_line() {
    let home = tempfile::tempdir().unwrap();
    let mut body = format!("{STARTED}\n").into_bytes();
    body.extend_from_slice(b"{\"at\":\"\xff\xfe\"}\n");
    let path = write_journal(home.path(), &body);
    let (code, text) = run_billing(home.path(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("{}:2: not UTF-8", path.display())),
        "{text}"
    );
    assert_eq!(text.matches("UTF-8").count(), 1, "{text}");
}

#[test]
fn a_discarded_journal_is_set_aside_with_who_and_why_and_the_run_starts() {
    let home = tempfile::tempdir().unwrap();
    let path = write_journal(home.path(), format!("{STARTED}\ngarbage\n").as_bytes());
    let (code, text) = run_billing(
        home.path(),
        &["--discard-journal", path.to_str().unwrap(), "--reason", " "],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("a reason is required"), "{text}");
    assert!(path.exists());

    let (_, text) = run_billing(
        home.path(),
        &[
            "--discard-journal",
            path.to_str().unwrap(),
            "--reason",
            "garbage appended by a probe",
        ],
    );
    assert!(!path.exists(), "{text}");
    let aside = path.with_extension("jsonl.discarded");
    assert!(aside.exists(), "{text}");
    let record = std::fs::read_to_string(path.with_extension("jsonl.discard.json")).unwrap();
    assert!(record.contains("garbage appended by a probe"), "{record}");
    assert!(record.contains("\"operator\""), "{record}");
    // The new run started: it left its own journal to resume.
    assert!(text.contains("run left unfinished"), "{text}");
}

#[test]
fn a_torn_last_line_is_dropped_and_the_run_offered_for_resume() {
    let home = tempfile::tempdir().unwrap();
    let path = write_journal(
        home.path(),
        format!("{STARTED}\n{{\"at\":\"2026-11-20T10:00:01Z\",\"ev").as_bytes(),
    );
    let (code, text) = run_billing(home.path(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(&format!("--resume {}", path.display())),
        "{text}"
    );
}

#[test]
fn a_bad_incident_start_is_refused_before_anything_is_journaled() {
    let home = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--incident-start", "soon", "--incident-reason", "pager"],
            "`soon` is not a time: expected RFC 3339",
        ),
        (
            &["--incident-start", "25:00", "--incident-reason", "pager"],
            "`25:00` is not a time",
        ),
        (
            &[
                "--incident-start",
                "2999-01-01T00:00:00Z",
                "--incident-reason",
                "pager",
            ],
            "is in the future",
        ),
        (
            &[
                "--incident-start",
                "2020-01-01T00:00:00Z",
                "--incident-reason",
                "pager",
            ],
            "is more than 7 days before now",
        ),
        (
            &["--incident-start", "-5m", "--incident-reason", "  "],
            "declaring an incident needs a reason",
        ),
        (&["--incident-start", "-5m"], "--incident-reason"),
    ];
    for (extra, expected) in cases {
        let (code, text) = run_billing(home.path(), extra);
        assert_eq!(code, Some(2), "{extra:?}: {text}");
        assert!(text.contains(expected), "{extra:?}: {text}");
        assert!(!text.contains("panicked"), "{extra:?}: {text}");
        assert!(
            !journal_dir(home.path()).exists() || journals(home.path()).is_empty(),
            "{extra:?}: {text}"
        );
    }
}

#[test]
fn a_declared_incident_start_is_journaled_with_who_and_why() {
    let home = tempfile::tempdir().unwrap();
    let (_, text) = run_billing(
        home.path(),
        &[
            "--incident-start",
            "-3m",
            "--incident-reason",
            "pager at 12:25",
        ],
    );
    assert!(
        text.contains("the RTO clock counts from the outage's start"),
        "{text}"
    );
    let files = journals(home.path());
    assert_eq!(files.len(), 1, "{text}");
    let first = std::fs::read_to_string(&files[0]).unwrap();
    let started: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    let incident = &started["incident"];
    assert_eq!(incident["basis"], "declared", "{first}");
    assert_eq!(incident["reason"], "pager at 12:25", "{first}");
    assert!(
        incident["declared_by"]
            .as_str()
            .is_some_and(|w| !w.is_empty()),
        "{first}"
    );
    assert!(text.contains("--resume"), "{text}");
    assert!(
        !text.contains("--incident-start"),
        "a resume keeps the journaled start: {text}"
    );
}
