//! The detail pane's API budget section: per AWS API (and region, where
//! the quota is regional), the requests sent in the last second and the
//! busiest second against the configured rate, then what the budget cost
//! the monitor: requests skipped for it, polls AWS throttled, the back-off.
//! The demo sends no AWS requests and has no such section.
//!
//! ```text
//! API budget  Route 53                  1/s now · peak 4 of 4/s · 312 sent
//!               3 monitor requests skipped, last 12:03:00 (2m00s ago)
//!               AWS throttled 1 poll, last 12:04:10 (50s ago) · monitor backs off 25s more
//!             CloudWatch us-east-1      0/s now · peak 2 of 10/s · 40 sent
//!             RDS us-east-1             1/s now · peak 6 of 10/s · 84 sent
//! ```

use chrono::{DateTime, Utc};
use ratatui::text::{Line, Span};

use super::cells::age_label;
use super::detail::{indent, label};
use crate::format::short_duration;
use crate::tui::state::App;

/// Wide enough for `CloudWatch ap-southeast-2`.
const API_WIDTH: usize = 26;

pub fn lines(app: &App) -> Vec<Line<'static>> {
    let Some(usage) = &app.api_budget else {
        return Vec::new();
    };
    let style = &app.theme.style;
    if usage.is_empty() {
        return vec![Line::from(vec![
            label("API budget", app),
            Span::styled("no AWS request sent yet", style.muted),
        ])];
    }
    let mut out = Vec::new();
    for (i, u) in usage.iter().enumerate() {
        let api = match &u.region {
            Some(region) => format!("{} {region}", u.api.label()),
            None => u.api.label().to_string(),
        };
        let at_limit = u.peak_second as f64 >= u.per_second;
        out.push(Line::from(vec![
            if i == 0 {
                label("API budget", app)
            } else {
                indent()
            },
            Span::styled(format!("{api:<API_WIDTH$}"), style.text),
            Span::styled(format!("{}/s now · ", u.last_second), style.text),
            Span::styled(
                format!("peak {} of {}/s", u.peak_second, rate(u.per_second)),
                if at_limit { style.at_risk } else { style.text },
            ),
            Span::styled(format!(" · {} sent", u.granted), style.muted),
        ]));
        if u.skipped > 0 {
            out.push(Line::from(vec![
                indent(),
                Span::styled(
                    format!(
                        "  {} monitor request{} skipped{}",
                        u.skipped,
                        plural(u.skipped),
                        last(u.last_skip, app.now)
                    ),
                    style.at_risk,
                ),
            ]));
        }
        if u.throttled_polls > 0 || u.backoff.is_some() {
            let mut spans = vec![
                indent(),
                Span::styled(
                    format!(
                        "  AWS throttled {} poll{}{}",
                        u.throttled_polls,
                        plural(u.throttled_polls),
                        last(u.last_throttled, app.now)
                    ),
                    style.at_risk,
                ),
            ];
            if let Some(backoff) = u.backoff {
                spans.push(Span::styled(
                    format!(" · monitor backs off {} more", short_duration(backoff)),
                    style.breach,
                ));
            }
            out.push(Line::from(spans));
        }
    }
    out
}

/// `4`, or `2.5` for a rate that is not whole.
fn rate(per_second: f64) -> String {
    match per_second.fract() == 0.0 {
        true => format!("{per_second:.0}"),
        false => format!("{per_second}"),
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// `, last 12:03:04 (2m ago)`.
fn last(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    let Some(at) = at else {
        return String::new();
    };
    let ago = match age_label((now - at).to_std().unwrap_or_default()).as_str() {
        "now" => "just now".to_string(),
        age => format!("{age} ago"),
    };
    format!(", last {} ({ago})", at.format("%H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::TimeZone;
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;
    use ratatui::widgets::Paragraph;

    use super::*;
    use crate::provider::aws::budget::{Api, Usage};
    use crate::tui::render::testing::demo_app;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 26, 12, 5, 0).unwrap()
    }

    fn app(api_budget: Option<Vec<Usage>>) -> App {
        let mut app = demo_app("aws", Duration::from_secs(30), now());
        app.api_budget = api_budget;
        app
    }

    fn usage(api: Api, region: Option<&str>, per_second: f64) -> Usage {
        Usage {
            api,
            region: region.map(str::to_string),
            per_second,
            last_second: 0,
            peak_second: 0,
            granted: 0,
            skipped: 0,
            last_skip: None,
            throttled_polls: 0,
            last_throttled: None,
            backoff: None,
        }
    }

    fn shown(app: &App, width: u16) -> String {
        let lines = lines(app);
        let height = u16::try_from(lines.len()).unwrap().max(1);
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal
            .draw(|f| f.render_widget(Paragraph::new(lines), f.area()))
            .unwrap();
        terminal.backend().to_string()
    }

    #[test]
    fn each_api_shows_its_use_and_what_the_budget_cost_the_monitor() {
        let route53 = Usage {
            last_second: 1,
            peak_second: 4,
            granted: 312,
            skipped: 3,
            last_skip: Some(now() - chrono::Duration::seconds(120)),
            throttled_polls: 1,
            last_throttled: Some(now() - chrono::Duration::seconds(50)),
            backoff: Some(Duration::from_secs(25)),
            ..usage(Api::Route53, None, 4.0)
        };
        let cloudwatch = Usage {
            peak_second: 2,
            granted: 40,
            ..usage(Api::CloudWatch, Some("ap-southeast-2"), 10.0)
        };
        let rds = Usage {
            last_second: 1,
            peak_second: 2,
            granted: 84,
            ..usage(Api::Rds, Some("us-east-1"), 2.5)
        };
        let app = app(Some(vec![route53, cloudwatch, rds]));
        insta::assert_snapshot!(shown(&app, 110));
    }

    #[test]
    fn the_demo_has_no_budget_section_and_aws_says_when_nothing_was_sent() {
        assert!(lines(&app(None)).is_empty());
        let text: String = lines(&app(Some(Vec::new())))
            .iter()
            .flat_map(|l| l.spans.iter().map(|s| s.content.to_string()))
            .collect();
        assert!(text.contains("no AWS request sent yet"), "{text}");
    }

    #[test]
    fn a_peak_at_the_rate_is_marked_and_quiet_apis_say_nothing_of_skips() {
        let app = app(Some(vec![Usage {
            peak_second: 4,
            ..usage(Api::Route53, None, 4.0)
        }]));
        let lines = lines(&app);
        assert_eq!(lines.len(), 1, "no skip, no throttling: one line");
        let peak = lines[0]
            .spans
            .iter()
            .find(|s| s.content.starts_with("peak"))
            .unwrap();
        assert_eq!(peak.content, "peak 4 of 4/s");
        assert_eq!(peak.style, app.theme.style.at_risk);
    }
}
