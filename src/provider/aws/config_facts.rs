//! Configuration facts for readiness, read on demand (not every poll): per
//! region, one source for RDS (`DescribeDBClusters`, `DescribeDBInstances`,
//! `DescribeDBClusterParameterGroups`, `DescribeDBParameterGroups`, all
//! paginated, run together) and one for CloudWatch (`DescribeAlarms`,
//! metric alarms). The `map_*` functions are pure and unit-tested.

use std::collections::HashMap;

use aws_sdk_cloudwatch::types::{AlarmType, MetricAlarm};
use aws_sdk_rds::types::{
    DbCluster, DbClusterParameterGroup, DbInstance, DbInstanceAutomatedBackup, DbParameterGroup,
};
use chrono::Utc;
use futures::future::join_all;

use super::arn;
use super::clients::ReadClients;
use super::errors::from_sdk;
use super::rds::to_chrono;
use crate::domain::snapshot::SourceError;
use crate::readiness::facts::{
    AlarmConfig, BackupCopy, ClusterConfig, ConfigFacts, ConfigReading, InstanceConfig,
};

/// The IAM actions these reads need: the shipped policies grant them.
pub const IAM_ACTIONS: [&str; 6] = [
    "rds:DescribeDBClusters",
    "rds:DescribeDBInstances",
    "rds:DescribeDBClusterParameterGroups",
    "rds:DescribeDBParameterGroups",
    "rds:DescribeDBInstanceAutomatedBackups",
    "cloudwatch:DescribeAlarms",
];

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
    let (clusters, instances, cluster_groups, groups, automated) = tokio::try_join!(
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
        every_item!(
            client.describe_db_instance_automated_backups(),
            "DescribeDBInstanceAutomatedBackups"
        ),
    )?;
    let mut facts = map_rds(region, &clusters, &instances, &cluster_groups, &groups);
    facts.backup_copies = map_backup_copies(region, &automated);
    Ok(facts)
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
        ..ConfigFacts::default()
    }
}

/// Automated backups held here for an instance of another region.
pub fn map_backup_copies(region: &str, backups: &[DbInstanceAutomatedBackup]) -> Vec<BackupCopy> {
    backups
        .iter()
        .filter(|b| b.region().is_some_and(|source| source != region))
        .filter_map(|b| {
            let source = b
                .db_instance_identifier()
                .or_else(|| b.db_instance_arn().map(arn::resource_id))?;
            Some(BackupCopy {
                source: source.to_string(),
                region: region.to_string(),
                latest_restorable: b
                    .restore_window()
                    .and_then(|w| w.latest_time())
                    .and_then(to_chrono),
            })
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
    use aws_sdk_cloudwatch::types::Dimension;
    use aws_sdk_rds::operation::describe_db_cluster_parameter_groups::DescribeDbClusterParameterGroupsOutput;
    use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
    use aws_sdk_rds::operation::describe_db_instance_automated_backups::DescribeDbInstanceAutomatedBackupsOutput;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
    use aws_sdk_rds::operation::describe_db_parameter_groups::DescribeDbParameterGroupsOutput;
    use aws_sdk_rds::types::{DbClusterMember, DbParameterGroupStatus, RestoreWindow};
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use aws_smithy_types::body::SdkBody;

    use super::*;
    use crate::domain::snapshot::ErrorKind;
    use crate::provider::aws::budget::{Budget, BudgetSettings};
    use crate::provider::aws::sdk_config;

    const EAST: &str = "us-east-1";
    const WEST: &str = "us-west-2";

    fn cluster(id: &str, version: &str, group: &str, protected: bool) -> DbCluster {
        DbCluster::builder()
            .db_cluster_identifier(id)
            .status("available")
            .engine("aurora-postgresql")
            .engine_version(version)
            .db_cluster_parameter_group(group)
            .deletion_protection(protected)
            .backup_retention_period(7)
            .db_cluster_members(
                DbClusterMember::builder()
                    .db_instance_identifier(format!("{id}-1"))
                    .build(),
            )
            .build()
    }

    fn aurora_instance(id: &str, cluster: &str, class: &str) -> DbInstance {
        DbInstance::builder()
            .db_instance_identifier(id)
            .db_cluster_identifier(cluster)
            .db_instance_class(class)
            .engine("aurora-postgresql")
            .build()
    }

    fn rds_rules(
        clusters: Vec<DbCluster>,
        instances: Vec<DbInstance>,
        family: &'static str,
        copies: Vec<DbInstanceAutomatedBackup>,
    ) -> Vec<Rule> {
        vec![
            mock!(aws_sdk_rds::Client::describe_db_clusters).then_output(move || {
                DescribeDbClustersOutput::builder()
                    .set_db_clusters(Some(clusters.clone()))
                    .build()
            }),
            mock!(aws_sdk_rds::Client::describe_db_instances).then_output(move || {
                DescribeDbInstancesOutput::builder()
                    .set_db_instances(Some(instances.clone()))
                    .build()
            }),
            mock!(aws_sdk_rds::Client::describe_db_cluster_parameter_groups).then_output(
                move || {
                    DescribeDbClusterParameterGroupsOutput::builder()
                        .db_cluster_parameter_groups(
                            DbClusterParameterGroup::builder()
                                .db_cluster_parameter_group_name("orders-params")
                                .db_parameter_group_family(family)
                                .build(),
                        )
                        .build()
                },
            ),
            mock!(aws_sdk_rds::Client::describe_db_instance_automated_backups).then_output(
                move || {
                    DescribeDbInstanceAutomatedBackupsOutput::builder()
                        .set_db_instance_automated_backups(Some(copies.clone()))
                        .build()
                },
            ),
            mock!(aws_sdk_rds::Client::describe_db_parameter_groups).then_output(|| {
                DescribeDbParameterGroupsOutput::builder()
                    .db_parameter_groups(
                        DbParameterGroup::builder()
                            .db_parameter_group_name("billing-params")
                            .db_parameter_group_family("postgres15")
                            .build(),
                    )
                    .build()
            }),
        ]
    }

    fn rds_client(rules: &[Rule]) -> aws_sdk_rds::Client {
        mock_client!(aws_sdk_rds, RuleMode::MatchAny, rules, |c| c
            .retry_config(sdk_config::retry_config()))
    }

    fn cloudwatch_client(rules: &[Rule]) -> aws_sdk_cloudwatch::Client {
        mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, rules)
    }

    fn alarms(alarms: Vec<MetricAlarm>) -> aws_sdk_cloudwatch::Client {
        cloudwatch_client(&[
            mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(move || {
                DescribeAlarmsOutput::builder()
                    .set_metric_alarms(Some(alarms.clone()))
                    .build()
            }),
        ])
    }

    fn clients(
        rds: [(&str, aws_sdk_rds::Client); 2],
        cloudwatch: [(&str, aws_sdk_cloudwatch::Client); 2],
    ) -> ReadClients {
        ReadClients {
            rds: rds
                .into_iter()
                .map(|(r, c)| (r.to_string(), c))
                .collect::<BTreeMap<_, _>>(),
            cloudwatch: cloudwatch
                .into_iter()
                .map(|(r, c)| (r.to_string(), c))
                .collect(),
            route53: mock_client!(aws_sdk_route53, RuleMode::MatchAny, &[]),
            route53_changes: mock_client!(aws_sdk_route53, RuleMode::MatchAny, &[]),
            budget: Arc::new(Budget::new(BudgetSettings::default())),
        }
    }

    fn facts<'a>(readings: &'a [ConfigReading], source: &str) -> &'a ConfigFacts {
        let reading = readings.iter().find(|r| r.source == source).unwrap();
        reading
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("{source}: {e}"))
    }

    #[tokio::test]
    async fn both_regions_configuration_is_read_with_families_classes_and_alarms() {
        let east = rds_client(&rds_rules(
            vec![cluster("orders-primary", "15.4", "orders-params", true)],
            vec![
                aurora_instance("orders-primary-1", "orders-primary", "db.r6g.large"),
                DbInstance::builder()
                    .db_instance_identifier("billing-db")
                    .db_instance_class("db.m6g.large")
                    .engine("postgres")
                    .engine_version("15.4")
                    .db_instance_status("available")
                    .deletion_protection(true)
                    .backup_retention_period(14)
                    .db_parameter_groups(
                        DbParameterGroupStatus::builder()
                            .db_parameter_group_name("billing-params")
                            .build(),
                    )
                    .build(),
            ],
            "aurora-postgresql15",
            vec![],
        ));
        // The secondary drifted: older minor version, no instance, unprotected.
        let west = rds_client(&rds_rules(
            vec![cluster("orders-secondary", "15.3", "orders-params", false)],
            vec![],
            "aurora-postgresql14",
            vec![
                // billing-db's backups replicated here, and a local one.
                DbInstanceAutomatedBackup::builder()
                    .db_instance_arn("arn:aws:rds:us-east-1:123456789012:db:billing-db")
                    .region(EAST)
                    .restore_window(
                        RestoreWindow::builder()
                            .latest_time(aws_smithy_types::DateTime::from_secs(1_795_000_000))
                            .build(),
                    )
                    .build(),
                DbInstanceAutomatedBackup::builder()
                    .db_instance_identifier("local-db")
                    .region(WEST)
                    .build(),
            ],
        ));
        let lag_alarm = MetricAlarm::builder()
            .alarm_name("orders-lag")
            .namespace("AWS/RDS")
            .metric_name("AuroraGlobalDBRPOLag")
            .dimensions(
                Dimension::builder()
                    .name("DBClusterIdentifier")
                    .value("orders-secondary")
                    .build(),
            )
            .actions_enabled(true)
            .build();
        let readings = read(&clients(
            [(EAST, east), (WEST, west)],
            [(EAST, alarms(vec![])), (WEST, alarms(vec![lag_alarm]))],
        ))
        .await;
        assert_eq!(readings.len(), 4);

        let east = facts(&readings, "config:rds:us-east-1");
        let primary = &east.clusters[0];
        assert_eq!(primary.engine_version, "15.4");
        assert_eq!(
            primary.parameter_group_family.as_deref(),
            Some("aurora-postgresql15")
        );
        assert_eq!(primary.instance_classes, vec!["db.r6g.large"]);
        assert!(primary.deletion_protection);
        // Aurora instances belong to their cluster, not the instance list.
        assert_eq!(east.instances.len(), 1);
        let billing = &east.instances[0];
        assert_eq!(
            billing.parameter_group_family.as_deref(),
            Some("postgres15")
        );
        assert_eq!(
            (billing.retention_days, billing.instance_class.as_str()),
            (14, "db.m6g.large")
        );

        let west = facts(&readings, "config:rds:us-west-2");
        let secondary = &west.clusters[0];
        assert_eq!(secondary.region, WEST);
        assert_eq!(secondary.engine_version, "15.3");
        assert_eq!(
            secondary.parameter_group_family.as_deref(),
            Some("aurora-postgresql14")
        );
        assert!(secondary.instance_classes.is_empty(), "headless");
        assert!(!secondary.deletion_protection);

        assert_eq!(
            west.backup_copies,
            vec![BackupCopy {
                source: "billing-db".into(),
                region: WEST.into(),
                latest_restorable: chrono::DateTime::from_timestamp(1_795_000_000, 0),
            }]
        );
        assert!(east.backup_copies.is_empty());

        let alarms = &facts(&readings, "config:cloudwatch:us-west-2").alarms;
        assert_eq!(alarms.len(), 1);
        assert!(alarms[0].watches(
            "AuroraGlobalDBRPOLag",
            "DBClusterIdentifier",
            "orders-secondary"
        ));
        assert!(
            facts(&readings, "config:cloudwatch:us-east-1")
                .alarms
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_denied_describe_fails_its_regions_rds_source_only() {
        let denied = mock!(aws_sdk_rds::Client::describe_db_parameter_groups).then_http_response(|| {
            aws_sdk_rds::config::http::HttpResponse::new(
                403.try_into().unwrap(),
                SdkBody::from(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
                     <Message>not authorized to perform rds:DescribeDBParameterGroups</Message></Error>\
                     <RequestId>r-1</RequestId></ErrorResponse>",
                ),
            )
        });
        let mut west_rules = vec![denied];
        west_rules.extend(rds_rules(vec![], vec![], "aurora-postgresql15", vec![]));
        let readings = read(&clients(
            [
                (
                    EAST,
                    rds_client(&rds_rules(vec![], vec![], "aurora-postgresql15", vec![])),
                ),
                (WEST, rds_client(&west_rules)),
            ],
            [(EAST, alarms(vec![])), (WEST, alarms(vec![]))],
        ))
        .await;
        let west = readings
            .iter()
            .find(|r| r.source == "config:rds:us-west-2")
            .unwrap();
        let error = west.result.as_ref().unwrap_err();
        assert_eq!(error.kind, ErrorKind::AccessDenied, "{error}");
        assert!(
            error.message.contains("DescribeDBParameterGroups"),
            "{error}"
        );
        assert!(
            readings
                .iter()
                .filter(|r| r.source != "config:rds:us-west-2")
                .all(|r| r.result.is_ok())
        );
    }
}
