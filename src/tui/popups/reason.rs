//! Asks why: skipping a step, aborting a run or setting a journal aside
//! is journaled with a reason.
//!
//! ```text
//! ┌ Discard the journal: why? ─────────────────────────────────────────┐
//! │the unfinished run of `orders` (at step 4/12) will not be resumed:  │
//! │orders-….jsonl is kept as evidence, renamed .discarded              │
//! │> stale game-day run▏                                               │
//! │Enter record it (the journal keeps it) · Esc cancel                 │
//! └────────────────────────────────────────────────────────────────────┘
//! ```

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonFor {
    Skip,
    Abort,
    /// Set aside a journal (unreadable, or of an unfinished run), so that
    /// its service's next run starts afresh.
    Discard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonDialog {
    pub purpose: ReasonFor,
    pub input: String,
    /// What the reason is for, when the title alone does not say it.
    pub detail: Option<String>,
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
            detail: None,
        }
    }

    pub fn with_detail(mut self, detail: String) -> Self {
        self.detail = Some(detail);
        self
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
        let title = match self.purpose {
            ReasonFor::Skip => " Skip this step: why? ",
            ReasonFor::Abort => " Abort the run: why? ",
            ReasonFor::Discard if self.detail.is_some() => " Discard the journal: why? ",
            ReasonFor::Discard => " Discard the unreadable journal: why? ",
        };
        let width = 70;
        let detail = self
            .detail
            .as_deref()
            .map(|d| Paragraph::new(Span::styled(d, theme.style.text)).wrap(Wrap { trim: true }));
        let inner_width = width.min(screen.width).saturating_sub(2);
        let detail_rows = detail.as_ref().map_or(0, |d| {
            u16::try_from(d.line_count(inner_width)).unwrap_or(u16::MAX)
        });
        let area = centered(screen, width, 5 + detail_rows);
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style.at_risk)
            .title(Span::styled(title, theme.style.title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [detail_area, input_area] =
            Layout::vertical([Constraint::Length(detail_rows), Constraint::Min(1)]).areas(inner);
        if let Some(detail) = detail {
            frame.render_widget(detail, detail_area);
        }
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
        frame.render_widget(Paragraph::new(lines), input_area);
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
