//! Command-line entry points; `main.rs` only dispatches to these.

pub mod args;
pub mod follow;
pub mod runbook;
pub mod status;
pub mod timeline;
