//! The Runbooks screen: the list, or the run in progress with its dialogs.
//!
//! ```text
//! ┌ Runbooks ────────────────────────────────────────────────────────────┐
//! │ Runbook                 Service  RTO  RPO  Steps  Last tested  Owner │
//! │ ▌Orders — unplanned ... orders   15m  5m   12     23d ago      sre@  │
//! ├ About ───────────────────────────────────────────────────────────────┤
//! │ the selected runbook's description; the latest notice                │
//! └──────────────────────────────────────────────────────────────────────┘
//!   ▶ marks a runbook whose service has a run in progress in this session
//!   a run being viewed replaces all of it with run.rs; dialogs on top
//! ```

use chrono::{DateTime, NaiveDate, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap};

use super::cells::objective;
use super::run;
use crate::tui::keys::{Action, KeyMap};
use crate::tui::runbooks::{Dialog, RunbooksState};
use crate::tui::theme::Theme;

/// A runbook not exercised for this long is a pitfall of its own.
pub const STALE_RUNBOOK_DAYS: i64 = 90;

pub fn render(
    frame: &mut Frame,
    theme: &Theme,
    keys: &KeyMap,
    state: &RunbooksState,
    now: DateTime<Utc>,
    area: Rect,
) {
    match state.viewed() {
        Some(active) => {
            let [run_area, notice_area] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
            // The console's clock, not the status's: a run waiting on the
            // operator publishes nothing, yet its RTO clock must keep running.
            run::render(frame, theme, keys, &active.status.view, now, run_area);
            let notice = state.notice.as_ref().or(active.status.notice.as_ref());
            if let Some(n) = notice {
                frame.render_widget(
                    Paragraph::new(Span::styled(n.as_str(), theme.style.at_risk)),
                    notice_area,
                );
            }
        }
        None => list(frame, theme, keys, state, now.date_naive(), area),
    }
    match &state.dialog {
        Some(Dialog::Confirm(d)) => d.render(frame, theme, frame.area()),
        Some(Dialog::Reason(d)) => d.render(frame, theme, frame.area()),
        Some(Dialog::Review(d)) => d.render(frame, theme, frame.area()),
        None => {}
    }
}

/// A console given no runbooks says where they are looked for.
/// The filter in force, on a list's top border.
pub fn filter_title<'a>(theme: &Theme, filter: &str) -> Line<'a> {
    if filter.is_empty() {
        return Line::default();
    }
    Line::from(Span::styled(
        format!(" filter: {filter} "),
        theme.style.at_risk,
    ))
}

pub fn render_none(frame: &mut Frame, theme: &Theme, area: Rect) {
    let text = vec![
        Line::from(Span::styled("No runbooks loaded.", theme.style.text)),
        Line::from(Span::styled(
            "Runbooks are read from ./runbooks, or the config directory's runbooks/, or --runbooks DIR.",
            theme.style.muted,
        )),
    ];
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style.border)
                .title(Span::styled(" Runbooks ", theme.style.title)),
        ),
        area,
    );
}

fn list(
    frame: &mut Frame,
    theme: &Theme,
    keys: &KeyMap,
    state: &RunbooksState,
    today: NaiveDate,
    area: Rect,
) {
    let [table_area, about_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(7)]).areas(area);
    let header = Row::new([
        "Runbook",
        "Service",
        "RTO",
        "RPO",
        "Steps",
        "Last tested",
        "Owner",
    ])
    .style(theme.style.title);
    let shown = state.shown_runbooks();
    let rows = shown.iter().map(|&i| &state.setup.runbooks[i]).map(|rb| {
        let age = (today - rb.last_tested).num_days();
        let tested_style = if age > STALE_RUNBOOK_DAYS {
            theme.style.at_risk
        } else {
            theme.style.text
        };
        let name = if state.active_run(&rb.service).is_some() {
            format!("▶ {}", rb.name)
        } else {
            rb.name.clone()
        };
        Row::new(vec![
            Span::styled(name, theme.style.text),
            Span::styled(rb.service.clone(), theme.style.text),
            Span::styled(objective(rb.objectives.rto), theme.style.muted),
            Span::styled(objective(rb.objectives.rpo), theme.style.muted),
            Span::styled(rb.steps.len().to_string(), theme.style.muted),
            Span::styled(format!("{} ({age}d)", rb.last_tested), tested_style),
            Span::styled(rb.owner.clone(), theme.style.muted),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Fill(4),
            Constraint::Length(8),
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Length(5),
            Constraint::Length(17),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .row_highlight_style(theme.style.selection)
    .highlight_symbol("▌")
    .block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style.border)
            .title(Span::styled(" Runbooks ", theme.style.title))
            .title(filter_title(theme, &state.list_filter)),
    );
    let at = shown.iter().position(|i| *i == state.selected);
    let mut selection = TableState::default().with_selected(at);
    frame.render_stateful_widget(table, table_area, &mut selection);

    let mut about: Vec<Line> = Vec::new();
    if let Some(rb) = state.selected_runbook() {
        // The YAML's line breaks are the author's, not this pane's: rewrap.
        let text = rb
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        about.push(Line::from(Span::styled(text, theme.style.text)));
    }
    let (open, runs) = (keys.label(Action::Open), keys.label(Action::Runs));
    let hint = if state
        .selected_runbook()
        .is_some_and(|rb| state.active_run(&rb.service).is_some())
    {
        format!("{open} open the run in progress on this service (one run per service)")
    } else {
        format!(
            "{open} review and start (or resume an unfinished run of that service) · {runs} all runs"
        )
    };
    about.push(Line::from(Span::styled(hint, theme.style.muted)));
    if let Some(n) = &state.notice {
        about.push(Line::from(Span::styled(n.as_str(), theme.style.at_risk)));
    }
    for problem in &state.setup.problems {
        about.push(Line::from(Span::styled(
            problem.as_str(),
            theme.style.breach,
        )));
    }
    frame.render_widget(
        Paragraph::new(about).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(theme.style.border)
                .title(Span::styled(
                    format!(
                        " {} ",
                        state
                            .selected_runbook()
                            .map_or("About", |rb| rb.name.as_str())
                    ),
                    theme.style.title,
                )),
        ),
        about_area,
    );
}
