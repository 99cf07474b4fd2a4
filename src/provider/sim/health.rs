//! Route 53 health checks as their checker fleet sees them.
//!
//! Each checker location probes the endpoint once per request interval, at
//! its own offset within it, and applies the failure threshold to its own
//! consecutive results. Route 53 calls the endpoint healthy while more than
//! 18 % of checkers do; a disabled check is always healthy; an inverted one
//! reports the opposite.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::rng::SimRng;
use crate::domain::snapshot::Health;

/// Checker locations probing each endpoint (AWS uses about this many).
pub(super) const CHECKERS: u32 = 16;
/// Seconds between two probes of one checker (a "fast" health check).
pub(super) const REQUEST_INTERVAL: i64 = 10;
/// Share of checkers that must see the endpoint healthy.
const HEALTHY_SHARE: f64 = 0.18;
/// Chance per probe that the network between one checker and the endpoint
/// degrades for [`BLIP_SECONDS`], so that checker alone sees failures.
const BLIP_CHANCE: f64 = 1.0 / 2500.0;
const BLIP_SECONDS: i64 = 60;
/// Checkers see an outage at different moments, up to this many seconds late.
const MAX_NOTICE_DELAY: i64 = 20;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HealthCheck {
    pub id: String,
    pub region: usize,
    pub fqdn: String,
    pub failure_threshold: u32,
    pub disabled: bool,
    pub inverted: bool,
    /// While flapping, the endpoint is unreachable every other period of
    /// this many seconds.
    #[serde(default)]
    pub flap_period: Option<u32>,
    checkers: Vec<Checker>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checker {
    offset: i64,
    notice_delay: i64,
    healthy: bool,
    streak: u32,
    /// This checker's own network trouble lasts until this second.
    blip_until: i64,
}

impl HealthCheck {
    pub(super) fn new(
        id: String,
        region: usize,
        fqdn: String,
        failure_threshold: u32,
        rng: &mut SimRng,
    ) -> Self {
        let checkers = (0..CHECKERS)
            .map(|_| Checker {
                offset: rng.random_range(0..REQUEST_INTERVAL),
                notice_delay: rng.random_range(0..=MAX_NOTICE_DELAY),
                healthy: true,
                streak: 0,
                blip_until: i64::MIN,
            })
            .collect();
        Self {
            id,
            region,
            fqdn,
            failure_threshold,
            disabled: false,
            inverted: false,
            flap_period: None,
            checkers,
        }
    }

    /// One second of probing; `outage` is when the endpoint's region failed
    /// and the percentage of checkers that see it (the first ones: which
    /// locations lose their route to a region does not change mid-outage).
    pub(super) fn tick(
        &mut self,
        now: DateTime<Utc>,
        outage: Option<(DateTime<Utc>, u8)>,
        rng: &mut SimRng,
    ) {
        let second = now.timestamp();
        let threshold = self.failure_threshold.max(1);
        let flapped_off = self
            .flap_period
            .is_some_and(|p| second.div_euclid(i64::from(p.max(1))) % 2 == 1);
        for (index, checker) in self.checkers.iter_mut().enumerate() {
            if second.rem_euclid(REQUEST_INTERVAL) != checker.offset {
                continue;
            }
            let sees_outage = |percent: u8| index * 100 < usize::from(percent) * CHECKERS as usize;
            let reachable = !flapped_off
                && outage.is_none_or(|(since, percent)| {
                    !sees_outage(percent) || (now - since).num_seconds() < checker.notice_delay
                });
            if rng.random::<f64>() < BLIP_CHANCE {
                checker.blip_until = second.saturating_add(BLIP_SECONDS);
            }
            let ok = reachable && second >= checker.blip_until;
            if ok == checker.healthy {
                checker.streak = 0;
            } else {
                checker.streak += 1;
                if checker.streak >= threshold {
                    checker.healthy = ok;
                    checker.streak = 0;
                }
            }
        }
    }

    /// Whether the checkers are ones [`HealthCheck::new`] and `tick` could
    /// have left: a saved world is checked before it is trusted.
    pub(super) fn is_plausible(&self) -> bool {
        let threshold = self.failure_threshold.max(1);
        self.checkers.len() == CHECKERS as usize
            && self.checkers.iter().all(|c| {
                (0..REQUEST_INTERVAL).contains(&c.offset)
                    && (0..=MAX_NOTICE_DELAY).contains(&c.notice_delay)
                    && c.streak < threshold
            })
    }

    pub(super) fn checkers_healthy(&self) -> u32 {
        self.checkers.iter().filter(|c| c.healthy).count() as u32
    }

    pub(super) fn status(&self) -> Health {
        if self.disabled {
            return Health::Healthy;
        }
        let share = f64::from(self.checkers_healthy()) / f64::from(CHECKERS);
        let healthy = (share > HEALTHY_SHARE) != self.inverted;
        if healthy {
            Health::Healthy
        } else {
            Health::Unhealthy
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(check: &mut HealthCheck, from: i64, seconds: i64, down: Option<i64>, rng: &mut SimRng) {
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap();
        for s in from..from + seconds {
            check.tick(at(s), down.map(|d| (at(d), 100)), rng);
        }
    }

    #[test]
    fn an_outage_turns_checkers_unhealthy_one_by_one() {
        let mut rng = SimRng::seeded(3);
        let mut check = HealthCheck::new("hc".into(), 0, "x".into(), 3, &mut rng);
        run(&mut check, 0, 300, None, &mut rng);
        assert_eq!(check.status(), Health::Healthy);
        assert!(check.checkers_healthy() >= CHECKERS - 1);

        // Three failures at ten-second intervals cannot happen in 20 s.
        run(&mut check, 300, 20, Some(300), &mut rng);
        assert_eq!(check.checkers_healthy(), CHECKERS);
        let mut counts = Vec::new();
        for start in (320..400).step_by(5) {
            run(&mut check, start, 5, Some(300), &mut rng);
            counts.push(check.checkers_healthy());
        }
        assert_eq!(*counts.last().unwrap(), 0);
        assert!(counts.iter().any(|c| *c > 0 && *c < CHECKERS), "{counts:?}");
        assert_eq!(check.status(), Health::Unhealthy);

        run(&mut check, 400, 60, None, &mut rng);
        assert_eq!(check.status(), Health::Healthy);
    }

    #[test]
    fn single_checkers_blip_without_changing_the_status() {
        let mut rng = SimRng::seeded(5);
        let mut check = HealthCheck::new("hc".into(), 0, "x".into(), 3, &mut rng);
        let mut fewest = CHECKERS;
        for minute in 0..600 {
            run(&mut check, minute * 60, 60, None, &mut rng);
            fewest = fewest.min(check.checkers_healthy());
            assert_eq!(check.status(), Health::Healthy);
        }
        assert!((CHECKERS - 3..CHECKERS).contains(&fewest), "{fewest}");
    }

    #[test]
    fn a_partial_outage_fails_only_its_share_of_checkers() {
        let mut rng = SimRng::seeded(3);
        let mut check = HealthCheck::new("hc".into(), 0, "x".into(), 3, &mut rng);
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap();
        for s in 0..300 {
            check.tick(at(s), Some((at(0), 50)), &mut rng);
        }
        assert!(
            (8..=9).contains(&check.checkers_healthy()),
            "{}",
            check.checkers_healthy()
        );
        assert_eq!(check.status(), Health::Healthy);
        for s in 300..600 {
            check.tick(at(s), Some((at(0), 90)), &mut rng);
        }
        assert!(check.checkers_healthy() <= 2);
        assert_eq!(check.status(), Health::Unhealthy);
    }

    #[test]
    fn a_flapping_check_turns_unhealthy_and_back() {
        let mut rng = SimRng::seeded(4);
        let mut check = HealthCheck::new("hc".into(), 0, "x".into(), 3, &mut rng);
        check.flap_period = Some(120);
        let at = |s: i64| DateTime::<Utc>::from_timestamp(s, 0).unwrap();
        let mut statuses = Vec::new();
        for s in 0..1200 {
            check.tick(at(s), None, &mut rng);
            if s % 60 == 59 {
                statuses.push(check.status());
            }
        }
        let changes = statuses.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(changes >= 6, "{statuses:?}");
        check.flap_period = None;
        for s in 1200..1400 {
            check.tick(at(s), None, &mut rng);
        }
        assert_eq!(check.status(), Health::Healthy);
    }

    #[test]
    fn disabled_is_healthy_and_inverted_is_the_opposite() {
        let mut rng = SimRng::seeded(3);
        let mut check = HealthCheck::new("hc".into(), 0, "x".into(), 1, &mut rng);
        run(&mut check, 0, 60, Some(0), &mut rng);
        assert_eq!(check.status(), Health::Unhealthy);
        check.inverted = true;
        assert_eq!(check.status(), Health::Healthy);
        check.inverted = false;
        check.disabled = true;
        assert_eq!(check.status(), Health::Healthy);
    }
}
