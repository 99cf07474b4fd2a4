//! A drill in the console (`drconsole drill SCENARIO`). The scenario's
//! world plays its fault timeline on a task of its own ([`DrillWorld`]);
//! this side only watches the drill's clock and the trainee's runs, ends
//! the drill (its run ended and the service settled, the time limit, or
//! the trainee leaving) and keeps the scored report the Report screen
//! shows. Scoring and writing the report are the headless drill's own
//! ([`headless::finish`]).

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent};

use super::runbooks::{RunEntry, RunbooksState};
use super::state::Update;
use crate::domain::availability::Availability;
use crate::drill::headless;
use crate::drill::run::DrillWorld;
use crate::drill::score::{DrillEnd, Report};
use crate::runbook::format::Runbook;
use crate::runbook::journal::RunOutcome;
use crate::runbook::runner::Input;

/// What a finished drill left.
pub enum Finished {
    Written {
        report: Box<Report>,
        path: PathBuf,
    },
    /// Scoring or writing failed: the trainee is told why.
    Failed(String),
}

pub struct DrillState {
    world: DrillWorld,
    /// The runbook the scenario expects: the one scored.
    runbook: Runbook,
    reports_dir: PathBuf,
    /// How the trainee's run ended, while the service settles.
    run_ended: Option<DrillEnd>,
    pub finished: Option<Finished>,
    /// Lines of the Report screen scrolled past.
    pub scroll: u16,
}

impl DrillState {
    pub fn new(world: DrillWorld, reports_dir: PathBuf) -> anyhow::Result<DrillState> {
        let runbook = world
            .checked
            .runbooks
            .first()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the scenario names no runbook"))?;
        Ok(DrillState {
            world,
            runbook,
            reports_dir,
            run_ended: None,
            finished: None,
            scroll: 0,
        })
    }

    pub fn scenario(&self) -> &str {
        &self.world.checked.scenario.name
    }

    /// Simulated seconds per real second.
    pub fn time_scale(&self) -> f64 {
        self.world.time_scale
    }

    /// The drill's own clock: since T+0, frozen once it has ended.
    pub fn elapsed(&self) -> Duration {
        match &self.finished {
            Some(Finished::Written { report, .. }) => (report.ended_at - report.started_at)
                .to_std()
                .unwrap_or_default(),
            _ => self.world.elapsed(),
        }
    }

    pub fn is_finished(&self) -> bool {
        self.finished.is_some()
    }

    /// The report file, once written.
    pub fn report_path(&self) -> Option<&PathBuf> {
        match &self.finished {
            Some(Finished::Written { path, .. }) => Some(path),
            _ => None,
        }
    }

    /// Looks at the clock and the trainee's run; ends the drill when it is
    /// over. True when it has just ended.
    pub fn watch(&mut self, runbooks: Option<&RunbooksState>) -> bool {
        if self.finished.is_some() {
            return false;
        }
        let run = trainee_run(runbooks, &self.runbook);
        if self.run_ended.is_none()
            && let Some(outcome) = run.and_then(|r| r.status.view.outcome.as_ref())
        {
            self.run_ended = Some(match outcome {
                RunOutcome::Completed { .. } => DrillEnd::RunbookCompleted,
                RunOutcome::Aborted { reason, .. } => DrillEnd::RunbookAborted {
                    reason: reason.clone(),
                },
            });
        }
        if self.world.time_limit_reached() {
            let end = match (&self.run_ended, run) {
                (Some(end), _) => end.clone(),
                (None, Some(_)) => DrillEnd::TimeLimit,
                (None, None) => DrillEnd::NoRun,
            };
            self.end(end, run, "the drill's time limit was reached");
            return true;
        }
        // The service's recovery may trail the run's last step.
        let settled =
            self.world.timeline_played() && self.world.availability() == Some(Availability::Up);
        if let Some(end) = self.run_ended.clone().filter(|_| settled) {
            self.end(end, run, "");
            return true;
        }
        false
    }

    /// The trainee leaves: the drill ends now, its run aborted.
    pub fn end_now(&mut self, runbooks: Option<&RunbooksState>) {
        if self.finished.is_some() {
            return;
        }
        let run = trainee_run(runbooks, &self.runbook);
        let end = self.run_ended.clone().unwrap_or(DrillEnd::TraineeQuit);
        self.end(end, run, "the trainee left the drill");
    }

    fn end(&mut self, end: DrillEnd, run: Option<&RunEntry>, abort_reason: &str) {
        if let Some(run) = run.filter(|r| r.in_progress()) {
            // A full queue means the run is busy: its journal stays as is.
            let _ = run.inputs.try_send(Input::Abort {
                reason: abort_reason.to_string(),
            });
        }
        let journal = run.map(|r| r.status.journal.clone());
        let finished =
            headless::finish(&self.world, end, &self.runbook, journal, &self.reports_dir);
        self.finished = Some(match finished {
            Ok(outcome) => Finished::Written {
                report: Box::new(outcome.report),
                path: outcome.report_path,
            },
            Err(e) => Finished::Failed(format!("the drill's report could not be written: {e:#}")),
        });
    }

    /// Scrolls the Report screen.
    pub fn on_key(&mut self, key: KeyEvent) -> Update {
        let scroll = match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.scroll.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll.saturating_add(1),
            KeyCode::PageUp => self.scroll.saturating_sub(10),
            KeyCode::PageDown => self.scroll.saturating_add(10),
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => u16::MAX,
            _ => return Update::Nothing,
        };
        self.scroll = scroll;
        Update::Redraw
    }
}

/// The trainee's run: of the expected runbook if they started it, else
/// the first they started (scored against the expected runbook's plan).
fn trainee_run<'a>(
    runbooks: Option<&'a RunbooksState>,
    expected: &Runbook,
) -> Option<&'a RunEntry> {
    let runs = &runbooks?.runs;
    runs.iter()
        .find(|r| r.status.view.runbook == expected.name)
        .or_else(|| runs.first())
}

/// `T+3m46s`: whole seconds, in the one duration format of every screen.
pub fn clock(elapsed: Duration) -> String {
    match elapsed.as_secs() {
        0 => "T+0s".to_string(),
        s => format!(
            "T+{}",
            crate::format::short_duration(Duration::from_secs(s))
        ),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::drill::{scenario, validate};

    /// The shipped full outage, its world open at `time_scale` with its
    /// reports going to `dir`.
    async fn drill(time_scale: f64, dir: &Path) -> DrillState {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks/drills/full-outage.yaml");
        let today = chrono::Utc::now().date_naive();
        let checked = scenario::load(&file)
            .and_then(|s| validate::check(s, today))
            .unwrap_or_else(|d| panic!("{d:?}"));
        let world = DrillWorld::open(checked, time_scale, Some(7), dir)
            .await
            .unwrap();
        DrillState::new(world, dir.to_path_buf()).unwrap()
    }

    fn report(drill: &DrillState) -> &Report {
        match &drill.finished {
            Some(Finished::Written { report, path }) => {
                assert!(path.exists(), "{} was not written", path.display());
                report
            }
            Some(Finished::Failed(why)) => panic!("{why}"),
            None => panic!("the drill has not ended"),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn leaving_a_drill_scores_it_and_writes_its_report() {
        let dir = tempfile::tempdir().unwrap();
        let mut drill = drill(60.0, dir.path()).await;
        assert!(!drill.watch(None), "a drill just begun is not over");
        drill.end_now(None);
        assert_eq!(report(&drill).end, DrillEnd::TraineeQuit);
        let frozen = drill.elapsed();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(drill.elapsed(), frozen, "an ended drill's clock stops");
        assert!(!drill.watch(None), "a drill ends once");
    }

    /// The console with a drill at 60× under way in it.
    async fn console_in_drill(dir: &std::path::Path) -> crate::tui::state::App {
        let drill = drill(60.0, dir).await;
        let mut app = crate::tui::state::App::new(
            drill.world.checked.environment.clone(),
            crate::tui::theme::Theme::default(),
            "drill",
            crate::monitor::MonitorState::new(Duration::from_secs(1)),
            chrono::Utc::now(),
        );
        app.drill = Some(drill);
        app
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_first_quit_ends_the_drill_on_its_report_and_the_second_leaves() {
        use crossterm::event::KeyModifiers;

        use crate::tui::state::Screen;

        let dir = tempfile::tempdir().unwrap();
        let mut app = console_in_drill(dir.path()).await;
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        assert_eq!(app.on_key(key('q')), Update::Redraw);
        assert_eq!(app.screen, Screen::DrillReport);
        assert!(app.drill.as_ref().unwrap().report_path().is_some());
        assert_eq!(app.on_key(key('q')), Update::Quit, "the second quit leaves");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn once_the_drill_has_ended_a_key_in_the_footer_goes_back_to_its_report() {
        use crossterm::event::KeyModifiers;

        use crate::tui::keys::Action;
        use crate::tui::state::{App, Screen};

        let dir = tempfile::tempdir().unwrap();
        let mut app = console_in_drill(dir.path()).await;
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        let footer = |app: &App| -> Vec<&'static str> {
            let items = app.keys.footer(&app.contexts(), |a| app.applies(a));
            items.into_iter().map(|(_, word)| word).collect()
        };
        assert!(
            !app.applies(Action::Report),
            "no report before the drill ends"
        );
        assert_eq!(app.on_key(key('R')), Update::Nothing);
        assert_eq!(app.screen, Screen::Dashboard);

        app.on_key(key('q'));
        assert_eq!(app.screen, Screen::DrillReport);
        assert!(!footer(&app).contains(&"report"), "it is on screen");
        app.on_key(key('1'));
        assert_eq!(app.screen, Screen::Dashboard);
        assert!(footer(&app).contains(&"report"), "{:?}", footer(&app));
        app.on_key(key('R'));
        assert_eq!(app.screen, Screen::DrillReport);
        let help = app.keys.help(&app.contexts());
        let shown = |(keys, what): &(String, &str)| {
            keys.split("  ").any(|k| k == "R") && what.contains("drill report")
        };
        assert!(help.iter().any(shown), "{help:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dialog_open_when_the_drill_ends_closes_with_it() {
        use crossterm::event::KeyModifiers;

        use crate::tui::runbooks::tests::{app, start, started};
        use crate::tui::state::Screen;

        let dir = tempfile::tempdir().unwrap();
        let mut app = app().await;
        let env = app.environment.clone();
        start(&mut app, started(&env, "orders", "r-orders").0);
        app.screen = Screen::Runbooks;
        let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
        app.on_key(key('A'));
        assert!(app.runbooks.as_ref().unwrap().dialog.is_some());
        // 45 simulated minutes in under a second: the time limit ends it.
        app.drill = Some(drill(3600.0, dir.path()).await);
        let ended = tokio::time::timeout(Duration::from_secs(20), async {
            while app.screen != Screen::DrillReport {
                tokio::time::sleep(Duration::from_millis(20)).await;
                app.on_tick(chrono::Utc::now());
            }
        })
        .await;
        assert!(ended.is_ok(), "the drill did not end");
        assert!(app.runbooks.as_ref().unwrap().dialog.is_none());
        assert_eq!(app.on_key(key('2')), Update::Redraw);
        assert_eq!(app.screen, Screen::Runbooks, "keys act on the screen again");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_drill_with_no_run_ends_at_its_time_limit() {
        let dir = tempfile::tempdir().unwrap();
        // 45 simulated minutes in under a second.
        let mut drill = drill(3600.0, dir.path()).await;
        let ended = tokio::time::timeout(Duration::from_secs(20), async {
            while !drill.watch(None) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        assert!(ended.is_ok(), "the time limit did not end the drill");
        let r = report(&drill);
        assert_eq!(r.end, DrillEnd::NoRun);
        assert!(!r.passed, "an outage nobody answered does not pass");
    }

    #[test]
    fn the_clock_counts_minutes_then_hours() {
        assert_eq!(clock(Duration::from_millis(300)), "T+0s");
        assert_eq!(clock(Duration::from_millis(754_900)), "T+12m34s");
        assert_eq!(clock(Duration::from_secs(3723)), "T+1h02m");
    }
}
