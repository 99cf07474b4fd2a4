//! `runbook new`: writes a runbook for one service and one scenario from
//! what the environment (or discovery) knows of the service: its global
//! database and members, read replica, health checks and DNS record.
//!
//! Every identifier is written as a `${service.…}` variable, so the file
//! keeps working when the estate is rediscovered or copied to another
//! account of the same shape; only the service id, its objectives and the
//! record's TTL are written as values. Step budgets follow the seed
//! guide's T+N plan (detect by T+1, database promoted by T+5, DNS by T+8,
//! smoke tests by T+15). A scenario that does not fit the service (a
//! switchover of a read replica) is refused, saying what the service has.

use std::fmt::Write;
use std::time::Duration;

use clap::ValueEnum;

use crate::domain::environment::{Replication, ServiceSpec};
use crate::domain::objectives::DrTier;

/// The scenarios `runbook new` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// Aurora global database: managed failover allowing data loss.
    UnplannedFailover,
    /// Aurora global database: planned switchover, no data loss.
    Switchover,
    /// Aurora global database: detach the DR cluster and write there.
    DetachAndPromote,
    /// RDS cross-region read replica: promote it to a standalone instance.
    ReplicaPromotion,
    /// Aurora global database: move the writer back to the primary region.
    Failback,
    /// Active-active: take one region out of rotation and bring it back.
    DrainRegion,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::UnplannedFailover => "unplanned-failover",
            Kind::Switchover => "switchover",
            Kind::DetachAndPromote => "detach-and-promote",
            Kind::ReplicaPromotion => "replica-promotion",
            Kind::Failback => "failback",
            Kind::DrainRegion => "drain-region",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::UnplannedFailover => "unplanned regional failover",
            Kind::Switchover => "planned switchover (no data loss)",
            Kind::DetachAndPromote => "detach-and-promote failover",
            Kind::ReplicaPromotion => "promote the DR read replica",
            Kind::Failback => "failback to the primary region",
            Kind::DrainRegion => "drain a region and restore it",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unfit {
    #[error(
        "`{kind}` needs {needs}; service `{service}` replicates by {has}. Kinds that fit it: {fits}"
    )]
    Replication {
        kind: &'static str,
        service: String,
        needs: &'static str,
        has: &'static str,
        fits: String,
    },
    #[error(
        "`drain-region` needs an active-active service (tier active-active); service `{service}` is {tier}. Kinds that fit it: {fits}"
    )]
    NotActiveActive {
        service: String,
        tier: &'static str,
        fits: String,
    },
    #[error(
        "`drain-region` of {region}: service `{service}` has no health check there to invert (it has checks in: {have})"
    )]
    NoHealthCheck {
        service: String,
        region: String,
        have: String,
    },
    #[error(
        "`drain-region` of {region}: service `{service}` has no health check in any other region, so draining it leaves no region serving"
    )]
    LastRegion { service: String, region: String },
}

/// The kinds that fit `service`, for messages and help.
pub fn fitting(service: &ServiceSpec) -> Vec<Kind> {
    Kind::value_variants()
        .iter()
        .copied()
        .filter(|k| misfit(service, *k, &service.primary_region).is_none())
        .collect()
}

/// The file name `runbook new` writes by default.
pub fn file_name(service: &ServiceSpec, kind: Kind, region: &str) -> String {
    match kind {
        Kind::DrainRegion => format!("{}-drain-{region}.yaml", service.id),
        _ => format!("{}-{}.yaml", service.id, kind.name()),
    }
}

/// Why `kind` does not fit `service`, with the kinds that do.
fn fits(service: &ServiceSpec, kind: Kind, region: &str) -> Result<(), Unfit> {
    let Some(mut unfit) = misfit(service, kind, region) else {
        return Ok(());
    };
    let others: Vec<&str> = fitting(service)
        .into_iter()
        .filter(|k| *k != kind)
        .map(Kind::name)
        .collect();
    let others = if others.is_empty() {
        "none".to_string()
    } else {
        others.join(", ")
    };
    if let Unfit::Replication { fits, .. } | Unfit::NotActiveActive { fits, .. } = &mut unfit {
        *fits = others;
    }
    Err(unfit)
}

/// Why `kind` does not fit `service`, the kinds that do left blank.
fn misfit(service: &ServiceSpec, kind: Kind, region: &str) -> Option<Unfit> {
    let needs = match kind {
        Kind::UnplannedFailover | Kind::Switchover | Kind::DetachAndPromote | Kind::Failback => {
            (!matches!(service.replication, Replication::AuroraGlobal { .. }))
                .then_some("an Aurora global database (replication kind aurora-global)")
        }
        Kind::ReplicaPromotion => (!matches!(service.replication, Replication::RdsReplica { .. }))
            .then_some("a cross-region read replica (replication kind rds-replica)"),
        Kind::DrainRegion => return drain_misfit(service, region),
    };
    needs.map(|needs| Unfit::Replication {
        kind: kind.name(),
        service: service.id.clone(),
        needs,
        has: service.replication.kind_label(),
        fits: String::new(),
    })
}

fn drain_misfit(service: &ServiceSpec, region: &str) -> Option<Unfit> {
    if service.tier != DrTier::ActiveActive {
        return Some(Unfit::NotActiveActive {
            service: service.id.clone(),
            tier: service.tier.label(),
            fits: String::new(),
        });
    }
    let regions: std::collections::BTreeSet<&str> = service
        .health_checks
        .iter()
        .map(|h| h.region.as_str())
        .collect();
    if !regions.contains(region) {
        return Some(Unfit::NoHealthCheck {
            service: service.id.clone(),
            region: region.to_string(),
            have: if regions.is_empty() {
                "none".into()
            } else {
                regions.into_iter().collect::<Vec<_>>().join(", ")
            },
        });
    }
    (regions.len() < 2).then(|| Unfit::LastRegion {
        service: service.id.clone(),
        region: region.to_string(),
    })
}

/// The runbook text for `kind` on `service`. `region` is the region a
/// drain takes out of rotation; other kinds ignore it.
pub fn generate(service: &ServiceSpec, kind: Kind, region: &str) -> Result<String, Unfit> {
    fits(service, kind, region)?;
    let mut rb = Text::default();
    header(&mut rb, service, kind, region);
    match kind {
        Kind::UnplannedFailover => unplanned_failover(&mut rb, service),
        Kind::Switchover => switchover(&mut rb, service),
        Kind::DetachAndPromote => detach_and_promote(&mut rb, service),
        Kind::ReplicaPromotion => replica_promotion(&mut rb, service),
        Kind::Failback => failback(&mut rb, service),
        Kind::DrainRegion => drain_region(&mut rb, service, region),
    }
    Ok(rb.0)
}

/// The runbook's text, built line by line.
#[derive(Default)]
struct Text(String);

impl Text {
    fn line(&mut self, text: &str) {
        self.0.push_str(text);
        self.0.push('\n');
    }

    /// One step; `body` is its kind's YAML, indented by the caller's four
    /// spaces.
    fn step(&mut self, id: &str, title: &str, budget: Option<&str>, body: &str) {
        if !self.0.ends_with("steps:\n") {
            self.line("");
        }
        self.line(&format!("  - id: {id}"));
        self.line(&format!("    title: {}", quoted(title)));
        if let Some(budget) = budget {
            self.line(&format!("    expect_within: {budget}"));
        }
        for line in body.lines() {
            self.line(&format!("    {line}"));
        }
    }
}

/// A YAML double-quoted scalar: JSON's string syntax is valid YAML, so a
/// service name with quotes, colons or `#` stays one string.
fn quoted(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

/// A manual step's body.
fn manual(instructions: &str) -> String {
    format!("manual: {}", quoted(instructions))
}

/// A duration in the YAML, where it must parse back as a humantime value.
fn human(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

fn header(rb: &mut Text, service: &ServiceSpec, kind: Kind, region: &str) {
    let drain = if kind == Kind::DrainRegion {
        format!(" --region {region}")
    } else {
        String::new()
    };
    rb.line(&format!(
        "# Written by `drconsole runbook new {} --kind {}{drain}` from the",
        service.id,
        kind.name()
    ));
    rb.line("# environment's description of the service. Identifiers are `${service.…}`");
    rb.line("# variables, filled from the environment when the runbook is checked, planned");
    rb.line("# or run. Review every step, rehearse it in a drill, then set `owner` and");
    rb.line("# `last_tested`.");
    rb.line(&format!(
        "name: {}",
        quoted(&format!("{} — {}", service.name, kind.title()))
    ));
    rb.line("description: |");
    for line in description(kind) {
        rb.line(&format!("  {line}"));
    }
    rb.line(&format!("service: {}", quoted(&service.id)));
    rb.line("objectives:");
    rb.line(&format!("  rto: {}", human(service.objectives.rto)));
    rb.line(&format!("  rpo: {}", human(service.objectives.rpo)));
    rb.line("owner: unassigned");
    rb.line("# Never rehearsed: `runbook check` warns until a drill sets this date.");
    rb.line("last_tested: 1970-01-01");
}

fn description(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::UnplannedFailover => &[
            "Use when the primary region is failing and will not recover within the RTO.",
            "Fails the global database over to the DR region allowing data loss (bounded",
            "by the replication lag), points DNS at the DR region and proves it serves.",
        ],
        Kind::Switchover => &[
            "Move the writer to the DR region while both regions are healthy: game days",
            "and maintenance of the primary region. Loses no data.",
        ],
        Kind::DetachAndPromote => &[
            "Use when the primary region is failing and the managed failover cannot be used.",
            "Detaches the DR cluster from the global database; it becomes a standalone",
            "writer. Failback needs a new secondary first.",
        ],
        Kind::ReplicaPromotion => &[
            "Use when the primary instance is lost with its region. Promotes the",
            "cross-region read replica to a standalone, writable instance. One-way: the",
            "old primary must be rebuilt from it later.",
        ],
        Kind::Failback => &[
            "Return the writer to the primary region after a failover, once the old",
            "primary has rejoined the global database as a secondary and caught up.",
        ],
        Kind::DrainRegion => &[
            "Take one region of the active-active service out of rotation by inverting",
            "its Route 53 health check (its latency record stops being served), do the",
            "work there, then restore the check and wait until the region serves again.",
        ],
    }
}

fn parameters(rb: &mut Text, params: &[(&str, &str, &str)]) {
    rb.line("parameters:");
    for (name, description, default) in params {
        rb.line(&format!("  {name}:"));
        rb.line(&format!("    description: {description}"));
        rb.line(&format!("    default: \"{default}\""));
    }
    rb.line("steps:");
}

/// Region health conditions for the regions that have health checks: a
/// region without one cannot be judged, so it is left to the operator.
fn health_conditions(service: &ServiceSpec, wanted: &[(&str, &str, &str)]) -> String {
    let mut out = String::new();
    for (region_var, region, is) in wanted {
        if service.health_checks.iter().any(|h| h.region == *region) {
            let _ = writeln!(
                out,
                "  - region_health: {{ region: \"${{{region_var}}}\", is: {is} }}"
            );
        }
    }
    out
}

fn confirm_regions(
    rb: &mut Text,
    service: &ServiceSpec,
    id: &str,
    title: &str,
    wanted: &[(&str, &str, &str)],
    budget: &str,
) {
    let conditions = health_conditions(service, wanted);
    if conditions.is_empty() {
        rb.step(
            id,
            title,
            Some(budget),
            &manual("The service has no Route 53 health checks in these regions; confirm their state from the application's own monitoring."),
        );
    } else {
        rb.step(id, title, Some(budget), &format!("check:\n{conditions}"));
    }
}

/// Points the failover pair's PRIMARY record at `target`, waits until
/// Route 53 has applied it; a manual step when the service has no record.
fn point_dns(
    rb: &mut Text,
    service: &ServiceSpec,
    target_var: &str,
    health_check: Option<&str>,
    region_var: &str,
) {
    let Some(dns) = &service.dns else {
        rb.step(
            "point-clients",
            "Point clients at the new writer's region",
            Some("3m"),
            &manual(&format!(
                "The service declares no DNS record; repoint its clients at ${{{region_var}}} by hand."
            )),
        );
        return;
    };
    let mut body = String::from("action:\n  type: upsert-record\n");
    body.push_str("  zone_id: \"${service.dns.zone_id}\"\n");
    body.push_str("  name: \"${service.dns.record}\"\n");
    body.push_str("  # The PRIMARY half of the failover pair. Its SetIdentifier is a parameter:\n");
    body.push_str("  # the environment does not record it.\n");
    body.push_str("  set_identifier: \"${primary_set_identifier}\"\n");
    body.push_str("  failover: PRIMARY\n");
    if let Some(var) = health_check {
        let _ = writeln!(body, "  health_check_id: \"${{{var}}}\"");
    }
    let _ = write!(
        body,
        "  record:\n    kind: cname\n    value: \"${{{target_var}}}\"\n    ttl: {}\nconfirm: yes",
        dns.ttl
    );
    rb.step(
        "point-dns",
        "Point the service's record at the new writer's region",
        Some("1m"),
        &body,
    );
    rb.step(
        "dns-propagated",
        "Wait for the DNS change to reach every Route 53 server",
        Some("2m"),
        "wait:\n  until:\n    - dns_change_insync\n  timeout: 5m\n  poll: 5s",
    );
}

fn smoke_test(rb: &mut Text, region_var: &str, budget: &str) {
    rb.step(
        "smoke-test",
        "Smoke test the application",
        Some(budget),
        &manual(&format!(
            "In ${{{region_var}}}, check the application's health, database connectivity, login, a read and a write."
        )),
    );
}

fn dns_parameter(service: &ServiceSpec) -> Option<(&'static str, &'static str, &'static str)> {
    service.dns.as_ref().map(|_| {
        (
            "primary_set_identifier",
            "SetIdentifier of the PRIMARY record of the service's failover pair",
            "primary",
        )
    })
}

fn region_parameters(service: &ServiceSpec) -> Vec<(&'static str, &'static str, &'static str)> {
    let mut params = vec![
        (
            "primary_region",
            "The service's primary region",
            "${service.primary_region}",
        ),
        (
            "dr_region",
            "The region to recover into",
            "${service.dr_region}",
        ),
    ];
    params.extend(dns_parameter(service));
    params
}

fn unplanned_failover(rb: &mut Text, service: &ServiceSpec) {
    parameters(rb, &region_parameters(service));
    confirm_regions(
        rb,
        service,
        "confirm-outage",
        "Confirm the primary region is unhealthy and the DR region healthy",
        &[
            ("primary_region", &service.primary_region, "unhealthy"),
            ("dr_region", &service.dr_region, "healthy"),
        ],
        "1m",
    );
    rb.step(
        "announce",
        "Tell stakeholders the failover is starting",
        None,
        "notify: \"${service}: starting unplanned failover from ${primary_region} to ${dr_region} (operator ${operator})\"",
    );
    rb.step(
        "failover-database",
        "Fail the global database over to the DR region",
        Some("1m"),
        "action:\n  type: failover-global-cluster\n  region: \"${dr_region}\"\n  global_cluster: \"${service.global_cluster}\"\n  target_cluster: \"${service.secondary_cluster}\"\n  allow_data_loss: true\nconfirm: typed",
    );
    rb.step(
        "database-writable",
        "Wait until the DR cluster is available and accepts writes",
        Some("3m"),
        "wait:\n  until:\n    - cluster_available: { cluster: \"${service.secondary_cluster}\" }\n    - cluster_role: { cluster: \"${service.secondary_cluster}\", is: writer }\n    - global_writer_in: { global_cluster: \"${service.global_cluster}\", region: \"${dr_region}\" }\n  timeout: 10m\n  poll: 5s",
    );
    point_dns(
        rb,
        service,
        "service.dns.secondary_target",
        None,
        "dr_region",
    );
    smoke_test(rb, "dr_region", "5m");
    rb.step(
        "record-rto",
        "Announce recovery and the actual RTO",
        None,
        &format!(
            "notify: \"${{service}} recovered in ${{dr_region}}; actual RTO ${{run_elapsed}} (objective {})\"",
            crate::format::objective(service.objectives.rto)
        ),
    );
}

fn switchover(rb: &mut Text, service: &ServiceSpec) {
    parameters(rb, &region_parameters(service));
    let health = health_conditions(
        service,
        &[
            ("primary_region", &service.primary_region, "healthy"),
            ("dr_region", &service.dr_region, "healthy"),
        ],
    );
    rb.step(
        "both-regions-ready",
        "Both regions are healthy and the roles are as expected",
        Some("1m"),
        &format!(
            "check:\n{health}  - cluster_role: {{ cluster: \"${{service.primary_cluster}}\", is: writer }}\n  - cluster_role: {{ cluster: \"${{service.secondary_cluster}}\", is: secondary }}\n  - replication_lag_below: {{ resource: \"${{service.secondary_cluster}}\", max: 5s }}"
        ),
    );
    rb.step(
        "announce",
        "Announce the switchover",
        None,
        "notify: \"${service}: planned switchover from ${primary_region} to ${dr_region} starting (operator ${operator})\"",
    );
    rb.step(
        "switchover",
        "Switch the global database writer to the DR region",
        Some("1m"),
        "action:\n  type: switchover-global-cluster\n  region: \"${dr_region}\"\n  global_cluster: \"${service.global_cluster}\"\n  target_cluster: \"${service.secondary_cluster}\"\nconfirm: typed",
    );
    rb.step(
        "roles-swapped",
        "Wait until the roles have swapped",
        Some("4m"),
        "wait:\n  until:\n    - global_writer_in: { global_cluster: \"${service.global_cluster}\", region: \"${dr_region}\" }\n    - cluster_available: { cluster: \"${service.secondary_cluster}\" }\n    - cluster_role: { cluster: \"${service.secondary_cluster}\", is: writer }\n    - cluster_role: { cluster: \"${service.primary_cluster}\", is: secondary }\n  timeout: 10m\n  poll: 5s",
    );
    point_dns(
        rb,
        service,
        "service.dns.secondary_target",
        None,
        "dr_region",
    );
    smoke_test(rb, "dr_region", "4m");
    rb.step(
        "done",
        "Announce completion",
        None,
        "notify: \"${service} now writes in ${dr_region}; switchover took ${run_elapsed}\"",
    );
}

fn detach_and_promote(rb: &mut Text, service: &ServiceSpec) {
    parameters(rb, &region_parameters(service));
    confirm_regions(
        rb,
        service,
        "confirm-outage",
        "Confirm the primary region is unhealthy and the DR region healthy",
        &[
            ("primary_region", &service.primary_region, "unhealthy"),
            ("dr_region", &service.dr_region, "healthy"),
        ],
        "1m",
    );
    rb.step(
        "announce",
        "Tell stakeholders the failover is starting",
        None,
        "notify: \"${service}: detaching the DR cluster in ${dr_region} from the global database (operator ${operator})\"",
    );
    rb.step(
        "detach-secondary",
        "Detach the DR cluster from the global database",
        Some("1m"),
        "action:\n  type: remove-from-global-cluster\n  region: \"${dr_region}\"\n  global_cluster: \"${service.global_cluster}\"\n  cluster: \"${service.secondary_cluster}\"\nconfirm: typed",
    );
    rb.step(
        "database-writable",
        "Wait until the detached cluster is available and stands alone",
        Some("3m"),
        "wait:\n  until:\n    - cluster_available: { cluster: \"${service.secondary_cluster}\" }\n    - cluster_role: { cluster: \"${service.secondary_cluster}\", is: standalone }\n  timeout: 10m\n  poll: 5s",
    );
    point_dns(
        rb,
        service,
        "service.dns.secondary_target",
        None,
        "dr_region",
    );
    smoke_test(rb, "dr_region", "5m");
    rb.step(
        "record-rto",
        "Announce recovery and the actual RTO",
        None,
        "notify: \"${service} writes in ${dr_region} on a standalone cluster; elapsed ${run_elapsed}\"",
    );
}

fn failback(rb: &mut Text, service: &ServiceSpec) {
    parameters(rb, &region_parameters(service));
    confirm_regions(
        rb,
        service,
        "home-healthy",
        "The primary region is healthy again",
        &[("primary_region", &service.primary_region, "healthy")],
        "1m",
    );
    rb.step(
        "rejoined",
        "The old primary has rejoined as a secondary",
        Some("1m"),
        "check:\n  - cluster_role: { cluster: \"${service.primary_cluster}\", is: secondary }\n  - global_writer_in: { global_cluster: \"${service.global_cluster}\", region: \"${dr_region}\" }",
    );
    rb.step(
        "caught-up",
        "Wait until replication to the primary region has caught up",
        Some("3m"),
        "wait:\n  until:\n    - replication_lag_below: { resource: \"${service.primary_cluster}\", max: 1s }\n  timeout: 30m\n  poll: 10s",
    );
    rb.step(
        "announce",
        "Announce the failback window",
        None,
        "notify: \"${service}: failing back to ${primary_region} (operator ${operator})\"",
    );
    rb.step(
        "switch-back",
        "Switch the writer back to the primary region",
        Some("1m"),
        "action:\n  type: switchover-global-cluster\n  region: \"${primary_region}\"\n  global_cluster: \"${service.global_cluster}\"\n  target_cluster: \"${service.primary_cluster}\"\nconfirm: typed",
    );
    rb.step(
        "home-writes",
        "Wait until the primary region writes again",
        Some("4m"),
        "wait:\n  until:\n    - global_writer_in: { global_cluster: \"${service.global_cluster}\", region: \"${primary_region}\" }\n    - cluster_available: { cluster: \"${service.primary_cluster}\" }\n    - cluster_role: { cluster: \"${service.primary_cluster}\", is: writer }\n  timeout: 10m\n  poll: 5s",
    );
    let primary_check = service
        .health_checks
        .iter()
        .any(|h| h.region == service.primary_region)
        .then_some("service.primary_health_check");
    point_dns(
        rb,
        service,
        "service.dns.primary_target",
        primary_check,
        "primary_region",
    );
    smoke_test(rb, "primary_region", "2m");
    rb.step(
        "done",
        "Announce the failback is complete",
        None,
        "notify: \"${service} is back in ${primary_region}; failback took ${run_elapsed}\"",
    );
}

fn replica_promotion(rb: &mut Text, service: &ServiceSpec) {
    parameters(rb, &region_parameters(service));
    confirm_regions(
        rb,
        service,
        "primary-lost",
        "Confirm the primary region is unhealthy",
        &[("primary_region", &service.primary_region, "unhealthy")],
        "5m",
    );
    rb.step(
        "lag-known",
        "Note how far behind the replica is",
        Some("5m"),
        &manual("Read the replica lag on the dashboard and record it in the incident ticket: it is the data this promotion loses."),
    );
    rb.step(
        "announce",
        "Announce the promotion",
        None,
        "notify: \"${service}: promoting ${service.replica_instance} in ${dr_region}; replication stops permanently\"",
    );
    rb.step(
        "promote",
        "Promote the read replica",
        Some("10m"),
        "action:\n  type: promote-read-replica\n  region: \"${dr_region}\"\n  instance: \"${service.replica_instance}\"\n  backup_retention_days: 7\nconfirm: typed",
    );
    rb.step(
        "promoted",
        "Wait until the replica stands alone and is available",
        Some("30m"),
        "wait:\n  until:\n    - replica_promoted: { instance: \"${service.replica_instance}\" }\n  timeout: 1h\n  poll: 30s",
    );
    rb.step(
        "repoint",
        "Point the application's database endpoint at the promoted instance",
        Some("15m"),
        &manual("Update the database endpoint the application uses to ${service.replica_instance} and restart it."),
    );
    point_dns(
        rb,
        service,
        "service.dns.secondary_target",
        None,
        "dr_region",
    );
    smoke_test(rb, "dr_region", "10m");
    rb.step(
        "done",
        "Announce recovery",
        None,
        "notify: \"${service} is writing to ${service.replica_instance} in ${dr_region}; elapsed ${run_elapsed}\"",
    );
}

fn drain_region(rb: &mut Text, service: &ServiceSpec, region: &str) {
    let check = format!("service.health_check.{region}");
    let others: std::collections::BTreeSet<&str> = service
        .health_checks
        .iter()
        .map(|h| h.region.as_str())
        .filter(|r| *r != region)
        .collect();
    rb.line("steps:");
    let mut serving = String::new();
    for other in &others {
        let _ = writeln!(
            serving,
            "  - region_health: {{ region: {}, is: healthy }}",
            quoted(other)
        );
    }
    rb.step(
        "others-serving",
        "The other regions are healthy and can take the traffic",
        Some("1m"),
        &format!("check:\n{serving}"),
    );
    rb.step(
        "announce",
        "Announce the drain",
        None,
        &format!("notify: \"${{service}}: draining {region} (operator ${{operator}})\""),
    );
    rb.step(
        "drain",
        "Take the region out of rotation: invert its health check",
        Some("1m"),
        &format!(
            "# Route 53 then treats the region's latency record as unhealthy and answers\n# with the next-closest healthy region.\naction:\n  type: update-health-check\n  health_check_id: \"${{{check}}}\"\n  inverted: true\nconfirm: typed"
        ),
    );
    rb.step(
        "drained",
        "Wait until Route 53 sees the region as unhealthy",
        Some("2m"),
        &format!(
            "wait:\n  until:\n    - health_check: {{ id: \"${{{check}}}\", is: unhealthy }}\n  timeout: 5m\n  poll: 10s"
        ),
    );
    rb.step(
        "work",
        "Do the work in the drained region",
        None,
        &manual(&format!(
            "Carry out the maintenance or investigation in {region}; no user traffic reaches it now."
        )),
    );
    rb.step(
        "restore",
        "Put the region back in rotation: restore its health check",
        Some("1m"),
        &format!(
            "action:\n  type: update-health-check\n  health_check_id: \"${{{check}}}\"\n  inverted: false\nconfirm: yes"
        ),
    );
    rb.step(
        "restored",
        "Wait until the region passes its health check again",
        Some("2m"),
        &format!(
            "wait:\n  until:\n    - health_check: {{ id: \"${{{check}}}\", is: healthy }}\n  timeout: 5m\n  poll: 10s"
        ),
    );
    rb.step(
        "done",
        "Announce the region serves again",
        None,
        &format!("notify: \"${{service}}: {region} is back in rotation after ${{run_elapsed}}\""),
    );
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::NaiveDate;

    use super::*;
    use crate::config::environment_file::demo_environment;
    use crate::domain::environment::Environment;
    use crate::runbook::{format, validate};

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
    }

    /// The diagnostics `runbook check` prints for the generated text.
    fn checked(env: &Environment, service: &str, kind: Kind, region: &str) -> Vec<String> {
        let text = generate(env.service(service).unwrap(), kind, region).unwrap();
        let rb =
            format::parse(Path::new("new.yaml"), &text).unwrap_or_else(|d| panic!("{d:?}\n{text}"));
        validate::validate(&rb, env, today())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn errors(diags: &[String]) -> Vec<&String> {
        diags.iter().filter(|d| d.contains(": error: ")).collect()
    }

    #[test]
    fn every_kind_that_fits_a_demo_service_passes_check() {
        let env = demo_environment();
        let cases = [
            ("orders", Kind::UnplannedFailover),
            ("orders", Kind::Switchover),
            ("orders", Kind::DetachAndPromote),
            ("orders", Kind::Failback),
            ("billing", Kind::ReplicaPromotion),
        ];
        for (service, kind) in cases {
            let diags = checked(&env, service, kind, "us-east-1");
            assert!(errors(&diags).is_empty(), "{service} {kind:?}: {diags:#?}");
            assert!(
                diags.iter().any(|d| d.contains("last tested 1970-01-01")),
                "a generated runbook is not presented as tested: {diags:?}"
            );
        }
    }

    #[test]
    fn identifiers_are_variables_not_the_estates_values() {
        let env = demo_environment();
        let text = generate(env.service("orders").unwrap(), Kind::Failback, "").unwrap();
        for literal in [
            "orders-global",
            "orders-primary",
            "Z0DEMO00000001",
            "hc-orders-use1",
        ] {
            assert!(!text.contains(literal), "{literal} in\n{text}");
        }
        assert!(text.contains("health_check_id: \"${service.primary_health_check}\""));
        assert!(text.contains("target_cluster: \"${service.primary_cluster}\""));
    }

    #[test]
    fn a_service_without_dns_or_health_checks_gets_manual_steps_instead() {
        let mut env = demo_environment();
        let billing = env.services.iter_mut().find(|s| s.id == "billing").unwrap();
        billing.dns = None;
        billing.health_checks.clear();
        let text = generate(billing, Kind::ReplicaPromotion, "").unwrap();
        assert!(!text.contains("upsert-record") && !text.contains("region_health"));
        assert!(text.contains("declares no DNS record"));
        let diags = checked(&env, "billing", Kind::ReplicaPromotion, "");
        assert!(errors(&diags).is_empty(), "{diags:#?}");
    }

    #[test]
    fn kinds_that_do_not_fit_are_refused_saying_what_fits() {
        let env = demo_environment();
        let billing = env.service("billing").unwrap();
        assert_eq!(
            generate(billing, Kind::Switchover, "")
                .unwrap_err()
                .to_string(),
            "`switchover` needs an Aurora global database (replication kind aurora-global); service `billing` replicates by rds replica. Kinds that fit it: replica-promotion"
        );
        let orders = env.service("orders").unwrap();
        assert_eq!(
            generate(orders, Kind::DrainRegion, "us-east-1")
                .unwrap_err()
                .to_string(),
            "`drain-region` needs an active-active service (tier active-active); service `orders` is warm standby. Kinds that fit it: unplanned-failover, switchover, detach-and-promote, failback"
        );
        assert_eq!(fitting(env.service("assets").unwrap()), vec![]);
    }

    #[test]
    fn a_drain_inverts_the_regions_check_and_never_the_last_one() {
        let mut env = demo_environment();
        let orders = env.services.iter_mut().find(|s| s.id == "orders").unwrap();
        orders.tier = DrTier::ActiveActive;
        let text = generate(orders, Kind::DrainRegion, "us-west-2").unwrap();
        assert!(text.contains(
            "  type: update-health-check\n      health_check_id: \"${service.health_check.us-west-2}\"\n      inverted: true"
        ), "{text}");
        assert!(text.contains("- region_health: { region: \"us-east-1\", is: healthy }"));
        let diags = checked(&env, "orders", Kind::DrainRegion, "us-west-2");
        assert!(errors(&diags).is_empty(), "{diags:#?}");

        let orders = env.services.iter_mut().find(|s| s.id == "orders").unwrap();
        assert!(matches!(
            generate(orders, Kind::DrainRegion, "eu-west-1"),
            Err(Unfit::NoHealthCheck { .. })
        ));
        orders.health_checks.retain(|h| h.region == "us-west-2");
        assert_eq!(
            generate(orders, Kind::DrainRegion, "us-west-2")
                .unwrap_err()
                .to_string(),
            "`drain-region` of us-west-2: service `orders` has no health check in any other region, so draining it leaves no region serving"
        );
    }

    #[test]
    fn a_hostile_service_name_stays_one_yaml_string() {
        let mut env = demo_environment();
        let orders = env.services.iter_mut().find(|s| s.id == "orders").unwrap();
        orders.name = "Orders\" # not a comment: {x} [y] &z".into();
        let diags = checked(&env, "orders", Kind::Switchover, "");
        assert!(errors(&diags).is_empty(), "{diags:#?}");
    }
}
