//! The demo survives a restart as AWS would: a `drconsole runbook run`
//! killed with SIGKILL in the middle of a wait is resumed by a new process,
//! against the simulated world the first one left, and completes.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Simulated seconds per real second: the switchover takes six to twelve
/// seconds, long enough to be killed in the middle of its wait.
const TIME_SCALE: &str = "10.0";

struct Demo {
    home: PathBuf,
    env_file: PathBuf,
    runbook: PathBuf,
}

impl Demo {
    fn new(root: &Path) -> Self {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let demo = std::fs::read_to_string(manifest.join("environments/demo.toml")).unwrap();
        assert!(
            demo.contains("time_scale = 1.0"),
            "the demo's time scale moved"
        );
        let env_file = root.join("demo.toml");
        std::fs::write(
            &env_file,
            demo.replace("time_scale = 1.0", &format!("time_scale = {TIME_SCALE}")),
        )
        .unwrap();
        Self {
            home: root.join("home"),
            env_file,
            runbook: manifest.join("runbooks/orders-planned-switchover.yaml"),
        }
    }

    fn world_file(&self) -> PathBuf {
        self.home.join("data/demo-worlds/demo.json")
    }

    fn journal_dir(&self) -> PathBuf {
        self.home.join("data/journal")
    }

    fn journal(&self) -> Option<PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(self.journal_dir())
            .ok()?
            .map(|e| e.unwrap().path())
            .collect();
        assert!(files.len() <= 1, "{files:?}");
        files.pop()
    }

    fn run(&self, extra: &[&str]) -> Child {
        Command::new(env!("CARGO_BIN_EXE_drconsole"))
            .env("DRCONSOLE_HOME", &self.home)
            .arg("--env")
            .arg(&self.env_file)
            .args(["runbook", "run"])
            .arg(&self.runbook)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// The questions `runbook run` asks, and the answer an operator gives the
/// first time each is asked.
const PROMPTS: [(&str, &str); 3] = [
    ("done? [y]", "y"),
    ("type `orders-global` to make this call", "orders-global"),
    ("make this call? [y/n]", "y"),
];

/// A `drconsole runbook run` child answered prompt by prompt, as a person
/// at the terminal would: each answer only once its question is shown.
struct Operator {
    child: Child,
    stdin: Option<ChildStdin>,
    output: Arc<Mutex<String>>,
    answered: usize,
    answered_kinds: Vec<usize>,
}

impl Operator {
    fn new(mut child: Child) -> Self {
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
        Self {
            stdin: child.stdin.take(),
            child,
            output,
            answered: 0,
            answered_kinds: Vec::new(),
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Answers the question on screen, if there is a new one. A question
    /// asked again after its answer (the headless runner may repeat one
    /// before the engine has moved on) gets a reply it does not understand,
    /// so nothing is answered twice.
    fn answer(&mut self) {
        let out = self.output();
        let asked: usize = PROMPTS.iter().map(|(q, _)| out.matches(q).count()).sum();
        if asked <= self.answered {
            return;
        }
        let Some((kind, _)) = PROMPTS
            .iter()
            .enumerate()
            .filter_map(|(k, (q, _))| out.rfind(q).map(|at| (k, at)))
            .max_by_key(|(_, at)| *at)
        else {
            return;
        };
        let reply = if self.answered_kinds.contains(&kind) {
            "?"
        } else {
            self.answered_kinds.push(kind);
            PROMPTS[kind].1
        };
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{reply}").unwrap();
        stdin.flush().unwrap();
        self.answered += 1;
    }

    /// Answers questions until `done`, failing if the child exits first.
    fn until(&mut self, what: &str, limit: Duration, done: impl Fn() -> bool) {
        let deadline = Instant::now() + limit;
        while !done() {
            self.answer();
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "the run exited before {what}:\n{}",
                self.output()
            );
            assert!(
                Instant::now() < deadline,
                "timed out waiting until {what}:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Answers questions until the child exits; its success and output.
    fn finish(mut self, limit: Duration) -> (bool, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            self.answer();
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            // A failed step waits for a person; the test has its answer.
            if Instant::now() > deadline || self.output().contains("retry / skip REASON") {
                self.child.kill().unwrap();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        // The reader thread sees the end of the pipe shortly after the exit.
        std::thread::sleep(Duration::from_millis(200));
        let text = format!("{}\n--- stderr ---\n{stderr}", self.output());
        (status.success(), text)
    }
}

#[test]
fn a_demo_run_killed_mid_wait_resumes_in_the_world_it_left_and_completes() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = Demo::new(tmp.path());

    // The manual step ticked, the switchover confirmed; the run then waits
    // for the roles to swap, which takes the simulated world a minute or two.
    let mut first = Operator::new(demo.run(&[]));
    first.until(
        "the switchover is accepted and the world saved",
        Duration::from_secs(60),
        || {
            let accepted = demo
                .journal()
                .is_some_and(|j| read(&j).contains(r#""event":"action-done""#));
            // Saved the moment the action changed the world.
            accepted && read(&demo.world_file()).contains("switching-over")
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    // std's Child::kill sends SIGKILL on unix: no cleanup, no last save.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let journal = demo.journal().unwrap();
    assert!(
        read(&demo.world_file()).contains("switching-over"),
        "killed before the wait was over"
    );
    assert!(!read(&journal).contains(r#""event":"finished""#));

    // A new process must find the switchover still under way, see it
    // complete, then point DNS (confirmed) and pass the smoke tests.
    let second = Operator::new(demo.run(&["--resume", journal.to_str().unwrap()]));
    let (ok, out) = second.finish(Duration::from_secs(120));
    assert!(ok, "{out}");
    assert!(out.contains("resumed the simulated world saved"), "{out}");
    let events = read(&journal);
    assert!(events.contains(r#""event":"resumed""#), "{events}");
    assert!(events.contains(r#""outcome":"completed""#), "{events}");
    assert_eq!(
        events.matches(r#""event":"intent""#).count(),
        2,
        "the switchover once, the DNS change once: {events}"
    );
}
