//! A follow session sees another process's run as it goes: a headless
//! `drconsole runbook run` writes its journal in one process while the
//! follow reader in this one shows each step change within 2 seconds of
//! the answer that caused it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drconsole::follow::decisions::DecisionKind;
use drconsole::follow::local::LocalJournals;
use drconsole::follow::task::{self, FollowFeed, FollowStatus};
use drconsole::follow::{RunRef, RunSource};
use drconsole::runbook::journal::{RunOutcome, StepState};

/// What an operator may wait for a follower to show a change.
const VISIBLE_WITHIN: Duration = Duration::from_secs(2);

const RUNBOOK: &str = r#"name: Follow me
description: Three manual steps and an announcement, answered one by one.
service: orders
objectives:
  rto: 15m
  rpo: 5m
owner: sre-team@example.com
last_tested: 2026-10-20
steps:
  - id: first
    title: First manual step
    manual: Do the first thing.
  - id: second
    title: Second manual step
    manual: Do the second thing.
  - id: announce
    title: Announce
    notify: "two steps done"
  - id: third
    title: Third manual step
    manual: Do the third thing.
"#;

struct Operator {
    child: Child,
    stdin: ChildStdin,
    output: Arc<Mutex<String>>,
}

impl Operator {
    fn start(home: &Path, runbook: &Path) -> Self {
        let env_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("environments/demo.toml");
        let mut child = Command::new(env!("CARGO_BIN_EXE_drconsole"))
            .env("DRCONSOLE_HOME", home)
            .arg("--env")
            .arg(env_file)
            .args(["runbook", "run"])
            .arg(runbook)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let output = Arc::new(Mutex::new(String::new()));
        let mut stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n) = stdout.read(&mut buf)
                && n > 0
            {
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdin = child.stdin.take().unwrap();
        Self {
            child,
            stdin,
            output,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Waits until the run has asked `n` questions.
    fn asked(&mut self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.output().matches("done? [y]").count() < n {
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "the run exited:\n{}",
                self.output()
            );
            assert!(Instant::now() < deadline, "no question:\n{}", self.output());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn answer(&mut self) {
        writeln!(self.stdin, "y").unwrap();
        self.stdin.flush().unwrap();
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn journal(dir: &Path) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(path) = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
        {
            return path;
        }
        assert!(Instant::now() < deadline, "no journal in {}", dir.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the follower to show what `shown` accepts; how long it took.
async fn seen(
    feed: &mut FollowFeed,
    what: &str,
    shown: impl Fn(&FollowStatus) -> bool,
) -> Duration {
    let start = Instant::now();
    let limit = Duration::from_secs(20);
    loop {
        if shown(&feed.status.borrow_and_update()) {
            return start.elapsed();
        }
        let changed = tokio::time::timeout(limit, feed.status.changed()).await;
        assert!(
            matches!(changed, Ok(Ok(()))),
            "the follower never showed {what}: {:?}",
            feed.status.borrow().run.as_ref().map(|r| &r.view.steps)
        );
    }
}

fn state_of(status: &FollowStatus, step: &str) -> Option<StepState> {
    let run = status.run.as_ref()?;
    let view = run.view.steps.iter().find(|s| s.id == step)?;
    Some(view.run.state.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_sees_each_step_change_of_another_process_within_two_seconds() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let runbook = tmp.path().join("follow-me.yaml");
    std::fs::write(&runbook, RUNBOOK).unwrap();
    let mut operator = Operator::start(&home, &runbook);
    operator.asked(1);

    let journals = home.join("data/journal");
    let path = journal(&journals);
    let source = LocalJournals::new(&journals);
    let run: RunRef = LocalJournals::run_in(&path).unwrap();
    let active = source.active_runs().unwrap();
    assert_eq!(active.len(), 1, "the run in progress is offered");
    assert_eq!(active[0].run, run);
    let mut feed = task::spawn(
        Arc::new(source),
        run,
        Arc::new(Vec::new()),
        task::POLL_EVERY,
    );
    seen(&mut feed, "the first question", |s| {
        state_of(s, "first") == Some(StepState::AwaitingConfirmation)
    })
    .await;
    let status = feed.status.borrow().clone();
    let followed = status.run.unwrap();
    assert!(
        followed.runbook_known,
        "titles come from the journal's runbook file"
    );
    assert_eq!(followed.view.steps[0].title, "First manual step");

    for (n, step) in ["first", "second", "third"].into_iter().enumerate() {
        operator.asked(n + 1);
        operator.answer();
        let took = seen(&mut feed, step, |s| {
            state_of(s, step) == Some(StepState::Done)
        })
        .await;
        assert!(took < VISIBLE_WITHIN, "{step} done shown after {took:?}");
        if step == "second" {
            let took = seen(&mut feed, "the announcement", |s| {
                state_of(s, "announce") == Some(StepState::Done)
            })
            .await;
            assert!(took < VISIBLE_WITHIN, "announce shown after {took:?}");
        }
    }
    let took = seen(&mut feed, "the end of the run", |s| {
        s.run
            .as_ref()
            .is_some_and(|r| matches!(r.view.outcome, Some(RunOutcome::Completed { .. })))
    })
    .await;
    assert!(took < VISIBLE_WITHIN, "the end shown after {took:?}");

    let status = feed.status.borrow().clone();
    let followed = status.run.unwrap();
    let confirmed: Vec<_> = followed
        .decisions
        .iter()
        .filter(|d| d.kind == DecisionKind::Confirmed)
        .map(|d| d.step.clone().unwrap())
        .collect();
    assert_eq!(confirmed, ["first", "second", "third"]);
    assert!(
        followed
            .decisions
            .iter()
            .all(|d| d.who.as_deref() == Some(followed.operator.as_str())),
        "{:?}",
        followed.decisions
    );
    assert!(status.error.is_none(), "{:?}", status.error);
}
