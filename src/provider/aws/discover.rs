//! Discovery: an environment built from what the account holds, for
//! sessions started without an environment file.
//!
//! - Regions: the home region plus every region a global cluster member or a
//!   cross-region read replica lives in.
//! - Services: one per Aurora global database (writer region primary, first
//!   secondary's region DR; a global database with no secondary is watched for
//!   its backups) and one per instance with a cross-region read replica.
//! - Tier guess: a secondary cluster with no instances (headless) is pilot
//!   light; any other replicated service warm standby; backups only,
//!   backup-and-restore. Objectives are the tier's defaults
//!   ([`default_objectives`]), which an environment file replaces.
//! - DNS: each Route 53 failover pair (PRIMARY and SECONDARY record sets of
//!   one name) is attached to the service whose cluster or instance it points
//!   at, else to the first whose primary and DR regions its targets (or their
//!   health checks' host names) name, else to the only service when there is
//!   one; its health checks come with it. Pairs and health checks that match no service are still read.

use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_route53::types::{HealthCheck, ResourceRecordSet};
use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::arn;
use super::errors::from_sdk;
use super::rds::{self, RegionRead};
use super::route53::{self, failover_role};
use super::sdk_config::{DEFAULT_REGION, for_region};
use super::watch::Watch;
use crate::domain::action::ROUTE53_REGION;
use crate::domain::environment::{
    DnsSpec, Environment, HealthCheckSpec, Replication, ServiceSpec, SimSettings,
};
use crate::domain::objectives::{DrTier, Objectives};
use crate::domain::snapshot::{ErrorKind, FailoverRole, SourceError, SourceId, SourceReading};

/// Hosted zones read for failover records; larger accounts need an environment file.
const MAX_ZONES: usize = 200;

/// What discovery found: the environment, and what it could not tie to a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    pub environment: Environment,
    pub unattached_health_checks: Vec<HealthCheckSpec>,
    pub unattached_records: Vec<(String, String)>,
}

impl Discovered {
    /// Everything to read: the environment's resources and the unattached ones.
    pub fn watch(&self) -> Watch {
        let mut watch = Watch::from_environment(&self.environment);
        for h in &self.unattached_health_checks {
            if !watch.health_checks.iter().any(|w| w.id == h.id) {
                watch.health_checks.push(h.clone());
            }
        }
        for r in &self.unattached_records {
            if !watch.records.contains(r) {
                watch.records.push(r.clone());
            }
        }
        watch
    }
}

/// Objectives a discovered service starts with: what its tier can keep.
pub fn default_objectives(tier: DrTier) -> Objectives {
    let (rto, rpo) = match tier {
        DrTier::BackupRestore => (24 * 3600, 24 * 3600),
        DrTier::PilotLight => (2 * 3600, 15 * 60),
        DrTier::WarmStandby => (15 * 60, 5 * 60),
        DrTier::ActiveActive => (5 * 60, 60),
    };
    Objectives {
        rto: Duration::from_secs(rto),
        rpo: Duration::from_secs(rpo),
    }
}

/// A region named in a host name, e.g. `api.us-west-2.example.com`.
pub fn region_in(fqdn: &str) -> Option<&str> {
    fqdn.split('.').find(|label| {
        let parts: Vec<&str> = label.split('-').collect();
        (3..=4).contains(&parts.len())
            && parts[0].len() == 2
            && parts[0].chars().all(|c| c.is_ascii_lowercase())
            && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty()
    })
}

/// Where discovery reads: an RDS client for any region (regions are learnt
/// as answers come in) and the Route 53 client.
#[derive(Clone)]
pub struct DiscoveryClients {
    rds: Arc<dyn Fn(&str) -> aws_sdk_rds::Client + Send + Sync>,
    route53: aws_sdk_route53::Client,
}

impl DiscoveryClients {
    pub fn new(config: &SdkConfig) -> Self {
        let route53 = aws_sdk_route53::Client::new(&for_region(config, ROUTE53_REGION));
        let config = config.clone();
        Self {
            rds: Arc::new(move |region| aws_sdk_rds::Client::new(&for_region(&config, region))),
            route53,
        }
    }

    /// Clients made elsewhere, e.g. mocked ones.
    pub fn from_parts(
        rds: impl Fn(&str) -> aws_sdk_rds::Client + Send + Sync + 'static,
        route53: aws_sdk_route53::Client,
    ) -> Self {
        Self {
            rds: Arc::new(rds),
            route53,
        }
    }
}

/// The discovery source that lists Route 53 health checks and failover records.
pub const ROUTE53_SOURCE: &str = "discovery:route53";

/// The discovery source that reads RDS in one region.
pub fn rds_source(region: &str) -> SourceId {
    format!("discovery:rds:{region}")
}

/// What Route 53 holds that discovery uses.
#[derive(Debug, Clone, Default)]
struct Route53Read {
    health_checks: Vec<HealthCheck>,
    /// `(hosted zone id, set)` of every set with a failover role.
    failover_sets: Vec<(String, ResourceRecordSet)>,
}

/// One source's last answer and when it came.
#[derive(Debug, Clone)]
struct Answer<T> {
    result: Result<T, SourceError>,
    at: DateTime<Utc>,
}

impl<T> Answer<T> {
    fn now(result: Result<T, SourceError>) -> Self {
        Self {
            result,
            at: Utc::now(),
        }
    }
}

/// Discovery source by source: each region's RDS and Route 53 answer or
/// fail on their own, so a failing region costs its own services, not the
/// session. Failed sources are read again by [`Discovery::retry`].
#[derive(Debug, Clone)]
pub struct Discovery {
    home: String,
    /// Regions in the order they were learnt, the home region first.
    rds: Vec<(String, Answer<RegionRead>)>,
    route53: Answer<Route53Read>,
}

impl Discovery {
    /// Reads every source once. Fails as a whole only when RDS answered in
    /// no region at all (no credentials, or every region down): then there
    /// is nothing to show.
    pub async fn run(clients: &DiscoveryClients, home: &str) -> Result<Self, SourceError> {
        let mut discovery = Self {
            home: home.to_string(),
            rds: Vec::new(),
            route53: Answer::now(Err(SourceError::new(ErrorKind::Other, "not read yet"))),
        };
        discovery.retry(clients).await;
        if discovery.rds.iter().all(|(_, a)| a.result.is_err()) {
            let causes: Vec<String> = discovery
                .failures()
                .into_iter()
                .filter_map(|r| r.result.err().map(|e| format!("{}: {e}", r.source)))
                .collect();
            let kind = discovery.rds[0]
                .1
                .result
                .as_ref()
                .err()
                .map_or(ErrorKind::Other, |e| e.kind);
            return Err(SourceError::new(
                kind,
                format!(
                    "RDS answered in no region ({}); name the estate in an environment file (--env) to watch it anyway",
                    causes.join("; ")
                ),
            ));
        }
        Ok(discovery)
    }

    /// Reads again every source that failed, and every region learnt from
    /// the answers since. Returns whether any source newly answered.
    pub async fn retry(&mut self, clients: &DiscoveryClients) -> bool {
        let route53_failed = self.route53.result.is_err();
        let route53 = async {
            match route53_failed {
                true => Some(Answer::now(read_route53(&clients.route53).await)),
                false => None,
            }
        };
        let rds = self.read_pending_regions(clients);
        let (route53, mut changed) = tokio::join!(route53, rds);
        if let Some(answer) = route53 {
            changed |= answer.result.is_ok();
            self.route53 = answer;
            // Record targets may name regions no RDS answer did.
            changed |= self.read_pending_regions(clients).await;
        }
        changed
    }

    /// Reads each region that has not answered, in parallel, until no
    /// answer names a region not yet tried in this round.
    async fn read_pending_regions(&mut self, clients: &DiscoveryClients) -> bool {
        let mut tried: Vec<String> = Vec::new();
        let mut changed = false;
        loop {
            let pending: Vec<String> = self
                .regions()
                .into_iter()
                .filter(|r| !tried.contains(r) && !self.answered(r))
                .collect();
            if pending.is_empty() {
                return changed;
            }
            let answers = join_all(pending.iter().map(|region| async move {
                let client = (clients.rds)(region);
                Answer::now(rds::read_region(&client).await)
            }))
            .await;
            for (region, answer) in pending.into_iter().zip(answers) {
                changed |= answer.result.is_ok();
                match self.rds.iter_mut().find(|(r, _)| *r == region) {
                    Some((_, slot)) => *slot = answer,
                    None => self.rds.push((region.clone(), answer)),
                }
                tried.push(region);
            }
        }
    }

    fn answered(&self, region: &str) -> bool {
        self.rds
            .iter()
            .any(|(r, a)| r == region && a.result.is_ok())
    }

    /// The home region, the regions RDS answers reach into, then the regions
    /// of RDS endpoints that failover records point at (what finds the DR
    /// region when the home region cannot answer).
    pub fn regions(&self) -> Vec<String> {
        let mut regions = vec![self.home.clone()];
        let mut add = |region: &str| {
            if !regions.iter().any(|r| r == region) {
                regions.push(region.to_string());
            }
        };
        for (region, answer) in &self.rds {
            add(region);
            if let Ok(read) = &answer.result {
                related_regions(read).iter().for_each(|r| add(r));
            }
        }
        if let Ok(route53) = &self.route53.result {
            for (_, set) in &route53.failover_sets {
                let target = route53::normalize_name(record_target(set));
                if target.ends_with(".rds.amazonaws.com.")
                    && let Some(region) = region_in(&target)
                {
                    add(region);
                }
            }
        }
        regions
    }

    /// The environment for what has answered so far.
    pub fn discovered(&self) -> Discovered {
        let reads: Vec<(String, RegionRead)> = self
            .rds
            .iter()
            .filter_map(|(region, a)| a.result.as_ref().ok().map(|r| (region.clone(), r.clone())))
            .collect();
        let route53 = self
            .route53
            .result
            .as_ref()
            .ok()
            .cloned()
            .unwrap_or_default();
        build(
            &self.home,
            &self.regions(),
            &reads,
            &route53.health_checks,
            &route53.failover_sets,
        )
    }

    /// One failed reading per source whose last answer was an error.
    pub fn failures(&self) -> Vec<SourceReading> {
        let rds = self
            .rds
            .iter()
            .map(|(region, a)| (rds_source(region), a.at, a.result.as_ref().err()));
        let route53 = std::iter::once((
            ROUTE53_SOURCE.to_string(),
            self.route53.at,
            self.route53.result.as_ref().err(),
        ));
        rds.chain(route53)
            .filter_map(|(source, taken_at, error)| {
                error.map(|e| SourceReading {
                    source,
                    taken_at,
                    result: Err(e.clone()),
                })
            })
            .collect()
    }

    /// Every discovery source this discovery has, failed or not.
    pub fn sources(&self) -> Vec<SourceId> {
        self.rds
            .iter()
            .map(|(region, _)| rds_source(region))
            .chain([ROUTE53_SOURCE.to_string()])
            .collect()
    }

    pub fn complete(&self) -> bool {
        self.route53.result.is_ok() && self.rds.iter().all(|(_, a)| a.result.is_ok())
    }
}

async fn read_route53(r53: &aws_sdk_route53::Client) -> Result<Route53Read, SourceError> {
    let health_checks: Vec<HealthCheck> = r53
        .list_health_checks()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| from_sdk("ListHealthChecks", e))?;
    let zones: Vec<_> = r53
        .list_hosted_zones()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| from_sdk("ListHostedZones", e))?;
    let mut failover_sets = Vec::new();
    for zone in zones.iter().take(MAX_ZONES) {
        let zone_id = route53::bare_zone_id(zone.id()).to_string();
        for set in route53::read_all_records(r53, &zone_id).await? {
            // Failover pairs and latency record sets (`Region` set): both
            // route a service between its regions.
            if set.failover().is_some() || set.region().is_some() {
                failover_sets.push((zone_id.clone(), set));
            }
        }
    }
    Ok(Route53Read {
        health_checks,
        failover_sets,
    })
}

/// The home region a configuration names, or the default.
pub fn home_region(config: &SdkConfig) -> String {
    config
        .region()
        .map(|r| r.to_string())
        .unwrap_or_else(|| DEFAULT_REGION.to_string())
}

/// Regions other than the home region that its global clusters and
/// read replicas reach into.
pub fn related_regions(home: &RegionRead) -> Vec<String> {
    let members = home
        .global_clusters
        .iter()
        .flat_map(|g| g.global_cluster_members())
        .filter_map(|m| m.db_cluster_arn());
    let replicas = home.instances.iter().flat_map(|i| {
        i.read_replica_db_instance_identifiers()
            .iter()
            .map(String::as_str)
            .chain(i.read_replica_source_db_instance_identifier())
    });
    let mut out: Vec<String> = Vec::new();
    for region in members.chain(replicas).filter_map(arn::region) {
        if !out.iter().any(|r| r == region) {
            out.push(region.to_string());
        }
    }
    out
}

/// The environment for what the reads found (pure).
pub fn build(
    home: &str,
    regions: &[String],
    reads: &[(String, RegionRead)],
    health_checks: &[HealthCheck],
    failover_sets: &[(String, ResourceRecordSet)],
) -> Discovered {
    let mut services = global_services(reads);
    services.extend(replica_services(reads));
    let mut unattached_records = Vec::new();
    let mut attached_checks: Vec<String> = Vec::new();
    let pairs = failover_pairs(failover_sets);
    let owners = pair_owners(&pairs, &services, reads, health_checks);
    for (mut pair, owner) in pairs.into_iter().zip(owners) {
        let Some(index) = owner else {
            unattached_records.push((pair.zone_id.clone(), pair.name.clone()));
            continue;
        };
        let service = &mut services[index];
        // Latency records in both of the service's regions make it
        // active-active, with that tier's default objectives.
        if !pair.latency.is_empty() && pair.sort_latency(service) {
            service.tier = DrTier::ActiveActive;
            service.objectives = default_objectives(DrTier::ActiveActive);
        }
        for (role, set) in [
            (FailoverRole::Primary, pair.primary),
            (FailoverRole::Secondary, pair.secondary),
        ] {
            let (Some(set), Some(id)) = (set, set.and_then(|s| s.health_check_id())) else {
                continue;
            };
            let region = match role {
                FailoverRole::Primary => service.primary_region.clone(),
                FailoverRole::Secondary => service.dr_region.clone(),
            };
            let config = health_checks
                .iter()
                .find(|h| h.id() == id)
                .and_then(|h| h.health_check_config());
            service.health_checks.push(HealthCheckSpec {
                id: id.to_string(),
                region,
                fqdn: config
                    .and_then(|c| c.fully_qualified_domain_name().or(c.ip_address()))
                    .unwrap_or_else(|| record_target(set))
                    .to_string(),
                failure_threshold: config
                    .and_then(|c| c.failure_threshold())
                    .and_then(|t| u32::try_from(t).ok())
                    .unwrap_or(3),
            });
            attached_checks.push(id.to_string());
        }
        service.dns = Some(DnsSpec {
            zone_id: pair.zone_id.clone(),
            record: pair.name.clone(),
            primary_target: pair
                .primary
                .map(record_target)
                .unwrap_or_default()
                .to_string(),
            secondary_target: pair
                .secondary
                .map(record_target)
                .unwrap_or_default()
                .to_string(),
            ttl: pair
                .primary
                .and_then(|s| s.ttl())
                .and_then(|t| u32::try_from(t).ok())
                .unwrap_or(60),
        });
    }
    let unattached_health_checks = health_checks
        .iter()
        .filter(|h| !attached_checks.iter().any(|a| a == h.id()))
        .map(|h| {
            let config = h.health_check_config();
            let fqdn = config
                .and_then(|c| c.fully_qualified_domain_name().or(c.ip_address()))
                .unwrap_or_default();
            HealthCheckSpec {
                id: h.id().to_string(),
                region: region_in(fqdn).unwrap_or(home).to_string(),
                fqdn: fqdn.to_string(),
                failure_threshold: config
                    .and_then(|c| c.failure_threshold())
                    .and_then(|t| u32::try_from(t).ok())
                    .unwrap_or(3),
            }
        })
        .collect();
    Discovered {
        environment: Environment {
            name: "discovered".to_string(),
            home_region: home.to_string(),
            regions: regions.to_vec(),
            services,
            sim: SimSettings::default(),
        },
        unattached_health_checks,
        unattached_records,
    }
}

fn record_target(set: &ResourceRecordSet) -> &str {
    set.alias_target()
        .map(|a| a.dns_name())
        .or_else(|| set.resource_records().first().map(|r| r.value()))
        .unwrap_or_default()
}

type PairMatcher<'m> = dyn Fn(&FailoverPair<'_>, &ServiceSpec) -> bool + 'm;

/// The service each pair belongs to, one pair per service. Stronger evidence
/// is matched first across all pairs: endpoints, then regions, then the only
/// service there is.
fn pair_owners(
    pairs: &[FailoverPair<'_>],
    services: &[ServiceSpec],
    reads: &[(String, RegionRead)],
    health_checks: &[HealthCheck],
) -> Vec<Option<usize>> {
    let mut owners: Vec<Option<usize>> = vec![None; pairs.len()];
    let matchers: [&PairMatcher; 3] = [
        &|pair, service| points_at(pair, service, reads),
        &|pair, service| {
            if pair.latency.is_empty() {
                pair_regions(pair, health_checks)
                    == (
                        Some(service.primary_region.as_str()),
                        Some(service.dr_region.as_str()),
                    )
            } else {
                [&service.primary_region, &service.dr_region]
                    .iter()
                    .all(|r| {
                        pair.latency
                            .iter()
                            .any(|s| s.region().is_some_and(|x| x.as_str() == r.as_str()))
                    })
            }
        },
        &|_, _| services.len() == 1,
    ];
    for matches in matchers {
        for (i, pair) in pairs.iter().enumerate() {
            if owners[i].is_some() {
                continue;
            }
            owners[i] = (0..services.len())
                .find(|&index| !owners.contains(&Some(index)) && matches(pair, &services[index]));
        }
    }
    owners
}

/// The regions a pair's PRIMARY and SECONDARY sets name, in their targets or
/// in the host names their health checks probe.
fn pair_regions<'a>(
    pair: &FailoverPair<'a>,
    health_checks: &'a [HealthCheck],
) -> (Option<&'a str>, Option<&'a str>) {
    let side = |set: Option<&'a ResourceRecordSet>| {
        let set = set?;
        region_in(record_target(set)).or_else(|| {
            let id = set.health_check_id()?;
            let config = health_checks
                .iter()
                .find(|h| h.id() == id)?
                .health_check_config()?;
            region_in(config.fully_qualified_domain_name()?)
        })
    };
    (side(pair.primary), side(pair.secondary))
}

struct FailoverPair<'a> {
    zone_id: String,
    name: String,
    primary: Option<&'a ResourceRecordSet>,
    secondary: Option<&'a ResourceRecordSet>,
    /// Latency record sets of the name, each with its `Region`: an
    /// active-active service. Sorted into `primary`/`secondary` by the
    /// owning service's regions once it is known.
    latency: Vec<&'a ResourceRecordSet>,
}

impl FailoverPair<'_> {
    /// For latency sets, puts the set of the service's primary region in
    /// `primary` and its DR region's in `secondary`; true when both exist.
    fn sort_latency(&mut self, service: &ServiceSpec) -> bool {
        let in_region = |region: &str| {
            self.latency
                .iter()
                .copied()
                .find(|s| s.region().is_some_and(|r| r.as_str() == region))
        };
        self.primary = in_region(&service.primary_region);
        self.secondary = in_region(&service.dr_region);
        self.primary.is_some() && self.secondary.is_some()
    }
}

fn failover_pairs(sets: &[(String, ResourceRecordSet)]) -> Vec<FailoverPair<'_>> {
    let mut pairs: Vec<FailoverPair<'_>> = Vec::new();
    for (zone_id, set) in sets {
        let name = route53::normalize_name(set.name());
        let index = match pairs
            .iter()
            .position(|p| &p.zone_id == zone_id && p.name == name)
        {
            Some(i) => i,
            None => {
                pairs.push(FailoverPair {
                    zone_id: zone_id.clone(),
                    name,
                    primary: None,
                    secondary: None,
                    latency: Vec::new(),
                });
                pairs.len() - 1
            }
        };
        match failover_role(set.failover()) {
            Some(FailoverRole::Primary) => pairs[index].primary = Some(set),
            Some(FailoverRole::Secondary) => pairs[index].secondary = Some(set),
            None if set.region().is_some() => pairs[index].latency.push(set),
            None => {}
        }
    }
    pairs
}

/// Whether a pair's targets name one of the service's clusters or instances
/// (by identifier prefix of an RDS endpoint, or the endpoint itself).
fn points_at(
    pair: &FailoverPair<'_>,
    service: &ServiceSpec,
    reads: &[(String, RegionRead)],
) -> bool {
    // Clusters and instances are what have endpoints; the other ids
    // (global cluster, buckets) simply match none.
    let ids = service.replication.resource_ids();
    let endpoints: Vec<String> = reads
        .iter()
        .flat_map(|(_, r)| {
            r.clusters
                .iter()
                .filter(|c| {
                    c.db_cluster_identifier()
                        .is_some_and(|id| ids.contains(&id))
                })
                .flat_map(|c| [c.endpoint(), c.reader_endpoint()])
                .chain(
                    r.instances
                        .iter()
                        .filter(|i| {
                            i.db_instance_identifier()
                                .is_some_and(|id| ids.contains(&id))
                        })
                        .map(|i| i.endpoint().and_then(|e| e.address())),
                )
        })
        .flatten()
        .map(route53::normalize_name)
        .collect();
    [pair.primary, pair.secondary]
        .into_iter()
        .flatten()
        .chain(pair.latency.iter().copied())
        .map(|s| route53::normalize_name(record_target(s)))
        .any(|target| {
            endpoints.contains(&target)
                || ids
                    .iter()
                    .any(|id| target.starts_with(&format!("{}.", id.to_ascii_lowercase())))
        })
}

fn global_services(reads: &[(String, RegionRead)]) -> Vec<ServiceSpec> {
    let mut seen: Vec<&str> = Vec::new();
    let mut services = Vec::new();
    for g in reads.iter().flat_map(|(_, r)| &r.global_clusters) {
        let Some(id) = g.global_cluster_identifier() else {
            continue;
        };
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        let members = g.global_cluster_members();
        let Some(writer) = members
            .iter()
            .find(|m| m.is_writer() == Some(true))
            .and_then(|m| m.db_cluster_arn())
        else {
            continue;
        };
        let secondary = members
            .iter()
            .find(|m| m.is_writer() != Some(true))
            .and_then(|m| m.db_cluster_arn());
        let primary_region = arn::region(writer).unwrap_or_default().to_string();
        let (tier, replication, dr_region) = match secondary {
            Some(secondary) => (
                match headless(secondary, reads) {
                    true => DrTier::PilotLight,
                    false => DrTier::WarmStandby,
                },
                Replication::AuroraGlobal {
                    global_cluster: id.to_string(),
                    primary_cluster: arn::resource_id(writer).to_string(),
                    secondary_cluster: arn::resource_id(secondary).to_string(),
                },
                arn::region(secondary).unwrap_or_default().to_string(),
            ),
            None => (
                DrTier::BackupRestore,
                Replication::Backup {
                    clusters: vec![arn::resource_id(writer).to_string()],
                    instances: vec![],
                },
                primary_region.clone(),
            ),
        };
        services.push(ServiceSpec {
            id: id.to_string(),
            name: id.to_string(),
            tier,
            objectives: default_objectives(tier),
            primary_region,
            dr_region,
            replication,
            health_checks: vec![],
            dns: None,
        });
    }
    services
}

/// A cluster with no instances (Aurora global's "headless" secondary).
fn headless(cluster_arn: &str, reads: &[(String, RegionRead)]) -> bool {
    reads
        .iter()
        .flat_map(|(_, r)| &r.clusters)
        .find(|c| c.db_cluster_arn() == Some(cluster_arn))
        .is_some_and(|c| c.db_cluster_members().is_empty())
}

fn replica_services(reads: &[(String, RegionRead)]) -> Vec<ServiceSpec> {
    let mut services = Vec::new();
    for (region, read) in reads {
        for replica in read
            .instances
            .iter()
            .filter(|i| i.db_cluster_identifier().is_none())
        {
            let (Some(id), Some(source)) = (
                replica.db_instance_identifier(),
                replica.read_replica_source_db_instance_identifier(),
            ) else {
                continue;
            };
            let Some(source_region) = arn::region(source) else {
                // Same-region replicas (plain identifiers) scale reads, they are no DR copy.
                continue;
            };
            if source_region == region {
                continue;
            }
            let source_id = arn::resource_id(source);
            if services.iter().any(|s: &ServiceSpec| s.id == source_id) {
                continue;
            }
            services.push(ServiceSpec {
                id: source_id.to_string(),
                name: source_id.to_string(),
                tier: DrTier::WarmStandby,
                objectives: default_objectives(DrTier::WarmStandby),
                primary_region: source_region.to_string(),
                dr_region: region.clone(),
                replication: Replication::RdsReplica {
                    source_instance: source_id.to_string(),
                    replica_instance: id.to_string(),
                },
                health_checks: vec![],
                dns: None,
            });
        }
    }
    services
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::{
        DbCluster, DbClusterMember, DbInstance, GlobalCluster, GlobalClusterMember,
    };
    use aws_sdk_route53::types::{
        HealthCheckConfig, HealthCheckType, ResourceRecord, ResourceRecordSetFailover, RrType,
    };

    const WRITER: &str = "arn:aws:rds:us-east-1:1:cluster:orders";
    const SECONDARY: &str = "arn:aws:rds:us-west-2:1:cluster:orders-dr";

    #[test]
    fn default_objectives_are_promises_the_tier_can_keep() {
        for tier in DrTier::ALL {
            let o = default_objectives(tier);
            assert!(tier.can_meet_rto(o.rto), "{tier}");
            assert!(tier.best_case_rpo() <= o.rpo, "{tier}");
        }
    }

    #[test]
    fn regions_are_read_from_host_names() {
        assert_eq!(region_in("api.us-west-2.example.com"), Some("us-west-2"));
        assert_eq!(
            region_in("db.us-gov-west-1.example.com"),
            Some("us-gov-west-1")
        );
        assert_eq!(region_in("api.example.com"), None);
        assert_eq!(region_in("my-app-name.example.com"), None);
    }

    fn global(members: &[(&str, bool)]) -> GlobalCluster {
        members
            .iter()
            .fold(
                GlobalCluster::builder().global_cluster_identifier("orders-global"),
                |b, (arn, w)| {
                    b.global_cluster_members(
                        GlobalClusterMember::builder()
                            .db_cluster_arn(*arn)
                            .is_writer(*w)
                            .build(),
                    )
                },
            )
            .build()
    }

    fn reads(global: GlobalCluster, secondary_instances: usize) -> Vec<(String, RegionRead)> {
        let secondary = (0..secondary_instances)
            .fold(
                DbCluster::builder()
                    .db_cluster_identifier("orders-dr")
                    .db_cluster_arn(SECONDARY)
                    .endpoint("orders-dr.cluster-x.us-west-2.rds.amazonaws.com"),
                |b, n| {
                    b.db_cluster_members(
                        DbClusterMember::builder()
                            .db_instance_identifier(format!("i{n}"))
                            .build(),
                    )
                },
            )
            .build();
        vec![
            (
                "us-east-1".into(),
                RegionRead {
                    global_clusters: vec![global],
                    clusters: vec![
                        DbCluster::builder()
                            .db_cluster_identifier("orders")
                            .db_cluster_arn(WRITER)
                            .endpoint("orders.cluster-x.us-east-1.rds.amazonaws.com")
                            .build(),
                    ],
                    instances: vec![
                        DbInstance::builder()
                            .db_instance_identifier("billing")
                            .read_replica_db_instance_identifiers(
                                "arn:aws:rds:eu-west-1:1:db:billing-dr",
                            )
                            .build(),
                    ],
                    ..RegionRead::default()
                },
            ),
            (
                "us-west-2".into(),
                RegionRead {
                    clusters: vec![secondary],
                    ..RegionRead::default()
                },
            ),
            (
                "eu-west-1".into(),
                RegionRead {
                    instances: vec![
                        DbInstance::builder()
                            .db_instance_identifier("billing-dr")
                            .read_replica_source_db_instance_identifier(
                                "arn:aws:rds:us-east-1:1:db:billing",
                            )
                            .build(),
                        DbInstance::builder()
                            .db_instance_identifier("reports")
                            .read_replica_source_db_instance_identifier("reports-main")
                            .build(),
                    ],
                    ..RegionRead::default()
                },
            ),
        ]
    }

    #[test]
    fn related_regions_come_from_members_and_replicas() {
        let r = reads(global(&[(WRITER, true), (SECONDARY, false)]), 1);
        assert_eq!(
            related_regions(&r[0].1),
            vec!["us-east-1", "us-west-2", "eu-west-1"]
        );
    }

    fn regions() -> Vec<String> {
        vec!["us-east-1".into(), "us-west-2".into(), "eu-west-1".into()]
    }

    #[test]
    fn services_come_from_global_clusters_and_cross_region_replicas() {
        let found = build(
            "us-east-1",
            &regions(),
            &reads(global(&[(WRITER, true), (SECONDARY, false)]), 2),
            &[],
            &[],
        );
        let services = &found.environment.services;
        assert_eq!(
            services.len(),
            2,
            "the same-region replica is no DR service"
        );
        assert_eq!(services[0].tier, DrTier::WarmStandby);
        assert_eq!(services[0].dr_region, "us-west-2");
        assert_eq!(
            services[1].replication,
            Replication::RdsReplica {
                source_instance: "billing".into(),
                replica_instance: "billing-dr".into(),
            }
        );
        assert_eq!(
            (
                services[1].primary_region.as_str(),
                services[1].dr_region.as_str()
            ),
            ("us-east-1", "eu-west-1")
        );

        let headless = build(
            "us-east-1",
            &regions(),
            &reads(global(&[(WRITER, true), (SECONDARY, false)]), 0),
            &[],
            &[],
        );
        assert_eq!(headless.environment.services[0].tier, DrTier::PilotLight);

        let lonely = build(
            "us-east-1",
            &regions(),
            &reads(global(&[(WRITER, true)]), 0),
            &[],
            &[],
        );
        assert_eq!(lonely.environment.services[0].tier, DrTier::BackupRestore);
        assert_eq!(
            lonely.environment.services[0].replication,
            Replication::Backup {
                clusters: vec!["orders".into()],
                instances: vec![]
            }
        );
    }

    fn set(
        name: &str,
        role: ResourceRecordSetFailover,
        target: &str,
        hc: &str,
    ) -> (String, ResourceRecordSet) {
        (
            "Z1".into(),
            ResourceRecordSet::builder()
                .name(name)
                .r#type(RrType::Cname)
                .ttl(30)
                .failover(role)
                .health_check_id(hc)
                .resource_records(ResourceRecord::builder().value(target).build().unwrap())
                .build()
                .unwrap(),
        )
    }

    fn check(id: &str, fqdn: &str) -> HealthCheck {
        HealthCheck::builder()
            .id(id)
            .caller_reference(id)
            .health_check_version(1)
            .health_check_config(
                HealthCheckConfig::builder()
                    .r#type(HealthCheckType::Https)
                    .fully_qualified_domain_name(fqdn)
                    .failure_threshold(2)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn failover_pairs_attach_by_endpoint_and_the_rest_is_still_watched() {
        let sets = [
            set(
                "db.example.com.",
                ResourceRecordSetFailover::Primary,
                "orders.cluster-x.us-east-1.rds.amazonaws.com",
                "hc-a",
            ),
            set(
                "db.example.com.",
                ResourceRecordSetFailover::Secondary,
                "orders-dr.cluster-x.us-west-2.rds.amazonaws.com",
                "hc-b",
            ),
            set(
                "www.example.com.",
                ResourceRecordSetFailover::Primary,
                "www.us-east-1.example.com",
                "hc-c",
            ),
        ];
        let checks = [
            check("hc-a", "db.us-east-1.example.com"),
            check("hc-b", "db.us-west-2.example.com"),
            check("hc-c", "www.eu-west-1.example.com"),
        ];
        let found = build(
            "us-east-1",
            &regions(),
            &reads(global(&[(WRITER, true), (SECONDARY, false)]), 1),
            &checks,
            &sets,
        );
        let orders = &found.environment.services[0];
        let dns = orders
            .dns
            .as_ref()
            .expect("pair attached to the global database");
        assert_eq!(dns.record, "db.example.com.");
        assert_eq!(
            dns.secondary_target,
            "orders-dr.cluster-x.us-west-2.rds.amazonaws.com"
        );
        assert_eq!(dns.ttl, 30);
        let regions: Vec<(&str, &str, u32)> = orders
            .health_checks
            .iter()
            .map(|h| (h.id.as_str(), h.region.as_str(), h.failure_threshold))
            .collect();
        assert_eq!(
            regions,
            vec![("hc-a", "us-east-1", 2), ("hc-b", "us-west-2", 2)]
        );
        assert_eq!(
            found.unattached_records,
            vec![("Z1".to_string(), "www.example.com.".to_string())]
        );
        assert_eq!(found.unattached_health_checks.len(), 1);
        assert_eq!(found.unattached_health_checks[0].region, "eu-west-1");
        let watch = found.watch();
        assert_eq!(watch.health_checks.len(), 3);
        assert_eq!(watch.records.len(), 2);
    }

    fn latency_set(
        name: &str,
        region: &str,
        target: &str,
        hc: &str,
    ) -> (String, ResourceRecordSet) {
        (
            "Z1".into(),
            ResourceRecordSet::builder()
                .name(name)
                .r#type(RrType::Cname)
                .ttl(30)
                .set_identifier(region)
                .region(aws_sdk_route53::types::ResourceRecordSetRegion::from(
                    region,
                ))
                .health_check_id(hc)
                .resource_records(ResourceRecord::builder().value(target).build().unwrap())
                .build()
                .unwrap(),
        )
    }

    #[test]
    fn latency_records_in_both_regions_make_the_service_active_active() {
        // Listed DR first: the regions on the records decide, not the order.
        let sets = [
            latency_set(
                "db.example.com.",
                "us-west-2",
                "orders-dr.cluster-x.us-west-2.rds.amazonaws.com",
                "hc-b",
            ),
            latency_set(
                "db.example.com.",
                "us-east-1",
                "orders.cluster-x.us-east-1.rds.amazonaws.com",
                "hc-a",
            ),
        ];
        let checks = [
            check("hc-a", "db.us-east-1.example.com"),
            check("hc-b", "db.us-west-2.example.com"),
        ];
        let found = build(
            "us-east-1",
            &regions(),
            &reads(global(&[(WRITER, true), (SECONDARY, false)]), 1),
            &checks,
            &sets,
        );
        let orders = &found.environment.services[0];
        assert_eq!(orders.tier, DrTier::ActiveActive);
        assert_eq!(orders.objectives, default_objectives(DrTier::ActiveActive));
        let dns = orders.dns.as_ref().expect("latency records attached");
        assert_eq!(
            dns.primary_target,
            "orders.cluster-x.us-east-1.rds.amazonaws.com"
        );
        assert_eq!(
            dns.secondary_target,
            "orders-dr.cluster-x.us-west-2.rds.amazonaws.com"
        );
        let attached: Vec<(&str, &str)> = orders
            .health_checks
            .iter()
            .map(|h| (h.id.as_str(), h.region.as_str()))
            .collect();
        assert_eq!(attached, vec![("hc-a", "us-east-1"), ("hc-b", "us-west-2")]);
        assert!(found.unattached_records.is_empty());

        // One region's latency record alone is not active-active.
        let found = build(
            "us-east-1",
            &regions(),
            &reads(global(&[(WRITER, true), (SECONDARY, false)]), 1),
            &checks,
            &sets[..1],
        );
        assert_ne!(found.environment.services[0].tier, DrTier::ActiveActive);
    }

    #[test]
    fn a_pair_naming_a_services_regions_joins_it() {
        let sets = [
            set(
                "api.example.com.",
                ResourceRecordSetFailover::Primary,
                "api-blue.example.com",
                "hc-a",
            ),
            set(
                "api.example.com.",
                ResourceRecordSetFailover::Secondary,
                "api.eu-west-1.example.com",
                "hc-b",
            ),
        ];
        let checks = [
            check("hc-a", "api.us-east-1.example.com"),
            check("hc-b", "api.eu-west-1.example.com"),
        ];
        let found = build(
            "us-east-1",
            &regions(),
            &reads(global(&[(WRITER, true), (SECONDARY, false)]), 1),
            &checks,
            &sets,
        );
        let services = &found.environment.services;
        assert!(services[0].dns.is_none(), "orders fails over to us-west-2");
        assert_eq!(
            services[1].dns.as_ref().map(|d| d.record.as_str()),
            Some("api.example.com."),
            "billing fails over us-east-1 -> eu-west-1, as the pair does"
        );
        assert!(found.unattached_records.is_empty());
    }
}
