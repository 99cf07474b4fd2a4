//! Backups: automated backups on with enough retention, a recent snapshot,
//! a copy outside the primary region, a restore that has been tried.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::check::{Area, Check};
use super::index::Indexed;
use crate::domain::environment::{Replication, ServiceSpec};
use crate::domain::objectives::DrTier;
use crate::domain::snapshot::{BackupObs, ClusterRole};
use crate::format::{objective, short_duration};

/// Snapshots are daily: a day plus the hour the backup window lasts.
const DAILY_SNAPSHOT_BOUND: Duration = Duration::from_secs(25 * 3600);

pub fn checks(service: &ServiceSpec, inputs: &Indexed<'_>) -> Vec<Check> {
    let mut out = Vec::new();
    for (id, backup) in backed_up(service, inputs) {
        let Some(backup) = backup else {
            out.push(Check::fail(
                Area::Backups,
                "automated backups",
                format!("{id} was not observed: its backups are unknown"),
                format!(
                    "check that {id} exists in {} and can be described",
                    service.primary_region
                ),
            ));
            continue;
        };
        out.push(retention(&id, &backup, inputs.settings.min_retention_days));
        out.push(snapshot_age(service, &id, &backup, inputs.now));
        out.push(cross_region_copy(service, &id, &backup, inputs));
    }
    if service.tier == DrTier::BackupRestore {
        out.push(restore_test(service, inputs));
    }
    out
}

/// The resources whose backups hold the service's data: the current
/// writer for replicated databases, every named resource for backups.
fn backed_up(service: &ServiceSpec, inputs: &Indexed<'_>) -> Vec<(String, Option<BackupObs>)> {
    let cluster = |id: &str| inputs.cluster(id).map(|c| c.backup.clone());
    let instance = |id: &str| inputs.instance(id).map(|i| i.backup.clone());
    match &service.replication {
        Replication::AuroraGlobal {
            primary_cluster,
            secondary_cluster,
            ..
        } => {
            let writer = [primary_cluster, secondary_cluster]
                .into_iter()
                .find(|id| {
                    inputs
                        .cluster(id)
                        .is_some_and(|c| c.role != ClusterRole::Secondary)
                })
                .unwrap_or(primary_cluster);
            vec![(writer.clone(), cluster(writer))]
        }
        Replication::RdsReplica {
            source_instance, ..
        } => vec![(source_instance.clone(), instance(source_instance))],
        Replication::S3 { .. } => vec![],
        Replication::Backup {
            clusters,
            instances,
        } => clusters
            .iter()
            .map(|id| (id.clone(), cluster(id)))
            .chain(instances.iter().map(|id| (id.clone(), instance(id))))
            .collect(),
    }
}

fn retention(id: &str, backup: &BackupObs, min_days: u32) -> Check {
    let name = "automated backups";
    let days = backup.retention_days;
    if days == 0 {
        Check::fail(
            Area::Backups,
            name,
            format!("{id}: automated backups are off (retention 0 days)"),
            format!("set {id}'s backup retention to at least {min_days} days"),
        )
    } else if days < min_days {
        Check::fail(
            Area::Backups,
            name,
            format!("{id}: retention {days} days, under the minimum of {min_days}"),
            format!("raise {id}'s backup retention period to {min_days} days or more"),
        )
    } else {
        Check::pass(
            Area::Backups,
            name,
            format!("{id}: retention {days} days (minimum {min_days})"),
        )
    }
}

/// For backup-and-restore the newest snapshot is the recovery point, so
/// it must be within the RPO; other tiers recover from the replica and
/// keep snapshots against corruption, so a daily one is enough.
pub fn snapshot_bound(service: &ServiceSpec) -> Duration {
    if service.tier == DrTier::BackupRestore {
        service.objectives.rpo
    } else {
        DAILY_SNAPSHOT_BOUND.max(service.objectives.rpo)
    }
}

fn snapshot_age(service: &ServiceSpec, id: &str, backup: &BackupObs, now: DateTime<Utc>) -> Check {
    let name = "snapshot age";
    let bound = snapshot_bound(service);
    let Some(taken) = backup.newest_snapshot else {
        return Check::fail(
            Area::Backups,
            name,
            format!("{id}: no snapshot found"),
            format!("take a snapshot of {id} and check its backup window"),
        );
    };
    let age = (now - taken).to_std().unwrap_or_default();
    let evidence = format!(
        "{id}: newest snapshot {} old (taken {}), bound {}",
        short_duration(age),
        taken.format("%Y-%m-%d %H:%M UTC"),
        objective(bound)
    );
    if age <= bound {
        Check::pass(Area::Backups, name, evidence)
    } else if age <= bound * 2 {
        Check::warn(
            Area::Backups,
            name,
            evidence,
            format!("check {id}'s backup window and last backup job"),
        )
    } else {
        Check::fail(
            Area::Backups,
            name,
            evidence,
            format!("find why {id} has not been backed up; take a snapshot now"),
        )
    }
}

fn cross_region_copy(
    service: &ServiceSpec,
    id: &str,
    backup: &BackupObs,
    inputs: &Indexed<'_>,
) -> Check {
    let name = "cross-region copy";
    let dr = &service.dr_region;
    // Without a replica the copy is the only way back from a region loss.
    let short = |evidence: String, fix: String| {
        if service.tier == DrTier::BackupRestore {
            Check::fail(Area::Backups, name, evidence, fix)
        } else {
            Check::warn(Area::Backups, name, evidence, fix)
        }
    };
    if !backup.cross_region_copy {
        return short(
            format!("{id}: no backup copy outside {}", service.primary_region),
            format!("replicate {id}'s automated backups (or copy its snapshots) to {dr}"),
        );
    }
    let copy = inputs
        .copies_of(id)
        .iter()
        .filter(|c| c.source == id && c.region != service.primary_region)
        .max_by_key(|c| c.latest_restorable);
    let Some(copy) = copy else {
        return match inputs.configuration.unknown_because(dr, "rds") {
            Some(why) => Check::fail(
                Area::Backups,
                name,
                format!("{id}: backups are replicated, but the copy's age is unknown: {why}"),
                format!("let drconsole describe automated backups in {dr}"),
            ),
            None => short(
                format!(
                    "{id}: backup replication is on, but no replicated backup was found outside {}",
                    service.primary_region
                ),
                format!("check the automated backup replication of {id} to {dr}"),
            ),
        };
    };
    let Some(latest) = copy.latest_restorable else {
        return short(
            format!(
                "{id}: the copy in {} has no restorable point yet",
                copy.region
            ),
            format!(
                "check the automated backup replication of {id} to {}",
                copy.region
            ),
        );
    };
    let age = (inputs.now - latest).to_std().unwrap_or_default();
    let bound = snapshot_bound(service);
    let evidence = format!(
        "{id}: copy in {} restorable to {} ago (bound {})",
        copy.region,
        short_duration(age),
        objective(bound)
    );
    if age <= bound {
        Check::pass(Area::Backups, name, evidence)
    } else {
        short(
            evidence,
            format!(
                "find why the copy of {id} in {} stopped following its source",
                copy.region
            ),
        )
    }
}

/// A backup-and-restore service recovers by restoring: its last completed
/// run (or drill) is the last time a restore was shown to work.
fn restore_test(service: &ServiceSpec, inputs: &Indexed<'_>) -> Check {
    let name = "restore test";
    let max_age = chrono::Duration::days(inputs.settings.runbook_max_age_days);
    let last_run = inputs
        .runs_of(&service.id)
        .iter()
        .filter(|r| r.completed)
        .map(|r| r.started_at);
    let last_drill = inputs
        .drills
        .unwrap_or_default()
        .iter()
        .filter(|d| d.service == service.id)
        .map(|d| d.finished_at);
    match last_run.chain(last_drill).max() {
        Some(at) if inputs.now - at <= max_age => Check::pass(
            Area::Backups,
            name,
            format!("restore last exercised {}", at.format("%Y-%m-%d")),
        ),
        Some(at) => Check::warn(
            Area::Backups,
            name,
            format!(
                "restore last exercised {}, more than {} days ago",
                at.format("%Y-%m-%d"),
                max_age.num_days()
            ),
            format!("restore {} from its backups in a drill", service.id),
        ),
        None => Check::warn(
            Area::Backups,
            name,
            "no completed run or drill of this service is on record",
            format!("restore {} from its backups in a drill", service.id),
        ),
    }
}
