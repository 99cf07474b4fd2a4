//! A service's databases as observed now: which member holds the writer
//! role, whether it accepts writes, and what each other member is doing.
//!
//! Roles come from what RDS reports, never from the environment file, so
//! they follow a failover, switchover or promotion: after a failover the
//! configured "secondary" is the writer and the old primary is the one
//! resyncing.

use std::time::Duration;

use serde::Serialize;

use super::environment::{Replication, ServiceSpec};
use super::exposure::lag_of;
use super::lookup::Lookup;
use super::snapshot::ClusterRole;

/// What one member of the service's replication does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberRole {
    /// Holds the writer role of the replication (global cluster writer,
    /// replication source).
    Writer,
    /// Receives the writer's changes.
    Replica,
    /// Demoted after a failover with data loss and not yet caught up: it
    /// holds no usable copy until it has.
    Resyncing,
    /// Detached or promoted: takes writes on its own, copies nothing.
    Standalone,
}

impl MemberRole {
    pub fn label(self) -> &'static str {
        match self {
            MemberRole::Writer => "writer",
            MemberRole::Replica => "replica",
            MemberRole::Resyncing => "resyncing",
            MemberRole::Standalone => "standalone",
        }
    }

    /// Writer and standalone members both take writes when reachable.
    pub fn takes_writes(self) -> bool {
        matches!(self, MemberRole::Writer | MemberRole::Standalone)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub id: String,
    pub region: String,
    pub role: MemberRole,
    /// RDS status, e.g. `available`, `inaccessible`, `failing-over`.
    pub status: String,
    /// Replication lag of a replica, when reported.
    #[serde(skip)]
    pub lag: Option<Duration>,
}

impl Member {
    /// Takes writes now: a writer-capable role and a status in which RDS
    /// serves them.
    pub fn accepts_writes(&self) -> bool {
        self.role.takes_writes() && status_accepts_writes(&self.status)
    }
}

/// The observed members of a service's databases.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topology {
    pub members: Vec<Member>,
    /// One writer is expected (a global cluster, a replica pair); a
    /// backup-only service lists independent databases, each its own writer.
    pub single_writer: bool,
}

impl Topology {
    /// Members that take writes now, those in `prefer` (the region DNS
    /// sends users to) first.
    pub fn accepting_writers(&self, prefer: Option<&str>) -> Vec<&Member> {
        let mut writers: Vec<&Member> =
            self.members.iter().filter(|m| m.accepts_writes()).collect();
        writers.sort_by_key(|m| Some(m.region.as_str()) != prefer);
        writers
    }

    /// Where writes are accepted now.
    pub fn writer(&self, prefer: Option<&str>) -> Option<&Member> {
        self.accepting_writers(prefer).into_iter().next()
    }

    /// The member holding the writer role, reachable or not: during an
    /// outage it is the one whose region failed.
    pub fn role_holder(&self) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.role == MemberRole::Writer)
            .or_else(|| self.members.iter().find(|m| m.role.takes_writes()))
    }

    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }
}

/// RDS statuses in which a writer serves writes. Anything else (failing
/// over, switching over, inaccessible, stopped, rebooting, failed, an
/// unfamiliar status) counts as not taking writes: the console claims no
/// more than it saw.
pub fn status_accepts_writes(status: &str) -> bool {
    matches!(
        status,
        "available"
            | "backing-up"
            | "modifying"
            | "upgrading"
            | "maintenance"
            | "storage-optimization"
            | "renaming"
            | "resetting-master-credentials"
            | "storage-config-upgrade"
    ) || status.starts_with("configuring-")
}

/// The service's databases as observed; `None` when it has none (S3).
pub fn observe(service: &ServiceSpec, snap: &impl Lookup) -> Option<Topology> {
    match &service.replication {
        Replication::AuroraGlobal {
            primary_cluster,
            secondary_cluster,
            ..
        } => Some(Topology {
            members: [primary_cluster, secondary_cluster]
                .into_iter()
                .filter_map(|id| cluster_member(snap, id))
                .collect(),
            single_writer: true,
        }),
        Replication::RdsReplica {
            source_instance,
            replica_instance,
        } => Some(Topology {
            members: [source_instance, replica_instance]
                .into_iter()
                .filter_map(|id| {
                    let i = snap.instance(id)?;
                    let role = if i.replica_source.is_some() {
                        MemberRole::Replica
                    } else if id == replica_instance {
                        // The configured replica replicates nothing: promoted.
                        MemberRole::Standalone
                    } else {
                        MemberRole::Writer
                    };
                    Some(Member {
                        id: i.id.clone(),
                        region: i.region.clone(),
                        role,
                        status: i.status.clone(),
                        lag: (role == MemberRole::Replica)
                            .then(|| lag_of(snap, &i.id))
                            .flatten(),
                    })
                })
                .collect(),
            single_writer: true,
        }),
        Replication::S3 { .. } => None,
        Replication::Backup {
            clusters,
            instances,
        } => Some(Topology {
            members: clusters
                .iter()
                .filter_map(|id| cluster_member(snap, id))
                .chain(instances.iter().filter_map(|id| {
                    let i = snap.instance(id)?;
                    Some(Member {
                        id: i.id.clone(),
                        region: i.region.clone(),
                        role: MemberRole::Writer,
                        status: i.status.clone(),
                        lag: None,
                    })
                }))
                .collect(),
            single_writer: false,
        }),
    }
}

fn cluster_member(snap: &impl Lookup, id: &str) -> Option<Member> {
    let c = snap.cluster(id)?;
    let pending_resync = snap.pending_resync(c);
    let role = match c.role {
        ClusterRole::Primary => MemberRole::Writer,
        ClusterRole::Secondary if pending_resync => MemberRole::Resyncing,
        ClusterRole::Secondary => MemberRole::Replica,
        ClusterRole::Standalone => MemberRole::Standalone,
    };
    Some(Member {
        id: c.id.clone(),
        region: c.region.clone(),
        role,
        status: c.status.clone(),
        lag: (role == MemberRole::Replica)
            .then(|| lag_of(snap, &c.id))
            .flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{failed_over, healthy_world, orders};

    #[test]
    fn the_writer_follows_the_observed_roles_not_the_configuration() {
        let t = observe(&orders(), &healthy_world()).unwrap();
        assert_eq!(t.writer(None).unwrap().id, "orders-primary");
        let t = observe(&orders(), &failed_over()).unwrap();
        let writer = t.writer(None).unwrap();
        assert_eq!(
            (writer.id.as_str(), writer.region.as_str()),
            ("orders-secondary", "us-west-2")
        );
        assert_eq!(
            t.member("orders-primary").unwrap().role,
            MemberRole::Resyncing
        );
    }

    #[test]
    fn an_inaccessible_writer_takes_no_writes_but_still_holds_the_role() {
        let mut world = healthy_world();
        world.db_clusters[0].status = "inaccessible".into();
        let t = observe(&orders(), &world).unwrap();
        assert!(t.writer(None).is_none());
        assert_eq!(t.role_holder().unwrap().id, "orders-primary");
    }

    #[test]
    fn unfamiliar_statuses_do_not_count_as_taking_writes() {
        assert!(status_accepts_writes("available"));
        assert!(status_accepts_writes("configuring-log-exports"));
        assert!(!status_accepts_writes("failing-over"));
        assert!(!status_accepts_writes("something-new"));
        assert!(!status_accepts_writes(""));
    }
}
