//! What the dashboard shows for each service, derived from the environment
//! and the monitor's merged data. Computed when data arrives, never per
//! frame, so drawing only formats what is here. Between polls the clock
//! only matters to some rows: each row says when it next does
//! ([`RowClock`]), so a tick recomputes those and the rows on screen, whose
//! ages count in seconds, not the whole estate.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::domain::environment::{Environment, ServiceSpec};
use crate::domain::exposure::PITR_BOUND;
use crate::domain::lookup::{Lookup, SnapshotIndex};
use crate::domain::posture::{
    AT_RISK_FRACTION, ExposureSource, Posture, backup_age, effective_lag, serving_record,
};
use crate::domain::rotation::{self, RegionRotation};
use crate::domain::snapshot::{
    BackupObs, DnsRecordObs, FailoverRole, Health, HealthCheckObs, LagObs,
};
use crate::domain::topology::MemberRole;
use crate::monitor::{Freshness, FreshnessTable, MonitorState, Tracker};

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
    pub clock: RowClock,
    /// Whether the cells (regions, lag, backups, DNS) were computed. Only
    /// rows that may be on screen carry them: the others say their posture
    /// and freshness, enough to count and filter the estate, and get their
    /// cells when they come near the screen. Building and dropping every
    /// cell of 5,000 rows on each poll was most of an idle console's work.
    pub detailed: bool,
}

/// When a row was computed, and when the clock alone next changes what it
/// says beyond the ages it shows: a verdict crossing a bound of its
/// objective, its data turning stale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowClock {
    pub computed_at: DateTime<Utc>,
    /// `None` when nothing but new data changes it.
    pub due: Option<DateTime<Utc>>,
}

impl RowClock {
    /// Whether the row, computed before `now`, says something else at `now`
    /// than its ages moved on.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.computed_at < now && self.due.is_some_and(|due| due <= now)
    }
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

/// What every row of one refresh is computed from.
struct Inputs<'a> {
    env: &'a Environment,
    index: SnapshotIndex<'a>,
    sources: FreshnessTable,
    monitor: &'a MonitorState,
    tracker: &'a Tracker,
    now: DateTime<Utc>,
}

impl<'a> Inputs<'a> {
    fn new(
        env: &'a Environment,
        monitor: &'a MonitorState,
        tracker: &'a Tracker,
        now: DateTime<Utc>,
    ) -> Self {
        Inputs {
            env,
            index: monitor.index(),
            sources: monitor.freshness_table(now),
            monitor,
            tracker,
            now,
        }
    }
}

/// Rows for every service of the environment, in its order, without
/// their cells (see [`ServiceRow::detailed`]).
pub fn service_rows(
    env: &Environment,
    monitor: &MonitorState,
    tracker: &Tracker,
    now: DateTime<Utc>,
) -> Vec<ServiceRow> {
    let inputs = Inputs::new(env, monitor, tracker, now);
    env.services
        .iter()
        .map(|service| service_row(&inputs, service, false))
        .collect()
}

/// Recomputes the rows at `positions` (indexes into `env.services` and
/// `rows` alike), with their cells when `detailed`; the others keep what
/// they said.
pub fn refresh_rows(
    rows: &mut [ServiceRow],
    positions: &[usize],
    detailed: bool,
    env: &Environment,
    monitor: &MonitorState,
    tracker: &Tracker,
    now: DateTime<Utc>,
) {
    if positions.is_empty() {
        return;
    }
    let inputs = Inputs::new(env, monitor, tracker, now);
    for &i in positions {
        if let (Some(row), Some(service)) = (rows.get_mut(i), env.services.get(i)) {
            *row = service_row(&inputs, service, detailed);
        }
    }
}

fn service_row(inputs: &Inputs, service: &ServiceSpec, detailed: bool) -> ServiceRow {
    let Inputs {
        env,
        index,
        sources,
        monitor,
        tracker,
        now,
    } = inputs;
    let now = *now;
    let posture = tracker.posture(service, monitor, index, now);
    let freshness = tracker.freshness(service, monitor, sources);
    let clock = RowClock {
        computed_at: now,
        due: clock_due(&posture, &freshness, monitor.stale_after(), now),
    };
    if !detailed {
        return ServiceRow {
            posture,
            freshness,
            regions: Vec::new(),
            lag: None,
            backups: Vec::new(),
            dns: None,
            clock,
            detailed,
        };
    }
    ServiceRow {
        clock,
        freshness,
        regions: env
            .regions
            .iter()
            .map(|r| region_cell(service, &posture, index, r))
            .collect(),
        lag: lag_cell(service, &posture, index),
        backups: backup_cells(&posture, index, now),
        dns: dns_cell(service, index),
        posture,
        detailed,
    }
}

/// The first moment the clock alone changes a verdict or the staleness of
/// a row computed at `now`: the ages that move with the clock (data age,
/// an open incident's clock, the PITR age, a backup copy's age) reaching a
/// bound of what they are judged against.
fn clock_due(
    posture: &Posture,
    freshness: &Freshness,
    stale_after: Duration,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let data = freshness
        .age
        .filter(|_| !freshness.stale)
        .map(|age| stale_after.saturating_sub(age));
    let incident = posture
        .rto_side
        .incident
        .as_ref()
        .and(posture.rto_side.exposure)
        .and_then(|e| until_bound(e, posture.objectives.rto));
    let pitr = posture
        .rpo_side
        .pitr_age
        .and_then(|p| until_bound(p, PITR_BOUND));
    let copy = posture
        .rpo_side
        .exposure
        .filter(|_| posture.rpo_side.source == ExposureSource::BackupCopy)
        .and_then(|e| until_bound(e, posture.objectives.rpo));
    let wait = [data, incident, pitr, copy].into_iter().flatten().min()?;
    now.checked_add_signed(chrono::Duration::from_std(wait).ok()?)
}

/// How long until an age growing with the clock reaches the next bound a
/// verdict changes at (the at-risk share of the objective, the objective).
fn until_bound(age: Duration, objective: Duration) -> Option<Duration> {
    [objective.mul_f64(AT_RISK_FRACTION), objective]
        .into_iter()
        .filter(|bound| *bound >= age)
        .map(|bound| bound - age)
        .min()
}

fn region_cell(
    service: &ServiceSpec,
    posture: &Posture,
    index: &SnapshotIndex,
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
        .filter_map(|h| index.health_check(&h.id).cloned())
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
fn lag_cell(service: &ServiceSpec, posture: &Posture, index: &SnapshotIndex) -> Option<LagCell> {
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
        .filter(|c| index.lag(c).is_some());
    let resource_id = copy.or(observed_replica).or_else(|| {
        service
            .replication
            .replica_ids()
            .first()
            .map(|s| s.to_string())
    })?;
    let observed = index.lag(&resource_id).cloned();
    let current = observed.as_ref().and_then(effective_lag);
    Some(LagCell {
        resource_id,
        current,
        observed,
    })
}

/// Backups of the members that take writes, as observed: they hold the
/// newest data.
fn backups_in<'a>(
    posture: &Posture,
    index: &'a SnapshotIndex,
) -> Vec<(&'a str, &'a str, &'a BackupObs)> {
    let Some(topology) = &posture.topology else {
        return Vec::new();
    };
    topology
        .members
        .iter()
        .filter(|m| m.role.takes_writes())
        .filter_map(|m| {
            index
                .cluster(&m.id)
                .map(|c| (c.id.as_str(), c.region.as_str(), &c.backup))
                .or_else(|| {
                    index
                        .instance(&m.id)
                        .map(|i| (i.id.as_str(), i.region.as_str(), &i.backup))
                })
        })
        .collect()
}

fn backup_cells(posture: &Posture, index: &SnapshotIndex, now: DateTime<Utc>) -> Vec<BackupCell> {
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

fn dns_cell(service: &ServiceSpec, index: &SnapshotIndex) -> Option<DnsCell> {
    let dns = service.dns.as_ref()?;
    let records: Vec<DnsRecordObs> = index
        .dns_records(&dns.zone_id, &dns.record)
        .into_iter()
        .cloned()
        .collect();
    let serving = serving_record(service, index).and_then(|r| r.failover);
    let ttl = records.iter().find_map(|r| r.ttl).unwrap_or(dns.ttl);
    Some(DnsCell {
        record: dns.record.clone(),
        primary_target: dns.primary_target.clone(),
        secondary_target: dns.secondary_target.clone(),
        serving,
        ttl,
        records,
        rotation: rotation::observe(service, index),
    })
}
