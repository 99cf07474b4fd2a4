//! One stream of everything the UI loop reacts to: terminal input, monitor
//! polls and a clock tick at most once a second (for the clock and ages).
//! Nothing here ticks faster, so an idle console sleeps.

use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};

use crate::monitor::{EnvironmentUpdate, MonitorEvent};
use crate::tui::runbooks::RunMessage;

pub const CLOCK_TICK: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub enum AppEvent {
    Input(Event),
    Monitor(MonitorEvent),
    /// A run published a new status, or a start ended.
    Run(Box<RunMessage>),
    /// Background discovery found a newer environment.
    Environment(Box<EnvironmentUpdate>),
    /// The poll task ended: it only does so by panicking.
    MonitorStopped,
    Tick,
    /// The terminal input ended or failed; the loop cannot go on.
    InputClosed(Option<std::io::Error>),
    /// SIGTERM or SIGHUP: leave cleanly.
    Terminate,
}

pub struct Events {
    input: EventStream,
    monitor: mpsc::Receiver<MonitorEvent>,
    runs: mpsc::Receiver<RunMessage>,
    /// Discovery still retrying in the background, if any.
    environments: Option<mpsc::Receiver<EnvironmentUpdate>>,
    clock: Interval,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
}

impl Events {
    pub fn new(
        monitor: mpsc::Receiver<MonitorEvent>,
        runs: mpsc::Receiver<RunMessage>,
        environments: Option<mpsc::Receiver<EnvironmentUpdate>>,
    ) -> std::io::Result<Self> {
        let mut clock = tokio::time::interval(CLOCK_TICK);
        clock.set_missed_tick_behavior(MissedTickBehavior::Skip);
        #[cfg(unix)]
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            input: EventStream::new(),
            monitor,
            runs,
            environments,
            clock,
            #[cfg(unix)]
            terminate: signal(SignalKind::terminate())?,
            #[cfg(unix)]
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// Polls that arrived while the loop was busy, oldest first: applied
    /// together with the one just received and the rows recomputed once,
    /// so polls never wait in the channel behind one refresh each.
    pub fn queued_polls(&mut self) -> Vec<MonitorEvent> {
        std::iter::from_fn(|| self.monitor.try_recv().ok()).collect()
    }

    pub async fn next(&mut self) -> AppEvent {
        #[cfg(unix)]
        let signals = async {
            tokio::select! {
                _ = self.terminate.recv() => {}
                _ = self.hangup.recv() => {}
            }
        };
        #[cfg(not(unix))]
        let signals = std::future::pending::<()>();
        // Pending for ever without discovery retries, and once they end.
        let environment = async {
            match &mut self.environments {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            input = self.input.next() => match input {
                Some(Ok(event)) => AppEvent::Input(event),
                Some(Err(e)) => AppEvent::InputClosed(Some(e)),
                None => AppEvent::InputClosed(None),
            },
            poll = self.monitor.recv() => match poll {
                Some(event) => AppEvent::Monitor(event),
                None => AppEvent::MonitorStopped,
            },
            Some(message) = self.runs.recv() => AppEvent::Run(Box::new(message)),
            Some(update) = environment => AppEvent::Environment(Box::new(update)),
            _ = self.clock.tick() => AppEvent::Tick,
            () = signals => AppEvent::Terminate,
        }
    }
}
