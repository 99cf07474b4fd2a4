//! drconsole: a terminal console for disaster recovery on AWS.

pub mod config;
pub mod domain;
pub mod monitor;
pub mod provider;
