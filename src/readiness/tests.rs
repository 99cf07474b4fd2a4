//! Readiness over the simulator's demo estate and drifted copies of it:
//! every check reads what the simulator reports, as it would AWS's.

use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};

use super::evidence::{DrillEvidence, RunEvidence};
use super::facts::Configuration;
use super::*;
use crate::config::environment_file::demo_environment;
use crate::domain::environment::SimDrift;
use crate::domain::snapshot::{ErrorKind, Snapshot};
use crate::provider::fault::Fault;
use crate::provider::sim::SimWorld;
use crate::runbook::format::{self, Runbook};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

const BILLING_RUNBOOK: &str = include_str!("../../runbooks/billing-replica-promotion.yaml");

fn runbook(text: &str) -> Runbook {
    format::parse(Path::new("billing.yaml"), text).expect("the runbook parses")
}

/// The demo environment without its drift: the clean estate.
fn clean() -> Environment {
    let mut env = demo_environment();
    env.sim.drift.clear();
    env
}

fn drifted(drift: SimDrift) -> Environment {
    let mut env = clean();
    env.sim.drift.push(drift);
    env
}

struct Evaluated {
    readiness: Readiness,
}

impl Evaluated {
    fn check(&self, service: &str, name: &str) -> &Check {
        let card = self
            .readiness
            .services
            .iter()
            .find(|s| s.service_id == service)
            .unwrap_or_else(|| panic!("no scorecard for {service}"));
        card.checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{service} has no check {name}: {:#?}", card.checks))
    }
}

struct World {
    env: Environment,
    observed: Snapshot,
    configuration: Configuration,
    now: DateTime<Utc>,
}

fn world_with(env: Environment, fault: Option<Fault>) -> World {
    let world = SimWorld::new(&env, start());
    if let Some(fault) = fault {
        world.inject(fault).unwrap();
    }
    let mut observed = Snapshot::default();
    for reading in world.observe() {
        if let Ok(s) = reading.result {
            observed.extend(&s);
        }
    }
    World {
        configuration: Configuration::from_readings(&world.configuration()),
        observed,
        now: world.now(),
        env,
    }
}

fn evaluate_with(w: &World, runbooks: &[Runbook], runs: &[RunEvidence]) -> Evaluated {
    Evaluated {
        readiness: evaluate(&Inputs {
            environment: &w.env,
            observed: &w.observed,
            configuration: &w.configuration,
            runbooks,
            runs,
            drills: None,
            shared_store_region: None,
            now: w.now,
            settings: Settings::default(),
        }),
    }
}

fn evaluate_env(env: Environment) -> Evaluated {
    evaluate_with(&world_with(env, None), &[runbook(BILLING_RUNBOOK)], &[])
}

#[test]
fn the_clean_estate_passes_every_dr_environment_and_backup_check() {
    let e = evaluate_env(clean());
    for card in &e.readiness.services {
        for c in &card.checks {
            if matches!(c.area, Area::DrEnvironment | Area::Backups)
                && c.name != "cross-region copy"
            {
                assert_ne!(c.status, Status::Fail, "{}: {c:?}", card.service_id);
            }
        }
    }
    assert_eq!(e.check("orders", "engine version").status, Status::Pass);
    assert_eq!(e.check("billing", "lag alarm").status, Status::Pass);
    assert_eq!(
        e.check("orders", "secondary instances").status,
        Status::Pass
    );
    assert_eq!(e.check("reports", "cross-region copy").status, Status::Pass);
}

#[test]
fn the_demo_carries_its_declared_drift_as_failures_with_evidence() {
    let e = evaluate_env(demo_environment());
    let version = e.check("orders", "engine version");
    assert_eq!(version.status, Status::Fail);
    assert!(
        version.evidence.contains("orders-primary (us-east-1) 15.4")
            && version
                .evidence
                .contains("orders-secondary (us-west-2) 15.3"),
        "{}",
        version.evidence
    );
    let retention = e.check("reports", "automated backups");
    assert_eq!(retention.status, Status::Fail);
    assert!(
        retention
            .evidence
            .contains("retention 3 days, under the minimum of 7"),
        "{}",
        retention.evidence
    );
    let alarm = e.check("billing", "lag alarm");
    assert_eq!(alarm.status, Status::Fail);
    assert!(
        alarm.evidence.contains("ReplicaLag of billing-replica"),
        "{}",
        alarm.evidence
    );
    assert!(alarm.fix.contains("us-west-2"), "{}", alarm.fix);
    assert_eq!(e.readiness.status, Status::Fail);
    // Failures first, in the estate and in each scorecard.
    let card = &e.readiness.services[0];
    assert_eq!(card.status, Status::Fail);
    assert!(card.checks.windows(2).all(|w| w[0].status >= w[1].status));
}

#[test]
fn a_headless_secondary_fails() {
    let e = evaluate_env(drifted(SimDrift {
        resource: "orders-secondary".into(),
        instances: Some(0),
        ..SimDrift::default()
    }));
    let c = e.check("orders", "secondary instances");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence
            .contains("orders-secondary (us-west-2) has no DB instance"),
        "{}",
        c.evidence
    );
    assert!(c.fix.contains("CreateDBInstance"), "{}", c.fix);
}

#[test]
fn a_backup_only_service_without_a_copy_elsewhere_fails() {
    let e = evaluate_env(drifted(SimDrift {
        resource: "reports-db".into(),
        cross_region_copy: Some(false),
        ..SimDrift::default()
    }));
    let c = e.check("reports", "cross-region copy");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence
            .contains("reports-db: no backup copy outside us-east-1"),
        "{}",
        c.evidence
    );
}

#[test]
fn a_copy_that_stopped_following_its_source_fails_with_its_age() {
    let env = clean();
    let world = SimWorld::new(&env, start());
    world
        .inject(Fault::RegionOutage {
            region: "us-east-1".into(),
        })
        .unwrap();
    world.advance(std::time::Duration::from_secs(25 * 3600));
    let mut observed = Snapshot::default();
    for reading in world.observe() {
        observed.extend(&reading.result.unwrap());
    }
    let w = World {
        configuration: Configuration::from_readings(&world.configuration()),
        observed,
        now: world.now(),
        env,
    };
    let e = evaluate_with(&w, &[], &[]);
    let c = e.check("reports", "cross-region copy");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence
            .contains("reports-db: copy in us-west-2 restorable to 1d01h")
            && c.evidence.contains("(bound 1d)"),
        "{}",
        c.evidence
    );
    let fresh = evaluate_env(clean());
    let c = fresh.check("reports", "cross-region copy");
    assert_eq!(c.status, Status::Pass);
    assert!(
        c.evidence.contains("copy in us-west-2 restorable to"),
        "{}",
        c.evidence
    );
}

#[test]
fn a_copy_whose_region_cannot_be_read_is_unknown_and_fails() {
    let w = world_with(
        clean(),
        Some(Fault::SourceFailure {
            source: "rds:us-west-2".into(),
            kind: ErrorKind::Throttled,
        }),
    );
    let c = evaluate_with(&w, &[], &[])
        .check("billing", "cross-region copy")
        .clone();
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence.contains("the copy's age is unknown"),
        "{}",
        c.evidence
    );
}

#[test]
fn backups_turned_off_fail_as_off() {
    let e = evaluate_env(drifted(SimDrift {
        resource: "billing-db".into(),
        retention_days: Some(0),
        ..SimDrift::default()
    }));
    let c = e.check("billing", "automated backups");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence.contains("automated backups are off"),
        "{}",
        c.evidence
    );
    assert_eq!(e.check("billing", "snapshot age").status, Status::Fail);
}

#[test]
fn parameter_group_and_deletion_protection_drift_are_listed_field_by_field() {
    let mut env = clean();
    env.sim.drift.push(SimDrift {
        resource: "billing-replica".into(),
        parameter_group_family: Some("postgres14".into()),
        deletion_protection: Some(false),
        instance_class: Some("db.t4g.medium".into()),
        ..SimDrift::default()
    });
    let e = evaluate_env(env);
    let family = e.check("billing", "parameter group family");
    assert_eq!(family.status, Status::Fail);
    assert!(family.evidence.contains("postgres15") && family.evidence.contains("postgres14"));
    let protection = e.check("billing", "deletion protection");
    assert_eq!(protection.status, Status::Fail);
    assert!(protection.fix.contains("billing-replica") && !protection.fix.contains("billing-db"));
    assert_eq!(e.check("billing", "instance class").status, Status::Warn);
    assert_eq!(e.check("billing", "engine version").status, Status::Pass);
}

#[test]
fn configuration_that_cannot_be_read_fails_instead_of_passing() {
    let w = world_with(
        clean(),
        Some(Fault::SourceFailure {
            source: "rds:us-west-2".into(),
            kind: ErrorKind::AccessDenied,
        }),
    );
    let e = evaluate_with(&w, &[], &[]);
    let c = e.check("orders", "configuration");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence
            .contains("config:rds:us-west-2 could not be read"),
        "{}",
        c.evidence
    );
}

#[test]
fn runbooks_missing_stale_or_no_longer_valid_fail_documentation() {
    let w = world_with(clean(), None);
    let e = evaluate_with(&w, &[], &[]);
    let missing = e.check("billing", "runbook");
    assert_eq!(missing.status, Status::Fail);
    assert!(
        missing
            .fix
            .contains("drconsole runbook new billing --kind replica-promotion"),
        "{}",
        missing.fix
    );
    assert!(!e.check("reports", "runbook").fix.contains("--kind"));

    let stale =
        runbook(&BILLING_RUNBOOK.replace("last_tested: 2026-09-15", "last_tested: 2026-06-01"));
    let e = evaluate_with(&w, &[stale], &[]);
    let c = e.check("billing", "runbook tested");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence.contains("last tested 2026-06-01 (177 days ago)"),
        "{}",
        c.evidence
    );
    assert_eq!(e.check("billing", "runbook validates").status, Status::Pass);

    let renamed = runbook(&BILLING_RUNBOOK.replace(
        "instance: \"${service.replica_instance}\"",
        "instance: billing-replica-old",
    ));
    let e = evaluate_with(&w, &[renamed], &[]);
    let c = e.check("billing", "runbook validates");
    assert_eq!(c.status, Status::Fail);
    assert!(
        c.evidence.contains("billing.yaml:") && c.evidence.contains("billing-replica-old"),
        "{}",
        c.evidence
    );
}

#[test]
fn one_operator_is_a_warning_and_two_pass() {
    let w = world_with(clean(), None);
    let run = |who: &[&str]| RunEvidence {
        service: "billing".into(),
        runbook: "promote".into(),
        started_at: w.now - chrono::Duration::days(20),
        completed: true,
        identities: who.iter().map(|s| s.to_string()).collect(),
    };
    let e = evaluate_with(&w, &[], &[run(&["ana"]), run(&["ana"])]);
    let c = e.check("billing", "more than one operator");
    assert_eq!(c.status, Status::Warn);
    assert!(c.evidence.contains("only ana"), "{}", c.evidence);
    let e = evaluate_with(&w, &[], &[run(&["ana"]), run(&["ana", "bo"])]);
    assert_eq!(
        e.check("billing", "more than one operator").status,
        Status::Pass
    );
    let mut old = run(&["bo"]);
    old.started_at = w.now - chrono::Duration::days(400);
    let e = evaluate_with(&w, &[], &[run(&["ana"]), old]);
    assert_eq!(
        e.check("billing", "more than one operator").status,
        Status::Warn
    );
}

#[test]
fn a_runbook_may_promise_better_objectives_but_not_worse() {
    let w = world_with(clean(), None);
    let with_rpo = |rpo: &str| {
        let rb = runbook(&BILLING_RUNBOOK.replace("  rpo: 15m", &format!("  rpo: {rpo}")));
        evaluate_with(&w, &[rb], &[])
            .check("billing", "objectives")
            .clone()
    };
    assert_eq!(with_rpo("0s").status, Status::Pass);
    let looser = with_rpo("30m");
    assert_eq!(looser.status, Status::Warn);
    assert!(looser.evidence.contains("RPO 30m"), "{}", looser.evidence);
}

#[test]
fn an_active_active_service_is_not_held_to_a_failover_pair() {
    let mut env = clean();
    let orders = env.services.iter_mut().find(|s| s.id == "orders").unwrap();
    orders.tier = crate::domain::objectives::DrTier::ActiveActive;
    orders.objectives.rpo = std::time::Duration::ZERO;
    let e = evaluate_env(env);
    let card = &e
        .readiness
        .services
        .iter()
        .find(|s| s.service_id == "orders")
        .unwrap();
    assert!(!card.checks.iter().any(|c| c.name == "failover records"));
    assert_eq!(e.check("orders", "health checks").status, Status::Pass);
    assert_eq!(e.check("billing", "failover records").status, Status::Pass);
}

#[test]
fn a_tier_that_cannot_meet_its_rto_fails() {
    let mut env = clean();
    let reports = env.services.iter_mut().find(|s| s.id == "reports").unwrap();
    reports.objectives.rto = std::time::Duration::from_secs(15 * 60);
    let e = evaluate_env(env);
    let c = e.check("reports", "tier meets RTO");
    assert_eq!(c.status, Status::Fail);
    assert!(c.evidence.contains("RTO 15m"), "{}", c.evidence);
}

#[test]
fn drills_this_quarter_count_and_a_missed_objective_fails() {
    let w = world_with(clean(), None);
    let drill = |days_ago: i64, rto_met: bool| DrillEvidence {
        service: "orders".into(),
        finished_at: w.now - chrono::Duration::days(days_ago),
        rto_met,
        rpo_met: true,
    };
    let with = |drills: &[DrillEvidence]| {
        evaluate(&Inputs {
            environment: &w.env,
            observed: &w.observed,
            configuration: &w.configuration,
            runbooks: &[],
            runs: &[],
            drills: Some(drills),
            shared_store_region: Some("us-east-1"),
            now: w.now,
            settings: Settings::default(),
        })
    };
    let pick = |r: &Readiness, name: &str| {
        r.services
            .iter()
            .find(|s| s.service_id == "orders")
            .unwrap()
            .checks
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .clone()
    };
    assert_eq!(
        pick(&with(&[drill(10, true)]), "drill this quarter").status,
        Status::Pass
    );
    assert_eq!(
        pick(&with(&[drill(10, false)]), "drill this quarter").status,
        Status::Fail
    );
    // 2026-11-25 is in Q4, which began on 2026-10-01.
    assert_eq!(
        pick(&with(&[drill(60, true)]), "drill this quarter").status,
        Status::Warn
    );
    let store = pick(&with(&[]), "shared store region");
    assert_eq!(store.status, Status::Fail);
}

#[test]
fn engine_versions_compare_on_major_and_minor() {
    assert_eq!(dr_environment::major_minor("15.4"), "15.4");
    assert_eq!(dr_environment::major_minor("15.4.1"), "15.4");
    assert_eq!(
        dr_environment::major_minor("8.0.mysql_aurora.3.04.0"),
        "3.04"
    );
    assert_ne!(
        dr_environment::major_minor("8.0.mysql_aurora.3.04.0"),
        dr_environment::major_minor("8.0.mysql_aurora.3.05.2")
    );
    assert_eq!(
        documentation::quarter_start(chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap())
            .to_string(),
        "2026-10-01"
    );
}
