//! What each simulated source reports, shaped like the AWS responses the
//! real provider maps: `rds:<region>` (global clusters, clusters, instances),
//! `cloudwatch:<region>` (lag metrics), `route53` (health checks, records).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::health::CHECKERS;
use super::model::{
    AURORA_ENGINE, AURORA_VERSION, Cluster, Membership, Model, RDS_ENGINE, S3_WRITES_PER_SECOND,
    SyncStatus,
};
use crate::domain::snapshot::{
    ClusterRole, DbClusterObs, DbInstanceObs, GlobalClusterObs, GlobalMember, HealthCheckObs,
    LagKind, LagObs, Snapshot,
};

/// `AuroraGlobalDBRPOLag` runs slightly behind the replication lag itself.
const RPO_LAG_MARGIN: f64 = 0.08;

/// Every source the world reports, in a stable order.
pub(super) fn source_ids(model: &Model) -> Vec<String> {
    let mut ids: Vec<String> = model
        .regions
        .iter()
        .map(|r| format!("rds:{}", r.name))
        .collect();
    ids.extend(
        model
            .regions
            .iter()
            .map(|r| format!("cloudwatch:{}", r.name)),
    );
    ids.push("route53".into());
    ids
}

pub(super) fn rds(model: &Model, region: usize) -> Snapshot {
    let now = model.time;
    let region_name = &model.regions[region].name;
    let global_clusters = model
        .globals
        .iter()
        .filter(|g| g.home_region == region)
        .map(|g| GlobalClusterObs {
            id: g.id.clone(),
            engine: AURORA_ENGINE.into(),
            status: g
                .operation
                .as_ref()
                .map_or("available", |op| op.kind.status())
                .into(),
            members: g
                .members
                .iter()
                .map(|&c| {
                    let cluster = &model.clusters[c];
                    GlobalMember {
                        cluster_id: cluster.id.clone(),
                        cluster_arn: cluster.arn.clone(),
                        region: model.regions[cluster.region].name.clone(),
                        is_writer: cluster.membership == Membership::Writer,
                        synchronization_status: match cluster.membership {
                            Membership::Secondary(SyncStatus::Connected) => {
                                Some("connected".into())
                            }
                            Membership::Secondary(SyncStatus::PendingResync) => {
                                Some("pending-resync".into())
                            }
                            _ => None,
                        },
                    }
                })
                .collect(),
        })
        .collect();
    let down_since = model.regions[region].down_since;
    let as_of = down_since.unwrap_or(now);
    let db_clusters = model
        .clusters
        .iter()
        .filter(|c| c.region == region)
        .map(|c| DbClusterObs {
            id: c.id.clone(),
            arn: c.arn.clone(),
            region: region_name.clone(),
            engine: AURORA_ENGINE.into(),
            engine_version: AURORA_VERSION.into(),
            status: status(down_since, c.operation).into(),
            role: role(c),
            global_cluster_id: c.global.map(|g| model.globals[g].id.clone()),
            endpoint: Some(c.endpoint.clone()),
            backup: c.backup.observe(as_of),
        })
        .collect();
    // Each instance's replicas, found in one pass: a search per instance
    // would make a poll quadratic in the estate.
    let mut replicas_of: Vec<Vec<String>> = vec![Vec::new(); model.instances.len()];
    for replica in &model.instances {
        if let Some(source) = replica.replica_of {
            replicas_of[source].push(replica.arn.clone());
        }
    }
    let db_instances = model
        .instances
        .iter()
        .zip(replicas_of)
        .filter(|(i, _)| i.region == region)
        .map(|(i, replicas)| DbInstanceObs {
            id: i.id.clone(),
            arn: i.arn.clone(),
            region: region_name.clone(),
            engine: RDS_ENGINE.into(),
            status: status(down_since, i.operation).into(),
            replica_source: i.replica_of.map(|s| model.instances[s].arn.clone()),
            replicas,
            endpoint: Some(i.endpoint.clone()),
            backup: i.backup.observe(as_of),
        })
        .collect();
    Snapshot {
        global_clusters,
        db_clusters,
        db_instances,
        ..Snapshot::default()
    }
}

fn status(down_since: Option<DateTime<Utc>>, operation: Option<&'static str>) -> &'static str {
    match (down_since, operation) {
        (Some(_), _) => "inaccessible",
        (None, Some(op)) => op,
        (None, None) => "available",
    }
}

fn role(cluster: &Cluster) -> ClusterRole {
    match cluster.membership {
        Membership::Writer | Membership::Standalone { detached: false } => ClusterRole::Primary,
        Membership::Secondary(_) => ClusterRole::Secondary,
        Membership::Standalone { detached: true } => ClusterRole::Standalone,
    }
}

/// Lag metrics published in `region`: Aurora and RDS metrics in the
/// receiving region, S3 replication metrics in the source bucket's region.
pub(super) fn cloudwatch(model: &Model, region: usize) -> Snapshot {
    let mut lags = Vec::new();
    for cluster in model.clusters.iter().filter(|c| c.region == region) {
        let (Membership::Secondary(sync), Some(global)) = (cluster.membership, cluster.global)
        else {
            continue;
        };
        let lag = (sync == SyncStatus::Connected && !model.region_down(region))
            .then(|| model.secondary_lag(cluster, global))
            .map(seconds);
        lags.push(LagObs {
            resource_id: cluster.id.clone(),
            region: model.regions[region].name.clone(),
            kind: LagKind::AuroraGlobal,
            lag,
            rpo_lag: lag.map(|l| l + Duration::from_secs_f64(RPO_LAG_MARGIN)),
            pending_operations: None,
        });
    }
    for instance in model.instances.iter().filter(|i| i.region == region) {
        let Some(source) = instance.replica_of else {
            continue;
        };
        let lag = (!model.region_down(region))
            .then(|| Duration::from_secs(model.replica_lag(instance, source).round() as u64));
        lags.push(LagObs {
            resource_id: instance.id.clone(),
            region: model.regions[region].name.clone(),
            kind: LagKind::RdsReplica,
            lag,
            rpo_lag: None,
            pending_operations: None,
        });
    }
    for bucket in model.buckets.iter().filter(|b| b.source_region == region) {
        // Either side being down stops replication; the source keeps counting.
        let sides = [bucket.source_region, bucket.destination_region];
        let lag = model.stalled_lag(&sides, bucket.lag.seconds());
        lags.push(LagObs {
            resource_id: bucket.destination.clone(),
            region: model.regions[bucket.destination_region].name.clone(),
            kind: LagKind::S3,
            lag: Some(seconds(lag)),
            rpo_lag: None,
            pending_operations: Some((lag * S3_WRITES_PER_SECOND).round() as u64),
        });
    }
    Snapshot {
        lags,
        ..Snapshot::default()
    }
}

fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX)
}

pub(super) fn route53(model: &Model) -> Snapshot {
    let health_checks = model
        .health_checks
        .iter()
        .map(|h| HealthCheckObs {
            id: h.id.clone(),
            region: model.regions[h.region].name.clone(),
            fqdn: h.fqdn.clone(),
            status: h.status(),
            checkers_healthy: h.checkers_healthy(),
            checkers_total: CHECKERS,
            failure_threshold: h.failure_threshold,
            disabled: h.disabled,
            inverted: h.inverted,
        })
        .collect();
    let dns_records = model.records.clone();
    Snapshot {
        health_checks,
        dns_records,
        ..Snapshot::default()
    }
}
