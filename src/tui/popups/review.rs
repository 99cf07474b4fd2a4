//! The review before a run starts (Enter on a runbook): its parameters with
//! their values, editable; the service's live posture; the first step
//! that will call the provider. Enter again starts it, Esc goes back.
//!
//! ```text
//! ┌ Start Orders — unplanned regional failover? ────────────────────────┐
//! │Service orders: DOWN · RPO Breach · writer us-east-1                  │
//! │First action: step 3, Fail the global database over                  │
//! │Parameters (↑↓ choose, type to edit):                                 │
//! │▌target_region = us-west-2▏   the region to fail over to              │
//! │Enter start · Esc back                                                │
//! └──────────────────────────────────────────────────────────────────────┘
//! ```

use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::domain::environment::ServiceSpec;
use crate::runbook::format::{Runbook, StepKind};
use crate::runbook::plan;
use crate::runbook::vars::{self, Variables};
use crate::tui::theme::Theme;

/// One parameter as the operator will start the run with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterValue {
    pub name: String,
    pub description: Option<String>,
    pub value: String,
    /// The value as the dialog first showed it (the runbook's default).
    pub initial: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDialog {
    pub runbook: PathBuf,
    pub name: String,
    pub service: String,
    /// The service's posture now, as one line; filled in by the console.
    pub posture: Option<String>,
    /// The first step that calls the provider: number and title.
    pub first_action: Option<String>,
    pub parameters: Vec<ParameterValue>,
    /// Index into `parameters` being edited.
    pub field: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    Open,
    Cancelled,
    /// Start the run with these values for the runbook's parameters.
    Start(Variables),
}

impl ReviewDialog {
    pub fn new(runbook: &Runbook) -> Self {
        let first_action = runbook
            .steps
            .iter()
            .enumerate()
            .find(|(_, s)| matches!(s.kind, StepKind::Action { .. }))
            .map(|(i, s)| format!("step {}, {}", i + 1, s.title));
        Self {
            runbook: runbook.path.clone(),
            name: runbook.name.clone(),
            service: runbook.service.clone(),
            posture: None,
            first_action,
            parameters: runbook
                .parameters
                .iter()
                .map(|p| {
                    let value = p.default.clone().unwrap_or_default();
                    ParameterValue {
                        name: p.name.clone(),
                        description: p.description.clone(),
                        initial: value.clone(),
                        value,
                    }
                })
                .collect(),
            field: 0,
        }
    }

    /// Shows defaults that name the service's resources
    /// (`${service.dr_region}`) as the values they stand for.
    pub fn resolve_defaults(&mut self, service: &ServiceSpec) {
        let known = plan::with_service(&Variables::new(), service);
        for p in &mut self.parameters {
            if p.value == p.initial
                && let Ok(resolved) = vars::substitute(&p.value, &known, false)
            {
                p.value = resolved.clone();
                p.initial = resolved;
            }
        }
    }

    pub fn on_key(&mut self, key: KeyEvent) -> ReviewOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let count = self.parameters.len();
        match key.code {
            KeyCode::Esc => return ReviewOutcome::Cancelled,
            KeyCode::Char('c') if ctrl => return ReviewOutcome::Cancelled,
            KeyCode::Enter => {
                // Only what the operator changed: an untouched or empty value
                // leaves the runbook's default (resolved by the start, or
                // its refusal of a missing one) to the start.
                let supplied = self
                    .parameters
                    .iter()
                    .filter(|p| !p.value.is_empty() && p.value != p.initial)
                    .map(|p| (p.name.clone(), p.value.clone()))
                    .collect();
                return ReviewOutcome::Start(supplied);
            }
            KeyCode::Down | KeyCode::Tab if count > 0 => self.field = (self.field + 1) % count,
            KeyCode::Up | KeyCode::BackTab if count > 0 => {
                self.field = (self.field + count - 1) % count;
            }
            KeyCode::Backspace => {
                if let Some(p) = self.parameters.get_mut(self.field) {
                    p.value.pop();
                }
            }
            KeyCode::Char(c) if !ctrl => {
                if let Some(p) = self.parameters.get_mut(self.field) {
                    p.value.push(c);
                }
            }
            _ => {}
        }
        ReviewOutcome::Open
    }

    pub fn render(&self, frame: &mut Frame, theme: &Theme, screen: Rect) {
        let style = &theme.style;
        let mut lines = vec![
            Line::from(vec![
                Span::styled(format!("Service {}: ", self.service), style.muted),
                Span::styled(
                    self.posture
                        .clone()
                        .unwrap_or_else(|| "no posture yet".into()),
                    style.text,
                ),
            ]),
            Line::from(vec![
                Span::styled("First action: ", style.muted),
                Span::styled(
                    self.first_action
                        .clone()
                        .unwrap_or_else(|| "none (no step calls the provider)".into()),
                    style.text,
                ),
            ]),
        ];
        if self.parameters.is_empty() {
            lines.push(Line::styled("No parameters.", style.muted));
        } else {
            lines.push(Line::styled(
                "Parameters (↑↓ choose, type to edit; empty keeps the default):",
                style.muted,
            ));
        }
        for (i, p) in self.parameters.iter().enumerate() {
            let editing = i == self.field;
            let mut spans = vec![
                Span::styled(if editing { "▌" } else { " " }, style.key),
                Span::styled(format!("{} = ", p.name), style.text),
                Span::styled(
                    format!("{}{}", p.value, if editing { "▏" } else { "" }),
                    if editing { style.key } else { style.text },
                ),
            ];
            if let Some(d) = &p.description {
                spans.push(Span::styled(format!("   {d}"), style.muted));
            }
            lines.push(Line::from(spans));
        }
        lines.push(Line::from(vec![
            Span::styled("Enter", style.key),
            Span::styled(" start · ", style.muted),
            Span::styled("Esc", style.key),
            Span::styled(" back", style.muted),
        ]));
        let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
        let area = centered(screen, 90, height);
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(style.title)
            .title(Span::styled(format!(" Start {}? ", self.name), style.title));
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
    use std::path::Path;

    use super::*;
    use crate::config::environment_file::demo_environment;
    use crate::runbook::format;

    fn billing_review() -> ReviewDialog {
        let text = include_str!("../../../runbooks/billing-replica-promotion.yaml");
        let runbook = format::parse(Path::new("billing.yaml"), text).expect("shipped runbook");
        ReviewDialog::new(&runbook)
    }

    fn press(review: &mut ReviewDialog, code: KeyCode) -> ReviewOutcome {
        review.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn defaults_naming_the_services_resources_show_their_values_and_stay_defaults() {
        let env = demo_environment();
        let mut review = billing_review();
        review.resolve_defaults(env.service("billing").unwrap());
        let dr = review
            .parameters
            .iter()
            .find(|p| p.name == "dr_region")
            .unwrap();
        assert_eq!(dr.value, "us-west-2", "not `${{service.dr_region}}`");
        assert_eq!(
            press(&mut review, KeyCode::Enter),
            ReviewOutcome::Start(Variables::new()),
            "an untouched default is left to the start, which resolves it"
        );
    }

    #[test]
    fn an_edited_value_is_supplied() {
        let mut review = billing_review();
        let field = review
            .parameters
            .iter()
            .position(|p| p.name == "dr_region")
            .unwrap();
        review.field = field;
        review.parameters[field].value.clear();
        for c in "eu-west-1".chars() {
            press(&mut review, KeyCode::Char(c));
        }
        let ReviewOutcome::Start(supplied) = press(&mut review, KeyCode::Enter) else {
            panic!("Enter starts");
        };
        assert_eq!(
            supplied.get("dr_region").map(String::as_str),
            Some("eu-west-1")
        );
    }
}
