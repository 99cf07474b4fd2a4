//! The services × regions table: one row per service. Columns come by
//! priority as the width allows (see [`claims`]), each at least wide enough
//! for its values; spare width widens them, then the lag history, then the
//! gaps. The detail pane shows whatever a narrow table leaves out.
//!
//! ```text
//!   Service       Availability     Writer    Lag         RPO exp    Posture       (80)
//! ▶ Orders API    DOWN 30s/15m     none         39s ████ 39s/5m     AT RISK
//!   Service       Availability        Writer    us-east-1        us-west-2        Lag
//! ▶ Orders API    DOWN 30s/15m        none      P  DOWN 3/16 t3  DR UP 16/16 t3      39s ▆▆▆▆▇▇▇
//!     … Backup    DNS serving    RPO exp     Posture      Tier                        (160)
//!       3m06s 7d  SECONDARY 60s  39s/5m      AT RISK      warm standby
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Margin, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Row, Table};

use unicode_width::UnicodeWidthStr;

use super::cells::{
    age_label, availability_label, availability_style, health_label, health_style, maybe_duration,
    objective, sparkline, stale_label, verdict_style,
};
use super::fit::fit;
use crate::domain::availability::Availability;
use crate::domain::incident::Basis;
use crate::domain::posture::Verdict;
use crate::domain::snapshot::FailoverRole;
use crate::tui::state::{App, Focus};
use crate::tui::view::ServiceRow;

/// Columns, in the order they appear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
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
    Backup,
    Dns,
    Rpo,
    Posture,
    /// The DR strategy: static, so it comes last among the wide columns.
    Tier,
}

/// `P  DOWN 16/16 t3`: a region cell with its role and failure threshold.
const REGION_FULL: u16 = 16;
/// `P  DOWN 16/16`: the role shown, the threshold left to the detail.
const REGION_WITH_ROLE: u16 = 13;
/// `DOWN 16/16`, or `no check`.
const REGION_COMPACT: u16 = 10;
/// The lag's value column before its sparkline.
const LAG_VALUE: u16 = 7;
/// Sparkline bars a wide terminal may show: a few minutes of history.
const SPARK_MAX: u16 = 40;

/// A column's claim on the width: columns come in `priority` order (lower
/// first) while their `min` fits; spare width then raises them to `ideal`,
/// then to `most` (what the column could use at all).
struct Claim {
    column: Column,
    priority: u8,
    min: u16,
    ideal: u16,
    most: u16,
}

/// The columns that fit a table, with the width each gets.
struct Columns {
    list: Vec<(Column, u16)>,
    spacing: u16,
}

impl Columns {
    /// What an SRE reads first comes first: the verdict, whether it is up,
    /// the data at risk and the lag behind it, where writes go; then the
    /// regions, DNS, the backup age and the tier as the width allows. The
    /// regions come or go together: half a set would mislead.
    fn fitting(width: u16, claims: Vec<Claim>) -> Columns {
        let mut groups: Vec<Vec<Claim>> = Vec::new();
        for claim in claims {
            match groups.iter_mut().find(|g| g[0].priority == claim.priority) {
                Some(group) => group.push(claim),
                None => groups.push(vec![claim]),
            }
        }
        groups.sort_by_key(|g| g[0].priority);
        // Every column but the first is preceded by one space.
        let mut used: u16 = 0;
        let mut chosen: Vec<(Claim, u16)> = Vec::new();
        for group in groups {
            let need: u16 = group.iter().map(|c| c.min + 1).sum();
            if !chosen.is_empty() && used + need > width + 1 {
                break;
            }
            used += need;
            chosen.extend(group.into_iter().map(|c| {
                let min = c.min;
                (c, min)
            }));
        }
        let mut spare = (width + 1).saturating_sub(used);
        for grow_to in [|c: &Claim| c.ideal, |c: &Claim| c.most] {
            for (claim, w) in &mut chosen {
                let more = grow_to(claim).saturating_sub(*w).min(spare);
                *w += more;
                spare -= more;
            }
        }
        // Width no column can use goes between the columns, so the table
        // spans the pane instead of ending in a blank band.
        let gaps = u16::try_from(chosen.len().saturating_sub(1)).unwrap_or(u16::MAX);
        let spacing = spare.checked_div(gaps).map_or(1, |more| 1 + more);
        let mut list: Vec<(Column, u16)> = chosen.into_iter().map(|(c, w)| (c.column, w)).collect();
        list.sort_by_key(|(c, _)| *c);
        Columns { list, spacing }
    }
}

/// Each column's claim for this environment's names and services.
fn claims(app: &App) -> Vec<Claim> {
    let claim = |column, priority, min: u16, ideal: u16| Claim {
        column,
        priority,
        min,
        ideal: ideal.max(min),
        most: ideal.max(min),
    };
    let text_width = |s: &str| u16::try_from(s.width()).unwrap_or(u16::MAX);
    let names = app.widest.name;
    // `▶ ` and, with a run in progress, `● ` before the name.
    let marks = if app
        .rows
        .iter()
        .any(|r| app.has_active_run(&r.posture.service_id))
    {
        4
    } else {
        2
    };
    let region_names = app
        .environment
        .regions
        .iter()
        .map(|r| text_width(r))
        .max()
        .unwrap_or(0);
    let history = app
        .rows
        .iter()
        .filter_map(|r| r.lag.as_ref())
        .filter_map(|lag| app.monitor.lag_history(&lag.resource_id))
        .map(|h| u16::try_from(h.len()).unwrap_or(u16::MAX))
        .max()
        .unwrap_or(0);
    let tiers = app.widest.tier;
    let mut claims = vec![
        // Names whole up to 16 columns before any other column shows: the
        // name is what the row is about (a longer one is cut at a word).
        claim(
            Column::Service,
            0,
            (marks + names).clamp(12, 18),
            (marks + names).min(40),
        ),
        claim(Column::Posture, 1, 12, 12),
        claim(Column::Availability, 2, 14, 19),
        claim(Column::Rpo, 3, 10, 11),
        Claim {
            // As many bars as the longest history holds, up to a few
            // minutes: blank bars would be a band in the middle of the row.
            most: LAG_VALUE + SPARK_MAX.min(history),
            ..claim(Column::Lag, 4, LAG_VALUE + 4, LAG_VALUE + 8)
        },
        claim(Column::Writer, 5, region_names.max(6), region_names.max(6)),
        claim(Column::Dns, 6, 14, 14),
    ];
    claims.extend(app.environment.regions.iter().enumerate().map(|(i, name)| {
        let name = text_width(name);
        claim(
            Column::Region(i),
            7,
            REGION_COMPACT.max(name),
            REGION_FULL.max(name),
        )
    }));
    claims.push(claim(Column::Backup, 8, 6, 12));
    claims.push(claim(Column::Tier, 9, 6, tiers.max(4)));
    claims
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
        .border_style(if app.focus == Focus::Table || !app.detail_open {
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
    let columns = Columns::fitting(body.width, claims(app));
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
                    .map(|(c, w)| cell(app, r, pos == app.selected, *c, *w)),
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
        .column_spacing(columns.spacing)
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
        Column::Backup => "Backup".to_string(),
        Column::Tier => "Tier".to_string(),
        Column::Dns => "DNS serving".to_string(),
        Column::Rpo => "RPO exp".to_string(),
        Column::Posture => "Posture".to_string(),
    };
    Cell::from(text)
}

fn cell(app: &App, row: &ServiceRow, selected: bool, column: Column, width: u16) -> Cell<'static> {
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
            let room = usize::from(width).saturating_sub(spans.iter().map(Span::width).sum());
            spans.push(Span::styled(
                fit(&p.service_name, room).into_owned(),
                style.text,
            ));
            Cell::from(Line::from(spans))
        }
        Column::Availability => availability_cell(app, row, width),
        Column::Writer => Cell::from(match &p.writer_region {
            Some(r) => Span::styled(r.clone(), judged(style.text)),
            None if p.topology.is_some() => Span::styled("none", judged(style.breach)),
            None => Span::styled("—", style.muted),
        }),
        Column::Region(i) => match row.regions.get(i).and_then(Option::as_ref) {
            None => Cell::from(Span::styled("·", style.muted)),
            Some(r) => {
                let compact = width < REGION_WITH_ROLE;
                let mut spans = Vec::with_capacity(4);
                if !compact {
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
                match r.failure_threshold {
                    Some(threshold) => Cell::from(with_optional(
                        spans,
                        Span::styled(format!(" t{threshold}"), style.muted),
                        width,
                    )),
                    None => Cell::from(Line::from(spans)),
                }
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
                    usize::from(width.saturating_sub(LAG_VALUE)),
                    stale,
                ));
                Cell::from(Line::from(spans))
            }
        },
        Column::Backup => match row.backup() {
            None => Cell::from(Span::styled("—", style.muted)),
            Some(b) => Cell::from(with_optional(
                vec![Span::styled(
                    maybe_duration(p.rpo_side.pitr_age),
                    judged(verdict_style(theme, p.rpo_side.pitr_verdict)),
                )],
                Span::styled(
                    format!(
                        " {}d{}",
                        b.retention_days,
                        if b.cross_region_copy { " xr" } else { "" }
                    ),
                    judged(style.muted),
                ),
                width,
            )),
        },
        Column::Tier => {
            let label = p.tier.label();
            // `warm standby` as `warm` when the column is narrow.
            let shown = if label.width() <= usize::from(width) {
                label
            } else {
                label.split([' ', '-']).next().unwrap_or(label)
            };
            Cell::from(Span::styled(shown, style.muted))
        }
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
        Column::Rpo => Cell::from(with_optional(
            vec![Span::styled(
                maybe_duration(p.rpo_exposure()),
                judged(verdict_style(theme, p.rpo)),
            )],
            Span::styled(format!("/{}", objective(rpo)), style.muted),
            width,
        )),
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
fn availability_cell(app: &App, row: &ServiceRow, width: u16) -> Cell<'static> {
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
        let objective = Span::styled(format!("/{}", objective(p.objectives.rto)), style.muted);
        return Cell::from(with_optional(spans, objective, width));
    }
    Cell::from(Line::from(spans))
}

/// `spans`, and `extra` after them when the whole still fits `width`: the
/// objective after a value is worth showing only beside the whole value.
fn with_optional(mut spans: Vec<Span<'static>>, extra: Span<'static>, width: u16) -> Line<'static> {
    let used: usize = spans.iter().map(Span::width).sum();
    if used + extra.width() <= usize::from(width) {
        spans.push(extra);
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(regions: usize) -> Vec<Claim> {
        let c = |column, priority, min, ideal| Claim {
            column,
            priority,
            min,
            ideal,
            most: if column == Column::Lag { 47 } else { ideal },
        };
        let mut all = vec![
            c(Column::Service, 0, 12, 15),
            c(Column::Posture, 1, 12, 12),
            c(Column::Availability, 2, 14, 19),
            c(Column::Rpo, 3, 10, 11),
            c(Column::Lag, 4, 11, 15),
            c(Column::Writer, 5, 9, 9),
            c(Column::Dns, 6, 14, 14),
        ];
        all.extend((0..regions).map(|i| c(Column::Region(i), 7, 10, 16)));
        all.push(c(Column::Backup, 8, 6, 12));
        all.push(c(Column::Tier, 9, 6, 12));
        all
    }

    fn shown(width: u16, regions: usize) -> Vec<Column> {
        Columns::fitting(width, claims(regions))
            .list
            .into_iter()
            .map(|(c, _)| c)
            .collect()
    }

    #[test]
    fn columns_come_in_priority_order_and_never_overflow() {
        for width in 40..260 {
            let columns = Columns::fitting(width, claims(2));
            let n = columns.list.len() as u16;
            let total: u16 = columns.list.iter().map(|(_, w)| w).sum();
            assert!(
                n <= 1 || total + (n - 1) * columns.spacing <= width,
                "{width}: {} with spacing {}",
                total,
                columns.spacing
            );
            let regions = columns
                .list
                .iter()
                .filter(|(c, _)| matches!(c, Column::Region(_)))
                .count();
            assert!(regions == 0 || regions == 2, "{width}: half the regions");
        }
        assert!(!shown(78, 2).contains(&Column::Dns));
        // A column that does not fit hides the ones after it, even narrower
        // ones: a less useful column never stands where a better one could.
        assert!(!shown(78, 2).contains(&Column::Tier));
        assert!(shown(98, 2).contains(&Column::Dns));
        assert!(!shown(98, 2).contains(&Column::Region(0)));
        let at_118 = shown(118, 2);
        assert!(at_118.contains(&Column::Region(1)) && at_118.contains(&Column::Backup));
        assert!(shown(158, 2).contains(&Column::Tier));
        // Shown in table order, whatever their priority.
        let all = shown(218, 2);
        let mut sorted = all.clone();
        sorted.sort();
        assert_eq!(all, sorted);
    }

    #[test]
    fn spare_width_goes_to_the_lag_history_then_the_gaps() {
        let narrow = Columns::fitting(160, claims(2));
        let wide = Columns::fitting(218, claims(2));
        let lag = |c: &Columns| {
            c.list
                .iter()
                .find(|(c, _)| *c == Column::Lag)
                .map(|(_, w)| *w)
        };
        assert!(lag(&wide) > lag(&narrow));
        // No wider than the history it has to draw.
        assert_eq!(lag(&wide), Some(47));
        assert!(wide.spacing > 1);
        let n = wide.list.len() as u16;
        let total: u16 = wide.list.iter().map(|(_, w)| w).sum();
        assert!(
            218 - (total + (n - 1) * wide.spacing) < n,
            "no band left at the right"
        );
    }
}
