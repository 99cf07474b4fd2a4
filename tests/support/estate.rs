//! Seeds moto, through the SDK, with what a DR estate looks like: an Aurora
//! global database across two regions, an instance with a cross-region read
//! replica, health checks, and a hosted zone with a failover record pair.
//! Names carry a per-test prefix so tests share one server without clashing.

use aws_config::{Region, SdkConfig};
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, HealthCheckConfig, HealthCheckType, ResourceRecord,
    ResourceRecordSet, ResourceRecordSetFailover, RrType,
};
use drconsole::domain::environment::{
    DnsSpec, Environment, HealthCheckSpec, Replication, ServiceSpec, SimSettings,
};
use drconsole::domain::objectives::{DrTier, Objectives};
use std::time::Duration;

pub const PRIMARY: &str = "us-east-1";
pub const DR: &str = "us-west-2";

pub struct Estate {
    pub global: String,
    pub primary_cluster: String,
    pub secondary_cluster: String,
    pub source_instance: String,
    pub replica_instance: String,
    pub health_primary: String,
    pub health_secondary: String,
    pub zone_id: String,
    pub record: String,
    pub env: Environment,
}

pub fn rds(config: &SdkConfig, region: &str) -> aws_sdk_rds::Client {
    aws_sdk_rds::Client::from_conf(
        aws_sdk_rds::config::Builder::from(config)
            .region(Region::new(region.to_string()))
            .build(),
    )
}

pub fn route53(config: &SdkConfig) -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::new(config)
}

pub async fn create_cluster(
    client: &aws_sdk_rds::Client,
    id: &str,
    global: Option<&str>,
    source: Option<&str>,
) -> String {
    client
        .create_db_cluster()
        .db_cluster_identifier(id)
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .master_username("admin")
        .master_user_password("password-123")
        .backup_retention_period(7)
        .set_global_cluster_identifier(global.map(str::to_string))
        .set_replication_source_identifier(source.map(str::to_string))
        .send()
        .await
        .expect("CreateDBCluster")
        .db_cluster()
        .and_then(|c| c.db_cluster_arn())
        .expect("cluster arn")
        .to_string()
}

pub async fn create_global(client: &aws_sdk_rds::Client, id: &str) {
    client
        .create_global_cluster()
        .global_cluster_identifier(id)
        .engine("aurora-postgresql")
        .engine_version("15.4")
        .send()
        .await
        .expect("CreateGlobalCluster");
}

pub async fn create_health_check(client: &aws_sdk_route53::Client, fqdn: &str) -> String {
    client
        .create_health_check()
        .caller_reference(fqdn)
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::Https)
                .fully_qualified_domain_name(fqdn)
                .port(443)
                .resource_path("/health")
                .failure_threshold(2)
                .request_interval(10)
                .build()
                .expect("health check config"),
        )
        .send()
        .await
        .expect("CreateHealthCheck")
        .health_check()
        .map(|h| h.id().to_string())
        .expect("health check id")
}

pub fn failover_record(
    name: &str,
    role: ResourceRecordSetFailover,
    target: &str,
    health_check: &str,
) -> ResourceRecordSet {
    ResourceRecordSet::builder()
        .name(name)
        .r#type(RrType::Cname)
        .ttl(60)
        .set_identifier(role.as_str().to_ascii_lowercase())
        .failover(role)
        .health_check_id(health_check)
        .resource_records(
            ResourceRecord::builder()
                .value(target)
                .build()
                .expect("record"),
        )
        .build()
        .expect("record set")
}

pub async fn seed(config: &SdkConfig, prefix: &str) -> Estate {
    let east = rds(config, PRIMARY);
    let west = rds(config, DR);
    let global = format!("{prefix}-global");
    create_global(&east, &global).await;
    let primary_cluster = format!("{prefix}-orders");
    let secondary_cluster = format!("{prefix}-orders-dr");
    create_cluster(&east, &primary_cluster, Some(&global), None).await;
    create_cluster(&west, &secondary_cluster, Some(&global), None).await;

    let source_instance = format!("{prefix}-billing");
    let replica_instance = format!("{prefix}-billing-dr");
    let source_arn = east
        .create_db_instance()
        .db_instance_identifier(&source_instance)
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("password-123")
        .backup_retention_period(7)
        .send()
        .await
        .expect("CreateDBInstance")
        .db_instance()
        .and_then(|i| i.db_instance_arn())
        .expect("instance arn")
        .to_string();
    west.create_db_instance_read_replica()
        .db_instance_identifier(&replica_instance)
        .source_db_instance_identifier(&source_arn)
        .db_instance_class("db.t3.micro")
        .send()
        .await
        .expect("CreateDBInstanceReadReplica");

    let r53 = route53(config);
    let primary_fqdn = format!("{prefix}.{PRIMARY}.example.com");
    let secondary_fqdn = format!("{prefix}.{DR}.example.com");
    let health_primary = create_health_check(&r53, &primary_fqdn).await;
    let health_secondary = create_health_check(&r53, &secondary_fqdn).await;
    let zone_name = format!("{prefix}.example.com");
    let zone_id = r53
        .create_hosted_zone()
        .name(&zone_name)
        .caller_reference(&zone_name)
        .send()
        .await
        .expect("CreateHostedZone")
        .hosted_zone()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
        .expect("zone id");
    let record = format!("api.{zone_name}.");
    let batch = ChangeBatch::builder()
        .changes(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(failover_record(
                    &record,
                    ResourceRecordSetFailover::Primary,
                    &primary_fqdn,
                    &health_primary,
                ))
                .build()
                .expect("change"),
        )
        .changes(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(failover_record(
                    &record,
                    ResourceRecordSetFailover::Secondary,
                    &secondary_fqdn,
                    &health_secondary,
                ))
                .build()
                .expect("change"),
        )
        .build()
        .expect("batch");
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(batch)
        .send()
        .await
        .expect("ChangeResourceRecordSets");

    let objectives = Objectives {
        rto: Duration::from_secs(15 * 60),
        rpo: Duration::from_secs(60),
    };
    let env = Environment {
        name: prefix.to_string(),
        home_region: PRIMARY.to_string(),
        regions: vec![PRIMARY.to_string(), DR.to_string()],
        services: vec![
            ServiceSpec {
                id: "orders".into(),
                name: "Orders".into(),
                tier: DrTier::WarmStandby,
                objectives,
                primary_region: PRIMARY.into(),
                dr_region: DR.into(),
                replication: Replication::AuroraGlobal {
                    global_cluster: global.clone(),
                    primary_cluster: primary_cluster.clone(),
                    secondary_cluster: secondary_cluster.clone(),
                },
                health_checks: vec![
                    HealthCheckSpec {
                        id: health_primary.clone(),
                        region: PRIMARY.into(),
                        fqdn: primary_fqdn.clone(),
                        failure_threshold: 3,
                    },
                    HealthCheckSpec {
                        id: health_secondary.clone(),
                        region: DR.into(),
                        fqdn: secondary_fqdn.clone(),
                        failure_threshold: 3,
                    },
                ],
                dns: Some(DnsSpec {
                    zone_id: zone_id.clone(),
                    record: record.clone(),
                    primary_target: primary_fqdn,
                    secondary_target: secondary_fqdn,
                    ttl: 60,
                }),
            },
            ServiceSpec {
                id: "billing".into(),
                name: "Billing".into(),
                tier: DrTier::WarmStandby,
                objectives,
                primary_region: PRIMARY.into(),
                dr_region: DR.into(),
                replication: Replication::RdsReplica {
                    source_instance: source_instance.clone(),
                    replica_instance: replica_instance.clone(),
                },
                health_checks: vec![],
                dns: None,
            },
        ],
        sim: SimSettings::default(),
    };
    Estate {
        global,
        primary_cluster,
        secondary_cluster,
        source_instance,
        replica_instance,
        health_primary,
        health_secondary,
        zone_id,
        record,
        env,
    }
}

/// A global database whose writer is in the DR region and whose secondary
/// is in us-east-1: moto 5.2 applies `RemoveFromGlobalCluster` only to
/// members in us-east-1 (where it stores global clusters).
pub struct ReverseGlobal {
    pub global: String,
    pub writer: String,
    pub member: String,
    pub member_arn: String,
    pub env: Environment,
}

pub async fn seed_reverse_global(config: &SdkConfig, prefix: &str) -> ReverseGlobal {
    let east = rds(config, PRIMARY);
    let west = rds(config, DR);
    let global = format!("{prefix}-global");
    create_global(&east, &global).await;
    let writer = format!("{prefix}-writer");
    let member = format!("{prefix}-member");
    create_cluster(&west, &writer, Some(&global), None).await;
    let member_arn = create_cluster(&east, &member, Some(&global), None).await;
    let env = Environment {
        name: prefix.to_string(),
        home_region: PRIMARY.to_string(),
        regions: vec![DR.to_string(), PRIMARY.to_string()],
        services: vec![ServiceSpec {
            id: "ledger".into(),
            name: "Ledger".into(),
            tier: DrTier::WarmStandby,
            objectives: Objectives {
                rto: Duration::from_secs(15 * 60),
                rpo: Duration::from_secs(60),
            },
            primary_region: DR.into(),
            dr_region: PRIMARY.into(),
            replication: Replication::AuroraGlobal {
                global_cluster: global.clone(),
                primary_cluster: writer.clone(),
                secondary_cluster: member.clone(),
            },
            health_checks: vec![],
            dns: None,
        }],
        sim: SimSettings::default(),
    };
    ReverseGlobal {
        global,
        writer,
        member,
        member_arn,
        env,
    }
}

/// `n` Aurora global databases, each with two health checks and a failover
/// pair in one shared hosted zone: an estate whose Route 53 cost per poll
/// grows with `n` if the provider reads per service.
pub async fn seed_globals(config: &SdkConfig, prefix: &str, n: usize) -> Environment {
    let east = rds(config, PRIMARY);
    let west = rds(config, DR);
    let r53 = route53(config);
    let zone_name = format!("{prefix}.example.com");
    let zone_id = r53
        .create_hosted_zone()
        .name(&zone_name)
        .caller_reference(&zone_name)
        .send()
        .await
        .expect("CreateHostedZone")
        .hosted_zone()
        .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
        .expect("zone id");
    let objectives = Objectives {
        rto: Duration::from_secs(15 * 60),
        rpo: Duration::from_secs(60),
    };
    let mut services = Vec::new();
    let mut batch = ChangeBatch::builder();
    for i in 0..n {
        let id = format!("{prefix}-{i}");
        let global = format!("{id}-global");
        create_global(&east, &global).await;
        let primary_cluster = format!("{id}-db");
        let secondary_cluster = format!("{id}-db-dr");
        create_cluster(&east, &primary_cluster, Some(&global), None).await;
        create_cluster(&west, &secondary_cluster, Some(&global), None).await;
        let primary_fqdn = format!("{id}.{PRIMARY}.example.com");
        let secondary_fqdn = format!("{id}.{DR}.example.com");
        let health_primary = create_health_check(&r53, &primary_fqdn).await;
        let health_secondary = create_health_check(&r53, &secondary_fqdn).await;
        let record = format!("{id}.{zone_name}.");
        for (role, target, check) in [
            (
                ResourceRecordSetFailover::Primary,
                &primary_fqdn,
                &health_primary,
            ),
            (
                ResourceRecordSetFailover::Secondary,
                &secondary_fqdn,
                &health_secondary,
            ),
        ] {
            batch = batch.changes(
                Change::builder()
                    .action(ChangeAction::Create)
                    .resource_record_set(failover_record(&record, role, target, check))
                    .build()
                    .expect("change"),
            );
        }
        services.push(ServiceSpec {
            id: id.clone(),
            name: id.clone(),
            tier: DrTier::WarmStandby,
            objectives,
            primary_region: PRIMARY.into(),
            dr_region: DR.into(),
            replication: Replication::AuroraGlobal {
                global_cluster: global,
                primary_cluster,
                secondary_cluster,
            },
            health_checks: vec![
                HealthCheckSpec {
                    id: health_primary,
                    region: PRIMARY.into(),
                    fqdn: primary_fqdn.clone(),
                    failure_threshold: 3,
                },
                HealthCheckSpec {
                    id: health_secondary,
                    region: DR.into(),
                    fqdn: secondary_fqdn.clone(),
                    failure_threshold: 3,
                },
            ],
            dns: Some(DnsSpec {
                zone_id: zone_id.clone(),
                record,
                primary_target: primary_fqdn,
                secondary_target: secondary_fqdn,
                ttl: 60,
            }),
        });
    }
    r53.change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(batch.build().expect("batch"))
        .send()
        .await
        .expect("ChangeResourceRecordSets");
    Environment {
        name: prefix.to_string(),
        home_region: PRIMARY.to_string(),
        regions: vec![PRIMARY.to_string(), DR.to_string()],
        services,
        sim: SimSettings::default(),
    }
}

/// An Aurora global database whose DR side has drifted from its primary:
/// an older minor engine version, a parameter group of another family, no
/// deletion protection and no instance (headless). The primary has one
/// writer instance, deletion protection and an `aurora-postgresql15` group.
pub struct DriftedGlobal {
    pub primary_cluster: String,
    pub secondary_cluster: String,
    pub env: Environment,
}

pub async fn seed_drifted_global(config: &SdkConfig, prefix: &str) -> DriftedGlobal {
    let east = rds(config, PRIMARY);
    let west = rds(config, DR);
    let global = format!("{prefix}-global");
    create_global(&east, &global).await;
    let groups = [
        (&east, format!("{prefix}-pg15"), "aurora-postgresql15"),
        (&west, format!("{prefix}-pg14"), "aurora-postgresql14"),
    ];
    for (client, name, family) in &groups {
        client
            .create_db_cluster_parameter_group()
            .db_cluster_parameter_group_name(name)
            .db_parameter_group_family(*family)
            .description("readiness drift")
            .send()
            .await
            .expect("CreateDBClusterParameterGroup");
    }
    let primary_cluster = format!("{prefix}-orders");
    let secondary_cluster = format!("{prefix}-orders-dr");
    for (client, id, version, group, protected) in [
        (&east, &primary_cluster, "15.4", &groups[0].1, true),
        (&west, &secondary_cluster, "15.3", &groups[1].1, false),
    ] {
        client
            .create_db_cluster()
            .db_cluster_identifier(id)
            .engine("aurora-postgresql")
            .engine_version(version)
            .master_username("admin")
            .master_user_password("password-123")
            .backup_retention_period(7)
            .global_cluster_identifier(&global)
            .db_cluster_parameter_group_name(group)
            .deletion_protection(protected)
            .send()
            .await
            .expect("CreateDBCluster");
    }
    east.create_db_instance()
        .db_instance_identifier(format!("{primary_cluster}-1"))
        .db_cluster_identifier(&primary_cluster)
        .engine("aurora-postgresql")
        .db_instance_class("db.r6g.large")
        .send()
        .await
        .expect("CreateDBInstance in the cluster");
    let env = Environment {
        name: prefix.to_string(),
        home_region: PRIMARY.to_string(),
        regions: vec![PRIMARY.to_string(), DR.to_string()],
        services: vec![ServiceSpec {
            id: "orders".into(),
            name: "Orders".into(),
            tier: DrTier::WarmStandby,
            objectives: Objectives {
                rto: Duration::from_secs(15 * 60),
                rpo: Duration::from_secs(60),
            },
            primary_region: PRIMARY.into(),
            dr_region: DR.into(),
            replication: Replication::AuroraGlobal {
                global_cluster: global,
                primary_cluster: primary_cluster.clone(),
                secondary_cluster: secondary_cluster.clone(),
            },
            health_checks: vec![],
            dns: None,
        }],
        sim: SimSettings::default(),
    };
    DriftedGlobal {
        primary_cluster,
        secondary_cluster,
        env,
    }
}
