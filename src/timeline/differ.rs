//! Turning successive polls into the events log's changes: each service's
//! availability and RPO posture, each health check, each DNS record's
//! serving target. Pure: fed the monitor's state once per poll.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::events::{Change, ObservedEvent};
use crate::domain::availability::Availability;
use crate::domain::environment::Environment;
use crate::domain::posture::Verdict;
use crate::domain::snapshot::Health;
use crate::monitor::{MonitorState, Tracker};

/// The last value seen of everything the log follows.
#[derive(Debug, Default)]
pub struct Differ {
    last: HashMap<String, String>,
}

impl Differ {
    /// The changes since the previous poll. A value seen for the first
    /// time is logged only when it is bad news (a service not UP, a check
    /// failing, an RPO not OK): what was already wrong when the console
    /// started belongs in the story; a quiet start does not. Data of a
    /// service that is stale this poll changes nothing.
    pub fn observe(
        &mut self,
        env: &Environment,
        monitor: &MonitorState,
        tracker: &Tracker,
        at: DateTime<Utc>,
    ) -> Vec<ObservedEvent> {
        let mut events = Vec::new();
        let snapshot = monitor.merged();
        for service in &env.services {
            let id = Some(service.id.clone());
            let history = tracker.history(&service.id);
            if let Some((availability, since, _)) = history.and_then(|h| h.availability())
                && availability != Availability::Unknown
            {
                let to = availability.label().to_string();
                if let Some(from) = self.changed(
                    format!("availability/{}", service.id),
                    &to,
                    availability != Availability::Up,
                ) {
                    events.push(ObservedEvent {
                        at: since,
                        service: id.clone(),
                        change: Change::Availability { from, to },
                    });
                }
            }
            if let Some(rpo) = history.and_then(|h| h.rpo()).map(|h| h.shown())
                && rpo != Verdict::Unknown
            {
                let to = rpo.label().to_string();
                if let Some(from) =
                    self.changed(format!("rpo/{}", service.id), &to, rpo != Verdict::Ok)
                {
                    events.push(ObservedEvent {
                        at,
                        service: id.clone(),
                        change: Change::Rpo { from, to },
                    });
                }
            }
            if monitor.service_freshness(service, at).stale {
                continue;
            }
            for spec in &service.health_checks {
                let Some(check) = snapshot.health_checks.iter().find(|c| c.id == spec.id) else {
                    continue;
                };
                let to = match check.status {
                    Health::Healthy => "healthy",
                    Health::Unhealthy => "unhealthy",
                    Health::Unknown => continue,
                };
                if let Some(from) = self.changed(
                    format!("health/{}", check.id),
                    to,
                    check.status == Health::Unhealthy,
                ) {
                    events.push(ObservedEvent {
                        at,
                        service: id.clone(),
                        change: Change::Health {
                            check: check.id.clone(),
                            region: check.region.clone(),
                            from,
                            to: to.into(),
                        },
                    });
                }
            }
            if let Some(dns) = &service.dns {
                let name = dns.record.trim_end_matches('.');
                let mut targets: Vec<&str> = snapshot
                    .dns_records
                    .iter()
                    .filter(|r| r.name.trim_end_matches('.') == name)
                    .map(|r| r.target.trim_end_matches('.'))
                    .collect();
                if targets.is_empty() {
                    continue;
                }
                targets.sort_unstable();
                targets.dedup();
                let to = targets.join(", ");
                if let Some(from) = self.changed(format!("dns/{name}"), &to, false) {
                    events.push(ObservedEvent {
                        at,
                        service: id.clone(),
                        change: Change::Dns {
                            record: name.to_string(),
                            from,
                            to,
                        },
                    });
                }
            }
        }
        events
    }

    /// Records `value` under `key`; the previous value when it changed
    /// (`Some(None)` for a first sighting that is `notable`).
    fn changed(&mut self, key: String, value: &str, notable: bool) -> Option<Option<String>> {
        match self.last.insert(key, value.to_string()) {
            Some(old) if old == value => None,
            Some(old) => Some(Some(old)),
            None if notable => Some(None),
            None => None,
        }
    }
}
