//! Where followed runs come from: the interface a journal store offers a
//! follower, whatever the store is (local files, S3 objects).

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use crate::runbook::journal::{ReadError, Record};

/// One run a source can be asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRef {
    pub run_id: String,
    pub service: String,
    /// Where the source finds it: a journal file, or a key prefix.
    pub location: String,
}

/// How far a follower has read a run: an opaque count the source gives
/// back with each batch (bytes of a file, or a sequence number), and how
/// many lines came before, so an error names the line of the bad record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    pub offset: u64,
    pub lines: usize,
}

/// Records read from a position on, in the order they were written, and
/// the position after the last one.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub records: Vec<Record>,
    pub next: Position,
}

/// A run that has not finished, as the chooser lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveRun {
    pub run: RunRef,
    pub runbook: String,
    pub operator: String,
    pub started_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error(transparent)]
    Journal(#[from] ReadError),
    /// The journal is shorter than what was already read from it: it was
    /// replaced or truncated, so what was read may no longer be true.
    #[error("{path}: the journal shrank from {read} to {now} bytes while it was followed")]
    Shrank { path: PathBuf, read: u64, now: u64 },
    #[error("{0}")]
    NotFound(String),
}

/// A store of run journals a follower can read, never write.
pub trait RunSource: Send + Sync {
    /// Runs whose journals have no end yet, most recently active first.
    fn active_runs(&self) -> Result<Vec<ActiveRun>, FollowError>;

    /// Every complete record of `run` after `from`. A record still being
    /// written is not returned until it is whole.
    fn read_since(&self, run: &RunRef, from: Position) -> Result<Batch, FollowError>;
}
