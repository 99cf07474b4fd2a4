//! The top bar: where we are, what mode, the clock and how old the data is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::format::short_duration;
use crate::tui::state::App;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme.style;
    let sep = || Span::styled(" │ ", theme.header);
    let mut spans = vec![
        Span::styled(" drconsole", theme.header),
        sep(),
        Span::styled(app.environment.name.clone(), theme.header),
        sep(),
        Span::styled(app.mode_label.clone(), theme.header),
    ];
    if app.read_only {
        spans.push(sep());
        spans.push(Span::styled("read-only", theme.header));
    }
    spans.push(sep());
    spans.push(Span::styled(
        app.now.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        theme.header,
    ));
    spans.push(sep());
    let stale = app.monitor.stale_sources(app.now);
    match app.monitor.last_poll() {
        None => spans.push(Span::styled("waiting for first poll", theme.header)),
        Some(at) => {
            let age = (app.now - at).to_std().unwrap_or_default();
            spans.push(Span::styled(
                format!("data {}", short_duration(age)),
                theme.header,
            ));
        }
    }
    if let Some(first) = stale.first() {
        spans.push(Span::styled(" ", theme.header));
        let why = first.error.map_or("no new data", |k| k.label());
        let age = first
            .age
            .map_or_else(|| "never".to_string(), short_duration);
        let more = if stale.len() > 1 {
            format!(" +{} more", stale.len() - 1)
        } else {
            String::new()
        };
        spans.push(Span::styled(
            format!(
                " STALE {} {why} {age}{more} ",
                first.source.as_deref().unwrap_or("?")
            ),
            theme.stale.add_modifier(Modifier::REVERSED),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.header), area);
}
