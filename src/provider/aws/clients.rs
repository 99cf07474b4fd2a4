//! SDK clients, one per service and region. The read and the acting half
//! each build their own, so a read-only session never holds an acting client,
//! and each sends through the shared API budget at its own priority: the
//! acting half's requests go first.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;

use super::budget::{Api, Budget, Priority};
use super::budgeted_http::budgeted;
use super::cloudwatch::ROUTE53_METRICS_REGION;
use super::sdk_config::for_region;
use crate::domain::action::ROUTE53_REGION;

/// Clients the read half uses.
#[derive(Clone)]
pub struct ReadClients {
    pub rds: BTreeMap<String, aws_sdk_rds::Client>,
    /// Every watched region's, and us-east-1's for Route 53's health metrics.
    pub cloudwatch: BTreeMap<String, aws_sdk_cloudwatch::Client>,
    pub route53: aws_sdk_route53::Client,
    /// `GetChange` while a runbook waits for its change to reach every
    /// name server: part of the action, so at its priority.
    pub route53_changes: aws_sdk_route53::Client,
    /// Told which APIs throttled each poll, to back the monitor off.
    pub budget: Arc<Budget>,
}

/// `config` for `api` in `region`, through the budget at `priority`.
fn scoped(
    config: &SdkConfig,
    budget: &Budget,
    api: Api,
    region: &str,
    priority: Priority,
) -> SdkConfig {
    budgeted(&for_region(config, region), budget, api, region, priority)
}

impl ReadClients {
    pub fn new(config: &SdkConfig, regions: &[String], budget: &Arc<Budget>) -> Self {
        let monitor = Priority::Monitor;
        let mut cloudwatch_regions: Vec<&str> = regions.iter().map(String::as_str).collect();
        if !cloudwatch_regions.contains(&ROUTE53_METRICS_REGION) {
            cloudwatch_regions.push(ROUTE53_METRICS_REGION);
        }
        Self {
            rds: regions
                .iter()
                .map(|r| {
                    let config = scoped(config, budget, Api::Rds, r, monitor);
                    (r.clone(), aws_sdk_rds::Client::new(&config))
                })
                .collect(),
            cloudwatch: cloudwatch_regions
                .into_iter()
                .map(|r| {
                    let config = scoped(config, budget, Api::CloudWatch, r, monitor);
                    (r.to_string(), aws_sdk_cloudwatch::Client::new(&config))
                })
                .collect(),
            route53: aws_sdk_route53::Client::new(&scoped(
                config,
                budget,
                Api::Route53,
                ROUTE53_REGION,
                monitor,
            )),
            route53_changes: aws_sdk_route53::Client::new(&scoped(
                config,
                budget,
                Api::Route53,
                ROUTE53_REGION,
                Priority::Action,
            )),
            budget: Arc::clone(budget),
        }
    }
}

/// Clients the acting half uses, also for its re-reads before acting.
#[derive(Clone)]
pub struct ActClients {
    pub rds: BTreeMap<String, aws_sdk_rds::Client>,
    pub route53: aws_sdk_route53::Client,
}

impl ActClients {
    pub fn new(config: &SdkConfig, regions: &[String], budget: &Budget) -> Self {
        let action = Priority::Action;
        Self {
            rds: regions
                .iter()
                .map(|r| {
                    let config = scoped(config, budget, Api::Rds, r, action);
                    (r.clone(), aws_sdk_rds::Client::new(&config))
                })
                .collect(),
            route53: aws_sdk_route53::Client::new(&scoped(
                config,
                budget,
                Api::Route53,
                ROUTE53_REGION,
                action,
            )),
        }
    }
}
