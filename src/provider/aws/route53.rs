//! Route 53 reads (health checks and the record sets traffic fails over with)
//! and their mapping into observations. Route 53's API lives in us-east-1.

use aws_sdk_route53::Client;
use aws_sdk_route53::types::{
    HealthCheck, HealthCheckObservation, ResourceRecordSet, ResourceRecordSetFailover, RrType,
};

use super::errors::from_sdk;
use crate::domain::environment::HealthCheckSpec;
use crate::domain::snapshot::{DnsRecordObs, FailoverRole, Health, HealthCheckObs, SourceError};

/// Route 53 counts a check healthy when more than this share of its checkers do.
pub const HEALTHY_CHECKER_SHARE: f64 = 0.18;

/// Record sets read per page; a failover pair is two of them.
const RECORDS_PAGE: i32 = 100;
/// A name with more record sets than this many pages is not a failover record.
const MAX_RECORD_PAGES: usize = 5;
/// Pages of one zone read during discovery.
pub const MAX_ZONE_PAGES: usize = 50;

pub async fn read_health_check(
    client: &Client,
    spec: &HealthCheckSpec,
) -> Result<HealthCheckObs, SourceError> {
    let (check, status) = tokio::try_join!(
        async {
            client
                .get_health_check()
                .health_check_id(&spec.id)
                .send()
                .await
                .map_err(|e| from_sdk("GetHealthCheck", e))
        },
        async {
            client
                .get_health_check_status()
                .health_check_id(&spec.id)
                .send()
                .await
                .map_err(|e| from_sdk("GetHealthCheckStatus", e))
        },
    )?;
    Ok(map_health_check(
        spec,
        check.health_check(),
        status.health_check_observations(),
    ))
}

/// `(healthy, total)` checkers; a checker is healthy when its last report succeeded.
pub fn checker_counts(observations: &[HealthCheckObservation]) -> (u32, u32) {
    let total = observations.len();
    let healthy = observations
        .iter()
        .filter(|o| {
            o.status_report()
                .and_then(|r| r.status())
                .is_some_and(|s| s.starts_with("Success"))
        })
        .count();
    (
        u32::try_from(healthy).unwrap_or(u32::MAX),
        u32::try_from(total).unwrap_or(u32::MAX),
    )
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

pub fn map_health_check(
    spec: &HealthCheckSpec,
    check: Option<&HealthCheck>,
    observations: &[HealthCheckObservation],
) -> HealthCheckObs {
    let config = check.and_then(|c| c.health_check_config());
    let disabled = config.and_then(|c| c.disabled()).unwrap_or(false);
    let inverted = config.and_then(|c| c.inverted()).unwrap_or(false);
    let (checkers_healthy, checkers_total) = checker_counts(observations);
    HealthCheckObs {
        id: spec.id.clone(),
        region: spec.region.clone(),
        fqdn: config
            .and_then(|c| c.fully_qualified_domain_name().or(c.ip_address()))
            .unwrap_or(&spec.fqdn)
            .to_string(),
        status: effective_health(checkers_healthy, checkers_total, disabled, inverted),
        checkers_healthy,
        checkers_total,
        failure_threshold: config
            .and_then(|c| c.failure_threshold())
            .and_then(|t| u32::try_from(t).ok())
            .unwrap_or(spec.failure_threshold),
        disabled,
        inverted,
    }
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
