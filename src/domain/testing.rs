//! Test fixtures shared by the domain's unit tests: the Orders service of
//! the seed design and the worlds it goes through in an outage.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::environment::{DnsSpec, HealthCheckSpec, Replication, ServiceSpec};
use super::objectives::{DrTier, Objectives};
use super::snapshot::{
    BackupObs, ClusterRole, DbClusterObs, DnsRecordObs, FailoverRole, GlobalClusterObs,
    GlobalMember, Health, HealthCheckObs, LagKind, LagObs, Snapshot,
};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap()
}

pub fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

pub fn orders() -> ServiceSpec {
    ServiceSpec {
        id: "orders".into(),
        name: "Orders API".into(),
        tier: DrTier::WarmStandby,
        objectives: Objectives {
            rto: mins(15),
            rpo: mins(5),
        },
        primary_region: "us-east-1".into(),
        dr_region: "us-west-2".into(),
        replication: Replication::AuroraGlobal {
            global_cluster: "orders-global".into(),
            primary_cluster: "orders-primary".into(),
            secondary_cluster: "orders-secondary".into(),
        },
        health_checks: vec![
            HealthCheckSpec {
                id: "hc-east".into(),
                region: "us-east-1".into(),
                fqdn: "api.us-east-1.example.com".into(),
                failure_threshold: 3,
            },
            HealthCheckSpec {
                id: "hc-west".into(),
                region: "us-west-2".into(),
                fqdn: "api.us-west-2.example.com".into(),
                failure_threshold: 3,
            },
        ],
        dns: Some(DnsSpec {
            zone_id: "Z1".into(),
            record: "api.example.com.".into(),
            primary_target: "api.us-east-1.example.com".into(),
            secondary_target: "api.us-west-2.example.com".into(),
            ttl: 60,
        }),
    }
}

/// A service replicated by S3 only, with one health check.
pub fn s3_service() -> ServiceSpec {
    ServiceSpec {
        id: "assets".into(),
        name: "Static assets".into(),
        tier: DrTier::WarmStandby,
        objectives: Objectives {
            rto: mins(15),
            rpo: mins(5),
        },
        primary_region: "us-east-1".into(),
        dr_region: "us-west-2".into(),
        replication: Replication::S3 {
            source_bucket: "assets-use1".into(),
            destination_bucket: "assets-usw2".into(),
        },
        health_checks: vec![HealthCheckSpec {
            id: "hc-1".into(),
            region: "us-east-1".into(),
            fqdn: "hc-1.example.com".into(),
            failure_threshold: 3,
        }],
        dns: None,
    }
}

/// Orders routed by latency: both regions serve.
pub fn active_active() -> ServiceSpec {
    let mut s = orders();
    s.tier = DrTier::ActiveActive;
    s
}

/// `healthy_world`'s failover pair replaced by one latency record per
/// region, each tied to its region's check.
pub fn latency_world() -> Snapshot {
    let mut world = healthy_world();
    let service = active_active();
    let dns = service.dns.clone().unwrap();
    world.dns_records = [
        (&service.primary_region, &dns.primary_target),
        (&service.dr_region, &dns.secondary_target),
    ]
    .into_iter()
    .map(|(region, target)| DnsRecordObs {
        zone_id: dns.zone_id.clone(),
        name: dns.record.clone(),
        record_type: "CNAME".into(),
        set_identifier: Some(region.clone()),
        failover: None,
        target: target.clone(),
        ttl: Some(60),
        health_check_id: service
            .health_checks
            .iter()
            .find(|h| &h.region == region)
            .map(|h| h.id.clone()),
    })
    .collect();
    world
}

pub fn cluster(id: &str, region: &str, role: ClusterRole, pitr_age: Duration) -> DbClusterObs {
    DbClusterObs {
        id: id.into(),
        arn: format!("arn:aws:rds:{region}:123456789012:cluster:{id}"),
        region: region.into(),
        engine: "aurora-postgresql".into(),
        engine_version: "15.4".into(),
        status: "available".into(),
        role,
        global_cluster_id: Some("orders-global".into()),
        endpoint: None,
        backup: BackupObs {
            latest_restorable: Some(now() - chrono::Duration::from_std(pitr_age).unwrap()),
            retention_days: 35,
            newest_snapshot: None,
            cross_region_copy: false,
        },
    }
}

pub fn check(id: &str, region: &str, status: Health) -> HealthCheckObs {
    HealthCheckObs {
        id: id.into(),
        region: region.into(),
        fqdn: format!("api.{region}.example.com"),
        status,
        checkers_healthy: if status == Health::Healthy { 16 } else { 0 },
        checkers_total: 16,
        failure_threshold: 3,
        disabled: false,
        inverted: false,
    }
}

pub fn record(role: FailoverRole, target: &str, hc: &str) -> DnsRecordObs {
    DnsRecordObs {
        zone_id: "Z1".into(),
        name: "api.example.com.".into(),
        record_type: "CNAME".into(),
        set_identifier: Some(format!("{role:?}")),
        failover: Some(role),
        target: target.into(),
        ttl: Some(60),
        health_check_id: Some(hc.into()),
    }
}

pub fn lag(resource: &str, region: &str, lag: Duration) -> LagObs {
    LagObs {
        resource_id: resource.into(),
        region: region.into(),
        kind: LagKind::AuroraGlobal,
        lag: Some(lag),
        rpo_lag: None,
        pending_operations: None,
    }
}

/// Both regions healthy, us-east-1 writing, us-west-2 400 ms behind.
pub fn healthy_world() -> Snapshot {
    with_lag(Duration::from_millis(400))
}

pub fn with_lag(l: Duration) -> Snapshot {
    Snapshot {
        health_checks: vec![
            check("hc-east", "us-east-1", Health::Healthy),
            check("hc-west", "us-west-2", Health::Healthy),
        ],
        db_clusters: vec![
            cluster("orders-primary", "us-east-1", ClusterRole::Primary, mins(4)),
            cluster(
                "orders-secondary",
                "us-west-2",
                ClusterRole::Secondary,
                mins(4),
            ),
        ],
        lags: vec![lag("orders-secondary", "us-west-2", l)],
        dns_records: vec![
            record(
                FailoverRole::Primary,
                "api.us-east-1.example.com",
                "hc-east",
            ),
            record(
                FailoverRole::Secondary,
                "api.us-west-2.example.com",
                "hc-west",
            ),
        ],
        ..Snapshot::default()
    }
}

/// After a failover with data loss while us-east-1 is down: us-west-2
/// writes, the old primary waits to resync and reports no lag.
pub fn failed_over() -> Snapshot {
    let mut world = healthy_world();
    world.health_checks[0] = check("hc-east", "us-east-1", Health::Unhealthy);
    world.db_clusters = vec![
        cluster(
            "orders-primary",
            "us-east-1",
            ClusterRole::Secondary,
            mins(40),
        ),
        cluster(
            "orders-secondary",
            "us-west-2",
            ClusterRole::Primary,
            mins(4),
        ),
    ];
    world.db_clusters[0].status = "inaccessible".into();
    world.lags = vec![LagObs {
        lag: None,
        ..lag("orders-primary", "us-east-1", Duration::ZERO)
    }];
    world.global_clusters = vec![GlobalClusterObs {
        id: "orders-global".into(),
        engine: "aurora-postgresql".into(),
        status: "available".into(),
        members: vec![
            GlobalMember {
                cluster_id: "orders-primary".into(),
                cluster_arn: world.db_clusters[0].arn.clone(),
                region: "us-east-1".into(),
                is_writer: false,
                synchronization_status: Some("pending-resync".into()),
            },
            GlobalMember {
                cluster_id: "orders-secondary".into(),
                cluster_arn: world.db_clusters[1].arn.clone(),
                region: "us-west-2".into(),
                is_writer: true,
                synchronization_status: None,
            },
        ],
    }];
    world
}
