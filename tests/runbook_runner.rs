//! The runner end to end against an in-test provider and a local HTTP app,
//! including a child process killed mid-run and the run resumed.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use drconsole::runbook::format;
use drconsole::runbook::headless::{Answers, Line, Operator, run_headless};
use drconsole::runbook::journal::{self, Entry, RunOutcome};
use drconsole::runbook::lock;
use drconsole::runbook::plan;
use drconsole::runbook::runner::{RunEnd, RunSpec};
use drconsole::runbook::vars::Variables;
use support::fake::{FakeWorld, demo_app};
use support::runbook::orders;

const RUNBOOK: &str = r#"name: runner test
service: orders
objectives: { rto: 15m, rpo: 5m }
owner: me
last_tested: 2026-11-01
parameters:
  app: { default: "${demo_app_url}" }
steps:
  - id: down
    title: Primary is down
    check:
      - region_health: { region: us-east-1, is: unhealthy }
  - id: failover
    title: Fail over
    action:
      type: failover-global-cluster
      region: us-west-2
      global_cluster: orders-global
      target_cluster: orders-secondary
      allow_data_loss: true
    confirm: typed
  - id: writable
    title: Writable
    wait:
      until:
        - cluster_role: { cluster: orders-secondary, is: writer }
      timeout: 2s
      poll: 1s
  - id: login
    title: Login
    http:
      method: POST
      url: ${app}/auth/login
      capture: { token: /token }
  - id: write
    title: Write
    http:
      method: POST
      url: ${app}/api/test/write
      headers: { Authorization: "Bearer ${token}" }
      expect: { status: 201 }
  - id: rto
    title: RTO
    notify: recovered in ${run_elapsed}
"#;

struct Setup {
    dir: PathBuf,
}

impl Setup {
    fn new(dir: &Path) -> Setup {
        let setup = Setup {
            dir: dir.to_path_buf(),
        };
        std::fs::write(setup.runbook_path(), RUNBOOK).unwrap();
        setup
    }

    fn runbook_path(&self) -> PathBuf {
        self.dir.join("runbook.yaml")
    }

    fn journal_dir(&self) -> PathBuf {
        self.dir.join("journal")
    }

    fn lock_dir(&self) -> PathBuf {
        self.dir.join("locks")
    }

    fn spec(&self, app_url: &str, resume: Option<PathBuf>) -> RunSpec {
        let runbook = format::load(&self.runbook_path()).unwrap();
        let builtins: Variables = [("demo_app_url".to_string(), app_url.to_string())].into();
        let vars = plan::parameter_values(&runbook, &Variables::new(), &builtins).unwrap();
        RunSpec {
            runbook,
            service: orders(),
            vars,
            operator: "alice".into(),
            session: "test".into(),
            journal_dir: self.journal_dir(),
            lock_dir: self.lock_dir(),
            resume,
            // The world is a file: a monitor of its own sees what the
            // run's provider does.
            feed: drconsole::monitor::spawn_feed(
                Arc::new(FakeWorld::new(&self.dir)),
                Duration::from_millis(50),
            )
            .0,
            incident: None,
            safety: Default::default(),
        }
    }

    fn resumable(&self) -> Vec<PathBuf> {
        let scan = journal::scan(&self.journal_dir(), "orders").unwrap();
        assert!(scan.unreadable.is_empty(), "{:?}", scan.unreadable);
        scan.unfinished.into_iter().map(|(path, _)| path).collect()
    }

    fn only_journal(&self) -> PathBuf {
        let mut files: Vec<_> = std::fs::read_dir(self.journal_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1, "{files:?}");
        files.remove(0)
    }

    fn events(&self) -> Vec<Entry> {
        journal::read(&self.only_journal())
            .unwrap()
            .into_iter()
            .map(|r| r.entry)
            .collect()
    }
}

/// A headless run answered by a script: each line of `input` answers the
/// next prompt.
async fn headless(
    spec: RunSpec,
    world: &Arc<FakeWorld>,
    read_only: bool,
    input: &str,
) -> (RunEnd, String) {
    let (lines_tx, lines) = tokio::sync::mpsc::channel(64);
    for line in input.lines() {
        lines_tx.send(Ok(Line::now(line))).await.unwrap();
    }
    drop(lines_tx);
    let (_interrupts_tx, interrupts) = tokio::sync::mpsc::channel(1);
    let operator = Operator {
        lines,
        interrupts,
        answers: Answers::Scripted,
    };
    let mut out = Vec::new();
    let end = run_headless(spec, world.provider(read_only), operator, &mut out)
        .await
        .unwrap();
    (end, String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn a_headless_run_confirms_fails_over_smoke_tests_and_reports_the_rto() {
    let tmp = tempfile::tempdir().unwrap();
    let setup = Setup::new(tmp.path());
    let world = Arc::new(FakeWorld::new(tmp.path()));
    let app = demo_app().await;

    let (end, out) = headless(
        setup.spec(&app, None),
        &world,
        false,
        "orders\norders-global\n",
    )
    .await;

    assert!(
        matches!(end, RunEnd::Finished(RunOutcome::Completed { .. })),
        "{out}"
    );
    assert_eq!(world.executed.load(Ordering::SeqCst), 1);
    assert_eq!(
        world.observed.load(Ordering::SeqCst),
        0,
        "checks and waits are evaluated on the monitor's polls, not the run's own"
    );
    assert!(world.failed_over());
    assert!(
        out.contains("type `orders-global` to make this call"),
        "{out}"
    );
    assert!(out.contains("FailoverGlobalCluster"), "{out}");
    assert!(
        out.contains("type `orders-global` exactly to confirm"),
        "a wrong target is refused: {out}"
    );
    assert!(out.contains("run complete: RTO"), "{out}");
    let events = setup.events();
    let intent = events
        .iter()
        .position(|e| matches!(e, Entry::Intent { .. }))
        .unwrap();
    let done = events
        .iter()
        .position(|e| matches!(e, Entry::ActionDone { .. }))
        .unwrap();
    assert!(intent < done);
    assert!(events.iter().any(
        |e| matches!(e, Entry::Captured { name, chars, .. } if name == "token" && *chars == 3)
    ));
    assert!(matches!(
        events.last(),
        Some(Entry::Finished {
            outcome: RunOutcome::Completed { .. },
            ..
        })
    ));
    assert!(
        lock::holder(&setup.lock_dir(), "orders").is_none(),
        "the lock is released"
    );
}

#[tokio::test]
async fn a_waiting_run_publishes_its_status_on_change_not_on_every_clock_step() {
    let tmp = tempfile::tempdir().unwrap();
    let setup = Setup::new(tmp.path());
    let world = Arc::new(FakeWorld::new(tmp.path()));
    let mut spec = setup.spec("http://127.0.0.1:9", None);
    spec.runbook = format::parse(
        &setup.runbook_path(),
        "name: wait\nservice: orders\nobjectives: { rto: 15m, rpo: 5m }\nowner: me\nlast_tested: 2026-11-01\nsteps:\n  - id: writable\n    title: Writable\n    wait:\n      until:\n        - cluster_role: { cluster: orders-secondary, is: writer }\n      timeout: 1h\n      poll: 1s\n",
    )
    .unwrap();
    let mut handle = drconsole::runbook::runner::start(spec, world.provider(false)).unwrap();
    let mut published = 0;
    let window = tokio::time::sleep(Duration::from_millis(1500));
    tokio::pin!(window);
    loop {
        tokio::select! {
            changed = handle.status.changed() => {
                changed.unwrap();
                published += 1;
            }
            () = &mut window => break,
        }
    }
    // Waiting, then the first observation: nothing changes after that
    // although the condition is evaluated every 100 ms.
    assert!(
        published <= 3,
        "{published} statuses in 1.5 s of an unchanging wait"
    );
    let view = handle.status.borrow().view.clone();
    assert!(view.steps[0].run.observed.is_some(), "{view:?}");
    drop(handle.inputs);
    handle.task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_read_only_session_cannot_act_and_the_skip_is_journaled() {
    let tmp = tempfile::tempdir().unwrap();
    let setup = Setup::new(tmp.path());
    let world = Arc::new(FakeWorld::new(tmp.path()));
    let (end, out) = headless(
        setup.spec("http://127.0.0.1:9", None),
        &world,
        true,
        // The wait that follows times out (nothing failed over), then abort.
        "skip\nskip watching only\nwhat?\nabort drill over\n",
    )
    .await;
    assert_eq!(world.executed.load(Ordering::SeqCst), 0);
    assert!(out.contains("read-only"), "{out}");
    assert!(out.contains("a reason is required"), "{out}");
    assert!(out.contains("timed out after 2s"), "{out}");
    assert!(out.contains("not understood"), "{out}");
    assert!(
        matches!(end, RunEnd::Finished(RunOutcome::Aborted { ref reason, .. }) if reason == "drill over"),
        "{out}"
    );
    assert!(setup.events().iter().any(|e| matches!(e,
        Entry::Step { step, state: journal::StepState::Skipped { reason } } if step == "failover" && reason == "watching only")));
}

#[tokio::test]
async fn end_of_input_leaves_the_run_resumable_and_a_second_run_is_locked_out_meanwhile() {
    let tmp = tempfile::tempdir().unwrap();
    let setup = Setup::new(tmp.path());
    let world = Arc::new(FakeWorld::new(tmp.path()));

    let handle = drconsole::runbook::runner::start(
        setup.spec("http://127.0.0.1:9", None),
        world.provider(false),
    )
    .unwrap();
    let second = drconsole::runbook::runner::start(
        setup.spec("http://127.0.0.1:9", None),
        world.provider(false),
    );
    let Err(err) = second else {
        panic!("a second run started")
    };
    assert!(
        err.to_string()
            .starts_with("a runbook is already running on `orders`: held by "),
        "{err}"
    );
    let journal = handle.status.borrow().journal.clone();
    assert!(
        err.to_string()
            .ends_with(&format!(", journal {}", journal.display())),
        "{err}"
    );
    drop(handle.inputs);
    let end = handle.task.await.unwrap().unwrap();
    assert!(matches!(end, RunEnd::Detached { .. }));

    let (end, out) = headless(setup.spec("http://127.0.0.1:9", None), &world, false, "").await;
    assert!(matches!(end, RunEnd::Detached { .. }), "{out}");
    assert!(
        out.contains(
            "end of input: nothing can answer this prompt\nrun left unfinished; its journal is "
        ),
        "{out}"
    );
    assert!(!out.contains("run complete"), "{out}");
    assert_eq!(setup.resumable().len(), 2);
}

// ---- crash and resume -------------------------------------------------------

const CHILD_DIR: &str = "DRCONSOLE_TEST_CHILD_DIR";
const CHILD_MODE: &str = "DRCONSOLE_TEST_CHILD_MODE";

/// The child process of the crash tests: runs the runbook and confirms the
/// failover, whose call then never returns; the parent kills it.
#[tokio::test]
#[ignore = "entry point of the child process the crash tests start and kill"]
async fn crash_child() {
    let dir = PathBuf::from(std::env::var(CHILD_DIR).unwrap());
    let mut world = FakeWorld::new(&dir);
    match std::env::var(CHILD_MODE).unwrap().as_str() {
        "applied" => world.hang_after_apply = true,
        _ => world.hang_before_apply = true,
    }
    let world = Arc::new(world);
    let setup = Setup { dir };
    headless(
        setup.spec("http://127.0.0.1:9", None),
        &world,
        false,
        "orders-global\n",
    )
    .await;
    unreachable!("the failover call never returns");
}

/// Starts the child, waits until its journal holds the failover's intent,
/// and kills it with SIGKILL.
fn crash_in_the_middle(dir: &Path, mode: &str) {
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["crash_child", "--exact", "--ignored", "--nocapture"])
        .env(CHILD_DIR, dir)
        .env(CHILD_MODE, mode)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let setup = Setup {
        dir: dir.to_path_buf(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let intent_written = setup.journal_dir().exists()
            && std::fs::read_dir(setup.journal_dir()).unwrap().count() == 1
            && std::fs::read_to_string(setup.only_journal())
                .unwrap()
                .contains(r#""event":"intent""#);
        let effect_visible = mode != "applied" || dir.join("failed-over").exists();
        if intent_written && effect_visible {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the child never reached the failover"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the child exited early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // std's Child::kill sends SIGKILL on unix: no cleanup, no last words.
    child.kill().unwrap();
    child.wait().unwrap();
    let holder =
        lock::holder(&setup.lock_dir(), "orders").expect("the dead child's lock is left behind");
    assert_ne!(holder.pid, std::process::id());
}

#[tokio::test]
async fn a_run_killed_after_its_call_took_effect_resumes_without_calling_again() {
    let tmp = tempfile::tempdir().unwrap();
    let setup = Setup::new(tmp.path());
    crash_in_the_middle(tmp.path(), "applied");

    let journal = setup.only_journal();
    assert_eq!(setup.resumable(), vec![journal.clone()]);
    let world = Arc::new(FakeWorld::new(tmp.path()));
    let app = demo_app().await;
    let (end, out) = headless(setup.spec(&app, Some(journal)), &world, false, "").await;

    assert!(
        matches!(end, RunEnd::Finished(RunOutcome::Completed { .. })),
        "{out}"
    );
    assert_eq!(
        world.executed.load(Ordering::SeqCst),
        0,
        "never repeated: {out}"
    );
    let events = setup.events();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Entry::Intent { .. }))
            .count(),
        1
    );
    assert!(events.iter().any(|e| matches!(e, Entry::Resumed { .. })));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Entry::Verified { applied: true, .. }))
    );
    assert!(out.contains("verifying"), "{out}");
}

#[tokio::test]
async fn a_run_killed_before_its_call_took_effect_asks_again_and_calls_once() {
    let tmp = tempfile::tempdir().unwrap();
    let setup = Setup::new(tmp.path());
    crash_in_the_middle(tmp.path(), "not-applied");

    let world = Arc::new(FakeWorld::new(tmp.path()));
    let app = demo_app().await;
    let (end, out) = headless(
        setup.spec(&app, Some(setup.only_journal())),
        &world,
        false,
        "orders-global\n",
    )
    .await;

    assert!(
        matches!(end, RunEnd::Finished(RunOutcome::Completed { .. })),
        "{out}"
    );
    assert_eq!(world.executed.load(Ordering::SeqCst), 1);
    assert!(out.contains("did not take effect"), "{out}");
    let events = setup.events();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Entry::Verified { applied: false, .. }))
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Entry::Intent { .. }))
            .count(),
        2
    );
}

#[tokio::test]
async fn headless_a_data_loss_failover_of_a_healthy_primary_waits_for_an_override() {
    let tmp = tempfile::tempdir().unwrap();
    let setup = Setup::new(tmp.path());
    let mut world = FakeWorld::new(tmp.path());
    world.primary_healthy = true;
    let world = Arc::new(world);
    let app = demo_app().await;
    let mut spec = setup.spec(&app, None);
    // The healthy primary is this world's own setting: the run's monitor
    // must watch this world, not a copy read from its file.
    spec.feed = drconsole::monitor::spawn_feed(world.clone(), Duration::from_millis(50)).0;
    let (end, out) = headless(
        spec,
        &world,
        false,
        "skip sure it is down\norders-global\noverride\noverride game day\norders-global\n",
    )
    .await;
    assert!(
        matches!(end, RunEnd::Finished(RunOutcome::Completed { .. })),
        "{out}"
    );
    assert!(
        out.contains("! us-east-1 (writer region): healthy"),
        "the facts are printed: {out}"
    );
    assert!(
        out.contains("BLOCKED by rule `data-loss failover of a healthy primary`"),
        "{out}"
    );
    assert!(
        out.contains("blocked by safety rules (data-loss failover of a healthy primary)"),
        "confirming without an override is refused: {out}"
    );
    assert!(out.contains("a reason is required"), "{out}");
    assert_eq!(world.executed.load(Ordering::SeqCst), 1);
    let events = setup.events();
    let overridden = events
        .iter()
        .position(|e| matches!(e, Entry::Overridden { reason, .. } if reason == "game day"))
        .expect("the override is journaled");
    let intent = events
        .iter()
        .position(|e| matches!(e, Entry::Intent { .. }))
        .unwrap();
    assert!(overridden < intent);
}
