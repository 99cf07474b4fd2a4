//! The Readiness screen's state: the configuration and journal evidence a
//! background task reads every few minutes (never the UI loop), the last
//! evaluation, and which check is selected.
//!
//! The task's results wait in a channel the state drains on the next tick
//! or poll, so the event loop needs no extra source.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::state::Update;
use crate::domain::environment::Environment;
use crate::domain::snapshot::Snapshot;
use crate::provider::Observe;
use crate::readiness::evidence::RunEvidence;
use crate::readiness::facts::Configuration;
use crate::readiness::{self, Check, Inputs, Readiness, Settings, load};
use crate::runbook::format::Runbook;

/// Configuration changes rarely; describing it costs API calls.
pub const READ_EVERY: Duration = Duration::from_secs(300);

/// One read of what readiness needs beyond the observation.
pub struct Evidence {
    pub configuration: Configuration,
    pub runs: Vec<RunEvidence>,
    pub unreadable: Vec<String>,
    pub read_at: DateTime<Utc>,
}

/// Reads configuration and journals now and every `every`, until the
/// receiver is dropped.
pub fn spawn_reader(
    observe: Arc<dyn Observe>,
    journal_dir: Option<PathBuf>,
    every: Duration,
) -> (mpsc::Receiver<Evidence>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(1);
    let task = tokio::spawn(async move {
        loop {
            let readings = observe.configuration().await;
            let dir = journal_dir.clone();
            let (runs, unreadable) = match dir {
                Some(dir) => tokio::task::spawn_blocking(move || load::runs(&dir))
                    .await
                    .unwrap_or_default(),
                None => (Vec::new(), Vec::new()),
            };
            let evidence = Evidence {
                configuration: Configuration::from_readings(&readings),
                runs,
                unreadable,
                read_at: observe.now(),
            };
            if tx.send(evidence).await.is_err() {
                return;
            }
            tokio::time::sleep(every).await;
        }
    });
    (rx, task)
}

pub struct ReadinessState {
    feed: Option<mpsc::Receiver<Evidence>>,
    pub evidence: Option<Evidence>,
    pub readiness: Option<Readiness>,
    /// Index into [`ReadinessState::checks`].
    pub selected: usize,
}

impl ReadinessState {
    pub fn new(feed: mpsc::Receiver<Evidence>) -> Self {
        ReadinessState {
            feed: Some(feed),
            evidence: None,
            readiness: None,
            selected: 0,
        }
    }

    /// A state holding `evidence` already, for tests and snapshots.
    pub fn with_evidence(evidence: Evidence) -> Self {
        ReadinessState {
            feed: None,
            evidence: Some(evidence),
            readiness: None,
            selected: 0,
        }
    }

    /// Takes what the reader sent since the last call; true when there was some.
    pub fn drain(&mut self) -> bool {
        let mut got = false;
        while let Some(evidence) = self.feed.as_mut().and_then(|f| f.try_recv().ok()) {
            self.evidence = Some(evidence);
            got = true;
        }
        got
    }

    /// Evaluates again over the newest observation.
    pub fn evaluate(
        &mut self,
        environment: &Environment,
        observed: &Snapshot,
        runbooks: &[Runbook],
        now: DateTime<Utc>,
    ) {
        let Some(evidence) = &self.evidence else {
            return;
        };
        self.readiness = Some(readiness::evaluate(&Inputs {
            environment,
            observed,
            configuration: &evidence.configuration,
            runbooks,
            runs: &evidence.runs,
            drills: None,
            shared_store_region: None,
            now,
            settings: Settings::default(),
        }));
        self.selected = self.selected.min(self.checks().len().saturating_sub(1));
    }

    /// Every check in screen order, with its service's id.
    pub fn checks(&self) -> Vec<(&str, &Check)> {
        self.readiness
            .iter()
            .flat_map(|r| r.services.iter())
            .flat_map(|s| s.checks.iter().map(move |c| (s.service_id.as_str(), c)))
            .collect()
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Update {
        let last = self.checks().len().saturating_sub(1);
        let to = match key.code {
            KeyCode::Down | KeyCode::Char('j') => self.selected.saturating_add(1).min(last),
            KeyCode::Up | KeyCode::Char('k') => self.selected.saturating_sub(1),
            KeyCode::PageDown => self.selected.saturating_add(10).min(last),
            KeyCode::PageUp => self.selected.saturating_sub(10),
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => last,
            _ => return Update::Nothing,
        };
        if to == self.selected {
            return Update::Nothing;
        }
        self.selected = to;
        Update::Redraw
    }
}

impl super::state::App {
    /// Takes new evidence and evaluates again when there is some, or when
    /// the observation changed while the Readiness screen is shown: the
    /// evaluation is not free on a large estate, so the dashboard's
    /// summary follows the evidence's pace.
    pub fn update_readiness(&mut self, observation_changed: bool) {
        let Some(state) = &mut self.readiness else {
            return;
        };
        let fresh = state.drain();
        let shown = self.screen == super::state::Screen::Readiness;
        if fresh || (observation_changed && shown) || (shown && state.readiness.is_none()) {
            let runbooks = self
                .runbooks
                .as_ref()
                .map_or(&[][..], |r| r.setup.runbooks.as_slice());
            state.evaluate(&self.environment, self.monitor.merged(), runbooks, self.now);
        }
    }
}
