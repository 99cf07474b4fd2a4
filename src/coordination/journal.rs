//! The shared journal: every record of a run also written to the store as
//! its own object, `PREFIX/runs/RUN/000042.json`, created only if absent.
//!
//! The sequence number is the fence. A console that finds its next number
//! taken has lost the run to whoever wrote it (a deputy who took the lease
//! over): it must stop acting at once, and [`MirrorError::Fenced`] says who
//! has it. The local JSONL journal stays the offline copy; this one is what
//! a deputy on another machine resumes from and what `follow` reads.
//!
//! Records the store cannot take yet (an outage during a solo run) wait in
//! order in a backlog and go up, still in order, when it answers again.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::lease::Claimant;
use super::store::{ObjectStore, StoreError};
use crate::runbook::journal::Record;

const ATTEMPTS: usize = 4;

/// One record as stored: its place in the run, who wrote it, the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedRecord {
    pub seq: u64,
    pub writer: Claimant,
    pub record: Record,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MirrorError {
    #[error(
        "lost the run: record {seq} of run {run} was written by {by}; this console stops acting now",
        by = .by.as_ref().map_or("someone else".to_string(), ToString::to_string)
    )]
    Fenced {
        run: String,
        seq: u64,
        by: Option<Claimant>,
    },
    #[error("{key}: not a journal record: {message}")]
    Corrupt { key: String, message: String },
    #[error("shared store: {0}")]
    Store(#[from] StoreError),
}

/// The folder of a run's records.
pub fn run_prefix(prefix: &str, run_id: &str) -> String {
    format!("{prefix}runs/{run_id}/")
}

pub fn key(prefix: &str, run_id: &str, seq: u64) -> String {
    format!("{}{seq:06}.json", run_prefix(prefix, run_id))
}

/// Writes one run's records to the store in order.
#[derive(Debug)]
pub struct Mirror {
    prefix: String,
    run_id: String,
    writer: Claimant,
    next: u64,
    backlog: VecDeque<Record>,
}

impl Mirror {
    /// A mirror whose next record is number `next` (1 for a new run, one
    /// past the last stored record for a resumed one).
    pub fn new(prefix: &str, run_id: &str, writer: Claimant, next: u64) -> Mirror {
        Mirror {
            prefix: prefix.to_string(),
            run_id: run_id.to_string(),
            writer,
            next,
            backlog: VecDeque::new(),
        }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The number the next record gets.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// Records written locally but not yet to the store.
    pub fn pending(&self) -> usize {
        self.backlog.len()
    }

    /// Queues `record` and writes everything queued. On an outage the
    /// record stays queued (the caller decides whether that may wait); a
    /// fence is final.
    pub async fn append(
        &mut self,
        store: &dyn ObjectStore,
        record: &Record,
    ) -> Result<(), MirrorError> {
        self.backlog.push_back(record.clone());
        self.flush(store).await
    }

    /// Writes the queued records in order, stopping at the first failure.
    pub async fn flush(&mut self, store: &dyn ObjectStore) -> Result<(), MirrorError> {
        while let Some(record) = self.backlog.front() {
            let stored = SharedRecord {
                seq: self.next,
                writer: self.writer.clone(),
                record: record.clone(),
            };
            let body = serde_json::to_vec(&stored).map_err(|e| MirrorError::Corrupt {
                key: key(&self.prefix, &self.run_id, self.next),
                message: e.to_string(),
            })?;
            self.put(store, body).await?;
            self.backlog.pop_front();
            self.next += 1;
        }
        Ok(())
    }

    async fn put(&self, store: &dyn ObjectStore, body: Vec<u8>) -> Result<(), MirrorError> {
        let key = key(&self.prefix, &self.run_id, self.next);
        for _ in 0..ATTEMPTS {
            match store.create(&key, body.clone()).await {
                Ok(_) => return Ok(()),
                // A concurrent write on the same number: whoever made it
                // is read below and fences this console if it stuck.
                Err(StoreError::Conflict { .. }) => match store.get(&key).await? {
                    None => continue,
                    Some(_) => return Err(self.fenced(store, &key).await),
                },
                Err(StoreError::Precondition { .. }) => return Err(self.fenced(store, &key).await),
                Err(e) => return Err(e.into()),
            }
        }
        Err(StoreError::Conflict { key }.into())
    }

    async fn fenced(&self, store: &dyn ObjectStore, key: &str) -> MirrorError {
        let by = match store.get(key).await {
            Ok(Some(object)) => serde_json::from_slice::<SharedRecord>(&object.body)
                .ok()
                .map(|r| r.writer),
            _ => None,
        };
        MirrorError::Fenced {
            run: self.run_id.clone(),
            seq: self.next,
            by,
        }
    }
}

/// The stored records of `run_id` from number `from` on, in order, up to
/// the first gap (a record still being written). `follow` polls this with
/// one past the last record it has.
pub async fn read_from(
    store: &dyn ObjectStore,
    prefix: &str,
    run_id: &str,
    from: u64,
) -> Result<Vec<SharedRecord>, MirrorError> {
    let folder = run_prefix(prefix, run_id);
    let mut numbers: Vec<u64> = store
        .list(&folder)
        .await?
        .iter()
        .filter_map(|k| k.strip_prefix(&folder)?.strip_suffix(".json")?.parse().ok())
        .filter(|seq| *seq >= from)
        .collect();
    numbers.sort_unstable();
    let mut records = Vec::new();
    for (expected, seq) in (from..).zip(numbers) {
        if seq != expected {
            break;
        }
        let key = key(prefix, run_id, seq);
        let Some(object) = store.get(&key).await? else {
            break;
        };
        let record: SharedRecord =
            serde_json::from_slice(&object.body).map_err(|e| MirrorError::Corrupt {
                key: key.clone(),
                message: e.to_string(),
            })?;
        if record.seq != seq {
            return Err(MirrorError::Corrupt {
                key,
                message: format!("it says it is record {}", record.seq),
            });
        }
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::memory::MemoryStore;
    use crate::runbook::journal::Entry;

    fn who(name: &str) -> Claimant {
        Claimant {
            identity: format!("arn:aws:iam::123456789012:user/{name}"),
            host: format!("{name}-laptop"),
            pid: 7,
        }
    }

    fn note(text: &str) -> Record {
        Record {
            at: chrono::Utc::now(),
            entry: Entry::Notified {
                step: "s".into(),
                message: text.into(),
            },
        }
    }

    #[tokio::test]
    async fn records_are_stored_in_order_and_read_back_from_any_number() {
        let store = MemoryStore::new();
        let mut mirror = Mirror::new("dr/", "r1", who("ann"), 1);
        for text in ["a", "b", "c"] {
            mirror.append(&store, &note(text)).await.unwrap();
        }
        assert_eq!(
            store.keys(),
            vec![
                "dr/runs/r1/000001.json",
                "dr/runs/r1/000002.json",
                "dr/runs/r1/000003.json"
            ]
        );
        let tail = read_from(&store, "dr/", "r1", 2).await.unwrap();
        assert_eq!(tail.iter().map(|r| r.seq).collect::<Vec<_>>(), vec![2, 3]);
        assert!(matches!(
            &tail[1].record.entry,
            Entry::Notified { message, .. } if message == "c"
        ));
        assert_eq!(mirror.next_seq(), 4);
        assert!(read_from(&store, "dr/", "r1", 4).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_console_whose_next_number_is_taken_has_lost_the_run_and_is_told_to_whom() {
        let store = MemoryStore::new();
        let mut ann = Mirror::new("", "r1", who("ann"), 1);
        ann.append(&store, &note("a")).await.unwrap();
        // Bob took the run over and wrote record 2 from the shared journal.
        let mut bob = Mirror::new("", "r1", who("bob"), 2);
        bob.append(&store, &note("taken over")).await.unwrap();
        let err = ann.append(&store, &note("intent")).await.unwrap_err();
        assert_eq!(
            err,
            MirrorError::Fenced {
                run: "r1".into(),
                seq: 2,
                by: Some(who("bob"))
            }
        );
        assert!(err.to_string().contains("user/bob"), "{err}");
        // The shared journal holds Bob's record, not Ann's.
        let stored = read_from(&store, "", "r1", 2).await.unwrap();
        assert_eq!(stored.len(), 1);
        assert_eq!(stored[0].writer, who("bob"));
    }

    #[tokio::test]
    async fn records_written_during_an_outage_go_up_in_order_when_the_store_returns() {
        let store = MemoryStore::new();
        let mut mirror = Mirror::new("", "r1", who("ann"), 1);
        store.set_down(true);
        for text in ["a", "b"] {
            let err = mirror.append(&store, &note(text)).await.unwrap_err();
            assert!(matches!(
                err,
                MirrorError::Store(StoreError::Unreachable(_))
            ));
        }
        assert_eq!(mirror.pending(), 2);
        store.set_down(false);
        mirror.append(&store, &note("c")).await.unwrap();
        assert_eq!(mirror.pending(), 0);
        let texts: Vec<String> = read_from(&store, "", "r1", 1)
            .await
            .unwrap()
            .into_iter()
            .map(|r| match r.record.entry {
                Entry::Notified { message, .. } => message,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(texts, vec!["a", "b", "c"]);
    }

    #[tokio::test]
    async fn reading_stops_at_a_gap_and_a_misnumbered_record_is_reported() {
        let store = MemoryStore::new();
        let mut mirror = Mirror::new("", "r1", who("ann"), 1);
        mirror.append(&store, &note("a")).await.unwrap();
        let mut later = Mirror::new("", "r1", who("ann"), 3);
        later.append(&store, &note("c")).await.unwrap();
        assert_eq!(read_from(&store, "", "r1", 1).await.unwrap().len(), 1);
        let stored = SharedRecord {
            seq: 9,
            writer: who("eve"),
            record: note("forged"),
        };
        store
            .create(&key("", "r1", 2), serde_json::to_vec(&stored).unwrap())
            .await
            .unwrap();
        let err = read_from(&store, "", "r1", 1).await.unwrap_err();
        assert!(err.to_string().contains("000002.json"), "{err}");
    }
}
