//! Finding one observed resource by its identifier.
//!
//! Posture reads a handful of resources per service out of a snapshot of
//! the whole estate. Scanning the snapshot for each of them made a pass over
//! every service quadratic (1.4 s per refresh at 5,000 services), so the
//! posture functions take any [`Lookup`]: a [`SnapshotIndex`], built once
//! per snapshot, answers in constant time for passes over many services; a
//! plain [`Snapshot`] scans, which is cheaper for a single service (a
//! runbook condition) than building an index. The trait offers keyed
//! lookups only, so posture code cannot fall back to scanning the estate.
//!
//! Both answer alike: where a snapshot holds the same identifier twice
//! (two sources reporting one resource), the first one wins.

use std::collections::{HashMap, HashSet};

use super::snapshot::{
    DbClusterObs, DbInstanceObs, DnsRecordObs, GlobalClusterObs, HealthCheckObs, LagObs, Snapshot,
};

/// The synchronization status of a global cluster member that lost its
/// copy in a failover and is rebuilding it.
const PENDING_RESYNC: &str = "pending-resync";

/// Observed resources by identifier.
pub trait Lookup {
    fn health_check(&self, id: &str) -> Option<&HealthCheckObs>;
    fn global_cluster(&self, id: &str) -> Option<&GlobalClusterObs>;
    fn cluster(&self, id: &str) -> Option<&DbClusterObs>;
    fn instance(&self, id: &str) -> Option<&DbInstanceObs>;
    /// The lag series of the resource receiving the copy.
    fn lag(&self, resource_id: &str) -> Option<&LagObs>;
    /// The record sets named `name` in `zone_id` (names compare as DNS
    /// names: without case and root dot), in snapshot order.
    fn dns_records(&self, zone_id: &str, name: &str) -> Vec<&DnsRecordObs>;
    /// Whether a global cluster reports `cluster` (by identifier or ARN) as
    /// pending resync.
    fn pending_resync(&self, cluster: &DbClusterObs) -> bool;
}

/// The form of a DNS name two names share when they name the same record.
fn dns_key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Lookup for Snapshot {
    fn health_check(&self, id: &str) -> Option<&HealthCheckObs> {
        self.health_checks.iter().find(|h| h.id == id)
    }

    fn global_cluster(&self, id: &str) -> Option<&GlobalClusterObs> {
        self.global_clusters.iter().find(|g| g.id == id)
    }

    fn cluster(&self, id: &str) -> Option<&DbClusterObs> {
        self.db_clusters.iter().find(|c| c.id == id)
    }

    fn instance(&self, id: &str) -> Option<&DbInstanceObs> {
        self.db_instances.iter().find(|i| i.id == id)
    }

    fn lag(&self, resource_id: &str) -> Option<&LagObs> {
        self.lags.iter().find(|l| l.resource_id == resource_id)
    }

    fn dns_records(&self, zone_id: &str, name: &str) -> Vec<&DnsRecordObs> {
        let key = dns_key(name);
        self.dns_records
            .iter()
            .filter(|r| r.zone_id == zone_id && dns_key(&r.name) == key)
            .collect()
    }

    fn pending_resync(&self, cluster: &DbClusterObs) -> bool {
        self.global_clusters
            .iter()
            .flat_map(|g| &g.members)
            .any(|m| {
                (m.cluster_id == cluster.id || m.cluster_arn == cluster.arn)
                    && m.synchronization_status.as_deref() == Some(PENDING_RESYNC)
            })
    }
}

/// One snapshot indexed by identifier: built in one pass, then every
/// lookup is a hash probe.
#[derive(Debug)]
pub struct SnapshotIndex<'a> {
    snapshot: &'a Snapshot,
    health_checks: HashMap<&'a str, &'a HealthCheckObs>,
    global_clusters: HashMap<&'a str, &'a GlobalClusterObs>,
    clusters: HashMap<&'a str, &'a DbClusterObs>,
    instances: HashMap<&'a str, &'a DbInstanceObs>,
    lags: HashMap<&'a str, &'a LagObs>,
    dns_records: HashMap<(&'a str, String), Vec<&'a DnsRecordObs>>,
    /// Cluster identifiers and ARNs a global cluster reports pending resync.
    resyncing_ids: HashSet<&'a str>,
    resyncing_arns: HashSet<&'a str>,
}

/// First occurrence wins, as a scan would find it.
fn by_id<'a, T>(items: &'a [T], id: impl Fn(&'a T) -> &'a str) -> HashMap<&'a str, &'a T> {
    let mut map = HashMap::with_capacity(items.len());
    for item in items {
        map.entry(id(item)).or_insert(item);
    }
    map
}

impl<'a> SnapshotIndex<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Self {
        let mut dns_records: HashMap<(&str, String), Vec<&DnsRecordObs>> =
            HashMap::with_capacity(snapshot.dns_records.len());
        for r in &snapshot.dns_records {
            dns_records
                .entry((r.zone_id.as_str(), dns_key(&r.name)))
                .or_default()
                .push(r);
        }
        let resyncing: Vec<_> = snapshot
            .global_clusters
            .iter()
            .flat_map(|g| &g.members)
            .filter(|m| m.synchronization_status.as_deref() == Some(PENDING_RESYNC))
            .collect();
        Self {
            snapshot,
            health_checks: by_id(&snapshot.health_checks, |h| h.id.as_str()),
            global_clusters: by_id(&snapshot.global_clusters, |g| g.id.as_str()),
            clusters: by_id(&snapshot.db_clusters, |c| c.id.as_str()),
            instances: by_id(&snapshot.db_instances, |i| i.id.as_str()),
            lags: by_id(&snapshot.lags, |l| l.resource_id.as_str()),
            dns_records,
            resyncing_ids: resyncing.iter().map(|m| m.cluster_id.as_str()).collect(),
            resyncing_arns: resyncing.iter().map(|m| m.cluster_arn.as_str()).collect(),
        }
    }

    /// The snapshot this indexes.
    pub fn snapshot(&self) -> &'a Snapshot {
        self.snapshot
    }
}

impl Lookup for SnapshotIndex<'_> {
    fn health_check(&self, id: &str) -> Option<&HealthCheckObs> {
        self.health_checks.get(id).copied()
    }

    fn global_cluster(&self, id: &str) -> Option<&GlobalClusterObs> {
        self.global_clusters.get(id).copied()
    }

    fn cluster(&self, id: &str) -> Option<&DbClusterObs> {
        self.clusters.get(id).copied()
    }

    fn instance(&self, id: &str) -> Option<&DbInstanceObs> {
        self.instances.get(id).copied()
    }

    fn lag(&self, resource_id: &str) -> Option<&LagObs> {
        self.lags.get(resource_id).copied()
    }

    fn dns_records(&self, zone_id: &str, name: &str) -> Vec<&DnsRecordObs> {
        self.dns_records
            .get(&(zone_id, dns_key(name)))
            .cloned()
            .unwrap_or_default()
    }

    fn pending_resync(&self, cluster: &DbClusterObs) -> bool {
        self.resyncing_ids.contains(cluster.id.as_str())
            || self.resyncing_arns.contains(cluster.arn.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::{FailoverRole, GlobalMember};
    use crate::domain::testing::{failed_over, healthy_world};

    /// Every identifier the snapshot holds, and some it does not.
    fn agree(snap: &Snapshot) {
        let index = SnapshotIndex::new(snap);
        let mut ids: Vec<&str> = vec!["nope", ""];
        ids.extend(snap.health_checks.iter().map(|h| h.id.as_str()));
        ids.extend(snap.global_clusters.iter().map(|g| g.id.as_str()));
        ids.extend(snap.db_clusters.iter().map(|c| c.id.as_str()));
        ids.extend(snap.db_instances.iter().map(|i| i.id.as_str()));
        ids.extend(snap.lags.iter().map(|l| l.resource_id.as_str()));
        for id in ids {
            assert_eq!(index.health_check(id), snap.health_check(id), "{id}");
            assert_eq!(index.global_cluster(id), snap.global_cluster(id), "{id}");
            assert_eq!(index.cluster(id), snap.cluster(id), "{id}");
            assert_eq!(index.instance(id), snap.instance(id), "{id}");
            assert_eq!(index.lag(id), snap.lag(id), "{id}");
        }
        for r in &snap.dns_records {
            for name in [
                r.name.clone(),
                r.name.to_uppercase(),
                format!("{}.", r.name.trim_end_matches('.')),
            ] {
                assert_eq!(
                    index.dns_records(&r.zone_id, &name),
                    snap.dns_records(&r.zone_id, &name),
                    "{name}"
                );
            }
            assert!(index.dns_records("ZOTHER", &r.name).is_empty());
        }
        for c in &snap.db_clusters {
            assert_eq!(index.pending_resync(c), snap.pending_resync(c), "{}", c.id);
        }
    }

    #[test]
    fn the_index_answers_as_a_scan_does() {
        agree(&healthy_world());
        agree(&failed_over());
        agree(&Snapshot::default());
    }

    #[test]
    fn the_first_of_duplicates_wins_in_both() {
        let mut snap = healthy_world();
        let mut second = snap.health_checks[0].clone();
        second.checkers_healthy = 0;
        snap.health_checks.push(second);
        let mut lag = snap.lags[0].clone();
        lag.lag = None;
        snap.lags.push(lag);
        agree(&snap);
        let index = SnapshotIndex::new(&snap);
        let id = &snap.health_checks[0].id;
        assert_eq!(index.health_check(id), Some(&snap.health_checks[0]));
    }

    #[test]
    fn records_of_one_name_are_found_whatever_its_spelling() {
        let mut snap = healthy_world();
        let name = snap.dns_records[0]
            .name
            .trim_end_matches('.')
            .to_uppercase();
        snap.dns_records[1].name = name.clone();
        agree(&snap);
        let zone = snap.dns_records[0].zone_id.clone();
        let index = SnapshotIndex::new(&snap);
        let found = index.dns_records(&zone, &format!("{name}."));
        let roles: Vec<_> = found.iter().map(|r| r.failover).collect();
        assert_eq!(
            roles,
            vec![Some(FailoverRole::Primary), Some(FailoverRole::Secondary)]
        );
    }

    #[test]
    fn a_member_pending_resync_is_found_by_identifier_or_arn() {
        let mut snap = failed_over();
        let cluster = snap.db_clusters[0].clone();
        let resync = |id: &str, arn: &str| GlobalMember {
            cluster_id: id.into(),
            cluster_arn: arn.into(),
            region: cluster.region.clone(),
            is_writer: false,
            synchronization_status: Some(PENDING_RESYNC.into()),
        };
        for member in [
            resync(&cluster.id, "arn:other"),
            resync("other", &cluster.arn),
        ] {
            snap.global_clusters[0].members = vec![member];
            agree(&snap);
            assert!(SnapshotIndex::new(&snap).pending_resync(&cluster));
        }
        snap.global_clusters[0].members = vec![resync("other", "arn:other")];
        assert!(!SnapshotIndex::new(&snap).pending_resync(&cluster));
    }
}
