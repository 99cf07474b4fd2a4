//! How the simulated databases are configured, for readiness: the same
//! engine, version, classes, parameter groups and deletion protection on
//! both sides, an alarm on every declared replica's lag, except where the
//! environment's `[[sim.drift]]` says otherwise.
//!
//! Sources `config:rds:<region>` and `config:cloudwatch:<region>` fail
//! when the world's `rds:<region>` or `cloudwatch:<region>` source does.

use chrono::{DateTime, Utc};

use super::model::{AURORA_VERSION, Membership, Model};
use super::observe;
use crate::domain::environment::{Environment, Replication, SimDrift};
use crate::domain::snapshot::{ErrorKind, SourceError};
use crate::readiness::facts::{
    AlarmConfig, BackupCopy, ClusterConfig, ConfigFacts, ConfigReading, InstanceConfig,
};

const AURORA_CLASS: &str = "db.r6g.large";
const AURORA_FAMILY: &str = "aurora-postgresql15";
const RDS_CLASS: &str = "db.m6g.large";
const RDS_FAMILY: &str = "postgres15";
const RDS_VERSION: &str = "15.4";
/// Replicated automated backups trail their source by a few minutes.
const COPY_DELAY: chrono::Duration = chrono::Duration::minutes(5);
/// A global database's writer cluster runs a writer and a reader.
const WRITER_CLUSTER_INSTANCES: u32 = 2;

/// The simulated configuration an environment describes.
pub(super) struct SimConfiguration {
    drift: Vec<SimDrift>,
    /// Alarms set up where the environment declared each replica.
    alarms: Vec<AlarmConfig>,
    /// Instances whose automated backups go to another region, and which.
    copies: Vec<(String, String)>,
}

impl SimConfiguration {
    pub(super) fn of(env: &Environment) -> SimConfiguration {
        let drift = env.sim.drift.clone();
        let alarmed = |id: &str| {
            drift
                .iter()
                .find(|d| d.resource == id)
                .and_then(|d| d.lag_alarm)
                .unwrap_or(true)
        };
        let alarm = |id: &str, region: &str, metric: &str, dimension: &str| AlarmConfig {
            name: format!("{id}-{}", metric.to_ascii_lowercase()),
            region: region.to_string(),
            namespace: "AWS/RDS".into(),
            metric: metric.into(),
            dimensions: vec![(dimension.into(), id.into())],
            actions_enabled: true,
        };
        let alarms = env
            .services
            .iter()
            .filter_map(|s| match &s.replication {
                Replication::AuroraGlobal {
                    secondary_cluster, ..
                } if alarmed(secondary_cluster) => Some(alarm(
                    secondary_cluster,
                    &s.dr_region,
                    "AuroraGlobalDBRPOLag",
                    "DBClusterIdentifier",
                )),
                Replication::RdsReplica {
                    replica_instance, ..
                } if alarmed(replica_instance) => Some(alarm(
                    replica_instance,
                    &s.dr_region,
                    "ReplicaLag",
                    "DBInstanceIdentifier",
                )),
                _ => None,
            })
            .collect();
        let copies = env
            .services
            .iter()
            .flat_map(|s| {
                let sources: Vec<&String> = match &s.replication {
                    Replication::RdsReplica {
                        source_instance, ..
                    } => vec![source_instance],
                    Replication::Backup { instances, .. } => instances.iter().collect(),
                    _ => Vec::new(),
                };
                sources
                    .into_iter()
                    .map(|id| (id.clone(), s.dr_region.clone()))
            })
            .collect();
        SimConfiguration {
            drift,
            alarms,
            copies,
        }
    }

    fn drift(&self, id: &str) -> SimDrift {
        self.drift
            .iter()
            .find(|d| d.resource == id)
            .cloned()
            .unwrap_or_default()
    }

    /// One reading per region and source; `failure_of` tells which of the
    /// world's sources are failing.
    pub(super) fn read(
        &self,
        model: &Model,
        taken_at: DateTime<Utc>,
        failure_of: impl Fn(&str) -> Option<ErrorKind>,
    ) -> Vec<ConfigReading> {
        let mut out = Vec::new();
        for (index, region) in model.regions.iter().enumerate() {
            let name = &region.name;
            let reading = |kind: &str, facts: ConfigFacts| {
                let source = format!("config:{kind}:{name}");
                ConfigReading {
                    result: match failure_of(&format!("{kind}:{name}")) {
                        Some(error) => Err(SourceError::new(
                            error,
                            format!("{source}: simulated {} failure", error.label()),
                        )),
                        None => Ok(facts),
                    },
                    source,
                    region: name.clone(),
                    taken_at,
                }
            };
            out.push(reading("rds", self.rds(model, index)));
            let alarms = self
                .alarms
                .iter()
                .filter(|a| &a.region == name)
                .cloned()
                .collect();
            out.push(reading(
                "cloudwatch",
                ConfigFacts {
                    alarms,
                    ..ConfigFacts::default()
                },
            ));
        }
        out
    }

    fn rds(&self, model: &Model, region: usize) -> ConfigFacts {
        let seen = observe::rds(model, region);
        let clusters = seen
            .db_clusters
            .iter()
            .map(|c| {
                let drift = self.drift(&c.id);
                let writer = model
                    .clusters
                    .iter()
                    .any(|m| m.id == c.id && m.membership == Membership::Writer);
                let count =
                    drift
                        .instances
                        .unwrap_or(if writer { WRITER_CLUSTER_INSTANCES } else { 1 });
                let class = drift.instance_class.clone().unwrap_or(AURORA_CLASS.into());
                ClusterConfig {
                    id: c.id.clone(),
                    region: c.region.clone(),
                    status: c.status.clone(),
                    engine: c.engine.clone(),
                    engine_version: drift
                        .engine_version
                        .clone()
                        .unwrap_or(AURORA_VERSION.into()),
                    parameter_group: Some(format!("default.{AURORA_FAMILY}")),
                    parameter_group_family: Some(
                        drift
                            .parameter_group_family
                            .clone()
                            .unwrap_or(AURORA_FAMILY.into()),
                    ),
                    deletion_protection: drift.deletion_protection.unwrap_or(true),
                    retention_days: c.backup.retention_days,
                    instance_classes: vec![class; count as usize],
                }
            })
            .collect();
        let instances = seen
            .db_instances
            .iter()
            .map(|i| {
                let drift = self.drift(&i.id);
                InstanceConfig {
                    id: i.id.clone(),
                    region: i.region.clone(),
                    status: i.status.clone(),
                    engine: i.engine.clone(),
                    engine_version: drift.engine_version.clone().unwrap_or(RDS_VERSION.into()),
                    instance_class: drift.instance_class.clone().unwrap_or(RDS_CLASS.into()),
                    parameter_group: Some(format!("default.{RDS_FAMILY}")),
                    parameter_group_family: Some(
                        drift
                            .parameter_group_family
                            .clone()
                            .unwrap_or(RDS_FAMILY.into()),
                    ),
                    deletion_protection: drift.deletion_protection.unwrap_or(true),
                    retention_days: i.backup.retention_days,
                }
            })
            .collect();
        ConfigFacts {
            clusters,
            instances,
            backup_copies: self.copies_in(model, region),
            ..ConfigFacts::default()
        }
    }

    /// The replicated backups `region` holds: each trails its source's
    /// newest restorable point, which stops moving while the source's
    /// region is down.
    fn copies_in(&self, model: &Model, region: usize) -> Vec<BackupCopy> {
        let name = &model.regions[region].name;
        self.copies
            .iter()
            .filter(|(_, to)| to == name)
            .filter_map(|(id, to)| {
                let source = model.instances.iter().find(|i| &i.id == id)?;
                let seen = observe::rds(model, source.region);
                let backup = &seen.db_instances.iter().find(|i| &i.id == id)?.backup;
                backup.cross_region_copy.then(|| BackupCopy {
                    source: id.clone(),
                    region: to.clone(),
                    latest_restorable: backup.latest_restorable.map(|t| t - COPY_DELAY),
                })
            })
            .collect()
    }
}
