//! Tier sanity (the strategy can meet the objectives), process (more than
//! one person has run or approved the service's runbooks), and the shared
//! store's region (not one a service depends on as primary).

use super::check::{Area, Check};
use super::index::Indexed;
use crate::domain::environment::ServiceSpec;
use crate::format::objective;

pub fn checks(service: &ServiceSpec, inputs: &Indexed<'_>) -> Vec<Check> {
    let mut out = vec![
        tier_rto(service),
        tier_rpo(service),
        identities(service, inputs),
    ];
    if let Some(region) = inputs.shared_store_region {
        out.push(shared_store(service, region));
    }
    out
}

fn tier_rto(service: &ServiceSpec) -> Check {
    let (tier, rto) = (service.tier, service.objectives.rto);
    let evidence = format!(
        "{tier} recovers in {} at best; RTO {}",
        objective(tier.best_case_rto()),
        objective(rto)
    );
    if tier.can_meet_rto(rto) {
        Check::pass(Area::TierSanity, "tier meets RTO", evidence)
    } else {
        Check::fail(
            Area::TierSanity,
            "tier meets RTO",
            evidence,
            format!("move {} to a faster tier or agree a longer RTO", service.id),
        )
    }
}

fn tier_rpo(service: &ServiceSpec) -> Check {
    let (tier, rpo) = (service.tier, service.objectives.rpo);
    let evidence = format!(
        "{tier} loses {} at best; RPO {}",
        objective(tier.best_case_rpo()),
        objective(rpo)
    );
    if tier.best_case_rpo() <= rpo {
        Check::pass(Area::TierSanity, "tier meets RPO", evidence)
    } else {
        Check::fail(
            Area::TierSanity,
            "tier meets RPO",
            evidence,
            format!(
                "replicate {} continuously or agree a larger RPO",
                service.id
            ),
        )
    }
}

fn identities(service: &ServiceSpec, inputs: &Indexed<'_>) -> Check {
    let name = "more than one operator";
    let days = inputs.settings.process_window_days;
    let since = inputs.now - chrono::Duration::days(days);
    let mut who: Vec<&str> = inputs
        .runs_of(&service.id)
        .iter()
        .filter(|r| r.started_at >= since)
        .flat_map(|r| r.identities.iter().map(String::as_str))
        .collect();
    who.sort_unstable();
    who.dedup();
    let fix = format!(
        "have a second person run or approve a runbook for {} (a drill counts)",
        service.id
    );
    match who.as_slice() {
        [] => Check::warn(
            Area::Process,
            name,
            format!(
                "no run of a runbook for {} journaled in the last {days} days",
                service.id
            ),
            fix,
        ),
        [only] => Check::warn(
            Area::Process,
            name,
            format!("only {only} ran or approved its runbooks in the last {days} days"),
            fix,
        ),
        many => Check::pass(
            Area::Process,
            name,
            format!(
                "{} identities in the last {days} days: {}",
                many.len(),
                many.join(", ")
            ),
        ),
    }
}

fn shared_store(service: &ServiceSpec, region: &str) -> Check {
    let name = "shared store region";
    if region == service.primary_region {
        Check::fail(
            Area::SharedStore,
            name,
            format!(
                "the shared store is in {region}, {}'s primary region",
                service.id
            ),
            "move the shared store to a region no service depends on as primary",
        )
    } else {
        Check::pass(
            Area::SharedStore,
            name,
            format!(
                "shared store in {region}, primary is {}",
                service.primary_region
            ),
        )
    }
}
