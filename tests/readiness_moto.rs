//! Readiness against a moto estate seeded with drift, read through the AWS
//! provider's configuration and observation reads.

mod support;

use drconsole::domain::snapshot::Snapshot;
use drconsole::provider::aws::from_sdk_config;
use drconsole::readiness::facts::Configuration;
use drconsole::readiness::{Check, Inputs, Settings, Status, evaluate};
use support::estate;
use support::moto::moto;

#[tokio::test]
async fn a_drifted_secondary_is_reported_field_by_field() {
    let config = moto().sdk_config("AKIDREADY").await;
    let estate = estate::seed_drifted_global(&config, "ready").await;
    let provider = from_sdk_config(&config, &estate.env, true);

    let readings = provider.observe.configuration().await;
    let configuration = Configuration::from_readings(&readings);
    let rds_failures: Vec<_> = configuration
        .failed
        .iter()
        .filter(|f| f.source.starts_with("config:rds"))
        .collect();
    assert!(rds_failures.is_empty(), "{rds_failures:?}");
    let primary = configuration
        .facts
        .cluster(&estate.primary_cluster)
        .unwrap();
    assert_eq!(
        primary.parameter_group_family.as_deref(),
        Some("aurora-postgresql15")
    );
    assert_eq!(primary.instance_classes, vec!["db.r6g.large"]);

    let mut observed = Snapshot::default();
    for reading in provider.observe.observe().await {
        if let Ok(s) = reading.result {
            observed.extend(&s);
        }
    }
    let readiness = evaluate(&Inputs {
        environment: &estate.env,
        observed: &observed,
        configuration: &configuration,
        runbooks: &[],
        runs: &[],
        drills: None,
        shared_store_region: None,
        now: chrono::Utc::now(),
        settings: Settings::default(),
    });
    let checks = &readiness.services[0].checks;
    let get = |name: &str| -> &Check {
        checks
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name}: {checks:#?}"))
    };
    let failing = |name: &str, evidence: &str| {
        let c = get(name);
        assert_eq!(c.status, Status::Fail, "{c:?}");
        assert!(c.evidence.contains(evidence), "{name}: {}", c.evidence);
    };
    failing(
        "engine version",
        &format!(
            "{} (us-east-1) 15.4 · {} (us-west-2) 15.3",
            estate.primary_cluster, estate.secondary_cluster
        ),
    );
    failing("parameter group family", "aurora-postgresql14");
    failing(
        "deletion protection",
        &format!("{} (us-west-2) unprotected", estate.secondary_cluster),
    );
    failing("secondary instances", "it is headless");
    assert_eq!(get("engine").status, Status::Pass);
    // moto does not route CloudWatch's current protocol: the alarms are
    // unknown, and unknown fails rather than passes.
    let alarm = get("lag alarm");
    assert_eq!(alarm.status, Status::Fail, "{alarm:?}");
}
