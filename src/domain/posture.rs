//! Posture: can each service still meet its objectives right now?
//!
//! Pure functions of a service's spec, the merged observations and the
//! current time, so they are tested without a provider or a terminal.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::environment::{Replication, ServiceSpec};
use super::objectives::{DrTier, Objectives};
use super::snapshot::{BackupObs, ClusterRole, DnsRecordObs, FailoverRole, Health, Snapshot};

/// Share of the RPO above which exposure counts as at risk.
pub const AT_RISK_FRACTION: f64 = 0.5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    AtRisk,
    Unknown,
    Breach,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::AtRisk => "AT RISK",
            Verdict::Unknown => "UNKNOWN",
            Verdict::Breach => "BREACH",
        }
    }

    /// Exposure against an objective.
    pub fn of(exposure: Option<Duration>, objective: Duration) -> Verdict {
        match exposure {
            None => Verdict::Unknown,
            Some(e) if e > objective => Verdict::Breach,
            Some(e) if e.as_secs_f64() > objective.as_secs_f64() * AT_RISK_FRACTION => {
                Verdict::AtRisk
            }
            Some(_) => Verdict::Ok,
        }
    }
}

/// Where the RPO exposure figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExposureSource {
    ReplicationLag,
    BackupAge,
    None,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Posture {
    pub service_id: String,
    pub service_name: String,
    pub tier: DrTier,
    pub objectives: Objectives,
    /// How much data would be lost if the serving region died now.
    #[serde(with = "humantime_serde")]
    pub rpo_exposure: Option<Duration>,
    pub exposure_source: ExposureSource,
    pub rpo: Verdict,
    pub tier_meets_rto: bool,
    pub primary_health: Health,
    pub dr_health: Health,
    pub serving_region: Option<String>,
    pub overall: Verdict,
}

impl Posture {
    pub fn within_objectives(&self) -> bool {
        matches!(self.overall, Verdict::Ok | Verdict::AtRisk)
    }
}

pub fn assess(service: &ServiceSpec, snap: &Snapshot, now: DateTime<Utc>) -> Posture {
    let (rpo_exposure, exposure_source) = exposure(service, snap, now);
    // Milliseconds are the finest precision anyone acts on (and reads in JSON).
    let rpo_exposure = rpo_exposure.map(|d| Duration::from_millis(d.as_millis() as u64));
    let rpo = Verdict::of(rpo_exposure, service.objectives.rpo);
    let tier_meets_rto = service.tier.can_meet_rto(service.objectives.rto);
    let overall = if tier_meets_rto { rpo } else { Verdict::Breach };
    Posture {
        service_id: service.id.clone(),
        service_name: service.name.clone(),
        tier: service.tier,
        objectives: service.objectives,
        rpo_exposure,
        exposure_source,
        rpo,
        tier_meets_rto,
        primary_health: region_health(service, snap, &service.primary_region),
        dr_health: region_health(service, snap, &service.dr_region),
        serving_region: serving_region(service, snap),
        overall,
    }
}

/// Age of the newest restorable point: PITR if enabled, else the newest snapshot.
pub fn backup_age(backup: &BackupObs, now: DateTime<Utc>) -> Option<Duration> {
    let newest = backup.latest_restorable.or(backup.newest_snapshot)?;
    Some((now - newest).to_std().unwrap_or(Duration::ZERO))
}

fn exposure(
    service: &ServiceSpec,
    snap: &Snapshot,
    now: DateTime<Utc>,
) -> (Option<Duration>, ExposureSource) {
    match &service.replication {
        Replication::AuroraGlobal {
            primary_cluster,
            secondary_cluster,
            ..
        } => {
            let members: Vec<_> = snap
                .db_clusters
                .iter()
                .filter(|c| &c.id == primary_cluster || &c.id == secondary_cluster)
                .collect();
            // After a failover the configured secondary is the writer, so the
            // lag that matters is that of whichever member replicates now.
            let replica_lag = members
                .iter()
                .filter(|c| c.role == ClusterRole::Secondary)
                .find_map(|c| lag_of(snap, &c.id));
            if let Some(lag) = replica_lag {
                return (Some(lag), ExposureSource::ReplicationLag);
            }
            // No replica reporting lag (detached, failed over and not yet
            // resynced, or the metric missing): only the writer's backups
            // protect the data now.
            let writer = members.iter().find(|c| c.role != ClusterRole::Secondary);
            (
                writer.and_then(|c| backup_age(&c.backup, now)),
                ExposureSource::BackupAge,
            )
        }
        Replication::RdsReplica {
            source_instance,
            replica_instance,
        } => {
            let replica = snap.db_instances.iter().find(|i| &i.id == replica_instance);
            match replica {
                Some(r) if r.replica_source.is_some() => (
                    lag_of(snap, replica_instance),
                    ExposureSource::ReplicationLag,
                ),
                _ => {
                    // Promoted (or gone): the writer is whichever instance stands alone.
                    let writer = replica
                        .or_else(|| snap.db_instances.iter().find(|i| &i.id == source_instance));
                    (
                        writer.and_then(|i| backup_age(&i.backup, now)),
                        ExposureSource::BackupAge,
                    )
                }
            }
        }
        Replication::S3 {
            destination_bucket, ..
        } => (
            lag_of(snap, destination_bucket),
            ExposureSource::ReplicationLag,
        ),
        Replication::Backup {
            clusters,
            instances,
        } => {
            let ages: Vec<Option<Duration>> = snap
                .db_clusters
                .iter()
                .filter(|c| clusters.contains(&c.id))
                .map(|c| backup_age(&c.backup, now))
                .chain(
                    snap.db_instances
                        .iter()
                        .filter(|i| instances.contains(&i.id))
                        .map(|i| backup_age(&i.backup, now)),
                )
                .collect();
            let expected = clusters.len() + instances.len();
            if ages.len() < expected || ages.iter().any(Option::is_none) || expected == 0 {
                return (None, ExposureSource::None);
            }
            (ages.into_iter().flatten().max(), ExposureSource::BackupAge)
        }
    }
}

fn lag_of(snap: &Snapshot, resource_id: &str) -> Option<Duration> {
    snap.lags
        .iter()
        .find(|l| l.resource_id == resource_id)
        .and_then(|l| match (l.lag, l.rpo_lag) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        })
}

/// Health of a region as the service's health checks there see it.
pub fn region_health(service: &ServiceSpec, snap: &Snapshot, region: &str) -> Health {
    let mut statuses = service
        .health_checks
        .iter()
        .filter(|h| h.region == region)
        .filter_map(|h| snap.health_checks.iter().find(|o| o.id == h.id))
        .map(|o| o.status)
        .peekable();
    if statuses.peek().is_none() {
        return Health::Unknown;
    }
    let mut any_unknown = false;
    for s in statuses {
        match s {
            Health::Unhealthy => return Health::Unhealthy,
            Health::Unknown => any_unknown = true,
            Health::Healthy => {}
        }
    }
    if any_unknown {
        Health::Unknown
    } else {
        Health::Healthy
    }
}

/// The record set Route 53 answers with right now.
///
/// For a failover pair it is the PRIMARY while its health check passes (or
/// it has none: a runbook may have repointed it without one) and the
/// SECONDARY otherwise; a plain record answers as itself.
pub fn serving_record<'a>(service: &ServiceSpec, snap: &'a Snapshot) -> Option<&'a DnsRecordObs> {
    let dns = service.dns.as_ref()?;
    let records: Vec<&DnsRecordObs> = snap
        .dns_records
        .iter()
        .filter(|r| r.zone_id == dns.zone_id && same_name(&r.name, &dns.record))
        .collect();
    let primary = records
        .iter()
        .find(|r| r.failover == Some(FailoverRole::Primary));
    let secondary = records
        .iter()
        .find(|r| r.failover == Some(FailoverRole::Secondary));
    match (primary, secondary) {
        (Some(p), Some(s)) => {
            let primary_up = p.health_check_id.as_ref().is_none_or(|id| {
                snap.health_checks
                    .iter()
                    .find(|h| &h.id == id)
                    .is_none_or(|h| h.status != Health::Unhealthy)
            });
            Some(if primary_up { p } else { s })
        }
        _ => records.first().copied(),
    }
}

/// Which region DNS sends users to right now: the one the serving record's
/// target belongs to.
pub fn serving_region(service: &ServiceSpec, snap: &Snapshot) -> Option<String> {
    let dns = service.dns.as_ref()?;
    let target = &serving_record(service, snap)?.target;
    if same_name(target, &dns.primary_target) {
        Some(service.primary_region.clone())
    } else if same_name(target, &dns.secondary_target) {
        Some(service.dr_region.clone())
    } else {
        None
    }
}

/// DNS names compare without case and without the root dot.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::environment::{DnsSpec, HealthCheckSpec};
    use crate::domain::snapshot::{
        BackupObs, DbClusterObs, DnsRecordObs, HealthCheckObs, LagKind, LagObs,
    };
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
    }

    fn mins(m: u64) -> Duration {
        Duration::from_secs(m * 60)
    }

    fn orders() -> ServiceSpec {
        ServiceSpec {
            id: "orders".into(),
            name: "Orders API".into(),
            tier: DrTier::WarmStandby,
            objectives: Objectives {
                rto: mins(15),
                rpo: mins(5),
            },
            primary_region: "us-east-1".into(),
            dr_region: "us-west-2".into(),
            replication: Replication::AuroraGlobal {
                global_cluster: "orders-global".into(),
                primary_cluster: "orders-primary".into(),
                secondary_cluster: "orders-secondary".into(),
            },
            health_checks: vec![
                HealthCheckSpec {
                    id: "hc-east".into(),
                    region: "us-east-1".into(),
                    fqdn: "api.us-east-1.example.com".into(),
                    failure_threshold: 3,
                },
                HealthCheckSpec {
                    id: "hc-west".into(),
                    region: "us-west-2".into(),
                    fqdn: "api.us-west-2.example.com".into(),
                    failure_threshold: 3,
                },
            ],
            dns: Some(DnsSpec {
                zone_id: "Z1".into(),
                record: "api.example.com.".into(),
                primary_target: "api.us-east-1.example.com".into(),
                secondary_target: "api.us-west-2.example.com".into(),
                ttl: 60,
            }),
        }
    }

    fn cluster(id: &str, region: &str, role: ClusterRole, pitr_age: Duration) -> DbClusterObs {
        DbClusterObs {
            id: id.into(),
            arn: format!("arn:aws:rds:{region}:123456789012:cluster:{id}"),
            region: region.into(),
            engine: "aurora-postgresql".into(),
            engine_version: "15.4".into(),
            status: "available".into(),
            role,
            global_cluster_id: Some("orders-global".into()),
            endpoint: None,
            backup: BackupObs {
                latest_restorable: Some(now() - chrono::Duration::from_std(pitr_age).unwrap()),
                retention_days: 35,
                newest_snapshot: None,
                cross_region_copy: false,
            },
        }
    }

    fn check(id: &str, region: &str, status: Health) -> HealthCheckObs {
        HealthCheckObs {
            id: id.into(),
            region: region.into(),
            fqdn: format!("api.{region}.example.com"),
            status,
            checkers_healthy: if status == Health::Healthy { 16 } else { 0 },
            checkers_total: 16,
            failure_threshold: 3,
            disabled: false,
            inverted: false,
        }
    }

    fn record(role: FailoverRole, target: &str, hc: &str) -> DnsRecordObs {
        DnsRecordObs {
            zone_id: "Z1".into(),
            name: "api.example.com.".into(),
            record_type: "CNAME".into(),
            set_identifier: Some(format!("{role:?}")),
            failover: Some(role),
            target: target.into(),
            ttl: Some(60),
            health_check_id: Some(hc.into()),
        }
    }

    fn healthy_world(lag: Duration) -> Snapshot {
        Snapshot {
            health_checks: vec![
                check("hc-east", "us-east-1", Health::Healthy),
                check("hc-west", "us-west-2", Health::Healthy),
            ],
            db_clusters: vec![
                cluster("orders-primary", "us-east-1", ClusterRole::Primary, mins(4)),
                cluster(
                    "orders-secondary",
                    "us-west-2",
                    ClusterRole::Secondary,
                    mins(4),
                ),
            ],
            lags: vec![LagObs {
                resource_id: "orders-secondary".into(),
                region: "us-west-2".into(),
                kind: LagKind::AuroraGlobal,
                lag: Some(lag),
                rpo_lag: None,
                pending_operations: None,
            }],
            dns_records: vec![
                record(
                    FailoverRole::Primary,
                    "api.us-east-1.example.com",
                    "hc-east",
                ),
                record(
                    FailoverRole::Secondary,
                    "api.us-west-2.example.com",
                    "hc-west",
                ),
            ],
            ..Snapshot::default()
        }
    }

    #[test]
    fn sub_second_lag_is_well_within_a_five_minute_rpo() {
        let p = assess(&orders(), &healthy_world(Duration::from_millis(400)), now());
        assert_eq!(p.rpo_exposure, Some(Duration::from_millis(400)));
        assert_eq!(p.exposure_source, ExposureSource::ReplicationLag);
        assert_eq!(p.rpo, Verdict::Ok);
        assert_eq!(p.overall, Verdict::Ok);
        assert_eq!(p.serving_region.as_deref(), Some("us-east-1"));
        assert!(p.within_objectives());
    }

    #[test]
    fn lag_over_half_the_rpo_is_at_risk_and_over_it_a_breach() {
        let at_risk = assess(&orders(), &healthy_world(mins(3)), now());
        assert_eq!(at_risk.rpo, Verdict::AtRisk);
        assert!(at_risk.within_objectives());
        let breach = assess(&orders(), &healthy_world(mins(6)), now());
        assert_eq!(breach.rpo, Verdict::Breach);
        assert!(!breach.within_objectives());
    }

    #[test]
    fn missing_lag_metric_falls_back_to_the_writers_backup_age() {
        let mut world = healthy_world(Duration::ZERO);
        world.lags.clear();
        let p = assess(&orders(), &world, now());
        assert_eq!(p.exposure_source, ExposureSource::BackupAge);
        assert_eq!(p.rpo_exposure, Some(mins(4)));
    }

    #[test]
    fn no_data_at_all_is_unknown_not_ok() {
        let p = assess(&orders(), &Snapshot::default(), now());
        assert_eq!(p.rpo_exposure, None);
        assert_eq!(p.overall, Verdict::Unknown);
        assert!(!p.within_objectives());
    }

    #[test]
    fn after_failover_the_old_primary_is_the_replica_whose_lag_counts() {
        let mut world = healthy_world(Duration::from_millis(100));
        world.db_clusters = vec![
            cluster(
                "orders-primary",
                "us-east-1",
                ClusterRole::Secondary,
                mins(9),
            ),
            cluster(
                "orders-secondary",
                "us-west-2",
                ClusterRole::Primary,
                mins(1),
            ),
        ];
        world.lags = vec![LagObs {
            resource_id: "orders-primary".into(),
            region: "us-east-1".into(),
            kind: LagKind::AuroraGlobal,
            lag: Some(Duration::from_millis(700)),
            rpo_lag: None,
            pending_operations: None,
        }];
        let p = assess(&orders(), &world, now());
        assert_eq!(p.exposure_source, ExposureSource::ReplicationLag);
        assert_eq!(p.rpo_exposure, Some(Duration::from_millis(700)));

        // Still resyncing: no lag reported yet, so the new writer's backups count.
        world.lags.clear();
        let p = assess(&orders(), &world, now());
        assert_eq!(p.exposure_source, ExposureSource::BackupAge);
        assert_eq!(p.rpo_exposure, Some(mins(1)));
    }

    #[test]
    fn after_detach_exposure_is_the_writers_backup_age() {
        let mut world = healthy_world(Duration::from_millis(200));
        world.db_clusters = vec![
            cluster(
                "orders-primary",
                "us-east-1",
                ClusterRole::Standalone,
                mins(30),
            ),
            cluster(
                "orders-secondary",
                "us-west-2",
                ClusterRole::Standalone,
                mins(2),
            ),
        ];
        let p = assess(&orders(), &world, now());
        assert_eq!(p.exposure_source, ExposureSource::BackupAge);
        assert_eq!(p.rpo_exposure, Some(mins(30)));
        assert_eq!(p.rpo, Verdict::Breach);
    }

    #[test]
    fn unhealthy_primary_sends_traffic_to_the_secondary_record() {
        let mut world = healthy_world(Duration::ZERO);
        world.health_checks[0] = check("hc-east", "us-east-1", Health::Unhealthy);
        let p = assess(&orders(), &world, now());
        assert_eq!(p.primary_health, Health::Unhealthy);
        assert_eq!(p.dr_health, Health::Healthy);
        assert_eq!(p.serving_region.as_deref(), Some("us-west-2"));
    }

    #[test]
    fn a_tier_too_slow_for_the_rto_breaches_whatever_the_lag() {
        let mut spec = orders();
        spec.tier = DrTier::PilotLight;
        let p = assess(&spec, &healthy_world(Duration::ZERO), now());
        assert!(!p.tier_meets_rto);
        assert_eq!(p.rpo, Verdict::Ok);
        assert_eq!(p.overall, Verdict::Breach);
    }

    #[test]
    fn a_primary_repointed_at_dr_without_a_health_check_serves() {
        let mut world = healthy_world(Duration::ZERO);
        world.health_checks[0] = check("hc-east", "us-east-1", Health::Unhealthy);
        world.dns_records[0].target = "api.us-west-2.example.com".into();
        world.dns_records[0].health_check_id = None;
        let served = serving_record(&orders(), &world).unwrap();
        assert_eq!(served.failover, Some(FailoverRole::Primary));
        assert_eq!(
            serving_region(&orders(), &world).as_deref(),
            Some("us-west-2")
        );
    }

    #[test]
    fn dns_names_match_without_root_dot_or_case() {
        assert!(same_name("API.example.com.", "api.example.com"));
        assert!(!same_name("api.example.com", "api.example.org"));
    }
}
