//! The Readiness screen: the DR checklist per service, worst first, and
//! the selected check's evidence and fix.
//!
//! ```text
//! ┌ Readiness · 2 failing · 1 with warnings · 1 ready ── read 12:00:03 ┐
//! │ FAIL  orders · Orders API                     2 fail · 3 warn · 14 pass │
//! │ ▌FAIL dr environment  engine version   orders-primary (us-east-1) 15.4 … │
//! │  warn backups         cross-region copy orders-primary: no backup copy … │
//! │  pass ...                                                             │
//! │ warn  billing · Billing                       0 fail · 2 warn · 15 pass │
//! ├ orders · engine version ──────────────────────────────────────────────┤
//! │ evidence (wrapped)                                                    │
//! │ fix: the one-line fix                                                 │
//! └──────────────────────────────────────────────────────────────────────┘
//! ```
//! The dashboard's bottom border carries [`summary`].

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use unicode_width::UnicodeWidthStr;

use super::fit::{fit, fit_padded};
use crate::readiness::{Readiness, Status};
use crate::tui::readiness::ReadinessState;
use crate::tui::theme::Theme;

fn status_style(theme: &Theme, status: Status) -> Style {
    match status {
        Status::Pass => theme.style.ok,
        Status::Warn => theme.style.at_risk,
        Status::Fail => theme.style.breach,
    }
}

fn counts(r: &Readiness) -> String {
    format!(
        "{} failing · {} with warnings · {} ready",
        r.count(Status::Fail),
        r.count(Status::Warn),
        r.count(Status::Pass)
    )
}

/// The dashboard's readiness line, once an evaluation exists.
pub fn summary(theme: &Theme, state: Option<&ReadinessState>) -> Option<Line<'static>> {
    let r = state?.readiness.as_ref()?;
    Some(Line::from(vec![
        Span::styled(" Readiness ", theme.style.title),
        Span::styled(
            format!(" {} ", r.status.label()),
            status_style(theme, r.status),
        ),
        Span::styled(format!(" {} · 4 to see ", counts(r)), theme.style.muted),
    ]))
}

pub fn render(frame: &mut Frame, theme: &Theme, state: Option<&ReadinessState>, area: Rect) {
    let style = &theme.style;
    let block = |title: Line<'static>| {
        Block::default()
            .borders(Borders::ALL)
            .border_style(style.border)
            .title(title)
    };
    let Some((state, readiness)) = state.and_then(|s| Some((s, s.readiness.as_ref()?))) else {
        let text = if state.is_some() {
            "Reading the configuration of every region…"
        } else {
            "Readiness is not evaluated in this session."
        };
        frame.render_widget(
            Paragraph::new(Line::styled(text, style.muted))
                .block(block(Line::styled(" Readiness ", style.title))),
            area,
        );
        return;
    };
    let checks = state.checks();
    let selected = checks.get(state.selected).copied();
    let detail_lines = selected.map_or(0, |(_, c)| {
        let width = area.width.saturating_sub(2).max(1) as usize;
        let wrap = |s: &str| s.chars().count().div_ceil(width).max(1) as u16;
        wrap(&c.evidence)
            + if c.fix.is_empty() {
                0
            } else {
                wrap(&format!("fix: {}", c.fix))
            }
    });
    let detail_height = (detail_lines + 2)
        .min(area.height / 2)
        .max(3.min(area.height));
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(detail_height)]).areas(area);

    let mut title = vec![
        Span::styled(" Readiness ", style.title),
        Span::styled(format!(" {} ", counts(readiness)), style.text),
    ];
    let mut notes = Vec::new();
    if let Some(e) = &state.evidence {
        notes.push(format!("read {}", e.read_at.format("%H:%M:%S")));
        if !e.configuration.failed.is_empty() {
            notes.push(format!(
                "{} config source(s) failed",
                e.configuration.failed.len()
            ));
        }
    }
    if !notes.is_empty() {
        title.push(Span::styled(
            format!(" {} ", notes.join(" · ")),
            style.muted,
        ));
    }
    let outer = block(Line::from(title));
    let inner = outer.inner(list_area);
    frame.render_widget(outer, list_area);

    // One line per service heading and per check; the selection stays in view.
    let mut lines = Vec::new();
    let mut selected_line = 0;
    let mut index = 0;
    let name_width = checks
        .iter()
        .map(|(_, c)| c.name.width())
        .max()
        .unwrap_or(0);
    let width = usize::from(inner.width);
    for card in &readiness.services {
        let tally = format!(
            "   {} fail · {} warn · {} pass",
            card.failures, card.warnings, card.passed
        );
        let title = format!(" {} · {}", card.service_id, card.service_name);
        let room = width.saturating_sub(5 + tally.width());
        lines.push(Line::from(vec![
            Span::styled(
                format!("{:<5}", card.status.label()),
                status_style(theme, card.status),
            ),
            Span::styled(fit(&title, room).into_owned(), style.title),
            Span::styled(tally, style.muted),
        ]));
        for c in &card.checks {
            let is_selected = index == state.selected;
            if is_selected {
                selected_line = lines.len();
            }
            let marker = if is_selected { "▌" } else { " " };
            let mut spans = vec![
                Span::styled(marker.to_string(), style.selection),
                Span::styled(
                    format!("{:<5}", c.status.label()),
                    status_style(theme, c.status),
                ),
                Span::styled(format!(" {:<14}", c.area.label()), style.muted),
                Span::styled(format!("  {}", fit_padded(&c.name, name_width)), style.text),
            ];
            // The evidence in the room left, cut at a word: the pane below
            // shows the selected check's whole.
            let room = width.saturating_sub(spans.iter().map(Span::width).sum::<usize>() + 2);
            spans.push(Span::styled(
                format!("  {}", fit(&c.evidence, room)),
                style.muted,
            ));
            let mut line = Line::from(spans);
            if is_selected {
                line = line.style(style.selection);
            }
            lines.push(line);
            index += 1;
        }
    }
    let height = inner.height as usize;
    let first = (selected_line + 1).saturating_sub(height);
    frame.render_widget(
        Paragraph::new(lines.into_iter().skip(first).collect::<Vec<_>>()),
        inner,
    );

    let Some((service, check)) = selected else {
        return;
    };
    let mut text = vec![Line::styled(check.evidence.clone(), style.text)];
    if !check.fix.is_empty() {
        text.push(Line::from(vec![
            Span::styled("fix: ", style.key),
            Span::styled(check.fix.clone(), style.text),
        ]));
    }
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(block(Line::from(vec![
                Span::styled(format!(" {service} · {} ", check.name), style.title),
                Span::styled(
                    format!(" {} ", check.status.label()),
                    status_style(theme, check.status),
                ),
            ]))),
        detail_area,
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use chrono::{TimeZone, Utc};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use crate::config::environment_file::demo_environment;
    use crate::monitor::{MonitorEvent, MonitorState};
    use crate::provider::sim::SimWorld;
    use crate::readiness::facts::Configuration;
    use crate::runbook::format;
    use crate::tui::readiness::{Evidence, ReadinessState};
    use crate::tui::state::App;
    use crate::tui::theme::Theme;

    /// The demo estate with its declared drift, one poll in, its billing
    /// runbook loaded, no journals.
    fn demo_app() -> App {
        let env = demo_environment();
        let start = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let world = SimWorld::new(&env, start);
        let mut app = App::new(
            env,
            Theme::default(),
            "demo · read-only",
            MonitorState::new(Duration::from_secs(1)),
            start,
        );
        app.on_monitor(
            MonitorEvent {
                readings: world.observe(),
                took: Duration::from_millis(100),
            },
            world.now(),
        );
        let billing = format::parse(
            Path::new("runbooks/billing-replica-promotion.yaml"),
            include_str!("../../../runbooks/billing-replica-promotion.yaml"),
        )
        .unwrap();
        let mut state = ReadinessState::with_evidence(Evidence {
            configuration: Configuration::from_readings(&world.configuration()),
            runs: Vec::new(),
            unreadable: Vec::new(),
            read_at: world.now(),
        });
        state.evaluate(&app.environment, app.monitor.merged(), &[billing], app.now);
        app.readiness = Some(state);
        app
    }

    use crate::tui::render::testing::draw_app as draw;

    fn press(app: &mut App, code: KeyCode) {
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    }

    #[test]
    fn readiness_screen_puts_failures_first_with_the_selected_checks_evidence_and_fix() {
        let mut app = demo_app();
        press(&mut app, KeyCode::Char('4'));
        insta::assert_snapshot!(draw(&app, 160, 45).backend());
    }

    #[test]
    fn readiness_screen_narrow_after_moving_down() {
        let mut app = demo_app();
        press(&mut app, KeyCode::Char('4'));
        press(&mut app, KeyCode::Char('j'));
        press(&mut app, KeyCode::Char('j'));
        insta::assert_snapshot!(draw(&app, 80, 24).backend());
    }

    #[test]
    fn the_dashboard_carries_the_readiness_summary() {
        let app = demo_app();
        let screen = format!("{:?}", draw(&app, 160, 45).backend());
        assert!(
            screen.contains("Readiness  FAIL  5 failing · 0 with warnings · 0 ready · 4 to see"),
            "{screen}"
        );
    }
}
