//! Configuration facts: how each database is set up, as opposed to how it
//! is doing. Read rarely (a readiness evaluation, not every poll), one
//! reading per source, so a region whose API fails leaves the others known.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::snapshot::{SourceError, SourceId};

/// What one source (`config:rds:<region>`, `config:cloudwatch:<region>`)
/// reported about configuration.
#[derive(Debug, Clone, Serialize)]
pub struct ConfigReading {
    pub source: SourceId,
    /// The region the source covers.
    pub region: String,
    pub taken_at: DateTime<Utc>,
    pub result: Result<ConfigFacts, SourceError>,
}

/// Configuration as the provider reports it; sources fill their own parts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConfigFacts {
    pub clusters: Vec<ClusterConfig>,
    pub instances: Vec<InstanceConfig>,
    pub alarms: Vec<AlarmConfig>,
    pub backup_copies: Vec<BackupCopy>,
}

impl ConfigFacts {
    pub fn extend(&mut self, other: &ConfigFacts) {
        self.clusters.extend_from_slice(&other.clusters);
        self.instances.extend_from_slice(&other.instances);
        self.alarms.extend_from_slice(&other.alarms);
        self.backup_copies.extend_from_slice(&other.backup_copies);
    }

    pub fn cluster(&self, id: &str) -> Option<&ClusterConfig> {
        self.clusters.iter().find(|c| c.id == id)
    }

    pub fn instance(&self, id: &str) -> Option<&InstanceConfig> {
        self.instances.iter().find(|i| i.id == id)
    }
}

/// An Aurora cluster's settings (`DescribeDBClusters`, with the family of
/// its parameter group and the classes of its instances).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterConfig {
    pub id: String,
    pub region: String,
    pub status: String,
    pub engine: String,
    pub engine_version: String,
    pub parameter_group: Option<String>,
    /// `DBParameterGroupFamily` of that group, e.g. `aurora-postgresql15`.
    pub parameter_group_family: Option<String>,
    pub deletion_protection: bool,
    /// `BackupRetentionPeriod` in days.
    pub retention_days: u32,
    /// DB instance classes of the cluster's instances, one per instance:
    /// empty for a headless cluster.
    pub instance_classes: Vec<String>,
}

/// An RDS instance's settings (`DescribeDBInstances`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceConfig {
    pub id: String,
    pub region: String,
    pub status: String,
    pub engine: String,
    pub engine_version: String,
    pub instance_class: String,
    pub parameter_group: Option<String>,
    pub parameter_group_family: Option<String>,
    pub deletion_protection: bool,
    pub retention_days: u32,
}

/// Automated backups replicated into another region
/// (`DescribeDBInstanceAutomatedBackups` in the destination region).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupCopy {
    /// The source instance's identifier.
    pub source: String,
    /// Where the copy is.
    pub region: String,
    /// Newest point the copy can restore to.
    pub latest_restorable: Option<DateTime<Utc>>,
}

/// A CloudWatch metric alarm (`DescribeAlarms`): what it watches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmConfig {
    pub name: String,
    pub region: String,
    pub namespace: String,
    pub metric: String,
    /// Dimension name and value pairs.
    pub dimensions: Vec<(String, String)>,
    pub actions_enabled: bool,
}

impl AlarmConfig {
    pub fn watches(&self, metric: &str, dimension: &str, value: &str) -> bool {
        self.metric == metric
            && self
                .dimensions
                .iter()
                .any(|(name, v)| name == dimension && v == value)
    }
}

/// Every reading's facts merged, and the sources that failed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Configuration {
    pub facts: ConfigFacts,
    /// Failed sources with the region each covers: what they would have
    /// said is unknown, never assumed fine.
    pub failed: Vec<FailedConfigSource>,
    /// Regions at least one source answered for.
    pub read_regions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedConfigSource {
    pub source: SourceId,
    pub region: String,
    pub error: SourceError,
}

impl Configuration {
    pub fn from_readings(readings: &[ConfigReading]) -> Configuration {
        let mut merged = Configuration::default();
        for reading in readings {
            match &reading.result {
                Ok(facts) => {
                    merged.facts.extend(facts);
                    if !merged.read_regions.contains(&reading.region) {
                        merged.read_regions.push(reading.region.clone());
                    }
                }
                Err(error) => merged.failed.push(FailedConfigSource {
                    source: reading.source.clone(),
                    region: reading.region.clone(),
                    error: error.clone(),
                }),
            }
        }
        merged
    }

    /// Why facts about `region` may be missing, if a source for it failed
    /// or none was read at all.
    pub fn unknown_because(&self, region: &str, source_kind: &str) -> Option<String> {
        if let Some(f) = self
            .failed
            .iter()
            .find(|f| f.region == region && f.source.contains(source_kind))
        {
            return Some(format!("{} could not be read: {}", f.source, f.error));
        }
        (!self.read_regions.iter().any(|r| r == region))
            .then(|| format!("no configuration was read for {region}"))
    }
}
