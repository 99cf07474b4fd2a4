//! What the dashboard shows for each service, derived from the environment
//! and the monitor's merged data. Computed when data arrives or the clock
//! ticks, never per frame, so drawing only formats what is here.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::environment::{Replication, ServiceSpec};
use crate::domain::posture::{Posture, assess, backup_age, same_name, serving_record};
use crate::domain::snapshot::{
    BackupObs, ClusterRole, DnsRecordObs, FailoverRole, Health, HealthCheckObs, LagObs, Snapshot,
};
use crate::monitor::{Freshness, MonitorState};

/// One service's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub posture: Posture,
    pub freshness: Freshness,
    /// One entry per region of the environment, in its order; `None` where
    /// the service does not run.
    pub regions: Vec<Option<RegionCell>>,
    pub lag: Option<LagCell>,
    /// Backups of the service's writer(s).
    pub backups: Vec<BackupCell>,
    pub dns: Option<DnsCell>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RegionCell {
    pub region: String,
    pub role: RegionRole,
    pub health: Health,
    pub checkers_healthy: u32,
    pub checkers_total: u32,
    pub failure_threshold: Option<u32>,
    /// Health checks the environment names for this region.
    pub configured_checks: usize,
    /// Those of them observed.
    pub checks: Vec<HealthCheckObs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionRole {
    Primary,
    Dr,
}

impl RegionRole {
    pub fn short(self) -> &'static str {
        match self {
            RegionRole::Primary => "P",
            RegionRole::Dr => "DR",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LagCell {
    /// The receiving resource; its history feeds the sparkline.
    pub resource_id: String,
    pub current: Option<Duration>,
    pub observed: Option<LagObs>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BackupCell {
    pub resource_id: String,
    pub pitr_age: Option<Duration>,
    pub snapshot_age: Option<Duration>,
    /// The age of the newest restorable point (PITR, else snapshot).
    pub restorable_age: Option<Duration>,
    pub retention_days: u32,
    pub cross_region_copy: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DnsCell {
    pub record: String,
    pub primary_target: String,
    pub secondary_target: String,
    /// Which record of the pair answers now; `None` when unknown.
    pub serving: Option<FailoverRole>,
    pub ttl: u32,
    pub records: Vec<DnsRecordObs>,
}

impl ServiceRow {
    /// The stalest writer backup: it bounds what a restore would lose.
    pub fn backup(&self) -> Option<&BackupCell> {
        self.backups
            .iter()
            .max_by_key(|c| c.restorable_age.unwrap_or(Duration::MAX))
    }
}

/// Lookups by identifier into one snapshot.
struct Index<'a> {
    checks: HashMap<&'a str, &'a HealthCheckObs>,
    clusters: HashMap<&'a str, &'a crate::domain::snapshot::DbClusterObs>,
    instances: HashMap<&'a str, &'a crate::domain::snapshot::DbInstanceObs>,
    lags: HashMap<&'a str, &'a LagObs>,
}

impl<'a> Index<'a> {
    fn new(snap: &'a Snapshot) -> Self {
        Self {
            checks: snap
                .health_checks
                .iter()
                .map(|h| (h.id.as_str(), h))
                .collect(),
            clusters: snap
                .db_clusters
                .iter()
                .map(|c| (c.id.as_str(), c))
                .collect(),
            instances: snap
                .db_instances
                .iter()
                .map(|i| (i.id.as_str(), i))
                .collect(),
            lags: snap
                .lags
                .iter()
                .map(|l| (l.resource_id.as_str(), l))
                .collect(),
        }
    }
}

/// Rows for every service of the environment, in its order.
pub fn service_rows(
    env: &crate::domain::environment::Environment,
    monitor: &MonitorState,
    now: DateTime<Utc>,
) -> Vec<ServiceRow> {
    let snap = monitor.merged();
    let index = Index::new(snap);
    env.services
        .iter()
        .map(|service| {
            let posture = assess(service, snap, now);
            ServiceRow {
                freshness: monitor.service_freshness(service, now),
                regions: env
                    .regions
                    .iter()
                    .map(|r| region_cell(service, &posture, &index, r))
                    .collect(),
                lag: lag_cell(service, &index),
                backups: backup_cells(service, &index, now),
                dns: dns_cell(service, snap),
                posture,
            }
        })
        .collect()
}

fn region_cell(
    service: &ServiceSpec,
    posture: &Posture,
    index: &Index,
    region: &str,
) -> Option<RegionCell> {
    let (role, health) = if region == service.primary_region {
        (RegionRole::Primary, posture.primary_health)
    } else if region == service.dr_region {
        (RegionRole::Dr, posture.dr_health)
    } else {
        return None;
    };
    let configured: Vec<_> = service
        .health_checks
        .iter()
        .filter(|h| h.region == region)
        .collect();
    let checks: Vec<HealthCheckObs> = configured
        .iter()
        .filter_map(|h| index.checks.get(h.id.as_str()).map(|o| (*o).clone()))
        .collect();
    Some(RegionCell {
        region: region.to_string(),
        role,
        health,
        checkers_healthy: checks.iter().map(|c| c.checkers_healthy).sum(),
        checkers_total: checks.iter().map(|c| c.checkers_total).sum(),
        failure_threshold: checks.iter().map(|c| c.failure_threshold).max(),
        configured_checks: configured.len(),
        checks,
    })
}

fn lag_cell(service: &ServiceSpec, index: &Index) -> Option<LagCell> {
    let resource_id = service.replication.replica_ids().first()?.to_string();
    let observed = index.lags.get(resource_id.as_str()).map(|l| (*l).clone());
    let current = observed.as_ref().and_then(|l| match (l.lag, l.rpo_lag) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    });
    Some(LagCell {
        resource_id,
        current,
        observed,
    })
}

/// The resources whose backups would restore the service: the writers, since
/// they hold the newest data.
fn backups_in<'a>(service: &ServiceSpec, index: &Index<'a>) -> Vec<(&'a str, &'a BackupObs)> {
    let cluster = |id: &str| index.clusters.get(id).map(|c| (c.id.as_str(), &c.backup));
    let instance = |id: &str| index.instances.get(id).map(|i| (i.id.as_str(), &i.backup));
    match &service.replication {
        Replication::AuroraGlobal {
            primary_cluster,
            secondary_cluster,
            ..
        } => [primary_cluster, secondary_cluster]
            .into_iter()
            .filter_map(|id| index.clusters.get(id.as_str()))
            .filter(|c| c.role != ClusterRole::Secondary)
            .map(|c| (c.id.as_str(), &c.backup))
            .collect(),
        Replication::RdsReplica {
            source_instance,
            replica_instance,
        } => [source_instance, replica_instance]
            .into_iter()
            .filter_map(|id| index.instances.get(id.as_str()))
            .filter(|i| i.replica_source.is_none())
            .map(|i| (i.id.as_str(), &i.backup))
            .collect(),
        Replication::S3 { .. } => Vec::new(),
        Replication::Backup {
            clusters,
            instances,
        } => clusters
            .iter()
            .filter_map(|id| cluster(id))
            .chain(instances.iter().filter_map(|id| instance(id)))
            .collect(),
    }
}

fn backup_cells(service: &ServiceSpec, index: &Index, now: DateTime<Utc>) -> Vec<BackupCell> {
    let age = |t: Option<DateTime<Utc>>| t.map(|t| (now - t).to_std().unwrap_or(Duration::ZERO));
    backups_in(service, index)
        .into_iter()
        .map(|(id, b)| BackupCell {
            resource_id: id.to_string(),
            pitr_age: age(b.latest_restorable),
            snapshot_age: age(b.newest_snapshot),
            restorable_age: backup_age(b, now),
            retention_days: b.retention_days,
            cross_region_copy: b.cross_region_copy,
        })
        .collect()
}

fn dns_cell(service: &ServiceSpec, snap: &Snapshot) -> Option<DnsCell> {
    let dns = service.dns.as_ref()?;
    let records: Vec<DnsRecordObs> = snap
        .dns_records
        .iter()
        .filter(|r| r.zone_id == dns.zone_id && same_name(&r.name, &dns.record))
        .cloned()
        .collect();
    let serving = serving_record(service, snap).and_then(|r| r.failover);
    let ttl = records.iter().find_map(|r| r.ttl).unwrap_or(dns.ttl);
    Some(DnsCell {
        record: dns.record.clone(),
        primary_target: dns.primary_target.clone(),
        secondary_target: dns.secondary_target.clone(),
        serving,
        ttl,
        records,
    })
}
