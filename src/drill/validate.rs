//! Checks a parsed scenario against what it names: the environment exists
//! and is simulated, the services are in it, the runbooks parse, validate
//! and recover one of those services, and every fault of the timeline is
//! one the simulated world accepts (injected, in order, into a throwaway
//! copy of it, so `drill check` and a running drill refuse the same faults).

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};

use super::scenario::{self, EnvironmentRef, Scenario};
use crate::config::environment_file::{demo_environment, load_environment};
use crate::domain::environment::Environment;
use crate::provider::sim::SimWorld;
use crate::runbook::diagnostic::{Diagnostic, Pos};
use crate::runbook::format::{self, Runbook};
use crate::runbook::validate as runbook_validate;

/// A scenario ready to run: its world's environment and its runbooks.
#[derive(Debug, Clone)]
pub struct Checked {
    pub scenario: Scenario,
    pub environment: Environment,
    pub runbooks: Vec<Runbook>,
    /// Warnings found on the way (a runbook not tested lately, say).
    pub warnings: Vec<Diagnostic>,
}

/// Parses and checks one file: the diagnostics `drill check` prints.
pub fn check_file(path: &Path, today: NaiveDate) -> Vec<Diagnostic> {
    match scenario::load(path) {
        Ok(s) => match check(s, today) {
            Ok(checked) => checked.warnings,
            Err(diagnostics) => diagnostics,
        },
        Err(diagnostics) => diagnostics,
    }
}

pub fn check(scenario: Scenario, today: NaiveDate) -> Result<Checked, Vec<Diagnostic>> {
    let path = scenario.path.clone();
    let error = |pos: Pos, message: String| vec![Diagnostic::error(&path, pos, message)];
    let environment = match &scenario.environment {
        EnvironmentRef::Demo => demo_environment(),
        EnvironmentRef::File(file) => load_environment(file)
            .map_err(|e| error(scenario.environment_pos, format!("environment: {e}")))?,
    };
    let mut found = Vec::new();
    for s in &scenario.services {
        if environment.service(&s.value).is_none() {
            let known: Vec<&str> = environment.services.iter().map(|s| s.id.as_str()).collect();
            found.push(Diagnostic::error(
                &path,
                s.pos,
                format!(
                    "no service `{}` in environment `{}`; it has {}",
                    s.value,
                    environment.name,
                    known.join(", ")
                ),
            ));
        }
    }
    let mut runbooks = Vec::new();
    for r in &scenario.runbooks {
        let runbook = match format::load(&r.value) {
            Ok(runbook) => runbook,
            Err(diagnostics) => {
                found.push(Diagnostic::error(
                    &path,
                    r.pos,
                    format!("runbook {} cannot be read (below)", r.value.display()),
                ));
                found.extend(diagnostics);
                continue;
            }
        };
        let diagnostics = runbook_validate::validate(&runbook, &environment, today);
        if diagnostics.iter().any(Diagnostic::is_error) {
            found.push(Diagnostic::error(
                &path,
                r.pos,
                format!("runbook {} is not valid (below)", r.value.display()),
            ));
        }
        found.extend(diagnostics);
        if !scenario.services.iter().any(|s| s.value == runbook.service) {
            found.push(Diagnostic::error(
                &path,
                r.pos,
                format!(
                    "runbook `{}` recovers service `{}`, which the scenario does not involve",
                    runbook.name, runbook.service
                ),
            ));
        }
        runbooks.push(runbook);
    }
    found.extend(fault_findings(&scenario, &environment));
    if found.iter().any(Diagnostic::is_error) {
        return Err(found);
    }
    Ok(Checked {
        scenario,
        environment,
        runbooks,
        warnings: found,
    })
}

/// Injects the timeline's faults into a fresh world of the environment;
/// each refusal is reported at its fault.
fn fault_findings(scenario: &Scenario, environment: &Environment) -> Vec<Diagnostic> {
    let start = DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::days(20_000);
    let world = SimWorld::new(environment, start);
    scenario
        .timeline
        .iter()
        .filter_map(|t| {
            world.inject(t.fault.clone()).err().map(|e| {
                Diagnostic::error(
                    &scenario.path,
                    t.pos,
                    format!("fault `{}`: {}", t.fault.label(), e.message),
                )
            })
        })
        .collect()
}
