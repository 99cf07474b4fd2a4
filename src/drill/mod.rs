//! Drills: scripted outages on the simulator for training, measured
//! against the simulator's ground truth and scored in a report.
//!
//! - [`scenario`]: the scenario files and their parsing;
//! - [`validate`]: checking a scenario against its environment, runbooks
//!   and the faults the simulated world accepts;
//! - [`score`]: from what happened to the report's numbers (pure);
//! - [`report`]: the report as Markdown and JSON files, and the history;
//! - [`run`]: a running drill's world, timeline and availability watch;
//! - [`headless`]: a drill with the expected runbook answered by script.

pub mod headless;
pub mod report;
pub mod run;
pub mod scenario;
pub mod score;
pub mod validate;

#[cfg(test)]
pub(crate) mod score_tests;
#[cfg(test)]
mod tests;
