//! Providers: where observations come from and where actions go.
//!
//! The read half ([`Observe`]) and the acting half ([`Act`]) are separate
//! traits so a read-only session never holds anything that can mutate:
//! [`Provider::act`] is `None` and no acting client is ever built.
//! Injecting faults is a third, separate handle ([`fault::FaultControl`]).

pub mod aws;
pub mod fault;
pub mod sim;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::action::{Action, ChangeStatus, Receipt};
use crate::domain::snapshot::{SourceError, SourceReading};
use crate::readiness::facts::ConfigReading;
use aws::budget::Usage;

/// The service the operator has open in the detail pane: a provider may
/// read it in more detail than a poll reads the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FocusedService {
    pub service: String,
    /// Its health checks' ids, as the console's environment names them.
    pub health_checks: Vec<String>,
}

/// The read half: polled by the monitor task, never by the UI loop.
#[async_trait]
pub trait Observe: Send + Sync {
    /// One poll of every source. Never fails as a whole: each source's
    /// failure is reported in its own reading.
    async fn observe(&self) -> Vec<SourceReading>;

    /// One poll that also reads `focus` in detail, where the provider has
    /// more to read (the AWS provider: every checker of its health checks).
    async fn observe_focused(&self, _focus: Option<&FocusedService>) -> Vec<SourceReading> {
        self.observe().await
    }

    /// How each AWS API's request budget is used, as of now; `None` for a
    /// provider that sends no AWS requests. Never waits on the network: the
    /// UI loop asks it before drawing.
    fn api_budget(&self) -> Option<Vec<Usage>> {
        None
    }

    /// The provider's clock. The simulator's runs faster than real time.
    fn now(&self) -> DateTime<Utc>;

    /// Whether a poll's time is this process's own work (the embedded
    /// simulator) rather than waiting on the network: the monitor counts it
    /// in what a poll costs the machine.
    fn polls_in_process(&self) -> bool {
        false
    }

    /// Route 53 change propagation (`GetChange`).
    async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, SourceError>;

    /// How the databases are configured and alarmed, for readiness: read
    /// on demand, not every poll. A provider that reads none returns no
    /// readings, and readiness reports every such fact unknown.
    async fn configuration(&self) -> Vec<ConfigReading> {
        Vec::new()
    }
}

/// The acting half: only built for sessions allowed to mutate.
#[async_trait]
pub trait Act: Send + Sync {
    /// Make the one API call the action stands for.
    async fn execute(&self, action: &Action) -> Result<Receipt, SourceError>;

    /// Re-read the target and tell whether the action's effect is already in
    /// place, so a resumed run never repeats a mutation blindly.
    async fn already_applied(&self, action: &Action) -> Result<bool, SourceError>;
}

/// A session's provider: always an observer, an actor only when allowed.
#[derive(Clone)]
pub struct Provider {
    pub observe: Arc<dyn Observe>,
    pub act: Option<Arc<dyn Act>>,
    pub kind: ProviderKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    Demo,
    Aws,
}

impl ProviderKind {
    pub fn label(self) -> &'static str {
        match self {
            ProviderKind::Demo => "demo",
            ProviderKind::Aws => "aws",
        }
    }
}

impl Provider {
    pub fn read_only(&self) -> bool {
        self.act.is_none()
    }
}
