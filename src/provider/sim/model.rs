//! The simulated estate: regions, databases, buckets, health checks and DNS,
//! built from an environment and advanced one simulated second at a time.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rustc_hash::FxHashSet as HashSet;
use serde::{Deserialize, Serialize};

use super::backup::BackupPlan;
use super::clock::later;
use super::health::HealthCheck;
use super::lag::{AURORA_GLOBAL, LagProcess, RDS_REPLICA, S3_REPLICATION};
use super::rng::SimRng;
use super::writes::WriteLedger;
use crate::domain::environment::{Environment, Replication, ServiceSpec};
use crate::domain::posture::same_name;
use crate::domain::rotation;
use crate::domain::snapshot::{DnsRecordObs, FailoverRole};

/// The account every simulated ARN belongs to.
pub(super) const ACCOUNT: &str = "123456789012";
pub(super) const AURORA_ENGINE: &str = "aurora-postgresql";
pub(super) const AURORA_VERSION: &str = "15.4";
pub(super) const RDS_ENGINE: &str = "postgres";
/// How long simulated resources have existed before the world starts.
const HISTORY_DAYS: i64 = 60;
/// Backup retention the simulated resources are configured with.
const AURORA_RETENTION_DAYS: u32 = 35;
const RDS_RETENTION_DAYS: u32 = 14;
/// Retention a promoted read replica gets unless the promotion sets one.
pub(super) const PROMOTED_RETENTION_DAYS: u32 = 7;
/// Backup windows open at 03:00 UTC and last an hour.
const BACKUP_WINDOW_START: i64 = 3 * 3600;
/// Objects written per second to a replicated bucket.
pub(super) const S3_WRITES_PER_SECOND: f64 = 4.0;
/// The most a slow control plane stretches an operation.
pub(crate) const MAX_SLOWDOWN: u32 = 100;
/// A long absence is not replayed second by second; only its last hour is.
const MAX_CATCH_UP_SECONDS: i64 = 3600;
/// The world runs this long before it starts, so its first observation
/// already shows lags in motion rather than their resting values.
const WARM_UP_SECONDS: i64 = 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Region {
    pub name: String,
    pub down_since: Option<DateTime<Utc>>,
    /// Share of health checkers that see the region down while it is.
    #[serde(default = "all_checkers")]
    pub failing_checkers_percent: u8,
}

fn all_checkers() -> u8 {
    100
}

fn normal_speed() -> u32 {
    1
}

/// Where a cluster stands in replication.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Membership {
    Writer,
    Secondary(SyncStatus),
    /// On its own; `detached` when it used to replicate.
    Standalone {
        detached: bool,
    },
}

/// `SynchronizationStatus` of a global cluster's secondary member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum SyncStatus {
    Connected,
    /// Demoted old primary that has yet to catch up with the new writer.
    PendingResync,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Cluster {
    pub id: String,
    pub arn: String,
    pub region: usize,
    pub endpoint: String,
    pub global: Option<usize>,
    pub membership: Membership,
    /// Status while an operation runs (e.g. `failing-over`).
    #[serde(with = "operation_status")]
    pub operation: Option<Status>,
    pub lag: LagProcess,
    pub backup: BackupPlan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum GlobalOperationKind {
    Failover,
    Switchover,
}

impl GlobalOperationKind {
    /// Status of the global cluster and its clusters while this runs.
    pub(super) fn status(self) -> &'static str {
        match self {
            GlobalOperationKind::Failover => "failing-over",
            GlobalOperationKind::Switchover => "switching-over",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct GlobalOperation {
    pub kind: GlobalOperationKind,
    pub target: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct GlobalCluster {
    pub id: String,
    /// Cluster indices, in the order they joined.
    pub members: Vec<usize>,
    /// Region whose RDS API reports this global cluster.
    pub home_region: usize,
    pub operation: Option<GlobalOperation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Instance {
    pub id: String,
    pub arn: String,
    pub region: usize,
    pub endpoint: String,
    pub replica_of: Option<usize>,
    #[serde(with = "operation_status")]
    pub operation: Option<Status>,
    pub lag: LagProcess,
    pub backup: BackupPlan,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct BucketReplication {
    pub source_region: usize,
    pub destination: String,
    pub destination_region: usize,
    pub lag: LagProcess,
}

/// A record set as the simulated Route 53 holds it: exactly what it reports.
pub(super) type Record = DnsRecordObs;

impl Record {
    pub(super) fn same_set(&self, zone_id: &str, name: &str, set_identifier: Option<&str>) -> bool {
        self.zone_id == zone_id
            && same_name(&self.name, name)
            && self.set_identifier.as_deref() == set_identifier
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Change {
    pub id: String,
    pub insync_at: DateTime<Utc>,
}

/// A state transition that completes some time after the API call.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) enum Completion {
    GlobalRoleChange {
        global: usize,
        target: usize,
        allow_data_loss: bool,
    },
    Detach {
        global: usize,
        cluster: usize,
    },
    /// Replica promoted: replication stops, the first backup starts.
    InstancePromoted {
        instance: usize,
        retention_days: u32,
    },
    InstanceBackedUp {
        instance: usize,
    },
    Resynced {
        cluster: usize,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Pending {
    pub due: DateTime<Utc>,
    pub completion: Completion,
}

/// What the services added so far declared, so that a second service
/// naming the same health check, zone or record set shares it; hashed, as
/// a scan of everything added made building a large estate quadratic.
#[derive(Default)]
struct Seen {
    health_checks: HashSet<String>,
    zones: HashSet<String>,
    /// Zone, DNS name as [`same_name`] compares it, set identifier.
    record_sets: HashSet<(String, String, String)>,
}

impl Seen {
    fn record_set(zone_id: &str, name: &str, set: &str) -> (String, String, String) {
        (
            zone_id.to_string(),
            name.trim_end_matches('.').to_ascii_lowercase(),
            set.to_string(),
        )
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Model {
    pub regions: Vec<Region>,
    pub globals: Vec<GlobalCluster>,
    pub clusters: Vec<Cluster>,
    pub instances: Vec<Instance>,
    pub buckets: Vec<BucketReplication>,
    pub health_checks: Vec<HealthCheck>,
    pub zones: Vec<String>,
    pub records: Vec<Record>,
    pub changes: Vec<Change>,
    pub pending: Vec<Pending>,
    /// Replication lag each promoted cluster or instance had when it became
    /// writable: the data its promotion lost. Newest last.
    pub data_loss: Vec<(String, std::time::Duration)>,
    /// What the demo application wrote where, and what promotions lost.
    #[serde(default)]
    pub writes: WriteLedger,
    /// Control-plane operations take this many times their usual time.
    #[serde(default = "normal_speed")]
    pub slowdown: u32,
    pub rng: SimRng,
    /// Simulated time up to which the world has been advanced.
    pub time: DateTime<Utc>,
}

fn target_id(clusters: &[Cluster], index: usize) -> String {
    clusters[index].id.clone()
}

impl Model {
    pub(super) fn new(env: &Environment, start: DateTime<Utc>) -> Self {
        let mut model = Model {
            regions: env
                .regions
                .iter()
                .map(|name| Region {
                    name: name.clone(),
                    down_since: None,
                    failing_checkers_percent: all_checkers(),
                })
                .collect(),
            globals: Vec::new(),
            clusters: Vec::new(),
            instances: Vec::new(),
            buckets: Vec::new(),
            health_checks: Vec::new(),
            zones: Vec::new(),
            records: Vec::new(),
            changes: Vec::new(),
            pending: Vec::new(),
            data_loss: Vec::new(),
            writes: WriteLedger::default(),
            slowdown: normal_speed(),
            rng: SimRng::seeded(env.sim.seed),
            time: start - Duration::seconds(WARM_UP_SECONDS),
        };
        let mut seen = Seen::default();
        for service in &env.services {
            model.add_service(service, &mut seen);
        }
        model.apply_backup_drift(env);
        model.warm_up(start);
        model
    }

    /// Runs the world up to `start` with its health checks at rest: the
    /// warm-up is for the lags, and probing thousands of checks for a
    /// minute was most of what `status` took on a large estate.
    fn warm_up(&mut self, start: DateTime<Utc>) {
        let first = later(self.time, Duration::seconds(1));
        while let Some(next) = self.time.checked_add_signed(Duration::seconds(1))
            && next <= start
        {
            self.time = next;
            self.complete_due();
            self.tick_lags();
        }
        // Nothing fails or changes role before the world starts, so every
        // writer wrote through the whole warm-up: one span each, rather
        // than a ledger entry per writer per second.
        if first <= self.time {
            self.take_writes_since(first);
        }
    }

    /// Backup settings `[[sim.drift]]` changes (the rest of a drift is
    /// configuration only, see `configuration.rs`).
    fn apply_backup_drift(&mut self, env: &Environment) {
        for drift in &env.sim.drift {
            let plans = self
                .clusters
                .iter_mut()
                .filter(|c| c.id == drift.resource)
                .map(|c| &mut c.backup)
                .chain(
                    self.instances
                        .iter_mut()
                        .filter(|i| i.id == drift.resource)
                        .map(|i| &mut i.backup),
                );
            for plan in plans {
                if let Some(days) = drift.retention_days {
                    plan.retention_days = days;
                }
                if let Some(copy) = drift.cross_region_copy {
                    plan.cross_region_copy = copy;
                }
            }
        }
    }

    fn add_service(&mut self, service: &ServiceSpec, seen: &mut Seen) {
        let (Some(primary), Some(dr)) = (
            self.region_index(&service.primary_region),
            self.region_index(&service.dr_region),
        ) else {
            return;
        };
        match &service.replication {
            Replication::AuroraGlobal {
                global_cluster,
                primary_cluster,
                secondary_cluster,
            } => {
                let global = self.globals.len();
                let writer =
                    self.add_cluster(primary_cluster, primary, Some(global), Membership::Writer);
                let secondary = self.add_cluster(
                    secondary_cluster,
                    dr,
                    Some(global),
                    Membership::Secondary(SyncStatus::Connected),
                );
                self.globals.push(GlobalCluster {
                    id: global_cluster.clone(),
                    members: vec![writer, secondary],
                    home_region: primary,
                    operation: None,
                });
            }
            Replication::RdsReplica {
                source_instance,
                replica_instance,
            } => {
                let source =
                    self.add_instance(source_instance, primary, None, RDS_RETENTION_DAYS, true);
                self.add_instance(replica_instance, dr, Some(source), 0, false);
            }
            Replication::S3 {
                destination_bucket, ..
            } => self.buckets.push(BucketReplication {
                source_region: primary,
                destination: destination_bucket.clone(),
                destination_region: dr,
                lag: LagProcess::new(&S3_REPLICATION),
            }),
            Replication::Backup {
                clusters,
                instances,
            } => {
                for id in clusters {
                    self.add_cluster(
                        id,
                        primary,
                        None,
                        Membership::Standalone { detached: false },
                    );
                }
                for id in instances {
                    self.add_instance(id, primary, None, AURORA_RETENTION_DAYS, true);
                }
            }
        }
        for check in &service.health_checks {
            let Some(region) = self.region_index(&check.region) else {
                continue;
            };
            if !seen.health_checks.insert(check.id.clone()) {
                continue;
            }
            let hc = HealthCheck::new(
                check.id.clone(),
                region,
                check.fqdn.clone(),
                check.failure_threshold,
                &mut self.rng,
            );
            self.health_checks.push(hc);
        }
        if let Some(dns) = &service.dns {
            if seen.zones.insert(dns.zone_id.clone()) {
                self.zones.push(dns.zone_id.clone());
            }
            let check_in = |region: &str| {
                service
                    .health_checks
                    .iter()
                    .find(|h| h.region == region)
                    .map(|h| h.id.clone())
            };
            // An active-active service has one latency record per region,
            // each tied to its region's check, named after its region; a
            // failover pair has a PRIMARY with the primary's check and a
            // SECONDARY without one.
            let pair = if rotation::is_active_active(service) {
                [
                    (
                        service.primary_region.as_str(),
                        None,
                        &dns.primary_target,
                        check_in(&service.primary_region),
                    ),
                    (
                        service.dr_region.as_str(),
                        None,
                        &dns.secondary_target,
                        check_in(&service.dr_region),
                    ),
                ]
            } else {
                [
                    (
                        "primary",
                        Some(FailoverRole::Primary),
                        &dns.primary_target,
                        check_in(&service.primary_region),
                    ),
                    (
                        "secondary",
                        Some(FailoverRole::Secondary),
                        &dns.secondary_target,
                        None,
                    ),
                ]
            };
            for (set, role, target, health_check_id) in pair {
                if !seen
                    .record_sets
                    .insert(Seen::record_set(&dns.zone_id, &dns.record, set))
                {
                    continue;
                }
                self.records.push(Record {
                    zone_id: dns.zone_id.clone(),
                    name: dns.record.clone(),
                    record_type: "CNAME".into(),
                    set_identifier: Some(set.into()),
                    failover: role,
                    target: target.clone(),
                    ttl: Some(dns.ttl),
                    health_check_id,
                });
            }
        }
    }

    fn backup_plan(&mut self, retention_days: u32, cross_region_copy: bool) -> BackupPlan {
        BackupPlan {
            retention_days,
            cross_region_copy,
            snapshot_second: BACKUP_WINDOW_START + self.rng.random_range(0..3600),
            upload_phase: self.rng.random_range(0..300),
            since: self.time - Duration::days(HISTORY_DAYS),
            stopped_at: None,
        }
    }

    fn add_cluster(
        &mut self,
        id: &str,
        region: usize,
        global: Option<usize>,
        membership: Membership,
    ) -> usize {
        let region_name = &self.regions[region].name;
        let cluster = Cluster {
            id: id.to_string(),
            arn: format!("arn:aws:rds:{region_name}:{ACCOUNT}:cluster:{id}"),
            endpoint: format!("{id}.cluster-c9akciq32xyz.{region_name}.rds.amazonaws.com"),
            region,
            global,
            membership,
            operation: None,
            lag: LagProcess::new(&AURORA_GLOBAL),
            backup: self.backup_plan(AURORA_RETENTION_DAYS, false),
        };
        self.clusters.push(cluster);
        self.clusters.len() - 1
    }

    fn add_instance(
        &mut self,
        id: &str,
        region: usize,
        replica_of: Option<usize>,
        retention_days: u32,
        cross_region_copy: bool,
    ) -> usize {
        let region_name = &self.regions[region].name;
        let instance = Instance {
            id: id.to_string(),
            arn: format!("arn:aws:rds:{region_name}:{ACCOUNT}:db:{id}"),
            endpoint: format!("{id}.c9akciq32xyz.{region_name}.rds.amazonaws.com"),
            region,
            replica_of,
            operation: None,
            lag: LagProcess::new(&RDS_REPLICA),
            backup: self.backup_plan(retention_days, cross_region_copy),
        };
        self.instances.push(instance);
        self.instances.len() - 1
    }

    pub(super) fn region_index(&self, name: &str) -> Option<usize> {
        self.regions.iter().position(|r| r.name == name)
    }

    pub(super) fn region_down(&self, region: usize) -> bool {
        self.regions[region].down_since.is_some()
    }

    /// A cluster by identifier or ARN, as the RDS API accepts either.
    pub(super) fn cluster_index(&self, id_or_arn: &str) -> Option<usize> {
        self.clusters
            .iter()
            .position(|c| c.id == id_or_arn || c.arn == id_or_arn)
    }

    pub(super) fn instance_index(&self, id_or_arn: &str) -> Option<usize> {
        self.instances
            .iter()
            .position(|i| i.id == id_or_arn || i.arn == id_or_arn)
    }

    pub(super) fn global_index(&self, id: &str) -> Option<usize> {
        self.globals.iter().position(|g| g.id == id)
    }

    pub(super) fn writer_of(&self, global: usize) -> Option<usize> {
        self.globals[global]
            .members
            .iter()
            .copied()
            .find(|&c| self.clusters[c].membership == Membership::Writer)
    }

    /// A random duration of a control-plane operation between `min` and
    /// `max` seconds, stretched while the control plane is slow.
    pub(super) fn duration_between(&mut self, min: i64, max: i64) -> Duration {
        Duration::seconds(self.rng.random_range(min..=max) * i64::from(self.slowdown.max(1)))
    }

    pub(super) fn schedule(&mut self, after: Duration, completion: Completion) {
        self.pending.push(Pending {
            due: later(self.time, after),
            completion,
        });
    }

    /// Advances the world second by second up to `now`.
    pub(super) fn advance_to(&mut self, now: DateTime<Utc>) {
        let behind = (now - self.time).num_seconds();
        if behind > MAX_CATCH_UP_SECONDS {
            self.time = now - Duration::seconds(MAX_CATCH_UP_SECONDS);
        }
        while let Some(next) = self.time.checked_add_signed(Duration::seconds(1))
            && next <= now
        {
            self.time = next;
            self.complete_due();
            self.tick();
        }
    }

    fn tick(&mut self) {
        let now = self.time;
        for check in &mut self.health_checks {
            let region = &self.regions[check.region];
            let outage = region
                .down_since
                .map(|since| (since, region.failing_checkers_percent));
            check.tick(now, outage, &mut self.rng);
        }
        self.tick_replication();
    }

    /// One second of writes and of replication catching up.
    fn tick_replication(&mut self) {
        let now = self.time;
        self.take_writes_since(now);
        self.tick_lags();
    }

    /// One second of replication catching up.
    fn tick_lags(&mut self) {
        // Replication out of a region that is down neither catches up nor
        // falls further behind by itself: `stalled_lag` adds the outage.
        for c in 0..self.clusters.len() {
            let source = self.clusters[c]
                .global
                .and_then(|g| self.writer_of(g))
                .map(|w| self.clusters[w].region);
            if !source.is_some_and(|r| self.region_down(r)) {
                self.clusters[c].lag.tick(&mut self.rng);
            }
        }
        for i in 0..self.instances.len() {
            if let Some(source) = self.instances[i].replica_of
                && !self.region_down(self.instances[source].region)
            {
                self.instances[i].lag.tick(&mut self.rng);
            }
        }
        for b in 0..self.buckets.len() {
            if !self.region_down(self.buckets[b].source_region) {
                self.buckets[b].lag.tick(&mut self.rng);
            }
        }
    }

    /// Applies every completion due by now, oldest first.
    fn complete_due(&mut self) {
        while let Some(next) = self
            .pending
            .iter()
            .enumerate()
            .filter(|(_, p)| p.due <= self.time)
            .min_by_key(|(_, p)| p.due)
            .map(|(i, _)| i)
        {
            let done = self.pending.remove(next);
            self.complete(done.completion);
        }
    }

    fn complete(&mut self, completion: Completion) {
        match completion {
            Completion::GlobalRoleChange {
                global,
                target,
                allow_data_loss,
            } => {
                let lost = if allow_data_loss {
                    self.secondary_lag(&self.clusters[target], global)
                } else {
                    0.0
                };
                let source = self.writer_of(global).filter(|_| allow_data_loss);
                self.record_data_loss(
                    target_id(&self.clusters, target),
                    lost,
                    source.map(|w| self.clusters[w].id.clone()),
                );
                if let Some(old) = self.writer_of(global) {
                    let sync = if allow_data_loss {
                        SyncStatus::PendingResync
                    } else {
                        SyncStatus::Connected
                    };
                    self.clusters[old].membership = Membership::Secondary(sync);
                    self.clusters[old].operation = None;
                    if sync == SyncStatus::PendingResync
                        && !self.region_down(self.clusters[old].region)
                    {
                        self.schedule_resync(old);
                    }
                }
                self.clusters[target].membership = Membership::Writer;
                self.clusters[target].operation = None;
                self.globals[global].operation = None;
            }
            Completion::Detach { global, cluster } => {
                if matches!(self.clusters[cluster].membership, Membership::Secondary(_)) {
                    let lost = self.secondary_lag(&self.clusters[cluster], global);
                    let source = self.writer_of(global).map(|w| self.clusters[w].id.clone());
                    self.record_data_loss(target_id(&self.clusters, cluster), lost, source);
                }
                self.globals[global].members.retain(|&c| c != cluster);
                let c = &mut self.clusters[cluster];
                c.global = None;
                c.membership = Membership::Standalone { detached: true };
                c.operation = None;
            }
            Completion::InstancePromoted {
                instance,
                retention_days,
            } => {
                let now = self.time;
                if let Some(source) = self.instances[instance].replica_of {
                    let lost = self.replica_lag(&self.instances[instance], source);
                    let source = self.instances[source].id.clone();
                    let promoted = self.instances[instance].id.clone();
                    self.record_data_loss(promoted, lost, Some(source));
                }
                let after = self.duration_between(60, 120);
                let i = &mut self.instances[instance];
                i.replica_of = None;
                i.operation = Some("backing-up");
                i.backup.retention_days = retention_days;
                i.backup.since = now;
                self.schedule(after, Completion::InstanceBackedUp { instance });
            }
            Completion::InstanceBackedUp { instance } => {
                self.instances[instance].operation = None;
            }
            Completion::Resynced { cluster } => {
                let c = &mut self.clusters[cluster];
                if c.membership == Membership::Secondary(SyncStatus::PendingResync) {
                    c.membership = Membership::Secondary(SyncStatus::Connected);
                }
            }
        }
    }

    /// A demoted old primary catches up once its region is reachable.
    pub(super) fn schedule_resync(&mut self, cluster: usize) {
        let after = self.duration_between(180, 420);
        self.schedule(after, Completion::Resynced { cluster });
    }

    /// The lag of a receiving cluster, replica instance or destination bucket.
    pub(super) fn lag_of(&mut self, resource: &str) -> Option<&mut LagProcess> {
        if let Some(c) = self.clusters.iter_mut().find(|c| c.id == resource) {
            return Some(&mut c.lag);
        }
        if let Some(i) = self.instances.iter_mut().find(|i| i.id == resource) {
            return Some(&mut i.lag);
        }
        self.buckets
            .iter_mut()
            .find(|b| b.destination == resource)
            .map(|b| &mut b.lag)
    }

    /// Old primaries demoted while their region was down start to resync.
    pub(super) fn region_recovered(&mut self, region: usize) {
        let waiting: Vec<usize> = self
            .clusters
            .iter()
            .enumerate()
            .filter(|(_, c)| {
                c.region == region
                    && c.membership == Membership::Secondary(SyncStatus::PendingResync)
            })
            .map(|(i, _)| i)
            .collect();
        for cluster in waiting {
            self.schedule_resync(cluster);
        }
    }

    /// Records what promoting `resource` lost: `seconds` of replication
    /// lag, and in the ground truth the writes `source` (the writer it
    /// replicated from, `None` when nothing may be lost) took in them.
    fn record_data_loss(&mut self, resource: String, seconds: f64, source: Option<String>) {
        let lost = std::time::Duration::try_from_secs_f64(seconds.max(0.0))
            .unwrap_or(std::time::Duration::MAX);
        let replicated_to =
            self.time - Duration::milliseconds(lost.as_millis().min(i64::MAX as u128) as i64);
        self.writes.promoted(
            &resource,
            self.time,
            source.as_deref().map(|s| (s, replicated_to)),
        );
        self.data_loss.push((resource, lost));
    }

    /// The demo application writes, for the second just ended, to every
    /// database that accepts writes now.
    /// The writers of now accepted writes every second from the one ending
    /// at `from` to now.
    fn take_writes_since(&mut self, from: DateTime<Utc>) {
        let Model {
            regions,
            clusters,
            instances,
            writes,
            time,
            ..
        } = self;
        let up = |region: usize| regions[region].down_since.is_none();
        let cluster_writers = clusters.iter().filter(|c| {
            up(c.region)
                && c.operation.is_none()
                && matches!(
                    c.membership,
                    Membership::Writer | Membership::Standalone { .. }
                )
        });
        let instance_writers = instances
            .iter()
            .filter(|i| up(i.region) && i.replica_of.is_none() && i.operation != Some("modifying"));
        for id in cluster_writers
            .map(|c| &c.id)
            .chain(instance_writers.map(|i| &i.id))
        {
            writes.accept_through(id, from, *time);
        }
    }

    /// Lag of a global cluster's secondary behind its writer, in seconds.
    pub(super) fn secondary_lag(&self, cluster: &Cluster, global: usize) -> f64 {
        let writer_region = self.writer_of(global).map(|w| self.clusters[w].region);
        self.stalled_lag(writer_region.as_slice(), cluster.lag.seconds())
    }

    /// Lag of a read replica behind its source instance, in seconds.
    pub(super) fn replica_lag(&self, replica: &Instance, source: usize) -> f64 {
        self.stalled_lag(&[self.instances[source].region], replica.lag.seconds())
    }

    /// Lag once a region replication depends on has been down for a while:
    /// everything written since it failed is missing, so the lag grows with
    /// the outage.
    pub(super) fn stalled_lag(&self, regions: &[usize], lag: f64) -> f64 {
        let since = regions
            .iter()
            .filter_map(|&r| self.regions[r].down_since)
            .min();
        match since {
            Some(since) => lag + (self.time - since).num_milliseconds().max(0) as f64 / 1000.0,
            None => lag,
        }
    }
}

/// The status of an operation in progress. An alias, so that serde's derive
/// does not see a `'static` borrow and demand the saved text outlive it.
pub(super) type Status = &'static str;

/// Every status a cluster or instance shows while an operation runs: the
/// statuses are `&'static str` in the model, so a saved world names one of
/// these. An operation added to the simulator adds its status here.
const OPERATION_STATUSES: [&str; 5] = [
    "failing-over",
    "switching-over",
    "promoting",
    "modifying",
    "backing-up",
];

/// An operation status is saved as its text and read back as the one the
/// simulator uses.
mod operation_status {
    use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

    use super::{OPERATION_STATUSES, Status};

    pub fn serialize<S: Serializer>(op: &Option<Status>, s: S) -> Result<S::Ok, S::Error> {
        op.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Status>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        OPERATION_STATUSES
            .iter()
            .find(|s| **s == text)
            .map(|s| Some(*s))
            .ok_or_else(|| {
                de::Error::custom(format!(
                    "unknown operation status `{text}`; expected one of {}",
                    OPERATION_STATUSES.join(", ")
                ))
            })
    }
}

impl Model {
    /// Checks that a model read from a saved world refers only to things it
    /// holds, so that no index or value in it can make the simulator panic.
    /// The message names the first thing wrong.
    pub(super) fn check_consistent(&self) -> Result<(), String> {
        let regions = self.regions.len();
        let in_range = |what: &str, index: usize, len: usize| {
            if index < len {
                Ok(())
            } else {
                Err(format!("{what} refers to #{index}, but there are {len}"))
            }
        };
        for g in &self.globals {
            let what = format!("global cluster `{}`", g.id);
            in_range(&what, g.home_region, regions)?;
            for &m in &g.members {
                in_range(&what, m, self.clusters.len())?;
            }
            if let Some(op) = &g.operation {
                in_range(&what, op.target, self.clusters.len())?;
            }
        }
        for c in &self.clusters {
            let what = format!("cluster `{}`", c.id);
            in_range(&what, c.region, regions)?;
            if let Some(g) = c.global {
                in_range(&what, g, self.globals.len())?;
            }
            if !c.lag.is_plausible() {
                return Err(format!("{what} has an impossible replication lag"));
            }
            if !c.backup.is_plausible() {
                return Err(format!("{what} has an impossible backup schedule"));
            }
        }
        for i in &self.instances {
            let what = format!("instance `{}`", i.id);
            in_range(&what, i.region, regions)?;
            if let Some(source) = i.replica_of {
                in_range(&what, source, self.instances.len())?;
            }
            if !i.lag.is_plausible() {
                return Err(format!("{what} has an impossible replication lag"));
            }
            if !i.backup.is_plausible() {
                return Err(format!("{what} has an impossible backup schedule"));
            }
        }
        for b in &self.buckets {
            let what = format!("bucket `{}`", b.destination);
            in_range(&what, b.source_region, regions)?;
            in_range(&what, b.destination_region, regions)?;
            if !b.lag.is_plausible() {
                return Err(format!("{what} has an impossible replication lag"));
            }
        }
        for h in &self.health_checks {
            let what = format!("health check `{}`", h.id);
            in_range(&what, h.region, regions)?;
            if !h.is_plausible() {
                return Err(format!("{what} has checkers the simulator never makes"));
            }
        }
        for p in &self.pending {
            let (clusters, globals, instances): (&[usize], &[usize], &[usize]) = match &p.completion
            {
                Completion::GlobalRoleChange { global, target, .. } => (
                    std::slice::from_ref(target),
                    std::slice::from_ref(global),
                    &[],
                ),
                Completion::Detach { global, cluster } => (
                    std::slice::from_ref(cluster),
                    std::slice::from_ref(global),
                    &[],
                ),
                Completion::InstancePromoted { instance, .. }
                | Completion::InstanceBackedUp { instance } => {
                    (&[], &[], std::slice::from_ref(instance))
                }
                Completion::Resynced { cluster } => (std::slice::from_ref(cluster), &[], &[]),
            };
            for &c in clusters {
                in_range("a pending operation", c, self.clusters.len())?;
            }
            for &g in globals {
                in_range("a pending operation", g, self.globals.len())?;
            }
            for &i in instances {
                in_range("a pending operation", i, self.instances.len())?;
            }
        }
        if !self.writes.is_plausible() {
            return Err("the write ledger has an impossible period".into());
        }
        if !(1..=MAX_SLOWDOWN).contains(&self.slowdown)
            || self
                .regions
                .iter()
                .any(|r| r.failing_checkers_percent > 100)
        {
            return Err("a fault's setting is out of range".into());
        }
        if !self.rng.is_valid() {
            return Err("the random generator's state is all zeros".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::environment_file::demo_environment;

    #[test]
    fn services_naming_one_check_zone_or_record_set_share_it() {
        let mut env = demo_environment();
        let orders = env.service("orders").cloned().unwrap();
        let mut twin = orders.clone();
        twin.id = "orders-twin".into();
        // The same record set spelled another way is the same record set.
        let dns = twin.dns.as_mut().unwrap();
        dns.record = dns.record.trim_end_matches('.').to_uppercase();
        twin.replication = Replication::Backup {
            clusters: Vec::new(),
            instances: vec!["twin-db".into()],
        };
        env.services.push(twin);
        let before = Model::new(&demo_environment(), DateTime::UNIX_EPOCH);
        let model = Model::new(&env, DateTime::UNIX_EPOCH);
        assert_eq!(model.health_checks.len(), before.health_checks.len());
        assert_eq!(model.zones, before.zones);
        assert_eq!(model.records.len(), before.records.len());
        assert_eq!(model.instances.len(), before.instances.len() + 1);
        let dns = orders.dns.unwrap();
        let sets: Vec<_> = model
            .records
            .iter()
            .filter(|r| r.zone_id == dns.zone_id && same_name(&r.name, &dns.record))
            .map(|r| r.set_identifier.clone())
            .collect();
        assert_eq!(
            sets,
            vec![Some("primary".to_string()), Some("secondary".to_string())]
        );
    }
}
