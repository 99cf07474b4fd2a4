//! The `?` overlay: keys and what the colours and columns mean.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::state::App;

const KEYS: [(&str, &str); 15] = [
    (
        "1  2/r  3  4",
        "dashboard / runbooks / runs / readiness screen",
    ),
    (
        "t  f",
        "incident timeline / the followed run (drconsole follow)",
    ),
    ("↑ ↓  j k", "move the selection"),
    ("g G  PgUp PgDn", "first / last service, ten rows"),
    ("Enter", "open the detail pane"),
    ("Tab", "focus the table or the detail pane"),
    ("Esc", "close the detail pane, clear the filter"),
    ("/", "filter services by name"),
    ("mouse", "click a row to select it, wheel to move"),
    (
        "Enter (runbooks)",
        "start a runbook, or resume its unfinished run",
    ),
    ("c", "review the awaited action's API call and confirm it"),
    (
        "Space r s A",
        "tick / retry / skip / abort (reasons are journaled)",
    ),
    (
        "O (demo)",
        "start or end an outage of the service's primary region",
    ),
    ("I", "declare an incident: when the outage began and why"),
    ("q  Ctrl-C", "quit (? or Esc closes this help)"),
];

pub fn render(frame: &mut Frame, app: &App, screen: Rect) {
    let style = &app.theme.style;
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!(" {key:<17}"), style.key),
                Span::styled(*what, style.text),
            ])
        })
        .collect();
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
