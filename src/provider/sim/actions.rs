//! Failover actions against the simulated world, with the preconditions,
//! error messages and durations of the AWS APIs they stand for.

use rand::Rng;

use super::clock::later;
use super::model::{
    Change, Completion, GlobalOperation, GlobalOperationKind, Membership, Model,
    PROMOTED_RETENTION_DAYS, Record, SyncStatus,
};
use crate::domain::action::{Action, RecordValue};
use crate::domain::action::{ChangeStatus, Receipt};
use crate::domain::posture::same_name;
use crate::domain::snapshot::{ErrorKind, SourceError};

fn invalid(message: String) -> SourceError {
    SourceError::new(ErrorKind::InvalidState, message)
}

fn not_found(message: String) -> SourceError {
    SourceError::new(ErrorKind::NotFound, message)
}

/// The source whose API an action calls, to share its injected failures.
pub(super) fn api_source(action: &Action) -> String {
    match action {
        Action::SwitchoverGlobalCluster { region, .. }
        | Action::FailoverGlobalCluster { region, .. }
        | Action::RemoveFromGlobalCluster { region, .. }
        | Action::PromoteReadReplica { region, .. }
        | Action::PromoteReadReplicaDbCluster { region, .. } => format!("rds:{region}"),
        Action::UpsertRecord { .. } | Action::UpdateHealthCheck { .. } => "route53".into(),
    }
}

/// The regional endpoint must be up to take the call at all.
fn reachable(model: &Model, region: &str) -> Result<(), SourceError> {
    match model.region_index(region) {
        Some(r) if model.region_down(r) => Err(SourceError::new(
            ErrorKind::Network,
            format!(
                "Could not connect to the endpoint URL: \"https://rds.{region}.amazonaws.com/\""
            ),
        )),
        Some(_) => Ok(()),
        None => Err(SourceError::new(
            ErrorKind::Network,
            format!(
                "Could not connect to the endpoint URL: \"https://rds.{region}.amazonaws.com/\" (unknown region)"
            ),
        )),
    }
}

pub(super) fn execute(model: &mut Model, action: &Action) -> Result<Receipt, SourceError> {
    let request_id = request_id(model);
    let (summary, change_id) = match action {
        Action::SwitchoverGlobalCluster {
            region,
            global_cluster,
            target_cluster,
        } => {
            reachable(model, region)?;
            (
                change_global_writer(
                    model,
                    global_cluster,
                    target_cluster,
                    GlobalChange::Switchover,
                )?,
                None,
            )
        }
        Action::FailoverGlobalCluster {
            region,
            global_cluster,
            target_cluster,
            allow_data_loss,
        } => {
            reachable(model, region)?;
            let how = if *allow_data_loss {
                GlobalChange::FailoverAllowingDataLoss
            } else {
                GlobalChange::FailoverWithoutDataLoss
            };
            (
                change_global_writer(model, global_cluster, target_cluster, how)?,
                None,
            )
        }
        Action::RemoveFromGlobalCluster {
            region,
            global_cluster,
            cluster,
        } => {
            reachable(model, region)?;
            (remove_from_global(model, global_cluster, cluster)?, None)
        }
        Action::PromoteReadReplica {
            region,
            instance,
            backup_retention_days,
        } => {
            reachable(model, region)?;
            (
                promote_read_replica(model, region, instance, *backup_retention_days)?,
                None,
            )
        }
        Action::PromoteReadReplicaDbCluster { region, cluster } => {
            reachable(model, region)?;
            return Err(promote_cluster_refusal(model, region, cluster));
        }
        Action::UpsertRecord { .. } => {
            let (summary, change_id) = upsert_record(model, action)?;
            (summary, Some(change_id))
        }
        Action::UpdateHealthCheck {
            health_check_id,
            disabled,
            inverted,
        } => (
            update_health_check(model, health_check_id, *disabled, *inverted)?,
            None,
        ),
    };
    Ok(Receipt {
        request_id: Some(request_id),
        change_id,
        summary,
    })
}

fn request_id(model: &mut Model) -> String {
    let a: u32 = model.rng.random();
    let b: u64 = model.rng.random();
    format!(
        "{a:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        (b >> 48) as u16,
        (b >> 32) as u16,
        (b >> 16) as u16,
        b & 0xffff_ffff_ffff
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobalChange {
    Switchover,
    FailoverWithoutDataLoss,
    FailoverAllowingDataLoss,
}

fn change_global_writer(
    model: &mut Model,
    global_id: &str,
    target: &str,
    how: GlobalChange,
) -> Result<String, SourceError> {
    let global = model.global_index(global_id).ok_or_else(|| {
        not_found(format!(
            "GlobalClusterNotFoundFault: Global cluster {global_id} not found."
        ))
    })?;
    if let Some(op) = &model.globals[global].operation {
        let doing = op.kind.status();
        return Err(invalid(format!(
            "InvalidGlobalClusterStateFault: Global cluster {global_id} is {doing}; wait until it is available."
        )));
    }
    let target_index = model
        .cluster_index(target)
        .filter(|c| model.globals[global].members.contains(c))
        .ok_or_else(|| {
            invalid(format!(
                "InvalidDBClusterStateFault: The target cluster {target} is not a member of global cluster {global_id}."
            ))
        })?;
    let target_cluster = &model.clusters[target_index];
    match target_cluster.membership {
        Membership::Writer => {
            return Err(invalid(format!(
                "InvalidDBClusterStateFault: The target cluster {target} is already the primary cluster of global cluster {global_id}."
            )));
        }
        Membership::Secondary(SyncStatus::PendingResync) => {
            return Err(invalid(format!(
                "InvalidDBClusterStateFault: The target cluster {target} is not synchronized with global cluster {global_id} (pending-resync)."
            )));
        }
        _ => {}
    }
    if model.region_down(target_cluster.region) || target_cluster.operation.is_some() {
        return Err(invalid(format!(
            "InvalidDBClusterStateFault: DB cluster {} is not available.",
            target_cluster.id
        )));
    }
    let writer = model.writer_of(global);
    let writer_reachable = writer.is_some_and(|w| !model.region_down(model.clusters[w].region));
    if how != GlobalChange::FailoverAllowingDataLoss && !writer_reachable {
        return Err(invalid(format!(
            "InvalidGlobalClusterStateFault: The primary cluster of global cluster {global_id} is unreachable; \
             a switchover needs both regions healthy. Use a failover with AllowDataLoss."
        )));
    }
    let (kind, duration, verb) = match how {
        GlobalChange::Switchover => (
            GlobalOperationKind::Switchover,
            model.duration_between(60, 120),
            "Switchover",
        ),
        _ => (
            GlobalOperationKind::Failover,
            model.duration_between(45, 75),
            "Failover",
        ),
    };
    let status = kind.status();
    model.clusters[target_index].operation = Some(status);
    if let Some(w) = writer.filter(|_| writer_reachable) {
        model.clusters[w].operation = Some(status);
    }
    model.globals[global].operation = Some(GlobalOperation {
        kind,
        target: target_index,
    });
    model.schedule(
        duration,
        Completion::GlobalRoleChange {
            global,
            target: target_index,
            allow_data_loss: how == GlobalChange::FailoverAllowingDataLoss,
        },
    );
    Ok(format!(
        "{verb} of global cluster {global_id} to {} started",
        model.clusters[target_index].id
    ))
}

fn remove_from_global(
    model: &mut Model,
    global_id: &str,
    cluster: &str,
) -> Result<String, SourceError> {
    let global = model.global_index(global_id).ok_or_else(|| {
        not_found(format!(
            "GlobalClusterNotFoundFault: Global cluster {global_id} not found."
        ))
    })?;
    let index = model
        .cluster_index(cluster)
        .filter(|c| model.globals[global].members.contains(c))
        .ok_or_else(|| {
            not_found(format!(
                "DBClusterNotFoundFault: DB cluster {cluster} is not a member of global cluster {global_id}."
            ))
        })?;
    let c = &model.clusters[index];
    if c.operation.is_some() {
        return Err(invalid(format!(
            "InvalidDBClusterStateFault: DB cluster {} is {}.",
            c.id,
            c.operation.unwrap_or("busy")
        )));
    }
    if model.region_down(c.region) {
        return Err(invalid(format!(
            "InvalidDBClusterStateFault: DB cluster {} is not available.",
            c.id
        )));
    }
    if c.membership == Membership::Writer && model.globals[global].members.len() > 1 {
        return Err(invalid(format!(
            "InvalidGlobalClusterStateFault: The primary cluster {} cannot be removed from global cluster {global_id} while it has secondary clusters.",
            c.id
        )));
    }
    let id = c.id.clone();
    model.clusters[index].operation = Some("promoting");
    let after = model.duration_between(20, 45);
    model.schedule(
        after,
        Completion::Detach {
            global,
            cluster: index,
        },
    );
    Ok(format!(
        "Removing {id} from global cluster {global_id}; it becomes a standalone writable cluster"
    ))
}

fn promote_read_replica(
    model: &mut Model,
    region: &str,
    instance: &str,
    retention: Option<u32>,
) -> Result<String, SourceError> {
    let index = model
        .instance_index(instance)
        .filter(|&i| model.regions[model.instances[i].region].name == region)
        .ok_or_else(|| {
            not_found(format!(
                "DBInstanceNotFound: DBInstance {instance} not found."
            ))
        })?;
    let i = &model.instances[index];
    if let Some(op) = i.operation {
        return Err(invalid(format!(
            "InvalidDBInstanceState: DB instance {} is {op}.",
            i.id
        )));
    }
    if i.replica_of.is_none() {
        return Err(invalid(format!(
            "InvalidDBInstanceState: DB instance {} is not a read replica.",
            i.id
        )));
    }
    let id = i.id.clone();
    model.instances[index].operation = Some("modifying");
    let after = model.duration_between(180, 300);
    model.schedule(
        after,
        Completion::InstancePromoted {
            instance: index,
            retention_days: retention.unwrap_or(PROMOTED_RETENTION_DAYS),
        },
    );
    Ok(format!(
        "Promoting read replica {id} to a standalone instance (a few minutes)"
    ))
}

/// No simulated cluster is a cross-region cluster read replica, so the call
/// is refused as AWS refuses it for global members and standalone clusters.
fn promote_cluster_refusal(model: &Model, region: &str, cluster: &str) -> SourceError {
    let found = model
        .cluster_index(cluster)
        .filter(|&c| model.regions[model.clusters[c].region].name == region);
    match found {
        None => not_found(format!(
            "DBClusterNotFoundFault: DBCluster {cluster} not found."
        )),
        Some(c) if model.clusters[c].global.is_some() => invalid(format!(
            "InvalidDBClusterStateFault: DB cluster {} is a member of a global cluster; use RemoveFromGlobalCluster to promote it.",
            model.clusters[c].id
        )),
        Some(c) => invalid(format!(
            "InvalidDBClusterStateFault: DB cluster {} is not a read replica.",
            model.clusters[c].id
        )),
    }
}

/// The record set an upsert would leave in place.
fn record_of(action: &Action) -> Option<Record> {
    let Action::UpsertRecord {
        zone_id,
        name,
        record,
        set_identifier,
        failover,
        health_check_id,
    } = action
    else {
        return None;
    };
    let (record_type, target, ttl) = match record {
        RecordValue::Cname { value, ttl } => ("CNAME".to_string(), value.clone(), Some(*ttl)),
        RecordValue::Alias {
            record_type,
            dns_name,
            ..
        } => (record_type.clone(), dns_name.clone(), None),
    };
    Some(Record {
        zone_id: zone_id.clone(),
        name: name.clone(),
        record_type,
        set_identifier: set_identifier.clone(),
        failover: *failover,
        target,
        ttl,
        health_check_id: health_check_id.clone(),
    })
}

fn upsert_record(model: &mut Model, action: &Action) -> Result<(String, String), SourceError> {
    let Some(record) = record_of(action) else {
        return Err(invalid("not a record upsert".into()));
    };
    if !model.zones.contains(&record.zone_id) {
        return Err(not_found(format!(
            "NoSuchHostedZone: No hosted zone found with ID: {}",
            record.zone_id
        )));
    }
    if let Some(hc) = &record.health_check_id
        && !model.health_checks.iter().any(|h| &h.id == hc)
    {
        return Err(invalid(format!(
            "InvalidChangeBatch: [The health check {hc} does not exist]"
        )));
    }
    if record.failover.is_some() && record.set_identifier.is_none() {
        return Err(SourceError::new(
            ErrorKind::Other,
            format!(
                "InvalidInput: Invalid request: Missing field 'SetIdentifier' in Change with [Action=UPSERT, Name={}, Type={}]",
                record.name, record.record_type
            ),
        ));
    }
    // Route 53 keeps routing-policy sets and a plain set of one name and
    // type apart: a plain CNAME cannot replace a failover pair.
    let conflicting = model.records.iter().any(|r| {
        r.zone_id == record.zone_id
            && same_name(&r.name, &record.name)
            && r.record_type == record.record_type
            && r.set_identifier.is_some() != record.set_identifier.is_some()
    });
    if conflicting {
        return Err(invalid(format!(
            "InvalidChangeBatch: [RRSet with DNS name {}, type {} cannot be created as other RRSets exist with the same name and type but a different routing policy.]",
            record.name, record.record_type
        )));
    }
    let summary = format!(
        "UPSERT {} {} -> {}",
        record.name, record.record_type, record.target
    );
    let existing = model.records.iter().position(|r| {
        r.same_set(
            &record.zone_id,
            &record.name,
            record.set_identifier.as_deref(),
        )
    });
    match existing {
        Some(i) => model.records[i] = record,
        None => model.records.push(record),
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let suffix: String = (0..13)
        .map(|_| ALPHABET[model.rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    let id = format!("C{suffix}");
    let propagation = model.duration_between(30, 60);
    model.changes.push(Change {
        id: id.clone(),
        insync_at: later(model.time, propagation),
    });
    Ok((summary, id))
}

fn update_health_check(
    model: &mut Model,
    id: &str,
    disabled: Option<bool>,
    inverted: Option<bool>,
) -> Result<String, SourceError> {
    let check = model
        .health_checks
        .iter_mut()
        .find(|h| h.id == id)
        .ok_or_else(|| {
            not_found(format!(
                "NoSuchHealthCheck: No health check exists with the specified ID {id}"
            ))
        })?;
    if let Some(d) = disabled {
        check.disabled = d;
    }
    if let Some(i) = inverted {
        check.inverted = i;
    }
    Ok(format!(
        "Health check {id}: disabled={}, inverted={}",
        check.disabled, check.inverted
    ))
}

/// Whether the effect of `action` is in place already (or under way after
/// an accepted call), so a resumed run never repeats it.
pub(super) fn already_applied(model: &Model, action: &Action) -> Result<bool, SourceError> {
    match action {
        Action::SwitchoverGlobalCluster {
            global_cluster,
            target_cluster,
            ..
        }
        | Action::FailoverGlobalCluster {
            global_cluster,
            target_cluster,
            ..
        } => {
            let global = model.global_index(global_cluster).ok_or_else(|| {
                not_found(format!(
                    "GlobalClusterNotFoundFault: Global cluster {global_cluster} not found."
                ))
            })?;
            let Some(target) = model.cluster_index(target_cluster) else {
                return Err(not_found(format!(
                    "DBClusterNotFoundFault: DBCluster {target_cluster} not found."
                )));
            };
            let under_way = model.globals[global]
                .operation
                .as_ref()
                .is_some_and(|op| op.target == target);
            Ok(under_way || model.writer_of(global) == Some(target))
        }
        Action::RemoveFromGlobalCluster {
            global_cluster,
            cluster,
            ..
        } => {
            let global = model.global_index(global_cluster).ok_or_else(|| {
                not_found(format!(
                    "GlobalClusterNotFoundFault: Global cluster {global_cluster} not found."
                ))
            })?;
            let Some(index) = model.cluster_index(cluster) else {
                return Err(not_found(format!(
                    "DBClusterNotFoundFault: DBCluster {cluster} not found."
                )));
            };
            let member = model.globals[global].members.contains(&index);
            let detaching = model.clusters[index].operation == Some("promoting");
            Ok(!member || detaching)
        }
        Action::PromoteReadReplica { instance, .. } => {
            let index = model.instance_index(instance).ok_or_else(|| {
                not_found(format!(
                    "DBInstanceNotFound: DBInstance {instance} not found."
                ))
            })?;
            let i = &model.instances[index];
            Ok(i.replica_of.is_none() || i.operation.is_some())
        }
        Action::PromoteReadReplicaDbCluster { cluster, .. } => {
            let index = model.cluster_index(cluster).ok_or_else(|| {
                not_found(format!(
                    "DBClusterNotFoundFault: DBCluster {cluster} not found."
                ))
            })?;
            Ok(model.clusters[index].global.is_none())
        }
        Action::UpsertRecord { .. } => {
            let wanted = record_of(action);
            Ok(wanted.is_some_and(|w| model.records.contains(&w)))
        }
        Action::UpdateHealthCheck {
            health_check_id,
            disabled,
            inverted,
        } => {
            let check = model
                .health_checks
                .iter()
                .find(|h| &h.id == health_check_id)
                .ok_or_else(|| {
                    not_found(format!(
                        "NoSuchHealthCheck: No health check exists with the specified ID {health_check_id}"
                    ))
                })?;
            Ok(disabled.is_none_or(|d| d == check.disabled)
                && inverted.is_none_or(|i| i == check.inverted))
        }
    }
}

pub(super) fn change_status(model: &Model, change_id: &str) -> Result<ChangeStatus, SourceError> {
    let change = model
        .changes
        .iter()
        .find(|c| c.id == change_id)
        .ok_or_else(|| {
            not_found(format!(
                "NoSuchChange: A change with the specified change ID does not exist: {change_id}"
            ))
        })?;
    Ok(if model.time >= change.insync_at {
        ChangeStatus::Insync
    } else {
        ChangeStatus::Pending
    })
}
