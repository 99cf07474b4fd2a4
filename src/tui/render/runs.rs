//! The Runs screen: this session's runs, active and finished, one per line.
//!
//! ```text
//! ┌ Runs · 2 active ─────────────────────────────────────────────────────┐
//! │    Service  Runbook                  Step                RTO     By   │
//! │ ▌▶ orders   Orders — unplanned ...   3 failover: waiting 2m10s   ann  │
//! │  ▶ billing  Billing — promote ...    1 lag: running      0m40s   ann  │
//! │  ✓ orders   Orders — failback        done                4m02s   bob  │
//! └──────────────────────────────────────────────────────────────────────┘
//! ┌ Orders — unplanned regional failover · orders · RTO 2m10s / 15m ────┐
//! │ the selected run's steps (run::steps), when the list leaves room      │
//! └──────────────────────────────────────────────────────────────────────┘
//! ┌ Orders API as observed now ──────────────────────────────────────────┐
//! │ the run's service live (run::live), in what a short runbook leaves    │
//! └──────────────────────────────────────────────────────────────────────┘
//!   with no run in this session: how to start one, and each runbook's
//!   last run as the journals tell it
//!   Enter opens the selected run on the Runbooks screen; text too long
//!   for its column is cut at a word, and shown whole on that screen
//! ```

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap};

use super::cells::objective;
use super::fit::{column_widths, fit};
use super::run;
use crate::format::short_duration;
use crate::runbook::journal::RunOutcome;
use crate::tui::runbooks::{RunEntry, RunbooksState};
use crate::tui::state::App;
use crate::tui::theme::Theme;

pub fn render(frame: &mut Frame, app: &App, state: &RunbooksState, area: Rect) {
    let (theme, now) = (&app.theme, app.now);
    let active = state.runs.iter().filter(|r| r.in_progress()).count();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style.border)
        .title(Span::styled(
            format!(" Runs · {active} active "),
            theme.style.title,
        ))
        .title(super::runbooks::filter_title(theme, &state.runs_filter));
    if state.runs.is_empty() {
        let mut text = vec![
            Line::from(Span::styled(
                "No runs in this session yet.",
                theme.style.text,
            )),
            Line::from(Span::styled(
                "Start one from the Runbooks screen (2): one run per service, as many services at once as needed.",
                theme.style.muted,
            )),
        ];
        text.extend(journal_lines(theme, state, now));
        frame.render_widget(
            Paragraph::new(text).wrap(Wrap { trim: false }).block(block),
            area,
        );
        return;
    }
    let header =
        Row::new(["", "Service", "Runbook", "Step", "RTO", "Started by"]).style(theme.style.title);
    // The RTO clock (`14m59s / 15m`) and the operator need little; the
    // runbook's name says most about a run, so it takes the most room.
    let constraints = [
        Constraint::Length(1),
        Constraint::Length(10),
        Constraint::Fill(3),
        Constraint::Fill(2),
        Constraint::Length(12),
        Constraint::Length(12),
    ];
    // Inside the border, after the one-column selection mark.
    let widths = column_widths(area.width.saturating_sub(3), &constraints, 1);
    let shown = state.shown_runs();
    let selected = state
        .runs
        .get(state.runs_selected)
        .filter(|_| shown.contains(&state.runs_selected));
    let (area, preview) = match (selected, split(area, shown.len())) {
        (Some(run), (list, Some(steps))) => (list, Some((run, steps))),
        _ => (area, None),
    };
    let rows = shown
        .iter()
        .map(|&i| row(theme, &state.runs[i], now, &widths));
    let table = Table::new(rows, constraints)
        .header(header)
        .row_highlight_style(theme.style.selection)
        .highlight_symbol("▌")
        .block(block);
    let at = shown.iter().position(|i| *i == state.runs_selected);
    let mut selection = TableState::default().with_selected(at);
    frame.render_stateful_widget(table, area, &mut selection);
    if let Some((run, preview)) = preview {
        let view = &run.status.view;
        let live = run::service_row(app, &view.service);
        let (steps_height, live_height) = run::share(
            preview.height,
            run::steps_height(view, preview.width),
            live.is_some(),
        );
        let [steps_area, live_area] = Layout::vertical([
            Constraint::Length(steps_height),
            Constraint::Length(live_height),
        ])
        .areas(preview);
        run::steps(frame, theme, view, now, steps_area);
        if let Some(row) = live
            && live_height > 0
        {
            run::live(frame, app, row, live_area);
        }
    }
}

/// Each runbook's last run as the journals tell it (earlier sessions,
/// other consoles), so a session that has not started one yet still says
/// where each runbook was left.
fn journal_lines<'a>(theme: &Theme, state: &'a RunbooksState, now: DateTime<Utc>) -> Vec<Line<'a>> {
    let last: Vec<Line> = state
        .setup
        .runbooks
        .iter()
        .zip(&state.last_runs)
        .filter_map(|(rb, last)| {
            let (text, style) = super::runbooks::last_run_cell(theme, Some(last.as_ref()?), now);
            Some(Line::from(vec![
                Span::styled(format!("  {} ", rb.name), theme.style.text),
                Span::styled(format!("({}): ", rb.service), theme.style.muted),
                Span::styled(text, style),
            ]))
        })
        .collect();
    if last.is_empty() {
        return last;
    }
    let heading = Line::from(Span::styled(
        "Last runs in the journals:",
        theme.style.title,
    ));
    [Line::default(), heading].into_iter().chain(last).collect()
}

/// Lines left under the list from which the selected run's steps show.
const PREVIEW_MIN: u16 = 8;

/// The list's area and, when a short list leaves the room, the area under
/// it for the selected run's steps: so the screen tells where that run is
/// and why it stopped instead of ending in blank lines.
fn split(area: Rect, runs: usize) -> (Rect, Option<Rect>) {
    let list_height = u16::try_from(runs).unwrap_or(u16::MAX).saturating_add(3);
    if area.height.saturating_sub(list_height) < PREVIEW_MIN {
        return (area, None);
    }
    let [list, steps] =
        Layout::vertical([Constraint::Length(list_height), Constraint::Min(0)]).areas(area);
    (list, Some(steps))
}

fn row<'a>(theme: &Theme, run: &'a RunEntry, now: DateTime<Utc>, widths: &[usize]) -> Row<'a> {
    let width = |i: usize| widths.get(i).copied().unwrap_or_default();
    let view = &run.status.view;
    let (mark, mark_style, step) = match &view.outcome {
        None => {
            let step = view
                .current
                .and_then(|i| Some((i, view.steps.get(i)?)))
                .map(|(i, s)| format!("{} {}: {}", i + 1, s.id, s.run.state.label()))
                .unwrap_or_default();
            ("▶", theme.style.at_risk, step)
        }
        Some(RunOutcome::Completed { .. }) => ("✓", theme.style.ok, "completed".to_string()),
        Some(RunOutcome::Aborted { reason, .. }) => {
            ("✗", theme.style.breach, format!("aborted: {reason}"))
        }
    };
    // The RTO clock: from the outage's start for a run of an incident,
    // stopped when the run ended.
    let elapsed = view.rto_elapsed(now);
    let clock_style = if elapsed > view.rto_objective {
        theme.style.breach
    } else {
        theme.style.text
    };
    Row::new(vec![
        Line::from(Span::styled(mark, mark_style)),
        Line::from(Span::styled(fit(&view.service, width(1)), theme.style.text)),
        Line::from(Span::styled(fit(&view.runbook, width(2)), theme.style.text)),
        Line::from(Span::styled(
            fit(&step, width(3)).into_owned(),
            theme.style.muted,
        )),
        Line::from(vec![
            Span::styled(short_duration(elapsed), clock_style),
            Span::styled(
                format!(" / {}", objective(view.rto_objective)),
                theme.style.muted,
            ),
        ]),
        Line::from(Span::styled(
            fit(&run.status.operator, width(5)),
            theme.style.muted,
        )),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_list_leaves_its_room_to_the_selected_runs_steps() {
        let screen = Rect::new(0, 1, 160, 43);
        let (list, steps) = split(screen, 2);
        assert_eq!(list.height, 5, "two rows, the heading and the border");
        assert_eq!(steps, Some(Rect::new(0, 6, 160, 38)));
        // A list that fills the screen keeps it all.
        assert_eq!(split(screen, 40), (screen, None));
        assert_eq!(
            split(Rect::new(0, 1, 80, 22), 12),
            (Rect::new(0, 1, 80, 22), None)
        );
    }
}
