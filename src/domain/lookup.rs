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

use std::borrow::Cow;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

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

/// DNS names compare without case and without the root dot.
pub fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// The form of a DNS name two names share when they name the same record.
/// Borrowed when the name is in that form already, as nearly all are.
pub fn dns_key(name: &str) -> Cow<'_, str> {
    let trimmed = name.trim_end_matches('.');
    if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(trimmed.to_ascii_lowercase())
    } else {
        Cow::Borrowed(trimmed)
    }
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
        self.dns_records
            .iter()
            .filter(|r| r.zone_id == zone_id && same_name(&r.name, name))
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

/// Where each resource sits in a snapshot, by identifier. Owned, so that
/// the monitor can keep it from poll to poll while the estate's resources
/// stay the same and only their values change.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    health_checks: HashMap<String, usize>,
    global_clusters: HashMap<String, usize>,
    clusters: HashMap<String, usize>,
    instances: HashMap<String, usize>,
    lags: HashMap<String, usize>,
    /// By zone, then by DNS name as [`dns_key`] writes it.
    dns_records: HashMap<String, HashMap<String, Vec<usize>>>,
}

/// First occurrence wins, as a scan would find it.
fn by_id<'a, T: 'a>(items: &'a [T], id: impl Fn(&'a T) -> &'a str) -> HashMap<String, usize> {
    let mut map = HashMap::with_capacity_and_hasher(items.len(), Default::default());
    for (position, item) in items.iter().enumerate() {
        map.entry(id(item).to_string()).or_insert(position);
    }
    map
}

impl Positions {
    pub fn of(snapshot: &Snapshot) -> Self {
        let mut dns_records: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::default();
        for (position, r) in snapshot.dns_records.iter().enumerate() {
            dns_records
                .entry(r.zone_id.clone())
                .or_default()
                .entry(dns_key(&r.name).into_owned())
                .or_default()
                .push(position);
        }
        Self {
            health_checks: by_id(&snapshot.health_checks, |h| h.id.as_str()),
            global_clusters: by_id(&snapshot.global_clusters, |g| g.id.as_str()),
            clusters: by_id(&snapshot.db_clusters, |c| c.id.as_str()),
            instances: by_id(&snapshot.db_instances, |i| i.id.as_str()),
            lags: by_id(&snapshot.lags, |l| l.resource_id.as_str()),
            dns_records,
        }
    }
}

/// One snapshot indexed by identifier: every lookup is a hash probe.
#[derive(Debug)]
pub struct SnapshotIndex<'a> {
    snapshot: &'a Snapshot,
    positions: Cow<'a, Positions>,
    /// Cluster identifiers and ARNs a global cluster reports pending resync.
    resyncing_ids: HashSet<&'a str>,
    resyncing_arns: HashSet<&'a str>,
}

impl<'a> SnapshotIndex<'a> {
    pub fn new(snapshot: &'a Snapshot) -> Self {
        Self::with(snapshot, Cow::Owned(Positions::of(snapshot)))
    }

    /// `snapshot` indexed by `positions` taken of a snapshot naming the same
    /// resources in the same order. A resource found elsewhere than the
    /// positions say is not found, rather than taken for another.
    pub fn with_positions(snapshot: &'a Snapshot, positions: &'a Positions) -> Self {
        Self::with(snapshot, Cow::Borrowed(positions))
    }

    fn with(snapshot: &'a Snapshot, positions: Cow<'a, Positions>) -> Self {
        let resyncing: Vec<_> = snapshot
            .global_clusters
            .iter()
            .flat_map(|g| &g.members)
            .filter(|m| m.synchronization_status.as_deref() == Some(PENDING_RESYNC))
            .collect();
        Self {
            snapshot,
            positions,
            resyncing_ids: resyncing.iter().map(|m| m.cluster_id.as_str()).collect(),
            resyncing_arns: resyncing.iter().map(|m| m.cluster_arn.as_str()).collect(),
        }
    }

    /// The snapshot this indexes.
    pub fn snapshot(&self) -> &'a Snapshot {
        self.snapshot
    }
}

/// The item at the position `positions` gives `id`, if it has that `id`.
fn at<'s, T>(
    items: &'s [T],
    positions: &HashMap<String, usize>,
    id: &str,
    id_of: impl Fn(&T) -> &str,
) -> Option<&'s T> {
    positions
        .get(id)
        .and_then(|&p| items.get(p))
        .filter(|item| id_of(item) == id)
}

impl Lookup for SnapshotIndex<'_> {
    fn health_check(&self, id: &str) -> Option<&HealthCheckObs> {
        at(
            &self.snapshot.health_checks,
            &self.positions.health_checks,
            id,
            |h| &h.id,
        )
    }

    fn global_cluster(&self, id: &str) -> Option<&GlobalClusterObs> {
        at(
            &self.snapshot.global_clusters,
            &self.positions.global_clusters,
            id,
            |g| &g.id,
        )
    }

    fn cluster(&self, id: &str) -> Option<&DbClusterObs> {
        at(
            &self.snapshot.db_clusters,
            &self.positions.clusters,
            id,
            |c| &c.id,
        )
    }

    fn instance(&self, id: &str) -> Option<&DbInstanceObs> {
        at(
            &self.snapshot.db_instances,
            &self.positions.instances,
            id,
            |i| &i.id,
        )
    }

    fn lag(&self, resource_id: &str) -> Option<&LagObs> {
        at(
            &self.snapshot.lags,
            &self.positions.lags,
            resource_id,
            |l| &l.resource_id,
        )
    }

    fn dns_records(&self, zone_id: &str, name: &str) -> Vec<&DnsRecordObs> {
        let key = dns_key(name);
        self.positions
            .dns_records
            .get(zone_id)
            .and_then(|names| names.get(key.as_ref()))
            .map(|positions| {
                positions
                    .iter()
                    .filter_map(|&p| self.snapshot.dns_records.get(p))
                    .filter(|r| r.zone_id == zone_id && same_name(&r.name, name))
                    .collect()
            })
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
    fn kept_positions_find_new_values_and_never_another_resource() {
        let before = healthy_world();
        let positions = Positions::of(&before);
        let mut after = before.clone();
        after.lags[0].lag = None;
        let index = SnapshotIndex::with_positions(&after, &positions);
        let id = &after.lags[0].resource_id;
        assert_eq!(index.lag(id), Some(&after.lags[0]));
        // Positions of another layout: a miss, not the wrong resource.
        after.health_checks.reverse();
        let index = SnapshotIndex::with_positions(&after, &positions);
        let first = &before.health_checks[0].id;
        assert!(index.health_check(first).is_none_or(|h| &h.id == first));
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
