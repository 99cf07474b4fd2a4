//! The acting half: each typed action is one SDK call, and before it the
//! target is re-read so a resumed runbook never repeats a done mutation.

use async_trait::async_trait;
use aws_sdk_rds::operation::RequestId;
use aws_sdk_rds::types::{FailoverStatus, GlobalCluster};
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, RrType,
};

use super::arn;
use super::clients::ActClients;
use super::errors::from_sdk;
use super::route53;
use crate::domain::action::RecordValue;
use crate::domain::action::{Action, CHANGE_COMMENT, Receipt, bare_zone_id};
use crate::domain::snapshot::{ErrorKind, FailoverRole, SourceError};
use crate::provider::Act;

pub struct AwsActor {
    clients: ActClients,
}

impl AwsActor {
    pub fn new(clients: ActClients) -> Self {
        Self { clients }
    }

    fn rds(&self, region: &str) -> Result<&aws_sdk_rds::Client, SourceError> {
        self.clients.rds.get(region).ok_or_else(|| {
            SourceError::new(
                ErrorKind::Other,
                format!("region {region} is not one of the environment's regions"),
            )
        })
    }

    async fn global_cluster(
        &self,
        region: &str,
        id: &str,
    ) -> Result<Option<GlobalCluster>, SourceError> {
        let out = self
            .rds(region)?
            .describe_global_clusters()
            .global_cluster_identifier(id)
            .send()
            .await;
        match out {
            // Match by identifier: not every AWS-compatible server filters.
            Ok(out) => Ok(out
                .global_clusters()
                .iter()
                .find(|g| g.global_cluster_identifier() == Some(id))
                .cloned()),
            Err(e) => match from_sdk("DescribeGlobalClusters", e) {
                err if err.kind == ErrorKind::NotFound => Ok(None),
                err => Err(err),
            },
        }
    }
}

/// The writer already is `target`, or AWS is already moving it there.
pub fn writer_is_or_becoming(g: &GlobalCluster, target: &str) -> bool {
    let writer_is_target = g.global_cluster_members().iter().any(|m| {
        m.is_writer() == Some(true)
            && m.db_cluster_arn()
                .is_some_and(|a| arn::same_resource(a, target))
    });
    let moving_there = g.failover_state().is_some_and(|f| {
        !matches!(f.status(), Some(FailoverStatus::Cancelling) | None)
            && f.to_db_cluster_arn()
                .is_some_and(|a| arn::same_resource(a, target))
    });
    writer_is_target || moving_there
}

pub fn is_member(g: &GlobalCluster, cluster: &str) -> bool {
    g.global_cluster_members().iter().any(|m| {
        m.db_cluster_arn()
            .is_some_and(|a| arn::same_resource(a, cluster))
    })
}

/// The record set an [`Action::UpsertRecord`] writes.
pub fn record_set(
    name: &str,
    record: &RecordValue,
    set_identifier: Option<&str>,
    failover: Option<FailoverRole>,
    health_check_id: Option<&str>,
) -> Result<ResourceRecordSet, SourceError> {
    let builder = ResourceRecordSet::builder()
        .name(name)
        .set_set_identifier(set_identifier.map(str::to_string))
        .set_failover(failover.map(|f| match f {
            FailoverRole::Primary => ResourceRecordSetFailover::Primary,
            FailoverRole::Secondary => ResourceRecordSetFailover::Secondary,
        }))
        .set_health_check_id(health_check_id.map(str::to_string));
    let builder = match record {
        RecordValue::Cname { value, ttl } => builder
            .r#type(RrType::Cname)
            .ttl(i64::from(*ttl))
            .resource_records(
                ResourceRecord::builder()
                    .value(value)
                    .build()
                    .map_err(invalid)?,
            ),
        RecordValue::Alias {
            record_type,
            dns_name,
            hosted_zone_id,
            evaluate_target_health,
        } => builder
            .r#type(RrType::from(record_type.as_str()))
            .alias_target(
                AliasTarget::builder()
                    .dns_name(dns_name)
                    .hosted_zone_id(hosted_zone_id)
                    .evaluate_target_health(*evaluate_target_health)
                    .build()
                    .map_err(invalid)?,
            ),
    };
    builder.build().map_err(invalid)
}

fn invalid(e: impl std::fmt::Display) -> SourceError {
    SourceError::new(ErrorKind::Other, format!("invalid record set: {e}"))
}

/// The zone already serves what the upsert would write.
pub fn record_in_place(wanted: &ResourceRecordSet, existing: &[ResourceRecordSet]) -> bool {
    existing.iter().any(|e| {
        route53::normalize_name(e.name()) == route53::normalize_name(wanted.name())
            && e.r#type() == wanted.r#type()
            && e.set_identifier() == wanted.set_identifier()
            && e.failover() == wanted.failover()
            && e.health_check_id() == wanted.health_check_id()
            && e.ttl() == wanted.ttl()
            && values(e) == values(wanted)
    })
}

fn values(set: &ResourceRecordSet) -> Vec<String> {
    match set.alias_target() {
        Some(a) => vec![
            route53::normalize_name(a.dns_name()),
            a.hosted_zone_id().to_string(),
        ],
        None => set
            .resource_records()
            .iter()
            .map(|r| route53::normalize_name(r.value()))
            .collect(),
    }
}

/// Route 53 answers `/change/C123`; `GetChange` wants the bare id.
pub fn bare_change_id(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

#[async_trait]
impl Act for AwsActor {
    async fn execute(&self, action: &Action) -> Result<Receipt, SourceError> {
        let summary = action.describe().operation;
        match action {
            Action::SwitchoverGlobalCluster {
                region,
                global_cluster,
                target_cluster,
            } => {
                let out = self
                    .rds(region)?
                    .switchover_global_cluster()
                    .global_cluster_identifier(global_cluster)
                    .target_db_cluster_identifier(target_cluster)
                    .send()
                    .await
                    .map_err(|e| from_sdk("SwitchoverGlobalCluster", e))?;
                Ok(receipt(out.request_id(), None, summary))
            }
            Action::FailoverGlobalCluster {
                region,
                global_cluster,
                target_cluster,
                allow_data_loss,
            } => {
                let out = self
                    .rds(region)?
                    .failover_global_cluster()
                    .global_cluster_identifier(global_cluster)
                    .target_db_cluster_identifier(target_cluster)
                    .allow_data_loss(*allow_data_loss)
                    .send()
                    .await
                    .map_err(|e| from_sdk("FailoverGlobalCluster", e))?;
                Ok(receipt(out.request_id(), None, summary))
            }
            Action::RemoveFromGlobalCluster {
                region,
                global_cluster,
                cluster,
            } => {
                let out = self
                    .rds(region)?
                    .remove_from_global_cluster()
                    .global_cluster_identifier(global_cluster)
                    .db_cluster_identifier(cluster)
                    .send()
                    .await
                    .map_err(|e| from_sdk("RemoveFromGlobalCluster", e))?;
                Ok(receipt(out.request_id(), None, summary))
            }
            Action::PromoteReadReplica {
                region,
                instance,
                backup_retention_days,
            } => {
                let retention = backup_retention_days
                    .map(|d| i32::try_from(d).map_err(invalid))
                    .transpose()?;
                let out = self
                    .rds(region)?
                    .promote_read_replica()
                    .db_instance_identifier(instance)
                    .set_backup_retention_period(retention)
                    .send()
                    .await
                    .map_err(|e| from_sdk("PromoteReadReplica", e))?;
                Ok(receipt(out.request_id(), None, summary))
            }
            Action::PromoteReadReplicaDbCluster { region, cluster } => {
                let out = self
                    .rds(region)?
                    .promote_read_replica_db_cluster()
                    .db_cluster_identifier(cluster)
                    .send()
                    .await
                    .map_err(|e| from_sdk("PromoteReadReplicaDBCluster", e))?;
                Ok(receipt(out.request_id(), None, summary))
            }
            Action::UpsertRecord {
                zone_id,
                name,
                record,
                set_identifier,
                failover,
                health_check_id,
            } => {
                let set = record_set(
                    name,
                    record,
                    set_identifier.as_deref(),
                    *failover,
                    health_check_id.as_deref(),
                )?;
                let change = Change::builder()
                    .action(ChangeAction::Upsert)
                    .resource_record_set(set)
                    .build()
                    .map_err(invalid)?;
                let batch = ChangeBatch::builder()
                    .changes(change)
                    .comment(CHANGE_COMMENT)
                    .build()
                    .map_err(invalid)?;
                let out = self
                    .clients
                    .route53
                    .change_resource_record_sets()
                    .hosted_zone_id(bare_zone_id(zone_id))
                    .change_batch(batch)
                    .send()
                    .await
                    .map_err(|e| from_sdk("ChangeResourceRecordSets", e))?;
                let change_id = out
                    .change_info()
                    .map(|c| bare_change_id(c.id()).to_string());
                Ok(receipt(out.request_id(), change_id, summary))
            }
            Action::UpdateHealthCheck {
                health_check_id,
                disabled,
                inverted,
            } => {
                let out = self
                    .clients
                    .route53
                    .update_health_check()
                    .health_check_id(health_check_id)
                    .set_disabled(*disabled)
                    .set_inverted(*inverted)
                    .send()
                    .await
                    .map_err(|e| from_sdk("UpdateHealthCheck", e))?;
                Ok(receipt(out.request_id(), None, summary))
            }
        }
    }

    async fn already_applied(&self, action: &Action) -> Result<bool, SourceError> {
        match action {
            Action::SwitchoverGlobalCluster {
                region,
                global_cluster,
                target_cluster,
            }
            | Action::FailoverGlobalCluster {
                region,
                global_cluster,
                target_cluster,
                ..
            } => Ok(self
                .global_cluster(region, global_cluster)
                .await?
                .is_some_and(|g| writer_is_or_becoming(&g, target_cluster))),
            Action::RemoveFromGlobalCluster {
                region,
                global_cluster,
                cluster,
            } => Ok(self
                .global_cluster(region, global_cluster)
                .await?
                .is_none_or(|g| !is_member(&g, cluster))),
            Action::PromoteReadReplica {
                region, instance, ..
            } => {
                let out = self
                    .rds(region)?
                    .describe_db_instances()
                    .db_instance_identifier(instance)
                    .send()
                    .await
                    .map_err(|e| from_sdk("DescribeDBInstances", e))?;
                let instance = out.db_instances().first().ok_or_else(|| {
                    SourceError::new(
                        ErrorKind::NotFound,
                        format!("instance {instance} not found"),
                    )
                })?;
                Ok(instance
                    .read_replica_source_db_instance_identifier()
                    .is_none())
            }
            Action::PromoteReadReplicaDbCluster { region, cluster } => {
                let out = self
                    .rds(region)?
                    .describe_db_clusters()
                    .db_cluster_identifier(cluster)
                    .send()
                    .await
                    .map_err(|e| from_sdk("DescribeDBClusters", e))?;
                let cluster = out.db_clusters().first().ok_or_else(|| {
                    SourceError::new(ErrorKind::NotFound, format!("cluster {cluster} not found"))
                })?;
                Ok(cluster.replication_source_identifier().is_none())
            }
            Action::UpsertRecord {
                zone_id,
                name,
                record,
                set_identifier,
                failover,
                health_check_id,
            } => {
                let wanted = record_set(
                    name,
                    record,
                    set_identifier.as_deref(),
                    *failover,
                    health_check_id.as_deref(),
                )?;
                let existing = route53::read_records(
                    &self.clients.route53,
                    route53::bare_zone_id(zone_id),
                    name,
                )
                .await?;
                Ok(record_in_place(&wanted, &existing))
            }
            Action::UpdateHealthCheck {
                health_check_id,
                disabled,
                inverted,
            } => {
                let out = self
                    .clients
                    .route53
                    .get_health_check()
                    .health_check_id(health_check_id)
                    .send()
                    .await
                    .map_err(|e| from_sdk("GetHealthCheck", e))?;
                let config = out.health_check().and_then(|h| h.health_check_config());
                let now_disabled = config.and_then(|c| c.disabled()).unwrap_or(false);
                let now_inverted = config.and_then(|c| c.inverted()).unwrap_or(false);
                Ok(disabled.is_none_or(|d| d == now_disabled)
                    && inverted.is_none_or(|i| i == now_inverted))
            }
        }
    }
}

fn receipt(request_id: Option<&str>, change_id: Option<String>, operation: String) -> Receipt {
    Receipt {
        request_id: request_id.map(str::to_string),
        change_id,
        summary: format!("{operation} accepted"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cname(value: &str, ttl: u32) -> ResourceRecordSet {
        record_set(
            "api.example.com.",
            &RecordValue::Cname {
                value: value.into(),
                ttl,
            },
            Some("primary"),
            Some(FailoverRole::Primary),
            Some("hc-1"),
        )
        .unwrap()
    }

    #[test]
    fn an_upsert_is_in_place_when_the_zone_serves_the_same_set() {
        let wanted = cname("api.us-west-2.example.com", 60);
        let served = record_set(
            "API.example.com",
            &RecordValue::Cname {
                value: "api.us-west-2.example.com.".into(),
                ttl: 60,
            },
            Some("primary"),
            Some(FailoverRole::Primary),
            Some("hc-1"),
        )
        .unwrap();
        assert!(record_in_place(&wanted, &[served]));
        assert!(!record_in_place(
            &wanted,
            &[cname("api.us-east-1.example.com", 60)]
        ));
        assert!(!record_in_place(
            &wanted,
            &[cname("api.us-west-2.example.com", 300)]
        ));
        assert!(!record_in_place(&wanted, &[]));
    }

    #[test]
    fn aliases_compare_target_and_zone() {
        let alias = |zone: &str| {
            record_set(
                "api.example.com.",
                &RecordValue::Alias {
                    record_type: "A".into(),
                    dns_name: "lb.us-west-2.elb.amazonaws.com".into(),
                    hosted_zone_id: zone.into(),
                    evaluate_target_health: true,
                },
                None,
                None,
                None,
            )
            .unwrap()
        };
        assert!(record_in_place(&alias("Z2"), &[alias("Z2")]));
        assert!(!record_in_place(&alias("Z2"), &[alias("Z3")]));
    }

    #[test]
    fn change_ids_lose_their_prefix() {
        assert_eq!(bare_change_id("/change/C123"), "C123");
        assert_eq!(bare_change_id("C123"), "C123");
    }
}
