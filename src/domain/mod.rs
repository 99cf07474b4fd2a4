//! The DR vocabulary: objectives, tiers, what was observed, and posture.

pub mod action;
pub mod availability;
pub mod environment;
pub mod exposure;
pub mod incident;
pub mod lookup;
pub mod objectives;
pub mod posture;
pub mod rotation;
pub mod snapshot;
pub mod topology;
pub mod verdict;

#[cfg(test)]
pub(crate) mod testing;
