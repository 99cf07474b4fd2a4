//! Following a run from another session: read-only, live, from its journal.
//!
//! A [`RunSource`] lists the runs that are still going and hands out their
//! records from a position on; [`Follower`] keeps reading one run and
//! rebuilds its view with the engine's own journal reconstruction
//! ([`crate::runbook::journal::RecoveredRun`]), so a follower and a resumed
//! run never disagree about where a run stands. The local journal
//! directory is one source ([`local::LocalJournals`]); the shared store is
//! another ([`shared::SharedJournals`]).

pub mod decisions;
pub mod follower;
pub mod local;
pub mod shared;
pub mod source;
pub mod task;
pub mod view;

pub use follower::Follower;
pub use source::{ActiveRun, Batch, FollowError, Position, RunRef, RunSource};
