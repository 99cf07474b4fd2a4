//! A runbook run: its steps with state, budget and actual time, and the
//! running RTO clock.
//!
//! ```text
//! ┌ Orders — unplanned regional failover · orders · RTO 3m12s / 15m ─────┐
//! │    #  Step                               Kind    Budget  Actual  Note │
//! │ ✓  1  Confirm the primary region is ...  check   1m      4s           │
//! │ ▶  3  Fail the global database over ...  action  2m      12s     ...  │
//! │ ·  4  Wait until the DR cluster is ...   wait    5m      —            │
//! ├ Now ─────────────────────────────────────────────────────────────────┤
//! │ what the run waits for and the keys that answer it (prompt_lines)    │
//! └──────────────────────────────────────────────────────────────────────┘
//! ```

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, Wrap};

use super::cells::{maybe_duration, objective};
use crate::format::short_duration;
use crate::runbook::engine::{Prompt, RunView, StepView};
use crate::runbook::journal::{RunOutcome, StepState};
use crate::theme::Theme;

pub fn render(frame: &mut Frame, theme: &Theme, run: &RunView, now: DateTime<Utc>, area: Rect) {
    let prompt = prompt_lines(theme, run);
    let prompt_height = (prompt.len() as u16 + 2).min(area.height / 2).max(3);
    let [steps_area, prompt_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(prompt_height)]).areas(area);

    let elapsed = run.rto_elapsed(now);
    let clock_style = if elapsed > run.rto_objective {
        theme.style.breach
    } else {
        theme.style.ok
    };
    let title = Line::from(vec![
        Span::styled(format!(" {} ", run.runbook), theme.style.title),
        Span::styled(format!("· {} · RTO ", run.service), theme.style.muted),
        Span::styled(short_duration(elapsed), clock_style),
        Span::styled(
            format!(" / {} ", objective(run.rto_objective)),
            theme.style.muted,
        ),
    ]);
    let header =
        Row::new(["", "#", "Step", "Kind", "Budget", "Actual", "Note"]).style(theme.style.title);
    let rows = run.steps.iter().enumerate().map(|(i, step)| {
        let current = run.current == Some(i) && run.outcome.is_none();
        step_row(theme, step, i, current, now)
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(2),
            Constraint::Length(3),
            Constraint::Percentage(40),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Length(7),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style.border)
            .title(title),
    );
    frame.render_widget(table, steps_area);

    let now_block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style.border)
        .title(Span::styled(" Now ", theme.style.title));
    frame.render_widget(
        Paragraph::new(prompt)
            .block(now_block)
            .wrap(Wrap { trim: false }),
        prompt_area,
    );
}

fn step_row<'a>(
    theme: &Theme,
    step: &'a StepView,
    index: usize,
    current: bool,
    now: DateTime<Utc>,
) -> Row<'a> {
    let (icon, style) = state_look(theme, &step.run.state);
    let actual = step.elapsed(now);
    let actual_style = if step.over_budget(now) {
        theme.style.breach
    } else {
        theme.style.text
    };
    let note = match &step.run.state {
        StepState::Failed { error } => error.clone(),
        StepState::Skipped { reason } => format!("skipped: {reason}"),
        _ => step.run.observed.clone().unwrap_or_default(),
    };
    let row = Row::new(vec![
        Cell::from(Span::styled(icon, style)),
        Cell::from(Span::styled(format!("{}", index + 1), theme.style.muted)),
        Cell::from(Span::styled(step.title.as_str(), theme.style.text)),
        Cell::from(Span::styled(step.kind, theme.style.muted)),
        Cell::from(Span::styled(maybe_duration(step.budget), theme.style.muted)),
        Cell::from(Span::styled(maybe_duration(actual), actual_style)),
        Cell::from(Span::styled(note, style)),
    ]);
    if current {
        row.style(theme.style.selection)
    } else {
        row
    }
}

/// Icon and style of a step state; the icons differ in shape, not only in
/// colour, so the screen reads the same without colours.
fn state_look(theme: &Theme, state: &StepState) -> (&'static str, Style) {
    match state {
        StepState::Pending => ("·", theme.style.muted),
        StepState::Running => ("▶", theme.style.text.add_modifier(Modifier::BOLD)),
        StepState::Waiting | StepState::Verifying => ("◷", theme.style.at_risk),
        StepState::AwaitingConfirmation => ("?", theme.style.at_risk.add_modifier(Modifier::BOLD)),
        StepState::Done => ("✓", theme.style.ok),
        StepState::Failed { .. } => ("✗", theme.style.breach),
        StepState::Skipped { .. } => ("↷", theme.style.unknown),
    }
}

/// What the run is waiting for, and the keys that answer it.
pub fn prompt_lines<'a>(theme: &Theme, run: &'a RunView) -> Vec<Line<'a>> {
    let key = |k: &'static str| Span::styled(k, theme.style.key);
    let text = |t: String| Span::styled(t, theme.style.text);
    if let Some(outcome) = &run.outcome {
        return vec![match outcome {
            RunOutcome::Completed { elapsed } => Line::from(vec![
                Span::styled("Run complete. ", theme.style.ok),
                text(format!(
                    "Actual RTO {} against an objective of {}.",
                    short_duration(*elapsed),
                    objective(run.rto_objective)
                )),
            ]),
            RunOutcome::Aborted { reason, elapsed } => Line::from(vec![
                Span::styled("Run aborted ", theme.style.breach),
                text(format!("after {}: {reason}", short_duration(*elapsed))),
            ]),
        }];
    }
    match &run.prompt {
        Some(Prompt::Tick {
            title,
            instructions,
            ..
        }) => {
            let mut lines = vec![Line::from(vec![
                text(format!("Manual step: {title}. ")),
                key("Space"),
                text(" when done, ".into()),
                key("s"),
                text(" skip with a reason, ".into()),
                key("A"),
                text(" abort".into()),
            ])];
            lines.extend(
                instructions
                    .lines()
                    .map(|l| Line::from(Span::styled(l, theme.style.muted))),
            );
            lines
        }
        Some(Prompt::ConfirmAction { title, call, .. }) => vec![Line::from(vec![
            text(format!(
                "{title}: {} {} in {} awaits confirmation. ",
                call.service, call.operation, call.region
            )),
            key("c"),
            text(" review and confirm, ".into()),
            key("s"),
            text(" skip, ".into()),
            key("A"),
            text(" abort".into()),
        ])],
        Some(Prompt::Failed { title, error, .. }) => vec![
            Line::from(vec![
                Span::styled(format!("{title} failed: "), theme.style.breach),
                text(error.clone()),
            ]),
            Line::from(vec![
                key("r"),
                text(" retry, ".into()),
                key("s"),
                text(" skip with a reason, ".into()),
                key("A"),
                text(" abort".into()),
            ]),
        ],
        None => {
            let current = run.current.and_then(|i| run.steps.get(i));
            vec![Line::from(match current {
                Some(step) => text(format!("{} — {}", step.title, step.run.state.label())),
                None => text("Starting…".into()),
            })]
        }
    }
}
