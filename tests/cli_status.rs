//! `drconsole status` as a script would use it.

use std::process::{Command, Output};

fn drconsole(args: &[&str], home: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drconsole"))
        .args(args)
        .env("DRCONSOLE_HOME", home)
        .env_remove("AWS_PROFILE")
        .output()
        .expect("drconsole runs")
}

#[test]
fn json_status_lists_every_demo_service_with_objectives_and_exposure() {
    let home = tempfile::tempdir().unwrap();
    let out = drconsole(&["status", "--format", "json"], home.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let services = report["services"].as_array().expect("services array");
    let ids: Vec<&str> = services
        .iter()
        .map(|s| s["service_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["orders", "catalog", "billing", "assets", "reports"]);
    for s in services {
        assert!(s["objectives"]["rto"].is_string(), "{s}");
        assert!(s["objectives"]["rto_s"].is_number(), "{s}");
        assert!(s["objectives"]["rpo_s"].is_number(), "{s}");
        assert!(s["rpo_exposure"].is_string(), "{s}");
        assert!(s["rpo_exposure_s"].is_number(), "{s}");
        assert_eq!(s["rto_exposure_s"], 0.0, "{s}");
        assert_eq!(s["availability"]["state"], "up", "{s}");
        assert!(s["availability"]["since"].is_string(), "{s}");
        // One poll cannot tell when a state began: it says so.
        assert_eq!(s["availability"]["since_basis"], "first-observation", "{s}");
        assert!(s.get("incident_start").is_none(), "{s}");
        assert_eq!(s["overall"], "ok", "{s}");
    }
    let writers: Vec<&serde_json::Value> = services.iter().map(|s| &s["writer_region"]).collect();
    assert_eq!(
        writers,
        [
            &serde_json::json!("us-east-1"),
            &serde_json::json!("us-east-1"),
            &serde_json::json!("us-east-1"),
            &serde_json::Value::Null,
            &serde_json::json!("us-east-1")
        ],
        "S3 has no single writer"
    );
    assert!(services[0]["pitr_age_s"].is_number());
    let lags = report["observed"]["lags"].as_array().unwrap();
    assert!(lags.iter().all(|l| l["lag_s"].is_number()), "{lags:?}");
    assert_eq!(report["within_objectives"], true);
    let checks = report["observed"]["health_checks"].as_array().unwrap();
    assert!(
        checks.iter().any(|c| c["id"] == "hc-orders-use1"),
        "{checks:?}"
    );
    assert!(
        !report["observed"]["dns_records"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn status_exits_non_zero_when_a_service_breaches() {
    let home = tempfile::tempdir().unwrap();
    let env = home.path().join("env.toml");
    // Pilot light cannot deliver a five-minute RTO whatever the lag.
    let demo = include_str!("../environments/demo.toml").replacen(
        "tier = \"pilot-light\"\nrto = \"4h\"",
        "tier = \"pilot-light\"\nrto = \"5m\"",
        1,
    );
    std::fs::write(&env, demo).unwrap();
    let out = drconsole(&["status", "--env", env.to_str().unwrap()], home.path());
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("BREACH"), "{table}");
    assert!(
        table.contains("SOME SERVICES OUTSIDE OBJECTIVES"),
        "{table}"
    );
}

#[test]
fn a_malformed_environment_names_file_line_and_column_and_draws_nothing() {
    let home = tempfile::tempdir().unwrap();
    let env = home.path().join("broken.toml");
    std::fs::write(
        &env,
        "name = \"x\"\nregions = [\"us-east-1\"]\n[[service]]\nid = 7\n",
    )
    .unwrap();
    let out = drconsole(&["status", "--env", env.to_str().unwrap()], home.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.toml:4:6"), "{err}");
}
