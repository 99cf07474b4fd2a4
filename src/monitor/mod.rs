//! The monitor: polls the provider off the UI thread and keeps what it saw.
//!
//! [`poll::spawn`] runs the poll loop as a task and sends each poll's
//! readings over a channel; the UI loop applies them to its own
//! [`MonitorState`], which keeps the last good data of every source, marks
//! sources stale when they fail or fall behind, and keeps bounded lag history;
//! a [`Tracker`] keeps each service's availability history and incidents.
//! [`EnvironmentUpdate`]s carry what background rediscovery found.

pub mod environment_update;
pub mod history;
mod origins;
pub mod poll;
pub mod state;
pub mod tracking;

pub use environment_update::{DiscoveryProgress, EnvironmentUpdate};
pub use history::{LagHistory, LagSample};
pub use poll::{Monitor, MonitorEvent, Observation, SnapshotFeed, observe_once, spawn, spawn_feed};
pub use state::{
    Failure, Freshness, FreshnessTable, GoodReading, MonitorState, ServiceSources, SourceStatus,
};
pub use tracking::Tracker;
