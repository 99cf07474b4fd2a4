//! The timeline as text: Markdown that reads as the draft of a
//! post-incident review, or JSON for tools.

use chrono::{DateTime, Utc};

use super::merge::{Filter, Timeline, TimelineEntry};
use crate::format::{printable, short_duration};

const TIME: &str = "%Y-%m-%d %H:%M:%SZ";

pub fn json(timeline: &Timeline) -> String {
    // Every field is plain data: serialising cannot fail.
    serde_json::to_string_pretty(timeline).unwrap_or_default() + "\n"
}

/// A heading, the incident's start, end and duration, then every entry
/// in a table. `now` ends the duration of an incident still open.
pub fn markdown(timeline: &Timeline, filter: &Filter, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    let scope = filter.service.as_deref().unwrap_or("all services");
    out.push_str(&format!("# Incident timeline: {}\n\n", cell(scope)));
    out.push_str(&format!(
        "_Draft for the post-incident review, written by drconsole at {} from the run journals and the events log{}._\n\n",
        now.format(TIME),
        filter
            .since
            .map(|t| format!(", from {}", t.format(TIME)))
            .unwrap_or_default()
    ));
    match &timeline.incident {
        Some(incident) => {
            out.push_str(&format!(
                "- **Start:** {} ({})\n",
                incident.start.format(TIME),
                cell(&incident.started_by)
            ));
            let end = incident.end.unwrap_or(now);
            match incident.end {
                Some(end) => out.push_str(&format!("- **End:** {}\n", end.format(TIME))),
                None => out.push_str("- **End:** not yet: a service is still not UP\n"),
            }
            let open = if incident.end.is_none() {
                " so far"
            } else {
                ""
            };
            out.push_str(&format!(
                "- **Duration:** {}{open}\n",
                short_duration((end - incident.start).to_std().unwrap_or_default())
            ));
        }
        None => out.push_str("- No outage seen: no service left UP in this period.\n"),
    }
    let runs = timeline
        .entries
        .iter()
        .filter(|e| e.run_id.is_some() && e.what.starts_with("started run"))
        .count();
    out.push_str(&format!(
        "- **Entries:** {} ({runs} runbook run{})\n\n## Timeline\n\n",
        timeline.entries.len(),
        if runs == 1 { "" } else { "s" }
    ));
    if timeline.entries.is_empty() {
        out.push_str("Nothing recorded.\n");
        return out;
    }
    out.push_str("| Time (UTC) | Service | Source | What | Who | Why |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- |\n");
    for entry in &timeline.entries {
        out.push_str(&row(entry));
    }
    out
}

fn row(entry: &TimelineEntry) -> String {
    let what = match &entry.step {
        Some(step) => format!("{} `{}`", cell(&entry.what), cell(step).replace('`', "'")),
        None => cell(&entry.what),
    };
    let source = match (&entry.run_id, entry.origin) {
        (Some(run), _) => format!("run {}", cell(run)),
        (None, origin) => format!("{origin:?}").to_lowercase(),
    };
    format!(
        "| {} | {} | {} | {} | {} | {} |\n",
        entry.at.format("%H:%M:%S"),
        cell(entry.service.as_deref().unwrap_or("")),
        source,
        what,
        cell(entry.who.as_deref().unwrap_or("")),
        cell(entry.why.as_deref().unwrap_or("")),
    )
}

/// Text made safe inside a Markdown table cell: no control characters or
/// line breaks ([`printable`]), no column separators, no HTML.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in printable(text).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timeline::merge::{IncidentSpan, Origin};

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + s, 0).unwrap()
    }

    #[test]
    fn the_markdown_draft_has_the_incident_and_one_safe_row_per_entry() {
        let timeline = Timeline {
            incident: Some(IncidentSpan {
                start: at(0),
                started_by: "orders availability UP → DOWN".into(),
                end: Some(at(845)),
            }),
            entries: vec![TimelineEntry {
                at: at(60),
                service: Some("orders".into()),
                origin: Origin::Run,
                what: "overrode the safety rules".into(),
                who: Some("ann".into()),
                why: Some("primary | down\n| fake | row |\u{1b}[2J".into()),
                run_id: Some("r-1".into()),
                step: Some("fail`over".into()),
                change: None,
            }],
        };
        let text = markdown(&timeline, &Filter::default(), at(900));
        assert!(
            text.starts_with("# Incident timeline: all services\n"),
            "{text}"
        );
        assert!(text.contains("- **Duration:** 14m05s\n"), "{text}");
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(rows.len(), 3, "the heading, its rule and one entry: {text}");
        assert!(
            rows[2].contains("primary \\| down \\| fake \\| row \\|[2J"),
            "{text}"
        );
        assert!(rows[2].contains("`fail'over`"), "{text}");
        assert!(!text.contains('\u{1b}'));
    }
}
