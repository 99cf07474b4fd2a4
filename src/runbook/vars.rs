//! `${name}` substitution in runbook strings.
//!
//! Variables come from the runbook's parameters, from values captured by
//! earlier http steps, from builtins the caller supplies, and from the
//! environment's description of the runbook's service (`${service.…}`), so
//! one runbook fits every estate of the same shape.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::environment::{Replication, ServiceSpec};

pub type Variables = BTreeMap<String, String>;

/// Names the console itself defines. `demo_app_url` is the simulator's demo
/// application; `run_elapsed` is the run's RTO clock when the step runs.
pub const BUILTINS: &[&str] = &["demo_app_url", "operator", "service", "run_elapsed"];

/// Names of the variables the environment fills start with this.
pub const SERVICE_PREFIX: &str = "service.";

/// The `${service.…}` variables of `service`: its regions, the identifiers
/// of its replication's resources, its health checks (by the region they
/// watch, and the primary's and DR region's under fixed names) and its DNS
/// record. Only what the service has is defined, so a runbook that needs a
/// global cluster does not validate against a service without one.
pub fn service_variables(service: &ServiceSpec) -> Variables {
    let mut vars = Variables::new();
    let mut set = |name: &str, value: &str| {
        vars.insert(format!("{SERVICE_PREFIX}{name}"), value.to_string());
    };
    set("id", &service.id);
    set("primary_region", &service.primary_region);
    set("dr_region", &service.dr_region);
    match &service.replication {
        Replication::AuroraGlobal {
            global_cluster,
            primary_cluster,
            secondary_cluster,
        } => {
            set("global_cluster", global_cluster);
            set("primary_cluster", primary_cluster);
            set("secondary_cluster", secondary_cluster);
        }
        Replication::RdsReplica {
            source_instance,
            replica_instance,
        } => {
            set("source_instance", source_instance);
            set("replica_instance", replica_instance);
        }
        Replication::S3 {
            source_bucket,
            destination_bucket,
        } => {
            set("source_bucket", source_bucket);
            set("destination_bucket", destination_bucket);
        }
        Replication::Backup { .. } => {}
    }
    for hc in &service.health_checks {
        set(&format!("health_check.{}", hc.region), &hc.id);
        if hc.region == service.primary_region {
            set("primary_health_check", &hc.id);
        }
        if hc.region == service.dr_region {
            set("dr_health_check", &hc.id);
        }
    }
    if let Some(dns) = &service.dns {
        set("dns.zone_id", &dns.zone_id);
        set("dns.record", &dns.record);
        set("dns.primary_target", &dns.primary_target);
        set("dns.secondary_target", &dns.secondary_target);
    }
    vars
}

/// The variable names a string refers to, in order.
pub fn references(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                names.push(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    names
}

/// Replaces every `${name}` whose value is known; unknown names are left as
/// written when `strict` is false and reported when it is true.
pub fn substitute(text: &str, vars: &Variables, strict: bool) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = &after[..end];
        out.push_str(&rest[..start]);
        match vars.get(name) {
            Some(value) => out.push_str(value),
            None if strict => return Err(name.to_string()),
            None => out.push_str(&rest[start..start + 2 + end + 1]),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("variable `${{{0}}}` has no value")]
    Undefined(String),
    #[error("after substitution: {0}")]
    Invalid(String),
}

/// A copy of `value` with variables substituted in every string inside it.
///
/// Goes through JSON so one function serves actions, conditions and http
/// specs alike; substituted text that no longer fits the type (say, a
/// region that is not a string any more) is reported, never a panic.
pub fn resolve<T: Serialize + DeserializeOwned>(
    value: &T,
    vars: &Variables,
    strict: bool,
) -> Result<T, ResolveError> {
    let mut json = serde_json::to_value(value).map_err(|e| ResolveError::Invalid(e.to_string()))?;
    substitute_json(&mut json, vars, strict).map_err(ResolveError::Undefined)?;
    serde_json::from_value(json).map_err(|e| ResolveError::Invalid(e.to_string()))
}

fn substitute_json(
    value: &mut serde_json::Value,
    vars: &Variables,
    strict: bool,
) -> Result<(), String> {
    match value {
        serde_json::Value::String(s) => *s = substitute(s, vars, strict)?,
        serde_json::Value::Array(items) => {
            for item in items {
                substitute_json(item, vars, strict)?;
            }
        }
        serde_json::Value::Object(map) => {
            for item in map.values_mut() {
                substitute_json(item, vars, strict)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every string inside a value, for finding the variables it uses.
pub fn strings_in<T: Serialize>(value: &T) -> Vec<String> {
    fn walk(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            serde_json::Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(json) = serde_json::to_value(value) {
        walk(&json, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn substitutes_known_names_and_keeps_the_rest() {
        let v = vars(&[("url", "http://x"), ("id", "7")]);
        assert_eq!(
            substitute("${url}/items/${id}", &v, true).unwrap(),
            "http://x/items/7"
        );
        assert_eq!(
            substitute("Bearer ${token}", &v, false).unwrap(),
            "Bearer ${token}"
        );
        assert_eq!(substitute("Bearer ${token}", &v, true), Err("token".into()));
        assert_eq!(
            substitute("cost ${ open", &v, true).unwrap(),
            "cost ${ open"
        );
    }

    #[test]
    fn finds_references_in_order() {
        assert_eq!(references("${a}-${b}${a} ${"), vec!["a", "b", "a"]);
    }

    #[test]
    fn resolves_inside_nested_values() {
        let action = crate::domain::action::Action::PromoteReadReplica {
            region: "${dr}".into(),
            instance: "billing-replica".into(),
            backup_retention_days: Some(7),
        };
        let resolved = resolve(&action, &vars(&[("dr", "us-west-2")]), true).unwrap();
        assert_eq!(resolved.describe().region, "us-west-2");
    }

    #[test]
    fn a_service_defines_only_the_variables_of_what_it_has() {
        let demo = crate::config::environment_file::demo_environment();
        let orders = service_variables(demo.service("orders").unwrap());
        assert_eq!(orders["service.global_cluster"], "orders-global");
        assert_eq!(orders["service.secondary_cluster"], "orders-secondary");
        assert_eq!(orders["service.dns.zone_id"], "Z0DEMO00000001");
        assert_eq!(orders["service.dns.record"], "api.example.com.");
        assert_eq!(orders["service.primary_health_check"], "hc-orders-use1");
        assert_eq!(orders["service.health_check.us-west-2"], "hc-orders-usw2");
        assert!(!orders.contains_key("service.replica_instance"));

        let reports = service_variables(demo.service("reports").unwrap());
        assert_eq!(
            reports["service.primary_health_check"],
            "hc-reports-us-east-1"
        );
        assert!(!reports.contains_key("service.dr_health_check"));
        assert!(!reports.contains_key("service.dns.zone_id"));
        assert!(!reports.contains_key("service.global_cluster"));
    }
}
