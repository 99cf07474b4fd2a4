//! Following off the UI task: a task polls the source every half second on
//! a blocking thread and publishes the rebuilt run when the journal grew.
//!
//! Polling rather than file notifications: it works the same for a local
//! journal, a network file system and an S3 prefix, costs one `stat` a poll
//! while nothing changes, and keeps a step change under a second from the
//! write to the screen (the screen picks it up on its once-a-second tick).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::follower::Follower;
use super::source::{ActiveRun, RunRef, RunSource};
use super::view::{FollowedRun, find_runbook};
use crate::runbook::format::Runbook;

/// How often the followed journal is read.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// How often the list of active runs is read while it is on screen.
pub const LIST_EVERY: Duration = Duration::from_secs(2);

/// What a follower last learnt.
#[derive(Debug, Clone, Default)]
pub struct FollowStatus {
    /// The run as of the last good read; none before the first.
    pub run: Option<Arc<FollowedRun>>,
    /// Why the last read failed; the run shown is then the one read before.
    pub error: Option<String>,
}

/// A running follower; dropping it stops the task.
pub struct FollowFeed {
    pub status: watch::Receiver<FollowStatus>,
    task: JoinHandle<()>,
}

impl Drop for FollowFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts following `run`. Step titles and budgets come from its runbook
/// when the journal's file or one in `library` is that runbook.
pub fn spawn(
    source: Arc<dyn RunSource>,
    run: RunRef,
    library: Arc<Vec<Runbook>>,
    every: Duration,
) -> FollowFeed {
    let (tx, status) = watch::channel(FollowStatus::default());
    let task = tokio::spawn(async move {
        let mut tracked = Some(Tracked {
            follower: Follower::new(source, run),
            runbook: None,
            looked_up: false,
        });
        loop {
            let Some(mut current) = tracked.take() else {
                return;
            };
            let library = Arc::clone(&library);
            let Ok((current, outcome)) = tokio::task::spawn_blocking(move || {
                let outcome = current.read(&library);
                (current, outcome)
            })
            .await
            else {
                return;
            };
            tracked = Some(current);
            tx.send_if_modified(|status| match outcome {
                Ok(Some(run)) => {
                    *status = FollowStatus {
                        run: Some(Arc::new(run)),
                        error: None,
                    };
                    true
                }
                Ok(None) => status.error.take().is_some(),
                Err(e) if status.error.as_ref() != Some(&e) => {
                    status.error = Some(e);
                    true
                }
                Err(_) => false,
            });
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    });
    FollowFeed { status, task }
}

struct Tracked {
    follower: Follower,
    runbook: Option<Runbook>,
    looked_up: bool,
}

impl Tracked {
    /// Reads what is new; the rebuilt run if there was anything.
    fn read(&mut self, library: &[Runbook]) -> Result<Option<FollowedRun>, String> {
        let grew = self.follower.poll().map_err(|e| e.to_string())?;
        if !grew {
            return Ok(None);
        }
        let records = self.follower.records();
        if !self.looked_up {
            self.runbook = find_runbook(records, library);
            self.looked_up = true;
        }
        FollowedRun::build(self.follower.run(), records, self.runbook.as_ref())
            .map(Some)
            .map_err(|e| e.to_string())
    }
}

/// The runs a source lists as active, read every `every` until dropped.
pub struct ActiveRunsFeed {
    pub runs: watch::Receiver<Option<Result<Vec<ActiveRun>, String>>>,
    task: JoinHandle<()>,
}

impl Drop for ActiveRunsFeed {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub fn spawn_active_runs(source: Arc<dyn RunSource>, every: Duration) -> ActiveRunsFeed {
    let (tx, runs) = watch::channel(None);
    let task = tokio::spawn(async move {
        loop {
            let source = Arc::clone(&source);
            let Ok(listed) = tokio::task::spawn_blocking(move || source.active_runs()).await else {
                return;
            };
            let listed = Some(listed.map_err(|e| e.to_string()));
            tx.send_if_modified(|shown| {
                let changed = *shown != listed;
                *shown = listed;
                changed
            });
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    });
    ActiveRunsFeed { runs, task }
}
