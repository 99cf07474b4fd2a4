//! `drconsole status`: the posture once, as a table or JSON, for scripts.
//!
//! One poll has no history: a service's availability `since` is the time of
//! this observation (`since_basis: first-observation`: the state began then
//! or earlier), and so is the start of an incident it finds open. Every
//! duration is given in seconds (`*_s`) beside any string for people.
//!
//! Exit status: 0 every service within its objectives; 1 some service
//! outside them; 3 none known outside, but some cannot be shown inside
//! (its verdict is unknown, its replication lag could not be read, or
//! discovery failed in part); 2 is drconsole's own error (`main`).

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::availability::Availability;
use crate::domain::environment::{Replication, ServiceSpec};
use crate::domain::exposure::ExposureSource;
use crate::domain::incident::{Basis, Declaration};
use crate::domain::objectives::DrTier;
use crate::domain::posture::{Posture, Verdict};
use crate::domain::snapshot::{Health, Snapshot, SourceError, SourceId, SourceReading};
use crate::format::short_duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

/// What one poll found, ready to print.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub environment: String,
    pub provider: String,
    pub observed_at: DateTime<Utc>,
    pub within_objectives: bool,
    /// Some service is known to be outside its objectives (exit 1);
    /// otherwise, when not `within_objectives`, the posture is unknown (exit 3).
    pub outside_objectives: bool,
    pub services: Vec<ServiceStatus>,
    /// Sources whose poll failed: their parts of the report are missing.
    pub failed_sources: Vec<FailedSource>,
    /// Discovery sources that failed: services they would have found are
    /// missing from `services`, so the posture is incomplete.
    pub failed_discovery: Vec<FailedSource>,
    /// Everything the poll saw, including resources no service claims
    /// (health checks and record sets discovery could not tie to one).
    pub observed: Snapshot,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailedSource {
    pub source: SourceId,
    pub error: SourceError,
}

/// One service in the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceStatus {
    pub service_id: String,
    pub service_name: String,
    pub tier: DrTier,
    pub objectives: ObjectivesStatus,
    pub availability: AvailabilityStatus,
    /// Where writes are accepted now, from the observed roles.
    pub writer_region: Option<String>,
    pub serving_region: Option<String>,
    /// Time since the service stopped being `UP` (0 while up).
    pub rto_exposure_s: Option<f64>,
    pub rto: Verdict,
    /// Data lost if the writer's region failed now.
    pub rpo_exposure_s: Option<f64>,
    #[serde(with = "humantime_serde")]
    pub rpo_exposure: Option<Duration>,
    pub exposure_source: ExposureSource,
    pub rpo_reason: String,
    pub rpo: Verdict,
    /// Age of the writer's in-region point-in-time-restore target.
    pub pitr_age_s: Option<f64>,
    pub pitr: Verdict,
    pub tier_meets_rto: bool,
    pub primary_health: Health,
    pub dr_health: Health,
    pub overall: Verdict,
    pub why: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_start: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_start_basis: Option<Basis>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_declared: Option<Declaration>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjectivesStatus {
    #[serde(with = "humantime_serde")]
    pub rto: Duration,
    pub rto_s: f64,
    #[serde(with = "humantime_serde")]
    pub rpo: Duration,
    pub rpo_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AvailabilityStatus {
    pub state: Availability,
    pub since: Option<DateTime<Utc>>,
    /// `first-observation` here: a single poll cannot tell when it began.
    pub since_basis: Option<Basis>,
    pub reason: String,
}

/// Seconds with millisecond precision.
fn seconds(d: Duration) -> f64 {
    d.as_millis() as f64 / 1000.0
}

impl From<&Posture> for ServiceStatus {
    fn from(p: &Posture) -> Self {
        let incident = p.rto_side.incident.as_ref();
        ServiceStatus {
            service_id: p.service_id.clone(),
            service_name: p.service_name.clone(),
            tier: p.tier,
            objectives: ObjectivesStatus {
                rto: p.objectives.rto,
                rto_s: seconds(p.objectives.rto),
                rpo: p.objectives.rpo,
                rpo_s: seconds(p.objectives.rpo),
            },
            availability: AvailabilityStatus {
                state: p.rto_side.availability,
                since: p.rto_side.since,
                since_basis: p.rto_side.since_basis,
                reason: p.rto_side.reason.clone(),
            },
            writer_region: p.writer_region.clone(),
            serving_region: p.serving_region.clone(),
            rto_exposure_s: p.rto_side.exposure.map(seconds),
            rto: p.rto_side.verdict,
            rpo_exposure_s: p.rpo_exposure().map(seconds),
            rpo_exposure: p.rpo_exposure(),
            exposure_source: p.rpo_side.source,
            rpo_reason: p.rpo_side.reason.clone(),
            rpo: p.rpo,
            pitr_age_s: p.rpo_side.pitr_age.map(seconds),
            pitr: p.rpo_side.pitr_verdict,
            tier_meets_rto: p.tier_meets_rto,
            primary_health: p.primary_health,
            dr_health: p.dr_health,
            overall: p.overall,
            why: p.why.clone(),
            incident_start: incident.map(|i| i.start),
            incident_start_basis: incident.map(|i| i.start_basis),
            incident_declared: incident.and_then(|i| i.declared.clone()),
        }
    }
}

impl StatusReport {
    pub fn new(
        environment: &str,
        provider: &str,
        observed_at: DateTime<Utc>,
        services: Vec<Posture>,
        failed_sources: Vec<FailedSource>,
        failed_discovery: Vec<FailedSource>,
        observed: Snapshot,
    ) -> Self {
        Self {
            environment: environment.to_string(),
            provider: provider.to_string(),
            observed_at,
            within_objectives: failed_discovery.is_empty()
                && services.iter().all(Posture::within_objectives),
            outside_objectives: services.iter().any(|p| p.overall > Verdict::Unknown),
            services: services.iter().map(ServiceStatus::from).collect(),
            failed_sources,
            failed_discovery,
            observed,
        }
    }

    /// 0 within objectives, 1 some service outside them, 3 cannot be shown
    /// inside them (see the module comment), so scripts and CI can gate on it.
    pub fn exit_code(&self) -> ExitCode {
        if self.within_objectives {
            ExitCode::SUCCESS
        } else if self.outside_objectives {
            ExitCode::from(EXIT_OUTSIDE)
        } else {
            ExitCode::from(EXIT_UNKNOWN)
        }
    }

    /// Services whose replication lag comes from a source that failed this
    /// poll: their RPO exposure is unknown, whatever else the poll suggested
    /// (the dashboard shows NO DATA for the same lag), so neither the figure
    /// nor an `ok` is reported for them.
    pub fn with_lag_sources(mut self, specs: &[ServiceSpec]) -> Self {
        // By identifier: a search per service would make `status` quadratic.
        let specs: std::collections::HashMap<&str, &ServiceSpec> =
            specs.iter().map(|s| (s.id.as_str(), s)).collect();
        for status in &mut self.services {
            let Some(spec) = specs.get(status.service_id.as_str()) else {
                continue;
            };
            let failed = lag_regions(spec, status.writer_region.as_deref())
                .into_iter()
                .find_map(|region| {
                    let source = format!("cloudwatch:{region}");
                    self.failed_sources.iter().find(|f| f.source == source)
                });
            let Some(failed) = failed else { continue };
            let reason = format!(
                "replication lag unknown: source {} failed ({}): {}",
                failed.source,
                failed.error.kind.label(),
                failed.error.message
            );
            status.rpo_exposure_s = None;
            status.rpo_exposure = None;
            status.exposure_source = ExposureSource::None;
            status.rpo = Verdict::Unknown;
            status.overall = status.overall.max(Verdict::Unknown);
            status.rpo_reason = reason.clone();
            status.why.push(reason);
            self.within_objectives = false;
        }
        self
    }

    pub fn render(&self, format: StatusFormat) -> String {
        match format {
            StatusFormat::Json => {
                let mut s = serde_json::to_string_pretty(self)
                    .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise report: {e}\"}}"));
                s.push('\n');
                s
            }
            StatusFormat::Table => self.table(),
        }
    }

    fn table(&self) -> String {
        let header = [
            "SERVICE",
            "AVAILABLE",
            "OUT FOR",
            "RTO",
            "WRITER",
            "RPO EXP",
            "RPO",
            "FROM",
            "PITR",
            "SERVING",
            "RTO-FIT",
            "POSTURE",
        ];
        let rows: Vec<[String; 12]> = self
            .services
            .iter()
            .map(|p| {
                let seconds = |s: Option<f64>| {
                    s.map_or("?".into(), |s| short_duration(Duration::from_secs_f64(s)))
                };
                // One poll sees an outage begin at the earliest now.
                let out_for = match (&p.incident_start_basis, p.rto_exposure_s) {
                    (None, _) => "-".to_string(),
                    (Some(Basis::FirstObservation), s) => format!("≥{}", seconds(s)),
                    (Some(_), s) => seconds(s),
                };
                [
                    p.service_id.clone(),
                    p.availability.state.label().to_string(),
                    out_for,
                    short_duration(p.objectives.rto),
                    p.writer_region.clone().unwrap_or_else(|| "-".into()),
                    seconds(p.rpo_exposure_s),
                    short_duration(p.objectives.rpo),
                    match p.exposure_source {
                        ExposureSource::ReplicationLag => "replica",
                        ExposureSource::BackupCopy => "backup copy",
                        ExposureSource::None => "-",
                    }
                    .to_string(),
                    seconds(p.pitr_age_s).replace('?', "-"),
                    p.serving_region.clone().unwrap_or_else(|| "?".into()),
                    if p.tier_meets_rto { "yes" } else { "NO" }.to_string(),
                    p.overall.label().to_string(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} ({}) at {}",
            self.environment,
            self.provider,
            self.observed_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        let line = |cells: &mut dyn Iterator<Item = &str>, out: &mut String| {
            let text: Vec<String> = cells.zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
            let _ = writeln!(out, "{}", text.join("  ").trim_end());
        };
        line(&mut header.iter().copied(), &mut out);
        for row in &rows {
            line(&mut row.iter().map(String::as_str), &mut out);
        }
        for p in self
            .services
            .iter()
            .filter(|p| p.overall != Verdict::Ok || p.availability.state != Availability::Up)
        {
            let _ = writeln!(out, "{}: {}", p.service_id, p.why.join("; "));
        }
        for failed in &self.failed_discovery {
            let _ = writeln!(
                out,
                "discovery source {} failed ({}): {}",
                failed.source,
                failed.error.kind.label(),
                failed.error.message
            );
        }
        for failed in &self.failed_sources {
            let _ = writeln!(out, "source {} failed: {}", failed.source, failed.error);
        }
        let verdict = if !self.failed_discovery.is_empty() {
            "POSTURE INCOMPLETE: discovery failed in part, services it would have found are missing"
        } else if self.services.is_empty() {
            "no services to assess: name them in an environment file (--env)"
        } else if self.within_objectives {
            "all services within objectives"
        } else if self.outside_objectives {
            "SOME SERVICES OUTSIDE OBJECTIVES"
        } else {
            "POSTURE UNKNOWN: some services cannot be shown to be within objectives"
        };
        let _ = writeln!(out, "{verdict}");
        let _ = writeln!(
            out,
            "(one poll: times out of service count from this observation; the outage may be older)"
        );
        out
    }
}

/// Some service is outside its objectives.
pub const EXIT_OUTSIDE: u8 = 1;
/// No service is known to be outside its objectives, but some cannot be
/// shown to be inside them.
pub const EXIT_UNKNOWN: u8 = 3;

/// The regions whose CloudWatch publishes a service's replication lag:
/// Aurora's in every secondary region (any but the writer's), a read
/// replica's in its region, S3's in the source bucket's.
fn lag_regions<'a>(spec: &'a ServiceSpec, writer_region: Option<&str>) -> Vec<&'a str> {
    match &spec.replication {
        Replication::AuroraGlobal { .. } => [&spec.primary_region, &spec.dr_region]
            .into_iter()
            .map(String::as_str)
            .filter(|r| Some(*r) != writer_region)
            .collect(),
        Replication::RdsReplica { .. } => vec![spec.dr_region.as_str()],
        Replication::S3 { .. } => vec![spec.primary_region.as_str()],
        Replication::Backup { .. } => vec![],
    }
}

/// The failed sources among `readings`.
pub fn failed_sources(readings: &[SourceReading]) -> Vec<FailedSource> {
    readings
        .iter()
        .filter_map(|r| {
            r.result.as_ref().err().map(|error| FailedSource {
                source: r.source.clone(),
                error: error.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::posture::assess;
    use crate::domain::snapshot::ErrorKind;
    use crate::domain::testing::{healthy_world, now, orders, with_lag};

    fn json(p: &Posture) -> serde_json::Value {
        serde_json::to_value(ServiceStatus::from(p)).unwrap()
    }

    #[test]
    fn a_healthy_service_has_every_duration_in_seconds_and_no_incident() {
        let v = json(&assess(&orders(), &healthy_world(), now()));
        assert_eq!(v["availability"]["state"], "up");
        assert_eq!(v["availability"]["since_basis"], "first-observation");
        assert_eq!(v["writer_region"], "us-east-1");
        assert_eq!(v["rto_exposure_s"], 0.0);
        assert_eq!(v["rpo_exposure_s"], 0.4);
        assert_eq!(v["pitr_age_s"], 240.0);
        assert_eq!(v["objectives"]["rto_s"], 900.0);
        assert_eq!(v["objectives"]["rpo"], "5m");
        assert!(v.get("incident_start").is_none(), "{v}");
    }

    #[test]
    fn a_down_service_has_an_incident_counted_from_this_observation() {
        let mut world = healthy_world();
        world.db_clusters[0].status = "inaccessible".into();
        let v = json(&assess(&orders(), &world, now()));
        assert_eq!(v["availability"]["state"], "down");
        assert_eq!(v["writer_region"], serde_json::Value::Null);
        assert_eq!(v["incident_start"], serde_json::json!(now()));
        assert_eq!(v["incident_start_basis"], "first-observation");
        assert_eq!(v["rto"], "at-risk");
        assert_eq!(v["overall"], "at-risk");
    }

    fn report(failed_discovery: Vec<FailedSource>) -> StatusReport {
        StatusReport::new(
            "discovered",
            "aws",
            DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
            vec![],
            vec![],
            failed_discovery,
            Snapshot::default(),
        )
    }

    #[test]
    fn a_partial_discovery_lists_its_failed_sources_and_exits_non_zero() {
        let failed = failed_sources(&[
            SourceReading {
                source: "discovery:rds:us-west-2".into(),
                taken_at: DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
                result: Err(SourceError::new(
                    ErrorKind::ServiceUnavailable,
                    "DescribeGlobalClusters: HTTP 503",
                )),
            },
            SourceReading {
                source: "discovery:route53".into(),
                taken_at: DateTime::from_timestamp(1_795_000_000, 0).unwrap(),
                result: Ok(Snapshot::default()),
            },
        ]);
        let partial = report(failed);
        assert_eq!(partial.exit_code(), ExitCode::from(EXIT_UNKNOWN));
        let table = partial.render(StatusFormat::Table);
        assert!(
            table.contains(
                "discovery source discovery:rds:us-west-2 failed (service unavailable): DescribeGlobalClusters: HTTP 503"
            ),
            "{table}"
        );
        assert!(table.contains("POSTURE INCOMPLETE"), "{table}");
        let json: serde_json::Value =
            serde_json::from_str(&partial.render(StatusFormat::Json)).unwrap();
        assert_eq!(
            json["failed_discovery"][0]["error"]["kind"],
            "service-unavailable"
        );

        assert_eq!(report(vec![]).exit_code(), ExitCode::SUCCESS);
    }

    fn failed_cloudwatch(region: &str) -> FailedSource {
        FailedSource {
            source: format!("cloudwatch:{region}"),
            error: SourceError::new(ErrorKind::Other, "GetMetricData: HTTP 404"),
        }
    }

    fn report_of(postures: Vec<Posture>, failed: Vec<FailedSource>) -> StatusReport {
        StatusReport::new(
            "shop",
            "aws",
            now(),
            postures,
            failed,
            vec![],
            Snapshot::default(),
        )
    }

    #[test]
    fn a_failed_lag_source_makes_the_rpo_unknown_and_exits_3() {
        let posture = assess(&orders(), &healthy_world(), now());
        assert!(posture.within_objectives(), "the poll alone looks fine");
        let report = report_of(vec![posture], vec![failed_cloudwatch("us-west-2")])
            .with_lag_sources(&[orders()]);
        let service = &report.services[0];
        assert_eq!(service.rpo, Verdict::Unknown);
        assert_eq!(service.overall, Verdict::Unknown);
        assert_eq!(service.rpo_exposure_s, None);
        assert_eq!(service.exposure_source, ExposureSource::None);
        assert!(
            service
                .rpo_reason
                .starts_with("replication lag unknown: source cloudwatch:us-west-2 failed (error)"),
            "{}",
            service.rpo_reason
        );
        assert_eq!(report.exit_code(), ExitCode::from(EXIT_UNKNOWN));
        assert!(
            report
                .render(StatusFormat::Table)
                .contains("POSTURE UNKNOWN")
        );
    }

    #[test]
    fn a_failed_source_in_the_writers_region_leaves_the_lag_known() {
        let posture = assess(&orders(), &healthy_world(), now());
        assert_eq!(posture.writer_region.as_deref(), Some("us-east-1"));
        let report = report_of(vec![posture], vec![failed_cloudwatch("us-east-1")])
            .with_lag_sources(&[orders()]);
        assert_eq!(report.services[0].overall, Verdict::Ok);
        assert_eq!(report.exit_code(), ExitCode::SUCCESS);
    }

    #[test]
    fn a_breach_exits_1_even_when_its_lag_source_failed_too() {
        let breach = assess(&orders(), &with_lag(Duration::from_secs(3600)), now());
        assert_eq!(breach.overall, Verdict::Breach);
        let report = report_of(vec![breach], vec![failed_cloudwatch("us-west-2")])
            .with_lag_sources(&[orders()]);
        assert_eq!(report.services[0].overall, Verdict::Breach);
        assert_eq!(report.exit_code(), ExitCode::from(EXIT_OUTSIDE));
    }
}
