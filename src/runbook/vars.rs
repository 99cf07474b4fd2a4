//! `${name}` substitution in runbook strings.
//!
//! Variables come from the runbook's parameters, from values captured by
//! earlier http steps, and from builtins the caller supplies.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub type Variables = BTreeMap<String, String>;

/// Names the console itself defines. `demo_app_url` is the simulator's demo
/// application; `run_elapsed` is the run's RTO clock when the step runs.
pub const BUILTINS: &[&str] = &["demo_app_url", "operator", "service", "run_elapsed"];

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
}
