//! The shipped failover runbooks, end to end on the simulator: a regional
//! outage, every action confirmed as an operator would, waits, DNS, real
//! HTTP smoke tests against the demo application, and the world left failed
//! over; and a `runbook new` drain of an active-active region, run the same
//! way on a healthy world.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use drconsole::config::environment_file::demo_environment;
use drconsole::domain::environment::Environment;
use drconsole::domain::snapshot::{ClusterRole, FailoverRole, Health, Snapshot};
use drconsole::provider::sim::{self, Fault, SimWorld};
use drconsole::runbook::engine::Prompt;
use drconsole::runbook::format;
use drconsole::runbook::journal::RunOutcome;
use drconsole::runbook::plan::run_values;
use drconsole::runbook::runner::{self, Input, RunSpec};
use drconsole::runbook::vars::Variables;

/// Simulated seconds per real second: a one-minute failover takes half a second.
const TIME_SCALE: f64 = 120.0;

fn merged(world: &SimWorld) -> Snapshot {
    let mut snap = Snapshot::default();
    for reading in world.observe() {
        if let Ok(part) = reading.result {
            snap.extend(&part);
        }
    }
    snap
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

/// Runs `file` against a fresh demo world whose primary region is down,
/// answering every prompt as an operator would; returns the world after.
async fn recover_with(file: &str) -> Arc<SimWorld> {
    let mut env = demo_environment();
    env.sim.time_scale = TIME_SCALE;
    let world = Arc::new(SimWorld::live(&env));
    world
        .inject(Fault::RegionOutage {
            region: "us-east-1".into(),
        })
        .unwrap();
    wait_until("Route 53 sees us-east-1 down", || {
        merged(&world)
            .health_checks
            .iter()
            .any(|h| h.id == "hc-orders-use1" && h.status == Health::Unhealthy)
    })
    .await;

    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("runbooks")
        .join(file);
    let runbook = format::load(&path).unwrap_or_else(|d| panic!("{file}: {d:?}"));
    run(&env, &world, runbook, file).await;
    world
}

/// A run of `runbook` by a trainee on `world`, its monitor polling every
/// 100 ms, its journals under `dir`.
fn run_spec(
    env: &Environment,
    world: &Arc<SimWorld>,
    runbook: format::Runbook,
    app_url: &str,
    dir: &Path,
) -> RunSpec {
    let builtins = Variables::from([("demo_app_url".to_string(), app_url.to_string())]);
    let service = env.service(&runbook.service).unwrap().clone();
    let vars = run_values(&runbook, &service, &Variables::new(), &builtins, "trainee").unwrap();
    RunSpec {
        runbook,
        service,
        vars,
        operator: "trainee".into(),
        session: "test".into(),
        journal_dir: dir.join("journal"),
        lock_dir: dir.join("locks"),
        resume: None,
        feed: drconsole::monitor::spawn_feed(
            sim::provider(Arc::clone(world), true).observe,
            Duration::from_millis(100),
        )
        .0,
        incident: None,
        safety: Default::default(),
    }
}

/// Runs `runbook` on `world` to completion, confirming, ticking and (where
/// a rule blocks) overriding as an operator would.
async fn run(env: &Environment, world: &Arc<SimWorld>, runbook: format::Runbook, file: &str) {
    let (app, _server) =
        sim::serve_demo_app(Arc::clone(world), SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let spec = run_spec(env, world, runbook, &format!("http://{app}"), dir.path());
    let mut handle = runner::start(spec, sim::provider(Arc::clone(world), false)).unwrap();

    let mut answered = HashSet::new();
    let last_status = Arc::new(std::sync::Mutex::new(None));
    let outcome = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let status = handle.status.borrow_and_update().clone();
            *last_status.lock().unwrap() = Some(status.clone());
            if let Some(outcome) = status.view.outcome {
                return outcome;
            }
            match &status.view.prompt {
                // At 120x a busy machine lets the simulated lag pass the
                // RPO before the confirmation: the rule is right to block,
                // and the operator overrides it as a person would.
                Some(
                    prompt @ Prompt::ConfirmAction {
                        assessment,
                        overridden: None,
                        ..
                    },
                ) if assessment.blocked() => {
                    let reason = format!("test at {TIME_SCALE}x: {:?}", assessment.violations);
                    let to = prompt.id();
                    handle
                        .inputs
                        .send(Input::Override { to, reason })
                        .await
                        .unwrap();
                }
                Some(
                    prompt @ Prompt::ConfirmAction {
                        step,
                        target,
                        typed,
                        ..
                    },
                ) if answered.insert(step.clone()) => {
                    let typed = typed.then(|| target.clone());
                    let to = prompt.id();
                    handle
                        .inputs
                        .send(Input::Confirm { to, typed })
                        .await
                        .unwrap();
                }
                Some(prompt @ Prompt::Tick { step, .. }) if answered.insert(step.clone()) => {
                    let to = prompt.id();
                    handle.inputs.send(Input::Tick { to }).await.unwrap();
                }
                Some(Prompt::Failed { step, error, .. }) => {
                    panic!("{file}: step `{step}` failed: {error}")
                }
                _ => {}
            }
            handle.status.changed().await.unwrap();
        }
    })
    .await
    .unwrap_or_else(|_| {
        panic!(
            "{file} did not finish within a minute; last seen: {:#?}",
            last_status.lock().unwrap()
        )
    });
    assert!(
        matches!(outcome, RunOutcome::Completed { .. }),
        "{file}: {outcome:?}"
    );
}

fn assert_dns_points_at_dr(snap: &Snapshot) {
    let primary = snap
        .dns_records
        .iter()
        .find(|r| r.name == "api.example.com." && r.failover == Some(FailoverRole::Primary))
        .expect("the PRIMARY record");
    assert_eq!(primary.target, "api.us-west-2.example.com");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unplanned_failover_leaves_the_dr_cluster_writing_and_dns_on_dr() {
    let world = recover_with("orders-unplanned-failover.yaml").await;
    let snap = merged(&world);
    let global = snap
        .global_clusters
        .iter()
        .find(|g| g.id == "orders-global")
        .unwrap();
    assert_eq!(global.writer().unwrap().cluster_id, "orders-secondary");
    assert_dns_points_at_dr(&snap);
    assert!(world.region_database("us-west-2").unwrap().writable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detach_and_promote_leaves_a_standalone_writer_and_dns_on_dr() {
    let world = recover_with("orders-detach-and-promote.yaml").await;
    let snap = merged(&world);
    let dr = snap
        .db_clusters
        .iter()
        .find(|c| c.id == "orders-secondary")
        .unwrap();
    assert_eq!(dr.role, ClusterRole::Standalone);
    assert_eq!(dr.status, "available");
    assert_dns_points_at_dr(&snap);
    assert!(world.region_database("us-west-2").unwrap().writable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_drain_takes_a_region_out_of_rotation_and_restores_it() {
    let mut env = demo_environment();
    env.sim.time_scale = TIME_SCALE;
    let world = Arc::new(SimWorld::live(&env));
    let catalog = env.service("catalog").unwrap();
    let text = drconsole::runbook::generate::generate(
        catalog,
        drconsole::runbook::generate::Kind::DrainRegion,
        "us-west-2",
    )
    .unwrap();
    let runbook = format::parse(Path::new("catalog-drain-us-west-2.yaml"), &text).unwrap();
    wait_until("both regions of catalog serve", || {
        drconsole::domain::rotation::observe(catalog, &merged(&world))
            .is_some_and(|r| r.iter().all(|r| r.in_rotation))
    })
    .await;
    // The run completes only once its waits saw the check fail after the
    // drain and pass after the restore.
    run(&env, &world, runbook, "catalog-drain-us-west-2.yaml").await;
    let check = merged(&world)
        .health_checks
        .into_iter()
        .find(|h| h.id == "hc-catalog-usw2")
        .unwrap();
    assert!(
        !check.inverted && check.status == Health::Healthy,
        "{check:?}"
    );
}

/// An operator reads the failover's confirmation while the region goes
/// down: the facts and the safety rule's block follow the monitor's polls,
/// so the block raised on a healthy primary lifts by itself once the
/// primary is seen down, without the step being asked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_confirmation_follows_the_polls() {
    let mut env = demo_environment();
    env.sim.time_scale = TIME_SCALE;
    let world = Arc::new(SimWorld::live(&env));
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/orders-unplanned-failover.yaml");
    let runbook = format::load(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The smoke tests are never reached: the run stops at the failover.
    let spec = run_spec(&env, &world, runbook, "http://127.0.0.1:9", dir.path());
    let mut handle = runner::start(spec, sim::provider(Arc::clone(&world), false)).unwrap();
    let mut outage_injected = false;
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let status = handle.status.borrow_and_update().clone();
            match &status.view.prompt {
                // A healthy primary: the outage check fails and is skipped,
                // as an operator sure of the outage would.
                Some(Prompt::Failed { step, .. }) if step == "confirm-outage" => {
                    let skip = Input::Skip {
                        step: step.clone(),
                        reason: "paged: the region is going down".into(),
                    };
                    handle.inputs.send(skip).await.unwrap();
                }
                Some(prompt @ Prompt::Tick { .. }) => {
                    let to = prompt.id();
                    handle.inputs.send(Input::Tick { to }).await.unwrap();
                }
                Some(Prompt::ConfirmAction { assessment, .. })
                    if assessment.blocked() && !outage_injected =>
                {
                    world
                        .inject(Fault::RegionOutage {
                            region: "us-east-1".into(),
                        })
                        .unwrap();
                    outage_injected = true;
                }
                Some(Prompt::ConfirmAction { assessment, .. })
                    if outage_injected && !assessment.blocked() =>
                {
                    return assessment.clone();
                }
                _ => {}
            }
            handle.status.changed().await.unwrap();
        }
    })
    .await
    .expect("the block did not lift while the confirmation waited");
    let _ = handle
        .inputs
        .send(Input::Abort {
            reason: "test over".into(),
        })
        .await;
}
