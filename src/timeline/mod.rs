//! The incident timeline: one time-ordered story of what happened, for the
//! Timeline screen, `drconsole timeline` and the post-incident review.
//!
//! Two persistent sources feed it: the run journals (every step with its
//! operator, decision and reason) and the events log the console appends
//! as it watches (availability, RPO posture, health-check and DNS changes,
//! RDS events). [`merge::build`] is pure; [`load`] reads both from disk.

pub mod differ;
pub mod events;
pub mod load;
pub mod merge;
pub mod recorder;
pub mod report;

pub use events::{Change, ObservedEvent};
pub use merge::{Filter, Timeline, TimelineEntry};
