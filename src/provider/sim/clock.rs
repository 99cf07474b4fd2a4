//! The simulated world's clock: driven by hand in tests, or running at a
//! multiple of real time in the console.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

#[derive(Debug, Clone)]
pub(super) enum SimClock {
    /// Moves only when told to; tests never sleep.
    Manual { now: DateTime<Utc> },
    /// `scale` simulated seconds pass per real second since `real_origin`.
    Scaled {
        real_origin: Instant,
        sim_origin: DateTime<Utc>,
        scale: f64,
    },
}

impl SimClock {
    pub(super) fn now(&self) -> DateTime<Utc> {
        match self {
            SimClock::Manual { now } => *now,
            SimClock::Scaled {
                real_origin,
                sim_origin,
                scale,
            } => {
                let elapsed = real_origin.elapsed().as_secs_f64() * scale;
                later(
                    *sim_origin,
                    to_chrono(Duration::try_from_secs_f64(elapsed).unwrap_or(Duration::MAX)),
                )
            }
        }
    }

    /// Jumps the clock forward, on top of whatever it does by itself.
    pub(super) fn skip(&mut self, by: Duration) {
        match self {
            SimClock::Manual { now } => *now = later(*now, to_chrono(by)),
            SimClock::Scaled { sim_origin, .. } => *sim_origin = later(*sim_origin, to_chrono(by)),
        }
    }

    /// Changes the speed from now on without a jump in simulated time.
    pub(super) fn set_scale(&mut self, new_scale: f64) {
        let now = self.now();
        if let SimClock::Scaled {
            real_origin,
            sim_origin,
            scale,
        } = self
        {
            *real_origin = Instant::now();
            *sim_origin = now;
            *scale = new_scale;
        }
    }
}

/// `t + d`, stopping at the end of representable time instead of panicking.
pub(super) fn later(t: DateTime<Utc>, d: chrono::Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Saturates instead of failing: a simulated clock ten thousand years ahead
/// is a bad input, not a reason to panic.
pub(super) fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_skipped() {
        let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let mut clock = SimClock::Manual { now: start };
        assert_eq!(clock.now(), start);
        clock.skip(Duration::from_secs(90));
        assert_eq!(clock.now(), start + chrono::Duration::seconds(90));
    }

    #[test]
    fn an_absurd_skip_saturates() {
        let mut clock = SimClock::Manual { now: Utc::now() };
        clock.skip(Duration::MAX);
        clock.skip(Duration::MAX);
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn a_scaled_clock_runs_ahead_of_its_origin() {
        let start = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        let mut clock = SimClock::Scaled {
            real_origin: Instant::now(),
            sim_origin: start,
            scale: 1000.0,
        };
        assert!(clock.now() >= start);
        clock.skip(Duration::from_secs(3600));
        assert!(clock.now() >= start + chrono::Duration::hours(1));
        clock.set_scale(1.0);
        assert!(clock.now() >= start + chrono::Duration::hours(1));
    }
}
