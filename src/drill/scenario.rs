//! Drill scenario files (`runbooks/drills/*.yaml`): what a trainee
//! practises against, parsed into a [`Scenario`] whose parts remember
//! where in the file they came from.
//!
//! ```yaml
//! name: Full us-east-1 outage
//! description: The primary region fails; fail orders over to us-west-2.
//! environment: demo            # or an environment file, relative to this one
//! services: [orders]
//! runbooks: [../orders-unplanned-failover.yaml]
//! objectives: { rto: 15m, rpo: 1m, failover: expected }
//! time_limit: 45m
//! timeline:
//!   - at: T+2m
//!     fault: { type: region-outage, region: us-east-1 }
//!   - at: T+5m
//!     for: 10m                 # without it, until the drill ends
//!     fault: { type: slow-control-plane, factor: 3 }
//! ```
//!
//! Serde reads the shapes and reports unknown keys and wrong types with
//! their line and column; lowering then bounds every number and duration,
//! as runbook files are (see [`crate::runbook::limits`]).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

use crate::provider::fault::Fault;
use crate::runbook::diagnostic::{Diagnostic, Pos};
use crate::runbook::limits;

/// A scenario is a page of YAML; anything far larger is not one.
pub const FILE_BYTES: u64 = 256 * 1024;
pub const TIMELINE_ENTRIES: usize = 50;
pub const SERVICES: usize = 20;
pub const RUNBOOKS: usize = 10;
/// A drill is practice for one shift at most.
pub const TIME_LIMIT: std::ops::RangeInclusive<Duration> =
    Duration::from_secs(60)..=Duration::from_secs(24 * 3600);

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub path: PathBuf,
    pub name: String,
    pub description: String,
    pub environment: EnvironmentRef,
    pub environment_pos: Pos,
    pub services: Vec<Located<String>>,
    /// The runbooks the trainee is expected to use, resolved against the
    /// scenario's directory.
    pub runbooks: Vec<Located<PathBuf>>,
    pub objectives: DrillObjectives,
    pub time_limit: Duration,
    /// In the order the faults start.
    pub timeline: Vec<TimedFault>,
}

/// A value and where the file says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub pos: Pos,
}

/// Which simulated estate the drill runs in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnvironmentRef {
    Demo,
    File(PathBuf),
}

/// What the drill is scored against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillObjectives {
    /// The service must be `UP` again within this of the outage's start.
    #[serde(with = "humantime_serde")]
    pub rto: Duration,
    /// The writes lost may span at most this (`0s`: none may be lost).
    #[serde(with = "humantime_serde")]
    pub rpo: Duration,
    #[serde(default)]
    pub failover: FailoverExpectation,
}

/// Whether the right response includes making a replica the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailoverExpectation {
    /// The drill fails unless a failover, switchover or promotion happened.
    Expected,
    /// The drill fails if one happened (a flapping check, stopped backups).
    Forbidden,
    #[default]
    Either,
}

impl FailoverExpectation {
    pub fn label(self) -> &'static str {
        match self {
            FailoverExpectation::Expected => "expected",
            FailoverExpectation::Forbidden => "forbidden",
            FailoverExpectation::Either => "either",
        }
    }
}

/// One fault of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct TimedFault {
    /// Offset from the drill's start (`T+at`).
    pub at: Duration,
    /// How long it lasts; `None`: until the drill ends.
    pub lasts: Option<Duration>,
    pub fault: Fault,
    pub pos: Pos,
}

impl TimedFault {
    pub fn ends_at(&self) -> Option<Duration> {
        self.lasts.map(|d| self.at + d)
    }
}

// ---- the YAML shapes -------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    name: Spanned<String>,
    #[serde(default)]
    description: Option<Spanned<String>>,
    #[serde(default)]
    environment: Option<Spanned<String>>,
    services: Spanned<Vec<Spanned<String>>>,
    runbooks: Spanned<Vec<Spanned<String>>>,
    objectives: Spanned<DrillObjectives>,
    time_limit: Spanned<String>,
    timeline: Spanned<Vec<Spanned<RawTimedFault>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTimedFault {
    at: Spanned<String>,
    #[serde(default, rename = "for")]
    lasts: Option<Spanned<String>>,
    fault: Spanned<Fault>,
}

/// A scenario file read: the scenario, or why it could not be read.
pub type Loaded = Result<Scenario, Vec<Diagnostic>>;

pub fn load(path: &Path) -> Loaded {
    let text = crate::config::source_file::read_text(path).map_err(|e| {
        let (line, column) = e.line_column();
        vec![Diagnostic::error(path, Pos { line, column }, e.reason())]
    })?;
    if text.len() as u64 > FILE_BYTES {
        return Err(vec![Diagnostic::error(
            path,
            Pos::START,
            format!(
                "the file is {} bytes; a drill scenario may be at most {FILE_BYTES} bytes",
                text.len()
            ),
        )]);
    }
    parse(path, &text)
}

pub fn parse(path: &Path, text: &str) -> Loaded {
    let raw: RawScenario = serde_saphyr::from_str(text).map_err(|e| vec![syntax(path, &e)])?;
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
    Diagnostic::error(path, pos, message)
}

/// `T+2m`, `T+0s` or plain `2m`: an offset from the drill's start.
fn offset(what: &str, text: &str) -> Result<Duration, String> {
    let bare = text.trim();
    let bare = bare.strip_prefix("T+").unwrap_or(bare);
    humantime::parse_duration(bare).map_err(|e| {
        format!(
            "{what} `{}` is not a duration such as `T+2m` or `90s`: {e}",
            limits::shown(text)
        )
    })
}

fn lower(path: &Path, raw: RawScenario) -> Loaded {
    let mut errors = Vec::new();
    let mut problem = |pos: Pos, message: Option<String>| {
        if let Some(message) = message {
            errors.push(Diagnostic::error(path, pos, message));
        }
    };
    let at = |s: &serde_saphyr::Location| Pos::of(s);
    problem(
        at(&raw.name.referenced),
        limits::identifier("the scenario name", &raw.name.value),
    );
    if let Some(d) = &raw.description {
        problem(at(&d.referenced), limits::text("the description", &d.value));
    }
    let (environment, environment_pos) = match &raw.environment {
        None => (EnvironmentRef::Demo, Pos::START),
        Some(e) if e.value == "demo" => (EnvironmentRef::Demo, at(&e.referenced)),
        Some(e) => {
            problem(
                at(&e.referenced),
                limits::identifier("the environment", &e.value),
            );
            let dir = path.parent().unwrap_or(Path::new("."));
            (EnvironmentRef::File(dir.join(&e.value)), at(&e.referenced))
        }
    };
    let list_problem = |what: &str, len: usize, max: usize| {
        if len == 0 {
            Some(format!("`{what}` must name at least one"))
        } else if len > max {
            Some(format!("`{what}` names {len}; at most {max} are allowed"))
        } else {
            None
        }
    };
    problem(
        at(&raw.services.referenced),
        list_problem("services", raw.services.value.len(), SERVICES),
    );
    for s in &raw.services.value {
        problem(
            at(&s.referenced),
            limits::identifier("a service id", &s.value),
        );
    }
    problem(
        at(&raw.runbooks.referenced),
        list_problem("runbooks", raw.runbooks.value.len(), RUNBOOKS),
    );
    let dir = path.parent().unwrap_or(Path::new("."));
    let runbooks = raw
        .runbooks
        .value
        .iter()
        .map(|r| {
            problem(
                at(&r.referenced),
                limits::identifier("a runbook file", &r.value),
            );
            Located {
                value: dir.join(&r.value),
                pos: at(&r.referenced),
            }
        })
        .collect();
    let objectives = raw.objectives.value;
    problem(
        at(&raw.objectives.referenced),
        limits::duration("the RTO", objectives.rto, Duration::ZERO, limits::OBJECTIVE).or_else(
            || limits::duration("the RPO", objectives.rpo, Duration::ZERO, limits::OBJECTIVE),
        ),
    );
    let time_limit_pos = at(&raw.time_limit.referenced);
    let time_limit = match offset("time_limit", &raw.time_limit.value) {
        Ok(d) => {
            problem(
                time_limit_pos,
                limits::duration("time_limit", d, *TIME_LIMIT.start(), *TIME_LIMIT.end()),
            );
            d
        }
        Err(e) => {
            problem(time_limit_pos, Some(e));
            *TIME_LIMIT.end()
        }
    };
    if raw.timeline.value.len() > TIMELINE_ENTRIES {
        problem(
            at(&raw.timeline.referenced),
            Some(format!(
                "the timeline has {} entries; at most {TIMELINE_ENTRIES} are allowed",
                raw.timeline.value.len()
            )),
        );
    }
    let mut timeline = Vec::with_capacity(raw.timeline.value.len());
    for entry in raw.timeline.value {
        let RawTimedFault {
            at: when,
            lasts,
            fault,
        } = entry.value;
        let start = match offset("`at`", &when.value) {
            Ok(d) if d >= time_limit => {
                problem(
                    Pos::of(&when.referenced),
                    Some(format!(
                        "`at` is {}, at or after the time limit {}: the fault would never start",
                        crate::format::objective(d),
                        crate::format::objective(time_limit)
                    )),
                );
                continue;
            }
            Ok(d) => d,
            Err(e) => {
                problem(Pos::of(&when.referenced), Some(e));
                continue;
            }
        };
        let lasts = match lasts {
            None => None,
            Some(l) => match offset("`for`", &l.value) {
                Ok(d) if d.is_zero() => {
                    problem(
                        Pos::of(&l.referenced),
                        Some("`for` must be longer than 0s".into()),
                    );
                    continue;
                }
                Ok(d) => {
                    problem(
                        Pos::of(&l.referenced),
                        limits::duration("`for`", d, Duration::ZERO, *TIME_LIMIT.end()),
                    );
                    Some(d)
                }
                Err(e) => {
                    problem(Pos::of(&l.referenced), Some(e));
                    continue;
                }
            },
        };
        timeline.push(TimedFault {
            at: start,
            lasts,
            fault: fault.value,
            pos: Pos::of(&fault.referenced),
        });
    }
    timeline.sort_by_key(|t| t.at);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Scenario {
        path: path.to_path_buf(),
        name: raw.name.value,
        description: raw.description.map(|d| d.value).unwrap_or_default(),
        environment,
        environment_pos,
        services: raw
            .services
            .value
            .into_iter()
            .map(|s| Located {
                pos: Pos::of(&s.referenced),
                value: s.value,
            })
            .collect(),
        runbooks,
        objectives,
        time_limit,
        timeline,
    })
}

/// Every scenario (`*.yaml`, `*.yml`) in a directory, by file name.
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
