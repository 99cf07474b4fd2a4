//! A followed run as the screen shows it: the engine's own view of the run
//! rebuilt from its journal, with who decided what.

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::decisions::{Decision, decisions};
use super::source::RunRef;
use crate::runbook::engine::{RunView, StepRun, StepView};
use crate::runbook::format::{self, Runbook};
use crate::runbook::journal::{Entry, ReadError, Record, RecoveredRun, StepState};

#[derive(Debug, Clone, PartialEq)]
pub struct FollowedRun {
    pub run: RunRef,
    pub operator: String,
    pub host: String,
    pub view: RunView,
    /// The runbook the steps' titles and budgets come from; without it the
    /// steps are those the journal names, in the order it first names them.
    pub runbook_known: bool,
    pub decisions: Vec<Decision>,
    /// When the journal was last written to.
    pub last_at: DateTime<Utc>,
}

impl FollowedRun {
    pub fn build(
        run: &RunRef,
        records: &[Record],
        runbook: Option<&Runbook>,
    ) -> Result<FollowedRun, ReadError> {
        let recovered = RecoveredRun::from_records(Path::new(&run.location), records)?;
        let view = match runbook {
            Some(runbook) => RunView::from_journal(runbook, &recovered),
            None => journal_only_view(&recovered, records),
        };
        Ok(FollowedRun {
            run: run.clone(),
            operator: recovered.meta.operator.clone(),
            host: recovered.meta.host.clone(),
            view,
            runbook_known: runbook.is_some(),
            decisions: decisions(records),
            last_at: recovered.last_at,
        })
    }
}

/// The runbook a journal was written from: the file it names, if it is
/// still there and still that runbook, else one of `library` with the
/// same name and service.
pub fn find_runbook(records: &[Record], library: &[Runbook]) -> Option<Runbook> {
    let Some(Entry::RunStarted { meta, .. }) = records.first().map(|r| &r.entry) else {
        return None;
    };
    let same = |rb: &Runbook| rb.name == meta.runbook && rb.service == meta.service;
    format::load(&meta.file)
        .ok()
        .filter(same)
        .or_else(|| library.iter().find(|rb| same(rb)).cloned())
}

/// A view with only what the journal says: step ids in the order the run
/// reached them, no titles, budgets or RTO objective.
fn journal_only_view(run: &RecoveredRun, records: &[Record]) -> RunView {
    let mut order: Vec<&str> = Vec::new();
    for record in records {
        if let Entry::Step { step, .. } = &record.entry
            && !order.contains(&step.as_str())
        {
            order.push(step);
        }
    }
    let steps: Vec<StepView> = order
        .into_iter()
        .map(|id| {
            let times = run.times.get(id).copied().unwrap_or_default();
            StepView {
                id: id.to_string(),
                title: id.to_string(),
                description: None,
                kind: "?",
                budget: None,
                timeout: None,
                run: StepRun {
                    state: run.steps.get(id).cloned().unwrap_or(StepState::Pending),
                    started_at: times.started_at,
                    finished_at: times.finished_at,
                    observed: None,
                    attempts: 0,
                },
            }
        })
        .collect();
    let current = match run.finished {
        Some(_) => None,
        None => steps.iter().position(|s| !s.run.state.is_settled()),
    };
    RunView {
        runbook: run.meta.runbook.clone(),
        service: run.meta.service.clone(),
        started_at: run.started_at,
        incident: run.meta.incident.clone(),
        rto_objective: Duration::ZERO,
        steps,
        current,
        prompt: None,
        waiting_for: None,
        outcome: run.finished.clone(),
        read_only: true,
    }
}
