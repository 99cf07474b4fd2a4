//! The DR environment: the DR region's copy exists, is available and is
//! configured like the primary (a field-by-field drift list), is not
//! headless, receives data within the RPO, is reachable through DNS, and
//! its lag is alarmed on where the lag metrics are published.

use super::check::{Area, Check};
use super::facts::{ClusterConfig, InstanceConfig};
use super::index::Indexed;
use crate::domain::environment::{Replication, ServiceSpec};
use crate::domain::posture::same_name;
use crate::domain::rotation;
use crate::domain::snapshot::{ClusterRole, FailoverRole};
use crate::format::{objective, short_duration};

const AREA: Area = Area::DrEnvironment;

pub fn checks(service: &ServiceSpec, inputs: &Indexed<'_>) -> Vec<Check> {
    let mut out = Vec::new();
    match &service.replication {
        Replication::AuroraGlobal {
            primary_cluster,
            secondary_cluster,
            ..
        } => {
            let (writer, reader) = roles(inputs, primary_cluster, secondary_cluster);
            out.push(cluster_available(inputs, writer, reader));
            out.extend(cluster_drift(service, inputs, writer, reader));
            out.push(replication(service, inputs, reader));
            out.push(lag_alarm(
                inputs,
                reader,
                region_of_cluster(inputs, reader).unwrap_or(&service.dr_region),
                &["AuroraGlobalDBReplicationLag", "AuroraGlobalDBRPOLag"],
                "DBClusterIdentifier",
            ));
        }
        Replication::RdsReplica {
            source_instance,
            replica_instance,
        } => {
            out.push(instances_available(
                inputs,
                source_instance,
                replica_instance,
            ));
            out.extend(instance_drift(
                service,
                inputs,
                source_instance,
                replica_instance,
            ));
            out.push(replication(service, inputs, replica_instance));
            out.push(lag_alarm(
                inputs,
                replica_instance,
                &service.dr_region,
                &["ReplicaLag"],
                "DBInstanceIdentifier",
            ));
        }
        Replication::S3 {
            destination_bucket, ..
        } => out.push(replication(service, inputs, destination_bucket)),
        Replication::Backup { .. } => {}
    }
    out.extend(routing(service, inputs));
    out
}

/// Writer and reader of a global database as observed now: after a
/// failover the declared secondary writes and the declared primary reads.
fn roles<'a>(inputs: &Indexed<'_>, primary: &'a str, secondary: &'a str) -> (&'a str, &'a str) {
    let role = |id: &str| inputs.cluster(id).map(|c| c.role);
    let swapped = role(secondary) == Some(ClusterRole::Primary)
        && role(primary) == Some(ClusterRole::Secondary);
    if swapped {
        (secondary, primary)
    } else {
        (primary, secondary)
    }
}

fn region_of_cluster<'a>(inputs: &'a Indexed<'_>, id: &str) -> Option<&'a str> {
    inputs.cluster(id).map(|c| c.region.as_str())
}

fn available(what: &[(&str, Option<(&str, &str)>)], fix_missing: impl Fn(&str) -> String) -> Check {
    let name = "resources available";
    let mut evidence = Vec::new();
    let mut problems = Vec::new();
    for (id, seen) in what {
        match seen {
            Some((region, status)) => {
                evidence.push(format!("{id} ({region}) {status}"));
                if *status != "available" {
                    problems.push(format!("wait for or repair {id} ({status})"));
                }
            }
            None => {
                evidence.push(format!("{id} not observed"));
                problems.push(fix_missing(id));
            }
        }
    }
    if problems.is_empty() {
        Check::pass(AREA, name, evidence.join(", "))
    } else {
        Check::fail(AREA, name, evidence.join(", "), problems.join("; "))
    }
}

fn cluster_available(inputs: &Indexed<'_>, writer: &str, reader: &str) -> Check {
    let seen = |id: &str| {
        inputs
            .cluster(id)
            .map(|c| (c.region.as_str(), c.status.as_str()))
    };
    available(&[(writer, seen(writer)), (reader, seen(reader))], |id| {
        format!("create {id} or correct its identifier in the environment")
    })
}

fn instances_available(inputs: &Indexed<'_>, source: &str, replica: &str) -> Check {
    let seen = |id: &str| {
        inputs
            .instance(id)
            .map(|i| (i.region.as_str(), i.status.as_str()))
    };
    available(&[(source, seen(source)), (replica, seen(replica))], |id| {
        format!("create {id} or correct its identifier in the environment")
    })
}

/// The parts of two databases' configuration that must match.
struct Side<'a> {
    id: &'a str,
    region: &'a str,
    engine: &'a str,
    engine_version: &'a str,
    family: Option<&'a str>,
    deletion_protection: bool,
    /// Largest first is not knowable from a class name; the writer's class
    /// (first) is compared.
    classes: Vec<&'a str>,
}

impl<'a> From<&'a ClusterConfig> for Side<'a> {
    fn from(c: &'a ClusterConfig) -> Self {
        Side {
            id: &c.id,
            region: &c.region,
            engine: &c.engine,
            engine_version: &c.engine_version,
            family: c.parameter_group_family.as_deref(),
            deletion_protection: c.deletion_protection,
            classes: c.instance_classes.iter().map(String::as_str).collect(),
        }
    }
}

impl<'a> From<&'a InstanceConfig> for Side<'a> {
    fn from(i: &'a InstanceConfig) -> Self {
        Side {
            id: &i.id,
            region: &i.region,
            engine: &i.engine,
            engine_version: &i.engine_version,
            family: i.parameter_group_family.as_deref(),
            deletion_protection: i.deletion_protection,
            classes: vec![&i.instance_class],
        }
    }
}

/// A configuration that could not be read fails every drift check at once.
fn unknown_configuration(inputs: &Indexed<'_>, ids: &[(&str, &str)]) -> Option<Check> {
    let reasons: Vec<String> = ids
        .iter()
        .map(|(id, region)| {
            let why = inputs
                .configuration
                .unknown_because(region, "rds")
                .unwrap_or_else(|| format!("{id} is not in {region}'s configuration"));
            format!("{id}: {why}")
        })
        .collect();
    (!reasons.is_empty()).then(|| {
        Check::fail(
            AREA,
            "configuration",
            format!("drift cannot be checked: {}", reasons.join("; ")),
            "let drconsole describe the databases in both regions (rds:Describe* permissions)",
        )
    })
}

fn cluster_drift(
    service: &ServiceSpec,
    inputs: &Indexed<'_>,
    writer: &str,
    reader: &str,
) -> Vec<Check> {
    let region = |id: &str| {
        region_of_cluster(inputs, id)
            .unwrap_or(if id == writer {
                &service.primary_region
            } else {
                &service.dr_region
            })
            .to_string()
    };
    let (w, r) = (inputs.cluster_config(writer), inputs.cluster_config(reader));
    let missing: Vec<(String, String)> = [(writer, w.is_none()), (reader, r.is_none())]
        .iter()
        .filter(|(_, gone)| *gone)
        .map(|(id, _)| (id.to_string(), region(id)))
        .collect();
    let (Some(w), Some(r)) = (w, r) else {
        let ids: Vec<(&str, &str)> = missing
            .iter()
            .map(|(i, r)| (i.as_str(), r.as_str()))
            .collect();
        return unknown_configuration(inputs, &ids).into_iter().collect();
    };
    let mut out = drift(&Side::from(w), &Side::from(r));
    out.push(if r.instance_classes.is_empty() {
        Check::fail(
            AREA,
            "secondary instances",
            format!("{} ({}) has no DB instance: it is headless", r.id, r.region),
            format!(
                "add a reader instance to {} (CreateDBInstance with DBClusterIdentifier={}); a headless secondary cannot take over",
                r.id, r.id
            ),
        )
    } else {
        Check::pass(
            AREA,
            "secondary instances",
            format!("{} has {} instance(s)", r.id, r.instance_classes.len()),
        )
    });
    out
}

fn instance_drift(
    service: &ServiceSpec,
    inputs: &Indexed<'_>,
    source: &str,
    replica: &str,
) -> Vec<Check> {
    match (
        inputs.instance_config(source),
        inputs.instance_config(replica),
    ) {
        (Some(s), Some(r)) => drift(&Side::from(s), &Side::from(r)),
        (s, r) => {
            let mut ids = Vec::new();
            if s.is_none() {
                ids.push((source, service.primary_region.as_str()));
            }
            if r.is_none() {
                ids.push((replica, service.dr_region.as_str()));
            }
            unknown_configuration(inputs, &ids).into_iter().collect()
        }
    }
}

/// Major and minor engine version: `15.4` of `15.4`, `3.04` of Aurora
/// MySQL's `8.0.mysql_aurora.3.04.0` (its own version is what must match).
pub fn major_minor(version: &str) -> String {
    let own = version
        .split_once("mysql_aurora.")
        .map_or(version, |(_, aurora)| aurora);
    own.split('.').take(2).collect::<Vec<_>>().join(".")
}

fn drift(primary: &Side<'_>, secondary: &Side<'_>) -> Vec<Check> {
    let pair = |what: &dyn Fn(&Side<'_>) -> String| {
        format!(
            "{} ({}) {} · {} ({}) {}",
            primary.id,
            primary.region,
            what(primary),
            secondary.id,
            secondary.region,
            what(secondary)
        )
    };
    let mut out = Vec::new();
    out.push(if primary.engine == secondary.engine {
        Check::pass(AREA, "engine", pair(&|s| s.engine.to_string()))
    } else {
        Check::fail(
            AREA,
            "engine",
            pair(&|s| s.engine.to_string()),
            "rebuild the secondary with the primary's engine",
        )
    });
    let version = pair(&|s| s.engine_version.to_string());
    out.push(
        if major_minor(primary.engine_version) == major_minor(secondary.engine_version) {
            Check::pass(AREA, "engine version", version)
        } else {
            Check::fail(
                AREA,
                "engine version",
                format!("{version}: major.minor differ, a switchover is refused"),
                format!(
                    "upgrade the older of {} and {} so both run the same major.minor version",
                    primary.id, secondary.id
                ),
            )
        },
    );
    let class = pair(&|s| {
        if s.classes.is_empty() {
            "no instance".to_string()
        } else {
            s.classes.join(", ")
        }
    });
    out.push(match (primary.classes.first(), secondary.classes.first()) {
        (Some(p), Some(_)) if secondary.classes.contains(p) => {
            Check::pass(AREA, "instance class", class)
        }
        (Some(p), Some(_)) => Check::warn(
            AREA,
            "instance class",
            class,
            format!(
                "give {} a {p} instance, or plan the scale-up in the runbook",
                secondary.id
            ),
        ),
        _ => Check::pass(
            AREA,
            "instance class",
            format!("{class} (nothing to compare)"),
        ),
    });
    let family = pair(&|s| s.family.unwrap_or("?").to_string());
    out.push(match (primary.family, secondary.family) {
        (Some(p), Some(s)) if p == s => Check::pass(AREA, "parameter group family", family),
        (Some(p), Some(_)) => Check::fail(
            AREA,
            "parameter group family",
            family,
            format!("give {} a parameter group of family {p}", secondary.id),
        ),
        _ => Check::warn(
            AREA,
            "parameter group family",
            family,
            "let drconsole read the parameter groups (rds:DescribeDB*ParameterGroups)",
        ),
    });
    let unprotected: Vec<&str> = [primary, secondary]
        .iter()
        .filter(|s| !s.deletion_protection)
        .map(|s| s.id)
        .collect();
    let protection = pair(&|s| {
        if s.deletion_protection {
            "protected"
        } else {
            "unprotected"
        }
        .to_string()
    });
    out.push(if unprotected.is_empty() {
        Check::pass(AREA, "deletion protection", protection)
    } else {
        Check::fail(
            AREA,
            "deletion protection",
            protection,
            format!(
                "turn on deletion protection for {}",
                unprotected.join(" and ")
            ),
        )
    });
    out
}

fn replication(service: &ServiceSpec, inputs: &Indexed<'_>, receiver: &str) -> Check {
    let name = "replication";
    let rpo = service.objectives.rpo;
    let Some(obs) = inputs.lag(receiver) else {
        return Check::fail(
            AREA,
            name,
            format!("no replication lag observed for {receiver}"),
            format!("check that {receiver} replicates and that its lag metric is readable"),
        );
    };
    match obs.rpo_lag.or(obs.lag) {
        None => Check::fail(
            AREA,
            name,
            format!(
                "{receiver}: the lag metric has no recent datapoint: replication may have stopped"
            ),
            format!("check replication into {receiver}"),
        ),
        Some(lag) if lag <= rpo => Check::pass(
            AREA,
            name,
            format!(
                "{receiver}: lag {} (RPO {})",
                short_duration(lag),
                objective(rpo)
            ),
        ),
        Some(lag) => Check::fail(
            AREA,
            name,
            format!(
                "{receiver}: lag {} beyond the RPO of {}",
                short_duration(lag),
                objective(rpo)
            ),
            format!("find what holds replication into {receiver} back"),
        ),
    }
}

fn lag_alarm(
    inputs: &Indexed<'_>,
    receiver: &str,
    region: &str,
    metrics: &[&str],
    dimension: &str,
) -> Check {
    let name = "lag alarm";
    if let Some(why) = inputs.configuration.unknown_because(region, "cloudwatch") {
        return Check::fail(
            AREA,
            name,
            format!("alarms in {region} unknown: {why}"),
            "let drconsole read alarms (cloudwatch:DescribeAlarms)",
        );
    }
    let found: Vec<&str> = inputs
        .alarms_on(region, receiver)
        .iter()
        .filter(|a| metrics.iter().any(|m| a.watches(m, dimension, receiver)))
        .map(|a| a.name.as_str())
        .collect();
    if found.is_empty() {
        Check::fail(
            AREA,
            name,
            format!(
                "no alarm in {region} on {} of {receiver}",
                metrics.join(" or ")
            ),
            format!(
                "create a CloudWatch alarm in {region} on {} ({dimension}={receiver}); lag is only published there",
                metrics[0]
            ),
        )
    } else {
        Check::pass(AREA, name, format!("{region}: {}", found.join(", ")))
    }
}

/// How clients reach the service: a health check per serving region, and a
/// failover record pair pointing at the declared targets (an active-active
/// service: a latency record per region tied to its health check).
pub fn routing(service: &ServiceSpec, inputs: &Indexed<'_>) -> Vec<Check> {
    let Some(dns) = &service.dns else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut missing = Vec::new();
    let mut found = Vec::new();
    for region in [&service.primary_region, &service.dr_region] {
        let ids: Vec<&str> = service
            .health_checks
            .iter()
            .filter(|h| &h.region == region)
            .map(|h| h.id.as_str())
            .filter(|id| inputs.health_check_seen(id))
            .collect();
        if ids.is_empty() {
            missing.push(region.as_str());
        } else {
            found.push(format!("{region}: {}", ids.join(", ")));
        }
    }
    out.push(if missing.is_empty() {
        Check::pass(AREA, "health checks", found.join("; "))
    } else {
        Check::fail(
            AREA,
            "health checks",
            format!("no observed health check for {}", missing.join(", ")),
            format!(
                "create a Route 53 health check on the endpoint in {}",
                missing.join(", ")
            ),
        )
    });
    if rotation::is_active_active(service) {
        out.push(latency_records(service, inputs));
        return out;
    }
    let record = |role: FailoverRole| inputs.failover_record(&dns.zone_id, &dns.record, role);
    let mut problems = Vec::new();
    let mut evidence = Vec::new();
    for (role, target) in [
        (FailoverRole::Primary, &dns.primary_target),
        (FailoverRole::Secondary, &dns.secondary_target),
    ] {
        let label = if role == FailoverRole::Primary {
            "PRIMARY"
        } else {
            "SECONDARY"
        };
        match record(role) {
            None => problems.push(format!("no {label} record")),
            Some(r) => {
                evidence.push(format!("{label} → {}", r.target));
                if !same_name(&r.target, target) {
                    problems.push(format!(
                        "{label} points at {} instead of {target}",
                        r.target
                    ));
                }
                if role == FailoverRole::Primary {
                    match &r.health_check_id {
                        None => problems.push("PRIMARY has no health check".into()),
                        Some(hc) if !inputs.health_check_seen(hc) => {
                            problems.push(format!("PRIMARY's health check {hc} was not observed"))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
    out.push(if problems.is_empty() {
        Check::pass(AREA, "failover records", format!("{}: {}", dns.record, evidence.join(", ")))
    } else {
        evidence.extend(problems.iter().cloned());
        Check::fail(
            AREA,
            "failover records",
            format!("{}: {}", dns.record, evidence.join("; ")),
            format!(
                "UPSERT the failover pair of {} in zone {} (PRIMARY with its health check → {}, SECONDARY → {})",
                dns.record, dns.zone_id, dns.primary_target, dns.secondary_target
            ),
        )
    });
    out
}

/// An active-active service is routed by one latency record per region,
/// each tied to its region's health check: a region whose record is
/// missing or unchecked cannot be drained or kept out while it fails.
fn latency_records(service: &ServiceSpec, inputs: &Indexed<'_>) -> Check {
    let gaps = rotation::gaps(service, inputs.observed);
    let record = service.dns.as_ref().map_or("", |d| d.record.as_str());
    if gaps.is_empty() {
        return Check::pass(
            AREA,
            "latency records",
            format!(
                "{record}: a latency record per region ({}, {}), each tied to its health check",
                service.primary_region, service.dr_region
            ),
        );
    }
    let evidence: Vec<String> = gaps
        .iter()
        .map(|g| format!("{}: {}", g.region, g.problem))
        .collect();
    Check::fail(
        AREA,
        "latency records",
        evidence.join("; "),
        format!(
            "UPSERT a latency record of {record} per region, each with the region's health check"
        ),
    )
}
