//! `drconsole runbook run` in shared mode: claim the service in the shared
//! store (a lease, a takeover, or a solo start), then drive the run with
//! every journal record mirrored to the store.

use crate::coordination::config::SharedSettings;
use crate::coordination::connect::connect;
use crate::coordination::run::Claim;
use crate::coordination::start::open_shared;
use crate::format::printable;
use crate::provider::Provider;
use crate::runbook::headless::{self, Operator};
use crate::runbook::runner::{RunEnd, RunSpec};

pub async fn run_shared(
    spec: RunSpec,
    provider: Provider,
    settings: SharedSettings,
    profile: Option<&str>,
    claim: Claim,
) -> anyhow::Result<RunEnd> {
    let connected = connect(settings, profile, &spec.operator).await;
    let now = provider.observe.now();
    let read_only = provider.read_only();
    let shared = open_shared(spec, &connected, claim, now, read_only).await?;
    for notice in &shared.notices {
        eprintln!("{}", printable(notice));
    }
    headless::drive(
        shared.opened.spawn(provider),
        Operator::terminal(),
        std::io::stdout(),
    )
    .await
}
