//! The RTO side of posture: is the service serving its users now?
//!
//! `UP`, `DEGRADED` (serving, but DNS answers with a region whose database
//! cannot take writes, writes are accepted in two regions, or a good part
//! of the checkers fail) or `DOWN` (the serving region's health checks
//! fail, or no writer anywhere), from what one poll observed. Since when a
//! state holds comes from the monitor's history (see `monitor::tracking`).
//!
//! An active-active service (see `rotation`) is up while any region is in
//! rotation and its data takes writes, and degraded while some region is
//! out.

use serde::Serialize;

use super::environment::ServiceSpec;
use super::lookup::Lookup;
use super::posture::{region_health, serving_region};
use super::rotation::{self, RegionRotation};
use super::snapshot::Health;
use super::topology::Topology;

/// Share of checkers failing from which a healthy endpoint counts as
/// degraded. One checker location failing is that location's network
/// (Route 53 itself calls an endpoint healthy while 18 % of checkers do).
pub const DEGRADED_CHECKER_SHARE: f64 = 1.0 / 3.0;

/// Ordered from best to worst; `Unknown` sorts apart (see [`Availability::rank`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Availability {
    Up,
    Degraded,
    Down,
    /// Not enough was observed to say.
    Unknown,
}

impl Availability {
    pub fn label(self) -> &'static str {
        match self {
            Availability::Up => "UP",
            Availability::Degraded => "DEGRADED",
            Availability::Down => "DOWN",
            Availability::Unknown => "UNKNOWN",
        }
    }
}

/// Availability ordered by how bad it is, for hysteresis; `Unknown` is
/// never fed to it (the last known state holds instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank(u8);

impl Availability {
    pub fn rank(self) -> Option<Rank> {
        match self {
            Availability::Up => Some(Rank(0)),
            Availability::Degraded => Some(Rank(1)),
            Availability::Down => Some(Rank(2)),
            Availability::Unknown => None,
        }
    }

    pub fn from_rank(rank: Rank) -> Availability {
        match rank.0 {
            0 => Availability::Up,
            1 => Availability::Degraded,
            _ => Availability::Down,
        }
    }
}

/// What one poll says about a service's availability, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct AvailabilityObs {
    pub state: Availability,
    pub reason: String,
    /// Where DNS sends users (or, without DNS, where the writer is).
    pub serving_region: Option<String>,
    /// Where writes are accepted now, from the observed roles.
    pub writer_region: Option<String>,
}

pub fn assess(
    service: &ServiceSpec,
    snap: &impl Lookup,
    topology: Option<&Topology>,
) -> AvailabilityObs {
    if let Some(regions) = rotation::observe(service, snap) {
        return assess_active_active(&regions, topology);
    }
    let dns_region = serving_region(service, snap);
    let writer = topology.and_then(|t| t.writer(dns_region.as_deref()));
    let writer_region = writer.map(|w| w.region.clone());
    let serving = dns_region.clone().or_else(|| {
        if service.dns.is_some() {
            None
        } else {
            writer_region
                .clone()
                .or_else(|| {
                    topology
                        .and_then(|t| t.role_holder())
                        .map(|m| m.region.clone())
                })
                .or_else(|| Some(service.primary_region.clone()))
        }
    });
    let obs = |state, reason: String| AvailabilityObs {
        state,
        reason,
        serving_region: serving.clone(),
        writer_region: writer_region.clone(),
    };
    let Some(region) = serving.as_deref() else {
        return obs(Availability::Unknown, "DNS answer not observed".to_string());
    };
    let checks: Vec<_> = service
        .health_checks
        .iter()
        .filter(|h| h.region == region)
        .filter_map(|h| snap.health_check(&h.id))
        .collect();
    let healthy: u32 = checks.iter().map(|c| c.checkers_healthy).sum();
    let total: u32 = checks.iter().map(|c| c.checkers_total).sum();
    if region_health(service, snap, region) == Health::Unhealthy {
        return obs(
            Availability::Down,
            format!("health checks in {region} fail ({healthy}/{total} checkers healthy)"),
        );
    }
    if let Some(topology) = topology {
        if topology.members.is_empty() {
            return obs(Availability::Unknown, "databases not observed".to_string());
        }
        let Some(writer) = writer else {
            let why = match topology.role_holder() {
                Some(m) => format!("no writer: {} ({}) is {}", m.id, m.region, m.status),
                None => "no writer among the observed databases".to_string(),
            };
            return obs(Availability::Down, why);
        };
        let writers = topology.accepting_writers(Some(region));
        if topology.single_writer
            && let Some(second) = writers.iter().find(|m| m.region != writer.region)
        {
            return obs(
                Availability::Degraded,
                format!(
                    "writes accepted in two regions: {} ({}) and {} ({})",
                    writer.id, writer.region, second.id, second.region
                ),
            );
        }
        if topology.single_writer && writer.region != region {
            return obs(
                Availability::Degraded,
                format!(
                    "DNS sends users to {region}, whose database cannot take writes (writer {} in {})",
                    writer.id, writer.region
                ),
            );
        }
    }
    let configured = service.health_checks.iter().any(|h| h.region == region);
    if configured && checks.is_empty() {
        return obs(
            Availability::Unknown,
            format!("health checks in {region} not observed"),
        );
    }
    if total > 0
        && f64::from(total - healthy.min(total)) >= f64::from(total) * DEGRADED_CHECKER_SHARE
    {
        return obs(
            Availability::Degraded,
            format!(
                "{}/{total} checkers fail in {region}",
                total - healthy.min(total)
            ),
        );
    }
    let why = match (&writer_region, configured) {
        (Some(w), true) => format!("serving from {region}, writer in {w}, health checks pass"),
        (Some(w), false) => format!("writer in {w} takes writes (no health check in {region})"),
        (None, true) => format!("serving from {region}, health checks pass"),
        (None, false) => format!("serving from {region} (no health check there)"),
    };
    obs(Availability::Up, why)
}

/// Every region in rotation serves users; writes go to the one writer
/// wherever it is, so a service without a writer is down in every region.
fn assess_active_active(
    regions: &[RegionRotation],
    topology: Option<&Topology>,
) -> AvailabilityObs {
    let writer = topology.and_then(|t| t.writer(None));
    let writer_region = writer.map(|w| w.region.clone());
    let serving: Vec<&RegionRotation> = regions.iter().filter(|r| r.in_rotation).collect();
    let out: Vec<&RegionRotation> = regions.iter().filter(|r| !r.in_rotation).collect();
    let serving_region = serving
        .iter()
        .find(|r| Some(&r.region) == writer_region.as_ref())
        .or(serving.first())
        .map(|r| r.region.clone());
    let obs = |state, reason: String| AvailabilityObs {
        state,
        reason,
        serving_region: serving_region.clone(),
        writer_region: writer_region.clone(),
    };
    let why_out = |r: &RegionRotation| match (&r.set_identifier, &r.record_health_check) {
        (None, _) => format!("{} has no latency record", r.region),
        (Some(_), Some(id)) => format!("{} out of rotation (health check {id} fails)", r.region),
        (Some(_), None) => format!("{} out of rotation", r.region),
    };
    if regions.iter().all(|r| r.set_identifier.is_none()) {
        return obs(
            Availability::Unknown,
            "latency records not observed".to_string(),
        );
    }
    if serving.is_empty() {
        let reasons: Vec<String> = out.iter().map(|r| why_out(r)).collect();
        return obs(
            Availability::Down,
            format!("no region in rotation: {}", reasons.join("; ")),
        );
    }
    if let Some(topology) = topology {
        if topology.members.is_empty() {
            return obs(Availability::Unknown, "databases not observed".to_string());
        }
        if writer.is_none() {
            let why = match topology.role_holder() {
                Some(m) => format!("no writer: {} ({}) is {}", m.id, m.region, m.status),
                None => "no writer among the observed databases".to_string(),
            };
            return obs(Availability::Down, why);
        }
    }
    let names: Vec<&str> = serving.iter().map(|r| r.region.as_str()).collect();
    let writes = writer_region
        .as_deref()
        .map(|w| format!(", writer in {w}"))
        .unwrap_or_default();
    if !out.is_empty() {
        let reasons: Vec<String> = out.iter().map(|r| why_out(r)).collect();
        return obs(
            Availability::Degraded,
            format!(
                "{}; serving from {}{writes}",
                reasons.join("; "),
                names.join(", ")
            ),
        );
    }
    obs(
        Availability::Up,
        format!("serving from {}{writes}", names.join(" and ")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::{Health, Snapshot};
    use crate::domain::testing::{
        active_active, check, failed_over, healthy_world, latency_world, orders,
    };
    use crate::domain::topology;

    fn assess_orders(world: &Snapshot) -> AvailabilityObs {
        let t = topology::observe(&orders(), world);
        assess(&orders(), world, t.as_ref())
    }

    #[test]
    fn a_healthy_world_is_up_with_the_writer_where_dns_points() {
        let a = assess_orders(&healthy_world());
        assert_eq!(a.state, Availability::Up, "{a:?}");
        assert_eq!(a.writer_region.as_deref(), Some("us-east-1"));
    }

    #[test]
    fn failing_checks_in_the_serving_region_are_down() {
        let mut world = healthy_world();
        // Both regions' checks fail: DNS falls back to the secondary, which fails too.
        world.health_checks[0] = check("hc-east", "us-east-1", Health::Unhealthy);
        world.health_checks[1] = check("hc-west", "us-west-2", Health::Unhealthy);
        let a = assess_orders(&world);
        assert_eq!(a.state, Availability::Down);
        assert!(
            a.reason.contains("health checks in us-west-2 fail"),
            "{}",
            a.reason
        );
    }

    #[test]
    fn an_unreachable_writer_is_down_even_while_checks_still_pass() {
        let mut world = healthy_world();
        world.db_clusters[0].status = "inaccessible".into();
        let a = assess_orders(&world);
        assert_eq!(a.state, Availability::Down);
        assert_eq!(a.writer_region, None);
        assert!(
            a.reason
                .contains("orders-primary (us-east-1) is inaccessible"),
            "{}",
            a.reason
        );
    }

    #[test]
    fn dns_on_the_read_only_region_is_degraded() {
        let mut world = healthy_world();
        world.health_checks[0] = check("hc-east", "us-east-1", Health::Unhealthy);
        world.health_checks[0].checkers_healthy = 16;
        world.health_checks[0].status = Health::Unhealthy;
        // East's app answers again but DNS already moved west, where the
        // database is still a read-only secondary.
        let a = assess_orders(&world);
        assert_eq!(a.serving_region.as_deref(), Some("us-west-2"));
        assert_eq!(a.state, Availability::Degraded, "{a:?}");
        assert!(a.reason.contains("cannot take writes"), "{}", a.reason);
    }

    #[test]
    fn after_failover_it_is_up_in_the_new_region() {
        let a = assess_orders(&failed_over());
        assert_eq!(a.state, Availability::Up, "{a:?}");
        assert_eq!(a.writer_region.as_deref(), Some("us-west-2"));
    }

    #[test]
    fn a_third_of_the_checkers_failing_is_degraded_one_is_not() {
        let mut world = healthy_world();
        world.health_checks[0].checkers_healthy = 15;
        assert_eq!(assess_orders(&world).state, Availability::Up);
        world.health_checks[0].checkers_healthy = 10;
        let a = assess_orders(&world);
        assert_eq!(a.state, Availability::Degraded);
        assert_eq!(a.reason, "6/16 checkers fail in us-east-1");
    }

    #[test]
    fn an_active_active_service_is_up_while_any_region_serves() {
        let service = active_active();
        let assess_aa = |world: &Snapshot| {
            let t = topology::observe(&service, world);
            assess(&service, world, t.as_ref())
        };
        let mut world = latency_world();
        let a = assess_aa(&world);
        assert_eq!(a.state, Availability::Up, "{a:?}");
        assert_eq!(
            a.reason,
            "serving from us-east-1 and us-west-2, writer in us-east-1"
        );

        world.health_checks[1] = check("hc-west", "us-west-2", Health::Unhealthy);
        let a = assess_aa(&world);
        assert_eq!(a.state, Availability::Degraded, "{a:?}");
        assert_eq!(
            a.reason,
            "us-west-2 out of rotation (health check hc-west fails); serving from us-east-1, writer in us-east-1"
        );

        // The writer's region out of rotation still serves reads elsewhere
        // and writes to its database: degraded, not down.
        let mut world = latency_world();
        world.health_checks[0] = check("hc-east", "us-east-1", Health::Unhealthy);
        let a = assess_aa(&world);
        assert_eq!(a.state, Availability::Degraded, "{a:?}");
        assert_eq!(a.serving_region.as_deref(), Some("us-west-2"));

        world.health_checks[1] = check("hc-west", "us-west-2", Health::Unhealthy);
        let a = assess_aa(&world);
        assert_eq!(a.state, Availability::Down, "{a:?}");
        assert!(
            a.reason.starts_with("no region in rotation: "),
            "{}",
            a.reason
        );

        let mut world = latency_world();
        world.db_clusters[0].status = "inaccessible".into();
        assert_eq!(assess_aa(&world).state, Availability::Down);
        world.dns_records.clear();
        assert_eq!(assess_aa(&world).state, Availability::Unknown);
    }

    #[test]
    fn nothing_observed_is_unknown_not_up() {
        let a = assess_orders(&Snapshot::default());
        assert_eq!(a.state, Availability::Unknown);
    }
}
