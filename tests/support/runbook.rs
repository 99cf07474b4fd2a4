//! Shared fixtures for the runbook tests: the fixture environment and
//! snapshot builders.

use std::path::Path;

use drconsole::config::source_file::load_toml;
use drconsole::domain::environment::{Environment, ServiceSpec};
use drconsole::domain::snapshot::{
    BackupObs, ClusterRole, DbClusterObs, GlobalClusterObs, GlobalMember, Health, HealthCheckObs,
    Snapshot,
};
use drconsole::runbook::format::{self, Runbook};

pub fn env() -> Environment {
    load_toml(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/runbook-env.toml"))
        .unwrap()
}

pub fn orders() -> ServiceSpec {
    env().service("orders").unwrap().clone()
}

pub fn runbook(yaml_steps: &str) -> Runbook {
    let text = format!(
        "name: test runbook\nservice: orders\nobjectives: {{ rto: 15m, rpo: 5m }}\nowner: me\nlast_tested: 2026-11-01\nparameters:\n  dr: {{ default: us-west-2 }}\nsteps:\n{yaml_steps}"
    );
    format::parse(Path::new("test.yaml"), &text).unwrap_or_else(|d| panic!("{d:?}"))
}

pub fn health(id: &str, region: &str, status: Health) -> HealthCheckObs {
    HealthCheckObs {
        id: id.into(),
        region: region.into(),
        fqdn: format!("api.{region}.example.com"),
        status,
        checkers_healthy: 0,
        checkers_total: 0,
        failure_threshold: 3,
        disabled: false,
        inverted: false,
    }
}

pub fn cluster(id: &str, region: &str, status: &str, role: ClusterRole) -> DbClusterObs {
    DbClusterObs {
        id: id.into(),
        arn: format!("arn:aws:rds:{region}:123456789012:cluster:{id}"),
        region: region.into(),
        engine: "aurora-postgresql".into(),
        engine_version: "15.4".into(),
        status: status.into(),
        role,
        global_cluster_id: Some("orders-global".into()),
        endpoint: None,
        backup: BackupObs::default(),
    }
}

pub fn global(writer_region: &str) -> GlobalClusterObs {
    let member = |id: &str, region: &str| GlobalMember {
        cluster_id: id.into(),
        cluster_arn: format!("arn:aws:rds:{region}:123456789012:cluster:{id}"),
        region: region.into(),
        is_writer: region == writer_region,
        synchronization_status: None,
    };
    GlobalClusterObs {
        id: "orders-global".into(),
        engine: "aurora-postgresql".into(),
        status: "available".into(),
        members: vec![
            member("orders-primary", "us-east-1"),
            member("orders-secondary", "us-west-2"),
        ],
    }
}

/// The orders world before (`failed_over = false`) or after a failover.
pub fn world(primary_healthy: bool, failed_over: bool) -> Snapshot {
    let east = if primary_healthy {
        Health::Healthy
    } else {
        Health::Unhealthy
    };
    let (east_role, west_role, writer) = if failed_over {
        (ClusterRole::Standalone, ClusterRole::Primary, "us-west-2")
    } else {
        (ClusterRole::Primary, ClusterRole::Secondary, "us-east-1")
    };
    Snapshot {
        health_checks: vec![
            health("hc-orders-use1", "us-east-1", east),
            health("hc-orders-usw2", "us-west-2", Health::Healthy),
        ],
        global_clusters: vec![global(writer)],
        db_clusters: vec![
            cluster("orders-primary", "us-east-1", "available", east_role),
            cluster("orders-secondary", "us-west-2", "available", west_role),
        ],
        ..Snapshot::default()
    }
}
