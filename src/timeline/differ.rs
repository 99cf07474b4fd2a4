//! Turning successive polls into the events log's changes: each service's
//! availability and RPO posture, each health check, each DNS record's
//! serving target, each Aurora global database's status and writer.
//! Pure: fed the monitor's state once per poll.

use std::fmt::Write;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;

use super::events::{Change, ObservedEvent};
use crate::domain::availability::Availability;
use crate::domain::environment::{Environment, Replication};
use crate::domain::lookup::Lookup;
use crate::domain::posture::Verdict;
use crate::domain::snapshot::Health;
use crate::monitor::{MonitorState, Tracker};

/// The last value seen of everything the log follows, by what it is
/// (`availability`, `health`, …) and then by whose it is: looked up every
/// poll for every service without building a key.
#[derive(Debug, Default)]
pub struct Differ {
    last: HashMap<&'static str, HashMap<String, String>>,
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
        let snapshot = monitor.index();
        // Reused for every service: a steady estate allocates nothing.
        let mut value = String::new();
        for service in &env.services {
            let id = || Some(service.id.clone());
            let history = tracker.history(&service.id);
            if let Some((availability, since, _)) = history.and_then(|h| h.availability())
                && availability != Availability::Unknown
            {
                let to = availability.label();
                if let Some(from) = self.changed(
                    "availability",
                    &service.id,
                    to,
                    availability != Availability::Up,
                ) {
                    events.push(ObservedEvent {
                        at: since,
                        service: id(),
                        change: Change::Availability {
                            from,
                            to: to.to_string(),
                        },
                    });
                }
            }
            if let Some(rpo) = history.and_then(|h| h.rpo()).map(|h| h.shown())
                && rpo != Verdict::Unknown
            {
                let to = rpo.label();
                if let Some(from) = self.changed("rpo", &service.id, to, rpo != Verdict::Ok) {
                    events.push(ObservedEvent {
                        at,
                        service: id(),
                        change: Change::Rpo {
                            from,
                            to: to.to_string(),
                        },
                    });
                }
            }
            if tracker.was_stale(&service.id) {
                continue;
            }
            if let Replication::AuroraGlobal { global_cluster, .. } = &service.replication
                && let Some(global) = snapshot.global_cluster(global_cluster)
            {
                if let Some(from) = self.changed(
                    "global-status",
                    global_cluster,
                    &global.status,
                    global.status != "available",
                ) {
                    events.push(ObservedEvent {
                        at,
                        service: id(),
                        change: Change::GlobalStatus {
                            global_cluster: global_cluster.clone(),
                            from,
                            to: global.status.clone(),
                        },
                    });
                }
                if let Some(writer) = global.writer() {
                    value.clear();
                    let _ = write!(value, "{} ({})", writer.cluster_id, writer.region);
                    if let Some(from) = self.changed("writer", global_cluster, &value, false) {
                        events.push(ObservedEvent {
                            at,
                            service: id(),
                            change: Change::Writer {
                                global_cluster: global_cluster.clone(),
                                from,
                                to: value.clone(),
                            },
                        });
                    }
                }
            }
            for spec in &service.health_checks {
                let Some(check) = snapshot.health_check(&spec.id) else {
                    continue;
                };
                let to = match check.status {
                    Health::Healthy => "healthy",
                    Health::Unhealthy => "unhealthy",
                    Health::Unknown => continue,
                };
                if let Some(from) =
                    self.changed("health", &check.id, to, check.status == Health::Unhealthy)
                {
                    events.push(ObservedEvent {
                        at,
                        service: id(),
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
                    .dns_records(&dns.zone_id, &dns.record)
                    .into_iter()
                    .map(|r| r.target.trim_end_matches('.'))
                    .collect();
                if targets.is_empty() {
                    continue;
                }
                targets.sort_unstable();
                targets.dedup();
                value.clear();
                for (i, target) in targets.iter().enumerate() {
                    if i > 0 {
                        value.push_str(", ");
                    }
                    value.push_str(target);
                }
                if let Some(from) = self.changed("dns", name, &value, false) {
                    events.push(ObservedEvent {
                        at,
                        service: id(),
                        change: Change::Dns {
                            record: name.to_string(),
                            from,
                            to: value.clone(),
                        },
                    });
                }
            }
        }
        events
    }

    /// Records `value` as the `what` of `whose`; the previous value when
    /// it changed (`Some(None)` for a first sighting that is `notable`).
    fn changed(
        &mut self,
        what: &'static str,
        whose: &str,
        value: &str,
        notable: bool,
    ) -> Option<Option<String>> {
        let seen = self.last.entry(what).or_default();
        match seen.get_mut(whose) {
            Some(old) if old == value => None,
            Some(old) => Some(Some(std::mem::replace(old, value.to_string()))),
            None => {
                seen.insert(whose.to_string(), value.to_string());
                notable.then_some(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::domain::environment::DnsSpec;
    use crate::domain::snapshot::{
        DnsRecordObs, ErrorKind, HealthCheckObs, Snapshot, SourceError, SourceReading,
    };

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    fn env() -> Environment {
        let mut service = crate::domain::testing::s3_service();
        service.dns = Some(DnsSpec {
            zone_id: "Z1".into(),
            record: "assets.example.com.".into(),
            primary_target: "assets.us-east-1.example.com".into(),
            secondary_target: "assets.us-west-2.example.com".into(),
            ttl: 60,
        });
        Environment {
            name: "t".into(),
            home_region: "us-east-1".into(),
            regions: vec!["us-east-1".into(), "us-west-2".into()],
            services: vec![service],
            sim: Default::default(),
        }
    }

    /// One poll: the check up or down (or the poll failed), DNS serving
    /// `target`.
    fn poll(t: i64, healthy: Option<bool>, target: &str) -> Vec<SourceReading> {
        let result = match healthy {
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
                dns_records: vec![DnsRecordObs {
                    zone_id: "Z1".into(),
                    name: "assets.example.com.".into(),
                    record_type: "CNAME".into(),
                    set_identifier: None,
                    failover: None,
                    target: format!("{target}."),
                    ttl: Some(60),
                    health_check_id: None,
                }],
                ..Snapshot::default()
            }),
            None => Err(SourceError::new(ErrorKind::Throttled, "Rate exceeded")),
        };
        vec![SourceReading {
            source: "route53".into(),
            taken_at: at(t),
            result,
        }]
    }

    fn changes(polls: &[(Option<bool>, &str)]) -> Vec<Vec<String>> {
        let env = env();
        let mut monitor = MonitorState::new(Duration::from_secs(1));
        let mut tracker = Tracker::default();
        let mut differ = Differ::default();
        polls
            .iter()
            .enumerate()
            .map(|(t, (healthy, target))| {
                monitor.apply(poll(t as i64, *healthy, target));
                tracker.observe(&env, &monitor, at(t as i64));
                differ
                    .observe(&env, &monitor, &tracker, at(t as i64))
                    .iter()
                    .map(|e| e.describe())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_quiet_start_logs_nothing_and_each_change_once() {
        let west = "assets.us-west-2.example.com";
        let east = "assets.us-east-1.example.com";
        let seen = changes(&[
            (Some(true), east),
            (Some(true), east),
            (Some(false), east),
            (None, west),
            (Some(false), west),
        ]);
        assert!(seen[0].is_empty() && seen[1].is_empty(), "{seen:?}");
        assert!(
            seen[2].contains(&"health check hc-1 (us-east-1) healthy → unhealthy".to_string()),
            "{seen:?}"
        );
        assert!(
            seen[2].iter().any(|e| e.starts_with("availability UP → ")),
            "{seen:?}"
        );
        assert!(
            seen[3].is_empty(),
            "a failed poll changes nothing: {seen:?}"
        );
        assert_eq!(
            seen[4],
            vec![format!("DNS assets.example.com serves {east} → {west}")]
        );
    }

    #[test]
    fn bad_news_already_there_at_the_first_poll_is_logged() {
        let seen = changes(&[(Some(false), "a.example.com")]);
        assert!(
            seen[0].contains(&"health check hc-1 (us-east-1) unhealthy (first seen)".to_string()),
            "{seen:?}"
        );
    }

    #[test]
    fn a_global_databases_switchover_is_told_by_its_status_and_writer() {
        use crate::domain::environment::Replication;
        use crate::domain::snapshot::{GlobalClusterObs, GlobalMember};
        let mut env = env();
        env.services[0].replication = Replication::AuroraGlobal {
            global_cluster: "g".into(),
            primary_cluster: "east".into(),
            secondary_cluster: "west".into(),
        };
        let member = |id: &str, region: &str, writer: bool| GlobalMember {
            cluster_id: id.into(),
            cluster_arn: format!("arn:aws:rds:{region}:1:cluster:{id}"),
            region: region.into(),
            is_writer: writer,
            synchronization_status: None,
        };
        let global = |status: &str, east_writes: bool| SourceReading {
            source: "rds:us-east-1".into(),
            taken_at: at(0),
            result: Ok(Snapshot {
                global_clusters: vec![GlobalClusterObs {
                    id: "g".into(),
                    engine: "aurora-postgresql".into(),
                    status: status.into(),
                    members: vec![
                        member("east", "us-east-1", east_writes),
                        member("west", "us-west-2", !east_writes),
                    ],
                }],
                ..Snapshot::default()
            }),
        };
        let mut monitor = MonitorState::new(Duration::from_secs(1));
        let mut tracker = Tracker::default();
        let mut differ = Differ::default();
        let mut seen = Vec::new();
        for (t, (status, east_writes)) in [
            ("available", true),
            ("switching-over", true),
            ("available", false),
        ]
        .into_iter()
        .enumerate()
        {
            let t = t as i64;
            let mut reading = global(status, east_writes);
            reading.taken_at = at(t);
            let mut readings = poll(t, Some(true), "a.example.com");
            readings.push(reading);
            monitor.apply(readings);
            tracker.observe(&env, &monitor, at(t));
            seen.push(
                differ
                    .observe(&env, &monitor, &tracker, at(t))
                    .iter()
                    .map(|e| e.describe())
                    .collect::<Vec<_>>(),
            );
        }
        assert!(seen[0].is_empty(), "{seen:?}");
        assert_eq!(seen[1], ["global database g available → switching-over"]);
        assert_eq!(
            seen[2],
            [
                "global database g switching-over → available",
                "writer of g east (us-east-1) → west (us-west-2)"
            ]
        );
    }
}
