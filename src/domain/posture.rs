//! Posture: can each service still meet its objectives right now?
//!
//! Two sides, both against the service's objectives. The RTO side is its
//! availability (`domain::availability`) and how long it has not been `UP`
//! (its open incident's clock); the RPO side is the data a loss of the
//! writer's region would cost (`domain::exposure`). The overall verdict is
//! the worse of the two, so a service that is down never reads `OK`.
//!
//! Pure functions of a service's spec, the merged observations, its
//! history (`domain::incident`) and the current time. The observations come
//! as a [`Lookup`]: a pass over every service takes a `SnapshotIndex`
//! built once, so its cost grows linearly with the estate.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::availability::{self, Availability};
use super::environment::ServiceSpec;
use super::exposure::{self, RpoSide};
use super::incident::{Basis, Incident, ServiceHistory};
use super::lookup::Lookup;
use super::objectives::{DrTier, Objectives};
use super::snapshot::{DnsRecordObs, FailoverRole, Health};
use super::topology::{self, Topology};
use super::verdict::IMPROVE_AFTER_POLLS;

pub use super::exposure::{ExposureSource, backup_age, effective_lag};
pub use super::lookup::same_name;
pub use super::verdict::{AT_RISK_FRACTION, Verdict};

/// The RTO side: availability, since when, and the incident clock.
#[derive(Debug, Clone, PartialEq)]
pub struct RtoSide {
    pub availability: Availability,
    /// When the service entered that state (`None` before any observation).
    pub since: Option<DateTime<Utc>>,
    pub since_basis: Option<Basis>,
    pub reason: String,
    /// Time since the service stopped being `UP`: the open incident's age;
    /// zero while up with no incident; `None` when nothing is known.
    pub exposure: Option<Duration>,
    pub verdict: Verdict,
    pub incident: Option<Incident>,
    /// The incident that closed last, for "restored after ...".
    pub last_incident: Option<Incident>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Posture {
    pub service_id: String,
    pub service_name: String,
    pub tier: DrTier,
    pub objectives: Objectives,
    pub rto_side: RtoSide,
    pub rpo_side: RpoSide,
    /// The RPO verdict as shown: the held verdict when hysteresis holds a
    /// worse one than this poll's.
    pub rpo: Verdict,
    pub tier_meets_rto: bool,
    pub primary_health: Health,
    pub dr_health: Health,
    pub serving_region: Option<String>,
    /// Where writes are accepted now, from the observed roles.
    pub writer_region: Option<String>,
    /// The observed databases (`None` for S3), for the topology lines.
    pub topology: Option<Topology>,
    pub overall: Verdict,
    /// Why the verdicts are what they are, in order of weight.
    pub why: Vec<String>,
}

impl Posture {
    pub fn within_objectives(&self) -> bool {
        matches!(self.overall, Verdict::Ok | Verdict::AtRisk)
    }

    /// How much data would be lost if the writer's region failed now.
    pub fn rpo_exposure(&self) -> Option<Duration> {
        self.rpo_side.exposure
    }

    pub fn availability(&self) -> Availability {
        self.rto_side.availability
    }
}

/// What one observation shows of a service whatever the time: its
/// databases, whether and where it serves, each region's health. The
/// tracker keeps it from the poll that saw it, so the rows drawn from the
/// same data do not look the service up again.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub topology: Option<Topology>,
    pub availability: availability::AvailabilityObs,
    pub primary_health: Health,
    pub dr_health: Health,
}

pub fn see(service: &ServiceSpec, snap: &impl Lookup) -> Seen {
    let topology = topology::observe(service, snap);
    let availability = availability::assess(service, snap, topology.as_ref());
    Seen {
        topology,
        availability,
        primary_health: region_health(service, snap, &service.primary_region),
        dr_health: region_health(service, snap, &service.dr_region),
    }
}

fn rpo_side(service: &ServiceSpec, snap: &impl Lookup, seen: &Seen, at: DateTime<Utc>) -> RpoSide {
    exposure::assess(
        service,
        snap,
        seen.topology.as_ref(),
        seen.availability.writer_region.as_deref(),
        at,
    )
}

/// What one poll says, as the history takes it: availability and the RPO
/// verdict before hysteresis.
pub fn observe(
    service: &ServiceSpec,
    snap: &impl Lookup,
    at: DateTime<Utc>,
) -> (Availability, Verdict) {
    observe_seen(service, snap, &see(service, snap), at)
}

/// [`observe`] where `seen` is [`see`] of the same `snap`.
pub fn observe_seen(
    service: &ServiceSpec,
    snap: &impl Lookup,
    seen: &Seen,
    at: DateTime<Utc>,
) -> (Availability, Verdict) {
    (
        seen.availability.state,
        rpo_side(service, snap, seen, at).verdict,
    )
}

/// The posture from one observation and no history: what `status` shows.
/// Whatever state the service is in counts from this observation (it may
/// have begun earlier; the basis says so).
pub fn assess(service: &ServiceSpec, snap: &impl Lookup, now: DateTime<Utc>) -> Posture {
    let seen = see(service, snap);
    let (state, rpo) = observe_seen(service, snap, &seen, now);
    let mut history = ServiceHistory::default();
    history.observe(state, rpo, now);
    assess_seen(service, snap, &seen, &history, now)
}

/// The posture given the service's history: availability since when it
/// changed, verdicts with hysteresis, the open incident's clock.
pub fn assess_with(
    service: &ServiceSpec,
    snap: &impl Lookup,
    history: &ServiceHistory,
    now: DateTime<Utc>,
) -> Posture {
    assess_seen(service, snap, &see(service, snap), history, now)
}

/// [`assess_with`] where `seen` is [`see`] of the same `snap`.
pub fn assess_seen(
    service: &ServiceSpec,
    snap: &impl Lookup,
    seen: &Seen,
    history: &ServiceHistory,
    now: DateTime<Utc>,
) -> Posture {
    let rpo_side = rpo_side(service, snap, seen, now);
    let mut why = Vec::new();
    let rto_side = rto_side(service, &seen.availability, history, now, &mut why);
    let held_rpo = history.rpo().map(|h| h.shown());
    let rpo = held_rpo.map_or(rpo_side.verdict, |h| h.max(rpo_side.verdict));
    why.push(format!("RPO: {}", rpo_side.reason));
    if rpo != rpo_side.verdict {
        let polls = history
            .rpo()
            .and_then(|h| h.pending())
            .map_or(0, |(_, n)| n);
        why.push(format!(
            "RPO held at {} until {} lasts {IMPROVE_AFTER_POLLS} polls ({polls}/{IMPROVE_AFTER_POLLS})",
            rpo.label(),
            rpo_side.verdict.label()
        ));
    }
    let tier_meets_rto = service.tier.can_meet_rto(service.objectives.rto);
    let mut overall = rto_side.verdict.max(rpo);
    if !tier_meets_rto {
        overall = Verdict::Breach;
        why.push(format!(
            "a {} tier cannot recover within the {} RTO (best case {})",
            service.tier.label(),
            crate::format::short_duration(service.objectives.rto),
            crate::format::short_duration(service.tier.best_case_rto())
        ));
    }
    Posture {
        service_id: service.id.clone(),
        service_name: service.name.clone(),
        tier: service.tier,
        objectives: service.objectives,
        rto_side,
        rpo_side,
        rpo,
        tier_meets_rto,
        primary_health: seen.primary_health,
        dr_health: seen.dr_health,
        serving_region: seen.availability.serving_region.clone(),
        writer_region: seen.availability.writer_region.clone(),
        topology: seen.topology.clone(),
        overall,
        why,
    }
}

fn rto_side(
    service: &ServiceSpec,
    seen: &availability::AvailabilityObs,
    history: &ServiceHistory,
    now: DateTime<Utc>,
    why: &mut Vec<String>,
) -> RtoSide {
    let known = history.availability();
    let (state, since, since_basis) = match known {
        Some((state, since, basis)) => (state, Some(since), Some(basis)),
        None => (seen.state, None, None),
    };
    let incident = history.incident().cloned();
    let exposure = match (&incident, state) {
        (Some(i), _) => Some((now - i.start).to_std().unwrap_or(Duration::ZERO)),
        (None, Availability::Unknown) => None,
        (None, _) => Some(Duration::ZERO),
    };
    let verdict = match (exposure, state, &incident) {
        (None, _, _) => Verdict::Unknown,
        (Some(_), Availability::Up, None) => Verdict::Ok,
        // Not serving (or declared so) is at risk from the first second,
        // however much of the RTO is left.
        (Some(e), _, _) => Verdict::of(Some(e), service.objectives.rto).max(Verdict::AtRisk),
    };
    let mut reason = seen.reason.clone();
    if seen.state != state {
        reason = if seen.state == Availability::Unknown {
            format!("last known {}: {}", state.label(), seen.reason)
        } else {
            let polls = history.pending_availability().map_or(0, |(_, n)| n);
            format!(
                "{} held until {} lasts {IMPROVE_AFTER_POLLS} polls ({polls}/{IMPROVE_AFTER_POLLS}): {}",
                state.label(),
                seen.state.label(),
                seen.reason
            )
        };
    }
    why.push(format!("RTO: {reason}"));
    if let Some(d) = incident.as_ref().and_then(|i| i.declared.as_ref()) {
        why.push(format!("incident declared by {}: {}", d.who, d.why));
    }
    RtoSide {
        availability: state,
        since,
        since_basis,
        reason,
        exposure,
        verdict,
        incident,
        last_incident: history.last_closed().cloned(),
    }
}

/// Health of a region as the service's health checks there see it.
pub fn region_health(service: &ServiceSpec, snap: &impl Lookup, region: &str) -> Health {
    let mut statuses = service
        .health_checks
        .iter()
        .filter(|h| h.region == region)
        .filter_map(|h| snap.health_check(&h.id))
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
pub fn serving_record<'a>(
    service: &ServiceSpec,
    snap: &'a impl Lookup,
) -> Option<&'a DnsRecordObs> {
    let dns = service.dns.as_ref()?;
    let records = snap.dns_records(&dns.zone_id, &dns.record);
    let primary = records
        .iter()
        .find(|r| r.failover == Some(FailoverRole::Primary));
    let secondary = records
        .iter()
        .find(|r| r.failover == Some(FailoverRole::Secondary));
    match (primary, secondary) {
        (Some(p), Some(s)) => {
            let primary_up = p.health_check_id.as_ref().is_none_or(|id| {
                snap.health_check(id)
                    .is_none_or(|h| h.status != Health::Unhealthy)
            });
            Some(if primary_up { p } else { s })
        }
        _ => records.first().copied(),
    }
}

/// Which region DNS sends users to right now: the one the serving record's
/// target belongs to.
pub fn serving_region(service: &ServiceSpec, snap: &impl Lookup) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::{ClusterRole, Snapshot};
    use crate::domain::testing::{
        check, cluster, failed_over, healthy_world, lag, mins, now, orders, with_lag,
    };

    #[test]
    fn sub_second_lag_is_well_within_a_five_minute_rpo() {
        let p = assess(&orders(), &healthy_world(), now());
        assert_eq!(p.rpo_exposure(), Some(Duration::from_millis(400)));
        assert_eq!(p.rpo_side.source, ExposureSource::ReplicationLag);
        assert_eq!(p.rpo, Verdict::Ok);
        assert_eq!(p.availability(), Availability::Up);
        assert_eq!(p.rto_side.exposure, Some(Duration::ZERO));
        assert_eq!(p.overall, Verdict::Ok);
        assert_eq!(p.serving_region.as_deref(), Some("us-east-1"));
        assert_eq!(p.writer_region.as_deref(), Some("us-east-1"));
        assert!(p.within_objectives());
    }

    #[test]
    fn lag_over_half_the_rpo_is_at_risk_and_over_it_a_breach() {
        let at_risk = assess(&orders(), &with_lag(mins(3)), now());
        assert_eq!(at_risk.rpo, Verdict::AtRisk);
        assert!(at_risk.within_objectives());
        let breach = assess(&orders(), &with_lag(mins(6)), now());
        assert_eq!(breach.rpo, Verdict::Breach);
        assert!(!breach.within_objectives());
    }

    #[test]
    fn a_replica_without_a_lag_datapoint_is_unknown_not_the_writers_backup_age() {
        let mut world = healthy_world();
        world.lags.clear();
        let p = assess(&orders(), &world, now());
        assert_eq!(p.rpo_exposure(), None);
        assert_eq!(p.rpo, Verdict::Unknown);
        assert_eq!(p.rpo_side.pitr_age, Some(mins(4)), "PITR is reported apart");
    }

    #[test]
    fn no_data_at_all_is_unknown_not_ok() {
        let p = assess(&orders(), &Snapshot::default(), now());
        assert_eq!(p.rpo_exposure(), None);
        assert_eq!(p.availability(), Availability::Unknown);
        assert_eq!(p.overall, Verdict::Unknown);
        assert!(!p.within_objectives());
    }

    #[test]
    fn a_down_service_is_never_ok_however_young_the_outage() {
        let mut world = healthy_world();
        world.db_clusters[0].status = "inaccessible".into();
        let p = assess(&orders(), &world, now());
        assert_eq!(p.availability(), Availability::Down);
        assert_eq!(p.rpo, Verdict::Ok, "the replica is current");
        assert_eq!(p.rto_side.verdict, Verdict::AtRisk);
        assert_eq!(p.overall, Verdict::AtRisk);
    }

    #[test]
    fn the_rto_clock_runs_from_the_incident_start() {
        let mut world = healthy_world();
        world.db_clusters[0].status = "inaccessible".into();
        let mut history = ServiceHistory::default();
        let t0 = now();
        history.observe(Availability::Up, Verdict::Ok, t0);
        history.observe(
            Availability::Down,
            Verdict::Ok,
            t0 + chrono::Duration::seconds(10),
        );
        let p = assess_with(
            &orders(),
            &world,
            &history,
            t0 + chrono::Duration::seconds(970),
        );
        assert_eq!(p.rto_side.exposure, Some(Duration::from_secs(960)));
        assert_eq!(
            p.rto_side.verdict,
            Verdict::Breach,
            "16 minutes of a 15-minute RTO"
        );
        assert_eq!(p.rto_side.since, Some(t0 + chrono::Duration::seconds(10)));
        assert_eq!(p.overall, Verdict::Breach);
    }

    #[test]
    fn after_failover_the_service_is_up_in_the_new_region_and_unprotected() {
        let p = assess(&orders(), &failed_over(), now());
        assert_eq!(p.availability(), Availability::Up);
        assert_eq!(p.writer_region.as_deref(), Some("us-west-2"));
        assert_eq!(p.rpo, Verdict::Unprotected);
        assert_eq!(
            p.rpo_side.reason,
            "no copy outside us-west-2; orders-primary resyncing"
        );
        assert_eq!(p.rpo_side.pitr_age, Some(mins(4)), "the new writer's PITR");
        assert_eq!(p.rpo_side.pitr_verdict, Verdict::Ok);
        assert_eq!(p.overall, Verdict::Unprotected);
    }

    #[test]
    fn pitr_age_never_decides_the_rpo_verdict() {
        // The old fallback read the writer's PITR age (hovering around the
        // RPO with the log upload cycle) as the exposure: it flapped.
        for pitr in [mins(1), mins(4), mins(6), mins(9)] {
            let mut world = failed_over();
            world.db_clusters[1] =
                cluster("orders-secondary", "us-west-2", ClusterRole::Primary, pitr);
            let p = assess(&orders(), &world, now());
            assert_eq!(p.rpo, Verdict::Unprotected, "PITR {pitr:?}");
        }
    }

    #[test]
    fn once_the_old_primary_replicates_its_lag_is_the_exposure() {
        let mut world = failed_over();
        world.global_clusters.clear();
        world.db_clusters[0].status = "available".into();
        world.lags = vec![lag(
            "orders-primary",
            "us-east-1",
            Duration::from_millis(700),
        )];
        let p = assess(&orders(), &world, now());
        assert_eq!(p.rpo_side.source, ExposureSource::ReplicationLag);
        assert_eq!(p.rpo_exposure(), Some(Duration::from_millis(700)));
        assert_eq!(p.rpo, Verdict::Ok);
    }

    #[test]
    fn a_cross_region_backup_copy_protects_a_writer_without_replica() {
        let mut world = failed_over();
        world.db_clusters[1].backup.cross_region_copy = true;
        let p = assess(&orders(), &world, now());
        assert_eq!(p.rpo_side.source, ExposureSource::BackupCopy);
        assert_eq!(p.rpo_exposure(), Some(mins(4)));
        assert_eq!(p.rpo, Verdict::AtRisk);
        world.db_clusters[1].backup.latest_restorable = Some(now() - chrono::Duration::hours(3));
        let p = assess(&orders(), &world, now());
        assert_eq!(p.rpo, Verdict::Unprotected);
        assert!(
            p.rpo_side
                .reason
                .starts_with("no copy outside us-west-2 newer than 3h00m"),
            "{}",
            p.rpo_side.reason
        );
    }

    #[test]
    fn after_detach_the_promoted_cluster_writes_and_nothing_protects_it() {
        let mut world = healthy_world();
        world.db_clusters = vec![
            cluster(
                "orders-primary",
                "us-east-1",
                ClusterRole::Primary,
                mins(30),
            ),
            cluster(
                "orders-secondary",
                "us-west-2",
                ClusterRole::Standalone,
                mins(2),
            ),
        ];
        world.db_clusters[0].status = "inaccessible".into();
        world.health_checks[0] = check("hc-east", "us-east-1", Health::Unhealthy);
        let p = assess(&orders(), &world, now());
        assert_eq!(p.writer_region.as_deref(), Some("us-west-2"));
        assert_eq!(p.rpo, Verdict::Unprotected);
        assert!(
            p.rpo_side.reason.contains("orders-primary inaccessible"),
            "{}",
            p.rpo_side.reason
        );
    }

    #[test]
    fn unhealthy_primary_sends_traffic_to_the_secondary_record() {
        let mut world = healthy_world();
        world.health_checks[0] = check("hc-east", "us-east-1", Health::Unhealthy);
        let p = assess(&orders(), &world, now());
        assert_eq!(p.primary_health, Health::Unhealthy);
        assert_eq!(p.dr_health, Health::Healthy);
        assert_eq!(p.serving_region.as_deref(), Some("us-west-2"));
        assert_eq!(
            p.availability(),
            Availability::Degraded,
            "the writer is still in us-east-1"
        );
    }

    #[test]
    fn a_tier_too_slow_for_the_rto_breaches_whatever_the_lag() {
        let mut spec = orders();
        spec.tier = DrTier::PilotLight;
        let p = assess(&spec, &healthy_world(), now());
        assert!(!p.tier_meets_rto);
        assert_eq!(p.rpo, Verdict::Ok);
        assert_eq!(p.overall, Verdict::Breach);
    }

    #[test]
    fn a_primary_repointed_at_dr_without_a_health_check_serves() {
        let mut world = healthy_world();
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
