//! Reading one run as it is written: each poll takes the records appended
//! since the last, and only complete ones.

use std::path::Path;
use std::sync::Arc;

use super::source::{FollowError, Position, RunRef, RunSource};
use crate::runbook::journal::{ReadError, Record, RecoveredRun};

pub struct Follower {
    source: Arc<dyn RunSource>,
    run: RunRef,
    position: Position,
    records: Vec<Record>,
}

impl Follower {
    pub fn new(source: Arc<dyn RunSource>, run: RunRef) -> Self {
        Self {
            source,
            run,
            position: Position::default(),
            records: Vec::new(),
        }
    }

    /// Reads what was appended since the last poll; whether there was any.
    pub fn poll(&mut self) -> Result<bool, FollowError> {
        let batch = self.source.read_since(&self.run, self.position)?;
        self.position = batch.next;
        let grew = !batch.records.is_empty();
        self.records.extend(batch.records);
        Ok(grew)
    }

    pub fn run(&self) -> &RunRef {
        &self.run
    }

    /// Every record read so far, oldest first.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Where the run stands, as a resumed run would see it.
    pub fn recovered(&self) -> Result<RecoveredRun, ReadError> {
        RecoveredRun::from_records(Path::new(&self.run.location), &self.records)
    }
}
