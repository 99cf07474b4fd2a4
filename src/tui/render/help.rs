//! The `?` overlay: the keys of the screen beneath and the global ones,
//! from the key table (with the user's overrides), and on the dashboard
//! what the colours and columns mean.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::keys::Context;
use crate::tui::state::App;

pub fn render(frame: &mut Frame, app: &App, screen: Rect) {
    let style = &app.theme.style;
    let beneath = app.screen_context();
    let mut lines: Vec<Line> = app
        .keys
        .help(&[beneath, Context::Global])
        .into_iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!(" {key:<17}"), style.key),
                Span::styled(what, style.text),
            ])
        })
        .collect();
    if beneath != Context::Dashboard {
        return draw(frame, app, screen, lines);
    }
    lines.push(Line::from(vec![
        Span::styled(format!(" {:<17}", "mouse"), style.key),
        Span::styled("click a row to select it, wheel to move", style.text),
    ]));
    lines.push(Line::from(vec![
        Span::styled(" OK", style.ok),
        Span::styled(" within RPO  ", style.text),
        Span::styled("AT RISK", style.at_risk),
        Span::styled(" over half  ", style.text),
        Span::styled("BREACH", style.breach),
        Span::styled(" over RPO, or tier too slow for RTO", style.text),
    ]));
    lines.push(Line::from(vec![
        Span::styled(" STALE", style.stale),
        Span::styled(
            " last poll failed or data too old: values are the last seen",
            style.text,
        ),
    ]));
    for text in [
        " Region: P primary / DR, health, checkers healthy/total, t failure threshold.",
        " Lag: now and trend, bars coloured against the RPO. Backup: PITR/snapshot",
        " age, retention days, xr cross-region copy. RPO exp: exposure/objective.",
    ] {
        lines.push(Line::styled(text, style.muted));
    }
    draw(frame, app, screen, lines);
}

fn draw(frame: &mut Frame, app: &App, screen: Rect, lines: Vec<Line>) {
    let style = &app.theme.style;
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let [area] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(screen);
    let [area] = Layout::horizontal([Constraint::Length(82)])
        .flex(Flex::Center)
        .areas(area);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .border_style(style.title)
                .title(Span::styled(" Help ", style.title)),
        ),
        area,
    );
}
