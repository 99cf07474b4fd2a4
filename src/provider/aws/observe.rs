//! The read half: one poll of every source, each failing on its own.
//!
//! Route 53 costs the same few requests per poll whatever the estate's
//! size: check configuration from `ListHealthChecks`, re-read every few
//! minutes; records from one listing per hosted zone; each check's status
//! from CloudWatch's `AWS/Route53` metrics, read in the same `GetMetricData`
//! batches as the lags. `GetHealthCheckStatus` (one call per check) is left
//! for checks that are not fully healthy, for every check when CloudWatch
//! did not answer, and for the checks of the service open in the detail
//! pane, so it shows which checker regions see it up or down.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_route53::types::{HealthCheck, HealthCheckObservation};
use chrono::{DateTime, Utc};
use futures::future::join_all;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::budget::Usage;
use super::clients::ReadClients;
use super::cloudwatch::{self, ROUTE53_METRICS_REGION};
use super::errors::from_sdk;
use super::rds::{self, RegionRead};
use super::route53::{self, HealthMetrics};
use super::watch::Watch;
use crate::domain::action::ChangeStatus;
use crate::domain::environment::HealthCheckSpec;
use crate::domain::snapshot::{
    CheckerReadout, DnsRecordObs, ErrorKind, GlobalClusterObs, HealthCheckObs, Snapshot,
    SourceError, SourceReading,
};
use crate::provider::{FocusedService, Observe};
use crate::readiness::facts::ConfigReading;

/// Route 53 allows five requests a second per account; stay well under it.
const ROUTE53_CONCURRENCY: usize = 2;
/// Health-check configuration is re-read this often.
pub const HEALTH_CONFIG_REFRESH: Duration = Duration::from_secs(10 * 60);
/// A watched check missing from the listing is looked for again after this
/// long, not on every poll.
pub const MISSING_CHECK_REFRESH: Duration = Duration::from_secs(2 * 60);

/// Health-check configuration as last listed.
struct HealthConfigs {
    listed_at: Instant,
    checks: HashMap<String, HealthCheck>,
}

pub struct AwsObserver {
    clients: ReadClients,
    watch: Watch,
    configs: Mutex<Option<HealthConfigs>>,
    /// Checkers counted by the last per-checker read of each check, so the
    /// count shown from CloudWatch's percentage stays the real one.
    checker_totals: std::sync::Mutex<HashMap<String, u32>>,
}

/// CloudWatch's part of a poll: a reading per watched region, and the
/// health-check metrics (`None` when us-east-1's CloudWatch did not answer).
struct CloudWatchRead {
    readings: Vec<SourceReading>,
    health: Option<HashMap<String, HealthMetrics>>,
}

impl AwsObserver {
    pub fn new(clients: ReadClients, watch: Watch) -> Self {
        Self {
            clients,
            watch,
            configs: Mutex::new(None),
            checker_totals: std::sync::Mutex::new(HashMap::new()),
        }
    }

    async fn read_rds(&self) -> Vec<(String, DateTime<Utc>, Result<RegionRead, SourceError>)> {
        join_all(self.watch.regions.iter().map(|region| async move {
            let result = match self.clients.rds.get(region) {
                Some(client) => rds::read_region(client).await,
                None => Err(no_client(region)),
            };
            (region.clone(), Utc::now(), result)
        }))
        .await
    }

    fn check_ids(&self) -> Vec<String> {
        self.watch
            .health_checks
            .iter()
            .map(|h| h.id.clone())
            .collect()
    }

    /// Lags of every watched region, and in us-east-1 (watched or not) the
    /// health-check metrics in the same calls.
    async fn read_cloudwatch(&self) -> CloudWatchRead {
        let check_ids = self.check_ids();
        let mut regions = self.watch.regions.clone();
        let metrics_region_watched = regions.iter().any(|r| r == ROUTE53_METRICS_REGION);
        if !check_ids.is_empty() && !metrics_region_watched {
            regions.push(ROUTE53_METRICS_REGION.to_string());
        }
        let reads = join_all(regions.iter().map(|region| {
            let check_ids = &check_ids;
            async move {
                let lag_queries = cloudwatch::queries_for(&self.watch, region);
                let mut sdk: Vec<_> = lag_queries.iter().map(cloudwatch::to_sdk).collect();
                let with_health = region == ROUTE53_METRICS_REGION && !check_ids.is_empty();
                if with_health {
                    sdk.extend(cloudwatch::health_queries(check_ids));
                }
                let values = match self.clients.cloudwatch.get(region) {
                    Some(client) => cloudwatch::read_values(client, sdk, Utc::now()).await,
                    None => Err(no_client(region)),
                };
                let health = match (&values, with_health) {
                    (Ok(values), true) => Some(cloudwatch::health_from_values(check_ids, values)),
                    _ => None,
                };
                let reading = SourceReading {
                    source: format!("cloudwatch:{region}"),
                    taken_at: Utc::now(),
                    result: values.map(|values| Snapshot {
                        lags: cloudwatch::lags_from_values(&lag_queries, &values),
                        ..Snapshot::default()
                    }),
                };
                (reading, health)
            }
        }))
        .await;
        let mut out = CloudWatchRead {
            readings: Vec::new(),
            health: None,
        };
        for (reading, health) in reads {
            out.health = out.health.or(health);
            let region = reading.source.trim_start_matches("cloudwatch:");
            if metrics_region_watched || region != ROUTE53_METRICS_REGION {
                out.readings.push(reading);
            }
        }
        out
    }

    /// The configuration of every watched check, listed again when the last
    /// listing is old (or misses a watched check and is not recent). A
    /// failed re-listing keeps the previous one: configuration changes rarely.
    async fn health_configs(&self) -> Result<HashMap<String, HealthCheck>, SourceError> {
        let mut cache = self.configs.lock().await;
        let now = Instant::now();
        let due = match cache.as_ref() {
            None => true,
            Some(c) => {
                let age = now.duration_since(c.listed_at);
                let missing = self
                    .watch
                    .health_checks
                    .iter()
                    .any(|h| !c.checks.contains_key(&h.id));
                age >= HEALTH_CONFIG_REFRESH || (missing && age >= MISSING_CHECK_REFRESH)
            }
        };
        if due && !self.watch.health_checks.is_empty() {
            match route53::list_health_checks(&self.clients.route53).await {
                Ok(listed) => {
                    *cache = Some(HealthConfigs {
                        listed_at: now,
                        checks: listed
                            .into_iter()
                            .map(|c| (c.id().to_string(), c))
                            .collect(),
                    });
                }
                Err(e) if cache.is_none() => return Err(e),
                Err(e) => tracing::warn!("re-listing health checks, keeping the last listing: {e}"),
            }
        }
        Ok(cache.as_ref().map(|c| c.checks.clone()).unwrap_or_default())
    }

    /// Every watched record, from one listing of each hosted zone.
    async fn read_records(&self) -> Result<Vec<DnsRecordObs>, SourceError> {
        let mut by_zone: BTreeMap<&str, HashSet<String>> = BTreeMap::new();
        for (zone, name) in &self.watch.records {
            by_zone
                .entry(route53::bare_zone_id(zone))
                .or_default()
                .insert(route53::normalize_name(name));
        }
        let mut records = Vec::new();
        for (zone, names) in by_zone {
            for set in route53::read_all_records(&self.clients.route53, zone).await? {
                if names.contains(&route53::normalize_name(set.name())) {
                    records.push(route53::map_record(zone, &set));
                }
            }
        }
        Ok(records)
    }

    /// Each watched check's status: from CloudWatch when every checker is
    /// healthy, else from its checkers (falling back to CloudWatch's figure
    /// if that read fails). The checks of the service open in the detail
    /// pane (`focus`) are read per checker too, after the rest, so the
    /// budget gives them up first.
    async fn health_checks(
        &self,
        configs: &HashMap<String, HealthCheck>,
        metrics: Option<&HashMap<String, HealthMetrics>>,
        focus: &HashSet<&str>,
    ) -> Result<(Vec<HealthCheckObs>, Vec<CheckerReadout>), SourceError> {
        let from_metrics = |spec: &HealthCheckSpec| {
            let m = metrics?.get(&spec.id)?;
            let known = self.known_total(&spec.id);
            route53::map_from_metrics(spec, configs.get(&spec.id), m, known)
        };
        let needs_checkers = |spec: &HealthCheckSpec| {
            !metrics
                .and_then(|m| m.get(&spec.id))
                .is_some_and(HealthMetrics::fully_healthy)
        };
        let (needed, healthy): (Vec<&HealthCheckSpec>, Vec<&HealthCheckSpec>) = self
            .watch
            .health_checks
            .iter()
            .partition(|s| needs_checkers(s));
        let focused: Vec<&HealthCheckSpec> = healthy
            .into_iter()
            .filter(|s| focus.contains(s.id.as_str()))
            .filter(|s| route53::readable_per_checker(configs.get(&s.id)))
            .collect();
        let fallback = |spec: &HealthCheckSpec| from_metrics(spec).is_some();
        let mut stop = None;
        let mut read = self.read_checkers(&needed, &fallback, &mut stop).await;
        read.extend(self.read_checkers(&focused, &fallback, &mut stop).await);

        let mut out = Vec::new();
        let mut readouts = Vec::new();
        for spec in &self.watch.health_checks {
            let checkers = read.remove(spec.id.as_str());
            if let Some(result) = &checkers {
                readouts.push(CheckerReadout {
                    health_check_id: spec.id.clone(),
                    regions: result
                        .as_ref()
                        .map(|o| route53::checkers_by_region(o))
                        .unwrap_or_default(),
                    not_read: result.as_ref().err().map(ToString::to_string),
                });
            }
            let obs = match (checkers, from_metrics(spec)) {
                (Some(Ok(observations)), _) => {
                    let obs = route53::map_health_check(spec, configs.get(&spec.id), &observations);
                    self.remember_total(&spec.id, obs.checkers_total);
                    obs
                }
                (None, Some(obs)) | (Some(Err(_)), Some(obs)) => obs,
                (Some(Err(e)), None) => return Err(e),
                (None, None) => route53::map_health_check(spec, configs.get(&spec.id), &[]),
            };
            out.push(obs);
        }
        Ok((out, readouts))
    }

    /// `GetHealthCheckStatus` of each check, a few at a time, until one
    /// fails so that the poll cannot go on: the budget or AWS's throttling
    /// turned it away (the next would wait in vain), or it failed with no
    /// CloudWatch figure to fall back on (the Route 53 reading fails).
    /// From then on (`stop`) nothing is sent: the rest carry that error.
    async fn read_checkers<'a>(
        &self,
        specs: &[&'a HealthCheckSpec],
        fallback: &(dyn Fn(&HealthCheckSpec) -> bool + Sync),
        stop: &mut Option<SourceError>,
    ) -> HashMap<&'a str, Result<Vec<HealthCheckObservation>, SourceError>> {
        let mut read = HashMap::new();
        for batch in specs.chunks(ROUTE53_CONCURRENCY) {
            if let Some(e) = stop {
                read.extend(batch.iter().map(|s| (s.id.as_str(), Err(e.clone()))));
                continue;
            }
            let reads = join_all(batch.iter().map(|spec| async move {
                let result = route53::read_checker_status(&self.clients.route53, &spec.id).await;
                (*spec, result)
            }))
            .await;
            for (spec, result) in reads {
                if let Err(e) = &result
                    && (matches!(e.kind, ErrorKind::Budget | ErrorKind::Throttled)
                        || !fallback(spec))
                {
                    stop.get_or_insert_with(|| e.clone());
                }
                read.insert(spec.id.as_str(), result);
            }
        }
        read
    }

    fn known_total(&self, id: &str) -> Option<u32> {
        self.checker_totals
            .lock()
            .ok()
            .and_then(|t| t.get(id).copied())
    }

    fn remember_total(&self, id: &str, total: u32) {
        if total == 0 {
            return;
        }
        if let Ok(mut totals) = self.checker_totals.lock() {
            totals.insert(id.to_string(), total);
        }
    }

    /// Fails as a whole at the first failed call: a half-read failover pair
    /// would show a wrong serving region.
    async fn route53_snapshot(
        &self,
        records: Result<Vec<DnsRecordObs>, SourceError>,
        configs: Result<HashMap<String, HealthCheck>, SourceError>,
        metrics: Option<&HashMap<String, HealthMetrics>>,
        focus: &HashSet<&str>,
    ) -> Result<Snapshot, SourceError> {
        let dns_records = records?;
        let configs = configs?;
        let (health_checks, checker_readouts) =
            self.health_checks(&configs, metrics, focus).await?;
        Ok(Snapshot {
            health_checks,
            dns_records,
            checker_readouts,
            ..Snapshot::default()
        })
    }

    /// CloudWatch and Route 53's listings in parallel, then the statuses
    /// CloudWatch could not give.
    async fn read_cloudwatch_and_route53(
        &self,
        focus: &HashSet<&str>,
    ) -> (Vec<SourceReading>, SourceReading) {
        let (cloudwatch, records, configs) = tokio::join!(
            self.read_cloudwatch(),
            self.read_records(),
            self.health_configs()
        );
        let result = self
            .route53_snapshot(records, configs, cloudwatch.health.as_ref(), focus)
            .await;
        let route53 = SourceReading {
            source: "route53".to_string(),
            result,
            taken_at: Utc::now(),
        };
        (cloudwatch.readings, route53)
    }
}

fn no_client(region: &str) -> SourceError {
    SourceError::new(ErrorKind::Other, format!("no client for region {region}"))
}

/// One `rds:<region>` reading per region.
///
/// Every region answers `DescribeGlobalClusters` with the same global view,
/// so each global cluster is reported once: by the first region (in watch
/// order) that answered and holds one of its members. If that region is
/// down, a surviving member region reports it. Replicated automated backups
/// are found in the destination region but belong to the source instance,
/// which is observed in another region.
pub fn assemble_rds(
    reads: Vec<(String, DateTime<Utc>, Result<RegionRead, SourceError>)>,
    replicated_clusters: &HashSet<String>,
) -> Vec<SourceReading> {
    let answered: Vec<&str> = reads
        .iter()
        .filter(|(_, _, r)| r.is_ok())
        .map(|(region, _, _)| region.as_str())
        .collect();
    let mut globals: Vec<GlobalClusterObs> = Vec::new();
    let mut copied_sources: HashSet<String> = HashSet::new();
    for (region, _, read) in &reads {
        let Ok(read) = read else { continue };
        for g in read
            .global_clusters
            .iter()
            .filter_map(rds::map_global_cluster)
        {
            if !globals.iter().any(|known| known.id == g.id) {
                globals.push(g);
            }
        }
        copied_sources.extend(rds::replicated_backup_sources(region, read));
    }
    let mut owner: HashMap<String, String> = HashMap::new();
    for g in &globals {
        let home = answered
            .iter()
            .find(|r| g.members.iter().any(|m| m.region == **r))
            .or(answered.first());
        if let Some(home) = home {
            owner.insert(g.id.clone(), home.to_string());
        }
    }
    reads
        .into_iter()
        .map(|(region, taken_at, read)| {
            let result = read.map(|read| {
                let (db_clusters, mut db_instances) =
                    rds::map_region(&region, &read, replicated_clusters);
                for i in &mut db_instances {
                    i.backup.cross_region_copy |= copied_sources.contains(&i.arn);
                }
                Snapshot {
                    global_clusters: globals
                        .iter()
                        .filter(|g| owner.get(&g.id) == Some(&region))
                        .cloned()
                        .collect(),
                    db_clusters,
                    db_instances,
                    ..Snapshot::default()
                }
            });
            SourceReading {
                source: format!("rds:{region}"),
                taken_at,
                result,
            }
        })
        .collect()
}

#[async_trait]
impl Observe for AwsObserver {
    async fn observe(&self) -> Vec<SourceReading> {
        self.observe_focused(None).await
    }

    async fn observe_focused(&self, focus: Option<&FocusedService>) -> Vec<SourceReading> {
        let focus: HashSet<&str> = focus
            .map(|f| f.health_checks.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let (rds, (cloudwatch, route53)) =
            tokio::join!(self.read_rds(), self.read_cloudwatch_and_route53(&focus));
        let mut readings = assemble_rds(rds, &self.watch.replicated_clusters);
        readings.push(route53);
        readings.extend(cloudwatch);
        self.clients.budget.observed(&readings);
        readings
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn api_budget(&self) -> Option<Vec<Usage>> {
        Some(self.clients.budget.usage())
    }

    async fn configuration(&self) -> Vec<ConfigReading> {
        super::config_facts::read(&self.clients).await
    }

    async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, SourceError> {
        let out = self
            .clients
            .route53_changes
            .get_change()
            .id(change_id)
            .send()
            .await
            .map_err(|e| from_sdk("GetChange", e))?;
        Ok(match out.change_info().map(|c| c.status()) {
            Some(aws_sdk_route53::types::ChangeStatus::Insync) => ChangeStatus::Insync,
            _ => ChangeStatus::Pending,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::{
        DbInstance, DbInstanceAutomatedBackup, GlobalCluster, GlobalClusterMember,
    };

    fn global() -> GlobalCluster {
        GlobalCluster::builder()
            .global_cluster_identifier("g")
            .global_cluster_members(
                GlobalClusterMember::builder()
                    .db_cluster_arn("arn:aws:rds:us-east-1:1:cluster:a")
                    .is_writer(true)
                    .build(),
            )
            .global_cluster_members(
                GlobalClusterMember::builder()
                    .db_cluster_arn("arn:aws:rds:us-west-2:1:cluster:b")
                    .is_writer(false)
                    .build(),
            )
            .build()
    }

    fn ok(
        region: &str,
        read: RegionRead,
    ) -> (String, DateTime<Utc>, Result<RegionRead, SourceError>) {
        (region.to_string(), Utc::now(), Ok(read))
    }

    fn globals_of(readings: &[SourceReading], source: &str) -> Vec<String> {
        readings
            .iter()
            .find(|r| r.source == source)
            .and_then(|r| r.result.as_ref().ok())
            .map(|s| s.global_clusters.iter().map(|g| g.id.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_global_cluster_is_reported_once_by_the_first_answering_member_region() {
        let with_global = || RegionRead {
            global_clusters: vec![global()],
            ..RegionRead::default()
        };
        let both = assemble_rds(
            vec![
                ok("eu-west-1", with_global()),
                ok("us-east-1", with_global()),
                ok("us-west-2", with_global()),
            ],
            &HashSet::new(),
        );
        assert_eq!(globals_of(&both, "rds:eu-west-1"), Vec::<String>::new());
        assert_eq!(globals_of(&both, "rds:us-east-1"), vec!["g"]);
        assert_eq!(globals_of(&both, "rds:us-west-2"), Vec::<String>::new());

        let east_down = assemble_rds(
            vec![
                (
                    "us-east-1".into(),
                    Utc::now(),
                    Err(SourceError::new(ErrorKind::Timeout, "down")),
                ),
                ok("us-west-2", with_global()),
            ],
            &HashSet::new(),
        );
        assert_eq!(globals_of(&east_down, "rds:us-west-2"), vec!["g"]);
        assert!(east_down[0].result.is_err());
    }

    #[test]
    fn backups_replicated_into_another_region_mark_their_source() {
        let source_arn = "arn:aws:rds:us-east-1:1:db:billing";
        let east = RegionRead {
            instances: vec![
                DbInstance::builder()
                    .db_instance_identifier("billing")
                    .db_instance_arn(source_arn)
                    .build(),
            ],
            ..RegionRead::default()
        };
        let west = RegionRead {
            automated_backups: vec![
                DbInstanceAutomatedBackup::builder()
                    .region("us-east-1")
                    .db_instance_arn(source_arn)
                    .build(),
            ],
            ..RegionRead::default()
        };
        let readings = assemble_rds(
            vec![ok("us-east-1", east), ok("us-west-2", west)],
            &HashSet::new(),
        );
        let billing = &readings[0].result.as_ref().unwrap().db_instances[0];
        assert!(billing.backup.cross_region_copy);
    }
}
