//! [`SimWorld`]: the simulated estate behind one lock, its clock, and the
//! faults a drill has injected; saved to and resumed from text.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use super::actions;
use super::backup::BackupPlan;
use super::clock::SimClock;
use super::configuration::SimConfiguration;
use super::faults::source_error;
use super::health::HealthCheck;
use super::lag::LagProcess;
use super::model::{MAX_SLOWDOWN, Membership, Model};
use super::observe;
use super::saved::{self, ResumeError, SavedWorld};
use crate::domain::action::{Action, ChangeStatus, Receipt};
use crate::domain::environment::Environment;
use crate::domain::posture::same_name;
use crate::domain::snapshot::{DnsRecordObs, ErrorKind, FailoverRole, SourceError, SourceReading};
use crate::provider::fault::{Fault, GroundTruth};
use crate::readiness::facts::ConfigReading;

/// How often a flapping health check may flip: no faster than its checkers
/// can notice, no slower than an hour.
const FLAP_PERIOD_SECONDS: std::ops::RangeInclusive<u32> = 10..=3600;

fn invalid(message: String) -> SourceError {
    SourceError::new(ErrorKind::InvalidState, message)
}

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

    /// Starts a fault. Most last until cleared; a lag spike decays by
    /// itself and a swapped DNS pair stays swapped until someone fixes it.
    pub fn inject(&self, fault: Fault) -> Result<(), SourceError> {
        self.inject_fault(fault)?;
        self.changed.notify_one();
        Ok(())
    }

    fn inject_fault(&self, fault: Fault) -> Result<(), SourceError> {
        let mut inner = self.current();
        let now = inner.model.time;
        match &fault {
            Fault::RegionOutage { region } => inner.start_outage(region, 100, now)?,
            Fault::PartialOutage {
                region,
                failing_checkers_percent,
            } => {
                if *failing_checkers_percent > 100 {
                    return Err(invalid(format!(
                        "failing_checkers_percent is {failing_checkers_percent}; at most 100"
                    )));
                }
                inner.start_outage(region, *failing_checkers_percent, now)?;
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
                inner.lag(resource)?.add_spike(*seconds as f64);
                return Ok(());
            }
            Fault::ReplicationStopped { resource } => inner.lag(resource)?.stop(),
            Fault::BackupsStopped { resource } => {
                let plan = inner.backup(resource)?;
                plan.stopped_at.get_or_insert(now);
            }
            Fault::DnsSwapped { record } => {
                inner.swap_failover_targets(record)?;
                return Ok(());
            }
            Fault::FlappingHealthCheck {
                health_check,
                period_seconds,
            } => {
                if !(FLAP_PERIOD_SECONDS).contains(period_seconds) {
                    return Err(invalid(format!(
                        "a health check flaps every {}..={} seconds, not {period_seconds}",
                        FLAP_PERIOD_SECONDS.start(),
                        FLAP_PERIOD_SECONDS.end()
                    )));
                }
                inner.health_check(health_check)?.flap_period = Some(*period_seconds);
                inner.faults.retain(|f| {
                    !matches!(f, Fault::FlappingHealthCheck { health_check: h, .. } if h == health_check)
                });
            }
            Fault::EndpointFailing {
                region,
                path,
                status,
            } => {
                inner.region(region)?;
                if !path.starts_with('/') || !(400..=599).contains(status) {
                    return Err(invalid(format!(
                        "a failing endpoint is a path starting with `/` and an error status 400..=599, not `{path}` {status}"
                    )));
                }
                inner.faults.retain(|f| {
                    !matches!(f, Fault::EndpointFailing { region: r, path: p, .. } if r == region && p == path)
                });
            }
            Fault::SlowControlPlane { factor } => {
                if !(1..=MAX_SLOWDOWN).contains(factor) {
                    return Err(invalid(format!(
                        "the control plane slows by a factor of 1..={MAX_SLOWDOWN}, not {factor}"
                    )));
                }
                inner.model.slowdown = *factor;
                inner
                    .faults
                    .retain(|f| !matches!(f, Fault::SlowControlPlane { .. }));
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
            Fault::RegionOutage { region } | Fault::PartialOutage { region, .. } => {
                let r = inner.region(region)?;
                let state = &mut inner.model.regions[r];
                let was_down = state.down_since.take().is_some();
                state.failing_checkers_percent = 100;
                if was_down {
                    inner.model.region_recovered(r);
                }
            }
            Fault::SourceFailure { .. }
            | Fault::DnsSwapped { .. }
            | Fault::EndpointFailing { .. } => {}
            Fault::LagSpike { resource, .. } => {
                if let Some(lag) = inner.model.lag_of(resource) {
                    lag.end_spike();
                }
            }
            Fault::ReplicationStopped { resource } => {
                if let Some(lag) = inner.model.lag_of(resource) {
                    lag.resume();
                }
            }
            Fault::BackupsStopped { resource } => {
                if let Ok(plan) = inner.backup(resource) {
                    plan.stopped_at = None;
                }
            }
            Fault::FlappingHealthCheck { health_check, .. } => {
                if let Ok(check) = inner.health_check(health_check) {
                    check.flap_period = None;
                }
            }
            Fault::SlowControlPlane { .. } => inner.model.slowdown = 1,
        }
        inner.faults.retain(|f| f != fault);
        drop(inner);
        self.changed.notify_one();
        Ok(())
    }

    /// The status an injected [`Fault::EndpointFailing`] makes the demo
    /// application answer for `path` in `region`, if any.
    pub fn failing_endpoint(&self, region: &str, path: &str) -> Option<u16> {
        self.lock().faults.iter().find_map(|f| match f {
            Fault::EndpointFailing {
                region: r,
                path: p,
                status,
            } if r == region && p == path => Some(*status),
            _ => None,
        })
    }

    /// What the demo application wrote and what promotions lost.
    pub fn ground_truth(&self) -> GroundTruth {
        self.current().model.writes.truth()
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

    /// Takes `region` down (or changes how many checkers see it down).
    fn start_outage(
        &mut self,
        region: &str,
        failing_checkers_percent: u8,
        now: DateTime<Utc>,
    ) -> Result<(), SourceError> {
        let r = self.region(region)?;
        let state = &mut self.model.regions[r];
        state.down_since.get_or_insert(now);
        state.failing_checkers_percent = failing_checkers_percent;
        self.faults.retain(|f| {
            !matches!(f, Fault::RegionOutage { region: g } | Fault::PartialOutage { region: g, .. } if g == region)
        });
        Ok(())
    }

    fn lag(&mut self, resource: &str) -> Result<&mut LagProcess, SourceError> {
        self.model.lag_of(resource).ok_or_else(|| {
            SourceError::new(
                ErrorKind::NotFound,
                format!("no replicated resource `{resource}`"),
            )
        })
    }

    fn backup(&mut self, resource: &str) -> Result<&mut BackupPlan, SourceError> {
        let model = &mut self.model;
        if let Some(c) = model.clusters.iter_mut().find(|c| c.id == resource) {
            return Ok(&mut c.backup);
        }
        model
            .instances
            .iter_mut()
            .find(|i| i.id == resource)
            .map(|i| &mut i.backup)
            .ok_or_else(|| {
                SourceError::new(
                    ErrorKind::NotFound,
                    format!("no cluster or instance `{resource}` to stop the backups of"),
                )
            })
    }

    fn health_check(&mut self, id: &str) -> Result<&mut HealthCheck, SourceError> {
        self.model
            .health_checks
            .iter_mut()
            .find(|h| h.id == id)
            .ok_or_else(|| SourceError::new(ErrorKind::NotFound, format!("no health check `{id}`")))
    }

    /// Swaps the targets of the failover pair named `record`, so the name
    /// answers with the other region's endpoint.
    fn swap_failover_targets(&mut self, record: &str) -> Result<(), SourceError> {
        let records = &mut self.model.records;
        let find = |records: &[DnsRecordObs], role: FailoverRole| {
            records
                .iter()
                .position(|r| same_name(&r.name, record) && r.failover == Some(role))
        };
        let (Some(primary), Some(secondary)) = (
            find(records, FailoverRole::Primary),
            find(records, FailoverRole::Secondary),
        ) else {
            return Err(SourceError::new(
                ErrorKind::NotFound,
                format!("no failover record pair named `{record}`"),
            ));
        };
        let target = records[primary].target.clone();
        records[primary].target = std::mem::replace(&mut records[secondary].target, target);
        Ok(())
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
