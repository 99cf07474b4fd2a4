//! `drconsole status`: the posture once, as a table or JSON, for scripts.

use std::fmt::Write as _;
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::posture::{ExposureSource, Posture};
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
    pub services: Vec<Posture>,
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
            services,
            failed_sources,
            failed_discovery,
            observed,
        }
    }

    /// Non-zero when any service is outside its objectives (or cannot be
    /// shown to be inside them, as when discovery failed in part), so
    /// scripts and CI can gate on it.
    pub fn exit_code(&self) -> ExitCode {
        if self.within_objectives {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        }
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
            "SERVICE", "TIER", "RTO", "RPO", "EXPOSURE", "FROM", "PRIMARY", "DR", "SERVING",
            "RTO-FIT", "POSTURE",
        ];
        let rows: Vec<[String; 11]> = self
            .services
            .iter()
            .map(|p| {
                [
                    p.service_id.clone(),
                    p.tier.label().to_string(),
                    short_duration(p.objectives.rto),
                    short_duration(p.objectives.rpo),
                    p.rpo_exposure.map_or("?".into(), short_duration),
                    match p.exposure_source {
                        ExposureSource::ReplicationLag => "lag",
                        ExposureSource::BackupAge => "backup",
                        ExposureSource::None => "-",
                    }
                    .to_string(),
                    health_label(p.primary_health).to_string(),
                    health_label(p.dr_health).to_string(),
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
        } else {
            "SOME SERVICES OUTSIDE OBJECTIVES"
        };
        let _ = writeln!(out, "{verdict}");
        out
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

fn health_label(h: Health) -> &'static str {
    match h {
        Health::Healthy => "healthy",
        Health::Unhealthy => "UNHEALTHY",
        Health::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::snapshot::ErrorKind;

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
        assert_eq!(partial.exit_code(), ExitCode::from(1));
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
}
