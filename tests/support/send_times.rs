//! An HTTP client that notes when each request leaves, placed under the
//! API budget the provider puts in front of it: the rate the budget lets
//! through, measured from outside the budget's own counting.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use drconsole::provider::aws::budgeted_http::default_client;

/// When each request left, and its URI.
pub type Sent = Arc<Mutex<Vec<(Instant, String)>>>;

#[derive(Debug)]
struct Noting {
    inner: SharedHttpClient,
    sent: Sent,
}

#[derive(Debug)]
struct NotingConnector {
    inner: SharedHttpConnector,
    sent: Sent,
}

impl HttpClient for Noting {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(NotingConnector {
            inner: self.inner.http_connector(settings, components),
            sent: Arc::clone(&self.sent),
        })
    }
}

impl HttpConnector for NotingConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        self.sent
            .lock()
            .unwrap()
            .push((Instant::now(), request.uri().to_string()));
        self.inner.call(request)
    }
}

/// `config` sending through a client that notes each request in `sent`.
pub fn noting(config: &SdkConfig, sent: &Sent) -> SdkConfig {
    let inner = config
        .http_client()
        .or_else(default_client)
        .expect("an HTTP client");
    config
        .clone()
        .into_builder()
        .http_client(Noting {
            inner,
            sent: Arc::clone(sent),
        })
        .build()
}

/// The most of `times` (in any order) inside any window of `window`.
pub fn most_within(times: &[Instant], window: Duration) -> usize {
    let mut times = times.to_vec();
    times.sort();
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t < times[i] + window)
                .count()
        })
        .max()
        .unwrap_or(0)
}
