//! The Follow screen's state: the active runs to choose from, or the run
//! being followed as its feed last published it. Nothing here can act: a
//! key that would answer the run says so instead.

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};

use crate::follow::task::{self, ActiveRunsFeed, FollowFeed, FollowStatus};
use crate::follow::{ActiveRun, RunRef, RunSource};
use crate::runbook::format::Runbook;
use crate::tui::state::Update;

/// What `drconsole follow` was asked to follow, and where runs are read.
pub struct FollowSetup {
    pub source: Arc<dyn RunSource>,
    /// The run named on the command line; none offers the active runs.
    pub target: Option<RunRef>,
    /// Runbooks to take step titles from when a journal's own file is gone.
    pub library: Arc<Vec<Runbook>>,
    /// Where the source reads, for the screen: `journals in DIR`.
    pub origin: String,
}

pub struct FollowState {
    pub source: Arc<dyn RunSource>,
    pub library: Arc<Vec<Runbook>>,
    pub origin: String,
    /// The run followed, with its feed; none while choosing.
    following: Option<(RunRef, FollowFeed)>,
    /// The feed's last status.
    pub status: FollowStatus,
    /// Lists active runs while choosing.
    chooser: Option<ActiveRunsFeed>,
    pub active: Option<Result<Vec<ActiveRun>, String>>,
    pub selected: usize,
}

impl FollowState {
    /// Starts following the target, or listing the active runs; needs the
    /// tokio runtime, as its feeds are tasks.
    pub fn new(setup: FollowSetup) -> Self {
        let mut state = Self {
            source: setup.source,
            library: setup.library,
            origin: setup.origin,
            following: None,
            status: FollowStatus::default(),
            chooser: None,
            active: None,
            selected: 0,
        };
        match setup.target {
            Some(run) => state.follow(run),
            None => state.choose(),
        }
        state
    }

    /// The run followed, if one is.
    pub fn followed(&self) -> Option<&RunRef> {
        self.following.as_ref().map(|(run, _)| run)
    }

    fn follow(&mut self, run: RunRef) {
        self.chooser = None;
        let feed = task::spawn(
            Arc::clone(&self.source),
            run.clone(),
            Arc::clone(&self.library),
            task::POLL_EVERY,
        );
        self.status = FollowStatus::default();
        self.following = Some((run, feed));
    }

    fn choose(&mut self) {
        self.following = None;
        self.status = FollowStatus::default();
        self.chooser = Some(task::spawn_active_runs(
            Arc::clone(&self.source),
            task::LIST_EVERY,
        ));
    }

    /// Takes what the feeds published since the last look; whether the
    /// screen changed.
    pub fn refresh(&mut self) -> bool {
        let mut changed = false;
        if let Some((_, feed)) = &mut self.following
            && feed.status.has_changed().unwrap_or(false)
        {
            self.status = feed.status.borrow_and_update().clone();
            changed = true;
        }
        if let Some(chooser) = &mut self.chooser
            && chooser.runs.has_changed().unwrap_or(false)
        {
            self.active = chooser.runs.borrow_and_update().clone();
            let count = self.active_runs().len();
            self.selected = self.selected.min(count.saturating_sub(1));
            changed = true;
        }
        changed
    }

    pub fn active_runs(&self) -> &[ActiveRun] {
        match &self.active {
            Some(Ok(runs)) => runs,
            _ => &[],
        }
    }

    /// A key on the Follow screen; one that would act on the run leaves
    /// its refusal in `notice` (the console's, gone with the next key).
    pub fn on_key(&mut self, key: KeyEvent, notice: &mut Option<String>) -> Update {
        if self.following.is_some() {
            return self.on_run_key(key, notice);
        }
        let count = self.active_runs().len();
        match key.code {
            KeyCode::Down | KeyCode::Char('j') if count > 0 => {
                self.selected = (self.selected + 1).min(count - 1);
            }
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Enter => match self.active_runs().get(self.selected) {
                Some(active) => self.follow(active.run.clone()),
                None => return Update::Nothing,
            },
            _ => return Update::Nothing,
        }
        Update::Redraw
    }

    fn on_run_key(&mut self, key: KeyEvent, notice: &mut Option<String>) -> Update {
        match key.code {
            KeyCode::Esc => self.choose(),
            KeyCode::Char(c @ ('c' | ' ' | 's' | 'A' | 'r' | 'y' | 'n')) => {
                let what = match c {
                    'c' | 'y' => "confirm a step",
                    'n' => "decline a step",
                    ' ' => "tick a step",
                    's' => "skip a step",
                    'A' => "abort the run",
                    _ => "retry a step",
                };
                let by = self
                    .status
                    .run
                    .as_ref()
                    .map(|r| format!(" ({} on {} runs it)", r.operator, r.host))
                    .unwrap_or_default();
                *notice = Some(format!(
                    "this follow session is read-only: it cannot {what}{by}"
                ));
            }
            KeyCode::Enter => {
                *notice = Some("this follow session is read-only: it cannot act on the run".into());
            }
            _ => return Update::Nothing,
        }
        Update::Redraw
    }
}
