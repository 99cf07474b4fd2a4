//! The console's side of the events log: each poll's changes, found on the
//! UI task (a map lookup per value) and written by a task of their own, so
//! the screen never waits on the disk.

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::differ::Differ;
use super::events::{EventLog, ObservedEvent};
use crate::domain::environment::Environment;
use crate::monitor::{MonitorState, Tracker};

/// Polls' changes waiting to be written; past this many batches a slow
/// disk loses the newest rather than the console's memory growing.
const BACKLOG: usize = 256;

pub struct EventRecorder {
    differ: Differ,
    writes: mpsc::Sender<Vec<ObservedEvent>>,
}

impl EventRecorder {
    /// Starts the writer task; needs the tokio runtime.
    pub fn spawn(log: EventLog) -> Self {
        let (writes, mut batches) = mpsc::channel::<Vec<ObservedEvent>>(BACKLOG);
        tokio::spawn(async move {
            while let Some(batch) = batches.recv().await {
                let log = log.clone();
                let written = tokio::task::spawn_blocking(move || log.append(&batch)).await;
                if let Ok(Err(e)) = written {
                    tracing::warn!("events log: {e}");
                }
            }
        });
        Self {
            differ: Differ::default(),
            writes,
        }
    }

    pub fn observe(
        &mut self,
        env: &Environment,
        monitor: &MonitorState,
        tracker: &Tracker,
        at: DateTime<Utc>,
    ) {
        let events = self.differ.observe(env, monitor, tracker, at);
        if !events.is_empty() && self.writes.try_send(events).is_err() {
            tracing::warn!("events log: the writer is behind; a poll's changes were not logged");
        }
    }
}
