//! Readiness: the DR checklist evaluated from what is observed, per
//! service, each item pass / warn / fail with its evidence and a one-line
//! fix.
//!
//! Pure: [`evaluate`] reads the environment, the latest observation, the
//! configuration facts the provider reported ([`facts`]), the runbooks and
//! the evidence of runs and drills ([`evidence`]); [`load`] does the I/O
//! that gathers them. Something that could not be read is never taken as
//! fine: a check that depends on it fails and says why.
//!
//! Sections, one module each: [`backups`], [`dr_environment`] (drift
//! between the regions, replication, routing, alarms), [`documentation`]
//! (runbooks; drills under testing), [`process`] (tier sanity, more than one
//! identity, the shared store's region).
//!
//! Not checked here: Secrets Manager replica status (it needs another SDK
//! crate); latency-routed (active-active) services are checked by
//! [`dr_environment::routing`], where their per-region records belong.

pub mod backups;
pub mod check;
pub mod documentation;
pub mod dr_environment;
pub mod evidence;
pub mod facts;
pub mod index;
pub mod load;
pub mod process;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::environment::{Environment, ServiceSpec};
use crate::domain::snapshot::Snapshot;
use crate::runbook::format::Runbook;
pub use check::{Area, Check, Scorecard, Status};
use evidence::{DrillEvidence, RunEvidence};
use facts::Configuration;
use index::Indexed;

/// Thresholds; the defaults follow the guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Settings {
    /// Automated backup retention below this fails (the guide's design
    /// uses 35; 7 is the floor it accepts).
    pub min_retention_days: u32,
    /// A runbook not tested for longer is stale (quarterly).
    pub runbook_max_age_days: i64,
    /// How far back journals count for the process check: two quarters.
    pub process_window_days: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            min_retention_days: 7,
            runbook_max_age_days: crate::runbook::validate::STALE_AFTER_DAYS,
            process_window_days: 183,
        }
    }
}

/// Everything an evaluation reads.
pub struct Inputs<'a> {
    pub environment: &'a Environment,
    pub observed: &'a Snapshot,
    pub configuration: &'a Configuration,
    pub runbooks: &'a [Runbook],
    pub runs: &'a [RunEvidence],
    /// `None`: no drill reports exist to read (as opposed to none of a service).
    pub drills: Option<&'a [DrillEvidence]>,
    /// Region of the shared store, when one is configured.
    pub shared_store_region: Option<&'a str>,
    pub now: DateTime<Utc>,
    pub settings: Settings,
}

/// The whole estate's readiness.
#[derive(Debug, Clone, Serialize)]
pub struct Readiness {
    pub environment: String,
    pub evaluated_at: DateTime<Utc>,
    pub status: Status,
    /// Worst first.
    pub services: Vec<Scorecard>,
}

impl Readiness {
    pub fn count(&self, status: Status) -> usize {
        self.services.iter().filter(|s| s.status == status).count()
    }

    /// `3 services: 1 fail, 1 warn, 1 pass`, for the dashboard and the CLI.
    pub fn summary(&self) -> String {
        format!(
            "{} service{}: {} failing, {} with warnings, {} ready",
            self.services.len(),
            if self.services.len() == 1 { "" } else { "s" },
            self.count(Status::Fail),
            self.count(Status::Warn),
            self.count(Status::Pass)
        )
    }
}

pub fn evaluate(inputs: &Inputs<'_>) -> Readiness {
    let indexed = Indexed::new(inputs);
    let mut services: Vec<Scorecard> = inputs
        .environment
        .services
        .iter()
        .map(|s| scorecard(s, &indexed))
        .collect();
    services.sort_by_key(|s| std::cmp::Reverse(s.status));
    Readiness {
        environment: inputs.environment.name.clone(),
        evaluated_at: inputs.now,
        status: services
            .iter()
            .map(|s| s.status)
            .max()
            .unwrap_or(Status::Pass),
        services,
    }
}

fn scorecard(service: &ServiceSpec, inputs: &Indexed<'_>) -> Scorecard {
    let mut checks = Vec::new();
    checks.extend(backups::checks(service, inputs));
    checks.extend(dr_environment::checks(service, inputs));
    checks.extend(documentation::checks(service, inputs));
    checks.extend(process::checks(service, inputs));
    Scorecard::new(&service.id, &service.name, checks)
}

#[cfg(test)]
mod tests;
