//! Recovery objectives and DR strategy tiers.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the business agreed a service may lose: time down (RTO) and data (RPO).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objectives {
    #[serde(with = "humantime_serde")]
    pub rto: Duration,
    #[serde(with = "humantime_serde")]
    pub rpo: Duration,
}

/// The four classic DR strategies, cheapest and slowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DrTier {
    BackupRestore,
    PilotLight,
    WarmStandby,
    ActiveActive,
}

impl DrTier {
    pub const ALL: [DrTier; 4] = [
        DrTier::BackupRestore,
        DrTier::PilotLight,
        DrTier::WarmStandby,
        DrTier::ActiveActive,
    ];

    pub fn label(self) -> &'static str {
        match self {
            DrTier::BackupRestore => "backup-restore",
            DrTier::PilotLight => "pilot light",
            DrTier::WarmStandby => "warm standby",
            DrTier::ActiveActive => "active-active",
        }
    }

    /// The fastest recovery this strategy can realistically deliver.
    ///
    /// Backup-and-restore means rebuilding from snapshots (hours at best,
    /// usually a day); pilot light has to scale compute up (about an hour);
    /// warm standby only scales out and repoints (minutes); active-active
    /// shifts traffic (seconds). A stated RTO below this floor is a promise
    /// the architecture cannot keep.
    pub fn best_case_rto(self) -> Duration {
        match self {
            DrTier::BackupRestore => Duration::from_secs(4 * 3600),
            DrTier::PilotLight => Duration::from_secs(3600),
            DrTier::WarmStandby => Duration::from_secs(5 * 60),
            DrTier::ActiveActive => Duration::from_secs(30),
        }
    }

    /// The smallest data loss this strategy can realistically deliver.
    pub fn best_case_rpo(self) -> Duration {
        match self {
            DrTier::BackupRestore => Duration::from_secs(3600),
            DrTier::PilotLight => Duration::from_secs(60),
            DrTier::WarmStandby => Duration::from_secs(1),
            DrTier::ActiveActive => Duration::ZERO,
        }
    }

    pub fn can_meet_rto(self, rto: Duration) -> bool {
        self.best_case_rto() <= rto
    }
}

impl std::fmt::Display for DrTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warm_standby_meets_fifteen_minutes_but_pilot_light_does_not() {
        let rto = Duration::from_secs(15 * 60);
        assert!(DrTier::WarmStandby.can_meet_rto(rto));
        assert!(DrTier::ActiveActive.can_meet_rto(rto));
        assert!(!DrTier::PilotLight.can_meet_rto(rto));
        assert!(!DrTier::BackupRestore.can_meet_rto(rto));
    }

    #[test]
    fn tiers_get_faster_as_they_get_dearer() {
        for pair in DrTier::ALL.windows(2) {
            assert!(pair[0].best_case_rto() > pair[1].best_case_rto());
            assert!(pair[0].best_case_rpo() > pair[1].best_case_rpo());
        }
    }
}
