//! The fault kinds a drill injects and the ground truth it is scored on,
//! driven by hand on the demo world: no test sleeps.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Fault, SimWorld};
use crate::config::environment_file::demo_environment;
use crate::domain::action::Action;
use crate::domain::snapshot::{FailoverRole, Health, Snapshot};

fn start() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn demo() -> SimWorld {
    SimWorld::new(&demo_environment(), start())
}

fn snapshot(world: &SimWorld) -> Snapshot {
    let mut all = Snapshot::default();
    for r in world.observe() {
        if let Ok(s) = &r.result {
            all.extend(s);
        }
    }
    all
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn health(world: &SimWorld, id: &str) -> Health {
    snapshot(world)
        .health_checks
        .iter()
        .find(|h| h.id == id)
        .unwrap()
        .status
}

fn failover(allow_data_loss: bool) -> Action {
    Action::FailoverGlobalCluster {
        region: "us-west-2".into(),
        global_cluster: "orders-global".into(),
        target_cluster: "orders-secondary".into(),
        allow_data_loss,
    }
}

fn writer_is_secondary(world: &SimWorld) -> bool {
    snapshot(world)
        .global_clusters
        .iter()
        .find(|g| g.id == "orders-global")
        .and_then(|g| g.writer())
        .is_some_and(|m| m.cluster_id == "orders-secondary")
}

#[test]
fn the_demo_application_writes_at_its_rate_to_every_writer() {
    let world = demo();
    let before = world.ground_truth();
    world.advance(secs(10));
    let after = world.ground_truth();
    assert_eq!(after.writes_per_second, 20);
    let writers = 2 + 2; // orders and billing primaries, two backup-only databases
    let grew = after.writes_accepted - before.writes_accepted;
    assert_eq!(grew % 200, 0, "{grew}");
    assert!(grew >= 200 * 2 && grew <= 200 * writers, "{grew}");
}

#[test]
fn a_failover_during_an_outage_loses_the_writes_not_yet_replicated() {
    let world = demo();
    world.advance(secs(30));
    world
        .inject(Fault::RegionOutage {
            region: "us-east-1".into(),
        })
        .unwrap();
    world.advance(secs(120));
    world.execute(&failover(true)).unwrap();
    world.advance(secs(120));
    assert!(writer_is_secondary(&world));
    let truth = world.ground_truth();
    let loss = truth.losses.last().unwrap();
    assert_eq!(loss.promoted, "orders-secondary");
    assert!(loss.count > 0, "{loss:?}");
    // Everything lost was written just before the region failed.
    let down = start() + chrono::Duration::seconds(30);
    assert!(loss.last.unwrap() <= down, "{loss:?}");
    assert_eq!(
        u128::from(loss.count),
        loss.span(20).as_millis() / 50,
        "one write every 50 ms: {loss:?}"
    );
    // The lag the simulator recorded, in writes, is what was counted.
    let lag = world.data_loss("orders-secondary").unwrap();
    let outage_part = lag.as_secs_f64() - (loss.at - down).num_milliseconds() as f64 / 1000.0;
    assert!(
        (loss.count as f64 - outage_part * 20.0).abs() <= 1.0,
        "{loss:?} vs replication lag {outage_part}s"
    );
}

#[test]
fn a_switchover_loses_no_write() {
    let world = demo();
    world.advance(secs(30));
    world
        .execute(&Action::SwitchoverGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: "orders-global".into(),
            target_cluster: "orders-secondary".into(),
        })
        .unwrap();
    world.advance(secs(180));
    assert!(writer_is_secondary(&world));
    let truth = world.ground_truth();
    assert_eq!(truth.losses.len(), 1);
    assert_eq!(truth.losses[0].count, 0);
}

#[test]
fn stopped_replication_makes_a_data_loss_failover_lose_minutes_of_writes() {
    let world = demo();
    world
        .inject(Fault::ReplicationStopped {
            resource: "orders-secondary".into(),
        })
        .unwrap();
    world.advance(secs(300));
    world.execute(&failover(true)).unwrap();
    world.advance(secs(120));
    let loss = world.ground_truth().losses.last().unwrap().clone();
    // Written in the ~300 s before the failover started, minus nothing.
    assert!(loss.count >= 20 * 200, "{loss:?}");
}

#[test]
fn replication_stopped_before_an_outage_cannot_catch_up_during_it() {
    let world = demo();
    let stopped = Fault::ReplicationStopped {
        resource: "orders-secondary".into(),
    };
    world.inject(stopped.clone()).unwrap();
    world.advance(secs(300));
    world
        .inject(Fault::RegionOutage {
            region: "us-east-1".into(),
        })
        .unwrap();
    world.advance(secs(30));
    // Replication resumes, but its source is down: nothing can arrive.
    world.clear(&stopped).unwrap();
    world.advance(secs(120));
    world.execute(&failover(true)).unwrap();
    world.advance(secs(120));
    let loss = world.ground_truth().losses.last().unwrap().clone();
    assert!(
        loss.count >= 20 * 295,
        "the five minutes before the outage: {loss:?}"
    );
}

#[test]
fn a_partial_outage_stops_writes_while_most_checkers_still_see_it_up() {
    let world = demo();
    world
        .inject(Fault::PartialOutage {
            region: "us-east-1".into(),
            failing_checkers_percent: 40,
        })
        .unwrap();
    world.advance(secs(300));
    assert_eq!(health(&world, "hc-orders-use1"), Health::Healthy);
    let db = world.region_database("us-east-1").unwrap();
    assert!(!db.writable);
    let before = world.ground_truth().writes_accepted;
    world.advance(secs(10));
    let west_only = world.ground_truth().writes_accepted - before;
    assert!(west_only < 200 * 2, "{west_only}");

    world
        .inject(Fault::PartialOutage {
            region: "us-east-1".into(),
            failing_checkers_percent: 100,
        })
        .unwrap();
    world.advance(secs(120));
    assert_eq!(health(&world, "hc-orders-use1"), Health::Unhealthy);
    assert_eq!(world.active_faults().len(), 1, "one outage per region");
    world.clear(&world.active_faults()[0]).unwrap();
    world.advance(secs(120));
    assert_eq!(health(&world, "hc-orders-use1"), Health::Healthy);
}

#[test]
fn stopped_backups_freeze_pitr_silently() {
    let world = demo();
    let fault = Fault::BackupsStopped {
        resource: "orders-primary".into(),
    };
    world.inject(fault.clone()).unwrap();
    let restorable = |w: &SimWorld| {
        snapshot(w)
            .db_clusters
            .iter()
            .find(|c| c.id == "orders-primary")
            .unwrap()
            .backup
            .latest_restorable
            .unwrap()
    };
    let frozen = restorable(&world);
    world.advance(secs(3600));
    assert_eq!(restorable(&world), frozen);
    assert!(world.observe().iter().all(|r| r.result.is_ok()));
    world.clear(&fault).unwrap();
    world.advance(secs(600));
    assert!(restorable(&world) > frozen + chrono::Duration::minutes(30));
}

#[test]
fn a_swapped_dns_pair_answers_with_the_other_region() {
    let world = demo();
    world
        .inject(Fault::DnsSwapped {
            record: "api.example.com".into(),
        })
        .unwrap();
    let snap = snapshot(&world);
    let primary = snap
        .dns_records
        .iter()
        .find(|r| r.name == "api.example.com." && r.failover == Some(FailoverRole::Primary))
        .unwrap();
    assert_eq!(primary.target, "api.us-west-2.example.com");
    assert!(world.active_faults().is_empty(), "it stays until fixed");
    assert!(
        world
            .inject(Fault::DnsSwapped {
                record: "nope.example.com".into()
            })
            .is_err()
    );
}

#[test]
fn a_flapping_check_changes_status_and_settles_when_cleared() {
    let world = demo();
    let fault = Fault::FlappingHealthCheck {
        health_check: "hc-orders-use1".into(),
        period_seconds: 90,
    };
    world.inject(fault.clone()).unwrap();
    let mut seen = Vec::new();
    for _ in 0..20 {
        world.advance(secs(30));
        seen.push(health(&world, "hc-orders-use1"));
    }
    assert!(seen.contains(&Health::Unhealthy) && seen.contains(&Health::Healthy));
    assert!(
        world.region_database("us-east-1").unwrap().writable,
        "only the check flaps"
    );
    world.clear(&fault).unwrap();
    world.advance(secs(120));
    assert_eq!(health(&world, "hc-orders-use1"), Health::Healthy);
    let too_fast = Fault::FlappingHealthCheck {
        health_check: "hc-orders-use1".into(),
        period_seconds: 1,
    };
    assert!(world.inject(too_fast).is_err());
}

#[test]
fn a_slow_control_plane_stretches_a_failover_to_many_minutes() {
    let world = demo();
    world
        .inject(Fault::SlowControlPlane { factor: 10 })
        .unwrap();
    world.execute(&failover(false)).unwrap();
    world.advance(secs(400));
    assert!(
        !writer_is_secondary(&world),
        "usually 45-75 s, now 450-750 s"
    );
    world.advance(secs(400));
    assert!(writer_is_secondary(&world));
    assert!(world.inject(Fault::SlowControlPlane { factor: 0 }).is_err());
}

#[test]
fn a_failing_endpoint_is_answered_only_for_its_region_and_path() {
    let world = demo();
    let fault = Fault::EndpointFailing {
        region: "us-west-2".into(),
        path: "/auth/login".into(),
        status: 500,
    };
    world.inject(fault.clone()).unwrap();
    assert_eq!(
        world.failing_endpoint("us-west-2", "/auth/login"),
        Some(500)
    );
    assert_eq!(world.failing_endpoint("us-east-1", "/auth/login"), None);
    assert_eq!(world.failing_endpoint("us-west-2", "/health"), None);
    world.clear(&fault).unwrap();
    assert_eq!(world.failing_endpoint("us-west-2", "/auth/login"), None);
}

#[tokio::test]
async fn the_demo_application_answers_an_injected_failure_for_that_path_only() {
    let world = std::sync::Arc::new(demo());
    let (addr, _server) = super::serve_demo_app(
        std::sync::Arc::clone(&world),
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .unwrap();
    world
        .inject(Fault::EndpointFailing {
            region: "us-west-2".into(),
            path: "/auth/login".into(),
            status: 500,
        })
        .unwrap();
    let client = reqwest::Client::new();
    let login = |region: &str| {
        client
            .post(format!("http://{addr}/{region}/auth/login"))
            .json(&serde_json::json!({ "email": "a@b.c", "password": "x" }))
            .send()
    };
    assert_eq!(login("us-west-2").await.unwrap().status().as_u16(), 500);
    assert_eq!(login("us-east-1").await.unwrap().status().as_u16(), 200);
    let health = client
        .get(format!("http://{addr}/us-west-2/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[test]
fn new_faults_survive_a_save_and_resume() {
    let world = demo();
    world
        .inject(Fault::ReplicationStopped {
            resource: "orders-secondary".into(),
        })
        .unwrap();
    world.inject(Fault::SlowControlPlane { factor: 5 }).unwrap();
    world.advance(secs(60));
    let text = world.to_saved().unwrap();
    let resumed = SimWorld::resume(&demo_environment(), &text).unwrap();
    assert_eq!(resumed.active_faults(), world.active_faults());
    assert_eq!(resumed.ground_truth(), world.ground_truth());
    world.advance(secs(60));
    resumed.advance(secs(60));
    assert_eq!(resumed.ground_truth(), world.ground_truth());
    assert_eq!(resumed.data_loss("orders-secondary"), None);
}
