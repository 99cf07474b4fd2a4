//! The confirmation of a mutating step: the exact API call, its target, and
//! a deliberate gesture to go ahead.
//!
//! No single key can trigger a mutation: the dialog opens with "Cancel"
//! focused, so going ahead takes a move to "Execute" and Enter, or, for
//! `confirm: typed`, typing the target's identifier exactly.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::domain::action::ApiCall;
use crate::runbook::engine::Prompt;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDialog {
    pub step: String,
    pub title: String,
    pub call: ApiCall,
    pub target: String,
    pub typed_required: bool,
    pub note: Option<String>,
    pub input: String,
    pub execute_focused: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogOutcome {
    Open,
    Cancelled,
    /// Go ahead; carries the typed identifier for `confirm: typed`.
    Confirmed {
        typed: Option<String>,
    },
}

impl ConfirmDialog {
    /// A dialog for the engine's confirmation prompt; `None` for other prompts.
    pub fn for_prompt(prompt: &Prompt) -> Option<Self> {
        let Prompt::ConfirmAction {
            step,
            title,
            call,
            target,
            typed,
            note,
            ..
        } = prompt
        else {
            return None;
        };
        Some(Self {
            step: step.clone(),
            title: title.clone(),
            call: call.clone(),
            target: target.clone(),
            typed_required: *typed,
            note: note.clone(),
            input: String::new(),
            execute_focused: false,
        })
    }

    pub fn can_execute(&self) -> bool {
        !self.typed_required || self.input == self.target
    }

    pub fn on_key(&mut self, key: KeyEvent) -> DialogOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return DialogOutcome::Cancelled,
            KeyCode::Char('c') if ctrl => return DialogOutcome::Cancelled,
            KeyCode::Enter if self.typed_required && self.can_execute() => {
                return DialogOutcome::Confirmed {
                    typed: Some(self.input.clone()),
                };
            }
            KeyCode::Enter if self.typed_required => {}
            KeyCode::Enter => {
                return if self.execute_focused {
                    DialogOutcome::Confirmed { typed: None }
                } else {
                    DialogOutcome::Cancelled
                };
            }
            KeyCode::Backspace if self.typed_required => {
                self.input.pop();
            }
            KeyCode::Char(c) if self.typed_required && !ctrl => self.input.push(c),
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Left | KeyCode::Right
                if !self.typed_required =>
            {
                self.execute_focused = !self.execute_focused;
            }
            _ => {}
        }
        DialogOutcome::Open
    }

    pub fn render(&self, frame: &mut Frame, theme: &Theme, screen: Rect) {
        let params = serde_json::to_string_pretty(&self.call.params)
            .unwrap_or_else(|_| self.call.params.to_string());
        let note_lines = if self.note.is_some() { 2 } else { 0 };
        // The first line may wrap once on a narrow dialog.
        let height = params.lines().count() as u16 + note_lines + 3 + 4 + 2;
        let area = centered(screen, 84, height);
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.style.breach)
            .title(Span::styled(
                format!(" Confirm: {} ", self.title),
                theme.style.title,
            ));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let [call_area, answer_area] =
            Layout::vertical([Constraint::Min(3), Constraint::Length(4)]).areas(inner);

        let mut lines = vec![
            Line::from(vec![
                Span::styled("This step will call ", theme.style.text),
                Span::styled(
                    format!("{} {}", self.call.service, self.call.operation),
                    theme.style.breach,
                ),
                Span::styled(format!(" in {} on ", self.call.region), theme.style.text),
                Span::styled(self.target.as_str(), theme.style.title),
            ]),
            Line::default(),
        ];
        if let Some(note) = &self.note {
            lines.push(Line::from(Span::styled(note.as_str(), theme.style.at_risk)));
            lines.push(Line::default());
        }
        lines.extend(
            params
                .lines()
                .map(|l| Line::from(Span::styled(l.to_string(), theme.style.muted))),
        );
        frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), call_area);

        let answer = if self.typed_required {
            let input_style = if self.can_execute() {
                theme.style.ok
            } else {
                theme.style.text
            };
            vec![
                Line::from(vec![
                    Span::styled("Type ", theme.style.text),
                    Span::styled(self.target.as_str(), theme.style.title),
                    Span::styled(" to confirm:", theme.style.text),
                ]),
                Line::from(vec![
                    Span::styled("> ", theme.style.key),
                    Span::styled(format!("{}▏", self.input), input_style),
                ]),
                Line::from(vec![
                    Span::styled("Enter", theme.style.key),
                    Span::styled(" execute once it matches · ", theme.style.muted),
                    Span::styled("Esc", theme.style.key),
                    Span::styled(" cancel", theme.style.muted),
                ]),
            ]
        } else {
            let button = |label: &'static str, focused: bool| {
                if focused {
                    Span::styled(format!("[ {label} ]"), theme.style.selection)
                } else {
                    Span::styled(format!("  {label}  "), theme.style.text)
                }
            };
            vec![
                Line::from(vec![
                    button("Cancel", !self.execute_focused),
                    Span::raw("   "),
                    button("Execute", self.execute_focused),
                ]),
                Line::from(vec![
                    Span::styled("Tab", theme.style.key),
                    Span::styled(" switch · ", theme.style.muted),
                    Span::styled("Enter", theme.style.key),
                    Span::styled(" choose · ", theme.style.muted),
                    Span::styled("Esc", theme.style.key),
                    Span::styled(" cancel", theme.style.muted),
                ]),
            ]
        };
        frame.render_widget(Paragraph::new(answer), answer_area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEventKind;
    use serde_json::json;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent {
            code,
            modifiers: KeyModifiers::NONE,
            kind: KeyEventKind::Press,
            state: crossterm::event::KeyEventState::NONE,
        }
    }

    fn dialog(typed: bool) -> ConfirmDialog {
        ConfirmDialog::for_prompt(&Prompt::ConfirmAction {
            step: "failover".into(),
            seq: 1,
            title: "Fail over".into(),
            call: ApiCall {
                service: "rds".into(),
                region: "us-west-2".into(),
                operation: "FailoverGlobalCluster".into(),
                params: json!({ "GlobalClusterIdentifier": "orders-global" }),
            },
            target: "orders-global".into(),
            typed,
            note: None,
        })
        .unwrap()
    }

    #[test]
    fn enter_alone_cancels_a_plain_confirmation() {
        let mut d = dialog(false);
        assert_eq!(d.on_key(key(KeyCode::Enter)), DialogOutcome::Cancelled);
    }

    #[test]
    fn moving_to_execute_then_enter_confirms() {
        let mut d = dialog(false);
        assert_eq!(d.on_key(key(KeyCode::Tab)), DialogOutcome::Open);
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            DialogOutcome::Confirmed { typed: None }
        );
    }

    #[test]
    fn typed_confirmation_needs_the_exact_identifier() {
        let mut d = dialog(true);
        for c in "orders-glob".chars() {
            d.on_key(key(KeyCode::Char(c)));
        }
        assert_eq!(d.on_key(key(KeyCode::Enter)), DialogOutcome::Open);
        d.on_key(key(KeyCode::Char('a')));
        d.on_key(key(KeyCode::Char('l')));
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            DialogOutcome::Confirmed {
                typed: Some("orders-global".into())
            }
        );
    }

    #[test]
    fn escape_always_cancels() {
        let mut d = dialog(true);
        d.on_key(key(KeyCode::Char('o')));
        assert_eq!(d.on_key(key(KeyCode::Esc)), DialogOutcome::Cancelled);
    }
}
