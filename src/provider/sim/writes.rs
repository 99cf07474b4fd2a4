//! Ground truth about the demo application's data: it writes at a steady
//! rate to every database that accepts writes, and the ledger keeps when
//! each one did. A promotion that allows data loss loses exactly the
//! writes its source accepted after the point the promoted copy had
//! replicated to; the ledger counts them rather than estimating them from
//! a lag metric. Nothing here reaches an observation.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use rustc_hash::FxHashMap as HashMap;
use serde::{Deserialize, Serialize};

use crate::provider::fault::{GroundTruth, LostWrites};

/// The demo application's steady write rate. It divides 1000, so writes
/// fall on whole milliseconds: write `k` of a second `s` is at
/// `s - 1 + k / WRITES_PER_SECOND`.
pub(super) const WRITES_PER_SECOND: u32 = 20;
const WRITE_INTERVAL_MS: i64 = 1000 / WRITES_PER_SECOND as i64;
/// A world running for months changes writers only a few times a day;
/// beyond this many periods the oldest are forgotten.
const MAX_SEGMENTS: usize = 10_000;
const MAX_LOSSES: usize = 1_000;

/// Consecutive seconds during which one database accepted writes: the
/// writes in `(from - 1 s, to]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Segment {
    resource: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WriteLedger {
    accepted: u64,
    segments: VecDeque<Segment>,
    losses: Vec<LostWrites>,
    /// Each resource's newest segment, by its number since the ledger was
    /// made or read (`forgotten` plus its position): every writer accepts
    /// every second, so finding its segment by a search would make each
    /// simulated second quadratic in the estate. Rebuilt after a resume.
    #[serde(skip)]
    newest: HashMap<String, u64>,
    /// Segments dropped from the front since `newest` was built.
    #[serde(skip)]
    forgotten: u64,
}

impl WriteLedger {
    /// `resource` accepted the writes of the second ending at `now`.
    #[cfg(test)]
    fn accept(&mut self, resource: &str, now: DateTime<Utc>) {
        self.accept_through(resource, now, now);
    }

    /// `resource` accepted the writes of every second from the one ending
    /// at `from` to the one ending at `now`.
    pub(super) fn accept_through(
        &mut self,
        resource: &str,
        from: DateTime<Utc>,
        now: DateTime<Utc>,
    ) {
        let seconds = u64::try_from((now - from).num_seconds() + 1).unwrap_or(0);
        self.accepted = self
            .accepted
            .saturating_add(u64::from(WRITES_PER_SECOND).saturating_mul(seconds));
        let previous = from - Duration::seconds(1);
        if self.newest.is_empty() && !self.segments.is_empty() {
            self.index_segments();
        }
        if let Some(&number) = self.newest.get(resource)
            && let Some(position) = number.checked_sub(self.forgotten)
            && let Some(segment) = usize::try_from(position)
                .ok()
                .and_then(|p| self.segments.get_mut(p))
            && segment.to == previous
        {
            segment.to = now;
            return;
        }
        if self.segments.len() >= MAX_SEGMENTS
            && let Some(oldest) = self.segments.pop_front()
        {
            self.forgotten += 1;
            if self.newest.get(&oldest.resource) == Some(&(self.forgotten - 1)) {
                self.newest.remove(&oldest.resource);
            }
        }
        let number = self.forgotten + self.segments.len() as u64;
        self.newest.insert(resource.to_string(), number);
        self.segments.push_back(Segment {
            resource: resource.to_string(),
            from,
            to: now,
        });
    }

    /// `newest` for segments read from a saved world.
    fn index_segments(&mut self) {
        self.forgotten = 0;
        self.newest = self
            .segments
            .iter()
            .enumerate()
            .map(|(i, s)| (s.resource.clone(), i as u64))
            .collect();
    }

    /// Records the promotion of `promoted` at `now`: the writes `source`
    /// accepted after `replicated_to` never reached it. `None` for a
    /// promotion that loses nothing (a switchover).
    pub(super) fn promoted(
        &mut self,
        promoted: &str,
        now: DateTime<Utc>,
        lost: Option<(&str, DateTime<Utc>)>,
    ) {
        let mut entry = LostWrites {
            promoted: promoted.to_string(),
            at: now,
            count: 0,
            first: None,
            last: None,
        };
        if let Some((source, replicated_to)) = lost {
            for s in self.segments.iter().filter(|s| s.resource == source) {
                let lo = replicated_to.max(s.from - Duration::seconds(1));
                let hi = now.min(s.to);
                let Some((count, first, last)) = writes_between(lo, hi) else {
                    continue;
                };
                entry.count += count;
                entry.first = Some(entry.first.map_or(first, |f| f.min(first)));
                entry.last = Some(entry.last.map_or(last, |l| l.max(last)));
            }
        }
        if self.losses.len() >= MAX_LOSSES {
            self.losses.remove(0);
        }
        self.losses.push(entry);
    }

    pub(super) fn truth(&self) -> GroundTruth {
        GroundTruth {
            writes_per_second: WRITES_PER_SECOND,
            writes_accepted: self.accepted,
            losses: self.losses.clone(),
        }
    }

    /// Whether a saved ledger is one the simulator could have kept.
    pub(super) fn is_plausible(&self) -> bool {
        self.segments.len() <= MAX_SEGMENTS
            && self.losses.len() <= MAX_LOSSES
            && self.segments.iter().all(|s| s.from <= s.to)
    }
}

/// The writes falling in `(lo, hi]`: how many, the first and the last.
fn writes_between(
    lo: DateTime<Utc>,
    hi: DateTime<Utc>,
) -> Option<(u64, DateTime<Utc>, DateTime<Utc>)> {
    let first_slot = lo.timestamp_millis().div_euclid(WRITE_INTERVAL_MS) + 1;
    let last_slot = hi.timestamp_millis().div_euclid(WRITE_INTERVAL_MS);
    if last_slot < first_slot {
        return None;
    }
    let at = |slot: i64| DateTime::<Utc>::from_timestamp_millis(slot * WRITE_INTERVAL_MS);
    Some((
        u64::try_from(last_slot - first_slot + 1).ok()?,
        at(first_slot)?,
        at(last_slot)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[test]
    fn writes_not_yet_replicated_are_counted_to_the_write() {
        let mut ledger = WriteLedger::default();
        for s in 1..=10 {
            ledger.accept("east", at(s));
        }
        // Replicated up to 7.5 s; the writer took writes until 10 s.
        let replicated = at(7) + Duration::milliseconds(500);
        ledger.promoted("west", at(12), Some(("east", replicated)));
        let loss = &ledger.truth().losses[0];
        assert_eq!(loss.count, 50);
        assert_eq!(loss.first, Some(replicated + Duration::milliseconds(50)));
        assert_eq!(loss.last, Some(at(10)));
        assert_eq!(
            loss.span(WRITES_PER_SECOND),
            std::time::Duration::from_millis(2500)
        );
        assert_eq!(ledger.truth().writes_accepted, 200);
    }

    #[test]
    fn a_gap_in_writing_loses_nothing_and_other_writers_do_not_count() {
        let mut ledger = WriteLedger::default();
        for s in 1..=3 {
            ledger.accept("east", at(s));
        }
        for s in 6..=8 {
            ledger.accept("east", at(s));
            ledger.accept("other", at(s));
        }
        ledger.promoted("west", at(9), Some(("east", at(4))));
        assert_eq!(ledger.truth().losses[0].count, 60);
        ledger.promoted("west", at(9), Some(("east", at(8))));
        assert_eq!(ledger.truth().losses[1].count, 0);
        assert_eq!(ledger.truth().losses[1].first, None);
    }

    #[test]
    fn each_writer_extends_its_own_segment_past_the_cap_and_after_a_resume() {
        let mut ledger = WriteLedger::default();
        let writers: Vec<String> = (0..MAX_SEGMENTS / 2).map(|i| format!("db{i}")).collect();
        for s in 1..=3 {
            for w in &writers {
                ledger.accept(w, at(s));
            }
        }
        assert_eq!(ledger.segments.len(), writers.len());
        // A gap starts a second segment for everyone: the cap drops the
        // oldest, and writers keep extending their newest one.
        for s in 5..=6 {
            for w in &writers {
                ledger.accept(w, at(s));
            }
        }
        for w in &writers {
            ledger.accept(w, at(8));
        }
        assert_eq!(ledger.segments.len(), MAX_SEGMENTS);
        let text = serde_json::to_string(&ledger).unwrap();
        let mut resumed: WriteLedger = serde_json::from_str(&text).unwrap();
        for w in &writers {
            resumed.accept(w, at(9));
        }
        assert_eq!(resumed.segments.len(), MAX_SEGMENTS);
        resumed.promoted("west", at(10), Some(("db0", at(7))));
        // db0 wrote in (7, 9]: 40 writes, all in the segment kept whole.
        assert_eq!(resumed.truth().losses[0].count, 40);
    }

    #[test]
    fn a_switchover_loses_none() {
        let mut ledger = WriteLedger::default();
        ledger.accept("east", at(1));
        ledger.promoted("west", at(2), None);
        assert_eq!(ledger.truth().losses[0].count, 0);
    }

    #[test]
    fn a_span_of_seconds_is_ledgered_as_each_of_its_seconds_would_be() {
        let mut by_second = WriteLedger::default();
        let mut spanned = WriteLedger::default();
        for s in 1..=60 {
            by_second.accept("east", at(s));
            by_second.accept("west", at(s));
        }
        spanned.accept_through("east", at(1), at(60));
        spanned.accept_through("west", at(1), at(60));
        for s in 61..=65 {
            for ledger in [&mut by_second, &mut spanned] {
                ledger.accept("east", at(s));
            }
        }
        assert_eq!(
            serde_json::to_string(&by_second).unwrap(),
            serde_json::to_string(&spanned).unwrap()
        );
    }
}
