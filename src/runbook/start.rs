//! How a run starts, the same for the console and `runbook run`: parse the
//! file, validate it (and the values supplied) against the environment,
//! apply the resume policy to the service's journals, work out the
//! variables; [`super::runner::open`] then takes the lock and opens the
//! journal. Everything here reads files: a console calls it off its UI task.
//!
//! A journal of the service that cannot be read blocks every start of that
//! service, resumed or new: the run it records may already have acted, and
//! starting afresh would repeat what it did. The operator resolves it by
//! discarding that journal with a reason ([`Discard`]), which sets the file
//! aside and records who, why and when.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, Utc};

use super::diagnostic::Diagnostic;
use super::format::{self, Runbook};
use super::journal::{self, DiscardError, ReadError};
use super::lock::{Holder, LockError, ServiceLock};
use super::plan::{self, ParamError};
use super::runner::RunSpec;
use super::safety::SafetySettings;
use super::validate;
use super::vars::Variables;
use crate::domain::environment::Environment;
use crate::domain::incident::IncidentStart;
use crate::monitor::SnapshotFeed;

/// What to do about the service's unfinished runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumePolicy {
    /// Refuse while one exists, listing them (the CLI's default: a script
    /// must say which).
    Refuse,
    /// Continue the newest (the console's Enter).
    Newest,
    /// Start afresh even though some exist.
    New,
    /// Continue the run in this journal.
    From(PathBuf),
}

/// Set an unreadable (or unwanted unfinished) journal aside first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discard {
    pub journal: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct StartRequest {
    pub file: PathBuf,
    /// `--param` values; the console supplies none.
    pub supplied: Variables,
    pub resume: ResumePolicy,
    pub discard: Option<Discard>,
    /// The outage the run answers (the service's open incident, or one
    /// the operator declares): its RTO clock counts from there.
    pub incident: Option<IncidentStart>,
}

/// What a session lends every start.
#[derive(Debug, Clone)]
pub struct Starter {
    pub environment: Environment,
    pub builtins: Variables,
    pub operator: String,
    /// Names the session in journals and locks.
    pub session: String,
    pub journal_dir: PathBuf,
    pub lock_dir: PathBuf,
    pub today: NaiveDate,
    pub feed: SnapshotFeed,
    /// From the user's configuration (`[safety]`).
    pub safety: SafetySettings,
}

/// A run ready to open, and what the operator should be told.
pub struct Prepared {
    pub spec: RunSpec,
    /// Validation warnings (errors refuse the start).
    pub warnings: Vec<Diagnostic>,
    /// The journal being resumed, if any.
    pub resumed: Option<PathBuf>,
    /// The journal set aside first, if asked.
    pub discarded: Option<journal::Discard>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartRefused {
    #[error("{}", lines(.0))]
    Invalid(Vec<Diagnostic>),
    #[error("service `{0}` is not in the environment")]
    UnknownService(String),
    #[error("{}", unreadable(.service, .file, .problems))]
    Unreadable {
        service: String,
        file: PathBuf,
        problems: Vec<ReadError>,
    },
    #[error(
        "an unfinished run on `{service}` exists; continue it or start afresh:\n{}\n  --new",
        .journals.iter().map(|p| format!("  --resume {}", p.display())).collect::<Vec<_>>().join("\n")
    )]
    Unfinished {
        service: String,
        journals: Vec<PathBuf>,
    },
    #[error("{path}: not in the journal directory {dir}")]
    DiscardElsewhere { path: PathBuf, dir: PathBuf },
    #[error(transparent)]
    Discard(#[from] DiscardError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Params(#[from] ParamError),
}

fn lines(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn unreadable(service: &str, file: &Path, problems: &[ReadError]) -> String {
    let mut text = format!(
        "a journal of `{service}` cannot be read, so what its run did is unknown; no run of `{service}` starts until it is set aside:"
    );
    for p in problems {
        text.push_str(&format!("\n  {p}"));
    }
    for p in problems {
        text.push_str(&format!(
            "\n  drconsole runbook run {} --discard-journal {} --reason \"...\"",
            file.display(),
            p.path().display()
        ));
    }
    text
}

/// Parses, validates, discards if asked, applies the resume policy and
/// works out the variables. Blocking: it reads the runbook and journals.
pub fn prepare(starter: &Starter, request: StartRequest) -> Result<Prepared, StartRefused> {
    let runbook = format::load(&request.file).map_err(StartRefused::Invalid)?;
    let diagnostics = validate::validate(
        &as_run(&runbook, &request.supplied),
        &starter.environment,
        starter.today,
    );
    let (errors, warnings): (Vec<_>, Vec<_>) =
        diagnostics.into_iter().partition(Diagnostic::is_error);
    if !errors.is_empty() {
        return Err(StartRefused::Invalid(errors));
    }
    let service = starter
        .environment
        .service(&runbook.service)
        .ok_or_else(|| StartRefused::UnknownService(runbook.service.clone()))?
        .clone();
    let discarded = match &request.discard {
        Some(d) => Some(discard(starter, &runbook.service, d)?),
        None => None,
    };
    let scan = journal::scan(&starter.journal_dir, &runbook.service)?;
    if !scan.unreadable.is_empty() {
        return Err(StartRefused::Unreadable {
            service: runbook.service.clone(),
            file: request.file.clone(),
            problems: scan.unreadable,
        });
    }
    let resume = match request.resume {
        ResumePolicy::From(path) => Some(path),
        ResumePolicy::New => None,
        ResumePolicy::Newest => scan.unfinished.into_iter().next().map(|(path, _)| path),
        ResumePolicy::Refuse if scan.unfinished.is_empty() => None,
        ResumePolicy::Refuse => {
            return Err(StartRefused::Unfinished {
                service: runbook.service.clone(),
                journals: scan.unfinished.into_iter().map(|(path, _)| path).collect(),
            });
        }
    };
    let vars = plan::run_values(
        &runbook,
        &service,
        &request.supplied,
        &starter.builtins,
        &starter.operator,
    )?;
    Ok(Prepared {
        spec: RunSpec {
            runbook,
            service,
            vars,
            operator: starter.operator.clone(),
            session: starter.session.clone(),
            journal_dir: starter.journal_dir.clone(),
            lock_dir: starter.lock_dir.clone(),
            resume: resume.clone(),
            feed: starter.feed.clone(),
            incident: request.incident,
            safety: starter.safety,
        },
        warnings,
        resumed: resume,
        discarded,
    })
}

/// The runbook as it will run: values supplied for its parameters are
/// validated like the same values written in the file.
fn as_run(runbook: &Runbook, supplied: &Variables) -> Runbook {
    let mut as_run = runbook.clone();
    for p in &mut as_run.parameters {
        if let Some(value) = supplied.get(&p.name) {
            p.default = Some(value.clone());
        }
    }
    as_run
}

/// Sets the journal aside under the service's lock, so that a live run
/// still writing it is never moved from under its feet. The one way a
/// journal is discarded: `runbook run --discard-journal` (through
/// [`prepare`]) and the console's discard key both come here.
pub fn discard(
    starter: &Starter,
    service: &str,
    request: &Discard,
) -> Result<journal::Discard, StartRefused> {
    if request.reason.trim().is_empty() {
        return Err(DiscardError::NoReason.into());
    }
    let elsewhere = || StartRefused::DiscardElsewhere {
        path: request.journal.clone(),
        dir: starter.journal_dir.clone(),
    };
    let parent = request
        .journal
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (Ok(parent), Ok(dir)) = (parent.canonicalize(), starter.journal_dir.canonicalize()) else {
        return Err(elsewhere());
    };
    if parent != dir {
        return Err(elsewhere());
    }
    let me = Holder::me(None);
    let lock = ServiceLock::acquire(&starter.lock_dir, service, me.clone())?;
    let record = journal::discard(
        &request.journal,
        service,
        &request.reason,
        (&starter.operator, &starter.session, &me.host),
        Utc::now(),
    )?;
    drop(lock);
    Ok(record)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::config::environment_file::demo_environment;
    use crate::provider::sim::{self, SimWorld};

    const SHIPPED: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/runbooks/billing-replica-promotion.yaml"
    );

    fn starter(dir: &Path) -> Starter {
        let environment = demo_environment();
        let world = Arc::new(SimWorld::new(&environment, Utc::now()));
        let (feed, _) = crate::monitor::spawn_feed(
            sim::provider(world, true).observe,
            Duration::from_secs(3600),
        );
        Starter {
            environment,
            builtins: Variables::new(),
            operator: "ann".into(),
            session: "test".into(),
            journal_dir: dir.join("journal"),
            lock_dir: dir.join("locks"),
            today: Utc::now().date_naive(),
            feed,
            safety: SafetySettings::default(),
        }
    }

    fn request(file: &Path, resume: ResumePolicy) -> StartRequest {
        StartRequest {
            file: file.to_path_buf(),
            supplied: Variables::new(),
            resume,
            discard: None,
            incident: None,
        }
    }

    #[tokio::test]
    async fn a_runbook_that_check_rejects_does_not_start_from_any_caller() {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(SHIPPED)
            .unwrap()
            .replace("default: ${service.dr_region}", "default: mars-1");
        let file = dir.path().join("bad.yaml");
        std::fs::write(&file, text).unwrap();
        let Err(StartRefused::Invalid(errors)) =
            prepare(&starter(dir.path()), request(&file, ResumePolicy::Newest))
        else {
            panic!("an invalid runbook was prepared")
        };
        assert!(
            errors
                .iter()
                .any(|d| d.to_string().contains("`mars-1` is not in the environment")),
            "{errors:?}"
        );
    }

    #[tokio::test]
    async fn an_unreadable_journal_blocks_every_policy_and_a_discard_lifts_it() {
        let dir = tempfile::tempdir().unwrap();
        let starter = starter(dir.path());
        std::fs::create_dir_all(&starter.journal_dir).unwrap();
        let bad = starter
            .journal_dir
            .join("billing-20261120T100000Z-1-abcd.jsonl");
        std::fs::write(&bad, b"garbage\n").unwrap();
        let file = Path::new(SHIPPED);
        for policy in [
            ResumePolicy::Refuse,
            ResumePolicy::Newest,
            ResumePolicy::New,
            ResumePolicy::From(bad.clone()),
        ] {
            let refused = prepare(&starter, request(file, policy.clone())).err();
            assert!(
                matches!(refused, Some(StartRefused::Unreadable { .. })),
                "{policy:?}: {refused:?}"
            );
        }
        // A journal outside the journal directory is not this service's.
        let elsewhere = dir.path().join("billing-20261120T100000Z-1-abcd.jsonl");
        std::fs::write(&elsewhere, b"garbage\n").unwrap();
        let mut outside = request(file, ResumePolicy::Refuse);
        outside.discard = Some(Discard {
            journal: elsewhere,
            reason: "probe".into(),
        });
        assert!(matches!(
            prepare(&starter, outside).err(),
            Some(StartRefused::DiscardElsewhere { .. })
        ));
        let mut discard = request(file, ResumePolicy::Refuse);
        discard.discard = Some(Discard {
            journal: bad.clone(),
            reason: "probe".into(),
        });
        let prepared = prepare(&starter, discard).unwrap();
        assert_eq!(prepared.discarded.unwrap().reason, "probe");
        assert_eq!(prepared.resumed, None);
        assert!(!bad.exists());
    }

    #[tokio::test]
    async fn a_start_carries_the_configured_safety_settings_and_the_incident() {
        let dir = tempfile::tempdir().unwrap();
        let mut starter = starter(dir.path());
        starter.safety = SafetySettings {
            repeat_failover_within: Duration::from_secs(600),
        };
        let incident = IncidentStart::declared(
            Utc::now() - chrono::Duration::minutes(3),
            "ann",
            "pager",
            Utc::now(),
        )
        .unwrap();
        let mut request = request(Path::new(SHIPPED), ResumePolicy::Refuse);
        request.incident = Some(incident.clone());
        let prepared = prepare(&starter, request).unwrap();
        assert_eq!(prepared.spec.safety, starter.safety);
        assert_eq!(prepared.spec.incident, Some(incident));
    }
}
