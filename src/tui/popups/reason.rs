//! Asks why: skipping a step or aborting a run is journaled with a reason.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::centered;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonFor {
    Skip,
    Abort,
    /// Set aside a journal that cannot be read, so its service can run.
    Discard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonDialog {
    pub purpose: ReasonFor,
    pub input: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReasonOutcome {
    Open,
    Cancelled,
    Given(String),
}

impl ReasonDialog {
    pub fn new(purpose: ReasonFor) -> Self {
        Self {
            purpose,
            input: String::new(),
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> ReasonOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return ReasonOutcome::Cancelled,
            KeyCode::Char('c') if ctrl => return ReasonOutcome::Cancelled,
            KeyCode::Enter if !self.input.trim().is_empty() => {
                return ReasonOutcome::Given(self.input.trim().to_string());
            }
            KeyCode::Backspace => {
                self.input.pop();
            }
            KeyCode::Char(c) if !ctrl => self.input.push(c),
            _ => {}
        }
        ReasonOutcome::Open
    }

    pub fn render(&self, frame: &mut Frame, theme: &Theme, screen: Rect) {
        let area = centered(screen, 70, 5);
        frame.render_widget(Clear, area);
        let title = match self.purpose {
            ReasonFor::Skip => " Skip this step: why? ",
            ReasonFor::Abort => " Abort the run: why? ",
            ReasonFor::Discard => " Discard the unreadable journal: why? ",
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style.at_risk)
            .title(Span::styled(title, theme.style.title));
        let lines = vec![
            Line::from(vec![
                Span::styled("> ", theme.style.key),
                Span::styled(format!("{}▏", self.input), theme.style.text),
            ]),
            Line::from(vec![
                Span::styled("Enter", theme.style.key),
                Span::styled(" record it (the journal keeps it) · ", theme.style.muted),
                Span::styled("Esc", theme.style.key),
                Span::styled(" cancel", theme.style.muted),
            ]),
        ];
        frame.render_widget(Paragraph::new(lines).block(block), area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn an_empty_reason_is_not_accepted() {
        let mut d = ReasonDialog::new(ReasonFor::Skip);
        d.on_key(key(KeyCode::Char(' ')));
        assert_eq!(d.on_key(key(KeyCode::Enter)), ReasonOutcome::Open);
        for c in "dns owned by another team".chars() {
            d.on_key(key(KeyCode::Char(c)));
        }
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            ReasonOutcome::Given("dns owned by another team".into())
        );
    }
}
