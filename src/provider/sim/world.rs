//! [`SimWorld`]: the simulated estate behind one lock, its clock, and the
//! faults a drill has injected; saved to and resumed from text.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::actions;
use super::clock::SimClock;
use super::configuration::SimConfiguration;
use super::faults::source_error;
use super::model::{Membership, Model};
use super::observe;
use super::saved::{self, ResumeError, SavedWorld};
use crate::domain::action::{Action, ChangeStatus, Receipt};
use crate::domain::environment::Environment;
use crate::domain::snapshot::{ErrorKind, SourceError, SourceReading};
use crate::provider::fault::Fault;
use crate::readiness::facts::ConfigReading;

/// A deterministic simulated AWS estate: the same environment, seed and
/// sequence of calls always give the same observations.
pub struct SimWorld {
    inner: Mutex<Inner>,
    /// Signalled when an action or a fault changes the world, so that it is
    /// saved at once rather than at the next periodic save.
    changed: Notify,
    environment: String,
    fingerprint: String,
    /// Not saved: the environment describes it afresh each session.
    configuration: SimConfiguration,
}

struct Inner {
    model: Model,
    clock: SimClock,
    sources: Vec<String>,
    /// Region outages and source failures in force, in injection order.
    faults: Vec<Fault>,
}

/// How the demo application's database looks from one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionDatabase {
    /// The database answers at all.
    pub available: bool,
    /// It accepts writes (a writer or standalone, not mid-promotion).
    pub writable: bool,
}

impl SimWorld {
    /// A world whose clock moves only through [`SimWorld::advance`].
    pub fn new(env: &Environment, start: DateTime<Utc>) -> Self {
        Self::with_clock(env, start, SimClock::Manual { now: start })
    }

    /// A world whose clock runs from the present at `env.sim.time_scale`.
    pub fn live(env: &Environment) -> Self {
        let start = Utc::now();
        Self::with_clock(env, start, live_clock(env, start))
    }

    fn with_clock(env: &Environment, start: DateTime<Utc>, clock: SimClock) -> Self {
        let model = Model::new(env, start);
        Self::assemble(env, model, clock, Vec::new())
    }

    fn assemble(env: &Environment, model: Model, clock: SimClock, faults: Vec<Fault>) -> Self {
        let sources = observe::source_ids(&model);
        Self {
            inner: Mutex::new(Inner {
                model,
                clock,
                sources,
                faults,
            }),
            changed: Notify::new(),
            environment: env.name.clone(),
            fingerprint: saved::fingerprint(env),
            configuration: SimConfiguration::of(env),
        }
    }

    /// The world saved in `text` (by [`SimWorld::to_saved`]), its clock
    /// moving only through [`SimWorld::advance`].
    pub fn resume(env: &Environment, text: &str) -> Result<Self, ResumeError> {
        let saved = saved::read(env, text)?;
        let clock = SimClock::Manual { now: saved.now };
        Ok(Self::assemble(env, saved.model, clock, saved.faults))
    }

    /// The world saved in `text`, its clock running at `env.sim.time_scale`
    /// from the simulated moment it was saved: the world pauses while no
    /// console runs it, so a run resumes where it was, whatever the gap.
    pub fn resume_live(env: &Environment, text: &str) -> Result<Self, ResumeError> {
        let saved = saved::read(env, text)?;
        let clock = live_clock(env, saved.now);
        Ok(Self::assemble(env, saved.model, clock, saved.faults))
    }

    /// The whole world as text for [`SimWorld::resume`], brought up to its
    /// clock first. Holds the lock only while serializing.
    pub fn to_saved(&self) -> Result<String, serde_json::Error> {
        let inner = self.current();
        let saved = SavedWorld {
            format: saved::FORMAT,
            environment: self.environment.clone(),
            fingerprint: self.fingerprint.clone(),
            saved_at: Utc::now(),
            now: inner.clock.now(),
            faults: inner.faults.clone(),
            model: &inner.model,
        };
        serde_json::to_string(&saved)
    }

    /// Completes when an action or fault has changed the world since the
    /// last call (at once if it did meanwhile).
    pub async fn changed(&self) {
        self.changed.notified().await;
    }

    /// The state is plain data that every mutation leaves consistent, so a
    /// panic elsewhere while the lock was held does not make it unusable.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks and brings the world up to the clock's present.
    fn current(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.lock();
        let now = inner.clock.now();
        inner.model.advance_to(now);
        inner
    }

    /// Simulated now.
    pub fn now(&self) -> DateTime<Utc> {
        self.lock().clock.now()
    }

    /// Moves simulated time forward by `by` and lets the world catch up.
    pub fn advance(&self, by: Duration) {
        let mut inner = self.lock();
        inner.clock.skip(by);
        let now = inner.clock.now();
        inner.model.advance_to(now);
    }

    /// Changes how fast a live clock runs (no effect on a manual one).
    pub fn set_time_scale(&self, scale: f64) {
        if scale.is_finite() && scale > 0.0 {
            self.lock().clock.set_scale(scale);
        }
    }

    /// The sources [`SimWorld::observe`] reports, in its order.
    pub fn sources(&self) -> Vec<String> {
        self.lock().sources.clone()
    }

    /// One reading per source, as of simulated now.
    pub fn observe(&self) -> Vec<SourceReading> {
        let inner = self.current();
        let taken_at = inner.clock.now();
        let model = &inner.model;
        let regions = model.regions.len();
        let snapshots = (0..regions)
            .map(|r| observe::rds(model, r))
            .chain((0..regions).map(|r| observe::cloudwatch(model, r)))
            .chain(std::iter::once(observe::route53(model)));
        inner
            .sources
            .iter()
            .zip(snapshots)
            .map(|(source, snapshot)| SourceReading {
                source: source.clone(),
                taken_at,
                result: match inner.failure_of(source) {
                    Some(kind) => Err(source_error(source, kind)),
                    None => Ok(snapshot),
                },
            })
            .collect()
    }

    /// How the databases are configured and alarmed, as of simulated now.
    pub fn configuration(&self) -> Vec<ConfigReading> {
        let inner = self.current();
        self.configuration
            .read(&inner.model, inner.clock.now(), |s| inner.failure_of(s))
    }

    pub fn change_status(&self, change_id: &str) -> Result<ChangeStatus, SourceError> {
        let inner = self.current();
        inner.check_source("route53")?;
        actions::change_status(&inner.model, change_id)
    }

    pub fn execute(&self, action: &Action) -> Result<Receipt, SourceError> {
        let mut inner = self.current();
        inner.check_source(&actions::api_source(action))?;
        let receipt = actions::execute(&mut inner.model, action)?;
        drop(inner);
        self.changed.notify_one();
        Ok(receipt)
    }

    pub fn already_applied(&self, action: &Action) -> Result<bool, SourceError> {
        let inner = self.current();
        inner.check_source(&actions::api_source(action))?;
        actions::already_applied(&inner.model, action)
    }

    /// Starts a fault. Outages and source failures last until cleared; a lag
    /// spike decays by itself.
    pub fn inject(&self, fault: Fault) -> Result<(), SourceError> {
        self.inject_fault(fault)?;
        self.changed.notify_one();
        Ok(())
    }

    fn inject_fault(&self, fault: Fault) -> Result<(), SourceError> {
        let mut inner = self.current();
        let now = inner.model.time;
        match &fault {
            Fault::RegionOutage { region } => {
                let r = inner.region(region)?;
                let down = &mut inner.model.regions[r].down_since;
                if down.is_none() {
                    *down = Some(now);
                }
            }
            Fault::SourceFailure { source, .. } => {
                if !inner.sources.contains(source) {
                    return Err(SourceError::new(
                        ErrorKind::NotFound,
                        format!("no source `{source}`; known: {}", inner.sources.join(", ")),
                    ));
                }
                inner.faults.retain(
                    |f| !matches!(f, Fault::SourceFailure { source: s, .. } if s == source),
                );
            }
            Fault::LagSpike { resource, seconds } => {
                let lag = inner.model.lag_of(resource).ok_or_else(|| {
                    SourceError::new(
                        ErrorKind::NotFound,
                        format!("no replicated resource `{resource}`"),
                    )
                })?;
                lag.add_spike(*seconds as f64);
                return Ok(());
            }
        }
        if !inner.faults.contains(&fault) {
            inner.faults.push(fault);
        }
        Ok(())
    }

    /// Ends a fault. Ending one that is not in force changes nothing.
    pub fn clear(&self, fault: &Fault) -> Result<(), SourceError> {
        let mut inner = self.current();
        match fault {
            Fault::RegionOutage { region } => {
                let r = inner.region(region)?;
                inner.model.regions[r].down_since = None;
                inner.model.region_recovered(r);
            }
            Fault::SourceFailure { .. } => {}
            Fault::LagSpike { resource, .. } => {
                if let Some(lag) = inner.model.lag_of(resource) {
                    lag.end_spike();
                }
            }
        }
        inner.faults.retain(|f| f != fault);
        drop(inner);
        self.changed.notify_one();
        Ok(())
    }

    /// The data the newest promotion of `resource` (a cluster or instance
    /// that became writable by failover, detach or promotion) lost: its
    /// replication lag at that moment. `None` if it was never promoted.
    pub fn data_loss(&self, resource: &str) -> Option<Duration> {
        let inner = self.current();
        inner
            .model
            .data_loss
            .iter()
            .rev()
            .find(|(id, _)| id == resource)
            .map(|(_, lost)| *lost)
    }

    /// Outages and source failures in force.
    pub fn active_faults(&self) -> Vec<Fault> {
        self.lock().faults.clone()
    }

    /// Whether `region` is up, or `None` for a region the world does not have.
    pub fn region_up(&self, region: &str) -> Option<bool> {
        let inner = self.current();
        let r = inner.model.region_index(region)?;
        Some(!inner.model.region_down(r))
    }

    /// The demo application's database in `region`: the first cluster
    /// there, else the first instance.
    pub fn region_database(&self, region: &str) -> Option<RegionDatabase> {
        let inner = self.current();
        let model = &inner.model;
        let r = model.region_index(region)?;
        let up = !model.region_down(r);
        if let Some(c) = model.clusters.iter().find(|c| c.region == r) {
            let role_writes = matches!(
                c.membership,
                Membership::Writer | Membership::Standalone { .. }
            );
            return Some(RegionDatabase {
                available: up,
                writable: up && role_writes && c.operation.is_none(),
            });
        }
        let i = model.instances.iter().find(|i| i.region == r)?;
        Some(RegionDatabase {
            available: up,
            writable: up && i.replica_of.is_none() && i.operation != Some("modifying"),
        })
    }
}

/// A clock running at the environment's time scale from `start`.
fn live_clock(env: &Environment, start: DateTime<Utc>) -> SimClock {
    let scale = env.sim.time_scale;
    SimClock::Scaled {
        real_origin: Instant::now(),
        sim_origin: start,
        scale: if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        },
    }
}

impl Inner {
    fn failure_of(&self, source: &str) -> Option<ErrorKind> {
        self.faults.iter().find_map(|f| match f {
            Fault::SourceFailure { source: s, kind } if s == source => Some(*kind),
            _ => None,
        })
    }

    fn check_source(&self, source: &str) -> Result<(), SourceError> {
        match self.failure_of(source) {
            Some(kind) => Err(source_error(source, kind)),
            None => Ok(()),
        }
    }

    fn region(&self, name: &str) -> Result<usize, SourceError> {
        self.model.region_index(name).ok_or_else(|| {
            SourceError::new(
                ErrorKind::NotFound,
                format!("no region `{name}` in the world"),
            )
        })
    }
}
