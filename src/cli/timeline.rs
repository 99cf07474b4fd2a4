//! `drconsole timeline`: the incident's story from the journals and the
//! events log, as Markdown (the review's draft) or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};

use crate::domain::incident::parse_start;
use crate::format::printable;
use crate::timeline::events::EventLog;
use crate::timeline::{Filter, load, merge, report};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TimelineFormat {
    Markdown,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct TimelineArgs {
    /// Only this service's entries.
    #[arg(long, value_name = "SERVICE")]
    pub service: Option<String>,
    /// Only what happened from this time: RFC 3339, HH:MM (UTC, today) or
    /// a time ago such as -2h.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: TimelineFormat,
    /// Directory of journals (default: the data directory's).
    #[arg(long, value_name = "DIR")]
    pub journal: Option<PathBuf>,
}

/// Where the console keeps its events log under the data directory.
pub fn events_log(data_dir: &Path) -> EventLog {
    EventLog::new(data_dir.join("events"))
}

/// Prints the timeline; what could not be read goes to stderr. Exit 2 for
/// a `--since` that is not a time.
pub fn execute(args: &TimelineArgs, data_dir: &Path, journal_dir: &Path) -> ExitCode {
    let now = Utc::now();
    let since = match args.since.as_deref().map(|t| parse_start(t, now)) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            eprintln!("drconsole: --since: {}", printable(&e.to_string()));
            return ExitCode::from(2);
        }
    };
    let filter = Filter {
        service: args.service.clone(),
        since,
    };
    let dir = args.journal.as_deref().unwrap_or(journal_dir);
    let sources = load::load(dir, &events_log(data_dir));
    for problem in &sources.problems {
        eprintln!("drconsole: {}", printable(problem));
    }
    print!("{}", render(&sources, &filter, args.format, now));
    ExitCode::SUCCESS
}

fn render(
    sources: &load::Sources,
    filter: &Filter,
    format: TimelineFormat,
    now: DateTime<Utc>,
) -> String {
    let timeline = merge::build(&sources.journals, &sources.events, filter);
    match format {
        TimelineFormat::Markdown => report::markdown(&timeline, filter, now),
        TimelineFormat::Json => report::json(&timeline),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::events::{Change, ObservedEvent};

    #[test]
    fn the_markdown_tells_what_the_events_log_and_journals_hold_and_json_parses() {
        let data = tempfile::tempdir().unwrap();
        let log = events_log(data.path());
        let at = |s: i64| DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap();
        log.append(&[
            ObservedEvent {
                at: at(0),
                service: Some("orders".into()),
                change: Change::Availability {
                    from: Some("UP".into()),
                    to: "DOWN".into(),
                },
            },
            ObservedEvent {
                at: at(600),
                service: Some("orders".into()),
                change: Change::Availability {
                    from: Some("DOWN".into()),
                    to: "UP".into(),
                },
            },
        ])
        .unwrap();
        let sources = load::load(&data.path().join("journal"), &log);
        assert!(sources.problems.is_empty(), "{:?}", sources.problems);
        let filter = Filter {
            service: Some("orders".into()),
            since: None,
        };
        let text = render(&sources, &filter, TimelineFormat::Markdown, at(700));
        assert!(text.starts_with("# Incident timeline: orders"), "{text}");
        assert!(text.contains("- **Duration:** 10m00s"), "{text}");
        assert!(text.contains("| availability DOWN → UP |"), "{text}");
        let json: serde_json::Value =
            serde_json::from_str(&render(&sources, &filter, TimelineFormat::Json, at(700)))
                .unwrap();
        assert_eq!(json["entries"].as_array().unwrap().len(), 2);
    }
}
