//! Which source reported each resource: what a service's freshness is
//! judged by. Looked up for every service on every refresh, so by kind of
//! resource and identifier, without building a key; rebuilt only when the
//! resources a source reports change, not on every poll of the same estate.

use std::hash::{DefaultHasher, Hash, Hasher};

use rustc_hash::FxHashMap as HashMap;

use crate::domain::environment::{Replication, ServiceSpec};
use crate::domain::lookup::dns_key;
use crate::domain::snapshot::{Snapshot, SourceId};

#[derive(Debug, Clone, Default)]
pub(super) struct Origins {
    /// The sources in the order they were read; the maps hold positions.
    sources: Vec<SourceId>,
    health_checks: HashMap<String, usize>,
    global_clusters: HashMap<String, usize>,
    clusters: HashMap<String, usize>,
    instances: HashMap<String, usize>,
    lags: HashMap<String, usize>,
    /// By zone, then by DNS name as [`dns_key`] writes it.
    dns: HashMap<String, HashMap<String, usize>>,
    /// What each source reported when the maps were built.
    signatures: Vec<(SourceId, u64)>,
}

impl Origins {
    /// Brings the maps up to `sources` (each with its last good data, in
    /// order; the first to report a resource holds it). Returns whether
    /// anything changed.
    pub(super) fn update<'a>(
        &mut self,
        sources: impl Iterator<Item = (&'a SourceId, &'a Snapshot)> + Clone,
    ) -> bool {
        let signatures: Vec<(SourceId, u64)> = sources
            .clone()
            .map(|(id, snapshot)| (id.clone(), signature(snapshot)))
            .collect();
        if signatures == self.signatures {
            return false;
        }
        *self = Origins::default();
        for (position, (id, s)) in sources.enumerate() {
            self.sources.push(id.clone());
            let hold = |map: &mut HashMap<String, usize>, key: &str| {
                if !map.contains_key(key) {
                    map.insert(key.to_string(), position);
                }
            };
            s.health_checks
                .iter()
                .for_each(|h| hold(&mut self.health_checks, &h.id));
            s.global_clusters
                .iter()
                .for_each(|g| hold(&mut self.global_clusters, &g.id));
            s.db_clusters
                .iter()
                .for_each(|c| hold(&mut self.clusters, &c.id));
            s.db_instances
                .iter()
                .for_each(|i| hold(&mut self.instances, &i.id));
            s.lags
                .iter()
                .for_each(|l| hold(&mut self.lags, &l.resource_id));
            for r in &s.dns_records {
                hold(
                    self.dns.entry(r.zone_id.clone()).or_default(),
                    &dns_key(&r.name),
                );
            }
        }
        self.signatures = signatures;
        true
    }

    /// The source of each resource `service` is made of, in a fixed order,
    /// by its position among the sources (see [`Self::source`]); `None` for
    /// one that no source reported.
    pub(super) fn of_service(&self, service: &ServiceSpec, mut each: impl FnMut(Option<usize>)) {
        let mut find = |map: &HashMap<String, usize>, id: &str| each(map.get(id).copied());
        for check in &service.health_checks {
            find(&self.health_checks, &check.id);
        }
        match &service.replication {
            Replication::AuroraGlobal {
                global_cluster,
                primary_cluster,
                secondary_cluster,
            } => {
                find(&self.global_clusters, global_cluster);
                find(&self.clusters, primary_cluster);
                find(&self.clusters, secondary_cluster);
                find(&self.lags, secondary_cluster);
            }
            Replication::RdsReplica {
                source_instance,
                replica_instance,
            } => {
                find(&self.instances, source_instance);
                find(&self.instances, replica_instance);
                find(&self.lags, replica_instance);
            }
            Replication::S3 {
                destination_bucket, ..
            } => find(&self.lags, destination_bucket),
            Replication::Backup {
                clusters,
                instances,
            } => {
                clusters.iter().for_each(|c| find(&self.clusters, c));
                instances.iter().for_each(|i| find(&self.instances, i));
            }
        }
        if let Some(dns) = &service.dns {
            let zone = self.dns.get(&dns.zone_id);
            each(
                zone.and_then(|names| names.get(dns_key(&dns.record).as_ref()))
                    .copied(),
            );
        }
    }

    /// How many sources hold positions.
    pub(super) fn len(&self) -> usize {
        self.sources.len()
    }

    /// The source at `position` of [`Self::of_service`].
    pub(super) fn source(&self, position: usize) -> &str {
        &self.sources[position]
    }
}

/// A digest of the resources `snapshot` names, in order: equal digests
/// mean the same resources, whatever their values.
fn signature(snapshot: &Snapshot) -> u64 {
    let mut h = DefaultHasher::new();
    snapshot.health_checks.len().hash(&mut h);
    snapshot
        .health_checks
        .iter()
        .for_each(|x| x.id.hash(&mut h));
    snapshot.global_clusters.len().hash(&mut h);
    snapshot
        .global_clusters
        .iter()
        .for_each(|x| x.id.hash(&mut h));
    snapshot.db_clusters.len().hash(&mut h);
    snapshot.db_clusters.iter().for_each(|x| x.id.hash(&mut h));
    snapshot.db_instances.len().hash(&mut h);
    snapshot.db_instances.iter().for_each(|x| x.id.hash(&mut h));
    snapshot.lags.len().hash(&mut h);
    snapshot
        .lags
        .iter()
        .for_each(|x| x.resource_id.hash(&mut h));
    snapshot.dns_records.len().hash(&mut h);
    snapshot.dns_records.iter().for_each(|x| {
        x.zone_id.hash(&mut h);
        x.name.hash(&mut h);
    });
    h.finish()
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;
    use crate::domain::testing::{healthy_world, orders};

    #[test]
    fn the_first_source_to_report_a_resource_holds_it_and_unchanged_polls_rebuild_nothing() {
        let world = healthy_world();
        let service = orders();
        let (a, b) = ("a".to_string(), "b".to_string());
        let mut origins = Origins::default();
        assert!(origins.update([(&a, &world), (&b, &world)].into_iter()));
        let mut seen = Vec::new();
        origins.of_service(&service, |o| {
            seen.push(o.map(|p| origins.source(p).to_string()))
        });
        // The world has no global cluster record: that one is nobody's.
        assert_eq!(seen.iter().filter(|o| o.is_none()).count(), 1, "{seen:?}");
        assert!(seen.iter().flatten().all(|o| o == "a"), "{seen:?}");
        assert!(!origins.update([(&a, &world), (&b, &world)].into_iter()));
        // `a` stops reporting: `b` holds everything now.
        let empty = Snapshot::default();
        assert!(origins.update([(&a, &empty), (&b, &world)].into_iter()));
        let mut seen = Vec::new();
        origins.of_service(&service, |o| {
            seen.push(o.map(|p| origins.source(p).to_string()))
        });
        assert!(seen.iter().flatten().all(|o| o == "b"), "{seen:?}");
        assert_eq!(seen.iter().flatten().count(), 6, "{seen:?}");
    }

    #[test]
    fn dns_names_match_without_case_or_root_dot() {
        assert_eq!(dns_key("Orders.Example.COM."), "orders.example.com");
        assert!(matches!(dns_key("a.example.com."), Cow::Borrowed(_)));
    }
}
