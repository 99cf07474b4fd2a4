//! The services × regions table: one row per service, columns chosen by the
//! width available (the detail pane shows whatever a narrow table leaves out).
//!
//! ```text
//!   Service          Availability        Writer    us-east-1       us-west-2       Lag            PITR         DNS serving   RPO exp     Posture
//! ▶ Orders API       DOWN 4m30s/15m      none      P  DOWN 0/16 t3 DR UP 16/16 t3  2m10s ▁▂▁▂▃▅█ 9m12s 35d    SECONDARY 60s 2m10s/5m    AT RISK
//!   Billing          UP                  us-east-1 P  UP 16/16 t3  DR UP 16/16 t3     2.0s ▁▁▂▁▁ 3m05s 7d xr  PRIMARY 60s   2.0s/15m    OK
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use super::cells::{
    age_label, availability_label, availability_style, health_label, health_style, maybe_duration,
    objective, sparkline, stale_label, verdict_style,
};
use crate::domain::availability::Availability;
use crate::domain::incident::Basis;
use crate::domain::posture::Verdict;
use crate::domain::snapshot::FailoverRole;
use crate::tui::state::{App, Focus};
use crate::tui::view::ServiceRow;

/// Columns, in the order they appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Service,
    /// Availability and, when not up, the RTO clock against the RTO.
    Availability,
    /// Where writes are accepted now.
    Writer,
    /// One per region of the environment.
    Region(usize),
    Lag,
    /// The writer's in-region PITR age, against its own bound.
    Pitr,
    Dns,
    Rpo,
    Posture,
}

const SPARK_WIDE: usize = 14;
const SPARK_NARROW: usize = 6;

/// The columns that fit a table, and how much each cell says.
struct Columns {
    list: Vec<(Column, u16)>,
    spark_width: usize,
    /// Region cells without the role and threshold.
    compact: bool,
}

impl Columns {
    fn fitting(width: u16, regions: usize) -> Columns {
        let lead = [
            (Column::Service, 16),
            (Column::Availability, 19),
            (Column::Writer, 9),
        ];
        let wide_regions = (0..regions).map(|i| (Column::Region(i), 15));
        let wide: Vec<(Column, u16)> = lead
            .into_iter()
            .chain(wide_regions.clone())
            .chain([
                (Column::Lag, 7 + SPARK_WIDE as u16),
                (Column::Pitr, 12),
                (Column::Dns, 13),
                (Column::Rpo, 11),
                (Column::Posture, 11),
            ])
            .collect();
        if total(&wide) <= width {
            return Columns {
                list: wide,
                spark_width: SPARK_WIDE,
                compact: false,
            };
        }
        let medium: Vec<(Column, u16)> = lead
            .into_iter()
            .chain(wide_regions)
            .chain([
                (Column::Lag, 7 + SPARK_NARROW as u16),
                (Column::Pitr, 12),
                (Column::Rpo, 11),
                (Column::Posture, 11),
            ])
            .collect();
        if total(&medium) <= width {
            return Columns {
                list: medium,
                spark_width: SPARK_NARROW,
                compact: false,
            };
        }
        // Availability stands in for the region cells (the detail has them).
        let narrow = vec![
            (Column::Service, 15),
            (Column::Availability, 14),
            (Column::Writer, 9),
            (Column::Lag, 7 + SPARK_NARROW as u16),
            (Column::Rpo, 10),
            (Column::Posture, 11),
        ];
        Columns {
            list: narrow,
            spark_width: SPARK_NARROW,
            compact: true,
        }
    }
}

fn total(cols: &[(Column, u16)]) -> u16 {
    cols.iter()
        .map(|(_, w)| w + 1)
        .sum::<u16>()
        .saturating_sub(1)
}

/// The rows' area inside the table's border and heading.
pub fn body_area(table: Rect) -> Rect {
    let inner = table.inner(Margin::new(1, 1));
    Rect {
        y: inner.y.saturating_add(1),
        height: inner.height.saturating_sub(1),
        ..inner
    }
}

/// The first row shown: the list scrolls a page at a time, so the rows stay
/// put while the selection moves within a page, in either direction.
pub fn first_shown(selected: usize, height: u16) -> usize {
    let height = usize::from(height.max(1));
    selected - selected % height
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let style = &app.theme.style;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(if app.focus == Focus::Table {
            style.title
        } else {
            style.border
        })
        .title(title(app))
        .title_top(position(app));
    let block = match super::readiness::summary(&app.theme, app.readiness.as_ref()) {
        Some(line) => block.title_bottom(line),
        None => block,
    };
    let body = body_area(area);
    let columns = Columns::fitting(body.width, app.environment.regions.len());
    let cols = &columns.list;
    let first = first_shown(app.selected, body.height);
    let shown = app
        .visible
        .iter()
        .enumerate()
        .skip(first)
        .take(usize::from(body.height));
    let rows: Vec<Row> = shown
        .filter_map(|(pos, i)| app.rows.get(*i).map(|r| (pos, r)))
        .map(|(pos, r)| {
            let row = Row::new(
                cols.iter()
                    .map(|(c, _)| cell(app, r, pos == app.selected, *c, &columns)),
            );
            if pos == app.selected {
                row.style(style.selection)
            } else {
                row
            }
        })
        .collect();
    let heading = Row::new(cols.iter().map(|(c, _)| heading(app, *c))).style(style.title);
    let table = Table::new(rows, cols.iter().map(|(_, w)| Constraint::Length(*w)))
        .header(heading)
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
    if app.visible.is_empty() {
        let message = if app.rows.is_empty() {
            "no services in this environment"
        } else {
            "no service matches the filter"
        };
        frame.render_widget(Line::styled(message, style.muted), body);
    }
}

fn title(app: &App) -> Line<'static> {
    let style = &app.theme.style;
    let count = |v: Verdict| {
        app.rows
            .iter()
            .filter(|r| !r.freshness.stale && r.posture.overall == v)
            .count()
    };
    let stale = app.rows.iter().filter(|r| r.freshness.stale).count();
    let mut spans = vec![Span::styled(" Services × regions ", style.title)];
    for (a, label) in [
        (Availability::Down, "down"),
        (Availability::Degraded, "degraded"),
    ] {
        let n = app
            .rows
            .iter()
            .filter(|r| r.posture.availability() == a)
            .count();
        if n > 0 {
            spans.push(Span::styled(
                format!(" {n} {label} "),
                availability_style(&app.theme, a),
            ));
        }
    }
    for (v, label) in [
        (Verdict::Ok, "ok"),
        (Verdict::AtRisk, "at risk"),
        (Verdict::Unprotected, "unprotected"),
        (Verdict::Breach, "breach"),
        (Verdict::Unknown, "unknown"),
    ] {
        let n = count(v);
        if n > 0 {
            spans.push(Span::styled(
                format!(" {n} {label} "),
                verdict_style(&app.theme, v),
            ));
        }
    }
    if stale > 0 {
        spans.push(Span::styled(format!(" {stale} stale "), style.stale));
    }
    Line::from(spans)
}

/// `3/250` at the top right, so a long list shows where it is.
fn position(app: &App) -> Line<'static> {
    let shown = if app.visible.is_empty() {
        0
    } else {
        app.selected + 1
    };
    let mut text = format!(" {shown}/{} ", app.visible.len());
    if app.visible.len() != app.rows.len() {
        text = format!(" {shown}/{} of {} ", app.visible.len(), app.rows.len());
    }
    Line::styled(text, app.theme.style.muted).right_aligned()
}

fn heading(app: &App, column: Column) -> Cell<'static> {
    let text = match column {
        Column::Service => "  Service".to_string(),
        Column::Availability => "Availability".to_string(),
        Column::Writer => "Writer".to_string(),
        Column::Region(i) => app.environment.regions.get(i).cloned().unwrap_or_default(),
        Column::Lag => "Lag".to_string(),
        Column::Pitr => "PITR".to_string(),
        Column::Dns => "DNS serving".to_string(),
        Column::Rpo => "RPO exp".to_string(),
        Column::Posture => "Posture".to_string(),
    };
    Cell::from(text)
}

fn cell(
    app: &App,
    row: &ServiceRow,
    selected: bool,
    column: Column,
    columns: &Columns,
) -> Cell<'static> {
    let theme = &app.theme;
    let style = &theme.style;
    let stale = row.freshness.stale;
    // Values from stale data keep their text but lose their verdict colour:
    // they are what was last seen, not what is true now.
    let judged = |s: Style| if stale { style.stale } else { s };
    let p = &row.posture;
    let rpo = p.objectives.rpo;
    match column {
        Column::Service => {
            let marker = if selected { "▶ " } else { "  " };
            let mut spans = vec![Span::styled(marker, style.text)];
            // A run in progress on the service, in this console.
            if app.has_active_run(&p.service_id) {
                spans.push(Span::styled("● ", style.at_risk));
            }
            spans.push(Span::styled(p.service_name.clone(), style.text));
            Cell::from(Line::from(spans))
        }
        Column::Availability => availability_cell(app, row, columns),
        Column::Writer => Cell::from(match &p.writer_region {
            Some(r) => Span::styled(r.clone(), judged(style.text)),
            None if p.topology.is_some() => Span::styled("none", judged(style.breach)),
            None => Span::styled("—", style.muted),
        }),
        Column::Region(i) => match row.regions.get(i).and_then(Option::as_ref) {
            None => Cell::from(Span::styled("·", style.muted)),
            Some(r) => {
                let mut spans = Vec::with_capacity(4);
                if !columns.compact {
                    spans.push(Span::styled(format!("{:<3}", r.role.short()), style.muted));
                }
                if r.configured_checks == 0 {
                    spans.push(Span::styled("no check", style.muted));
                    return Cell::from(Line::from(spans));
                }
                spans.push(Span::styled(
                    health_label(r.health),
                    judged(health_style(theme, r.health)),
                ));
                if r.checkers_total > 0 {
                    spans.push(Span::styled(
                        format!(" {}/{}", r.checkers_healthy, r.checkers_total),
                        judged(style.text),
                    ));
                }
                if let Some(threshold) = r.failure_threshold.filter(|_| !columns.compact) {
                    spans.push(Span::styled(format!(" t{threshold}"), style.muted));
                }
                Cell::from(Line::from(spans))
            }
        },
        Column::Lag => match &row.lag {
            None => Cell::from(Span::styled("no replica", style.muted)),
            Some(lag) => {
                let mut spans = vec![Span::styled(
                    format!("{:>6} ", maybe_duration(lag.current)),
                    judged(verdict_style(theme, Verdict::of(lag.current, rpo))),
                )];
                spans.extend(sparkline(
                    theme,
                    app.monitor.lag_history(&lag.resource_id),
                    rpo,
                    columns.spark_width,
                    stale,
                ));
                Cell::from(Line::from(spans))
            }
        },
        Column::Pitr => match row.backup() {
            None => Cell::from(Span::styled("—", style.muted)),
            Some(b) => Cell::from(Line::from(vec![
                Span::styled(
                    maybe_duration(p.rpo_side.pitr_age),
                    judged(verdict_style(theme, p.rpo_side.pitr_verdict)),
                ),
                Span::styled(
                    format!(
                        " {}d{}",
                        b.retention_days,
                        if b.cross_region_copy { " xr" } else { "" }
                    ),
                    judged(style.muted),
                ),
            ])),
        },
        Column::Dns => match &row.dns {
            None => Cell::from(Span::styled("—", style.muted)),
            // Latency routing: how many regions are in rotation.
            Some(d) if d.rotation.is_some() => {
                let regions = d.rotation.as_deref().unwrap_or_default();
                let serving = regions.iter().filter(|r| r.in_rotation).count();
                let s = if serving == regions.len() {
                    style.ok
                } else if serving > 0 {
                    style.at_risk
                } else {
                    style.breach
                };
                Cell::from(Line::from(vec![
                    Span::styled(format!("{serving}/{} IN", regions.len()), judged(s)),
                    Span::styled(format!(" {}s", d.ttl), style.muted),
                ]))
            }
            Some(d) => {
                let (label, s) = match d.serving {
                    Some(FailoverRole::Primary) => ("PRIMARY", style.ok),
                    Some(FailoverRole::Secondary) => ("SECONDARY", style.at_risk),
                    None => ("?", style.unknown),
                };
                Cell::from(Line::from(vec![
                    Span::styled(label, judged(s)),
                    Span::styled(format!(" {}s", d.ttl), style.muted),
                ]))
            }
        },
        Column::Rpo => Cell::from(Line::from(vec![
            Span::styled(
                maybe_duration(p.rpo_exposure()),
                judged(verdict_style(theme, p.rpo)),
            ),
            Span::styled(format!("/{}", objective(rpo)), style.muted),
        ])),
        Column::Posture => {
            if stale {
                Cell::from(Span::styled(stale_label(&row.freshness), style.stale))
            } else {
                Cell::from(Span::styled(
                    p.overall.label(),
                    verdict_style(theme, p.overall),
                ))
            }
        }
    }
}

/// `UP`, or `DOWN 4m30s/15m`: the state, and while an incident is open its
/// clock against the RTO (`≥` when it was already so at the first poll).
fn availability_cell(app: &App, row: &ServiceRow, columns: &Columns) -> Cell<'static> {
    let theme = &app.theme;
    let style = &theme.style;
    let judged = |s: Style| if row.freshness.stale { style.stale } else { s };
    let p = &row.posture;
    let a = p.availability();
    let mut spans = vec![Span::styled(
        availability_label(a),
        judged(availability_style(theme, a)),
    )];
    if let (Some(incident), Some(clock)) = (&p.rto_side.incident, p.rto_side.exposure) {
        let lower_bound = incident.start_basis == Basis::FirstObservation;
        spans.push(Span::styled(
            format!(
                " {}{}",
                if lower_bound { "≥" } else { "" },
                age_label(clock)
            ),
            judged(verdict_style(theme, p.rto_side.verdict)),
        ));
        if !columns.compact {
            spans.push(Span::styled(
                format!("/{}", objective(p.objectives.rto)),
                style.muted,
            ));
        }
    }
    Cell::from(Line::from(spans))
}
