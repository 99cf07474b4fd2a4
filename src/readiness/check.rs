//! One checklist item's outcome, and a service's scorecard of them.

use serde::Serialize;

/// Worst last: a scorecard sorts failures first by ordering on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// The DR checklist's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Area {
    Backups,
    DrEnvironment,
    Documentation,
    Testing,
    TierSanity,
    Process,
    SharedStore,
}

impl Area {
    pub fn label(self) -> &'static str {
        match self {
            Area::Backups => "backups",
            Area::DrEnvironment => "dr environment",
            Area::Documentation => "documentation",
            Area::Testing => "testing",
            Area::TierSanity => "tier sanity",
            Area::Process => "process",
            Area::SharedStore => "shared store",
        }
    }
}

/// One evaluated item: what was found (evidence) and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub area: Area,
    /// Short and stable, e.g. `engine version`: scripts may key on it.
    pub name: String,
    pub status: Status,
    pub evidence: String,
    /// One line; empty when the check passes.
    pub fix: String,
}

impl Check {
    pub fn pass(area: Area, name: &str, evidence: impl Into<String>) -> Check {
        Check {
            area,
            name: name.to_string(),
            status: Status::Pass,
            evidence: evidence.into(),
            fix: String::new(),
        }
    }

    pub fn warn(
        area: Area,
        name: &str,
        evidence: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Warn,
            fix: fix.into(),
            ..Check::pass(area, name, evidence)
        }
    }

    pub fn fail(
        area: Area,
        name: &str,
        evidence: impl Into<String>,
        fix: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Fail,
            fix: fix.into(),
            ..Check::pass(area, name, evidence)
        }
    }
}

/// Every check of one service, failures first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scorecard {
    pub service_id: String,
    pub service_name: String,
    pub status: Status,
    pub passed: usize,
    pub warnings: usize,
    pub failures: usize,
    pub checks: Vec<Check>,
}

impl Scorecard {
    pub fn new(service_id: &str, service_name: &str, mut checks: Vec<Check>) -> Scorecard {
        // Stable: within a status, checks keep the checklist's order.
        checks.sort_by_key(|c| std::cmp::Reverse(c.status));
        let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
        Scorecard {
            service_id: service_id.to_string(),
            service_name: service_name.to_string(),
            status: checks
                .iter()
                .map(|c| c.status)
                .max()
                .unwrap_or(Status::Pass),
            passed: count(Status::Pass),
            warnings: count(Status::Warn),
            failures: count(Status::Fail),
            checks,
        }
    }
}
