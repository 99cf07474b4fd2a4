//! What people decided during a run, from its journal: who started or
//! resumed it, confirmed, declined, overrode or skipped which step, and why.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::incident::IncidentStart;
use crate::runbook::journal::{Entry, Record, RunOutcome};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionKind {
    Started,
    Resumed,
    Confirmed,
    /// Confirmed by typing the target's identifier.
    ConfirmedTyped,
    Declined,
    /// Went ahead although safety rules were broken.
    Overridden,
    Skipped,
    Aborted,
}

impl DecisionKind {
    pub fn label(&self) -> &'static str {
        match self {
            DecisionKind::Started => "started the run",
            DecisionKind::Resumed => "resumed the run",
            DecisionKind::Confirmed => "confirmed",
            DecisionKind::ConfirmedTyped => "confirmed (typed the target)",
            DecisionKind::Declined => "declined",
            DecisionKind::Overridden => "overrode the safety rules",
            DecisionKind::Skipped => "skipped",
            DecisionKind::Aborted => "aborted the run",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub at: DateTime<Utc>,
    pub kind: DecisionKind,
    /// The step decided on; none for the run as a whole.
    pub step: Option<String>,
    /// Who, when the journal says (older journals did not record it).
    pub who: Option<String>,
    pub reason: Option<String>,
}

/// Every decision in `records`, in journal order.
pub fn decisions(records: &[Record]) -> Vec<Decision> {
    records.iter().filter_map(decision).collect()
}

/// Why a run was started, when it answers an outage.
fn answering(incident: &IncidentStart) -> String {
    let start = incident.start.format("%Y-%m-%d %H:%M:%SZ");
    match (&incident.declared_by, &incident.reason) {
        (Some(who), Some(why)) => {
            format!("answers the outage declared by {who} from {start}: {why}")
        }
        _ => format!("answers the outage seen from {start}"),
    }
}

/// The decision `record` records, if it records one.
pub fn decision(record: &Record) -> Option<Decision> {
    let at = record.at;
    let made = |kind, step: &String, who: Option<&String>, reason: Option<&String>| Decision {
        at,
        kind,
        step: Some(step.clone()),
        who: who.cloned(),
        reason: reason.cloned(),
    };
    Some(match &record.entry {
        Entry::RunStarted { meta, .. } => Decision {
            at,
            kind: DecisionKind::Started,
            step: None,
            who: Some(meta.operator.clone()),
            reason: meta.incident.as_ref().map(answering),
        },
        Entry::Resumed { operator, .. } => Decision {
            at,
            kind: DecisionKind::Resumed,
            step: None,
            who: Some(operator.clone()),
            reason: None,
        },
        Entry::Confirmed {
            step,
            typed,
            operator,
            ..
        } => {
            let kind = match typed {
                true => DecisionKind::ConfirmedTyped,
                false => DecisionKind::Confirmed,
            };
            made(kind, step, operator.as_ref(), None)
        }
        Entry::Declined { step, operator } => {
            made(DecisionKind::Declined, step, operator.as_ref(), None)
        }
        Entry::Overridden {
            step,
            operator,
            reason,
            ..
        } => made(DecisionKind::Overridden, step, Some(operator), Some(reason)),
        Entry::Skipped {
            step,
            operator,
            reason,
        } => made(DecisionKind::Skipped, step, Some(operator), Some(reason)),
        Entry::Finished {
            outcome: RunOutcome::Aborted { reason, .. },
            ..
        } => Decision {
            at,
            kind: DecisionKind::Aborted,
            step: None,
            who: None,
            reason: Some(reason.clone()),
        },
        _ => return None,
    })
}
