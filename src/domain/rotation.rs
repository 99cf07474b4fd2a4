//! Active-active services (the guide's tier 4): every region serves users
//! through a latency-routed record of its own, each with a health check.
//! Which regions are in rotation now, and what is missing for a region to
//! be able to serve at all.
//!
//! A service is active-active when its tier says so; its `[service.dns]`
//! then names the latency record set (`record`) and each region's target
//! (`primary_target` for the primary region, `secondary_target` for the
//! DR region). A region's latency record is the observed record of that
//! name with a `SetIdentifier`, no failover role, and the region's target.

use serde::Serialize;

use super::environment::ServiceSpec;
use super::lookup::Lookup;
use super::objectives::DrTier;
use super::posture::same_name;
use super::snapshot::{DnsRecordObs, Health};

/// One region of an active-active service, as observed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionRotation {
    pub region: String,
    /// The health check the environment names for the region.
    pub health_check_id: Option<String>,
    /// The health check's status; `Unknown` when none is configured or
    /// observed.
    pub health: Health,
    /// `SetIdentifier` of the region's latency record, when observed.
    pub set_identifier: Option<String>,
    /// The health check the observed record carries.
    pub record_health_check: Option<String>,
    /// Route 53 answers with this region: its record exists and its
    /// record's health check does not fail.
    pub in_rotation: bool,
}

/// Whether `service` is routed by latency across its regions.
pub fn is_active_active(service: &ServiceSpec) -> bool {
    service.tier == DrTier::ActiveActive && service.dns.is_some()
}

/// The regions of an active-active service with their state; `None` for
/// any other service.
pub fn observe(service: &ServiceSpec, snap: &impl Lookup) -> Option<Vec<RegionRotation>> {
    if !is_active_active(service) {
        return None;
    }
    let dns = service.dns.as_ref()?;
    let regions = [
        (&service.primary_region, &dns.primary_target),
        (&service.dr_region, &dns.secondary_target),
    ];
    Some(
        regions
            .into_iter()
            .map(|(region, target)| {
                let record = latency_record(service, snap, target);
                let health_check_id = service
                    .health_checks
                    .iter()
                    .find(|h| &h.region == region)
                    .map(|h| h.id.clone());
                let health = health_check_id
                    .as_ref()
                    .and_then(|id| snap.health_check(id))
                    .map_or(Health::Unknown, |o| o.status);
                let record_health = record
                    .and_then(|r| r.health_check_id.as_ref())
                    .and_then(|id| snap.health_check(id))
                    .map(|o| o.status);
                RegionRotation {
                    region: region.clone(),
                    health_check_id,
                    health,
                    set_identifier: record.and_then(|r| r.set_identifier.clone()),
                    record_health_check: record.and_then(|r| r.health_check_id.clone()),
                    in_rotation: record.is_some() && record_health != Some(Health::Unhealthy),
                }
            })
            .collect(),
    )
}

fn latency_record<'a>(
    service: &ServiceSpec,
    snap: &'a impl Lookup,
    target: &str,
) -> Option<&'a DnsRecordObs> {
    let dns = service.dns.as_ref()?;
    snap.dns_records(&dns.zone_id, &dns.record)
        .into_iter()
        .find(|r| {
            r.failover.is_none() && r.set_identifier.is_some() && same_name(&r.target, target)
        })
}

/// What keeps one region of an active-active service from serving safely.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RotationGap {
    pub region: String,
    /// The problem with its evidence, in words.
    pub problem: String,
}

/// Readiness of an active-active service's routing: every region has a
/// health check (configured and observed), a latency record, and that
/// record is tied to the region's health check (without one, Route 53
/// keeps sending users to the region while it fails). Empty when nothing
/// is missing or the service is not active-active.
pub fn gaps(service: &ServiceSpec, snap: &impl Lookup) -> Vec<RotationGap> {
    let Some(regions) = observe(service, snap) else {
        return Vec::new();
    };
    let record = service.dns.as_ref().map_or("", |d| d.record.as_str());
    let mut out = Vec::new();
    for r in regions {
        let mut gap = |problem: String| {
            out.push(RotationGap {
                region: r.region.clone(),
                problem,
            })
        };
        match &r.health_check_id {
            None => gap(format!(
                "no health check configured for {} (add a [[service.health_checks]] in {})",
                r.region, r.region
            )),
            Some(id) if snap.health_check(id).is_none() => {
                gap(format!("health check {id} was not observed in Route 53"))
            }
            Some(_) => {}
        }
        match (
            &r.set_identifier,
            &r.record_health_check,
            &r.health_check_id,
        ) {
            (None, _, _) => gap(format!(
                "no latency record of {record} points at {}'s target",
                r.region
            )),
            (Some(set), None, _) => gap(format!(
                "latency record {record} ({set}) has no health check: Route 53 keeps {} in rotation while it fails",
                r.region
            )),
            (Some(set), Some(on_record), Some(expected)) if on_record != expected => gap(format!(
                "latency record {record} ({set}) carries health check {on_record}, not {}'s {expected}",
                r.region
            )),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::{HealthCheckObs, Snapshot};
    use crate::domain::testing::{active_active, check, healthy_world, latency_world, orders};

    fn set_health(world: &mut Snapshot, id: &str, health: Health) {
        let h: &mut HealthCheckObs = world.health_checks.iter_mut().find(|h| h.id == id).unwrap();
        *h = check(id, &h.region.clone(), health);
    }

    #[test]
    fn each_region_is_in_rotation_while_its_record_and_check_are() {
        let service = active_active();
        let mut world = latency_world();
        let r = observe(&service, &world).unwrap();
        assert!(r.iter().all(|r| r.in_rotation), "{r:?}");
        assert!(gaps(&service, &world).is_empty());

        set_health(&mut world, "hc-east", Health::Unhealthy);
        let r = observe(&service, &world).unwrap();
        assert_eq!(
            r.iter()
                .map(|r| (r.region.as_str(), r.in_rotation))
                .collect::<Vec<_>>(),
            [("us-east-1", false), ("us-west-2", true)]
        );
    }

    #[test]
    fn a_failover_pair_or_another_tier_is_not_read_as_latency_routing() {
        assert!(observe(&orders(), &latency_world()).is_none());
        let r = observe(&active_active(), &healthy_world()).unwrap();
        assert!(
            r.iter()
                .all(|r| !r.in_rotation && r.set_identifier.is_none())
        );
    }

    #[test]
    fn gaps_name_the_region_and_the_evidence() {
        let mut service = active_active();
        service.health_checks.retain(|h| h.region != "us-west-2");
        let mut world = latency_world();
        world.dns_records[0].health_check_id = None;
        let found = gaps(&service, &world);
        assert_eq!(
            found,
            [
                RotationGap {
                    region: "us-east-1".into(),
                    problem: "latency record api.example.com. (us-east-1) has no health check: Route 53 keeps us-east-1 in rotation while it fails".into()
                },
                RotationGap {
                    region: "us-west-2".into(),
                    problem: "no health check configured for us-west-2 (add a [[service.health_checks]] in us-west-2)".into()
                },
            ]
        );
        world.dns_records.remove(1);
        assert!(
            gaps(&service, &world).iter().any(|g| g.problem
                == "no latency record of api.example.com. points at us-west-2's target"),
            "{:?}",
            gaps(&service, &world)
        );
    }
}
