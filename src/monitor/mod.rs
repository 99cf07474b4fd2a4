//! The monitor: polls the provider off the UI thread and keeps what it saw.
//!
//! [`poll::spawn`] runs the poll loop as a task and sends each poll's
//! readings over a channel; the UI loop applies them to its own
//! [`MonitorState`], which keeps the last good data of every source, marks
//! sources stale when they fail or fall behind, and keeps bounded lag history;
//! a [`Tracker`] keeps each service's availability history and incidents.

pub mod history;
pub mod poll;
pub mod state;
pub mod tracking;

pub use history::{LagHistory, LagSample};
pub use poll::{MonitorEvent, observe_once, spawn};
pub use state::{Failure, Freshness, GoodReading, MonitorState, SourceStatus};
pub use tracking::Tracker;
