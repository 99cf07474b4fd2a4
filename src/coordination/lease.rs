//! The lease on a service: one object per service, `PREFIX/locks/SERVICE.json`,
//! saying who runs which run on it until when.
//!
//! Taken with a conditional create, renewed by its holder with a
//! conditional replace on the ETag it last wrote, released with a
//! conditional delete: a console whose write fails has lost the lease and
//! is told who has it. A lease past its expiry is not free: its run may be
//! stranded half-way, so it passes to another operator only through
//! [`take_over`], with a reason, and the new holder resumes that run.
//!
//! The lease covers everything the service's runbooks act on, as the local
//! lock does (see [`crate::runbook::ownership`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::{ObjectStore, StoreError};

/// How many times a write is retried after a concurrent write (409) or an
/// object vanishing between a failed create and the read that follows.
const ATTEMPTS: usize = 4;

/// Who acts: the AWS identity, and where from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claimant {
    /// The caller identity's ARN (`sts:GetCallerIdentity`).
    pub identity: String,
    pub host: String,
    pub pid: u32,
}

impl std::fmt::Display for Claimant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} on {} (pid {})", self.identity, self.host, self.pid)
    }
}

/// How the lease passed from a gone holder to this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TakeOver {
    pub from: Claimant,
    pub reason: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub service: String,
    pub run_id: String,
    pub holder: Claimant,
    pub acquired: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_over: Option<TakeOver>,
}

impl Lease {
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires <= now
    }
}

impl std::fmt::Display for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, run {}, lease until {}",
            self.holder,
            self.run_id,
            self.expires.format("%H:%M:%S UTC")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    #[error("a runbook is already running on `{service}` (shared store): held by {lease}", service = .lease.service)]
    Held { lease: Lease },
    #[error(
        "the lease on `{service}` expired at {at}: its holder {holder} is gone or cut off, and run {run} may be half-way; take it over with --take-over --reason \"...\" to resume that run",
        service = .lease.service,
        at = .lease.expires.format("%H:%M:%S UTC"),
        holder = .lease.holder,
        run = .lease.run_id
    )]
    Expired { lease: Lease, etag: String },
    #[error("lost the lease on `{service}`: {}", lost_to(.by))]
    Lost { service: String, by: Option<Lease> },
    #[error("the lease on `{service}` has not expired (held by {lease}); only an expired lease can be taken over", service = .lease.service)]
    NotExpired { lease: Lease },
    #[error("there is no lease on `{service}` to take over; start the run normally")]
    NothingToTakeOver { service: String },
    #[error("a takeover needs a reason")]
    NoReason,
    #[error("{key}: not a lease: {message}")]
    Corrupt { key: String, message: String },
    #[error("shared store: {0}")]
    Store(#[from] StoreError),
}

fn lost_to(by: &Option<Lease>) -> String {
    match by {
        Some(lease) => format!("now held by {lease}"),
        None => "it was deleted".into(),
    }
}

/// The key of a service's lease under `prefix` (empty, or ending in `/`).
pub fn key(prefix: &str, service: &str) -> String {
    format!("{prefix}locks/{service}.json")
}

/// A lease this console holds, with the ETag of its last write.
#[derive(Debug, Clone)]
pub struct HeldLease {
    key: String,
    lease: Lease,
    etag: String,
}

impl HeldLease {
    pub fn lease(&self) -> &Lease {
        &self.lease
    }

    /// Pushes the expiry to `now + ttl`; fails if anyone else wrote the lease.
    pub async fn renew(
        &mut self,
        store: &dyn ObjectStore,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(), LeaseError> {
        let mut renewed = self.lease.clone();
        renewed.expires = expiry(now, ttl);
        let body = encode(&renewed);
        for _ in 0..ATTEMPTS {
            match store.replace(&self.key, body.clone(), &self.etag).await {
                Ok(etag) => {
                    self.lease = renewed;
                    self.etag = etag;
                    return Ok(());
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(StoreError::Precondition { .. }) => return Err(self.lost(store).await),
                Err(e) => return Err(e.into()),
            }
        }
        Err(self.lost(store).await)
    }

    /// Deletes the lease if it is still this console's.
    pub async fn release(self, store: &dyn ObjectStore) -> Result<(), LeaseError> {
        match store.delete(&self.key, &self.etag).await {
            Ok(()) => Ok(()),
            Err(StoreError::Precondition { .. }) => Err(self.lost(store).await),
            Err(e) => Err(e.into()),
        }
    }

    async fn lost(&self, store: &dyn ObjectStore) -> LeaseError {
        let by = match read(store, &self.key).await {
            Ok(Some((lease, _))) => Some(lease),
            Ok(None) => None,
            Err(e) => return e,
        };
        LeaseError::Lost {
            service: self.lease.service.clone(),
            by,
        }
    }
}

/// Takes the free lease on `service` for `run_id`. A live lease is
/// [`LeaseError::Held`]; an expired one [`LeaseError::Expired`].
pub async fn acquire(
    store: &dyn ObjectStore,
    prefix: &str,
    service: &str,
    run_id: &str,
    me: &Claimant,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<HeldLease, LeaseError> {
    let key = key(prefix, service);
    let lease = Lease {
        service: service.to_string(),
        run_id: run_id.to_string(),
        holder: me.clone(),
        acquired: now,
        expires: expiry(now, ttl),
        taken_over: None,
    };
    let body = encode(&lease);
    for _ in 0..ATTEMPTS {
        match store.create(&key, body.clone()).await {
            Ok(etag) => return Ok(HeldLease { key, lease, etag }),
            Err(StoreError::Conflict { .. }) => continue,
            Err(StoreError::Precondition { .. }) => match read(store, &key).await? {
                // Released between the create and the read: try again.
                None => continue,
                Some((lease, _)) if !lease.expired_at(now) => {
                    return Err(LeaseError::Held { lease });
                }
                Some((lease, etag)) => return Err(LeaseError::Expired { lease, etag }),
            },
            Err(e) => return Err(e.into()),
        }
    }
    match read(store, &key).await? {
        Some((lease, _)) => Err(LeaseError::Held { lease }),
        None => Err(StoreError::Conflict { key }.into()),
    }
}

/// Takes over the expired lease on `service`, keeping its run: the caller
/// resumes that run from the shared journal. Only the ETag read here is
/// replaced, so of two deputies taking over at once one wins and the other
/// is told who.
pub async fn take_over(
    store: &dyn ObjectStore,
    prefix: &str,
    service: &str,
    me: &Claimant,
    reason: &str,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<HeldLease, LeaseError> {
    if reason.trim().is_empty() {
        return Err(LeaseError::NoReason);
    }
    let key = key(prefix, service);
    let Some((old, etag)) = read(store, &key).await? else {
        return Err(LeaseError::NothingToTakeOver {
            service: service.to_string(),
        });
    };
    if !old.expired_at(now) {
        return Err(LeaseError::NotExpired { lease: old });
    }
    let lease = Lease {
        service: service.to_string(),
        run_id: old.run_id.clone(),
        holder: me.clone(),
        acquired: now,
        expires: expiry(now, ttl),
        taken_over: Some(TakeOver {
            from: old.holder.clone(),
            reason: reason.trim().to_string(),
            at: now,
        }),
    };
    match store.replace(&key, encode(&lease), &etag).await {
        Ok(etag) => Ok(HeldLease { key, lease, etag }),
        Err(StoreError::Precondition { .. } | StoreError::Conflict { .. }) => {
            match read(store, &key).await? {
                Some((lease, _)) => Err(LeaseError::Held { lease }),
                None => Err(LeaseError::NothingToTakeOver {
                    service: service.to_string(),
                }),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Every lease in the store, live or expired: the runs in progress and
/// those stranded by a gone holder. For `follow` and the run pickers.
pub async fn active_runs(store: &dyn ObjectStore, prefix: &str) -> Result<Vec<Lease>, LeaseError> {
    let mut leases = Vec::new();
    for key in store.list(&format!("{prefix}locks/")).await? {
        if !key.ends_with(".json") {
            continue;
        }
        if let Some((lease, _)) = read(store, &key).await? {
            leases.push(lease);
        }
    }
    Ok(leases)
}

/// The lease at `key`, if any.
pub async fn read(
    store: &dyn ObjectStore,
    key: &str,
) -> Result<Option<(Lease, String)>, LeaseError> {
    let Some(object) = store.get(key).await? else {
        return Ok(None);
    };
    let lease = serde_json::from_slice(&object.body).map_err(|e| LeaseError::Corrupt {
        key: key.to_string(),
        message: e.to_string(),
    })?;
    Ok(Some((lease, object.etag)))
}

fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|ttl| now.checked_add_signed(ttl))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn encode(lease: &Lease) -> Vec<u8> {
    serde_json::to_vec_pretty(lease).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::memory::MemoryStore;

    const TTL: Duration = Duration::from_secs(60);

    fn who(name: &str) -> Claimant {
        Claimant {
            identity: format!("arn:aws:iam::123456789012:user/{name}"),
            host: format!("{name}-laptop"),
            pid: 7,
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + s, 0).unwrap()
    }

    #[tokio::test]
    async fn of_two_consoles_racing_for_a_service_exactly_one_wins_and_the_other_names_it() {
        let store = MemoryStore::new();
        let (ann, bob) = (who("ann"), who("bob"));
        let (a, b) = tokio::join!(
            acquire(&store, "dr/", "orders", "run-a", &ann, at(0), TTL),
            acquire(&store, "dr/", "orders", "run-b", &bob, at(0), TTL),
        );
        let (won, lost) = match (a, b) {
            (Ok(w), Err(l)) | (Err(l), Ok(w)) => (w, l),
            other => panic!("not exactly one winner: {other:?}"),
        };
        let LeaseError::Held { lease } = &lost else {
            panic!("{lost}")
        };
        assert_eq!(lease, won.lease());
        assert!(
            lost.to_string().contains(&won.lease().holder.identity),
            "{lost}"
        );
        assert_eq!(store.keys(), vec!["dr/locks/orders.json".to_string()]);
        // Another service is independent.
        acquire(&store, "dr/", "billing", "run-c", &bob, at(0), TTL)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_renewed_lease_holds_off_others_and_a_released_one_is_free() {
        let store = MemoryStore::new();
        let mut held = acquire(&store, "", "orders", "r1", &who("ann"), at(0), TTL)
            .await
            .unwrap();
        held.renew(&store, at(50), TTL).await.unwrap();
        // Past the first expiry, but renewed: still held.
        let err = acquire(&store, "", "orders", "r2", &who("bob"), at(90), TTL)
            .await
            .unwrap_err();
        assert!(matches!(err, LeaseError::Held { .. }), "{err}");
        held.release(&store).await.unwrap();
        acquire(&store, "", "orders", "r2", &who("bob"), at(90), TTL)
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn an_expired_lease_is_not_free_but_taken_over_with_a_reason_keeping_its_run() {
        let store = MemoryStore::new();
        let mut ann = acquire(&store, "", "orders", "r1", &who("ann"), at(0), TTL)
            .await
            .unwrap();
        let err = acquire(&store, "", "orders", "r2", &who("bob"), at(61), TTL)
            .await
            .unwrap_err();
        assert!(matches!(err, LeaseError::Expired { .. }), "{err}");
        assert!(err.to_string().contains("--take-over"), "{err}");
        assert_eq!(
            take_over(&store, "", "orders", &who("bob"), "  ", at(61), TTL)
                .await
                .unwrap_err(),
            LeaseError::NoReason
        );
        // Not before it expires.
        assert!(matches!(
            take_over(
                &store,
                "",
                "orders",
                &who("bob"),
                "ann is offline",
                at(30),
                TTL
            )
            .await,
            Err(LeaseError::NotExpired { .. })
        ));
        let bob = take_over(
            &store,
            "",
            "orders",
            &who("bob"),
            "ann is offline",
            at(61),
            TTL,
        )
        .await
        .unwrap();
        assert_eq!(bob.lease().run_id, "r1");
        let taken = bob.lease().taken_over.as_ref().unwrap();
        assert_eq!(
            (taken.from.clone(), taken.reason.as_str()),
            (who("ann"), "ann is offline")
        );
        // The old holder, back from the dead, cannot renew: it is told who has it.
        let lost = ann.renew(&store, at(62), TTL).await.unwrap_err();
        let LeaseError::Lost { by: Some(by), .. } = &lost else {
            panic!("{lost}")
        };
        assert_eq!(by.holder, who("bob"));
        // Nor release it from under the new holder.
        assert!(matches!(
            ann.release(&store).await,
            Err(LeaseError::Lost { .. })
        ));
        assert_eq!(
            active_runs(&store, "").await.unwrap(),
            vec![bob.lease().clone()]
        );
    }

    #[tokio::test]
    async fn of_two_deputies_taking_over_at_once_one_wins() {
        let store = MemoryStore::new();
        acquire(&store, "", "orders", "r1", &who("ann"), at(0), TTL)
            .await
            .unwrap();
        let (bob, cat) = (who("bob"), who("cat"));
        let (b, c) = tokio::join!(
            take_over(&store, "", "orders", &bob, "ann gone", at(70), TTL),
            take_over(&store, "", "orders", &cat, "ann gone", at(70), TTL),
        );
        assert!(b.is_ok() != c.is_ok(), "{b:?} {c:?}");
        let winner = b.as_ref().or(c.as_ref()).unwrap().lease().holder.clone();
        // Told who won: after its replace (not expired any more), or
        // during it (the ETag it read is gone).
        let lost = b.err().or(c.err()).unwrap();
        let (LeaseError::Held { lease } | LeaseError::NotExpired { lease }) = &lost else {
            panic!("{lost}")
        };
        assert_eq!(lease.holder, winner);
    }

    #[tokio::test]
    async fn a_store_outage_is_an_error_not_a_free_lease() {
        let store = MemoryStore::new();
        store.set_down(true);
        let err = acquire(&store, "", "orders", "r1", &who("ann"), at(0), TTL)
            .await
            .unwrap_err();
        assert!(
            matches!(err, LeaseError::Store(StoreError::Unreachable(_))),
            "{err}"
        );
    }
}
