//! Scenario files: the shipped library checks clean, and bad files are
//! refused with the place and what was expected.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use super::scenario::{self, FailoverExpectation};
use super::validate;
use crate::provider::fault::Fault;
use crate::runbook::diagnostic::{Diagnostic, Pos};

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn drills_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/drills")
}

/// A scenario file in the shipped drills directory (so that its runbook
/// paths resolve), parsed and checked.
fn check_text(text: &str) -> Vec<Diagnostic> {
    let path = drills_dir().join("inline.yaml");
    match scenario::parse(&path, text) {
        Ok(s) => match validate::check(s, today()) {
            Ok(c) => c.warnings,
            Err(d) => d,
        },
        Err(d) => d,
    }
}

const GOOD: &str = "name: t
services: [orders]
runbooks: [../orders-unplanned-failover.yaml]
objectives: { rto: 15m, rpo: 5m, failover: expected }
time_limit: 30m
timeline:
  - at: T+1m
    fault: { type: region-outage, region: us-east-1 }
";

#[test]
fn every_shipped_scenario_checks_clean() {
    let loaded = scenario::load_dir(&drills_dir()).unwrap();
    let names: Vec<String> = loaded
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "backups-stopped.yaml",
            "dns-split.yaml",
            "flapping-health-check.yaml",
            "full-outage.yaml",
            "lag-spike-failover.yaml",
            "planned-switchover.yaml"
        ]
    );
    for (path, loaded) in loaded {
        let s = loaded.unwrap_or_else(|d| panic!("{path:?}: {d:?}"));
        let checked = validate::check(s, today()).unwrap_or_else(|d| panic!("{path:?}: {d:?}"));
        let errors: Vec<_> = checked.warnings.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
    }
}

#[test]
fn a_good_scenario_reads_into_its_parts() {
    let path = drills_dir().join("inline.yaml");
    let s = scenario::parse(&path, GOOD).unwrap();
    assert_eq!(s.objectives.failover, FailoverExpectation::Expected);
    assert_eq!(s.time_limit.as_secs(), 1800);
    assert_eq!(s.timeline[0].at.as_secs(), 60);
    assert_eq!(s.timeline[0].lasts, None);
    assert_eq!(
        s.timeline[0].fault,
        Fault::RegionOutage {
            region: "us-east-1".into()
        }
    );
    assert_eq!(
        s.timeline[0].pos,
        Pos {
            line: 8,
            column: 12
        }
    );
    assert_eq!(
        s.runbooks[0].value,
        drills_dir().join("../orders-unplanned-failover.yaml")
    );
    assert!(check_text(GOOD).iter().all(|d| !d.is_error()));
}

fn only_error(text: &str) -> Diagnostic {
    let found: Vec<Diagnostic> = check_text(text)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.into_iter().next().unwrap()
}

#[test]
fn an_unknown_key_is_named_with_its_place() {
    let d = only_error(&GOOD.replace("time_limit: 30m", "time_limit: 30m\ntimelimit: 3m"));
    assert_eq!(d.pos.line, 6, "{d}");
    assert!(d.message.contains("timelimit"), "{d}");
}

#[test]
fn an_unknown_fault_type_is_named_with_its_place() {
    let d = only_error(&GOOD.replace("region-outage", "meteor-strike"));
    assert_eq!(d.pos.line, 8, "{d}");
    assert!(d.message.contains("meteor-strike"), "{d}");
}

#[test]
fn offsets_and_durations_are_bounded() {
    let d = only_error(&GOOD.replace("T+1m", "T+1 fortnight"));
    assert_eq!(d.pos, Pos { line: 7, column: 9 }, "{d}");
    assert!(d.message.contains("T+2m"), "{d}");
    let d = only_error(&GOOD.replace("T+1m", "T+30m"));
    assert!(d.message.contains("never start"), "{d}");
    let d = only_error(&GOOD.replace("time_limit: 30m", "time_limit: 300000y"));
    assert_eq!(d.pos.line, 5, "{d}");
    let d = only_error(&GOOD.replace("  - at: T+1m\n", "  - at: T+1m\n    for: 0s\n"));
    assert_eq!(d.pos.line, 8, "{d}");
}

#[test]
fn a_fault_the_world_refuses_is_reported_at_the_fault() {
    let d = only_error(&GOOD.replace("us-east-1 }", "eu-north-9 }"));
    assert_eq!(
        d.pos,
        Pos {
            line: 8,
            column: 12
        },
        "{d}"
    );
    assert!(d.message.contains("eu-north-9"), "{d}");
    let flapping = "type: flapping-health-check, health_check: hc-orders-use1, period_seconds: 1";
    let d = only_error(&GOOD.replace("type: region-outage, region: us-east-1", flapping));
    assert!(d.message.contains("flaps every"), "{d}");
}

#[test]
fn services_and_runbooks_must_exist_and_agree() {
    let found = check_text(&GOOD.replace("[orders]", "[orderz]"));
    assert_eq!(
        found[0].pos,
        Pos {
            line: 2,
            column: 12
        },
        "{found:?}"
    );
    assert!(found[0].message.contains("orderz"), "{found:?}");
    let found = check_text(&GOOD.replace("[orders]", "[billing]"));
    assert!(
        found
            .iter()
            .any(|d| d.message.contains("does not involve") && d.pos.line == 3),
        "{found:?}"
    );
    let found = check_text(&GOOD.replace("../orders-unplanned", "../nope"));
    assert!(
        found.iter().any(|d| d.is_error() && d.pos.line == 3),
        "{found:?}"
    );
}

#[test]
fn hostile_input_is_an_error_not_a_panic() {
    for text in [
        "",
        "- a\n- b\n",
        "name: [1, 2]\n",
        &GOOD.replace("rto: 15m", "rto: 99999999999999999999s"),
        &GOOD.replace("T+1m", "T+18446744073709551615s"),
        &GOOD.replace("[orders]", "[]"),
        &GOOD.replace("failover: expected", "failover: maybe"),
        &GOOD.replace(
            "type: region-outage, region: us-east-1",
            "type: slow-control-plane, factor: 4294967295",
        ),
        &GOOD.replace(
            "type: region-outage, region: us-east-1",
            "type: partial-outage, region: us-east-1, failing_checkers_percent: 255",
        ),
        &GOOD
            .replace("environment", "x")
            .replace("name: t", "name: t\nenvironment: ../../../../../etc/passwd"),
    ] {
        let found = check_text(text);
        assert!(found.iter().any(Diagnostic::is_error), "{text}: {found:?}");
    }
}
