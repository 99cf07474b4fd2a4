//! `provider()` end to end against moto: the standard credential chain and
//! `AWS_ENDPOINT_URL` from the environment, and discovery with no
//! environment file. A binary of its own because it sets process variables.

mod support;

use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet,
    ResourceRecordSetFailover, ResourceRecordSetRegion, RrType,
};
use drconsole::domain::environment::Replication;
use drconsole::domain::objectives::DrTier;
use drconsole::provider::aws::{AwsOptions, provider};
use support::estate::{self, DR, PRIMARY};
use support::moto::moto;

#[tokio::test]
async fn discovers_services_and_reads_them_through_aws_endpoint_url() {
    let server = moto();
    let seed_config = server.sdk_config("AKIDDISCOVERSEED").await;
    let estate = estate::seed(&seed_config, "disco").await;

    // A failover pair pointing at the global database's cluster endpoints,
    // which discovery ties to that service.
    let east = estate::rds(&seed_config, PRIMARY);
    let west = estate::rds(&seed_config, DR);
    let endpoint = |client: aws_sdk_rds::Client, id: String| async move {
        client
            .describe_db_clusters()
            .db_cluster_identifier(id)
            .send()
            .await
            .unwrap()
            .db_clusters()[0]
            .endpoint()
            .unwrap()
            .to_string()
    };
    let primary_endpoint = endpoint(east, estate.primary_cluster.clone()).await;
    let secondary_endpoint = endpoint(west, estate.secondary_cluster.clone()).await;
    let r53 = estate::route53(&seed_config);
    let db_record = "db.disco.example.com.".to_string();
    let changes = [
        (
            ResourceRecordSetFailover::Primary,
            &primary_endpoint,
            &estate.health_primary,
        ),
        (
            ResourceRecordSetFailover::Secondary,
            &secondary_endpoint,
            &estate.health_secondary,
        ),
    ]
    .into_iter()
    .fold(ChangeBatch::builder(), |b, (role, target, hc)| {
        b.changes(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(estate::failover_record(&db_record, role, target, hc))
                .build()
                .unwrap(),
        )
    })
    .build()
    .unwrap();
    r53.change_resource_record_sets()
        .hosted_zone_id(&estate.zone_id)
        .change_batch(changes)
        .send()
        .await
        .unwrap();
    // Latency record sets (a Region per set) of a name no service owns:
    // discovery reads them like failover sets, so they are watched.
    let latency_record = "lat.disco.example.com.".to_string();
    let latency = [
        (PRIMARY, "lat.us-east-1.example.com"),
        (DR, "lat.us-west-2.example.com"),
    ]
    .into_iter()
    .fold(ChangeBatch::builder(), |b, (region, target)| {
        b.changes(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(
                    ResourceRecordSet::builder()
                        .name(&latency_record)
                        .r#type(RrType::Cname)
                        .ttl(60)
                        .set_identifier(region)
                        .region(ResourceRecordSetRegion::from(region))
                        .resource_records(ResourceRecord::builder().value(target).build().unwrap())
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
    })
    .build()
    .unwrap();
    r53.change_resource_record_sets()
        .hosted_zone_id(&estate.zone_id)
        .change_batch(latency)
        .send()
        .await
        .unwrap();

    // SAFETY: set before the SDK reads them, on this test's only thread
    // (current-thread runtime), in a binary with no other test.
    unsafe {
        std::env::set_var("AWS_ENDPOINT_URL", &server.endpoint);
        std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDDISCOVER");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "secret");
        std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/drconsole-test-config");
        std::env::set_var(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/drconsole-test-credentials",
        );
        std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    }
    let opts = AwsOptions {
        profile: None,
        region: Some(PRIMARY.to_string()),
        read_only: true,
        ..AwsOptions::default()
    };
    let session = provider(&opts, None).await.expect("discovered provider");
    assert!(session.discovery.is_none(), "every source answered");
    let (provider, env) = (session.provider, session.environment);
    assert!(provider.act.is_none(), "read-only: no acting half");
    assert_eq!(env.home_region, PRIMARY);
    assert_eq!(env.regions[0], PRIMARY);
    assert!(env.regions.iter().any(|r| r == DR));

    let orders = env
        .service(&estate.global)
        .expect("service for the global cluster");
    assert_eq!(
        orders.replication,
        Replication::AuroraGlobal {
            global_cluster: estate.global.clone(),
            primary_cluster: estate.primary_cluster.clone(),
            secondary_cluster: estate.secondary_cluster.clone(),
        }
    );
    assert_eq!(
        (orders.primary_region.as_str(), orders.dr_region.as_str()),
        (PRIMARY, DR)
    );
    assert_eq!(
        orders.tier,
        DrTier::PilotLight,
        "the secondary has no instances"
    );
    let dns = orders
        .dns
        .as_ref()
        .expect("failover pair attached by endpoint");
    assert_eq!(dns.record, db_record);
    assert_eq!(dns.primary_target, primary_endpoint);
    let checks: Vec<(&str, &str)> = orders
        .health_checks
        .iter()
        .map(|h| (h.id.as_str(), h.region.as_str()))
        .collect();
    assert_eq!(
        checks,
        vec![
            (estate.health_primary.as_str(), PRIMARY),
            (estate.health_secondary.as_str(), DR)
        ]
    );

    let billing = env
        .service(&estate.source_instance)
        .expect("service for the replica");
    assert_eq!(
        billing.replication,
        Replication::RdsReplica {
            source_instance: estate.source_instance.clone(),
            replica_instance: estate.replica_instance.clone(),
        }
    );

    // The other pair names no endpoint but fails over between the same two
    // regions, so a service failing over between them takes it (billing on
    // a fresh server; any such service when MOTO_ENDPOINT is shared).
    assert!(
        env.services
            .iter()
            .any(|s| s.dns.as_ref().is_some_and(|d| d.record == estate.record
                && s.primary_region == PRIMARY
                && s.dr_region == DR))
    );

    let readings = provider.observe.observe().await;
    let route53 = readings
        .iter()
        .find(|r| r.source == "route53")
        .and_then(|r| r.result.as_ref().ok())
        .expect("route53 reading");
    let names: Vec<&str> = route53
        .dns_records
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    assert!(names.contains(&db_record.as_str()));
    assert!(names.contains(&estate.record.as_str()), "{names:?}");
    let latency_sets: Vec<_> = route53
        .dns_records
        .iter()
        .filter(|r| r.name == latency_record)
        .collect();
    assert_eq!(latency_sets.len(), 2, "{latency_sets:?}");
    assert!(
        latency_sets
            .iter()
            .all(|r| r.failover.is_none() && r.set_identifier.is_some())
    );
    let rds = readings
        .iter()
        .find(|r| r.source == format!("rds:{PRIMARY}"))
        .and_then(|r| r.result.as_ref().ok())
        .expect("rds reading");
    assert!(rds.global_clusters.iter().any(|g| g.id == estate.global));
}
