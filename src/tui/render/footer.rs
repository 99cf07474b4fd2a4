//! The bottom line: the keys that work now, the filter being typed, or a
//! one-off notice on the dashboard until the next key.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::state::{App, Focus, Screen};
use crate::tui::theme::Roles;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme.style;
    let line = if app.filter_editing {
        Line::from(vec![
            Span::styled(" /", theme.key),
            Span::styled(format!("{}▏", app.filter), theme.text),
            Span::styled("  Enter keep  Esc clear", theme.muted),
        ])
    } else if app.screen == Screen::Runbooks {
        let viewed = app.runbooks.as_ref().and_then(|r| r.viewed());
        let viewing_run = viewed.is_some();
        let run_over = viewed.is_some_and(|r| !r.in_progress());
        let blocked = app.runbooks.as_ref().is_some_and(|r| r.blocked.is_some());
        let keys: &[(&str, &str)] = if viewing_run && run_over {
            &[
                ("Esc", "list"),
                ("3", "runs"),
                ("1", "dashboard"),
                ("q", "quit"),
            ]
        } else if viewing_run {
            &[
                ("c", "confirm"),
                ("Space", "tick"),
                ("r", "retry"),
                ("s", "skip"),
                ("A", "abort"),
                ("Esc", "list"),
                ("3", "runs"),
                ("1", "dashboard"),
                ("q", "quit"),
            ]
        } else if blocked {
            &[
                ("↑↓/jk", "move"),
                ("Enter", "run"),
                ("D", "discard journal"),
                ("3", "runs"),
                ("1", "dashboard"),
                ("q", "quit"),
            ]
        } else {
            &[
                ("↑↓/jk", "move"),
                ("Enter", "run"),
                ("3", "runs"),
                ("1", "dashboard"),
                ("?", "help"),
                ("q", "quit"),
            ]
        };
        key_line(theme, keys)
    } else if app.screen == Screen::Timeline {
        key_line(
            theme,
            &[
                ("↑↓/jk", "scroll"),
                ("g/G", "oldest/newest"),
                ("1", "dashboard"),
                ("q", "quit"),
            ],
        )
    } else if app.screen == Screen::Follow {
        let keys: &[(&str, &str)] = match app.follow.as_ref().and_then(|f| f.followed()) {
            Some(_) => &[
                ("Esc", "runs to follow"),
                ("1", "dashboard"),
                ("?", "help"),
                ("q", "quit"),
            ],
            None => &[
                ("↑↓/jk", "move"),
                ("Enter", "follow"),
                ("1", "dashboard"),
                ("q", "quit"),
            ],
        };
        key_line(theme, keys)
    } else if app.screen == Screen::Runs {
        key_line(
            theme,
            &[
                ("↑↓/jk", "move"),
                ("Enter", "open"),
                ("2", "runbooks"),
                ("1", "dashboard"),
                ("?", "help"),
                ("q", "quit"),
            ],
        )
    } else if app.screen == Screen::Readiness {
        key_line(
            theme,
            &[
                ("↑↓/jk", "move"),
                ("g/G", "first/last"),
                ("1", "dashboard"),
                ("2", "runbooks"),
                ("?", "help"),
                ("q", "quit"),
            ],
        )
    } else if let Some(notice) = &app.notice {
        Line::from(Span::styled(format!(" {notice}"), theme.at_risk))
    } else {
        let mut keys: Vec<(&str, &str)> = vec![("↑↓/jk", "move"), ("g/G", "first/last")];
        if app.detail_open {
            keys.push((
                "Tab",
                match app.focus {
                    Focus::Table => "to detail",
                    Focus::Detail => "to table",
                },
            ));
            keys.push(("Esc", "close"));
        } else {
            keys.push(("Enter", "detail"));
        }
        keys.extend([("/", "filter"), ("2", "runbooks")]);
        // Room is short at 80 columns: the Runs key shows once there are runs.
        if app.runbooks.as_ref().is_some_and(|r| !r.runs.is_empty()) {
            keys.push(("3", "runs"));
        }
        if app.follow.is_some() {
            keys.push(("f", "follow"));
        }
        // At 80 columns the timeline's key would push out help and quit;
        // the help lists it.
        if app.timeline.is_some() && area.width >= 100 {
            keys.push(("t", "timeline"));
        }
        keys.extend([("?", "help"), ("q", "quit")]);
        let mut line = key_line(theme, &keys);
        if !app.filter.is_empty() {
            line.push_span(Span::styled(
                format!(" filter: {}", app.filter),
                theme.at_risk,
            ));
        }
        line
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn key_line(theme: &Roles<Style>, keys: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::with_capacity(keys.len() * 2);
    for (key, what) in keys {
        spans.push(Span::styled(format!(" {key}"), theme.key));
        spans.push(Span::styled(format!(" {what} "), theme.muted));
    }
    Line::from(spans)
}
