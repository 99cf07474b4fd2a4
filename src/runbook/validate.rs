//! Checks a parsed runbook against the environment it will run in.
//!
//! Serde has already rejected what does not fit the format (unknown step
//! kinds, unknown action types, missing fields); this pass finds what is
//! well-formed but wrong: references to resources the environment does not
//! have, actions on resources of another service, duplicate step ids,
//! variables nothing defines, stale testing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;

use super::condition::{Condition, same_resource};
use super::diagnostic::{Diagnostic, Pos};
use super::format::{self, Runbook, Step, StepKind};
use super::ownership;
use super::vars::{self, BUILTINS, SERVICE_PREFIX, Variables};
use crate::domain::action::Action;
use crate::domain::environment::{Environment, Replication, ServiceSpec};

/// A runbook not exercised for this long is a runbook nobody trusts.
pub const STALE_AFTER_DAYS: i64 = 90;

/// Parses and validates one file: the diagnostics `runbook check` prints.
pub fn check_file(path: &Path, env: &Environment, today: NaiveDate) -> Vec<Diagnostic> {
    match format::load(path) {
        Ok(runbook) => validate(&runbook, env, today),
        Err(diagnostics) => diagnostics,
    }
}

pub fn validate(rb: &Runbook, env: &Environment, today: NaiveDate) -> Vec<Diagnostic> {
    let mut out = Findings {
        path: &rb.path,
        list: Vec::new(),
    };
    let known = Known::of(env);

    if env.service(&rb.service).is_none() {
        out.error(
            rb.service_pos,
            format!(
                "service `{}` is not in environment `{}` (it has: {})",
                rb.service,
                env.name,
                list(env.services.iter().map(|s| s.id.as_str()))
            ),
        );
    }
    check_last_tested(rb, today, &mut out);
    if rb.steps.is_empty() {
        out.error(Pos::START, "the runbook has no steps");
    }
    check_budgets(rb, &mut out);

    let service_vars = env
        .service(&rb.service)
        .map(vars::service_variables)
        .unwrap_or_default();
    let mut defined: BTreeSet<String> = BUILTINS.iter().map(|s| s.to_string()).collect();
    for p in &rb.parameters {
        for name in p.default.iter().flat_map(|d| vars::references(d)) {
            if name.starts_with(SERVICE_PREFIX) {
                if !service_vars.contains_key(name) {
                    out.error(
                        p.pos,
                        format!(
                            "default of parameter `{}` uses {}",
                            p.name,
                            missing_service_variable(name, &rb.service, &service_vars)
                        ),
                    );
                }
            } else if !BUILTINS.contains(&name) {
                out.error(
                    p.pos,
                    format!(
                        "default of parameter `{}` uses `${{{name}}}`; defaults may only use builtins ({}) and the service's `${{{SERVICE_PREFIX}…}}` variables",
                        p.name,
                        BUILTINS.join(", ")
                    ),
                );
            }
        }
    }
    defined.extend(rb.parameters.iter().map(|p| p.name.clone()));
    // References are checked with the service's variables and parameter
    // defaults filled in; a value that only the operator or a capture
    // supplies is checked at plan/run time.
    let mut defaults: Variables = rb
        .parameters
        .iter()
        .filter_map(|p| {
            let value = vars::substitute(p.default.as_ref()?, &service_vars, false).ok()?;
            Some((p.name.clone(), value))
        })
        .filter(|(_, v)| vars::references(v).is_empty())
        .collect();
    defaults.extend(service_vars.clone());

    let mut seen_ids: BTreeMap<&str, Pos> = BTreeMap::new();
    let mut change_made = false;
    for step in &rb.steps {
        if let Some(first) = seen_ids.get(step.id.as_str()) {
            out.error(
                step.pos,
                format!(
                    "duplicate step id `{}` (first used at line {})",
                    step.id, first.line
                ),
            );
        } else {
            seen_ids.insert(&step.id, step.pos);
        }
        for name in step_strings(step).iter().flat_map(|s| vars::references(s)) {
            if name.starts_with(SERVICE_PREFIX) {
                if !service_vars.contains_key(name) {
                    out.error(
                        step.pos,
                        format!(
                            "step `{}` uses {}",
                            step.id,
                            missing_service_variable(name, &rb.service, &service_vars)
                        ),
                    );
                }
            } else if !defined.contains(name) {
                out.error(
                    step.pos,
                    format!(
                        "step `{}` uses `${{{name}}}`, which no parameter, earlier capture or builtin defines",
                        step.id
                    ),
                );
            }
        }
        check_step(step, &known, &defaults, change_made, env, rb, &mut out);
        match &step.kind {
            StepKind::Action { action, .. } => {
                change_made = matches!(action, Action::UpsertRecord { .. });
            }
            StepKind::Http(http) => defined.extend(http.capture.keys().cloned()),
            _ => {}
        }
    }
    out.list.sort_by_key(|d| d.pos);
    out.list
}

/// Why `${name}` has no value: the service lacks that resource (or no such
/// variable exists), followed by the service variables it does have.
fn missing_service_variable(name: &str, service: &str, have: &Variables) -> String {
    let known = if have.is_empty() {
        format!("service `{service}` is not in the environment, so none are defined")
    } else {
        format!(
            "service `{service}` has: {}",
            list(have.keys().map(String::as_str))
        )
    };
    format!("`${{{name}}}`, which the environment does not define for this service ({known})")
}

struct Findings<'a> {
    path: &'a Path,
    list: Vec<Diagnostic>,
}

impl Findings<'_> {
    fn error(&mut self, pos: Pos, message: impl Into<String>) {
        self.list.push(Diagnostic::error(self.path, pos, message));
    }

    fn warning(&mut self, pos: Pos, message: impl Into<String>) {
        self.list.push(Diagnostic::warning(self.path, pos, message));
    }
}

fn check_last_tested(rb: &Runbook, today: NaiveDate, out: &mut Findings<'_>) {
    let age = (today - rb.last_tested).num_days();
    if age > STALE_AFTER_DAYS {
        out.warning(
            rb.last_tested_pos,
            format!(
                "last tested {} ({age} days ago, more than {STALE_AFTER_DAYS}): run a drill",
                rb.last_tested
            ),
        );
    } else if age < 0 {
        out.warning(
            rb.last_tested_pos,
            format!("last tested {} is in the future", rb.last_tested),
        );
    }
}

fn check_budgets(rb: &Runbook, out: &mut Findings<'_>) {
    let planned: std::time::Duration = rb.steps.iter().filter_map(|s| s.expect_within).sum();
    if planned > rb.objectives.rto {
        out.warning(
            Pos::START,
            format!(
                "the steps' budgets add up to {}, more than the RTO of {}",
                crate::format::objective(planned),
                crate::format::objective(rb.objectives.rto)
            ),
        );
    }
}

/// The strings of a step in which `${...}` is substituted.
fn step_strings(step: &Step) -> Vec<String> {
    match &step.kind {
        StepKind::Manual { instructions } => vec![instructions.clone()],
        StepKind::Check { conditions } => vars::strings_in(conditions),
        StepKind::Action { action, .. } => vars::strings_in(action),
        StepKind::Wait(wait) => vars::strings_in(&wait.until),
        StepKind::Http(http) => vars::strings_in(http),
        StepKind::Notify { message } => vec![message.clone()],
    }
}

fn check_step(
    step: &Step,
    known: &Known,
    defaults: &Variables,
    change_made: bool,
    env: &Environment,
    rb: &Runbook,
    out: &mut Findings<'_>,
) {
    let mut refs = Vec::new();
    match &step.kind {
        StepKind::Check { conditions } => {
            if conditions.is_empty() {
                out.error(
                    step.pos,
                    format!("check step `{}` has no conditions", step.id),
                );
            }
            for c in conditions {
                condition_refs(c, &mut refs);
            }
        }
        StepKind::Wait(wait) => {
            if wait.until.is_empty() {
                out.error(
                    step.pos,
                    format!("wait step `{}` has no conditions", step.id),
                );
            }
            // The parser has bounded each of the two; only their order is left.
            if wait.poll > wait.timeout {
                out.error(
                    step.pos,
                    format!(
                        "wait step `{}` polls every {}, which must be within its timeout",
                        step.id,
                        crate::format::objective(wait.poll)
                    ),
                );
            }
            for c in &wait.until {
                condition_refs(c, &mut refs);
            }
        }
        StepKind::Action { action, .. } => match vars::resolve(action, defaults, false) {
            Ok(resolved) => action_refs(&resolved, known, env.service(&rb.service), step, out),
            Err(e) => out.error(step.pos, format!("step `{}`: {e}", step.id)),
        },
        StepKind::Http(http) => {
            for (name, pointer) in &http.capture {
                if !pointer.is_empty() && !pointer.starts_with('/') {
                    out.error(
                        step.pos,
                        format!(
                            "step `{}` captures `{name}` from `{pointer}`: expected a JSON pointer such as `/token`",
                            step.id
                        ),
                    );
                }
            }
        }
        StepKind::Manual { .. } | StepKind::Notify { .. } => {}
    }
    let waits_on_change = match &step.kind {
        StepKind::Check { conditions } => conditions.contains(&Condition::DnsChangeInsync),
        StepKind::Wait(wait) => wait.until.contains(&Condition::DnsChangeInsync),
        _ => false,
    };
    if waits_on_change && !change_made {
        out.error(
            step.pos,
            format!(
                "step `{}` waits for a DNS change, but the latest action before it is not an upsert-record",
                step.id
            ),
        );
    }
    let uses_dns = |c: &Condition| matches!(c, Condition::DnsServing { .. });
    let dns_conditions = match &step.kind {
        StepKind::Check { conditions } => conditions.iter().any(uses_dns),
        StepKind::Wait(wait) => wait.until.iter().any(uses_dns),
        _ => false,
    };
    if dns_conditions && env.service(&rb.service).is_some_and(|s| s.dns.is_none()) {
        out.error(
            step.pos,
            format!(
                "step `{}` asks which region DNS serves, but service `{}` has no DNS record",
                step.id, rb.service
            ),
        );
    }
    for r in refs {
        let value = match vars::substitute(r.value, defaults, false) {
            Ok(v) if vars::references(&v).is_empty() => v,
            _ => continue,
        };
        if !known.has(r.kind, &value) {
            out.error(
                step.pos,
                format!(
                    "step `{}`: {} `{value}` is not in the environment (known: {})",
                    step.id,
                    r.kind.label(),
                    list(known.ids(r.kind).iter().map(String::as_str))
                ),
            );
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RefKind {
    Region,
    GlobalCluster,
    Cluster,
    Instance,
    HealthCheck,
    Zone,
    /// Anything that receives replicated data: cluster, instance or bucket.
    Replicated,
}

impl RefKind {
    fn label(self) -> &'static str {
        match self {
            RefKind::Region => "region",
            RefKind::GlobalCluster => "global cluster",
            RefKind::Cluster => "cluster",
            RefKind::Instance => "instance",
            RefKind::HealthCheck => "health check",
            RefKind::Zone => "hosted zone",
            RefKind::Replicated => "replicated resource",
        }
    }
}

struct Ref<'a> {
    kind: RefKind,
    value: &'a str,
}

fn condition_refs<'a>(c: &'a Condition, refs: &mut Vec<Ref<'a>>) {
    let mut add = |kind, value: &'a String| refs.push(Ref { kind, value });
    match c {
        Condition::RegionHealth { region, .. } | Condition::DnsServing { region } => {
            add(RefKind::Region, region)
        }
        Condition::HealthCheck { id, .. } => add(RefKind::HealthCheck, id),
        Condition::ClusterAvailable { cluster } | Condition::ClusterRole { cluster, .. } => {
            add(RefKind::Cluster, cluster)
        }
        Condition::GlobalWriterIn {
            global_cluster,
            region,
        } => {
            add(RefKind::GlobalCluster, global_cluster);
            add(RefKind::Region, region);
        }
        Condition::ReplicationLagBelow { resource, .. } => add(RefKind::Replicated, resource),
        Condition::DnsTarget { zone_id, .. } => add(RefKind::Zone, zone_id),
        Condition::ReplicaPromoted { instance } => add(RefKind::Instance, instance),
        Condition::DnsChangeInsync => {}
    }
}

/// Checks a resolved action's references: each must be in the environment
/// and belong to the runbook's service. The resolved action does not
/// outlive this call, so its findings are reported here rather than returned.
fn action_refs(
    action: &Action,
    known: &Known,
    service: Option<&ServiceSpec>,
    step: &Step,
    out: &mut Findings<'_>,
) {
    let reported = out.list.len();
    let mut wanted: Vec<(RefKind, &str)> = Vec::new();
    let mut call_region = None;
    let mut target = None;
    match action {
        Action::SwitchoverGlobalCluster {
            region,
            global_cluster,
            target_cluster,
        }
        | Action::FailoverGlobalCluster {
            region,
            global_cluster,
            target_cluster,
            ..
        } => {
            wanted.extend([
                (RefKind::Region, region.as_str()),
                (RefKind::GlobalCluster, global_cluster.as_str()),
                (RefKind::Cluster, target_cluster.as_str()),
            ]);
            call_region = Some(region.as_str());
            target = Some(target_cluster.as_str());
        }
        Action::RemoveFromGlobalCluster {
            region,
            global_cluster,
            cluster,
        } => {
            wanted.extend([
                (RefKind::Region, region.as_str()),
                (RefKind::GlobalCluster, global_cluster.as_str()),
                (RefKind::Cluster, cluster.as_str()),
            ]);
            call_region = Some(region.as_str());
            target = Some(cluster.as_str());
        }
        Action::PromoteReadReplica {
            region, instance, ..
        } => {
            wanted.extend([
                (RefKind::Region, region.as_str()),
                (RefKind::Instance, instance.as_str()),
            ]);
            call_region = Some(region.as_str());
            target = Some(instance.as_str());
        }
        Action::PromoteReadReplicaDbCluster { region, cluster } => {
            wanted.extend([
                (RefKind::Region, region.as_str()),
                (RefKind::Cluster, cluster.as_str()),
            ]);
            call_region = Some(region.as_str());
            target = Some(cluster.as_str());
        }
        Action::UpsertRecord {
            zone_id,
            health_check_id,
            ..
        } => {
            wanted.push((RefKind::Zone, zone_id.as_str()));
            if let Some(hc) = health_check_id {
                wanted.push((RefKind::HealthCheck, hc.as_str()));
            }
        }
        Action::UpdateHealthCheck {
            health_check_id, ..
        } => wanted.push((RefKind::HealthCheck, health_check_id.as_str())),
    }
    for (kind, value) in wanted {
        if vars::references(value).is_empty() && !known.has(kind, value) {
            out.error(
                step.pos,
                format!(
                    "step `{}`: {} `{value}` is not in the environment (known: {})",
                    step.id,
                    kind.label(),
                    list(known.ids(kind).iter().map(String::as_str))
                ),
            );
        }
    }
    if let (Some(region), Some(target)) = (call_region, target)
        && let Some(home) = known.region_of(target)
        && home != region
    {
        out.error(
            step.pos,
            format!(
                "step `{}`: the call goes to {region}, but `{target}` lives in {home}; RDS takes this call in the target's region",
                step.id
            ),
        );
    }
    // What the environment lacks is reported above already; a value still
    // holding `${...}` is known only at run time, where the engine checks it.
    let Some(service) = service.filter(|_| out.list.len() == reported) else {
        return;
    };
    let foreign: Vec<String> = ownership::foreign_targets(action, service)
        .iter()
        .filter(|f| vars::references(&f.id).is_empty())
        .map(ToString::to_string)
        .collect();
    if !foreign.is_empty() {
        out.error(
            step.pos,
            format!(
                "step `{}`: {} {} not part of service `{}`; a runbook acts only on its own service, whose lock it holds",
                step.id,
                foreign.join(", "),
                if foreign.len() == 1 { "is" } else { "are" },
                service.id
            ),
        );
    }
}

/// Identifiers the environment declares, by kind.
struct Known {
    ids: BTreeMap<&'static str, Vec<String>>,
    /// Region of each cluster and instance, where the environment says.
    regions_of: BTreeMap<String, String>,
}

impl Known {
    fn of(env: &Environment) -> Known {
        let mut known = Known {
            ids: BTreeMap::new(),
            regions_of: BTreeMap::new(),
        };
        for r in &env.regions {
            known.add(RefKind::Region, r);
        }
        for s in &env.services {
            for h in &s.health_checks {
                known.add(RefKind::HealthCheck, &h.id);
            }
            if let Some(dns) = &s.dns {
                known.add(RefKind::Zone, &dns.zone_id);
            }
            let (primary, dr) = (&s.primary_region, &s.dr_region);
            match &s.replication {
                Replication::AuroraGlobal {
                    global_cluster,
                    primary_cluster,
                    secondary_cluster,
                } => {
                    known.add(RefKind::GlobalCluster, global_cluster);
                    known.add_located(RefKind::Cluster, primary_cluster, primary);
                    known.add_located(RefKind::Cluster, secondary_cluster, dr);
                }
                Replication::RdsReplica {
                    source_instance,
                    replica_instance,
                } => {
                    known.add_located(RefKind::Instance, source_instance, primary);
                    known.add_located(RefKind::Instance, replica_instance, dr);
                }
                Replication::S3 {
                    source_bucket,
                    destination_bucket,
                } => {
                    known.add(RefKind::Replicated, source_bucket);
                    known.add(RefKind::Replicated, destination_bucket);
                }
                Replication::Backup {
                    clusters,
                    instances,
                } => {
                    for c in clusters {
                        known.add(RefKind::Cluster, c);
                    }
                    for i in instances {
                        known.add(RefKind::Instance, i);
                    }
                }
            }
        }
        known
    }

    fn key(kind: RefKind) -> &'static str {
        kind.label()
    }

    fn add(&mut self, kind: RefKind, id: &str) {
        let ids = self.ids.entry(Self::key(kind)).or_default();
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
        if matches!(kind, RefKind::Cluster | RefKind::Instance) {
            self.add(RefKind::Replicated, id);
        }
    }

    fn add_located(&mut self, kind: RefKind, id: &str, region: &str) {
        self.add(kind, id);
        self.regions_of.insert(id.to_string(), region.to_string());
    }

    fn ids(&self, kind: RefKind) -> &[String] {
        self.ids.get(Self::key(kind)).map_or(&[], Vec::as_slice)
    }

    fn has(&self, kind: RefKind, value: &str) -> bool {
        self.ids(kind).iter().any(|id| same_resource(id, value))
    }

    fn region_of(&self, id: &str) -> Option<&str> {
        self.regions_of
            .iter()
            .find(|(k, _)| same_resource(k, id))
            .map(|(_, r)| r.as_str())
    }
}

fn list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let items: Vec<&str> = items.collect();
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::source_file::load_toml;

    fn env() -> Environment {
        load_toml(Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/runbook-env.toml"
        )))
        .unwrap()
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    fn check(text: &str) -> Vec<String> {
        let diags = match format::parse(Path::new("rb.yaml"), text) {
            Ok(rb) => validate(&rb, &env(), today()),
            Err(d) => d,
        };
        diags.iter().map(ToString::to_string).collect()
    }

    const HEADER: &str = "name: t\nservice: orders\nobjectives: { rto: 15m, rpo: 5m }\nowner: me\nlast_tested: 2026-11-01\n";

    #[test]
    fn shipped_runbooks_are_clean() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/runbooks"));
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        files.sort();
        assert_eq!(files.len(), 6, "{files:?}");
        for file in files {
            let diags = check_file(&file, &env(), today());
            assert!(
                diags.is_empty(),
                "{}",
                diags
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            );
        }
    }

    #[test]
    fn unknown_step_kind_names_line_column_and_the_kinds() {
        let text = format!("{HEADER}steps:\n  - id: a\n    title: A\n    shell: rm -rf /\n");
        let d = check(&text);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(
            d[0].starts_with("rb.yaml:9:5: error: unknown field `shell`"),
            "{d:?}"
        );
        assert!(d[0].contains("manual") && d[0].contains("notify"), "{d:?}");
    }

    #[test]
    fn unknown_action_type_lists_the_known_ones() {
        let text = format!(
            "{HEADER}steps:\n  - id: a\n    title: A\n    action:\n      type: reboot-region\n      region: us-east-1\n"
        );
        let d = check(&text);
        assert!(
            d[0].starts_with("rb.yaml:10:7: error: unknown variant `reboot-region`"),
            "{d:?}"
        );
        assert!(d[0].contains("failover-global-cluster"), "{d:?}");
    }

    #[test]
    fn missing_action_parameter_is_named() {
        let text = format!(
            "{HEADER}steps:\n  - id: a\n    title: A\n    action:\n      type: promote-read-replica\n      region: us-west-2\n"
        );
        let d = check(&text);
        assert!(d[0].starts_with("rb.yaml:9:"), "{d:?}");
        assert!(d[0].contains("missing field `instance`"), "{d:?}");
    }

    #[test]
    fn a_step_with_two_kinds_or_none_is_refused_at_the_step() {
        let text = format!(
            "{HEADER}steps:\n  - id: a\n    title: A\n    manual: do it\n    notify: done\n  - id: b\n    title: B\n"
        );
        let d = check(&text);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(
            d[0].starts_with("rb.yaml:7:5: error: step `a` must have exactly one of"),
            "{d:?}"
        );
        assert!(d[0].ends_with("found manual, notify"), "{d:?}");
        assert!(
            d[1].starts_with("rb.yaml:11:5:") && d[1].ends_with("found none"),
            "{d:?}"
        );
    }

    #[test]
    fn references_the_environment_lacks_are_errors_with_what_exists() {
        let text = format!(
            "{HEADER}steps:\n  - id: a\n    title: A\n    action:\n      type: failover-global-cluster\n      region: us-west-2\n      global_cluster: prod-global\n      target_cluster: orders-secondary\n  - id: b\n    title: B\n    check:\n      - health_check: {{ id: hc-nope, is: healthy }}\n      - region_health: {{ region: eu-west-1, is: healthy }}\n  - id: c\n    title: C\n    action:\n      type: upsert-record\n      zone_id: ZNOPE\n      name: api.example.com.\n      record: {{ kind: cname, value: x, ttl: 60 }}\n"
        );
        let d = check(&text);
        assert_eq!(d.len(), 4, "{d:#?}");
        assert!(d[0].starts_with("rb.yaml:7:5: error: step `a`: global cluster `prod-global` is not in the environment (known: orders-global)"), "{d:?}");
        assert!(d[1].contains("health check `hc-nope`"), "{d:?}");
        assert!(
            d[2].contains("region `eu-west-1`") && d[2].contains("us-east-1, us-west-2"),
            "{d:?}"
        );
        assert!(
            d[3].starts_with("rb.yaml:19:5:") && d[3].contains("hosted zone `ZNOPE`"),
            "{d:?}"
        );
    }

    #[test]
    fn an_action_sent_to_the_wrong_region_is_caught() {
        let text = format!(
            "{HEADER}steps:\n  - id: a\n    title: A\n    action:\n      type: failover-global-cluster\n      region: us-east-1\n      global_cluster: orders-global\n      target_cluster: arn:aws:rds:us-west-2:123456789012:cluster:orders-secondary\n"
        );
        let d = check(&text);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].contains("lives in us-west-2"), "{d:?}");
    }

    #[test]
    fn duplicate_ids_undefined_variables_and_stale_tests() {
        let text = "name: t\nservice: orders\nobjectives: { rto: 15m, rpo: 5m }\nowner: me\nlast_tested: 2026-01-10\nparameters:\n  url: { default: \"${demo_app_url}\" }\nsteps:\n  - id: a\n    title: A\n    http: { url: \"${url}/x\", headers: { Authorization: \"Bearer ${token}\" } }\n  - id: a\n    title: B\n    http: { url: \"${url}/login\", capture: { token: /token } }\n  - id: c\n    title: C\n    notify: \"token ${token} and ${nope}\"\n";
        let d = check(text);
        assert_eq!(d.len(), 4, "{d:#?}");
        assert!(
            d[0].starts_with("rb.yaml:5:14: warning: last tested 2026-01-10 (319 days ago"),
            "{d:?}"
        );
        assert!(
            d[1].starts_with("rb.yaml:9:5: error: step `a` uses `${token}`"),
            "{d:?}"
        );
        assert!(
            d[2].starts_with("rb.yaml:12:5: error: duplicate step id `a` (first used at line 9)"),
            "{d:?}"
        );
        assert!(
            d[3].starts_with("rb.yaml:15:5: error: step `c` uses `${nope}`"),
            "{d:?}"
        );
    }

    #[test]
    fn service_variables_resolve_and_one_the_service_lacks_is_named_with_what_exists() {
        let steps = "steps:\n  - id: a\n    title: A\n    action:\n      type: failover-global-cluster\n      region: \"${service.dr_region}\"\n      global_cluster: \"${service.global_cluster}\"\n      target_cluster: \"${service.secondary_cluster}\"\n";
        assert_eq!(check(&format!("{HEADER}{steps}")), Vec::<String>::new());

        let billing = HEADER.replace("service: orders", "service: billing");
        let d = check(&format!(
            "{billing}parameters:\n  to: {{ default: \"${{service.dns.zone}}\" }}\n{steps}"
        ));
        assert_eq!(d.len(), 3, "{d:#?}");
        assert!(
            d[0].starts_with("rb.yaml:7:7: error: default of parameter `to` uses `${service.dns.zone}`, which the environment does not define for this service (service `billing` has: "),
            "{d:?}"
        );
        assert!(
            d[1].starts_with("rb.yaml:9:5: error: step `a` uses `${service.global_cluster}`")
                && d[1].contains("service.replica_instance, service.source_instance"),
            "{d:?}"
        );
        assert!(d[2].contains("`${service.secondary_cluster}`"), "{d:?}");
    }

    #[test]
    fn a_service_variable_that_names_the_wrong_kind_of_resource_is_still_checked() {
        let text = format!(
            "{HEADER}steps:\n  - id: a\n    title: A\n    check:\n      - health_check: {{ id: \"${{service.dns.zone_id}}\", is: healthy }}\n"
        );
        let d = check(&text);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(d[0].contains("health check `Z0DEMO00000001`"), "{d:?}");
    }

    #[test]
    fn waiting_for_a_dns_change_needs_an_upsert_before_it() {
        let text = format!(
            "{HEADER}steps:\n  - id: w\n    title: W\n    wait: {{ until: [dns_change_insync], timeout: 5m, poll: 10m }}\n"
        );
        let d = check(&text);
        assert_eq!(d.len(), 2, "{d:#?}");
        assert!(d.iter().any(|m| m.contains("polls every 10m")), "{d:?}");
        assert!(
            d.iter().any(|m| m.contains("not an upsert-record")),
            "{d:?}"
        );
    }

    #[test]
    fn a_runbook_may_not_act_on_another_services_resources() {
        let billing = "name: t\nservice: billing\nobjectives: { rto: 4h, rpo: 15m }\nowner: me\nlast_tested: 2026-11-01\nparameters:\n  target: {}\n";
        let text = format!(
            "{billing}steps:\n  - id: a\n    title: A\n    action:\n      type: failover-global-cluster\n      region: us-west-2\n      global_cluster: orders-global\n      target_cluster: orders-secondary\n  - id: b\n    title: B\n    action:\n      type: update-health-check\n      health_check_id: hc-orders-use1\n      inverted: true\n  - id: c\n    title: C\n    action:\n      type: promote-read-replica\n      region: us-west-2\n      instance: billing-replica\n  - id: d\n    title: D\n    action:\n      type: failover-global-cluster\n      region: us-west-2\n      global_cluster: orders-global\n      target_cluster: ${{target}}\n"
        );
        let d = check(&text);
        assert_eq!(d.len(), 3, "{d:#?}");
        assert_eq!(
            d[0],
            "rb.yaml:9:5: error: step `a`: global cluster `orders-global`, cluster `orders-secondary` are not part of service `billing`; a runbook acts only on its own service, whose lock it holds"
        );
        assert!(
            d[1].starts_with("rb.yaml:16:5: error: step `b`: health check `hc-orders-use1` is not part of service `billing`"),
            "{d:?}"
        );
        // The parameter is checked at run time; the literal is not its.
        assert!(
            d[2].starts_with(
                "rb.yaml:28:5: error: step `d`: global cluster `orders-global` is not"
            ),
            "{d:?}"
        );
    }

    #[test]
    fn durations_numbers_and_names_beyond_their_bounds_are_located_errors() {
        let step = |body: &str| format!("{HEADER}steps:\n  - id: a\n    title: A\n{body}");
        let wait = |timeout: &str, poll: &str| {
            step(&format!(
                "    wait: {{ until: [{{ cluster_available: {{ cluster: orders-secondary }} }}], timeout: {timeout}, poll: {poll} }}\n"
            ))
        };
        let long = "x".repeat(300);
        for (text, at, fragment) in [
            (
                wait("300000y", "10s"),
                "rb.yaml:7:5:",
                "timeout is 109575000d; it may be at most 7d",
            ),
            (
                wait("999999999d", "10s"),
                "rb.yaml:7:5:",
                "it may be at most 7d",
            ),
            (
                wait("5m", "400000y"),
                "rb.yaml:7:5:",
                "poll is 146100000d; it may be at most 1h",
            ),
            (
                wait("5m", "1ms"),
                "rb.yaml:7:5:",
                "poll is 1ms; it must be at least 1s",
            ),
            (
                step("    expect_within: 300000y\n    notify: x\n"),
                "rb.yaml:7:5:",
                "expect_within is 109575000d",
            ),
            (
                step("    http: { url: x, timeout: 9999999d }\n"),
                "rb.yaml:7:5:",
                "the request timeout is",
            ),
            (
                step("    http: { url: x, expect: { status: 999 } }\n"),
                "rb.yaml:7:5:",
                "999 is not an HTTP status",
            ),
            (
                step(
                    "    check: [{ replication_lag_below: { resource: orders-secondary, max: 99999d } }]\n",
                ),
                "rb.yaml:7:5:",
                "max is",
            ),
            (
                step(
                    "    action: { type: promote-read-replica, region: us-west-2, instance: billing-replica, backup_retention_days: 4000000000 }\n",
                ),
                "rb.yaml:7:5:",
                "RDS takes 0 to 35",
            ),
            (
                step(&format!(
                    "    notify: x\n  - id: {long}\n    title: B\n    notify: y\n"
                )),
                "rb.yaml:10:5:",
                "a step id `xxxx",
            ),
            (
                step(&format!(
                    "    check: [{{ cluster_available: {{ cluster: {long} }} }}]\n"
                )),
                "rb.yaml:7:5:",
                "an identifier",
            ),
            (
                format!(
                    "name: {long}\nservice: orders\nobjectives: {{ rto: 15m, rpo: 5m }}\nowner: me\nlast_tested: 2026-11-01\nsteps: []\n"
                ),
                "rb.yaml:1:7:",
                "the runbook name",
            ),
            (
                HEADER.replace("rto: 15m", "rto: 300000y") + "steps: []\n",
                "rb.yaml:3:",
                "the RTO is 109575000d",
            ),
        ] {
            let d = check(&text);
            assert!(
                d.iter()
                    .any(|m| m.starts_with(at) && m.contains("error") && m.contains(fragment)),
                "{text}\n{d:#?}"
            );
        }
    }

    #[test]
    fn syntax_errors_point_into_the_file() {
        for (text, at, fragment) in [
            ("name: [unclosed\n", "rb.yaml:1:", ""),
            (
                "name: t\nservice: orders\nobjectives: { rto: soon, rpo: 5m }\n",
                "rb.yaml:3:",
                "",
            ),
            (
                &*format!(
                    "{HEADER}steps:\n  - id: a\n    title: A\n    confirm: sure\n    manual: x\n"
                ),
                "rb.yaml:9:14:",
                "unknown variant `sure`",
            ),
            (
                &*format!(
                    "{HEADER}steps:\n  - id: a\n    title: A\n    confirm: two-person\n    manual: x\n"
                ),
                "rb.yaml:",
                "`confirm` belongs to action steps only",
            ),
            (
                &*format!(
                    "{HEADER}steps:\n  - id: a\n    title: A\n    check:\n      - cluster_available: {{ cluster: x, region: y }}\n"
                ),
                "rb.yaml:10:",
                "unknown field `region`",
            ),
            ("", "rb.yaml:1:1:", ""),
        ] {
            let d = check(text);
            assert_eq!(d.len(), 1, "{text}: {d:?}");
            assert!(d[0].starts_with(at), "{text}: {d:?}");
            assert!(d[0].contains(fragment), "{text}: {d:?}");
            assert!(d[0].contains("error"), "{d:?}");
        }
    }
}
