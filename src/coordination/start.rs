//! Opening a run in shared mode, the same for the console and `runbook
//! run`: claim the service in the store (lease, takeover or solo), open the
//! run (a takeover resumes the shared journal's local copy), and attach the
//! claim so every record is mirrored and no call is made without the lease.

use chrono::{DateTime, Utc};

use super::connect::Connected;
use super::run::Claim;
use crate::runbook::journal::{Entry, Record};
use crate::runbook::runner::{self, OpenedRun, RunSpec};

/// What the operator should be told besides the run itself.
pub struct SharedOpened {
    pub opened: OpenedRun,
    pub notices: Vec<String>,
}

pub async fn open_shared(
    mut spec: RunSpec,
    connected: &Connected,
    claim: Claim,
    now: DateTime<Utc>,
    read_only: bool,
) -> anyhow::Result<SharedOpened> {
    let store = &connected.store;
    let identity_problem = connected.identity_problem.clone();
    let location = store.settings.location();
    if let Some(problem) = &identity_problem
        && !matches!(claim, Claim::Solo { .. })
    {
        anyhow::bail!(
            "the shared store {location} cannot name this console: the AWS caller identity is unknown ({problem}); start anyway with --solo --reason \"...\""
        );
    }
    if identity_problem.is_none() {
        // Journals and approvals name the identity the store knows.
        spec.operator = store.me.identity.clone();
    }
    let service = spec.runbook.service.clone();
    let run_id = match &spec.resume {
        Some(path) => run_id_of(path, &service)
            .ok_or_else(|| anyhow::anyhow!("{}: not a journal of `{service}`", path.display()))?,
        None => runner::new_run_id(now),
    };
    let solo = match &claim {
        Claim::Solo { reason } => Some(reason.clone()),
        _ => None,
    };
    let claimed = store
        .claim(&service, &run_id, claim, &spec.operator, &spec.journal_dir)
        .await?;
    let mut notices = Vec::new();
    if let Some(path) = &claimed.resume {
        notices.push(format!(
            "took over run {} of `{service}`; resuming from the shared journal ({})",
            claimed.run.run_id(),
            path.display()
        ));
        spec.resume = Some(path.clone());
    }
    let operator = spec.operator.clone();
    let opened =
        tokio::task::spawn_blocking(move || runner::open_as(spec, now, read_only, run_id)).await?;
    let mut opened = match opened {
        Ok(opened) => opened,
        Err(e) => {
            // Nothing ran: the lease goes, so the service is not stranded.
            let _ = claimed.run.finish().await;
            return Err(e.into());
        }
    };
    if let Some(reason) = solo.filter(|_| claimed.run.is_solo()) {
        notices.push(format!(
            "solo run: the shared store {location} is not coordinating this run; its journal goes up when the store answers"
        ));
        opened.note(Record {
            at: now,
            entry: Entry::Solo {
                operator,
                reason,
                problem: identity_problem
                    .unwrap_or_else(|| format!("the shared store {location} could not be reached")),
            },
        });
    }
    opened.share(claimed.run);
    Ok(SharedOpened { opened, notices })
}

/// The run id in a journal's name, `SERVICE-RUN.jsonl`.
fn run_id_of(path: &std::path::Path, service: &str) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let id = name
        .strip_prefix(&format!("{service}-"))?
        .strip_suffix(".jsonl")?;
    (!id.is_empty()).then(|| id.to_string())
}
