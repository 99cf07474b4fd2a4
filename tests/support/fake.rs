//! An in-test provider whose world is a file, so a child process and the
//! test that killed it see the same state, and a tiny demo application.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use drconsole::domain::action::{Action, ChangeStatus, Receipt};
use drconsole::domain::snapshot::{SourceError, SourceReading};
use drconsole::provider::{Act, Observe, Provider, ProviderKind};

use super::runbook::world;

pub struct FakeWorld {
    /// Exists once the global cluster has failed over.
    failed_over_marker: PathBuf,
    pub executed: AtomicUsize,
    /// Polls of this instance (runs should use the monitor's instead).
    pub observed: AtomicUsize,
    /// Apply the effect, then never answer: the console is killed meanwhile.
    pub hang_after_apply: bool,
    /// Never answer and never apply.
    pub hang_before_apply: bool,
    /// us-east-1's checks pass: there is no outage to fail over from.
    pub primary_healthy: bool,
}

impl FakeWorld {
    pub fn new(dir: &std::path::Path) -> FakeWorld {
        FakeWorld {
            failed_over_marker: dir.join("failed-over"),
            executed: AtomicUsize::new(0),
            observed: AtomicUsize::new(0),
            hang_after_apply: false,
            hang_before_apply: false,
            primary_healthy: false,
        }
    }

    pub fn failed_over(&self) -> bool {
        self.failed_over_marker.exists()
    }

    pub fn provider(self: &Arc<Self>, read_only: bool) -> Provider {
        Provider {
            observe: self.clone(),
            act: (!read_only).then(|| self.clone() as Arc<dyn Act>),
            kind: ProviderKind::Demo,
        }
    }
}

#[async_trait]
impl Observe for FakeWorld {
    async fn observe(&self) -> Vec<SourceReading> {
        self.observed.fetch_add(1, Ordering::SeqCst);
        vec![SourceReading {
            source: "fake".into(),
            taken_at: Utc::now(),
            result: Ok(world(self.primary_healthy, self.failed_over())),
        }]
    }

    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    async fn change_status(&self, _change_id: &str) -> Result<ChangeStatus, SourceError> {
        Ok(ChangeStatus::Insync)
    }
}

#[async_trait]
impl Act for FakeWorld {
    async fn execute(&self, action: &Action) -> Result<Receipt, SourceError> {
        self.executed.fetch_add(1, Ordering::SeqCst);
        if self.hang_before_apply {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        if matches!(action, Action::FailoverGlobalCluster { .. }) {
            std::fs::write(&self.failed_over_marker, b"yes").unwrap();
        }
        if self.hang_after_apply {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Ok(Receipt {
            request_id: Some("req-1".into()),
            change_id: matches!(action, Action::UpsertRecord { .. }).then(|| "C1".to_string()),
            summary: format!("{} accepted", action.describe().operation),
        })
    }

    async fn already_applied(&self, action: &Action) -> Result<bool, SourceError> {
        Ok(matches!(action, Action::FailoverGlobalCluster { .. }) && self.failed_over())
    }
}

/// Serves `/auth/login` (a token) and `/api/test/write` (needs the token)
/// on 127.0.0.1; returns the base URL.
pub async fn demo_app() -> String {
    use axum::Router;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    async fn login() -> axum::Json<serde_json::Value> {
        axum::Json(serde_json::json!({ "token": "t0k" }))
    }
    async fn write(headers: HeaderMap) -> StatusCode {
        match headers.get("authorization").and_then(|v| v.to_str().ok()) {
            Some("Bearer t0k") => StatusCode::CREATED,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
    let app = Router::new()
        .route("/auth/login", post(login))
        .route("/api/test/write", post(write));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    format!("http://{addr}")
}
