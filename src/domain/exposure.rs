//! The RPO side of posture: how much data would be lost if the region
//! holding the writer failed now.
//!
//! That is the lag of the freshest copy outside that region: a replicating
//! secondary or read replica, else a cross-region copy of the automated
//! backups. The writer's own point-in-time-restore age is a different
//! figure (it protects against logical errors, not against losing the
//! region) and is reported beside this one, never mixed into it: mixing
//! them made the verdict swing with the five-minute log upload cycle.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::environment::{Replication, ServiceSpec};
use super::lookup::Lookup;
use super::objectives::Objectives;
use super::snapshot::{BackupObs, LagObs};
use super::topology::{Member, MemberRole, Topology};
use super::verdict::Verdict;
use crate::format::short_duration;

/// Continuous backups upload transaction logs about every five minutes,
/// so the latest restorable time normally trails by up to that much; a
/// PITR age beyond this bound means backups have stalled.
pub const PITR_BOUND: Duration = Duration::from_secs(15 * 60);

/// The one definition of a replica's lag: the worse of the replication lag
/// and, where AWS reports it, the RPO lag (`AuroraGlobalDBRPOLag`).
pub fn effective_lag(l: &LagObs) -> Option<Duration> {
    match (l.lag, l.rpo_lag) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The effective lag of the resource that receives `resource_id`'s data.
pub fn lag_of(snap: &impl Lookup, resource_id: &str) -> Option<Duration> {
    snap.lag(resource_id).and_then(effective_lag)
}

/// Age of the newest restorable point: PITR if enabled, else the newest snapshot.
pub fn backup_age(backup: &BackupObs, now: DateTime<Utc>) -> Option<Duration> {
    let newest = backup.latest_restorable.or(backup.newest_snapshot)?;
    Some(age(newest, now))
}

fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (now - t).to_std().unwrap_or(Duration::ZERO)
}

/// Where the RPO exposure figure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExposureSource {
    /// A replica outside the writer's region, by its lag.
    ReplicationLag,
    /// A cross-region copy of the writer's automated backups.
    BackupCopy,
    None,
}

/// The RPO side, with the reason it is what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct RpoSide {
    pub exposure: Option<Duration>,
    pub source: ExposureSource,
    /// The copy the figure is the lag or age of.
    pub copy: Option<String>,
    pub verdict: Verdict,
    pub reason: String,
    /// Age of the writer's newest in-region restorable point.
    pub pitr_age: Option<Duration>,
    /// The PITR age against [`PITR_BOUND`], not against the RPO.
    pub pitr_verdict: Verdict,
}

/// The RPO side of `service`. `topology` is the observed database layout
/// (`None` for S3), `writer_region` where writes are accepted now.
pub fn assess(
    service: &ServiceSpec,
    snap: &impl Lookup,
    topology: Option<&Topology>,
    writer_region: Option<&str>,
    now: DateTime<Utc>,
) -> RpoSide {
    let objectives = service.objectives;
    if let Replication::S3 {
        destination_bucket, ..
    } = &service.replication
    {
        return s3_side(destination_bucket, snap, objectives);
    }
    let Some(topology) = topology.filter(|t| !t.members.is_empty()) else {
        return unobserved();
    };
    if !topology.single_writer {
        return independent_writers(topology, snap, objectives, now);
    }
    let holder = writer_region
        .and_then(|r| {
            topology
                .members
                .iter()
                .find(|m| m.region == r && m.role.takes_writes())
        })
        .or_else(|| topology.role_holder());
    let Some(holder) = holder else {
        return RpoSide {
            reason: "no writer observed".into(),
            ..unobserved()
        };
    };
    let region = holder.region.as_str();
    let pitr_age = pitr_of(snap, holder, now);
    let pitr_verdict = pitr_verdict(pitr_age);
    let outside: Vec<&Member> = topology
        .members
        .iter()
        .filter(|m| m.region != region && m.role == MemberRole::Replica)
        .collect();
    if let Some(freshest) = outside
        .iter()
        .filter(|m| m.lag.is_some())
        .min_by_key(|m| m.lag)
    {
        let lag = freshest.lag.map(millis);
        return RpoSide {
            exposure: lag,
            source: ExposureSource::ReplicationLag,
            copy: Some(freshest.id.clone()),
            verdict: Verdict::of(lag, objectives.rpo),
            reason: format!(
                "{} ({}) is {} behind the writer in {region}",
                freshest.id,
                freshest.region,
                lag.map_or_else(String::new, short_duration)
            ),
            pitr_age,
            pitr_verdict,
        };
    }
    if let Some(silent) = outside.first() {
        return RpoSide {
            exposure: None,
            source: ExposureSource::None,
            copy: Some(silent.id.clone()),
            verdict: Verdict::Unknown,
            reason: format!(
                "{} ({}) replicates but reports no lag",
                silent.id, silent.region
            ),
            pitr_age,
            pitr_verdict,
        };
    }
    let copy_age = backup_obs(snap, &holder.id)
        .filter(|b| b.cross_region_copy)
        .and_then(|b| backup_age(b, now))
        .map(millis);
    let others: Vec<String> = topology
        .members
        .iter()
        .filter(|m| m.id != holder.id)
        .map(not_a_copy)
        .collect();
    let mut side = backup_copy_side(&holder.id, region, copy_age, objectives, &others);
    side.pitr_age = pitr_age;
    side.pitr_verdict = pitr_verdict;
    side
}

/// Without a replica, the cross-region backup copy protects the data; none
/// within the RPO is `UNPROTECTED`, a steady state with its reason, not a
/// verdict that swings with the backup cycle.
fn backup_copy_side(
    writer: &str,
    region: &str,
    copy_age: Option<Duration>,
    objectives: Objectives,
    others: &[String],
) -> RpoSide {
    let verdict = Verdict::of(copy_age, objectives.rpo);
    let notes = if others.is_empty() {
        String::new()
    } else {
        format!("; {}", others.join(", "))
    };
    match copy_age {
        Some(a) if verdict != Verdict::Breach => RpoSide {
            exposure: Some(a),
            source: ExposureSource::BackupCopy,
            copy: Some(writer.to_string()),
            verdict,
            // The copy's own restorable time is not observed: it trails
            // the source's, so this is a lower bound.
            reason: format!(
                "no replica outside {region}; cross-region backup copy of {writer} at least {} old{notes}",
                short_duration(a)
            ),
            pitr_age: None,
            pitr_verdict: Verdict::Unknown,
        },
        _ => RpoSide {
            exposure: copy_age,
            source: copy_age.map_or(ExposureSource::None, |_| ExposureSource::BackupCopy),
            copy: copy_age.map(|_| writer.to_string()),
            verdict: Verdict::Unprotected,
            reason: format!(
                "no copy outside {region}{}{notes}",
                copy_age
                    .map(|a| format!(" newer than {}", short_duration(a)))
                    .unwrap_or_default()
            ),
            pitr_age: None,
            pitr_verdict: Verdict::Unknown,
        },
    }
}

/// Why another member holds no copy of the writer's data.
fn not_a_copy(m: &Member) -> String {
    match m.role {
        MemberRole::Resyncing => format!("{} resyncing", m.id),
        MemberRole::Replica => format!("{} replicates within the writer's region", m.id),
        MemberRole::Writer | MemberRole::Standalone
            if !super::topology::status_accepts_writes(&m.status) =>
        {
            format!("{} {}, not replicating", m.id, m.status)
        }
        MemberRole::Writer | MemberRole::Standalone => format!("{} not replicating", m.id),
    }
}

/// A backup-only service: each database is its own writer, protected only
/// by a cross-region copy of its backups; the worst of them counts.
fn independent_writers(
    topology: &Topology,
    snap: &impl Lookup,
    objectives: Objectives,
    now: DateTime<Utc>,
) -> RpoSide {
    let sides: Vec<RpoSide> = topology
        .members
        .iter()
        .map(|m| {
            let copy_age = backup_obs(snap, &m.id)
                .filter(|b| b.cross_region_copy)
                .and_then(|b| backup_age(b, now))
                .map(millis);
            let mut side = backup_copy_side(&m.id, &m.region, copy_age, objectives, &[]);
            side.pitr_age = pitr_of(snap, m, now);
            side
        })
        .collect();
    let pitr_age = if sides.iter().any(|s| s.pitr_age.is_none()) {
        None
    } else {
        sides.iter().filter_map(|s| s.pitr_age).max()
    };
    let worst = sides.into_iter().max_by_key(|s| (s.verdict, s.exposure));
    match worst {
        Some(mut side) => {
            side.pitr_verdict = pitr_verdict(pitr_age);
            side.pitr_age = pitr_age;
            side
        }
        None => unobserved(),
    }
}

fn unobserved() -> RpoSide {
    RpoSide {
        exposure: None,
        source: ExposureSource::None,
        copy: None,
        verdict: Verdict::Unknown,
        reason: "databases not observed".into(),
        pitr_age: None,
        pitr_verdict: Verdict::Unknown,
    }
}

fn s3_side(destination_bucket: &str, snap: &impl Lookup, objectives: Objectives) -> RpoSide {
    let observed = snap.lag(destination_bucket);
    let lag = observed.and_then(effective_lag).map(millis);
    RpoSide {
        exposure: lag,
        source: lag.map_or(ExposureSource::None, |_| ExposureSource::ReplicationLag),
        copy: Some(destination_bucket.to_string()),
        verdict: Verdict::of(lag, objectives.rpo),
        reason: match (lag, observed) {
            (Some(l), Some(o)) => format!(
                "replication to {destination_bucket} ({}) {} behind",
                o.region,
                short_duration(l)
            ),
            _ => format!("no replication latency reported for {destination_bucket}"),
        },
        pitr_age: None,
        pitr_verdict: Verdict::Unknown,
    }
}

fn pitr_verdict(pitr_age: Option<Duration>) -> Verdict {
    Verdict::of(pitr_age, PITR_BOUND)
}

/// Age of a member's newest in-region point-in-time-restore target.
fn pitr_of(snap: &impl Lookup, m: &Member, now: DateTime<Utc>) -> Option<Duration> {
    backup_obs(snap, &m.id)
        .and_then(|b| b.latest_restorable)
        .map(|t| age(t, now))
}

fn backup_obs<'a>(snap: &'a impl Lookup, id: &str) -> Option<&'a BackupObs> {
    snap.cluster(id)
        .map(|c| &c.backup)
        .or_else(|| snap.instance(id).map(|i| &i.backup))
}

/// Milliseconds are the finest precision anyone acts on (and reads in JSON).
fn millis(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}
