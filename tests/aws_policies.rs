//! The shipped IAM policies grant exactly what the provider calls.

mod support;

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
    let expected: std::collections::BTreeSet<String> = read.union(&calls).cloned().collect();
    assert_eq!(operator, expected, "nothing more, nothing less");
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
