//! The AWS API budget: a client-side rate limit per AWS API, shared by the
//! monitor and the runbook runner, where an action's requests always take
//! the next free slot and the monitor yields.
//!
//! Route 53 allows five requests a second for the whole account: a console
//! that polls hard would throttle its own failover's
//! `ChangeResourceRecordSets`. Each API (Route 53 account-wide; CloudWatch
//! and RDS per region) gets a [`PriorityBucket`] that spaces requests at
//! least `1/rate` apart, so no one-second window holds more than `rate`.
//! An action reserves the next slot at once, ahead of any monitor request
//! still waiting; the monitor takes a slot only when one is free now and
//! gives up (the poll part is skipped, kind "budget") when none frees within
//! its wait. `governor` has no priorities, hence this small owned bucket:
//! its schedule ([`Schedule`]) is pure, taking the time as an argument, and
//! is tested on instants of its own; [`PriorityBucket`] runs it on tokio's
//! clock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::domain::snapshot::{ErrorKind, SourceReading};

/// Whose request it is: an action's go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Action,
    Monitor,
}

/// An AWS API with its own budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Api {
    Route53,
    CloudWatch,
    Rds,
}

impl Api {
    pub fn label(self) -> &'static str {
        match self {
            Api::Route53 => "Route 53",
            Api::CloudWatch => "CloudWatch",
            Api::Rds => "RDS",
        }
    }
}

/// Requests a second per API, and how long a monitor request waits for a
/// slot before its part of the poll is skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetSettings {
    pub route53_per_second: f64,
    pub cloudwatch_per_second: f64,
    pub rds_per_second: f64,
    pub monitor_wait: Duration,
}

/// One request in five of Route 53's account quota left to other callers.
pub const DEFAULT_ROUTE53_PER_SECOND: f64 = 4.0;
/// `GetMetricData` allows 50 a second per region; a poll needs a handful.
pub const DEFAULT_CLOUDWATCH_PER_SECOND: f64 = 10.0;
/// RDS `Describe*` calls share a per-region bucket refilled at about ten a second.
pub const DEFAULT_RDS_PER_SECOND: f64 = 10.0;
/// Under the SDK's attempt timeout, so a waiting request never times out.
pub const DEFAULT_MONITOR_WAIT: Duration = Duration::from_secs(2);

impl Default for BudgetSettings {
    fn default() -> Self {
        Self {
            route53_per_second: DEFAULT_ROUTE53_PER_SECOND,
            cloudwatch_per_second: DEFAULT_CLOUDWATCH_PER_SECOND,
            rds_per_second: DEFAULT_RDS_PER_SECOND,
            monitor_wait: DEFAULT_MONITOR_WAIT,
        }
    }
}

impl BudgetSettings {
    pub fn per_second(&self, api: Api) -> f64 {
        match api {
            Api::Route53 => self.route53_per_second,
            Api::CloudWatch => self.cloudwatch_per_second,
            Api::Rds => self.rds_per_second,
        }
    }
}

/// A monitor request that found no slot within its wait.
#[derive(Debug, Clone, PartialEq)]
pub struct OverBudget {
    pub api: Api,
    pub per_second: f64,
    pub waited: Duration,
    /// Held back after AWS throttled the poll, not by the runbook's calls.
    pub throttled: bool,
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.throttled {
            return write!(
                f,
                "{} throttled the last poll: the monitor backs off, this part of the poll was skipped",
                self.api.label()
            );
        }
        write!(
            f,
            "{} budget ({}/s) taken for {:.1}s (the runbook's calls go first): this part of the poll was skipped",
            self.api.label(),
            self.per_second,
            self.waited.as_secs_f64()
        )
    }
}

impl std::error::Error for OverBudget {}

/// How one bucket has been used, for the detail pane.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub api: Api,
    /// `None` for an account-wide API.
    pub region: Option<String>,
    pub per_second: f64,
    /// Requests granted in the last second.
    pub last_second: usize,
    /// The most granted in any one second so far.
    pub peak_second: usize,
    pub granted: u64,
    /// Monitor requests that found no slot, and when the last one did.
    pub skipped: u64,
    pub last_skip: Option<DateTime<Utc>>,
    /// Polls AWS throttled (after the SDK's own retries), and when the last was.
    pub throttled_polls: u64,
    pub last_throttled: Option<DateTime<Utc>>,
    /// How much longer the monitor holds back after that, if it still does.
    pub backoff: Option<Duration>,
}

/// What a monitor request does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorStep {
    Granted,
    /// No slot is free now; the next may be then (an action may take it).
    WaitUntil(Instant),
    /// No slot frees before the request's deadline; `throttled` when it is
    /// AWS's throttling, not the runbook's calls, that holds the monitor back.
    Skip {
        throttled: bool,
    },
}

/// After AWS throttles a poll, the monitor holds back this long, doubling
/// with each poll throttled in a row up to [`MAX_THROTTLE_HOLD`].
pub const FIRST_THROTTLE_HOLD: Duration = Duration::from_secs(15);
pub const MAX_THROTTLE_HOLD: Duration = Duration::from_secs(240);

/// The slots of one API: who may send when, and what was sent.
#[derive(Debug)]
pub struct Schedule {
    interval: Duration,
    /// The first instant a new request may go; actions push it forward
    /// when they reserve.
    next_free: Option<Instant>,
    /// Grant instants within the last second, oldest first.
    recent: VecDeque<Instant>,
    peak_second: usize,
    granted: u64,
    skipped: u64,
    last_skip: Option<DateTime<Utc>>,
    /// Monitor requests wait until then after AWS throttled a poll.
    hold_until: Option<Instant>,
    throttled_in_a_row: u32,
    /// Polls that started a hold: AWS's throttling, not the hold's own skips.
    throttled_polls: u64,
    last_throttled: Option<DateTime<Utc>>,
}

const WINDOW: Duration = Duration::from_secs(1);

impl Schedule {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next_free: None,
            recent: VecDeque::new(),
            peak_second: 0,
            granted: 0,
            skipped: 0,
            last_skip: None,
            hold_until: None,
            throttled_in_a_row: 0,
            throttled_polls: 0,
            last_throttled: None,
        }
    }

    /// AWS throttled the monitor's requests: hold them back, longer each
    /// time in a row. Actions are not held: they go first, and the SDK's
    /// retries back them off within a call.
    ///
    /// A poll part skipped by the hold itself reports throttling too: while
    /// a hold runs, it is not extended, so only AWS's answers lengthen it.
    pub fn throttled(&mut self, now: Instant) {
        if self.hold_until.is_some_and(|h| h > now) {
            return;
        }
        let doublings = self.throttled_in_a_row.min(8);
        let hold = FIRST_THROTTLE_HOLD
            .saturating_mul(1 << doublings)
            .min(MAX_THROTTLE_HOLD);
        self.throttled_in_a_row += 1;
        self.hold_until = Some(now + hold);
        self.throttled_polls += 1;
        self.last_throttled = Some(Utc::now());
    }

    /// How much longer monitor requests are held back at `now`.
    pub fn backoff(&self, now: Instant) -> Option<Duration> {
        self.hold_until
            .filter(|h| *h > now)
            .map(|h| h.duration_since(now))
    }

    /// The API answered a poll: throttling is over.
    pub fn answered(&mut self) {
        self.throttled_in_a_row = 0;
        self.hold_until = None;
    }

    /// Grants come in slot order, which only moves forward.
    fn grant(&mut self, slot: Instant) {
        self.next_free = Some(slot + self.interval);
        self.granted += 1;
        self.recent.push_back(slot);
        while self.recent.front().is_some_and(|t| *t + WINDOW <= slot) {
            self.recent.pop_front();
        }
        self.peak_second = self.peak_second.max(self.recent.len());
    }

    /// An action's request at `now` reserves the next slot, ahead of every
    /// monitor request not yet granted, and goes at the instant returned.
    pub fn reserve_action(&mut self, now: Instant) -> Instant {
        let slot = self.next_free.map_or(now, |free| free.max(now));
        self.grant(slot);
        slot
    }

    /// A monitor request at `now` takes a slot only if one is free now.
    pub fn try_monitor(&mut self, now: Instant, deadline: Instant) -> MonitorStep {
        let held = self.hold_until.filter(|h| *h > now);
        let free = match (self.next_free, held) {
            (Some(free), Some(hold)) => Some(free.max(hold)),
            (free, hold) => free.or(hold),
        };
        match free {
            Some(free) if free > now && free > deadline => {
                self.skipped += 1;
                self.last_skip = Some(Utc::now());
                MonitorStep::Skip {
                    throttled: held.is_some_and(|h| h > deadline),
                }
            }
            Some(free) if free > now => MonitorStep::WaitUntil(free),
            _ => {
                self.grant(now);
                MonitorStep::Granted
            }
        }
    }

    /// Requests granted in the second up to `now`.
    pub fn last_second(&self, now: Instant) -> usize {
        self.recent
            .iter()
            .filter(|t| **t <= now && **t + WINDOW > now)
            .count()
    }

    /// The most requests granted in any one second so far.
    pub fn peak_second(&self) -> usize {
        self.peak_second
    }
}

/// Requests of one API spaced at least `1/rate` apart, actions first.
#[derive(Debug)]
pub struct PriorityBucket {
    api: Api,
    region: Option<String>,
    per_second: f64,
    schedule: Mutex<Schedule>,
}

impl PriorityBucket {
    /// `per_second` is checked positive and finite by the configuration;
    /// anything else is taken as one request a second.
    pub fn new(api: Api, region: Option<String>, per_second: f64) -> Self {
        let per_second = match per_second.is_finite() && per_second > 0.0 {
            true => per_second,
            false => 1.0,
        };
        Self {
            api,
            region,
            per_second,
            schedule: Mutex::new(Schedule::new(Duration::from_secs_f64(1.0 / per_second))),
        }
    }

    fn schedule(&self) -> MutexGuard<'_, Schedule> {
        // A panic while holding the lock leaves counters, never a broken
        // schedule: carry on with them.
        self.schedule.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for this request's slot. An action reserves the next one at
    /// once; a monitor request waits for a free one up to `max_wait`, then
    /// gives up.
    pub async fn acquire(&self, priority: Priority, max_wait: Duration) -> Result<(), OverBudget> {
        let start = Instant::now();
        match priority {
            Priority::Action => {
                let slot = self.schedule().reserve_action(start);
                tokio::time::sleep_until(slot).await;
                Ok(())
            }
            Priority::Monitor => loop {
                let step = self
                    .schedule()
                    .try_monitor(Instant::now(), start + max_wait);
                match step {
                    MonitorStep::Granted => return Ok(()),
                    MonitorStep::WaitUntil(wake) => tokio::time::sleep_until(wake).await,
                    MonitorStep::Skip { throttled } => {
                        return Err(OverBudget {
                            api: self.api,
                            per_second: self.per_second,
                            waited: Instant::now().duration_since(start),
                            throttled,
                        });
                    }
                }
            },
        }
    }

    /// See [`Schedule::throttled`].
    pub fn throttled(&self) {
        self.schedule().throttled(Instant::now());
    }

    pub fn answered(&self) {
        self.schedule().answered();
    }

    pub fn usage(&self) -> Usage {
        let schedule = self.schedule();
        let now = Instant::now();
        Usage {
            api: self.api,
            region: self.region.clone(),
            per_second: self.per_second,
            last_second: schedule.last_second(now),
            peak_second: schedule.peak_second,
            granted: schedule.granted,
            skipped: schedule.skipped,
            last_skip: schedule.last_skip,
            throttled_polls: schedule.throttled_polls,
            last_throttled: schedule.last_throttled,
            backoff: schedule.backoff(now),
        }
    }
}

/// Every API's bucket, made on first use and shared by all clients built
/// from the same budget.
#[derive(Debug, Default)]
pub struct Budget {
    settings: BudgetSettings,
    buckets: Mutex<BTreeMap<(Api, String), Arc<PriorityBucket>>>,
}

impl Budget {
    pub fn new(settings: BudgetSettings) -> Self {
        Self {
            settings,
            buckets: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn settings(&self) -> &BudgetSettings {
        &self.settings
    }

    /// The bucket of `api` in `region`; Route 53's quota is the account's,
    /// whatever region a client names.
    pub fn bucket(&self, api: Api, region: &str) -> Arc<PriorityBucket> {
        let region = match api {
            Api::Route53 => None,
            Api::CloudWatch | Api::Rds => Some(region.to_string()),
        };
        let key = (api, region.clone().unwrap_or_default());
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(buckets.entry(key).or_insert_with(|| {
            Arc::new(PriorityBucket::new(
                api,
                region,
                self.settings.per_second(api),
            ))
        }))
    }

    /// Backs the monitor off each API whose reading AWS throttled, and
    /// ends the back-off of each that answered.
    pub fn observed(&self, readings: &[SourceReading]) {
        for reading in readings {
            let (service, region) = reading
                .source
                .split_once(':')
                .unwrap_or((reading.source.as_str(), ""));
            let api = match service {
                "route53" => Api::Route53,
                "cloudwatch" => Api::CloudWatch,
                "rds" => Api::Rds,
                _ => continue,
            };
            match &reading.result {
                Ok(_) => self.bucket(api, region).answered(),
                Err(e) if e.kind == ErrorKind::Throttled => self.bucket(api, region).throttled(),
                Err(_) => {}
            }
        }
    }

    /// Every bucket used so far, by API then region.
    pub fn usage(&self) -> Vec<Usage> {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        buckets.values().map(|b| b.usage()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUARTER: Duration = Duration::from_millis(250);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn requests_are_spaced_so_no_second_holds_more_than_the_rate() {
        let mut s = Schedule::new(QUARTER);
        let t0 = Instant::now();
        let slots: Vec<Duration> = (0..9)
            .map(|_| s.reserve_action(t0).duration_since(t0))
            .collect();
        assert_eq!(slots[0], Duration::ZERO);
        assert_eq!(slots[8], Duration::from_secs(2));
        assert_eq!(s.peak_second(), 4);
        assert_eq!(s.last_second(t0 + ms(2100)), 4, "slots 1.25s to 2s");
    }

    #[test]
    fn an_action_takes_the_next_slot_ahead_of_a_waiting_monitor() {
        let mut s = Schedule::new(QUARTER);
        let t0 = Instant::now();
        let deadline = t0 + Duration::from_secs(2);
        assert_eq!(s.try_monitor(t0, deadline), MonitorStep::Granted);
        assert_eq!(
            s.try_monitor(t0 + ms(10), deadline),
            MonitorStep::WaitUntil(t0 + ms(250)),
            "the monitor waits for the next slot"
        );
        assert_eq!(
            s.reserve_action(t0 + ms(20)),
            t0 + ms(250),
            "the action arriving later takes it"
        );
        assert_eq!(
            s.try_monitor(t0 + ms(250), deadline),
            MonitorStep::WaitUntil(t0 + ms(500)),
            "and the monitor yields"
        );
        assert_eq!(s.try_monitor(t0 + ms(500), deadline), MonitorStep::Granted);
        assert_eq!(s.peak_second(), 3);
    }

    #[test]
    fn the_monitor_gives_up_when_actions_hold_the_budget_beyond_its_wait() {
        let mut s = Schedule::new(QUARTER);
        let t0 = Instant::now();
        for _ in 0..12 {
            s.reserve_action(t0);
        }
        assert_eq!(
            s.try_monitor(t0, t0 + Duration::from_secs(2)),
            MonitorStep::Skip { throttled: false },
            "three seconds of slots are reserved"
        );
        assert_eq!(s.skipped, 1);
        assert!(s.last_skip.is_some());
        assert_eq!(
            s.try_monitor(t0 + ms(2000), t0 + ms(4000)),
            MonitorStep::WaitUntil(t0 + ms(3000))
        );
        assert_eq!(
            s.try_monitor(t0 + ms(3000), t0 + ms(4000)),
            MonitorStep::Granted
        );
        assert_eq!(s.peak_second(), 4);
    }

    #[test]
    fn a_monitor_arriving_late_does_not_bunch_up_with_the_next() {
        let mut s = Schedule::new(QUARTER);
        let t0 = Instant::now();
        let far = t0 + Duration::from_secs(60);
        assert_eq!(s.try_monitor(t0 + ms(900), far), MonitorStep::Granted);
        assert_eq!(
            s.try_monitor(t0 + ms(1000), far),
            MonitorStep::WaitUntil(t0 + ms(1150))
        );
    }

    #[test]
    fn throttling_holds_the_monitor_back_longer_each_poll_in_a_row_but_not_actions() {
        let mut s = Schedule::new(QUARTER);
        let t0 = Instant::now();
        let wait = Duration::from_secs(2);
        s.throttled(t0);
        assert_eq!(
            s.try_monitor(t0 + ms(1000), t0 + ms(1000) + wait),
            MonitorStep::Skip { throttled: true }
        );
        assert_eq!(s.reserve_action(t0 + ms(1000)), t0 + ms(1000), "actions go");
        assert_eq!(
            s.try_monitor(t0 + ms(14_000), t0 + ms(14_000) + wait),
            MonitorStep::WaitUntil(t0 + FIRST_THROTTLE_HOLD)
        );
        assert_eq!(
            s.try_monitor(t0 + FIRST_THROTTLE_HOLD, t0 + ms(20_000)),
            MonitorStep::Granted
        );
        let t1 = t0 + FIRST_THROTTLE_HOLD;
        s.throttled(t1);
        assert_eq!(
            s.try_monitor(t1 + ms(20_000), t1 + ms(22_000)),
            MonitorStep::Skip { throttled: true },
            "the second time in a row it holds thirty seconds"
        );
        s.answered();
        assert_eq!(
            s.try_monitor(t1 + ms(20_000), t1 + ms(22_000)),
            MonitorStep::Granted
        );
        s.throttled(t1);
        s.throttled(t1 + ms(5_000));
        assert_eq!(
            s.hold_until,
            Some(t1 + FIRST_THROTTLE_HOLD),
            "a skip during the hold does not lengthen it"
        );
        assert_eq!(s.throttled_polls, 3, "nor counts as AWS throttling again");
        assert_eq!(s.backoff(t1 + ms(5_000)), Some(ms(10_000)));
        assert_eq!(s.backoff(t1 + FIRST_THROTTLE_HOLD), None);
        let mut now = t1;
        for _ in 0..20 {
            now += MAX_THROTTLE_HOLD;
            s.throttled(now);
        }
        assert_eq!(s.hold_until, Some(now + MAX_THROTTLE_HOLD));
    }

    #[tokio::test]
    async fn the_bucket_grants_actions_and_monitors_on_tokios_clock() {
        let bucket = Arc::new(PriorityBucket::new(Api::Route53, None, 1000.0));
        let tasks: Vec<_> = (0..20)
            .map(|n| {
                let bucket = Arc::clone(&bucket);
                let priority = match n % 2 {
                    0 => Priority::Action,
                    _ => Priority::Monitor,
                };
                tokio::spawn(async move { bucket.acquire(priority, Duration::from_secs(5)).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let usage = bucket.usage();
        assert_eq!((usage.granted, usage.skipped), (20, 0));
        assert!(usage.peak_second <= 1000);
    }

    #[test]
    fn route53_is_one_bucket_for_the_account_and_the_others_one_per_region() {
        let budget = Budget::new(BudgetSettings::default());
        assert!(Arc::ptr_eq(
            &budget.bucket(Api::Route53, "us-east-1"),
            &budget.bucket(Api::Route53, "eu-west-1")
        ));
        assert!(!Arc::ptr_eq(
            &budget.bucket(Api::Rds, "us-east-1"),
            &budget.bucket(Api::Rds, "eu-west-1")
        ));
        assert_eq!(budget.usage().len(), 3);
        assert_eq!(budget.usage()[0].per_second, DEFAULT_ROUTE53_PER_SECOND);
    }
}
