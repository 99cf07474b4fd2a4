//! The read half: one poll of every source, each failing on its own.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::join_all;

use super::clients::ReadClients;
use super::cloudwatch;
use super::errors::from_sdk;
use super::rds::{self, RegionRead};
use super::route53;
use super::watch::Watch;
use crate::domain::action::ChangeStatus;
use crate::domain::snapshot::{ErrorKind, GlobalClusterObs, Snapshot, SourceError, SourceReading};
use crate::provider::Observe;
use crate::readiness::facts::ConfigReading;

/// Route 53 allows five requests a second per account; stay well under it.
const ROUTE53_CONCURRENCY: usize = 2;

pub struct AwsObserver {
    clients: ReadClients,
    watch: Watch,
}

impl AwsObserver {
    pub fn new(clients: ReadClients, watch: Watch) -> Self {
        Self { clients, watch }
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

    async fn read_route53(&self) -> SourceReading {
        SourceReading {
            source: "route53".to_string(),
            result: self.route53_snapshot().await,
            taken_at: Utc::now(),
        }
    }

    /// Fails as a whole at the first failed call: a half-read failover pair
    /// would show a wrong serving region, and stopping early keeps a sick
    /// Route 53 from costing one timeout per resource.
    async fn route53_snapshot(&self) -> Result<Snapshot, SourceError> {
        let client = &self.clients.route53;
        let mut health_checks = Vec::new();
        for batch in self.watch.health_checks.chunks(ROUTE53_CONCURRENCY) {
            let reads = join_all(
                batch
                    .iter()
                    .map(|spec| route53::read_health_check(client, spec)),
            )
            .await;
            for read in reads {
                health_checks.push(read?);
            }
        }
        let mut dns_records = Vec::new();
        for batch in self.watch.records.chunks(ROUTE53_CONCURRENCY) {
            let reads = join_all(batch.iter().map(|(zone, name)| async move {
                route53::read_records(client, zone, name)
                    .await
                    .map(|sets| (zone, sets))
            }))
            .await;
            for read in reads {
                let (zone, sets) = read?;
                dns_records.extend(sets.iter().map(|s| route53::map_record(zone, s)));
            }
        }
        Ok(Snapshot {
            health_checks,
            dns_records,
            ..Snapshot::default()
        })
    }

    async fn read_cloudwatch(&self) -> Vec<SourceReading> {
        join_all(self.watch.regions.iter().map(|region| async move {
            let queries = cloudwatch::queries_for(&self.watch, region);
            let result = match self.clients.cloudwatch.get(region) {
                Some(client) => cloudwatch::read_lags(client, &queries, Utc::now())
                    .await
                    .map(|lags| Snapshot {
                        lags,
                        ..Snapshot::default()
                    }),
                None => Err(no_client(region)),
            };
            SourceReading {
                source: format!("cloudwatch:{region}"),
                taken_at: Utc::now(),
                result,
            }
        }))
        .await
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
        let (rds, route53, cloudwatch) =
            tokio::join!(self.read_rds(), self.read_route53(), self.read_cloudwatch());
        let mut readings = assemble_rds(rds, &self.watch.replicated_clusters);
        readings.push(route53);
        readings.extend(cloudwatch);
        readings
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn configuration(&self) -> Vec<ConfigReading> {
        super::config_facts::read(&self.clients).await
    }

    async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, SourceError> {
        let out = self
            .clients
            .route53
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
