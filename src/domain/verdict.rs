//! The verdict scale every objective is judged on, and the hysteresis that
//! keeps a verdict from flapping at a boundary.

use std::time::Duration;

use serde::Serialize;

/// Share of an objective above which exposure counts as at risk.
pub const AT_RISK_FRACTION: f64 = 0.5;

/// Polls a better value must hold before it is shown: worse news is shown
/// at once, better news once it has lasted.
pub const IMPROVE_AFTER_POLLS: u32 = 2;

/// Ordered from best to worst, so the worse of two is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    AtRisk,
    Unknown,
    /// No copy outside the writer's region within the RPO (after a
    /// failover, until the old primary has rejoined).
    Unprotected,
    Breach,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::AtRisk => "AT RISK",
            Verdict::Unknown => "UNKNOWN",
            Verdict::Unprotected => "UNPROTECTED",
            Verdict::Breach => "BREACH",
        }
    }

    /// Exposure against an objective.
    pub fn of(exposure: Option<Duration>, objective: Duration) -> Verdict {
        match exposure {
            None => Verdict::Unknown,
            Some(e) if e > objective => Verdict::Breach,
            Some(e) if e.as_secs_f64() > objective.as_secs_f64() * AT_RISK_FRACTION => {
                Verdict::AtRisk
            }
            Some(_) => Verdict::Ok,
        }
    }
}

/// A value shown with hysteresis: it worsens at once and improves only
/// after the better value has been seen for [`IMPROVE_AFTER_POLLS`] polls
/// in a row.
#[derive(Debug, Clone, PartialEq)]
pub struct Held<T> {
    shown: T,
    /// A better value seen, the time it was first seen, and how many polls
    /// in a row it has been seen.
    pending: Option<(T, chrono::DateTime<chrono::Utc>, u32)>,
}

impl<T: Ord + Copy> Held<T> {
    pub fn new(value: T) -> Self {
        Self {
            shown: value,
            pending: None,
        }
    }

    pub fn shown(&self) -> T {
        self.shown
    }

    /// A better value waiting to be shown, and the polls it has held.
    pub fn pending(&self) -> Option<(T, u32)> {
        self.pending.map(|(v, _, n)| (v, n))
    }

    /// Takes one poll's value. Returns the time the shown value changed,
    /// when it did: for an improvement, the poll that first saw it.
    pub fn observe(
        &mut self,
        value: T,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        if value >= self.shown {
            self.pending = None;
            if value > self.shown {
                self.shown = value;
                return Some(at);
            }
            return None;
        }
        let (first_seen, polls) = match self.pending {
            // A still better value continues the improvement streak.
            Some((_, since, n)) => (since, n + 1),
            None => (at, 1),
        };
        // The streak's value is the worst of the better values seen.
        let candidate = self.pending.map_or(value, |(v, _, _)| v.max(value));
        if polls >= IMPROVE_AFTER_POLLS {
            self.shown = candidate;
            self.pending = None;
            Some(first_seen)
        } else {
            self.pending = Some((candidate, first_seen, polls));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + s, 0).unwrap()
    }

    #[test]
    fn the_scale_is_half_the_objective_then_the_objective() {
        let rpo = Duration::from_secs(300);
        assert_eq!(
            Verdict::of(Some(Duration::from_secs(150)), rpo),
            Verdict::Ok
        );
        assert_eq!(
            Verdict::of(Some(Duration::from_secs(151)), rpo),
            Verdict::AtRisk
        );
        assert_eq!(
            Verdict::of(Some(Duration::from_secs(301)), rpo),
            Verdict::Breach
        );
        assert_eq!(Verdict::of(None, rpo), Verdict::Unknown);
    }

    #[test]
    fn worse_shows_at_once_better_only_after_two_polls() {
        let mut v = Held::new(Verdict::Ok);
        assert_eq!(v.observe(Verdict::Breach, at(1)), Some(at(1)));
        assert_eq!(v.shown(), Verdict::Breach);
        assert_eq!(v.observe(Verdict::Ok, at(2)), None);
        assert_eq!(v.shown(), Verdict::Breach, "one good poll is not enough");
        assert_eq!(v.pending(), Some((Verdict::Ok, 1)));
        assert_eq!(
            v.observe(Verdict::Ok, at(3)),
            Some(at(2)),
            "dated from the first good poll"
        );
        assert_eq!(v.shown(), Verdict::Ok);
    }

    #[test]
    fn a_relapse_restarts_the_streak() {
        let mut v = Held::new(Verdict::Breach);
        v.observe(Verdict::Ok, at(1));
        v.observe(Verdict::Breach, at(2));
        assert_eq!(v.pending(), None);
        v.observe(Verdict::Ok, at(3));
        assert_eq!(v.shown(), Verdict::Breach);
        v.observe(Verdict::AtRisk, at(4));
        assert_eq!(
            v.shown(),
            Verdict::AtRisk,
            "the streak shows the worst it saw"
        );
    }

    #[test]
    fn alternating_verdicts_never_flap() {
        let mut v = Held::new(Verdict::Ok);
        let mut shown = Vec::new();
        for t in 0..20 {
            let raw = if t % 2 == 0 {
                Verdict::AtRisk
            } else {
                Verdict::Ok
            };
            v.observe(raw, at(t));
            shown.push(v.shown());
        }
        assert!(shown.iter().all(|s| *s == Verdict::AtRisk), "{shown:?}");
    }
}
