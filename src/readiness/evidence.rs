//! What people have done, as readiness sees it: runs read from journals
//! and drills from their reports. Plain data; [`super::load`] reads it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::runbook::journal::{Entry, Record, RunMeta};

/// One journaled runbook run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunEvidence {
    pub service: String,
    pub runbook: String,
    pub started_at: DateTime<Utc>,
    /// It ran to its last step (not aborted, not unfinished).
    pub completed: bool,
    /// Everyone who started, resumed, confirmed, overrode or skipped in it.
    pub identities: Vec<String>,
}

impl RunEvidence {
    /// The run a journal records; `None` for one with no start record.
    pub fn from_records(records: &[Record]) -> Option<RunEvidence> {
        let Some(Record {
            at,
            entry:
                Entry::RunStarted {
                    meta:
                        RunMeta {
                            service,
                            runbook,
                            operator,
                            ..
                        },
                    ..
                },
        }) = records.first()
        else {
            return None;
        };
        let mut identities = vec![operator.clone()];
        let mut completed = false;
        for record in &records[1..] {
            let who = match &record.entry {
                Entry::Resumed { operator, .. }
                | Entry::Overridden { operator, .. }
                | Entry::Skipped { operator, .. } => Some(operator),
                Entry::Confirmed { operator, .. } => operator.as_ref(),
                Entry::Finished { outcome, .. } => {
                    completed = matches!(
                        outcome,
                        crate::runbook::journal::RunOutcome::Completed { .. }
                    );
                    None
                }
                _ => None,
            };
            if let Some(who) = who
                && !identities.contains(who)
            {
                identities.push(who.clone());
            }
        }
        Some(RunEvidence {
            service: service.clone(),
            runbook: runbook.clone(),
            started_at: *at,
            completed,
            identities,
        })
    }
}

/// A finished drill of a service and whether it met the objectives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DrillEvidence {
    pub service: String,
    pub finished_at: DateTime<Utc>,
    pub rto_met: bool,
    pub rpo_met: bool,
}
