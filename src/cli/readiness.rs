//! `drconsole readiness`: the DR checklist once, as a table, JSON or
//! Markdown, exiting non-zero when a check fails (or warns, with
//! `--strict`) so a pipeline can block a deploy on it.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::Args;
use serde::Serialize;

use crate::domain::environment::Environment;
use crate::monitor;
use crate::provider::Provider;
use crate::readiness::facts::{Configuration, FailedConfigSource};
use crate::readiness::{self, Inputs, Readiness, Settings, Status, load};
use crate::runbook::library;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReadinessFormat {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Args)]
pub struct ReadinessArgs {
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReadinessFormat,
    /// Exit non-zero on warnings too, not only on failures.
    #[arg(long)]
    pub strict: bool,
    /// Automated backup retention below this many days fails.
    #[arg(long, value_name = "DAYS", default_value_t = Settings::default().min_retention_days,
          value_parser = clap::value_parser!(u32).range(1..=35))]
    pub min_retention_days: u32,
}

/// What a readiness run reads besides the provider.
pub struct ReadinessContext {
    pub environment: Environment,
    pub provider: Provider,
    pub runbooks_dir: PathBuf,
    pub journal_dir: PathBuf,
    pub poll_interval: std::time::Duration,
}

/// The evaluation and what could not be read for it.
#[derive(Debug, Clone, Serialize)]
pub struct ReadinessReport {
    pub provider: String,
    #[serde(flatten)]
    pub readiness: Readiness,
    pub strict: bool,
    /// Observation sources whose poll failed.
    pub failed_sources: Vec<String>,
    pub failed_configuration: Vec<FailedConfigSource>,
    /// Runbooks that did not parse and journals that could not be read.
    pub unreadable: Vec<String>,
}

pub async fn run(args: &ReadinessArgs, ctx: ReadinessContext) -> ExitCode {
    let observe = ctx.provider.observe.as_ref();
    let (state, readings) = tokio::join!(
        monitor::observe_once(observe, ctx.poll_interval),
        observe.configuration()
    );
    let configuration = Configuration::from_readings(&readings);
    let (runbooks, mut unreadable) = library::load_dir(&ctx.runbooks_dir);
    let (runs, journal_problems) = load::runs(&ctx.journal_dir);
    unreadable.extend(journal_problems);
    let now = observe.now();
    let readiness = readiness::evaluate(&Inputs {
        environment: &ctx.environment,
        observed: state.merged(),
        configuration: &configuration,
        runbooks: &runbooks,
        runs: &runs,
        drills: None,
        shared_store_region: None,
        now,
        settings: Settings {
            min_retention_days: args.min_retention_days,
            ..Settings::default()
        },
    });
    let failed_sources = state
        .sources()
        .iter()
        .filter_map(|(source, status)| {
            let failure = status.last_error.as_ref()?;
            (status.consecutive_failures > 0).then(|| format!("{source}: {}", failure.error))
        })
        .collect();
    let report = ReadinessReport {
        provider: ctx.provider.kind.label().to_string(),
        readiness,
        strict: args.strict,
        failed_sources,
        failed_configuration: configuration.failed,
        unreadable,
    };
    print!("{}", report.render(args.format));
    report.exit_code()
}

impl ReadinessReport {
    pub fn exit_code(&self) -> ExitCode {
        match self.readiness.status {
            Status::Fail => ExitCode::from(1),
            Status::Warn if self.strict => ExitCode::from(1),
            _ => ExitCode::SUCCESS,
        }
    }

    pub fn render(&self, format: ReadinessFormat) -> String {
        match format {
            ReadinessFormat::Json => {
                let mut s = serde_json::to_string_pretty(self)
                    .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise report: {e}\"}}"));
                s.push('\n');
                s
            }
            ReadinessFormat::Table => self.table(),
            ReadinessFormat::Markdown => self.markdown(),
        }
    }

    fn heading(&self) -> String {
        format!(
            "{} ({}) readiness at {}",
            self.readiness.environment,
            self.provider,
            stamp(self.readiness.evaluated_at)
        )
    }

    fn problems(&self) -> Vec<String> {
        self.failed_sources
            .iter()
            .map(|s| format!("observation source {s}"))
            .chain(
                self.failed_configuration
                    .iter()
                    .map(|f| format!("configuration source {}: {}", f.source, f.error)),
            )
            .chain(self.unreadable.iter().map(|u| format!("unreadable: {u}")))
            .collect()
    }

    fn verdict(&self) -> &'static str {
        match (self.readiness.status, self.readiness.services.is_empty()) {
            (_, true) => "no services to check: name them in an environment file (--env)",
            (Status::Fail, _) => "NOT READY: some checks fail",
            (Status::Warn, _) if self.strict => "NOT READY (strict): some checks warn",
            (Status::Warn, _) => "ready, with warnings",
            (Status::Pass, _) => "ready: every check passes",
        }
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.heading());
        let rows: Vec<[String; 4]> = self
            .readiness
            .services
            .iter()
            .flat_map(|s| {
                s.checks.iter().map(move |c| {
                    [
                        s.service_id.clone(),
                        c.status.label().to_string(),
                        format!("{}: {}", c.area.label(), c.name),
                        c.evidence.clone(),
                    ]
                })
            })
            .collect();
        let header = ["SERVICE", "STATUS", "CHECK", "EVIDENCE"];
        let mut widths = header.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row).take(3) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: [&str; 4]| {
            let text: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect();
            text.join("  ").trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(header));
        let mut last_service = "";
        for (row, check) in rows
            .iter()
            .zip(self.readiness.services.iter().flat_map(|s| s.checks.iter()))
        {
            let service = if row[0] == last_service { "" } else { &row[0] };
            last_service = &row[0];
            let _ = writeln!(out, "{}", line([service, &row[1], &row[2], &row[3]]));
            if !check.fix.is_empty() {
                let pad = widths[0] + widths[1] + 4;
                let _ = writeln!(out, "{:pad$}  fix: {}", "", check.fix);
            }
        }
        for s in &self.readiness.services {
            let _ = writeln!(
                out,
                "{}: {} ({} fail, {} warn, {} pass)",
                s.service_id,
                s.status.label(),
                s.failures,
                s.warnings,
                s.passed
            );
        }
        for p in self.problems() {
            let _ = writeln!(out, "{p}");
        }
        let _ = writeln!(out, "{}", self.verdict());
        out
    }

    fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {}\n", self.heading());
        let _ = writeln!(
            out,
            "**{}** — {}\n",
            self.verdict(),
            self.readiness.summary()
        );
        for s in &self.readiness.services {
            let _ = writeln!(
                out,
                "## {} ({}) — {}\n",
                cell(&s.service_name),
                cell(&s.service_id),
                s.status.label()
            );
            let _ = writeln!(out, "| status | area | check | evidence | fix |");
            let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
            for c in &s.checks {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} |",
                    c.status.label(),
                    c.area.label(),
                    cell(&c.name),
                    cell(&c.evidence),
                    cell(&c.fix)
                );
            }
            out.push('\n');
        }
        let problems = self.problems();
        if !problems.is_empty() {
            let _ = writeln!(out, "## Not read\n");
            for p in problems {
                let _ = writeln!(out, "- {}", cell(&p));
            }
        }
        out
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Text safe inside a Markdown table cell: pipes escaped, one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}
