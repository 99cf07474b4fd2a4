//! Replication lag from CloudWatch: every lag metric of a region in as few
//! `GetMetricData` calls as the API allows.
//!
//! [`queries_for`] plans the queries from the watched services (pure);
//! [`read_lags`] sends them in batches of [`MAX_QUERIES_PER_CALL`];
//! [`build_lags`] turns the newest datapoint of each into a [`LagObs`].

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_cloudwatch::Client;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDataResult, MetricStat, ScanBy,
};
use chrono::{DateTime, Utc};

use super::errors::from_sdk;
use super::route53::HealthMetrics;
use super::watch::Watch;
use crate::domain::snapshot::{LagKind, LagObs, SourceError};

/// `GetMetricData` accepts at most this many queries per call.
pub const MAX_QUERIES_PER_CALL: usize = 500;
/// How far back to look for the newest datapoint.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const PERIOD_SECS: i32 = 60;
/// `NextToken` pages followed per batch: 500 series over a 15-minute window
/// fit in a few; more means a service answering in circles.
const MAX_PAGES_PER_BATCH: usize = 20;

/// Which field of a [`LagObs`] a query fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LagField {
    Lag,
    RpoLag,
    PendingOperations,
}

/// How a metric's values convert into the observation's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Seconds,
    Count,
}

#[derive(Debug, Clone, PartialEq)]
pub enum QuerySpec {
    Metric {
        namespace: &'static str,
        name: &'static str,
        dimensions: Vec<(&'static str, String)>,
    },
    /// Metric math, for metrics whose full dimension set the environment does
    /// not name (S3 replication metrics carry a rule id).
    Expression(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct LagQuery {
    /// Unique within one call: `q<index>`.
    pub id: String,
    pub resource_id: String,
    pub resource_region: String,
    pub kind: LagKind,
    pub field: LagField,
    pub unit: Unit,
    pub spec: QuerySpec,
}

/// The lag queries whose metrics live in `region`.
pub fn queries_for(watch: &Watch, region: &str) -> Vec<LagQuery> {
    let mut out = Vec::new();
    let mut push = |resource_id: &str,
                    resource_region: &str,
                    kind: LagKind,
                    field: LagField,
                    unit: Unit,
                    spec: QuerySpec| {
        out.push(LagQuery {
            id: String::new(),
            resource_id: resource_id.to_string(),
            resource_region: resource_region.to_string(),
            kind,
            field,
            unit,
            spec,
        });
    };
    for target in &watch.lag_targets {
        match target {
            LagTarget::AuroraCluster { cluster, region: r } if r == region => {
                for (name, field) in [
                    ("AuroraGlobalDBReplicationLag", LagField::Lag),
                    ("AuroraGlobalDBRPOLag", LagField::RpoLag),
                ] {
                    push(
                        cluster,
                        r,
                        LagKind::AuroraGlobal,
                        field,
                        Unit::Milliseconds,
                        QuerySpec::Metric {
                            namespace: "AWS/RDS",
                            name,
                            dimensions: vec![("DBClusterIdentifier", cluster.clone())],
                        },
                    );
                }
            }
            LagTarget::ReplicaInstance {
                instance,
                region: r,
            } if r == region => push(
                instance,
                r,
                LagKind::RdsReplica,
                LagField::Lag,
                Unit::Seconds,
                QuerySpec::Metric {
                    namespace: "AWS/RDS",
                    name: "ReplicaLag",
                    dimensions: vec![("DBInstanceIdentifier", instance.clone())],
                },
            ),
            LagTarget::S3 {
                source_bucket,
                source_region,
                destination_bucket,
                destination_region,
            } if source_region == region => {
                for (name, field, unit) in [
                    ("ReplicationLatency", LagField::Lag, Unit::Seconds),
                    (
                        "OperationsPendingReplication",
                        LagField::PendingOperations,
                        Unit::Count,
                    ),
                ] {
                    push(
                        destination_bucket,
                        destination_region,
                        LagKind::S3,
                        field,
                        unit,
                        QuerySpec::Expression(s3_search(name, source_bucket, destination_bucket)),
                    );
                }
            }
            _ => {}
        }
    }
    for (i, q) in out.iter_mut().enumerate() {
        q.id = format!("q{i}");
    }
    out
}

/// A replicated resource whose lag is read, and where its metrics live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LagTarget {
    AuroraCluster {
        cluster: String,
        region: String,
    },
    ReplicaInstance {
        instance: String,
        region: String,
    },
    /// S3 publishes replication metrics in the source bucket's region.
    S3 {
        source_bucket: String,
        source_region: String,
        destination_bucket: String,
        destination_region: String,
    },
}

fn s3_search(metric: &str, source: &str, destination: &str) -> String {
    format!(
        "MAX(SEARCH('{{AWS/S3,DestinationBucket,RuleId,SourceBucket}} MetricName=\"{metric}\" \
         SourceBucket=\"{source}\" DestinationBucket=\"{destination}\"', 'Maximum', {PERIOD_SECS}))"
    )
}

pub fn to_sdk(q: &LagQuery) -> MetricDataQuery {
    let builder = MetricDataQuery::builder().id(&q.id).return_data(true);
    match &q.spec {
        QuerySpec::Metric {
            namespace,
            name,
            dimensions,
        } => {
            let metric = dimensions.iter().fold(
                Metric::builder().namespace(*namespace).metric_name(*name),
                |m, (k, v)| m.dimensions(Dimension::builder().name(*k).value(v).build()),
            );
            builder
                .metric_stat(
                    MetricStat::builder()
                        .metric(metric.build())
                        .period(PERIOD_SECS)
                        .stat("Maximum")
                        .build(),
                )
                .build()
        }
        QuerySpec::Expression(expr) => builder.expression(expr).period(PERIOD_SECS).build(),
    }
}

/// Sends the queries in batches and returns the lags they measure.
pub async fn read_lags(
    client: &Client,
    queries: &[LagQuery],
    now: DateTime<Utc>,
) -> Result<Vec<LagObs>, SourceError> {
    let sdk: Vec<MetricDataQuery> = queries.iter().map(to_sdk).collect();
    let values = read_values(client, sdk, now).await?;
    Ok(lags_from_values(queries, &values))
}

/// The newest value of every query, in batches of [`MAX_QUERIES_PER_CALL`],
/// each followed through its `NextToken`s.
pub async fn read_values(
    client: &Client,
    queries: Vec<MetricDataQuery>,
    now: DateTime<Utc>,
) -> Result<HashMap<String, f64>, SourceError> {
    let start = now - chrono::Duration::from_std(WINDOW).unwrap_or_default();
    let mut results = Vec::new();
    for batch in queries.chunks(MAX_QUERIES_PER_CALL) {
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES_PER_BATCH {
            let page = client
                .get_metric_data()
                .set_metric_data_queries(Some(batch.to_vec()))
                .start_time(aws_smithy_types::DateTime::from_secs(start.timestamp()))
                .end_time(aws_smithy_types::DateTime::from_secs(now.timestamp()))
                .scan_by(ScanBy::TimestampDescending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| from_sdk("GetMetricData", e))?;
            token = page.next_token().map(str::to_string);
            results.extend(page.metric_data_results.unwrap_or_default());
            if token.is_none() {
                break;
            }
        }
    }
    Ok(newest_values(&results))
}

/// Route 53 publishes its health-check metrics in this region only.
pub const ROUTE53_METRICS_REGION: &str = "us-east-1";

/// Two queries per health check (`HealthCheckStatus` and
/// `HealthCheckPercentageHealthy`, dimension `HealthCheckId`), the worst
/// minute of each; ids `hs<i>` and `hp<i>` do not collide with the lag
/// queries' `q<i>`.
pub fn health_queries(check_ids: &[String]) -> Vec<MetricDataQuery> {
    check_ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            [
                (format!("hs{i}"), "HealthCheckStatus"),
                (format!("hp{i}"), "HealthCheckPercentageHealthy"),
            ]
            .map(|(query_id, name)| {
                MetricDataQuery::builder()
                    .id(query_id)
                    .return_data(true)
                    .metric_stat(
                        MetricStat::builder()
                            .metric(
                                Metric::builder()
                                    .namespace("AWS/Route53")
                                    .metric_name(name)
                                    .dimensions(
                                        Dimension::builder()
                                            .name("HealthCheckId")
                                            .value(id)
                                            .build(),
                                    )
                                    .build(),
                            )
                            .period(PERIOD_SECS)
                            .stat("Minimum")
                            .build(),
                    )
                    .build()
            })
        })
        .collect()
}

/// The metrics of each check [`health_queries`] asked about, keyed by check
/// id; a check without any datapoint is absent.
pub fn health_from_values(
    check_ids: &[String],
    values: &HashMap<String, f64>,
) -> HashMap<String, HealthMetrics> {
    check_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let metrics = HealthMetrics {
                status: values.get(&format!("hs{i}")).copied(),
                percentage_healthy: values.get(&format!("hp{i}")).copied(),
            };
            (metrics != HealthMetrics::default()).then(|| (id.clone(), metrics))
        })
        .collect()
}

/// The newest value of each query's series, whatever order the timestamps came in.
pub fn newest_values(results: &[MetricDataResult]) -> HashMap<String, f64> {
    let mut newest: HashMap<String, (i64, f64)> = HashMap::new();
    for r in results {
        let Some(id) = r.id() else { continue };
        for (t, v) in r.timestamps().iter().zip(r.values()) {
            let t = t.secs();
            let entry = newest.entry(id.to_string()).or_insert((t, *v));
            if t > entry.0 {
                *entry = (t, *v);
            }
        }
    }
    newest.into_iter().map(|(id, (_, v))| (id, v)).collect()
}

fn duration_of(value: f64, unit: Unit) -> Option<Duration> {
    let secs = match unit {
        Unit::Milliseconds => value / 1000.0,
        Unit::Seconds | Unit::Count => value,
    };
    // ReplicaLag reports -1 while replication is not running: no lag figure.
    Duration::try_from_secs_f64(secs).ok()
}

/// One observation per replicated resource, with `None` where no datapoint
/// arrived in the window.
pub fn build_lags(queries: &[LagQuery], results: &[MetricDataResult]) -> Vec<LagObs> {
    lags_from_values(queries, &newest_values(results))
}

/// [`build_lags`] from each query's newest value.
pub fn lags_from_values(queries: &[LagQuery], values: &HashMap<String, f64>) -> Vec<LagObs> {
    let mut lags: Vec<LagObs> = Vec::new();
    for q in queries {
        let index = match lags
            .iter()
            .position(|l| l.resource_id == q.resource_id && l.kind == q.kind)
        {
            Some(i) => i,
            None => {
                lags.push(LagObs {
                    resource_id: q.resource_id.clone(),
                    region: q.resource_region.clone(),
                    kind: q.kind,
                    lag: None,
                    rpo_lag: None,
                    pending_operations: None,
                });
                lags.len() - 1
            }
        };
        let Some(value) = values.get(&q.id).copied() else {
            continue;
        };
        let obs = &mut lags[index];
        match q.field {
            LagField::Lag => obs.lag = duration_of(value, q.unit),
            LagField::RpoLag => obs.rpo_lag = duration_of(value, q.unit),
            LagField::PendingOperations => {
                obs.pending_operations =
                    (value.is_finite() && value >= 0.0).then(|| value.round() as u64);
            }
        }
    }
    lags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watch() -> Watch {
        Watch {
            regions: vec!["us-east-1".into(), "us-west-2".into()],
            lag_targets: vec![
                LagTarget::AuroraCluster {
                    cluster: "orders".into(),
                    region: "us-east-1".into(),
                },
                LagTarget::AuroraCluster {
                    cluster: "orders-dr".into(),
                    region: "us-west-2".into(),
                },
                LagTarget::ReplicaInstance {
                    instance: "billing-dr".into(),
                    region: "us-west-2".into(),
                },
                LagTarget::S3 {
                    source_bucket: "assets".into(),
                    source_region: "us-east-1".into(),
                    destination_bucket: "assets-dr".into(),
                    destination_region: "us-west-2".into(),
                },
            ],
            ..Watch::default()
        }
    }

    #[test]
    fn queries_go_to_the_region_that_publishes_the_metric() {
        let west = queries_for(&watch(), "us-west-2");
        let ids: Vec<&str> = west.iter().map(|q| q.id.as_str()).collect();
        assert_eq!(ids, vec!["q0", "q1", "q2"]);
        assert!(west.iter().all(|q| q.resource_id != "assets-dr"));
        let east = queries_for(&watch(), "us-east-1");
        let s3: Vec<&LagQuery> = east.iter().filter(|q| q.kind == LagKind::S3).collect();
        assert_eq!(s3.len(), 2, "S3 metrics live in the source bucket's region");
        assert_eq!(s3[0].resource_id, "assets-dr");
        assert_eq!(s3[0].resource_region, "us-west-2");
        let QuerySpec::Expression(expr) = &s3[0].spec else {
            panic!("S3 queries search across rule ids");
        };
        assert!(expr.contains("SourceBucket=\"assets\""), "{expr}");
        assert!(queries_for(&watch(), "eu-west-1").is_empty());
    }

    #[test]
    fn sdk_queries_carry_stat_period_and_dimension() {
        let q = &queries_for(&watch(), "us-west-2")[2];
        let sdk = to_sdk(q);
        let stat = sdk.metric_stat().unwrap();
        assert_eq!(stat.metric().unwrap().metric_name(), Some("ReplicaLag"));
        assert_eq!(
            stat.metric().unwrap().dimensions()[0].value(),
            Some("billing-dr")
        );
        assert_eq!(stat.period(), Some(PERIOD_SECS));
        assert_eq!(stat.stat(), Some("Maximum"));
    }

    fn result(id: &str, points: &[(i64, f64)]) -> MetricDataResult {
        points
            .iter()
            .fold(MetricDataResult::builder().id(id), |b, (t, v)| {
                b.timestamps(aws_smithy_types::DateTime::from_secs(*t))
                    .values(*v)
            })
            .build()
    }

    #[test]
    fn newest_datapoint_wins_whatever_the_order() {
        let values = newest_values(&[result("q0", &[(10, 1.0), (30, 3.0), (20, 2.0)])]);
        assert_eq!(values.get("q0"), Some(&3.0));
    }

    #[test]
    fn lags_convert_units_and_drop_meaningless_values() {
        let queries = queries_for(&watch(), "us-west-2");
        let lags = build_lags(
            &queries,
            &[result("q0", &[(10, 250.0)]), result("q2", &[(10, -1.0)])],
        );
        let aurora = lags.iter().find(|l| l.resource_id == "orders-dr").unwrap();
        assert_eq!(aurora.lag, Some(Duration::from_millis(250)));
        assert_eq!(aurora.rpo_lag, None, "no datapoint");
        let replica = lags.iter().find(|l| l.resource_id == "billing-dr").unwrap();
        assert_eq!(
            replica.lag, None,
            "ReplicaLag -1 means replication is not running"
        );

        let east = queries_for(&watch(), "us-east-1");
        let s3_ids: Vec<&str> = east
            .iter()
            .filter(|q| q.kind == LagKind::S3)
            .map(|q| q.id.as_str())
            .collect();
        let lags = build_lags(
            &east,
            &[
                result(s3_ids[0], &[(1, 12.0)]),
                result(s3_ids[1], &[(1, 41.6)]),
            ],
        );
        let s3 = lags.iter().find(|l| l.kind == LagKind::S3).unwrap();
        assert_eq!(s3.lag, Some(Duration::from_secs(12)));
        assert_eq!(s3.pending_operations, Some(42));
    }
}
