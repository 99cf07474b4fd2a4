//! The budget hooked under the SDK: an HTTP client that takes a slot from
//! the API's [`PriorityBucket`] before every request it sends, retries and
//! paginated pages included, so no call path can bypass it.
//!
//! A monitor request that finds no slot fails as a user error (the SDK does
//! not retry those), which [`super::errors::from_sdk`] reports as kind
//! "budget".

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_runtime::client::defaults::default_http_client_plugin_v2;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;

use super::budget::{Api, Budget, OverBudget, Priority, PriorityBucket};

#[derive(Debug)]
struct BudgetedClient {
    inner: SharedHttpClient,
    bucket: Arc<PriorityBucket>,
    priority: Priority,
    max_wait: Duration,
}

#[derive(Debug)]
struct BudgetedConnector {
    inner: SharedHttpConnector,
    bucket: Arc<PriorityBucket>,
    priority: Priority,
    max_wait: Duration,
}

impl HttpClient for BudgetedClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(BudgetedConnector {
            inner: self.inner.http_connector(settings, components),
            bucket: Arc::clone(&self.bucket),
            priority: self.priority,
            max_wait: self.max_wait,
        })
    }
}

impl HttpConnector for BudgetedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let bucket = Arc::clone(&self.bucket);
        let (priority, max_wait) = (self.priority, self.max_wait);
        HttpConnectorFuture::new(async move {
            bucket
                .acquire(priority, max_wait)
                .await
                .map_err(|e| ConnectorError::user(Box::new(e)))?;
            inner.call(request).await
        })
    }
}

/// The SDK's own default HTTPS client, for configurations that name none.
pub fn default_client() -> Option<SharedHttpClient> {
    let plugin = default_http_client_plugin_v2(BehaviorVersion::latest())?;
    plugin
        .runtime_components(&RuntimeComponentsBuilder::new("drconsole budget"))
        .http_client()
}

/// `config` with every request of its clients for `api` in `region` going
/// through the budget first, at `priority`.
pub fn budgeted(
    config: &SdkConfig,
    budget: &Budget,
    api: Api,
    region: &str,
    priority: Priority,
) -> SdkConfig {
    let Some(inner) = config.http_client().or_else(default_client) else {
        tracing::warn!("no HTTP client to put the API budget in front of");
        return config.clone();
    };
    let client = BudgetedClient {
        inner,
        bucket: budget.bucket(api, region),
        priority,
        max_wait: budget.settings().monitor_wait,
    };
    config.clone().into_builder().http_client(client).build()
}

/// Whether an SDK failure is a monitor request the budget turned away.
pub fn over_budget<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a OverBudget> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(over) = e.downcast_ref::<OverBudget>() {
            return Some(over);
        }
        current = e.source();
    }
    None
}
