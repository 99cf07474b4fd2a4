//! The drill report as files: Markdown for people, JSON for scripts, both
//! written to the drills directory of the data directory, and read back by
//! `drill history`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::score::{Report, StepResult};
use crate::format::{objective, short_duration};

fn maybe(d: Option<Duration>) -> String {
    d.map_or("—".to_string(), short_duration)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

/// Text from files and the provider, kept to one Markdown table cell.
fn cell(text: &str) -> String {
    crate::format::printable(text).replace('|', "\\|")
}

pub fn markdown(r: &Report) -> String {
    let mut md = String::new();
    let offset =
        |at: DateTime<Utc>| short_duration((at - r.started_at).to_std().unwrap_or_default());
    let _ = writeln!(md, "# Drill report: {}\n", cell(&r.scenario));
    let _ = writeln!(
        md,
        "**{}** — {} · service `{}` · started {} · ended after {} ({})\n",
        if r.passed { "PASSED" } else { "FAILED" },
        cell(&r.file.display().to_string()),
        cell(&r.service),
        r.started_at.format("%Y-%m-%d %H:%M:%SZ"),
        offset(r.ended_at),
        cell(&r.end.label()),
    );
    let _ = writeln!(md, "| measure | actual | objective | |\n|---|---|---|---|");
    let _ = writeln!(
        md,
        "| RTO (outage start → UP) | {} | {} | {} |",
        maybe(r.rto_s),
        r.rto_objective_s.map_or("—".into(), objective),
        verdict(r.rto_met)
    );
    let _ = writeln!(
        md,
        "| RPO (writes lost) | {} writes, {} | {} | {} |",
        r.lost_writes,
        maybe(r.rpo_s),
        r.rpo_objective_s.map_or("—".into(), objective),
        verdict(r.rpo_met)
    );
    let _ = writeln!(
        md,
        "| failover | {} promotion(s) | {} | {} |",
        r.promotions,
        r.failover_expected.label(),
        verdict(r.failover_ok)
    );
    let _ = writeln!(md, "| time to detect | {} | | |", maybe(r.time_to_detect_s));
    let _ = writeln!(md, "| time to decide | {} | | |", maybe(r.time_to_decide_s));
    let _ = writeln!(
        md,
        "| data at risk at decision | {} | | |",
        r.data_at_risk_at_decision
            .as_deref()
            .map_or("—".into(), cell)
    );
    let _ = writeln!(md, "| manual interventions | {} | | |", r.interventions);
    let _ = writeln!(md, "| retries | {} | | |\n", r.retries);

    let _ = writeln!(md, "## Timeline\n");
    for m in &r.timeline {
        let _ = writeln!(md, "- T+{} {:?}: {}", offset(m.at), m.kind, cell(&m.what));
    }
    let _ = writeln!(
        md,
        "\n## Steps\n\n| step | kind | planned | actual | state |\n|---|---|---|---|---|"
    );
    for s in &r.steps {
        let _ = writeln!(md, "{}", step_row(s));
    }
    for (title, list) in [
        ("Overrides", &r.overrides),
        ("Against the guardrails", &r.against_guardrails),
        ("Skipped", &r.skipped),
    ] {
        if !list.is_empty() {
            let _ = writeln!(md, "\n## {title}\n");
            for o in list {
                let _ = writeln!(md, "- `{}`: {}", cell(&o.step), cell(&o.reason));
            }
        }
    }
    if !r.out_of_order.is_empty() {
        let _ = writeln!(md, "\n## Out of order\n");
        for s in &r.out_of_order {
            let _ = writeln!(md, "- `{}`", cell(s));
        }
    }
    let _ = writeln!(md, "\n## Findings\n");
    if r.findings.is_empty() {
        let _ = writeln!(md, "- none");
    }
    for f in &r.findings {
        let _ = writeln!(md, "- {}", cell(f));
    }
    md
}

fn step_row(s: &StepResult) -> String {
    format!(
        "| `{}` {} | {} | {} | {}{} | {} |",
        cell(&s.id),
        cell(&s.title),
        s.kind,
        maybe(s.planned_s),
        maybe(s.actual_s),
        if s.overran() { " (over)" } else { "" },
        cell(&s.state)
    )
}

/// Where a drill's report goes: `<data dir>/drills/`.
pub fn reports_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("drills")
}

/// Writes `report` as `<stem>.md` and `<stem>.json` in `dir`; returns the
/// Markdown file's path.
pub fn write(report: &Report, dir: &Path) -> std::io::Result<PathBuf> {
    crate::config::paths::create_private_dir(dir)?;
    let slug: String = report
        .scenario
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|w| !w.is_empty())
        .take(8)
        .collect::<Vec<_>>()
        .join("-");
    let stem = format!(
        "{}-{slug}-{}",
        report.started_at.format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
    std::fs::write(dir.join(format!("{stem}.json")), json)?;
    let md = dir.join(format!("{stem}.md"));
    std::fs::write(&md, markdown(report))?;
    Ok(md)
}

/// What `drill history` shows of one report.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Past {
    pub scenario: String,
    pub started_at: DateTime<Utc>,
    pub rto_s: Option<f64>,
    pub lost_writes: u64,
    pub rpo_s: Option<f64>,
    pub passed: bool,
}

/// Every report in `dir`, oldest first; files that are not reports are
/// listed as problems, not fatal.
pub fn history(dir: &Path) -> std::io::Result<(Vec<Past>, Vec<String>)> {
    let mut past = Vec::new();
    let mut problems = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((past, problems)),
        Err(e) => return Err(e),
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let read = crate::config::source_file::read_text(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| serde_json::from_str::<Past>(&text).map_err(|e| e.to_string()));
        match read {
            Ok(p) => past.push(p),
            Err(e) => problems.push(format!("{}: {e}", path.display())),
        }
    }
    past.sort_by_key(|p| p.started_at);
    Ok((past, problems))
}

/// The history as a table.
pub fn history_table(past: &[Past]) -> String {
    let secs = |s: Option<f64>| {
        s.filter(|s| s.is_finite() && *s >= 0.0)
            .map_or("—".to_string(), |s| {
                short_duration(Duration::from_secs_f64(s.min(1e9)))
            })
    };
    let mut out = format!(
        "{:<20}  {:<44}  {:>8}  {:>18}  {}\n",
        "DATE", "SCENARIO", "RTO", "RPO", "RESULT"
    );
    for p in past {
        let _ = writeln!(
            out,
            "{:<20}  {:<44}  {:>8}  {:>18}  {}",
            p.started_at.format("%Y-%m-%d %H:%M"),
            crate::format::printable(&p.scenario)
                .chars()
                .take(44)
                .collect::<String>(),
            secs(p.rto_s),
            format!("{} ({})", secs(p.rpo_s), p.lost_writes),
            if p.passed { "passed" } else { "FAILED" }
        );
    }
    out
}
