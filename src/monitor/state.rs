//! What the monitor knows: per-source last good data, errors and staleness,
//! the merged view of all sources, and lag history.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::history::{DEFAULT_CAPACITY, LagHistory, LagSample};
use super::origins::Origins;
use crate::domain::environment::{Environment, ServiceSpec};
use crate::domain::lookup::{Positions, SnapshotIndex};
use crate::domain::posture::{Posture, assess, effective_lag};
use crate::domain::snapshot::{ErrorKind, Snapshot, SourceError, SourceId, SourceReading};

/// A source whose data is older than this many poll intervals is stale.
pub const STALE_AFTER_POLLS: u32 = 3;

#[derive(Debug, Clone, PartialEq)]
pub struct GoodReading {
    pub snapshot: Snapshot,
    pub taken_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub error: SourceError,
    pub at: DateTime<Utc>,
}

/// Everything known about one source.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceStatus {
    pub last_good: Option<GoodReading>,
    pub last_error: Option<Failure>,
    /// Failed readings since the last good one.
    pub consecutive_failures: u32,
}

/// How current some data is.
#[derive(Debug, Clone, PartialEq)]
pub struct Freshness {
    pub stale: bool,
    /// Age of the oldest data involved; `None` when there never was any.
    pub age: Option<Duration>,
    /// Why the data is stale, when a failed reading is the reason.
    pub error: Option<ErrorKind>,
    /// The source that makes it stale.
    pub source: Option<SourceId>,
}

impl Freshness {
    fn fresh(age: Option<Duration>) -> Self {
        Self {
            stale: false,
            age,
            error: None,
            source: None,
        }
    }

    /// Keeps the worse of two: stale over fresh, then the older.
    fn worst(self, other: Freshness) -> Freshness {
        let older = |a: &Freshness, b: &Freshness| match (a.age, b.age) {
            (None, _) => true,
            (_, None) => false,
            (Some(x), Some(y)) => x >= y,
        };
        match (self.stale, other.stale) {
            (true, false) => self,
            (false, true) => other,
            _ if older(&self, &other) => self,
            _ => other,
        }
    }
}

/// The sources that reported one service's resources, by position among
/// the sources with data, and whether some resource was reported by none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServiceSources {
    positions: Vec<usize>,
    missing: bool,
}

/// Each source's freshness at one moment: what a pass over every service
/// judges them by.
#[derive(Debug, Clone)]
pub struct FreshnessTable {
    by_position: Vec<Freshness>,
    /// A source failing without ever having delivered data, if any.
    never_delivered: Option<Freshness>,
}

impl FreshnessTable {
    /// The freshness of the data behind a service reported by `sources`.
    pub fn of(&self, sources: &ServiceSources) -> Freshness {
        let mut result: Option<Freshness> = None;
        let mut worst = |f: &Freshness| {
            result = Some(match result.take() {
                Some(r) => r.worst(f.clone()),
                None => f.clone(),
            });
        };
        for f in sources
            .positions
            .iter()
            .filter_map(|&p| self.by_position.get(p))
        {
            worst(f);
        }
        if sources.missing
            && let Some(f) = &self.never_delivered
        {
            worst(f);
        }
        result.unwrap_or_else(|| Freshness::fresh(None))
    }
}

#[derive(Debug, Clone)]
pub struct MonitorState {
    interval: Duration,
    /// How many times the interval asked for polls now come (at least 1):
    /// polls of a large estate are spaced out to bound their cost.
    stretch: f64,
    history_capacity: usize,
    sources: BTreeMap<SourceId, SourceStatus>,
    merged: Snapshot,
    origins: Origins,
    /// Where each resource sits in `merged`: kept while the sources report
    /// the same resources, which is every poll of an unchanged estate.
    positions: Positions,
    lag_history: HashMap<String, LagHistory>,
    /// Counts the changes of `merged`: what was computed from one version
    /// holds while the version stays.
    version: u64,
    /// Newest reading time (provider clock) and the gap before it.
    last_poll: Option<DateTime<Utc>>,
    poll_gap: Duration,
}

impl MonitorState {
    pub fn new(interval: Duration) -> Self {
        Self::with_history(interval, DEFAULT_CAPACITY)
    }

    pub fn with_history(interval: Duration, history_capacity: usize) -> Self {
        Self {
            interval,
            stretch: 1.0,
            history_capacity,
            sources: BTreeMap::new(),
            merged: Snapshot::default(),
            origins: Origins::default(),
            positions: Positions::default(),
            lag_history: HashMap::default(),
            version: 0,
            last_poll: None,
            poll_gap: Duration::ZERO,
        }
    }

    /// Takes in one poll's readings. A failed reading keeps the source's last
    /// good data (now ageing) and records the error.
    pub fn apply(&mut self, readings: Vec<SourceReading>) {
        let newest = readings.iter().map(|r| r.taken_at).max();
        for reading in readings {
            let status = self.sources.entry(reading.source).or_default();
            match reading.result {
                Ok(snapshot) => {
                    for lag in &snapshot.lags {
                        let Some(seconds) = effective_lag(lag) else {
                            continue;
                        };
                        self.lag_history
                            .entry(lag.resource_id.clone())
                            .or_insert_with(|| LagHistory::new(self.history_capacity))
                            .push(LagSample {
                                at: reading.taken_at,
                                seconds: seconds.as_secs_f64(),
                            });
                    }
                    status.last_good = Some(GoodReading {
                        snapshot,
                        taken_at: reading.taken_at,
                    });
                    status.consecutive_failures = 0;
                }
                Err(error) => {
                    status.last_error = Some(Failure {
                        error,
                        at: reading.taken_at,
                    });
                    status.consecutive_failures += 1;
                }
            }
        }
        if let Some(newest) = newest {
            if let Some(previous) = self.last_poll.filter(|p| *p < newest) {
                self.poll_gap = (newest - previous).to_std().unwrap_or(Duration::ZERO);
            }
            self.last_poll = Some(self.last_poll.map_or(newest, |p| p.max(newest)));
        }
        self.rebuild_merged();
    }

    fn rebuild_merged(&mut self) {
        let mut merged = Snapshot::default();
        let good = || {
            self.sources
                .iter()
                .filter_map(|(id, s)| s.last_good.as_ref().map(|g| (id, &g.snapshot)))
        };
        for (_, snapshot) in good() {
            merged.extend(snapshot);
        }
        if self.origins.update(good()) {
            self.positions = Positions::of(&merged);
            // History follows the resources still shown, so an estate whose
            // resources come and go does not grow it without bound.
            let shown: HashSet<&str> = merged.lags.iter().map(|l| l.resource_id.as_str()).collect();
            self.lag_history.retain(|id, _| shown.contains(id.as_str()));
        }
        self.merged = merged;
        self.version += 1;
    }

    /// Which version of [`Self::merged`] this is: it changes whenever the
    /// merged data may have.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The last good data of every source together.
    pub fn merged(&self) -> &Snapshot {
        &self.merged
    }

    /// [`Self::merged`], taken out of the state that is done with.
    pub fn into_merged(self) -> Snapshot {
        self.merged
    }

    /// [`Self::merged`], indexed.
    pub fn index(&self) -> SnapshotIndex<'_> {
        SnapshotIndex::with_positions(&self.merged, &self.positions)
    }

    pub fn sources(&self) -> &BTreeMap<SourceId, SourceStatus> {
        &self.sources
    }

    pub fn lag_history(&self, resource_id: &str) -> Option<&LagHistory> {
        self.lag_history.get(resource_id)
    }

    pub fn has_data(&self) -> bool {
        self.last_poll.is_some()
    }

    /// When the newest reading was taken (provider clock), failed or not.
    pub fn last_poll(&self) -> Option<DateTime<Utc>> {
        self.last_poll
    }

    /// When the newest good data was taken: the newest of every source's
    /// last successful reading. Failed readings never make data younger.
    pub fn newest_good(&self) -> Option<DateTime<Utc>> {
        self.sources
            .values()
            .filter_map(|s| s.last_good.as_ref().map(|g| g.taken_at))
            .max()
    }

    /// How current the newest good data is: stale when older than
    /// [`Self::stale_after`], or when there never was any.
    pub fn data_freshness(&self, now: DateTime<Utc>) -> Freshness {
        let age = self
            .newest_good()
            .map(|at| (now - at).to_std().unwrap_or(Duration::ZERO));
        match age {
            Some(age) if age <= self.stale_after() => Freshness::fresh(Some(age)),
            _ => Freshness {
                stale: true,
                age,
                error: None,
                source: None,
            },
        }
    }

    /// Drops sources that are gone, e.g. a discovery source once it has
    /// answered: it has nothing more to report and must not age into stale.
    pub fn forget(&mut self, sources: &[SourceId]) {
        for source in sources {
            self.sources.remove(source);
        }
        self.rebuild_merged();
    }

    /// Data older than this is stale. Measured on the provider's clock, so
    /// the gap between polls as that clock saw it counts too: a simulator
    /// running ten times faster than real time ages data ten times faster.
    pub fn stale_after(&self) -> Duration {
        self.interval.mul_f64(self.stretch).max(self.poll_gap) * STALE_AFTER_POLLS
    }

    /// Polls now come every `every` instead of every `asked`: data ages
    /// into stale only after that many of the longer intervals, so a poll
    /// spaced out by design is not mistaken for a missing one.
    pub fn set_cadence(&mut self, every: Duration, asked: Duration) {
        self.stretch = (every.as_secs_f64() / asked.as_secs_f64().max(f64::EPSILON)).max(1.0);
    }

    pub fn source_freshness(&self, source: &str, now: DateTime<Utc>) -> Option<Freshness> {
        self.sources
            .get(source)
            .map(|s| self.freshness_of(source, s, now))
    }

    fn freshness_of(&self, id: &str, status: &SourceStatus, now: DateTime<Utc>) -> Freshness {
        let age = status
            .last_good
            .as_ref()
            .map(|g| (now - g.taken_at).to_std().unwrap_or(Duration::ZERO));
        let failing = status.consecutive_failures > 0;
        let too_old = age.is_none_or(|a| a > self.stale_after());
        if failing || too_old {
            Freshness {
                stale: true,
                age,
                error: status
                    .last_error
                    .as_ref()
                    .filter(|_| failing)
                    .map(|f| f.error.kind),
                source: Some(id.to_string()),
            }
        } else {
            Freshness::fresh(age)
        }
    }

    /// Stale sources, in source order.
    pub fn stale_sources(&self, now: DateTime<Utc>) -> Vec<Freshness> {
        self.sources
            .iter()
            .map(|(id, s)| self.freshness_of(id, s, now))
            .filter(|f| f.stale)
            .collect()
    }

    /// How current the data behind a service is: the worst of the sources
    /// that reported its resources. A resource nobody reported counts as
    /// stale when some source is failing without ever having delivered data
    /// (it may be the one that would have reported it).
    pub fn service_freshness(&self, service: &ServiceSpec, now: DateTime<Utc>) -> Freshness {
        self.freshness_table(now).of(&self.service_sources(service))
    }

    /// Which sources reported `service`'s resources, as
    /// [`FreshnessTable::of`] takes them.
    pub fn service_sources(&self, service: &ServiceSpec) -> ServiceSources {
        let mut sources = ServiceSources::default();
        self.origins.of_service(service, |origin| match origin {
            Some(position) if !sources.positions.contains(&position) => {
                sources.positions.push(position)
            }
            Some(_) => {}
            None => sources.missing = true,
        });
        sources
    }

    /// Every source's freshness as of `now`, judged once for a pass over
    /// many services.
    pub fn freshness_table(&self, now: DateTime<Utc>) -> FreshnessTable {
        FreshnessTable {
            by_position: (0..self.origins.len())
                .map(|position| {
                    self.source_freshness(self.origins.source(position), now)
                        .unwrap_or_else(|| Freshness::fresh(None))
                })
                .collect(),
            never_delivered: self
                .sources
                .iter()
                .filter(|(_, s)| s.last_good.is_none() && s.consecutive_failures > 0)
                .map(|(id, s)| self.freshness_of(id, s, now))
                .next(),
        }
    }

    /// Every service's posture from one observation, as `status` reports it.
    pub fn postures(&self, env: &Environment, now: DateTime<Utc>) -> Vec<Posture> {
        let index = self.index();
        env.services
            .iter()
            .map(|s| assess(s, &index, now))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::{Health, HealthCheckObs, LagKind, LagObs};

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + second, 0).unwrap()
    }

    fn lag(resource: &str, seconds: f64) -> LagObs {
        LagObs {
            resource_id: resource.into(),
            region: "us-west-2".into(),
            kind: LagKind::S3,
            lag: Some(Duration::from_secs_f64(seconds)),
            rpo_lag: None,
            pending_operations: None,
        }
    }

    fn check(id: &str, status: Health) -> HealthCheckObs {
        HealthCheckObs {
            id: id.into(),
            region: "us-east-1".into(),
            fqdn: format!("{id}.example.com"),
            status,
            checkers_healthy: 8,
            checkers_total: 8,
            failure_threshold: 3,
            disabled: false,
            inverted: false,
        }
    }

    fn good(source: &str, t: i64, snapshot: Snapshot) -> SourceReading {
        SourceReading {
            source: source.into(),
            taken_at: at(t),
            result: Ok(snapshot),
        }
    }

    fn failed(source: &str, t: i64, kind: ErrorKind) -> SourceReading {
        SourceReading {
            source: source.into(),
            taken_at: at(t),
            result: Err(SourceError::new(kind, "boom")),
        }
    }

    fn lags(items: Vec<LagObs>) -> Snapshot {
        Snapshot {
            lags: items,
            ..Snapshot::default()
        }
    }

    fn checks(items: Vec<HealthCheckObs>) -> Snapshot {
        Snapshot {
            health_checks: items,
            ..Snapshot::default()
        }
    }

    use crate::domain::testing::s3_service;

    #[test]
    fn polls_spaced_out_by_design_age_into_stale_later() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![good("route53", 0, checks(vec![]))]);
        assert!(m.data_freshness(at(5)).stale);
        m.set_cadence(Duration::from_secs(10), Duration::from_secs(1));
        assert!(!m.data_freshness(at(5)).stale);
        assert!(m.data_freshness(at(31)).stale);
    }

    #[test]
    fn merges_the_last_good_data_of_every_source() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![
            good(
                "cloudwatch:us-west-2",
                0,
                lags(vec![lag("assets-usw2", 0.5)]),
            ),
            good("route53", 0, checks(vec![check("hc-1", Health::Healthy)])),
        ]);
        assert_eq!(m.merged().lags.len(), 1);
        assert_eq!(m.merged().health_checks.len(), 1);

        m.apply(vec![good(
            "cloudwatch:us-west-2",
            1,
            lags(vec![lag("assets-usw2", 0.7)]),
        )]);
        assert_eq!(
            m.merged().lags.len(),
            1,
            "a source's new data replaces its old"
        );
        assert_eq!(m.merged().lags[0].lag, Some(Duration::from_secs_f64(0.7)));
        assert_eq!(
            m.merged().health_checks.len(),
            1,
            "other sources keep theirs"
        );
    }

    #[test]
    fn a_failed_source_keeps_its_old_data_marked_stale_with_its_age() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![
            good(
                "cloudwatch:us-west-2",
                0,
                lags(vec![lag("assets-usw2", 0.5)]),
            ),
            good("route53", 0, checks(vec![check("hc-1", Health::Healthy)])),
        ]);
        m.apply(vec![
            failed("cloudwatch:us-west-2", 10, ErrorKind::Throttled),
            good("route53", 10, checks(vec![check("hc-1", Health::Healthy)])),
        ]);

        assert_eq!(m.merged().lags.len(), 1, "old data is kept");
        let cw = m.source_freshness("cloudwatch:us-west-2", at(10)).unwrap();
        assert!(cw.stale);
        assert_eq!(cw.age, Some(Duration::from_secs(10)));
        assert_eq!(cw.error, Some(ErrorKind::Throttled));
        assert_eq!(m.sources()["cloudwatch:us-west-2"].consecutive_failures, 1);

        let r53 = m.source_freshness("route53", at(10)).unwrap();
        assert!(!r53.stale);
        assert_eq!(r53.age, Some(Duration::ZERO));

        let svc = m.service_freshness(&s3_service(), at(10));
        assert!(svc.stale, "the service's lag comes from the failed source");
        assert_eq!(svc.source.as_deref(), Some("cloudwatch:us-west-2"));
        assert_eq!(svc.age, Some(Duration::from_secs(10)));
        assert_eq!(svc.error, Some(ErrorKind::Throttled));
        assert_eq!(m.stale_sources(at(10)).len(), 1);
    }

    #[test]
    fn recovery_clears_staleness() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![failed("route53", 0, ErrorKind::Timeout)]);
        m.apply(vec![good("route53", 1, checks(vec![]))]);
        let f = m.source_freshness("route53", at(1)).unwrap();
        assert!(!f.stale);
        assert_eq!(m.sources()["route53"].consecutive_failures, 0);
    }

    #[test]
    fn data_older_than_a_few_polls_is_stale_without_any_error() {
        let mut m = MonitorState::new(Duration::from_secs(2));
        m.apply(vec![good(
            "route53",
            0,
            checks(vec![check("hc-1", Health::Healthy)]),
        )]);
        assert!(!m.source_freshness("route53", at(6)).unwrap().stale);
        let late = m.source_freshness("route53", at(7)).unwrap();
        assert!(late.stale);
        assert_eq!(late.error, None);
    }

    #[test]
    fn a_faster_provider_clock_widens_the_staleness_window() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![good("route53", 0, checks(vec![]))]);
        m.apply(vec![good("route53", 10, checks(vec![]))]);
        assert_eq!(m.stale_after(), Duration::from_secs(30));
        assert!(!m.source_freshness("route53", at(25)).unwrap().stale);
    }

    #[test]
    fn missing_data_is_stale_when_a_source_never_delivered() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![
            failed("cloudwatch:us-west-2", 0, ErrorKind::AccessDenied),
            good("route53", 0, checks(vec![check("hc-1", Health::Healthy)])),
        ]);
        let f = m.service_freshness(&s3_service(), at(0));
        assert!(f.stale);
        assert_eq!(f.age, None);
        assert_eq!(f.error, Some(ErrorKind::AccessDenied));
    }

    #[test]
    fn a_service_with_all_sources_current_is_fresh() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![
            good(
                "cloudwatch:us-west-2",
                0,
                lags(vec![lag("assets-usw2", 0.5)]),
            ),
            good("route53", 1, checks(vec![check("hc-1", Health::Healthy)])),
        ]);
        let f = m.service_freshness(&s3_service(), at(2));
        assert!(!f.stale);
        assert_eq!(
            f.age,
            Some(Duration::from_secs(2)),
            "the oldest data counts"
        );
    }

    #[test]
    fn the_data_age_is_that_of_the_newest_good_reading_not_of_failed_polls() {
        let mut m = MonitorState::new(Duration::from_secs(5));
        m.apply(vec![
            good("route53", 0, checks(vec![])),
            good("rds:us-east-1", 2, Snapshot::default()),
        ]);
        for t in (5..=30).step_by(5) {
            m.apply(vec![
                failed("route53", t, ErrorKind::Timeout),
                failed("rds:us-east-1", t, ErrorKind::ServiceUnavailable),
            ]);
        }
        assert_eq!(m.last_poll(), Some(at(30)), "polls went on");
        assert_eq!(m.newest_good(), Some(at(2)));
        let data = m.data_freshness(at(32));
        assert_eq!(data.age, Some(Duration::from_secs(30)));
        assert!(data.stale, "older than three 5 s polls");
        let r53 = m.source_freshness("route53", at(32)).unwrap();
        assert_eq!(r53.age, Some(Duration::from_secs(32)));

        m.apply(vec![good("route53", 33, checks(vec![]))]);
        let data = m.data_freshness(at(34));
        assert!(!data.stale);
        assert_eq!(data.age, Some(Duration::from_secs(1)));
    }

    #[test]
    fn without_any_good_reading_the_data_is_stale_with_no_age() {
        let mut m = MonitorState::new(Duration::from_secs(5));
        m.apply(vec![failed("route53", 0, ErrorKind::AccessDenied)]);
        assert!(m.has_data());
        assert_eq!(m.newest_good(), None);
        let data = m.data_freshness(at(0));
        assert!(data.stale);
        assert_eq!(data.age, None);
    }

    #[test]
    fn a_forgotten_source_is_neither_stale_nor_merged() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![
            failed("discovery:rds:us-west-2", 0, ErrorKind::ServiceUnavailable),
            good("cw", 0, lags(vec![lag("assets-usw2", 1.0)])),
        ]);
        assert_eq!(m.stale_sources(at(0)).len(), 1);
        m.forget(&["discovery:rds:us-west-2".to_string(), "cw".to_string()]);
        assert!(m.stale_sources(at(0)).is_empty());
        assert!(m.merged().lags.is_empty());
    }

    #[test]
    fn lag_history_is_bounded_and_only_grows_on_good_readings() {
        let mut m = MonitorState::with_history(Duration::from_secs(1), 5);
        for t in 0..20 {
            m.apply(vec![good(
                "cw",
                t,
                lags(vec![lag("assets-usw2", t as f64)]),
            )]);
        }
        m.apply(vec![failed("cw", 20, ErrorKind::Network)]);
        let h = m.lag_history("assets-usw2").unwrap();
        assert_eq!(h.len(), 5);
        assert_eq!(h.latest().unwrap().seconds, 19.0);
    }

    #[test]
    fn history_of_a_resource_no_longer_reported_is_dropped() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![good("cw", 0, lags(vec![lag("old-bucket", 1.0)]))]);
        m.apply(vec![good("cw", 1, lags(vec![lag("new-bucket", 1.0)]))]);
        assert!(m.lag_history("old-bucket").is_none());
        assert_eq!(m.lag_history("new-bucket").unwrap().len(), 1);
    }

    #[test]
    fn postures_cover_every_service() {
        let mut m = MonitorState::new(Duration::from_secs(1));
        m.apply(vec![good("cw", 0, lags(vec![lag("assets-usw2", 200.0)]))]);
        let env = Environment {
            name: "t".into(),
            home_region: "us-east-1".into(),
            regions: vec!["us-east-1".into(), "us-west-2".into()],
            services: vec![s3_service()],
            sim: Default::default(),
        };
        let p = m.postures(&env, at(0));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].rpo_exposure(), Some(Duration::from_secs(200)));
    }
}
