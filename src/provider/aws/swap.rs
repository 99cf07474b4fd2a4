//! A provider half that can be replaced while in use: rediscovery widens
//! what is read (and which regions can be acted in) without the session,
//! the monitor task or a runbook run holding a new provider.

use std::sync::{Arc, RwLock};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::budget::Usage;
use super::{AwsActor, AwsObserver};
use crate::domain::action::{Action, ChangeStatus, Receipt};
use crate::domain::snapshot::{SourceError, SourceReading};
use crate::provider::{Act, FocusedService, Observe};
use crate::readiness::facts::ConfigReading;

pub struct Swappable<T>(RwLock<Arc<T>>);

impl<T> Swappable<T> {
    pub fn new(inner: T) -> Self {
        Self(RwLock::new(Arc::new(inner)))
    }

    /// Calls already under way finish on the half they started with.
    pub fn replace(&self, inner: T) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(inner);
    }

    pub fn current(&self) -> Arc<T> {
        Arc::clone(&self.0.read().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait]
impl Observe for Swappable<AwsObserver> {
    async fn observe(&self) -> Vec<SourceReading> {
        self.current().observe().await
    }

    async fn observe_focused(&self, focus: Option<&FocusedService>) -> Vec<SourceReading> {
        self.current().observe_focused(focus).await
    }

    fn api_budget(&self) -> Option<Vec<Usage>> {
        self.current().api_budget()
    }

    fn now(&self) -> DateTime<Utc> {
        self.current().now()
    }

    async fn change_status(&self, change_id: &str) -> Result<ChangeStatus, SourceError> {
        self.current().change_status(change_id).await
    }

    async fn configuration(&self) -> Vec<ConfigReading> {
        self.current().configuration().await
    }
}

#[async_trait]
impl Act for Swappable<AwsActor> {
    async fn execute(&self, action: &Action) -> Result<Receipt, SourceError> {
        self.current().execute(action).await
    }

    async fn already_applied(&self, action: &Action) -> Result<bool, SourceError> {
        self.current().already_applied(action).await
    }
}
