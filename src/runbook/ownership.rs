//! What a service owns, and which of an action's targets lie outside it.
//!
//! A runbook recovers one service and holds that service's lock while it
//! runs. An action reaching another service's database or DNS would act
//! outside the lock, behind the back of that service's own run, so `check`
//! refuses such a runbook and the engine refuses such an action once its
//! `${...}` parameters are filled in, before anything is sent.

use super::condition::same_resource;
use crate::domain::action::Action;
use crate::domain::environment::{Replication, ServiceSpec};

/// One identifier of an action that is not the service's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub what: &'static str,
    pub id: String,
}

impl std::fmt::Display for Foreign {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}`", self.what, self.id)
    }
}

/// The action's targets that `service` does not own, in the order the
/// action names them; empty when the action stays within the service.
pub fn foreign_targets(action: &Action, service: &ServiceSpec) -> Vec<Foreign> {
    let owned = Owned::of(service);
    let mut foreign = Vec::new();
    let mut want = |what: &'static str, id: &str, ok: bool| {
        if !ok {
            foreign.push(Foreign {
                what,
                id: id.to_string(),
            });
        }
    };
    let mut region = |id: &str| want("region", id, owned.regions.contains(&id));
    match action {
        Action::SwitchoverGlobalCluster { region: r, .. }
        | Action::FailoverGlobalCluster { region: r, .. }
        | Action::RemoveFromGlobalCluster { region: r, .. }
        | Action::PromoteReadReplica { region: r, .. }
        | Action::PromoteReadReplicaDbCluster { region: r, .. } => region(r),
        Action::UpsertRecord { .. } | Action::UpdateHealthCheck { .. } => {}
    }
    match action {
        Action::SwitchoverGlobalCluster {
            global_cluster,
            target_cluster: cluster,
            ..
        }
        | Action::FailoverGlobalCluster {
            global_cluster,
            target_cluster: cluster,
            ..
        }
        | Action::RemoveFromGlobalCluster {
            global_cluster,
            cluster,
            ..
        } => {
            want(
                "global cluster",
                global_cluster,
                owned.has(&owned.global_clusters, global_cluster),
            );
            want("cluster", cluster, owned.has(&owned.clusters, cluster));
        }
        Action::PromoteReadReplica { instance, .. } => {
            want("instance", instance, owned.has(&owned.instances, instance));
        }
        Action::PromoteReadReplicaDbCluster { cluster, .. } => {
            want("cluster", cluster, owned.has(&owned.clusters, cluster));
        }
        Action::UpsertRecord {
            zone_id,
            name,
            health_check_id,
            ..
        } => {
            let dns = service.dns.as_ref();
            want(
                "hosted zone",
                zone_id,
                dns.is_some_and(|d| same_zone(&d.zone_id, zone_id)),
            );
            want(
                "record",
                name,
                dns.is_some_and(|d| same_dns_name(&d.record, name)),
            );
            if let Some(hc) = health_check_id {
                want("health check", hc, owned.has(&owned.health_checks, hc));
            }
        }
        Action::UpdateHealthCheck {
            health_check_id, ..
        } => want(
            "health check",
            health_check_id,
            owned.has(&owned.health_checks, health_check_id),
        ),
    }
    foreign
}

/// The identifiers a service's spec gives it, by kind.
struct Owned<'a> {
    regions: Vec<&'a str>,
    global_clusters: Vec<&'a str>,
    clusters: Vec<&'a str>,
    instances: Vec<&'a str>,
    health_checks: Vec<&'a str>,
}

impl<'a> Owned<'a> {
    fn of(service: &'a ServiceSpec) -> Owned<'a> {
        let mut owned = Owned {
            regions: vec![&service.primary_region, &service.dr_region],
            global_clusters: Vec::new(),
            clusters: Vec::new(),
            instances: Vec::new(),
            health_checks: service
                .health_checks
                .iter()
                .map(|h| h.id.as_str())
                .collect(),
        };
        match &service.replication {
            Replication::AuroraGlobal {
                global_cluster,
                primary_cluster,
                secondary_cluster,
            } => {
                owned.global_clusters.push(global_cluster);
                owned
                    .clusters
                    .extend([primary_cluster, secondary_cluster].map(String::as_str));
            }
            Replication::RdsReplica {
                source_instance,
                replica_instance,
            } => owned
                .instances
                .extend([source_instance, replica_instance].map(String::as_str)),
            Replication::Backup {
                clusters,
                instances,
            } => {
                owned.clusters.extend(clusters.iter().map(String::as_str));
                owned.instances.extend(instances.iter().map(String::as_str));
            }
            Replication::S3 { .. } => {}
        }
        owned
    }

    /// Identifiers match by their last ARN segment, as everywhere in
    /// runbooks; an empty one never matches.
    fn has(&self, ids: &[&str], id: &str) -> bool {
        !id.is_empty() && ids.iter().any(|owned| same_resource(owned, id))
    }
}

/// `Z123` and `/hostedzone/Z123` name the same zone.
fn same_zone(a: &str, b: &str) -> bool {
    let short = |z: &str| z.trim_start_matches("/hostedzone/").to_string();
    !a.is_empty() && short(a) == short(b)
}

/// DNS names ignore case and the root's trailing dot.
fn same_dns_name(a: &str, b: &str) -> bool {
    let norm = |n: &str| n.trim_end_matches('.').to_ascii_lowercase();
    !norm(a).is_empty() && norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::source_file::load_toml;
    use crate::domain::action::RecordValue;
    use crate::domain::environment::Environment;

    fn service(id: &str) -> ServiceSpec {
        let env: Environment = load_toml(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/runbook-env.toml"
        )))
        .unwrap();
        env.service(id).unwrap().clone()
    }

    fn failover(global: &str, target: &str) -> Action {
        Action::FailoverGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: global.into(),
            target_cluster: target.into(),
            allow_data_loss: true,
        }
    }

    #[test]
    fn a_service_owns_its_own_database_and_dns_in_either_spelling() {
        let orders = service("orders");
        let arn = "arn:aws:rds:us-west-2:123456789012:cluster:orders-secondary";
        assert_eq!(
            foreign_targets(&failover("orders-global", arn), &orders),
            []
        );
        let upsert = Action::UpsertRecord {
            zone_id: "/hostedzone/Z0DEMO00000001".into(),
            name: "API.example.com".into(),
            record: RecordValue::Cname {
                value: "api.us-west-2.example.com".into(),
                ttl: 60,
            },
            set_identifier: None,
            failover: None,
            health_check_id: Some("hc-orders-usw2".into()),
        };
        assert_eq!(foreign_targets(&upsert, &orders), []);
    }

    #[test]
    fn another_services_resources_are_foreign() {
        let billing = service("billing");
        let shown: Vec<String> =
            foreign_targets(&failover("orders-global", "orders-secondary"), &billing)
                .iter()
                .map(ToString::to_string)
                .collect();
        assert_eq!(
            shown,
            [
                "global cluster `orders-global`",
                "cluster `orders-secondary`"
            ]
        );
        let check = Action::UpdateHealthCheck {
            health_check_id: "hc-orders-use1".into(),
            disabled: None,
            inverted: Some(true),
        };
        assert_eq!(foreign_targets(&check, &billing).len(), 1);
        let promote = Action::PromoteReadReplica {
            region: "eu-west-1".into(),
            instance: "billing-replica".into(),
            backup_retention_days: None,
        };
        assert_eq!(
            foreign_targets(&promote, &billing),
            [Foreign {
                what: "region",
                id: "eu-west-1".into()
            }]
        );
    }

    #[test]
    fn a_service_without_dns_owns_no_record() {
        let upsert = Action::UpsertRecord {
            zone_id: "Z0DEMO00000001".into(),
            name: "api.example.com.".into(),
            record: RecordValue::Cname {
                value: "x".into(),
                ttl: 60,
            },
            set_identifier: None,
            failover: None,
            health_check_id: None,
        };
        assert_eq!(foreign_targets(&upsert, &service("billing")).len(), 2);
    }
}
