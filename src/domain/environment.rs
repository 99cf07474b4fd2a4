//! The estate drconsole watches: regions, and services with their objectives
//! and the resources that protect them. Loaded from a TOML file; the demo
//! environment is embedded in the binary.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::objectives::{DrTier, Objectives};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    pub name: String,
    /// Region for global APIs (Route 53, its CloudWatch metrics).
    #[serde(default = "default_home_region")]
    pub home_region: String,
    pub regions: Vec<String>,
    #[serde(default, rename = "service")]
    pub services: Vec<ServiceSpec>,
    /// Simulator-only settings; ignored by the AWS provider.
    #[serde(default)]
    pub sim: SimSettings,
}

fn default_home_region() -> String {
    "us-east-1".to_string()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ServiceFields")]
pub struct ServiceSpec {
    pub id: String,
    pub name: String,
    pub tier: DrTier,
    #[serde(flatten)]
    pub objectives: Objectives,
    pub primary_region: String,
    pub dr_region: String,
    pub replication: Replication,
    #[serde(default)]
    pub health_checks: Vec<HealthCheckSpec>,
    pub dns: Option<DnsSpec>,
}

/// A service as written in a file, objectives inline. Read without
/// `flatten`, which would make every error inside a service point at its
/// `[[service]]` header instead of the offending key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ServiceFields {
    id: String,
    name: String,
    tier: DrTier,
    #[serde(with = "humantime_serde")]
    rto: Duration,
    #[serde(with = "humantime_serde")]
    rpo: Duration,
    primary_region: String,
    dr_region: String,
    replication: Replication,
    #[serde(default)]
    health_checks: Vec<HealthCheckSpec>,
    dns: Option<DnsSpec>,
}

impl From<ServiceFields> for ServiceSpec {
    fn from(f: ServiceFields) -> Self {
        ServiceSpec {
            id: f.id,
            name: f.name,
            tier: f.tier,
            objectives: Objectives {
                rto: f.rto,
                rpo: f.rpo,
            },
            primary_region: f.primary_region,
            dr_region: f.dr_region,
            replication: f.replication,
            health_checks: f.health_checks,
            dns: f.dns,
        }
    }
}

/// How a service's data reaches its DR region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "kebab-case",
    try_from = "ReplicationFields"
)]
pub enum Replication {
    AuroraGlobal {
        global_cluster: String,
        primary_cluster: String,
        secondary_cluster: String,
    },
    RdsReplica {
        source_instance: String,
        replica_instance: String,
    },
    S3 {
        source_bucket: String,
        destination_bucket: String,
    },
    /// Backups only (backup-and-restore tier): exposure is the backup age.
    Backup {
        clusters: Vec<String>,
        instances: Vec<String>,
    },
}

/// A replication table as written. Read as a plain struct rather than an
/// internally tagged enum, which buffers the table and so loses the
/// position of a mistyped or unknown key inside it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplicationFields {
    kind: ReplicationKind,
    global_cluster: Option<String>,
    primary_cluster: Option<String>,
    secondary_cluster: Option<String>,
    source_instance: Option<String>,
    replica_instance: Option<String>,
    source_bucket: Option<String>,
    destination_bucket: Option<String>,
    clusters: Option<Vec<String>>,
    instances: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ReplicationKind {
    AuroraGlobal,
    RdsReplica,
    S3,
    Backup,
}

impl ReplicationKind {
    fn name(self) -> &'static str {
        match self {
            ReplicationKind::AuroraGlobal => "aurora-global",
            ReplicationKind::RdsReplica => "rds-replica",
            ReplicationKind::S3 => "s3",
            ReplicationKind::Backup => "backup",
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            ReplicationKind::AuroraGlobal => {
                &["global_cluster", "primary_cluster", "secondary_cluster"]
            }
            ReplicationKind::RdsReplica => &["source_instance", "replica_instance"],
            ReplicationKind::S3 => &["source_bucket", "destination_bucket"],
            ReplicationKind::Backup => &["clusters", "instances"],
        }
    }
}

impl TryFrom<ReplicationFields> for Replication {
    type Error = String;

    fn try_from(f: ReplicationFields) -> Result<Self, String> {
        let kind = f.kind;
        let written = [
            ("global_cluster", f.global_cluster.is_some()),
            ("primary_cluster", f.primary_cluster.is_some()),
            ("secondary_cluster", f.secondary_cluster.is_some()),
            ("source_instance", f.source_instance.is_some()),
            ("replica_instance", f.replica_instance.is_some()),
            ("source_bucket", f.source_bucket.is_some()),
            ("destination_bucket", f.destination_bucket.is_some()),
            ("clusters", f.clusters.is_some()),
            ("instances", f.instances.is_some()),
        ];
        if let Some((name, _)) = written
            .iter()
            .find(|(name, given)| *given && !kind.fields().contains(name))
        {
            return Err(format!(
                "`{name}` does not apply to replication kind `{}`; it takes {}",
                kind.name(),
                kind.fields().join(", ")
            ));
        }
        let need = |name: &str, value: Option<String>| {
            value.ok_or_else(|| format!("replication kind `{}` needs `{name}`", kind.name()))
        };
        Ok(match kind {
            ReplicationKind::AuroraGlobal => Replication::AuroraGlobal {
                global_cluster: need("global_cluster", f.global_cluster)?,
                primary_cluster: need("primary_cluster", f.primary_cluster)?,
                secondary_cluster: need("secondary_cluster", f.secondary_cluster)?,
            },
            ReplicationKind::RdsReplica => Replication::RdsReplica {
                source_instance: need("source_instance", f.source_instance)?,
                replica_instance: need("replica_instance", f.replica_instance)?,
            },
            ReplicationKind::S3 => Replication::S3 {
                source_bucket: need("source_bucket", f.source_bucket)?,
                destination_bucket: need("destination_bucket", f.destination_bucket)?,
            },
            ReplicationKind::Backup => Replication::Backup {
                clusters: f.clusters.unwrap_or_default(),
                instances: f.instances.unwrap_or_default(),
            },
        })
    }
}

impl Replication {
    /// Identifiers of the resources that receive replicated data.
    pub fn replica_ids(&self) -> Vec<&str> {
        match self {
            Replication::AuroraGlobal {
                secondary_cluster, ..
            } => vec![secondary_cluster],
            Replication::RdsReplica {
                replica_instance, ..
            } => vec![replica_instance],
            Replication::S3 {
                destination_bucket, ..
            } => vec![destination_bucket],
            Replication::Backup { .. } => vec![],
        }
    }

    /// Every cluster, instance, bucket or global cluster this names.
    pub fn resource_ids(&self) -> Vec<&str> {
        match self {
            Replication::AuroraGlobal {
                global_cluster,
                primary_cluster,
                secondary_cluster,
            } => vec![global_cluster, primary_cluster, secondary_cluster],
            Replication::RdsReplica {
                source_instance,
                replica_instance,
            } => vec![source_instance, replica_instance],
            Replication::S3 {
                source_bucket,
                destination_bucket,
            } => vec![source_bucket, destination_bucket],
            Replication::Backup {
                clusters,
                instances,
            } => clusters
                .iter()
                .chain(instances)
                .map(String::as_str)
                .collect(),
        }
    }

    pub fn kind_label(&self) -> &'static str {
        match self {
            Replication::AuroraGlobal { .. } => "aurora global",
            Replication::RdsReplica { .. } => "rds replica",
            Replication::S3 { .. } => "s3 crr",
            Replication::Backup { .. } => "backups",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckSpec {
    pub id: String,
    pub region: String,
    /// The endpoint probed, e.g. `api.us-east-1.example.com`.
    pub fqdn: String,
    #[serde(default = "default_failure_threshold")]
    pub failure_threshold: u32,
}

fn default_failure_threshold() -> u32 {
    3
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsSpec {
    pub zone_id: String,
    /// Fully qualified record name, e.g. `api.example.com.`.
    pub record: String,
    /// What the record points at when each region serves.
    pub primary_target: String,
    pub secondary_target: String,
    #[serde(default = "default_ttl")]
    pub ttl: u32,
}

fn default_ttl() -> u32 {
    60
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// Seed of the simulated world's randomness: same seed, same world.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Simulated seconds per real second.
    #[serde(default = "default_time_scale")]
    pub time_scale: f64,
    /// Where simulated resources are configured unlike their defaults: the
    /// demo's honest readiness failures, and drifted estates for tests.
    #[serde(default)]
    pub drift: Vec<SimDrift>,
}

/// One simulated database's configuration, where it differs from the
/// simulator's defaults. Every field left out keeps its default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimDrift {
    /// A cluster or instance the environment names.
    pub resource: String,
    pub engine_version: Option<String>,
    pub instance_class: Option<String>,
    pub parameter_group_family: Option<String>,
    pub deletion_protection: Option<bool>,
    /// DB instances of a cluster; 0 makes it headless.
    pub instances: Option<u32>,
    pub retention_days: Option<u32>,
    pub cross_region_copy: Option<bool>,
    /// Whether an alarm watches its replication lag.
    pub lag_alarm: Option<bool>,
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            seed: default_seed(),
            time_scale: default_time_scale(),
            drift: Vec::new(),
        }
    }
}

fn default_seed() -> u64 {
    42
}

fn default_time_scale() -> f64 {
    1.0
}

impl Environment {
    pub fn service(&self, id: &str) -> Option<&ServiceSpec> {
        self.services.iter().find(|s| s.id == id)
    }
}

/// Limits on what an environment may name, AWS's own where AWS documents one,
/// so a file is refused with a located error rather than breaking a table,
/// a file name or an API call later.
pub mod limits {
    use std::ops::RangeInclusive;
    use std::time::Duration;

    /// DB instance, DB cluster and global cluster identifiers.
    pub const RDS_ID_MAX: usize = 63;
    /// An ARN given in place of an identifier.
    pub const ARN_MAX: usize = 255;
    pub const S3_BUCKET_LEN: RangeInclusive<usize> = 3..=63;
    /// Route 53's `HealthCheckId`.
    pub const HEALTH_CHECK_ID_MAX: usize = 64;
    /// Route 53's hosted zone `ResourceId`.
    pub const ZONE_ID_MAX: usize = 32;
    pub const DNS_NAME_MAX: usize = 255;
    /// Route 53 record TTLs.
    pub const TTL: RangeInclusive<u32> = 1..=2_147_483_647;
    /// Service ids name journal and lock files, so they stay short and plain.
    pub const SERVICE_ID_MAX: usize = 63;
    /// Display names: the environment's and each service's.
    pub const NAME_MAX: usize = 128;
    /// An RTO or RPO beyond this is a typo, not an objective.
    pub const OBJECTIVE_MAX: Duration = Duration::from_secs(30 * 24 * 3600);
    /// Simulated seconds per real second.
    pub const TIME_SCALE: RangeInclusive<f64> = 0.1..=3600.0;
    /// Twice the largest estate the console is benchmarked with
    /// (BENCHMARKS.md, 5,000 services): a file beyond it is a mistake or an
    /// attack, not an estate.
    pub const SERVICES_MAX: usize = 10_000;
    /// More than AWS has regions.
    pub const REGIONS_MAX: usize = 64;
    /// Per service: health checks, and clusters plus instances backed up.
    pub const HEALTH_CHECKS_MAX: usize = 64;
    pub const BACKUP_RESOURCES_MAX: usize = 256;
}

/// Whether `name` has the shape of an AWS region name (`us-east-1`,
/// `us-gov-west-1`, `us-isob-east-1`), i.e. matches
/// `^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d{1,2}$`.
pub fn is_region_name(name: &str) -> bool {
    let lower = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase());
    let parts: Vec<&str> = name.split('-').collect();
    let (country, partition, area, number) = match parts.as_slice() {
        [c, a, n] => (*c, None, *a, *n),
        [c, p, a, n] => (*c, Some(*p), *a, *n),
        _ => return false,
    };
    let partition_ok = partition.is_none_or(|p| {
        p == "gov"
            || p.strip_prefix("iso")
                .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_lowercase()))
    });
    country.len() == 2
        && lower(country)
        && partition_ok
        && lower(area)
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Why `text` cannot be a display name, if it cannot: it must be 1 to
/// `max` characters with no control characters (which could rewrite the
/// terminal it is shown on).
pub fn check_label(text: &str, max: usize) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    check_length(text, 1..=max)?;
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(format!(
            "must not hold control characters (found U+{:04X})",
            c as u32
        ));
    }
    Ok(())
}

/// Why `text` cannot be an identifier, if it cannot: `len` characters long,
/// each one `allowed`; `expected` describes the allowed characters.
pub fn check_identifier(
    text: &str,
    len: std::ops::RangeInclusive<usize>,
    allowed: impl Fn(char) -> bool,
    expected: &str,
) -> Result<(), String> {
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    check_length(text, len)?;
    if let Some(c) = text.chars().find(|c| !allowed(*c)) {
        return Err(format!("may hold only {expected}, not {c:?}"));
    }
    Ok(())
}

fn check_length(text: &str, len: std::ops::RangeInclusive<usize>) -> Result<(), String> {
    let count = text.chars().count();
    if len.contains(&count) {
        return Ok(());
    }
    if *len.start() > 1 {
        Err(format!(
            "must be {} to {} characters long, not {count}",
            len.start(),
            len.end()
        ))
    } else {
        Err(format!(
            "must be at most {} characters long, not {count}",
            len.end()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_follow_the_aws_pattern() {
        for good in [
            "us-east-1",
            "ap-southeast-2",
            "us-gov-west-1",
            "us-isob-east-1",
            "eu-central-12",
        ] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in [
            "mars-1",
            "evil.com/x?",
            "",
            "us-east",
            "us-east-123",
            "US-EAST-1",
            "usa-east-1",
            "us-foo-east-1",
            "us--1",
            "us-east-1 ",
            "us-east-1\n",
        ] {
            assert!(!is_region_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn labels_refuse_control_characters_and_excess_length() {
        assert!(check_label("Orders API", 128).is_ok());
        assert!(check_label("", 128).is_err());
        assert!(check_label("  ", 128).is_err());
        assert!(
            check_label("a\u{1b}[2J", 128)
                .unwrap_err()
                .contains("U+001B")
        );
        assert!(
            check_label(&"x".repeat(129), 128)
                .unwrap_err()
                .contains("at most 128")
        );
    }
}
