//! Merging the journals and the events log into one time-ordered list,
//! and finding the incident in it. Pure.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::events::{Change, ObservedEvent};
use crate::follow::decisions::decision;
use crate::format::short_duration;
use crate::runbook::journal::{Entry, Record, RunOutcome, StepState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The console's own observations.
    Monitor,
    /// An event RDS reported.
    Rds,
    /// A runbook run's journal.
    Run,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub service: Option<String>,
    pub origin: Origin,
    pub what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub who: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// What the monitor saw change, for an observed event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
}

/// Which part of the history to tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub service: Option<String>,
    pub since: Option<DateTime<Utc>>,
}

impl Filter {
    fn keeps(&self, entry: &TimelineEntry) -> bool {
        let service = self
            .service
            .as_ref()
            .is_none_or(|s| entry.service.as_ref() == Some(s));
        service && self.since.is_none_or(|t| entry.at >= t)
    }
}

/// When the outage began and ended, as the entries tell it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentSpan {
    pub start: DateTime<Utc>,
    /// What marks the start: a service leaving UP, or a declared start.
    pub started_by: String,
    /// None while some service is still not UP at the last entry.
    pub end: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub incident: Option<IncidentSpan>,
    pub entries: Vec<TimelineEntry>,
}

/// The story `journals` (each a run's records) and `events` tell, in time
/// order, kept to what `filter` asks for. Entries at the same instant keep
/// the order they were written in.
pub fn build(journals: &[Vec<Record>], events: &[ObservedEvent], filter: &Filter) -> Timeline {
    let mut entries: Vec<TimelineEntry> = events.iter().map(event_entry).collect();
    let mut declared = Vec::new();
    for records in journals {
        let Some(Entry::RunStarted { meta, .. }) = records.first().map(|r| &r.entry) else {
            continue;
        };
        if let Some(incident) = &meta.incident
            && filter.service.as_ref().is_none_or(|s| s == &meta.service)
        {
            declared.push(incident.clone());
        }
        // A step runs again after its confirmation, and a wait starts
        // waiting without running: either way it started once.
        let mut started = std::collections::BTreeSet::new();
        for record in records {
            if let Entry::Step {
                step,
                state: StepState::Running | StepState::Waiting,
            } = &record.entry
                && !started.insert(step.as_str())
            {
                continue;
            }
            if let Some((what, step)) = run_event(record) {
                entries.push(TimelineEntry {
                    at: record.at,
                    service: Some(meta.service.clone()),
                    origin: Origin::Run,
                    what,
                    who: None,
                    why: None,
                    run_id: Some(meta.run_id.clone()),
                    step,
                    change: None,
                });
            }
            if let Some(decision) = decision(record) {
                let what = match &decision.kind {
                    crate::follow::decisions::DecisionKind::Started => {
                        format!("started run of “{}”", meta.runbook)
                    }
                    kind => kind.label().to_string(),
                };
                entries.push(TimelineEntry {
                    at: record.at,
                    service: Some(meta.service.clone()),
                    origin: Origin::Run,
                    what,
                    who: decision.who,
                    why: decision.reason,
                    run_id: Some(meta.run_id.clone()),
                    step: decision.step,
                    change: None,
                });
            }
        }
    }
    entries.retain(|e| filter.keeps(e));
    entries.sort_by_key(|e| e.at);
    let incident = incident_span(&entries, &declared, filter);
    Timeline { incident, entries }
}

fn event_entry(event: &ObservedEvent) -> TimelineEntry {
    TimelineEntry {
        at: event.at,
        service: event.service.clone(),
        origin: match event.change {
            Change::Rds { .. } => Origin::Rds,
            _ => Origin::Monitor,
        },
        what: event.describe(),
        who: None,
        why: None,
        run_id: None,
        step: None,
        change: Some(event.change.clone()),
    }
}

/// What a journal record says happened, other than a person's decision
/// (those come from [`decision`]), and the step it concerns.
fn run_event(record: &Record) -> Option<(String, Option<String>)> {
    let on = |step: &String, what: String| Some((what, Some(step.clone())));
    match &record.entry {
        Entry::Step { step, state } => match state {
            StepState::Running | StepState::Waiting => on(step, "step started".into()),
            StepState::Done => on(step, "step done".into()),
            StepState::Failed { error } => on(step, format!("step failed: {error}")),
            StepState::Verifying => on(
                step,
                "resumed mid-call: verifying whether the call took effect".into(),
            ),
            // The skip is the operator's decision, told with who and why.
            StepState::Skipped { .. } | StepState::Pending | StepState::AwaitingConfirmation => {
                None
            }
        },
        Entry::Intent { step, call, .. } => on(
            step,
            format!(
                "calling {} {} in {} {}",
                call.service, call.operation, call.region, call.params
            ),
        ),
        Entry::ActionDone { step, receipt } => on(
            step,
            match &receipt.change_id {
                Some(id) => format!("call accepted (change {id})"),
                None => "call accepted".into(),
            },
        ),
        Entry::ActionFailed {
            step,
            error,
            outcome_unknown,
        } => on(
            step,
            match outcome_unknown {
                true => format!("call failed, outcome unknown: {error}"),
                false => format!("call failed: {error}"),
            },
        ),
        Entry::Verified { step, applied } => on(
            step,
            match applied {
                true => "verified: the call had taken effect".into(),
                false => "verified: the call had not taken effect".into(),
            },
        ),
        Entry::Notified { step, message } => on(step, format!("notified: {message}")),
        Entry::Finished {
            outcome: RunOutcome::Completed { elapsed },
            since_outage,
            ..
        } => Some((
            match since_outage {
                Some(rto) => format!(
                    "run completed in {}, {} after the outage began",
                    short_duration(*elapsed),
                    short_duration(*rto)
                ),
                None => format!("run completed in {}", short_duration(*elapsed)),
            },
            None,
        )),
        _ => None,
    }
}

/// The outage: from the earliest of a service leaving UP and a run's
/// incident start, to the last return to UP once every service that left
/// it is back.
fn incident_span(
    entries: &[TimelineEntry],
    declared: &[crate::domain::incident::IncidentStart],
    filter: &Filter,
) -> Option<IncidentSpan> {
    let mut start: Option<(DateTime<Utc>, String)> = declared
        .iter()
        .filter(|i| filter.since.is_none_or(|t| i.start >= t))
        .min_by_key(|i| i.start)
        .map(|i| {
            let by = match &i.declared_by {
                Some(who) => format!("declared by {who}"),
                None => "the start a run recorded".into(),
            };
            (i.start, by)
        });
    let mut down: std::collections::BTreeSet<&str> = Default::default();
    let mut end = None;
    for entry in entries {
        let Some(Change::Availability { to, .. }) = &entry.change else {
            continue;
        };
        let service = entry.service.as_deref().unwrap_or("");
        if to == "UP" {
            if down.remove(service) && down.is_empty() {
                end = Some(entry.at);
            }
        } else {
            down.insert(service);
            end = None;
            if start.as_ref().is_none_or(|(t, _)| entry.at < *t) {
                start = Some((entry.at, format!("{service} {}", entry.what)));
            }
        }
    }
    let (start, started_by) = start?;
    Some(IncidentSpan {
        start,
        started_by,
        end: end.filter(|e| *e >= start && down.is_empty()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::{Basis, IncidentStart};
    use crate::runbook::journal::RunMeta;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap()
    }

    fn availability(s: i64, service: &str, from: &str, to: &str) -> ObservedEvent {
        ObservedEvent {
            at: at(s),
            service: Some(service.into()),
            change: Change::Availability {
                from: Some(from.into()),
                to: to.into(),
            },
        }
    }

    fn run(
        service: &str,
        incident: Option<IncidentStart>,
        records: Vec<(i64, Entry)>,
    ) -> Vec<Record> {
        let started = Record {
            at: at(records.first().map_or(0, |r| r.0) - 1),
            entry: Entry::RunStarted {
                meta: RunMeta {
                    run_id: format!("r-{service}"),
                    runbook: "Failover".into(),
                    file: "f.yaml".into(),
                    service: service.into(),
                    operator: "ann".into(),
                    session: "s".into(),
                    host: "h".into(),
                    incident,
                },
                params: Default::default(),
            },
        };
        std::iter::once(started)
            .chain(
                records
                    .into_iter()
                    .map(|(s, entry)| Record { at: at(s), entry }),
            )
            .collect()
    }

    #[test]
    fn entries_from_runs_and_observations_come_in_time_order_with_who_and_why() {
        let journal = run(
            "orders",
            None,
            vec![
                (
                    20,
                    Entry::Step {
                        step: "promote".into(),
                        state: StepState::Running,
                    },
                ),
                (
                    25,
                    Entry::Step {
                        step: "promote".into(),
                        state: StepState::AwaitingConfirmation,
                    },
                ),
                (
                    26,
                    Entry::Step {
                        step: "promote".into(),
                        state: StepState::Running,
                    },
                ),
                (
                    27,
                    Entry::Step {
                        step: "wait".into(),
                        state: StepState::Waiting,
                    },
                ),
                (
                    28,
                    Entry::Step {
                        step: "wait".into(),
                        state: StepState::Waiting,
                    },
                ),
                (
                    30,
                    Entry::Skipped {
                        step: "promote".into(),
                        operator: "ann".into(),
                        reason: "done by hand".into(),
                    },
                ),
                (
                    30,
                    Entry::Step {
                        step: "promote".into(),
                        state: StepState::Skipped {
                            reason: "done by hand".into(),
                        },
                    },
                ),
            ],
        );
        let events = vec![
            availability(10, "orders", "UP", "DOWN"),
            availability(40, "orders", "DOWN", "UP"),
        ];
        let timeline = build(&[journal], &events, &Filter::default());
        let whats: Vec<(i64, &str)> = timeline
            .entries
            .iter()
            .map(|e| (e.at.timestamp() - 1_795_000_000, e.what.as_str()))
            .collect();
        assert_eq!(
            whats,
            [
                (10, "availability UP → DOWN"),
                (19, "started run of “Failover”"),
                (20, "step started"),
                (27, "step started"),
                (30, "skipped"),
                (40, "availability DOWN → UP"),
            ]
        );
        let skip = &timeline.entries[4];
        assert_eq!(
            (
                skip.who.as_deref(),
                skip.why.as_deref(),
                skip.step.as_deref()
            ),
            (Some("ann"), Some("done by hand"), Some("promote"))
        );
        let incident = timeline.incident.unwrap();
        assert_eq!((incident.start, incident.end), (at(10), Some(at(40))));
    }

    #[test]
    fn the_incident_ends_only_when_every_service_that_left_up_is_back() {
        let events = vec![
            availability(10, "orders", "UP", "DOWN"),
            availability(15, "billing", "UP", "DEGRADED"),
            availability(20, "orders", "DOWN", "UP"),
        ];
        let timeline = build(&[], &events, &Filter::default());
        let incident = timeline.incident.unwrap();
        assert_eq!((incident.start, incident.end), (at(10), None));

        let mut events = events;
        events.push(availability(25, "billing", "DEGRADED", "UP"));
        let incident = build(&[], &events, &Filter::default()).incident.unwrap();
        assert_eq!(incident.end, Some(at(25)));
    }

    #[test]
    fn a_declared_start_earlier_than_any_observation_opens_the_incident() {
        let declared = IncidentStart {
            start: at(5),
            basis: Basis::Declared,
            declared_by: Some("bob".into()),
            reason: Some("users see 500s".into()),
        };
        let journal = run("orders", Some(declared), vec![]);
        let events = vec![availability(10, "orders", "UP", "DOWN")];
        let incident = build(&[journal], &events, &Filter::default())
            .incident
            .unwrap();
        assert_eq!(incident.start, at(5));
        assert_eq!(incident.started_by, "declared by bob");
    }

    #[test]
    fn the_filter_keeps_one_service_from_a_time() {
        let events = vec![
            availability(10, "orders", "UP", "DOWN"),
            availability(12, "billing", "UP", "DOWN"),
            availability(30, "orders", "DOWN", "UP"),
        ];
        let filter = Filter {
            service: Some("orders".into()),
            since: Some(at(20)),
        };
        let timeline = build(&[], &events, &filter);
        assert_eq!(timeline.entries.len(), 1);
        assert_eq!(timeline.entries[0].at, at(30));
        assert!(
            timeline.incident.is_none(),
            "the outage began before --since"
        );
    }
}
