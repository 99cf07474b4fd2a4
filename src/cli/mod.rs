//! Command-line entry points; `main.rs` only dispatches to these.

pub mod args;
pub mod drill;
pub mod runbook;
pub mod status;
