//! SDK clients, one per service and region. The read and the acting half
//! each build their own, so a read-only session never holds an acting client.

use std::collections::BTreeMap;

use aws_config::SdkConfig;

use super::sdk_config::for_region;
use crate::domain::action::ROUTE53_REGION;

/// Clients the read half uses.
#[derive(Clone)]
pub struct ReadClients {
    pub rds: BTreeMap<String, aws_sdk_rds::Client>,
    pub cloudwatch: BTreeMap<String, aws_sdk_cloudwatch::Client>,
    pub route53: aws_sdk_route53::Client,
}

impl ReadClients {
    pub fn new(config: &SdkConfig, regions: &[String]) -> Self {
        Self {
            rds: regions
                .iter()
                .map(|r| (r.clone(), aws_sdk_rds::Client::new(&for_region(config, r))))
                .collect(),
            cloudwatch: regions
                .iter()
                .map(|r| {
                    (
                        r.clone(),
                        aws_sdk_cloudwatch::Client::new(&for_region(config, r)),
                    )
                })
                .collect(),
            route53: aws_sdk_route53::Client::new(&for_region(config, ROUTE53_REGION)),
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
    pub fn new(config: &SdkConfig, regions: &[String]) -> Self {
        Self {
            rds: regions
                .iter()
                .map(|r| (r.clone(), aws_sdk_rds::Client::new(&for_region(config, r))))
                .collect(),
            route53: aws_sdk_route53::Client::new(&for_region(config, ROUTE53_REGION)),
        }
    }
}
