//! The runner in shared mode on an in-memory store: a console that lost
//! its run (another console wrote its next journal record) stops before
//! making the call it was about to make, and says who has the run.

mod support;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use drconsole::coordination::config::SharedSettings;
use drconsole::coordination::connect::Connected;
use drconsole::coordination::journal::{Mirror, read_from};
use drconsole::coordination::lease::Claimant;
use drconsole::coordination::memory::MemoryStore;
use drconsole::coordination::run::{Claim, SharedStore};
use drconsole::coordination::start::open_shared;
use drconsole::coordination::store::ObjectStore;
use drconsole::runbook::engine::Prompt;
use drconsole::runbook::format;
use drconsole::runbook::journal::{Entry, Record};
use drconsole::runbook::plan;
use drconsole::runbook::runner::{Input, RunSpec};
use drconsole::runbook::vars::Variables;
use support::fake::FakeWorld;
use support::runbook::orders;

const RUNBOOK: &str = r#"name: shared runner test
service: orders
objectives: { rto: 15m, rpo: 5m }
owner: me
last_tested: 2026-11-01
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
"#;

fn who(name: &str) -> Claimant {
    Claimant {
        identity: format!("arn:aws:iam::123456789012:user/{name}"),
        host: format!("{name}-laptop"),
        pid: 7,
    }
}

fn spec(dir: &Path) -> RunSpec {
    let path = dir.join("runbook.yaml");
    std::fs::write(&path, RUNBOOK).unwrap();
    let runbook = format::load(&path).unwrap();
    let vars = plan::parameter_values(&runbook, &Variables::new(), &Variables::new()).unwrap();
    RunSpec {
        runbook,
        service: orders(),
        vars,
        operator: "alice".into(),
        session: "test".into(),
        journal_dir: dir.join("journal"),
        lock_dir: dir.join("locks"),
        resume: None,
        feed: drconsole::monitor::spawn_feed(
            Arc::new(FakeWorld::new(dir)),
            Duration::from_millis(50),
        )
        .0,
        incident: None,
        safety: Default::default(),
    }
}

#[tokio::test]
async fn a_run_that_lost_its_service_stops_before_the_call_and_names_who_has_it() {
    let tmp = tempfile::tempdir().unwrap();
    let world = Arc::new(FakeWorld::new(tmp.path()));
    let memory = Arc::new(MemoryStore::new());
    let ann = Connected {
        store: SharedStore {
            store: memory.clone(),
            settings: SharedSettings {
                bucket: "dr-coord".into(),
                region: "eu-west-1".into(),
                prefix: "dr/".into(),
                lease: Duration::from_secs(60),
            },
            me: who("ann"),
        },
        identity_problem: None,
    };
    let opened = open_shared(
        spec(tmp.path()),
        &ann,
        Claim::Lease,
        chrono::Utc::now(),
        false,
    )
    .await
    .unwrap();
    let run_id = opened.opened.run_id().to_string();
    let mut handle = opened.opened.spawn(world.provider(false));
    let prompt = loop {
        if let Some(prompt @ Prompt::ConfirmAction { .. }) =
            handle.status.borrow().view.prompt.clone()
        {
            break prompt;
        }
        tokio::time::timeout(Duration::from_secs(10), handle.status.changed())
            .await
            .expect("the action is asked for")
            .unwrap();
    };
    // Every record so far is in the store, written by ann.
    let stored = read_from(&*memory, "dr/", &run_id, 1).await.unwrap();
    assert!(!stored.is_empty());
    assert!(stored.iter().all(|r| r.writer == who("ann")));
    // Bob's console has taken the run over and written the next record.
    let mut bob = Mirror::new("dr/", &run_id, who("bob"), stored.len() as u64 + 1);
    bob.append(
        &*memory,
        &Record {
            at: chrono::Utc::now(),
            entry: Entry::Notified {
                step: "failover".into(),
                message: "bob has it".into(),
            },
        },
    )
    .await
    .unwrap();
    handle
        .inputs
        .send(Input::Confirm {
            to: prompt.id(),
            typed: Some("orders-global".into()),
        })
        .await
        .unwrap();
    let end = tokio::time::timeout(Duration::from_secs(10), handle.task)
        .await
        .expect("the run stops")
        .unwrap();
    let error = end.expect_err("a fenced run cannot go on").to_string();
    assert!(error.contains("lost the run"), "{error}");
    assert!(error.contains("user/bob"), "{error}");
    assert_eq!(world.executed.load(Ordering::SeqCst), 0, "no call was made");
    // The lease is left for whoever holds the run now to settle.
    assert!(memory.get("dr/locks/orders.json").await.unwrap().is_some());
}
