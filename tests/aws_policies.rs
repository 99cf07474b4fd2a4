//! The shipped IAM policies grant exactly what the provider calls.

mod support;

use drconsole::coordination::s3::{S3_READS, S3_WRITES};
use drconsole::domain::action::Action;
use drconsole::domain::action::RecordValue;
use drconsole::domain::snapshot::FailoverRole;
use support::policy::allowed_actions;

fn every_action() -> Vec<Action> {
    let region = || "us-west-2".to_string();
    vec![
        Action::SwitchoverGlobalCluster {
            region: region(),
            global_cluster: "g".into(),
            target_cluster: "c".into(),
        },
        Action::FailoverGlobalCluster {
            region: region(),
            global_cluster: "g".into(),
            target_cluster: "c".into(),
            allow_data_loss: true,
        },
        Action::RemoveFromGlobalCluster {
            region: region(),
            global_cluster: "g".into(),
            cluster: "c".into(),
        },
        Action::PromoteReadReplica {
            region: region(),
            instance: "i".into(),
            backup_retention_days: None,
        },
        Action::PromoteReadReplicaDbCluster {
            region: region(),
            cluster: "c".into(),
        },
        Action::UpsertRecord {
            zone_id: "Z".into(),
            name: "api.example.com.".into(),
            record: RecordValue::Cname {
                value: "x".into(),
                ttl: 60,
            },
            set_identifier: None,
            failover: Some(FailoverRole::Primary),
            health_check_id: None,
        },
        Action::UpdateHealthCheck {
            health_check_id: "hc".into(),
            disabled: Some(true),
            inverted: None,
        },
    ]
}

#[test]
fn read_only_policy_allows_no_mutation() {
    let read = allowed_actions("iam-read-only.json");
    assert!(!read.is_empty());
    for action in &read {
        let op = action.split(':').nth(1).unwrap_or_default();
        assert!(
            op.starts_with("Describe") || op.starts_with("List") || op.starts_with("Get"),
            "{action} is not a read"
        );
    }
    for action in every_action() {
        let call = action.describe();
        let iam = format!("{}:{}", call.service, call.operation);
        assert!(!read.contains(&iam), "read-only policy allows {iam}");
    }
}

#[test]
fn operator_policy_is_the_read_policy_plus_each_action_call() {
    let read = allowed_actions("iam-read-only.json");
    let operator = allowed_actions("iam-operator.json");
    let calls: std::collections::BTreeSet<String> = every_action()
        .iter()
        .map(|a| {
            let call = a.describe();
            format!("{}:{}", call.service, call.operation)
        })
        .collect();
    let mut expected: std::collections::BTreeSet<String> = read.union(&calls).cloned().collect();
    expected.extend(S3_WRITES.iter().map(|a| a.to_string()));
    assert_eq!(operator, expected, "nothing more, nothing less");
}

#[test]
fn the_shared_store_permissions_are_exactly_its_calls_on_one_bucket_and_prefix() {
    let read = allowed_actions("iam-read-only.json");
    let operator = allowed_actions("iam-operator.json");
    let s3 = |set: &std::collections::BTreeSet<String>| -> Vec<String> {
        set.iter()
            .filter(|a| a.starts_with("s3:"))
            .cloned()
            .collect()
    };
    assert_eq!(s3(&read), S3_READS.to_vec());
    let mut all: Vec<&str> = S3_READS.iter().chain(S3_WRITES).copied().collect();
    all.sort_unstable();
    assert_eq!(s3(&operator), all);
    for file in ["iam-read-only.json", "iam-operator.json"] {
        for statement in s3_statements(file) {
            let resource = statement["Resource"].as_str().expect("one resource");
            let lists = statement["Action"] == "s3:ListBucket";
            if lists {
                assert_eq!(resource, "arn:aws:s3:::DR-COORDINATION-BUCKET", "{file}");
                assert_eq!(
                    statement["Condition"]["StringLike"]["s3:prefix"],
                    serde_json::json!(["drconsole/*"]),
                    "{file}: listing is limited to the prefix"
                );
            } else {
                assert_eq!(
                    resource, "arn:aws:s3:::DR-COORDINATION-BUCKET/drconsole/*",
                    "{file}"
                );
            }
        }
    }
}

fn s3_statements(file: &str) -> Vec<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies")
        .join(file);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            let actions = s["Action"].to_string();
            actions.contains("\"s3:")
        })
        .cloned()
        .collect()
}

#[test]
fn both_policies_let_the_timeline_read_rds_events() {
    for policy in ["iam-read-only.json", "iam-operator.json"] {
        assert!(
            allowed_actions(policy).contains("rds:DescribeEvents"),
            "{policy} lacks rds:DescribeEvents"
        );
    }
}
