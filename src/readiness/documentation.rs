//! Documentation and testing: a runbook exists for the service, still
//! validates against the estate, has been tested within the quarter and
//! states the service's objectives; a drill of it completed this quarter
//! and met them.

use chrono::{Datelike, NaiveDate};

use super::check::{Area, Check};
use super::index::Indexed;
use crate::domain::environment::{Replication, ServiceSpec};
use crate::domain::objectives::DrTier;
use crate::format::objective;
use crate::runbook::diagnostic::Severity;
use crate::runbook::validate::validate;

pub fn checks(service: &ServiceSpec, inputs: &Indexed<'_>) -> Vec<Check> {
    let mut out = Vec::new();
    let runbooks = inputs.runbooks_of(&service.id);
    let today = inputs.now.date_naive();
    if runbooks.is_empty() {
        out.push(Check::fail(
            Area::Documentation,
            "runbook",
            format!("no runbook names service `{}`", service.id),
            new_runbook_fix(service),
        ));
    } else {
        let names: Vec<String> = runbooks.iter().map(|rb| file_name(&rb.path)).collect();
        out.push(Check::pass(
            Area::Documentation,
            "runbook",
            names.join(", "),
        ));
        out.push(validates(runbooks, inputs, today));
        out.push(last_tested(runbooks, inputs, today));
        out.push(objectives(service, runbooks));
    }
    out.push(drill(service, inputs));
    out
}

/// The `runbook new` kind that fits the service's replication, if one does.
fn new_runbook_fix(service: &ServiceSpec) -> String {
    let kind = match (&service.replication, service.tier) {
        (_, DrTier::ActiveActive) => Some("drain-region"),
        (Replication::AuroraGlobal { .. }, _) => Some("unplanned-failover"),
        (Replication::RdsReplica { .. }, _) => Some("replica-promotion"),
        _ => None,
    };
    match kind {
        Some(kind) => format!(
            "write one: drconsole runbook new {} --kind {kind}",
            service.id
        ),
        None => format!(
            "write a runbook for {} ({} recovery) in the runbooks directory",
            service.id,
            service.replication.kind_label()
        ),
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn validates(
    runbooks: &[&crate::runbook::format::Runbook],
    inputs: &Indexed<'_>,
    today: NaiveDate,
) -> Check {
    let errors: Vec<String> = runbooks
        .iter()
        .flat_map(|rb| validate(rb, inputs.environment, today))
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    if errors.is_empty() {
        Check::pass(
            Area::Documentation,
            "runbook validates",
            format!("{} runbook(s) validate against the estate", runbooks.len()),
        )
    } else {
        Check::fail(
            Area::Documentation,
            "runbook validates",
            errors.join("; "),
            "fix the runbook (drconsole runbook check FILE) or regenerate it with drconsole runbook new",
        )
    }
}

fn last_tested(
    runbooks: &[&crate::runbook::format::Runbook],
    inputs: &Indexed<'_>,
    today: NaiveDate,
) -> Check {
    let max_age = inputs.settings.runbook_max_age_days;
    let stale: Vec<String> = runbooks
        .iter()
        .filter(|rb| (today - rb.last_tested).num_days() > max_age)
        .map(|rb| {
            format!(
                "{} last tested {} ({} days ago)",
                file_name(&rb.path),
                rb.last_tested,
                (today - rb.last_tested).num_days()
            )
        })
        .collect();
    if stale.is_empty() {
        let newest = runbooks.iter().map(|rb| rb.last_tested).max();
        Check::pass(
            Area::Documentation,
            "runbook tested",
            format!(
                "every runbook tested within {max_age} days (latest {})",
                newest.map_or("-".into(), |d| d.to_string())
            ),
        )
    } else {
        Check::fail(
            Area::Documentation,
            "runbook tested",
            format!("{}: more than {max_age} days", stale.join("; ")),
            "exercise the runbook in a drill and update its last_tested",
        )
    }
}

fn objectives(service: &ServiceSpec, runbooks: &[&crate::runbook::format::Runbook]) -> Check {
    let want = service.objectives;
    // A runbook may promise better (a switchover loses nothing), not worse.
    let differing: Vec<String> = runbooks
        .iter()
        .filter(|rb| rb.objectives.rto > want.rto || rb.objectives.rpo > want.rpo)
        .map(|rb| {
            format!(
                "{} states RTO {} RPO {}",
                file_name(&rb.path),
                objective(rb.objectives.rto),
                objective(rb.objectives.rpo)
            )
        })
        .collect();
    let stated = format!(
        "service objectives RTO {} RPO {}",
        objective(want.rto),
        objective(want.rpo)
    );
    if differing.is_empty() {
        Check::pass(
            Area::Documentation,
            "objectives",
            format!("{stated}; no runbook promises less"),
        )
    } else {
        Check::warn(
            Area::Documentation,
            "objectives",
            format!("{stated}; {}", differing.join("; ")),
            "make the runbooks meet the service's objectives, or agree looser ones",
        )
    }
}

/// First day of the calendar quarter holding `day`.
pub fn quarter_start(day: NaiveDate) -> NaiveDate {
    let month = (day.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(day.year(), month, 1).unwrap_or(day)
}

fn drill(service: &ServiceSpec, inputs: &Indexed<'_>) -> Check {
    let name = "drill this quarter";
    let fix = format!("run a drill of {} this quarter", service.id);
    let Some(drills) = inputs.drills else {
        return Check::warn(
            Area::Testing,
            name,
            "no drill evidence: no drill reports found",
            fix,
        );
    };
    let since = quarter_start(inputs.now.date_naive());
    let latest = drills
        .iter()
        .filter(|d| d.service == service.id && d.finished_at.date_naive() >= since)
        .max_by_key(|d| d.finished_at);
    match latest {
        None => Check::warn(
            Area::Testing,
            name,
            format!("no drill of {} since {since}", service.id),
            fix,
        ),
        Some(d) if d.rto_met && d.rpo_met => Check::pass(
            Area::Testing,
            name,
            format!(
                "drill of {} met RTO and RPO",
                d.finished_at.format("%Y-%m-%d")
            ),
        ),
        Some(d) => Check::fail(
            Area::Testing,
            name,
            format!(
                "drill of {} missed its {}",
                d.finished_at.format("%Y-%m-%d"),
                match (d.rto_met, d.rpo_met) {
                    (false, false) => "RTO and RPO",
                    (false, true) => "RTO",
                    _ => "RPO",
                }
            ),
            "fix what the drill report found and drill again",
        ),
    }
}
