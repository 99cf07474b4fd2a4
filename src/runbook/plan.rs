//! `runbook plan`: every step in words and, for each action, the exact API
//! call it would make, with parameters filled in. Nothing is called.

use std::fmt::Write;
use std::time::Duration;

use super::format::{Runbook, Step, StepKind};
use super::vars::{self, Variables};
use crate::domain::environment::ServiceSpec;
use crate::format::printable;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("parameter `{0}` has no default; pass it with --param {0}=VALUE")]
    Missing(String),
    #[error("the runbook has no parameter `{name}` (it has: {known})")]
    Unknown { name: String, known: String },
    #[error(
        "the default of parameter `{param}` uses `${{{builtin}}}`, which this session does not supply; pass --param {param}=VALUE"
    )]
    BuiltinMissing { param: String, builtin: String },
}

/// The variables a run of `rb` starts with: the session's builtins plus
/// who runs it, the service and its resources, then the parameters.
pub fn run_values(
    rb: &Runbook,
    service: &ServiceSpec,
    supplied: &Variables,
    session_builtins: &Variables,
    operator: &str,
) -> Result<Variables, ParamError> {
    let mut builtins = with_service(session_builtins, service);
    builtins.insert("operator".into(), operator.to_string());
    parameter_values(rb, supplied, &builtins)
}

/// `builtins` with the service's id and its `${service.…}` variables added.
pub fn with_service(builtins: &Variables, service: &ServiceSpec) -> Variables {
    let mut all = builtins.clone();
    all.insert("service".into(), service.id.clone());
    all.extend(vars::service_variables(service));
    all
}

/// The variables a run starts with: builtins, then each parameter's
/// supplied value or its default.
pub fn parameter_values(
    rb: &Runbook,
    supplied: &Variables,
    builtins: &Variables,
) -> Result<Variables, ParamError> {
    if let Some(name) = supplied
        .keys()
        .find(|name| !rb.parameters.iter().any(|p| &p.name == *name))
    {
        let known: Vec<&str> = rb.parameters.iter().map(|p| p.name.as_str()).collect();
        return Err(ParamError::Unknown {
            name: name.clone(),
            known: if known.is_empty() {
                "none".into()
            } else {
                known.join(", ")
            },
        });
    }
    let mut values = builtins.clone();
    for p in &rb.parameters {
        let value = match (supplied.get(&p.name), &p.default) {
            (Some(v), _) => v.clone(),
            (None, Some(default)) => {
                vars::substitute(default, builtins, true).map_err(|builtin| {
                    ParamError::BuiltinMissing {
                        param: p.name.clone(),
                        builtin,
                    }
                })?
            }
            (None, None) => return Err(ParamError::Missing(p.name.clone())),
        };
        values.insert(p.name.clone(), value);
    }
    Ok(values)
}

/// The plan as text. Values captured during the run (say, a login token)
/// are shown as `${name}`.
pub fn render(rb: &Runbook, vars: &Variables) -> String {
    let mut out = Lines::default();
    out.line(format!("{} [service {}]", rb.name, rb.service));
    for line in rb.description.trim().lines() {
        out.line(format!("  {line}"));
    }
    out.line(format!(
        "  RTO {} · RPO {} · owner {} · last tested {}",
        human(rb.objectives.rto),
        human(rb.objectives.rpo),
        rb.owner,
        rb.last_tested
    ));
    if !rb.parameters.is_empty() {
        let shown: Vec<String> = rb
            .parameters
            .iter()
            .map(|p| {
                let value = vars.get(&p.name).map_or("(unset)", String::as_str);
                format!("{} = {value}", p.name)
            })
            .collect();
        out.line(format!("  parameters: {}", shown.join(", ")));
    }
    for (n, step) in rb.steps.iter().enumerate() {
        out.line("");
        render_step(&mut out, n + 1, step, vars);
    }
    let planned: Duration = rb.steps.iter().filter_map(|s| s.expect_within).sum();
    out.line("");
    out.line(format!(
        "{} steps · planned {} against an RTO of {}",
        rb.steps.len(),
        human(planned),
        human(rb.objectives.rto)
    ));
    out.0
}

/// The plan's text, one line at a time. Every line is made printable as it
/// is added (see [`printable`]): runbook text never reaches the terminal
/// raw, nor breaks into lines that pass for the plan's own.
#[derive(Default)]
struct Lines(String);

impl Lines {
    fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(&printable(text.as_ref()));
        self.0.push('\n');
    }
}

fn render_step(out: &mut Lines, n: usize, step: &Step, vars: &Variables) {
    let budget = step
        .expect_within
        .map(|d| format!(" · within {}", human(d)))
        .unwrap_or_default();
    let confirm = match &step.kind {
        StepKind::Action {
            action, confirm, ..
        } => {
            let target = vars::resolve(action, vars, false)
                .map(|a| a.target().to_string())
                .unwrap_or_else(|_| action.target().to_string());
            match confirm {
                super::format::Confirm::Yes => " · confirm: yes".to_string(),
                super::format::Confirm::Typed => format!(" · confirm: type `{target}`"),
                super::format::Confirm::TwoPerson => {
                    " · confirm: a second operator approves (shared store)".to_string()
                }
            }
        }
        _ => String::new(),
    };
    out.line(format!(
        "{n:>2}. {} [{}{confirm}{budget}]",
        step.id,
        step.kind.label()
    ));
    out.line(format!("    {}", step.title));
    if let Some(d) = &step.description {
        for line in d.trim().lines() {
            out.line(format!("    {}", line.trim_end()));
        }
    }
    let fill = |s: &str| vars::substitute(s, vars, false).unwrap_or_else(|_| s.to_string());
    match &step.kind {
        StepKind::Manual { instructions } => {
            out.line(format!("    do: {}", fill(instructions)));
        }
        StepKind::Check { conditions } => {
            for c in conditions {
                let c = vars::resolve(c, vars, false).unwrap_or_else(|_| c.clone());
                out.line(format!("    requires: {}", c.describe()));
            }
        }
        StepKind::Wait(wait) => {
            for c in &wait.until {
                let c = vars::resolve(c, vars, false).unwrap_or_else(|_| c.clone());
                out.line(format!("    until: {}", c.describe()));
            }
            out.line(format!(
                "    timeout {}, polling every {}",
                human(wait.timeout),
                human(wait.poll)
            ));
        }
        StepKind::Action { action, .. } => match vars::resolve(action, vars, false) {
            Ok(action) => {
                for line in action.describe().to_string().lines() {
                    out.line(format!("    {line}"));
                }
            }
            Err(e) => out.line(format!("    cannot render the call: {e}")),
        },
        StepKind::Http(http) => {
            let http = vars::resolve(http, vars, false).unwrap_or_else(|_| http.clone());
            out.line(format!("    {} {}", http.method.as_str(), http.url));
            for (name, value) in &http.headers {
                out.line(format!("    {name}: {value}"));
            }
            if let Some(body) = &http.json {
                out.line(format!("    body: {body}"));
            }
            let status = http
                .expect
                .status
                .map_or("any 2xx".to_string(), |s| s.to_string());
            let mut expect = format!("    expect {status}");
            if let Some(fragment) = &http.expect.body_contains {
                let _ = write!(expect, " with body containing {fragment:?}");
            }
            out.line(format!("{expect} within {}", human(http.timeout)));
            for (name, pointer) in &http.capture {
                out.line(format!("    capture ${{{name}}} from {pointer}"));
            }
        }
        StepKind::Notify { message } => {
            out.line(format!("    notify: {}", fill(message)));
        }
    }
}

fn human(d: Duration) -> String {
    crate::format::objective(d)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::runbook::format;

    fn runbook(name: &str) -> Runbook {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("runbooks")
            .join(name);
        format::load(&path).unwrap()
    }

    fn builtins() -> Variables {
        let session: Variables = [
            ("demo_app_url", "http://127.0.0.1:8080"),
            ("operator", "alice"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let demo = crate::config::environment_file::demo_environment();
        with_service(&session, demo.service("orders").unwrap())
    }

    #[test]
    fn failover_plan_shows_each_api_call_with_parameters_filled_in() {
        let rb = runbook("orders-unplanned-failover.yaml");
        let vars = parameter_values(&rb, &Variables::new(), &builtins()).unwrap();
        insta::assert_snapshot!(render(&rb, &vars));
    }

    #[test]
    fn supplied_parameters_override_defaults() {
        let rb = runbook("orders-unplanned-failover.yaml");
        let supplied = [("dr_region".to_string(), "eu-west-1".to_string())].into();
        let vars = parameter_values(&rb, &supplied, &builtins()).unwrap();
        assert!(render(&rb, &vars).contains("rds FailoverGlobalCluster (eu-west-1)"));
    }

    #[test]
    fn runbook_text_cannot_drive_the_terminal_or_forge_plan_lines() {
        // YAML's double-quoted escapes: \e is ESC, \a BEL, \u009b the C1 CSI.
        let yaml = r#"name: "Orders"
description: "\e[2Jcleared"
service: orders
objectives: { rto: 15m, rpo: 5m }
owner: "me\u009b31m"
last_tested: 2026-11-01
parameters:
  who: { default: "a\e[1Ab" }
steps:
  - id: tell
    title: "Tell\n    rds FailoverGlobalCluster (us-west-2)"
    notify: "${who} \r\e[Kdone"
"#;
        let rb = format::parse(Path::new("hostile.yaml"), yaml).unwrap();
        let vars = parameter_values(&rb, &Variables::new(), &Variables::new()).unwrap();
        let plan = render(&rb, &vars);
        assert!(
            !plan.contains(|c: char| c.is_control() && c != '\n'),
            "{plan:?}"
        );
        assert!(
            plan.starts_with("Orders [service orders]\n  [2Jcleared\n"),
            "{plan}"
        );
        assert!(plan.contains("owner me31m ·"), "{plan}");
        assert!(
            plan.contains("    Tell     rds FailoverGlobalCluster (us-west-2)\n"),
            "the title stays on its own line: {plan}"
        );
        assert!(plan.contains("    notify: a[1Ab  [Kdone\n"), "{plan}");
    }

    #[test]
    fn parameter_problems_are_explained() {
        let rb = runbook("orders-unplanned-failover.yaml");
        let unknown = [("region".to_string(), "x".to_string())].into();
        assert_eq!(
            parameter_values(&rb, &unknown, &builtins())
                .unwrap_err()
                .to_string(),
            "the runbook has no parameter `region` (it has: app_url, dr_region, primary_region)"
        );
        let err = parameter_values(&rb, &Variables::new(), &Variables::new()).unwrap_err();
        assert_eq!(
            err,
            ParamError::BuiltinMissing {
                param: "app_url".into(),
                builtin: "demo_app_url".into()
            }
        );
    }
}
