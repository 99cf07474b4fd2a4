//! Declares an incident on a service (`I` on the dashboard): when the
//! outage began and why. A refused declaration keeps the dialog open with
//! the reason, and nothing changes.
//!
//! ```text
//! ┌ Declare an incident on orders ──────────────────────────────┐
//! │Began at (HH:MM UTC today, -10m or RFC 3339; empty: now)      │
//! │> -10m▏                                                       │
//! │Why (required; journaled with your name)                      │
//! │> customers report errors                                     │
//! │the incident start … is in the future (now …)                 │
//! │Tab next field · Enter declare · Esc cancel                   │
//! └──────────────────────────────────────────────────────────────┘
//! ```

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    When,
    Why,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclareDialog {
    pub service: String,
    pub when: String,
    pub why: String,
    pub field: Field,
    /// Why the last attempt was refused.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeclareOutcome {
    Open,
    Cancelled,
    /// The operator asks to declare; the caller checks it and either
    /// closes the dialog or shows [`DeclareDialog::refused`].
    Declare {
        when: String,
        why: String,
    },
}

impl DeclareDialog {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            when: String::new(),
            why: String::new(),
            field: Field::When,
            error: None,
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> DeclareOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let input = match self.field {
            Field::When => &mut self.when,
            Field::Why => &mut self.why,
        };
        match key.code {
            KeyCode::Esc => return DeclareOutcome::Cancelled,
            KeyCode::Char('c') if ctrl => return DeclareOutcome::Cancelled,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => {
                self.field = match self.field {
                    Field::When => Field::Why,
                    Field::Why => Field::When,
                };
            }
            KeyCode::Enter if self.field == Field::When => self.field = Field::Why,
            KeyCode::Enter => {
                return DeclareOutcome::Declare {
                    when: self.when.trim().to_string(),
                    why: self.why.trim().to_string(),
                };
            }
            KeyCode::Backspace => {
                input.pop();
            }
            KeyCode::Char(c) if !ctrl => input.push(c),
            _ => {}
        }
        DeclareOutcome::Open
    }

    /// The declaration was refused: say why, keep what was typed.
    pub fn refused(&mut self, why: String) {
        self.error = Some(why);
    }

    pub fn render(&self, frame: &mut Frame, theme: &Theme, screen: Rect) {
        let area = centered(screen, 76, 10);
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style.at_risk)
            .title(Span::styled(
                format!(" Declare an incident on {} ", self.service),
                theme.style.title,
            ));
        let field = |label: &'static str, value: &str, active: bool| {
            let cursor = if active { "▏" } else { "" };
            [
                Line::from(Span::styled(label, theme.style.muted)),
                Line::from(vec![
                    Span::styled(if active { "> " } else { "  " }, theme.style.key),
                    Span::styled(format!("{value}{cursor}"), theme.style.text),
                ]),
            ]
        };
        let mut lines = Vec::new();
        lines.extend(field(
            "Began at (HH:MM UTC today, -10m or RFC 3339; empty: now)",
            &self.when,
            self.field == Field::When,
        ));
        lines.extend(field(
            "Why (required; kept with your name and journaled by runs)",
            &self.why,
            self.field == Field::Why,
        ));
        lines.push(match &self.error {
            Some(e) => Line::from(Span::styled(e.clone(), theme.style.breach)),
            None => Line::default(),
        });
        lines.push(Line::from(vec![
            Span::styled("Tab", theme.style.key),
            Span::styled(" next field · ", theme.style.muted),
            Span::styled("Enter", theme.style.key),
            Span::styled(" declare · ", theme.style.muted),
            Span::styled("Esc", theme.style.key),
            Span::styled(" cancel", theme.style.muted),
        ]));
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            area,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(d: &mut DeclareDialog, text: &str) {
        for c in text.chars() {
            d.on_key(key(KeyCode::Char(c)));
        }
    }

    #[test]
    fn enter_moves_from_when_to_why_then_declares_both() {
        let mut d = DeclareDialog::new("orders");
        typed(&mut d, "-10m");
        assert_eq!(d.on_key(key(KeyCode::Enter)), DeclareOutcome::Open);
        typed(&mut d, " users see 500s ");
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            DeclareOutcome::Declare {
                when: "-10m".into(),
                why: "users see 500s".into()
            }
        );
        d.on_key(key(KeyCode::Tab));
        d.on_key(key(KeyCode::Backspace));
        assert_eq!(d.when, "-10", "Tab goes back to the time");
        assert_eq!(d.on_key(key(KeyCode::Esc)), DeclareOutcome::Cancelled);
    }
}
