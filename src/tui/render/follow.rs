//! The Follow screen: another session's run, live and read-only, beside
//! the dashboard; or, before one is chosen, the runs that are going.
//!
//! ```text
//! ┌ Services × regions ──────────┐┌ Orders — failover · orders · RTO 3m / 15m ┐
//! │ the dashboard's table         ││ ✓ 1 Confirm the outage   check  1m  4s    │
//! │ (dashboard.rs), when the      ││ ▶ 2 Fail over            action 2m  12s   │
//! │ screen is wide enough         │├ Now ──────────────────────────────────────┤
//! │                               ││ what the run waits for (run.rs)           │
//! │                               │├ Decisions ────────────────────────────────┤
//! │                               ││ 12:01:05Z ann@laptop confirmed  fail-over │
//! │                               ││           reason: …                       │
//! └───────────────────────────────┘└───────────────────────────────────────────┘
//!  FOLLOWING run … by ann@laptop on laptop · read-only · journal written 3s ago
//! ```
//!
//! Choosing: a table of the active runs (service, runbook, operator,
//! started, last written) with the source named in its title.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState, Wrap};

use super::cells::age_label;
use super::fit::{column_widths, fit, wrap};
use super::{dashboard, run};
use crate::follow::decisions::Decision;
use crate::follow::view::FollowedRun;
use crate::tui::follow::FollowState;
use crate::tui::state::App;
use crate::tui::theme::Theme;

/// From this width the dashboard stays on screen beside the run.
pub const BESIDE_DASHBOARD: u16 = 150;

pub fn render(frame: &mut Frame, app: &App, state: &FollowState, area: Rect) {
    let [body, status] = Layout::vertical([Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let pane = if body.width >= BESIDE_DASHBOARD {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)])
                .areas(body);
        let (table, preview) = super::app::with_preview(left, app);
        dashboard::render(frame, app, table);
        if let Some(area) = preview {
            super::detail::render(frame, app, area);
        }
        right
    } else {
        body
    };
    let theme = &app.theme;
    match (state.followed(), &state.status.run) {
        (None, _) => chooser(frame, theme, state, app.now, pane),
        (Some(run), None) => {
            let text = format!("reading {} …", run.location);
            frame.render_widget(
                Paragraph::new(Span::styled(text, theme.style.muted))
                    .wrap(Wrap { trim: false })
                    .block(block(theme, " Following ")),
                pane,
            );
        }
        (Some(_), Some(followed)) => followed_run(frame, app, followed, pane),
    }
    frame.render_widget(
        Paragraph::new(status_line(theme, state, app.notice.as_deref(), app.now)),
        status,
    );
}

fn block<'a>(theme: &Theme, title: &'a str) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style.border)
        .title(Span::styled(title, theme.style.title))
}

fn followed_run(frame: &mut Frame, app: &App, followed: &FollowedRun, area: Rect) {
    let theme = &app.theme;
    // Each decision whole, its reason wrapped: why someone overrode a
    // safety rule is read here.
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines: Vec<Line> = followed
        .decisions
        .iter()
        .flat_map(|d| decision_lines(theme, d))
        .flat_map(|l| wrap(l, width, DECISION_HANG))
        .collect();
    let wanted = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let decisions_height = wanted.clamp(3, (area.height / 3).max(3));
    let [run_area, decisions_area] =
        Layout::vertical([Constraint::Min(6), Constraint::Length(decisions_height)]).areas(area);
    run::render(
        frame,
        theme,
        &app.keys,
        &followed.view,
        app.now,
        run_area,
        Some(app),
    );
    let inner = usize::from(decisions_area.height.saturating_sub(2));
    // The newest decisions matter most when they do not all fit.
    if lines.len() > inner {
        lines.drain(..lines.len() - inner);
    }
    if lines.is_empty() {
        lines.push(Line::styled("none yet", theme.style.muted));
    }
    frame.render_widget(
        Paragraph::new(lines).block(block(theme, " Decisions ")),
        decisions_area,
    );
}

/// Where a decision's reason starts: its wrapped lines continue there.
const DECISION_HANG: usize = 16;

fn decision_lines<'a>(theme: &Theme, decision: &'a Decision) -> Vec<Line<'a>> {
    let mut first = vec![
        Span::styled(
            format!(" {} ", decision.at.format("%H:%M:%SZ")),
            theme.style.muted,
        ),
        Span::styled(
            decision.who.as_deref().unwrap_or("someone"),
            theme.style.text.add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!(" {}", decision.kind.label()), theme.style.text),
    ];
    if let Some(step) = &decision.step {
        first.push(Span::styled(format!(" {step}"), theme.style.key));
    }
    let mut lines = vec![Line::from(first)];
    if let Some(reason) = &decision.reason {
        lines.push(Line::from(vec![
            Span::styled("           why: ", theme.style.muted),
            Span::styled(reason.as_str(), theme.style.text),
        ]));
    }
    lines
}

fn chooser(frame: &mut Frame, theme: &Theme, state: &FollowState, now: DateTime<Utc>, area: Rect) {
    let title = format!(" Runs to follow · {} ", state.origin);
    let runs = match &state.active {
        None => {
            frame.render_widget(
                Paragraph::new(Span::styled("looking for runs …", theme.style.muted))
                    .block(block(theme, &title)),
                area,
            );
            return;
        }
        Some(Err(e)) => {
            frame.render_widget(
                Paragraph::new(Span::styled(e.as_str(), theme.style.breach))
                    .wrap(Wrap { trim: false })
                    .block(block(theme, &title)),
                area,
            );
            return;
        }
        Some(Ok(runs)) => runs,
    };
    if runs.is_empty() {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "No run is in progress. Runs appear here as they start.",
                theme.style.muted,
            ))
            .block(block(theme, &title)),
            area,
        );
        return;
    }
    let constraints = [
        Constraint::Length(12),
        Constraint::Fill(2),
        Constraint::Fill(1),
        Constraint::Length(10),
        Constraint::Length(9),
    ];
    // Inside the border, after the two-column selection mark.
    let widths = column_widths(area.width.saturating_sub(4), &constraints, 1);
    let width = |i: usize| widths.get(i).copied().unwrap_or_default();
    let rows = runs.iter().map(|active| {
        Row::new(vec![
            Span::styled(fit(&active.run.service, width(0)), theme.style.text),
            Span::styled(fit(&active.runbook, width(1)), theme.style.text),
            Span::styled(fit(&active.operator, width(2)), theme.style.muted),
            Span::styled(
                active.started_at.format("%H:%M:%SZ").to_string(),
                theme.style.muted,
            ),
            Span::styled(ago(now, active.last_at), theme.style.muted),
        ])
    });
    let header =
        Row::new(["Service", "Runbook", "Operator", "Started", "Written"]).style(theme.style.title);
    let table = Table::new(rows, constraints)
        .header(header)
        .row_highlight_style(theme.style.selection)
        .highlight_symbol("▶ ")
        .block(block(theme, &title));
    let mut selected = TableState::default().with_selected(Some(state.selected));
    frame.render_stateful_widget(table, area, &mut selected);
}

fn ago(now: DateTime<Utc>, at: DateTime<Utc>) -> String {
    format!("{} ago", age_label((now - at).to_std().unwrap_or_default()))
}

fn status_line<'a>(
    theme: &Theme,
    state: &'a FollowState,
    notice: Option<&'a str>,
    now: DateTime<Utc>,
) -> Line<'a> {
    let badge = Span::styled(
        " FOLLOWING · read-only ",
        theme
            .style
            .at_risk
            .add_modifier(Modifier::REVERSED | Modifier::BOLD),
    );
    let mut spans = vec![badge];
    if let Some(notice) = notice {
        spans.push(Span::styled(format!(" {notice}"), theme.style.at_risk));
        return Line::from(spans);
    }
    match (&state.status.run, state.followed()) {
        (Some(followed), _) => {
            spans.push(Span::styled(
                format!(
                    " run {} by {} on {} · written {}",
                    followed.run.run_id,
                    followed.operator,
                    followed.host,
                    ago(now, followed.last_at)
                ),
                theme.style.muted,
            ));
            if !followed.runbook_known {
                spans.push(Span::styled(
                    " · runbook file not found: steps as journaled",
                    theme.style.at_risk,
                ));
            }
        }
        (None, Some(run)) => spans.push(Span::styled(
            format!(" {}", run.location),
            theme.style.muted,
        )),
        (None, None) => spans.push(Span::styled(
            " ↑↓/jk choose · Enter follow",
            theme.style.muted,
        )),
    }
    if let Some(error) = &state.status.error {
        spans.push(Span::styled(
            format!(" · cannot read: {error}"),
            theme.style.breach,
        ));
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::Arc;
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::follow::local::LocalJournals;
    use crate::monitor::MonitorState;
    use crate::runbook::journal::{Entry, Record, RunMeta, StepState};
    use crate::tui::follow::FollowSetup;
    use crate::tui::state::{Screen, Update};

    const RUNBOOK: &str = r#"name: Orders — drill
description: A drill.
service: orders
objectives: { rto: 15m, rpo: 5m }
owner: sre@example.com
last_tested: 2026-10-20
steps:
  - id: approve
    title: Confirm the change is approved
    manual: Check the ticket.
  - id: lag
    title: The secondary is caught up
    expect_within: 1m
    check:
      - replication_lag_below: { resource: orders-secondary, max: 5s }
  - id: announce
    title: Announce the drill
    notify: "drill starting"
"#;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap()
    }

    fn record(s: i64, entry: Entry) -> Record {
        Record { at: at(s), entry }
    }

    fn step(s: i64, id: &str, state: StepState) -> Record {
        record(
            s,
            Entry::Step {
                step: id.into(),
                state,
            },
        )
    }

    fn journal(dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("orders-20261126T120000Z-42-ab.jsonl");
        let records = [
            record(
                0,
                Entry::RunStarted {
                    meta: RunMeta {
                        run_id: "20261126T120000Z-42-ab".into(),
                        runbook: "Orders — drill".into(),
                        file: "/elsewhere/orders-drill.yaml".into(),
                        service: "orders".into(),
                        operator: "ann@laptop".into(),
                        session: "cli-42".into(),
                        host: "laptop".into(),
                        incident: None,
                    },
                    params: Default::default(),
                },
            ),
            step(1, "approve", StepState::AwaitingConfirmation),
            record(
                20,
                Entry::Confirmed {
                    step: "approve".into(),
                    typed: false,
                    operator: Some("ann@laptop".into()),
                    assessment: None,
                },
            ),
            step(20, "approve", StepState::Done),
            step(21, "lag", StepState::Running),
            record(
                50,
                Entry::Skipped {
                    step: "lag".into(),
                    operator: "ann@laptop".into(),
                    reason: "lag metric missing in the drill account".into(),
                },
            ),
            step(
                50,
                "lag",
                StepState::Skipped {
                    reason: "lag metric missing in the drill account".into(),
                },
            ),
            step(51, "announce", StepState::Running),
        ];
        let mut file = std::fs::File::create(&path).unwrap();
        for r in records {
            writeln!(file, "{}", serde_json::to_string(&r).unwrap()).unwrap();
        }
        path
    }

    async fn following(dir: &std::path::Path) -> App {
        let path = journal(dir);
        let runbook =
            crate::runbook::format::parse(std::path::Path::new("drill.yaml"), RUNBOOK).unwrap();
        let env = crate::config::environment_file::demo_environment();
        let mut app = App::new(
            env,
            Theme::default(),
            "demo · read-only",
            MonitorState::new(Duration::from_secs(5)),
            at(54),
        );
        app.read_only = true;
        let setup = FollowSetup {
            source: Arc::new(LocalJournals::new(dir)),
            target: Some(LocalJournals::run_in(&path).unwrap()),
            library: Arc::new(vec![runbook]),
            origin: format!("journals in {}", dir.display()),
        };
        app.open_follow(Some(crate::tui::follow::FollowState::new(setup)));
        assert_eq!(app.screen, Screen::Follow);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while app.follow.as_ref().unwrap().status.run.is_none() {
            assert!(std::time::Instant::now() < deadline, "never read");
            tokio::time::sleep(Duration::from_millis(50)).await;
            app.on_tick(at(54));
        }
        app
    }

    use crate::tui::render::testing::draw_app as draw;

    fn screen_text(terminal: &Terminal<TestBackend>) -> String {
        let buffer = terminal.backend().buffer();
        buffer.content().iter().map(|c| c.symbol()).collect()
    }

    #[tokio::test]
    async fn a_followed_run_shows_its_steps_and_who_decided_what_beside_the_dashboard() {
        let dir = tempfile::tempdir().unwrap();
        let app = following(dir.path()).await;
        insta::assert_snapshot!(draw(&app, 160, 32).backend());
    }

    #[tokio::test]
    async fn a_narrow_follow_screen_shows_the_run_alone() {
        let dir = tempfile::tempdir().unwrap();
        let app = following(dir.path()).await;
        insta::assert_snapshot!(draw(&app, 80, 24).backend());
    }

    #[tokio::test]
    async fn keys_that_would_answer_the_run_say_the_session_cannot_act() {
        let dir = tempfile::tempdir().unwrap();
        let mut app = following(dir.path()).await;
        for key in ['c', ' ', 's', 'A'] {
            let update = app.on_key(KeyEvent::new(KeyCode::Char(key), KeyModifiers::NONE));
            assert_eq!(update, Update::Redraw);
            let text = screen_text(&draw(&app, 160, 32));
            assert!(
                text.contains("this follow session is read-only: it cannot"),
                "{key:?}: {text}"
            );
            assert!(text.contains("ann@laptop on laptop runs it"), "{text}");
        }
        app.on_key(KeyEvent::new(KeyCode::Char('j'), KeyModifiers::NONE));
        let text = screen_text(&draw(&app, 160, 32));
        assert!(
            !text.contains("cannot"),
            "the notice goes with the next key"
        );
        assert_eq!(app.screen, Screen::Follow);
    }
}
