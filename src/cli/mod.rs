//! Command-line entry points; `main.rs` only dispatches to these.

pub mod approve;
pub mod args;
pub mod drill;
pub mod follow;
pub mod readiness;
pub mod runbook;
pub mod shared_run;
pub mod status;
pub mod timeline;
