//! Gathering what readiness reads from disk: runbooks and the runs their
//! journals record. A journal that cannot be read is skipped and named:
//! it cannot be evidence either way.

use std::path::Path;

use super::evidence::RunEvidence;
use crate::runbook::journal;

/// Every run journaled in `dir`, and the files that could not be read.
pub fn runs(dir: &Path) -> (Vec<RunEvidence>, Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (Vec::new(), Vec::new());
    };
    let mut paths: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    paths.sort();
    let mut runs = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match journal::read(&path) {
            Ok(records) => match RunEvidence::from_records(&records) {
                Some(run) => runs.push(run),
                None => problems.push(format!("{}: no run-started record", path.display())),
            },
            Err(e) => problems.push(e.to_string()),
        }
    }
    (runs, problems)
}
