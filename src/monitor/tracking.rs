//! Each service's history across polls: availability since when, verdicts
//! with hysteresis, incidents. Fed once per poll from the monitor's merged
//! data; while some of a service's data is stale only worse news counts, so
//! a failed poll keeps its incident open instead of guessing it is over.

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::state::{Freshness, FreshnessTable, MonitorState, ServiceSources};
use crate::domain::environment::{Environment, ServiceSpec};
use crate::domain::incident::{DeclareError, Incident, ServiceHistory};
use crate::domain::lookup::Lookup;
use crate::domain::posture::{self, Posture, Seen};

#[derive(Debug, Clone, Default)]
pub struct Tracker {
    histories: HashMap<String, ServiceHistory>,
    /// Services some of whose data was stale at the last poll taken.
    stale: HashSet<String>,
    /// What the last poll taken showed of each service, and the version of
    /// the monitor's data it was seen in: the rows drawn from that same
    /// data take it instead of looking every service up a second time.
    seen: HashMap<String, Kept>,
    seen_in: Option<u64>,
}

#[derive(Debug, Clone)]
struct Kept {
    seen: Seen,
    sources: ServiceSources,
}

impl Tracker {
    /// Takes one poll, whose newest reading was taken `at`.
    pub fn observe(&mut self, env: &Environment, monitor: &MonitorState, at: DateTime<Utc>) {
        let index = monitor.index();
        let freshness = monitor.freshness_table(at);
        for service in &env.services {
            let seen = posture::see(service, &index);
            let (availability, rpo) = posture::observe_seen(service, &index, &seen, at);
            let sources = monitor.service_sources(service);
            let stale = freshness.of(&sources).stale;
            let kept = Kept { seen, sources };
            match self.seen.get_mut(&service.id) {
                Some(old) => *old = kept,
                None => {
                    self.seen.insert(service.id.clone(), kept);
                }
            }
            let history = self.histories.entry(service.id.clone()).or_default();
            if stale {
                history.observe_stale(availability, rpo, at);
                if !self.stale.contains(&service.id) {
                    self.stale.insert(service.id.clone());
                }
            } else {
                history.observe(availability, rpo, at);
                self.stale.remove(&service.id);
            }
        }
        let services: HashSet<&str> = env.services.iter().map(|s| s.id.as_str()).collect();
        self.histories
            .retain(|id, _| services.contains(id.as_str()));
        self.stale.retain(|id| services.contains(id.as_str()));
        self.seen.retain(|id, _| services.contains(id.as_str()));
        self.seen_in = Some(monitor.version());
    }

    /// Whether some of the service's data was stale at the last poll taken:
    /// what that poll's changes are to be read with.
    pub fn was_stale(&self, service_id: &str) -> bool {
        self.stale.contains(service_id)
    }

    pub fn history(&self, service_id: &str) -> Option<&ServiceHistory> {
        self.histories.get(service_id)
    }

    /// The open incident of a service.
    pub fn incident(&self, service_id: &str) -> Option<&Incident> {
        self.history(service_id)?.incident()
    }

    /// A service's posture from `monitor`'s merged data, which `observed`
    /// looks up.
    pub fn posture(
        &self,
        service: &ServiceSpec,
        monitor: &MonitorState,
        observed: &impl Lookup,
        now: DateTime<Utc>,
    ) -> Posture {
        let none = ServiceHistory::default();
        let history = self.history(&service.id).unwrap_or(&none);
        match self.kept(service, monitor) {
            Some(kept) => posture::assess_seen(service, observed, &kept.seen, history, now),
            None => posture::assess_with(service, observed, history, now),
        }
    }

    /// How current `monitor`'s data behind a service is, with each source
    /// judged in `sources` (its [`MonitorState::freshness_table`]).
    pub fn freshness(
        &self,
        service: &ServiceSpec,
        monitor: &MonitorState,
        sources: &FreshnessTable,
    ) -> Freshness {
        match self.kept(service, monitor) {
            Some(kept) => sources.of(&kept.sources),
            None => sources.of(&monitor.service_sources(service)),
        }
    }

    /// What the last poll taken showed of `service`, while `monitor` still
    /// holds the data of that poll.
    fn kept(&self, service: &ServiceSpec, monitor: &MonitorState) -> Option<&Kept> {
        self.seen
            .get(&service.id)
            .filter(|_| self.seen_in == Some(monitor.version()))
    }

    /// An operator declares that `service`'s incident began at `start`.
    pub fn declare_incident(
        &mut self,
        env: &Environment,
        service: &str,
        start: DateTime<Utc>,
        who: &str,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<&Incident, DeclareError> {
        if env.service(service).is_none() {
            return Err(DeclareError::UnknownService(service.to_string()));
        }
        self.histories
            .entry(service.to_string())
            .or_default()
            .declare(start, who, why, now)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::availability::Availability;
    use crate::domain::snapshot::{
        ErrorKind, Health, HealthCheckObs, LagKind, LagObs, Snapshot, SourceError, SourceReading,
    };

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn env() -> Environment {
        Environment {
            name: "t".into(),
            home_region: "us-east-1".into(),
            regions: vec!["us-east-1".into(), "us-west-2".into()],
            services: vec![crate::domain::testing::s3_service()],
            sim: Default::default(),
        }
    }

    fn poll(t: i64, healthy: Option<bool>) -> Vec<SourceReading> {
        let route53 = match healthy {
            Some(up) => Ok(Snapshot {
                health_checks: vec![HealthCheckObs {
                    id: "hc-1".into(),
                    region: "us-east-1".into(),
                    fqdn: "hc-1.example.com".into(),
                    status: if up {
                        Health::Healthy
                    } else {
                        Health::Unhealthy
                    },
                    checkers_healthy: if up { 16 } else { 0 },
                    checkers_total: 16,
                    failure_threshold: 3,
                    disabled: false,
                    inverted: false,
                }],
                ..Snapshot::default()
            }),
            None => Err(SourceError::new(ErrorKind::Throttled, "Rate exceeded")),
        };
        vec![
            SourceReading {
                source: "route53".into(),
                taken_at: at(t),
                result: route53,
            },
            SourceReading {
                source: "cloudwatch:us-east-1".into(),
                taken_at: at(t),
                result: Ok(Snapshot {
                    lags: vec![LagObs {
                        resource_id: "assets-usw2".into(),
                        region: "us-west-2".into(),
                        kind: LagKind::S3,
                        lag: Some(Duration::from_secs(20)),
                        rpo_lag: None,
                        pending_operations: None,
                    }],
                    ..Snapshot::default()
                }),
            },
        ]
    }

    fn run(polls: &[Option<bool>]) -> (Tracker, MonitorState) {
        let env = env();
        let mut monitor = MonitorState::new(Duration::from_secs(1));
        let mut tracker = Tracker::default();
        for (t, healthy) in polls.iter().enumerate() {
            monitor.apply(poll(t as i64, *healthy));
            tracker.observe(&env, &monitor, at(t as i64));
        }
        (tracker, monitor)
    }

    #[test]
    fn failed_polls_keep_an_open_incident_open() {
        let (tracker, monitor) = run(&[Some(true), Some(false), None, None, None]);
        assert_eq!(tracker.incident("assets").unwrap().start, at(1));
        let p = tracker.posture(&env().services[0], &monitor, monitor.merged(), at(5));
        assert_eq!(p.availability(), Availability::Down);
        assert_eq!(p.rto_side.exposure, Some(Duration::from_secs(4)));
        assert!(monitor.service_freshness(&env().services[0], at(5)).stale);
    }

    #[test]
    fn the_incident_closes_once_up_has_held() {
        let (tracker, _) = run(&[Some(true), Some(false), Some(true), Some(true)]);
        assert!(tracker.incident("assets").is_none());
        let closed = tracker.history("assets").unwrap().last_closed().unwrap();
        assert_eq!((closed.start, closed.end), (at(1), Some(at(2))));
    }

    #[test]
    fn the_posture_kept_from_the_poll_is_the_one_looked_up_afresh() {
        let (tracker, monitor) = run(&[Some(true), Some(false)]);
        let service = &env().services[0];
        let history = tracker.history("assets").unwrap();
        let index = monitor.index();
        assert_eq!(
            tracker.posture(service, &monitor, &index, at(3)),
            posture::assess_with(service, &index, history, at(3))
        );
    }

    #[test]
    fn data_applied_after_the_last_poll_taken_is_looked_up_afresh() {
        let (tracker, mut monitor) = run(&[Some(true)]);
        monitor.apply(poll(1, Some(false)));
        let p = tracker.posture(&env().services[0], &monitor, &monitor.index(), at(1));
        assert_eq!(p.primary_health, Health::Unhealthy);
    }

    #[test]
    fn declaring_for_an_unknown_service_is_refused() {
        let (mut tracker, _) = run(&[Some(true)]);
        let err = tracker
            .declare_incident(&env(), "nope", at(0), "alice", "why", at(1))
            .unwrap_err();
        assert_eq!(err, DeclareError::UnknownService("nope".into()));
    }
}
