//! The poll loop: asks the provider on an interval, off the UI thread, and
//! shares each poll with whoever needs it: the console's UI loop (as
//! [`MonitorEvent`]s) and runbook runs (as a [`SnapshotFeed`]), so that a
//! run waiting on a condition never polls the estate a second time. The UI
//! tells it which service is open ([`Monitor::focus`]); each poll reads
//! that one in more detail.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::state::MonitorState;
use crate::domain::snapshot::{Snapshot, SourceReading};
use crate::provider::{FocusedService, Observe};

/// One poll's result, sent to the UI loop.
#[derive(Debug, Clone)]
pub struct MonitorEvent {
    pub readings: Vec<SourceReading>,
    /// Wall-clock time the poll took.
    pub took: Duration,
}

/// One poll as a run sees it: what the sources that answered said, and
/// which did not answer. A failed source's older data is left out rather
/// than passed off as current to a condition.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observation {
    /// The provider's clock when the poll began: everything in it is at
    /// least this recent.
    pub at: DateTime<Utc>,
    pub snapshot: Snapshot,
    /// `source: error` for each source that failed in this poll.
    pub failures: Vec<String>,
}

impl Observation {
    pub fn from_readings(at: DateTime<Utc>, readings: &[SourceReading]) -> Observation {
        let mut observation = Observation {
            at,
            ..Observation::default()
        };
        for reading in readings {
            match &reading.result {
                Ok(s) => observation.snapshot.extend(s),
                Err(e) => observation
                    .failures
                    .push(format!("{}: {e}", reading.source)),
            }
        }
        observation
    }
}

/// The monitor's latest poll, for runs. Cloning is cheap; every clone sees
/// the same polls.
#[derive(Debug, Clone)]
pub struct SnapshotFeed {
    latest: watch::Receiver<Option<Arc<Observation>>>,
    refresh: Arc<Notify>,
}

impl SnapshotFeed {
    /// The newest poll, if there has been one.
    pub fn latest(&self) -> Option<Arc<Observation>> {
        self.latest.borrow().clone()
    }

    /// Asks the monitor to poll now rather than at its next interval. Asks
    /// made while a poll is under way are merged into one more poll, so any
    /// number of runs asking at once cost one poll.
    pub fn request(&self) {
        self.refresh.notify_one();
    }

    /// Waits for the next poll; false once the monitor has stopped.
    pub async fn changed(&mut self) -> bool {
        self.latest.changed().await.is_ok()
    }
}

/// The share of one core an idle console's polling may take: the
/// provider's own work (when it runs in this process) and the UI loop's
/// taking in of each poll. A poll costing more than this share of the
/// interval stretches the interval until it fits, so the console of a large
/// estate stays idle on a slow machine too. Runs never wait for it: a run
/// asks for a poll and gets it at once ([`SnapshotFeed::request`]).
pub const POLL_CPU_SHARE: f64 = 0.01;

/// However costly a poll, the interval never stretches beyond this.
pub const MAX_STRETCHED_INTERVAL: Duration = Duration::from_secs(30);

/// The interval in effect when a poll costs `cost` of the machine's work.
pub fn cadence(interval: Duration, cost: Duration) -> Duration {
    let fits = cost.div_f64(POLL_CPU_SHARE).min(MAX_STRETCHED_INTERVAL);
    interval.max(fits)
}

/// The last few polls' costs. Their median is what a poll costs: one slow
/// poll (the first, taken in while the console starts) neither stretches
/// the interval alone nor makes it swing.
#[derive(Debug, Default)]
struct RecentCosts(std::collections::VecDeque<Duration>);

impl RecentCosts {
    const KEPT: usize = 5;

    fn push(&mut self, cost: Duration) {
        if self.0.len() == Self::KEPT {
            self.0.pop_front();
        }
        self.0.push_back(cost);
    }

    /// The median, the lower of the middle two when they are even.
    fn typical(&self) -> Duration {
        let mut sorted: Vec<Duration> = self.0.iter().copied().collect();
        sorted.sort_unstable();
        sorted
            .get(sorted.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or_default()
    }
}

/// A running monitor: its polls for the UI loop and its feed for runs.
pub struct Monitor {
    pub events: mpsc::Receiver<MonitorEvent>,
    pub feed: SnapshotFeed,
    pub task: JoinHandle<()>,
    /// The service open in the detail pane, if any: the UI sets it without
    /// waiting, the next poll reads it.
    pub focus: watch::Sender<Option<FocusedService>>,
    /// What taking in the last poll cost the UI loop: the UI sets it, the
    /// next interval counts it (see [`POLL_CPU_SHARE`]).
    pub cost: watch::Sender<Duration>,
    /// The interval in effect: the one asked for, or longer while polls
    /// cost more than their share.
    pub cadence: watch::Receiver<Duration>,
}

/// Polls at once and then every `interval` (or longer, see
/// [`POLL_CPU_SHARE`]) until the receiver is dropped.
///
/// A slow poll delays the next one rather than piling polls up, and the
/// channel is small so a busy UI slows polling instead of queueing old data.
pub fn spawn(observe: Arc<dyn Observe>, interval: Duration) -> Monitor {
    let (tx, events) = mpsc::channel(2);
    let (focus, focused) = watch::channel(None);
    let (cost, ui_cost) = watch::channel(Duration::ZERO);
    let (cadence_tx, cadence) = watch::channel(interval);
    let (feed, task) = launch(
        observe,
        interval,
        Some(Reporting {
            events: tx,
            ui_cost,
            cadence: cadence_tx,
        }),
        focused,
    );
    Monitor {
        events,
        feed,
        task,
        focus,
        cost,
        cadence,
    }
}

/// Where a monitor with a UI loop reports, and hears back from it.
struct Reporting {
    events: mpsc::Sender<MonitorEvent>,
    ui_cost: watch::Receiver<Duration>,
    cadence: watch::Sender<Duration>,
}

/// A monitor with no UI loop to report to (the headless `runbook run`):
/// it polls for the feed alone and stops once every feed is dropped.
pub fn spawn_feed(observe: Arc<dyn Observe>, interval: Duration) -> (SnapshotFeed, JoinHandle<()>) {
    launch(observe, interval, None, watch::channel(None).1)
}

fn launch(
    observe: Arc<dyn Observe>,
    interval: Duration,
    reporting: Option<Reporting>,
    focused: watch::Receiver<Option<FocusedService>>,
) -> (SnapshotFeed, JoinHandle<()>) {
    let (latest_tx, latest) = watch::channel(None);
    let refresh = Arc::new(Notify::new());
    let feed = SnapshotFeed {
        latest,
        refresh: Arc::clone(&refresh),
    };
    let headless = reporting.is_none();
    let handle = tokio::spawn(async move {
        let interval = interval.max(Duration::from_millis(10));
        let mut next = tokio::time::Instant::now();
        let mut costs = RecentCosts::default();
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {}
                () = refresh.notified() => {}
                () = latest_tx.closed(), if headless => break,
            }
            let at = observe.now();
            let started = Instant::now();
            let focus = focused.borrow().clone();
            let readings = observe.observe_focused(focus.as_ref()).await;
            latest_tx.send_replace(Some(Arc::new(Observation::from_readings(at, &readings))));
            let took = started.elapsed();
            let own = if observe.polls_in_process() {
                took
            } else {
                Duration::ZERO
            };
            let ui = reporting
                .as_ref()
                .map_or(Duration::ZERO, |r| *r.ui_cost.borrow());
            costs.push(own + ui);
            let every = cadence(interval, costs.typical());
            next = tokio::time::Instant::from_std(started) + every;
            tracing::debug!(
                sources = readings.len(),
                took_ms = took.as_millis() as u64,
                every_ms = every.as_millis() as u64,
                "poll"
            );
            if let Some(reporting) = &reporting {
                reporting.cadence.send_if_modified(|shown| {
                    let changed = *shown != every;
                    *shown = every;
                    changed
                });
                if reporting
                    .events
                    .send(MonitorEvent { readings, took })
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    });
    (feed, handle)
}

/// One poll applied to a fresh state: what `status` reports.
pub async fn observe_once(observe: &dyn Observe, interval: Duration) -> MonitorState {
    let mut state = MonitorState::new(interval);
    state.apply(observe.observe().await);
    state
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use async_trait::async_trait;
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::domain::action::ChangeStatus;
    use crate::domain::snapshot::{Snapshot, SourceError};

    /// Counts polls; each poll is one good reading one second later.
    struct Counting(AtomicU64);

    #[async_trait]
    impl Observe for Counting {
        async fn observe(&self) -> Vec<SourceReading> {
            let n = self.0.fetch_add(1, Ordering::SeqCst);
            vec![SourceReading {
                source: "route53".into(),
                taken_at: DateTime::from_timestamp(1_700_000_000 + n as i64, 0).unwrap(),
                result: Ok(Snapshot::default()),
            }]
        }
        fn now(&self) -> DateTime<Utc> {
            Utc::now()
        }
        async fn change_status(&self, _: &str) -> Result<ChangeStatus, SourceError> {
            Ok(ChangeStatus::Insync)
        }
    }

    #[tokio::test]
    async fn polls_repeatedly_and_stops_when_the_receiver_goes() {
        let observe = Arc::new(Counting(AtomicU64::new(0)));
        let Monitor {
            mut events, task, ..
        } = spawn(observe.clone(), Duration::from_millis(10));
        let first = events.recv().await.unwrap();
        let second = events.recv().await.unwrap();
        assert!(first.readings[0].taken_at < second.readings[0].taken_at);
        drop(events);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("the task ends once nobody listens")
            .unwrap();
    }

    #[tokio::test]
    async fn observe_once_applies_one_poll() {
        let observe = Counting(AtomicU64::new(0));
        let state = observe_once(&observe, Duration::from_secs(1)).await;
        assert!(state.has_data());
        assert_eq!(state.sources().len(), 1);
    }

    #[tokio::test]
    async fn runs_share_the_polls_and_an_ask_polls_at_once() {
        let observe = Arc::new(Counting(AtomicU64::new(0)));
        let (mut feed, task) = spawn_feed(observe.clone(), Duration::from_secs(3600));
        assert!(feed.changed().await);
        let mut other = feed.clone();
        // An hour-long interval: only an ask can bring the second poll.
        feed.request();
        tokio::time::timeout(Duration::from_secs(5), other.changed())
            .await
            .expect("an ask polls without waiting for the interval");
        assert_eq!(feed.latest(), other.latest());
        assert_eq!(observe.0.load(Ordering::SeqCst), 2);
        drop(feed);
        drop(other);
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("a feed-only monitor stops once no run listens")
            .unwrap();
    }

    /// Remembers which service each poll was asked to read in detail.
    #[derive(Default)]
    struct Focused(std::sync::Mutex<Vec<Option<String>>>);

    #[async_trait]
    impl Observe for Focused {
        async fn observe(&self) -> Vec<SourceReading> {
            self.observe_focused(None).await
        }
        async fn observe_focused(&self, focus: Option<&FocusedService>) -> Vec<SourceReading> {
            self.0
                .lock()
                .unwrap()
                .push(focus.map(|f| f.service.clone()));
            Vec::new()
        }
        fn now(&self) -> DateTime<Utc> {
            Utc::now()
        }
        async fn change_status(&self, _: &str) -> Result<ChangeStatus, SourceError> {
            Ok(ChangeStatus::Insync)
        }
    }

    #[tokio::test]
    async fn each_poll_reads_in_detail_the_service_the_ui_has_open_then() {
        let observe = Arc::new(Focused::default());
        let Monitor {
            mut events,
            feed,
            focus,
            ..
        } = spawn(observe.clone(), Duration::from_secs(3600));
        events.recv().await.unwrap();
        focus.send_replace(Some(FocusedService {
            service: "orders".into(),
            health_checks: vec!["hc-1".into()],
        }));
        feed.request();
        events.recv().await.unwrap();
        focus.send_replace(None);
        feed.request();
        events.recv().await.unwrap();
        assert_eq!(
            *observe.0.lock().unwrap(),
            vec![None, Some("orders".to_string()), None]
        );
    }

    #[test]
    fn a_poll_costing_more_than_its_share_stretches_the_interval() {
        let asked = Duration::from_secs(2);
        assert_eq!(cadence(asked, Duration::from_millis(10)), asked);
        assert_eq!(
            cadence(asked, Duration::from_millis(100)),
            Duration::from_secs(10)
        );
        assert_eq!(
            cadence(asked, Duration::from_secs(5)),
            MAX_STRETCHED_INTERVAL
        );
        assert_eq!(
            cadence(Duration::from_secs(60), Duration::from_secs(5)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn one_slow_poll_does_not_make_polls_costly() {
        let ms = Duration::from_millis;
        let mut costs = RecentCosts::default();
        costs.push(ms(20));
        costs.push(ms(2000));
        assert_eq!(costs.typical(), ms(20));
        for _ in 0..3 {
            costs.push(ms(30));
        }
        assert_eq!(costs.typical(), ms(30));
        for _ in 0..3 {
            costs.push(ms(90));
        }
        assert_eq!(costs.typical(), ms(90), "a lasting change is followed");
    }

    /// A provider in this process whose every poll takes 30 ms of work.
    struct Costly(AtomicU64);

    #[async_trait]
    impl Observe for Costly {
        async fn observe(&self) -> Vec<SourceReading> {
            std::thread::sleep(Duration::from_millis(30));
            self.0.fetch_add(1, Ordering::SeqCst);
            Vec::new()
        }
        fn now(&self) -> DateTime<Utc> {
            Utc::now()
        }
        fn polls_in_process(&self) -> bool {
            true
        }
        async fn change_status(&self, _: &str) -> Result<ChangeStatus, SourceError> {
            Ok(ChangeStatus::Insync)
        }
    }

    #[tokio::test]
    async fn costly_polls_come_less_often_but_an_ask_still_polls_at_once() {
        let observe = Arc::new(Costly(AtomicU64::new(0)));
        let Monitor {
            mut events,
            feed,
            cost,
            cadence,
            ..
        } = spawn(observe.clone(), Duration::from_millis(10));
        events.recv().await.unwrap();
        let first = *cadence.borrow();
        assert!(first >= Duration::from_secs(2), "30 ms of work: {first:?}");
        // The UI's 30 ms count too.
        cost.send_replace(Duration::from_millis(30));
        let quiet = tokio::time::timeout(Duration::from_millis(500), events.recv()).await;
        assert!(quiet.is_err(), "no poll within 500 ms of a 2 s cadence");
        for _ in 0..2 {
            feed.request();
            tokio::time::timeout(Duration::from_secs(1), events.recv())
                .await
                .expect("a run's ask is not held back by the cadence")
                .unwrap();
        }
        let later = *cadence.borrow();
        assert!(later > first, "{later:?} after {first:?}");
        assert_eq!(observe.0.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_failed_source_is_named_and_left_out_of_the_snapshot() {
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let readings = vec![SourceReading {
            source: "rds us-east-1".into(),
            taken_at: at,
            result: Err(SourceError::new(
                crate::domain::snapshot::ErrorKind::ServiceUnavailable,
                "503",
            )),
        }];
        let o = Observation::from_readings(at, &readings);
        assert_eq!(o.snapshot, Snapshot::default());
        assert_eq!(o.failures.len(), 1);
        assert!(
            o.failures[0].starts_with("rds us-east-1: "),
            "{:?}",
            o.failures
        );
    }
}
