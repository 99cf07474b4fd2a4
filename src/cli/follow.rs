//! `drconsole follow`: which run to follow, from the command line's words.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use crate::coordination::config::parse_location;
use crate::coordination::run::SharedStore;
use crate::coordination::s3::S3Store;
use crate::coordination::store::ObjectStore;
use crate::follow::local::LocalJournals;
use crate::follow::shared::{SharedAndLocal, SharedJournals};
use crate::follow::{FollowError, RunRef};
use crate::provider::aws::sdk_config;
use crate::runbook::format::Runbook;
use crate::tui::follow::FollowSetup;

#[derive(Debug, Clone, Args)]
pub struct FollowArgs {
    /// A run id, a journal file, or a shared store's `s3://BUCKET/PREFIX`
    /// (with `/RUN` to name a run); without a run (or --service) the runs
    /// in progress are offered.
    #[arg(
        value_name = "RUN | s3://BUCKET/PREFIX[/RUN] | JOURNAL-FILE",
        conflicts_with = "service"
    )]
    pub target: Option<String>,
    /// Follow the most recently active unfinished run of this service.
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// Directory of journals (default: the data directory's).
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
}

/// The shared store the session is configured with (`--shared` or
/// `[shared]`), and how to reach a bucket named on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct SharedAccess<'a> {
    pub store: Option<&'a SharedStore>,
    pub region: Option<&'a str>,
    pub profile: Option<&'a str>,
}

/// What the console follows: the named run or service's, or a choice;
/// from the shared store when there is one or the argument is an
/// `s3://` location, from the local journals otherwise (and with the
/// shared store, its runs and this machine's are offered together).
pub async fn setup(
    args: &FollowArgs,
    default_dir: &Path,
    library: Vec<Runbook>,
    shared: SharedAccess<'_>,
) -> Result<FollowSetup, FollowError> {
    let dir = args
        .journal
        .clone()
        .unwrap_or_else(|| default_dir.to_path_buf());
    let journals = LocalJournals::new(&dir);
    let library = Arc::new(library);
    if let Some(location) = args.target.as_deref().filter(|t| t.starts_with("s3://")) {
        let (source, run) = named_location(location, shared).await?;
        let origin = format!("shared journals in {}", source.location());
        let target = match run {
            Some(run) => Some(source.by_run_id(&run).await?),
            None => None,
        };
        return Ok(FollowSetup {
            source: Arc::new(source),
            target,
            library,
            origin,
        });
    }
    if let Some(store) = shared.store {
        let source = SharedJournals::new(
            Arc::clone(&store.store),
            &store.settings.bucket,
            &store.settings.prefix,
        );
        let target = shared_target(args, &source, &journals).await?;
        let origin = format!(
            "shared journals in {} and journals in {}",
            source.location(),
            dir.display()
        );
        return Ok(FollowSetup {
            source: Arc::new(SharedAndLocal {
                shared: source,
                local: journals,
            }),
            target,
            library,
            origin,
        });
    }
    let target = target(args, &journals)?;
    Ok(FollowSetup {
        source: Arc::new(journals),
        target,
        library,
        origin: format!("journals in {}", dir.display()),
    })
}

/// The store at `s3://BUCKET/PREFIX[/RUN]`: the last segment names a run
/// when the store holds records of one by that name under the rest.
async fn named_location(
    location: &str,
    shared: SharedAccess<'_>,
) -> Result<(SharedJournals, Option<String>), FollowError> {
    let (bucket, prefix) = parse_location(location).map_err(FollowError::NotFound)?;
    let region = shared
        .region
        .or(shared.store.map(|s| s.settings.region.as_str()))
        .ok_or_else(|| {
            FollowError::NotFound(format!(
                "{location}: --shared-region REGION is needed to reach the bucket"
            ))
        })?;
    let config = sdk_config::load(shared.profile, Some(region)).await;
    let store: Arc<dyn ObjectStore> = Arc::new(S3Store::new(&config, &bucket, region));
    let trimmed = prefix.trim_end_matches('/');
    let (parent, run) = trimmed.rsplit_once('/').unwrap_or(("", trimmed));
    if !run.is_empty() {
        let parent = if parent.is_empty() {
            String::new()
        } else {
            format!("{parent}/")
        };
        // `s3://BUCKET/PREFIX/runs/RUN`, the run's own folder, names it too.
        let parent = parent.strip_suffix("runs/").unwrap_or(&parent).to_string();
        let source = SharedJournals::new(Arc::clone(&store), &bucket, &parent);
        if source.has_run(run).await? {
            return Ok((source, Some(run.to_string())));
        }
    }
    Ok((SharedJournals::new(store, &bucket, &prefix), None))
}

/// With a shared store, a service's run and a run id are looked for there
/// first; a journal file is always local.
async fn shared_target(
    args: &FollowArgs,
    source: &SharedJournals,
    journals: &LocalJournals,
) -> Result<Option<RunRef>, FollowError> {
    if let Some(service) = &args.service {
        return match source.newest_of(service).await {
            Ok(run) => Ok(Some(run)),
            Err(_) => journals.newest_of(service).map(Some),
        };
    }
    match &args.target {
        Some(run) if is_run_id(run) && source.has_run(run).await.unwrap_or(false) => {
            source.by_run_id(run).await.map(Some)
        }
        _ => target(args, journals),
    }
}

fn is_run_id(target: &str) -> bool {
    !Path::new(target).is_file()
        && !target.contains(std::path::MAIN_SEPARATOR)
        && !target.ends_with(".jsonl")
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
    if !is_run_id(target) {
        return LocalJournals::run_in(Path::new(target)).map(Some);
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
