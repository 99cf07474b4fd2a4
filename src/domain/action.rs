//! Typed failover actions and their rendering as the exact API call.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::snapshot::GlobalClusterObs;

/// One mutating AWS call. Runbooks name these by `type`; the simulator and
/// the AWS provider both execute them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Planned, no data loss: `SwitchoverGlobalCluster`.
    SwitchoverGlobalCluster {
        region: String,
        global_cluster: String,
        /// ARN or identifier of the secondary cluster to promote.
        target_cluster: String,
    },
    /// Unplanned: `FailoverGlobalCluster`, optionally with `AllowDataLoss`.
    FailoverGlobalCluster {
        region: String,
        global_cluster: String,
        target_cluster: String,
        #[serde(default)]
        allow_data_loss: bool,
    },
    /// Detach-and-promote: `RemoveFromGlobalCluster`.
    RemoveFromGlobalCluster {
        region: String,
        global_cluster: String,
        /// ARN of the member cluster to detach.
        cluster: String,
    },
    PromoteReadReplica {
        region: String,
        instance: String,
        #[serde(default)]
        backup_retention_days: Option<u32>,
    },
    PromoteReadReplicaDbCluster {
        region: String,
        cluster: String,
    },
    /// `ChangeResourceRecordSets` with one UPSERT.
    UpsertRecord {
        zone_id: String,
        name: String,
        record: RecordValue,
        #[serde(default)]
        set_identifier: Option<String>,
        #[serde(default)]
        failover: Option<crate::domain::snapshot::FailoverRole>,
        #[serde(default)]
        health_check_id: Option<String>,
    },
    /// `UpdateHealthCheck`: disable or invert a check (drills).
    UpdateHealthCheck {
        health_check_id: String,
        #[serde(default)]
        disabled: Option<bool>,
        #[serde(default)]
        inverted: Option<bool>,
    },
}

/// The value of a record set: a CNAME with a TTL or an alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RecordValue {
    Cname {
        value: String,
        ttl: u32,
    },
    Alias {
        /// A or AAAA.
        #[serde(default = "default_alias_type")]
        record_type: String,
        dns_name: String,
        hosted_zone_id: String,
        #[serde(default = "default_true")]
        evaluate_target_health: bool,
    },
}

fn default_alias_type() -> String {
    "A".to_string()
}

fn default_true() -> bool {
    true
}

/// An API call as the operator previews it and the journal records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiCall {
    pub service: String,
    pub region: String,
    pub operation: String,
    pub params: Value,
}

impl std::fmt::Display for ApiCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let params = serde_json::to_string_pretty(&self.params).map_err(|_| std::fmt::Error)?;
        write!(
            f,
            "{} {} ({})\n{}",
            self.service, self.operation, self.region, params
        )
    }
}

/// Route 53 is a global service whose API lives in us-east-1.
pub const ROUTE53_REGION: &str = "us-east-1";

/// The `ChangeBatch.Comment` every record change carries, so a change in
/// the Route 53 history can be traced to this tool. The preview shows it
/// because the call sends it.
pub const CHANGE_COMMENT: &str = "drconsole";

/// Route 53 names zones `/hostedzone/Z123` in some answers; its API takes `Z123`.
pub fn bare_zone_id(zone_id: &str) -> &str {
    zone_id.rsplit('/').next().unwrap_or(zone_id)
}

/// Why an action's cluster could not be named by ARN; nothing is sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error(
        "cannot resolve `{cluster}` to an ARN: global cluster `{global_cluster}` was not observed; nothing was sent"
    )]
    GlobalClusterUnseen {
        global_cluster: String,
        cluster: String,
    },
    #[error(
        "cannot resolve `{cluster}` to an ARN: it is not a member of global cluster `{global_cluster}` (members: {members}); nothing was sent"
    )]
    NotAMember {
        global_cluster: String,
        cluster: String,
        members: String,
    },
}

impl Action {
    /// The exact request this action sends, parameter names as in the API.
    pub fn describe(&self) -> ApiCall {
        let rds = |region: &str, operation: &str, params: Value| ApiCall {
            service: "rds".into(),
            region: region.into(),
            operation: operation.into(),
            params,
        };
        let route53 = |operation: &str, params: Value| ApiCall {
            service: "route53".into(),
            region: ROUTE53_REGION.into(),
            operation: operation.into(),
            params,
        };
        match self {
            Action::SwitchoverGlobalCluster {
                region,
                global_cluster,
                target_cluster,
            } => rds(
                region,
                "SwitchoverGlobalCluster",
                json!({
                    "GlobalClusterIdentifier": global_cluster,
                    "TargetDbClusterIdentifier": target_cluster,
                }),
            ),
            Action::FailoverGlobalCluster {
                region,
                global_cluster,
                target_cluster,
                allow_data_loss,
            } => rds(
                region,
                "FailoverGlobalCluster",
                json!({
                    "GlobalClusterIdentifier": global_cluster,
                    "TargetDbClusterIdentifier": target_cluster,
                    "AllowDataLoss": allow_data_loss,
                }),
            ),
            Action::RemoveFromGlobalCluster {
                region,
                global_cluster,
                cluster,
            } => rds(
                region,
                "RemoveFromGlobalCluster",
                json!({
                    "GlobalClusterIdentifier": global_cluster,
                    "DbClusterIdentifier": cluster,
                }),
            ),
            Action::PromoteReadReplica {
                region,
                instance,
                backup_retention_days,
            } => {
                let mut params = json!({ "DBInstanceIdentifier": instance });
                if let Some(days) = backup_retention_days {
                    params["BackupRetentionPeriod"] = json!(days);
                }
                rds(region, "PromoteReadReplica", params)
            }
            Action::PromoteReadReplicaDbCluster { region, cluster } => rds(
                region,
                "PromoteReadReplicaDBCluster",
                json!({ "DBClusterIdentifier": cluster }),
            ),
            Action::UpsertRecord {
                zone_id,
                name,
                record,
                set_identifier,
                failover,
                health_check_id,
            } => {
                let mut set = match record {
                    RecordValue::Cname { value, ttl } => json!({
                        "Name": name,
                        "Type": "CNAME",
                        "TTL": ttl,
                        "ResourceRecords": [{ "Value": value }],
                    }),
                    RecordValue::Alias {
                        record_type,
                        dns_name,
                        hosted_zone_id,
                        evaluate_target_health,
                    } => json!({
                        "Name": name,
                        "Type": record_type,
                        "AliasTarget": {
                            "HostedZoneId": hosted_zone_id,
                            "DNSName": dns_name,
                            "EvaluateTargetHealth": evaluate_target_health,
                        },
                    }),
                };
                if let Some(id) = set_identifier {
                    set["SetIdentifier"] = json!(id);
                }
                if let Some(role) = failover {
                    set["Failover"] = json!(role);
                }
                if let Some(hc) = health_check_id {
                    set["HealthCheckId"] = json!(hc);
                }
                route53(
                    "ChangeResourceRecordSets",
                    json!({
                        "HostedZoneId": bare_zone_id(zone_id),
                        "ChangeBatch": {
                            "Comment": CHANGE_COMMENT,
                            "Changes": [{ "Action": "UPSERT", "ResourceRecordSet": set }],
                        },
                    }),
                )
            }
            Action::UpdateHealthCheck {
                health_check_id,
                disabled,
                inverted,
            } => {
                let mut params = json!({ "HealthCheckId": health_check_id });
                if let Some(d) = disabled {
                    params["Disabled"] = json!(d);
                }
                if let Some(i) = inverted {
                    params["Inverted"] = json!(i);
                }
                route53("UpdateHealthCheck", params)
            }
        }
    }

    /// The action with its global-cluster member named by ARN, as
    /// `FailoverGlobalCluster`, `SwitchoverGlobalCluster` and
    /// `RemoveFromGlobalCluster` document it ("so that Aurora can locate the
    /// cluster in its Region"). The ARN comes from the observed membership,
    /// never from a guess at the account id; other actions are unchanged.
    pub fn with_member_arns(
        &self,
        global_clusters: &[GlobalClusterObs],
    ) -> Result<Action, ArnError> {
        let mut resolved = self.clone();
        let (global_cluster, cluster) = match &mut resolved {
            Action::SwitchoverGlobalCluster {
                global_cluster,
                target_cluster,
                ..
            }
            | Action::FailoverGlobalCluster {
                global_cluster,
                target_cluster,
                ..
            } => (global_cluster, target_cluster),
            Action::RemoveFromGlobalCluster {
                global_cluster,
                cluster,
                ..
            } => (global_cluster, cluster),
            _ => return Ok(resolved),
        };
        let Some(global) = global_clusters.iter().find(|g| g.id == *global_cluster) else {
            return Err(ArnError::GlobalClusterUnseen {
                global_cluster: global_cluster.clone(),
                cluster: cluster.clone(),
            });
        };
        let wanted = cluster.as_str();
        let member = global.members.iter().find(|m| {
            m.cluster_arn == wanted || (!wanted.starts_with("arn:") && m.cluster_id == wanted)
        });
        match member {
            Some(m) => {
                *cluster = m.cluster_arn.clone();
                Ok(resolved)
            }
            None => Err(ArnError::NotAMember {
                global_cluster: global_cluster.clone(),
                cluster: cluster.clone(),
                members: match global.members.len() {
                    0 => "none".to_string(),
                    _ => global
                        .members
                        .iter()
                        .map(|m| m.cluster_id.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                },
            }),
        }
    }

    /// The global cluster whose writer this action moves, if it moves one.
    pub fn moves_writer_of(&self) -> Option<&str> {
        match self {
            Action::SwitchoverGlobalCluster { global_cluster, .. }
            | Action::FailoverGlobalCluster { global_cluster, .. } => Some(global_cluster),
            _ => None,
        }
    }

    /// The identifier an operator must type to confirm a `confirm: typed` step.
    pub fn target(&self) -> &str {
        match self {
            Action::SwitchoverGlobalCluster { global_cluster, .. }
            | Action::FailoverGlobalCluster { global_cluster, .. }
            | Action::RemoveFromGlobalCluster { global_cluster, .. } => global_cluster,
            Action::PromoteReadReplica { instance, .. } => instance,
            Action::PromoteReadReplicaDbCluster { cluster, .. } => cluster,
            Action::UpsertRecord { name, .. } => name,
            Action::UpdateHealthCheck {
                health_check_id, ..
            } => health_check_id,
        }
    }
}

/// What an accepted action call returned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub request_id: Option<String>,
    /// Route 53 change to wait on until INSYNC.
    pub change_id: Option<String>,
    pub summary: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ChangeStatus {
    Pending,
    Insync,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failover_renders_the_api_parameter_names() {
        let a = Action::FailoverGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: "orders-global".into(),
            target_cluster: "arn:aws:rds:us-west-2:123456789012:cluster:orders-dr".into(),
            allow_data_loss: true,
        };
        let call = a.describe();
        assert_eq!(call.operation, "FailoverGlobalCluster");
        assert_eq!(call.region, "us-west-2");
        assert_eq!(call.params["AllowDataLoss"], json!(true));
        assert_eq!(
            call.params["GlobalClusterIdentifier"],
            json!("orders-global")
        );
        assert_eq!(a.target(), "orders-global");
    }

    #[test]
    fn upsert_cname_is_one_change_with_ttl() {
        let a = Action::UpsertRecord {
            zone_id: "Z1".into(),
            name: "api.example.com.".into(),
            record: RecordValue::Cname {
                value: "api-dr.us-west-2.example.com".into(),
                ttl: 60,
            },
            set_identifier: None,
            failover: None,
            health_check_id: None,
        };
        let call = a.describe();
        assert_eq!(call.service, "route53");
        let change = &call.params["ChangeBatch"]["Changes"][0];
        assert_eq!(change["Action"], json!("UPSERT"));
        assert_eq!(change["ResourceRecordSet"]["TTL"], json!(60));
        assert_eq!(change["ResourceRecordSet"]["Type"], json!("CNAME"));
        assert_eq!(call.params["ChangeBatch"]["Comment"], json!(CHANGE_COMMENT));
    }

    fn orders_global() -> GlobalClusterObs {
        let member = |id: &str, region: &str, is_writer| crate::domain::snapshot::GlobalMember {
            cluster_id: id.into(),
            cluster_arn: format!("arn:aws:rds:{region}:123456789012:cluster:{id}"),
            region: region.into(),
            is_writer,
            synchronization_status: None,
        };
        GlobalClusterObs {
            id: "orders-global".into(),
            engine: "aurora-postgresql".into(),
            status: "available".into(),
            members: vec![
                member("orders-primary", "us-east-1", true),
                member("orders-secondary", "us-west-2", false),
            ],
        }
    }

    fn failover_to(target: &str) -> Action {
        Action::FailoverGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: "orders-global".into(),
            target_cluster: target.into(),
            allow_data_loss: true,
        }
    }

    #[test]
    fn a_bare_target_is_sent_as_the_member_arn() {
        let resolved = failover_to("orders-secondary")
            .with_member_arns(&[orders_global()])
            .unwrap();
        let arn = "arn:aws:rds:us-west-2:123456789012:cluster:orders-secondary";
        assert_eq!(resolved, failover_to(arn));
        assert_eq!(
            resolved.describe().params["TargetDbClusterIdentifier"],
            json!(arn)
        );
        let remove = Action::RemoveFromGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: "orders-global".into(),
            cluster: "orders-secondary".into(),
        };
        assert_eq!(
            remove
                .with_member_arns(&[orders_global()])
                .unwrap()
                .describe()
                .params["DbClusterIdentifier"],
            json!(arn)
        );
    }

    #[test]
    fn a_target_outside_the_global_cluster_is_refused() {
        let err = failover_to("orders-tertiary")
            .with_member_arns(&[orders_global()])
            .unwrap_err();
        assert!(
            err.to_string().contains("orders-primary, orders-secondary"),
            "{err}"
        );
        // An ARN of some other account's cluster with the same name is not a member.
        let foreign = "arn:aws:rds:us-west-2:999999999999:cluster:orders-secondary";
        assert!(
            failover_to(foreign)
                .with_member_arns(&[orders_global()])
                .is_err()
        );
        assert!(matches!(
            failover_to("orders-secondary").with_member_arns(&[]),
            Err(ArnError::GlobalClusterUnseen { .. })
        ));
    }

    #[test]
    fn actions_without_a_member_are_unchanged() {
        let promote = Action::PromoteReadReplicaDbCluster {
            region: "us-west-2".into(),
            cluster: "billing".into(),
        };
        assert_eq!(promote.with_member_arns(&[]).unwrap(), promote);
    }

    #[test]
    fn actions_parse_from_yaml_by_type() {
        let a: Action = serde_saphyr::from_str(
            "type: promote-read-replica\nregion: us-west-2\ninstance: billing-replica\n",
        )
        .unwrap();
        assert_eq!(
            a,
            Action::PromoteReadReplica {
                region: "us-west-2".into(),
                instance: "billing-replica".into(),
                backup_retention_days: None,
            }
        );
    }
}
