//! RDS events (`DescribeEvents`) for the incident timeline: what Aurora
//! says it did, such as a global failover starting and completing, write
//! fencing, or the global writer endpoint's DNS moving.
//!
//! `DescribeEvents` has no global-cluster source type (its types are
//! db-instance, db-cluster, snapshots, parameter and security groups,
//! proxies, custom engine versions and blue/green deployments): a global
//! database's failover is reported on each member cluster, so the members
//! are asked for, each with `SourceType=db-cluster`. RDS keeps 14 days of
//! events; `StartTime` is clamped to that. Pages are of the maximum 100
//! records (the API takes 20 to 100), followed by `Marker`. The calls are
//! meant to be rare: every few minutes and after an action, never per poll.

use aws_sdk_rds::Client;
use aws_sdk_rds::types::{Event, SourceType};
use chrono::{DateTime, Duration, Utc};

use super::errors::from_sdk;
use crate::domain::environment::{Environment, Replication};
use crate::domain::snapshot::SourceError;
use crate::timeline::events::{Change, ObservedEvent};

/// How far back RDS keeps events.
pub const RETENTION: Duration = Duration::days(14);

/// The most records a `DescribeEvents` page may hold.
const PAGE_SIZE: i32 = 100;

/// A DB cluster whose events tell a service's story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSource {
    pub service: String,
    pub region: String,
    pub cluster_id: String,
}

/// Every member cluster of every service's Aurora global database, in its
/// region: where a global failover, its fencing and its DNS change are
/// reported.
pub fn event_sources(env: &Environment) -> Vec<EventSource> {
    env.services
        .iter()
        .filter_map(|service| match &service.replication {
            Replication::AuroraGlobal {
                primary_cluster,
                secondary_cluster,
                ..
            } => Some([
                (service, &service.primary_region, primary_cluster),
                (service, &service.dr_region, secondary_cluster),
            ]),
            _ => None,
        })
        .flatten()
        .map(|(service, region, cluster)| EventSource {
            service: service.id.clone(),
            region: region.clone(),
            cluster_id: cluster.clone(),
        })
        .collect()
}

/// Events of the DB cluster `cluster_id` from `since` (at most 14 days
/// before `now`), attributed to `service`.
pub async fn cluster_events(
    client: &Client,
    cluster_id: &str,
    service: Option<&str>,
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<ObservedEvent>, SourceError> {
    let start = since.max(now - RETENTION);
    let events: Vec<Event> = client
        .describe_events()
        .source_type(SourceType::DbCluster)
        .source_identifier(cluster_id)
        .start_time(aws_smithy_types::DateTime::from_secs(start.timestamp()))
        .max_records(PAGE_SIZE)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| from_sdk("DescribeEvents", e))?;
    Ok(map_events(&events, service))
}

/// The events as the timeline logs them; one without a date or a message
/// says nothing that can be placed in time, and is left out.
pub fn map_events(events: &[Event], service: Option<&str>) -> Vec<ObservedEvent> {
    events
        .iter()
        .filter_map(|event| {
            let date = event.date()?;
            let at = DateTime::from_timestamp(date.secs(), date.subsec_nanos())?;
            let message = event.message().filter(|m| !m.trim().is_empty())?;
            Some(ObservedEvent {
                at,
                service: service.map(String::from),
                change: Change::Rds {
                    source: event.source_identifier().unwrap_or("?").to_string(),
                    message: message.to_string(),
                    categories: event.event_categories().to_vec(),
                },
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_rds::operation::describe_events::DescribeEventsOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap()
    }

    fn event(s: i64, message: &str) -> Event {
        Event::builder()
            .source_identifier("orders-secondary")
            .source_type(SourceType::DbCluster)
            .message(message)
            .event_categories("global-failover")
            .date(aws_smithy_types::DateTime::from_secs(at(s).timestamp()))
            .build()
    }

    #[tokio::test]
    async fn member_clusters_are_asked_page_by_page_within_the_retention() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let first = mock!(aws_sdk_rds::Client::describe_events)
            .match_requests(move |r| {
                let first_page = r.marker().is_none();
                if first_page {
                    record.lock().unwrap().push(r.clone());
                }
                first_page
            })
            .then_output(|| {
                DescribeEventsOutput::builder()
                    .events(event(
                        10,
                        "Global failover to DB cluster orders-secondary started.",
                    ))
                    .marker("page-2")
                    .build()
            });
        let record = Arc::clone(&seen);
        let second = mock!(aws_sdk_rds::Client::describe_events)
            .match_requests(move |r| {
                let second_page = r.marker() == Some("page-2");
                if second_page {
                    record.lock().unwrap().push(r.clone());
                }
                second_page
            })
            .then_output(|| {
                DescribeEventsOutput::builder()
                    .events(event(
                        70,
                        "Global failover to DB cluster orders-secondary completed.",
                    ))
                    .build()
            });
        let client = mock_client!(aws_sdk_rds, RuleMode::MatchAny, &[&first, &second]);
        let now = at(100);
        let events = cluster_events(
            &client,
            "orders-secondary",
            Some("orders"),
            now - Duration::days(30),
            now,
        )
        .await
        .unwrap();
        let requests = seen.lock().unwrap();
        assert_eq!(requests.len(), 2, "two pages");
        for request in requests.iter() {
            assert_eq!(request.source_type(), Some(&SourceType::DbCluster));
            assert_eq!(request.source_identifier(), Some("orders-secondary"));
            assert_eq!(request.max_records(), Some(100));
            assert_eq!(
                request.start_time().map(|t| t.secs()),
                Some((now - RETENTION).timestamp()),
                "RDS keeps 14 days"
            );
            assert_eq!(request.duration(), None, "StartTime, not Duration");
        }
        let told: Vec<String> = events.iter().map(ObservedEvent::describe).collect();
        assert_eq!(
            told,
            [
                "RDS orders-secondary: Global failover to DB cluster orders-secondary started.",
                "RDS orders-secondary: Global failover to DB cluster orders-secondary completed.",
            ]
        );
        assert_eq!(events[0].at, at(10));
        assert_eq!(events[1].service.as_deref(), Some("orders"));
    }

    #[test]
    fn the_sources_are_each_global_databases_member_clusters_in_their_regions() {
        let env = crate::config::environment_file::demo_environment();
        let sources = event_sources(&env);
        assert!(!sources.is_empty());
        for service in &env.services {
            let mine: Vec<_> = sources.iter().filter(|s| s.service == service.id).collect();
            match &service.replication {
                Replication::AuroraGlobal {
                    primary_cluster,
                    secondary_cluster,
                    ..
                } => {
                    assert_eq!(mine.len(), 2);
                    assert_eq!(
                        (&mine[0].region, &mine[0].cluster_id),
                        (&service.primary_region, primary_cluster)
                    );
                    assert_eq!(
                        (&mine[1].region, &mine[1].cluster_id),
                        (&service.dr_region, secondary_cluster)
                    );
                }
                _ => assert!(mine.is_empty()),
            }
        }
    }

    #[test]
    fn an_event_without_a_date_or_message_is_left_out() {
        let undated = Event::builder().message("no date").build();
        let silent = Event::builder()
            .date(aws_smithy_types::DateTime::from_secs(at(0).timestamp()))
            .message("  ")
            .build();
        assert!(map_events(&[undated, silent], None).is_empty());
    }
}
