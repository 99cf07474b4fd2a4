//! A run's hold on the shared store: claiming the service (a new run, a
//! takeover, or a solo run when the store cannot be reached), keeping the
//! lease alive, mirroring every journal record, and letting go at the end.
//!
//! The runner calls [`SharedRun::record`] after each local journal write
//! and [`SharedRun::before_acting`] before each call that changes the
//! estate; either failing means this console may no longer act on the
//! service, and the run stops there.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::approval::{self, Approval};
use super::config::SharedSettings;
use super::journal::{self, Mirror, MirrorError};
use super::lease::{self, Claimant, HeldLease, LeaseError};
use super::store::{ObjectStore, StoreError};
use crate::runbook::journal::{Entry, Journal, Record};

/// The store and who this console is to it.
#[derive(Debug, Clone)]
pub struct SharedStore {
    pub store: Arc<dyn ObjectStore>,
    pub settings: SharedSettings,
    pub me: Claimant,
}

/// How a run claims its service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// A fresh lease for a new run (or for resuming this console's own run).
    Lease,
    /// The expired lease of another console, resuming its run.
    TakeOver { reason: String },
    /// No lease: the store is unreachable and the operator accepts that
    /// exclusivity cannot be guaranteed.
    Solo { reason: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error(transparent)]
    Lease(Box<LeaseError>),
    #[error(
        "the shared store {location} cannot be reached ({problem}): no other console can be kept off `{service}`; start anyway with --solo --reason \"...\""
    )]
    Unreachable {
        location: String,
        service: String,
        problem: StoreError,
    },
    #[error("the shared journal of run {run}: {source}")]
    Journal { run: String, source: MirrorError },
    #[error("the shared journal of run {run} is empty: nothing to resume")]
    EmptyJournal { run: String },
    #[error("{path}: {source}")]
    Local {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("a solo run needs a reason")]
    NoReason,
}

impl From<LeaseError> for ClaimError {
    fn from(e: LeaseError) -> ClaimError {
        ClaimError::Lease(Box::new(e))
    }
}

/// What a claim gives the runner: the hold, and for a takeover the local
/// copy of the shared journal to resume.
pub struct Claimed {
    pub run: SharedRun,
    pub resume: Option<PathBuf>,
}

impl SharedStore {
    /// Claims `service` for `run_id` (a new run's id; a takeover keeps the
    /// id of the run it takes over). `journal_dir` receives the local copy
    /// of a taken-over run's journal.
    pub async fn claim(
        &self,
        service: &str,
        run_id: &str,
        claim: Claim,
        operator: &str,
        journal_dir: &Path,
    ) -> Result<Claimed, ClaimError> {
        let now = Utc::now();
        let prefix = &self.settings.prefix;
        let ttl = self.settings.lease;
        let unreachable = |problem: StoreError| ClaimError::Unreachable {
            location: self.settings.location(),
            service: service.to_string(),
            problem,
        };
        match claim {
            Claim::Lease => self.lease(service, run_id).await,
            Claim::TakeOver { reason } => {
                let held = match lease::take_over(
                    &*self.store,
                    prefix,
                    service,
                    &self.me,
                    &reason,
                    now,
                    ttl,
                )
                .await
                {
                    Ok(held) => held,
                    Err(LeaseError::Store(e)) if e.is_outage() => return Err(unreachable(e)),
                    Err(e) => return Err(e.into()),
                };
                let run_id = held.lease().run_id.clone();
                let from = held
                    .lease()
                    .taken_over
                    .as_ref()
                    .map(|t| t.from.to_string())
                    .unwrap_or_default();
                let journal_error = |source| ClaimError::Journal {
                    run: run_id.clone(),
                    source,
                };
                let records = journal::read_from(&*self.store, prefix, &run_id, 1)
                    .await
                    .map_err(journal_error)?;
                let next = records.last().map_or(1, |r| r.seq + 1);
                if records.is_empty() {
                    return Err(ClaimError::EmptyJournal { run: run_id });
                }
                let taken = Record {
                    at: now,
                    entry: Entry::TakenOver {
                        operator: operator.to_string(),
                        host: self.me.host.clone(),
                        from,
                        reason: reason.trim().to_string(),
                    },
                };
                let mut mirror = Mirror::new(prefix, &run_id, self.me.clone(), next);
                // Written to the store first: if the old holder wrote in the
                // meantime, this fails and nothing local is touched.
                mirror
                    .append(&*self.store, &taken)
                    .await
                    .map_err(journal_error)?;
                let mut local: Vec<Record> = records.into_iter().map(|r| r.record).collect();
                local.push(taken);
                let path = write_local_copy(journal_dir, service, &run_id, &local)?;
                Ok(Claimed {
                    run: self.hold(Some(held), mirror),
                    resume: Some(path),
                })
            }
            Claim::Solo { reason } => {
                if reason.trim().is_empty() {
                    return Err(ClaimError::NoReason);
                }
                // Solo only when the store is really out of reach: if it
                // answers, the run takes the lease like any other.
                match self.lease(service, run_id).await {
                    Err(ClaimError::Unreachable { .. }) => {}
                    other => return other,
                }
                Ok(Claimed {
                    run: self.hold(None, Mirror::new(prefix, run_id, self.me.clone(), 1)),
                    resume: None,
                })
            }
        }
    }

    /// A fresh lease; a resumed run continues its shared journal where it
    /// stands.
    async fn lease(&self, service: &str, run_id: &str) -> Result<Claimed, ClaimError> {
        let prefix = &self.settings.prefix;
        let held = match lease::acquire(
            &*self.store,
            prefix,
            service,
            run_id,
            &self.me,
            Utc::now(),
            self.settings.lease,
        )
        .await
        {
            Ok(held) => held,
            Err(LeaseError::Store(e)) if e.is_outage() => {
                return Err(ClaimError::Unreachable {
                    location: self.settings.location(),
                    service: service.to_string(),
                    problem: e,
                });
            }
            Err(e) => return Err(e.into()),
        };
        let stored = match journal::read_from(&*self.store, prefix, run_id, 1).await {
            Ok(stored) => stored,
            Err(source) => {
                let _ = held.release(&*self.store).await;
                return Err(ClaimError::Journal {
                    run: run_id.to_string(),
                    source,
                });
            }
        };
        let next = stored.last().map_or(1, |r| r.seq + 1);
        Ok(Claimed {
            run: self.hold(
                Some(held),
                Mirror::new(prefix, run_id, self.me.clone(), next),
            ),
            resume: None,
        })
    }

    fn hold(&self, lease: Option<HeldLease>, mirror: Mirror) -> SharedRun {
        SharedRun {
            store: self.store.clone(),
            prefix: self.settings.prefix.clone(),
            me: self.me.clone(),
            ttl: self.settings.lease,
            renew_every: self.settings.renew_every(),
            renewed: Utc::now(),
            lease,
            mirror,
            requests: BTreeMap::new(),
        }
    }
}

/// The taken-over run's journal on this machine, as the resume path reads
/// it. A local journal of that run already here (this machine ran it once)
/// is kept beside it, renamed, never overwritten.
fn write_local_copy(
    dir: &Path,
    service: &str,
    run_id: &str,
    records: &[Record],
) -> Result<PathBuf, ClaimError> {
    let path = Journal::path_for(dir, service, run_id);
    let local = |source| ClaimError::Local {
        path: path.clone(),
        source,
    };
    if path.exists() {
        let aside = path.with_extension(format!("jsonl.before-takeover-{}", std::process::id()));
        std::fs::rename(&path, &aside).map_err(local)?;
    }
    let mut journal = Journal::create(dir, service, run_id).map_err(local)?;
    for record in records {
        journal.append(record).map_err(local)?;
    }
    Ok(path)
}

/// Why the run must stop acting.
#[derive(Debug, thiserror::Error)]
pub enum Stop {
    #[error(transparent)]
    Fenced(MirrorError),
    #[error(transparent)]
    Lost(LeaseError),
    #[error(
        "the shared store cannot be reached ({0}); stopped before acting, as another console may take the service over. Resume with --solo --reason \"...\" if the store stays down"
    )]
    Unreachable(StoreError),
}

/// Held by the runner for the life of a shared run.
#[derive(Debug)]
pub struct SharedRun {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    me: Claimant,
    lease: Option<HeldLease>,
    mirror: Mirror,
    ttl: Duration,
    renew_every: Duration,
    renewed: DateTime<Utc>,
    /// The record number of each step's latest approval request: only an
    /// approval of that request counts.
    requests: BTreeMap<String, u64>,
}

impl SharedRun {
    pub fn run_id(&self) -> &str {
        self.mirror.run_id()
    }

    /// Solo: no lease, records wait for the store.
    pub fn is_solo(&self) -> bool {
        self.lease.is_none()
    }

    /// Approvals of `step` by identities other than this console's.
    pub async fn approvals(&self, step: &str) -> Result<Vec<Approval>, StoreError> {
        let Some(request) = self.requests.get(step).copied() else {
            return Ok(Vec::new());
        };
        let all = approval::approvals(&*self.store, &self.prefix, self.run_id(), step).await?;
        Ok(all
            .into_iter()
            .filter(|a| a.request == request && a.approver.identity != self.me.identity)
            .collect())
    }

    /// Records waiting for the store (a solo run during an outage).
    pub fn pending(&self) -> usize {
        self.mirror.pending()
    }

    /// How often [`Self::keep_lease`] should be called.
    pub fn renew_every(&self) -> Duration {
        self.renew_every
    }

    /// Mirrors a record just written locally. A solo run tolerates the
    /// store being down (the record waits); a leased run does not.
    pub async fn record(&mut self, record: &Record) -> Result<(), Stop> {
        match self.mirror.append(&*self.store, record).await {
            Ok(()) => {
                if let Entry::ApprovalRequested { step, .. } = &record.entry {
                    self.requests
                        .insert(step.clone(), self.mirror.next_seq() - 1);
                }
                Ok(())
            }
            Err(MirrorError::Store(e)) if self.is_solo() && e.is_outage() => Ok(()),
            Err(MirrorError::Store(e)) => Err(Stop::Unreachable(e)),
            Err(e) => Err(Stop::Fenced(e)),
        }
    }

    /// Renews the lease when a renewal is due.
    pub async fn keep_lease(&mut self) -> Result<(), Stop> {
        let due = chrono::Duration::from_std(self.renew_every).unwrap_or_default();
        if Utc::now() - self.renewed >= due {
            self.renew().await?;
        }
        Ok(())
    }

    /// Called before a call that changes the estate: the lease must be
    /// this console's for at least one more lease period, and every record
    /// (the intent among them) must be in the store.
    pub async fn before_acting(&mut self) -> Result<(), Stop> {
        if self.is_solo() {
            return Ok(());
        }
        self.renew().await?;
        match self.mirror.flush(&*self.store).await {
            Ok(()) => Ok(()),
            Err(MirrorError::Store(e)) => Err(Stop::Unreachable(e)),
            Err(e) => Err(Stop::Fenced(e)),
        }
    }

    async fn renew(&mut self) -> Result<(), Stop> {
        let Some(lease) = &mut self.lease else {
            let _ = self.mirror.flush(&*self.store).await;
            return Ok(());
        };
        let now = Utc::now();
        match lease.renew(&*self.store, now, self.ttl).await {
            Ok(()) => {
                self.renewed = now;
                Ok(())
            }
            Err(LeaseError::Store(e)) => Err(Stop::Unreachable(e)),
            Err(e) => Err(Stop::Lost(e)),
        }
    }

    /// The run finished: everything mirrored, the lease deleted. A run
    /// left unfinished keeps its lease until it expires, so that it is
    /// taken over and resumed rather than a new run started beside it.
    pub async fn finish(mut self) -> Result<(), Stop> {
        match self.mirror.flush(&*self.store).await {
            Ok(()) => {}
            Err(MirrorError::Store(e)) => return Err(Stop::Unreachable(e)),
            Err(e) => return Err(Stop::Fenced(e)),
        }
        if let Some(lease) = self.lease.take() {
            lease.release(&*self.store).await.map_err(Stop::Lost)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::memory::MemoryStore;

    fn store(memory: &Arc<MemoryStore>) -> SharedStore {
        SharedStore {
            store: memory.clone(),
            settings: SharedSettings {
                bucket: "dr-coord".into(),
                region: "eu-west-1".into(),
                prefix: "dr/".into(),
                lease: Duration::from_secs(60),
            },
            me: Claimant {
                identity: "arn:aws:iam::123456789012:user/ann".into(),
                host: "ann-laptop".into(),
                pid: 7,
            },
        }
    }

    fn note() -> Record {
        Record {
            at: Utc::now(),
            entry: Entry::Notified {
                step: "s".into(),
                message: "m".into(),
            },
        }
    }

    #[tokio::test]
    async fn a_solo_start_needs_the_store_down_and_its_records_go_up_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let memory = Arc::new(MemoryStore::new());
        let shared = store(&memory);
        memory.set_down(true);
        let refused = shared
            .claim("orders", "r1", Claim::Lease, "ann", dir.path())
            .await
            .err()
            .unwrap();
        assert!(refused.to_string().contains("--solo --reason"), "{refused}");
        let solo = |reason: &str| Claim::Solo {
            reason: reason.into(),
        };
        assert!(matches!(
            shared
                .claim("orders", "r1", solo(" "), "ann", dir.path())
                .await,
            Err(ClaimError::NoReason)
        ));
        let mut run = shared
            .claim("orders", "r1", solo("S3 is down"), "ann", dir.path())
            .await
            .unwrap()
            .run;
        assert!(run.is_solo());
        run.record(&note()).await.unwrap();
        assert_eq!(run.pending(), 1);
        run.before_acting().await.unwrap();
        memory.set_down(false);
        run.finish().await.unwrap();
        assert_eq!(memory.keys(), vec!["dr/runs/r1/000001.json".to_string()]);

        // With the store up, a solo request takes the lease like any start.
        let run = shared
            .claim(
                "orders",
                "r2",
                solo("I thought S3 was down"),
                "ann",
                dir.path(),
            )
            .await
            .unwrap()
            .run;
        assert!(!run.is_solo());
        assert!(memory.keys().contains(&"dr/locks/orders.json".to_string()));
    }

    #[tokio::test]
    async fn a_leased_run_stops_when_the_store_is_gone_rather_than_act_unseen() {
        let dir = tempfile::tempdir().unwrap();
        let memory = Arc::new(MemoryStore::new());
        let mut run = store(&memory)
            .claim("orders", "r1", Claim::Lease, "ann", dir.path())
            .await
            .unwrap()
            .run;
        run.record(&note()).await.unwrap();
        memory.set_down(true);
        assert!(matches!(
            run.record(&note()).await,
            Err(Stop::Unreachable(_))
        ));
        assert!(matches!(
            run.before_acting().await,
            Err(Stop::Unreachable(_))
        ));
    }
}
