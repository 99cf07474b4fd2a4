//! The embedded simulator: a deterministic, AWS-like estate behind the same
//! provider traits as the real AWS provider.
//!
//! `SimWorld` holds the estate and its clock; [`provider`] wraps a world as
//! a [`Provider`], building the acting half only when allowed to act.

mod actions;
mod app;
mod backup;
mod clock;
mod faults;
mod health;
mod lag;
mod model;
mod observe;
mod world;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use app::serve_demo_app;
pub use faults::Fault;
pub use world::{RegionDatabase, SimWorld};

use crate::domain::snapshot::{SourceError, SourceReading};
use crate::provider::{Act, Action, ChangeStatus, Observe, Provider, ProviderKind, Receipt};

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

    async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, SourceError> {
        self.0.change_status(change_id)
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
mod tests;
