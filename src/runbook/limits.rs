//! The bounds on what a runbook may say.
//!
//! Every duration a run adds to a clock, every number sent to an API and
//! every name shown on a screen or typed to confirm has a ceiling, checked
//! when the file is read: a mistyped or hostile value (`timeout: 300000y`,
//! a step id of a megabyte) is refused with its location by `check`, instead
//! of overflowing or flooding the screen in the middle of a recovery.

use std::ops::RangeInclusive;
use std::time::Duration;

use super::condition::Condition;
use super::format::StepKind;
use super::vars;
use crate::domain::action::{Action, RecordValue};

/// A runbook is a page or two of YAML; anything far larger is not one.
pub const FILE_BYTES: u64 = 1024 * 1024;
pub const STEPS: usize = 200;
/// Names, ids and AWS identifiers; DNS names (255) and RDS ARNs fit.
pub const IDENTIFIER_CHARS: usize = 255;
/// Titles, instructions, messages, URLs, header values.
pub const TEXT_CHARS: usize = 4096;
/// An http step's JSON body, serialized.
pub const JSON_BYTES: usize = 16 * 1024;

const SECOND: Duration = Duration::from_secs(1);
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// RTO and RPO: a backup-and-restore service may take days, not months.
pub const OBJECTIVE: Duration = Duration::from_secs(30 * 24 * 3600);
pub const EXPECT_WITHIN: Duration = Duration::from_secs(7 * 24 * 3600);
pub const WAIT_TIMEOUT: RangeInclusive<Duration> = SECOND..=Duration::from_secs(7 * 24 * 3600);
pub const POLL: RangeInclusive<Duration> = SECOND..=HOUR;
pub const HTTP_TIMEOUT: RangeInclusive<Duration> = SECOND..=Duration::from_secs(10 * 60);
/// `replication_lag_below.max`.
pub const LAG: Duration = DAY;
pub const HTTP_STATUS: RangeInclusive<u16> = 100..=599;
/// RDS `PromoteReadReplica` `BackupRetentionPeriod`: 0 to 35 days.
pub const BACKUP_RETENTION_DAYS: u32 = 35;
/// Route 53 record TTL: 0 to 2147483647 seconds.
pub const TTL_SECONDS: u32 = 2_147_483_647;

/// A name or id: not empty, no control characters, at most
/// [`IDENTIFIER_CHARS`].
pub fn identifier(what: &str, value: &str) -> Option<String> {
    if value.trim().is_empty() {
        return Some(format!("{what} is empty"));
    }
    if value.chars().any(char::is_control) {
        return Some(format!(
            "{what} `{}` contains a control character",
            shown(value)
        ));
    }
    too_long(what, value, IDENTIFIER_CHARS)
}

/// Free text: at most [`TEXT_CHARS`].
pub fn text(what: &str, value: &str) -> Option<String> {
    too_long(what, value, TEXT_CHARS)
}

fn too_long(what: &str, value: &str, max: usize) -> Option<String> {
    let chars = value.chars().count();
    (chars > max).then(|| {
        format!(
            "{what} `{}` is {chars} characters long; at most {max} are allowed",
            shown(value)
        )
    })
}

pub fn duration(what: &str, value: Duration, min: Duration, max: Duration) -> Option<String> {
    let fmt = crate::format::objective;
    if value < min {
        return Some(format!(
            "{what} is {}; it must be at least {}",
            fmt(value),
            fmt(min)
        ));
    }
    (value > max).then(|| format!("{what} is {}; it may be at most {}", fmt(value), fmt(max)))
}

fn in_range(what: &str, value: Duration, range: &RangeInclusive<Duration>) -> Option<String> {
    duration(what, value, *range.start(), *range.end())
}

/// A value quoted in a message: long ones are cut so the message stays
/// readable.
pub fn shown(value: &str) -> String {
    const SHOWN: usize = 40;
    if value.chars().count() <= SHOWN {
        return value.to_string();
    }
    let cut: String = value.chars().take(SHOWN).collect();
    format!("{cut}…")
}

/// The first value of a step's content beyond its bound, in words.
pub fn kind(kind: &StepKind) -> Option<String> {
    match kind {
        StepKind::Manual { instructions } => text("the instructions", instructions),
        StepKind::Notify { message } => text("the message", message),
        StepKind::Check { conditions } => conditions.iter().find_map(condition),
        StepKind::Wait(wait) => in_range("the wait's timeout", wait.timeout, &WAIT_TIMEOUT)
            .or_else(|| in_range("poll", wait.poll, &POLL))
            .or_else(|| wait.until.iter().find_map(condition)),
        StepKind::Action { action, .. } => self::action(action),
        StepKind::Http(http) => {
            let mut strings = std::iter::once(("the url", &http.url))
                .chain(http.headers.values().map(|v| ("a header value", v)))
                .chain(
                    http.expect
                        .body_contains
                        .iter()
                        .map(|b| ("body_contains", b)),
                );
            let mut names = http
                .headers
                .keys()
                .map(|k| ("a header name", k))
                .chain(http.capture.keys().map(|k| ("a capture name", k)))
                .chain(http.capture.values().map(|p| ("a capture pointer", p)));
            let json_bytes = http.json.as_ref().map_or(0, |j| {
                serde_json::to_string(j).map_or(usize::MAX, |s| s.len())
            });
            let status = http.expect.status.filter(|s| !HTTP_STATUS.contains(s));
            strings
                .find_map(|(what, v)| text(what, v))
                .or_else(|| names.find_map(|(what, v)| identifier(what, v)))
                .or_else(|| in_range("the request timeout", http.timeout, &HTTP_TIMEOUT))
                .or_else(|| {
                    status.map(|s| {
                        format!(
                            "expected status {s} is not an HTTP status ({}-{})",
                            HTTP_STATUS.start(),
                            HTTP_STATUS.end()
                        )
                    })
                })
                .or_else(|| {
                    (json_bytes > JSON_BYTES).then(|| {
                        format!(
                            "the JSON body is {json_bytes} bytes; at most {JSON_BYTES} are allowed"
                        )
                    })
                })
        }
    }
}

fn condition(c: &Condition) -> Option<String> {
    let lag = match c {
        Condition::ReplicationLagBelow { max, .. } => {
            duration("replication_lag_below's max", *max, Duration::ZERO, LAG)
        }
        _ => None,
    };
    lag.or_else(|| identifiers_in(c))
}

fn action(action: &Action) -> Option<String> {
    let number = match action {
        Action::PromoteReadReplica {
            backup_retention_days: Some(days),
            ..
        } if *days > BACKUP_RETENTION_DAYS => Some(format!(
            "backup_retention_days is {days}; RDS takes 0 to {BACKUP_RETENTION_DAYS}"
        )),
        Action::UpsertRecord {
            record: RecordValue::Cname { ttl, .. },
            ..
        } if *ttl > TTL_SECONDS => Some(format!(
            "the record's ttl is {ttl}; Route 53 takes 0 to {TTL_SECONDS} seconds"
        )),
        _ => None,
    };
    number.or_else(|| identifiers_in(action))
}

/// Every string inside an action or condition names a resource, a region
/// or a DNS target.
fn identifiers_in<T: serde::Serialize>(value: &T) -> Option<String> {
    vars::strings_in(value)
        .iter()
        .find_map(|s| too_long("an identifier", s, IDENTIFIER_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_outside_their_range_are_named_with_the_bound() {
        assert_eq!(
            in_range("poll", Duration::from_millis(10), &POLL).unwrap(),
            "poll is 10ms; it must be at least 1s"
        );
        assert_eq!(
            in_range("poll", 2 * HOUR, &POLL).unwrap(),
            "poll is 2h; it may be at most 1h"
        );
        assert_eq!(in_range("poll", HOUR, &POLL), None);
    }

    #[test]
    fn identifiers_are_short_printable_and_not_empty() {
        assert!(identifier("a step id", "fail-over").is_none());
        assert!(identifier("a step id", " ").unwrap().contains("empty"));
        assert!(
            identifier("a step id", "a\u{1b}[2J")
                .unwrap()
                .contains("control character")
        );
        let long = "x".repeat(IDENTIFIER_CHARS + 1);
        let message = identifier("a step id", &long).unwrap();
        assert!(message.contains("256 characters long"), "{message}");
        assert!(message.len() < 120, "{message}");
    }
}
