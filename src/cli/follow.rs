//! `drconsole follow`: which run to follow, from the command line's words.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::follow::local::LocalJournals;
use crate::follow::{FollowError, RunRef};
use crate::runbook::format::Runbook;
use crate::tui::follow::FollowSetup;

#[derive(Debug, Clone, Args)]
pub struct FollowArgs {
    /// A run id, or a journal file; without it (or --service) the runs in
    /// progress are offered.
    #[arg(value_name = "RUN | JOURNAL-FILE", conflicts_with = "service")]
    pub target: Option<String>,
    /// Follow the most recently active unfinished run of this service.
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// Directory of journals (default: the data directory's).
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
}

/// What the console follows: the named run or service's, or a choice.
pub fn setup(
    args: &FollowArgs,
    default_dir: &Path,
    library: Vec<Runbook>,
) -> Result<FollowSetup, FollowError> {
    let dir = args
        .journal
        .clone()
        .unwrap_or_else(|| default_dir.to_path_buf());
    let journals = LocalJournals::new(&dir);
    let target = target(args, &journals)?;
    Ok(FollowSetup {
        source: Arc::new(journals),
        target,
        library: Arc::new(library),
        origin: format!("journals in {}", dir.display()),
    })
}

fn target(args: &FollowArgs, journals: &LocalJournals) -> Result<Option<RunRef>, FollowError> {
    if let Some(service) = &args.service {
        return journals.newest_of(service).map(Some);
    }
    let Some(target) = &args.target else {
        return Ok(None);
    };
    // A path names a file; a bare word is a run id, whose journal is
    // looked for in the directory.
    let path = Path::new(target);
    if path.is_file() || target.contains(std::path::MAIN_SEPARATOR) || target.ends_with(".jsonl") {
        return LocalJournals::run_in(path).map(Some);
    }
    journals.by_run_id(target).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(target: Option<&str>, service: Option<&str>) -> FollowArgs {
        FollowArgs {
            target: target.map(String::from),
            service: service.map(String::from),
            journal: None,
        }
    }

    #[test]
    fn a_missing_journal_or_run_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let journals = LocalJournals::new(dir.path());
        let missing = dir.path().join("orders-x.jsonl");
        let error = target(&args(Some(missing.to_str().unwrap()), None), &journals)
            .unwrap_err()
            .to_string();
        assert!(error.contains("orders-x.jsonl"), "{error}");
        let error = target(&args(Some("r-1"), None), &journals)
            .unwrap_err()
            .to_string();
        assert!(error.contains("no journal of run `r-1`"), "{error}");
        let error = target(&args(None, Some("orders")), &journals)
            .unwrap_err()
            .to_string();
        assert!(error.contains("no unfinished run of `orders`"), "{error}");
        assert!(target(&args(None, None), &journals).unwrap().is_none());
    }
}
