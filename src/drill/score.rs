//! Scoring a drill: from what happened (the fault timeline, the service's
//! availability as the dashboard's model saw it, the run's journal and the
//! simulator's ground truth) to the [`Report`]'s numbers, findings and
//! verdict. Pure: tested on hand-made journals.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::scenario::{DrillObjectives, FailoverExpectation};
use crate::domain::availability::Availability;
use crate::format::{objective, short_duration};
use crate::provider::fault::GroundTruth;
use crate::runbook::journal::{Entry, Record, StepState};

/// Everything a drill leaves behind, as the scorer takes it.
#[derive(Debug, Clone)]
pub struct DrillRecord {
    pub scenario: String,
    pub file: PathBuf,
    pub service: String,
    pub objectives: DrillObjectives,
    pub time_limit: Duration,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub end: DrillEnd,
    pub faults: Vec<FaultEvent>,
    /// The service's shown availability each time it changed, oldest first
    /// (the first entry is its state at the start).
    pub availability: Vec<(DateTime<Utc>, Availability)>,
    /// The expected runbook's steps, in order.
    pub steps: Vec<PlannedStep>,
    pub journal: Vec<Record>,
    pub truth: GroundTruth,
    /// Promotions already in the ground truth before the drill started.
    pub losses_before: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "end", rename_all = "kebab-case")]
pub enum DrillEnd {
    RunbookCompleted,
    RunbookAborted {
        reason: String,
    },
    TimeLimit,
    /// No run was started before the drill ended.
    NoRun,
    /// The trainee left the console before the run ended.
    TraineeQuit,
}

impl DrillEnd {
    pub fn label(&self) -> String {
        match self {
            DrillEnd::RunbookCompleted => "runbook completed".into(),
            DrillEnd::RunbookAborted { reason } => format!("runbook aborted: {reason}"),
            DrillEnd::TimeLimit => "time limit reached".into(),
            DrillEnd::NoRun => "no runbook was run".into(),
            DrillEnd::TraineeQuit => "the trainee left the drill".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultEvent {
    pub at: DateTime<Utc>,
    pub label: String,
    /// Started (true) or cleared.
    pub started: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    pub expect_within: Option<Duration>,
    /// An action that moves the writer (failover, switchover, detach,
    /// promotion): confirming it is the decision.
    pub moves_writer: bool,
}

/// Durations are written in seconds: reports are read by scripts too.
mod seconds {
    use std::time::Duration;

    use serde::Serializer;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub scenario: String,
    pub file: PathBuf,
    pub service: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub end: DrillEnd,
    #[serde(with = "seconds")]
    pub rto_objective_s: Option<Duration>,
    #[serde(with = "seconds")]
    pub rpo_objective_s: Option<Duration>,
    pub failover_expected: FailoverExpectation,
    pub outage_start: Option<DateTime<Utc>>,
    pub recovered_at: Option<DateTime<Utc>>,
    /// Outage start to `UP` again; `None` when it never came back.
    #[serde(with = "seconds")]
    pub rto_s: Option<Duration>,
    pub rto_met: bool,
    pub lost_writes: u64,
    #[serde(with = "seconds")]
    pub rpo_s: Option<Duration>,
    pub rpo_met: bool,
    pub promotions: usize,
    pub failover_ok: bool,
    pub detected_at: Option<DateTime<Utc>>,
    #[serde(with = "seconds")]
    pub time_to_detect_s: Option<Duration>,
    pub decided_at: Option<DateTime<Utc>>,
    #[serde(with = "seconds")]
    pub time_to_decide_s: Option<Duration>,
    pub data_at_risk_at_decision: Option<String>,
    pub interventions: usize,
    pub overrides: Vec<Reasoned>,
    pub retries: usize,
    pub skipped: Vec<Reasoned>,
    pub out_of_order: Vec<String>,
    pub against_guardrails: Vec<Reasoned>,
    pub steps: Vec<StepResult>,
    pub timeline: Vec<Mark>,
    pub findings: Vec<String>,
    pub passed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reasoned {
    pub step: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepResult {
    pub id: String,
    pub title: String,
    pub kind: &'static str,
    #[serde(with = "seconds")]
    pub planned_s: Option<Duration>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(with = "seconds")]
    pub actual_s: Option<Duration>,
    pub state: String,
}

impl StepResult {
    pub fn overran(&self) -> bool {
        matches!((self.planned_s, self.actual_s), (Some(p), Some(a)) if a > p)
    }
}

/// One moment for the timeline chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mark {
    pub at: DateTime<Utc>,
    pub kind: MarkKind,
    pub what: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MarkKind {
    FaultStarted,
    FaultCleared,
    Detected,
    Decided,
    Recovered,
}

fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    (to - from).to_std().unwrap_or_default()
}

pub fn score(record: &DrillRecord) -> Report {
    let first_fault = record.faults.iter().find(|f| f.started).map(|f| f.at);
    let left_up = record
        .availability
        .iter()
        .find(|(at, a)| *a != Availability::Up && *at >= first_fault.unwrap_or(record.started_at))
        .map(|(at, _)| *at);
    // The outage counts from the injected fault that caused it; a drill
    // with no fault counts from the moment the service left UP (a
    // switchover's own downtime).
    let outage_start = left_up.map(|left| first_fault.map_or(left, |f| f.min(left)));
    let up_at_end = record
        .availability
        .last()
        .is_some_and(|(_, a)| *a == Availability::Up);
    let recovered_at = match outage_start {
        Some(_) if up_at_end => record.availability.last().map(|(at, _)| *at),
        _ => None,
    };
    let rto = match (outage_start, recovered_at) {
        (None, _) => Some(Duration::ZERO),
        (Some(start), Some(end)) => Some(between(start, end)),
        (Some(_), None) => None,
    };
    let rto_met = rto.is_some_and(|r| r <= record.objectives.rto);

    let losses: Vec<_> = record
        .truth
        .losses
        .iter()
        .skip(record.losses_before)
        .collect();
    let lost_writes: u64 = losses.iter().map(|l| l.count).sum();
    let first = losses.iter().filter_map(|l| l.first).min();
    let last = losses.iter().filter_map(|l| l.last).max();
    let rpo = match (first, last) {
        (Some(first), Some(last)) => Some(
            between(first, last) + Duration::from_secs(1) / record.truth.writes_per_second.max(1),
        ),
        _ => Some(Duration::ZERO),
    };
    let rpo_met = lost_writes == 0 || rpo.is_some_and(|r| r <= record.objectives.rpo);
    let promotions = losses.len();
    let failover_ok = match record.objectives.failover {
        FailoverExpectation::Expected => promotions > 0,
        FailoverExpectation::Forbidden => promotions == 0,
        FailoverExpectation::Either => true,
    };

    let journal = JournalFacts::read(&record.journal, &record.steps);
    let detected_at = outage_start.and_then(|start| {
        let settled_after = |kind: &str| {
            journal
                .done
                .iter()
                .filter(|(at, step)| {
                    *at >= start && journal.kind_of(step, &record.steps) == Some(kind)
                })
                .map(|(at, _)| *at)
                .next()
        };
        settled_after("check").or_else(|| {
            journal
                .done
                .iter()
                .map(|(at, _)| *at)
                .find(|at| *at >= start)
        })
    });
    let decided = journal.decision.clone();
    let decided_at = decided.as_ref().map(|(at, _)| *at);
    let time_to_decide =
        decided_at.map(|d| between(detected_at.or(outage_start).unwrap_or(record.started_at), d));

    let steps: Vec<StepResult> = record
        .steps
        .iter()
        .map(|s| {
            let times = journal.times.get(&s.id);
            let started_at = times.and_then(|t| t.0);
            let finished_at = times.and_then(|t| t.1);
            StepResult {
                id: s.id.clone(),
                title: s.title.clone(),
                kind: s.kind,
                planned_s: s.expect_within,
                started_at,
                finished_at,
                actual_s: started_at.zip(finished_at).map(|(a, b)| between(a, b)),
                state: journal
                    .states
                    .get(&s.id)
                    .map_or("not reached".to_string(), |st| st.label().to_string()),
            }
        })
        .collect();

    let mut timeline: Vec<Mark> = record
        .faults
        .iter()
        .map(|f| Mark {
            at: f.at,
            kind: if f.started {
                MarkKind::FaultStarted
            } else {
                MarkKind::FaultCleared
            },
            what: f.label.clone(),
        })
        .collect();
    if let Some(at) = detected_at {
        timeline.push(Mark {
            at,
            kind: MarkKind::Detected,
            what: "outage confirmed".into(),
        });
    }
    if let Some((at, step)) = &decided {
        timeline.push(Mark {
            at: *at,
            kind: MarkKind::Decided,
            what: format!("`{step}` confirmed"),
        });
    }
    if let Some(at) = recovered_at {
        timeline.push(Mark {
            at,
            kind: MarkKind::Recovered,
            what: format!("{} UP", record.service),
        });
    }
    timeline.sort_by_key(|m| m.at);

    let mut findings = Vec::new();
    match (outage_start, rto) {
        (Some(_), None) => findings.push(format!(
            "{} was not UP again by the end of the drill (RTO objective {})",
            record.service,
            objective(record.objectives.rto)
        )),
        (_, Some(r)) if !rto_met => findings.push(format!(
            "RTO {} exceeded the objective {}",
            short_duration(r),
            objective(record.objectives.rto)
        )),
        _ => {}
    }
    if !rpo_met {
        findings.push(format!(
            "{lost_writes} writes lost, spanning {} (RPO objective {})",
            rpo.map_or("?".into(), short_duration),
            objective(record.objectives.rpo)
        ));
    }
    match record.objectives.failover {
        FailoverExpectation::Forbidden if promotions > 0 => findings.push(format!(
            "unnecessary failover: {promotions} promotion(s) where the right response was not to fail over"
        )),
        FailoverExpectation::Expected if promotions == 0 => {
            findings.push("no failover happened, and this drill needed one".into());
        }
        _ => {}
    }
    for s in steps.iter().filter(|s| s.overran()) {
        findings.push(format!(
            "step `{}` overran its budget: {} against {} planned",
            s.id,
            s.actual_s.map_or("?".into(), short_duration),
            s.planned_s.map_or("?".into(), objective)
        ));
    }
    for o in &journal.overrides {
        findings.push(format!("`{}` had to be overridden: {}", o.step, o.reason));
    }
    for s in &journal.skipped {
        findings.push(format!("`{}` was skipped: {}", s.step, s.reason));
    }
    for step in &journal.out_of_order {
        findings.push(format!("`{step}` was started out of the runbook's order"));
    }
    if record.end == DrillEnd::TimeLimit {
        findings.push(format!(
            "the drill hit its time limit of {}",
            short_duration(record.time_limit)
        ));
    }

    Report {
        scenario: record.scenario.clone(),
        file: record.file.clone(),
        service: record.service.clone(),
        started_at: record.started_at,
        ended_at: record.ended_at,
        end: record.end.clone(),
        rto_objective_s: Some(record.objectives.rto),
        rpo_objective_s: Some(record.objectives.rpo),
        failover_expected: record.objectives.failover,
        outage_start,
        recovered_at,
        rto_s: rto,
        rto_met,
        lost_writes,
        rpo_s: rpo,
        rpo_met,
        promotions,
        failover_ok,
        detected_at,
        time_to_detect_s: outage_start.zip(detected_at).map(|(a, b)| between(a, b)),
        decided_at,
        time_to_decide_s: time_to_decide,
        data_at_risk_at_decision: journal.data_at_risk,
        interventions: journal.interventions,
        overrides: journal.overrides,
        retries: journal.retries,
        skipped: journal.skipped,
        out_of_order: journal.out_of_order,
        against_guardrails: journal.against_guardrails,
        steps,
        timeline,
        findings,
        passed: rto_met && rpo_met && failover_ok,
    }
}

/// When a step first started and when it last settled.
type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// What the journal says the operator did.
#[derive(Default)]
struct JournalFacts {
    /// Each step's first start and its settling.
    times: BTreeMap<String, Span>,
    states: BTreeMap<String, StepState>,
    /// Steps done, in order.
    done: Vec<(DateTime<Utc>, String)>,
    decision: Option<(DateTime<Utc>, String)>,
    data_at_risk: Option<String>,
    interventions: usize,
    overrides: Vec<Reasoned>,
    against_guardrails: Vec<Reasoned>,
    skipped: Vec<Reasoned>,
    retries: usize,
    out_of_order: Vec<String>,
}

impl JournalFacts {
    fn read(records: &[Record], plan: &[PlannedStep]) -> JournalFacts {
        let index = |step: &str| plan.iter().position(|s| s.id == step);
        let mut facts = JournalFacts::default();
        let mut furthest: Option<usize> = None;
        for record in records {
            match &record.entry {
                Entry::Step { step, state } => {
                    let previous = facts.states.insert(step.clone(), state.clone());
                    let times = facts.times.entry(step.clone()).or_default();
                    let active = !matches!(state, StepState::Pending);
                    if active && times.0.is_none() {
                        times.0 = Some(record.at);
                        if let Some(i) = index(step) {
                            if furthest.is_some_and(|f| i < f) {
                                facts.out_of_order.push(step.clone());
                            }
                            furthest = Some(furthest.map_or(i, |f| f.max(i)));
                        }
                    }
                    if matches!(previous, Some(StepState::Failed { .. }))
                        && matches!(state, StepState::Running | StepState::Waiting)
                    {
                        facts.retries += 1;
                        facts.interventions += 1;
                    }
                    if matches!(
                        state,
                        StepState::Done | StepState::Skipped { .. } | StepState::Failed { .. }
                    ) {
                        times.1 = Some(record.at);
                    }
                    if *state == StepState::Done {
                        facts.done.push((record.at, step.clone()));
                    }
                }
                Entry::Confirmed {
                    step, assessment, ..
                } => {
                    facts.interventions += 1;
                    let moves = plan.iter().any(|s| s.id == *step && s.moves_writer);
                    if moves && facts.decision.is_none() {
                        facts.decision = Some((record.at, step.clone()));
                        facts.data_at_risk = assessment.as_ref().and_then(|a| {
                            a.facts
                                .iter()
                                .find(|f| {
                                    f.subject.ends_with(" replication") || f.subject.contains("lag")
                                })
                                .map(|f| format!("{}: {}", f.subject, f.text))
                        });
                    }
                }
                Entry::Declined { .. } => facts.interventions += 1,
                Entry::Overridden {
                    step,
                    reason,
                    assessment,
                    ..
                } => {
                    facts.interventions += 1;
                    facts.overrides.push(Reasoned {
                        step: step.clone(),
                        reason: reason.clone(),
                    });
                    for v in &assessment.violations {
                        facts.against_guardrails.push(Reasoned {
                            step: step.clone(),
                            reason: v.message.clone(),
                        });
                    }
                }
                Entry::Skipped { step, reason, .. } => {
                    facts.interventions += 1;
                    facts.skipped.push(Reasoned {
                        step: step.clone(),
                        reason: reason.clone(),
                    });
                }
                _ => {}
            }
        }
        facts
    }

    fn kind_of<'a>(&self, step: &str, plan: &'a [PlannedStep]) -> Option<&'a str> {
        plan.iter().find(|s| s.id == step).map(|s| s.kind)
    }
}
