//! Transport failures with the real HTTP stack: an endpoint that accepts
//! connections and never answers, and one that refuses them. Every source
//! must come back as an error reading, within the configured timeouts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rds::config::Credentials;
use drconsole::domain::environment::HealthCheckSpec;
use drconsole::domain::snapshot::ErrorKind;
use drconsole::provider::Observe;
use drconsole::provider::aws::cloudwatch::LagTarget;
use drconsole::provider::aws::{AwsObserver, ReadClients, Watch};

async fn config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            "AKIDTRANSPORT",
            "secret",
            None,
            None,
            "test",
        ))
        .region(Region::new("us-east-1"))
        .retry_config(RetryConfig::standard().with_max_attempts(2))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(2))
                .operation_attempt_timeout(Duration::from_millis(500))
                .connect_timeout(Duration::from_millis(500))
                .build(),
        )
        .load()
        .await
}

fn watch() -> Watch {
    Watch {
        regions: vec!["us-east-1".into()],
        health_checks: (0..10)
            .map(|n| HealthCheckSpec {
                id: format!("hc-{n}"),
                region: "us-east-1".into(),
                fqdn: "api.example.com".into(),
                failure_threshold: 3,
            })
            .collect(),
        records: vec![("Z1".into(), "api.example.com.".into())],
        lag_targets: vec![LagTarget::AuroraCluster {
            cluster: "orders-dr".into(),
            region: "us-east-1".into(),
        }],
        ..Watch::default()
    }
}

async fn kinds_against(endpoint: &str) -> (Vec<(String, ErrorKind)>, Duration) {
    let config = config(endpoint).await;
    let watch = watch();
    let observer = AwsObserver::new(
        ReadClients::new(&config, &watch.regions, &Arc::default()),
        watch,
    );
    let started = Instant::now();
    let readings = observer.observe().await;
    let kinds = readings
        .into_iter()
        .map(|r| {
            let kind = r.result.err().map(|e| e.kind).expect("every source fails");
            (r.source, kind)
        })
        .collect();
    (kinds, started.elapsed())
}

#[tokio::test]
async fn a_silent_endpoint_times_out_every_source() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    // Accept and hold connections without ever answering.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let (kinds, elapsed) = kinds_against(&endpoint).await;
    holder.abort();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for (source, kind) in &kinds {
        assert_eq!(*kind, ErrorKind::Timeout, "{source}");
    }
    assert!(
        elapsed < Duration::from_secs(6),
        "bounded by the timeouts: {elapsed:?}"
    );
}

#[tokio::test]
async fn a_refused_connection_is_a_network_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let (kinds, _) = kinds_against(&format!("http://127.0.0.1:{port}")).await;
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for (source, kind) in &kinds {
        assert_eq!(*kind, ErrorKind::Network, "{source}");
    }
}

#[tokio::test]
async fn missing_credentials_ask_for_a_login_before_any_request() {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .no_credentials()
        .region(Region::new("us-east-1"))
        .load()
        .await;
    let watch = watch();
    let observer = AwsObserver::new(
        ReadClients::new(&config, &watch.regions, &Arc::default()),
        watch,
    );
    let readings = observer.observe().await;
    assert_eq!(readings.len(), 3);
    for r in readings {
        let err = r.result.expect_err("no credentials");
        assert_eq!(
            err.kind,
            ErrorKind::ExpiredCredentials,
            "{}: {}",
            r.source,
            err.message
        );
    }
}
