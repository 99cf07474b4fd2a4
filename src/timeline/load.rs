//! Reading a timeline's sources from disk: every journal in the journal
//! directory and the events log.

use std::path::Path;

use super::events::{EventLog, ObservedEvent};
use crate::runbook::journal::{self, Record};

/// What the disk holds, and what could not be read (told, not fatal: a
/// timeline with a gap says where the gap is).
#[derive(Debug, Default)]
pub struct Sources {
    pub journals: Vec<Vec<Record>>,
    pub events: Vec<ObservedEvent>,
    pub problems: Vec<String>,
}

pub fn load(journal_dir: &Path, events: &EventLog) -> Sources {
    let mut sources = Sources::default();
    match std::fs::read_dir(journal_dir) {
        Ok(entries) => {
            let mut paths: Vec<_> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "jsonl") && p.is_file())
                .collect();
            paths.sort();
            for path in paths {
                match journal::read(&path) {
                    Ok(records) => sources.journals.push(records),
                    Err(e) => sources.problems.push(e.to_string()),
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => sources
            .problems
            .push(format!("{}: {e}", journal_dir.display())),
    }
    match events.read() {
        Ok((read, skipped)) => {
            sources.events = read;
            if skipped > 0 {
                sources.problems.push(format!(
                    "{}: {skipped} unreadable line(s) skipped",
                    events.path().display()
                ));
            }
        }
        Err(e) => sources
            .problems
            .push(format!("{}: {e}", events.path().display())),
    }
    sources
}
