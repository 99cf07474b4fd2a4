//! What the dashboard shows for each service, derived from the environment
//! and the monitor's merged data. Computed when data arrives or the clock
//! ticks, never per frame, so drawing only formats what is here.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::environment::ServiceSpec;
use crate::domain::posture::{Posture, backup_age, effective_lag, same_name, serving_record};
use crate::domain::rotation::{self, RegionRotation};
use crate::domain::snapshot::{
    BackupObs, DnsRecordObs, FailoverRole, Health, HealthCheckObs, LagObs, Snapshot,
};
use crate::domain::topology::MemberRole;
use crate::monitor::{Freshness, MonitorState, Tracker};

/// One service's row.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub posture: Posture,
    pub freshness: Freshness,
    /// One entry per region of the environment, in its order; `None` where
    /// the service does not run.
    pub regions: Vec<Option<RegionCell>>,
    pub lag: Option<LagCell>,
    /// Backups of the members that take writes, as observed now.
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
    pub region: String,
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
    /// Each region in or out of rotation, for an active-active service's
    /// latency records; `None` for a failover pair.
    pub rotation: Option<Vec<RegionRotation>>,
}

impl ServiceRow {
    /// The writer's backup (the stalest, for a service of several).
    pub fn backup(&self) -> Option<&BackupCell> {
        let writer = self
            .posture
            .writer_region
            .as_deref()
            .and_then(|r| self.backups.iter().find(|b| b.region == r));
        writer.or_else(|| {
            self.backups
                .iter()
                .max_by_key(|c| c.restorable_age.unwrap_or(Duration::MAX))
        })
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
    tracker: &Tracker,
    now: DateTime<Utc>,
) -> Vec<ServiceRow> {
    let snap = monitor.merged();
    let index = Index::new(snap);
    env.services
        .iter()
        .map(|service| {
            let posture = tracker.posture(service, monitor, now);
            ServiceRow {
                freshness: monitor.service_freshness(service, now),
                regions: env
                    .regions
                    .iter()
                    .map(|r| region_cell(service, &posture, &index, r))
                    .collect(),
                lag: lag_cell(service, &posture, &index),
                backups: backup_cells(&posture, &index, now),
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

/// The replica whose lag the row shows: the copy the RPO figure comes
/// from, else the first observed replica (it follows a failover), else the
/// configured one.
fn lag_cell(service: &ServiceSpec, posture: &Posture, index: &Index) -> Option<LagCell> {
    let observed_replica = posture.topology.as_ref().and_then(|t| {
        t.members
            .iter()
            .find(|m| matches!(m.role, MemberRole::Replica | MemberRole::Resyncing))
            .map(|m| m.id.clone())
    });
    let copy = posture
        .rpo_side
        .copy
        .clone()
        .filter(|c| index.lags.contains_key(c.as_str()));
    let resource_id = copy.or(observed_replica).or_else(|| {
        service
            .replication
            .replica_ids()
            .first()
            .map(|s| s.to_string())
    })?;
    let observed = index.lags.get(resource_id.as_str()).map(|l| (*l).clone());
    let current = observed.as_ref().and_then(effective_lag);
    Some(LagCell {
        resource_id,
        current,
        observed,
    })
}

/// Backups of the members that take writes, as observed: they hold the
/// newest data.
fn backups_in<'a>(posture: &Posture, index: &Index<'a>) -> Vec<(&'a str, &'a str, &'a BackupObs)> {
    let Some(topology) = &posture.topology else {
        return Vec::new();
    };
    topology
        .members
        .iter()
        .filter(|m| m.role.takes_writes())
        .filter_map(|m| {
            index
                .clusters
                .get(m.id.as_str())
                .map(|c| (c.id.as_str(), c.region.as_str(), &c.backup))
                .or_else(|| {
                    index
                        .instances
                        .get(m.id.as_str())
                        .map(|i| (i.id.as_str(), i.region.as_str(), &i.backup))
                })
        })
        .collect()
}

fn backup_cells(posture: &Posture, index: &Index, now: DateTime<Utc>) -> Vec<BackupCell> {
    let age = |t: Option<DateTime<Utc>>| t.map(|t| (now - t).to_std().unwrap_or(Duration::ZERO));
    backups_in(posture, index)
        .into_iter()
        .map(|(id, region, b)| BackupCell {
            resource_id: id.to_string(),
            region: region.to_string(),
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
        rotation: rotation::observe(service, snap),
    })
}
