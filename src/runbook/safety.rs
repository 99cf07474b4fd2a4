//! Safety rules checked just before an action is sent, on the same fresh
//! observation the operator is shown (after Route 53 ARC's assertion and
//! gating rules, and Orchestrator's `RecoveryPeriodBlockSeconds`).
//!
//! A violation does not forbid the call: it blocks it until the operator
//! overrides with a typed reason, which the journal keeps with the facts and
//! the operator's identity. Pure, so every rule is tested on hand-made
//! snapshots.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::facts::{
    data_at_risk, dns_region, find_cluster, find_instance, region_health, writer_region,
};
use crate::domain::action::Action;
use crate::domain::environment::ServiceSpec;
use crate::domain::snapshot::{Health, Snapshot};
use crate::format::{objective, short_duration};
use crate::provider::aws::arn;

/// The default anti-flapping period: one writer move per global database
/// per hour unless overridden.
pub const DEFAULT_REPEAT_FAILOVER_WITHIN: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// `FailoverGlobalCluster` with `AllowDataLoss` while the writer's region passes its checks.
    DataLossWhilePrimaryHealthy,
    /// DNS pointed at a region whose health checks fail.
    DnsToFailingRegion,
    /// The cluster or instance to promote is not `available` (or not seen).
    TargetNotAvailable,
    /// The copy to promote is further behind than the RPO allows.
    TargetLagsBeyondRpo,
    /// The writer of the same global database moved within the period.
    RepeatFailover,
    /// Inverting a health check takes its region out of rotation while no
    /// other region of the service passes its checks.
    DrainsLastServingRegion,
}

impl Rule {
    pub fn label(self) -> &'static str {
        match self {
            Rule::DataLossWhilePrimaryHealthy => "data-loss failover of a healthy primary",
            Rule::DnsToFailingRegion => "DNS to a failing region",
            Rule::TargetNotAvailable => "target not available",
            Rule::TargetLagsBeyondRpo => "target lags beyond the RPO",
            Rule::RepeatFailover => "repeated failover",
            Rule::DrainsLastServingRegion => "drains the last serving region",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    pub rule: Rule,
    /// Why, in words, with the observed values.
    pub message: String,
}

/// Settings of the rules that have any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetySettings {
    /// A second writer move of one global database within this period is blocked.
    pub repeat_failover_within: Duration,
}

impl Default for SafetySettings {
    fn default() -> Self {
        Self {
            repeat_failover_within: DEFAULT_REPEAT_FAILOVER_WITHIN,
        }
    }
}

/// What the rules look at besides the action.
pub struct Context<'a> {
    pub service: &'a ServiceSpec,
    pub snapshot: &'a Snapshot,
    pub rpo: Duration,
    /// When the writer of the action's global database was moved before
    /// (from the journals), any order.
    pub earlier_writer_moves: &'a [DateTime<Utc>],
    pub settings: SafetySettings,
    pub now: DateTime<Utc>,
}

/// Every rule `action` breaks, in a stable order.
pub fn evaluate(action: &Action, ctx: &Context) -> Vec<Violation> {
    let mut found = Vec::new();
    let mut violation = |rule, message: String| found.push(Violation { rule, message });
    match action {
        Action::FailoverGlobalCluster {
            global_cluster,
            target_cluster,
            allow_data_loss,
            ..
        } => {
            if *allow_data_loss {
                let writer = writer_region(global_cluster, ctx.service, ctx.snapshot);
                let h = region_health(ctx.service, ctx.snapshot, &writer);
                if h.health == Health::Healthy {
                    violation(
                        Rule::DataLossWhilePrimaryHealthy,
                        format!(
                            "{writer} holds the writer and passes its health checks ({}/{} checkers): a managed switchover loses nothing",
                            h.checkers_healthy, h.checkers_total
                        ),
                    );
                }
            }
            target_available(ctx, target_cluster, &mut violation);
            target_lag(ctx, target_cluster, &mut violation);
            repeat(ctx, global_cluster, &mut violation);
        }
        Action::SwitchoverGlobalCluster {
            global_cluster,
            target_cluster,
            ..
        } => {
            target_available(ctx, target_cluster, &mut violation);
            repeat(ctx, global_cluster, &mut violation);
        }
        Action::RemoveFromGlobalCluster { cluster, .. } => {
            target_available(ctx, cluster, &mut violation);
            target_lag(ctx, cluster, &mut violation);
        }
        Action::PromoteReadReplicaDbCluster { cluster, .. } => {
            target_available(ctx, cluster, &mut violation);
            target_lag(ctx, cluster, &mut violation);
        }
        Action::PromoteReadReplica { instance, .. } => {
            match find_instance(ctx.snapshot, instance) {
                Some(i) if i.status == "available" => {}
                Some(i) => violation(
                    Rule::TargetNotAvailable,
                    format!("{} is {}, not available", i.id, i.status),
                ),
                None => violation(
                    Rule::TargetNotAvailable,
                    format!("{instance} was not observed: nothing shows it can be promoted"),
                ),
            }
            target_lag(ctx, instance, &mut violation);
        }
        Action::UpsertRecord { name, .. } => {
            if let Some(region) = dns_region(action, ctx.service) {
                let h = region_health(ctx.service, ctx.snapshot, &region);
                if h.health == Health::Unhealthy {
                    violation(
                        Rule::DnsToFailingRegion,
                        format!(
                            "{name} would send users to {region}, whose health checks fail ({}/{} checkers pass)",
                            h.checkers_healthy, h.checkers_total
                        ),
                    );
                }
            }
        }
        Action::UpdateHealthCheck {
            health_check_id,
            inverted: Some(true),
            ..
        } => drain(ctx, health_check_id, &mut violation),
        Action::UpdateHealthCheck { .. } => {}
    }
    found
}

/// Inverting a passing check makes Route 53 see it fail, which takes its
/// region out of rotation (a latency record, or the PRIMARY of a failover
/// pair); with no other region passing its checks nobody is left to serve.
/// A check already inverted or failing drains nothing (inverting a failing
/// check makes it pass).
fn drain(ctx: &Context, health_check_id: &str, violation: &mut impl FnMut(Rule, String)) {
    let Some(spec) = ctx
        .service
        .health_checks
        .iter()
        .find(|h| h.id == health_check_id)
    else {
        return;
    };
    let observed = ctx
        .snapshot
        .health_checks
        .iter()
        .find(|h| h.id == health_check_id);
    if observed.is_some_and(|h| h.inverted || h.status == Health::Unhealthy) {
        return;
    }
    let mut others: Vec<&str> = ctx
        .service
        .health_checks
        .iter()
        .map(|h| h.region.as_str())
        .filter(|r| *r != spec.region)
        .collect();
    others.sort_unstable();
    others.dedup();
    let states: Vec<(&str, Health)> = others
        .iter()
        .map(|r| (*r, region_health(ctx.service, ctx.snapshot, r).health))
        .collect();
    if states.iter().any(|(_, h)| *h == Health::Healthy) {
        return;
    }
    let rest = if states.is_empty() {
        "the service has no health check in any other region".to_string()
    } else {
        let list: Vec<String> = states
            .iter()
            .map(|(r, h)| {
                let state = match h {
                    Health::Healthy => "healthy",
                    Health::Unhealthy => "unhealthy",
                    Health::Unknown => "unknown",
                };
                format!("{r} {state}")
            })
            .collect();
        format!("no other region passes its checks ({})", list.join(", "))
    };
    violation(
        Rule::DrainsLastServingRegion,
        format!(
            "inverting {health_check_id} takes {} out of rotation and {rest}: nobody would be left to serve",
            spec.region
        ),
    );
}

fn target_available(ctx: &Context, cluster: &str, violation: &mut impl FnMut(Rule, String)) {
    match find_cluster(ctx.snapshot, cluster) {
        Some(c) if c.status == "available" => {}
        Some(c) => violation(
            Rule::TargetNotAvailable,
            format!("{} is {}, not available", c.id, c.status),
        ),
        None => violation(
            Rule::TargetNotAvailable,
            format!(
                "{} was not observed: nothing shows it can take the writer",
                arn::resource_id(cluster)
            ),
        ),
    }
}

/// Unknown lag is not a violation: it is shown as a fact, and during a
/// regional outage the metric is often what is missing.
fn target_lag(ctx: &Context, resource: &str, violation: &mut impl FnMut(Rule, String)) {
    if let Some((lag, source)) = data_at_risk(ctx.snapshot, resource)
        && lag > ctx.rpo
    {
        violation(
            Rule::TargetLagsBeyondRpo,
            format!(
                "{} is {} behind ({source}), beyond the RPO of {}",
                arn::resource_id(resource),
                short_duration(lag),
                objective(ctx.rpo)
            ),
        );
    }
}

fn repeat(ctx: &Context, global_cluster: &str, violation: &mut impl FnMut(Rule, String)) {
    let period = chrono::Duration::from_std(ctx.settings.repeat_failover_within)
        .unwrap_or(chrono::Duration::MAX);
    let latest = ctx
        .earlier_writer_moves
        .iter()
        .filter(|at| **at <= ctx.now && ctx.now - **at < period)
        .max();
    if let Some(at) = latest {
        let ago = (ctx.now - *at).to_std().unwrap_or_default();
        violation(
            Rule::RepeatFailover,
            format!(
                "the writer of {global_cluster} was already moved at {} ({} ago); another move within {} risks flapping",
                at.format("%H:%M:%SZ"),
                short_duration(ago),
                objective(ctx.settings.repeat_failover_within)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::{
        BackupObs, ClusterRole, DbClusterObs, DbInstanceObs, GlobalClusterObs, GlobalMember,
        HealthCheckObs, LagKind, LagObs,
    };
    use crate::runbook::facts;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    use crate::domain::testing::orders;

    fn check(id: &str, region: &str, healthy: bool) -> HealthCheckObs {
        HealthCheckObs {
            id: id.into(),
            region: region.into(),
            fqdn: format!("api.{region}.example.com"),
            status: if healthy {
                Health::Healthy
            } else {
                Health::Unhealthy
            },
            checkers_healthy: if healthy { 16 } else { 0 },
            checkers_total: 16,
            failure_threshold: 3,
            disabled: false,
            inverted: false,
        }
    }

    fn cluster(id: &str, region: &str, status: &str, version: &str) -> DbClusterObs {
        DbClusterObs {
            id: id.into(),
            arn: format!("arn:aws:rds:{region}:123456789012:cluster:{id}"),
            region: region.into(),
            engine: "aurora-postgresql".into(),
            engine_version: version.into(),
            status: status.into(),
            role: ClusterRole::Secondary,
            global_cluster_id: Some("orders-global".into()),
            endpoint: None,
            backup: BackupObs::default(),
        }
    }

    /// The orders estate: `east_healthy` for the writer region's checks, the
    /// secondary's status, and its RPO lag.
    fn world(east_healthy: bool, secondary_status: &str, rpo_lag: Option<Duration>) -> Snapshot {
        let member = |id: &str, region: &str, is_writer| GlobalMember {
            cluster_id: id.into(),
            cluster_arn: format!("arn:aws:rds:{region}:123456789012:cluster:{id}"),
            region: region.into(),
            is_writer,
            synchronization_status: None,
        };
        Snapshot {
            health_checks: vec![
                check("hc-east", "us-east-1", east_healthy),
                check("hc-west", "us-west-2", true),
            ],
            global_clusters: vec![GlobalClusterObs {
                id: "orders-global".into(),
                engine: "aurora-postgresql".into(),
                status: "available".into(),
                members: vec![
                    member("orders-primary", "us-east-1", true),
                    member("orders-secondary", "us-west-2", false),
                ],
            }],
            db_clusters: vec![
                cluster("orders-primary", "us-east-1", "available", "15.4"),
                cluster("orders-secondary", "us-west-2", secondary_status, "15.4"),
            ],
            lags: vec![LagObs {
                resource_id: "orders-secondary".into(),
                region: "us-west-2".into(),
                kind: LagKind::AuroraGlobal,
                lag: Some(Duration::from_millis(900)),
                rpo_lag,
                pending_operations: None,
            }],
            ..Snapshot::default()
        }
    }

    fn failover(allow_data_loss: bool) -> Action {
        Action::FailoverGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: "orders-global".into(),
            target_cluster: "arn:aws:rds:us-west-2:123456789012:cluster:orders-secondary".into(),
            allow_data_loss,
        }
    }

    fn rules(action: &Action, snapshot: &Snapshot, moves: &[DateTime<Utc>]) -> Vec<Rule> {
        let service = orders();
        evaluate(
            action,
            &Context {
                service: &service,
                snapshot,
                rpo: secs(300),
                earlier_writer_moves: moves,
                settings: SafetySettings::default(),
                now: now(),
            },
        )
        .into_iter()
        .map(|v| v.rule)
        .collect()
    }

    #[test]
    fn draining_the_last_serving_region_is_blocked_restoring_it_is_not() {
        let invert = |id: &str, inverted: bool| Action::UpdateHealthCheck {
            health_check_id: id.into(),
            disabled: None,
            inverted: Some(inverted),
        };
        let mut both = world(true, "available", None);
        both.health_checks[0].id = "hc-east".into();
        assert!(rules(&invert("hc-east", true), &both, &[]).is_empty());

        let mut west_down = both.clone();
        west_down.health_checks[1] = check("hc-west", "us-west-2", false);
        assert_eq!(
            rules(&invert("hc-east", true), &west_down, &[]),
            [Rule::DrainsLastServingRegion]
        );
        let service = orders();
        let found = evaluate(
            &invert("hc-east", true),
            &Context {
                service: &service,
                snapshot: &west_down,
                rpo: secs(300),
                earlier_writer_moves: &[],
                settings: SafetySettings::default(),
                now: now(),
            },
        );
        assert_eq!(
            found[0].message,
            "inverting hc-east takes us-east-1 out of rotation and no other region passes its checks (us-west-2 unhealthy): nobody would be left to serve"
        );
        assert!(rules(&invert("hc-east", false), &west_down, &[]).is_empty());
        // Inverting a failing check makes it pass: that drains nothing.
        assert!(rules(&invert("hc-west", true), &west_down, &[]).is_empty());
        let mut east_inverted = west_down.clone();
        east_inverted.health_checks[0].inverted = true;
        assert!(rules(&invert("hc-east", true), &east_inverted, &[]).is_empty());
    }

    #[test]
    fn a_data_loss_failover_of_a_healthy_primary_is_blocked() {
        let healthy = world(true, "available", Some(Duration::from_millis(1400)));
        assert_eq!(
            rules(&failover(true), &healthy, &[]),
            [Rule::DataLossWhilePrimaryHealthy]
        );
        let down = world(false, "available", Some(Duration::from_millis(1400)));
        assert_eq!(rules(&failover(true), &down, &[]), []);
        // Without data loss the call is a switchover: nothing to protect.
        assert_eq!(rules(&failover(false), &healthy, &[]), []);
    }

    #[test]
    fn unknown_primary_health_does_not_block_a_failover() {
        // In a real outage the failing region's checks are often what is missing.
        let mut snap = world(false, "available", None);
        snap.health_checks.retain(|h| h.region != "us-east-1");
        assert_eq!(rules(&failover(true), &snap, &[]), []);
    }

    #[test]
    fn the_writer_region_comes_from_the_observed_roles() {
        // After a failover us-west-2 holds the writer: failing back with
        // data loss while it is healthy is the dangerous case.
        let mut snap = world(false, "available", None);
        for m in &mut snap.global_clusters[0].members {
            m.is_writer = m.region == "us-west-2";
        }
        let back = Action::FailoverGlobalCluster {
            region: "us-east-1".into(),
            global_cluster: "orders-global".into(),
            target_cluster: "arn:aws:rds:us-east-1:123456789012:cluster:orders-primary".into(),
            allow_data_loss: true,
        };
        assert_eq!(
            rules(&back, &snap, &[]),
            [Rule::DataLossWhilePrimaryHealthy]
        );
    }

    #[test]
    fn a_target_that_is_not_available_or_lags_beyond_the_rpo_is_blocked() {
        let snap = world(false, "modifying", Some(secs(420)));
        assert_eq!(
            rules(&failover(true), &snap, &[]),
            [Rule::TargetNotAvailable, Rule::TargetLagsBeyondRpo]
        );
        let mut unseen = world(false, "available", None);
        unseen.db_clusters.retain(|c| c.id != "orders-secondary");
        assert_eq!(
            rules(&failover(true), &unseen, &[]),
            [Rule::TargetNotAvailable]
        );
    }

    #[test]
    fn a_promotion_checks_the_replica() {
        let mut snap = world(false, "available", None);
        snap.db_instances.push(DbInstanceObs {
            id: "billing-replica".into(),
            arn: "arn:aws:rds:us-west-2:123456789012:db:billing-replica".into(),
            region: "us-west-2".into(),
            engine: "postgres".into(),
            status: "storage-full".into(),
            replica_source: Some("billing-db".into()),
            replicas: vec![],
            endpoint: None,
            backup: BackupObs::default(),
        });
        snap.lags.push(LagObs {
            resource_id: "billing-replica".into(),
            region: "us-west-2".into(),
            kind: LagKind::RdsReplica,
            lag: Some(secs(600)),
            rpo_lag: None,
            pending_operations: None,
        });
        let promote = Action::PromoteReadReplica {
            region: "us-west-2".into(),
            instance: "billing-replica".into(),
            backup_retention_days: None,
        };
        assert_eq!(
            rules(&promote, &snap, &[]),
            [Rule::TargetNotAvailable, Rule::TargetLagsBeyondRpo]
        );
    }

    #[test]
    fn dns_to_a_failing_region_is_blocked() {
        let upsert = |value: &str| Action::UpsertRecord {
            zone_id: "Z1".into(),
            name: "api.example.com.".into(),
            record: crate::domain::action::RecordValue::Cname {
                value: value.into(),
                ttl: 60,
            },
            set_identifier: None,
            failover: None,
            health_check_id: None,
        };
        let snap = world(false, "available", None);
        assert_eq!(
            rules(&upsert("api.us-east-1.example.com."), &snap, &[]),
            [Rule::DnsToFailingRegion]
        );
        assert_eq!(rules(&upsert("api.us-west-2.example.com"), &snap, &[]), []);
    }

    #[test]
    fn a_second_failover_within_the_period_is_blocked() {
        let snap = world(false, "available", None);
        let recent = [now() - chrono::Duration::minutes(20)];
        let old = [now() - chrono::Duration::minutes(61)];
        assert_eq!(
            rules(&failover(true), &snap, &recent),
            [Rule::RepeatFailover]
        );
        assert_eq!(rules(&failover(true), &snap, &old), []);
        let service = orders();
        let found = evaluate(
            &failover(true),
            &Context {
                service: &service,
                snapshot: &snap,
                rpo: secs(300),
                earlier_writer_moves: &old,
                settings: SafetySettings {
                    repeat_failover_within: secs(2 * 3600),
                },
                now: now(),
            },
        );
        assert_eq!(found.len(), 1, "the period is configurable");
        assert!(
            found[0].message.contains("1h01m ago"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn failover_facts_say_what_will_be_lost() {
        let snap = world(true, "available", Some(Duration::from_millis(1400)));
        let shown = facts::gather(&failover(true), &orders(), &snap, secs(300));
        let texts: Vec<String> = shown
            .iter()
            .map(|f| format!("{}: {}", f.subject, f.text))
            .collect();
        assert_eq!(
            texts,
            [
                "us-east-1 (writer region): healthy: 16/16 checkers pass",
                "orders-secondary (us-west-2): status available",
                "orders-secondary replication: up to 1.4s of committed writes will be lost (AuroraGlobalDBRPOLag; RPO 5m)",
            ]
        );
        assert!(
            shown[0].concern,
            "a healthy primary argues against a data-loss failover"
        );
    }

    #[test]
    fn switchover_facts_compare_engine_versions() {
        let mut snap = world(true, "available", None);
        snap.db_clusters[1].engine_version = "15.3".into();
        let switchover = Action::SwitchoverGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: "orders-global".into(),
            target_cluster: "orders-secondary".into(),
        };
        let shown = facts::gather(&switchover, &orders(), &snap, secs(300));
        let versions = shown
            .iter()
            .find(|f| f.subject == "engine versions")
            .unwrap();
        assert!(versions.concern);
        assert!(
            versions.text.contains("orders-primary runs 15.4"),
            "{}",
            versions.text
        );
        let sync = shown
            .iter()
            .find(|f| f.subject == "orders-secondary sync")
            .unwrap();
        assert_eq!(
            sync.text,
            "900ms behind the writer: the switchover waits until it has caught up"
        );
    }
}
