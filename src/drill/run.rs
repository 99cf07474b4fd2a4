//! What a running drill is made of, the same for the console and headless:
//! a fresh simulated world of the scenario's environment with its demo
//! application, and the [`Director`] that plays the fault timeline on the
//! world's clock and watches the service's availability through the
//! dashboard's own model. At the end, [`DrillWorld::record`] gathers what
//! the scorer needs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::AbortHandle;

use super::score::{DrillEnd, DrillRecord, FaultEvent, PlannedStep};
use super::validate::Checked;
use crate::domain::action::Action;
use crate::domain::availability::Availability;
use crate::domain::environment::ServiceSpec;
use crate::domain::incident::ServiceHistory;
use crate::domain::posture;
use crate::provider::Provider;
use crate::provider::sim::{self, SimWorld};
use crate::runbook::format::{Runbook, StepKind};
use crate::runbook::journal::{self, Record};
use crate::runbook::vars::Variables;

/// How often, in simulated time, the director looks at the world.
const SAMPLE_EVERY: chrono::Duration = chrono::Duration::seconds(5);
/// Real time between two looks at the clock.
const REAL_TICK: Duration = Duration::from_millis(5);

pub struct DrillWorld {
    pub world: Arc<SimWorld>,
    pub provider: Provider,
    /// `demo_app_url` for the runbooks' smoke tests.
    pub builtins: Variables,
    pub started_at: DateTime<Utc>,
    pub checked: Checked,
    /// The service being drilled (the scenario's first).
    pub service: ServiceSpec,
    /// Where this drill's journal, world and report go.
    pub dir: PathBuf,
    /// Simulated seconds per real second.
    pub time_scale: f64,
    director: Arc<Mutex<Director>>,
    /// The timeline player and the demo application's server.
    tasks: [AbortHandle; 2],
    losses_before: usize,
}

impl DrillWorld {
    /// A fresh world running at `time_scale` from now, its demo application
    /// listening on loopback, the timeline starting at T+0 = now.
    pub async fn open(
        checked: Checked,
        time_scale: f64,
        seed: Option<u64>,
        drills_dir: &Path,
    ) -> anyhow::Result<DrillWorld> {
        let mut env = checked.environment.clone();
        env.sim.time_scale = time_scale;
        if let Some(seed) = seed {
            env.sim.seed = seed;
        }
        let service = checked
            .scenario
            .services
            .first()
            .and_then(|s| env.service(&s.value))
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("the scenario names no service of its environment"))?;
        let world = Arc::new(SimWorld::live(&env));
        let started_at = world.now();
        let (addr, server) =
            sim::serve_demo_app(Arc::clone(&world), SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let builtins = Variables::from([("demo_app_url".to_string(), format!("http://{addr}"))]);
        let dir = drills_dir.join(format!(
            "{}-{}",
            started_at.format("%Y%m%dT%H%M%SZ"),
            std::process::id()
        ));
        crate::config::paths::create_private_dir(&dir)?;
        let director = Arc::new(Mutex::new(Director::new(&checked, &service, started_at)));
        let playing = tokio::spawn(direct(Arc::clone(&world), Arc::clone(&director)));
        let losses_before = world.ground_truth().losses.len();
        Ok(DrillWorld {
            provider: sim::provider(Arc::clone(&world), false),
            world,
            builtins,
            started_at,
            checked,
            service,
            dir,
            time_scale,
            director,
            tasks: [playing.abort_handle(), server.abort_handle()],
            losses_before,
        })
    }

    /// Simulated time since T+0.
    pub fn elapsed(&self) -> Duration {
        (self.world.now() - self.started_at)
            .to_std()
            .unwrap_or_default()
    }

    pub fn time_limit_reached(&self) -> bool {
        self.elapsed() >= self.checked.scenario.time_limit
    }

    /// The service's availability as the dashboard shows it now, if seen.
    pub fn availability(&self) -> Option<Availability> {
        self.director().availability.last().map(|(_, a)| *a)
    }

    /// Every fault has started and every timed one has ended.
    pub fn timeline_played(&self) -> bool {
        let director = self.director();
        director.next >= director.plan.len()
    }

    /// When the service first left UP, if it has.
    pub fn left_up_at(&self) -> Option<DateTime<Utc>> {
        self.director()
            .availability
            .iter()
            .find(|(_, a)| *a != Availability::Up)
            .map(|(at, _)| *at)
    }

    /// When the last fault of the timeline starts.
    pub fn last_fault_start(&self) -> DateTime<Utc> {
        let offset = self
            .checked
            .scenario
            .timeline
            .iter()
            .map(|t| t.at)
            .max()
            .unwrap_or_default();
        self.started_at + chrono::Duration::from_std(offset).unwrap_or_default()
    }

    fn director(&self) -> std::sync::MutexGuard<'_, Director> {
        self.director.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Everything the scorer needs, with the run's journal (if a run was
    /// started) read back from its file. Stops the timeline.
    pub fn record(
        &self,
        end: DrillEnd,
        runbook: &Runbook,
        journal: Option<&Path>,
    ) -> anyhow::Result<DrillRecord> {
        for task in &self.tasks {
            task.abort();
        }
        let journal: Vec<Record> = match journal {
            Some(path) => journal::read(path).map_err(|e| anyhow::anyhow!("{e}"))?,
            None => Vec::new(),
        };
        let director = self.director();
        let scenario = &self.checked.scenario;
        Ok(DrillRecord {
            scenario: scenario.name.clone(),
            file: scenario.path.clone(),
            service: self.service.id.clone(),
            objectives: scenario.objectives,
            time_limit: scenario.time_limit,
            started_at: self.started_at,
            ended_at: self.world.now(),
            end,
            faults: director.events.clone(),
            availability: director.availability.clone(),
            steps: planned_steps(runbook),
            journal,
            truth: self.world.ground_truth(),
            losses_before: self.losses_before,
        })
    }

    /// Saves the world's final state beside the journal.
    pub fn save_world(&self) -> anyhow::Result<PathBuf> {
        let path = self.dir.join("world.json");
        std::fs::write(&path, self.world.to_saved()?)?;
        Ok(path)
    }
}

/// The steps of `runbook` as the scorer plans them.
pub fn planned_steps(runbook: &Runbook) -> Vec<PlannedStep> {
    runbook
        .steps
        .iter()
        .map(|s| PlannedStep {
            id: s.id.clone(),
            title: s.title.clone(),
            kind: s.kind.label(),
            expect_within: s.expect_within,
            moves_writer: matches!(
                &s.kind,
                StepKind::Action { action, .. } if matches!(
                    action,
                    Action::FailoverGlobalCluster { .. }
                        | Action::SwitchoverGlobalCluster { .. }
                        | Action::RemoveFromGlobalCluster { .. }
                        | Action::PromoteReadReplica { .. }
                        | Action::PromoteReadReplicaDbCluster { .. }
                )
            ),
        })
        .collect()
}

/// One start or end of a fault, at its offset.
#[derive(Debug, Clone)]
struct Planned {
    at: Duration,
    fault: crate::provider::fault::Fault,
    start: bool,
}

/// Plays the timeline and keeps the service's availability history.
struct Director {
    started_at: DateTime<Utc>,
    plan: Vec<Planned>,
    next: usize,
    events: Vec<FaultEvent>,
    service: ServiceSpec,
    history: ServiceHistory,
    availability: Vec<(DateTime<Utc>, Availability)>,
    next_sample: DateTime<Utc>,
}

impl Director {
    fn new(checked: &Checked, service: &ServiceSpec, started_at: DateTime<Utc>) -> Director {
        let mut plan: Vec<Planned> = Vec::new();
        for t in &checked.scenario.timeline {
            plan.push(Planned {
                at: t.at,
                fault: t.fault.clone(),
                start: true,
            });
            if let Some(end) = t.ends_at() {
                plan.push(Planned {
                    at: end,
                    fault: t.fault.clone(),
                    start: false,
                });
            }
        }
        // Stable: a fault ending when another starts ends first only if
        // it was listed first.
        plan.sort_by_key(|p| p.at);
        Director {
            started_at,
            plan,
            next: 0,
            events: Vec::new(),
            service: service.clone(),
            history: ServiceHistory::default(),
            availability: Vec::new(),
            next_sample: started_at,
        }
    }

    /// Applies the faults due by `now` and samples the service when due.
    fn step(&mut self, world: &SimWorld) {
        let now = world.now();
        let elapsed = (now - self.started_at).to_std().unwrap_or_default();
        while let Some(p) = self.plan.get(self.next).filter(|p| p.at <= elapsed) {
            let at = self.started_at + chrono::Duration::from_std(p.at).unwrap_or_default();
            let outcome = if p.start {
                world.inject(p.fault.clone())
            } else {
                world.clear(&p.fault)
            };
            let label = match outcome {
                Ok(()) => p.fault.label(),
                Err(e) => format!("{} (refused: {})", p.fault.label(), e.message),
            };
            self.events.push(FaultEvent {
                at,
                label,
                started: p.start,
            });
            self.next += 1;
        }
        if now >= self.next_sample {
            self.next_sample = now + SAMPLE_EVERY;
            self.sample(world, now);
        }
    }

    fn sample(&mut self, world: &SimWorld, now: DateTime<Utc>) {
        let mut snapshot = crate::domain::snapshot::Snapshot::default();
        for reading in world.observe() {
            if let Ok(s) = &reading.result {
                snapshot.extend(s);
            }
        }
        let (availability, rpo) = posture::observe(&self.service, &snapshot, now);
        self.history.observe(availability, rpo, now);
        if let Some((shown, _, _)) = self.history.availability()
            && self
                .availability
                .last()
                .is_none_or(|(_, last)| *last != shown)
        {
            self.availability.push((now, shown));
        }
    }
}

async fn direct(world: Arc<SimWorld>, director: Arc<Mutex<Director>>) {
    loop {
        director
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .step(&world);
        tokio::time::sleep(REAL_TICK).await;
    }
}
