//! The live facts that matter for one action, in words, taken from one
//! fresh observation: what the operator reads in the confirmation before a
//! mutating call, and what the journal keeps as "what was shown".
//!
//! Pure: the same action, service and snapshot always give the same facts,
//! so they are tested on hand-made snapshots. Their age is the observation's
//! (`Assessment::observed_at`), shown next to them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::safety::Violation;
use crate::domain::action::{Action, RecordValue};
use crate::domain::environment::ServiceSpec;
use crate::domain::posture::same_name;
use crate::domain::snapshot::{DbClusterObs, DbInstanceObs, Health, LagObs, Snapshot};
use crate::format::{objective, short_duration};
use crate::provider::aws::arn;

/// One thing observed, e.g. subject `us-east-1 (writer region)`, text
/// `healthy: 16/16 checkers pass`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub subject: String,
    pub text: String,
    /// The fact argues against going ahead; shown as a warning.
    pub concern: bool,
}

impl Fact {
    fn new(subject: impl Into<String>, text: impl Into<String>, concern: bool) -> Self {
        Self {
            subject: subject.into(),
            text: text.into(),
            concern,
        }
    }
}

/// What the operator was shown before deciding: the facts, the safety rules
/// they break, and when they were observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub observed_at: DateTime<Utc>,
    pub facts: Vec<Fact>,
    #[serde(default)]
    pub violations: Vec<Violation>,
}

impl Assessment {
    pub fn blocked(&self) -> bool {
        !self.violations.is_empty()
    }
}

/// The facts that matter for `action`, as `snapshot` shows them.
pub fn gather(
    action: &Action,
    service: &ServiceSpec,
    snapshot: &Snapshot,
    rpo: Duration,
) -> Vec<Fact> {
    let mut facts = Vec::new();
    match action {
        Action::FailoverGlobalCluster {
            global_cluster,
            target_cluster,
            allow_data_loss,
            ..
        } => {
            let writer = writer_region(global_cluster, service, snapshot);
            let worrying = allow_data_loss.then_some(Health::Healthy);
            facts.push(region_fact(
                service,
                snapshot,
                &writer,
                "writer region",
                worrying,
            ));
            facts.push(cluster_status_fact(snapshot, target_cluster));
            facts.push(data_at_risk_fact(
                snapshot,
                target_cluster,
                *allow_data_loss,
                rpo,
            ));
        }
        Action::SwitchoverGlobalCluster {
            global_cluster,
            target_cluster,
            ..
        } => {
            let writer = writer_region(global_cluster, service, snapshot);
            let worrying = Some(Health::Unhealthy);
            facts.push(region_fact(
                service,
                snapshot,
                &writer,
                "writer region",
                worrying,
            ));
            facts.push(cluster_status_fact(snapshot, target_cluster));
            facts.push(sync_fact(snapshot, target_cluster));
            facts.push(engine_version_fact(
                snapshot,
                global_cluster,
                target_cluster,
            ));
        }
        Action::RemoveFromGlobalCluster {
            global_cluster,
            cluster,
            ..
        } => {
            let writer = writer_region(global_cluster, service, snapshot);
            facts.push(region_fact(
                service,
                snapshot,
                &writer,
                "writer region",
                None,
            ));
            facts.push(cluster_status_fact(snapshot, cluster));
            facts.push(data_at_risk_fact(snapshot, cluster, true, rpo));
        }
        Action::PromoteReadReplica { instance, .. } => {
            facts.push(match find_instance(snapshot, instance) {
                Some(i) => Fact::new(
                    &i.id,
                    format!("status {}", i.status),
                    i.status != "available",
                ),
                None => Fact::new(instance, "not observed", true),
            });
            facts.push(replica_lag_fact(snapshot, instance, rpo));
        }
        Action::PromoteReadReplicaDbCluster { cluster, .. } => {
            facts.push(cluster_status_fact(snapshot, cluster));
            facts.push(replica_lag_fact(snapshot, cluster, rpo));
        }
        Action::UpsertRecord { .. } => match dns_region(action, service) {
            Some(region) => facts.push(region_fact(
                service,
                snapshot,
                &region,
                "DNS will point here",
                Some(Health::Unhealthy),
            )),
            None => facts.push(Fact::new(
                "DNS target",
                "not one of the service's regions: its health is not known",
                true,
            )),
        },
        Action::UpdateHealthCheck {
            health_check_id, ..
        } => facts.push(
            match snapshot
                .health_checks
                .iter()
                .find(|h| h.id == *health_check_id)
            {
                Some(h) => Fact::new(
                    format!("health check {}", h.id),
                    format!(
                        "{} in {}: {}/{} checkers pass{}",
                        health_word(h.status),
                        h.region,
                        h.checkers_healthy,
                        h.checkers_total,
                        match (h.disabled, h.inverted) {
                            (true, _) => ", disabled",
                            (false, true) => ", inverted",
                            (false, false) => "",
                        }
                    ),
                    false,
                ),
                None => Fact::new(
                    format!("health check {health_check_id}"),
                    "not observed",
                    true,
                ),
            },
        ),
    }
    facts
}

/// Where the global cluster's writer is now, from the observed roles; the
/// environment's primary region when the membership was not observed.
pub fn writer_region(global_cluster: &str, service: &ServiceSpec, snapshot: &Snapshot) -> String {
    snapshot
        .global_clusters
        .iter()
        .find(|g| g.id == global_cluster)
        .and_then(|g| g.writer())
        .map_or_else(|| service.primary_region.clone(), |w| w.region.clone())
}

/// The region an upsert sends users to: by the environment's DNS targets,
/// else by a region name inside the target (`api.us-west-2.example.com`).
pub fn dns_region(action: &Action, service: &ServiceSpec) -> Option<String> {
    let Action::UpsertRecord { record, .. } = action else {
        return None;
    };
    let target = match record {
        RecordValue::Cname { value, .. } => value,
        RecordValue::Alias { dns_name, .. } => dns_name,
    };
    if let Some(dns) = &service.dns {
        if same_name(target, &dns.primary_target) {
            return Some(service.primary_region.clone());
        }
        if same_name(target, &dns.secondary_target) {
            return Some(service.dr_region.clone());
        }
    }
    let lower = target.to_ascii_lowercase();
    [&service.primary_region, &service.dr_region]
        .into_iter()
        .find(|r| lower.contains(r.as_str()))
        .cloned()
}

/// Health of the service's checks in a region, and how many checkers pass.
pub struct RegionHealth {
    pub health: Health,
    pub checkers_healthy: u32,
    pub checkers_total: u32,
}

pub fn region_health(service: &ServiceSpec, snapshot: &Snapshot, region: &str) -> RegionHealth {
    let checks: Vec<_> = service
        .health_checks
        .iter()
        .filter(|h| h.region == region)
        .filter_map(|h| snapshot.health_checks.iter().find(|o| o.id == h.id))
        .collect();
    RegionHealth {
        health: crate::domain::posture::region_health(service, snapshot, region),
        checkers_healthy: checks.iter().map(|c| c.checkers_healthy).sum(),
        checkers_total: checks.iter().map(|c| c.checkers_total).sum(),
    }
}

/// `worrying` is the health that argues against the action: a healthy
/// writer region before a data-loss failover, a failing region before DNS
/// points users at it.
fn region_fact(
    service: &ServiceSpec,
    snapshot: &Snapshot,
    region: &str,
    role: &str,
    worrying: Option<Health>,
) -> Fact {
    let h = region_health(service, snapshot, region);
    let subject = format!("{region} ({role})");
    match h.health {
        Health::Unknown => Fact::new(
            subject,
            "health unknown: no health check of the service observed there",
            true,
        ),
        health => Fact::new(
            subject,
            format!(
                "{}: {}/{} checkers pass",
                health_word(health),
                h.checkers_healthy,
                h.checkers_total
            ),
            worrying == Some(health),
        ),
    }
}

fn health_word(h: Health) -> &'static str {
    match h {
        Health::Healthy => "healthy",
        Health::Unhealthy => "unhealthy",
        Health::Unknown => "unknown",
    }
}

pub fn find_cluster<'a>(snapshot: &'a Snapshot, id_or_arn: &str) -> Option<&'a DbClusterObs> {
    snapshot
        .db_clusters
        .iter()
        .find(|c| c.arn == id_or_arn || c.id == arn::resource_id(id_or_arn))
}

pub fn find_instance<'a>(snapshot: &'a Snapshot, id_or_arn: &str) -> Option<&'a DbInstanceObs> {
    snapshot
        .db_instances
        .iter()
        .find(|i| i.arn == id_or_arn || i.id == arn::resource_id(id_or_arn))
}

pub fn find_lag<'a>(snapshot: &'a Snapshot, id_or_arn: &str) -> Option<&'a LagObs> {
    snapshot
        .lags
        .iter()
        .find(|l| arn::resource_id(&l.resource_id) == arn::resource_id(id_or_arn))
}

/// The data a promotion of `resource` would lose: `AuroraGlobalDBRPOLag`
/// where AWS reports it, else the replication lag.
pub fn data_at_risk(snapshot: &Snapshot, resource: &str) -> Option<(Duration, &'static str)> {
    let lag = find_lag(snapshot, resource)?;
    match (lag.rpo_lag, lag.lag) {
        (Some(rpo), _) => Some((rpo, "AuroraGlobalDBRPOLag")),
        (None, Some(l)) => Some((l, "replication lag")),
        (None, None) => None,
    }
}

fn cluster_status_fact(snapshot: &Snapshot, cluster: &str) -> Fact {
    match find_cluster(snapshot, cluster) {
        Some(c) => Fact::new(
            format!("{} ({})", c.id, c.region),
            format!("status {}", c.status),
            c.status != "available",
        ),
        None => Fact::new(arn::resource_id(cluster), "not observed", true),
    }
}

fn data_at_risk_fact(snapshot: &Snapshot, target: &str, loses_data: bool, rpo: Duration) -> Fact {
    let subject = format!("{} replication", arn::resource_id(target));
    match data_at_risk(snapshot, target) {
        Some((lag, source)) if loses_data => Fact::new(
            subject,
            format!(
                "up to {} of committed writes will be lost ({source}; RPO {})",
                short_duration(lag),
                objective(rpo)
            ),
            lag > rpo,
        ),
        Some((lag, source)) => Fact::new(
            subject,
            format!("{} behind the writer ({source})", short_duration(lag)),
            lag > rpo,
        ),
        None => Fact::new(
            subject,
            "lag not observed: how much committed data would be lost is unknown",
            true,
        ),
    }
}

fn replica_lag_fact(snapshot: &Snapshot, replica: &str, rpo: Duration) -> Fact {
    let subject = format!("{} replica lag", arn::resource_id(replica));
    match find_lag(snapshot, replica).and_then(|l| l.lag) {
        Some(lag) => Fact::new(
            subject,
            format!(
                "{} behind its source: writes newer than that stay behind (RPO {})",
                short_duration(lag),
                objective(rpo)
            ),
            lag > rpo,
        ),
        None => Fact::new(
            subject,
            "not observed: the data left behind is unknown",
            true,
        ),
    }
}

fn sync_fact(snapshot: &Snapshot, target: &str) -> Fact {
    let subject = format!("{} sync", arn::resource_id(target));
    let syncing = snapshot
        .global_clusters
        .iter()
        .flat_map(|g| &g.members)
        .find(|m| m.cluster_arn == target || m.cluster_id == arn::resource_id(target))
        .and_then(|m| m.synchronization_status.clone());
    match (find_lag(snapshot, target).and_then(|l| l.lag), syncing) {
        (_, Some(status)) => Fact::new(subject, format!("synchronization status {status}"), true),
        (Some(lag), None) if lag.is_zero() => Fact::new(subject, "in sync with the writer", false),
        (Some(lag), None) => Fact::new(
            subject,
            format!(
                "{} behind the writer: the switchover waits until it has caught up",
                short_duration(lag)
            ),
            false,
        ),
        (None, None) => Fact::new(subject, "replication lag not observed", true),
    }
}

fn engine_version_fact(snapshot: &Snapshot, global_cluster: &str, target: &str) -> Fact {
    let writer = snapshot
        .global_clusters
        .iter()
        .find(|g| g.id == global_cluster)
        .and_then(|g| g.writer())
        .and_then(|w| find_cluster(snapshot, &w.cluster_arn));
    match (writer, find_cluster(snapshot, target)) {
        (Some(w), Some(t)) if w.engine_version == t.engine_version => Fact::new(
            "engine versions",
            format!("both {} {}", t.engine, t.engine_version),
            false,
        ),
        (Some(w), Some(t)) => Fact::new(
            "engine versions",
            format!(
                "{} runs {}, {} runs {}: a switchover needs the same major and minor version",
                w.id, w.engine_version, t.id, t.engine_version
            ),
            true,
        ),
        _ => Fact::new("engine versions", "not observed for both clusters", true),
    }
}
