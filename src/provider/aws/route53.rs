//! Route 53 reads (health checks and the record sets traffic fails over with)
//! and their mapping into observations. Route 53's API lives in us-east-1.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    HealthCheck, HealthCheckObservation, ResourceRecordSet, ResourceRecordSetFailover, RrType,
};

use super::errors::from_sdk;
use crate::domain::environment::HealthCheckSpec;
use crate::domain::snapshot::{
    CheckerRegion, DnsRecordObs, FailoverRole, Health, HealthCheckObs, SourceError,
};

/// Route 53 counts a check healthy when more than this share of its checkers do.
pub const HEALTHY_CHECKER_SHARE: f64 = 0.18;

/// Record sets read per page; a failover pair is two of them.
const RECORDS_PAGE: i32 = 100;
/// A name with more record sets than this many pages is not a failover record.
const MAX_RECORD_PAGES: usize = 5;
/// Pages of one zone read, during discovery and each poll.
pub const MAX_ZONE_PAGES: usize = 50;
/// `ListHealthChecks` pages (100 checks each, the API's maximum) read at most.
const MAX_HEALTH_CHECK_PAGES: usize = 100;
/// Health checkers Route 53 uses when a check names no regions: one per
/// default checker region. The checker count shown before any per-checker
/// read is this (or the configured regions), not the checkers' own count.
pub const DEFAULT_CHECKER_REGIONS: u32 = 8;

/// Every health check of the account with its configuration, all pages.
/// Configuration changes rarely: the observer re-reads it every few minutes,
/// never per poll.
pub async fn list_health_checks(client: &Client) -> Result<Vec<HealthCheck>, SourceError> {
    let mut checks = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_HEALTH_CHECK_PAGES {
        let page = client
            .list_health_checks()
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| from_sdk("ListHealthChecks", e))?;
        checks.extend_from_slice(page.health_checks());
        marker = page
            .is_truncated()
            .then(|| page.next_marker().map(str::to_string))
            .flatten();
        if marker.is_none() {
            break;
        }
    }
    Ok(checks)
}

/// What each of a check's checkers last saw (one call per check).
pub async fn read_checker_status(
    client: &Client,
    id: &str,
) -> Result<Vec<HealthCheckObservation>, SourceError> {
    let out = client
        .get_health_check_status()
        .health_check_id(id)
        .send()
        .await
        .map_err(|e| from_sdk("GetHealthCheckStatus", e))?;
    Ok(out.health_check_observations().to_vec())
}

/// A checker is healthy when its last report succeeded.
fn checker_healthy(o: &HealthCheckObservation) -> bool {
    o.status_report()
        .and_then(|r| r.status())
        .is_some_and(|s| s.starts_with("Success"))
}

/// `(healthy, total)` checkers.
pub fn checker_counts(observations: &[HealthCheckObservation]) -> (u32, u32) {
    let total = observations.len();
    let healthy = observations.iter().filter(|o| checker_healthy(o)).count();
    (
        u32::try_from(healthy).unwrap_or(u32::MAX),
        u32::try_from(total).unwrap_or(u32::MAX),
    )
}

/// The checkers grouped by the region they check from, in region order;
/// Route 53 runs several checkers in each.
pub fn checkers_by_region(observations: &[HealthCheckObservation]) -> Vec<CheckerRegion> {
    let mut regions: std::collections::BTreeMap<&str, (u32, u32)> = Default::default();
    for o in observations {
        let region = o.region().map_or("unnamed region", |r| r.as_str());
        let (healthy, total) = regions.entry(region).or_default();
        *total = total.saturating_add(1);
        *healthy = healthy.saturating_add(u32::from(checker_healthy(o)));
    }
    regions
        .into_iter()
        .map(|(region, (healthy, total))| CheckerRegion {
            region: region.to_string(),
            healthy,
            total,
        })
        .collect()
}

/// Whether `GetHealthCheckStatus` can read the check: it cannot read a
/// calculated one (the API reference says so), whose status comes from
/// its children.
pub fn readable_per_checker(check: Option<&HealthCheck>) -> bool {
    check
        .and_then(|c| c.health_check_config())
        .is_none_or(|c| c.r#type() != &aws_sdk_route53::types::HealthCheckType::Calculated)
}

/// The status Route 53 acts on: a disabled check counts as healthy, an
/// inverted one flips what its checkers see.
pub fn effective_health(healthy: u32, total: u32, disabled: bool, inverted: bool) -> Health {
    if disabled {
        return Health::Healthy;
    }
    if total == 0 {
        return Health::Unknown;
    }
    let up = f64::from(healthy) / f64::from(total) > HEALTHY_CHECKER_SHARE;
    match up != inverted {
        true => Health::Healthy,
        false => Health::Unhealthy,
    }
}

/// A check's observation from its configuration alone: what Route 53 says
/// about it is filled in by [`map_health_check`] or [`map_from_metrics`].
fn configured(spec: &HealthCheckSpec, check: Option<&HealthCheck>) -> HealthCheckObs {
    let config = check.and_then(|c| c.health_check_config());
    HealthCheckObs {
        id: spec.id.clone(),
        region: spec.region.clone(),
        fqdn: config
            .and_then(|c| c.fully_qualified_domain_name().or(c.ip_address()))
            .unwrap_or(&spec.fqdn)
            .to_string(),
        status: Health::Unknown,
        checkers_healthy: 0,
        checkers_total: 0,
        failure_threshold: config
            .and_then(|c| c.failure_threshold())
            .and_then(|t| u32::try_from(t).ok())
            .unwrap_or(spec.failure_threshold),
        disabled: config.and_then(|c| c.disabled()).unwrap_or(false),
        inverted: config.and_then(|c| c.inverted()).unwrap_or(false),
    }
}

/// From each checker's last report (`GetHealthCheckStatus`).
pub fn map_health_check(
    spec: &HealthCheckSpec,
    check: Option<&HealthCheck>,
    observations: &[HealthCheckObservation],
) -> HealthCheckObs {
    let mut obs = configured(spec, check);
    let (checkers_healthy, checkers_total) = checker_counts(observations);
    obs.status = effective_health(checkers_healthy, checkers_total, obs.disabled, obs.inverted);
    obs.checkers_healthy = checkers_healthy;
    obs.checkers_total = checkers_total;
    obs
}

/// The newest `AWS/Route53` datapoints of one check.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HealthMetrics {
    /// `HealthCheckStatus`: 1 healthy, 0 unhealthy, as Route 53 acts on it.
    pub status: Option<f64>,
    /// `HealthCheckPercentageHealthy`: the share of checkers that see the
    /// endpoint healthy, 0 to 100.
    pub percentage_healthy: Option<f64>,
}

impl HealthMetrics {
    /// Every checker sees the endpoint healthy: nothing a per-checker read
    /// would add.
    pub fn fully_healthy(&self) -> bool {
        matches!((self.status, self.percentage_healthy), (Some(s), Some(p)) if s >= 1.0 && p >= 100.0)
    }
}

/// Checkers a check has when none has been counted: one per region it
/// names, or per default checker region.
pub fn checker_regions(check: Option<&HealthCheck>) -> u32 {
    let named = check
        .and_then(|c| c.health_check_config())
        .map_or(0, |c| c.regions().len());
    match u32::try_from(named) {
        Ok(0) | Err(_) => DEFAULT_CHECKER_REGIONS,
        Ok(n) => n,
    }
}

/// From CloudWatch's metrics alone: the checker count is the last one a
/// per-checker read gave (`known_total`), else [`checker_regions`]; the
/// healthy count is the percentage of it. `None` without both metrics.
pub fn map_from_metrics(
    spec: &HealthCheckSpec,
    check: Option<&HealthCheck>,
    metrics: &HealthMetrics,
    known_total: Option<u32>,
) -> Option<HealthCheckObs> {
    let (status, percentage) = (metrics.status?, metrics.percentage_healthy?);
    if !status.is_finite() || !percentage.is_finite() {
        return None;
    }
    let mut obs = configured(spec, check);
    let total = known_total.unwrap_or_else(|| checker_regions(check));
    let share = (percentage / 100.0).clamp(0.0, 1.0);
    obs.checkers_total = total;
    obs.checkers_healthy = (share * f64::from(total)).round() as u32;
    // The status metric is Route 53's own verdict, inversion included; a
    // disabled check is healthy to Route 53 whatever it reports.
    obs.status = match obs.disabled || status >= 1.0 {
        true => Health::Healthy,
        false => Health::Unhealthy,
    };
    Some(obs)
}

/// DNS names compare case-insensitively and with or without the final dot.
pub fn normalize_name(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    match lower.ends_with('.') {
        true => lower,
        false => format!("{lower}."),
    }
}

/// Zone ids come back as `/hostedzone/Z123`; the API accepts either form.
pub fn bare_zone_id(zone_id: &str) -> &str {
    zone_id.rsplit('/').next().unwrap_or(zone_id)
}

/// Every record set named `name` in the zone (a failover pair, usually).
pub async fn read_records(
    client: &Client,
    zone_id: &str,
    name: &str,
) -> Result<Vec<ResourceRecordSet>, SourceError> {
    let wanted = normalize_name(name);
    let mut found = Vec::new();
    let mut next: Option<(String, Option<RrType>, Option<String>)> =
        Some((wanted.clone(), None, None));
    for _ in 0..MAX_RECORD_PAGES {
        let Some((start_name, start_type, start_id)) = next.take() else {
            break;
        };
        let page = client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .start_record_name(start_name)
            .set_start_record_type(start_type)
            .set_start_record_identifier(start_id)
            .max_items(RECORDS_PAGE)
            .send()
            .await
            .map_err(|e| from_sdk("ListResourceRecordSets", e))?;
        // Listing starts at the name, so the first other name ends its sets.
        let mut past_name = false;
        for set in page.resource_record_sets() {
            if normalize_name(set.name()) == wanted {
                found.push(set.clone());
            } else {
                past_name = true;
                break;
            }
        }
        if past_name || !page.is_truncated() {
            break;
        }
        next = page.next_record_name().map(|n| {
            (
                n.to_string(),
                page.next_record_type().cloned(),
                page.next_record_identifier().map(str::to_string),
            )
        });
    }
    Ok(found)
}

/// Every record set of a zone, up to [`MAX_ZONE_PAGES`] pages (discovery).
pub async fn read_all_records(
    client: &Client,
    zone_id: &str,
) -> Result<Vec<ResourceRecordSet>, SourceError> {
    let mut sets = Vec::new();
    let mut next: Option<(String, Option<RrType>, Option<String>)> = None;
    for _ in 0..MAX_ZONE_PAGES {
        let (start_name, start_type, start_id) = match next.take() {
            Some((n, t, i)) => (Some(n), t, i),
            None => (None, None, None),
        };
        let page = client
            .list_resource_record_sets()
            .hosted_zone_id(zone_id)
            .set_start_record_name(start_name)
            .set_start_record_type(start_type)
            .set_start_record_identifier(start_id)
            .max_items(RECORDS_PAGE)
            .send()
            .await
            .map_err(|e| from_sdk("ListResourceRecordSets", e))?;
        sets.extend_from_slice(page.resource_record_sets());
        if !page.is_truncated() {
            break;
        }
        next = page.next_record_name().map(|n| {
            (
                n.to_string(),
                page.next_record_type().cloned(),
                page.next_record_identifier().map(str::to_string),
            )
        });
        if next.is_none() {
            break;
        }
    }
    Ok(sets)
}

pub fn failover_role(f: Option<&ResourceRecordSetFailover>) -> Option<FailoverRole> {
    match f? {
        ResourceRecordSetFailover::Primary => Some(FailoverRole::Primary),
        ResourceRecordSetFailover::Secondary => Some(FailoverRole::Secondary),
        _ => None,
    }
}

pub fn map_record(zone_id: &str, set: &ResourceRecordSet) -> DnsRecordObs {
    let target = set
        .alias_target()
        .map(|a| a.dns_name().to_string())
        .or_else(|| {
            set.resource_records()
                .first()
                .map(|r| r.value().to_string())
        })
        .unwrap_or_default();
    DnsRecordObs {
        zone_id: bare_zone_id(zone_id).to_string(),
        name: set.name().to_string(),
        record_type: set.r#type().as_str().to_string(),
        set_identifier: set.set_identifier().map(str::to_string),
        failover: failover_role(set.failover()),
        target,
        ttl: set.ttl().and_then(|t| u32::try_from(t).ok()),
        health_check_id: set.health_check_id().map(str::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::{
        AliasTarget, HealthCheckConfig, HealthCheckType, ResourceRecord, StatusReport,
    };

    fn observation(status: Option<&str>) -> HealthCheckObservation {
        HealthCheckObservation::builder()
            .set_status_report(status.map(|s| StatusReport::builder().status(s).build()))
            .build()
    }

    fn spec() -> HealthCheckSpec {
        HealthCheckSpec {
            id: "hc-1".into(),
            region: "us-east-1".into(),
            fqdn: "api.us-east-1.example.com".into(),
            failure_threshold: 3,
        }
    }

    #[test]
    fn a_calculated_check_is_never_read_per_checker() {
        let of_type = |t: HealthCheckType| {
            HealthCheck::builder()
                .id("hc-1")
                .caller_reference("r")
                .health_check_version(1)
                .health_check_config(HealthCheckConfig::builder().r#type(t).build().unwrap())
                .build()
                .unwrap()
        };
        assert!(!readable_per_checker(Some(&of_type(
            HealthCheckType::Calculated
        ))));
        assert!(readable_per_checker(Some(&of_type(HealthCheckType::Https))));
        assert!(
            readable_per_checker(None),
            "a check not listed yet is tried"
        );
    }

    #[test]
    fn checkers_without_a_report_are_not_healthy() {
        let obs = [
            observation(Some("Success: HTTP Status Code 200")),
            observation(Some("Failure: timed out")),
            observation(None),
        ];
        assert_eq!(checker_counts(&obs), (1, 3));
    }

    #[test]
    fn disabled_counts_healthy_and_inverted_flips() {
        assert_eq!(effective_health(0, 8, true, false), Health::Healthy);
        assert_eq!(effective_health(0, 8, false, true), Health::Healthy);
        assert_eq!(effective_health(8, 8, false, true), Health::Unhealthy);
        assert_eq!(effective_health(0, 0, false, false), Health::Unknown);
        assert_eq!(effective_health(2, 8, false, false), Health::Healthy);
        assert_eq!(effective_health(1, 8, false, false), Health::Unhealthy);
    }

    #[test]
    fn a_check_without_config_keeps_the_environments_values() {
        let obs = map_health_check(&spec(), None, &[]);
        assert_eq!(obs.fqdn, "api.us-east-1.example.com");
        assert_eq!(obs.failure_threshold, 3);
        assert_eq!(obs.status, Health::Unknown);
        assert!(!obs.disabled && !obs.inverted);
    }

    #[test]
    fn the_checks_own_config_wins() {
        let check = HealthCheck::builder()
            .id("hc-1")
            .caller_reference("r")
            .health_check_version(1)
            .health_check_config(
                HealthCheckConfig::builder()
                    .r#type(HealthCheckType::Tcp)
                    .ip_address("192.0.2.10")
                    .failure_threshold(7)
                    .disabled(true)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let obs = map_health_check(&spec(), Some(&check), &[observation(Some("Failure"))]);
        assert_eq!(obs.fqdn, "192.0.2.10");
        assert_eq!(obs.failure_threshold, 7);
        assert!(obs.disabled);
        assert_eq!(
            obs.status,
            Health::Healthy,
            "a disabled check is healthy to Route 53"
        );
        assert_eq!((obs.checkers_healthy, obs.checkers_total), (0, 1));
    }

    #[test]
    fn records_map_cnames_aliases_and_unknown_failover_values() {
        let cname = ResourceRecordSet::builder()
            .name("api.example.com.")
            .r#type(RrType::Cname)
            .set_identifier("primary")
            .failover(ResourceRecordSetFailover::Primary)
            .ttl(60)
            .resource_records(
                ResourceRecord::builder()
                    .value("api.us-east-1.example.com")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let obs = map_record("/hostedzone/Z1", &cname);
        assert_eq!(obs.zone_id, "Z1");
        assert_eq!(obs.failover, Some(FailoverRole::Primary));
        assert_eq!(obs.target, "api.us-east-1.example.com");
        assert_eq!(obs.ttl, Some(60));

        let alias = ResourceRecordSet::builder()
            .name("api.example.com.")
            .r#type(RrType::A)
            .failover(ResourceRecordSetFailover::from("TERTIARY"))
            .alias_target(
                AliasTarget::builder()
                    .dns_name("lb.us-west-2.elb.amazonaws.com.")
                    .hosted_zone_id("Z2")
                    .evaluate_target_health(true)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let obs = map_record("Z1", &alias);
        assert_eq!(obs.failover, None, "unknown failover value");
        assert_eq!(obs.target, "lb.us-west-2.elb.amazonaws.com.");
        assert_eq!(obs.ttl, None);
        assert_eq!(obs.record_type, "A");
    }

    #[test]
    fn names_compare_without_case_or_final_dot() {
        assert_eq!(normalize_name("API.Example.com"), "api.example.com.");
        assert_eq!(normalize_name("api.example.com."), "api.example.com.");
    }
}
