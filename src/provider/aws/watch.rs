//! What the AWS provider reads each poll, derived from the environment.

use std::collections::{BTreeSet, HashSet};

use super::cloudwatch::LagTarget;
use crate::domain::environment::{Environment, HealthCheckSpec, Replication};

/// The resources one poll covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Watch {
    /// Regions whose RDS and CloudWatch APIs are read, in the environment's order.
    pub regions: Vec<String>,
    pub health_checks: Vec<HealthCheckSpec>,
    /// `(hosted zone id, record name)` of each record that traffic fails over with.
    pub records: Vec<(String, String)>,
    /// Clusters known to belong to an Aurora global database, so one that
    /// left it reads as standalone.
    pub replicated_clusters: HashSet<String>,
    pub lag_targets: Vec<LagTarget>,
}

impl Watch {
    pub fn from_environment(env: &Environment) -> Self {
        let mut regions: Vec<String> = Vec::new();
        for r in env.regions.iter().chain(
            env.services
                .iter()
                .flat_map(|s| [&s.primary_region, &s.dr_region]),
        ) {
            if !regions.contains(r) {
                regions.push(r.clone());
            }
        }
        if regions.is_empty() {
            regions.push(env.home_region.clone());
        }
        let mut seen_checks = BTreeSet::new();
        let health_checks = env
            .services
            .iter()
            .flat_map(|s| s.health_checks.iter())
            .filter(|h| seen_checks.insert(h.id.clone()))
            .cloned()
            .collect();
        let mut records: Vec<(String, String)> = Vec::new();
        for dns in env.services.iter().filter_map(|s| s.dns.as_ref()) {
            let key = (dns.zone_id.clone(), dns.record.clone());
            if !records.contains(&key) {
                records.push(key);
            }
        }
        let replicated_clusters = env
            .services
            .iter()
            .flat_map(|s| match &s.replication {
                Replication::AuroraGlobal {
                    primary_cluster,
                    secondary_cluster,
                    ..
                } => vec![primary_cluster.clone(), secondary_cluster.clone()],
                _ => vec![],
            })
            .collect();
        let lag_targets = env
            .services
            .iter()
            .flat_map(|s| match &s.replication {
                Replication::AuroraGlobal {
                    primary_cluster,
                    secondary_cluster,
                    ..
                } => vec![
                    LagTarget::AuroraCluster {
                        cluster: primary_cluster.clone(),
                        region: s.primary_region.clone(),
                    },
                    LagTarget::AuroraCluster {
                        cluster: secondary_cluster.clone(),
                        region: s.dr_region.clone(),
                    },
                ],
                Replication::RdsReplica {
                    replica_instance, ..
                } => vec![LagTarget::ReplicaInstance {
                    instance: replica_instance.clone(),
                    region: s.dr_region.clone(),
                }],
                Replication::S3 {
                    source_bucket,
                    destination_bucket,
                } => vec![LagTarget::S3 {
                    source_bucket: source_bucket.clone(),
                    source_region: s.primary_region.clone(),
                    destination_bucket: destination_bucket.clone(),
                    destination_region: s.dr_region.clone(),
                }],
                Replication::Backup { .. } => vec![],
            })
            .collect();
        Watch {
            regions,
            lag_targets,
            health_checks,
            records,
            replicated_clusters,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENV: &str = r#"
name = "shop"
regions = ["us-east-1"]

[[service]]
id = "orders"
name = "Orders"
tier = "warm-standby"
rto = "15m"
rpo = "1m"
primary_region = "us-east-1"
dr_region = "us-west-2"
replication = { kind = "aurora-global", global_cluster = "g", primary_cluster = "orders", secondary_cluster = "orders-dr" }
health_checks = [{ id = "hc-1", region = "us-east-1", fqdn = "a.example.com" }]
dns = { zone_id = "Z1", record = "api.example.com.", primary_target = "a", secondary_target = "b" }

[[service]]
id = "assets"
name = "Assets"
tier = "pilot-light"
rto = "2h"
rpo = "15m"
primary_region = "us-east-1"
dr_region = "eu-west-1"
replication = { kind = "s3", source_bucket = "assets", destination_bucket = "assets-dr" }
health_checks = [{ id = "hc-1", region = "us-east-1", fqdn = "a.example.com" }]
dns = { zone_id = "Z1", record = "api.example.com.", primary_target = "a", secondary_target = "b" }
"#;

    #[test]
    fn watch_covers_every_service_region_once_and_each_resource_once() {
        let env: Environment = toml::from_str(ENV).unwrap();
        let watch = Watch::from_environment(&env);
        assert_eq!(watch.regions, vec!["us-east-1", "us-west-2", "eu-west-1"]);
        assert_eq!(watch.health_checks.len(), 1);
        assert_eq!(
            watch.records,
            vec![("Z1".to_string(), "api.example.com.".to_string())]
        );
        assert_eq!(
            watch.replicated_clusters,
            HashSet::from(["orders".to_string(), "orders-dr".to_string()])
        );
        assert_eq!(
            watch.lag_targets.len(),
            3,
            "both Aurora clusters and the S3 pair"
        );
    }
}
