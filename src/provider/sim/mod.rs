//! The embedded simulator: a deterministic, AWS-like estate behind the same
//! provider traits as the real AWS provider.
//!
//! [`SimWorld`] holds the estate and its clock and advances one simulated
//! second at a time (seeded randomness: same seed and calls, same world);
//! [`provider`] wraps it as a [`Provider`], building the acting half only
//! when the session may act; [`serve_demo_app`] serves the demo application
//! whose answers follow the world. [`open_world`] picks up the world a
//! previous console saved and [`WorldSaver`] keeps saving it, so the demo
//! survives a restart as AWS would.
//!
//! What it models, per source it reports:
//! - `rds:<region>`: global clusters (reported by the region of their
//!   original primary), clusters and instances with role, status, backups
//!   (daily snapshot in a 03:00 UTC window, PITR one to six minutes behind).
//! - `cloudwatch:<region>`: `AuroraGlobalDBReplicationLag`/`RPOLag` (well
//!   under a second, spikes of seconds), `ReplicaLag` (seconds, spikier),
//!   S3 `ReplicationLatency` (seconds to minutes) and pending operations.
//! - `route53`: health checks seen by 16 checkers (failure threshold per
//!   checker, healthy while more than 18 % agree, disabled is healthy,
//!   inverted inverts) and failover record pairs.
//!
//! Faults ([`Fault`]): a region outage fails its health checks, makes its
//! databases inaccessible and lets the lag of everything replicating out of
//! it grow; a source failure makes one source (and actions on its API) fail;
//! a lag spike bumps one resource's lag; replication or backups can stop,
//! a DNS pair be swapped, a health check flap, one path of the demo
//! application fail and the control plane slow down.
//!
//! Ground truth (`writes`): the demo application writes 20 times a second
//! to every writable database; a data-loss promotion loses, counted write
//! by write, what its source took after the promoted copy's replication
//! point. [`SimWorld::ground_truth`] reads it; no observation shows it.

mod actions;
mod app;
mod backup;
mod clock;
mod configuration;
mod faults;
mod health;
mod lag;
mod model;
mod observe;
mod persist;
mod rng;
mod saved;
mod world;
mod writes;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use crate::provider::fault::Fault;
pub use app::serve_demo_app;
pub use persist::{WorldClaim, WorldSaver, open_world, saved_world_file};
pub use saved::ResumeError;
pub use world::{RegionDatabase, SimWorld};

use crate::domain::action::{Action, ChangeStatus, Receipt};
use crate::domain::snapshot::{SourceError, SourceReading};
use crate::provider::fault::{FaultControl, GroundTruth};
use crate::provider::{Act, Observe, Provider, ProviderKind};
use crate::readiness::facts::ConfigReading;

/// The read half over a world.
struct SimObserver(Arc<SimWorld>);

#[async_trait]
impl Observe for SimObserver {
    async fn observe(&self) -> Vec<SourceReading> {
        self.0.observe()
    }

    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }

    fn polls_in_process(&self) -> bool {
        true
    }

    async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, SourceError> {
        self.0.change_status(change_id)
    }

    async fn configuration(&self) -> Vec<ConfigReading> {
        self.0.configuration()
    }
}

/// The acting half over a world.
struct SimActor(Arc<SimWorld>);

#[async_trait]
impl Act for SimActor {
    async fn execute(&self, action: &Action) -> Result<Receipt, SourceError> {
        self.0.execute(action)
    }

    async fn already_applied(&self, action: &Action) -> Result<bool, SourceError> {
        self.0.already_applied(action)
    }
}

impl FaultControl for SimWorld {
    fn active_faults(&self) -> Vec<Fault> {
        SimWorld::active_faults(self)
    }

    fn inject(&self, fault: Fault) -> Result<(), SourceError> {
        SimWorld::inject(self, fault)
    }

    fn clear(&self, fault: &Fault) -> Result<(), SourceError> {
        SimWorld::clear(self, fault)
    }

    fn ground_truth(&self) -> Option<GroundTruth> {
        Some(SimWorld::ground_truth(self))
    }
}

/// A provider over `world`; a read-only one never gets an acting half.
pub fn provider(world: Arc<SimWorld>, read_only: bool) -> Provider {
    let act: Option<Arc<dyn Act>> = if read_only {
        None
    } else {
        Some(Arc::new(SimActor(Arc::clone(&world))))
    };
    Provider {
        observe: Arc::new(SimObserver(world)),
        act,
        kind: ProviderKind::Demo,
    }
}

#[cfg(test)]
mod fault_tests;
#[cfg(test)]
mod tests;
