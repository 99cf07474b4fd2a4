//! Drawing: one module per part of the screen, each a
//! `render(frame, app, area)` that reads the state and draws into `area`.
//! [`app`] lays the screen out and calls the others.

pub mod app;
pub mod dashboard;
pub mod detail;
pub mod drill_report;
pub mod follow;
pub mod footer;
pub mod header;
pub mod help;
pub mod readiness;
pub mod run;
pub mod runbooks;
pub mod runs;
pub mod timeline;
pub mod too_small;

mod budget;
mod cells;
mod checkers;
mod fit;

#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;
