//! Replication lag as AWS metrics show it: a small noisy baseline with
//! occasional spikes that decay, different for each replication mechanism.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::rng::SimRng;

/// Shape of one mechanism's lag, in seconds, per one-second tick.
#[derive(Debug, PartialEq)]
pub(super) struct LagProfile {
    /// Baseline mean; each tick draws uniformly from half to one and a half times it.
    pub base_mean: f64,
    /// Chance per tick that a spike starts.
    pub spike_chance: f64,
    pub spike_min: f64,
    pub spike_max: f64,
    /// Share of a spike left after one tick.
    pub decay: f64,
}

/// Aurora global storage replication: typically well under a second.
pub(super) const AURORA_GLOBAL: LagProfile = LagProfile {
    base_mean: 0.12,
    spike_chance: 1.0 / 240.0,
    spike_min: 2.0,
    spike_max: 8.0,
    decay: 0.9,
};

/// RDS cross-region read replica (`ReplicaLag`): seconds, spikier.
pub(super) const RDS_REPLICA: LagProfile = LagProfile {
    base_mean: 1.5,
    spike_chance: 1.0 / 300.0,
    spike_min: 15.0,
    spike_max: 90.0,
    decay: 0.96,
};

/// S3 cross-region replication (`ReplicationLatency`): seconds to minutes.
pub(super) const S3_REPLICATION: LagProfile = LagProfile {
    base_mean: 12.0,
    spike_chance: 1.0 / 600.0,
    spike_min: 60.0,
    spike_max: 360.0,
    decay: 0.985,
};

/// The profiles by the names a saved world calls them.
const PROFILES: [(&str, &LagProfile); 3] = [
    ("aurora-global", &AURORA_GLOBAL),
    ("rds-replica", &RDS_REPLICA),
    ("s3-replication", &S3_REPLICATION),
];

/// Longest lag a saved world may hold, in seconds (a year): beyond it the
/// file was not written by the simulator.
const MAX_SAVED_LAG: f64 = 365.0 * 86_400.0;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LagProcess {
    #[serde(with = "profile_name")]
    profile: &'static LagProfile,
    base: f64,
    spike: f64,
    /// Replication has stopped: `stalled` grows a second every second.
    #[serde(default)]
    stopped: bool,
    #[serde(default)]
    stalled: f64,
}

impl LagProcess {
    pub(super) fn new(profile: &'static LagProfile) -> Self {
        Self {
            profile,
            base: profile.base_mean,
            spike: 0.0,
            stopped: false,
            stalled: 0.0,
        }
    }

    pub(super) fn tick(&mut self, rng: &mut SimRng) {
        let p = self.profile;
        self.spike *= p.decay;
        if self.spike < 0.01 {
            self.spike = 0.0;
        }
        if rng.random::<f64>() < p.spike_chance {
            self.spike += rng.random_range(p.spike_min..p.spike_max);
        }
        self.base = p.base_mean * rng.random_range(0.5..1.5);
        if self.stopped {
            self.stalled = (self.stalled + 1.0).min(MAX_SAVED_LAG);
        }
    }

    /// Current lag in seconds.
    pub(super) fn seconds(&self) -> f64 {
        self.base + self.spike + self.stalled
    }

    pub(super) fn stop(&mut self) {
        self.stopped = true;
    }

    /// Replication resumes: the backlog drains as a spike does.
    pub(super) fn resume(&mut self) {
        self.stopped = false;
        self.spike += self.stalled;
        self.stalled = 0.0;
    }

    pub(super) fn add_spike(&mut self, seconds: f64) {
        self.spike += seconds;
    }

    pub(super) fn end_spike(&mut self) {
        self.spike = 0.0;
    }

    /// Whether both parts are lags the process could have reached.
    pub(super) fn is_plausible(&self) -> bool {
        [self.base, self.spike, self.stalled]
            .iter()
            .all(|s| (0.0..=MAX_SAVED_LAG).contains(s))
    }
}

/// A profile is saved by name: the numbers belong to the code, not the file.
mod profile_name {
    use serde::{Deserialize, Deserializer, Serializer, de};

    use super::{LagProfile, PROFILES};

    pub fn serialize<S: Serializer>(p: &&'static LagProfile, s: S) -> Result<S::Ok, S::Error> {
        let name = PROFILES
            .iter()
            .find(|(_, profile)| std::ptr::eq(*profile, *p) || *profile == *p)
            .map_or("unknown", |(name, _)| name);
        s.serialize_str(name)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'static LagProfile, D::Error> {
        let name = String::deserialize(d)?;
        PROFILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, p)| *p)
            .ok_or_else(|| {
                let known: Vec<&str> = PROFILES.iter().map(|(n, _)| *n).collect();
                de::Error::custom(format!(
                    "unknown lag profile `{name}`; expected one of {}",
                    known.join(", ")
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(profile: &'static LagProfile, ticks: usize) -> Vec<f64> {
        let mut rng = SimRng::seeded(7);
        let mut lag = LagProcess::new(profile);
        (0..ticks)
            .map(|_| {
                lag.tick(&mut rng);
                lag.seconds()
            })
            .collect()
    }

    #[test]
    fn aurora_lag_is_mostly_under_a_second_with_some_spikes() {
        let samples = run(&AURORA_GLOBAL, 20_000);
        let under = samples.iter().filter(|s| **s < 1.0).count();
        assert!(under as f64 > 0.9 * samples.len() as f64, "{under}");
        assert!(samples.iter().any(|s| *s > 2.0), "no spike in 20k ticks");
        assert!(samples.iter().all(|s| *s > 0.0 && *s < 60.0));
    }

    #[test]
    fn s3_lag_is_seconds_to_minutes() {
        let samples = run(&S3_REPLICATION, 20_000);
        let median = {
            let mut s = samples.clone();
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        };
        assert!((5.0..60.0).contains(&median), "{median}");
        assert!(samples.iter().any(|s| *s > 60.0));
    }

    #[test]
    fn stopped_replication_falls_behind_until_it_resumes() {
        let mut rng = SimRng::seeded(1);
        let mut lag = LagProcess::new(&AURORA_GLOBAL);
        lag.stop();
        for _ in 0..300 {
            lag.tick(&mut rng);
        }
        assert!(lag.seconds() >= 300.0, "{}", lag.seconds());
        lag.resume();
        let backlog = lag.seconds();
        for _ in 0..60 {
            lag.tick(&mut rng);
        }
        assert!(lag.seconds() < backlog / 2.0);
    }

    #[test]
    fn an_injected_spike_decays() {
        let mut rng = SimRng::seeded(1);
        let mut lag = LagProcess::new(&AURORA_GLOBAL);
        lag.add_spike(30.0);
        assert!(lag.seconds() >= 30.0);
        for _ in 0..120 {
            lag.tick(&mut rng);
        }
        assert!(lag.seconds() < 30.0);
        lag.end_spike();
        assert!(lag.seconds() <= AURORA_GLOBAL.base_mean * 1.5);
    }
}
