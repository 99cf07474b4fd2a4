//! The bottom line: the keys that work now (from the key table, only those
//! that do something where the console is), the `:` palette or the filter
//! being typed, or a one-off notice until the next key (the Runbooks and
//! Follow screens show theirs in their own status lines).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::state::{App, Screen};
use crate::tui::theme::Roles;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme.style;
    let line = if app.palette.open {
        palette_line(app)
    } else if app.filter_editing {
        Line::from(vec![
            Span::styled(" /", theme.key),
            Span::styled(format!("{}▏", app.shown_filter()), theme.text),
            Span::styled("  Enter keep  Esc clear", theme.muted),
        ])
    } else if let Some(notice) = app
        .notice
        .as_ref()
        .filter(|_| !matches!(app.screen, Screen::Runbooks | Screen::Follow))
    {
        Line::from(Span::styled(format!(" {notice}"), theme.at_risk))
    } else {
        let mut keys = app
            .keys
            .footer(&app.contexts(), |action| app.applies(action));
        fit(&mut keys, usize::from(area.width));
        let mut line = key_line(theme, &keys);
        if !app.filter.is_empty() && app.screen == Screen::Dashboard {
            line.push_span(Span::styled(
                format!(" filter: {}", app.filter),
                theme.at_risk,
            ));
        }
        line
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The palette being typed, then why it was refused or what Tab offers.
fn palette_line(app: &App) -> Line<'static> {
    let theme = &app.theme.style;
    let mut spans = vec![
        Span::styled(" :", theme.key),
        Span::styled(format!("{}▏", app.palette.input), theme.text),
    ];
    if let Some(error) = &app.palette.error {
        spans.push(Span::styled(format!("  {error}"), theme.breach));
    } else {
        let offered = app.palette.suggestions(&app.vocabulary());
        let hint = if offered.is_empty() {
            "  no such command · Esc close".to_string()
        } else {
            format!(
                "  {} · Tab complete · Enter run · Esc close",
                offered.join("  ")
            )
        };
        spans.push(Span::styled(hint, theme.muted));
    }
    Line::from(spans)
}

/// Drops items until the line fits, never cutting one: help and quit (the
/// last two) stay, then the screen's own keys before the global ones.
fn fit(keys: &mut Vec<(String, &str)>, width: usize) {
    let drawn = |keys: &[(String, &str)]| -> usize {
        keys.iter()
            .map(|(k, w)| k.chars().count() + w.chars().count() + 3)
            .sum()
    };
    while drawn(keys) > width && keys.len() > 2 {
        keys.remove(keys.len() - 3);
    }
}

fn key_line(theme: &Roles<Style>, keys: &[(String, &str)]) -> Line<'static> {
    let mut spans = Vec::with_capacity(keys.len() * 2);
    for (key, what) in keys {
        spans.push(Span::styled(format!(" {key}"), theme.key));
        spans.push(Span::styled(format!(" {what} "), theme.muted));
    }
    Line::from(spans)
}
