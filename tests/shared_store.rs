//! The shared store against moto's S3: its conditional writes as the
//! protocol relies on them, and `drconsole runbook run` processes with
//! separate data directories coordinating through one bucket — a race
//! for a service, and a takeover after the holder is killed with SIGKILL.
//!
//! The two operators are two IAM users made in moto, each with its own
//! access key: moto's `GetCallerIdentity` answers with the user a key
//! belongs to, as AWS does, so the consoles really are different identities.

mod support;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use drconsole::coordination::journal::read_from;
use drconsole::coordination::lease::{self, Claimant, LeaseError};
use drconsole::coordination::s3::S3Store;
use drconsole::coordination::store::{ObjectStore, StoreError};
use drconsole::runbook::journal::Entry;
use support::moto::moto;

const REGION: &str = "us-east-1";

async fn bucket(name: &str) -> S3Store {
    let config = moto().sdk_config("shared-setup").await;
    let client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    client.create_bucket().bucket(name).send().await.unwrap();
    S3Store::new(&config, name, REGION)
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_conditional_writes_answer_as_the_protocol_expects() {
    let store = bucket(&format!("shared-conditions-{}", std::process::id())).await;
    let first = store.create("k", b"a".to_vec()).await.unwrap();
    assert_eq!(
        store.create("k", b"b".to_vec()).await,
        Err(StoreError::Precondition { key: "k".into() })
    );
    let second = store.replace("k", b"c".to_vec(), &first).await.unwrap();
    assert_ne!(first, second);
    assert_eq!(
        store.replace("k", b"d".to_vec(), &first).await,
        Err(StoreError::Precondition { key: "k".into() })
    );
    assert_eq!(
        store.delete("k", &first).await,
        Err(StoreError::Precondition { key: "k".into() })
    );
    let got = store.get("k").await.unwrap().unwrap();
    assert_eq!(
        (got.body.as_slice(), got.etag.as_str()),
        (&b"c"[..], second.as_str())
    );
    store.delete("k", &second).await.unwrap();
    assert_eq!(store.get("k").await.unwrap(), None);
    assert_eq!(store.list("").await.unwrap(), Vec::<String>::new());

    // Two consoles race for one service: one lease, the other told whose.
    let who = |name: &str| Claimant {
        identity: format!("arn:aws:iam::123456789012:user/{name}"),
        host: name.into(),
        pid: 1,
    };
    let now = chrono::Utc::now();
    let ttl = Duration::from_secs(60);
    let (ann, bob) = (who("ann"), who("bob"));
    let (a, b) = tokio::join!(
        lease::acquire(&store, "p/", "orders", "ra", &ann, now, ttl),
        lease::acquire(&store, "p/", "orders", "rb", &bob, now, ttl),
    );
    let (won, lost) = match (a, b) {
        (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
        other => panic!("not exactly one winner: {other:?}"),
    };
    assert!(matches!(lost, LeaseError::Held { .. }), "{lost}");
    won.release(&store).await.unwrap();
    assert_eq!(store.list("p/").await.unwrap(), Vec::<String>::new());
}

/// An IAM user with an access key, made in moto over IAM's query API
/// (moto does not check the signature, only reads the key it names).
async fn iam_user(name: &str) -> String {
    let http = ::reqwest::Client::builder().no_proxy().build().unwrap();
    let mut key = None;
    for action in ["CreateUser", "CreateAccessKey"] {
        let text = http
            .post(format!("{}/", moto().endpoint))
            .header(
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=shared-setup/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            )
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("Action={action}&UserName={name}&Version=2010-05-08"))
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap()
            .text()
            .await
            .unwrap();
        key = text
            .split("<AccessKeyId>")
            .nth(1)
            .and_then(|rest| rest.split('<').next())
            .map(str::to_string);
    }
    key.unwrap_or_else(|| panic!("moto made no access key for {name}"))
}

/// One operator's machine: a data directory of its own and an IAM user.
struct Machine {
    home: PathBuf,
    env_file: PathBuf,
    key: String,
    bucket: String,
}

impl Machine {
    fn new(rt: &tokio::runtime::Runtime, root: &Path, name: &str, bucket: &str) -> Machine {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let demo = std::fs::read_to_string(manifest.join("environments/demo.toml")).unwrap();
        let home = root.join(name);
        std::fs::create_dir_all(home.join("config")).unwrap();
        // A short lease, so a dead holder's expires within the test.
        std::fs::write(
            home.join("config/config.toml"),
            format!("[shared]\nbucket = \"{bucket}\"\nregion = \"{REGION}\"\nprefix = \"dr\"\nlease = \"3s\"\n"),
        )
        .unwrap();
        let env_file = root.join(format!("{name}-demo.toml"));
        std::fs::write(
            &env_file,
            demo.replace("time_scale = 1.0", "time_scale = 10.0"),
        )
        .unwrap();
        Machine {
            home,
            env_file,
            key: rt.block_on(iam_user(&format!("{name}-{bucket}"))),
            bucket: bucket.to_string(),
        }
    }

    fn run(&self, runbook: &str, home: &Path, extra: &[&str]) -> Operator {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let child = Command::new(env!("CARGO_BIN_EXE_drconsole"))
            .env("DRCONSOLE_HOME", home)
            .env("AWS_ENDPOINT_URL", &moto().endpoint)
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .arg("--env")
            .arg(&self.env_file)
            .args(["runbook", "run"])
            .arg(manifest.join("runbooks").join(runbook))
            .args(["--journal"])
            .arg(self.home.join("journal"))
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        Operator::new(child)
    }

    async fn store(&self) -> S3Store {
        S3Store::new(
            &moto().sdk_config("shared-reader").await,
            &self.bucket,
            REGION,
        )
    }
}

const PROMPTS: [(&str, &str); 3] = [
    ("done? [y]", "y"),
    ("type `orders-global` to make this call", "orders-global"),
    ("make this call? [y/n]", "y"),
];

/// A `runbook run` child answered prompt by prompt once each is shown.
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
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = Arc::clone(&output);
            let mut stream = stream;
            std::thread::spawn(move || {
                let mut buf = [0; 4096];
                while let Ok(n) = stream.read(&mut buf)
                    && n > 0
                {
                    sink.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
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

    fn until(&mut self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + limit;
        while !done(&self.output()) {
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

    fn finish(mut self, limit: Duration) -> (bool, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            self.answer();
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline || self.output().contains("retry / skip REASON") {
                self.child.kill().unwrap();
                break self.child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(300));
        (status.success(), self.output())
    }
}

#[test]
fn two_consoles_race_for_a_service_and_exactly_one_wins_naming_the_holder() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Names of their own, should the moto server be shared (MOTO_ENDPOINT).
    let name = format!("shared-race-{}", std::process::id());
    rt.block_on(bucket(&name));
    let ann = Machine::new(&rt, tmp.path(), "ann", &name);
    let bob = Machine::new(&rt, tmp.path(), "bob", &name);
    // Ann's run holds the service while she reads its first manual step.
    let mut first = ann.run("orders-planned-switchover.yaml", &ann.home, &[]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !first.output().contains("done? [y]") {
        assert!(Instant::now() < deadline, "{}", first.output());
        assert!(
            first.child.try_wait().unwrap().is_none(),
            "{}",
            first.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let second = bob.run("orders-planned-switchover.yaml", &bob.home, &[]);
    let (ok, out) = second.finish(Duration::from_secs(60));
    assert!(!ok, "{out}");
    assert!(
        out.contains(&format!(
            "a runbook is already running on `orders` (shared store): held by arn:aws:iam::123456789012:user/ann-{name} on "
        )),
        "{out}"
    );
    let leases = rt
        .block_on(async { lease::active_runs(&ann.store().await, "dr/").await })
        .unwrap();
    assert_eq!(leases.len(), 1);
    assert!(
        leases[0]
            .holder
            .identity
            .ends_with(&format!("user/ann-{name}")),
        "{leases:?}"
    );
    let (ok, out) = first.finish(Duration::from_secs(120));
    assert!(ok, "{out}");
    // A finished run lets go of the service.
    let leases = rt
        .block_on(async { lease::active_runs(&ann.store().await, "dr/").await })
        .unwrap();
    assert!(leases.is_empty(), "{leases:?}");
}

#[test]
fn a_killed_holders_run_is_taken_over_after_its_lease_expires_and_finished_without_repeating() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let name = format!("shared-takeover-{}", std::process::id());
    rt.block_on(bucket(&name));
    let ann = Machine::new(&rt, tmp.path(), "ann", &name);
    let bob = Machine::new(&rt, tmp.path(), "bob", &name);
    // One simulated estate for both (ann's data directory), as two laptops
    // share one AWS account; each keeps its own journal directory.
    let estate = ann.home.clone();
    let mut first = ann.run("orders-planned-switchover.yaml", &estate, &[]);
    first.until(
        "the switchover is accepted",
        Duration::from_secs(90),
        |_| {
            rt.block_on(async {
                let store = ann.store().await;
                let runs = lease::active_runs(&store, "dr/").await.unwrap();
                let Some(run) = runs.first() else {
                    return false;
                };
                read_from(&store, "dr/", &run.run_id, 1)
                    .await
                    .unwrap()
                    .iter()
                    .any(|r| matches!(r.record.entry, Entry::ActionDone { .. }))
            })
        },
    );
    first.child.kill().unwrap();
    first.child.wait().unwrap();

    // The lease (3s) lapses once nobody renews it.
    std::thread::sleep(Duration::from_secs(4));

    let second = bob.run(
        "orders-planned-switchover.yaml",
        &estate,
        &["--take-over", "--reason", "ann's laptop died"],
    );
    let (ok, out) = second.finish(Duration::from_secs(180));
    assert!(ok, "{out}");
    assert!(out.contains("took over run"), "{out}");
    let store = rt.block_on(ann.store());
    let records = rt.block_on(async {
        let prefix = "dr/runs/";
        let keys = store.list(prefix).await.unwrap();
        let run = keys[0]
            .strip_prefix(prefix)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        read_from(&store, "dr/", &run, 1).await.unwrap()
    });
    let intents = records
        .iter()
        .filter(|r| matches!(r.record.entry, Entry::Intent { .. }))
        .count();
    assert_eq!(
        intents, 2,
        "the switchover once, the DNS change once: {records:#?}"
    );
    let taken = records
        .iter()
        .find_map(|r| match &r.record.entry {
            Entry::TakenOver { from, reason, .. } => Some((from.clone(), reason.clone())),
            _ => None,
        })
        .unwrap();
    assert!(taken.0.contains(&format!("user/ann-{name}")), "{taken:?}");
    assert_eq!(taken.1, "ann's laptop died");
    let writers: Vec<&str> = records.iter().map(|r| r.writer.identity.as_str()).collect();
    assert!(
        writers
            .first()
            .unwrap()
            .ends_with(&format!("user/ann-{name}"))
    );
    assert!(
        writers
            .last()
            .unwrap()
            .ends_with(&format!("user/bob-{name}"))
    );
    assert!(matches!(
        records.last().unwrap().record.entry,
        Entry::Finished { .. }
    ));
}

impl Machine {
    fn approve(&self, run: &str, step: &str, reason: &str) -> (bool, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_drconsole"))
            .env("DRCONSOLE_HOME", &self.home)
            .env("AWS_ENDPOINT_URL", &moto().endpoint)
            .env("AWS_ACCESS_KEY_ID", &self.key)
            .env("AWS_SECRET_ACCESS_KEY", "secret")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .arg("--env")
            .arg(&self.env_file)
            .args(["approve", run, step, "--reason", reason])
            .output()
            .unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

#[test]
fn a_two_person_step_waits_for_a_second_identity_to_approve_from_another_process() {
    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let name = format!("shared-approve-{}", std::process::id());
    rt.block_on(bucket(&name));
    let ann = Machine::new(&rt, tmp.path(), "ann", &name);
    let bob = Machine::new(&rt, tmp.path(), "bob", &name);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text =
        std::fs::read_to_string(manifest.join("runbooks/orders-planned-switchover.yaml")).unwrap();
    assert_eq!(text.matches("    confirm: typed\n").count(), 1);
    let runbook = tmp.path().join("two-person.yaml");
    std::fs::write(
        &runbook,
        text.replace("    confirm: typed\n", "    confirm: two-person\n"),
    )
    .unwrap();
    let mut first = ann.run(runbook.to_str().unwrap(), &ann.home, &[]);
    first.until(
        "the approval is requested",
        Duration::from_secs(90),
        |out| out.contains("drconsole approve "),
    );
    let out = first.output();
    let run = out
        .split("drconsole approve ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();

    let (ok, own) = ann.approve(&run, "switchover", "I am sure");
    assert!(!ok, "{own}");
    assert!(own.contains("another identity must approve it"), "{own}");
    std::thread::sleep(Duration::from_secs(2));
    let store = rt.block_on(ann.store());
    let intents = |store: &S3Store| {
        rt.block_on(read_from(store, "dr/", &run, 1))
            .unwrap()
            .into_iter()
            .filter(|r| matches!(r.record.entry, Entry::Intent { .. }))
            .count()
    };
    assert_eq!(intents(&store), 0, "nothing was called on ann's own say");

    let (ok, out) = bob.approve(&run, "switchover", "replication is current");
    assert!(ok, "{out}");
    first.until("the switchover is accepted", Duration::from_secs(60), |_| {
        rt.block_on(read_from(&store, "dr/", &run, 1))
            .unwrap()
            .iter()
            .any(|r| matches!(&r.record.entry, Entry::ActionDone { step, .. } if step == "switchover"))
    });
    let records = rt.block_on(read_from(&store, "dr/", &run, 1)).unwrap();
    let approved = records
        .iter()
        .find_map(|r| match &r.record.entry {
            Entry::Approved {
                approver, reason, ..
            } => Some((approver.clone(), reason.clone())),
            _ => None,
        })
        .unwrap();
    assert!(
        approved.0.ends_with(&format!("user/bob-{name}")),
        "{approved:?}"
    );
    assert_eq!(approved.1, "replication is current");
    assert_eq!(intents(&store), 1);
    first.child.kill().unwrap();
    first.child.wait().unwrap();
}

/// The step changes among `records`, in order.
fn steps_seen(records: &[drconsole::runbook::journal::Record]) -> Vec<String> {
    records
        .iter()
        .filter_map(|r| match &r.entry {
            Entry::Step { step, state } => Some(format!("{step}: {state:?}")),
            _ => None,
        })
        .collect()
}

#[test]
fn a_follower_on_the_shared_store_sees_each_step_of_a_run_in_another_process_within_two_seconds() {
    use drconsole::follow::local::LocalJournals;
    use drconsole::follow::shared::SharedJournals;
    use drconsole::follow::{Follower, RunSource};

    let tmp = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let name = format!("shared-follow-{}", std::process::id());
    rt.block_on(bucket(&name));
    let ann = Machine::new(&rt, tmp.path(), "ann", &name);
    let store = rt.block_on(ann.store());
    let shared = {
        let _inside = rt.enter();
        SharedJournals::new(Arc::new(store), &name, "dr/")
    };
    let local = LocalJournals::new(ann.home.join("journal"));
    let mut run = ann.run("orders-planned-switchover.yaml", &ann.home, &[]);

    // The run as the shared source lists it, once its lease is taken.
    let deadline = Instant::now() + Duration::from_secs(60);
    let listed = loop {
        run.answer();
        if let Some(active) = shared.active_runs().unwrap().into_iter().next() {
            break active;
        }
        assert!(Instant::now() < deadline, "{}", run.output());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(listed.run.service, "orders");
    assert!(
        listed
            .run
            .location
            .starts_with(&format!("s3://{name}/dr/runs/"))
    );
    let local_run = local.by_run_id(&listed.run.run_id).unwrap();
    let mut follower = Follower::new(Arc::new(shared.clone()), listed.run.clone());
    let mut journal = Follower::new(Arc::new(local), local_run);

    // Each step as the running process journals it, and when it did.
    let mut written: Vec<(String, Instant)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        run.answer();
        let exited = run.child.try_wait().unwrap().is_some();
        journal.poll().unwrap();
        for step in steps_seen(journal.records())
            .into_iter()
            .skip(written.len())
        {
            written.push((step, Instant::now()));
        }
        follower.poll().unwrap();
        let seen = steps_seen(follower.records());
        for (at, (step, when)) in written.iter().enumerate() {
            if seen.get(at) != Some(step) {
                assert!(
                    when.elapsed() < Duration::from_secs(2),
                    "step {at} ({step}) not seen in the shared store within 2 s; seen: {seen:?}"
                );
            }
        }
        if exited && seen.len() >= written.len() {
            break;
        }
        assert!(Instant::now() < deadline, "{}", run.output());
        std::thread::sleep(Duration::from_millis(100));
    }
    let (ok, out) = run.finish(Duration::from_secs(5));
    assert!(ok, "{out}");
    assert!(written.len() >= 4, "{written:?}");
    assert_eq!(
        steps_seen(follower.records()),
        steps_seen(journal.records())
    );
    assert!(matches!(
        follower.records().last().unwrap().entry,
        Entry::Finished { .. }
    ));
}
