//! The events log: what the monitor saw change, as JSON lines in the data
//! directory, so a timeline can be told after the console has closed.
//!
//! Bounded: when `events.jsonl` passes [`MAX_BYTES`] it is renamed to
//! `events.1.jsonl` (replacing the previous one) and a new file begins,
//! so the log never holds more than twice that. Reading takes the older
//! file first. A line that does not parse is skipped and counted: the log
//! is a record of observations, and one torn or foreign line must not hide
//! the rest of an incident.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Size at which the log rotates: some thousands of changes, more than an
/// incident produces.
pub const MAX_BYTES: u64 = 2 * 1024 * 1024;

pub const FILE: &str = "events.jsonl";
pub const OLDER_FILE: &str = "events.1.jsonl";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedEvent {
    pub at: DateTime<Utc>,
    /// The service it concerns, when it concerns one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    #[serde(flatten)]
    pub change: Change,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case")]
pub enum Change {
    /// The service's availability, as shown (after hysteresis).
    Availability {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: String,
    },
    /// The service's RPO verdict, as shown.
    Rpo {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: String,
    },
    Health {
        check: String,
        region: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: String,
    },
    /// The record's serving target changed between two observations.
    Dns {
        record: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: String,
    },
    /// The writer of an Aurora global database moved to another member.
    Writer {
        global_cluster: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: String,
    },
    /// A global database's status (`available`, `failing-over`, …): how a
    /// failover or switchover is seen starting and ending, in the demo as
    /// on AWS.
    GlobalStatus {
        global_cluster: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        to: String,
    },
    /// An event RDS reported (`DescribeEvents`).
    Rds {
        source: String,
        message: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        categories: Vec<String>,
    },
}

impl ObservedEvent {
    /// One line for a person: `orders availability UP → DOWN`.
    pub fn describe(&self) -> String {
        let arrow = |from: &Option<String>, to: &str| match from {
            Some(from) => format!("{from} → {to}"),
            None => format!("{to} (first seen)"),
        };
        match &self.change {
            Change::Availability { from, to } => format!("availability {}", arrow(from, to)),
            Change::Rpo { from, to } => format!("RPO posture {}", arrow(from, to)),
            Change::Health {
                check,
                region,
                from,
                to,
            } => format!("health check {check} ({region}) {}", arrow(from, to)),
            Change::Dns { record, from, to } => {
                format!("DNS {record} serves {}", arrow(from, to))
            }
            Change::Writer {
                global_cluster,
                from,
                to,
            } => format!("writer of {global_cluster} {}", arrow(from, to)),
            Change::GlobalStatus {
                global_cluster,
                from,
                to,
            } => format!("global database {global_cluster} {}", arrow(from, to)),
            Change::Rds {
                source, message, ..
            } => format!("RDS {source}: {message}"),
        }
    }
}

/// Appends to the events log in `dir`, rotating it at [`MAX_BYTES`].
#[derive(Debug, Clone)]
pub struct EventLog {
    dir: PathBuf,
}

impl EventLog {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.join(FILE)
    }

    /// Appends `events`, each one line. Not fsynced: losing the last
    /// observations in a crash loses no decision (those are journaled).
    pub fn append(&self, events: &[ObservedEvent]) -> std::io::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        crate::config::paths::create_private_dir(&self.dir)?;
        let path = self.path();
        if std::fs::metadata(&path).is_ok_and(|m| m.len() >= MAX_BYTES) {
            std::fs::rename(&path, self.dir.join(OLDER_FILE))?;
        }
        let mut text = Vec::new();
        for event in events {
            serde_json::to_writer(&mut text, event).map_err(std::io::Error::other)?;
            text.push(b'\n');
        }
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(&path)?.write_all(&text)
    }

    /// Every event logged, older file first, and how many lines were
    /// skipped as unreadable. A missing log has none.
    pub fn read(&self) -> std::io::Result<(Vec<ObservedEvent>, usize)> {
        let mut events = Vec::new();
        let mut skipped = 0;
        for path in [self.dir.join(OLDER_FILE), self.path()] {
            read_into(&path, &mut events, &mut skipped)?;
        }
        Ok((events, skipped))
    }
}

fn read_into(
    path: &Path,
    events: &mut Vec<ObservedEvent>,
    skipped: &mut usize,
) -> std::io::Result<()> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<ObservedEvent>(&line) {
            Ok(event) => events.push(event),
            Err(_) => *skipped += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(s: i64) -> ObservedEvent {
        ObservedEvent {
            at: DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap(),
            service: Some("orders".into()),
            change: Change::Availability {
                from: Some("UP".into()),
                to: "DOWN".into(),
            },
        }
    }

    #[test]
    fn the_log_rotates_so_it_never_holds_more_than_twice_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::new(dir.path());
        let batch: Vec<ObservedEvent> = (0..2000).map(event).collect();
        let line = serde_json::to_string(&batch[0]).unwrap().len() as u64 + 1;
        let rounds = (3 * MAX_BYTES) / (line * 2000) + 1;
        for _ in 0..rounds {
            log.append(&batch).unwrap();
        }
        let current = std::fs::metadata(log.path()).unwrap().len();
        let older = std::fs::metadata(dir.path().join(OLDER_FILE))
            .unwrap()
            .len();
        assert!(current + older <= 2 * (MAX_BYTES + line * 2000));
        let (events, skipped) = log.read().unwrap();
        assert_eq!(skipped, 0);
        assert_eq!(events.len() as u64 * line, current + older);
    }

    #[test]
    fn unreadable_lines_are_skipped_and_counted_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let log = EventLog::new(dir.path());
        log.append(&[event(1)]).unwrap();
        let mut file = OpenOptions::new().append(true).open(log.path()).unwrap();
        file.write_all(b"{\"at\": \"garbage\"}\n\xff\xfe\n\n")
            .unwrap();
        log.append(&[event(2)]).unwrap();
        let (events, skipped) = log.read().unwrap();
        assert_eq!(events, vec![event(1), event(2)]);
        assert_eq!(skipped, 2);
    }
}
