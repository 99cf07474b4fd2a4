//! A runbook run: its steps with state, budget and actual time, and the
//! running RTO clock; what it waits for now; and, in the room a short
//! runbook leaves, its service as the console observes it now.
//!
//! ```text
//! ┌ Orders — unplanned regional failover · orders · RTO 3m12s / 15m ─────┐
//! │    #  Step                               Kind    Budget  Actual  Note │
//! │ ✓  1  Confirm the primary region is ...  check   1m      4s           │
//! │ ▶  3  Fail the global database over ...  action  2m      12s     ...  │
//! │ ·  4  Wait until the DR cluster is ...   wait    5m      —            │
//! └──────────────────────────────────────────────────────────────────────┘
//! ┌ Now ─────────────────────────────────────────────────────────────────┐
//! │ what the run waits for and the keys that answer it (prompt_lines)    │
//! │ the current step's description, as the runbook words it             │
//! └──────────────────────────────────────────────────────────────────────┘
//! ┌ Orders API as observed now ──────────────────────────────────────────┐
//! │ posture, availability and its clock, writer, RPO exposure, lag and   │
//! │ its history, DNS serving, regions (detail.rs), when LIVE_MIN lines   │
//! │ are left under a steps table sized to its rows                       │
//! └──────────────────────────────────────────────────────────────────────┘
//! ```

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState, Wrap};

use super::cells::{maybe_duration, objective};
use super::detail;
use super::fit::{column_widths, fit, wrap_cell};
use crate::format::short_duration;
use crate::runbook::engine::{Prompt, RunView, StepView};
use crate::runbook::journal::{RunOutcome, StepState};
use crate::tui::keys::{Action, KeyMap};
use crate::tui::state::App;
use crate::tui::theme::Theme;
use crate::tui::view::ServiceRow;

/// Lines a step's note may take in the table.
const NOTE_LINES: usize = 3;

pub fn render(
    frame: &mut Frame,
    theme: &Theme,
    keys: &KeyMap,
    run: &RunView,
    now: DateTime<Utc>,
    area: Rect,
    app: Option<&App>,
) {
    let mut prompt = prompt_lines(theme, keys, run);
    prompt.extend(description_lines(theme, run));
    // Room for the prompt's lines as they wrap inside the borders.
    let inner_width = usize::from(area.width.saturating_sub(2).max(1));
    let rows: usize = prompt
        .iter()
        .map(|l| l.width().max(1).div_ceil(inner_width))
        .sum();
    let prompt_height = (rows as u16 + 2).min(area.height / 2).max(3);
    let live = app.and_then(|app| Some((app, service_row(app, &run.service)?)));
    let (steps_height, live_height) = share(
        area.height.saturating_sub(prompt_height),
        steps_height(run, area.width),
        live.is_some(),
    );
    let [steps_area, prompt_area, live_area] = Layout::vertical([
        Constraint::Length(steps_height),
        Constraint::Length(prompt_height),
        Constraint::Length(live_height),
    ])
    .areas(area);
    steps(frame, theme, run, now, steps_area);

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
    if let Some((app, row)) = live
        && live_height > 0
    {
        self::live(frame, app, row, live_area);
    }
}

/// Lines under a table from which the service's live posture is drawn:
/// its borders, its verdict and where the rest is.
pub const LIVE_MIN: u16 = 4;

/// How `height` is shared between a table wanting `wanted` lines and the
/// live posture under it: the table gets its rows and the posture the
/// rest, when there is a posture to show and the rest is worth a pane
/// ([`LIVE_MIN`]); otherwise the table takes it all, scrolling.
pub fn share(height: u16, wanted: u16, live: bool) -> (u16, u16) {
    let rest = height.saturating_sub(wanted);
    if live && rest >= LIVE_MIN {
        (wanted, rest)
    } else {
        (height, 0)
    }
}

/// The row of the service a run or a runbook acts on.
pub fn service_row<'a>(app: &'a App, service: &str) -> Option<&'a ServiceRow> {
    app.rows.iter().find(|r| r.posture.service_id == service)
}

/// The service as the console observes it now (the detail's lines,
/// detail.rs): what the run is changing, in the room its steps leave. A
/// pane too short for all of it says where the rest is.
pub fn live(frame: &mut Frame, app: &App, row: &ServiceRow, area: Rect) {
    let style = &app.theme.style;
    let mut lines = detail::beside_run(app, row, area);
    let inner = usize::from(area.height.saturating_sub(2));
    if lines.len() > inner && inner > 0 {
        let hidden = lines.len() - (inner - 1);
        lines.truncate(inner - 1);
        lines.push(Line::styled(
            format!(
                "… {hidden} more lines in the dashboard's detail ({})",
                app.keys.label(Action::Dashboard)
            ),
            style.muted,
        ));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(style.border)
        .title(Line::from(vec![
            Span::styled(format!(" {} ", row.posture.service_name), style.title),
            Span::styled("as observed now ", style.muted),
        ]));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// Lines the steps table wants at `width` to show every step: its borders,
/// its heading, and each step's row as tall as its note.
pub fn steps_height(run: &RunView, width: u16) -> u16 {
    let widths = column_widths(width.saturating_sub(2), &STEP_COLUMNS, 1);
    let note_width = widths.get(6).copied().unwrap_or_default();
    let rows: usize = run
        .steps
        .iter()
        .map(|step| {
            wrap_cell(&note(step, run.outcome.is_some()), note_width, NOTE_LINES)
                .len()
                .max(1)
        })
        .sum();
    u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(3)
}

/// The steps table's columns: state, number, title, kind, budget, actual,
/// note.
const STEP_COLUMNS: [Constraint; 7] = [
    Constraint::Length(2),
    Constraint::Length(3),
    Constraint::Percentage(40),
    Constraint::Length(7),
    Constraint::Length(7),
    Constraint::Length(7),
    Constraint::Fill(1),
];

/// The run's steps in a bordered table titled with the runbook and the RTO
/// clock; also the Runs screen's view of its selected run.
pub fn steps(
    frame: &mut Frame,
    theme: &Theme,
    run: &RunView,
    now: DateTime<Utc>,
    steps_area: Rect,
) {
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
    let constraints = STEP_COLUMNS;
    let widths = column_widths(steps_area.width.saturating_sub(2), &constraints, 1);
    // An ended run's clock stopped when it ended.
    let clock = run.ended_at().map_or(now, |end| end.min(now));
    let rows = run.steps.iter().enumerate().map(|(i, step)| {
        let current = run.current == Some(i) && run.outcome.is_none();
        step_row(
            theme,
            step,
            i,
            current,
            run.outcome.is_some(),
            clock,
            &widths,
        )
    });
    let table = Table::new(rows, constraints).header(header).block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style.border)
            .title(title),
    );
    // Selecting the current step makes the table scroll to keep it in view.
    let mut scroll = TableState::default().with_selected(run.current);
    frame.render_stateful_widget(table, steps_area, &mut scroll);
}

fn step_row<'a>(
    theme: &Theme,
    step: &'a StepView,
    index: usize,
    current: bool,
    run_over: bool,
    now: DateTime<Utc>,
    widths: &[usize],
) -> Row<'a> {
    let width = |i: usize| widths.get(i).copied().unwrap_or_default();
    let stopped = stopped(step, run_over);
    let (icon, style) = if stopped {
        ("■", theme.style.unknown)
    } else {
        state_look(theme, &step.run.state)
    };
    let actual = step.elapsed(now);
    let actual_style = if step.over_budget(now) {
        theme.style.breach
    } else {
        theme.style.text
    };
    let note = note(step, run_over);
    // A note (an error, what was observed) grows its row to a few lines
    // so it reads whole; a title is cut at a word (the prompt below names
    // the current step whole).
    let note: Vec<Line> = wrap_cell(&note, width(6), NOTE_LINES)
        .into_iter()
        .map(|l| Line::styled(l, style))
        .collect();
    let height = u16::try_from(note.len().max(1)).unwrap_or(1);
    let row = Row::new(vec![
        Cell::from(Span::styled(icon, style)),
        Cell::from(Span::styled(format!("{}", index + 1), theme.style.muted)),
        Cell::from(Span::styled(fit(&step.title, width(2)), theme.style.text)),
        Cell::from(Span::styled(step.kind, theme.style.muted)),
        Cell::from(Span::styled(
            step.budget.map_or_else(|| "—".to_string(), objective),
            theme.style.muted,
        )),
        Cell::from(Span::styled(maybe_duration(actual), actual_style)),
        Cell::from(note),
    ])
    .height(height);
    if current {
        row.style(theme.style.selection)
    } else {
        row
    }
}

/// A run that ended (aborted) leaves its last step as it was: it is not
/// waiting or running any more, and must not look it.
fn stopped(step: &StepView, run_over: bool) -> bool {
    run_over
        && matches!(
            step.run.state,
            StepState::Running
                | StepState::Waiting
                | StepState::Verifying
                | StepState::AwaitingConfirmation
        )
}

/// What the note column says of a step: its error, why it was skipped,
/// or what was observed.
fn note(step: &StepView, run_over: bool) -> String {
    match &step.run.state {
        StepState::Failed { error } => error.clone(),
        StepState::Skipped { reason } => format!("skipped: {reason}"),
        _ if stopped(step, run_over) => "stopped: the run ended here".to_string(),
        _ => step.run.observed.clone().unwrap_or_default(),
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
pub fn prompt_lines<'a>(theme: &Theme, keys: &KeyMap, run: &'a RunView) -> Vec<Line<'a>> {
    let key = |action: Action| {
        let first = keys.keys(action).first().map(ToString::to_string);
        Span::styled(first.unwrap_or_default(), theme.style.key)
    };
    let text = |t: String| Span::styled(t, theme.style.text);
    if let Some(outcome) = &run.outcome {
        return vec![match outcome {
            RunOutcome::Completed { elapsed } => Line::from(vec![
                Span::styled("Run complete. ", theme.style.ok),
                text(run.restored_line().map_or_else(
                    || {
                        format!(
                            "Actual RTO {} against an objective of {}.",
                            short_duration(*elapsed),
                            objective(run.rto_objective)
                        )
                    },
                    |restored| format!("{restored}."),
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
                key(Action::Tick),
                text(" when done, ".into()),
                key(Action::Skip),
                text(" skip with a reason, ".into()),
                key(Action::Abort),
                text(" abort".into()),
            ])];
            lines.extend(
                instructions
                    .lines()
                    .map(|l| Line::from(Span::styled(l, theme.style.muted))),
            );
            lines
        }
        Some(Prompt::ConfirmAction {
            title,
            call,
            assessment,
            overridden,
            ..
        }) => {
            let mut lines = vec![Line::from(vec![
                text(format!(
                    "{title}: {} {} in {} awaits confirmation. ",
                    call.service, call.operation, call.region
                )),
                key(Action::Confirm),
                text(" review the live facts and confirm, ".into()),
                key(Action::Skip),
                text(" skip, ".into()),
                key(Action::Abort),
                text(" abort".into()),
            ])];
            if assessment.blocked() && overridden.is_none() {
                let rules: Vec<&str> = assessment
                    .violations
                    .iter()
                    .map(|v| v.rule.label())
                    .collect();
                lines.push(Line::from(vec![
                    Span::styled("Blocked by safety rules: ", theme.style.breach),
                    text(rules.join(", ")),
                ]));
            }
            lines
        }
        Some(Prompt::Failed { title, error, .. }) => vec![
            Line::from(vec![
                Span::styled(format!("{title} failed: "), theme.style.breach),
                text(error.clone()),
            ]),
            Line::from(vec![
                key(Action::Retry),
                text(" retry, ".into()),
                key(Action::Skip),
                text(" skip with a reason, ".into()),
                key(Action::Abort),
                text(" abort".into()),
            ]),
        ],
        None => {
            let current = run.current.and_then(|i| run.steps.get(i));
            let Some(step) = current else {
                return vec![Line::from(text("Starting…".into()))];
            };
            let mut lines = vec![Line::from(text(format!(
                "{} — {}",
                step.title,
                step.run.state.label()
            )))];
            if let Some(waiting) = &run.waiting_for {
                lines.push(Line::from(vec![
                    Span::styled("Waiting for: ", theme.style.muted),
                    text(waiting.clone()),
                ]));
            }
            if !run.read_only {
                lines.push(Line::from(vec![
                    key(Action::Skip),
                    text(" skip with a reason, ".into()),
                    key(Action::Abort),
                    text(" abort".into()),
                ]));
            }
            lines
        }
    }
}

/// The current step's description, so the operator reads the runbook's
/// advice ("if they pass, stop") at the moment it applies.
fn description_lines<'a>(theme: &Theme, run: &'a RunView) -> Vec<Line<'a>> {
    if run.outcome.is_some() {
        return Vec::new();
    }
    let Some(description) = run
        .current
        .and_then(|i| run.steps.get(i))
        .and_then(|s| s.description.as_deref())
    else {
        return Vec::new();
    };
    description
        .lines()
        .map(|l| Line::from(Span::styled(l, theme.style.muted)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use serde_json::json;

    use super::*;
    use crate::domain::action::ApiCall;
    use crate::domain::incident::{Basis, IncidentStart};
    use crate::runbook::engine::StepView;
    use crate::runbook::facts::{Assessment, Fact};
    use crate::runbook::journal::StepState;
    use crate::runbook::safety::{Rule, Violation};
    use crate::tui::popups::confirm::ConfirmDialog;

    fn at(seconds: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap() + chrono::Duration::seconds(seconds)
    }

    fn step(id: &str, title: &str, kind: &'static str, budget: u64) -> StepView {
        StepView {
            id: id.into(),
            title: title.into(),
            description: None,
            kind,
            budget: Some(Duration::from_secs(budget)),
            timeout: None,
            run: crate::runbook::engine::StepRun {
                state: StepState::Pending,
                started_at: None,
                finished_at: None,
                observed: None,
                attempts: 0,
            },
        }
    }

    fn settle(s: &mut StepView, state: StepState, from: i64, to: Option<i64>, note: &str) {
        s.run.state = state;
        s.run.started_at = Some(at(from));
        s.run.finished_at = to.map(at);
        s.run.observed = (!note.is_empty()).then(|| note.to_string());
    }

    fn failover_call() -> ApiCall {
        ApiCall {
            service: "rds".into(),
            region: "us-west-2".into(),
            operation: "FailoverGlobalCluster".into(),
            params: json!({
                "GlobalClusterIdentifier": "orders-global",
                "TargetDbClusterIdentifier": "arn:aws:rds:us-west-2:123456789012:cluster:orders-secondary",
                "AllowDataLoss": true,
            }),
        }
    }

    /// A failover run three minutes in, waiting for the operator to confirm.
    fn awaiting_confirmation() -> RunView {
        let mut steps = vec![
            step(
                "confirm-outage",
                "Confirm the primary region is unhealthy",
                "check",
                60,
            ),
            step(
                "announce",
                "Tell stakeholders the failover is starting",
                "notify",
                30,
            ),
            step(
                "failover-database",
                "Fail the global database over",
                "action",
                120,
            ),
            step(
                "database-writable",
                "Wait until the DR cluster accepts writes",
                "wait",
                300,
            ),
        ];
        settle(
            &mut steps[0],
            StepState::Done,
            0,
            Some(95),
            "us-east-1 unhealthy (0/16 checkers)",
        );
        settle(&mut steps[1], StepState::Done, 95, Some(96), "");
        settle(&mut steps[2], StepState::AwaitingConfirmation, 96, None, "");
        RunView {
            runbook: "Orders — unplanned regional failover".into(),
            service: "orders".into(),
            started_at: at(0),
            incident: None,
            rto_objective: Duration::from_secs(15 * 60),
            steps,
            current: Some(2),
            prompt: Some(Prompt::ConfirmAction {
                step: "failover-database".into(),
                seq: 1,
                title: "Fail the global database over".into(),
                call: Box::new(failover_call()),
                target: "orders-global".into(),
                typed: true,
                note: None,
                assessment: Box::new(Assessment {
                    observed_at: at(186),
                    facts: vec![
                        Fact {
                            subject: "us-east-1 (writer region)".into(),
                            text: "unhealthy: 0/16 checkers pass".into(),
                            concern: false,
                        },
                        Fact {
                            subject: "orders-secondary (us-west-2)".into(),
                            text: "status available".into(),
                            concern: false,
                        },
                        Fact {
                            subject: "orders-secondary replication".into(),
                            text: "up to 1.4s of committed writes will be lost (AuroraGlobalDBRPOLag; RPO 5m)".into(),
                            concern: false,
                        },
                    ],
                    violations: vec![],
                }),
                overridden: None,
            }),
            waiting_for: None,
            outcome: None,
            read_only: false,
        }
    }

    fn draw(run: &RunView, dialog: Option<&ConfirmDialog>) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(110, 30)).unwrap();
        let theme = Theme::default();
        terminal
            .draw(|f| {
                render(f, &theme, &KeyMap::default(), run, at(190), f.area(), None);
                if let Some(d) = dialog {
                    d.render(f, &theme, f.area());
                }
            })
            .unwrap();
        terminal
    }

    #[test]
    fn a_table_keeps_its_rows_and_the_live_posture_takes_a_rest_worth_a_pane() {
        assert_eq!(share(40, 15, true), (15, 25));
        assert_eq!(share(18, 15, true), (18, 0), "3 lines say too little");
        assert_eq!(share(40, 15, false), (40, 0), "nothing to show under it");
        assert_eq!(share(10, 15, true), (10, 0), "a long runbook scrolls");
    }

    #[test]
    fn the_steps_table_wants_a_line_per_step_and_more_for_a_long_note() {
        let mut run = awaiting_confirmation();
        run.steps[0].run.observed = None;
        assert_eq!(
            steps_height(&run, 110),
            4 + 3,
            "four steps, heading, borders"
        );
        run.steps[0].run.observed = Some("word ".repeat(40));
        assert_eq!(steps_height(&run, 110), 4 + 3 + (NOTE_LINES as u16 - 1));
    }

    #[test]
    fn run_awaiting_confirmation() {
        insta::assert_snapshot!(draw(&awaiting_confirmation(), None).backend());
    }

    #[test]
    fn typed_confirmation_dialog_shows_the_exact_call() {
        let run = awaiting_confirmation();
        let mut dialog = ConfirmDialog::for_prompt(run.prompt.as_ref().unwrap(), at(190)).unwrap();
        dialog.input = "orders-gl".into();
        insta::assert_snapshot!(draw(&run, Some(&dialog)).backend());
    }

    /// The same failover while us-east-1 is healthy: the data-loss rule
    /// blocks it and the dialog asks for a reason before the target.
    #[test]
    fn blocked_confirmation_shows_the_facts_and_asks_for_an_override() {
        let mut run = awaiting_confirmation();
        if let Some(Prompt::ConfirmAction { assessment, .. }) = &mut run.prompt {
            assessment.facts[0] = Fact {
                subject: "us-east-1 (writer region)".into(),
                text: "healthy: 16/16 checkers pass".into(),
                concern: true,
            };
            assessment.violations.push(Violation {
                rule: Rule::DataLossWhilePrimaryHealthy,
                message: "us-east-1 holds the writer and passes its health checks (16/16 checkers): a managed switchover loses nothing".into(),
            });
        }
        let mut dialog = ConfirmDialog::for_prompt(run.prompt.as_ref().unwrap(), at(190)).unwrap();
        dialog.reason = "game day".into();
        insta::assert_snapshot!(draw(&run, Some(&dialog)).backend());
    }

    #[test]
    fn a_wait_shows_its_description_and_what_it_waits_for() {
        let mut run = awaiting_confirmation();
        settle(
            &mut run.steps[2],
            StepState::Done,
            96,
            Some(150),
            "FailoverGlobalCluster accepted",
        );
        settle(
            &mut run.steps[3],
            StepState::Waiting,
            150,
            None,
            "orders-secondary is secondary",
        );
        run.steps[3].description =
            Some("Aurora promotes the secondary; the global writer endpoint follows.".into());
        run.current = Some(3);
        run.prompt = None;
        run.waiting_for =
            Some("cluster orders-secondary is writer (times out at 09:12:30Z)".into());
        insta::assert_snapshot!(draw(&run, None).backend());
    }

    #[test]
    fn completed_run_reports_the_actual_rto() {
        let mut run = awaiting_confirmation();
        for (i, s) in run.steps.iter_mut().enumerate() {
            let from = 100 * i as i64;
            settle(s, StepState::Done, from, Some(from + 90), "");
        }
        run.steps[3].run.state = StepState::Skipped {
            reason: "cluster already writable".into(),
        };
        run.prompt = None;
        run.outcome = Some(RunOutcome::Completed {
            elapsed: Duration::from_secs(12 * 60 + 4),
        });
        insta::assert_snapshot!(draw(&run, None).backend());
    }

    #[test]
    fn a_run_started_during_an_outage_counts_from_the_outage() {
        let mut run = awaiting_confirmation();
        for (i, s) in run.steps.iter_mut().enumerate() {
            let from = 100 * i as i64;
            settle(s, StepState::Done, from, Some(from + 30), "");
        }
        run.incident = Some(IncidentStart {
            start: at(-143),
            basis: Basis::Transition,
            declared_by: None,
            reason: None,
        });
        run.prompt = None;
        run.outcome = Some(RunOutcome::Completed {
            elapsed: Duration::from_secs(2 * 60 + 8),
        });
        let shown = draw(&run, None).backend().to_string();
        assert!(
            shown.contains("orders restored 4m31s after the outage began (RTO 15m)"),
            "{shown}"
        );
        assert!(shown.contains("runbook took 2m08s"), "{shown}");
        assert!(shown.contains("RTO 4m31s / 15m"), "{shown}");
        insta::assert_snapshot!(draw(&run, None).backend());
    }

    fn screen_text(terminal: &Terminal<TestBackend>) -> String {
        let buffer = terminal.backend().buffer();
        let width = usize::from(buffer.area.width);
        buffer
            .content()
            .chunks(width)
            .map(|row| row.iter().map(|c| c.symbol()).collect::<String>() + "\n")
            .collect()
    }

    #[test]
    fn an_aborted_runs_last_step_looks_stopped_not_active() {
        let mut run = awaiting_confirmation();
        run.prompt = None;
        run.outcome = Some(RunOutcome::Aborted {
            reason: "drill over".into(),
            elapsed: Duration::from_secs(190),
        });
        let shown = screen_text(&draw(&run, None));
        let row = shown
            .lines()
            .find(|l| l.contains("Fail the global database over"))
            .unwrap();
        assert!(row.contains('■') && row.contains("stopped"), "{row}");
        assert!(!row.contains('?'), "{row}");
        assert!(shown.contains("Run aborted"), "{shown}");
    }

    #[test]
    fn the_prompt_names_the_keys_the_user_bound() {
        let table: std::collections::BTreeMap<Action, crate::tui::keys::KeyList> =
            toml::from_str("confirm = \"Enter\"").unwrap();
        let keys = KeyMap::with_overrides(&table).unwrap();
        let run = awaiting_confirmation();
        let line: String = prompt_lines(&Theme::default(), &keys, &run)[0]
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert!(line.contains("Enter review the live facts"), "{line}");
    }
}
