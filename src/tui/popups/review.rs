//! The review before a run starts (Enter on a runbook): its parameters with
//! their values, editable; the service's live posture; the exact API call
//! of the first step that calls the provider, with the values as they
//! stand (drawn as the confirmation dialog draws a call). Enter again
//! starts it, Esc goes back.
//!
//! ```text
//! ┌ Start Orders — unplanned regional failover? ────────────────────────┐
//! │Service orders: DOWN · RPO Breach · writer us-east-1                  │
//! │First action: step 3, Fail the global database over                  │
//! │This step will call rds FailoverGlobalCluster in us-west-2 on orders-…│
//! │{                                                                     │
//! │  "GlobalClusterIdentifier": "orders-global", ...                     │
//! │}                                                                     │
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
use super::confirm::{call_headline, call_params, params_lines};
use crate::domain::action::{Action, ApiCall};
use crate::domain::environment::ServiceSpec;
use crate::domain::snapshot::GlobalClusterObs;
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

/// The first step that calls the provider.
#[derive(Debug, Clone, PartialEq)]
pub struct FirstAction {
    /// 1-based, as the run screen numbers steps.
    pub number: usize,
    pub title: String,
    /// As written, `${…}` and all: resolved against the values on show.
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReviewDialog {
    pub runbook: PathBuf,
    pub name: String,
    pub service: String,
    /// The service's posture now, as one line; filled in by the console.
    pub posture: Option<String>,
    pub first_action: Option<FirstAction>,
    pub parameters: Vec<ParameterValue>,
    /// Index into `parameters` being edited.
    pub field: usize,
    /// What `${…}` stands for besides the parameters: the session's
    /// builtins, the operator, and the service's resources once known.
    pub known: Variables,
    /// The global clusters last observed: the call names a member by ARN,
    /// as the run will.
    pub global_clusters: Vec<GlobalClusterObs>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    Open,
    Cancelled,
    /// Start the run with these values for the runbook's parameters.
    Start(Variables),
}

impl ReviewDialog {
    /// The review of `runbook`, its `${…}` resolved from `known` and the
    /// observed `global_clusters`.
    pub fn new(
        runbook: &Runbook,
        known: Variables,
        global_clusters: Vec<GlobalClusterObs>,
    ) -> Self {
        let first_action = runbook
            .steps
            .iter()
            .enumerate()
            .find_map(|(i, s)| match &s.kind {
                StepKind::Action { action, .. } => Some(FirstAction {
                    number: i + 1,
                    title: s.title.clone(),
                    action: action.clone(),
                }),
                _ => None,
            });
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
            known,
            global_clusters,
        }
    }

    /// The first action's call with the values on show, and its target.
    /// A `${…}` nothing supplies stays as written; a member not observed
    /// keeps its identifier where the run will send its ARN.
    pub fn first_call(&self) -> Option<(ApiCall, String)> {
        let first = self.first_action.as_ref()?;
        let mut values = self.known.clone();
        for p in self.parameters.iter().filter(|p| !p.value.is_empty()) {
            values.insert(p.name.clone(), p.value.clone());
        }
        let action =
            vars::resolve(&first.action, &values, false).unwrap_or_else(|_| first.action.clone());
        let action = action
            .with_member_arns(&self.global_clusters)
            .unwrap_or(action);
        Some((action.describe(), action.target().to_string()))
    }

    /// Shows defaults that name the service's resources
    /// (`${service.dr_region}`) as the values they stand for.
    pub fn resolve_defaults(&mut self, service: &ServiceSpec) {
        self.known = plan::with_service(&self.known, service);
        for p in &mut self.parameters {
            if p.value == p.initial
                && let Ok(resolved) = vars::substitute(&p.value, &self.known, false)
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
                    self.first_action.as_ref().map_or_else(
                        || "none (no step calls the provider)".into(),
                        |a| format!("step {}, {}", a.number, a.title),
                    ),
                    style.text,
                ),
            ]),
        ];
        let call = self.first_call();
        let call_at = lines.len();
        if let Some((call, target)) = &call {
            lines.push(call_headline(theme, call, target));
            lines.extend(params_lines(theme, &call_params(call)));
        }
        let call_end = lines.len();
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
        // Rows as the lines wrap: a long ARN or description takes more than one.
        let inner_width = screen.width.min(90).saturating_sub(2);
        let rows = |lines: &[Line]| {
            Paragraph::new(lines.to_vec())
                .wrap(Wrap { trim: false })
                .line_count(inner_width)
                + 2
        };
        if let Some((call, _)) = &call
            && rows(&lines) > usize::from(screen.height)
        {
            // Too tall for the screen: the parameters run on, so that the
            // whole call, the values and the keys still show.
            let compact = serde_json::to_string(&call.params).unwrap_or_default();
            lines.splice(call_at + 1..call_end, [Line::styled(compact, style.muted)]);
        }
        let height = u16::try_from(rows(&lines)).unwrap_or(u16::MAX);
        let text = Paragraph::new(lines).wrap(Wrap { trim: false });
        let area = centered(screen, 90, height);
        frame.render_widget(Clear, area);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(style.title)
            .title(Span::styled(format!(" Start {}? ", self.name), style.title));
        frame.render_widget(text.block(block), area);
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
        ReviewDialog::new(&runbook, Variables::new(), Vec::new())
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

    /// The operator replaces the value of `parameter` with `text`.
    fn type_into(review: &mut ReviewDialog, parameter: &str, text: &str) {
        let field = review
            .parameters
            .iter()
            .position(|p| p.name == parameter)
            .unwrap();
        review.field = field;
        review.parameters[field].value.clear();
        for c in text.chars() {
            press(review, KeyCode::Char(c));
        }
    }

    #[test]
    fn an_edited_value_is_supplied() {
        let mut review = billing_review();
        type_into(&mut review, "dr_region", "eu-west-1");
        let ReviewOutcome::Start(supplied) = press(&mut review, KeyCode::Enter) else {
            panic!("Enter starts");
        };
        assert_eq!(
            supplied.get("dr_region").map(String::as_str),
            Some("eu-west-1")
        );
    }

    fn screen(review: &ReviewDialog, width: u16, height: u16) -> String {
        let terminal = crate::tui::render::testing::draw(width, height, |f| {
            review.render(f, &Theme::default(), f.area())
        });
        crate::tui::render::testing::lines(&terminal)
    }

    #[test]
    fn the_first_actions_exact_call_shows_with_the_values_as_they_stand() {
        let env = demo_environment();
        let billing = env.service("billing").unwrap();
        let mut review = billing_review();
        review.resolve_defaults(billing);
        let (call, target) = review.first_call().expect("billing promotes its replica");
        assert_eq!(
            (
                call.service.as_str(),
                call.operation.as_str(),
                call.region.as_str()
            ),
            ("rds", "PromoteReadReplica", "us-west-2")
        );
        let replica =
            crate::runbook::vars::service_variables(billing)["service.replica_instance"].clone();
        assert_eq!(target, replica);
        assert_eq!(call.params["DBInstanceIdentifier"], replica.as_str());
        let text = screen(&review, 100, 30);
        assert!(
            text.contains("This step will call rds PromoteReadReplica in us-west-2 on"),
            "{text}"
        );
        assert!(
            text.contains(&format!("\"DBInstanceIdentifier\": \"{replica}\"")),
            "{text}"
        );

        // The call follows what the operator types.
        type_into(&mut review, "dr_region", "eu-west-1");
        assert_eq!(review.first_call().unwrap().0.region, "eu-west-1");

        // On a short terminal the parameters run on one line: the call,
        // the values and the keys all still show.
        let short = screen(&review, 80, 14);
        assert!(short.contains("PromoteReadReplica in eu-west-1"), "{short}");
        assert!(short.contains(&replica), "{short}");
        assert!(short.contains("dr_region = eu-west-1"), "{short}");
        assert!(short.contains("Enter start"), "{short}");
    }
}
