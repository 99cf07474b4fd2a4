//! `drconsole approve RUN STEP --reason R`: a second operator approves a
//! `confirm: two-person` step of a run another identity leads, through the
//! shared store. The run's holder picks the approval up and makes the call.

use std::process::ExitCode;

use crate::coordination::approval;
use crate::coordination::config::SharedSettings;
use crate::coordination::connect::connect;
use crate::format::printable;

pub async fn approve(
    shared: Option<SharedSettings>,
    profile: Option<&str>,
    run: &str,
    step: &str,
    reason: &str,
) -> anyhow::Result<ExitCode> {
    let Some(settings) = shared else {
        eprintln!(
            "drconsole: approvals travel through the shared store: configure [shared] or pass --shared s3://BUCKET/PREFIX --shared-region R"
        );
        return Ok(ExitCode::from(2));
    };
    let prefix = settings.prefix.clone();
    let connected = connect(settings, profile, "unknown").await;
    let store = connected.store;
    if let Some(problem) = connected.identity_problem {
        anyhow::bail!(
            "cannot approve: the AWS caller identity is unknown ({problem}), and an approval must name who gave it"
        );
    }
    let approval = approval::approve(
        &*store.store,
        &prefix,
        run,
        step,
        &store.me,
        reason,
        chrono::Utc::now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{}", printable(&e.to_string())))?;
    println!(
        "{}",
        printable(&format!(
            "approved step `{}` of run {} as {}: the run's holder makes the call",
            approval.step, approval.run_id, approval.approver.identity
        ))
    );
    Ok(ExitCode::SUCCESS)
}
