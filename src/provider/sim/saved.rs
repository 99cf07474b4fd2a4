//! The saved simulated world: what a demo console writes to its data
//! directory so that the next one, even after `kill -9`, carries on in the
//! world it left (runs in flight, outages, pending DNS changes and all).
//!
//! The file is JSON: a format number, the environment's name and
//! fingerprint (a world only fits the environment it was built from), when
//! it was saved by the wall clock, the simulated clock, the faults in force
//! and the whole model including its random generator. What is read back is
//! checked for consistency before the simulator trusts it.

use std::fmt;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

use super::model::Model;
use crate::domain::environment::Environment;
use crate::provider::fault::Fault;

/// Bumped whenever the model's shape changes, so an older file is reported
/// as such instead of as corrupt.
pub(super) const FORMAT: u32 = 1;

/// A saved world: borrowing the model to write it, owning it once read.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SavedWorld<M> {
    pub format: u32,
    pub environment: String,
    pub fingerprint: String,
    /// Wall-clock time of the save, to tell the operator how old it is.
    pub saved_at: DateTime<Utc>,
    /// The simulated clock at the save.
    pub now: DateTime<Utc>,
    pub faults: Vec<Fault>,
    pub model: M,
}

/// Why a saved world cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum ResumeError {
    /// Not JSON, or not a saved world (serde's message names line and column).
    Unreadable(String),
    /// Written by a drconsole with another file format.
    Format(u32),
    /// Saved for a different environment (or a changed one).
    Foreign { environment: String },
    /// Parses, but refers to things it does not hold.
    Inconsistent(String),
}

impl fmt::Display for ResumeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResumeError::Unreadable(why) => write!(f, "not a saved simulated world: {why}"),
            ResumeError::Format(found) => write!(
                f,
                "saved in format {found}; this drconsole reads format {FORMAT}"
            ),
            ResumeError::Foreign { environment } => write!(
                f,
                "saved for environment `{environment}` as it was then, not the one this session opened"
            ),
            ResumeError::Inconsistent(why) => write!(f, "inconsistent saved world: {why}"),
        }
    }
}

impl std::error::Error for ResumeError {}

/// Parses and checks a saved world against the environment it should fit.
pub(super) fn read(env: &Environment, text: &str) -> Result<SavedWorld<Model>, ResumeError> {
    #[derive(Deserialize)]
    struct Header {
        format: u32,
    }
    // The format first: a newer or older model would fail in confusing ways.
    let header: Header =
        serde_json::from_str(text).map_err(|e| ResumeError::Unreadable(e.to_string()))?;
    if header.format != FORMAT {
        return Err(ResumeError::Format(header.format));
    }
    let saved: SavedWorld<Model> =
        serde_json::from_str(text).map_err(|e| ResumeError::Unreadable(e.to_string()))?;
    if saved.fingerprint != fingerprint(env) {
        return Err(ResumeError::Foreign {
            environment: saved.environment,
        });
    }
    for (what, t) in [("clock", saved.now), ("model time", saved.model.time)] {
        if !(1970..=9999).contains(&t.year()) {
            return Err(ResumeError::Inconsistent(format!(
                "{what} {t} is outside years 1970 to 9999"
            )));
        }
    }
    saved
        .model
        .check_consistent()
        .map_err(ResumeError::Inconsistent)?;
    for fault in &saved.faults {
        let known = match fault {
            Fault::RegionOutage { region }
            | Fault::PartialOutage { region, .. }
            | Fault::EndpointFailing { region, .. } => saved.model.region_index(region).is_some(),
            Fault::SourceFailure { .. }
            | Fault::LagSpike { .. }
            | Fault::ReplicationStopped { .. }
            | Fault::BackupsStopped { .. }
            | Fault::DnsSwapped { .. }
            | Fault::FlappingHealthCheck { .. }
            | Fault::SlowControlPlane { .. } => true,
        };
        if !known {
            return Err(ResumeError::Inconsistent(format!(
                "fault `{}` names a region the world does not have",
                fault.label()
            )));
        }
    }
    Ok(saved)
}

/// What a world depends on in its environment, hashed: services, regions,
/// seed. The time scale is left out: it changes how fast the world runs,
/// not what it is.
pub(super) fn fingerprint(env: &Environment) -> String {
    let mut shape = env.clone();
    shape.sim.time_scale = 1.0;
    // Serializing plain data with no maps cannot fail; an empty text would
    // still give a fingerprint that only matches itself.
    // Hashed as it is written: the text of a large estate is megabytes.
    let mut hash = Fnv1a::default();
    let _ = serde_json::to_writer(&mut hash, &shape);
    format!("{:016x}", hash.0)
}

/// FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl std::io::Write for Fnv1a {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 = bytes.iter().fold(self.0, |hash, b| {
            (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worlds saved before the fingerprint was hashed as it was written
    /// must still match: the same bytes, hashed alike.
    #[test]
    fn the_fingerprint_is_fnv1a_of_the_environment_as_json() {
        let env = crate::config::environment_file::demo_environment();
        let mut shape = env.clone();
        shape.sim.time_scale = 1.0;
        let text = serde_json::to_string(&shape).unwrap();
        let whole = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        assert_eq!(fingerprint(&env), format!("{whole:016x}"));
    }
}
