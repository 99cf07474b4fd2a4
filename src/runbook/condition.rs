//! Conditions that `check` and `wait` steps assert about observed state.
//!
//! Evaluation is a pure function of one merged snapshot (plus the status of
//! the Route 53 change the runbook last made), so it is tested without a
//! provider and the engine can explain what it saw when a condition fails.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::action::ChangeStatus;
use crate::domain::environment::ServiceSpec;
use crate::domain::posture::{effective_lag, region_health, same_name, serving_region};
use crate::domain::snapshot::{ClusterRole, Health, Snapshot};
use crate::format::short_duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// The service's health checks in a region agree on a state.
    RegionHealth {
        region: String,
        is: HealthIs,
    },
    HealthCheck {
        id: String,
        is: HealthIs,
    },
    ClusterAvailable {
        cluster: String,
    },
    ClusterRole {
        cluster: String,
        is: RoleIs,
    },
    GlobalWriterIn {
        global_cluster: String,
        region: String,
    },
    ReplicationLagBelow {
        /// The receiving cluster, instance or bucket.
        resource: String,
        #[serde(with = "humantime_serde")]
        max: Duration,
    },
    /// DNS sends the service's users to this region.
    DnsServing {
        region: String,
    },
    DnsTarget {
        zone_id: String,
        name: String,
        target: String,
    },
    /// A read replica now stands alone and is available.
    ReplicaPromoted {
        instance: String,
    },
    /// The Route 53 change made by the most recent action step is INSYNC.
    DnsChangeInsync,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthIs {
    Healthy,
    Unhealthy,
}

impl HealthIs {
    fn matches(self, health: Health) -> bool {
        matches!(
            (self, health),
            (HealthIs::Healthy, Health::Healthy) | (HealthIs::Unhealthy, Health::Unhealthy)
        )
    }

    fn label(self) -> &'static str {
        match self {
            HealthIs::Healthy => "healthy",
            HealthIs::Unhealthy => "unhealthy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleIs {
    /// The cluster accepts writes: same as `primary`.
    Writer,
    Primary,
    Secondary,
    Standalone,
}

impl RoleIs {
    fn matches(self, role: ClusterRole) -> bool {
        matches!(
            (self, role),
            (RoleIs::Writer | RoleIs::Primary, ClusterRole::Primary)
                | (RoleIs::Secondary, ClusterRole::Secondary)
                | (RoleIs::Standalone, ClusterRole::Standalone)
        )
    }

    fn label(self) -> &'static str {
        match self {
            RoleIs::Writer => "writer",
            RoleIs::Primary => "primary",
            RoleIs::Secondary => "secondary",
            RoleIs::Standalone => "standalone",
        }
    }
}

/// What a condition is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    pub service: &'a ServiceSpec,
    pub snapshot: &'a Snapshot,
    /// Id and status of the Route 53 change the latest action made, if any.
    pub change: Option<(&'a str, ChangeStatus)>,
}

/// Whether a condition holds, and what was seen, in words for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    pub holds: bool,
    pub observed: String,
}

impl Evaluation {
    fn new(holds: bool, observed: impl Into<String>) -> Self {
        Self {
            holds,
            observed: observed.into(),
        }
    }

    fn unseen(what: &str) -> Self {
        Self::new(false, format!("{what} not observed"))
    }
}

/// Identifiers compare by their last ARN segment, so either form may be used.
pub fn same_resource(a: &str, b: &str) -> bool {
    let short = |s: &str| s.rsplit(':').next().unwrap_or(s).to_string();
    short(a) == short(b)
}

impl Condition {
    pub fn describe(&self) -> String {
        match self {
            Condition::RegionHealth { region, is } => {
                format!("region {region} is {}", is.label())
            }
            Condition::HealthCheck { id, is } => format!("health check {id} is {}", is.label()),
            Condition::ClusterAvailable { cluster } => format!("cluster {cluster} is available"),
            Condition::ClusterRole { cluster, is } => {
                format!("cluster {cluster} is {}", is.label())
            }
            Condition::GlobalWriterIn {
                global_cluster,
                region,
            } => format!("{global_cluster} writes in {region}"),
            Condition::ReplicationLagBelow { resource, max } => format!(
                "replication lag of {resource} below {}",
                crate::format::objective(*max)
            ),
            Condition::DnsServing { region } => format!("DNS serves {region}"),
            Condition::DnsTarget { name, target, .. } => format!("{name} points at {target}"),
            Condition::ReplicaPromoted { instance } => {
                format!("{instance} is promoted and available")
            }
            Condition::DnsChangeInsync => "the DNS change is INSYNC".to_string(),
        }
    }

    pub fn evaluate(&self, obs: &Observed<'_>) -> Evaluation {
        let snap = obs.snapshot;
        let cluster = |id: &str| snap.db_clusters.iter().find(|c| same_resource(&c.id, id));
        match self {
            Condition::RegionHealth { region, is } => {
                let health = region_health(obs.service, snap, region);
                Evaluation::new(
                    is.matches(health),
                    format!("region {region} is {}", health_label(health)),
                )
            }
            Condition::HealthCheck { id, is } => {
                match snap.health_checks.iter().find(|h| &h.id == id) {
                    Some(h) => Evaluation::new(
                        is.matches(h.status),
                        format!("health check {id} is {}", health_label(h.status)),
                    ),
                    None => Evaluation::unseen(&format!("health check {id}")),
                }
            }
            Condition::ClusterAvailable { cluster: id } => match cluster(id) {
                Some(c) => Evaluation::new(
                    c.status == "available",
                    format!("cluster {id} is {}", c.status),
                ),
                None => Evaluation::unseen(&format!("cluster {id}")),
            },
            Condition::ClusterRole { cluster: id, is } => match cluster(id) {
                Some(c) => Evaluation::new(
                    is.matches(c.role),
                    format!("cluster {id} is {}", role_label(c.role)),
                ),
                None => Evaluation::unseen(&format!("cluster {id}")),
            },
            Condition::GlobalWriterIn {
                global_cluster,
                region,
            } => match snap
                .global_clusters
                .iter()
                .find(|g| &g.id == global_cluster)
            {
                Some(g) => match g.writer() {
                    Some(w) => Evaluation::new(
                        &w.region == region,
                        format!("{global_cluster} writes in {}", w.region),
                    ),
                    None => Evaluation::new(false, format!("{global_cluster} has no writer")),
                },
                None => Evaluation::unseen(&format!("global cluster {global_cluster}")),
            },
            Condition::ReplicationLagBelow { resource, max } => {
                let lag = snap
                    .lags
                    .iter()
                    .find(|l| same_resource(&l.resource_id, resource))
                    .and_then(effective_lag);
                match lag {
                    Some(lag) => Evaluation::new(
                        lag < *max,
                        format!("replication lag of {resource} is {}", short_duration(lag)),
                    ),
                    None => Evaluation::unseen(&format!("replication lag of {resource}")),
                }
            }
            Condition::DnsServing { region } => match serving_region(obs.service, snap) {
                Some(serving) => {
                    Evaluation::new(&serving == region, format!("DNS serves {serving}"))
                }
                None => Evaluation::unseen("the serving region"),
            },
            Condition::DnsTarget {
                zone_id,
                name,
                target,
            } => {
                let records: Vec<_> = snap
                    .dns_records
                    .iter()
                    .filter(|r| &r.zone_id == zone_id && same_name(&r.name, name))
                    .collect();
                if records.is_empty() {
                    return Evaluation::unseen(&format!("record {name}"));
                }
                let targets: Vec<&str> = records.iter().map(|r| r.target.as_str()).collect();
                Evaluation::new(
                    targets.iter().any(|t| same_name(t, target)),
                    format!("{name} points at {}", targets.join(", ")),
                )
            }
            Condition::ReplicaPromoted { instance } => {
                match snap
                    .db_instances
                    .iter()
                    .find(|i| same_resource(&i.id, instance))
                {
                    Some(i) if i.replica_source.is_some() => Evaluation::new(
                        false,
                        format!("{instance} still replicates ({})", i.status),
                    ),
                    Some(i) => Evaluation::new(
                        i.status == "available",
                        format!("{instance} stands alone ({})", i.status),
                    ),
                    None => Evaluation::unseen(&format!("instance {instance}")),
                }
            }
            Condition::DnsChangeInsync => match obs.change {
                Some((id, status)) => Evaluation::new(
                    status == ChangeStatus::Insync,
                    format!("change {id} is {}", change_label(status)),
                ),
                None => Evaluation::new(false, "no DNS change to wait on"),
            },
        }
    }
}

fn health_label(health: Health) -> &'static str {
    match health {
        Health::Healthy => "healthy",
        Health::Unhealthy => "unhealthy",
        Health::Unknown => "unknown",
    }
}

fn role_label(role: ClusterRole) -> &'static str {
    match role {
        ClusterRole::Primary => "primary (writer)",
        ClusterRole::Secondary => "secondary",
        ClusterRole::Standalone => "standalone",
    }
}

fn change_label(status: ChangeStatus) -> &'static str {
    match status {
        ChangeStatus::Pending => "PENDING",
        ChangeStatus::Insync => "INSYNC",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::environment::{DnsSpec, HealthCheckSpec, Replication};
    use crate::domain::objectives::{DrTier, Objectives};
    use crate::domain::snapshot::{
        BackupObs, DbClusterObs, DbInstanceObs, DnsRecordObs, GlobalClusterObs, GlobalMember,
        HealthCheckObs, LagKind, LagObs,
    };

    fn service() -> ServiceSpec {
        ServiceSpec {
            id: "orders".into(),
            name: "Orders".into(),
            tier: DrTier::WarmStandby,
            objectives: Objectives {
                rto: Duration::from_secs(900),
                rpo: Duration::from_secs(300),
            },
            primary_region: "us-east-1".into(),
            dr_region: "us-west-2".into(),
            replication: Replication::AuroraGlobal {
                global_cluster: "orders-global".into(),
                primary_cluster: "orders-primary".into(),
                secondary_cluster: "orders-secondary".into(),
            },
            health_checks: vec![HealthCheckSpec {
                id: "hc-orders-use1".into(),
                region: "us-east-1".into(),
                fqdn: "api.us-east-1.example.com".into(),
                failure_threshold: 3,
            }],
            dns: Some(DnsSpec {
                zone_id: "Z0DEMO00000001".into(),
                record: "api.example.com.".into(),
                primary_target: "api.us-east-1.example.com".into(),
                secondary_target: "api.us-west-2.example.com".into(),
                ttl: 60,
            }),
        }
    }

    fn snapshot() -> Snapshot {
        Snapshot {
            health_checks: vec![HealthCheckObs {
                id: "hc-orders-use1".into(),
                region: "us-east-1".into(),
                fqdn: "api.us-east-1.example.com".into(),
                status: Health::Unhealthy,
                checkers_healthy: 2,
                checkers_total: 16,
                failure_threshold: 3,
                disabled: false,
                inverted: false,
            }],
            global_clusters: vec![GlobalClusterObs {
                id: "orders-global".into(),
                engine: "aurora-postgresql".into(),
                status: "available".into(),
                members: vec![GlobalMember {
                    cluster_id: "orders-secondary".into(),
                    cluster_arn: "arn:aws:rds:us-west-2:1:cluster:orders-secondary".into(),
                    region: "us-west-2".into(),
                    is_writer: true,
                    synchronization_status: None,
                }],
            }],
            db_clusters: vec![DbClusterObs {
                id: "orders-secondary".into(),
                arn: "arn:aws:rds:us-west-2:1:cluster:orders-secondary".into(),
                region: "us-west-2".into(),
                engine: "aurora-postgresql".into(),
                engine_version: "15.4".into(),
                status: "modifying".into(),
                role: ClusterRole::Primary,
                global_cluster_id: Some("orders-global".into()),
                endpoint: None,
                backup: BackupObs::default(),
            }],
            db_instances: vec![DbInstanceObs {
                id: "billing-replica".into(),
                arn: "arn:aws:rds:us-west-2:1:db:billing-replica".into(),
                region: "us-west-2".into(),
                engine: "postgres".into(),
                status: "available".into(),
                replica_source: Some("billing-db".into()),
                replicas: vec![],
                endpoint: None,
                backup: BackupObs::default(),
            }],
            lags: vec![LagObs {
                resource_id: "orders-secondary".into(),
                region: "us-west-2".into(),
                kind: LagKind::AuroraGlobal,
                lag: Some(Duration::from_millis(800)),
                rpo_lag: Some(Duration::from_secs(2)),
                pending_operations: None,
            }],
            dns_records: vec![DnsRecordObs {
                zone_id: "Z0DEMO00000001".into(),
                name: "api.example.com.".into(),
                record_type: "CNAME".into(),
                set_identifier: None,
                failover: None,
                target: "api.us-west-2.example.com".into(),
                ttl: Some(60),
                health_check_id: None,
            }],
            ..Snapshot::default()
        }
    }

    fn eval(yaml: &str) -> Evaluation {
        eval_with(yaml, None)
    }

    fn eval_with(yaml: &str, change: Option<(&str, ChangeStatus)>) -> Evaluation {
        let condition: Condition = serde_saphyr::from_str(yaml).unwrap();
        let (service, snapshot) = (service(), snapshot());
        condition.evaluate(&Observed {
            service: &service,
            snapshot: &snapshot,
            change,
        })
    }

    #[test]
    fn health_by_region_and_by_check() {
        assert!(eval("region_health: { region: us-east-1, is: unhealthy }").holds);
        let e = eval("region_health: { region: us-west-2, is: healthy }");
        assert_eq!(e, Evaluation::new(false, "region us-west-2 is unknown"));
        assert!(eval("health_check: { id: hc-orders-use1, is: unhealthy }").holds);
        assert_eq!(
            eval("health_check: { id: hc-x, is: healthy }").observed,
            "health check hc-x not observed"
        );
    }

    #[test]
    fn cluster_status_and_role_accept_ids_or_arns() {
        let e = eval("cluster_available: { cluster: orders-secondary }");
        assert_eq!(
            e,
            Evaluation::new(false, "cluster orders-secondary is modifying")
        );
        assert!(
            eval("cluster_role: { cluster: 'arn:aws:rds:us-west-2:1:cluster:orders-secondary', is: writer }")
                .holds
        );
        assert!(eval("cluster_role: { cluster: orders-secondary, is: primary }").holds);
        assert!(!eval("cluster_role: { cluster: orders-secondary, is: secondary }").holds);
        assert!(
            eval("global_writer_in: { global_cluster: orders-global, region: us-west-2 }").holds
        );
    }

    #[test]
    fn lag_uses_the_worse_of_the_two_metrics() {
        assert!(!eval("replication_lag_below: { resource: orders-secondary, max: 1s }").holds);
        let e = eval("replication_lag_below: { resource: orders-secondary, max: 5s }");
        assert_eq!(
            e,
            Evaluation::new(true, "replication lag of orders-secondary is 2s")
        );
    }

    #[test]
    fn dns_serving_target_and_change() {
        assert!(eval("dns_serving: { region: us-west-2 }").holds);
        assert!(
            eval("dns_target: { zone_id: Z0DEMO00000001, name: API.example.com, target: api.us-west-2.example.com. }")
                .holds
        );
        assert!(!eval("dns_change_insync").holds);
        assert!(eval_with("dns_change_insync", Some(("C1", ChangeStatus::Insync))).holds);
        assert_eq!(
            eval_with("dns_change_insync", Some(("C1", ChangeStatus::Pending))).observed,
            "change C1 is PENDING"
        );
    }

    #[test]
    fn a_replica_is_promoted_only_once_it_stands_alone() {
        let e = eval("replica_promoted: { instance: billing-replica }");
        assert_eq!(
            e,
            Evaluation::new(false, "billing-replica still replicates (available)")
        );
    }
}
