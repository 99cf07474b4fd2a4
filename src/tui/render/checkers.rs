//! Under a health check in the detail pane: what its Route 53 checkers
//! reported, region by region, when the last poll read them (checks not
//! fully healthy, and those of the service open in the pane). Regions
//! where every checker sees the endpoint up come first, then those where
//! any fails, each with its count up; four regions a line.
//!
//! ```text
//!               checkers up in      ap-northeast-1 3/3, eu-west-1 3/3, sa-east-1 3/3, us-east-1 3/3
//!                                   us-west-1 3/3, us-west-2 3/3
//!               checkers failing in ap-southeast-1 0/3, ap-southeast-2 1/3
//! ```

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::detail::indent;
use crate::domain::snapshot::CheckerRegion;
use crate::tui::state::App;

const REGIONS_PER_LINE: usize = 4;
const UP: &str = "  checkers up in      ";
const FAILING: &str = "  checkers failing in ";

/// The lines under check `id`; none when its checkers were not read.
pub fn lines(app: &App, id: &str, stale: bool) -> Vec<Line<'static>> {
    let Some(readout) = app
        .monitor
        .merged()
        .checker_readouts
        .iter()
        .find(|r| r.health_check_id == id)
    else {
        return Vec::new();
    };
    let style = &app.theme.style;
    let judged = |s: Style| if stale { style.stale } else { s };
    if let Some(why) = &readout.not_read {
        return vec![Line::from(vec![
            indent(),
            Span::styled(format!("  checkers not read: {why}"), style.stale),
        ])];
    }
    let (up, failing): (Vec<&CheckerRegion>, Vec<&CheckerRegion>) = readout
        .regions
        .iter()
        .partition(|r| r.total > 0 && r.healthy == r.total);
    let mut out = Vec::new();
    group(&mut out, UP, &up, judged(style.ok), judged(style.text));
    group(
        &mut out,
        FAILING,
        &failing,
        judged(style.breach),
        judged(style.text),
    );
    if out.is_empty() {
        out.push(Line::from(vec![
            indent(),
            Span::styled("  checkers: none reported", style.muted),
        ]));
    }
    out
}

/// `head` then the regions, [`REGIONS_PER_LINE`] a line.
fn group(
    out: &mut Vec<Line<'static>>,
    head: &'static str,
    regions: &[&CheckerRegion],
    head_style: Style,
    style: Style,
) {
    for (i, chunk) in regions.chunks(REGIONS_PER_LINE).enumerate() {
        let names = chunk
            .iter()
            .map(|r| format!("{} {}/{}", r.region, r.healthy, r.total))
            .collect::<Vec<_>>()
            .join(", ");
        let lead = match i {
            0 => Span::styled(head, head_style),
            _ => Span::raw(" ".repeat(head.chars().count())),
        };
        out.push(Line::from(vec![indent(), lead, Span::styled(names, style)]));
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    use super::*;
    use crate::domain::snapshot::{CheckerReadout, Health, Snapshot, SourceReading};
    use crate::domain::testing::check;
    use crate::monitor::MonitorEvent;
    use crate::provider::FocusedService;
    use crate::tui::render::testing::demo_app;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000, 0).unwrap()
    }

    fn region(region: &str, healthy: u32, total: u32) -> CheckerRegion {
        CheckerRegion {
            region: region.into(),
            healthy,
            total,
        }
    }

    /// The demo's orders service, its east check read per checker.
    fn app_with(readout: CheckerReadout) -> App {
        let mut app = demo_app("aws", Duration::from_secs(30), now());
        let snapshot = Snapshot {
            health_checks: vec![
                check("hc-orders-use1", "us-east-1", Health::Healthy),
                check("hc-orders-usw2", "us-west-2", Health::Healthy),
            ],
            checker_readouts: vec![readout],
            ..Snapshot::default()
        };
        let readings = vec![SourceReading {
            source: "route53".into(),
            taken_at: now(),
            result: Ok(snapshot),
        }];
        app.on_monitor(
            MonitorEvent {
                readings,
                took: Duration::ZERO,
            },
            now(),
        );
        app
    }

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn regions_all_up_come_first_then_those_failing_four_a_line() {
        let app = app_with(CheckerReadout {
            health_check_id: "hc-orders-use1".into(),
            regions: vec![
                region("ap-northeast-1", 3, 3),
                region("ap-southeast-1", 0, 3),
                region("ap-southeast-2", 1, 3),
                region("eu-west-1", 3, 3),
                region("sa-east-1", 3, 3),
                region("us-east-1", 3, 3),
                region("us-west-1", 3, 3),
                region("us-west-2", 3, 3),
            ],
            not_read: None,
        });
        insta::assert_snapshot!(text(&lines(&app, "hc-orders-use1", false)).join("\n"));
        assert!(
            lines(&app, "hc-orders-usw2", false).is_empty(),
            "a check not read per checker has no such lines"
        );
        let stale = lines(&app, "hc-orders-use1", true);
        assert!(
            stale
                .iter()
                .flat_map(|l| &l.spans)
                .filter(|s| !s.content.trim().is_empty())
                .all(|s| s.style == app.theme.style.stale),
            "stale data is drawn as stale"
        );
    }

    #[test]
    fn a_read_the_budget_skipped_says_so() {
        let app = app_with(CheckerReadout {
            health_check_id: "hc-orders-use1".into(),
            regions: Vec::new(),
            not_read: Some("GetHealthCheckStatus: Route 53 budget (4/s) taken".into()),
        });
        assert_eq!(
            text(&lines(&app, "hc-orders-use1", false)),
            vec![format!(
                "{}  checkers not read: GetHealthCheckStatus: Route 53 budget (4/s) taken",
                " ".repeat(12)
            )]
        );
    }

    #[test]
    fn the_service_open_in_the_detail_pane_is_the_one_focused() {
        let mut app = app_with(CheckerReadout {
            health_check_id: "hc-orders-use1".into(),
            regions: Vec::new(),
            not_read: None,
        });
        assert_eq!(app.open_service(), None, "the detail pane is closed");
        app.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
        assert_eq!(
            app.open_service(),
            Some(FocusedService {
                service: "orders".into(),
                health_checks: vec!["hc-orders-use1".into(), "hc-orders-usw2".into()],
            })
        );
        app.on_key(KeyEvent::new(KeyCode::Down, KeyModifiers::NONE));
        assert_eq!(
            app.open_service().map(|f| f.service),
            Some("catalog".into()),
            "the focus follows the selection"
        );
        app.on_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
        assert_eq!(app.open_service(), None, "closed again");
    }
}
