//! Configuration facts for readiness, read on demand (not every poll): per
//! region, one source for RDS (`DescribeDBClusters`, `DescribeDBInstances`,
//! `DescribeDBClusterParameterGroups`, `DescribeDBParameterGroups`, all
//! paginated, run together) and one for CloudWatch (`DescribeAlarms`,
//! metric alarms). The `map_*` functions are pure and unit-tested.

use std::collections::HashMap;

use aws_sdk_cloudwatch::types::{AlarmType, MetricAlarm};
use aws_sdk_rds::types::{DbCluster, DbClusterParameterGroup, DbInstance, DbParameterGroup};
use chrono::Utc;
use futures::future::join_all;

use super::clients::ReadClients;
use super::errors::from_sdk;
use crate::domain::snapshot::SourceError;
use crate::readiness::facts::{
    AlarmConfig, ClusterConfig, ConfigFacts, ConfigReading, InstanceConfig,
};

/// The API's largest page for each of these calls.
const RDS_PAGE: i32 = 100;
const ALARM_PAGE: i32 = 100;

macro_rules! every_item {
    ($request:expr, $operation:literal) => {
        async {
            let items: Result<Vec<_>, _> = $request
                .max_records(RDS_PAGE)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await;
            items.map_err(|e| from_sdk($operation, e))
        }
    };
}

/// Both sources of every region the clients cover.
pub async fn read(clients: &ReadClients) -> Vec<ConfigReading> {
    let rds = join_all(clients.rds.iter().map(|(region, client)| async move {
        reading("rds", region, read_rds(client, region).await)
    }));
    let alarms = join_all(
        clients
            .cloudwatch
            .iter()
            .map(|(region, client)| async move {
                reading("cloudwatch", region, read_alarms(client, region).await)
            }),
    );
    let (rds, alarms) = tokio::join!(rds, alarms);
    rds.into_iter().chain(alarms).collect()
}

fn reading(kind: &str, region: &str, result: Result<ConfigFacts, SourceError>) -> ConfigReading {
    ConfigReading {
        source: format!("config:{kind}:{region}"),
        region: region.to_string(),
        taken_at: Utc::now(),
        result,
    }
}

async fn read_rds(client: &aws_sdk_rds::Client, region: &str) -> Result<ConfigFacts, SourceError> {
    let (clusters, instances, cluster_groups, groups) = tokio::try_join!(
        every_item!(client.describe_db_clusters(), "DescribeDBClusters"),
        every_item!(client.describe_db_instances(), "DescribeDBInstances"),
        every_item!(
            client.describe_db_cluster_parameter_groups(),
            "DescribeDBClusterParameterGroups"
        ),
        every_item!(
            client.describe_db_parameter_groups(),
            "DescribeDBParameterGroups"
        ),
    )?;
    Ok(map_rds(
        region,
        &clusters,
        &instances,
        &cluster_groups,
        &groups,
    ))
}

async fn read_alarms(
    client: &aws_sdk_cloudwatch::Client,
    region: &str,
) -> Result<ConfigFacts, SourceError> {
    let pages: Vec<_> = client
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .max_records(ALARM_PAGE)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| from_sdk("DescribeAlarms", e))?;
    let alarms: Vec<MetricAlarm> = pages
        .into_iter()
        .flat_map(|p| p.metric_alarms.unwrap_or_default())
        .collect();
    Ok(ConfigFacts {
        alarms: map_alarms(region, &alarms),
        ..ConfigFacts::default()
    })
}

/// Clusters and instances with their parameter groups' families; a
/// cluster's instance classes come from the instances naming it.
pub fn map_rds(
    region: &str,
    clusters: &[DbCluster],
    instances: &[DbInstance],
    cluster_groups: &[DbClusterParameterGroup],
    groups: &[DbParameterGroup],
) -> ConfigFacts {
    let cluster_family: HashMap<&str, &str> = cluster_groups
        .iter()
        .filter_map(|g| {
            Some((
                g.db_cluster_parameter_group_name()?,
                g.db_parameter_group_family()?,
            ))
        })
        .collect();
    let family: HashMap<&str, &str> = groups
        .iter()
        .filter_map(|g| Some((g.db_parameter_group_name()?, g.db_parameter_group_family()?)))
        .collect();
    let retention = |days: Option<i32>| days.and_then(|d| u32::try_from(d).ok()).unwrap_or(0);
    let clusters = clusters
        .iter()
        .filter_map(|c| {
            let id = c.db_cluster_identifier()?;
            let group = c.db_cluster_parameter_group();
            Some(ClusterConfig {
                id: id.to_string(),
                region: region.to_string(),
                status: c.status().unwrap_or("unknown").to_string(),
                engine: c.engine().unwrap_or_default().to_string(),
                engine_version: c.engine_version().unwrap_or_default().to_string(),
                parameter_group: group.map(str::to_string),
                parameter_group_family: group
                    .and_then(|g| cluster_family.get(g))
                    .map(|f| f.to_string()),
                deletion_protection: c.deletion_protection().unwrap_or(false),
                retention_days: retention(c.backup_retention_period()),
                instance_classes: instances
                    .iter()
                    .filter(|i| i.db_cluster_identifier() == Some(id))
                    .filter_map(|i| i.db_instance_class())
                    .map(str::to_string)
                    .collect(),
            })
        })
        .collect();
    // Aurora instances are described by their cluster.
    let instances = instances
        .iter()
        .filter(|i| i.db_cluster_identifier().is_none())
        .filter_map(|i| {
            let group = i
                .db_parameter_groups()
                .first()
                .and_then(|g| g.db_parameter_group_name());
            Some(InstanceConfig {
                id: i.db_instance_identifier()?.to_string(),
                region: region.to_string(),
                status: i.db_instance_status().unwrap_or("unknown").to_string(),
                engine: i.engine().unwrap_or_default().to_string(),
                engine_version: i.engine_version().unwrap_or_default().to_string(),
                instance_class: i.db_instance_class().unwrap_or_default().to_string(),
                parameter_group: group.map(str::to_string),
                parameter_group_family: group.and_then(|g| family.get(g)).map(|f| f.to_string()),
                deletion_protection: i.deletion_protection().unwrap_or(false),
                retention_days: retention(i.backup_retention_period()),
            })
        })
        .collect();
    ConfigFacts {
        clusters,
        instances,
        alarms: Vec::new(),
    }
}

pub fn map_alarms(region: &str, alarms: &[MetricAlarm]) -> Vec<AlarmConfig> {
    alarms
        .iter()
        .filter_map(|a| {
            Some(AlarmConfig {
                name: a.alarm_name()?.to_string(),
                region: region.to_string(),
                namespace: a.namespace().unwrap_or_default().to_string(),
                metric: a.metric_name()?.to_string(),
                dimensions: a
                    .dimensions()
                    .iter()
                    .filter_map(|d| Some((d.name()?.to_string(), d.value()?.to_string())))
                    .collect(),
                actions_enabled: a.actions_enabled().unwrap_or(false),
            })
        })
        .collect()
}
