//! The Report screen of a drill: the scored numbers, then a timeline chart
//! with one row per item on a time axis shared from T+0 to the drill's end.
//! A step's row overlays its actual time on its planned budget: an overrun
//! shows past the budget in the breach colour.
//!
//! ```text
//! ┌Drill report: Full outage────────────────────────────────────────────┐
//! │PASSED · runbook completed · ended at T+10m50s                       │
//! │report /data/drills/20261126T100000Z-full-outage.md                  │
//! │RTO    9m (objective 15m) met                                        │
//! │RPO    20 writes lost over 1s (objective 5m) met                     │
//! │...                                                                  │
//! │Timeline                T+0                                   T+10m  │
//! │fault us-east-1 outage       ████████████████████████████████████    │
//! │detected                         │                                   │
//! │step confirm                     ██░░                                │
//! └─────────────────────────────────────────────────────────────────────┘
//! ```

use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::fit::fit_padded;
use crate::drill::score::{MarkKind, Report};
use crate::format::{objective, printable, short_duration};
use crate::tui::drill::{DrillState, Finished};
use crate::tui::theme::Theme;

/// The chart's label column never takes more than this.
const LABEL_WIDTH: usize = 28;

pub fn render(frame: &mut Frame, theme: &Theme, drill: &DrillState, area: Rect) {
    draw(
        frame,
        theme,
        drill.scenario(),
        drill.finished.as_ref(),
        drill.scroll,
        area,
    );
}

fn draw(
    frame: &mut Frame,
    theme: &Theme,
    scenario: &str,
    finished: Option<&Finished>,
    scroll: u16,
    area: Rect,
) {
    let style = &theme.style;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style.border)
        .title(Span::styled(
            format!("Drill report: {}", printable(scenario)),
            style.title,
        ));
    let inner = block.inner(area);
    let lines = match finished {
        None => vec![Line::styled(
            "The drill is still running: the report is written when it ends.",
            style.muted,
        )],
        Some(Finished::Failed(why)) => {
            vec![Line::styled(printable(why).into_owned(), style.breach)]
        }
        Some(Finished::Written { report, path }) => {
            // Long values (the report's path, a finding) wrap under their
            // label rather than run off the pane.
            let width = usize::from(inner.width);
            let mut lines: Vec<Line<'static>> = numbers(theme, report, &path.display().to_string())
                .into_iter()
                .flat_map(|line| super::fit::wrap(line, width, 7))
                .collect();
            lines.push(Line::raw(""));
            lines.extend(chart(theme, report, usize::from(inner.width)));
            lines
        }
    };
    // The last lines stay reachable however far the trainee scrolls.
    let most = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_sub(inner.height);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll.min(most), 0)),
        area,
    );
}

fn maybe(d: Option<Duration>) -> String {
    d.map_or("—".to_string(), short_duration)
}

fn since(r: &Report, at: DateTime<Utc>) -> Duration {
    (at - r.started_at).to_std().unwrap_or_default()
}

fn numbers(theme: &Theme, r: &Report, path: &str) -> Vec<Line<'static>> {
    let style = &theme.style;
    let verdict = |ok: bool| {
        if ok {
            Span::styled("met", style.ok)
        } else {
            Span::styled("MISSED", style.breach.add_modifier(Modifier::BOLD))
        }
    };
    let label = |text: &str| Span::styled(format!("{text:<7}"), style.muted);
    let text = |t: String| Span::styled(t, style.text);
    let mut lines = vec![
        Line::from(vec![
            if r.passed {
                Span::styled("PASSED", style.ok.add_modifier(Modifier::BOLD))
            } else {
                Span::styled("FAILED", style.breach.add_modifier(Modifier::BOLD))
            },
            text(format!(
                " · {} · ended at T+{}",
                printable(&r.end.label()),
                short_duration(since(r, r.ended_at))
            )),
        ]),
        Line::from(vec![label("report"), text(printable(path).into_owned())]),
        Line::from(vec![
            label("RTO"),
            text(format!(
                "{} (objective {}) ",
                maybe(r.rto_s),
                r.rto_objective_s.map_or("—".into(), objective)
            )),
            verdict(r.rto_met),
        ]),
        Line::from(vec![
            label("RPO"),
            text(format!(
                "{} writes lost over {} (objective {}) ",
                r.lost_writes,
                maybe(r.rpo_s),
                r.rpo_objective_s.map_or("—".into(), objective)
            )),
            verdict(r.rpo_met),
        ]),
        Line::from(vec![
            label("detect"),
            text(format!(
                "{} · decide {}",
                maybe(r.time_to_detect_s),
                maybe(r.time_to_decide_s),
            )),
        ]),
        Line::from(vec![
            label("risk"),
            text(format!(
                "at decision: {}",
                printable(r.data_at_risk_at_decision.as_deref().unwrap_or("—"))
            )),
        ]),
        // Two lines, so that 80 columns show them whole.
        Line::from(vec![
            label("acts"),
            text(format!(
                "{} intervention(s) · {} override(s) · {} retr{} · {} skipped",
                r.interventions,
                r.overrides.len(),
                r.retries,
                if r.retries == 1 { "y" } else { "ies" },
                r.skipped.len(),
            )),
        ]),
        Line::from(vec![
            label(""),
            text(format!(
                "{} out of order · {} against guardrails · {} promotion(s)",
                r.out_of_order.len(),
                r.against_guardrails.len(),
                r.promotions
            )),
        ]),
    ];
    for (what, list) in [
        ("override", &r.overrides),
        ("skipped", &r.skipped),
        ("guardrail", &r.against_guardrails),
    ] {
        for item in list {
            lines.push(Line::from(vec![
                label(""),
                text(format!(
                    "{what} {}: {}",
                    printable(&item.step),
                    printable(&item.reason)
                )),
            ]));
        }
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!(
            "{:<24} {:<8} {:>8} {:>8}  state",
            "step", "kind", "planned", "actual"
        ),
        style.title,
    ));
    for s in &r.steps {
        let actual_style = if s.overran() {
            style.breach
        } else {
            style.text
        };
        lines.push(Line::from(vec![
            text(format!(
                "{} {:<8} {:>8} ",
                fit_padded(&printable(&s.id), 24),
                s.kind,
                s.planned_s.map_or("—".to_string(), objective)
            )),
            Span::styled(format!("{:>8}", maybe(s.actual_s)), actual_style),
            Span::styled(format!("  {}", printable(&s.state)), style.muted),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled("Findings", style.title));
    if r.findings.is_empty() {
        lines.push(Line::styled("none", style.muted));
    }
    for f in &r.findings {
        lines.push(Line::styled(format!("- {}", printable(f)), style.at_risk));
    }
    lines
}

/// One chart row: which columns hold what, by style.
struct Row {
    label: String,
    cells: Vec<(char, Style)>,
}

fn chart(theme: &Theme, r: &Report, width: usize) -> Vec<Line<'static>> {
    let style = &theme.style;
    let label_width = LABEL_WIDTH.min(width / 3);
    let bar_width = width.saturating_sub(label_width + 1).max(1);
    // The axis reaches the drill's end, or anything recorded past it.
    let last = r
        .steps
        .iter()
        .filter_map(|s| Some(s.started_at? + chrono::Duration::from_std(s.planned_s?).ok()?))
        .chain(r.timeline.iter().map(|m| m.at))
        .chain([r.ended_at])
        .max()
        .unwrap_or(r.ended_at);
    let span = since(r, last).as_secs_f64().max(1.0);
    let col = |at: DateTime<Utc>| -> usize {
        let share = since(r, at).as_secs_f64() / span;
        ((share * (bar_width - 1) as f64).round() as usize).min(bar_width - 1)
    };
    let blank = || vec![(' ', style.text); bar_width];
    let fill = |cells: &mut Vec<(char, Style)>, from: usize, to: usize, c: char, s: Style| {
        for cell in cells.iter_mut().take(to + 1).skip(from) {
            *cell = (c, s);
        }
    };
    let mut rows: Vec<Row> = Vec::new();
    for (i, m) in r.timeline.iter().enumerate() {
        let mut cells = blank();
        let (name, glyph_style) = match m.kind {
            MarkKind::FaultStarted => {
                let ends = r.timeline[i + 1..]
                    .iter()
                    .find(|e| e.kind == MarkKind::FaultCleared && e.what == m.what)
                    .map_or(r.ended_at, |e| e.at);
                fill(&mut cells, col(m.at), col(ends), '█', style.breach);
                rows.push(Row {
                    label: format!("fault {}", m.what),
                    cells,
                });
                continue;
            }
            MarkKind::FaultCleared => continue,
            MarkKind::Detected => ("detected", style.at_risk),
            MarkKind::Decided => ("decided", style.at_risk),
            MarkKind::Recovered => ("recovered", style.ok),
        };
        cells[col(m.at)] = ('│', glyph_style.add_modifier(Modifier::BOLD));
        rows.push(Row {
            label: name.to_string(),
            cells,
        });
    }
    for s in &r.steps {
        let mut cells = blank();
        if let Some(start) = s.started_at {
            let planned_end = s
                .planned_s
                .and_then(|p| chrono::Duration::from_std(p).ok())
                .map(|p| start + p);
            let actual_end = s.finished_at.unwrap_or(r.ended_at);
            if let Some(planned_end) = planned_end {
                fill(&mut cells, col(start), col(planned_end), '░', style.muted);
            }
            let within = planned_end.map_or(actual_end, |p| p.min(actual_end));
            fill(&mut cells, col(start), col(within), '█', style.ok);
            if planned_end.is_some_and(|p| actual_end > p) {
                fill(
                    &mut cells,
                    col(within) + 1,
                    col(actual_end),
                    '█',
                    style.breach,
                );
            }
        }
        rows.push(Row {
            label: format!("step {}", s.id),
            cells,
        });
    }
    let mut axis = format!("T+0{}", " ".repeat(bar_width));
    let end_label = format!("T+{}", short_duration(since(r, last)));
    axis.truncate(bar_width.saturating_sub(end_label.chars().count()));
    axis.push_str(&end_label);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{:<label_width$} ", "Timeline"), style.title),
            Span::styled(axis, style.muted),
        ]),
        Line::styled(
            format!(
                "{:<label_width$} █ fault, step in budget  ░ budget left  █ overrun",
                ""
            ),
            style.muted,
        ),
    ];
    for row in rows {
        let mut spans = vec![Span::styled(
            format!("{} ", fit_padded(&printable(&row.label), label_width)),
            style.text,
        )];
        spans.extend(
            row.cells
                .into_iter()
                .map(|(c, s)| Span::styled(c.to_string(), s)),
        );
        lines.push(Line::from(spans));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::score::score;
    use crate::drill::score_tests::outage_drill;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    fn drawn(width: u16, height: u16, scroll: u16) -> String {
        let finished = Finished::Written {
            report: Box::new(score(&outage_drill())),
            path: "/data/drills/20261126T100000Z-full-outage.md".into(),
        };
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|frame| {
                let area = frame.area();
                draw(
                    frame,
                    &Theme::default(),
                    "Full outage",
                    Some(&finished),
                    scroll,
                    area,
                );
            })
            .unwrap();
        terminal.backend().to_string()
    }

    #[test]
    fn report_screen_wide() {
        insta::assert_snapshot!(drawn(160, 45, 0));
    }

    #[test]
    fn report_screen_narrow() {
        insta::assert_snapshot!(drawn(80, 24, 0));
    }

    #[test]
    fn report_screen_narrow_scrolled_to_the_chart() {
        insta::assert_snapshot!(drawn(80, 24, u16::MAX));
    }
}
