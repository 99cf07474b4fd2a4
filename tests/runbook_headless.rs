//! `drconsole runbook run` as an operator at a terminal meets it: answers
//! typed over time, lines typed ahead or between prompts, the end of input,
//! Ctrl-C, and runbook text full of escape sequences. The run acts on the
//! fake world; the terminal is a pair of channels and a shared buffer.

mod support;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drconsole::domain::incident::{Basis, IncidentStart};
use drconsole::runbook::headless::{Answers, Line, Operator, run_headless};
use drconsole::runbook::journal::{self, Entry, RunOutcome};
use drconsole::runbook::lock;
use drconsole::runbook::plan;
use drconsole::runbook::runner::{RunEnd, RunSpec};
use drconsole::runbook::vars::Variables;
use support::fake::FakeWorld;
use support::runbook::{orders, runbook};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

const TWO_ACTIONS: &str = r#"  - id: first
    title: Disable the us-east-1 check
    action: { type: update-health-check, health_check_id: hc-orders-use1, disabled: true }
  - id: second
    title: Disable the us-west-2 check
    action: { type: update-health-check, health_check_id: hc-orders-usw2, disabled: true }
"#;

/// A wait that never ends by itself in the fake world (nothing fails over).
const LONG_WAIT: &str = r#"  - id: writable
    title: Secondary writable
    wait:
      until:
        - cluster_role: { cluster: orders-secondary, is: writer }
      timeout: 1h
      poll: 1s
"#;

const QUESTION: &str = "make this call? [y/n]: ";

/// What the run printed so far, shared with the test.
#[derive(Clone, Default)]
struct Screen(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Screen {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Screen {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

struct Terminal {
    dir: PathBuf,
    keys: Option<mpsc::Sender<Result<Line, String>>>,
    ctrl_c: mpsc::Sender<()>,
    screen: Screen,
    world: Arc<FakeWorld>,
    run: JoinHandle<anyhow::Result<RunEnd>>,
}

impl Terminal {
    fn start(dir: &Path, steps: &str, world: FakeWorld) -> Terminal {
        Terminal::start_during(dir, steps, world, None)
    }

    /// Starts a run that answers an outage begun at `incident`.
    fn start_during(
        dir: &Path,
        steps: &str,
        world: FakeWorld,
        incident: Option<IncidentStart>,
    ) -> Terminal {
        let runbook = runbook(steps);
        let vars = plan::parameter_values(&runbook, &Variables::new(), &Variables::new()).unwrap();
        let spec = RunSpec {
            runbook,
            service: orders(),
            vars,
            operator: "alice".into(),
            session: "test".into(),
            journal_dir: dir.join("journal"),
            lock_dir: dir.join("locks"),
            resume: None,
            // The world is a file: a monitor of its own sees what the
            // run's provider does.
            feed: drconsole::monitor::spawn_feed(
                Arc::new(FakeWorld::new(dir)),
                Duration::from_millis(50),
            )
            .0,
            incident,
            safety: Default::default(),
        };
        let (keys, lines) = mpsc::channel(16);
        let (ctrl_c, interrupts) = mpsc::channel(4);
        let operator = Operator {
            lines,
            interrupts,
            answers: Answers::Typed,
        };
        let world = Arc::new(world);
        let screen = Screen::default();
        let run = tokio::spawn(run_headless(
            spec,
            world.provider(false),
            operator,
            screen.clone(),
        ));
        Terminal {
            dir: dir.to_path_buf(),
            keys: Some(keys),
            ctrl_c,
            screen,
            world,
            run,
        }
    }

    async fn type_line(&self, text: &str) {
        let keys = self.keys.as_ref().expect("input is open");
        keys.send(Ok(Line::now(text))).await.unwrap();
    }

    /// Ctrl-D.
    fn end_input(&mut self) {
        self.keys = None;
    }

    /// Waits until `needle` has been printed `count` times.
    async fn wait_for(&self, needle: &str, count: usize) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = self.screen.text();
            if text.matches(needle).count() >= count {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "never printed `{needle}` {count} time(s):\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn finish(self) -> (RunEnd, String) {
        let end = tokio::time::timeout(Duration::from_secs(10), self.run)
            .await
            .unwrap_or_else(|_| panic!("the run did not end:\n{}", self.screen.text()))
            .unwrap()
            .unwrap();
        (end, self.screen.text())
    }

    fn journal(&self) -> PathBuf {
        only_journal(&self.dir)
    }

    fn lock_released(&self) -> bool {
        lock::holder(&self.dir.join("locks"), "orders").is_none()
    }
}

fn only_journal(dir: &Path) -> PathBuf {
    let mut files: Vec<_> = std::fs::read_dir(dir.join("journal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.remove(0)
}

/// The journal's confirmations and action records, as `kind:step`.
fn actions(journal: &Path) -> Vec<String> {
    journal::read(journal)
        .unwrap()
        .into_iter()
        .filter_map(|r| match r.entry {
            Entry::Confirmed { step, .. } => Some(format!("confirmed:{step}")),
            Entry::Intent { step, .. } => Some(format!("intent:{step}")),
            Entry::ActionDone { step, .. } => Some(format!("action-done:{step}")),
            _ => None,
        })
        .collect()
}

fn completed(end: &RunEnd) -> bool {
    matches!(end, RunEnd::Finished(RunOutcome::Completed { .. }))
}

/// Issue 7, item 1: after `y` to the first action, the first action's
/// prompt was printed again, and the next `y` made the second call unseen.
#[tokio::test]
async fn a_y_only_confirms_the_action_whose_call_is_on_the_screen() {
    let tmp = tempfile::tempdir().unwrap();
    let term = Terminal::start(tmp.path(), TWO_ACTIONS, FakeWorld::new(tmp.path()));
    term.wait_for(QUESTION, 1).await;
    term.type_line("y").await;
    // The operator reads the screen before answering again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_second_y = term.screen.text();
    term.type_line("y").await;
    let journal = term.journal();
    let world = term.world.clone();
    let (end, out) = term.finish().await;

    assert_eq!(
        before_second_y
            .matches("\"HealthCheckId\": \"hc-orders-use1\"")
            .count(),
        1,
        "the first call is shown once:\n{before_second_y}"
    );
    assert_eq!(
        before_second_y.matches(QUESTION).count(),
        2,
        "one question per action:\n{before_second_y}"
    );
    let second_call = before_second_y.find("hc-orders-usw2").unwrap_or_else(|| {
        panic!("the second call is not shown before its `y`:\n{before_second_y}")
    });
    assert!(
        second_call < before_second_y.rfind(QUESTION).unwrap(),
        "{before_second_y}"
    );
    assert!(completed(&end), "{out}");
    assert!(out.contains("\nrun complete: RTO "), "{out}");
    assert_eq!(world.executed.load(Ordering::SeqCst), 2);
    assert_eq!(
        actions(&journal),
        [
            "confirmed:first",
            "intent:first",
            "action-done:first",
            "confirmed:second",
            "intent:second",
            "action-done:second"
        ]
    );
}

#[tokio::test]
async fn a_line_typed_ahead_never_answers_the_next_prompt() {
    let tmp = tempfile::tempdir().unwrap();
    let term = Terminal::start(tmp.path(), TWO_ACTIONS, FakeWorld::new(tmp.path()));
    term.wait_for(QUESTION, 1).await;
    term.type_line("y").await;
    term.type_line("y").await;
    let screen = term.wait_for(QUESTION, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        actions(&term.journal()).len(),
        3,
        "only the first: {screen}"
    );
    let screen = term.screen.text();
    assert!(screen.contains("ignored `y`: "), "{screen}");

    term.type_line("abort not today").await;
    let journal = term.journal();
    let world = term.world.clone();
    let (end, out) = term.finish().await;
    assert!(
        matches!(end, RunEnd::Finished(RunOutcome::Aborted { ref reason, .. }) if reason == "not today"),
        "{out}"
    );
    assert_eq!(world.executed.load(Ordering::SeqCst), 1);
    assert_eq!(
        actions(&journal),
        ["confirmed:first", "intent:first", "action-done:first"]
    );
}

/// Issue 8: stdin was not read during a wait.
#[tokio::test]
async fn skip_and_abort_are_read_while_a_wait_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let term = Terminal::start(tmp.path(), LONG_WAIT, FakeWorld::new(tmp.path()));
    term.wait_for("writable waiting", 1).await;
    term.type_line("y").await;
    term.wait_for(
        "ignored `y`: nothing is asked while step `writable` is waiting",
        1,
    )
    .await;
    term.type_line("skip").await;
    term.wait_for("! a reason is required", 1).await;
    term.type_line("abort drill over").await;
    let journal = term.journal();
    let released = term.dir.clone();
    let (end, out) = term.finish().await;
    assert!(
        matches!(end, RunEnd::Finished(RunOutcome::Aborted { ref reason, .. }) if reason == "drill over"),
        "{out}"
    );
    assert!(out.contains("\nrun aborted after "), "{out}");
    assert!(lock::holder(&released.join("locks"), "orders").is_none());
    assert!(matches!(
        journal::read(&journal).unwrap().last().map(|r| &r.entry),
        Some(Entry::Finished {
            outcome: RunOutcome::Aborted { .. },
            ..
        })
    ));
}

/// Issue 7, item 14: the end of input said the run was left to resume,
/// then the run completed.
#[tokio::test]
async fn the_end_of_input_during_a_wait_lets_the_run_complete_and_says_only_that() {
    const FAILOVER_THEN_WAIT: &str = r#"  - id: failover
    title: Fail over
    action:
      type: failover-global-cluster
      region: us-west-2
      global_cluster: orders-global
      target_cluster: orders-secondary
      allow_data_loss: true
  - id: writable
    title: Secondary writable
    wait:
      until:
        - cluster_role: { cluster: orders-secondary, is: writer }
      timeout: 1h
      poll: 1s
"#;
    let tmp = tempfile::tempdir().unwrap();
    let mut term = Terminal::start(tmp.path(), FAILOVER_THEN_WAIT, FakeWorld::new(tmp.path()));
    term.wait_for(QUESTION, 1).await;
    term.type_line("y").await;
    term.end_input();
    let (end, out) = term.finish().await;
    assert!(completed(&end), "{out}");
    assert!(!out.contains("end of input"), "{out}");
    assert!(!out.contains("unfinished"), "{out}");
    assert!(out.contains("\nrun complete: RTO "), "{out}");
}

#[tokio::test]
async fn ctrl_c_leaves_the_run_resumable_and_releases_the_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let term = Terminal::start(tmp.path(), LONG_WAIT, FakeWorld::new(tmp.path()));
    term.wait_for("writable waiting", 1).await;
    term.ctrl_c.send(()).await.unwrap();
    let journal = term.journal();
    let dir = term.dir.clone();
    let (end, out) = term.finish().await;
    assert_eq!(
        end,
        RunEnd::Detached {
            journal: journal.clone()
        },
        "{out}"
    );
    assert!(
        out.contains("interrupted: stopping the run, to resume later\n"),
        "{out}"
    );
    assert!(
        out.ends_with(&format!(
            "run left unfinished; its journal is {}\n",
            journal.display()
        )),
        "{out}"
    );
    assert!(lock::holder(&dir.join("locks"), "orders").is_none());
    assert_eq!(resumable(&dir.join("journal")), vec![journal]);
}

#[tokio::test]
async fn a_second_ctrl_c_stops_a_call_that_never_returns() {
    let tmp = tempfile::tempdir().unwrap();
    let mut world = FakeWorld::new(tmp.path());
    world.hang_before_apply = true;
    let term = Terminal::start(tmp.path(), TWO_ACTIONS, world);
    term.wait_for(QUESTION, 1).await;
    term.type_line("y").await;
    // Running once while its facts are gathered, again while it is sent.
    term.wait_for("first running", 2).await;
    term.ctrl_c.send(()).await.unwrap();
    term.wait_for("Ctrl-C again stops at once", 1).await;
    assert!(!term.lock_released(), "the call is still in flight");
    term.ctrl_c.send(()).await.unwrap();
    let journal = term.journal();
    let dir = term.dir.clone();
    let (end, out) = term.finish().await;
    assert_eq!(
        end,
        RunEnd::Detached {
            journal: journal.clone()
        },
        "{out}"
    );
    assert!(lock::holder(&dir.join("locks"), "orders").is_none());
    assert_eq!(
        actions(&journal),
        ["confirmed:first", "intent:first"],
        "the intent stays open: a resumed run checks before calling again"
    );
    assert_eq!(resumable(&dir.join("journal")), vec![journal]);
}

/// Issue 7, item 9: runbook text was printed raw.
#[tokio::test]
async fn escape_sequences_never_reach_the_terminal() {
    // YAML's double-quoted escapes: \e is ESC, \a BEL, \u009b the C1 CSI.
    const HOSTILE: &str = r#"  - id: tell
    title: "Tell \e]0;pwned\a"
    manual: "\e[2Jwipe\nsecond line \u009b31m"
  - id: say
    title: Say
    notify: "\e[31mred\r"
"#;
    let tmp = tempfile::tempdir().unwrap();
    let term = Terminal::start(tmp.path(), HOSTILE, FakeWorld::new(tmp.path()));
    term.wait_for("done? [y]", 1).await;
    term.type_line("\u{1b}[2Jnope").await;
    term.wait_for("not understood", 1).await;
    term.type_line("y").await;
    let (end, out) = term.finish().await;
    assert!(completed(&end), "{out}");
    assert!(
        !out.contains(|c: char| c.is_control() && c != '\n'),
        "{out:?}"
    );
    assert!(
        out.contains("  Tell ]0;pwned\n  [2Jwipe\n  second line 31m\n"),
        "{out}"
    );
    assert!(out.contains("not understood: `[2Jnope`"), "{out}");
    assert!(out.contains(" say done in 00:00 ([31mred )\n"), "{out}");
}

/// Unfinished runs of `orders` in `journal_dir`; none may be unreadable.
fn resumable(journal_dir: &Path) -> Vec<std::path::PathBuf> {
    let scan = journal::scan(journal_dir, "orders").unwrap();
    assert!(scan.unreadable.is_empty(), "{:?}", scan.unreadable);
    scan.unfinished.into_iter().map(|(path, _)| path).collect()
}

/// The completion line of a run started two minutes into an outage counts
/// from the outage and gives the runbook's own time beside it.
#[tokio::test]
async fn a_run_during_an_outage_reports_the_time_since_it_began() {
    let tmp = tempfile::tempdir().unwrap();
    let one_action = TWO_ACTIONS.split("  - id: second").next().unwrap();
    let incident = IncidentStart {
        start: chrono::Utc::now() - chrono::Duration::minutes(2),
        basis: Basis::Transition,
        declared_by: None,
        reason: None,
    };
    let term = Terminal::start_during(
        tmp.path(),
        one_action,
        FakeWorld::new(tmp.path()),
        Some(incident),
    );
    term.wait_for(QUESTION, 1).await;
    term.type_line("y").await;
    let journal = term.journal();
    let (end, out) = term.finish().await;
    assert!(completed(&end), "{out}");
    assert!(
        out.contains("\nrun complete: orders restored 2m0")
            && out.contains(" after the outage began (RTO 15m) · runbook took "),
        "{out}"
    );
    let Some(Entry::Finished {
        since_outage: Some(since),
        elapsed_s: Some(runbook),
        ..
    }) = journal::read(&journal)
        .unwrap()
        .last()
        .map(|r| r.entry.clone())
    else {
        panic!("no finished record with the time since the outage")
    };
    assert!(
        since >= Duration::from_secs(120) && runbook < 60.0,
        "{since:?} {runbook}"
    );
}
