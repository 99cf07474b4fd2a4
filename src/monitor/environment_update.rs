//! A newer environment for the console: discovery that failed in part is
//! retried in the background, and what it finds reaches the UI loop as a
//! message, never through the UI awaiting the network.

use tokio::sync::mpsc;

use crate::domain::environment::Environment;
use crate::domain::snapshot::{SourceId, SourceReading};

/// What a discovery retry found.
#[derive(Debug, Clone)]
pub struct EnvironmentUpdate {
    /// The whole environment as now known; replaces the one held.
    pub environment: Environment,
    /// Discovery sources still failing, as failed readings.
    pub failed: Vec<SourceReading>,
    /// Discovery sources that have answered since the last update.
    pub recovered: Vec<SourceId>,
}

/// A session whose discovery is not complete yet: what failed at start, and
/// the updates to come.
#[derive(Debug)]
pub struct DiscoveryProgress {
    pub failed: Vec<SourceReading>,
    pub updates: mpsc::Receiver<EnvironmentUpdate>,
}
