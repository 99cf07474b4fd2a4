//! The top bar: where we are, what mode, the clock and how old the newest
//! good data is, then the first stale source.
//!
//! ```text
//!  drconsole │ env shop │ mode aws │ 2026-01-01 12:00:00 UTC │ data 4.0s │  STALE rds:us-west-2 service unavailable 2m +1 more
//! ```

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::cells::age_label;
use crate::format::short_duration;
use crate::tui::state::App;
use crate::tui::theme::Roles;

/// From this width the header names the product and the stale source, and
/// shows the date; narrower ones drop those so the staleness warning fits.
const WIDE: u16 = 120;

/// How the bar draws each warning over its own background.
struct Warnings {
    drill: Style,
    read_only: Style,
    stale_data: Style,
    no_good_data: Style,
    simulated: Style,
    stale_source: Style,
}

impl Warnings {
    /// Each warning cut out of the bar onto the terminal's background (or
    /// the role's own), where its colour was chosen to read: the role's
    /// red on the bar's cyan did not.
    fn of(theme: &Roles<Style>) -> Warnings {
        let off_bar = |role: Style| match role.bg {
            Some(_) => role,
            None => role.bg(Color::Reset),
        };
        let badge = |role: Style| off_bar(role).add_modifier(Modifier::REVERSED | Modifier::BOLD);
        Warnings {
            drill: badge(theme.at_risk),
            read_only: badge(theme.at_risk),
            stale_data: off_bar(theme.stale).add_modifier(Modifier::BOLD),
            no_good_data: off_bar(theme.stale),
            simulated: off_bar(theme.breach).add_modifier(Modifier::BOLD),
            stale_source: off_bar(theme.stale).add_modifier(Modifier::REVERSED),
        }
    }
}

/// Every style the bar draws over its background, named: the contrast
/// check tests each against the bar, as drawn.
pub fn drawn_styles(theme: &Roles<Style>) -> Vec<(&'static str, Style)> {
    let w = Warnings::of(theme);
    vec![
        ("drill badge", w.drill),
        ("read-only badge", w.read_only),
        ("stale data", w.stale_data),
        ("no good data", w.no_good_data),
        ("simulated fault", w.simulated),
        ("stale source badge", w.stale_source),
    ]
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let theme = &app.theme.style;
    let warnings = Warnings::of(theme);
    let wide = area.width >= WIDE;
    let sep = || Span::styled(" │ ", theme.header);
    let mut spans = Vec::with_capacity(12);
    if wide {
        spans.extend([Span::styled(" drconsole", theme.header), sep()]);
    } else {
        spans.push(Span::styled(" ", theme.header));
    }
    // A drill says so first, with its own clock: nobody may take it for
    // a real outage.
    if let Some(drill) = &app.drill {
        spans.push(Span::styled(
            format!(
                "DRILL {} {}",
                crate::format::printable(drill.scenario()),
                crate::tui::drill::clock(drill.elapsed())
            ),
            warnings.drill,
        ));
        spans.push(sep());
    }
    let clock = if wide {
        "%Y-%m-%d %H:%M:%S UTC"
    } else {
        "%H:%M:%S UTC"
    };
    // Where room is short the mode says it is one after its name
    // (`demo │ demo mode`) rather than before.
    let (env, mode, mode_after) = if wide {
        ("env ", "mode ", "")
    } else {
        ("", "", " mode")
    };
    // A session that cannot act says so in a badge, not in the plain text
    // of the mode: whoever watches must not mistake it for one that can.
    let mode_span = if app.read_only {
        Span::styled(
            format!(
                " {mode}{}{mode_after} ",
                app.mode_label.replace("read-only", "READ-ONLY")
            ),
            warnings.read_only,
        )
    } else {
        Span::styled(
            format!("{mode}{}{mode_after}", app.mode_label),
            theme.header,
        )
    };
    spans.extend([
        // Labelled: the demo environment is called `demo` and so is its
        // mode, and `demo │ demo` said neither. At 80 columns the short
        // form leaves the room to a simulated outage and stale sources.
        Span::styled(format!("{env}{}", app.environment.name), theme.header),
        sep(),
        mode_span,
        sep(),
        Span::styled(app.now.format(clock).to_string(), theme.header),
        sep(),
    ]);
    // The age of the newest good data: a failed poll tells nothing new.
    let data = app.monitor.data_freshness(app.now);
    match (app.monitor.has_data(), data.age) {
        (false, _) => spans.push(Span::styled("waiting for first poll", theme.header)),
        (true, None) => spans.push(Span::styled("no good data yet", warnings.no_good_data)),
        (true, Some(age)) if data.stale => spans.push(Span::styled(
            format!("data {} STALE", age_label(age)),
            warnings.stale_data,
        )),
        (true, Some(age)) => spans.push(Span::styled(
            format!("data {}", age_label(age)),
            theme.header,
        )),
    }
    // Polls of a large estate come less often than asked: the data's age
    // says so, and this says it is by design, not a fault.
    if let Some(every) = app.poll_stretched.filter(|_| wide) {
        spans.push(Span::styled(
            format!(" (polls every {})", short_duration(every)),
            theme.header,
        ));
    }
    if !app.simulated_faults.is_empty() {
        spans.push(sep());
        spans.push(Span::styled(
            format!("SIMULATED {}", app.simulated_faults.join(", ")),
            warnings.simulated,
        ));
    }
    let stale = app.monitor.stale_sources(app.now);
    if let Some(first) = stale.first() {
        let why = first.error.map_or("no new data", |k| k.label());
        let badge = if wide {
            let age = first
                .age
                .map_or_else(|| "never".to_string(), short_duration);
            let more = if stale.len() > 1 {
                format!(" +{} more", stale.len() - 1)
            } else {
                String::new()
            };
            format!(
                " STALE {} {why} {age}{more} ",
                first.source.as_deref().unwrap_or("?")
            )
        } else {
            format!(" {} STALE {why} ", stale.len())
        };
        spans.push(Span::styled(" ", theme.header));
        spans.push(Span::styled(badge, warnings.stale_source));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.header), area);
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use chrono::{DateTime, Utc};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::domain::environment::Environment;
    use crate::domain::snapshot::{ErrorKind, Snapshot, SourceError, SourceReading};
    use crate::monitor::MonitorState;
    use crate::tui::theme::Theme;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_795_000_000 + second, 0).unwrap()
    }

    fn reading(second: i64, ok: bool) -> SourceReading {
        SourceReading {
            source: "route53".into(),
            taken_at: at(second),
            result: match ok {
                true => Ok(Snapshot::default()),
                false => Err(SourceError::new(ErrorKind::Timeout, "no answer")),
            },
        }
    }

    fn header(readings: Vec<SourceReading>, now: i64) -> String {
        header_of(readings, now, false)
    }

    fn header_of(readings: Vec<SourceReading>, now: i64, read_only: bool) -> String {
        let mut monitor = MonitorState::new(Duration::from_secs(5));
        for r in readings {
            monitor.apply(vec![r]);
        }
        let env = Environment {
            name: "shop".into(),
            home_region: "us-east-1".into(),
            regions: vec!["us-east-1".into()],
            services: vec![],
            sim: Default::default(),
        };
        let mode = if read_only { "aws · read-only" } else { "aws" };
        let mut app = App::new(env, Theme::default(), mode, monitor, at(now));
        app.read_only = read_only;
        let mut terminal = Terminal::new(TestBackend::new(140, 1)).unwrap();
        terminal
            .draw(|frame| render(frame, &app, frame.area()))
            .unwrap();
        let buffer = terminal.backend().buffer();
        buffer.content().iter().map(|c| c.symbol()).collect()
    }

    #[test]
    fn the_data_age_is_that_of_the_newest_good_data_while_polls_fail() {
        let polls = (0..=30).step_by(5).map(|t| reading(t, t == 0)).collect();
        let text = header(polls, 30);
        assert!(text.contains("data 30s STALE"), "{text}");
        assert!(!text.contains("data now"), "{text}");

        let text = header(vec![reading(0, true), reading(5, true)], 6);
        assert!(text.contains("data 1s "), "{text}");
        assert!(!text.contains("data 1s STALE"), "{text}");
    }

    #[test]
    fn polls_that_never_succeeded_show_no_data_age() {
        let text = header(vec![reading(0, false)], 3);
        assert!(text.contains("no good data yet"), "{text}");
    }

    #[test]
    fn a_read_only_session_is_marked_in_a_badge() {
        let text = header_of(vec![reading(0, true)], 1, true);
        assert!(text.contains(" aws · READ-ONLY "), "{text}");
        assert!(!header(vec![reading(0, true)], 1).contains("READ-ONLY"));
    }
}
