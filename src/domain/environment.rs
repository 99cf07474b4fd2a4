//! The estate drconsole watches: regions, and services with their objectives
//! and the resources that protect them. Loaded from a TOML file; the demo
//! environment is embedded in the binary.

use serde::{Deserialize, Serialize};

use super::objectives::{DrTier, Objectives};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub name: String,
    /// Region for global APIs (Route 53, its CloudWatch metrics).
    #[serde(default = "default_home_region")]
    pub home_region: String,
    pub regions: Vec<String>,
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceSpec>,
    /// Simulator-only settings; ignored by the AWS provider.
    #[serde(default)]
    pub sim: SimSettings,
}

fn default_home_region() -> String {
    "us-east-1".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub id: String,
    pub name: String,
    pub tier: DrTier,
    #[serde(flatten)]
    pub objectives: Objectives,
    pub primary_region: String,
    pub dr_region: String,
    pub replication: Replication,
    #[serde(default)]
    pub health_checks: Vec<HealthCheckSpec>,
    pub dns: Option<DnsSpec>,
}

/// How a service's data reaches its DR region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Replication {
    AuroraGlobal {
        global_cluster: String,
        primary_cluster: String,
        secondary_cluster: String,
    },
    RdsReplica {
        source_instance: String,
        replica_instance: String,
    },
    S3 {
        source_bucket: String,
        destination_bucket: String,
    },
    /// Backups only (backup-and-restore tier): exposure is the backup age.
    Backup {
        #[serde(default)]
        clusters: Vec<String>,
        #[serde(default)]
        instances: Vec<String>,
    },
}

impl Replication {
    /// Identifiers of the resources that receive replicated data.
    pub fn replica_ids(&self) -> Vec<&str> {
        match self {
            Replication::AuroraGlobal {
                secondary_cluster, ..
            } => vec![secondary_cluster],
            Replication::RdsReplica {
                replica_instance, ..
            } => vec![replica_instance],
            Replication::S3 {
                destination_bucket, ..
            } => vec![destination_bucket],
            Replication::Backup { .. } => vec![],
        }
    }

    /// Every cluster, instance, bucket or global cluster this names.
    pub fn resource_ids(&self) -> Vec<&str> {
        match self {
            Replication::AuroraGlobal {
                global_cluster,
                primary_cluster,
                secondary_cluster,
            } => vec![global_cluster, primary_cluster, secondary_cluster],
            Replication::RdsReplica {
                source_instance,
                replica_instance,
            } => vec![source_instance, replica_instance],
            Replication::S3 {
                source_bucket,
                destination_bucket,
            } => vec![source_bucket, destination_bucket],
            Replication::Backup {
                clusters,
                instances,
            } => clusters
                .iter()
                .chain(instances)
                .map(String::as_str)
                .collect(),
        }
    }

    pub fn kind_label(&self) -> &'static str {
        match self {
            Replication::AuroraGlobal { .. } => "aurora global",
            Replication::RdsReplica { .. } => "rds replica",
            Replication::S3 { .. } => "s3 crr",
            Replication::Backup { .. } => "backups",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckSpec {
    pub id: String,
    pub region: String,
    /// The endpoint probed, e.g. `api.us-east-1.example.com`.
    pub fqdn: String,
    #[serde(default = "default_failure_threshold")]
    pub failure_threshold: u32,
}

fn default_failure_threshold() -> u32 {
    3
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSpec {
    pub zone_id: String,
    /// Fully qualified record name, e.g. `api.example.com.`.
    pub record: String,
    /// What the record points at when each region serves.
    pub primary_target: String,
    pub secondary_target: String,
    #[serde(default = "default_ttl")]
    pub ttl: u32,
}

fn default_ttl() -> u32 {
    60
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// Seed of the simulated world's randomness: same seed, same world.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated seconds per real second.
    #[serde(default = "default_time_scale")]
    pub time_scale: f64,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            seed: default_seed(),
            time_scale: default_time_scale(),
        }
    }
}

fn default_seed() -> u64 {
    42
}

fn default_time_scale() -> f64 {
    1.0
}

impl Environment {
    pub fn service(&self, id: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.id == id)
    }
}
