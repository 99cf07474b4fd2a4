//! The confirmation of a mutating step: the live facts that matter for it
//! with their age, the safety rules it breaks, the exact API call, and a
//! deliberate gesture to go ahead.
//!
//! ```text
//! ┌ Confirm: Fail the global database over ───────────────────────────┐
//! │This step will call rds FailoverGlobalCluster in us-west-2 on ...  │
//! │Live facts, observed 4s ago:                                       │
//! │ ! us-east-1 (writer region): healthy: 16/16 checkers pass         │
//! │ · orders-secondary replication: up to 1.4s of committed writes... │
//! │BLOCKED data-loss failover of a healthy primary: us-east-1 holds...│
//! │{ "GlobalClusterIdentifier": ... }                                 │
//! │Type a reason to override (journaled with your name):              │
//! │> ▏                                                                │
//! └───────────────────────────────────────────────────────────────────┘
//! ```
//!
//! No single key can trigger a mutation: the dialog opens with "Cancel"
//! focused, so going ahead takes a move to "Execute" and Enter, or, for
//! `confirm: typed`, typing the target's identifier exactly. When a safety
//! rule blocks the call, a typed reason to override comes first.

use std::cell::Cell;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::centered;
use crate::domain::action::ApiCall;
use crate::format::short_duration;
use crate::runbook::engine::Prompt;
use crate::runbook::facts::Assessment;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, PartialEq)]
pub struct ConfirmDialog {
    pub step: String,
    pub title: String,
    pub call: ApiCall,
    pub target: String,
    pub typed_required: bool,
    pub note: Option<String>,
    pub assessment: Assessment,
    /// The reason the operator gave for overriding the broken rules.
    pub overridden: Option<String>,
    /// The run's clock, for the facts' age.
    pub now: DateTime<Utc>,
    /// The override reason being typed, while the rules block the call.
    pub reason: String,
    pub input: String,
    pub execute_focused: bool,
    /// Rows of the call scrolled past, when it is taller than the dialog.
    pub scroll: u16,
    /// How far the call can scroll, as last drawn: the whole call must have
    /// been on screen before it can be executed.
    pub max_scroll: Cell<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogOutcome {
    Open,
    Cancelled,
    /// Go ahead; carries the typed identifier for `confirm: typed`.
    Confirmed {
        typed: Option<String>,
    },
    /// Override the broken safety rules; the dialog stays open to confirm.
    Override {
        reason: String,
    },
}

/// `This step will call rds FailoverGlobalCluster in us-west-2 on orders-global`:
/// how every preview of an action's call begins (this dialog, the review
/// before a run).
pub fn call_headline<'a>(theme: &Theme, call: &ApiCall, target: &'a str) -> Line<'a> {
    Line::from(vec![
        Span::styled("This step will call ", theme.style.text),
        Span::styled(
            format!("{} {}", call.service, call.operation),
            theme.style.breach,
        ),
        Span::styled(format!(" in {} on ", call.region), theme.style.text),
        Span::styled(target, theme.style.title),
    ])
}

/// The call's parameters as the API takes them, pretty JSON.
pub fn call_params(call: &ApiCall) -> String {
    serde_json::to_string_pretty(&call.params).unwrap_or_else(|_| call.params.to_string())
}

/// [`call_params`]' text as lines.
pub fn params_lines<'a>(theme: &Theme, params: &str) -> Vec<Line<'a>> {
    params
        .lines()
        .map(|l| Line::from(Span::styled(l.to_string(), theme.style.muted)))
        .collect()
}

impl ConfirmDialog {
    /// A dialog for the engine's confirmation prompt; `None` for other prompts.
    pub fn for_prompt(prompt: &Prompt, now: DateTime<Utc>) -> Option<Self> {
        let Prompt::ConfirmAction {
            step,
            title,
            call,
            target,
            typed,
            note,
            assessment,
            overridden,
            ..
        } = prompt
        else {
            return None;
        };
        Some(Self {
            step: step.clone(),
            title: title.clone(),
            call: (**call).clone(),
            target: target.clone(),
            typed_required: *typed,
            note: note.clone(),
            assessment: (**assessment).clone(),
            overridden: overridden.clone(),
            now,
            reason: String::new(),
            input: String::new(),
            execute_focused: false,
            scroll: 0,
            max_scroll: Cell::new(0),
        })
    }

    /// Takes in a newer prompt for the same step (fresh facts, an override
    /// recorded), keeping what the operator has typed. False when the
    /// prompt is for another step or not a confirmation: close the dialog.
    pub fn refresh(&mut self, prompt: &Prompt, now: DateTime<Utc>) -> bool {
        let Some(newer) = Self::for_prompt(prompt, now) else {
            return false;
        };
        if newer.step != self.step {
            return false;
        }
        *self = Self {
            reason: self.reason.clone(),
            input: self.input.clone(),
            execute_focused: self.execute_focused,
            scroll: self.scroll,
            max_scroll: self.max_scroll.clone(),
            ..newer
        };
        true
    }

    /// Safety rules block the call until a reason to override is recorded.
    pub fn needs_override(&self) -> bool {
        self.assessment.blocked() && self.overridden.is_none()
    }

    /// Part of the call is still below the dialog's edge.
    pub fn unseen(&self) -> bool {
        self.scroll < self.max_scroll.get()
    }

    pub fn can_execute(&self) -> bool {
        !self.needs_override()
            && !self.unseen()
            && (!self.typed_required || self.input == self.target)
    }

    pub fn on_key(&mut self, key: KeyEvent) -> DialogOutcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let page = 5;
        match key.code {
            KeyCode::Esc => return DialogOutcome::Cancelled,
            KeyCode::Char('c') if ctrl => return DialogOutcome::Cancelled,
            // Arrows and pages scroll the call (typing uses neither).
            KeyCode::Down => self.scroll = (self.scroll + 1).min(self.max_scroll.get()),
            KeyCode::PageDown => self.scroll = (self.scroll + page).min(self.max_scroll.get()),
            KeyCode::Up => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(page),
            _ if self.needs_override() => return self.on_reason_key(key),
            KeyCode::Enter if self.typed_required && self.can_execute() => {
                return DialogOutcome::Confirmed {
                    typed: Some(self.input.clone()),
                };
            }
            KeyCode::Enter if self.typed_required => {}
            KeyCode::Enter if !self.execute_focused => return DialogOutcome::Cancelled,
            // Execute waits until the whole call has been on screen.
            KeyCode::Enter if self.can_execute() => {
                return DialogOutcome::Confirmed { typed: None };
            }
            KeyCode::Enter => {}
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

    fn on_reason_key(&mut self, key: KeyEvent) -> DialogOutcome {
        match key.code {
            KeyCode::Enter if !self.reason.trim().is_empty() => {
                return DialogOutcome::Override {
                    reason: self.reason.trim().to_string(),
                };
            }
            KeyCode::Backspace => {
                self.reason.pop();
            }
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                self.reason.push(c)
            }
            _ => {}
        }
        DialogOutcome::Open
    }

    /// The facts with their age, then the broken rules or the override.
    fn evidence_lines(&self, theme: &Theme) -> Vec<Line<'_>> {
        let age = (self.now - self.assessment.observed_at)
            .to_std()
            .unwrap_or_default();
        let mut lines = vec![Line::from(Span::styled(
            format!("Live facts, observed {} ago:", short_duration(age)),
            theme.style.title,
        ))];
        for fact in &self.assessment.facts {
            // Shape as well as colour: the dialog reads the same without colours.
            let (mark, style) = if fact.concern {
                (" ! ", theme.style.at_risk)
            } else {
                (" · ", theme.style.text)
            };
            lines.push(Line::from(vec![
                Span::styled(mark, style),
                Span::styled(format!("{}: ", fact.subject), theme.style.muted),
                Span::styled(fact.text.as_str(), style),
            ]));
        }
        for v in &self.assessment.violations {
            lines.push(Line::from(vec![
                Span::styled("BLOCKED ", theme.style.breach),
                Span::styled(format!("{}: ", v.rule.label()), theme.style.breach),
                Span::styled(v.message.as_str(), theme.style.text),
            ]));
        }
        if let Some(reason) = &self.overridden {
            lines.push(Line::from(vec![
                Span::styled("Overridden: ", theme.style.at_risk),
                Span::styled(reason.as_str(), theme.style.text),
            ]));
        }
        lines.push(Line::default());
        lines
    }

    pub fn render(&self, frame: &mut Frame, theme: &Theme, screen: Rect) {
        let params = call_params(&self.call);
        let note_lines = if self.note.is_some() { 2 } else { 0 };
        let evidence = self.evidence_lines(theme);
        // Rows as the lines wrap inside the borders: facts, rules and long
        // ARNs in the parameters take more than one.
        // Wider on a wide screen, so an ARN in the call stays on its line.
        let width = screen.width.saturating_sub(8).clamp(84, 116);
        let inner_width = usize::from(screen.width.min(width).saturating_sub(2).max(1));
        let rows = |width: usize| width.max(1).div_ceil(inner_width);
        let evidence_rows: usize = evidence.iter().map(|l| rows(l.width())).sum();
        let param_rows: usize = params.lines().map(|l| rows(l.chars().count())).sum();
        // The first line may wrap once on a narrow dialog.
        let height = (param_rows + evidence_rows) as u16 + note_lines + 3 + 4 + 2;
        let area = centered(screen, width, height);
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
            call_headline(theme, &self.call, &self.target),
            Line::default(),
        ];
        if let Some(note) = &self.note {
            lines.push(Line::from(Span::styled(note.as_str(), theme.style.at_risk)));
            lines.push(Line::default());
        }
        lines.extend(evidence);
        lines.extend(params_lines(theme, &params));
        let call = Paragraph::new(lines).wrap(Wrap { trim: false });
        // Counted as ratatui wraps them, so the marker below never claims
        // rows that are not there, nor hides rows that are.
        let total = call.line_count(call_area.width);
        let max_scroll =
            u16::try_from(total.saturating_sub(usize::from(call_area.height))).unwrap_or(u16::MAX);
        self.max_scroll.set(max_scroll);
        let scroll = self.scroll.min(max_scroll);
        frame.render_widget(call.scroll((scroll, 0)), call_area);

        let answer = if self.needs_override() {
            let rules = self.assessment.violations.len();
            vec![
                Line::from(Span::styled(
                    format!(
                        "Blocked by {rules} safety rule{}. Type a reason to override (journaled with your name):",
                        if rules == 1 { "" } else { "s" }
                    ),
                    theme.style.breach,
                )),
                Line::from(vec![
                    Span::styled("> ", theme.style.key),
                    Span::styled(format!("{}▏", self.reason), theme.style.text),
                ]),
                Line::from(vec![
                    Span::styled("Enter", theme.style.key),
                    Span::styled(" record the override, then confirm · ", theme.style.muted),
                    Span::styled("Esc", theme.style.key),
                    Span::styled(" cancel", theme.style.muted),
                ]),
            ]
        } else if self.typed_required {
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
        let mut answer = answer;
        if scroll < max_scroll {
            // The call is longer than the dialog: nothing executes until
            // the operator has read down to its end.
            answer.insert(
                0,
                Line::from(Span::styled(
                    format!(
                        "↓ {} more row(s) of the call: ↓/PgDn to read them; it cannot run unseen",
                        max_scroll - scroll
                    ),
                    theme.style.at_risk,
                )),
            );
        }
        frame.render_widget(Paragraph::new(answer), answer_area);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::safety::{Rule, Violation};
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

    fn at() -> DateTime<Utc> {
        chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 26, 12, 0, 0).unwrap()
    }

    fn prompt(typed: bool, violations: Vec<Violation>, overridden: Option<&str>) -> Prompt {
        Prompt::ConfirmAction {
            step: "failover".into(),
            seq: 1,
            title: "Fail over".into(),
            call: Box::new(ApiCall {
                service: "rds".into(),
                region: "us-west-2".into(),
                operation: "FailoverGlobalCluster".into(),
                params: json!({ "GlobalClusterIdentifier": "orders-global" }),
            }),
            target: "orders-global".into(),
            typed,
            note: None,
            assessment: Box::new(Assessment {
                observed_at: at(),
                facts: vec![],
                violations,
            }),
            overridden: overridden.map(str::to_string),
        }
    }

    fn dialog(typed: bool) -> ConfirmDialog {
        ConfirmDialog::for_prompt(&prompt(typed, vec![], None), at()).unwrap()
    }

    fn blocked() -> Vec<Violation> {
        vec![Violation {
            rule: Rule::DataLossWhilePrimaryHealthy,
            message: "us-east-1 is healthy".into(),
        }]
    }

    /// Draws `d` on an 80x24 terminal and returns the screen's text.
    fn draw(d: &ConfirmDialog) -> String {
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
        terminal
            .draw(|f| d.render(f, &Theme::default(), f.area()))
            .unwrap();
        terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .map(|c| c.symbol())
            .collect()
    }

    #[test]
    fn a_call_taller_than_the_dialog_cannot_run_until_it_was_read_to_its_end() {
        let mut long = prompt(false, vec![], None);
        if let Prompt::ConfirmAction { call, .. } = &mut long {
            call.params = json!({
                "Changes": (0..30).map(|i| json!({ "Name": format!("r{i}.example.com.") })).collect::<Vec<_>>(),
                "Last": "the end of the call",
            });
        }
        let mut d = ConfirmDialog::for_prompt(&long, at()).unwrap();
        let first = draw(&d);
        assert!(first.contains("it cannot run unseen"), "{first}");
        assert!(!first.contains("the end of the call"), "{first}");
        d.on_key(key(KeyCode::Tab));
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            DialogOutcome::Open,
            "Execute is refused while part of the call is unseen"
        );
        while d.unseen() {
            d.on_key(key(KeyCode::PageDown));
            draw(&d);
        }
        let last = draw(&d);
        assert!(last.contains("the end of the call"), "{last}");
        assert!(!last.contains("it cannot run unseen"), "{last}");
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            DialogOutcome::Confirmed { typed: None }
        );
    }

    #[test]
    fn a_blocked_call_takes_a_reason_before_anything_else() {
        let mut d = ConfirmDialog::for_prompt(&prompt(true, blocked(), None), at()).unwrap();
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            DialogOutcome::Open,
            "no empty reason"
        );
        for c in "orders-global".chars() {
            d.on_key(key(KeyCode::Char(c)));
        }
        assert!(!d.can_execute());
        assert_eq!(d.input, "", "keys went to the reason, not the target");
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            DialogOutcome::Override {
                reason: "orders-global".into()
            }
        );
        // The engine records the override; the dialog takes it in and now
        // asks for the typed target.
        assert!(d.refresh(&prompt(true, blocked(), Some("drill")), at()));
        assert_eq!(d.reason, "orders-global", "what was typed is kept");
        for c in "orders-global".chars() {
            d.on_key(key(KeyCode::Char(c)));
        }
        assert_eq!(
            d.on_key(key(KeyCode::Enter)),
            DialogOutcome::Confirmed {
                typed: Some("orders-global".into())
            }
        );
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
