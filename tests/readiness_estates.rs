//! `drconsole readiness` on simulated estates with deliberate drift, as a
//! pipeline would run it: each problem reported with its evidence, the
//! exit status failing the build; a clean estate passes.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const SWITCHOVER: &str = include_str!("../runbooks/orders-planned-switchover.yaml");

/// The demo's Orders service alone (an Aurora global database with DNS
/// failover) and a backup-only reporting database, with `extra` appended.
fn environment(secondary: &str, extra: &str) -> String {
    format!(
        r#"name = "drifted"
home_region = "us-east-1"
regions = ["us-east-1", "us-west-2"]

[[service]]
id = "orders"
name = "Orders API"
tier = "warm-standby"
rto = "15m"
rpo = "5m"
primary_region = "us-east-1"
dr_region = "us-west-2"

[service.replication]
kind = "aurora-global"
global_cluster = "orders-global"
primary_cluster = "orders-primary"
secondary_cluster = "{secondary}"

[[service.health_checks]]
id = "hc-orders-use1"
region = "us-east-1"
fqdn = "api.us-east-1.example.com"

[[service.health_checks]]
id = "hc-orders-usw2"
region = "us-west-2"
fqdn = "api.us-west-2.example.com"

[service.dns]
zone_id = "Z0DEMO00000001"
record = "api.example.com."
primary_target = "api.us-east-1.example.com"
secondary_target = "api.us-west-2.example.com"

{extra}
"#
    )
}

const REPORTS: &str = r#"
[[service]]
id = "reports"
name = "Reporting"
tier = "backup-restore"
rto = "24h"
rpo = "24h"
primary_region = "us-east-1"
dr_region = "us-west-2"

[service.replication]
kind = "backup"
instances = ["reports-db"]
"#;

struct Run {
    code: i32,
    stdout: String,
    report: Option<Value>,
}

/// Runs `drconsole readiness` on `env` with the switchover runbook last
/// tested `tested_days_ago`, in a fresh home.
fn readiness(env: &str, tested_days_ago: i64, args: &[&str]) -> Run {
    readiness_with(SWITCHOVER, env, tested_days_ago, args)
}

/// [`readiness`] with `switchover` as the runbook.
fn readiness_with(switchover: &str, env: &str, tested_days_ago: i64, args: &[&str]) -> Run {
    let home = tempfile::tempdir().unwrap();
    let env_file = home.path().join("env.toml");
    std::fs::write(&env_file, env).unwrap();
    let runbooks = home.path().join("runbooks");
    std::fs::create_dir(&runbooks).unwrap();
    let tested = chrono::Utc::now().date_naive() - chrono::Duration::days(tested_days_ago);
    let runbook = switchover
        .lines()
        .map(|l| {
            if l.starts_with("last_tested:") {
                format!("last_tested: {tested}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(runbooks.join("orders-switchover.yaml"), runbook).unwrap();
    let out = drconsole(home.path(), &env_file, &runbooks, args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.code().is_some(),
        "killed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        code: out.status.code().unwrap(),
        report: serde_json::from_str(&stdout).ok(),
        stdout,
    }
}

fn drconsole(home: &Path, env: &Path, runbooks: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drconsole"))
        .arg("readiness")
        .args(args)
        .arg("--env")
        .arg(env)
        .arg("--runbooks")
        .arg(runbooks)
        .env("DRCONSOLE_HOME", home)
        .env_remove("AWS_PROFILE")
        .output()
        .expect("drconsole runs")
}

fn json(env: &str, tested_days_ago: i64) -> Run {
    readiness(env, tested_days_ago, &["--format", "json"])
}

/// The check `name` of `service` in a JSON report.
fn check<'a>(report: &'a Value, service: &str, name: &str) -> &'a Value {
    let card = report["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_id"] == service)
        .unwrap_or_else(|| panic!("no {service} in {report}"));
    card["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("{service} has no check {name}: {card}"))
}

fn failing(run: &Run, service: &str, name: &str, evidence: &str) -> String {
    let report = run.report.as_ref().expect("JSON report");
    let c = check(report, service, name);
    assert_eq!(c["status"], "fail", "{c}");
    let text = c["evidence"].as_str().unwrap();
    assert!(text.contains(evidence), "{text}");
    assert_eq!(run.code, 1, "a failing check fails the pipeline");
    c["fix"].as_str().unwrap().to_string()
}

#[test]
fn a_clean_estate_passes_and_only_strict_mode_stops_on_its_warnings() {
    let env = environment("orders-secondary", "");
    let run = json(&env, 3);
    let report = run.report.as_ref().expect("JSON report");
    let failures: Vec<&Value> = report["services"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail")
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(report["status"], "warn");
    assert_eq!(run.code, 0);
    assert_eq!(check(report, "orders", "engine version")["status"], "pass");
    assert_eq!(
        check(report, "orders", "runbook validates")["status"],
        "pass"
    );

    let strict = readiness(&env, 3, &["--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    assert!(
        strict.stdout.contains("NOT READY (strict)"),
        "{}",
        strict.stdout
    );
}

#[test]
fn an_engine_minor_version_mismatch_fails_with_both_versions() {
    let env = environment(
        "orders-secondary",
        "[[sim.drift]]\nresource = \"orders-secondary\"\nengine_version = \"15.2\"\n",
    );
    let fix = failing(
        &json(&env, 3),
        "orders",
        "engine version",
        "orders-primary (us-east-1) 15.4 · orders-secondary (us-west-2) 15.2",
    );
    assert!(fix.contains("upgrade"), "{fix}");
}

#[test]
fn a_retention_under_the_minimum_fails() {
    let env = environment(
        "orders-secondary",
        "[[sim.drift]]\nresource = \"orders-primary\"\nretention_days = 3\n",
    );
    failing(
        &json(&env, 3),
        "orders",
        "automated backups",
        "retention 3 days, under the minimum of 7",
    );
    // The minimum is the operator's to set.
    let lenient = readiness(&env, 3, &["--format", "json", "--min-retention-days", "2"]);
    let c = check(
        lenient.report.as_ref().unwrap(),
        "orders",
        "automated backups",
    );
    assert_eq!(c["status"], "pass", "{c}");
}

#[test]
fn a_backup_only_service_with_no_copy_outside_its_region_fails() {
    let env = environment(
        "orders-secondary",
        &format!(
            "{REPORTS}\n[[sim.drift]]\nresource = \"reports-db\"\ncross_region_copy = false\n"
        ),
    );
    let fix = failing(
        &json(&env, 3),
        "reports",
        "cross-region copy",
        "reports-db: no backup copy outside us-east-1",
    );
    assert!(fix.contains("us-west-2"), "{fix}");
}

#[test]
fn a_headless_secondary_fails() {
    let env = environment(
        "orders-secondary",
        "[[sim.drift]]\nresource = \"orders-secondary\"\ninstances = 0\n",
    );
    failing(
        &json(&env, 3),
        "orders",
        "secondary instances",
        "has no DB instance: it is headless",
    );
}

#[test]
fn a_stale_runbook_fails() {
    let env = environment("orders-secondary", "");
    let run = json(&env, 120);
    failing(&run, "orders", "runbook tested", "(120 days ago)");
}

#[test]
fn a_runbook_that_no_longer_fits_the_estate_fails_validation() {
    // The estate's secondary was rebuilt under a new name; a runbook written
    // with the old identifier instead of `${service.secondary_cluster}`
    // still switches over to it.
    let env = environment("orders-dr", "");
    let pinned = SWITCHOVER.replace("${service.secondary_cluster}", "orders-secondary");
    let run = readiness_with(&pinned, &env, 3, &["--format", "json"]);
    let fix = failing(&run, "orders", "runbook validates", "orders-secondary");
    assert!(fix.contains("runbook check"), "{fix}");
}

#[test]
fn markdown_and_table_reports_carry_evidence_and_fixes() {
    let env = environment(
        "orders-secondary",
        "[[sim.drift]]\nresource = \"orders-secondary\"\ndeletion_protection = false\n",
    );
    let md = readiness(&env, 3, &["--format", "markdown"]);
    assert_eq!(md.code, 1);
    assert!(
        md.stdout.contains("## Orders API (orders) — FAIL"),
        "{}",
        md.stdout
    );
    assert!(
        md.stdout.contains("| FAIL | dr environment | deletion protection | orders-primary (us-east-1) protected · orders-secondary (us-west-2) unprotected | turn on deletion protection for orders-secondary |"),
        "{}",
        md.stdout
    );
    let table = readiness(&env, 3, &[]);
    assert_eq!(table.code, 1);
    assert!(
        table
            .stdout
            .contains("fix: turn on deletion protection for orders-secondary"),
        "{}",
        table.stdout
    );
    assert!(
        table.stdout.contains("NOT READY: some checks fail"),
        "{}",
        table.stdout
    );
}

#[test]
fn a_drift_naming_no_resource_is_refused_with_its_place() {
    let env = environment(
        "orders-secondary",
        "[[sim.drift]]\nresource = \"orders-tertiary\"\n",
    );
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("env.toml");
    std::fs::write(&file, env).unwrap();
    let out = drconsole(home.path(), &file, home.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("env.toml:")
            && stderr.contains(
                "sim.drift names `orders-tertiary`, which no service's replication names"
            ),
        "{stderr}"
    );
}

#[test]
fn the_shipped_policies_grant_every_configuration_read() {
    for file in ["iam-read-only.json", "iam-operator.json"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("policies")
            .join(file);
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let allowed: Vec<String> = doc["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["Effect"] == "Allow")
            .flat_map(|s| match &s["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(list) => list
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_string))
                    .collect(),
                _ => vec![],
            })
            .collect();
        for action in drconsole::provider::aws::config_facts::IAM_ACTIONS {
            assert!(allowed.iter().any(|a| a == action), "{file} lacks {action}");
        }
    }
}
