//! Runbook files: what an operator writes in YAML, parsed into typed steps
//! that remember where in the file they came from.
//!
//! The file is read in two passes. Serde (serde-saphyr) turns the text into
//! `Raw*` shapes and reports unknown keys, unknown variants and missing
//! fields with their line and column; lowering then turns those shapes into
//! [`Runbook`], where each step has exactly one kind.
//!
//! Lowering also bounds every value a run acts on (durations, numbers,
//! lengths; see [`super::limits`]), so that a runbook `check` passes can be run
//! without arithmetic overflowing or a resource name nobody can type.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

use super::condition::Condition;
use super::diagnostic::{Diagnostic, Pos};
use super::limits;
use crate::domain::action::Action;
use crate::domain::objectives::Objectives;

#[derive(Debug, Clone, PartialEq)]
pub struct Runbook {
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    /// Id of the service in the environment this runbook recovers.
    pub service: String,
    pub service_pos: Pos,
    pub objectives: Objectives,
    pub owner: String,
    pub last_tested: NaiveDate,
    pub last_tested_pos: Pos,
    pub parameters: Vec<Parameter>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    pub name: String,
    pub description: Option<String>,
    /// May itself use `${builtin}` variables.
    pub default: Option<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// The planned budget for this step (the seed's T+N), shown against actual time.
    pub expect_within: Option<Duration>,
    pub kind: StepKind,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepKind {
    /// A person does something and ticks it off.
    Manual {
        instructions: String,
    },
    /// Observed state must satisfy every condition, now.
    Check {
        conditions: Vec<Condition>,
    },
    /// One mutating provider call, after the operator confirms it.
    Action {
        action: Action,
        confirm: Confirm,
    },
    Wait(WaitSpec),
    Http(HttpSpec),
    /// A message written to the journal.
    Notify {
        message: String,
    },
}

impl StepKind {
    pub fn label(&self) -> &'static str {
        match self {
            StepKind::Manual { .. } => "manual",
            StepKind::Check { .. } => "check",
            StepKind::Action { .. } => "action",
            StepKind::Wait(_) => "wait",
            StepKind::Http(_) => "http",
            StepKind::Notify { .. } => "notify",
        }
    }
}

/// How an operator confirms an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confirm {
    /// An explicit yes.
    #[default]
    Yes,
    /// Type the action's target identifier.
    Typed,
    /// The operator requests, and a second operator with a different AWS
    /// identity approves from their own console through the shared store
    /// (as SSM Automation's `aws:approve` with `MinRequiredApprovals`).
    TwoPerson,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitSpec {
    /// Every condition must hold.
    pub until: Vec<Condition>,
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    #[serde(with = "humantime_serde", default = "default_poll")]
    pub poll: Duration,
}

fn default_poll() -> Duration {
    Duration::from_secs(10)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    #[serde(default = "default_method")]
    pub method: HttpMethod,
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Sent as the request body with `Content-Type: application/json`.
    #[serde(default)]
    pub json: Option<serde_json::Value>,
    #[serde(default)]
    pub expect: HttpExpect,
    #[serde(with = "humantime_serde", default = "default_http_timeout")]
    pub timeout: Duration,
    /// Variable name -> JSON pointer into the response body (e.g. `/token`).
    #[serde(default)]
    pub capture: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Get,
    Post,
    Put,
    Delete,
    Head,
}

impl HttpMethod {
    /// GET and HEAD only read; anything else may change the application.
    pub fn is_safe(self) -> bool {
        matches!(self, HttpMethod::Get | HttpMethod::Head)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Head => "HEAD",
        }
    }
}

fn default_method() -> HttpMethod {
    HttpMethod::Get
}

fn default_http_timeout() -> Duration {
    Duration::from_secs(10)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpExpect {
    /// Expected status; any 2xx when absent.
    #[serde(default)]
    pub status: Option<u16>,
    /// Text the response body must contain.
    #[serde(default)]
    pub body_contains: Option<String>,
}

// ---- the YAML shapes -------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<Spanned<String>>,
    service: Spanned<String>,
    objectives: Spanned<Objectives>,
    owner: Spanned<String>,
    last_tested: Spanned<NaiveDate>,
    #[serde(default)]
    parameters: BTreeMap<String, Spanned<RawParameter>>,
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParameter {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    default: Option<String>,
}

/// A step names its kind by which one of the kind keys it has.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default, with = "humantime_serde")]
    expect_within: Option<Duration>,
    #[serde(default)]
    manual: Option<String>,
    #[serde(default)]
    check: Option<Vec<Condition>>,
    #[serde(default)]
    action: Option<Action>,
    #[serde(default)]
    confirm: Option<Confirm>,
    #[serde(default)]
    wait: Option<WaitSpec>,
    #[serde(default)]
    http: Option<HttpSpec>,
    #[serde(default)]
    notify: Option<String>,
}

const STEP_KINDS: &str = "manual, check, action, wait, http, notify";

pub fn load(path: &Path) -> Loaded {
    let text = crate::config::source_file::read_text(path).map_err(|e| {
        let (line, column) = e.line_column();
        vec![Diagnostic::error(path, Pos { line, column }, e.reason())]
    })?;
    if text.len() as u64 > limits::FILE_BYTES {
        return Err(vec![Diagnostic::error(
            path,
            Pos::START,
            format!(
                "the file is {} bytes; a runbook may be at most {} bytes",
                text.len(),
                limits::FILE_BYTES
            ),
        )]);
    }
    parse(path, &text)
}

/// A runbook file read: the runbook, or why it could not be read.
pub type Loaded = Result<Runbook, Vec<Diagnostic>>;

/// Every runbook (`*.yaml`, `*.yml`) in a directory, by file name, each
/// parsed or with the diagnostics that stopped it.
pub fn load_dir(dir: &Path) -> std::io::Result<Vec<(PathBuf, Loaded)>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| {
            let loaded = load(&path);
            (path, loaded)
        })
        .collect())
}

pub fn parse(path: &Path, text: &str) -> Loaded {
    let raw: RawRunbook = serde_saphyr::from_str(text).map_err(|e| vec![syntax(path, &e)])?;
    lower(path, raw)
}

fn syntax(path: &Path, err: &serde_saphyr::Error) -> Diagnostic {
    let pos = err
        .location()
        .filter(|l| l.line() > 0)
        .map_or(Pos::START, |l| Pos {
            line: l.line() as usize,
            column: l.column() as usize,
        });
    let message = UserMessageFormatter.format_message(err.without_snippet());
    Diagnostic::error(path, pos, plain_words(&message))
}

/// Rewords the parser's terser structural messages for someone editing YAML.
fn plain_words(message: &str) -> String {
    let reworded = match message {
        "expected mapping start" => "expected a mapping (`key: value` lines) here",
        "expected sequence start" => "expected a list (`- item` lines) here",
        "expected string scalar" => "expected a plain text value here",
        "invalid u16" => "expected a whole number from 0 to 65535",
        "invalid u32" => "expected a whole number from 0 to 4294967295",
        other => other,
    };
    reworded.to_string()
}

fn lower(path: &Path, raw: RawRunbook) -> Result<Runbook, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let mut bounded = |pos: Pos, problem: Option<String>| {
        if let Some(message) = problem {
            errors.push(Diagnostic::error(path, pos, message));
        }
    };
    bounded(
        Pos::of(&raw.name.referenced),
        limits::identifier("the runbook name", &raw.name.value),
    );
    bounded(
        Pos::of(&raw.service.referenced),
        limits::identifier("the service id", &raw.service.value),
    );
    bounded(
        Pos::of(&raw.owner.referenced),
        limits::text("the owner", &raw.owner.value),
    );
    if let Some(d) = &raw.description {
        bounded(
            Pos::of(&d.referenced),
            limits::text("the description", &d.value),
        );
    }
    let objectives = raw.objectives.value;
    bounded(
        Pos::of(&raw.objectives.referenced),
        limits::duration("the RTO", objectives.rto, Duration::ZERO, limits::OBJECTIVE).or_else(
            || limits::duration("the RPO", objectives.rpo, Duration::ZERO, limits::OBJECTIVE),
        ),
    );
    if raw.steps.len() > limits::STEPS {
        bounded(
            Pos::START,
            Some(format!(
                "the runbook has {} steps; at most {} are allowed",
                raw.steps.len(),
                limits::STEPS
            )),
        );
    }
    let mut parameters = Vec::with_capacity(raw.parameters.len());
    for (name, p) in raw.parameters {
        let pos = Pos::of(&p.referenced);
        bounded(pos, limits::identifier("a parameter name", &name));
        bounded(
            pos,
            [&p.value.description, &p.value.default]
                .into_iter()
                .flatten()
                .find_map(|t| limits::text(&format!("parameter `{name}`"), t)),
        );
        parameters.push(Parameter {
            name,
            description: p.value.description,
            default: p.value.default,
            pos,
        });
    }
    let mut steps = Vec::with_capacity(raw.steps.len());
    for spanned in raw.steps {
        let pos = Pos::of(&spanned.referenced);
        match lower_step(spanned.value, pos) {
            Ok(step) => steps.push(step),
            Err(message) => errors.push(Diagnostic::error(path, pos, message)),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Runbook {
        path: path.to_path_buf(),
        name: raw.name.value,
        description: raw.description.map(|d| d.value).unwrap_or_default(),
        service: raw.service.value,
        service_pos: Pos::of(&raw.service.referenced),
        objectives,
        owner: raw.owner.value,
        last_tested: raw.last_tested.value,
        last_tested_pos: Pos::of(&raw.last_tested.referenced),
        parameters,
        steps,
    })
}

fn lower_step(raw: RawStep, pos: Pos) -> Result<Step, String> {
    let mut kinds = Vec::new();
    if let Some(instructions) = raw.manual {
        kinds.push(StepKind::Manual { instructions });
    }
    if let Some(conditions) = raw.check {
        kinds.push(StepKind::Check { conditions });
    }
    if let Some(action) = raw.action {
        kinds.push(StepKind::Action {
            action,
            confirm: raw.confirm.unwrap_or_default(),
        });
    } else if raw.confirm.is_some() {
        return Err(format!(
            "step `{}`: `confirm` belongs to action steps only",
            limits::shown(&raw.id)
        ));
    }
    if let Some(wait) = raw.wait {
        kinds.push(StepKind::Wait(wait));
    }
    if let Some(http) = raw.http {
        kinds.push(StepKind::Http(http));
    }
    if let Some(message) = raw.notify {
        kinds.push(StepKind::Notify { message });
    }
    if kinds.len() != 1 {
        let found: Vec<&str> = kinds.iter().map(StepKind::label).collect();
        return Err(format!(
            "step `{}` must have exactly one of {STEP_KINDS}; found {}",
            limits::shown(&raw.id),
            if found.is_empty() {
                "none".to_string()
            } else {
                found.join(", ")
            }
        ));
    }
    let kind = kinds.remove(0);
    let problem = limits::identifier("a step id", &raw.id)
        .or_else(|| limits::text("the title", &raw.title))
        .or_else(|| {
            raw.description
                .as_deref()
                .and_then(|d| limits::text("the description", d))
        })
        .or_else(|| {
            raw.expect_within.and_then(|d| {
                limits::duration("expect_within", d, Duration::ZERO, limits::EXPECT_WITHIN)
            })
        })
        .or_else(|| limits::kind(&kind));
    if let Some(problem) = problem {
        return Err(format!("step `{}`: {problem}", limits::shown(&raw.id)));
    }
    Ok(Step {
        id: raw.id,
        title: raw.title,
        description: raw.description,
        expect_within: raw.expect_within,
        kind,
        pos,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_loads_its_runbooks_in_name_order() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
        let loaded = load_dir(&dir).unwrap();
        let names: Vec<String> = loaded
            .iter()
            .map(|(p, r)| {
                assert!(r.is_ok(), "{p:?}: {r:?}");
                p.file_name().unwrap().to_string_lossy().into_owned()
            })
            .collect();
        assert_eq!(
            names,
            [
                "billing-replica-promotion.yaml",
                "dr-drill.yaml",
                "orders-detach-and-promote.yaml",
                "orders-failback.yaml",
                "orders-planned-switchover.yaml",
                "orders-unplanned-failover.yaml"
            ]
        );
    }

    #[test]
    fn steps_remember_where_they_start() {
        let text = "name: n\nservice: s\nobjectives: { rto: 1m, rpo: 1m }\nowner: o\nlast_tested: 2026-01-01\nsteps:\n  - id: a\n    title: A\n    notify: hi\n  -   id: b\n      title: B\n      manual: do\n";
        let rb = parse(Path::new("x.yaml"), text).unwrap();
        assert_eq!(rb.steps[0].pos, Pos { line: 7, column: 5 });
        assert_eq!(
            rb.steps[1].pos,
            Pos {
                line: 10,
                column: 7
            }
        );
        assert_eq!(
            rb.service_pos,
            Pos {
                line: 2,
                column: 10
            }
        );
    }
}
