//! What a provider saw: plain data, the same for the simulator and for AWS.
//!
//! A provider answers a poll with one [`SourceReading`] per source it asked
//! (RDS in one region, Route 53, CloudWatch in one region, ...), so a failure
//! of one source leaves the others' data current and only marks its own stale.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Names one independently failing source of data, e.g. `rds:us-east-1`.
pub type SourceId = String;

#[derive(Debug, Clone, Serialize)]
pub struct SourceReading {
    pub source: SourceId,
    pub taken_at: DateTime<Utc>,
    pub result: Result<Snapshot, SourceError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceError {
    pub kind: ErrorKind,
    pub message: String,
}

impl SourceError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)
    }
}

impl std::error::Error for SourceError {}

/// Error classes an operator acts on differently (wait, re-auth, ask for access).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    Throttled,
    /// Skipped by drconsole's own API budget: the runbook's calls went first.
    Budget,
    Timeout,
    AccessDenied,
    ExpiredCredentials,
    ServiceUnavailable,
    Network,
    NotFound,
    InvalidState,
    Other,
}

impl ErrorKind {
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::Budget => "budget",
            ErrorKind::Timeout => "timeout",
            ErrorKind::AccessDenied => "access denied",
            ErrorKind::ExpiredCredentials => "expired credentials",
            ErrorKind::ServiceUnavailable => "service unavailable",
            ErrorKind::Network => "network",
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidState => "invalid state",
            ErrorKind::Other => "error",
        }
    }
}

/// Everything one source reported. Sources fill only the parts they know.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub health_checks: Vec<HealthCheckObs>,
    pub global_clusters: Vec<GlobalClusterObs>,
    pub db_clusters: Vec<DbClusterObs>,
    pub db_instances: Vec<DbInstanceObs>,
    pub lags: Vec<LagObs>,
    pub dns_records: Vec<DnsRecordObs>,
    /// Health checks read checker by checker this poll, for the detail pane.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub checker_readouts: Vec<CheckerReadout>,
}

impl Snapshot {
    pub fn extend(&mut self, other: &Snapshot) {
        self.health_checks.extend_from_slice(&other.health_checks);
        self.global_clusters
            .extend_from_slice(&other.global_clusters);
        self.db_clusters.extend_from_slice(&other.db_clusters);
        self.db_instances.extend_from_slice(&other.db_instances);
        self.lags.extend_from_slice(&other.lags);
        self.dns_records.extend_from_slice(&other.dns_records);
        self.checker_readouts
            .extend_from_slice(&other.checker_readouts);
    }

    pub fn resource_count(&self) -> usize {
        self.health_checks.len()
            + self.global_clusters.len()
            + self.db_clusters.len()
            + self.db_instances.len()
            + self.lags.len()
            + self.dns_records.len()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    Healthy,
    Unhealthy,
    Unknown,
}

/// A Route 53 health check as its checkers see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthCheckObs {
    pub id: String,
    /// The region whose endpoint this check probes.
    pub region: String,
    pub fqdn: String,
    pub status: Health,
    pub checkers_healthy: u32,
    pub checkers_total: u32,
    pub failure_threshold: u32,
    pub disabled: bool,
    pub inverted: bool,
}

/// What the Route 53 checkers of one health check reported, region by
/// region: read for checks that are not fully healthy and for the service
/// the operator has open.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckerReadout {
    pub health_check_id: String,
    pub regions: Vec<CheckerRegion>,
    /// Why the checkers could not be read this poll (the API budget, an
    /// error): the check's status then comes from CloudWatch alone.
    pub not_read: Option<String>,
}

/// The checkers of one checker region: how many see the endpoint up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckerRegion {
    pub region: String,
    pub healthy: u32,
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlobalClusterObs {
    pub id: String,
    pub engine: String,
    pub status: String,
    pub members: Vec<GlobalMember>,
}

impl GlobalClusterObs {
    pub fn writer(&self) -> Option<&GlobalMember> {
        self.members.iter().find(|m| m.is_writer)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GlobalMember {
    pub cluster_id: String,
    pub cluster_arn: String,
    pub region: String,
    pub is_writer: bool,
    /// Switchover/failover in progress, as AWS reports it (e.g. `switching-over`).
    pub synchronization_status: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterRole {
    /// Writer of a global cluster, or a cluster with no replication source.
    Primary,
    /// Read-only member of a global cluster or a replica of another cluster.
    Secondary,
    /// Once part of replication, now on its own (detached or promoted).
    Standalone,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbClusterObs {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub engine: String,
    pub engine_version: String,
    pub status: String,
    pub role: ClusterRole,
    pub global_cluster_id: Option<String>,
    pub endpoint: Option<String>,
    pub backup: BackupObs,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbInstanceObs {
    pub id: String,
    pub arn: String,
    pub region: String,
    pub engine: String,
    pub status: String,
    /// Identifier/ARN of the instance this one replicates, if it is a read replica.
    pub replica_source: Option<String>,
    pub replicas: Vec<String>,
    pub endpoint: Option<String>,
    pub backup: BackupObs,
}

/// Backup freshness of a cluster or instance.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BackupObs {
    /// Newest point-in-time-restore target (PITR).
    pub latest_restorable: Option<DateTime<Utc>>,
    pub retention_days: u32,
    pub newest_snapshot: Option<DateTime<Utc>>,
    /// Automated backups are replicated to another region.
    pub cross_region_copy: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LagKind {
    /// `AWS/RDS AuroraGlobalDBReplicationLag` of a secondary cluster.
    AuroraGlobal,
    /// `AWS/RDS ReplicaLag` of a read replica instance.
    RdsReplica,
    /// `AWS/S3 ReplicationLatency` of a replication rule.
    S3,
}

/// Replication lag of one replicated resource (the receiving side).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(into = "LagObsJson")]
pub struct LagObs {
    /// The cluster, instance or bucket that receives the data.
    pub resource_id: String,
    pub region: String,
    pub kind: LagKind,
    /// None when the metric has no datapoint in the window.
    pub lag: Option<Duration>,
    /// `AuroraGlobalDBRPOLag` where AWS reports it.
    pub rpo_lag: Option<Duration>,
    /// `AWS/S3 OperationsPendingReplication`.
    pub pending_operations: Option<u64>,
}

/// A lag as JSON: each duration as a humantime string for people and as
/// seconds for scripts.
#[derive(Serialize)]
struct LagObsJson {
    resource_id: String,
    region: String,
    kind: LagKind,
    #[serde(with = "humantime_serde")]
    lag: Option<Duration>,
    lag_s: Option<f64>,
    #[serde(with = "humantime_serde")]
    rpo_lag: Option<Duration>,
    rpo_lag_s: Option<f64>,
    pending_operations: Option<u64>,
}

impl From<LagObs> for LagObsJson {
    fn from(l: LagObs) -> Self {
        let seconds = |d: Duration| d.as_millis() as f64 / 1000.0;
        LagObsJson {
            lag_s: l.lag.map(seconds),
            rpo_lag_s: l.rpo_lag.map(seconds),
            resource_id: l.resource_id,
            region: l.region,
            kind: l.kind,
            lag: l.lag,
            rpo_lag: l.rpo_lag,
            pending_operations: l.pending_operations,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum FailoverRole {
    Primary,
    Secondary,
}

/// One Route 53 record set of a failover pair (or a plain record).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsRecordObs {
    pub zone_id: String,
    pub name: String,
    pub record_type: String,
    pub set_identifier: Option<String>,
    pub failover: Option<FailoverRole>,
    /// CNAME value or alias target DNS name.
    pub target: String,
    pub ttl: Option<u32>,
    pub health_check_id: Option<String>,
}
