//! The bottom line: the keys that work now, or the filter being typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::state::{App, Focus};

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme.style;
    let line = if app.filter_editing {
        Line::from(vec![
            Span::styled(" /", theme.key),
            Span::styled(format!("{}▏", app.filter), theme.text),
            Span::styled("  Enter keep  Esc clear", theme.muted),
        ])
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
        keys.extend([("/", "filter"), ("?", "help"), ("q", "quit")]);
        let mut spans = Vec::with_capacity(keys.len() * 2 + 1);
        for (key, what) in keys {
            spans.push(Span::styled(format!(" {key}"), theme.key));
            spans.push(Span::styled(format!(" {what} "), theme.muted));
        }
        if !app.filter.is_empty() {
            spans.push(Span::styled(
                format!(" filter: {}", app.filter),
                theme.at_risk,
            ));
        }
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}
