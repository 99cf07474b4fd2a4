//! The top bar: where we are, what mode, the clock and how old the data is.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::cells::age_label;
use crate::format::short_duration;
use crate::tui::state::App;

/// From this width the header names the product and the stale source, and
/// shows the date; narrower ones drop those so the staleness warning fits.
const WIDE: u16 = 120;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme.style;
    let wide = area.width >= WIDE;
    let sep = || Span::styled(" │ ", theme.header);
    let mut spans = Vec::with_capacity(12);
    if wide {
        spans.extend([Span::styled(" drconsole", theme.header), sep()]);
    } else {
        spans.push(Span::styled(" ", theme.header));
    }
    let clock = if wide {
        "%Y-%m-%d %H:%M:%S UTC"
    } else {
        "%H:%M:%S UTC"
    };
    spans.extend([
        Span::styled(app.environment.name.clone(), theme.header),
        sep(),
        Span::styled(app.mode_label.clone(), theme.header),
        sep(),
        Span::styled(app.now.format(clock).to_string(), theme.header),
        sep(),
    ]);
    match app.monitor.last_poll() {
        None => spans.push(Span::styled("waiting for first poll", theme.header)),
        Some(at) => spans.push(Span::styled(
            format!(
                "data {}",
                age_label((app.now - at).to_std().unwrap_or_default())
            ),
            theme.header,
        )),
    }
    if !app.simulated_faults.is_empty() {
        spans.push(sep());
        spans.push(Span::styled(
            format!("SIMULATED {}", app.simulated_faults.join(", ")),
            theme.breach.add_modifier(Modifier::BOLD),
        ));
    }
    let stale = app.monitor.stale_sources(app.now);
    if let Some(first) = stale.first() {
        let why = first.error.map_or("no new data", |k| k.label());
        let badge = if wide {
            let age = first
                .age
                .map_or_else(|| "never".to_string(), short_duration);
            let more = if stale.len() > 1 {
                format!(" +{} more", stale.len() - 1)
            } else {
                String::new()
            };
            format!(
                " STALE {} {why} {age}{more} ",
                first.source.as_deref().unwrap_or("?")
            )
        } else {
            format!(" {} STALE {why} ", stale.len())
        };
        spans.push(Span::styled(" ", theme.header));
        spans.push(Span::styled(
            badge,
            theme.stale.add_modifier(Modifier::REVERSED),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.header), area);
}
