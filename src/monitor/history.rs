//! Bounded replication-lag history for sparklines.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

/// Samples kept per resource: two minutes at a one-second poll.
pub const DEFAULT_CAPACITY: usize = 120;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LagSample {
    pub at: DateTime<Utc>,
    pub seconds: f64,
}

/// A ring buffer of the newest samples, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct LagHistory {
    capacity: usize,
    samples: VecDeque<LagSample>,
}

impl LagHistory {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            samples: VecDeque::with_capacity(capacity),
        }
    }

    /// Adds a sample, dropping the oldest when full. A sample not newer than
    /// the last one (the same reading seen twice) is ignored so the line
    /// shows time, not repeats.
    pub fn push(&mut self, sample: LagSample) {
        if self.capacity == 0 || self.latest().is_some_and(|last| sample.at <= last.at) {
            return;
        }
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    pub fn latest(&self) -> Option<&LagSample> {
        self.samples.back()
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LagSample> + ExactSizeIterator {
        self.samples.iter()
    }

    /// The newest `n` samples, oldest first.
    pub fn newest(&self, n: usize) -> impl Iterator<Item = &LagSample> {
        self.samples
            .iter()
            .skip(self.samples.len().saturating_sub(n))
    }

    pub fn max_seconds(&self) -> Option<f64> {
        self.samples.iter().map(|s| s.seconds).reduce(f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + second, 0).unwrap()
    }

    #[test]
    fn keeps_only_the_newest_samples() {
        let mut h = LagHistory::new(3);
        for s in 0..10 {
            h.push(LagSample {
                at: at(s),
                seconds: s as f64,
            });
        }
        assert_eq!(h.len(), 3);
        let kept: Vec<f64> = h.iter().map(|s| s.seconds).collect();
        assert_eq!(kept, vec![7.0, 8.0, 9.0]);
        assert_eq!(h.max_seconds(), Some(9.0));
    }

    #[test]
    fn a_repeated_reading_is_not_a_new_sample() {
        let mut h = LagHistory::new(5);
        h.push(LagSample {
            at: at(1),
            seconds: 0.5,
        });
        h.push(LagSample {
            at: at(1),
            seconds: 0.5,
        });
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn newest_takes_from_the_end() {
        let mut h = LagHistory::new(10);
        for s in 0..6 {
            h.push(LagSample {
                at: at(s),
                seconds: s as f64,
            });
        }
        let tail: Vec<f64> = h.newest(2).map(|s| s.seconds).collect();
        assert_eq!(tail, vec![4.0, 5.0]);
        assert_eq!(h.newest(100).count(), 6);
    }
}
