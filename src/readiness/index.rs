//! One evaluation's lookups, built once: every check asks for resources by
//! identifier, and scanning the observation per service made an estate of
//! thousands of services take seconds to evaluate.

use std::collections::{HashMap, HashSet};
use std::ops::Deref;

use super::Inputs;
use super::evidence::RunEvidence;
use super::facts::{AlarmConfig, BackupCopy, ClusterConfig, InstanceConfig};
use crate::domain::snapshot::{DbClusterObs, DbInstanceObs, DnsRecordObs, FailoverRole, LagObs};
use crate::runbook::format::Runbook;

/// The inputs with indexes over them; reads as [`Inputs`] too.
pub struct Indexed<'a> {
    inputs: &'a Inputs<'a>,
    clusters: HashMap<&'a str, &'a DbClusterObs>,
    instances: HashMap<&'a str, &'a DbInstanceObs>,
    lags: HashMap<&'a str, &'a LagObs>,
    health_checks: HashSet<&'a str>,
    /// Failover records by zone, then lower-cased name without the final
    /// dot and whether the record is the PRIMARY.
    records: HashMap<&'a str, HashMap<(String, bool), &'a DnsRecordObs>>,
    config_clusters: HashMap<&'a str, &'a ClusterConfig>,
    config_instances: HashMap<&'a str, &'a InstanceConfig>,
    /// Alarms by region, then by each dimension value they name.
    alarms: HashMap<&'a str, HashMap<&'a str, Vec<&'a AlarmConfig>>>,
    copies: HashMap<&'a str, Vec<&'a BackupCopy>>,
    runs: HashMap<&'a str, Vec<&'a RunEvidence>>,
    runbooks: HashMap<&'a str, Vec<&'a Runbook>>,
}

impl<'a> Deref for Indexed<'a> {
    type Target = Inputs<'a>;

    fn deref(&self) -> &Inputs<'a> {
        self.inputs
    }
}

/// A record name as Route 53 compares it.
fn record_key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Keeps the first of each key, as a linear search would find it.
fn first<'a, T>(items: impl Iterator<Item = (&'a str, &'a T)>) -> HashMap<&'a str, &'a T> {
    let mut map = HashMap::new();
    for (key, item) in items {
        map.entry(key).or_insert(item);
    }
    map
}

fn grouped<'a, T>(items: impl Iterator<Item = (&'a str, &'a T)>) -> HashMap<&'a str, Vec<&'a T>> {
    let mut map: HashMap<&'a str, Vec<&'a T>> = HashMap::new();
    for (key, item) in items {
        map.entry(key).or_default().push(item);
    }
    map
}

impl<'a> Indexed<'a> {
    pub fn new(inputs: &'a Inputs<'a>) -> Indexed<'a> {
        let seen = inputs.observed;
        let facts = &inputs.configuration.facts;
        let mut records: HashMap<&str, HashMap<_, _>> = HashMap::new();
        for r in &seen.dns_records {
            if let Some(role) = r.failover {
                records
                    .entry(r.zone_id.as_str())
                    .or_default()
                    .entry((record_key(&r.name), role == FailoverRole::Primary))
                    .or_insert(r);
            }
        }
        let mut alarms: HashMap<&str, HashMap<&str, Vec<&AlarmConfig>>> = HashMap::new();
        for a in &facts.alarms {
            let by_value = alarms.entry(a.region.as_str()).or_default();
            for (_, value) in &a.dimensions {
                by_value.entry(value.as_str()).or_default().push(a);
            }
        }
        Indexed {
            clusters: first(seen.db_clusters.iter().map(|c| (c.id.as_str(), c))),
            instances: first(seen.db_instances.iter().map(|i| (i.id.as_str(), i))),
            lags: first(seen.lags.iter().map(|l| (l.resource_id.as_str(), l))),
            health_checks: seen.health_checks.iter().map(|h| h.id.as_str()).collect(),
            records,
            config_clusters: first(facts.clusters.iter().map(|c| (c.id.as_str(), c))),
            config_instances: first(facts.instances.iter().map(|i| (i.id.as_str(), i))),
            alarms,
            copies: grouped(facts.backup_copies.iter().map(|c| (c.source.as_str(), c))),
            runs: grouped(inputs.runs.iter().map(|r| (r.service.as_str(), r))),
            runbooks: grouped(inputs.runbooks.iter().map(|r| (r.service.as_str(), r))),
            inputs,
        }
    }

    pub fn cluster(&self, id: &str) -> Option<&'a DbClusterObs> {
        self.clusters.get(id).copied()
    }

    pub fn instance(&self, id: &str) -> Option<&'a DbInstanceObs> {
        self.instances.get(id).copied()
    }

    pub fn lag(&self, resource: &str) -> Option<&'a LagObs> {
        self.lags.get(resource).copied()
    }

    pub fn health_check_seen(&self, id: &str) -> bool {
        self.health_checks.contains(id)
    }

    pub fn failover_record(
        &self,
        zone: &str,
        name: &str,
        role: FailoverRole,
    ) -> Option<&'a DnsRecordObs> {
        self.records
            .get(zone)?
            .get(&(record_key(name), role == FailoverRole::Primary))
            .copied()
    }

    pub fn cluster_config(&self, id: &str) -> Option<&'a ClusterConfig> {
        self.config_clusters.get(id).copied()
    }

    pub fn instance_config(&self, id: &str) -> Option<&'a InstanceConfig> {
        self.config_instances.get(id).copied()
    }

    /// Alarms in `region` with a dimension whose value is `value`.
    pub fn alarms_on(&self, region: &str, value: &str) -> &[&'a AlarmConfig] {
        self.alarms
            .get(region)
            .and_then(|by_value| by_value.get(value))
            .map_or(&[], Vec::as_slice)
    }

    pub fn copies_of(&self, source: &str) -> &[&'a BackupCopy] {
        self.copies.get(source).map_or(&[], Vec::as_slice)
    }

    pub fn runs_of(&self, service: &str) -> &[&'a RunEvidence] {
        self.runs.get(service).map_or(&[], Vec::as_slice)
    }

    pub fn runbooks_of(&self, service: &str) -> &[&'a Runbook] {
        self.runbooks.get(service).map_or(&[], Vec::as_slice)
    }
}
