//! The selected service in full: objectives, posture and why, each side of
//! it (availability and its clock, the writer, RPO exposure, PITR), where
//! the data came from, each region's checks, the replication topology as
//! observed, backups and DNS; each check's checker regions when read
//! (checkers.rs), and the AWS API budget (budget.rs). The same lines,
//! without the budget, fill the room under a run or a runbook (run.rs).
//!
//! ```text
//! Objectives  RTO 15m · RPO 5m · warm standby: can meet RTO (best case 5m)
//! Posture     UNPROTECTED: the worse of RTO side OK and RPO side UNPROTECTED
//! Available   UP since 12:31:02 (2m10s) · serving from us-west-2, writer in us-west-2, …
//! Writer      us-west-2 (orders-secondary)
//! RPO exp.    — · no copy outside us-west-2; orders-primary resyncing
//! PITR        1m12s behind in us-west-2 (bound 15m): undoes logical errors, not a region loss
//! Replication aurora global orders-global
//!               orders-secondary (writer, us-west-2) available
//!               orders-primary (resyncing, us-east-1) inaccessible
//! ```

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::cells::{
    age_label, availability_label, availability_style, chart_top, health_label, health_style,
    lag_chart, maybe_duration, objective, stale_label, verdict_style,
};
use super::fit::wrap;
use crate::domain::environment::Replication;
use crate::domain::exposure::PITR_BOUND;
use crate::domain::incident::Basis;
use crate::domain::posture::{ExposureSource, Verdict};
use crate::domain::snapshot::FailoverRole;
use crate::domain::topology::MemberRole;
use crate::format::short_duration;
use crate::tui::state::{App, Focus};
use crate::tui::view::{RegionRole, ServiceRow};

const LABEL_WIDTH: usize = 12;
/// Lag history bars at most: the monitor keeps this many samples.
const CHART_MAX_WIDTH: usize = crate::monitor::history::DEFAULT_CAPACITY;
/// The lag chart's height at most, however much room the pane has.
const CHART_MAX_ROWS: usize = 24;

/// Which pane the service's lines are for, each with its own order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pane {
    /// The dashboard's detail: everything, in the table's order.
    Detail,
    /// Under a run or a runbook: DNS, which a failover repoints, comes
    /// before the backups, so a short pane keeps what the run changes; the
    /// API budget is the console's own cost, left to the dashboard.
    Run,
}

/// Lines the pane wants at `width` (its inside), to size it.
pub fn line_count(app: &App, width: u16) -> u16 {
    let Some(row) = app.selected_row() else {
        return 1;
    };
    u16::try_from(wrapped(app, row, Pane::Detail, width, 1).len()).unwrap_or(u16::MAX)
}

/// The service a run acts on as observed now, for the room under a run
/// or a runbook (run.rs): the detail's own lines, its lag history drawn
/// taller to fill a tall `area`.
pub fn beside_run(app: &App, row: &ServiceRow, area: Rect) -> Vec<Line<'static>> {
    content(app, row, Pane::Run, area)
}

/// The pane's lines wrapped to `width`: the detail shows every value whole
/// (a hostname, an error), so a line too long wraps under its value.
fn wrapped(
    app: &App,
    row: &ServiceRow,
    pane: Pane,
    width: u16,
    chart_rows: usize,
) -> Vec<Line<'static>> {
    lines(app, row, pane, width, chart_rows)
        .into_iter()
        .flat_map(|line| {
            let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
            let lead = text.len() - text.trim_start().len();
            let hang = if lead > 0 { lead } else { LABEL_WIDTH } + 2;
            wrap(line, usize::from(width), hang)
        })
        .collect()
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let style = &app.theme.style;
    let name = app
        .selected_row()
        .map_or_else(String::new, |r| r.posture.service_name.clone());
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if app.focus == Focus::Detail && app.detail_open {
            style.title
        } else {
            style.border
        })
        .title(Span::styled(format!(" {name} "), style.title));
    let content = match app.selected_row() {
        Some(row) => content(app, row, Pane::Detail, area),
        None => vec![Line::styled("no service selected", style.muted)],
    };
    frame.render_widget(
        Paragraph::new(content)
            .block(block)
            .scroll((app.detail_scroll, 0)),
        area,
    );
}

/// The pane's lines for `area`: a pane taller than its text (under a short
/// table) draws the lag history taller, not blank lines.
fn content(app: &App, row: &ServiceRow, pane: Pane, area: Rect) -> Vec<Line<'static>> {
    let width = area.width.saturating_sub(2);
    let lines = wrapped(app, row, pane, width, 1);
    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(lines.len());
    if room == 0 {
        return lines;
    }
    wrapped(app, row, pane, width, 1 + room.min(CHART_MAX_ROWS - 1))
}

pub(super) fn label(text: &str, app: &App) -> Span<'static> {
    Span::styled(format!("{text:<LABEL_WIDTH$}"), app.theme.style.muted)
}

pub(super) fn indent() -> Span<'static> {
    Span::raw(" ".repeat(LABEL_WIDTH))
}

fn lines(
    app: &App,
    row: &ServiceRow,
    pane: Pane,
    width: u16,
    chart_rows: usize,
) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    objectives(app, row, &mut out);
    if pane == Pane::Run && !out.is_empty() {
        // The verdict and availability lead: a pane of a few lines under
        // a run says first whether the service is up, then its objectives.
        let objectives = out.remove(0);
        out.push(objectives);
    }
    data(app, row, &mut out);
    // Bars for the lag history: what fits after the label and the scale
    // (` ┤ 12m10s`, eleven columns with room to spare), so the chart's top
    // line never wraps.
    let chart = Chart {
        width: usize::from(width)
            .saturating_sub(LABEL_WIDTH + 11)
            .clamp(10, CHART_MAX_WIDTH),
        rows: chart_rows,
    };
    regions(app, row, &mut out);
    replication(app, row, chart, &mut out);
    match pane {
        Pane::Detail => {
            backups(app, row, &mut out);
            dns(app, row, &mut out);
            out.extend(super::budget::lines(app));
        }
        Pane::Run => {
            dns(app, row, &mut out);
            backups(app, row, &mut out);
        }
    }
    out
}

fn objectives(app: &App, row: &ServiceRow, out: &mut Vec<Line<'static>>) {
    let style = &app.theme.style;
    let p = &row.posture;
    let fit = if p.tier_meets_rto {
        Span::styled("can meet RTO", style.ok)
    } else {
        Span::styled("cannot meet RTO", style.breach)
    };
    out.push(Line::from(vec![
        label("Objectives", app),
        Span::styled(
            format!(
                "RTO {} · RPO {} · {}: ",
                objective(p.objectives.rto),
                objective(p.objectives.rpo),
                p.tier.label(),
            ),
            style.text,
        ),
        fit,
        Span::styled(
            format!(" (best case {})", objective(p.tier.best_case_rto())),
            style.muted,
        ),
    ]));
    let judged = |s: Style| if row.freshness.stale { style.stale } else { s };
    let mut verdict = vec![
        label("Posture", app),
        Span::styled(
            if row.freshness.stale {
                format!("{} (last known)", p.overall.label())
            } else {
                p.overall.label().to_string()
            },
            judged(verdict_style(&app.theme, p.overall)),
        ),
        Span::styled(": the worse of RTO side ", style.muted),
        Span::styled(
            p.rto_side.verdict.label(),
            judged(verdict_style(&app.theme, p.rto_side.verdict)),
        ),
        Span::styled(" and RPO side ", style.muted),
        Span::styled(p.rpo.label(), judged(verdict_style(&app.theme, p.rpo))),
    ];
    if !p.tier_meets_rto {
        verdict.push(Span::styled(
            " · the tier cannot meet the RTO",
            judged(style.breach),
        ));
    }
    out.push(Line::from(verdict));
    availability(app, row, out);
    let writer = match (&p.writer_region, &p.topology) {
        (Some(region), Some(t)) => {
            let id = t
                .writer(p.serving_region.as_deref())
                .map(|m| format!(" ({})", m.id))
                .unwrap_or_default();
            Span::styled(format!("{region}{id}"), judged(style.text))
        }
        (None, Some(_)) => Span::styled("none: no database takes writes", judged(style.breach)),
        (_, None) => Span::styled("— (no database)", style.muted),
    };
    out.push(Line::from(vec![label("Writer", app), writer]));
    let share = p
        .rpo_exposure()
        .filter(|_| !p.objectives.rpo.is_zero())
        .map(|e| {
            format!(
                " ({:.0}% of RPO)",
                100.0 * e.as_secs_f64() / p.objectives.rpo.as_secs_f64()
            )
        })
        .unwrap_or_default();
    let source = match p.rpo_side.source {
        ExposureSource::ReplicationLag => "replica lag",
        ExposureSource::BackupCopy => "backup copy",
        ExposureSource::None => "",
    };
    out.push(Line::from(vec![
        label("RPO exp.", app),
        Span::styled(
            format!("{}{share}", maybe_duration(p.rpo_exposure())),
            judged(verdict_style(&app.theme, p.rpo)),
        ),
        Span::styled(
            if source.is_empty() {
                format!(" · {}", p.rpo_side.reason)
            } else {
                format!(" {source} · {}", p.rpo_side.reason)
            },
            judged(style.text),
        ),
    ]));
    if let Some(topology) = &p.topology {
        let region = p
            .writer_region
            .as_deref()
            .or(topology.role_holder().map(|m| m.region.as_str()))
            .unwrap_or("the writer's region");
        out.push(Line::from(vec![
            label("PITR", app),
            Span::styled(
                match p.rpo_side.pitr_age {
                    Some(age) => format!("{} behind", short_duration(age)),
                    None => "not reported".to_string(),
                },
                judged(verdict_style(&app.theme, p.rpo_side.pitr_verdict)),
            ),
            Span::styled(
                format!(
                    " in {region} (bound {}): undoes logical errors, not a region loss",
                    objective(PITR_BOUND)
                ),
                style.muted,
            ),
        ]));
    }
    for reason in p
        .why
        .iter()
        .filter(|w| !w.starts_with("RTO: ") && !w.starts_with("RPO: "))
    {
        out.push(Line::from(vec![
            indent(),
            Span::styled(reason.clone(), judged(style.text)),
        ]));
    }
}

/// `DOWN since 12:25:23 · out 4m30s of RTO 15m`, then why.
fn availability(app: &App, row: &ServiceRow, out: &mut Vec<Line<'static>>) {
    let style = &app.theme.style;
    let p = &row.posture;
    let rto = &p.rto_side;
    let judged = |s: Style| if row.freshness.stale { style.stale } else { s };
    let mut spans = vec![
        label("Available", app),
        Span::styled(
            availability_label(rto.availability),
            judged(availability_style(&app.theme, rto.availability)),
        ),
    ];
    if let Some(since) = rto.since {
        // A state already so at the first poll may be older than that.
        let (before, at_least) = if rto.since_basis == Some(Basis::FirstObservation) {
            ("before ", "at least ")
        } else {
            ("", "")
        };
        spans.push(Span::styled(
            format!(
                " since {before}{} ({at_least}{})",
                since.format("%H:%M:%S"),
                age_label((app.now - since).to_std().unwrap_or_default())
            ),
            judged(style.text),
        ));
    }
    if let (Some(incident), Some(clock)) = (&rto.incident, rto.exposure) {
        let start = if rto.since == Some(incident.start) {
            String::new()
        } else {
            format!(
                " since {}{}",
                incident.start.format("%H:%M:%S"),
                if incident.start_basis == Basis::Declared {
                    " (declared)"
                } else {
                    ""
                }
            )
        };
        spans.push(Span::styled(
            format!(" · out{start} {}", age_label(clock)),
            judged(verdict_style(&app.theme, rto.verdict)),
        ));
        spans.push(Span::styled(
            format!(" of RTO {}", objective(p.objectives.rto)),
            style.muted,
        ));
    }
    out.push(Line::from(spans));
    out.push(Line::from(vec![
        indent(),
        Span::styled(rto.reason.clone(), judged(style.text)),
    ]));
    if let Some(last) = rto
        .last_incident
        .as_ref()
        .filter(|_| rto.incident.is_none())
        && let Some(end) = last.end
    {
        out.push(Line::from(vec![
            indent(),
            Span::styled(
                format!(
                    "last incident {}–{}: restored after {}",
                    last.start.format("%H:%M:%S"),
                    end.format("%H:%M:%S"),
                    age_label((end - last.start).to_std().unwrap_or_default())
                ),
                style.muted,
            ),
        ]));
    }
}

fn data(app: &App, row: &ServiceRow, out: &mut Vec<Line<'static>>) {
    let style = &app.theme.style;
    let f = &row.freshness;
    let mut spans = vec![label("Data", app)];
    if f.stale {
        spans.push(Span::styled(stale_label(f), style.stale));
        if let Some(source) = &f.source {
            spans.push(Span::styled(format!(" from {source}"), style.stale));
            let failure = app
                .monitor
                .sources()
                .get(source)
                .and_then(|s| s.last_error.as_ref())
                .filter(|_| f.error.is_some());
            if let Some(failure) = failure {
                spans.push(Span::styled(
                    format!(
                        " · {}: {} ({} ago)",
                        failure.error.kind.label(),
                        failure.error.message,
                        short_duration((app.now - failure.at).to_std().unwrap_or_default())
                    ),
                    style.stale,
                ));
            }
        }
    } else {
        spans.push(Span::styled(
            match f.age {
                Some(age) => format!("current, taken {}", age_ago(age)),
                None => "no data yet".to_string(),
            },
            style.text,
        ));
    }
    out.push(Line::from(spans));
}

fn age_ago(age: std::time::Duration) -> String {
    match age_label(age).as_str() {
        "now" => "just now".to_string(),
        label => format!("{label} ago"),
    }
}

fn regions(app: &App, row: &ServiceRow, out: &mut Vec<Line<'static>>) {
    let theme = &app.theme;
    let style = &theme.style;
    let mut first = true;
    for region in row.regions.iter().flatten() {
        let role = match region.role {
            RegionRole::Primary => "primary",
            RegionRole::Dr => "DR",
        };
        let serving = row.posture.serving_region.as_deref() == Some(region.region.as_str());
        out.push(Line::from(vec![
            if first {
                label("Regions", app)
            } else {
                indent()
            },
            Span::styled(format!("{:<12} {role:<8} ", region.region), style.text),
            Span::styled(
                health_label(region.health),
                health_style(theme, region.health),
            ),
            Span::styled(if serving { "  ◀ serving" } else { "" }, style.ok),
        ]));
        first = false;
        for check in &region.checks {
            let mut flags = String::new();
            if check.disabled {
                flags.push_str(" disabled");
            }
            if check.inverted {
                flags.push_str(" inverted");
            }
            out.push(Line::from(vec![
                indent(),
                Span::styled(format!("  {} ", check.id), style.text),
                Span::styled(
                    health_label(check.status),
                    health_style(theme, check.status),
                ),
                Span::styled(
                    format!(
                        " {}/{} checkers · threshold {}{flags}",
                        check.checkers_healthy, check.checkers_total, check.failure_threshold
                    ),
                    style.text,
                ),
                Span::styled(format!(" · {}", check.fqdn), style.muted),
            ]));
            out.extend(super::checkers::lines(app, &check.id, row.freshness.stale));
        }
        if region.checks.is_empty() {
            let why = if region.configured_checks == 0 {
                "  no health check configured"
            } else {
                "  health checks not observed"
            };
            out.push(Line::from(vec![indent(), Span::styled(why, style.muted)]));
        }
    }
}

/// How large the lag history is drawn.
#[derive(Debug, Clone, Copy)]
struct Chart {
    width: usize,
    rows: usize,
}

fn replication(app: &App, row: &ServiceRow, chart: Chart, out: &mut Vec<Line<'static>>) {
    let style = &app.theme.style;
    let Some(service) = app.environment.service(&row.posture.service_id) else {
        return;
    };
    let what = match &service.replication {
        Replication::AuroraGlobal { global_cluster, .. } => {
            format!("aurora global {global_cluster}")
        }
        Replication::RdsReplica { .. } => "rds read replica".to_string(),
        Replication::S3 {
            source_bucket,
            destination_bucket,
        } => format!("s3 replication: {source_bucket} → {destination_bucket}"),
        Replication::Backup { .. } => "none: backups only".to_string(),
    };
    out.push(Line::from(vec![
        label("Replication", app),
        Span::styled(what, style.text),
    ]));
    // The members as observed now: roles follow a failover or promotion.
    if let Some(topology) = &row.posture.topology {
        for m in &topology.members {
            let role_style = match m.role {
                MemberRole::Writer | MemberRole::Standalone if m.accepts_writes() => style.ok,
                MemberRole::Replica => style.text,
                _ => style.at_risk,
            };
            out.push(Line::from(vec![
                indent(),
                Span::styled(format!("  {} ", m.id), style.text),
                Span::styled(
                    format!("({}, {})", m.role.label(), m.region),
                    if row.freshness.stale {
                        style.stale
                    } else {
                        role_style
                    },
                ),
                Span::styled(format!(" {}", m.status), style.muted),
            ]));
        }
        if topology.members.is_empty() {
            out.push(Line::from(vec![
                indent(),
                Span::styled("  databases not observed", style.muted),
            ]));
        }
    }
    let Some(lag) = &row.lag else {
        return;
    };
    let rpo = row.posture.objectives.rpo;
    let stale = row.freshness.stale;
    let obs = lag.observed.as_ref();
    let mut spans = vec![
        indent(),
        Span::styled("lag ", style.muted),
        Span::styled(
            maybe_duration(obs.and_then(|o| o.lag)),
            if stale {
                style.stale
            } else {
                verdict_style(&app.theme, Verdict::of(lag.current, rpo))
            },
        ),
    ];
    if let Some(rpo_lag) = obs.and_then(|o| o.rpo_lag) {
        spans.push(Span::styled(
            format!(" · RPO lag {}", short_duration(rpo_lag)),
            style.text,
        ));
    }
    if let Some(pending) = obs.and_then(|o| o.pending_operations) {
        spans.push(Span::styled(
            format!(" · {pending} operations pending"),
            style.text,
        ));
    }
    if let Some(h) = app.monitor.lag_history(&lag.resource_id)
        && let Some(peak) = h.max_seconds()
    {
        spans.push(Span::styled(
            format!(
                " · peak {} over {} samples",
                short_duration(std::time::Duration::from_secs_f64(peak.max(0.0))),
                h.len()
            ),
            style.muted,
        ));
    }
    out.push(Line::from(spans));
    let history = app.monitor.lag_history(&lag.resource_id);
    let bars = lag_chart(&app.theme, history, rpo, chart.width, chart.rows, stale);
    let tall = bars.len() > 1;
    for (i, spans) in bars.into_iter().enumerate() {
        let mut line: Vec<Span<'static>> = std::iter::once(indent()).chain(spans).collect();
        // A tall chart says its scale, so a low one reads as low lag.
        if tall && i == 0 {
            let top = short_duration(chart_top(history, rpo, chart.width, chart.rows));
            line.push(Span::styled(format!(" ┤ {top}"), style.muted));
        }
        out.push(Line::from(line));
    }
}

fn backups(app: &App, row: &ServiceRow, out: &mut Vec<Line<'static>>) {
    let style = &app.theme.style;
    if row.backups.is_empty() {
        out.push(Line::from(vec![
            label("Backups", app),
            Span::styled("none observed", style.muted),
        ]));
        return;
    }
    for (i, b) in row.backups.iter().enumerate() {
        // Against the PITR bound, as the PITR line: a backup is not the
        // copy the RPO is judged on.
        let verdict = Verdict::of(b.pitr_age, PITR_BOUND);
        out.push(Line::from(vec![
            if i == 0 {
                label("Backups", app)
            } else {
                indent()
            },
            Span::styled(format!("{}: ", b.resource_id), style.text),
            Span::styled(
                format!(
                    "PITR {} ago, snapshot {} ago",
                    maybe_duration(b.pitr_age),
                    maybe_duration(b.snapshot_age)
                ),
                if row.freshness.stale {
                    style.stale
                } else {
                    verdict_style(&app.theme, verdict)
                },
            ),
            Span::styled(
                format!(
                    ", {}d retention, {}",
                    b.retention_days,
                    if b.cross_region_copy {
                        "cross-region copy"
                    } else {
                        "no cross-region copy"
                    }
                ),
                style.text,
            ),
        ]));
    }
}

fn dns(app: &App, row: &ServiceRow, out: &mut Vec<Line<'static>>) {
    let style = &app.theme.style;
    let Some(d) = &row.dns else {
        out.push(Line::from(vec![
            label("DNS", app),
            Span::styled("no failover record", style.muted),
        ]));
        return;
    };
    if let Some(regions) = &d.rotation {
        latency(app, row, d, regions, out);
        return;
    }
    let serving = match d.serving {
        Some(FailoverRole::Primary) => "PRIMARY",
        Some(FailoverRole::Secondary) => "SECONDARY",
        None => "unknown",
    };
    out.push(Line::from(vec![
        label("DNS", app),
        Span::styled(
            format!("{} TTL {}s · serving ", d.record, d.ttl),
            style.text,
        ),
        Span::styled(
            format!(
                "{serving}{}",
                row.posture
                    .serving_region
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ),
            if row.freshness.stale {
                style.stale
            } else {
                style.ok
            },
        ),
    ]));
    for (role, configured) in [
        (FailoverRole::Primary, &d.primary_target),
        (FailoverRole::Secondary, &d.secondary_target),
    ] {
        let record = d.records.iter().find(|r| r.failover == Some(role));
        // What Route 53 holds now: a failover runbook may have repointed it.
        let target = record.map_or(configured, |r| &r.target);
        let check = record
            .and_then(|r| r.health_check_id.as_deref())
            .map(|id| format!(" (health check {id})"))
            .unwrap_or_default();
        let observed = if record.is_some() {
            ""
        } else {
            " · record not observed"
        };
        let marker = if d.serving == Some(role) { "▶" } else { " " };
        out.push(Line::from(vec![
            indent(),
            Span::styled(
                format!(
                    "{marker} {:<9} → {target}{check}{observed}",
                    match role {
                        FailoverRole::Primary => "PRIMARY",
                        FailoverRole::Secondary => "SECONDARY",
                    }
                ),
                style.text,
            ),
        ]));
    }
}

/// An active-active service's latency records: one line per region, in or
/// out of rotation, with the health check that decides it.
fn latency(
    app: &App,
    row: &ServiceRow,
    d: &crate::tui::view::DnsCell,
    regions: &[crate::domain::rotation::RegionRotation],
    out: &mut Vec<Line<'static>>,
) {
    let style = &app.theme.style;
    let serving: Vec<&str> = regions
        .iter()
        .filter(|r| r.in_rotation)
        .map(|r| r.region.as_str())
        .collect();
    let (summary, summary_style) = if serving.is_empty() {
        ("no region in rotation".to_string(), style.breach)
    } else if serving.len() < regions.len() {
        (format!("serving {}", serving.join(", ")), style.at_risk)
    } else {
        (format!("serving {}", serving.join(", ")), style.ok)
    };
    out.push(Line::from(vec![
        label("DNS", app),
        Span::styled(
            format!("{} TTL {}s · latency routing · ", d.record, d.ttl),
            style.text,
        ),
        Span::styled(
            summary,
            if row.freshness.stale {
                style.stale
            } else {
                summary_style
            },
        ),
    ]));
    for r in regions {
        let target = d
            .records
            .iter()
            .find(|rec| rec.failover.is_none() && rec.set_identifier == r.set_identifier)
            .filter(|_| r.set_identifier.is_some())
            .map_or("record not observed", |rec| rec.target.as_str());
        let check = r
            .record_health_check
            .as_deref()
            .map(|id| format!(" (health check {id})"))
            .unwrap_or_else(|| " (no health check on the record)".to_string());
        let (state, state_style) = if r.in_rotation {
            ("in rotation", style.ok)
        } else {
            ("OUT of rotation", style.breach)
        };
        let marker = if r.in_rotation { "▶" } else { " " };
        out.push(Line::from(vec![
            indent(),
            Span::styled(
                format!("{marker} {:<14} → {target}{check} · ", r.region),
                style.text,
            ),
            Span::styled(state, state_style),
        ]));
    }
}
