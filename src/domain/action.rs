//! Typed failover actions and their rendering as the exact API call.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

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
                        "HostedZoneId": zone_id,
                        "ChangeBatch": {
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
