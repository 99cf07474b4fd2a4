//! Two-person approval through the shared store: the second operator's
//! approval of a `confirm: two-person` step is an object beside the run's
//! journal, `PREFIX/runs/RUN/approvals/STEP/N.json`, created only if absent.
//!
//! It is not written into the run's own record sequence: only the lease
//! holder writes there, and a record from anyone else would fence it. The
//! holder reads the approval and journals it (`approved`, with who and
//! why) before making the call.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::journal::{self, MirrorError};
use super::lease::Claimant;
use super::store::{ObjectStore, StoreError};
use crate::runbook::journal::Entry;

/// How many approvals of one step are looked for (one is enough; a few
/// more numbers let a second approver write after a first who erred).
const SLOTS: u64 = 8;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub run_id: String,
    pub step: String,
    /// The record number of the request approved: an approval of an
    /// earlier request (declined since, then asked again) does not count.
    pub request: u64,
    pub approver: Claimant,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApproveError {
    #[error("an approval needs a reason")]
    NoReason,
    #[error("run {run} has no pending approval request for step `{step}`")]
    NotRequested { run: String, step: String },
    #[error(
        "{identity} requested step `{step}` of run {run}: a second operator with another identity must approve it"
    )]
    OwnRequest {
        run: String,
        step: String,
        identity: String,
    },
    #[error("step `{step}` of run {run} already has {SLOTS} approvals")]
    Full { run: String, step: String },
    #[error(transparent)]
    Journal(#[from] MirrorError),
    #[error("shared store: {0}")]
    Store(#[from] StoreError),
}

fn folder(prefix: &str, run_id: &str, step: &str) -> String {
    format!("{}approvals/{step}/", journal::run_prefix(prefix, run_id))
}

/// Approves `step` of `run_id` as `me`, after checking in the shared
/// journal that its approval was requested, is still open, and was
/// requested by another identity.
pub async fn approve(
    store: &dyn ObjectStore,
    prefix: &str,
    run_id: &str,
    step: &str,
    me: &Claimant,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Approval, ApproveError> {
    if reason.trim().is_empty() {
        return Err(ApproveError::NoReason);
    }
    let records = journal::read_from(store, prefix, run_id, 1).await?;
    // The latest request of the step, unless something settled it since.
    let mut requester = None;
    for r in &records {
        match &r.record.entry {
            Entry::ApprovalRequested { step: s, .. } if s == step => {
                requester = Some((r.writer.identity.clone(), r.seq));
            }
            Entry::Approved { step: s, .. }
            | Entry::Intent { step: s, .. }
            | Entry::Declined { step: s, .. }
            | Entry::Skipped { step: s, .. }
                if s == step =>
            {
                requester = None;
            }
            Entry::Finished { .. } => requester = None,
            _ => {}
        }
    }
    let not_requested = || ApproveError::NotRequested {
        run: run_id.to_string(),
        step: step.to_string(),
    };
    let (requester, request) = requester.ok_or_else(not_requested)?;
    if requester == me.identity {
        return Err(ApproveError::OwnRequest {
            run: run_id.to_string(),
            step: step.to_string(),
            identity: requester,
        });
    }
    let approval = Approval {
        run_id: run_id.to_string(),
        step: step.to_string(),
        request,
        approver: me.clone(),
        reason: reason.trim().to_string(),
        at: now,
    };
    let body = serde_json::to_vec_pretty(&approval).unwrap_or_default();
    let folder = folder(prefix, run_id, step);
    for n in 1..=SLOTS {
        match store
            .create(&format!("{folder}{n:03}.json"), body.clone())
            .await
        {
            Ok(_) => return Ok(approval),
            Err(StoreError::Precondition { .. } | StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApproveError::Full {
        run: run_id.to_string(),
        step: step.to_string(),
    })
}

/// The approvals of `step` stored so far. One that cannot be read is
/// left out: an approval is only ever acted on when it is whole.
pub async fn approvals(
    store: &dyn ObjectStore,
    prefix: &str,
    run_id: &str,
    step: &str,
) -> Result<Vec<Approval>, StoreError> {
    let mut found = Vec::new();
    for key in store.list(&folder(prefix, run_id, step)).await? {
        if let Some(object) = store.get(&key).await?
            && let Ok(approval) = serde_json::from_slice::<Approval>(&object.body)
            && approval.run_id == run_id
            && approval.step == step
        {
            found.push(approval);
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::journal::Mirror;
    use crate::coordination::memory::MemoryStore;
    use crate::runbook::journal::Record;

    fn who(name: &str) -> Claimant {
        Claimant {
            identity: format!("arn:aws:iam::123456789012:user/{name}"),
            host: format!("{name}-laptop"),
            pid: 7,
        }
    }

    fn record(entry: Entry) -> Record {
        Record {
            at: Utc::now(),
            entry,
        }
    }

    #[tokio::test]
    async fn only_another_identity_approves_a_requested_step() {
        let store = MemoryStore::new();
        let mut ann = Mirror::new("", "r1", who("ann"), 1);
        let now = Utc::now();
        // Nothing requested yet.
        let err = approve(&store, "", "r1", "promote", &who("bob"), "ok", now)
            .await
            .unwrap_err();
        assert!(matches!(err, ApproveError::NotRequested { .. }), "{err}");
        ann.append(
            &store,
            &record(Entry::ApprovalRequested {
                step: "promote".into(),
                operator: who("ann").identity,
            }),
        )
        .await
        .unwrap();
        let err = approve(&store, "", "r1", "promote", &who("ann"), "me", now)
            .await
            .unwrap_err();
        assert!(matches!(err, ApproveError::OwnRequest { .. }), "{err}");
        assert!(matches!(
            approve(&store, "", "r1", "promote", &who("bob"), " ", now).await,
            Err(ApproveError::NoReason)
        ));
        let approval = approve(&store, "", "r1", "promote", &who("bob"), "lag is 2s", now)
            .await
            .unwrap();
        assert_eq!(approval.request, 1);
        assert_eq!(
            approvals(&store, "", "r1", "promote").await.unwrap(),
            vec![approval]
        );
        // The approval does not fence the holder: its next record still goes in.
        ann.append(
            &store,
            &record(Entry::Approved {
                step: "promote".into(),
                approver: who("bob").identity,
                reason: "lag is 2s".into(),
            }),
        )
        .await
        .unwrap();
        // Once used, the request is closed.
        let err = approve(&store, "", "r1", "promote", &who("cat"), "late", now)
            .await
            .unwrap_err();
        assert!(matches!(err, ApproveError::NotRequested { .. }), "{err}");
    }
}
