//! The DR vocabulary: objectives, tiers, what was observed, and posture.

pub mod action;
pub mod environment;
pub mod objectives;
pub mod posture;
pub mod snapshot;
