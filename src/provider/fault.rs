//! Faults injected into the world a session watches, and [`FaultControl`],
//! the narrow handle through which the console and drills start and end
//! them, and read the world's ground truth, without knowing what
//! implements it (today only the simulator).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::snapshot::{ErrorKind, SourceError, SourceId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// The region fails: its endpoints stop answering health checks, its
    /// databases become inaccessible and replication out of it stops.
    RegionOutage { region: String },
    /// The region fails as in [`Fault::RegionOutage`] (its databases take
    /// no writes), but only this share of the health checkers sees it: the
    /// rest still reach the endpoint, so below ~82 % the check stays
    /// healthy and DNS does not fail over by itself.
    PartialOutage {
        region: String,
        failing_checkers_percent: u8,
    },
    /// One source of observations fails (e.g. the API is throttled), so its
    /// data goes stale while the others stay current; actions through that
    /// API fail the same way.
    SourceFailure { source: SourceId, kind: ErrorKind },
    /// The replication lag of one receiving resource jumps by `seconds`
    /// and decays as natural spikes do.
    LagSpike { resource: String, seconds: u64 },
    /// Replication into one receiving resource stops: its lag grows by a
    /// second every second until cleared, then drains like a spike.
    ReplicationStopped { resource: String },
    /// Automated backups of one cluster or instance silently stop: no new
    /// snapshot, the latest restorable time frozen, no error anywhere.
    BackupsStopped { resource: String },
    /// The failover record pair of a DNS name has its targets swapped, so
    /// the name answers with the other region's endpoint. A misconfigured
    /// record stays so until someone fixes it: clearing changes nothing.
    DnsSwapped { record: String },
    /// A health check's endpoint goes unreachable and back every
    /// `period_seconds`, so the check flaps.
    FlappingHealthCheck {
        health_check: String,
        period_seconds: u32,
    },
    /// One path of the demo application in one region answers `status`
    /// (e.g. `/auth/login` 500) while the rest of it works.
    EndpointFailing {
        region: String,
        path: String,
        status: u16,
    },
    /// Control-plane operations (failovers, promotions, DNS propagation)
    /// take `factor` times as long as usual.
    SlowControlPlane { factor: u32 },
}

impl Fault {
    /// How the header names the fault while it is in force.
    pub fn label(&self) -> String {
        match self {
            Fault::RegionOutage { region } => format!("{region} outage"),
            Fault::PartialOutage {
                region,
                failing_checkers_percent,
            } => format!("{region} outage ({failing_checkers_percent}% of checkers)"),
            Fault::SourceFailure { source, kind } => format!("{source} {}", kind.label()),
            Fault::LagSpike { resource, seconds } => format!("{resource} lag +{seconds}s"),
            Fault::ReplicationStopped { resource } => format!("{resource} replication stopped"),
            Fault::BackupsStopped { resource } => format!("{resource} backups stopped"),
            Fault::DnsSwapped { record } => format!("{record} points at the wrong region"),
            Fault::FlappingHealthCheck {
                health_check,
                period_seconds,
            } => format!("{health_check} flapping every {period_seconds}s"),
            Fault::EndpointFailing {
                region,
                path,
                status,
            } => format!("{region}{path} answers {status}"),
            Fault::SlowControlPlane { factor } => format!("control plane {factor}x slower"),
        }
    }
}

/// Writes the demo application had accepted that a data-loss promotion
/// left behind: the measured actual RPO of one promotion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LostWrites {
    /// The cluster or instance that was promoted without them.
    pub promoted: String,
    /// When the promotion completed.
    pub at: DateTime<Utc>,
    pub count: u64,
    /// The oldest and newest lost write (`None` when none was lost).
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

impl LostWrites {
    /// The time the lost writes cover: from the oldest to the newest, plus
    /// the one write interval the newest stands for.
    pub fn span(&self, writes_per_second: u32) -> std::time::Duration {
        match (self.first, self.last) {
            (Some(first), Some(last)) => {
                let between = (last - first).to_std().unwrap_or_default();
                between + std::time::Duration::from_secs(1) / writes_per_second.max(1)
            }
            _ => std::time::Duration::ZERO,
        }
    }
}

/// What really happened to the data, which no observation shows.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct GroundTruth {
    /// The steady rate at which the demo application writes.
    pub writes_per_second: u32,
    /// Writes accepted by any database since the world began.
    pub writes_accepted: u64,
    /// One entry per promotion that made a replica writable, oldest first
    /// (a switchover's entry counts zero).
    pub losses: Vec<LostWrites>,
}

impl GroundTruth {
    /// Writes lost by promotions completed at or after `since`.
    pub fn lost_since(&self, since: DateTime<Utc>) -> impl Iterator<Item = &LostWrites> {
        self.losses.iter().filter(move |l| l.at >= since)
    }
}

/// Starts and ends faults in a world that can be told to fail, and tells
/// what really happened in it.
pub trait FaultControl: Send + Sync {
    /// Faults in force, in the order they started (one-shot faults such as
    /// a lag spike or a swapped DNS record are not listed).
    fn active_faults(&self) -> Vec<Fault>;

    /// Starts a fault; one already in force stays as it is.
    fn inject(&self, fault: Fault) -> Result<(), SourceError>;

    /// Ends a fault; ending one that is not in force changes nothing.
    fn clear(&self, fault: &Fault) -> Result<(), SourceError>;

    /// The world's ground truth, for scoring a drill: never shown to the
    /// trainee while it runs. `None` from a world that keeps none.
    fn ground_truth(&self) -> Option<GroundTruth> {
        None
    }
}
