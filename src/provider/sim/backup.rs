//! Automated backups: a daily snapshot in the backup window and continuous
//! backup for point-in-time restore, whose latest restorable time trails
//! the present by a few minutes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::snapshot::BackupObs;

const DAY: i64 = 86_400;
/// Transaction logs reach backup storage every five minutes.
const LOG_UPLOAD_INTERVAL: i64 = 300;
/// Least distance between now and the latest restorable time.
const MIN_PITR_DELAY: i64 = 60;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BackupPlan {
    /// 0 disables automated backups (as on an RDS read replica).
    pub retention_days: u32,
    pub cross_region_copy: bool,
    /// Seconds after midnight UTC of the daily snapshot.
    pub snapshot_second: i64,
    /// Phase of the log upload cycle, so resources do not move in step.
    pub upload_phase: i64,
    /// Nothing is restorable from before this (creation or promotion).
    pub since: DateTime<Utc>,
    /// Backups silently stopped at this moment: nothing newer is taken.
    #[serde(default)]
    pub stopped_at: Option<DateTime<Utc>>,
}

impl BackupPlan {
    /// Whether the schedule is one the simulator could have drawn, so its
    /// arithmetic stays within a day and an upload cycle.
    pub(super) fn is_plausible(&self) -> bool {
        (0..DAY).contains(&self.snapshot_second)
            && (0..LOG_UPLOAD_INTERVAL).contains(&self.upload_phase)
    }

    /// What AWS reports at `as_of`: the present, or the moment the resource
    /// became unreachable (nothing new is backed up after that).
    pub(super) fn observe(&self, as_of: DateTime<Utc>) -> BackupObs {
        let as_of = self.stopped_at.map_or(as_of, |stopped| as_of.min(stopped));
        if self.retention_days == 0 || as_of < self.since {
            return BackupObs {
                retention_days: self.retention_days,
                cross_region_copy: self.cross_region_copy,
                ..BackupObs::default()
            };
        }
        let t = as_of.timestamp();
        let pitr_delay = MIN_PITR_DELAY + (t + self.upload_phase).rem_euclid(LOG_UPLOAD_INTERVAL);
        // AWS reports whole seconds.
        let latest_restorable = DateTime::<Utc>::from_timestamp(t - pitr_delay, 0)
            .unwrap_or(as_of)
            .max(self.since);
        let day_start = t - t.rem_euclid(DAY);
        let mut scheduled = day_start + self.snapshot_second;
        if scheduled > t {
            scheduled -= DAY;
        }
        // The first backup is taken when the resource starts to be backed up.
        let newest_snapshot = DateTime::<Utc>::from_timestamp(scheduled, 0)
            .filter(|s| *s >= self.since)
            .unwrap_or(self.since);
        BackupObs {
            latest_restorable: Some(latest_restorable),
            retention_days: self.retention_days,
            newest_snapshot: Some(newest_snapshot),
            cross_region_copy: self.cross_region_copy,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn plan(since: DateTime<Utc>) -> BackupPlan {
        BackupPlan {
            retention_days: 35,
            cross_region_copy: false,
            snapshot_second: 3 * 3600 + 600,
            upload_phase: 17,
            since,
            stopped_at: None,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn pitr_trails_now_by_a_few_minutes() {
        let p = plan(at("2026-01-01T00:00:00Z"));
        for minute in 0..60 {
            let now = at("2026-03-01T12:00:00Z") + Duration::minutes(minute);
            let obs = p.observe(now);
            let behind = now - obs.latest_restorable.unwrap();
            assert!(behind >= Duration::seconds(60) && behind < Duration::seconds(360));
        }
    }

    #[test]
    fn the_newest_snapshot_is_the_last_backup_window() {
        let p = plan(at("2026-01-01T00:00:00Z"));
        let before = p.observe(at("2026-03-01T03:05:00Z"));
        assert_eq!(before.newest_snapshot, Some(at("2026-02-28T03:10:00Z")));
        let after = p.observe(at("2026-03-01T03:15:00Z"));
        assert_eq!(after.newest_snapshot, Some(at("2026-03-01T03:10:00Z")));
    }

    #[test]
    fn a_fresh_resource_has_its_first_backup_and_nothing_older() {
        let since = at("2026-03-01T12:00:00Z");
        let obs = plan(since).observe(since + Duration::seconds(30));
        assert_eq!(obs.newest_snapshot, Some(since));
        assert_eq!(obs.latest_restorable, Some(since));
    }

    #[test]
    fn stopped_backups_freeze_pitr_and_the_newest_snapshot() {
        let mut p = plan(at("2026-01-01T00:00:00Z"));
        p.stopped_at = Some(at("2026-03-01T02:00:00Z"));
        let obs = p.observe(at("2026-03-02T12:00:00Z"));
        assert!(obs.latest_restorable.unwrap() < at("2026-03-01T02:00:00Z"));
        assert_eq!(obs.newest_snapshot, Some(at("2026-02-28T03:10:00Z")));
    }

    #[test]
    fn no_retention_means_no_backups() {
        let mut p = plan(at("2026-01-01T00:00:00Z"));
        p.retention_days = 0;
        let obs = p.observe(at("2026-03-01T12:00:00Z"));
        assert_eq!(obs.latest_restorable, None);
        assert_eq!(obs.newest_snapshot, None);
    }
}
