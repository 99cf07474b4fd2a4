//! Scoring on hand-made journals: each number of the report from known
//! inputs.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::scenario::{DrillObjectives, FailoverExpectation};
use super::score::{DrillEnd, DrillRecord, FaultEvent, MarkKind, PlannedStep, score};
use crate::domain::availability::Availability;
use crate::provider::fault::{GroundTruth, LostWrites};
use crate::runbook::facts::{Assessment, Fact};
use crate::runbook::journal::{Entry, Record, StepState};

fn t(s: i64) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
        .unwrap()
        .to_utc()
        + chrono::Duration::seconds(s)
}

fn step(id: &str, kind: &'static str, budget: Option<u64>, moves_writer: bool) -> PlannedStep {
    PlannedStep {
        id: id.into(),
        title: id.to_uppercase(),
        kind,
        expect_within: budget.map(Duration::from_secs),
        moves_writer,
    }
}

fn state(at: i64, id: &str, state: StepState) -> Record {
    Record {
        at: t(at),
        entry: Entry::Step {
            step: id.into(),
            state,
        },
    }
}

fn confirmed(at: i64, id: &str, risk: Option<&str>) -> Record {
    Record {
        at: t(at),
        entry: Entry::Confirmed {
            step: id.into(),
            typed: true,
            operator: Some("trainee".into()),
            assessment: risk.map(|text| Assessment {
                observed_at: t(at - 5),
                facts: vec![Fact {
                    subject: "orders-secondary replication".into(),
                    text: text.into(),
                    concern: true,
                }],
                violations: Vec::new(),
            }),
        },
    }
}

fn loss(at: i64, count: u64) -> LostWrites {
    LostWrites {
        promoted: "orders-secondary".into(),
        at: t(at),
        count,
        first: (count > 0)
            .then(|| t(59) + chrono::Duration::milliseconds(1000 - 50 * count as i64 + 50)),
        last: (count > 0).then(|| t(60)),
    }
}

/// A full outage at T+60 answered well: confirmed at T+130, failover
/// confirmed at T+200, UP again at T+600, 20 writes lost.
pub(crate) fn outage_drill() -> DrillRecord {
    DrillRecord {
        scenario: "Full outage".into(),
        file: "full-outage.yaml".into(),
        service: "orders".into(),
        objectives: DrillObjectives {
            rto: Duration::from_secs(900),
            rpo: Duration::from_secs(300),
            failover: FailoverExpectation::Expected,
        },
        time_limit: Duration::from_secs(2700),
        started_at: t(0),
        ended_at: t(650),
        end: DrillEnd::RunbookCompleted,
        faults: vec![FaultEvent {
            at: t(60),
            label: "us-east-1 outage".into(),
            started: true,
        }],
        availability: vec![
            (t(0), Availability::Up),
            (t(95), Availability::Down),
            (t(600), Availability::Up),
        ],
        steps: vec![
            step("confirm", "check", Some(60), false),
            step("failover", "action", Some(120), true),
            step("writable", "wait", Some(60), false),
        ],
        journal: vec![
            state(120, "confirm", StepState::Running),
            state(130, "confirm", StepState::Done),
            state(130, "failover", StepState::AwaitingConfirmation),
            confirmed(
                200,
                "failover",
                Some("up to 2.1s of committed writes will be lost"),
            ),
            state(201, "failover", StepState::Done),
            state(201, "writable", StepState::Waiting),
            state(400, "writable", StepState::Done),
        ],
        truth: GroundTruth {
            writes_per_second: 20,
            writes_accepted: 100_000,
            losses: vec![loss(-500, 7), loss(260, 20)],
        },
        losses_before: 1,
    }
}

#[test]
fn a_good_failover_is_measured_and_passes() {
    let r = score(&outage_drill());
    assert_eq!(r.outage_start, Some(t(60)));
    assert_eq!(r.rto_s, Some(Duration::from_secs(540)));
    assert!(r.rto_met);
    assert_eq!(
        r.lost_writes, 20,
        "the loss before the drill is not counted"
    );
    assert_eq!(r.rpo_s, Some(Duration::from_secs(1)));
    assert!(r.rpo_met);
    assert_eq!(r.promotions, 1);
    assert_eq!(r.time_to_detect_s, Some(Duration::from_secs(70)));
    assert_eq!(r.time_to_decide_s, Some(Duration::from_secs(70)));
    assert_eq!(
        r.data_at_risk_at_decision.as_deref(),
        Some("orders-secondary replication: up to 2.1s of committed writes will be lost")
    );
    assert_eq!(r.interventions, 1);
    assert_eq!(r.steps[1].planned_s, Some(Duration::from_secs(120)));
    assert_eq!(r.steps[1].actual_s, Some(Duration::from_secs(71)));
    assert!(r.steps[2].overran(), "199 s against 60 s");
    assert!(
        r.findings.iter().any(|f| f.contains("`writable` overran")),
        "{:?}",
        r.findings
    );
    assert!(r.passed, "{:?}", r.findings);
    let kinds: Vec<MarkKind> = r.timeline.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        [
            MarkKind::FaultStarted,
            MarkKind::Detected,
            MarkKind::Decided,
            MarkKind::Recovered
        ]
    );
}

#[test]
fn a_service_not_up_at_the_end_misses_its_rto() {
    let mut d = outage_drill();
    d.availability.pop();
    d.end = DrillEnd::TimeLimit;
    let r = score(&d);
    assert_eq!(r.rto_s, None);
    assert!(!r.rto_met && !r.passed);
    assert!(r.findings.iter().any(|f| f.contains("not UP again")));
    assert!(r.findings.iter().any(|f| f.contains("time limit")));
}

#[test]
fn too_many_lost_writes_miss_the_rpo() {
    let mut d = outage_drill();
    d.objectives.rpo = Duration::from_millis(500);
    let r = score(&d);
    assert!(!r.rpo_met && !r.passed);
    d.objectives.rpo = Duration::ZERO;
    d.truth.losses[1] = loss(260, 0);
    let r = score(&d);
    assert!(r.rpo_met, "a zero RPO is met by losing nothing");
    assert_eq!(r.rpo_s, Some(Duration::ZERO));
}

#[test]
fn a_failover_where_none_was_needed_fails_the_drill() {
    let mut d = outage_drill();
    d.objectives.failover = FailoverExpectation::Forbidden;
    let r = score(&d);
    assert!(!r.failover_ok && !r.passed);
    assert!(
        r.findings
            .iter()
            .any(|f| f.contains("unnecessary failover"))
    );
    d.truth.losses.truncate(1);
    let r = score(&d);
    assert!(r.failover_ok, "{:?}", r.findings);
    d.objectives.failover = FailoverExpectation::Expected;
    assert!(!score(&d).failover_ok);
}

#[test]
fn overrides_skips_retries_and_order_are_counted() {
    let mut d = outage_drill();
    d.journal = vec![
        state(100, "failover", StepState::Running),
        state(
            101,
            "failover",
            StepState::Failed {
                error: "throttled".into(),
            },
        ),
        state(130, "failover", StepState::Running),
        state(140, "failover", StepState::Done),
        state(150, "confirm", StepState::Running),
        Record {
            at: t(151),
            entry: Entry::Skipped {
                step: "confirm".into(),
                operator: "trainee".into(),
                reason: "health checks lag".into(),
            },
        },
        state(
            151,
            "confirm",
            StepState::Skipped {
                reason: "health checks lag".into(),
            },
        ),
        Record {
            at: t(160),
            entry: Entry::Overridden {
                step: "writable".into(),
                operator: "trainee".into(),
                reason: "primary is gone".into(),
                assessment: Assessment {
                    observed_at: t(159),
                    facts: Vec::new(),
                    violations: Vec::new(),
                },
            },
        },
    ];
    let r = score(&d);
    assert_eq!(r.retries, 1);
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(r.overrides[0].reason, "primary is gone");
    assert_eq!(r.out_of_order, ["confirm"]);
    assert_eq!(r.interventions, 3);
    assert!(r.findings.iter().any(|f| f.contains("overridden")));
    assert!(
        r.findings
            .iter()
            .any(|f| f.contains("out of the runbook's order"))
    );
}

#[test]
fn a_drill_without_faults_counts_downtime_from_leaving_up() {
    let mut d = outage_drill();
    d.faults.clear();
    d.availability = vec![
        (t(0), Availability::Up),
        (t(300), Availability::Degraded),
        (t(390), Availability::Up),
    ];
    let r = score(&d);
    assert_eq!(r.outage_start, Some(t(300)));
    assert_eq!(r.rto_s, Some(Duration::from_secs(90)));
    d.availability.truncate(1);
    let r = score(&d);
    assert_eq!(r.outage_start, None);
    assert_eq!(r.rto_s, Some(Duration::ZERO));
    assert!(r.rto_met);
}

#[test]
fn the_report_reads_as_markdown_and_json() {
    let r = score(&outage_drill());
    let md = super::report::markdown(&r);
    assert!(
        md.contains("| RTO (outage start → UP) | 9m00s | 15m | met |"),
        "{md}"
    );
    assert!(
        md.contains("| RPO (writes lost) | 20 writes, 1s | 5m | met |"),
        "{md}"
    );
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(json["rto_s"], 540.0);
    assert_eq!(json["lost_writes"], 20);
    assert_eq!(json["passed"], true);
    let dir = tempfile::tempdir().unwrap();
    let written = super::report::write(&r, dir.path()).unwrap();
    assert!(written.exists());
    std::fs::write(dir.path().join("junk.json"), "{").unwrap();
    let (past, problems) = super::report::history(dir.path()).unwrap();
    assert_eq!(past.len(), 1);
    assert_eq!(past[0].lost_writes, 20);
    assert_eq!(problems.len(), 1);
    let table = super::report::history_table(&past);
    assert!(
        table.contains("Full outage") && table.contains("9m00s") && table.contains("passed"),
        "{table}"
    );
}
