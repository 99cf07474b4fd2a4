//! Faults injected into the world a session watches, and [`FaultControl`],
//! the narrow handle through which the console starts and ends them
//! without knowing what implements it (today only the simulator).

use serde::{Deserialize, Serialize};

use crate::domain::snapshot::{ErrorKind, SourceError, SourceId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Fault {
    /// The region fails: its endpoints stop answering health checks, its
    /// databases become inaccessible and replication out of it stops.
    RegionOutage { region: String },
    /// One source of observations fails (e.g. the API is throttled), so its
    /// data goes stale while the others stay current.
    SourceFailure { source: SourceId, kind: ErrorKind },
    /// The replication lag of one receiving resource jumps by `seconds`
    /// and decays as natural spikes do.
    LagSpike { resource: String, seconds: u64 },
}

impl Fault {
    /// How the header names the fault while it is in force.
    pub fn label(&self) -> String {
        match self {
            Fault::RegionOutage { region } => format!("{region} outage"),
            Fault::SourceFailure { source, kind } => format!("{source} {}", kind.label()),
            Fault::LagSpike { resource, seconds } => format!("{resource} lag +{seconds}s"),
        }
    }
}

/// Starts and ends faults in a world that can be told to fail.
pub trait FaultControl: Send + Sync {
    /// Outages and source failures in force, in the order they started.
    fn active_faults(&self) -> Vec<Fault>;

    /// Starts a fault; one already in force stays as it is.
    fn inject(&self, fault: Fault) -> Result<(), SourceError>;

    /// Ends a fault; ending one that is not in force changes nothing.
    fn clear(&self, fault: &Fault) -> Result<(), SourceError>;
}
