//! The Timeline screen: the incident's story in time order, newest at the
//! bottom, from the journals and the events log.
//!
//! ```text
//! ┌ Timeline · outage 12:00:05Z → 12:14:10Z (14m05s) ─────────────────────┐
//! │ 12:00:05 orders  monitor  availability UP → DOWN                      │
//! │ 12:01:10 orders  run      started run of “Orders — failover” ann@lap  │
//! │ 12:03:00 orders  run      overrode the safety rules fail-over  ann@…  │
//! │                           why: primary is down, lag under the RPO     │
//! └───────────────────────────────────────────────────────────────────────┘
//!  what could not be read, if anything
//! ```

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::fit::{fit_padded, wrap};
use crate::format::short_duration;
use crate::timeline::merge::{Origin, TimelineEntry};
use crate::tui::theme::Theme;
use crate::tui::timeline::TimelineState;

pub fn render(
    frame: &mut Frame,
    theme: &Theme,
    state: &TimelineState,
    now: DateTime<Utc>,
    area: Rect,
) {
    let Some(built) = &state.built else {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "reading the journals and the events log …",
                theme.style.muted,
            ))
            .block(block(theme, " Timeline ".into())),
            area,
        );
        return;
    };
    let [list_area, problems_area] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(u16::from(!built.problems.is_empty())),
    ])
    .areas(area);
    let timeline = &built.timeline;
    let title = match &timeline.incident {
        Some(incident) => {
            let end = incident.end.unwrap_or(now);
            let took = short_duration((end - incident.start).to_std().unwrap_or_default());
            match incident.end {
                Some(end) => format!(
                    " Timeline · outage {} → {} ({took}) ",
                    incident.start.format("%H:%M:%SZ"),
                    end.format("%H:%M:%SZ")
                ),
                None => format!(
                    " Timeline · outage since {} ({took}, still open) ",
                    incident.start.format("%H:%M:%SZ")
                ),
            }
        }
        None => " Timeline · no outage seen ".into(),
    };
    // Each entry whole, wrapped under its text: a long reason or error is
    // read here or nowhere.
    let width = usize::from(list_area.width.saturating_sub(2));
    let entries: Vec<Vec<Line>> = timeline
        .entries
        .iter()
        .map(|e| {
            entry_lines(theme, e)
                .into_iter()
                .flat_map(|l| wrap(l, width, HANG))
                .collect()
        })
        .collect();
    let height = usize::from(list_area.height.saturating_sub(2));
    // Scrolling counts entries, however many lines each takes.
    let hidden_after: usize = entries.iter().rev().take(state.back).map(Vec::len).sum();
    let lines: Vec<Line> = entries.into_iter().flatten().collect();
    let end = lines.len().saturating_sub(hidden_after);
    let start = end.saturating_sub(height);
    // Scrolled back to the oldest, the page is still a full one: the
    // entries after fill it rather than blank rows.
    let end = (start + height).min(lines.len()).max(end);
    let shown: Vec<Line> = if lines.is_empty() {
        vec![Line::styled(
            "Nothing recorded yet: changes the console sees and every run's steps appear here.",
            theme.style.muted,
        )]
    } else {
        lines[start..end].to_vec()
    };
    frame.render_widget(Paragraph::new(shown).block(block(theme, title)), list_area);
    if let Some(first) = built.problems.first() {
        let more = match built.problems.len() {
            1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        frame.render_widget(
            Paragraph::new(Span::styled(
                format!(" cannot read: {first}{more}"),
                theme.style.stale,
            )),
            problems_area,
        );
    }
}

/// Where an entry's text starts, after its time, service and origin: its
/// wrapped lines continue there.
const HANG: usize = 26;

fn block(theme: &Theme, title: String) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .border_style(theme.style.border)
        .title(Span::styled(title, theme.style.title))
}

fn entry_lines<'a>(theme: &Theme, entry: &'a TimelineEntry) -> Vec<Line<'a>> {
    let origin = match entry.origin {
        Origin::Monitor => "seen",
        Origin::Rds => "rds",
        Origin::Run => "run",
    };
    let mut spans = vec![
        Span::styled(
            format!(" {} ", entry.at.format("%H:%M:%S")),
            theme.style.muted,
        ),
        Span::styled(
            format!(
                "{} ",
                fit_padded(entry.service.as_deref().unwrap_or(""), 10)
            ),
            theme.style.text,
        ),
        Span::styled(format!("{origin:<5}"), theme.style.muted),
        Span::styled(entry.what.as_str(), theme.style.text),
    ];
    if let Some(step) = &entry.step {
        spans.push(Span::styled(format!(" {step}"), theme.style.key));
    }
    if let Some(who) = &entry.who {
        spans.push(Span::styled(
            format!("  {who}"),
            theme.style.text.add_modifier(Modifier::BOLD),
        ));
    }
    let mut lines = vec![Line::from(spans)];
    if let Some(why) = &entry.why {
        lines.push(Line::from(vec![
            Span::styled("                      why: ", theme.style.muted),
            Span::styled(why.as_str(), theme.style.text),
        ]));
    }
    lines
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::timeline::events::{Change, EventLog, ObservedEvent};
    use crate::timeline::merge::{Filter, build};
    use crate::tui::timeline::{Built, TimelineSetup};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap()
    }

    fn availability(s: i64, from: &str, to: &str) -> ObservedEvent {
        ObservedEvent {
            at: at(s),
            service: Some("orders".into()),
            change: Change::Availability {
                from: Some(from.into()),
                to: to.into(),
            },
        }
    }

    #[test]
    fn the_timeline_screen_shows_the_outage_and_the_newest_entries() {
        let events = [
            availability(0, "UP", "DOWN"),
            ObservedEvent {
                at: at(30),
                service: Some("orders".into()),
                change: Change::Dns {
                    record: "api.example.com".into(),
                    from: Some("api.us-east-1.example.com".into()),
                    to: "api.us-west-2.example.com".into(),
                },
            },
            availability(600, "DOWN", "UP"),
        ];
        let mut state = TimelineState::new(TimelineSetup {
            journal_dir: "/nonexistent".into(),
            events: EventLog::new("/nonexistent"),
        });
        state.built = Some(Arc::new(Built {
            timeline: build(&[], &events, &Filter::default()),
            problems: vec!["/data/journal/orders-x.jsonl:3: not a journal record".into()],
        }));
        let mut terminal = Terminal::new(TestBackend::new(100, 9)).unwrap();
        let theme = Theme::default();
        terminal
            .draw(|f| render(f, &theme, &state, at(700), f.area()))
            .unwrap();
        insta::assert_snapshot!(terminal.backend());
    }

    /// `g` goes to the oldest entry; the page under it is still full.
    #[test]
    fn scrolled_to_the_oldest_the_page_is_full() {
        let events: Vec<ObservedEvent> = (0..30)
            .map(|i| availability(i * 60, "UP", if i % 2 == 0 { "DOWN" } else { "UP" }))
            .collect();
        let mut state = TimelineState::new(TimelineSetup {
            journal_dir: "/nonexistent".into(),
            events: EventLog::new("/nonexistent"),
        });
        state.built = Some(Arc::new(Built {
            timeline: build(&[], &events, &Filter::default()),
            problems: vec![],
        }));
        state.on_key(crossterm::event::KeyEvent::from(
            crossterm::event::KeyCode::Char('g'),
        ));
        let mut terminal = Terminal::new(TestBackend::new(100, 16)).unwrap();
        let theme = Theme::default();
        terminal
            .draw(|f| render(f, &theme, &state, at(3600), f.area()))
            .unwrap();
        let buffer = terminal.backend().buffer();
        let rows: Vec<String> = (0..16)
            .map(|y| (0..100).map(|x| buffer[(x, y)].symbol()).collect())
            .collect();
        let blank = rows
            .iter()
            .filter(|r| {
                r.trim_matches(|c: char| c == '│' || c.is_whitespace())
                    .is_empty()
            })
            .count();
        assert!(
            blank <= 1,
            "blank rows under the oldest entry:\n{}",
            rows.join("\n")
        );
    }

    #[test]
    fn the_dashboard_offers_the_timeline_key_where_it_fits_beside_help_and_quit() {
        let mut app =
            crate::tui::render::testing::demo_app("demo", std::time::Duration::from_secs(5), at(0));
        app.timeline = Some(TimelineState::new(TimelineSetup {
            journal_dir: "/nonexistent".into(),
            events: EventLog::new("/nonexistent"),
        }));
        let footer = |width: u16| {
            let mut terminal = Terminal::new(TestBackend::new(width, 24)).unwrap();
            terminal
                .draw(|f| crate::tui::render::app::render(f, &app))
                .unwrap();
            let buffer = terminal.backend().buffer();
            (0..width)
                .map(|x| buffer[(x, 23)].symbol().to_string())
                .collect::<String>()
        };
        let narrow = footer(80);
        assert!(
            narrow.contains("q quit") && narrow.contains("? help"),
            "{narrow}"
        );
        let wide = footer(160);
        assert!(
            wide.contains("t timeline") && wide.contains("q quit"),
            "{wide}"
        );
    }
}
