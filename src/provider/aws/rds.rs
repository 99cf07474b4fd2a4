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

/// Every page of one paginated describe call, collected into one list.
/// A macro because each SDK paginator is its own type.
macro_rules! all_pages {
    ($request:expr, $operation:literal) => {
        async {
            $request
                .max_records(PAGE_SIZE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| from_sdk($operation, e))
        }
    };
}

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
        all_pages!(client.describe_global_clusters(), "DescribeGlobalClusters"),
        all_pages!(client.describe_db_clusters(), "DescribeDBClusters"),
        all_pages!(client.describe_db_instances(), "DescribeDBInstances"),
        all_pages!(
            client.describe_db_cluster_snapshots(),
            "DescribeDBClusterSnapshots"
        ),
        all_pages!(client.describe_db_snapshots(), "DescribeDBSnapshots"),
        all_pages!(
            client.describe_db_instance_automated_backups(),
            "DescribeDBInstanceAutomatedBackups"
        ),
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::{
        DbInstanceAutomatedBackupsReplication, Endpoint, GlobalClusterMember,
        GlobalClusterMemberSynchronizationStatus,
    };

    const WRITER: &str = "arn:aws:rds:us-east-1:123456789012:cluster:orders";
    const READER: &str = "arn:aws:rds:us-west-2:123456789012:cluster:orders-dr";

    fn t(secs: i64) -> aws_smithy_types::DateTime {
        aws_smithy_types::DateTime::from_secs(secs)
    }

    fn global() -> GlobalCluster {
        GlobalCluster::builder()
            .global_cluster_identifier("orders-global")
            .engine("aurora-postgresql")
            .global_cluster_members(
                GlobalClusterMember::builder()
                    .db_cluster_arn(WRITER)
                    .is_writer(true)
                    .build(),
            )
            .global_cluster_members(
                GlobalClusterMember::builder()
                    .db_cluster_arn(READER)
                    .synchronization_status(GlobalClusterMemberSynchronizationStatus::from(
                        "resyncing-in-a-future-way",
                    ))
                    .build(),
            )
            .global_cluster_members(GlobalClusterMember::builder().is_writer(false).build())
            .build()
    }

    #[test]
    fn global_cluster_members_keep_unknown_states_and_drop_nameless_ones() {
        let g = map_global_cluster(&global()).unwrap();
        assert_eq!(g.status, "unknown", "missing status");
        assert_eq!(g.members.len(), 2, "the member without an ARN is dropped");
        assert_eq!(g.writer().unwrap().cluster_id, "orders");
        let reader = &g.members[1];
        assert_eq!(reader.region, "us-west-2");
        assert!(!reader.is_writer, "missing IsWriter reads as a reader");
        assert_eq!(
            reader.synchronization_status.as_deref(),
            Some("resyncing-in-a-future-way")
        );
        assert_eq!(map_global_cluster(&GlobalCluster::builder().build()), None);
    }

    fn cluster(id: &str, arn: &str) -> aws_sdk_rds::types::builders::DbClusterBuilder {
        DbCluster::builder()
            .db_cluster_identifier(id)
            .db_cluster_arn(arn)
    }

    #[test]
    fn roles_follow_membership_then_replication_source_then_history() {
        let plain = cluster("orders", WRITER).build();
        assert_eq!(cluster_role(&plain, Some(true), true), ClusterRole::Primary);
        assert_eq!(
            cluster_role(&plain, Some(false), true),
            ClusterRole::Secondary
        );
        assert_eq!(cluster_role(&plain, None, true), ClusterRole::Standalone);
        assert_eq!(cluster_role(&plain, None, false), ClusterRole::Primary);
        let replica = cluster("orders-dr", READER)
            .replication_source_identifier(WRITER)
            .build();
        assert_eq!(cluster_role(&replica, None, false), ClusterRole::Secondary);
        let left_global = cluster("orders-dr", READER)
            .global_cluster_identifier("orders-global")
            .build();
        assert_eq!(
            cluster_role(&left_global, None, false),
            ClusterRole::Standalone,
            "AWS still names a global cluster that no longer lists it"
        );
    }

    #[test]
    fn clusters_map_with_missing_and_odd_fields() {
        let membership = global_membership(&[global()]);
        let c = cluster("orders-dr", READER)
            .backup_retention_period(-1)
            .latest_restorable_time(t(1_700_000_000))
            .build();
        let obs = map_cluster("us-west-2", &c, &membership, &HashSet::new(), None).unwrap();
        assert_eq!(obs.role, ClusterRole::Secondary);
        assert_eq!(obs.global_cluster_id.as_deref(), Some("orders-global"));
        assert_eq!(obs.status, "unknown");
        assert_eq!(
            obs.backup.retention_days, 0,
            "negative retention is no retention"
        );
        assert_eq!(
            obs.backup.latest_restorable,
            DateTime::from_timestamp(1_700_000_000, 0)
        );
        assert_eq!(obs.endpoint, None);
        assert_eq!(
            map_cluster(
                "us-west-2",
                &DbCluster::builder().build(),
                &membership,
                &HashSet::new(),
                None
            ),
            None
        );
    }

    #[test]
    fn instances_name_replicas_by_identifier_and_see_backup_replication() {
        let i = DbInstance::builder()
            .db_instance_identifier("billing")
            .db_instance_arn("arn:aws:rds:us-east-1:123456789012:db:billing")
            .db_instance_status("available")
            .read_replica_db_instance_identifiers(
                "arn:aws:rds:us-west-2:123456789012:db:billing-dr",
            )
            .read_replica_db_instance_identifiers("billing-local")
            .endpoint(
                Endpoint::builder()
                    .address("billing.abc.us-east-1.rds.amazonaws.com")
                    .build(),
            )
            .db_instance_automated_backups_replications(
                DbInstanceAutomatedBackupsReplication::builder()
                    .db_instance_automated_backups_arn(
                        "arn:aws:rds:us-west-2:123456789012:auto-backup:ab-1",
                    )
                    .build(),
            )
            .backup_retention_period(7)
            .build();
        let obs = map_instance("us-east-1", &i, None).unwrap();
        assert_eq!(obs.replicas, vec!["billing-dr", "billing-local"]);
        assert_eq!(obs.replica_source, None);
        assert_eq!(
            obs.endpoint.as_deref(),
            Some("billing.abc.us-east-1.rds.amazonaws.com")
        );
        assert!(obs.backup.cross_region_copy);
        assert_eq!(obs.backup.retention_days, 7);
        let bare = map_instance(
            "us-east-1",
            &DbInstance::builder().db_instance_identifier("x").build(),
            None,
        )
        .unwrap();
        assert_eq!(bare.status, "unknown");
        assert_eq!(bare.backup, BackupObs::default());
    }

    #[test]
    fn region_mapping_takes_the_newest_snapshot_and_skips_aurora_instances() {
        let read = RegionRead {
            clusters: vec![cluster("orders", WRITER).build()],
            instances: vec![
                DbInstance::builder()
                    .db_instance_identifier("billing")
                    .build(),
                DbInstance::builder()
                    .db_instance_identifier("orders-1")
                    .db_cluster_identifier("orders")
                    .build(),
            ],
            cluster_snapshots: vec![
                DbClusterSnapshot::builder()
                    .db_cluster_identifier("orders")
                    .snapshot_create_time(t(200))
                    .build(),
                DbClusterSnapshot::builder()
                    .db_cluster_identifier("orders")
                    .snapshot_create_time(t(300))
                    .build(),
                DbClusterSnapshot::builder()
                    .db_cluster_identifier("orders")
                    .build(),
            ],
            instance_snapshots: vec![
                DbSnapshot::builder()
                    .db_instance_identifier("billing")
                    .snapshot_create_time(t(50))
                    .build(),
            ],
            ..RegionRead::default()
        };
        let (clusters, instances) = map_region("us-east-1", &read, &HashSet::new());
        assert_eq!(
            clusters[0].backup.newest_snapshot,
            DateTime::from_timestamp(300, 0)
        );
        assert_eq!(instances.len(), 1);
        assert_eq!(instances[0].id, "billing");
        assert_eq!(
            instances[0].backup.newest_snapshot,
            DateTime::from_timestamp(50, 0)
        );
    }

    #[test]
    fn replicated_backups_point_back_at_their_source() {
        let read = RegionRead {
            automated_backups: vec![
                DbInstanceAutomatedBackup::builder()
                    .region("us-east-1")
                    .db_instance_arn("arn:aws:rds:us-east-1:123456789012:db:billing")
                    .build(),
                DbInstanceAutomatedBackup::builder()
                    .region("us-west-2")
                    .db_instance_arn("arn:aws:rds:us-west-2:123456789012:db:local")
                    .build(),
                DbInstanceAutomatedBackup::builder()
                    .db_instance_arn("arn:aws:rds:us-west-2:123456789012:db:no-region")
                    .build(),
            ],
            ..RegionRead::default()
        };
        let sources = replicated_backup_sources("us-west-2", &read);
        assert_eq!(
            sources,
            HashSet::from(["arn:aws:rds:us-east-1:123456789012:db:billing".to_string()])
        );
    }
}
