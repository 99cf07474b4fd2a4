//! The simulated world driven by hand: no test sleeps.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Fault, SimWorld, provider};
use crate::config::environment_file::{demo_environment, synthetic_environment};
use crate::domain::action::RecordValue;
use crate::domain::action::{Action, ChangeStatus};
use crate::domain::posture;
use crate::domain::snapshot::{
    ClusterRole, ErrorKind, FailoverRole, Health, Snapshot, SourceReading,
};

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn demo() -> SimWorld {
    SimWorld::new(&demo_environment(), start())
}

fn merged(readings: &[SourceReading]) -> Snapshot {
    let mut all = Snapshot::default();
    for r in readings {
        if let Ok(s) = &r.result {
            all.extend(s);
        }
    }
    all
}

fn snapshot(world: &SimWorld) -> Snapshot {
    merged(&world.observe())
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn lag_of(snap: &Snapshot, resource: &str) -> Option<Duration> {
    snap.lags
        .iter()
        .find(|l| l.resource_id == resource)
        .and_then(|l| l.lag)
}

fn health(snap: &Snapshot, id: &str) -> Health {
    snap.health_checks
        .iter()
        .find(|h| h.id == id)
        .unwrap()
        .status
}

fn cluster<'a>(snap: &'a Snapshot, id: &str) -> &'a crate::domain::snapshot::DbClusterObs {
    snap.db_clusters.iter().find(|c| c.id == id).unwrap()
}

fn writer(snap: &Snapshot) -> String {
    snap.global_clusters
        .iter()
        .find(|g| g.id == "orders-global")
        .and_then(|g| g.writer())
        .map(|m| m.cluster_id.clone())
        .unwrap_or_default()
}

fn failover(allow_data_loss: bool) -> Action {
    Action::FailoverGlobalCluster {
        region: "us-west-2".into(),
        global_cluster: "orders-global".into(),
        target_cluster: "arn:aws:rds:us-west-2:123456789012:cluster:orders-secondary".into(),
        allow_data_loss,
    }
}

fn outage(region: &str) -> Fault {
    Fault::RegionOutage {
        region: region.into(),
    }
}

#[test]
fn every_source_reports_once_at_simulated_now() {
    let world = demo();
    world.advance(secs(5));
    let readings = world.observe();
    let sources: Vec<&str> = readings.iter().map(|r| r.source.as_str()).collect();
    assert_eq!(
        sources,
        [
            "rds:us-east-1",
            "rds:us-west-2",
            "cloudwatch:us-east-1",
            "cloudwatch:us-west-2",
            "route53"
        ]
    );
    assert!(
        readings
            .iter()
            .all(|r| r.taken_at == start() + chrono::Duration::seconds(5))
    );
    assert_eq!(world.now(), start() + chrono::Duration::seconds(5));
    let snap = merged(&readings);
    assert_eq!(snap.global_clusters.len(), 2);
    assert_eq!(snap.db_clusters.len(), 4);
    assert_eq!(snap.db_instances.len(), 3);
    assert_eq!(snap.health_checks.len(), 9);
    assert_eq!(snap.dns_records.len(), 8);
    assert_eq!(snap.lags.len(), 4);
    assert_eq!(writer(&snap), "orders-primary");
    assert_eq!(
        cluster(&snap, "orders-secondary").role,
        ClusterRole::Secondary
    );
}

#[test]
fn the_demo_is_healthy_and_within_its_objectives() {
    let env = demo_environment();
    let world = SimWorld::new(&env, start());
    world.advance(secs(120));
    let snap = snapshot(&world);
    for service in &env.services {
        let p = posture::assess(service, &snap, world.now());
        assert!(p.within_objectives(), "{p:?}");
    }
    let orders = posture::assess(env.service("orders").unwrap(), &snap, world.now());
    assert_eq!(orders.primary_health, Health::Healthy);
    assert_eq!(orders.serving_region.as_deref(), Some("us-east-1"));
}

#[test]
fn aurora_lag_stays_mostly_under_a_second_with_spikes() {
    let world = demo();
    let mut samples = Vec::new();
    for _ in 0..3000 {
        world.advance(secs(1));
        samples.push(lag_of(&snapshot(&world), "orders-secondary").unwrap());
    }
    let under = samples.iter().filter(|l| **l < secs(1)).count();
    assert!(
        under > samples.len() * 9 / 10,
        "{under} of {}",
        samples.len()
    );
    assert!(
        samples.iter().any(|l| *l > secs(2)),
        "no spike in 50 minutes"
    );
}

#[test]
fn backups_trail_now_and_snapshots_are_daily() {
    let world = demo();
    world.advance(secs(600));
    let snap = snapshot(&world);
    let backup = &cluster(&snap, "orders-primary").backup;
    assert_eq!(backup.retention_days, 35);
    let pitr_age = world.now() - backup.latest_restorable.unwrap();
    assert!(pitr_age > chrono::Duration::zero() && pitr_age < chrono::Duration::minutes(7));
    let snapshot_age = world.now() - backup.newest_snapshot.unwrap();
    assert!(snapshot_age < chrono::Duration::days(1));
    let replica = snap
        .db_instances
        .iter()
        .find(|i| i.id == "billing-replica")
        .unwrap();
    assert!(
        replica
            .replica_source
            .as_deref()
            .unwrap()
            .ends_with(":db:billing-db")
    );
    assert_eq!(replica.backup.latest_restorable, None);
    let source = snap
        .db_instances
        .iter()
        .find(|i| i.id == "billing-db")
        .unwrap();
    assert!(source.backup.cross_region_copy);
    assert_eq!(source.replicas.len(), 1);
}

#[test]
fn an_outage_turns_health_unhealthy_after_the_failure_threshold() {
    let env = demo_environment();
    let world = SimWorld::new(&env, start());
    world.advance(secs(60));
    world.inject(outage("us-east-1")).unwrap();
    // Three failed probes ten seconds apart cannot fit in 20 seconds.
    world.advance(secs(19));
    let snap = snapshot(&world);
    assert_eq!(health(&snap, "hc-orders-use1"), Health::Healthy);
    assert_eq!(cluster(&snap, "orders-primary").status, "inaccessible");
    world.advance(secs(61));
    let snap = snapshot(&world);
    let hc = snap
        .health_checks
        .iter()
        .find(|h| h.id == "hc-orders-use1")
        .unwrap();
    assert_eq!(hc.status, Health::Unhealthy);
    assert_eq!(hc.checkers_total, 16);
    assert!(hc.checkers_healthy <= 2);
    assert_eq!(health(&snap, "hc-orders-usw2"), Health::Healthy);
    // DNS now answers with the secondary, and the DR copy falls behind.
    let orders = posture::assess(env.service("orders").unwrap(), &snap, world.now());
    assert_eq!(orders.serving_region.as_deref(), Some("us-west-2"));
    assert!(lag_of(&snap, "orders-secondary").unwrap() > secs(60));
    let billing_lag = lag_of(&snap, "billing-replica").unwrap();
    world.advance(secs(60));
    assert!(lag_of(&snapshot(&world), "billing-replica").unwrap() > billing_lag);

    world.clear(&outage("us-east-1")).unwrap();
    world.advance(secs(90));
    let snap = snapshot(&world);
    assert_eq!(health(&snap, "hc-orders-use1"), Health::Healthy);
    assert_eq!(cluster(&snap, "orders-primary").status, "available");
    assert!(world.active_faults().is_empty());
}

#[test]
fn the_active_active_demo_service_drains_a_region_and_restores_it() {
    let env = demo_environment();
    let catalog = env.service("catalog").unwrap();
    let world = demo();
    world.advance(secs(120));
    let status = |world: &SimWorld| {
        let snap = snapshot(world);
        let t = crate::domain::topology::observe(catalog, &snap);
        crate::domain::availability::assess(catalog, &snap, t.as_ref())
    };
    let in_rotation = |world: &SimWorld| {
        crate::domain::rotation::observe(catalog, &snapshot(world))
            .unwrap()
            .iter()
            .map(|r| (r.region.clone(), r.in_rotation))
            .collect::<Vec<_>>()
    };
    assert!(crate::domain::rotation::gaps(catalog, &snapshot(&world)).is_empty());
    assert_eq!(
        status(&world).state,
        crate::domain::availability::Availability::Up
    );
    let drain = |inverted| Action::UpdateHealthCheck {
        health_check_id: "hc-catalog-usw2".into(),
        disabled: None,
        inverted: Some(inverted),
    };
    world.execute(&drain(true)).unwrap();
    world.advance(secs(120));
    assert_eq!(
        in_rotation(&world),
        [("us-east-1".into(), true), ("us-west-2".into(), false)]
    );
    let a = status(&world);
    assert_eq!(
        a.state,
        crate::domain::availability::Availability::Degraded,
        "{a:?}"
    );
    world.execute(&drain(false)).unwrap();
    world.advance(secs(120));
    assert!(in_rotation(&world).iter().all(|(_, serving)| *serving));
}

#[test]
fn disabled_checks_report_healthy_and_inverted_ones_the_opposite() {
    let world = demo();
    world.inject(outage("us-east-1")).unwrap();
    world.advance(secs(120));
    let update = |disabled, inverted| Action::UpdateHealthCheck {
        health_check_id: "hc-orders-use1".into(),
        disabled,
        inverted,
    };
    assert!(!world.already_applied(&update(Some(true), None)).unwrap());
    world.execute(&update(Some(true), None)).unwrap();
    assert!(world.already_applied(&update(Some(true), None)).unwrap());
    assert_eq!(health(&snapshot(&world), "hc-orders-use1"), Health::Healthy);
    world.execute(&update(Some(false), Some(true))).unwrap();
    assert_eq!(health(&snapshot(&world), "hc-orders-use1"), Health::Healthy);
    world.execute(&update(None, Some(false))).unwrap();
    assert_eq!(
        health(&snapshot(&world), "hc-orders-use1"),
        Health::Unhealthy
    );
}

#[test]
fn failover_with_data_loss_flips_the_writer_after_about_a_minute() {
    let world = demo();
    world.advance(secs(30));
    world.inject(outage("us-east-1")).unwrap();
    world.advance(secs(60));
    assert!(!world.already_applied(&failover(true)).unwrap());

    let receipt = world.execute(&failover(true)).unwrap();
    assert!(receipt.request_id.is_some());
    assert!(
        receipt.summary.contains("orders-secondary"),
        "{}",
        receipt.summary
    );
    let snap = snapshot(&world);
    assert_eq!(snap.global_clusters[0].status, "failing-over");
    assert_eq!(cluster(&snap, "orders-secondary").status, "failing-over");
    assert_eq!(writer(&snap), "orders-primary");
    assert!(world.already_applied(&failover(true)).unwrap());
    let again = world.execute(&failover(true)).unwrap_err();
    assert_eq!(again.kind, ErrorKind::InvalidState);

    world.advance(secs(30));
    assert_eq!(writer(&snapshot(&world)), "orders-primary");
    world.advance(secs(60));
    let snap = snapshot(&world);
    assert_eq!(writer(&snap), "orders-secondary");
    assert_eq!(snap.global_clusters[0].status, "available");
    assert_eq!(
        cluster(&snap, "orders-secondary").role,
        ClusterRole::Primary
    );
    assert_eq!(cluster(&snap, "orders-secondary").status, "available");
    let old = snap.global_clusters[0]
        .members
        .iter()
        .find(|m| m.cluster_id == "orders-primary")
        .unwrap();
    assert_eq!(
        old.synchronization_status.as_deref(),
        Some("pending-resync")
    );
    assert!(world.region_database("us-west-2").unwrap().writable);
    // Everything written between the outage (60 s before the call) and the
    // end of the failover is lost.
    let lost = world.data_loss("orders-secondary").unwrap();
    assert!(lost > secs(100) && lost < secs(200), "{lost:?}");
    assert_eq!(world.data_loss("orders-primary"), None);

    // The old primary rejoins as a secondary once its region is back.
    world.clear(&outage("us-east-1")).unwrap();
    world.advance(secs(600));
    let snap = snapshot(&world);
    assert_eq!(
        cluster(&snap, "orders-primary").role,
        ClusterRole::Secondary
    );
    let old = snap.global_clusters[0]
        .members
        .iter()
        .find(|m| m.cluster_id == "orders-primary")
        .unwrap();
    assert_eq!(old.synchronization_status.as_deref(), Some("connected"));
    assert!(lag_of(&snap, "orders-primary").is_some());
    assert!(!world.region_database("us-east-1").unwrap().writable);
}

#[test]
fn failback_switches_over_once_the_old_primary_has_resynced() {
    let world = demo();
    world.inject(outage("us-east-1")).unwrap();
    world.advance(secs(60));
    world.execute(&failover(true)).unwrap();
    world.advance(secs(90));
    world.clear(&outage("us-east-1")).unwrap();
    let back = Action::SwitchoverGlobalCluster {
        region: "us-east-1".into(),
        global_cluster: "orders-global".into(),
        target_cluster: "orders-primary".into(),
    };
    let err = world.execute(&back).unwrap_err();
    assert!(err.message.contains("pending-resync"), "{err}");
    world.advance(secs(600));
    world.execute(&back).unwrap();
    world.advance(secs(150));
    let snap = snapshot(&world);
    assert_eq!(writer(&snap), "orders-primary");
    assert!(lag_of(&snap, "orders-secondary").is_some());
    assert!(world.region_database("us-east-1").unwrap().writable);
    assert!(!world.region_database("us-west-2").unwrap().writable);
}

#[test]
fn failover_without_data_loss_needs_the_old_primary_reachable() {
    let world = demo();
    world.inject(outage("us-east-1")).unwrap();
    let err = world.execute(&failover(false)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState);
    assert!(err.message.contains("AllowDataLoss"), "{err}");
    let switchover = Action::SwitchoverGlobalCluster {
        region: "us-west-2".into(),
        global_cluster: "orders-global".into(),
        target_cluster: "orders-secondary".into(),
    };
    assert_eq!(
        world.execute(&switchover).unwrap_err().kind,
        ErrorKind::InvalidState
    );
}

#[test]
fn switchover_swaps_roles_without_data_loss() {
    let world = demo();
    let switchover = |target: &str| Action::SwitchoverGlobalCluster {
        region: "us-west-2".into(),
        global_cluster: "orders-global".into(),
        target_cluster: target.into(),
    };
    world.execute(&switchover("orders-secondary")).unwrap();
    assert_eq!(snapshot(&world).global_clusters[0].status, "switching-over");
    world.advance(secs(125));
    let snap = snapshot(&world);
    assert_eq!(writer(&snap), "orders-secondary");
    let old = &snap.global_clusters[0].members[0];
    assert_eq!(old.cluster_id, "orders-primary");
    assert_eq!(old.synchronization_status.as_deref(), Some("connected"));
    assert!(lag_of(&snap, "orders-primary").is_some());
    assert!(lag_of(&snap, "orders-secondary").is_none());
    assert!(
        world
            .already_applied(&switchover("orders-secondary"))
            .unwrap()
    );

    let err = world.execute(&switchover("orders-secondary")).unwrap_err();
    assert!(err.message.contains("already the primary"), "{err}");
}

#[test]
fn failover_to_a_cluster_outside_the_global_cluster_is_refused() {
    let world = demo();
    let action = Action::FailoverGlobalCluster {
        region: "us-west-2".into(),
        global_cluster: "orders-global".into(),
        target_cluster: "billing-replica".into(),
        allow_data_loss: true,
    };
    let err = world.execute(&action).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState);
    assert!(
        err.message
            .contains("not a member of global cluster orders-global"),
        "{err}"
    );
    let missing = Action::FailoverGlobalCluster {
        region: "us-west-2".into(),
        global_cluster: "nope".into(),
        target_cluster: "orders-secondary".into(),
        allow_data_loss: true,
    };
    assert_eq!(
        world.execute(&missing).unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[test]
fn actions_against_a_region_that_is_down_cannot_connect() {
    let world = demo();
    world.inject(outage("us-east-1")).unwrap();
    let action = Action::FailoverGlobalCluster {
        region: "us-east-1".into(),
        global_cluster: "orders-global".into(),
        target_cluster: "orders-secondary".into(),
        allow_data_loss: true,
    };
    let err = world.execute(&action).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Network);
}

#[test]
fn detaching_a_secondary_leaves_a_standalone_writable_cluster() {
    let world = demo();
    let remove = |cluster: &str| Action::RemoveFromGlobalCluster {
        region: "us-west-2".into(),
        global_cluster: "orders-global".into(),
        cluster: cluster.into(),
    };
    let err = world.execute(&remove("orders-primary")).unwrap_err();
    assert!(err.message.contains("cannot be removed"), "{err}");

    world
        .execute(&remove(
            "arn:aws:rds:us-west-2:123456789012:cluster:orders-secondary",
        ))
        .unwrap();
    assert!(world.already_applied(&remove("orders-secondary")).unwrap());
    assert_eq!(
        cluster(&snapshot(&world), "orders-secondary").status,
        "promoting"
    );
    world.advance(secs(60));
    let snap = snapshot(&world);
    let detached = cluster(&snap, "orders-secondary");
    assert_eq!(detached.role, ClusterRole::Standalone);
    assert_eq!(detached.global_cluster_id, None);
    assert_eq!(detached.status, "available");
    assert_eq!(snap.global_clusters[0].members.len(), 1);
    assert!(lag_of(&snap, "orders-secondary").is_none());
    assert!(world.region_database("us-west-2").unwrap().writable);
    assert!(world.already_applied(&remove("orders-secondary")).unwrap());
}

#[test]
fn promoting_the_read_replica_stops_replication_after_a_few_minutes() {
    let world = demo();
    let promote = |instance: &str| Action::PromoteReadReplica {
        region: "us-west-2".into(),
        instance: instance.into(),
        backup_retention_days: Some(7),
    };
    let wrong_region = Action::PromoteReadReplica {
        region: "us-east-1".into(),
        instance: "billing-replica".into(),
        backup_retention_days: None,
    };
    assert_eq!(
        world.execute(&wrong_region).unwrap_err().kind,
        ErrorKind::NotFound
    );
    assert!(!world.already_applied(&promote("billing-replica")).unwrap());

    world.execute(&promote("billing-replica")).unwrap();
    let replica = |snap: &Snapshot| {
        snap.db_instances
            .iter()
            .find(|i| i.id == "billing-replica")
            .unwrap()
            .clone()
    };
    assert_eq!(replica(&snapshot(&world)).status, "modifying");
    world.advance(secs(120));
    assert!(replica(&snapshot(&world)).replica_source.is_some());
    world.advance(secs(200));
    let snap = snapshot(&world);
    let promoted = replica(&snap);
    assert_eq!(promoted.replica_source, None);
    assert_eq!(promoted.status, "backing-up");
    assert_eq!(promoted.backup.retention_days, 7);
    assert!(lag_of(&snap, "billing-replica").is_none());
    assert!(world.data_loss("billing-replica").unwrap() < secs(120));
    assert!(
        snap.db_instances
            .iter()
            .find(|i| i.id == "billing-db")
            .unwrap()
            .replicas
            .is_empty()
    );
    world.advance(secs(150));
    assert_eq!(replica(&snapshot(&world)).status, "available");
    assert!(world.already_applied(&promote("billing-replica")).unwrap());
    let err = world.execute(&promote("billing-replica")).unwrap_err();
    assert!(err.message.contains("is not a read replica"), "{err}");
}

#[test]
fn promoting_a_global_member_as_a_cluster_replica_is_refused() {
    let world = demo();
    let action = Action::PromoteReadReplicaDbCluster {
        region: "us-west-2".into(),
        cluster: "orders-secondary".into(),
    };
    let err = world.execute(&action).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidState);
    assert!(err.message.contains("RemoveFromGlobalCluster"), "{err}");
    assert!(!world.already_applied(&action).unwrap());
}

#[test]
fn a_dns_change_is_pending_then_insync_within_a_minute() {
    let world = demo();
    let upsert_in = |zone_id: &str| Action::UpsertRecord {
        zone_id: zone_id.into(),
        name: "api.example.com.".into(),
        record: RecordValue::Cname {
            value: "api.us-west-2.example.com".into(),
            ttl: 60,
        },
        set_identifier: Some("primary".into()),
        failover: Some(FailoverRole::Primary),
        health_check_id: Some("hc-orders-use1".into()),
    };
    let upsert = upsert_in("Z0DEMO00000001");
    assert!(!world.already_applied(&upsert).unwrap());
    let receipt = world.execute(&upsert).unwrap();
    let change = receipt.change_id.unwrap();
    assert!(change.starts_with('C'));
    assert_eq!(world.change_status(&change).unwrap(), ChangeStatus::Pending);
    assert!(world.already_applied(&upsert).unwrap());
    let snap = snapshot(&world);
    let records: Vec<_> = snap
        .dns_records
        .iter()
        .filter(|r| r.name == "api.example.com.")
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].target, "api.us-west-2.example.com");
    world.advance(secs(29));
    assert_eq!(world.change_status(&change).unwrap(), ChangeStatus::Pending);
    world.advance(secs(31));
    assert_eq!(world.change_status(&change).unwrap(), ChangeStatus::Insync);
    assert_eq!(
        world.change_status("CNOSUCHCHANGE").unwrap_err().kind,
        ErrorKind::NotFound
    );

    assert_eq!(
        world.execute(&upsert_in("ZNOPE")).unwrap_err().kind,
        ErrorKind::NotFound
    );
}

#[test]
fn a_failing_source_errs_alone_and_recovers() {
    let world = demo();
    let fault = Fault::SourceFailure {
        source: "cloudwatch:us-west-2".into(),
        kind: ErrorKind::Throttled,
    };
    world.inject(fault.clone()).unwrap();
    let readings = world.observe();
    for r in &readings {
        match r.source.as_str() {
            "cloudwatch:us-west-2" => {
                let err = r.result.as_ref().unwrap_err();
                assert_eq!(err.kind, ErrorKind::Throttled);
                assert!(err.message.contains("Rate exceeded"));
            }
            _ => assert!(r.result.is_ok(), "{}", r.source),
        }
    }
    assert_eq!(world.active_faults(), vec![fault.clone()]);
    world.clear(&fault).unwrap();
    assert!(world.observe().iter().all(|r| r.result.is_ok()));

    let unknown = Fault::SourceFailure {
        source: "s3:mars-1".into(),
        kind: ErrorKind::Throttled,
    };
    assert_eq!(world.inject(unknown).unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn route53_failures_also_fail_dns_actions() {
    let world = demo();
    world
        .inject(Fault::SourceFailure {
            source: "route53".into(),
            kind: ErrorKind::ServiceUnavailable,
        })
        .unwrap();
    let update = Action::UpdateHealthCheck {
        health_check_id: "hc-orders-use1".into(),
        disabled: Some(true),
        inverted: None,
    };
    assert_eq!(
        world.execute(&update).unwrap_err().kind,
        ErrorKind::ServiceUnavailable
    );
}

#[test]
fn an_injected_lag_spike_shows_and_decays() {
    let world = demo();
    world.advance(secs(10));
    world
        .inject(Fault::LagSpike {
            resource: "orders-secondary".into(),
            seconds: 30,
        })
        .unwrap();
    assert!(lag_of(&snapshot(&world), "orders-secondary").unwrap() >= secs(30));
    world.advance(secs(120));
    assert!(lag_of(&snapshot(&world), "orders-secondary").unwrap() < secs(30));
    assert!(world.active_faults().is_empty());
    let unknown = Fault::LagSpike {
        resource: "nothing".into(),
        seconds: 1,
    };
    assert_eq!(world.inject(unknown).unwrap_err().kind, ErrorKind::NotFound);
}

#[test]
fn the_same_seed_gives_the_same_observations() {
    let run = || {
        let world = demo();
        world.inject(outage("us-west-2")).unwrap();
        let mut seen = Vec::new();
        for _ in 0..50 {
            world.advance(secs(7));
            seen.push(serde_json::to_string(&world.observe()).unwrap());
        }
        world.execute(&failover(true)).unwrap_err();
        seen
    };
    assert_eq!(run(), run());

    let mut other = demo_environment();
    other.sim.seed += 1;
    let a = demo();
    let b = SimWorld::new(&other, start());
    a.advance(secs(60));
    b.advance(secs(60));
    assert_ne!(
        serde_json::to_string(&a.observe()).unwrap(),
        serde_json::to_string(&b.observe()).unwrap()
    );
}

#[test]
fn a_long_jump_catches_up_without_replaying_every_second() {
    let world = demo();
    world.advance(Duration::from_secs(30 * 86_400));
    let snap = snapshot(&world);
    let backup = &cluster(&snap, "orders-primary").backup;
    assert!(world.now() - backup.newest_snapshot.unwrap() < chrono::Duration::days(1));
    assert!(lag_of(&snap, "orders-secondary").is_some());
}

#[test]
fn the_end_of_time_is_bad_input_not_a_panic() {
    let world = demo();
    world.advance(Duration::MAX);
    world.advance(Duration::MAX);
    assert_eq!(world.now(), DateTime::<Utc>::MAX_UTC);
    assert_eq!(world.observe().len(), 5);
    world.execute(&failover(true)).unwrap();
    world.advance(secs(60));
}

#[test]
fn a_live_world_runs_from_the_present_and_can_be_pushed_ahead() {
    let before = Utc::now();
    let world = SimWorld::live(&demo_environment());
    assert!(world.now() >= before);
    world.set_time_scale(60.0);
    world.advance(secs(3600));
    assert!(world.now() >= before + chrono::Duration::hours(1));
    let readings = world.observe();
    assert!(
        readings
            .iter()
            .all(|r| r.taken_at >= before + chrono::Duration::hours(1))
    );
    assert_eq!(world.sources().len(), readings.len());
}

#[tokio::test]
async fn a_read_only_provider_has_no_acting_half() {
    let world = Arc::new(demo());
    let read_only = provider(Arc::clone(&world), true);
    assert!(read_only.read_only());
    assert!(read_only.act.is_none());
    assert_eq!(read_only.observe.now(), world.now());
    assert_eq!(read_only.observe.observe().await.len(), 5);

    let acting = provider(Arc::clone(&world), false);
    let act = acting.act.expect("an acting half");
    act.execute(&failover(true)).await.unwrap();
    assert!(act.already_applied(&failover(true)).await.unwrap());
}

#[test]
fn the_synthetic_estate_has_about_four_resources_per_service() {
    let world = SimWorld::new(&synthetic_environment(250), start());
    world.advance(secs(1));
    let count = snapshot(&world).resource_count();
    assert!((900..=1100).contains(&count), "{count}");
}

/// A demo world in the middle of things: the primary region down, a
/// failover under way, a DNS change propagating, a source failing.
fn busy_world() -> (SimWorld, String) {
    let world = demo();
    world.advance(secs(30));
    world
        .inject(Fault::RegionOutage {
            region: "us-east-1".into(),
        })
        .unwrap();
    world
        .inject(Fault::SourceFailure {
            source: "cloudwatch:us-west-2".into(),
            kind: ErrorKind::Throttled,
        })
        .unwrap();
    world.advance(secs(90));
    world
        .execute(&Action::FailoverGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: "orders-global".into(),
            target_cluster: "orders-secondary".into(),
            allow_data_loss: true,
        })
        .unwrap();
    let receipt = world
        .execute(&Action::UpsertRecord {
            zone_id: "Z0DEMO00000001".into(),
            name: "api.example.com.".into(),
            record: RecordValue::Cname {
                value: "api.us-west-2.example.com".into(),
                ttl: 60,
            },
            set_identifier: Some("primary".into()),
            failover: Some(FailoverRole::Primary),
            health_check_id: None,
        })
        .unwrap();
    world.advance(secs(5));
    (world, receipt.change_id.unwrap())
}

#[test]
fn a_resumed_world_observes_what_the_saved_one_observes_and_goes_on_alike() {
    let (world, change) = busy_world();
    let resumed = SimWorld::resume(&demo_environment(), &world.to_saved().unwrap()).unwrap();

    assert_eq!(resumed.now(), world.now());
    assert_eq!(resumed.active_faults(), world.active_faults());
    assert_eq!(resumed.sources(), world.sources());
    let readings = |w: &SimWorld| {
        w.observe()
            .into_iter()
            .map(|r| (r.source, r.taken_at, r.result.map_err(|e| e.to_string())))
            .collect::<Vec<_>>()
    };
    assert_eq!(readings(&resumed), readings(&world));
    assert_eq!(
        resumed.change_status(&change).unwrap(),
        ChangeStatus::Pending
    );
    assert_eq!(snapshot(&resumed).global_clusters[0].status, "failing-over");

    // Same random draws from here on: the failover, the DNS change and the
    // lags finish the same way in both.
    for w in [&world, &resumed] {
        w.advance(secs(180));
        w.clear(&Fault::RegionOutage {
            region: "us-east-1".into(),
        })
        .unwrap();
        w.advance(secs(600));
    }
    assert_eq!(readings(&resumed), readings(&world));
    assert_eq!(
        resumed.change_status(&change).unwrap(),
        ChangeStatus::Insync
    );
    assert_eq!(writer(&snapshot(&resumed)), "orders-secondary");
    assert_eq!(
        resumed.data_loss("orders-secondary"),
        world.data_loss("orders-secondary")
    );
}

#[test]
fn a_world_saved_for_another_environment_is_refused() {
    let saved = demo().to_saved().unwrap();
    let err = SimWorld::resume(&synthetic_environment(3), &saved)
        .err()
        .unwrap();
    assert!(
        matches!(&err, super::ResumeError::Foreign { environment } if environment == "demo"),
        "{err}"
    );
    let mut changed = demo_environment();
    changed.sim.seed += 1;
    assert!(SimWorld::resume(&changed, &saved).is_err());
    // Only the speed changed: still the same world.
    let mut faster = demo_environment();
    faster.sim.time_scale = 60.0;
    assert!(SimWorld::resume(&faster, &saved).is_ok());
}

#[test]
fn a_corrupt_saved_world_is_an_error_naming_what_is_wrong() {
    let env = demo_environment();
    let err = SimWorld::resume(&env, "{\n  \"format\": 1,\n  oops")
        .err()
        .unwrap();
    assert!(err.to_string().contains("line 3 column"), "{err}");

    let saved: serde_json::Value = serde_json::from_str(&demo().to_saved().unwrap()).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v = saved.clone();
        f(&mut v);
        SimWorld::resume(&env, &v.to_string()).err().unwrap()
    };
    let err = edit(&|v| v["format"] = 99.into());
    assert_eq!(err, super::ResumeError::Format(99));
    let err = edit(&|v| v["model"]["clusters"][0]["region"] = 7.into());
    assert!(err.to_string().contains("orders-primary"), "{err}");
    let err = edit(&|v| v["model"]["clusters"][1]["lag"]["spike"] = 1e300.into());
    assert!(err.to_string().contains("lag"), "{err}");
    let err = edit(&|v| v["model"]["clusters"][0]["operation"] = "dancing".into());
    assert!(err.to_string().contains("dancing"), "{err}");
    let err = edit(&|v| {
        v["faults"] = serde_json::json!([{ "type": "region-outage", "region": "mars-1" }])
    });
    assert!(err.to_string().contains("mars-1"), "{err}");
    let err = edit(&|v| v["model"]["rng"] = serde_json::json!([0, 0, 0, 0]));
    assert!(err.to_string().contains("random"), "{err}");
}

/// Every number in a saved world replaced by extremes, and every cut of
/// the text: each is refused or resumes into a world that runs. None panics.
#[test]
fn no_edit_of_a_saved_world_makes_the_simulator_panic() {
    let env = demo_environment();
    let (world, _) = busy_world();
    let text = world.to_saved().unwrap();
    for cut in (0..text.len()).step_by(211) {
        assert!(SimWorld::resume(&env, &text[..cut]).is_err());
    }
    let saved: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut numbers = Vec::new();
    collect_numbers(&saved, &mut Vec::new(), &mut numbers);
    assert!(numbers.len() > 100, "{}", numbers.len());
    let extremes = [
        serde_json::json!(u64::MAX),
        serde_json::json!(-1),
        serde_json::json!(i64::MIN),
        serde_json::json!(1e308),
    ];
    for (i, path) in numbers.iter().enumerate() {
        // Every path with the first extremes, a sample with all of them.
        let tried = if i % 7 == 0 {
            &extremes[..]
        } else {
            &extremes[..2]
        };
        for extreme in tried {
            let mut edited = saved.clone();
            *path.iter().fold(&mut edited, |v, key| match key {
                Key::Field(k) => &mut v[k.as_str()],
                Key::Index(i) => &mut v[*i],
            }) = extreme.clone();
            if let Ok(resumed) = SimWorld::resume(&env, &edited.to_string()) {
                resumed.observe();
                resumed.advance(secs(120));
                resumed.observe();
            }
        }
    }
}

enum Key {
    Field(String),
    Index(usize),
}

fn collect_numbers(v: &serde_json::Value, at: &mut Vec<Key>, out: &mut Vec<Vec<Key>>) {
    let copy = |at: &Vec<Key>| {
        at.iter()
            .map(|k| match k {
                Key::Field(f) => Key::Field(f.clone()),
                Key::Index(i) => Key::Index(*i),
            })
            .collect()
    };
    match v {
        serde_json::Value::Number(_) => out.push(copy(at)),
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(Key::Index(i));
                collect_numbers(item, at, out);
                at.pop();
            }
        }
        serde_json::Value::Object(fields) => {
            for (k, item) in fields {
                at.push(Key::Field(k.clone()));
                collect_numbers(item, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}
