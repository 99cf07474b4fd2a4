//! The Runbooks screen: the list, or the run in progress with its dialogs.
//!
//! ```text
//! ┌ Runbooks ──────────────────────────────────────────────────────────────────┐
//! │ Runbook               Service Last run                       RTO RPO Owner │
//! │▌Orders — unplanned …  orders  unfinished step 4/12 · 12m ago 15m 5m  sre@  │
//! ├ Orders — unplanned regional failover ──────────────────────────────────────┤
//! │ the selected runbook's description; its last run in full; the notice       │
//! ├ Orders API as observed now ────────────────────────────────────────────────┤
//! │ the runbook's service live (run.rs's live pane), in what a short list leaves│
//! └────────────────────────────────────────────────────────────────────────────┘
//!   columns join by priority as the width allows (runbook, last run,
//!   service, RTO, RPO, last tested, owner, steps); a name too long for
//!   its column ends with `…` at a word, and reads whole in the title below
//!   ▶ marks a runbook whose service has a run in progress in this session
//!   a run being viewed replaces all of it with run.rs; dialogs on top
//! ```

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap};

use super::cells::{age_label, objective};
use super::run;
use crate::format::printable;
use crate::runbook::history::{LastRun, RunState};
use crate::tui::keys::{Action, KeyMap};
use crate::tui::runbooks::{Dialog, RunbooksState};
use crate::tui::state::App;
use crate::tui::theme::Theme;

/// A runbook not exercised for this long is a pitfall of its own.
pub const STALE_RUNBOOK_DAYS: i64 = 90;

pub fn render(frame: &mut Frame, app: &App, state: &RunbooksState, area: Rect) {
    let (theme, keys, now) = (&app.theme, &app.keys, app.now);
    match state.viewed() {
        Some(active) => {
            let [run_area, notice_area] =
                Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
            // The console's clock, not the status's: a run waiting on the
            // operator publishes nothing, yet its RTO clock must keep running.
            let view = &active.status.view;
            run::render(frame, theme, keys, view, now, run_area, Some(app));
            let notice = state.notice.as_ref().or(active.status.notice.as_ref());
            if let Some(n) = notice {
                frame.render_widget(
                    Paragraph::new(Span::styled(n.as_str(), theme.style.at_risk)),
                    notice_area,
                );
            }
        }
        None => list(frame, app, state, area),
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

/// One column of the list: shown when the width allows, by priority.
struct Column<'a> {
    header: &'static str,
    cells: Vec<Span<'a>>,
    /// Lower joins first; the runbook's name (0) is always there.
    priority: u8,
}

impl Column<'_> {
    fn width(&self) -> u16 {
        let widest = self.cells.iter().map(Span::width).max().unwrap_or(0);
        u16::try_from(widest.max(self.header.len())).unwrap_or(u16::MAX)
    }
}

/// A name column narrower than this would say too little to choose by.
const NAME_MIN: u16 = 24;
/// Columns after the essential ones join only while the name keeps this
/// much: runbooks of one service differ at the end of their names.
const NAME_WANT: u16 = 32;
/// The columns that come before a readable name (the last run, the service).
const ESSENTIAL: u8 = 2;

/// The widths of the columns shown, `None` for those left out: they join
/// by priority while they fit whole and leave the name [`NAME_MIN`]
/// ([`NAME_WANT`] past the [`ESSENTIAL`] ones); the name takes what they
/// leave up to its own width, and room to spare goes between the columns.
fn widths(columns: &[Column], available: u16) -> Vec<Option<u16>> {
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by_key(|&i| columns[i].priority);
    let mut shown = vec![None; columns.len()];
    let name = order[0];
    let name_width = columns[name].width();
    let mut others = 0;
    for &i in &order[1..] {
        let w = columns[i].width();
        let floor = if columns[i].priority <= ESSENTIAL {
            NAME_MIN
        } else {
            NAME_WANT
        };
        // In order only: a column never shows while a more important
        // one is missing, and none disappears as the width grows.
        if name_width.min(floor) + others + 1 + w > available {
            break;
        }
        others += 1 + w;
        shown[i] = Some(w);
    }
    shown[name] = Some(available.saturating_sub(others).min(name_width));
    shown
}

/// `unfinished step 4/12 · 12m ago`, `completed 3d ago`, with its style.
pub fn last_run_cell(theme: &Theme, last: Option<&LastRun>, now: DateTime<Utc>) -> (String, Style) {
    let Some(last) = last else {
        return ("no run yet".into(), theme.style.muted);
    };
    let ago = match age_label((now - last.at).to_std().unwrap_or_default()).as_str() {
        "now" => "just now".to_string(),
        age => format!("{age} ago"),
    };
    match last.state {
        RunState::Unreadable => ("unreadable journal".into(), theme.style.breach),
        RunState::Unfinished { step, of } => (
            format!("unfinished step {step}/{of} · {ago}"),
            theme.style.at_risk,
        ),
        RunState::Completed => (format!("completed {ago}"), theme.style.ok),
        RunState::Aborted => (format!("aborted {ago}"), theme.style.text),
        RunState::Discarded => (format!("discarded {ago}"), theme.style.muted),
    }
}

fn list(frame: &mut Frame, app: &App, state: &RunbooksState, area: Rect) {
    let (theme, keys, now) = (&app.theme, &app.keys, app.now);
    let about = about_lines(theme, keys, state, now);
    // The pane below takes the lines it needs, leaving the table its rows;
    // the selected runbook's service, as observed now, takes what a short
    // list leaves.
    let about_text = Paragraph::new(about).wrap(Wrap { trim: false });
    let rows_needed = u16::try_from(state.shown_runbooks().len()).unwrap_or(u16::MAX);
    let table_min = rows_needed.saturating_add(3).max(4);
    let about_height = u16::try_from(about_text.line_count(area.width.saturating_sub(2)))
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(area.height.saturating_sub(table_min))
        .max(3);
    let live = state
        .selected_runbook()
        .and_then(|rb| run::service_row(app, &rb.service));
    let (table_height, live_height) = run::share(
        area.height.saturating_sub(about_height),
        table_min,
        live.is_some(),
    );
    let [table_area, about_area, live_area] = Layout::vertical([
        Constraint::Length(table_height),
        Constraint::Length(about_height),
        Constraint::Length(live_height),
    ])
    .areas(area);
    if let Some(row) = live
        && live_height > 0
    {
        run::live(frame, app, row, live_area);
    }
    let today = now.date_naive();
    let shown = state.shown_runbooks();
    let runbooks: Vec<_> = shown
        .iter()
        .map(|&i| (i, &state.setup.runbooks[i]))
        .collect();
    let column =
        |header,
         priority,
         cell: &dyn Fn(usize, &crate::runbook::format::Runbook) -> Span<'static>| Column {
            header,
            priority,
            cells: runbooks.iter().map(|&(i, rb)| cell(i, rb)).collect(),
        };
    let mut columns = vec![
        column("Runbook", 0, &|_, rb| {
            let name = if state.active_run(&rb.service).is_some() {
                format!("▶ {}", rb.name)
            } else {
                rb.name.clone()
            };
            Span::styled(name, theme.style.text)
        }),
        column("Service", 2, &|_, rb| {
            Span::styled(rb.service.clone(), theme.style.text)
        }),
        column("Last run", 1, &|i, _| {
            let last = state.last_runs.get(i).and_then(Option::as_ref);
            let (text, style) = last_run_cell(theme, last, now);
            Span::styled(text, style)
        }),
        column("RTO", 3, &|_, rb| {
            Span::styled(objective(rb.objectives.rto), theme.style.muted)
        }),
        column("RPO", 4, &|_, rb| {
            Span::styled(objective(rb.objectives.rpo), theme.style.muted)
        }),
        column("Steps", 7, &|_, rb| {
            Span::styled(rb.steps.len().to_string(), theme.style.muted)
        }),
        column("Last tested", 5, &|_, rb| {
            let age = (today - rb.last_tested).num_days();
            let style = if age > STALE_RUNBOOK_DAYS {
                theme.style.at_risk
            } else {
                theme.style.text
            };
            Span::styled(format!("{} ({age}d)", rb.last_tested), style)
        }),
        column("Owner", 6, &|_, rb| {
            Span::styled(rb.owner.clone(), theme.style.muted)
        }),
    ];
    // Borders and the selection mark take three columns.
    let widths = widths(&columns, table_area.width.saturating_sub(3));
    let name_width = usize::from(widths[0].unwrap_or(0));
    for cell in &mut columns[0].cells {
        cell.content = super::fit::fit(&cell.content, name_width)
            .into_owned()
            .into();
    }
    let kept: Vec<(Column, u16)> = columns
        .into_iter()
        .zip(&widths)
        .filter_map(|(c, w)| Some((c, (*w)?)))
        .collect();
    let header = Row::new(kept.iter().map(|(c, _)| c.header)).style(theme.style.title);
    let rows = (0..runbooks.len()).map(|r| Row::new(kept.iter().map(|(c, _)| c.cells[r].clone())));
    let table = Table::new(rows, kept.iter().map(|(_, w)| Constraint::Length(*w)))
        .flex(Flex::SpaceBetween)
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

    frame.render_widget(
        about_text.block(
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

/// The pane under the list: the selected runbook's last run in full, the
/// notice, files that did not load, the description, and what Enter does.
fn about_lines<'a>(
    theme: &Theme,
    keys: &KeyMap,
    state: &'a RunbooksState,
    now: DateTime<Utc>,
) -> Vec<Line<'a>> {
    let mut about: Vec<Line> = Vec::new();
    if let Some(last) = state.selected_last_run() {
        let (text, style) = last_run_cell(theme, Some(last), now);
        // Journals are files anyone with the disk may have written: their
        // text reaches the screen only as printable text.
        let file = last
            .journal
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let mut spans = vec![
            Span::styled("Last run: ", theme.style.muted),
            Span::styled(text, style),
        ];
        if let Some(reason) = &last.reason {
            spans.push(Span::styled(" · why: ", theme.style.muted));
            spans.push(Span::styled(
                printable(reason).into_owned(),
                theme.style.text,
            ));
        }
        spans.push(Span::styled(
            format!(" · {}", printable(&file)),
            theme.style.muted,
        ));
        if state.applies(Action::Discard) {
            let discard = keys.label(Action::Discard);
            spans.push(Span::styled(
                format!(" · {discard} discard it with a reason"),
                theme.style.muted,
            ));
        }
        about.push(Line::from(spans));
    }
    if let Some(n) = &state.notice {
        about.push(Line::from(Span::styled(n.as_str(), theme.style.at_risk)));
    }
    for problem in &state.setup.problems {
        about.push(Line::from(Span::styled(
            problem.as_str(),
            theme.style.breach,
        )));
    }
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
    about
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> Vec<Column<'static>> {
        let col = |header, priority, text: &'static str| Column {
            header,
            priority,
            cells: vec![Span::raw(text)],
        };
        vec![
            col("Runbook", 0, "Orders — unplanned regional failover"),
            col("Service", 2, "orders"),
            col("Last run", 1, "unfinished step 4/12 · 12m ago"),
            col("Owner", 3, "sre-team@example.com"),
        ]
    }

    #[test]
    fn columns_join_by_priority_as_the_width_grows_and_the_name_takes_the_rest() {
        let at = |w| widths(&columns(), w);
        assert_eq!(at(30), [Some(30), None, None, None]);
        assert_eq!(at(50), [Some(36), None, None, None]);
        assert_eq!(at(60), [Some(29), None, Some(30), None]);
        assert_eq!(at(70), [Some(31), Some(7), Some(30), None]);
        assert_eq!(
            at(84),
            [Some(36), Some(7), Some(30), None],
            "the name first"
        );
        assert_eq!(at(92), [Some(32), Some(7), Some(30), Some(20)]);
        assert_eq!(at(120), [Some(36), Some(7), Some(30), Some(20)]);
        for w in [10, 47, 60, 77, 95, 150] {
            let total: u16 = at(w).iter().flatten().map(|w| w + 1).sum::<u16>() - 1;
            assert!(total <= w.max(NAME_MIN), "{w}: {total}");
        }
    }
}
