//! drconsole: a terminal console for disaster recovery on AWS.

pub mod cli;
pub mod config;
pub mod coordination;
pub mod domain;
pub mod drill;
pub mod follow;
pub mod format;
pub mod logging;
pub mod monitor;
pub mod provider;
pub mod readiness;
pub mod runbook;
pub mod session;
pub mod timeline;
pub mod tui;
