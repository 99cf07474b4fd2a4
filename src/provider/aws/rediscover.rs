//! Discovery retried in the background until every source has answered.
//!
//! ```text
//! Discovery (partial) --sleep, retry failed sources, back off--+
//!     answered: on_found(&Discovered)   the provider reads the new estate
//!     always:   EnvironmentUpdate  -->  UI loop (new services, sources still failing)
//! ```

use std::time::Duration;

use tokio::sync::mpsc;

use super::discover::{Discovered, Discovery, DiscoveryClients};
use crate::monitor::EnvironmentUpdate;

/// How long to wait between retries: from `first`, doubling up to `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    /// A regional outage lasts minutes to hours: retry soon, then settle
    /// at a pace that costs the failing region nothing.
    fn default() -> Self {
        Self {
            first: Duration::from_secs(5),
            max: Duration::from_secs(300),
        }
    }
}

/// Retries `discovery` until it is complete or the receiver is dropped.
/// `on_found` runs (before the update is sent) whenever a source newly
/// answered, so the provider reads what the console is about to show.
pub fn spawn(
    mut discovery: Discovery,
    clients: DiscoveryClients,
    backoff: Backoff,
    on_found: impl Fn(&Discovered) + Send + 'static,
) -> mpsc::Receiver<EnvironmentUpdate> {
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(async move {
        let mut delay = backoff.first;
        while !discovery.complete() {
            tokio::time::sleep(delay).await;
            if tx.is_closed() {
                return;
            }
            let failing_before: Vec<String> =
                discovery.failures().into_iter().map(|r| r.source).collect();
            let answered = discovery.retry(&clients).await;
            let found = discovery.discovered();
            if answered {
                on_found(&found);
            }
            let failed = discovery.failures();
            let recovered = failing_before
                .into_iter()
                .filter(|s| !failed.iter().any(|f| &f.source == s))
                .collect();
            tracing::info!(
                answered,
                still_failing = failed.len(),
                services = found.environment.services.len(),
                "discovery retried"
            );
            let update = EnvironmentUpdate {
                environment: found.environment,
                failed,
                recovered,
            };
            if tx.send(update).await.is_err() {
                return;
            }
            delay = (delay * 2).min(backoff.max);
        }
    });
    rx
}
