//! Every shipped drill scenario run headless at a high time scale, its
//! report checked against the scenario and the simulator's ground truth.

use std::path::{Path, PathBuf};
use std::time::Duration;

use drconsole::config::environment_file::demo_environment;
use drconsole::drill::headless::{self, Outcome};
use drconsole::drill::{scenario, validate};
use drconsole::provider::sim::SimWorld;
use drconsole::runbook::safety::SafetySettings;

const SEED: u64 = 7;

fn drills() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/drills")
}

fn checked(name: &str) -> validate::Checked {
    let s = scenario::load(&drills().join(name)).unwrap();
    validate::check(s, chrono::Utc::now().date_naive()).unwrap()
}

async fn run(checked: validate::Checked, dir: &Path) -> Outcome {
    let options = headless::Options {
        time_scale: 600.0,
        seed: Some(SEED),
        decision_delay: Duration::from_secs(20),
        operator: "ci@drill".into(),
        safety: SafetySettings::default(),
    };
    headless::run(checked, options, dir).await.unwrap()
}

/// The writes the saved world says its promotions lost.
fn lost_in_world(outcome: &Outcome) -> u64 {
    let text = std::fs::read_to_string(&outcome.world).unwrap();
    let mut env = demo_environment();
    env.sim.seed = SEED;
    let world = SimWorld::resume(&env, &text).unwrap();
    world.ground_truth().losses.iter().map(|l| l.count).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_outage_loses_exactly_the_writes_the_simulator_lost() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let o = run(checked("full-outage.yaml"), dir.path()).await;
    let r = &o.report;
    assert!(r.passed, "{:#?}", r);
    assert!(r.lost_writes > 0, "{r:#?}");
    assert_eq!(r.lost_writes, lost_in_world(&o));
    assert_eq!(r.promotions, 1);
    assert!(
        r.rto_s.is_some_and(|rto| rto > Duration::from_secs(60)),
        "{r:#?}"
    );
    assert!(
        r.time_to_detect_s.is_some() && r.time_to_decide_s.is_some(),
        "{r:#?}"
    );
    assert!(r.data_at_risk_at_decision.is_some(), "{r:#?}");
    assert!(o.report_path.exists() && o.report_path.with_extension("json").exists());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planned_switchover_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(checked("planned-switchover.yaml"), dir.path()).await;
    let r = &o.report;
    assert_eq!(r.lost_writes, 0, "{r:#?}");
    assert_eq!(lost_in_world(&o), 0);
    assert_eq!(r.promotions, 1, "{r:#?}");
    assert!(r.passed, "{r:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flapping_check_passes_only_without_a_failover() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(checked("flapping-health-check.yaml"), dir.path()).await;
    assert_eq!(o.report.promotions, 0, "{:#?}", o.report);
    assert!(o.report.passed, "{:#?}", o.report);

    let mut wrong = checked("flapping-health-check.yaml");
    let failover = checked("full-outage.yaml").runbooks.remove(0);
    wrong.runbooks = vec![failover];
    let o = run(wrong, dir.path()).await;
    assert!(o.report.promotions > 0, "{:#?}", o.report);
    assert!(!o.report.passed);
    assert!(
        o.report
            .findings
            .iter()
            .any(|f| f.contains("unnecessary failover")),
        "{:?}",
        o.report.findings
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_other_shipped_scenarios_finish_with_consistent_reports() {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "backups-stopped.yaml",
        "dns-split.yaml",
        "lag-spike-failover.yaml",
    ] {
        let o = run(checked(name), dir.path()).await;
        let r = &o.report;
        assert_eq!(r.lost_writes, lost_in_world(&o), "{name}");
        match name {
            "backups-stopped.yaml" => {
                assert_eq!(r.promotions, 0, "{name}: {r:#?}");
                assert!(r.passed, "{name}: {r:#?}");
            }
            "lag-spike-failover.yaml" => {
                // Six minutes of writes at 20/s were not replicated.
                assert!(r.lost_writes > 20 * 300, "{name}: {r:#?}");
                assert!(
                    r.rpo_s.is_some_and(|s| s > Duration::from_secs(300)),
                    "{r:#?}"
                );
            }
            _ => assert!(r.passed, "{name}: {r:#?}"),
        }
    }
}
