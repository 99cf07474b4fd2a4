//! The demo application over HTTP: its answers follow the simulated world.

use std::sync::Arc;
use std::time::Duration;

use chrono::DateTime;
use drconsole::config::environment_file::demo_environment;
use drconsole::domain::action::Action;
use drconsole::provider::sim::{Fault, SimWorld, serve_demo_app};
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Demo {
    world: Arc<SimWorld>,
    base: String,
    http: reqwest::Client,
}

async fn start() -> Demo {
    let start = DateTime::parse_from_rfc3339("2026-03-02T12:00:00Z")
        .unwrap()
        .to_utc();
    let world = Arc::new(SimWorld::new(&demo_environment(), start));
    let (addr, _task) = serve_demo_app(Arc::clone(&world), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    Demo {
        world,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

impl Demo {
    async fn get(&self, path: &str, token: Option<&str>) -> StatusCode {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send().await.unwrap().status()
    }

    async fn login(&self, region: &str) -> String {
        let response = self
            .http
            .post(format!("{}/{region}/auth/login", self.base))
            .json(&json!({ "email": "test@example.com", "password": "test" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    async fn write(&self, region: &str, token: &str) -> (StatusCode, String) {
        let response = self
            .http
            .post(format!("{}/{region}/api/test/write", self.base))
            .bearer_auth(token)
            .json(&json!({ "test": true }))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

#[tokio::test]
async fn the_smoke_tests_pass_in_the_primary_region() {
    let demo = start().await;
    assert_eq!(demo.get("/us-east-1/health", None).await, StatusCode::OK);
    assert_eq!(demo.get("/us-east-1/health/db", None).await, StatusCode::OK);
    let token = demo.login("us-east-1").await;
    assert_eq!(
        demo.get("/us-east-1/api/users/me", Some(&token)).await,
        StatusCode::OK
    );
    assert_eq!(demo.write("us-east-1", &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn reads_need_a_token_and_unknown_regions_are_not_found() {
    let demo = start().await;
    assert_eq!(
        demo.get("/us-east-1/api/users/me", None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        demo.get("/us-east-1/api/users/me", Some("forged")).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        demo.get("/mars-1/health", None).await,
        StatusCode::NOT_FOUND
    );
    let bad_login = demo
        .http
        .post(format!("{}/us-east-1/auth/login", demo.base))
        .json(&json!({ "email": "nobody", "password": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_login.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_dr_region_reads_but_refuses_writes_until_failover() {
    let demo = start().await;
    let token = demo.login("us-west-2").await;
    assert_eq!(
        demo.get("/us-west-2/api/users/me", Some(&token)).await,
        StatusCode::OK
    );
    let (status, body) = demo.write("us-west-2", &token).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("read-only"), "{body}");

    demo.world
        .inject(Fault::RegionOutage {
            region: "us-east-1".into(),
        })
        .unwrap();
    assert_eq!(
        demo.get("/us-east-1/health", None).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(
        demo.get("/us-east-1/health/db", None).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(demo.get("/us-west-2/health", None).await, StatusCode::OK);

    demo.world
        .execute(&Action::FailoverGlobalCluster {
            region: "us-west-2".into(),
            global_cluster: "orders-global".into(),
            target_cluster: "orders-secondary".into(),
            allow_data_loss: true,
        })
        .unwrap();
    demo.world.advance(Duration::from_secs(90));
    assert_eq!(demo.write("us-west-2", &token).await.0, StatusCode::OK);
}

#[tokio::test]
async fn the_app_refuses_to_listen_beyond_loopback() {
    let world = Arc::new(SimWorld::new(&demo_environment(), chrono::Utc::now()));
    let err = serve_demo_app(world, "0.0.0.0:0".parse().unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}
