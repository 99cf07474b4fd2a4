//! RDS reads for one region and their mapping into observations.
//!
//! [`read_region`] makes the calls (all paginated, run concurrently); the
//! `map_*` functions are pure so every odd answer AWS can give is unit-tested.

use std::collections::{HashMap, HashSet};

use aws_sdk_rds::Client;
use aws_sdk_rds::types::{
    DbCluster, DbClusterSnapshot, DbInstance, DbInstanceAutomatedBackup, DbSnapshot, GlobalCluster,
};
use chrono::{DateTime, Utc};

use super::arn;
use super::errors::from_sdk;
use crate::domain::snapshot::{
    BackupObs, ClusterRole, DbClusterObs, DbInstanceObs, GlobalClusterObs, GlobalMember,
    SourceError,
};

/// Page size for every Describe call (the API's maximum is 100).
const PAGE_SIZE: i32 = 100;

/// Everything one region's RDS API said in one poll, as the SDK typed it.
#[derive(Debug, Clone, Default)]
pub struct RegionRead {
    pub global_clusters: Vec<GlobalCluster>,
    pub clusters: Vec<DbCluster>,
    pub instances: Vec<DbInstance>,
    pub cluster_snapshots: Vec<DbClusterSnapshot>,
    pub instance_snapshots: Vec<DbSnapshot>,
    pub automated_backups: Vec<DbInstanceAutomatedBackup>,
}

pub async fn read_region(client: &Client) -> Result<RegionRead, SourceError> {
    let (
        global_clusters,
        clusters,
        instances,
        cluster_snapshots,
        instance_snapshots,
        automated_backups,
    ) = tokio::try_join!(
        async {
            client
                .describe_global_clusters()
                .max_records(PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| from_sdk("DescribeGlobalClusters", e))
        },
        async {
            client
                .describe_db_clusters()
                .max_records(PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| from_sdk("DescribeDBClusters", e))
        },
        async {
            client
                .describe_db_instances()
                .max_records(PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| from_sdk("DescribeDBInstances", e))
        },
        async {
            client
                .describe_db_cluster_snapshots()
                .max_records(PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| from_sdk("DescribeDBClusterSnapshots", e))
        },
        async {
            client
                .describe_db_snapshots()
                .max_records(PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| from_sdk("DescribeDBSnapshots", e))
        },
        async {
            client
                .describe_db_instance_automated_backups()
                .max_records(PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| from_sdk("DescribeDBInstanceAutomatedBackups", e))
        },
    )?;
    Ok(RegionRead {
        global_clusters,
        clusters,
        instances,
        cluster_snapshots,
        instance_snapshots,
        automated_backups,
    })
}

pub fn to_chrono(t: &aws_smithy_types::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

pub fn map_global_cluster(g: &GlobalCluster) -> Option<GlobalClusterObs> {
    let id = g.global_cluster_identifier()?;
    let members = g
        .global_cluster_members()
        .iter()
        .filter_map(|m| {
            let cluster_arn = m.db_cluster_arn()?;
            Some(GlobalMember {
                cluster_id: arn::resource_id(cluster_arn).to_string(),
                cluster_arn: cluster_arn.to_string(),
                region: arn::region(cluster_arn).unwrap_or_default().to_string(),
                is_writer: m.is_writer().unwrap_or(false),
                synchronization_status: m.synchronization_status().map(|s| s.as_str().to_string()),
            })
        })
        .collect();
    Some(GlobalClusterObs {
        id: id.to_string(),
        engine: g.engine().unwrap_or_default().to_string(),
        status: g.status().unwrap_or("unknown").to_string(),
        members,
    })
}

/// A cluster's place in replication.
///
/// `membership` is its writer flag in a global cluster that lists it;
/// `was_replicated` says it is known (from the environment, or AWS's own
/// `GlobalClusterIdentifier`) to belong to replication, so that a cluster
/// that left it reads as standalone rather than as an ordinary primary.
pub fn cluster_role(c: &DbCluster, membership: Option<bool>, was_replicated: bool) -> ClusterRole {
    match membership {
        Some(true) => ClusterRole::Primary,
        Some(false) => ClusterRole::Secondary,
        None if c.replication_source_identifier().is_some() => ClusterRole::Secondary,
        None if was_replicated || c.global_cluster_identifier().is_some() => {
            ClusterRole::Standalone
        }
        None => ClusterRole::Primary,
    }
}

/// Writer flag of every global cluster member, by member ARN.
pub fn global_membership(globals: &[GlobalCluster]) -> HashMap<String, (String, bool)> {
    globals
        .iter()
        .flat_map(|g| {
            let gid = g
                .global_cluster_identifier()
                .unwrap_or_default()
                .to_string();
            g.global_cluster_members().iter().filter_map(move |m| {
                Some((
                    m.db_cluster_arn()?.to_string(),
                    (gid.clone(), m.is_writer().unwrap_or(false)),
                ))
            })
        })
        .collect()
}

pub fn map_cluster(
    region: &str,
    c: &DbCluster,
    membership: &HashMap<String, (String, bool)>,
    replicated: &HashSet<String>,
    newest_snapshot: Option<DateTime<Utc>>,
) -> Option<DbClusterObs> {
    let id = c.db_cluster_identifier()?;
    let arn = c.db_cluster_arn().unwrap_or_default();
    let member = membership.get(arn);
    Some(DbClusterObs {
        id: id.to_string(),
        arn: arn.to_string(),
        region: region.to_string(),
        engine: c.engine().unwrap_or_default().to_string(),
        engine_version: c.engine_version().unwrap_or_default().to_string(),
        status: c.status().unwrap_or("unknown").to_string(),
        role: cluster_role(c, member.map(|(_, w)| *w), replicated.contains(id)),
        global_cluster_id: member.map(|(g, _)| g.clone()),
        endpoint: c.endpoint().map(str::to_string),
        backup: BackupObs {
            latest_restorable: c.latest_restorable_time().and_then(to_chrono),
            retention_days: retention(c.backup_retention_period()),
            newest_snapshot,
            // Aurora has no cross-region automated backup replication; its
            // cross-region copy is the global database itself.
            cross_region_copy: false,
        },
    })
}

pub fn map_instance(
    region: &str,
    i: &DbInstance,
    newest_snapshot: Option<DateTime<Utc>>,
) -> Option<DbInstanceObs> {
    let id = i.db_instance_identifier()?;
    Some(DbInstanceObs {
        id: id.to_string(),
        arn: i.db_instance_arn().unwrap_or_default().to_string(),
        region: region.to_string(),
        engine: i.engine().unwrap_or_default().to_string(),
        status: i.db_instance_status().unwrap_or("unknown").to_string(),
        replica_source: i
            .read_replica_source_db_instance_identifier()
            .map(str::to_string),
        replicas: i
            .read_replica_db_instance_identifiers()
            .iter()
            .map(|r| arn::resource_id(r).to_string())
            .collect(),
        endpoint: i.endpoint().and_then(|e| e.address()).map(str::to_string),
        backup: BackupObs {
            latest_restorable: i.latest_restorable_time().and_then(to_chrono),
            retention_days: retention(i.backup_retention_period()),
            newest_snapshot,
            cross_region_copy: !i.db_instance_automated_backups_replications().is_empty(),
        },
    })
}

fn retention(days: Option<i32>) -> u32 {
    days.and_then(|d| u32::try_from(d).ok()).unwrap_or(0)
}

/// Newest snapshot time per owner identifier.
fn newest_by<'a>(
    items: impl Iterator<Item = (Option<&'a str>, Option<&'a aws_smithy_types::DateTime>)>,
) -> HashMap<String, DateTime<Utc>> {
    let mut newest: HashMap<String, DateTime<Utc>> = HashMap::new();
    for (owner, created) in items {
        let (Some(owner), Some(created)) = (owner, created.and_then(to_chrono)) else {
            continue;
        };
        newest
            .entry(owner.to_string())
            .and_modify(|t| *t = (*t).max(created))
            .or_insert(created);
    }
    newest
}

/// ARNs of source instances whose automated backups this region holds a
/// replicated copy of (the copy lives in the destination region).
pub fn replicated_backup_sources(region: &str, read: &RegionRead) -> HashSet<String> {
    read.automated_backups
        .iter()
        .filter(|b| b.region().is_some_and(|source| source != region))
        .filter_map(|b| b.db_instance_arn().map(str::to_string))
        .collect()
}

/// Clusters and instances of one region. Aurora instances are left out:
/// their cluster carries their role and backups.
pub fn map_region(
    region: &str,
    read: &RegionRead,
    replicated: &HashSet<String>,
) -> (Vec<DbClusterObs>, Vec<DbInstanceObs>) {
    let membership = global_membership(&read.global_clusters);
    let cluster_snaps = newest_by(
        read.cluster_snapshots
            .iter()
            .map(|s| (s.db_cluster_identifier(), s.snapshot_create_time())),
    );
    let instance_snaps = newest_by(
        read.instance_snapshots
            .iter()
            .map(|s| (s.db_instance_identifier(), s.snapshot_create_time())),
    );
    let clusters = read
        .clusters
        .iter()
        .filter_map(|c| {
            let snap = c
                .db_cluster_identifier()
                .and_then(|id| cluster_snaps.get(id).copied());
            map_cluster(region, c, &membership, replicated, snap)
        })
        .collect();
    let instances = read
        .instances
        .iter()
        .filter(|i| i.db_cluster_identifier().is_none())
        .filter_map(|i| {
            let snap = i
                .db_instance_identifier()
                .and_then(|id| instance_snaps.get(id).copied());
            map_instance(region, i, snap)
        })
        .collect();
    (clusters, instances)
}
