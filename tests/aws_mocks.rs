//! What moto 5.2 cannot show, through the SDK's own mocking crate:
//! Aurora managed failover and switchover, unhealthy and mixed health
//! checkers, CloudWatch `GetMetricData` batching (moto does not route its
//! RPC v2 CBOR protocol), every class of error a poll can meet, and
//! discovery while RDS answers 503 in one region.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::types::MetricDataResult;
use aws_sdk_rds::operation::describe_db_cluster_snapshots::DescribeDbClusterSnapshotsOutput;
use aws_sdk_rds::operation::describe_db_clusters::DescribeDbClustersOutput;
use aws_sdk_rds::operation::describe_db_instance_automated_backups::DescribeDbInstanceAutomatedBackupsOutput;
use aws_sdk_rds::operation::describe_db_instances::DescribeDbInstancesOutput;
use aws_sdk_rds::operation::describe_db_snapshots::DescribeDbSnapshotsOutput;
use aws_sdk_rds::operation::describe_global_clusters::DescribeGlobalClustersOutput;
use aws_sdk_rds::operation::failover_global_cluster::FailoverGlobalClusterOutput;
use aws_sdk_rds::operation::switchover_global_cluster::SwitchoverGlobalClusterOutput;
use aws_sdk_rds::types::{
    DbInstance, FailoverState, FailoverStatus, GlobalCluster, GlobalClusterMember,
};
use aws_sdk_route53::operation::get_health_check_status::GetHealthCheckStatusOutput;
use aws_sdk_route53::operation::list_health_checks::ListHealthChecksOutput;
use aws_sdk_route53::operation::list_hosted_zones::ListHostedZonesOutput;
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_sdk_route53::types::{
    HealthCheck, HealthCheckConfig, HealthCheckObservation, HealthCheckType, HostedZone,
    ResourceRecord, ResourceRecordSet, ResourceRecordSetFailover, RrType, StatusReport,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use aws_smithy_types::body::SdkBody;
use drconsole::domain::action::Action;
use drconsole::domain::environment::HealthCheckSpec;
use drconsole::domain::snapshot::{
    CheckerRegion, ErrorKind, Health, LagKind, Snapshot, SourceReading,
};
use drconsole::monitor::EnvironmentUpdate;
use drconsole::provider::aws::cloudwatch::LagTarget;
use drconsole::provider::aws::discover::{Discovered, Discovery, DiscoveryClients, rds_source};
use drconsole::provider::aws::rediscover::{self, Backoff};
use drconsole::provider::aws::{ActClients, AwsActor, AwsObserver, ReadClients, Watch, sdk_config};
use drconsole::provider::{Act, FocusedService, Observe};

const EAST: &str = "us-east-1";
const WEST: &str = "us-west-2";
const TARGET_ARN: &str = "arn:aws:rds:us-west-2:123456789012:cluster:orders-dr";
const WRITER_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:orders";

/// Rules answering every RDS read of a poll with nothing.
fn quiet_rds_rules() -> Vec<Rule> {
    vec![
        mock!(aws_sdk_rds::Client::describe_global_clusters)
            .then_output(|| DescribeGlobalClustersOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_clusters)
            .then_output(|| DescribeDbClustersOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_instances)
            .then_output(|| DescribeDbInstancesOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_cluster_snapshots)
            .then_output(|| DescribeDbClusterSnapshotsOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_snapshots)
            .then_output(|| DescribeDbSnapshotsOutput::builder().build()),
        mock!(aws_sdk_rds::Client::describe_db_instance_automated_backups)
            .then_output(|| DescribeDbInstanceAutomatedBackupsOutput::builder().build()),
    ]
}

fn rds_client(rules: &[Rule]) -> aws_sdk_rds::Client {
    mock_client!(aws_sdk_rds, RuleMode::MatchAny, rules, |c| c
        .retry_config(sdk_config::retry_config()))
}

fn route53_client(rules: &[Rule]) -> aws_sdk_route53::Client {
    mock_client!(aws_sdk_route53, RuleMode::MatchAny, rules, |c| c
        .retry_config(sdk_config::retry_config()))
}

fn cloudwatch_client(rules: &[Rule]) -> aws_sdk_cloudwatch::Client {
    mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, rules)
}

fn quiet_cloudwatch() -> aws_sdk_cloudwatch::Client {
    cloudwatch_client(&[mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .then_output(|| GetMetricDataOutput::builder().build())])
}

fn observer(
    rds: BTreeMap<String, aws_sdk_rds::Client>,
    route53: aws_sdk_route53::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    watch: Watch,
) -> AwsObserver {
    let cloudwatch = watch
        .regions
        .iter()
        .map(|r| (r.clone(), cloudwatch.clone()))
        .collect();
    AwsObserver::new(
        ReadClients {
            rds,
            cloudwatch,
            route53_changes: route53.clone(),
            route53,
            budget: Arc::default(),
        },
        watch,
    )
}

fn actor(rds_rules: &[Rule]) -> AwsActor {
    AwsActor::new(ActClients {
        rds: [(WEST.to_string(), rds_client(rds_rules))].into(),
        route53: route53_client(&[]),
    })
}

fn reading<'a>(readings: &'a [SourceReading], source: &str) -> &'a SourceReading {
    readings
        .iter()
        .find(|r| r.source == source)
        .unwrap_or_else(|| panic!("no {source} reading"))
}

fn global(writer: &str, failover: Option<FailoverState>) -> GlobalCluster {
    GlobalCluster::builder()
        .global_cluster_identifier("orders-global")
        .global_cluster_members(
            GlobalClusterMember::builder()
                .db_cluster_arn(WRITER_ARN)
                .is_writer(writer == WRITER_ARN)
                .build(),
        )
        .global_cluster_members(
            GlobalClusterMember::builder()
                .db_cluster_arn(TARGET_ARN)
                .is_writer(writer == TARGET_ARN)
                .build(),
        )
        .set_failover_state(failover)
        .build()
}

fn describe_global(g: GlobalCluster) -> Rule {
    mock!(aws_sdk_rds::Client::describe_global_clusters).then_output(move || {
        DescribeGlobalClustersOutput::builder()
            .global_clusters(g.clone())
            .build()
    })
}

#[tokio::test]
async fn failover_with_data_loss_is_one_call_with_the_flag() {
    let call = mock!(aws_sdk_rds::Client::failover_global_cluster)
        .match_requests(|r| {
            r.global_cluster_identifier() == Some("orders-global")
                && r.target_db_cluster_identifier() == Some(TARGET_ARN)
                && r.allow_data_loss() == Some(true)
        })
        .then_output(|| FailoverGlobalClusterOutput::builder().build());
    let act = actor(std::slice::from_ref(&call));
    let action = Action::FailoverGlobalCluster {
        region: WEST.into(),
        global_cluster: "orders-global".into(),
        target_cluster: TARGET_ARN.into(),
        allow_data_loss: true,
    };
    let receipt = act.execute(&action).await.expect("accepted");
    assert_eq!(call.num_calls(), 1);
    assert_eq!(receipt.summary, "FailoverGlobalCluster accepted");
}

#[tokio::test]
async fn switchover_names_the_target() {
    let call = mock!(aws_sdk_rds::Client::switchover_global_cluster)
        .match_requests(|r| {
            r.global_cluster_identifier() == Some("orders-global")
                && r.target_db_cluster_identifier() == Some(TARGET_ARN)
        })
        .then_output(|| SwitchoverGlobalClusterOutput::builder().build());
    let act = actor(std::slice::from_ref(&call));
    let action = Action::SwitchoverGlobalCluster {
        region: WEST.into(),
        global_cluster: "orders-global".into(),
        target_cluster: TARGET_ARN.into(),
    };
    act.execute(&action).await.expect("accepted");
    assert_eq!(call.num_calls(), 1);
}

#[tokio::test]
async fn failover_counts_as_applied_once_the_target_writes_or_is_becoming_writer() {
    let action = Action::FailoverGlobalCluster {
        region: WEST.into(),
        global_cluster: "orders-global".into(),
        target_cluster: "orders-dr".into(),
        allow_data_loss: false,
    };
    let not_yet = actor(&[describe_global(global(WRITER_ARN, None))]);
    assert!(!not_yet.already_applied(&action).await.unwrap());

    let done = actor(&[describe_global(global(TARGET_ARN, None))]);
    assert!(done.already_applied(&action).await.unwrap());

    let moving = FailoverState::builder()
        .status(FailoverStatus::FailingOver)
        .from_db_cluster_arn(WRITER_ARN)
        .to_db_cluster_arn(TARGET_ARN)
        .build();
    let in_progress = actor(&[describe_global(global(WRITER_ARN, Some(moving)))]);
    assert!(in_progress.already_applied(&action).await.unwrap());

    let cancelling = FailoverState::builder()
        .status(FailoverStatus::Cancelling)
        .to_db_cluster_arn(TARGET_ARN)
        .build();
    let cancelled = actor(&[describe_global(global(WRITER_ARN, Some(cancelling)))]);
    assert!(!cancelled.already_applied(&action).await.unwrap());

    let switchover = Action::SwitchoverGlobalCluster {
        region: WEST.into(),
        global_cluster: "orders-global".into(),
        target_cluster: TARGET_ARN.into(),
    };
    let unknown = FailoverState::builder()
        .status(FailoverStatus::from("switching-over-in-a-new-way"))
        .to_db_cluster_arn(TARGET_ARN)
        .build();
    let newer_api = actor(&[describe_global(global(WRITER_ARN, Some(unknown)))]);
    assert!(newer_api.already_applied(&switchover).await.unwrap());
}

#[tokio::test]
async fn promoted_replica_counts_as_applied() {
    let action = Action::PromoteReadReplica {
        region: WEST.into(),
        instance: "billing-dr".into(),
        backup_retention_days: None,
    };
    let instance = |source: Option<&str>| {
        let i = DbInstance::builder()
            .db_instance_identifier("billing-dr")
            .set_read_replica_source_db_instance_identifier(source.map(str::to_string))
            .build();
        mock!(aws_sdk_rds::Client::describe_db_instances).then_output(move || {
            DescribeDbInstancesOutput::builder()
                .db_instances(i.clone())
                .build()
        })
    };
    let replica = actor(&[instance(Some(
        "arn:aws:rds:us-east-1:123456789012:db:billing",
    ))]);
    assert!(!replica.already_applied(&action).await.unwrap());
    let promoted = actor(&[instance(None)]);
    assert!(promoted.already_applied(&action).await.unwrap());
}

fn health_rules(statuses: &'static [&'static str]) -> Vec<Rule> {
    vec![
        mock!(aws_sdk_route53::Client::list_health_checks).then_output(|| {
            ListHealthChecksOutput::builder()
                .marker("")
                .is_truncated(false)
                .max_items(100)
                .health_checks(
                    HealthCheck::builder()
                        .id("hc-1")
                        .caller_reference("ref")
                        .health_check_version(1)
                        .health_check_config(
                            HealthCheckConfig::builder()
                                .r#type(HealthCheckType::Https)
                                .fully_qualified_domain_name("api.us-east-1.example.com")
                                .failure_threshold(5)
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap()
        }),
        mock!(aws_sdk_route53::Client::get_health_check_status).then_output(move || {
            statuses
                .iter()
                .fold(
                    GetHealthCheckStatusOutput::builder()
                        .set_health_check_observations(Some(vec![])),
                    |b, s| {
                        b.health_check_observations(
                            HealthCheckObservation::builder()
                                .ip_address("15.177.0.1")
                                .status_report(StatusReport::builder().status(*s).build())
                                .build(),
                        )
                    },
                )
                .build()
                .unwrap()
        }),
    ]
}

fn health_watch() -> Watch {
    Watch {
        regions: vec![EAST.into()],
        health_checks: vec![HealthCheckSpec {
            id: "hc-1".into(),
            region: EAST.into(),
            fqdn: "api.us-east-1.example.com".into(),
            failure_threshold: 3,
        }],
        ..Watch::default()
    }
}

async fn health_of(statuses: &'static [&'static str]) -> (Health, u32, u32, u32) {
    let obs = observer(
        [(EAST.to_string(), rds_client(&quiet_rds_rules()))].into(),
        route53_client(&health_rules(statuses)),
        quiet_cloudwatch(),
        health_watch(),
    );
    let readings = obs.observe().await;
    let snap = reading(&readings, "route53")
        .result
        .as_ref()
        .expect("route53 ok");
    let h = &snap.health_checks[0];
    (
        h.status,
        h.checkers_healthy,
        h.checkers_total,
        h.failure_threshold,
    )
}

const FAIL: &str =
    "Failure: Connection timed out. The endpoint or the internet connection is down.";
const OK: &str = "Success: HTTP Status Code 200, OK";

#[tokio::test]
async fn all_checkers_failing_is_unhealthy() {
    assert_eq!(
        health_of(&[FAIL, FAIL, FAIL]).await,
        (Health::Unhealthy, 0, 3, 5)
    );
}

#[tokio::test]
async fn mixed_checkers_follow_route53s_eighteen_percent_rule() {
    assert_eq!(
        health_of(&[OK, FAIL, FAIL, FAIL, FAIL, FAIL, FAIL, FAIL]).await,
        (Health::Unhealthy, 1, 8, 5),
        "one of eight (12.5%) is not enough"
    );
    assert_eq!(
        health_of(&[OK, OK, FAIL, FAIL, FAIL, FAIL, FAIL, FAIL]).await,
        (Health::Healthy, 2, 8, 5),
        "two of eight (25%) is"
    );
    assert_eq!(
        health_of(&[]).await.0,
        Health::Unknown,
        "no checker reported yet"
    );
}

#[tokio::test]
async fn lag_metrics_go_out_in_batches_of_at_most_500_and_come_back_as_lags() {
    let batch_sizes = Arc::new(Mutex::new(Vec::new()));
    let sizes = batch_sizes.clone();
    let rule = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |req| {
        let queries = req.metric_data_queries();
        sizes.lock().unwrap().push(queries.len());
        let results = queries.iter().filter_map(|q| {
            let name = q.metric_stat()?.metric()?.metric_name()?;
            let cluster = q.metric_stat()?.metric()?.dimensions().first()?.value()?;
            let n: i64 = cluster.trim_start_matches("cluster-").parse().ok()?;
            let newest = match name {
                "AuroraGlobalDBReplicationLag" => 1500.0,
                _ => 2500.0,
            };
            // The odd clusters have no datapoint in the window.
            (n % 2 == 0).then(|| {
                MetricDataResult::builder()
                    .id(q.id().unwrap_or_default())
                    .timestamps(aws_smithy_types::DateTime::from_secs(1_000))
                    .values(99_000.0)
                    .timestamps(aws_smithy_types::DateTime::from_secs(2_000))
                    .values(newest)
                    .build()
            })
        });
        results
            .fold(GetMetricDataOutput::builder(), |b, r| {
                b.metric_data_results(r)
            })
            .build()
    });
    let watch = Watch {
        regions: vec![WEST.into()],
        lag_targets: (0..300)
            .map(|n| LagTarget::AuroraCluster {
                cluster: format!("cluster-{n}"),
                region: WEST.into(),
            })
            .collect(),
        ..Watch::default()
    };
    let obs = observer(
        [(WEST.to_string(), rds_client(&quiet_rds_rules()))].into(),
        route53_client(&[]),
        cloudwatch_client(std::slice::from_ref(&rule)),
        watch,
    );
    let readings = obs.observe().await;

    assert_eq!(
        *batch_sizes.lock().unwrap(),
        vec![500, 100],
        "600 queries, 2 calls"
    );
    let lags = &reading(&readings, "cloudwatch:us-west-2")
        .result
        .as_ref()
        .expect("cloudwatch ok")
        .lags;
    assert_eq!(lags.len(), 300);
    let even = lags.iter().find(|l| l.resource_id == "cluster-42").unwrap();
    assert_eq!(even.kind, LagKind::AuroraGlobal);
    assert_eq!(
        even.lag,
        Some(Duration::from_millis(1500)),
        "newest datapoint, in ms"
    );
    assert_eq!(even.rpo_lag, Some(Duration::from_millis(2500)));
    let odd = lags.iter().find(|l| l.resource_id == "cluster-7").unwrap();
    assert_eq!((odd.lag, odd.rpo_lag), (None, None));
}

fn error_response(status: u16, code: &'static str) -> aws_sdk_rds::config::http::HttpResponse {
    let body = format!(
        "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{code} from the mock</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
    );
    aws_sdk_rds::config::http::HttpResponse::new(
        status.try_into().expect("status code"),
        SdkBody::from(body),
    )
}

/// One poll where Route 53 answers `route53_error` and us-west-2's RDS
/// `rds_error`, while us-east-1 answers normally.
async fn poll_with_errors(
    route53_error: (u16, &'static str),
    rds_error: (u16, &'static str),
) -> (Vec<SourceReading>, usize) {
    let failing = mock!(aws_sdk_route53::Client::get_health_check_status)
        .then_http_response(move || error_response(route53_error.0, route53_error.1));
    let mut r53_rules = health_rules(&[OK]);
    r53_rules[1] = failing.clone();
    let rds_failing = mock!(aws_sdk_rds::Client::describe_db_clusters)
        .then_http_response(move || error_response(rds_error.0, rds_error.1));
    let mut west_rules = vec![rds_failing];
    west_rules.extend(quiet_rds_rules());
    let mut watch = health_watch();
    watch.regions = vec![EAST.into(), WEST.into()];
    let obs = observer(
        [
            (EAST.to_string(), rds_client(&quiet_rds_rules())),
            (WEST.to_string(), rds_client(&west_rules)),
        ]
        .into(),
        route53_client(&r53_rules),
        quiet_cloudwatch(),
        watch,
    );
    let readings = obs.observe().await;
    (readings, failing.num_calls())
}

fn kind_of(readings: &[SourceReading], source: &str) -> ErrorKind {
    reading(readings, source)
        .result
        .as_ref()
        .err()
        .unwrap_or_else(|| panic!("{source} should have failed"))
        .kind
}

#[tokio::test]
async fn throttling_and_5xx_fail_only_their_own_source_after_bounded_retries() {
    let (readings, attempts) =
        poll_with_errors((400, "Throttling"), (503, "ServiceUnavailable")).await;
    assert_eq!(kind_of(&readings, "route53"), ErrorKind::Throttled);
    assert_eq!(
        attempts,
        sdk_config::MAX_ATTEMPTS as usize,
        "retried, but boundedly"
    );
    assert_eq!(
        kind_of(&readings, "rds:us-west-2"),
        ErrorKind::ServiceUnavailable
    );
    assert!(reading(&readings, "rds:us-east-1").result.is_ok());
    assert!(reading(&readings, "cloudwatch:us-east-1").result.is_ok());
    let message = &reading(&readings, "route53")
        .result
        .as_ref()
        .unwrap_err()
        .message;
    assert!(
        message.starts_with("GetHealthCheckStatus: HTTP 400 Throttling: Throttling from the mock"),
        "{message}"
    );
}

#[tokio::test]
async fn expired_and_denied_credentials_are_told_apart() {
    let (readings, attempts) = poll_with_errors((403, "ExpiredToken"), (403, "AccessDenied")).await;
    assert_eq!(kind_of(&readings, "route53"), ErrorKind::ExpiredCredentials);
    assert_eq!(attempts, 1, "credential errors are not retried");
    assert_eq!(kind_of(&readings, "rds:us-west-2"), ErrorKind::AccessDenied);
}

/// Route 53 rules for discovery: no health checks; one hosted zone whose
/// only failover record points at `target`, or no zone at all.
fn discovery_route53_rules(target: Option<&'static str>) -> Vec<Rule> {
    let zones = target.map_or_else(Vec::new, |_| {
        vec![
            HostedZone::builder()
                .id("/hostedzone/Z1")
                .name("example.com.")
                .caller_reference("z")
                .build()
                .unwrap(),
        ]
    });
    let sets = target.map_or_else(Vec::new, |target| {
        vec![
            ResourceRecordSet::builder()
                .name("db.example.com.")
                .r#type(RrType::Cname)
                .set_identifier("dr")
                .failover(ResourceRecordSetFailover::Secondary)
                .ttl(30)
                .resource_records(ResourceRecord::builder().value(target).build().unwrap())
                .build()
                .unwrap(),
        ]
    });
    vec![
        mock!(aws_sdk_route53::Client::list_health_checks).then_output(|| {
            ListHealthChecksOutput::builder()
                .set_health_checks(Some(vec![]))
                .marker("")
                .is_truncated(false)
                .max_items(100)
                .build()
                .unwrap()
        }),
        mock!(aws_sdk_route53::Client::list_hosted_zones).then_output(move || {
            ListHostedZonesOutput::builder()
                .set_hosted_zones(Some(zones.clone()))
                .marker("")
                .is_truncated(false)
                .max_items(100)
                .build()
                .unwrap()
        }),
        mock!(aws_sdk_route53::Client::list_resource_record_sets).then_output(move || {
            ListResourceRecordSetsOutput::builder()
                .set_resource_record_sets(Some(sets.clone()))
                .is_truncated(false)
                .max_items(100)
                .build()
                .unwrap()
        }),
    ]
}

/// RDS rules of a region answering 503 to every `DescribeGlobalClusters`.
fn rds_unavailable_rules() -> Vec<Rule> {
    let mut rules = vec![
        mock!(aws_sdk_rds::Client::describe_global_clusters)
            .then_http_response(|| error_response(503, "ServiceUnavailable")),
    ];
    rules.extend(quiet_rds_rules());
    rules
}

/// us-east-1 holds the writer of `orders-global`; us-west-2 its secondary
/// and a cross-region replica of `billing`, which only us-west-2 shows.
fn estate_rules(region: &str) -> Vec<Rule> {
    let mut rules = vec![describe_global(global(WRITER_ARN, None))];
    if region == WEST {
        rules.push(
            mock!(aws_sdk_rds::Client::describe_db_instances).then_output(|| {
                DescribeDbInstancesOutput::builder()
                    .db_instances(
                        DbInstance::builder()
                            .db_instance_identifier("billing-dr")
                            .read_replica_source_db_instance_identifier(
                                "arn:aws:rds:us-east-1:123456789012:db:billing",
                            )
                            .build(),
                    )
                    .build()
            }),
        );
    }
    rules.extend(quiet_rds_rules());
    rules
}

/// Discovery clients whose us-west-2 RDS answers 503 while `west_down` is set.
fn discovery_clients(
    west_down: Arc<AtomicBool>,
    east_down: bool,
    route53_target: Option<&'static str>,
) -> DiscoveryClients {
    DiscoveryClients::from_parts(
        move |region| {
            let down = match region {
                WEST => west_down.load(Ordering::SeqCst),
                _ => east_down,
            };
            match down {
                true => rds_client(&rds_unavailable_rules()),
                false => rds_client(&estate_rules(region)),
            }
        },
        route53_client(&discovery_route53_rules(route53_target)),
    )
}

#[tokio::test]
async fn discovery_survives_a_503_from_rds_in_one_region_and_completes_on_retry() {
    let west_down = Arc::new(AtomicBool::new(true));
    let clients = discovery_clients(Arc::clone(&west_down), false, None);
    let mut discovery = Discovery::run(&clients, EAST)
        .await
        .expect("one region failing is no reason to refuse to start");
    assert!(!discovery.complete());
    let found = discovery.discovered();
    let ids: Vec<&str> = found
        .environment
        .services
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["orders-global"], "what us-east-1 shows is there");
    assert_eq!(found.environment.regions, [EAST, WEST]);
    assert!(
        found.watch().regions.contains(&WEST.to_string()),
        "the failing region is still watched, so its poll shows it stale"
    );
    let failures = discovery.failures();
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].source, rds_source(WEST));
    let error = failures[0].result.as_ref().unwrap_err();
    assert_eq!(error.kind, ErrorKind::ServiceUnavailable);
    assert!(error.message.contains("HTTP 503"), "{}", error.message);

    assert!(
        !discovery.retry(&clients).await,
        "still failing: nothing new"
    );
    west_down.store(false, Ordering::SeqCst);
    assert!(discovery.retry(&clients).await);
    assert!(discovery.complete());
    assert!(discovery.failures().is_empty());
    assert!(
        discovery
            .discovered()
            .environment
            .service("billing")
            .is_some(),
        "the replica only us-west-2 shows"
    );
}

#[tokio::test]
async fn rediscovery_retries_in_the_background_and_sends_the_grown_environment() {
    let west_down = Arc::new(AtomicBool::new(true));
    let clients = discovery_clients(Arc::clone(&west_down), false, None);
    let discovery = Discovery::run(&clients, EAST).await.unwrap();
    let found_calls = Arc::new(Mutex::new(Vec::new()));
    let on_found = {
        let found_calls = Arc::clone(&found_calls);
        move |found: &Discovered| {
            found_calls
                .lock()
                .unwrap()
                .push(found.environment.services.len());
        }
    };
    let backoff = Backoff {
        first: Duration::from_millis(10),
        max: Duration::from_millis(20),
    };
    let mut updates = rediscover::spawn(discovery, clients, backoff, on_found);
    let still_failing = next(&mut updates).await.expect("first retry reported");
    assert_eq!(still_failing.failed[0].source, rds_source(WEST));
    assert!(still_failing.recovered.is_empty());
    assert!(found_calls.lock().unwrap().is_empty());

    west_down.store(false, Ordering::SeqCst);
    let recovered = loop {
        let update = next(&mut updates).await.expect("retries go on");
        if update.failed.is_empty() {
            break update;
        }
    };
    assert_eq!(recovered.recovered, [rds_source(WEST)]);
    assert!(recovered.environment.service("billing").is_some());
    assert_eq!(
        *found_calls.lock().unwrap(),
        [2],
        "the provider was told before the console"
    );
    assert!(
        next(&mut updates).await.is_none(),
        "complete: the task ends"
    );
}

async fn next(
    updates: &mut tokio::sync::mpsc::Receiver<EnvironmentUpdate>,
) -> Option<EnvironmentUpdate> {
    tokio::time::timeout(Duration::from_secs(30), updates.recv())
        .await
        .expect("an update in time")
}

#[tokio::test]
async fn a_failing_home_region_is_bridged_by_route53_pointing_at_the_dr_region() {
    let clients = discovery_clients(
        Arc::new(AtomicBool::new(false)),
        true,
        Some("orders-dr.cluster-x.us-west-2.rds.amazonaws.com"),
    );
    let discovery = Discovery::run(&clients, EAST).await.unwrap();
    let found = discovery.discovered();
    assert_eq!(found.environment.regions, [EAST, WEST]);
    assert!(found.environment.service("orders-global").is_some());
    assert!(found.environment.service("billing").is_some());
    let failed: Vec<String> = discovery.failures().into_iter().map(|r| r.source).collect();
    assert_eq!(failed, [rds_source(EAST)]);
}

#[tokio::test]
async fn rds_failing_in_every_known_region_is_still_a_clear_error() {
    let clients = discovery_clients(Arc::new(AtomicBool::new(true)), true, None);
    let error = Discovery::run(&clients, EAST).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::ServiceUnavailable);
    assert!(
        error.message.contains("RDS answered in no region")
            && error.message.contains("discovery:rds:us-east-1"),
        "{}",
        error.message
    );
}

/// A request as the SDK was about to send it, in the API's parameter names.
type Sent = Arc<Mutex<Option<(&'static str, serde_json::Value)>>>;

/// Adds `key` when the SDK input sets it: absent fields are not sent.
fn put(params: &mut serde_json::Value, key: &str, value: Option<serde_json::Value>) {
    if let Some(v) = value {
        params[key] = v;
    }
}

fn record_set_json(set: &aws_sdk_route53::types::ResourceRecordSet) -> serde_json::Value {
    let mut json = serde_json::json!({ "Name": set.name(), "Type": set.r#type().as_str() });
    put(&mut json, "TTL", set.ttl().map(Into::into));
    if !set.resource_records().is_empty() {
        json["ResourceRecords"] = set
            .resource_records()
            .iter()
            .map(|r| serde_json::json!({ "Value": r.value() }))
            .collect();
    }
    put(
        &mut json,
        "AliasTarget",
        set.alias_target().map(|a| {
            serde_json::json!({
                "HostedZoneId": a.hosted_zone_id(),
                "DNSName": a.dns_name(),
                "EvaluateTargetHealth": a.evaluate_target_health(),
            })
        }),
    );
    put(
        &mut json,
        "SetIdentifier",
        set.set_identifier().map(Into::into),
    );
    put(
        &mut json,
        "Failover",
        set.failover().map(|f| f.as_str().into()),
    );
    put(
        &mut json,
        "HealthCheckId",
        set.health_check_id().map(Into::into),
    );
    json
}

/// Mock rules for every mutating call, each recording what it was sent and
/// in which client's region.
fn capturing_rules(sent: &Sent) -> (Vec<Rule>, Vec<Rule>) {
    use aws_sdk_rds::operation::promote_read_replica::PromoteReadReplicaOutput;
    use aws_sdk_rds::operation::promote_read_replica_db_cluster::PromoteReadReplicaDbClusterOutput;
    use aws_sdk_rds::operation::remove_from_global_cluster::RemoveFromGlobalClusterOutput;
    use aws_sdk_route53::operation::change_resource_record_sets::ChangeResourceRecordSetsOutput;
    use aws_sdk_route53::operation::update_health_check::UpdateHealthCheckOutput;
    use aws_sdk_route53::types::{ChangeInfo, ChangeStatus};
    use serde_json::{Value, json};

    let keep = |sent: &Sent, operation: &'static str, params: Value| {
        *sent.lock().unwrap() = Some((operation, params));
        true
    };
    let s = sent.clone();
    let failover = mock!(aws_sdk_rds::Client::failover_global_cluster)
        .match_requests(move |r| {
            let mut p = json!({});
            put(
                &mut p,
                "GlobalClusterIdentifier",
                r.global_cluster_identifier().map(Into::into),
            );
            put(
                &mut p,
                "TargetDbClusterIdentifier",
                r.target_db_cluster_identifier().map(Into::into),
            );
            put(&mut p, "AllowDataLoss", r.allow_data_loss().map(Into::into));
            put(&mut p, "Switchover", r.switchover().map(Into::into));
            keep(&s, "FailoverGlobalCluster", p)
        })
        .then_output(|| FailoverGlobalClusterOutput::builder().build());
    let s = sent.clone();
    let switchover = mock!(aws_sdk_rds::Client::switchover_global_cluster)
        .match_requests(move |r| {
            let mut p = json!({});
            put(
                &mut p,
                "GlobalClusterIdentifier",
                r.global_cluster_identifier().map(Into::into),
            );
            put(
                &mut p,
                "TargetDbClusterIdentifier",
                r.target_db_cluster_identifier().map(Into::into),
            );
            keep(&s, "SwitchoverGlobalCluster", p)
        })
        .then_output(|| SwitchoverGlobalClusterOutput::builder().build());
    let s = sent.clone();
    let remove = mock!(aws_sdk_rds::Client::remove_from_global_cluster)
        .match_requests(move |r| {
            let mut p = json!({});
            put(
                &mut p,
                "GlobalClusterIdentifier",
                r.global_cluster_identifier().map(Into::into),
            );
            put(
                &mut p,
                "DbClusterIdentifier",
                r.db_cluster_identifier().map(Into::into),
            );
            keep(&s, "RemoveFromGlobalCluster", p)
        })
        .then_output(|| RemoveFromGlobalClusterOutput::builder().build());
    let s = sent.clone();
    let promote = mock!(aws_sdk_rds::Client::promote_read_replica)
        .match_requests(move |r| {
            let mut p = json!({});
            put(
                &mut p,
                "DBInstanceIdentifier",
                r.db_instance_identifier().map(Into::into),
            );
            put(
                &mut p,
                "BackupRetentionPeriod",
                r.backup_retention_period().map(Into::into),
            );
            put(
                &mut p,
                "PreferredBackupWindow",
                r.preferred_backup_window().map(Into::into),
            );
            keep(&s, "PromoteReadReplica", p)
        })
        .then_output(|| PromoteReadReplicaOutput::builder().build());
    let s = sent.clone();
    let promote_cluster = mock!(aws_sdk_rds::Client::promote_read_replica_db_cluster)
        .match_requests(move |r| {
            let mut p = json!({});
            put(
                &mut p,
                "DBClusterIdentifier",
                r.db_cluster_identifier().map(Into::into),
            );
            keep(&s, "PromoteReadReplicaDBCluster", p)
        })
        .then_output(|| PromoteReadReplicaDbClusterOutput::builder().build());
    let s = sent.clone();
    let upsert = mock!(aws_sdk_route53::Client::change_resource_record_sets)
        .match_requests(move |r| {
            let mut p = json!({});
            put(&mut p, "HostedZoneId", r.hosted_zone_id().map(Into::into));
            put(
                &mut p,
                "ChangeBatch",
                r.change_batch().map(|b| {
                    let mut batch = json!({});
                    put(&mut batch, "Comment", b.comment().map(Into::into));
                    batch["Changes"] = b
                        .changes()
                        .iter()
                        .map(|c| {
                            json!({
                                "Action": c.action().as_str(),
                                "ResourceRecordSet": c.resource_record_set().map(record_set_json),
                            })
                        })
                        .collect();
                    batch
                }),
            );
            keep(&s, "ChangeResourceRecordSets", p)
        })
        .then_output(|| {
            ChangeResourceRecordSetsOutput::builder()
                .change_info(
                    ChangeInfo::builder()
                        .id("/change/C1")
                        .status(ChangeStatus::Pending)
                        .submitted_at(aws_smithy_types::DateTime::from_secs(0))
                        .build()
                        .unwrap(),
                )
                .build()
        });
    let s = sent.clone();
    let health = mock!(aws_sdk_route53::Client::update_health_check)
        .match_requests(move |r| {
            let mut p = json!({});
            put(&mut p, "HealthCheckId", r.health_check_id().map(Into::into));
            put(&mut p, "Disabled", r.disabled().map(Into::into));
            put(&mut p, "Inverted", r.inverted().map(Into::into));
            put(
                &mut p,
                "HealthThreshold",
                r.health_threshold().map(Into::into),
            );
            put(&mut p, "ResourcePath", r.resource_path().map(Into::into));
            keep(&s, "UpdateHealthCheck", p)
        })
        .then_output(|| UpdateHealthCheckOutput::builder().build());
    (
        vec![failover, switchover, remove, promote, promote_cluster],
        vec![upsert, health],
    )
}

/// The preview an operator confirms is the request the SDK sends, field
/// for field, for every kind of action, hostile spellings included (a
/// `/hostedzone/` prefix, an alias, a failover record with a check).
#[tokio::test]
async fn every_action_sends_exactly_what_its_preview_shows() {
    use drconsole::domain::action::RecordValue;
    use drconsole::domain::snapshot::FailoverRole;

    let actions = vec![
        Action::FailoverGlobalCluster {
            region: WEST.into(),
            global_cluster: "orders-global".into(),
            target_cluster: TARGET_ARN.into(),
            allow_data_loss: true,
        },
        Action::FailoverGlobalCluster {
            region: WEST.into(),
            global_cluster: "orders-global".into(),
            target_cluster: TARGET_ARN.into(),
            allow_data_loss: false,
        },
        Action::SwitchoverGlobalCluster {
            region: WEST.into(),
            global_cluster: "orders-global".into(),
            target_cluster: TARGET_ARN.into(),
        },
        Action::RemoveFromGlobalCluster {
            region: WEST.into(),
            global_cluster: "orders-global".into(),
            cluster: TARGET_ARN.into(),
        },
        Action::PromoteReadReplica {
            region: WEST.into(),
            instance: "billing-replica".into(),
            backup_retention_days: Some(7),
        },
        Action::PromoteReadReplica {
            region: WEST.into(),
            instance: "billing-replica".into(),
            backup_retention_days: None,
        },
        Action::PromoteReadReplicaDbCluster {
            region: WEST.into(),
            cluster: "billing-cluster".into(),
        },
        Action::UpsertRecord {
            zone_id: "/hostedzone/Z0DEMO00000001".into(),
            name: "api.example.com.".into(),
            record: RecordValue::Cname {
                value: "api.us-west-2.example.com".into(),
                ttl: 60,
            },
            set_identifier: Some("primary".into()),
            failover: Some(FailoverRole::Primary),
            health_check_id: Some("hc-1".into()),
        },
        Action::UpsertRecord {
            zone_id: "Z0DEMO00000001".into(),
            name: "api.example.com.".into(),
            record: RecordValue::Alias {
                record_type: "AAAA".into(),
                dns_name: "lb.us-west-2.elb.amazonaws.com".into(),
                hosted_zone_id: "Z35SXDOTRQ7X7K".into(),
                evaluate_target_health: false,
            },
            set_identifier: None,
            failover: None,
            health_check_id: None,
        },
        Action::UpdateHealthCheck {
            health_check_id: "hc-1".into(),
            disabled: Some(true),
            inverted: None,
        },
    ];
    for action in actions {
        let sent: Sent = Arc::default();
        let (rds_rules, route53_rules) = capturing_rules(&sent);
        let preview = action.describe();
        // Only the preview's region has a client: a call in another region fails.
        let act = AwsActor::new(ActClients {
            rds: [(preview.region.clone(), rds_client(&rds_rules))].into(),
            route53: route53_client(&route53_rules),
        });
        act.execute(&action)
            .await
            .unwrap_or_else(|e| panic!("{action:?}: {e}"));
        let (operation, params) = sent.lock().unwrap().take().expect("a request was sent");
        assert_eq!(operation, preview.operation, "{action:?}");
        assert_eq!(params, preview.params, "{action:?}");
    }
}

/// Forty checks (hc-0 … hc-39) listed over two pages, as `ListHealthChecks`
/// pages them.
fn paged_health_checks() -> Rule {
    mock!(aws_sdk_route53::Client::list_health_checks).then_compute_output(|req| {
        let (range, next) = match req.marker() {
            None => (0..25, Some("page-2")),
            Some("page-2") => (25..40, None),
            Some(other) => panic!("unexpected marker {other}"),
        };
        let checks = range
            .map(|n| {
                HealthCheck::builder()
                    .id(format!("hc-{n}"))
                    .caller_reference(format!("ref-{n}"))
                    .health_check_version(1)
                    .health_check_config(
                        HealthCheckConfig::builder()
                            .r#type(HealthCheckType::Https)
                            .fully_qualified_domain_name(format!("svc-{n}.example.com"))
                            .failure_threshold(2)
                            .build()
                            .unwrap(),
                    )
                    .build()
                    .unwrap()
            })
            .collect();
        ListHealthChecksOutput::builder()
            .set_health_checks(Some(checks))
            .marker(req.marker().unwrap_or_default())
            .is_truncated(next.is_some())
            .set_next_marker(next.map(str::to_string))
            .max_items(25)
            .build()
            .unwrap()
    })
}

/// Each zone's listing: the failover pairs of `svc-<n>` in that zone and a
/// record nobody watches.
fn zone_listing(calls: Arc<Mutex<Vec<String>>>) -> Rule {
    mock!(aws_sdk_route53::Client::list_resource_record_sets).then_compute_output(move |req| {
        let zone = req.hosted_zone_id().unwrap_or_default().to_string();
        calls.lock().unwrap().push(zone.clone());
        let first = if zone == "Z1" { 0 } else { 10 };
        let mut sets: Vec<ResourceRecordSet> = (first..first + 10)
            .flat_map(|n| {
                [
                    ResourceRecordSetFailover::Primary,
                    ResourceRecordSetFailover::Secondary,
                ]
                .map(|role| {
                    ResourceRecordSet::builder()
                        .name(format!("svc-{n}.example.com."))
                        .r#type(RrType::Cname)
                        .set_identifier(role.as_str())
                        .failover(role)
                        .ttl(60)
                        .resource_records(
                            ResourceRecord::builder()
                                .value(format!("svc-{n}.{EAST}.example.com"))
                                .build()
                                .unwrap(),
                        )
                        .build()
                        .unwrap()
                })
            })
            .collect();
        sets.push(
            ResourceRecordSet::builder()
                .name("unwatched.example.com.")
                .r#type(RrType::A)
                .ttl(60)
                .resource_records(
                    ResourceRecord::builder()
                        .value("192.0.2.1")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        );
        ListResourceRecordSetsOutput::builder()
            .set_resource_record_sets(Some(sets))
            .is_truncated(false)
            .max_items(100)
            .build()
            .unwrap()
    })
}

/// Every check healthy on every checker, except hc-3 (half its checkers)
/// and hc-5 (no datapoint).
fn route53_metrics(health_queries: Arc<Mutex<Vec<(String, String, String)>>>) -> Rule {
    mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |req| {
        let results = req.metric_data_queries().iter().filter_map(|q| {
            let metric = q.metric_stat()?.metric()?;
            let dimension = metric.dimensions().first()?;
            health_queries.lock().unwrap().push((
                metric.namespace()?.to_string(),
                metric.metric_name()?.to_string(),
                format!("{}={}", dimension.name()?, dimension.value()?),
            ));
            let value = match (metric.metric_name()?, dimension.value()?) {
                (_, "hc-5") => return None,
                ("HealthCheckPercentageHealthy", "hc-3") => 50.0,
                ("HealthCheckPercentageHealthy", _) => 100.0,
                _ => 1.0,
            };
            Some(
                MetricDataResult::builder()
                    .id(q.id().unwrap_or_default())
                    .timestamps(aws_smithy_types::DateTime::from_secs(2_000))
                    .values(value)
                    .build(),
            )
        });
        results
            .fold(GetMetricDataOutput::builder(), |b, r| {
                b.metric_data_results(r)
            })
            .build()
    })
}

fn twenty_service_watch() -> Watch {
    Watch {
        regions: vec![WEST.into()],
        health_checks: (0..40)
            .map(|n| HealthCheckSpec {
                id: format!("hc-{n}"),
                region: EAST.into(),
                fqdn: format!("svc-{n}.example.com"),
                failure_threshold: 3,
            })
            .collect(),
        records: (0..20)
            .map(|n| {
                let zone = if n < 10 { "Z1" } else { "/hostedzone/Z2" };
                (zone.to_string(), format!("svc-{n}.example.com"))
            })
            .collect(),
        ..Watch::default()
    }
}

#[tokio::test]
async fn route53_requests_per_poll_do_not_grow_with_the_services_when_cloudwatch_answers() {
    let zones = Arc::new(Mutex::new(Vec::new()));
    let list = paged_health_checks();
    let records = zone_listing(zones.clone());
    let status = mock!(aws_sdk_route53::Client::get_health_check_status).then_output(|| {
        (0..16)
            .fold(GetHealthCheckStatusOutput::builder(), |b, n| {
                b.health_check_observations(
                    HealthCheckObservation::builder()
                        .ip_address(format!("15.177.0.{n}"))
                        .status_report(
                            StatusReport::builder()
                                .status(if n < 8 { OK } else { FAIL })
                                .build(),
                        )
                        .build(),
                )
            })
            .build()
            .unwrap()
    });
    let config = mock!(aws_sdk_route53::Client::get_health_check)
        .then_output(|| panic!("configuration comes from ListHealthChecks"));
    let east_queries = Arc::new(Mutex::new(Vec::new()));
    let west_queries = Arc::new(Mutex::new(Vec::new()));
    let obs = AwsObserver::new(
        ReadClients {
            rds: [(WEST.to_string(), rds_client(&quiet_rds_rules()))].into(),
            cloudwatch: [
                (
                    EAST.to_string(),
                    cloudwatch_client(&[route53_metrics(east_queries.clone())]),
                ),
                (
                    WEST.to_string(),
                    cloudwatch_client(&[route53_metrics(west_queries.clone())]),
                ),
            ]
            .into(),
            route53: route53_client(&[
                list.clone(),
                records.clone(),
                status.clone(),
                config.clone(),
            ]),
            route53_changes: route53_client(&[]),
            budget: Arc::default(),
        },
        twenty_service_watch(),
    );
    let mut last = Vec::new();
    for _ in 0..3 {
        last = obs.observe().await;
    }

    assert_eq!(list.num_calls(), 2, "one paged listing, not one per poll");
    assert_eq!(config.num_calls(), 0);
    assert_eq!(
        *zones.lock().unwrap(),
        vec!["Z1", "Z2", "Z1", "Z2", "Z1", "Z2"],
        "one listing per hosted zone per poll"
    );
    assert_eq!(
        status.num_calls(),
        6,
        "per checker only hc-3 (not fully healthy) and hc-5 (no datapoint), each poll"
    );
    let east = east_queries.lock().unwrap();
    assert_eq!(
        east.len(),
        3 * 80,
        "both metrics of all 40 checks, each poll"
    );
    assert!(east.contains(&(
        "AWS/Route53".to_string(),
        "HealthCheckStatus".to_string(),
        "HealthCheckId=hc-39".to_string()
    )));
    assert!(east.contains(&(
        "AWS/Route53".to_string(),
        "HealthCheckPercentageHealthy".to_string(),
        "HealthCheckId=hc-0".to_string()
    )));
    assert!(
        west_queries
            .lock()
            .unwrap()
            .iter()
            .all(|(namespace, _, _)| namespace != "AWS/Route53"),
        "Route 53 metrics live in us-east-1 only"
    );
    assert!(
        last.iter().all(|r| r.source != "cloudwatch:us-east-1"),
        "us-east-1 is not watched: it gives health only"
    );

    let snap = reading(&last, "route53")
        .result
        .as_ref()
        .expect("route53 ok");
    assert_eq!(
        snap.dns_records.len(),
        40,
        "every pair, and nothing unwatched"
    );
    let check = |id: &str| snap.health_checks.iter().find(|h| h.id == id).unwrap();
    let healthy = check("hc-0");
    assert_eq!(healthy.status, Health::Healthy);
    assert_eq!(
        (healthy.checkers_healthy, healthy.checkers_total),
        (8, 8),
        "never counted: one checker per default region"
    );
    assert_eq!(
        healthy.failure_threshold, 2,
        "from the listed configuration"
    );
    let half = check("hc-3");
    assert_eq!((half.checkers_healthy, half.checkers_total), (8, 16));
    assert_eq!(
        half.status,
        Health::Healthy,
        "eight of sixteen is above 18%"
    );
}

/// Twenty services whose health checks Route 53 answers with `status`
/// (after listing them), with CloudWatch failing in the east.
fn twenty_services_cloudwatch_east_failing(status: &Rule) -> AwsObserver {
    let failing = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .then_http_response(|| error_response(500, "InternalFailure"));
    let mut watch = twenty_service_watch();
    watch.records.clear();
    AwsObserver::new(
        ReadClients {
            rds: [(WEST.to_string(), rds_client(&quiet_rds_rules()))].into(),
            cloudwatch: [
                (EAST.to_string(), cloudwatch_client(&[failing])),
                (WEST.to_string(), quiet_cloudwatch()),
            ]
            .into(),
            route53: route53_client(&[paged_health_checks(), status.clone()]),
            route53_changes: route53_client(&[]),
            budget: Arc::default(),
        },
        watch,
    )
}

#[tokio::test]
async fn every_check_is_read_per_checker_when_cloudwatch_fails() {
    let status = health_rules(&[OK, OK]).remove(1);
    let obs = twenty_services_cloudwatch_east_failing(&status);
    let readings = obs.observe().await;
    assert_eq!(status.num_calls(), 40);
    let snap = reading(&readings, "route53").result.as_ref().unwrap();
    assert!(
        snap.health_checks
            .iter()
            .all(|h| h.status == Health::Healthy && h.checkers_total == 2)
    );
}

/// The twenty-service estate with CloudWatch answering (hc-3 half healthy,
/// hc-5 without a datapoint), its Route 53 answering `status`.
fn observer_of_twenty_services(status: &[Rule]) -> AwsObserver {
    let mut route53 = vec![
        paged_health_checks(),
        zone_listing(Arc::default()),
        mock!(aws_sdk_route53::Client::get_health_check)
            .then_output(|| panic!("configuration comes from ListHealthChecks")),
    ];
    route53.extend_from_slice(status);
    AwsObserver::new(
        ReadClients {
            rds: [(WEST.to_string(), rds_client(&quiet_rds_rules()))].into(),
            cloudwatch: [
                (
                    EAST.to_string(),
                    cloudwatch_client(&[route53_metrics(Arc::default())]),
                ),
                (WEST.to_string(), quiet_cloudwatch()),
            ]
            .into(),
            route53: route53_client(&route53),
            route53_changes: route53_client(&[]),
            budget: Arc::default(),
        },
        twenty_service_watch(),
    )
}

/// Three checkers in us-east-1 up, one in eu-west-1 down; the checks
/// asked for, in order.
fn checker_status(asked: Arc<Mutex<Vec<String>>>) -> Rule {
    use aws_sdk_route53::types::HealthCheckRegion;
    mock!(aws_sdk_route53::Client::get_health_check_status).then_compute_output(move |req| {
        asked
            .lock()
            .unwrap()
            .push(req.health_check_id().unwrap_or_default().to_string());
        [
            (HealthCheckRegion::UsEast1, OK),
            (HealthCheckRegion::UsEast1, OK),
            (HealthCheckRegion::UsEast1, OK),
            (HealthCheckRegion::EuWest1, FAIL),
        ]
        .into_iter()
        .enumerate()
        .fold(
            GetHealthCheckStatusOutput::builder(),
            |b, (n, (region, s))| {
                b.health_check_observations(
                    HealthCheckObservation::builder()
                        .region(region)
                        .ip_address(format!("15.177.0.{n}"))
                        .status_report(StatusReport::builder().status(s).build())
                        .build(),
                )
            },
        )
        .build()
        .unwrap()
    })
}

fn focus_on(service: &str, checks: &[&str]) -> FocusedService {
    FocusedService {
        service: service.into(),
        health_checks: checks.iter().map(|c| c.to_string()).collect(),
    }
}

fn sorted(asked: &Mutex<Vec<String>>) -> Vec<String> {
    let mut ids = std::mem::take(&mut *asked.lock().unwrap());
    ids.sort();
    ids
}

fn route53_snapshot(readings: &[SourceReading]) -> &Snapshot {
    reading(readings, "route53")
        .result
        .as_ref()
        .expect("route53 ok")
}

/// Issue 9: the service open in the detail pane has its checks read per
/// checker even when CloudWatch says every checker is healthy; no other
/// healthy check is, and without a focus none is.
#[tokio::test]
async fn exactly_the_open_services_checks_are_read_per_checker() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let obs = observer_of_twenty_services(&[checker_status(asked.clone())]);

    let unfocused = obs.observe_focused(None).await;
    assert_eq!(
        sorted(&asked),
        ["hc-3", "hc-5"],
        "only the checks CloudWatch does not show fully healthy"
    );
    let readouts = &route53_snapshot(&unfocused).checker_readouts;
    assert_eq!(readouts.len(), 2);

    let focused = obs
        .observe_focused(Some(&focus_on("svc-7", &["hc-7", "hc-27", "hc-3"])))
        .await;
    assert_eq!(
        sorted(&asked),
        ["hc-27", "hc-3", "hc-5", "hc-7"],
        "the open service's checks too, hc-3 still once"
    );
    let snap = route53_snapshot(&focused);
    let readout = snap
        .checker_readouts
        .iter()
        .find(|r| r.health_check_id == "hc-7")
        .expect("hc-7 read per checker");
    assert_eq!(
        readout.regions,
        vec![
            CheckerRegion {
                region: "eu-west-1".into(),
                healthy: 0,
                total: 1
            },
            CheckerRegion {
                region: EAST.into(),
                healthy: 3,
                total: 3
            },
        ]
    );
    assert_eq!(readout.not_read, None);
    let hc7 = snap.health_checks.iter().find(|h| h.id == "hc-7").unwrap();
    assert_eq!(
        (hc7.checkers_healthy, hc7.checkers_total),
        (3, 4),
        "counted from its checkers, not estimated from CloudWatch"
    );
    assert!(
        !snap
            .checker_readouts
            .iter()
            .any(|r| r.health_check_id == "hc-8"),
        "another service's healthy check is not read"
    );

    obs.observe_focused(None).await;
    assert_eq!(sorted(&asked), ["hc-3", "hc-5"], "closed: back to none");
}

/// The open service's extra reads give way first: once Route 53 throttles
/// one, the rest of them are not sent this poll, and the detail pane is
/// told why; the poll itself still answers, from CloudWatch.
#[tokio::test]
async fn the_open_services_extra_reads_stop_at_the_first_throttled() {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let throttled = mock!(aws_sdk_route53::Client::get_health_check_status)
        .match_requests(|req| req.health_check_id() == Some("hc-7"))
        .then_http_response(|| error_response(400, "Throttling"));
    let obs = observer_of_twenty_services(&[throttled.clone(), checker_status(asked.clone())]);

    let readings = obs
        .observe_focused(Some(&focus_on("svc-7", &["hc-7", "hc-8", "hc-9", "hc-10"])))
        .await;
    assert_eq!(throttled.num_calls(), sdk_config::MAX_ATTEMPTS as usize);
    assert_eq!(
        sorted(&asked),
        ["hc-3", "hc-5", "hc-8"],
        "the checks that need it first; hc-8 went with hc-7, hc-9 and hc-10 not at all"
    );
    let snap = route53_snapshot(&readings);
    for id in ["hc-7", "hc-9", "hc-10"] {
        let readout = snap
            .checker_readouts
            .iter()
            .find(|r| r.health_check_id == id)
            .unwrap_or_else(|| panic!("{id} says why it was not read"));
        let why = readout.not_read.as_deref().unwrap_or_default();
        assert!(why.contains("Throttling"), "{id}: {why}");
    }
    let hc9 = snap.health_checks.iter().find(|h| h.id == "hc-9").unwrap();
    assert_eq!(hc9.status, Health::Healthy, "CloudWatch's figure stands");
}

/// A throttled Route 53 is not asked for the rest of the checks in the same
/// poll: each would only be retried and throttled again.
#[tokio::test]
async fn per_checker_reads_stop_at_the_first_throttled_batch() {
    let throttled = mock!(aws_sdk_route53::Client::get_health_check_status)
        .then_http_response(|| error_response(400, "Throttling"));
    let obs = twenty_services_cloudwatch_east_failing(&throttled);
    let readings = obs
        .observe_focused(Some(&focus_on("svc-7", &["hc-7", "hc-27"])))
        .await;
    assert_eq!(kind_of(&readings, "route53"), ErrorKind::Throttled);
    assert_eq!(
        throttled.num_calls(),
        2 * sdk_config::MAX_ATTEMPTS as usize,
        "one batch of two checks, each retried, then none of the other 38"
    );
}
