//! The poll loop: asks the provider on an interval, off the UI thread.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::state::MonitorState;
use crate::domain::snapshot::SourceReading;
use crate::provider::Observe;

/// One poll's result, sent to the UI loop.
#[derive(Debug, Clone)]
pub struct MonitorEvent {
    pub readings: Vec<SourceReading>,
    /// Wall-clock time the poll took.
    pub took: Duration,
}

/// Polls at once and then every `interval` until the receiver is dropped.
///
/// A slow poll delays the next one rather than piling polls up, and the
/// channel is small so a busy UI slows polling instead of queueing old data.
pub fn spawn(
    observe: Arc<dyn Observe>,
    interval: Duration,
) -> (mpsc::Receiver<MonitorEvent>, JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(2);
    let handle = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval.max(Duration::from_millis(10)));
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let started = Instant::now();
            let readings = observe.observe().await;
            let event = MonitorEvent {
                readings,
                took: started.elapsed(),
            };
            tracing::debug!(
                sources = event.readings.len(),
                took_ms = event.took.as_millis() as u64,
                "poll"
            );
            if tx.send(event).await.is_err() {
                break;
            }
        }
    });
    (rx, handle)
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
        let (mut rx, handle) = spawn(observe.clone(), Duration::from_millis(10));
        let first = rx.recv().await.unwrap();
        let second = rx.recv().await.unwrap();
        assert!(first.readings[0].taken_at < second.readings[0].taken_at);
        drop(rx);
        tokio::time::timeout(Duration::from_secs(5), handle)
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
}
