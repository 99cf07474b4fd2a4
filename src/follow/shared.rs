//! The shared store as a [`RunSource`]: runs any console journals to S3
//! (`PREFIX/runs/RUN/000042.json`, one object a record), found through the
//! store's leases, read from a sequence number on.
//!
//! A follower's position is the count of records read, so the next poll
//! asks for the record after it; [`read_from`] stops at the first gap, so
//! a record still being written is not skipped. The source is called from
//! blocking threads (the follow task's), and waits there for the store on
//! the runtime it was made on.

use std::collections::HashSet;
use std::sync::Arc;

use tokio::runtime::Handle;

use super::local::LocalJournals;
use super::source::{ActiveRun, Batch, FollowError, Position, RunRef, RunSource};
use crate::coordination::journal::{read_from, run_prefix};
use crate::coordination::lease;
use crate::coordination::store::ObjectStore;
use crate::runbook::journal::Entry;

/// Run journals in one shared store under one prefix.
#[derive(Debug, Clone)]
pub struct SharedJournals {
    store: Arc<dyn ObjectStore>,
    /// `s3://BUCKET/`, to name where runs are.
    bucket_url: String,
    /// Empty, or ending in `/`.
    prefix: String,
    runtime: Handle,
}

impl SharedJournals {
    /// Needs the tokio runtime: the store is asked on it.
    pub fn new(store: Arc<dyn ObjectStore>, bucket: &str, prefix: &str) -> Self {
        Self {
            store,
            bucket_url: format!("s3://{bucket}/"),
            prefix: prefix.to_string(),
            runtime: Handle::current(),
        }
    }

    /// Where the runs are, for the screen.
    pub fn location(&self) -> String {
        format!("{}{}", self.bucket_url, self.prefix)
    }

    fn run_ref(&self, run_id: &str, service: &str) -> RunRef {
        RunRef {
            run_id: run_id.to_string(),
            service: service.to_string(),
            location: format!("{}{}", self.bucket_url, run_prefix(&self.prefix, run_id)),
        }
    }

    /// The run with this id, finished or not: its first record says whose
    /// service it is.
    pub async fn by_run_id(&self, run_id: &str) -> Result<RunRef, FollowError> {
        let first = read_from(self.store.as_ref(), &self.prefix, run_id, 1)
            .await
            .map_err(|e| FollowError::NotFound(e.to_string()))?;
        match first.first().map(|r| &r.record.entry) {
            Some(Entry::RunStarted { meta, .. }) => Ok(self.run_ref(run_id, &meta.service)),
            Some(_) => Err(FollowError::NotFound(format!(
                "{}: its first record is not the start of a run",
                self.run_ref(run_id, "").location
            ))),
            None => Err(FollowError::NotFound(format!(
                "no run `{run_id}` in {}",
                self.location()
            ))),
        }
    }

    /// Whether any record of `run_id` is stored.
    pub async fn has_run(&self, run_id: &str) -> Result<bool, FollowError> {
        let keys = self
            .store
            .list(&run_prefix(&self.prefix, run_id))
            .await
            .map_err(|e| FollowError::NotFound(e.to_string()))?;
        Ok(!keys.is_empty())
    }

    /// The most recently active run of `service` holding a lease.
    pub async fn newest_of(&self, service: &str) -> Result<RunRef, FollowError> {
        self.active()
            .await?
            .into_iter()
            .find(|a| a.run.service == service)
            .map(|a| a.run)
            .ok_or_else(|| {
                FollowError::NotFound(format!(
                    "no run of `{service}` holds a lease in {}",
                    self.location()
                ))
            })
    }

    /// Runs holding a lease, live or lapsed (a stranded run is still
    /// going), most recently active first.
    pub async fn active(&self) -> Result<Vec<ActiveRun>, FollowError> {
        let store = self.store.as_ref();
        let leases = lease::active_runs(store, &self.prefix)
            .await
            .map_err(|e| FollowError::NotFound(format!("{}: {e}", self.location())))?;
        let mut runs = Vec::new();
        for held in leases {
            let records = read_from(store, &self.prefix, &held.run_id, 1)
                .await
                .map_err(|e| FollowError::NotFound(e.to_string()))?;
            let (runbook, started_at) =
                match records.first().map(|r| (&r.record.entry, r.record.at)) {
                    Some((Entry::RunStarted { meta, .. }, at)) => (meta.runbook.clone(), at),
                    _ => (String::new(), held.acquired),
                };
            let last_at = records.last().map_or(held.acquired, |r| r.record.at);
            runs.push(ActiveRun {
                run: self.run_ref(&held.run_id, &held.service),
                runbook,
                operator: held.holder.to_string(),
                started_at,
                last_at,
            });
        }
        runs.sort_by_key(|r| std::cmp::Reverse(r.last_at));
        Ok(runs)
    }

    pub async fn read(&self, run: &RunRef, from: Position) -> Result<Batch, FollowError> {
        let records = read_from(
            self.store.as_ref(),
            &self.prefix,
            &run.run_id,
            from.offset + 1,
        )
        .await
        .map_err(|e| FollowError::NotFound(e.to_string()))?;
        let read = records.len() as u64;
        Ok(Batch {
            records: records.into_iter().map(|r| r.record).collect(),
            next: Position {
                offset: from.offset + read,
                lines: from.lines + read as usize,
            },
        })
    }
}

impl RunSource for SharedJournals {
    fn active_runs(&self) -> Result<Vec<ActiveRun>, FollowError> {
        self.runtime.block_on(self.active())
    }

    fn read_since(&self, run: &RunRef, from: Position) -> Result<Batch, FollowError> {
        self.runtime.block_on(self.read(run, from))
    }
}

/// The shared store's runs and this machine's, as one list: a run in both
/// (journaled here and mirrored) is followed in the store, which also holds
/// what a deputy wrote after taking it over.
#[derive(Debug, Clone)]
pub struct SharedAndLocal {
    pub shared: SharedJournals,
    pub local: LocalJournals,
}

impl RunSource for SharedAndLocal {
    fn active_runs(&self) -> Result<Vec<ActiveRun>, FollowError> {
        // An unreachable store must not hide the runs on this machine: its
        // error is reported only when there is nothing else to offer.
        let local = self.local.active_runs()?;
        let mut runs = match self.shared.active_runs() {
            Ok(runs) => runs,
            Err(e) if local.is_empty() => return Err(e),
            Err(_) => Vec::new(),
        };
        let shared: HashSet<String> = runs.iter().map(|r| r.run.run_id.clone()).collect();
        runs.extend(
            local
                .into_iter()
                .filter(|r| !shared.contains(&r.run.run_id)),
        );
        runs.sort_by_key(|r| std::cmp::Reverse(r.last_at));
        Ok(runs)
    }

    fn read_since(&self, run: &RunRef, from: Position) -> Result<Batch, FollowError> {
        if run.location.starts_with(&self.shared.bucket_url) {
            self.shared.read_since(run, from)
        } else {
            self.local.read_since(run, from)
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::coordination::journal::Mirror;
    use crate::coordination::lease::Claimant;
    use crate::coordination::memory::MemoryStore;
    use crate::follow::Follower;
    use crate::runbook::journal::{Record, RunMeta, StepState};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap()
    }

    fn who() -> Claimant {
        Claimant {
            identity: "arn:aws:iam::123456789012:user/ann".into(),
            host: "ann-laptop".into(),
            pid: 7,
        }
    }

    fn started(run_id: &str) -> Record {
        Record {
            at: at(0),
            entry: Entry::RunStarted {
                meta: RunMeta {
                    run_id: run_id.into(),
                    runbook: "Orders failover".into(),
                    file: "/nonexistent/orders.yaml".into(),
                    service: "orders".into(),
                    operator: "ann@laptop".into(),
                    session: "cli-1".into(),
                    host: "laptop".into(),
                    incident: None,
                },
                params: Default::default(),
            },
        }
    }

    fn step(s: i64, id: &str, state: StepState) -> Record {
        Record {
            at: at(s),
            entry: Entry::Step {
                step: id.into(),
                state,
            },
        }
    }

    #[test]
    fn a_follower_reads_each_new_record_once_and_the_leased_run_is_listed() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = Arc::new(MemoryStore::new());
        let source = runtime.block_on(async {
            lease::acquire(
                store.as_ref(),
                "dr/",
                "orders",
                "r1",
                &who(),
                Utc::now(),
                std::time::Duration::from_secs(60),
            )
            .await
            .unwrap();
            SharedJournals::new(store.clone(), "bucket", "dr/")
        });
        let mut mirror = Mirror::new("dr/", "r1", who(), 1);
        runtime
            .block_on(mirror.append(store.as_ref(), &started("r1")))
            .unwrap();
        let listed = source.active_runs().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].run.location, "s3://bucket/dr/runs/r1/");
        assert_eq!(listed[0].runbook, "Orders failover");
        assert!(listed[0].operator.contains("user/ann"), "{listed:?}");

        let shared: Arc<dyn RunSource> = Arc::new(source.clone());
        let mut follower = Follower::new(shared, listed[0].run.clone());
        assert!(follower.poll().unwrap());
        assert!(!follower.poll().unwrap(), "nothing new");
        runtime
            .block_on(mirror.append(store.as_ref(), &step(1, "promote", StepState::Running)))
            .unwrap();
        assert!(follower.poll().unwrap());
        assert_eq!(follower.records().len(), 2, "no record read twice");
        let run = follower.recovered().unwrap();
        assert_eq!(run.steps["promote"], StepState::Running);
        assert!(runtime.block_on(source.newest_of("billing")).is_err());
        assert_eq!(
            runtime.block_on(source.newest_of("orders")).unwrap().run_id,
            "r1"
        );
    }

    #[test]
    fn a_run_in_both_stores_is_listed_once_and_read_from_the_shared_one() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = Arc::new(MemoryStore::new());
        let shared = runtime.block_on(async {
            lease::acquire(
                store.as_ref(),
                "",
                "orders",
                "r1",
                &who(),
                Utc::now(),
                std::time::Duration::from_secs(60),
            )
            .await
            .unwrap();
            SharedJournals::new(store.clone(), "bucket", "")
        });
        let mut mirror = Mirror::new("", "r1", who(), 1);
        runtime
            .block_on(mirror.append(store.as_ref(), &started("r1")))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        for run in ["r1", "r2"] {
            std::fs::write(
                dir.path().join(format!("orders-{run}.jsonl")),
                format!("{}\n", serde_json::to_string(&started(run)).unwrap()),
            )
            .unwrap();
        }
        let both = SharedAndLocal {
            shared,
            local: LocalJournals::new(dir.path()),
        };
        let runs = both.active_runs().unwrap();
        let places: Vec<(&str, bool)> = runs
            .iter()
            .map(|r| (r.run.run_id.as_str(), r.run.location.starts_with("s3://")))
            .collect();
        assert_eq!(places.len(), 2, "{places:?}");
        assert!(places.contains(&("r1", true)), "{places:?}");
        assert!(places.contains(&("r2", false)), "{places:?}");
        for run in &runs {
            let batch = both.read_since(&run.run, Position::default()).unwrap();
            assert_eq!(batch.records.len(), 1, "{}", run.run.location);
        }
    }

    #[test]
    fn an_unreachable_store_still_offers_this_machines_runs() {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = Arc::new(MemoryStore::new());
        let shared = runtime.block_on(async { SharedJournals::new(store.clone(), "bucket", "") });
        store.set_down(true);
        let dir = tempfile::tempdir().unwrap();
        let both = SharedAndLocal {
            shared,
            local: LocalJournals::new(dir.path()),
        };
        assert!(
            both.active_runs().is_err(),
            "nothing to offer: the store's error"
        );
        std::fs::write(
            dir.path().join("orders-r2.jsonl"),
            format!("{}\n", serde_json::to_string(&started("r2")).unwrap()),
        )
        .unwrap();
        let runs = both.active_runs().unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].run.run_id, "r2");
    }
}
