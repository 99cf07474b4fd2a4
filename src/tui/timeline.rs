//! The Timeline screen's state: the incident's story, rebuilt from the
//! journals and the events log by a task every few seconds while the
//! screen has been opened, and how far the reader scrolled.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::timeline::events::EventLog;
use crate::timeline::{Filter, Timeline, load, merge};
use crate::tui::state::Update;

/// How often the open screen rereads its sources.
const REBUILD_EVERY: Duration = Duration::from_secs(5);

/// Where the timeline's sources are.
#[derive(Debug, Clone)]
pub struct TimelineSetup {
    pub journal_dir: PathBuf,
    pub events: EventLog,
}

/// A timeline as last built, with what could not be read.
#[derive(Debug, Clone, Default)]
pub struct Built {
    pub timeline: Timeline,
    pub problems: Vec<String>,
}

/// The rebuilding task and what it publishes.
type Rebuilder = (watch::Receiver<Option<Arc<Built>>>, JoinHandle<()>);

pub struct TimelineState {
    pub setup: TimelineSetup,
    feed: Option<Rebuilder>,
    pub built: Option<Arc<Built>>,
    /// Entries scrolled back from the newest; 0 follows the newest.
    pub back: usize,
}

impl Drop for TimelineState {
    fn drop(&mut self) {
        if let Some((_, task)) = &self.feed {
            task.abort();
        }
    }
}

impl TimelineState {
    pub fn new(setup: TimelineSetup) -> Self {
        Self {
            setup,
            feed: None,
            built: None,
            back: 0,
        }
    }

    /// Starts rebuilding, the first time the screen opens.
    pub fn open(&mut self) {
        if self.feed.is_some() {
            return;
        }
        let (tx, rx) = watch::channel(None);
        let setup = self.setup.clone();
        let task = tokio::spawn(async move {
            loop {
                let setup = setup.clone();
                let Ok(built) = tokio::task::spawn_blocking(move || {
                    let sources = load::load(&setup.journal_dir, &setup.events);
                    Built {
                        timeline: merge::build(
                            &sources.journals,
                            &sources.events,
                            &Filter::default(),
                        ),
                        problems: sources.problems,
                    }
                })
                .await
                else {
                    return;
                };
                tx.send_if_modified(|shown| {
                    let same = shown.as_ref().is_some_and(|s: &Arc<Built>| {
                        s.timeline == built.timeline && s.problems == built.problems
                    });
                    if !same {
                        *shown = Some(Arc::new(built));
                    }
                    !same
                });
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(REBUILD_EVERY).await;
            }
        });
        self.feed = Some((rx, task));
    }

    /// Takes a new build if there is one; whether the screen changed.
    pub fn refresh(&mut self) -> bool {
        let Some((rx, _)) = &mut self.feed else {
            return false;
        };
        if !rx.has_changed().unwrap_or(false) {
            return false;
        }
        self.built = rx.borrow_and_update().clone();
        true
    }

    pub fn on_key(&mut self, key: KeyEvent) -> Update {
        let count = self.built.as_ref().map_or(0, |b| b.timeline.entries.len());
        let back = match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.back + 1,
            KeyCode::Down | KeyCode::Char('j') => self.back.saturating_sub(1),
            KeyCode::PageUp => self.back + 10,
            KeyCode::PageDown => self.back.saturating_sub(10),
            KeyCode::Home | KeyCode::Char('g') => count,
            KeyCode::End | KeyCode::Char('G') => 0,
            _ => return Update::Nothing,
        };
        self.back = back.min(count.saturating_sub(1));
        Update::Redraw
    }
}
